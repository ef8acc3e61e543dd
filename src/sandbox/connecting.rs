//! A sandbox for a worker whose Docker socket does not exist yet (the engine
//! is down, or not started, when the worker starts): the worker still joins
//! the cluster and reports, through readiness, that it cannot run code; once
//! the socket appears it connects and serves, without a restart.
//!
//! What it serves with once connected is the caller's to build (`on_connect`
//! gets the connection): the same sandbox, warm pool and background sweeps
//! that a worker whose engine answered at start has, not a lesser one.

use std::sync::Arc;

use bollard::Docker;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use super::{Outcome, Sandbox, Submission, TestInput, TestsOutcome, engine};

/// Builds the sandbox to serve with, on the engine that just appeared.
pub type OnConnect = Box<dyn Fn(Docker) -> BoxFuture<'static, Arc<dyn Sandbox>> + Send + Sync>;

pub struct ConnectingSandbox {
    socket: String,
    timeout_s: u64,
    on_connect: OnConnect,
    connected: OnceCell<Arc<dyn Sandbox>>,
}

impl ConnectingSandbox {
    pub fn new(socket: &str, timeout_s: u64, on_connect: OnConnect) -> ConnectingSandbox {
        ConnectingSandbox {
            socket: socket.to_string(),
            timeout_s,
            on_connect,
            connected: OnceCell::new(),
        }
    }

    /// The connected sandbox, connecting first if the socket exists now.
    async fn sandbox(&self) -> anyhow::Result<&Arc<dyn Sandbox>> {
        self.connected
            .get_or_try_init(|| async {
                let docker = engine::connect(&self.socket, self.timeout_s)
                    .map_err(|error| error.context("the Docker engine is not available"))?;
                tracing::info!(socket = %self.socket, "the Docker socket appeared; connected");
                Ok::<_, anyhow::Error>((self.on_connect)(docker).await)
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

    fn execute_tests(
        &self,
        submission: Submission,
        tests: Vec<TestInput>,
        stop_on_failure: bool,
    ) -> BoxFuture<'_, TestsOutcome> {
        async move {
            match self.sandbox().await {
                Ok(sandbox) => {
                    sandbox
                        .execute_tests(submission, tests, stop_on_failure)
                        .await
                }
                Err(error) => TestsOutcome {
                    outcome: Outcome::internal_error(
                        &submission.execution_id,
                        format!("{error:#}"),
                    ),
                    tests: Vec::new(),
                },
            }
        }
        .boxed()
    }

    fn live(&self, submission: Submission, io: super::LiveIo) -> BoxFuture<'_, Outcome> {
        async move {
            match self.sandbox().await {
                Ok(sandbox) => sandbox.live(submission, io).await,
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
