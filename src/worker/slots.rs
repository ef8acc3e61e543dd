//! The workers of a node and their slots: one semaphore permit per worker,
//! a bounded queue of executions waiting for one, their deadlines and
//! cancellation, and the answers to pings (how busy the node is, its last
//! known readiness, the languages' versions). The router hands every
//! execution here, in a task of its own.
//!
//! An execution that cannot start before its deadline leaves the queue
//! unstarted (`Expired`); one cancelled by the master, or whose answer is
//! no longer awaited, leaves the queue, or if it runs has its worker killed
//! (which kills its executor, whose dropped run removes its sandbox) and a
//! fresh worker put in its slot at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorCell, ActorRef, SpawnErr};
use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::readiness::Readiness;
use super::worker_actor::{Worker, WorkerContext, WorkerMessage};
use crate::configuration::SlotPlan;
use crate::protocol::{ExecutionFailure, ExecutionReply, ExecutionRequest, PingReply};
use crate::sandbox::{SourceFile, Status, Submission};

/// How long a cancelled execution's worker may take to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The workers of a node. One semaphore permit per worker: holding a permit
/// entitles a task to pop exactly one idle worker.
pub struct WorkerSlots {
    context: WorkerContext,
    router: ActorCell,
    permits: Semaphore,
    idle: Mutex<Vec<ActorRef<WorkerMessage>>>,
    plan: SlotPlan,
    queued: AtomicUsize,
    queue_capacity: usize,
    readiness: Readiness,
    /// Executions received and not yet answered, by id: cancelling one's
    /// token stops it wherever it is.
    cancels: Mutex<HashMap<String, CancellationToken>>,
    /// The languages' versions, read from the images on first demand.
    versions: OnceCell<BTreeMap<String, String>>,
}

/// An execution known to the node until dropped, and how to stop it.
pub struct Received {
    slots: Arc<WorkerSlots>,
    execution_id: String,
    pub cancel: CancellationToken,
    /// When it arrived: its budgets count from here.
    pub at: Instant,
}

impl Drop for Received {
    fn drop(&mut self) {
        if let Ok(mut cancels) = self.slots.cancels.lock() {
            cancels.remove(&self.execution_id);
        }
    }
}

impl WorkerSlots {
    /// Spawns a worker per slot of `plan`, children of `router`.
    pub async fn start(
        context: WorkerContext,
        router: ActorCell,
        plan: SlotPlan,
        queue_capacity: usize,
    ) -> Result<WorkerSlots, SpawnErr> {
        let slots = WorkerSlots {
            readiness: Readiness::start(context.sandbox.clone()).await,
            context,
            router,
            permits: Semaphore::new(plan.slots),
            idle: Mutex::new(Vec::with_capacity(plan.slots)),
            plan,
            queued: AtomicUsize::new(0),
            queue_capacity,
            cancels: Mutex::default(),
            versions: OnceCell::new(),
        };
        for _ in 0..plan.slots {
            let worker = slots.spawn_worker().await?;
            slots.release(worker);
        }
        Ok(slots)
    }

    pub fn node(&self) -> &str {
        &self.context.node
    }

