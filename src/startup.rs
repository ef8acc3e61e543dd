//! Assembles a node from its settings, in one place: the cluster node, the
//! worker side (Docker, sweep, router and its pool) and the master side
//! (load balancers and the HTTP gateway), then runs until SIGTERM or Ctrl-C
//! and shuts down in order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use anyhow::Context;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef, pg};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cluster::node::{self, ClusterNode};
use crate::cluster::seed_dialer::SeedDialer;
use crate::configuration::{Role, Settings};
use crate::master::api_keys::ApiKeys;
use crate::master::gateway::{self, Gateway};
use crate::master::heartbeat::Heartbeat;
use crate::master::http_server;
use crate::master::load_balancer::{LoadBalancer, LoadBalancerMessage};
use crate::master::routing::NodeTable;
use crate::protocol::{PingRequest, ROUTER_GROUP, RouterMessage, Wire};
use crate::sandbox::{
    ConnectingSandbox, DockerSandbox, Language, PooledSandbox, Sandbox, engine, sweeper,
};
use crate::submission::Rules;
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

/// Runs the node until a shutdown signal.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
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
        Some(start_worker(&settings, &node_name, languages.clone()).await?)
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

    let (stop_tx, stop_rx) = watch::channel(false);
    let http = if role.runs_master() {
        Some(start_master(&settings, languages, stop_rx).await?)
    } else {
        None
    };

    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    if let Some(http) = http {
        // In-flight requests finish; no new ones are accepted.
        let _ = http.await;
    }
    if let Some(dialer) = dialer {
        dialer.abort();
    }
    if let Some(worker) = worker {
        worker.stop().await;
    }
    stop_cluster(cluster);
    Ok(())
}

struct WorkerSide {
    router: ActorRef<RouterMessage>,
    /// Keeps the warm pool full; stopped before the final sweep.
    refiller: Option<(PooledSandbox, tokio::task::JoinHandle<()>)>,
    orphan_sweeper: Option<tokio::task::JoinHandle<()>>,
    socket: String,
    timeout_s: u64,
    node: String,
}

impl WorkerSide {
    async fn stop(self) {
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
        if let Some(orphan_sweeper) = &self.orphan_sweeper {
            orphan_sweeper.abort();
        }
        if let Some((pool, refiller)) = self.refiller {
            pool.stop_refilling(refiller).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.router.wait(None)).await;
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

async fn start_worker(
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
    let (router, _) = Actor::spawn(
        Some(format!("braindrill-router-{node_name}")),
        Router,
        RouterArgs {
            node: node_name.to_string(),
            rules: Arc::new(Rules::from_settings(settings, languages)),
            workers: settings.worker.workers_per_node,
            queue_capacity: settings.worker.queue_capacity,
            sandbox,
        },
    )
    .await
    .context("cannot start the worker router")?;
    Ok(WorkerSide {
        router,
        refiller,
        orphan_sweeper,
        socket: socket.clone(),
        timeout_s,
        node: node_name.to_string(),
    })
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

async fn start_master(
    settings: &Settings,
    languages: Arc<BTreeMap<String, Language>>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let table = Arc::new(NodeTable::default());
    let mut balancers: Vec<ActorRef<LoadBalancerMessage>> = Vec::new();
    for _ in 0..settings.master.load_balancers {
        let (balancer, _) = Actor::spawn(None, LoadBalancer, table.clone())
            .await
            .context("cannot start a load balancer")?;
        balancers.push(balancer);
    }
    let gateway = Arc::new(Gateway {
        balancers,
        table,
        rules: Rules::from_settings(settings, languages.clone()),
        languages,
        max_body_bytes: settings.http.max_body_bytes,
        max_json_body_bytes: settings.http.max_json_body_bytes,
        body_read_timeout: Duration::from_millis(settings.http.body_read_timeout_ms),
        deadline_margin: Duration::from_millis(settings.http.deadline_margin_ms),
        ping_timeout: settings.ping_timeout(),
        next_balancer: AtomicUsize::new(0),
        admission: tokio::sync::Semaphore::new(settings.http.max_concurrent),
        waiting: AtomicUsize::new(0),
        max_queued: settings.http.max_queued,
    });
    let heartbeat = Heartbeat {
        table: gateway.table.clone(),
        interval: Duration::from_millis(settings.cluster.heartbeat_interval_ms),
        timeout: settings.ping_timeout(),
        misses: settings.cluster.heartbeat_misses,
    }
    .spawn();
    let address = format!("{}:{}", settings.http.host, settings.http.port);
    let listener = TcpListener::bind(&address).await.with_context(|| {
        format!("cannot listen for HTTP on {address} (HTTP_HOST, HTTP_PORT); is the port taken?")
    })?;
    tracing::info!(address = %listener.local_addr()?, "http gateway listening");
    let keys = ApiKeys(Arc::new(settings.http.api_keys.clone()));
    if !keys.0.is_empty() {
        tracing::info!(keys = keys.0.len(), "API keys required");
    }
    let app = gateway::router(gateway, keys);
    let header_read_timeout = Duration::from_millis(settings.http.header_read_timeout_ms);
    Ok(tokio::spawn(async move {
        http_server::serve(listener, app, header_read_timeout, stop).await;
        heartbeat.abort();
    }))
}

fn stop_cluster(cluster: ClusterNode) {
    cluster.server.stop(None);
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
