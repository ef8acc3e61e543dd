//! A sandbox for a worker whose Docker socket does not exist yet (the engine
//! is down, or not started, when the worker starts): the worker still joins
//! the cluster and reports, through readiness, that it cannot run code; once
//! the socket appears it connects and serves, without a restart.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{DockerSandbox, Outcome, Sandbox, Submission, engine};

pub struct ConnectingSandbox {
    socket: String,
    timeout_s: u64,
    node: String,
    connected: OnceCell<DockerSandbox>,
}

impl ConnectingSandbox {
    pub fn new(socket: &str, timeout_s: u64, node: &str) -> ConnectingSandbox {
        ConnectingSandbox {
            socket: socket.to_string(),
            timeout_s,
            node: node.to_string(),
            connected: OnceCell::new(),
        }
    }

    /// The connected sandbox, connecting first if the socket exists now.
    async fn sandbox(&self) -> anyhow::Result<&DockerSandbox> {
        self.connected
            .get_or_try_init(|| async {
                let docker = engine::connect(&self.socket, self.timeout_s)
                    .map_err(|error| error.context("the Docker engine is not available"))?;
                tracing::info!(socket = %self.socket, "the Docker socket appeared; connected");
                Ok::<_, anyhow::Error>(DockerSandbox::new(docker, self.node.clone()))
            })
            .await
    }
}

impl Sandbox for ConnectingSandbox {
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
        async move {
            match self.sandbox().await {
                Ok(sandbox) => sandbox.execute(submission).await,
                Err(error) => {
                    Outcome::internal_error(&submission.execution_id, format!("{error:#}"))
                }
            }
        }
        .boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        async move { self.sandbox().await?.check_ready().await }.boxed()
    }
}
