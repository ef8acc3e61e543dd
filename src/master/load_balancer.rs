//! Load balancers: the master's actors that carry an execution to a worker
//! node and bring back its answer, with a deadline on every cross-node call
//! (ractor_cluster drops what it cannot decode, so a call without one could
//! wait forever). A node that is lost mid-call is replaced by another once:
//! executions have no side effects outside their sandbox, so a retry is safe.
//!
//! An execution carries its deadlines to the node as budgets (start within,
//! answer within). When its answer is no longer awaited (the client went
//! away, the deadline passed, or its node was lost and it runs elsewhere)
//! the node is told to cancel it, so no sandbox runs for nobody.

use std::sync::Arc;
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort};
use ractor_cluster::RactorMessage;
use tokio::sync::{broadcast, oneshot};
use tokio::time::Instant;
use tracing::Instrument;

use super::node_table::{NoRouter, NodeTable};
use crate::protocol::{
    CancelRequest, Executed, ExecutionFailure, ExecutionRequest, RouterMessage, Wire,
};

pub struct LoadBalancer;

#[derive(RactorMessage)]
pub enum LoadBalancerMessage {
    /// Run `request` somewhere in the cluster within `deadlines`, while
    /// someone waits for it.
    Dispatch(Dispatch, RpcReplyPort<DispatchResult>),
}

/// One execution to carry to a node.
#[derive(Debug)]
pub struct Dispatch {
    pub request: ExecutionRequest,
    /// When it must have started, or be dropped unstarted.
    pub start_by: Instant,
    /// How long a start may wait: a run again on another node after a
    /// loss gets this much again (within the answer's deadline), its first
    /// wait having been spent on the lost node.
    pub start_window: Duration,
    /// When its answer is due.
    pub answer_by: Instant,
    /// Closes when nobody waits for the answer any more (the HTTP request
    /// was dropped): the execution is then cancelled.
    pub awaited: oneshot::Receiver<()>,
}

pub type DispatchResult = Result<Dispatched, DispatchError>;

/// An execution that ran on a worker node.
#[derive(Debug)]
pub struct Dispatched {
    pub executed: Executed,
    /// Whether a first node was lost and the execution ran again elsewhere.
    pub retried: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("no worker node available")]
    NoWorker,
    #[error("no worker node can run code: {0}")]
    Unavailable(String),
    #[error("the engine is at capacity")]
    Overloaded {
        /// When a retry may find room, in seconds.
        retry_after_s: u64,
    },
    #[error("the execution could not start before its deadline")]
    Expired,
    #[error("nobody waits for the answer any more")]
    Abandoned,
    #[error("no answer from a worker node before the deadline")]
    DeadlineExceeded,
    #[error(transparent)]
    Failed(#[from] ExecutionFailure),
    #[error("worker node {node} answered in a way this master cannot read: {reason}")]
    Protocol { node: String, reason: String },
}

impl Actor for LoadBalancer {
    type Msg = LoadBalancerMessage;
    type State = Arc<NodeTable>;
    type Arguments = Arc<NodeTable>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        table: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(table)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        table: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let LoadBalancerMessage::Dispatch(dispatch, reply) = message;
        let table = table.clone();
        // Each execution waits in its own task, so one balancer carries many.
        // The execution's span came with the message (ractor carries the
        // sender's); the task keeps it.
        let span = tracing::Span::current();
        tokio::spawn(
            async move {
                let _ = reply.send(send_to_node(&table, dispatch).await);
            }
            .instrument(span),
        );
        Ok(())
    }
}

