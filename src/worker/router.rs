//! The router of a worker node: the node's only actor other nodes talk to.
//! It joins the cluster-wide router group, answers pings, and hands each
//! execution to a free worker of its pool, queueing a bounded number when
//! all are busy.
//!
//! The pool is supervised: a worker that dies mid-execution has its request
//! answered as a crash and is replaced by a fresh one before its slot is
//! given to anyone else.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SpawnErr, SupervisionEvent, pg};
use tokio::sync::{OnceCell, Semaphore};

use super::worker_actor::{Worker, WorkerContext, WorkerMessage};
use crate::protocol::{
    ExecutionFailure, ExecutionReply, ExecutionRequest, PingReply, ROUTER_GROUP, RouterMessage,
    Wire,
};
use crate::sandbox::{Language, MaxLimits, Sandbox, SourceFile, Status, Submission};

pub struct Router;

pub struct RouterArgs {
    pub node: String,
    pub max_limits: MaxLimits,
    pub workers: usize,
    pub queue_capacity: usize,
    pub languages: Arc<BTreeMap<String, Language>>,
    pub sandbox: Arc<dyn Sandbox>,
}

pub struct RouterState {
    pool: Arc<Pool>,
}

/// The workers of a node. One semaphore permit per worker: holding a permit
/// entitles a task to pop exactly one idle worker.
struct Pool {
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

impl Actor for Router {
    type Msg = RouterMessage;
    type State = RouterState;
    type Arguments = RouterArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let context = WorkerContext {
            node: args.node,
            max_limits: args.max_limits,
            languages: args.languages,
            sandbox: args.sandbox,
        };
        let pool = Arc::new(Pool {
            context,
            router: myself.get_cell(),
            permits: Semaphore::new(args.workers),
            idle: Mutex::new(Vec::with_capacity(args.workers)),
            size: args.workers,
            queued: AtomicUsize::new(0),
            queue_capacity: args.queue_capacity,
            versions: OnceCell::new(),
        });
        for _ in 0..args.workers {
            let worker = pool.spawn_worker().await?;
            pool.release(worker);
        }
        Ok(RouterState { pool })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        pg::join(ROUTER_GROUP.to_string(), vec![myself.get_cell()]);
        tracing::info!(
            node = %state.pool.context.node,
            workers = state.pool.size,
            "router joined the cluster's router group"
        );
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        pg::leave(ROUTER_GROUP.to_string(), vec![myself.get_cell()]);
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let pool = state.pool.clone();
        match message {
            RouterMessage::Execute(Wire(Ok(request)), reply) => {
                // The execution runs in its own task: the router stays free
                // to take the next message while workers are busy.
                tokio::spawn(async move {
                    let answer = pool.dispatch(request).await;
                    let _ = reply.send(Wire::new(answer));
                });
            }
            RouterMessage::Execute(Wire(Err(fault)), reply) => {
                tracing::warn!(%fault, "router refused an execution request it cannot read");
                let _ = reply.send(Wire::new(Err(ExecutionFailure::Rejected(
                    fault.to_string(),
                ))));
            }
            RouterMessage::Ping(request, reply) => {
                let with_versions = match &request.0 {
                    Ok(request) => request.with_versions,
                    Err(fault) => {
                        tracing::warn!(%fault, "router received a ping it cannot read");
                        false
                    }
                };
                tokio::spawn(async move {
                    let _ = reply.send(Wire::new(pool.ping(with_versions).await));
                });
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // The dispatching task replaces a dead worker; here it is only logged.
        match event {
            SupervisionEvent::ActorFailed(worker, error) => {
                tracing::error!(worker = %worker.get_id(), %error, "a worker crashed; it is replaced");
            }
            SupervisionEvent::ActorTerminated(worker, _, reason) => {
                tracing::debug!(worker = %worker.get_id(), ?reason, "a worker stopped");
            }
            _ => {}
        }
        Ok(())
    }
}

impl Pool {
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

