//! The router of a worker node: the node's only actor other nodes talk to.
//! It joins the cluster-wide router group, answers pings, and hands each
//! execution to the node's [`WorkerSlots`], which give it to a free worker
//! or queue it, in a task of its own so that the router stays free. It
//! registers each execution as it arrives, so that a `Cancel` that follows
//! it finds it.
//!
//! Live executions (started, pulled, fed and cancelled by their master)
//! go to the node's [`LiveRuns`], beside the slots.
//!
//! The workers are its children: a worker that dies mid-execution has its
//! request answered as a crash and is replaced by a fresh one before its
//! slot is given to anyone else.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent, pg};
use tracing::Instrument;

use super::live::LiveRuns;
use super::slots::WorkerSlots;
use super::worker_actor::WorkerContext;
use crate::configuration::SlotPlan;
use crate::protocol::{ExecutionFailure, ROUTER_GROUP, RouterMessage, Wire};
use crate::sandbox::Sandbox;
use crate::submission::Rules;

pub struct Router;

pub struct RouterArgs {
    pub node: String,
    /// What a submission may be on this node (its languages included).
    pub rules: Arc<Rules>,
    /// How many executions run at once.
    pub slots: SlotPlan,
    pub queue_capacity: usize,
    pub sandbox: Arc<dyn Sandbox>,
}