/// Sends the request to the least loaded healthy router; on losing that
/// node (it left the cluster or the heartbeat declared it lost) or on its
/// being full or unable to run code, tries one other node.
pub async fn send_to_node(table: &Arc<NodeTable>, dispatch: Dispatch) -> DispatchResult {
    let Dispatch {
        request,
        mut start_by,
        start_window,
        answer_by: deadline,
        mut awaited,
    } = dispatch;
    let mut tried = Vec::new();
    let mut last_error = DispatchError::NoWorker;
    for attempt in 0..2 {
        let router = match table.pick(&tried) {
            Ok(router) => router,
            Err(_) if attempt > 0 => return Err(last_error),
            Err(NoRouter::NoneConnected) => return Err(DispatchError::NoWorker),
            Err(NoRouter::NoneHealthy(reasons)) => {
                return Err(DispatchError::Unavailable(reasons.join("; ")));
            }
        };
        let router_id = router.get_id();
        tried.push(router_id);
        let now = Instant::now();
        let remaining = deadline.saturating_duration_since(now);
        if remaining.is_zero() {
            return Err(DispatchError::DeadlineExceeded);
        }
        if start_by <= now {
            return Err(DispatchError::Expired);
        }
        let _in_flight = table.count_in_flight(router_id);
        let mut lost = table.lost();
        let mut message = request.clone();
        message.start_within_ms = Some(millis(start_by - now));
        message.answer_within_ms = Some(millis(remaining));
        let cancel = || {
            let _ = router.cast(RouterMessage::Cancel(Wire::new(CancelRequest {
                execution_id: request.execution_id.clone(),
            })));
        };
        let answer = tokio::select! {
            answer = router.call(
                |port| RouterMessage::Execute(Wire::new(message), port),
                Some(remaining),
            ) => answer,
            () = declared_lost(&mut lost, router_id) => {
                tracing::warn!(router = %router_id, execution_id = %request.execution_id, "the worker node stopped answering during the execution; retrying elsewhere");
                // If the node is only slow, it stops the first run as soon
                // as it reads this, or when the heartbeat sees it again.
                cancel();
                table.abandon(router_id, request.execution_id.clone());
                start_by = start_by.max(Instant::now() + start_window).min(deadline);
                last_error = DispatchError::NoWorker;
                continue;
            }
            _ = &mut awaited => {
                tracing::info!(router = %router_id, execution_id = %request.execution_id, "the client went away: cancelling its execution");
                cancel();
                return Err(DispatchError::Abandoned);
            }
        };
        match answer {
            Ok(CallResult::Success(Wire(Ok(Ok(executed))))) => {
                return Ok(Dispatched {
                    executed,
                    retried: attempt > 0,
                });
            }
            Ok(CallResult::Success(Wire(Ok(Err(ExecutionFailure::Busy { node }))))) => {
                tracing::info!(%node, "worker node is full; trying another");
                last_error = DispatchError::Failed(ExecutionFailure::Busy { node });
            }
            Ok(CallResult::Success(Wire(Ok(Err(ExecutionFailure::EngineUnavailable(reason)))))) => {
                tracing::warn!(router = %router_id, %reason, "worker node cannot run code; trying another");
                table.mark_unhealthy(router_id, reason.clone());
                last_error = DispatchError::Unavailable(reason);
            }
            Ok(CallResult::Success(Wire(Ok(Err(ExecutionFailure::Expired { node }))))) => {
                tracing::info!(%node, execution_id = %request.execution_id, "the execution expired in the node's queue");
                return Err(DispatchError::Expired);
            }
            Ok(CallResult::Success(Wire(Ok(Err(ExecutionFailure::Cancelled {
                node,
                reason,
            }))))) => {
                tracing::info!(%node, %reason, execution_id = %request.execution_id, "the node cancelled the execution");
                return Err(DispatchError::DeadlineExceeded);
            }
            Ok(CallResult::Success(Wire(Ok(Err(failure))))) => {
                if let ExecutionFailure::Rejected(reason) = &failure {
                    tracing::error!(router = %router_id, %reason, "a worker node refused this master's message; is it another version?");
                }
                return Err(DispatchError::Failed(failure));
            }
            Ok(CallResult::Success(Wire(Err(fault)))) => {
                tracing::error!(router = %router_id, %fault, "a worker node answered in a protocol this master cannot read; it gets no more work");
                table.mark_incompatible(router_id);
                last_error = DispatchError::Protocol {
                    node: router_id.to_string(),
                    reason: fault.to_string(),
                };
            }
            Ok(CallResult::Timeout) => {
                cancel();
                return Err(DispatchError::DeadlineExceeded);
            }
            // A remote call whose timeout fires ends as a dropped reply port,
            // which looks like a lost node: the clock tells them apart.
            Ok(CallResult::SenderError) | Err(_) if Instant::now() + DEADLINE_SLACK >= deadline => {
                cancel();
                return Err(DispatchError::DeadlineExceeded);
            }
            Ok(CallResult::SenderError) | Err(_) => {
                tracing::warn!(router = %router_id, execution_id = %request.execution_id, "lost the worker node during the execution; retrying elsewhere");
                start_by = start_by.max(Instant::now() + start_window).min(deadline);
                last_error = DispatchError::NoWorker;
            }
        }
    }
    Err(last_error)
}

/// A budget in whole milliseconds, rounded up so that a sliver is not 0.
fn millis(budget: Duration) -> u64 {
    u64::try_from(budget.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
}

/// Resolves when the heartbeat declares `router` lost.
async fn declared_lost(lost: &mut broadcast::Receiver<ActorId>, router: ActorId) {
    loop {
        match lost.recv().await {
            Ok(id) if id == router => return,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// How close to the deadline a failed call counts as timed out.
const DEADLINE_SLACK: Duration = Duration::from_millis(20);

/// A small safety margin so that the balancer's own answer (deadline
/// exceeded) arrives before the HTTP layer gives up on the balancer.
pub const BALANCER_GRACE: Duration = Duration::from_millis(500);