    async fn dispatch(&self, request: ExecutionRequest) -> ExecutionReply {
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
                "the worker pool is closed".into(),
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

    async fn ping(&self, with_versions: bool) -> PingReply {
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
    for language in context.languages.values() {
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

#[cfg(test)]
mod tests {
    //! The pool's supervision, with a fake sandbox (unit tests only; the
    //! end-to-end tests use the real engine).

    use std::time::Duration;

    use futures_util::FutureExt;
    use futures_util::future::BoxFuture;

    use super::*;
    use crate::protocol::{Executed, PingRequest};
    use crate::sandbox::{Limits, Outcome, StepOutcome};

    /// Echoes the code as stdout; "panic" panics, "hang" never ends.
    struct FakeSandbox;

    impl Sandbox for FakeSandbox {
        fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
            async move {
                let code = submission.files[0].content.clone();
                match code.as_str() {
                    "panic" => panic!("the sandbox blew up"),
                    "hang" => futures_util::future::pending().await,
                    _ => Outcome {
                        execution_id: submission.execution_id,
                        status: Status::Ok,
                        compile: None,
                        run: Some(StepOutcome {
                            status: Status::Ok,
                            exit_code: Some(0),
                            signal: None,
                            stdout: code,
                            stderr: String::new(),
                            stdout_truncated: false,
                            stderr_truncated: false,
                            wall_time_ms: 1,
                            cpu_time_ms: None,
                            memory_peak_bytes: None,
                        }),
                        error: None,
                    },
                }
            }
            .boxed()
        }

        fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
            async { Ok(()) }.boxed()
        }
    }

    fn language() -> Language {
        Language {
            name: "fake".into(),
            image: "none".into(),
            file: "main.fake".into(),
            run: vec!["run".into()],
            compile: None,
            version: None,
            warm_paths: Vec::new(),
            limits: Limits {
                timeout: Duration::from_secs(1),
                compile_timeout: Duration::from_secs(1),
                memory_bytes: 64 << 20,
                output_bytes: 1024,
                cpus: 1.0,
                pids: 64,
                nofile: 64,
                file_size_bytes: 1 << 20,
                scratch_bytes: 1 << 20,
            },
        }
    }

    async fn router(workers: usize) -> ActorRef<RouterMessage> {
        let languages = Arc::new(BTreeMap::from([("fake".to_string(), language())]));
        let (router, _) = Actor::spawn(
            None,
            Router,
            RouterArgs {
                node: "test-node".into(),
                max_limits: MaxLimits {
                    timeout: Duration::from_secs(10),
                    compile_timeout: Duration::from_secs(10),
                    memory_bytes: 512 << 20,
                    output_bytes: 1 << 20,
                },
                workers,
                queue_capacity: 0,
                languages,
                sandbox: Arc::new(FakeSandbox),
            },
        )
        .await
        .expect("router starts");
        router
    }

    async fn execute(router: &ActorRef<RouterMessage>, code: &str) -> ExecutionReply {
        let request = ExecutionRequest {
            execution_id: uuid::Uuid::new_v4().to_string(),
            language: "fake".into(),
            files: vec![SourceFile {
                name: "main.fake".into(),
                content: code.into(),
            }],
            stdin: String::new(),
            args: Vec::new(),
            limits: Default::default(),
        };
        match router
            .call(
                |port| RouterMessage::Execute(Wire::new(request), port),
                Some(Duration::from_secs(5)),
            )
            .await
        {
            Ok(CallResult::Success(Wire(Ok(reply)))) => reply,
            _ => panic!("no answer from the router"),
        }
    }

    /// Polls the router's own ping until `busy` workers hold a request.
    async fn wait_until_busy(router: &ActorRef<RouterMessage>, busy: usize) {
        for _ in 0..5000 {
            let ping = router
                .call(
                    |port| RouterMessage::Ping(Wire::new(PingRequest::default()), port),
                    Some(Duration::from_secs(1)),
                )
                .await;
            if let Ok(CallResult::Success(Wire(Ok(reply)))) = ping
                && reply.busy == busy
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the router never had {busy} busy workers");
    }

    fn stdout(reply: ExecutionReply) -> String {
        match reply {
            Ok(Executed { outcome, .. }) => outcome.run.expect("run step").stdout,
            Err(failure) => panic!("unexpected failure {failure}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_crash_during_an_execution_is_answered_and_the_pool_goes_on() {
        let router = router(1).await;
        let reply = execute(&router, "panic").await;
        assert!(
            matches!(reply, Err(ExecutionFailure::WorkerCrashed(_))),
            "{reply:?}"
        );
        assert_eq!(stdout(execute(&router, "fine").await), "fine");
        router.stop(None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_worker_is_replaced_and_its_request_answered() {
        let router = router(1).await;
        let pending = tokio::spawn({
            let router = router.clone();
            async move { execute(&router, "hang").await }
        });
        wait_until_busy(&router, 1).await;
        let workers = router.get_children();
        assert_eq!(workers.len(), 1);
        workers[0].kill();
        let reply = pending.await.expect("the caller gets an answer");
        assert!(
            matches!(reply, Err(ExecutionFailure::WorkerCrashed(_))),
            "{reply:?}"
        );
        assert_eq!(stdout(execute(&router, "again").await), "again");
        // The killed worker leaves its supervisor's children as it ends.
        for _ in 0..1000 {
            if router.get_children().len() == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(router.get_children().len(), 1, "the pool keeps its size");
        router.stop(None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_node_says_busy_at_once() {
        let router = router(1).await;
        let _hanging = tokio::spawn({
            let router = router.clone();
            async move { execute(&router, "hang").await }
        });
        wait_until_busy(&router, 1).await;
        // With no queue, the second request finds the only worker taken.
        let reply = execute(&router, "second").await;
        assert!(
            matches!(reply, Err(ExecutionFailure::Busy { .. })),
            "{reply:?}"
        );
        router.stop(None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_message_is_refused_with_a_reason() {
        let router = router(1).await;
        let reply = router
            .call(
                |port| {
                    RouterMessage::Execute(
                        Wire(Err(crate::protocol::WireFault::VersionMismatch {
                            theirs: 99,
                            ours: 1,
                        })),
                        port,
                    )
                },
                Some(Duration::from_secs(5)),
            )
            .await;
        match reply {
            Ok(CallResult::Success(Wire(Ok(Err(ExecutionFailure::Rejected(reason)))))) => {
                assert!(reason.contains("99"), "{reason}");
            }
            other => panic!("unexpected {:?}", other.is_ok()),
        }
        router.stop(None);
    }
}