    pub fn size(&self) -> usize {
        self.plan.slots
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

    /// Puts a fresh worker in the slot of one that died or was killed.
    async fn replace_worker(&self) {
        match self.spawn_worker().await {
            Ok(replacement) => self.release(replacement),
            Err(error) => tracing::error!(%error, "cannot replace a worker"),
        }
    }

    /// Registers an execution as it arrives, so that a `Cancel` for it finds
    /// it from now until its answer.
    pub fn receive(self: &Arc<Self>, execution_id: &str) -> Received {
        let cancel = CancellationToken::new();
        if let Ok(mut cancels) = self.cancels.lock() {
            cancels.insert(execution_id.to_string(), cancel.clone());
        }
        Received {
            slots: self.clone(),
            execution_id: execution_id.to_string(),
            cancel,
            at: Instant::now(),
        }
    }

    /// Stops the execution `execution_id` if this node holds it.
    pub fn cancel(&self, execution_id: &str) {
        let token = self
            .cancels
            .lock()
            .ok()
            .and_then(|cancels| cancels.get(execution_id).cloned());
        match token {
            Some(token) => token.cancel(),
            None => tracing::debug!(%execution_id, "nothing to cancel: the execution is not here"),
        }
    }

    pub async fn dispatch(&self, request: ExecutionRequest, received: &Received) -> ExecutionReply {
        let execution_id = request.execution_id.clone();
        let after = |ms: Option<u64>| ms.map(|ms| received.at + Duration::from_millis(ms));
        let start_by = after(request.start_within_ms);
        let answer_by = after(request.answer_within_ms);
        // Bounded queue: past it the node says so at once instead of piling
        // up waiting tasks.
        let waiting = self.queued.fetch_add(1, Ordering::SeqCst);
        if self.permits.available_permits() == 0 && waiting >= self.queue_capacity {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(ExecutionFailure::Busy {
                node: self.context.node.clone(),
            });
        }
        // A slot, a cancellation and the start deadline may come together:
        // the latter two win, so nothing starts that is no longer wanted.
        let permit = tokio::select! {
            biased;
            () = received.cancel.cancelled() => None,
            () = until(start_by) => None,
            permit = self.permits.acquire() => Some(permit),
        };
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let permit = match permit {
            Some(permit) => permit,
            None if received.cancel.is_cancelled() => {
                tracing::info!(%execution_id, "execution cancelled before it started");
                return Err(self.cancelled("it was cancelled before it started"));
            }
            None => {
                tracing::info!(
                    %execution_id,
                    "execution expired unstarted: it could not start before its deadline"
                );
                return Err(ExecutionFailure::Expired {
                    node: self.context.node.clone(),
                });
            }
        };
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
        tracing::info!(%execution_id, "execution started");
        let reason = tokio::select! {
            answer = worker.call(|port| WorkerMessage::Run(request, port), None) => {
                return self.answered(worker, &execution_id, answer).await;
            }
            () = received.cancel.cancelled() => "the master cancelled it",
            () = until(answer_by) => "its deadline passed",
        };
        // Killing the worker kills its executor, whose dropped run removes
        // its sandbox; a fresh worker takes the slot before the permit is
        // returned.
        if let Err(error) = worker.kill_and_wait(Some(STOP_TIMEOUT)).await {
            tracing::warn!(%execution_id, %error, "the cancelled execution's worker is slow to stop");
        }
        self.replace_worker().await;
        tracing::info!(%execution_id, reason, "execution cancelled: its sandbox is removed and its slot freed");
        Err(self.cancelled(reason))
    }

    fn cancelled(&self, reason: &str) -> ExecutionFailure {
        ExecutionFailure::Cancelled {
            node: self.context.node.clone(),
            reason: reason.to_string(),
        }
    }

    /// What came of a worker's run.
    async fn answered(
        &self,
        worker: ActorRef<WorkerMessage>,
        execution_id: &str,
        answer: Result<CallResult<ExecutionReply>, ractor::MessagingErr<WorkerMessage>>,
    ) -> ExecutionReply {
        match answer {
            Ok(CallResult::Success(answer)) => {
                self.release(worker);
                self.blame_engine(answer).await
            }
            _ => {
                // The worker died holding this request: answer it, and put a
                // fresh worker in its slot before the permit is returned.
                tracing::error!(%execution_id, "worker died during the execution");
                self.replace_worker().await;
                Err(ExecutionFailure::WorkerCrashed(format!(
                    "the worker running execution {execution_id} crashed"
                )))
            }
        }
    }

    /// An engine fault on a node whose engine is down is reported as such,
    /// so the master tries another node. Checked only after a fault: the
    /// background readiness check watches the engine, the request path pays
    /// nothing for it.
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

    /// Answers from the last known readiness: no Docker call unless the
    /// versions are asked for the first time.
    pub async fn ping(&self, with_versions: bool) -> PingReply {
        let ready = self.readiness.latest();
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
            problem: ready.err(),
            workers: self.plan.slots,
            busy: self.plan.slots.saturating_sub(free),
            queued: self.queued.load(Ordering::SeqCst),
            cpus: self.plan.cpus,
            memory_budget_mb: self.plan.memory_budget_mb,
            versions,
        }
    }
}

/// Resolves at `deadline`, or never without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
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
