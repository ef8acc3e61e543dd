//! What every endpoint shares: the languages, the request limits, and the
//! way to run an execution in the cluster ([`AppState::dispatch`]): its
//! deadlines, fixed as it arrives; admission by capacity (see
//! [`Admission`]: what cannot start before its deadline is refused at
//! once); and a round robin over the load balancers. An endpoint checks its
//! request, then dispatches it; how it answers is its own affair.
//!
//! A request must start within half of `http.deadline_margin_ms` of its
//! arrival (its start window; the other half is left to the container's
//! set-up and the hops), and be answered within its time limits plus the
//! whole margin. Dropping the dispatch (the client went away) cancels the
//! execution wherever it is.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ractor::ActorRef;
use ractor::rpc::CallResult;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::configuration::Settings;
use crate::master::admission::Admission;
use crate::master::judge::Judge;
use crate::master::live::LiveGate;
use crate::master::load_balancer::{
    BALANCER_GRACE, Dispatch, DispatchError, DispatchResult, LoadBalancerMessage,
};
use crate::master::node_table::NodeTable;
use crate::protocol::{ExecutionFailure, ExecutionRequest};
use crate::sandbox::{Language, Limits};
use crate::submission::Rules;

pub struct AppState {
    pub table: Arc<NodeTable>,
    pub languages: Arc<BTreeMap<String, Language>>,
    /// Largest code (and stdin) of one execution, in bytes.
    pub max_body_bytes: usize,
    pub max_json_body_bytes: usize,
    pub body_read_timeout: Duration,
    /// What a submission may be (checked before dispatch, and again by the
    /// worker).
    pub rules: Rules,
    /// Deadline of a readiness ping to a worker node.
    pub ping_timeout: Duration,
    deadline_margin: Duration,
    balancers: Vec<ActorRef<LoadBalancerMessage>>,
    next_balancer: AtomicUsize,
    admission: Admission,
    /// The judge (submissions with tests), set once the master has opened
    /// its store.
    pub judge: OnceLock<Arc<Judge>>,
    /// Live executions: their caps and limits.
    pub live: Arc<LiveGate>,
}

impl AppState {
    pub fn new(
        settings: &Settings,
        languages: Arc<BTreeMap<String, Language>>,
        table: Arc<NodeTable>,
        balancers: Vec<ActorRef<LoadBalancerMessage>>,
    ) -> AppState {
        let http = &settings.http;
        AppState {
            table,
            rules: Rules::from_settings(settings, languages.clone()),
            languages,
            max_body_bytes: http.max_body_bytes,
            max_json_body_bytes: http.max_json_body_bytes,
            body_read_timeout: Duration::from_millis(http.body_read_timeout_ms),
            ping_timeout: settings.ping_timeout(),
            deadline_margin: Duration::from_millis(http.deadline_margin_ms),
            balancers,
            next_balancer: AtomicUsize::new(0),
            admission: Admission::new(http.max_concurrent, http.max_queued),
            judge: OnceLock::new(),
            live: LiveGate::new(settings.live.clone()),
        }
    }

    /// How long a request may take: the language's time limits plus a margin
    /// for container set-up and the cluster hop.
    pub fn deadline_for(&self, language: &Language, limits: &Limits) -> Duration {
        let compile = if language.compile.is_some() {
            limits.compile_timeout
        } else {
            Duration::ZERO
        };
        limits.timeout + compile + self.deadline_margin
    }

    /// Runs `request` somewhere in the cluster within `deadline_after` of
    /// now, through admission and a load balancer.
    pub async fn dispatch(
        &self,
        request: ExecutionRequest,
        deadline_after: Duration,
    ) -> DispatchResult {
        // The deadlines run from the arrival, through every queue.
        let arrived = Instant::now();
        let answer_by = arrived + deadline_after;
        let start_window = (self.deadline_margin / 2).min(deadline_after);
        let start_by = arrived + start_window;
        // Say "no worker" at once rather than after a timeout.
        if self.table.routers().is_empty() {
            return Err(DispatchError::NoWorker);
        }
        let queued = crate::metrics::queued();
        let waiting = self
            .admission
            .enter(self.table.healthy_slots(), start_window)
            .map_err(|retry_after_s| {
                tracing::debug!(execution_id = %request.execution_id, retry_after_s, "refused: it cannot start before its deadline");
                DispatchError::Overloaded { retry_after_s }
            })?;
        let Some(_permit) = waiting.admitted(start_by).await else {
            tracing::info!(execution_id = %request.execution_id, "execution expired unstarted in the master's queue");
            return Err(DispatchError::Expired);
        };
        drop(queued);
        let _in_flight = crate::metrics::in_flight();
        let index = self.next_balancer.fetch_add(1, Ordering::Relaxed) % self.balancers.len();
        let balancer = &self.balancers[index];
        // Dropped with this future: the balancer then cancels the execution.
        let (_awaited, awaited) = oneshot::channel();
        let dispatch = Dispatch {
            request,
            start_by,
            start_window,
            answer_by,
            awaited,
        };
        let result = match balancer
            .call(
                |port| LoadBalancerMessage::Dispatch(dispatch, port),
                Some(answer_by.saturating_duration_since(Instant::now()) + BALANCER_GRACE),
            )
            .await
        {
            Ok(CallResult::Success(result)) => result,
            Ok(CallResult::Timeout) => Err(DispatchError::DeadlineExceeded),
            Ok(CallResult::SenderError) | Err(_) => Err(DispatchError::Failed(
                ExecutionFailure::WorkerCrashed("the load balancer stopped".into()),
            )),
        };
        if let Ok(dispatched) = &result {
            self.admission
                .answered(Duration::from_micros(dispatched.executed.sandbox_us));
        }
        result
    }
}
