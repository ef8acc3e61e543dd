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

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef, pg};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cluster::node::{self, ClusterNode};
use crate::cluster::seed_dialer::SeedDialer;
use crate::configuration::{Role, Settings};
use crate::master::heartbeat::Heartbeat;
use crate::master::http::api_keys::ApiKeys;
use crate::master::http::state::AppState;
use crate::master::http::{self, server};
use crate::master::load_balancer::{LoadBalancer, LoadBalancerMessage};
use crate::master::node_table::NodeTable;
use crate::protocol::{PingRequest, ROUTER_GROUP, RouterMessage, Wire};
use crate::sandbox::{
    ConnectingSandbox, DockerSandbox, Language, PooledSandbox, Sandbox, engine, sweeper,
};
use crate::worker::{Router, RouterArgs};

/// How long a stopping worker waits for its executions in flight: longer
/// than the default limits, shorter than compose's stop grace period.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// How often a worker looks for sandboxes that executions left behind.
const ORPHAN_SWEEP_INTERVAL: Duration = Duration::from_secs(30);
/// Sweeps of an earlier run's sandboxes at start, this far apart at most: a
/// few seconds' delay of the start, only when something refuses removal.
const START_SWEEPS: usize = 10;
const START_SWEEP_PAUSE: Duration = Duration::from_millis(300);

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

    let cluster = node::start(
        &node_name,
        &settings.cluster.ip,
        settings.cluster.port,
        &settings.cluster.cookie,
    )
    .await?;

    let worker = if role.runs_worker() {
        let started = match sandbox {
            Some(sandbox) => start_router(&settings, &node_name, languages.clone(), sandbox)
                .await
                .map(|router| WorkerSide {
                    router,
                    docker: None,
                }),
            None => start_docker_worker(&settings, &node_name, languages.clone()).await,
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
    let dialer = (role == Role::Worker).then(|| {
        SeedDialer {
            server: cluster.server.clone(),
            events: cluster.events.clone(),
            seed: format!(
                "{}:{}",
                settings.cluster.seed_ip, settings.cluster.seed_port
            ),
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
        cluster,
    };
    if role.runs_master() {
        match start_master(&settings, languages, stop_rx).await {
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

struct WorkerSide {
    router: ActorRef<RouterMessage>,
    /// The Docker engine's side of the worker, to stop and sweep after the
    /// router; none for a sandbox the caller gave.
    docker: Option<DockerSide>,
}

struct DockerSide {
    /// Keeps the warm pool full; stopped before the final sweep.
    refiller: Option<(PooledSandbox, JoinHandle<()>)>,
    orphan_sweeper: Option<JoinHandle<()>>,
    socket: String,
    timeout_s: u64,
    node: String,
}

impl WorkerSide {
    async fn stop(mut self) {
        // Leave the group first so no new work arrives, let the executions in
        // flight finish (they clean up after themselves), then stop and
        // remove whatever is left of this node's containers.
        pg::leave(ROUTER_GROUP.to_string(), vec![self.router.get_cell()]);
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            let ping = self
                .router
                .call(
                    |port| RouterMessage::Ping(Wire::new(PingRequest::default()), port),
                    Some(Duration::from_secs(1)),
                )
                .await;
            match ping {
                Ok(CallResult::Success(Wire(Ok(reply)))) if reply.busy + reply.queued > 0 => {
                    tracing::info!(
                        busy = reply.busy,
                        queued = reply.queued,
                        "waiting for executions in flight"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                _ => break,
            }
        }
        self.router.stop(None);
        if let Some(docker) = &mut self.docker {
            docker.stop_background().await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.router.wait(None)).await;
        if let Some(docker) = &self.docker {
            docker.sweep().await;
        }
    }
}

impl DockerSide {
    /// Stops the orphan sweep and the pool's refilling.
    async fn stop_background(&mut self) {
        if let Some(orphan_sweeper) = self.orphan_sweeper.take() {
            orphan_sweeper.abort();
        }
        if let Some((pool, refiller)) = self.refiller.take() {
            pool.stop_refilling(refiller).await;
        }
    }

    /// Removes whatever is left of this node's sandboxes.
    async fn sweep(&self) {
        let docker = match engine::connect(&self.socket, self.timeout_s) {
            Ok(docker) => docker,
            Err(error) => {
                tracing::warn!(%error, "cannot sweep this node's sandboxes");
                return;
            }
        };
        match sweeper::sweep(&docker, Some(&self.node)).await {
            Ok(swept) => tracing::info!(?swept, "removed this node's sandboxes"),
            Err(error) => tracing::warn!(%error, "cannot sweep this node's sandboxes"),
        }
    }
}

/// The worker side on the Docker engine: the sandbox (warm pool or fresh
/// containers, or one that connects once the engine appears), the sweeps,
/// and the router.
async fn start_docker_worker(
    settings: &Settings,
    node_name: &str,
    languages: Arc<BTreeMap<String, Language>>,
) -> anyhow::Result<WorkerSide> {
    let socket = &settings.sandbox.docker_socket;
    let timeout_s = settings.sandbox.docker_timeout_s;
    let (sandbox, refiller, orphan_sweeper): (Arc<dyn Sandbox>, _, _) =
        match engine::connect(socket, timeout_s) {
            Ok(docker) => {
                prepare_engine(&docker, node_name, &languages).await;
                let cold = DockerSandbox::new(docker.clone(), node_name);
                let orphan_sweeper = Some(spawn_orphan_sweeper(docker));
                match settings.pool() {
                    Some(pool) => {
                        let all: Vec<Language> = languages.values().cloned().collect();
                        let pooled = PooledSandbox::new(cold, node_name, &all, pool);
                        let refiller = pooled.start_refilling();
                        (
                            Arc::new(pooled.clone()),
                            Some((pooled, refiller)),
                            orphan_sweeper,
                        )
                    }
                    None => (Arc::new(cold), None, orphan_sweeper),
                }
            }
            Err(error) => {
                // Join the cluster anyway: the node reports why it cannot run
                // code, and connects as soon as the socket appears.
                tracing::error!(
                    error = format!("{error:#}"),
                    "the Docker engine is not available; this node reports not ready until it is"
                );
                (
                    Arc::new(ConnectingSandbox::new(socket, timeout_s, node_name)),
                    None,
                    None,
                )
            }
        };
    let mut docker = DockerSide {
        refiller,
        orphan_sweeper,
        socket: socket.clone(),
        timeout_s,
        node: node_name.to_string(),
    };
    match start_router(settings, node_name, languages, sandbox).await {
        Ok(router) => Ok(WorkerSide {
            router,
            docker: Some(docker),
        }),
        Err(error) => {
            docker.stop_background().await;
            Err(error)
        }
    }
}

/// The worker node's router (and its pool of workers) on `sandbox`; it
/// joins the cluster-wide router group.
async fn start_router(
    settings: &Settings,
    node_name: &str,
    languages: Arc<BTreeMap<String, Language>>,
    sandbox: Arc<dyn Sandbox>,
) -> anyhow::Result<ActorRef<RouterMessage>> {
    let (router, _) = Actor::spawn(
        Some(format!("braindrill-router-{node_name}")),
        Router,
        RouterArgs {
            node: node_name.to_string(),
            max_limits: settings.max_limits(),
            workers: settings.worker.workers_per_node,
            queue_capacity: settings.worker.queue_capacity,
            languages,
            sandbox,
        },
    )
    .await
    .context("cannot start the worker router")?;
    Ok(router)
}

/// Sweeps what an earlier run of this node left, and says which images are
/// missing.
async fn prepare_engine(
    docker: &bollard::Docker,
    node_name: &str,
    languages: &BTreeMap<String, Language>,
) {
    if let Err(error) = engine::ping(docker).await {
        tracing::error!(
            error = format!("{error:#}"),
            "the Docker engine does not answer; this node reports not ready until it does"
        );
        return;
    }
    // The pool has not started: every sandbox of this node's is an earlier
    // run's. One it was starting when it died may refuse removal for a
    // moment (seen in CI), so sweep until none is left.
    match sweeper::sweep_until_gone(docker, node_name, START_SWEEPS, START_SWEEP_PAUSE).await {
        Ok(swept) if swept != sweeper::Swept::default() => {
            tracing::info!(
                ?swept,
                "removed sandboxes left by an earlier run of this node"
            );
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(
            error = format!("{error:#}"),
            "cannot sweep old sandboxes; the orphan sweep will"
        ),
    }
    warn_about_missing_images(docker, languages).await;
}

fn spawn_orphan_sweeper(docker: bollard::Docker) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut sweep = sweeper::OrphanSweep::default();
        let mut ticker = tokio::time::interval(ORPHAN_SWEEP_INTERVAL);
        loop {
            ticker.tick().await;
            match sweep.pass(&docker).await {
                Ok(swept) if swept != sweeper::Swept::default() => {
                    tracing::info!(?swept, "removed sandboxes that executions left behind");
                }
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "orphan sweep skipped"),
            }
        }
    })
}

async fn warn_about_missing_images(
    docker: &bollard::Docker,
    languages: &BTreeMap<String, Language>,
) {
    let mut images: Vec<&str> = languages.values().map(|l| l.image.as_str()).collect();
    images.sort_unstable();
    images.dedup();
    for image in images {
        if docker.inspect_image(image).await.is_err() {
            tracing::error!(
                image,
                "image missing on this node's Docker engine; build it with images/build.sh"
            );
        }
    }
}

/// The master side: load balancers, heartbeat and the HTTP layer, served
/// until `stop` turns true. Returns the bound address and the serving task.
async fn start_master(
    settings: &Settings,
    languages: Arc<BTreeMap<String, Language>>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    // Bound first: a taken port fails the start before any actor exists.
    let address = format!("{}:{}", settings.http.host, settings.http.port);
    let listener = TcpListener::bind(&address).await.with_context(|| {
        format!("cannot listen for HTTP on {address} (HTTP_HOST, HTTP_PORT); is the port taken?")
    })?;
    let bound = listener.local_addr()?;
    let table = Arc::new(NodeTable::default());
    let mut balancers: Vec<ActorRef<LoadBalancerMessage>> = Vec::new();
    for _ in 0..settings.master.load_balancers {
        match Actor::spawn(None, LoadBalancer, table.clone()).await {
            Ok((balancer, _)) => balancers.push(balancer),
            Err(error) => {
                for balancer in balancers {
                    balancer.stop(None);
                }
                return Err(error).context("cannot start a load balancer");
            }
        }
    }
    let state = Arc::new(AppState::new(
        settings,
        languages,
        table.clone(),
        balancers.clone(),
    ));
    let heartbeat = Heartbeat {
        table,
        interval: Duration::from_millis(settings.cluster.heartbeat_interval_ms),
        timeout: settings.ping_timeout(),
        misses: settings.cluster.heartbeat_misses,
    }
    .spawn();
    tracing::info!(address = %bound, "http gateway listening");
    let keys = ApiKeys(Arc::new(settings.http.api_keys.clone()));
    if !keys.0.is_empty() {
        tracing::info!(keys = keys.0.len(), "API keys required");
    }
    let app = http::app(state, keys);
    let header_read_timeout = Duration::from_millis(settings.http.header_read_timeout_ms);
    let serving = tokio::spawn(async move {
        server::serve(listener, app, header_read_timeout, stop).await;
        // Every request has been answered: nothing waits on these any more.
        heartbeat.abort();
        for balancer in balancers {
            balancer.stop(None);
        }
    });
    Ok((bound, serving))
}
