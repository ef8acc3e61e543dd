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
use tokio::sync::Semaphore;

use super::worker_actor::{Worker, WorkerContext, WorkerMessage};
use crate::protocol::{
    ExecutionFailure, ExecutionReply, ExecutionRequest, PingReply, ROUTER_GROUP, RouterMessage,
    Wire,
};
use crate::sandbox::{Language, Sandbox};

pub struct Router;

pub struct RouterArgs {
    pub node: String,
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
                if let Err(fault) = &request.0 {
                    tracing::warn!(%fault, "router received a ping it cannot read");
                }
                tokio::spawn(async move {
                    let _ = reply.send(Wire::new(pool.ping().await));
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
                answer
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

    async fn ping(&self) -> PingReply {
        let ready = self.context.sandbox.check_ready().await;
        let free = self.permits.available_permits();
        PingReply {
            node: self.context.node.clone(),
            ready: ready.is_ok(),
            problem: ready.err().map(|error| format!("{error:#}")),
            workers: self.size,
            busy: self.size.saturating_sub(free),
            queued: self.queued.load(Ordering::SeqCst),
        }
    }
}
