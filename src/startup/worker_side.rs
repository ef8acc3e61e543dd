//! The worker side of a node: the sandbox (on the Docker engine: the warm
//! pool or fresh containers, or one that connects once the engine appears;
//! or one the caller gives), the sweeps of what executions leave behind, and
//! the router that joins the cluster-wide router group. Stopping it drains
//! the executions in flight first.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use futures_util::FutureExt;
use ractor::{Actor, ActorRef, pg};
use tokio::task::JoinHandle;

use crate::configuration::Settings;
use crate::protocol::{PingRequest, ROUTER_GROUP, RouterMessage, ping};
use crate::sandbox::{
    ConnectingSandbox, CpuSet, DockerSandbox, Language, PoolSettings, PooledSandbox,
    RuntimeVolumes, Sandbox, engine, sweeper,
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

pub(super) struct WorkerSide {
    router: ActorRef<RouterMessage>,
    /// The Docker engine's side of the worker, to stop and sweep after the
    /// router; none for a sandbox the caller gave.
    docker: Option<DockerSide>,
}

struct DockerSide {
    /// The background work on the engine, once connected: shared with the
    /// connecting sandbox, which starts it when the engine appears late.
    background: Arc<Mutex<Background>>,
    socket: String,
    timeout_s: u64,
    node: String,
}

/// What runs beside the executions on a connected engine.
#[derive(Default)]
struct Background {
    /// Keeps the warm pool full; stopped before the final sweep.
    refiller: Option<(PooledSandbox, JoinHandle<()>)>,
    orphan_sweeper: Option<JoinHandle<()>>,
    /// Set by the shutdown: an engine that appears after it starts nothing.
    stopped: bool,
}

impl WorkerSide {
    pub(super) async fn stop(mut self) {
        // Leave the group first so no new work arrives, let the executions in
        // flight finish (they clean up after themselves), then stop and
        // remove whatever is left of this node's containers.
        pg::leave(ROUTER_GROUP.to_string(), vec![self.router.get_cell()]);
        let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            let answer = ping(&self.router, PingRequest::default(), Duration::from_secs(1)).await;
            match answer {
                Ok(reply) if reply.busy + reply.queued > 0 => {
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
        let (orphan_sweeper, refiller) = {
            let mut background = lock(&self.background);
            background.stopped = true;
            (background.orphan_sweeper.take(), background.refiller.take())
        };
        if let Some(orphan_sweeper) = orphan_sweeper {
            orphan_sweeper.abort();
        }
        if let Some((pool, refiller)) = refiller {
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
/// containers, or one that connects once the engine appears and then serves
/// the same way), the sweeps, and the router.
pub(super) async fn start_on_docker(
    settings: &Settings,
    node_name: &str,
    languages: Arc<BTreeMap<String, Language>>,
) -> anyhow::Result<WorkerSide> {
    let socket = &settings.sandbox.docker_socket;
    let timeout_s = settings.sandbox.docker_timeout_s;
    let background = Arc::new(Mutex::new(Background::default()));
    let engine_side = EngineSide {
        node: node_name.to_string(),
        cpuset: settings.cpuset()?,
        runtime_volume: settings.sandbox.runtime_volume,
        languages: languages.clone(),
        pool: settings.pool(),
        background: background.clone(),
    };
    let sandbox: Arc<dyn Sandbox> = match engine::connect(socket, timeout_s) {
        Ok(docker) => engine_side.start(docker).await,
        Err(error) => {
            // Join the cluster anyway: the node reports why it cannot run
            // code, and connects as soon as the socket appears.
            tracing::error!(
                error = format!("{error:#}"),
                "the Docker engine is not available; this node reports not ready until it is"
            );
            let engine_side = Arc::new(engine_side);
            Arc::new(ConnectingSandbox::new(
                socket,
                timeout_s,
                Box::new(move |docker| {
                    let engine_side = engine_side.clone();
                    async move { engine_side.start(docker).await }.boxed()
                }),
            ))
        }
    };
    let mut docker = DockerSide {
        background,
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

/// What a worker needs to serve on an engine, at start or when the engine
/// appears later: the same either way.
struct EngineSide {
    node: String,
    /// The CPUs every sandbox of this node is pinned to, if any.
    cpuset: Option<CpuSet>,
    /// Whether sandboxes mount their image's runtime volume when ready.
    runtime_volume: bool,
    languages: Arc<BTreeMap<String, Language>>,
    pool: Option<PoolSettings>,
    background: Arc<Mutex<Background>>,
}

impl EngineSide {
    /// Sweeps an earlier run's leftovers, then serves from the warm pool (or
    /// fresh containers) with the refill and the orphan sweep running.
    async fn start(&self, docker: bollard::Docker) -> Arc<dyn Sandbox> {
        prepare_engine(&docker, &self.node, &self.languages).await;
        let runtime_volumes = if self.runtime_volume {
            let images = self
                .languages
                .values()
                .map(|language| language.image.clone())
                .collect::<Vec<_>>();
            RuntimeVolumes::discover(&docker, &images).await
        } else {
            RuntimeVolumes::none()
        };
        let cold = DockerSandbox::new(docker.clone(), &self.node)
            .with_cpuset(self.cpuset.clone())
            .with_runtime_volumes(runtime_volumes);
        let mut background = lock(&self.background);
        if background.stopped {
            return Arc::new(cold);
        }
        background.orphan_sweeper = Some(spawn_orphan_sweeper(docker));
        match self.pool.clone() {
            Some(pool) => {
                let all: Vec<Language> = self.languages.values().cloned().collect();
                let pooled = PooledSandbox::new(cold, &self.node, &all, pool);
                background.refiller = Some((pooled.clone(), pooled.start_refilling()));
                Arc::new(pooled)
            }
            None => Arc::new(cold),
        }
    }
}

/// The background's lock; a panic while it was held leaves nothing half
/// done worth refusing (its fields are set whole).
fn lock(background: &Mutex<Background>) -> std::sync::MutexGuard<'_, Background> {
    background
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The worker side on a sandbox the caller gives: no engine to prepare,
/// sweep or refill.
pub(super) async fn start_on(
    settings: &Settings,
    node_name: &str,
    languages: Arc<BTreeMap<String, Language>>,
    sandbox: Arc<dyn Sandbox>,
) -> anyhow::Result<WorkerSide> {
    let router = start_router(settings, node_name, languages, sandbox).await?;
    Ok(WorkerSide {
        router,
        docker: None,
    })
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
            rules: Arc::new(Rules::from_settings(settings, languages)),
            slots: settings.worker_slots(),
            queue_capacity: settings.worker.queue_capacity,
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