pub struct RouterState {
    slots: Arc<WorkerSlots>,
    live: Arc<LiveRuns>,
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
        let live = LiveRuns::new(args.node.clone(), args.rules.clone(), args.sandbox.clone());
        let context = WorkerContext {
            node: args.node,
            rules: args.rules,
            sandbox: args.sandbox,
        };
        let slots =
            WorkerSlots::start(context, myself.get_cell(), args.slots, args.queue_capacity).await?;
        Ok(RouterState {
            slots: Arc::new(slots),
            live,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        pg::join(ROUTER_GROUP.to_string(), vec![myself.get_cell()]);
        tracing::info!(
            node = %state.slots.node(),
            slots = state.slots.size(),
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
        let slots = state.slots.clone();
        match message {
            RouterMessage::Execute(Wire(Ok(request)), reply) => {
                // Registered here, in the order messages arrive, so that a
                // cancel sent after it is never handled before it.
                let received = slots.receive(&request.execution_id);
                // The execution runs in its own task: the router stays free
                // to take the next message while workers are busy.
                let span = tracing::info_span!("execution", execution_id = %request.execution_id);
                tokio::spawn(
                    async move {
                        let answer = slots.dispatch(request, &received).await;
                        let _ = reply.send(Wire::new(answer));
                    }
                    .instrument(span),
                );
            }
            RouterMessage::Cancel(Wire(Ok(cancel))) => {
                if !state.live.cancel(&cancel.execution_id) {
                    slots.cancel(&cancel.execution_id);
                }
            }
            RouterMessage::LiveStart(start, reply) => {
                let answer = match start.0 {
                    Ok(start) => state.live.start(start),
                    Err(fault) => {
                        tracing::warn!(%fault, "router refused a live execution it cannot read");
                        Err(ExecutionFailure::Rejected(fault.to_string()))
                    }
                };
                let _ = reply.send(Wire::new(answer));
            }
            RouterMessage::LivePull(Wire(Ok(pull)), reply) => {
                let live = state.live.clone();
                tokio::spawn(async move {
                    let _ = reply.send(Wire::new(live.pull(pull).await));
                });
            }
            RouterMessage::LivePull(Wire(Err(fault)), reply) => {
                tracing::warn!(%fault, "router received a live pull it cannot read");
                let _ = reply.send(Wire::new(crate::protocol::live::LivePullReply {
                    items: vec![crate::protocol::live::LiveItem::Gone(fault.to_string())],
                }));
            }
            RouterMessage::LiveSend(Wire(Ok(send))) => state.live.send(send),
            RouterMessage::LiveSend(Wire(Err(fault))) => {
                tracing::warn!(%fault, "router received live input it cannot read");
            }
            RouterMessage::Cancel(Wire(Err(fault))) => {
                tracing::warn!(%fault, "router received a cancel it cannot read");
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
                    let _ = reply.send(Wire::new(slots.ping(with_versions).await));
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

#[cfg(test)]
mod tests {
    //! The workers' supervision, with a fake sandbox (unit tests only; the
    //! end-to-end tests use the real engine).

    use std::time::Duration;

    use std::collections::BTreeMap;

    use futures_util::FutureExt;
    use futures_util::future::BoxFuture;
    use ractor::rpc::CallResult;

    use super::*;
    use crate::protocol::{CancelRequest, Executed, ExecutionReply, ExecutionRequest, PingRequest};
    use crate::sandbox::{
        Language, Limits, Outcome, RequestedLimits, SourceFile, Status, StepOutcome, Submission,
    };

    /// Echoes the code as stdout; "panic" panics, "hang" never ends (and
    /// counts the hanging runs that started and that were cancelled).
    struct FakeSandbox {
        hanging: Arc<tokio::sync::watch::Sender<Hanging>>,
    }

    impl Default for FakeSandbox {
        fn default() -> FakeSandbox {
            FakeSandbox {
                hanging: Arc::new(tokio::sync::watch::Sender::new(Hanging::default())),
            }
        }
    }

    #[derive(Debug, Default, Clone, Copy)]
    struct Hanging {
        started: usize,
        cancelled: usize,
        /// Runs of any other code.
        others: usize,
    }

    /// Counts its drop: a run dropped before its end was cancelled.
    struct Cancelled(Arc<tokio::sync::watch::Sender<Hanging>>);

    impl Drop for Cancelled {
        fn drop(&mut self) {
            self.0.send_modify(|hanging| hanging.cancelled += 1);
        }
    }

    /// Waits until the hanging runs come to `wanted`.
    async fn until(
        hanging: &tokio::sync::watch::Sender<Hanging>,
        wanted: impl Fn(&Hanging) -> bool,
        what: &str,
    ) {
        let mut seen = hanging.subscribe();
        let reached = tokio::time::timeout(Duration::from_secs(20), seen.wait_for(wanted)).await;
        assert!(
            matches!(reached, Ok(Ok(_))),
            "{what}: {:?}",
            *hanging.borrow()
        );
    }

    impl Sandbox for FakeSandbox {
        fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
            async move {
                let code = submission.files[0].content.clone();
                match code.as_str() {
                    "panic" => panic!("the sandbox blew up"),
                    "hang" => {
                        let _cancelled = Cancelled(self.hanging.clone());
                        self.hanging.send_modify(|hanging| hanging.started += 1);
                        futures_util::future::pending().await
                    }
                    _ => {
                        self.hanging.send_modify(|hanging| hanging.others += 1);
                        Outcome {
                            execution_id: submission.execution_id,
                            status: Status::Ok,
                            compile: None,
                            run: Some(StepOutcome {
                                exit_code: Some(0),
                                stdout: code,
                                wall_time_ms: 1,
                                ..StepOutcome::empty(Status::Ok)
                            }),
                            error: None,
                        }
                    }
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
                cpu_time: Duration::from_secs(1),
                compile_cpu_time: Duration::from_secs(1),
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
        router_over(workers, FakeSandbox::default()).await
    }

    async fn router_over(workers: usize, sandbox: FakeSandbox) -> ActorRef<RouterMessage> {
        router_queued(workers, 0, sandbox).await
    }

    async fn router_queued(
        workers: usize,
        queue_capacity: usize,
        sandbox: FakeSandbox,
    ) -> ActorRef<RouterMessage> {
        let languages = Arc::new(BTreeMap::from([("fake".to_string(), language())]));
        let max_limits = RequestedLimits {
            timeout_ms: Some(10_000),
            compile_timeout_ms: Some(10_000),
            cpu_time_ms: Some(10_000),
            compile_cpu_time_ms: Some(10_000),
            memory_mb: Some(512),
            output_bytes: Some(1 << 20),
        };
        let (router, _) = Actor::spawn(
            None,
            Router,
            RouterArgs {
                node: "test-node".into(),
                rules: Arc::new(Rules::new(languages, max_limits, 1 << 16)),
                slots: SlotPlan {
                    slots: workers,
                    cpus: workers,
                    memory_budget_mb: 0,
                    slot_memory_mb: 64,
                },
                queue_capacity,
                sandbox: Arc::new(sandbox),
            },
        )
        .await
        .expect("router starts");
        router
    }

    async fn execute(router: &ActorRef<RouterMessage>, code: &str) -> ExecutionReply {
        send(router, request(code)).await
    }

    fn request(code: &str) -> ExecutionRequest {
        ExecutionRequest {
            execution_id: uuid::Uuid::new_v4().to_string(),
            language: "fake".into(),
            files: vec![SourceFile {
                name: "main.fake".into(),
                content: code.into(),
            }],
            stdin: String::new(),
            args: Vec::new(),
            limits: Default::default(),
            start_within_ms: None,
            answer_within_ms: None,
            judging: None,
        }
    }

    async fn send(router: &ActorRef<RouterMessage>, request: ExecutionRequest) -> ExecutionReply {
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
    async fn a_crash_during_an_execution_is_answered_and_the_workers_go_on() {
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
    async fn a_killed_worker_is_replaced_and_its_request_answered_and_its_run_cancelled() {
        let sandbox = FakeSandbox::default();
        let hanging = sandbox.hanging.clone();
        let router = router_over(1, sandbox).await;
        let pending = tokio::spawn({
            let router = router.clone();
            async move { execute(&router, "hang").await }
        });
        // The run has reached the sandbox (not only the worker's queue).
        until(
            &hanging,
            |hanging| hanging.started == 1,
            "the run never started",
        )
        .await;
        let workers = router.get_children();
        assert_eq!(workers.len(), 1);
        workers[0].kill();
        let reply = pending.await.expect("the caller gets an answer");
        assert!(
            matches!(reply, Err(ExecutionFailure::WorkerCrashed(_))),
            "{reply:?}"
        );
        // Killing the worker killed its executor, which dropped the run.
        until(
            &hanging,
            |hanging| hanging.cancelled == 1,
            "the run goes on",
        )
        .await;
        assert_eq!(stdout(execute(&router, "again").await), "again");
        // The killed worker leaves its supervisor's children as it ends
        // (ractor says so by no event a test can await).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while router.get_children().len() != 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(router.get_children().len(), 1, "the node keeps its workers");
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
    async fn work_that_cannot_start_before_its_deadline_leaves_the_queue_unstarted() {
        let sandbox = FakeSandbox::default();
        let hanging = sandbox.hanging.clone();
        let router = router_queued(1, 4, sandbox).await;
        let _hanging = tokio::spawn({
            let router = router.clone();
            async move { execute(&router, "hang").await }
        });
        until(
            &hanging,
            |hanging| hanging.started == 1,
            "the run never started",
        )
        .await;
        let mut late = request("late");
        late.start_within_ms = Some(50);
        let reply = send(&router, late).await;
        assert!(
            matches!(reply, Err(ExecutionFailure::Expired { .. })),
            "{reply:?}"
        );
        assert_eq!(hanging.borrow().others, 0, "the expired request ran");
        router.stop(None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_execution_is_stopped_and_its_slot_freed() {
        let sandbox = FakeSandbox::default();
        let hanging = sandbox.hanging.clone();
        let router = router_queued(1, 4, sandbox).await;
        let running = request("hang");
        let running_id = running.execution_id.clone();
        let pending = tokio::spawn({
            let router = router.clone();
            async move { send(&router, running).await }
        });
        until(
            &hanging,
            |hanging| hanging.started == 1,
            "the run never started",
        )
        .await;
        // A second one waits in the queue behind it.
        let queued = request("queued");
        let queued_id = queued.execution_id.clone();
        let waiting = tokio::spawn({
            let router = router.clone();
            async move { send(&router, queued).await }
        });
        wait_until_queued(&router, 1).await;
        for execution_id in [queued_id, running_id] {
            router
                .cast(RouterMessage::Cancel(Wire::new(CancelRequest {
                    execution_id,
                })))
                .expect("the router takes the cancel");
        }
        for reply in [waiting, pending] {
            let reply = reply.await.expect("the caller gets an answer");
            assert!(
                matches!(reply, Err(ExecutionFailure::Cancelled { .. })),
                "{reply:?}"
            );
        }
        until(
            &hanging,
            |hanging| hanging.cancelled == 1,
            "the run goes on",
        )
        .await;
        assert_eq!(
            hanging.borrow().others,
            0,
            "the cancelled queued request ran"
        );
        // The slot is free, with a fresh worker in it.
        assert_eq!(stdout(execute(&router, "again").await), "again");
        router.stop(None);
    }

    /// Polls the router's own ping until `queued` requests wait.
    async fn wait_until_queued(router: &ActorRef<RouterMessage>, queued: usize) {
        for _ in 0..5000 {
            let ping = router
                .call(
                    |port| RouterMessage::Ping(Wire::new(PingRequest::default()), port),
                    Some(Duration::from_secs(1)),
                )
                .await;
            if let Ok(CallResult::Success(Wire(Ok(reply)))) = ping
                && reply.queued == queued
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the router never had {queued} queued requests");
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
