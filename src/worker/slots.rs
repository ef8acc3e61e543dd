//! The workers of a node and their slots: one semaphore permit per worker,
//! a bounded queue of executions waiting for one, and the answers to pings
//! (how busy the node is, the languages' versions). The router hands every
//! execution here, in a task of its own.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorCell, ActorRef, SpawnErr};
use tokio::sync::{OnceCell, Semaphore};

use super::worker_actor::{Worker, WorkerContext, WorkerMessage};
use crate::protocol::{ExecutionFailure, ExecutionReply, ExecutionRequest, PingReply};
use crate::sandbox::{SourceFile, Status, Submission};

/// The workers of a node. One semaphore permit per worker: holding a permit
/// entitles a task to pop exactly one idle worker.
pub struct WorkerSlots {
    context: WorkerContext,
    router: ActorCell,
    permits: Semaphore,
    idle: Mutex<Vec<ActorRef<WorkerMessage>>>,
    size: usize,
    queued: AtomicUsize,
    queue_capacity: usize,
    /// The languages' versions, read from the images on first demand.
    versions: OnceCell<BTreeMap<String, String>>,
}

impl WorkerSlots {
    /// Spawns `size` workers, children of `router`.
    pub async fn start(
        context: WorkerContext,
        router: ActorCell,
        size: usize,
        queue_capacity: usize,
    ) -> Result<WorkerSlots, SpawnErr> {
        let slots = WorkerSlots {
            context,
            router,
            permits: Semaphore::new(size),
            idle: Mutex::new(Vec::with_capacity(size)),
            size,
            queued: AtomicUsize::new(0),
            queue_capacity,
            versions: OnceCell::new(),
        };
        for _ in 0..size {
            let worker = slots.spawn_worker().await?;
            slots.release(worker);
        }
        Ok(slots)
    }

    pub fn node(&self) -> &str {
        &self.context.node
    }

    pub fn size(&self) -> usize {
        self.size
    }

    async fn spawn_worker(&self) -> Result<ActorRef<WorkerMessage>, SpawnErr> {
        let (worker, _) =
            Actor::spawn_linked(None, Worker, self.context.clone(), self.router.clone()).await?;
        Ok(worker)
    }

    fn release(&self, worker: ActorRef<WorkerMessage>) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(worker);
        }
    }

    fn take(&self) -> Option<ActorRef<WorkerMessage>> {
        self.idle.lock().ok().and_then(|mut idle| idle.pop())
    }

    pub async fn dispatch(&self, request: ExecutionRequest) -> ExecutionReply {
        // Bounded queue: past it the node says so at once instead of piling
        // up waiting tasks.
        let waiting = self.queued.fetch_add(1, Ordering::SeqCst);
        if self.permits.available_permits() == 0 && waiting >= self.queue_capacity {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ExecutionFailure::Busy {
                node: self.context.node.clone(),
            });
        }
        let permit = self.permits.acquire().await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let Ok(_permit) = permit else {
            return Err(ExecutionFailure::WorkerCrashed(
                "the worker slots are closed".into(),
            ));
        };
        let Some(worker) = self.take() else {
            return Err(ExecutionFailure::WorkerCrashed(
                "no idle worker behind a free slot".into(),
            ));
        };
        let execution_id = request.execution_id.clone();
        match worker
            .call(|port| WorkerMessage::Run(request, port), None)
            .await
        {
            Ok(CallResult::Success(answer)) => {
                self.release(worker);
                self.blame_engine(answer).await
            }
            _ => {
                // The worker died holding this request: answer it, and put a
                // fresh worker in its slot before the permit is returned.
                tracing::error!(%execution_id, "worker died during the execution");
                match self.spawn_worker().await {
                    Ok(replacement) => self.release(replacement),
                    Err(error) => tracing::error!(%error, "cannot replace a crashed worker"),
                }
                Err(ExecutionFailure::WorkerCrashed(format!(
                    "the worker running execution {execution_id} crashed"
                )))
            }
        }
    }

    /// An engine fault on a node whose engine is down is reported as such,
    /// so the master tries another node. Checked only after a fault: the
    /// heartbeat watches readiness, the request path pays nothing for it.
    async fn blame_engine(&self, answer: ExecutionReply) -> ExecutionReply {
        let faulted =
            matches!(&answer, Ok(executed) if executed.outcome.status == Status::InternalError);
        if !faulted {
            return answer;
        }
        match self.context.sandbox.check_ready().await {
            Ok(()) => answer,
            Err(error) => Err(ExecutionFailure::EngineUnavailable(format!(
                "the Docker engine of worker node {} is unavailable: {error:#}",
                self.context.node
            ))),
        }
    }

    pub async fn ping(&self, with_versions: bool) -> PingReply {
        let ready = self.context.sandbox.check_ready().await;
        let versions = if with_versions && ready.is_ok() {
            self.versions
                .get_or_init(|| read_versions(&self.context))
                .await
                .clone()
        } else {
            BTreeMap::new()
        };
        let free = self.permits.available_permits();
        PingReply {
            node: self.context.node.clone(),
            ready: ready.is_ok(),
            problem: ready.err().map(|error| format!("{error:#}")),
            workers: self.size,
            busy: self.size.saturating_sub(free),
            queued: self.queued.load(Ordering::SeqCst),
            versions,
        }
    }
}

/// Runs each language's version command in its image and keeps the first
/// line it prints (some print to stderr, as `java -version` does).
async fn read_versions(context: &WorkerContext) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    for language in context.rules.languages().values() {
        let Some(command) = &language.version else {
            continue;
        };
        let mut probe = language.clone();
        probe.run = command.clone();
        probe.compile = None;
        let outcome = context
            .sandbox
            .execute(Submission {
                execution_id: uuid::Uuid::new_v4().to_string(),
                files: vec![SourceFile {
                    name: language.file.clone(),
                    content: String::new(),
                }],
                stdin: String::new(),
                args: Vec::new(),
                limits: language.limits.clone(),
                language: probe,
            })
            .await;
        let line = outcome.run.and_then(|run| {
            run.stdout
                .lines()
                .chain(run.stderr.lines())
                .map(str::trim)
                .find(|line| !line.is_empty())
                .map(str::to_string)
        });
        match line {
            Some(line) => {
                versions.insert(language.name.clone(), line);
            }
            None => {
                tracing::warn!(language = %language.name, "its version command printed nothing")
            }
        }
    }
    versions
}
