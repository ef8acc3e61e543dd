//! Assembles a node from its settings, in one place: the cluster node, the
//! worker side (Docker, sweep, router and its pool) and the master side
//! (load balancers, heartbeat and the HTTP layer of [`crate::master::http`]).
//!
//! [`start`] returns a [`RunningNode`]: the bound HTTP address (so a caller
//! may ask for port 0), the cluster address, and [`RunningNode::stop`], which
//! shuts down in order: HTTP stops accepting and finishes its requests, the
//! worker leaves the router group, drains and sweeps its sandboxes, then the
//! cluster node stops. `main` waits for SIGTERM or Ctrl-C and calls it.
//! [`start_with_sandbox`] runs the worker side on a sandbox the caller gives
//! (the in-process tests give a fake), with no Docker engine at all.
//!
//! Each side is assembled in its own file: `worker_side` (the sandbox,
//! its sweeps and the router), `worker_metrics` (a worker node's own
//! `/metrics`, when configured) and `master_side` (the load balancers, the
//! heartbeat and the HTTP layer). Every node records metrics
//! ([`crate::metrics`]).

mod master_side;
mod worker_metrics;
mod worker_side;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::link::ClusterLink;
use crate::cluster::node::{self, ClusterNode};
use crate::cluster::seed_dialer::SeedDialer;
use crate::configuration::{Role, Settings};
use crate::sandbox::{Language, Sandbox};
use worker_side::WorkerSide;

/// A node that runs: what it listens on, and how to stop it.
///
/// Dropped without [`RunningNode::stop`], it stops serving HTTP (the
/// server watches for the handle) but leaves its actors to the runtime.
pub struct RunningNode {
    name: String,
    http_address: Option<SocketAddr>,
    cluster_address: String,
    stop: watch::Sender<bool>,
    http: Option<JoinHandle<()>>,
    dialer: Option<JoinHandle<()>>,
    worker: Option<WorkerSide>,
    worker_metrics: Option<JoinHandle<()>>,
    cluster: ClusterNode,
}

impl RunningNode {
    /// The node's name in the cluster.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the HTTP layer listens (the port the OS chose, if port 0 was
    /// asked for); `None` on a worker, which serves no HTTP.
    pub fn http_address(&self) -> Option<SocketAddr> {
        self.http_address
    }

    /// Where other nodes reach this node's cluster server (`ip:port`).
    pub fn cluster_address(&self) -> &str {
        &self.cluster_address
    }

    /// Shuts down gracefully: the requests in flight finish, no new ones
    /// are accepted, the worker drains and removes its sandboxes.
    pub async fn stop(self) {
        tracing::info!("shutting down");
        let _ = self.stop.send(true);
        if let Some(http) = self.http {
            // In-flight requests finish; no new ones are accepted.
            let _ = http.await;
        }
        if let Some(dialer) = self.dialer {
            dialer.abort();
        }
        if let Some(worker_metrics) = self.worker_metrics {
            worker_metrics.abort();
        }
        if let Some(worker) = self.worker {
            worker.stop().await;
        }
        self.cluster.server.stop(None);
    }
}

/// Starts the node its settings describe, with the Docker sandbox.
pub async fn start(settings: Settings) -> anyhow::Result<RunningNode> {
    assemble(settings, None).await
}

/// Starts the node its settings describe, its worker side running on
/// `sandbox` instead of Docker (a master ignores it).
pub async fn start_with_sandbox(
    settings: Settings,
    sandbox: Arc<dyn Sandbox>,
) -> anyhow::Result<RunningNode> {
    assemble(settings, Some(sandbox)).await
}

async fn assemble(
    settings: Settings,
    sandbox: Option<Arc<dyn Sandbox>>,
) -> anyhow::Result<RunningNode> {
    crate::metrics::install();
    let role = settings.role();
    let node_name = settings.node_name();
    let languages: Arc<BTreeMap<String, Language>> = Arc::new(
        settings
            .languages()?
            .into_iter()
            .map(|language| (language.name.clone(), language))
            .collect(),
    );
    tracing::info!(role = role.as_str(), node = %node_name, "starting braindrill");

    let link = ClusterLink::from_settings(&settings.cluster, role)?;
    let cluster = node::start(
        &node_name,
        &settings.cluster.ip,
        settings.cluster.port,
        &link,
    )
    .await?;

    let worker = if role.runs_worker() {
        let started = match sandbox {
            Some(sandbox) => {
                worker_side::start_on(&settings, &node_name, languages.clone(), sandbox).await
            }
            None => worker_side::start_on_docker(&settings, &node_name, languages.clone()).await,
        };
        match started {
            Ok(worker) => Some(worker),
            Err(error) => {
                cluster.server.stop(None);
                return Err(error);
            }
        }
    } else {
        None
    };
    let worker_metrics = if role.runs_worker() {
        match worker_metrics::serve(&settings).await {
            Ok(serving) => serving,
            Err(error) => {
                if let Some(worker) = worker {
                    worker.stop().await;
                }
                cluster.server.stop(None);
                return Err(error);
            }
        }
    } else {
        None
    };
    let dialer = (role == Role::Worker).then(|| {
        SeedDialer {
            server: cluster.server.clone(),
            events: cluster.events.clone(),
            seed: format!(
                "{}:{}",
                settings.cluster.seed_ip, settings.cluster.seed_port
            ),
            transport: link.transport.clone(),
            initial_backoff: Duration::from_millis(settings.cluster.redial_initial_ms),
            max_backoff: Duration::from_millis(settings.cluster.redial_max_ms),
        }
        .spawn()
    });

    let (stop, stop_rx) = watch::channel(false);
    let mut node = RunningNode {
        name: node_name,
        http_address: None,
        cluster_address: format!("{}:{}", settings.cluster.ip, settings.cluster.port),
        stop,
        http: None,
        dialer,
        worker,
        worker_metrics,
        cluster,
    };
    if role.runs_master() {
        match master_side::start(&settings, languages, stop_rx).await {
            Ok((address, http)) => {
                node.http_address = Some(address);
                node.http = Some(http);
            }
            Err(error) => {
                // What started is stopped, so that a caller in the same
                // process can try again.
                node.stop().await;
                return Err(error);
            }
        }
    }
    Ok(node)
}
