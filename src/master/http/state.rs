//! What every endpoint shares: the languages, the request limits, and the
//! way to run an execution in the cluster ([`AppState::dispatch`]): admission
//! (a bounded number run at once, a bounded number wait, the rest are
//! refused at once) and a round robin over the load balancers. An endpoint
//! checks its request, then dispatches it; how it answers is its own affair.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ractor::ActorRef;
use ractor::rpc::CallResult;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::configuration::Settings;
use crate::master::load_balancer::{
    BALANCER_GRACE, DispatchError, DispatchResult, LoadBalancerMessage,
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
    /// Executions this master runs at once.
    admission: Semaphore,
    /// Executions waiting for admission, and how many may.
    waiting: AtomicUsize,
    max_queued: usize,
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
            admission: Semaphore::new(http.max_concurrent),
            waiting: AtomicUsize::new(0),
            max_queued: http.max_queued,
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

    /// Runs `request` somewhere in the cluster within `deadline_after`,
    /// through admission and a load balancer.
    pub async fn dispatch(
        &self,
        request: ExecutionRequest,
        deadline_after: Duration,
    ) -> DispatchResult {
        // Say "no worker" at once rather than after a timeout.
        if self.table.routers().is_empty() {
            return Err(DispatchError::NoWorker);
        }
        // Admission: a bounded number run, a bounded number wait (keeping
        // their deadlines); past that, 429 at once.
        let queued = crate::metrics::queued();
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
        let admitted = if self.admission.available_permits() == 0 && waiting >= self.max_queued {
            None
        } else {
            tokio::time::timeout(deadline_after, self.admission.acquire())
                .await
                .map(Some)
                .map_err(|_| DispatchError::DeadlineExceeded)
                .transpose()
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        drop(queued);
        let _permit = match admitted {
            None => return Err(DispatchError::Overloaded),
            Some(Err(error)) => return Err(error),
            Some(Ok(Ok(permit))) => permit,
            Some(Ok(Err(_closed))) => return Err(DispatchError::Overloaded),
        };
        let _in_flight = crate::metrics::in_flight();
        let index = self.next_balancer.fetch_add(1, Ordering::Relaxed) % self.balancers.len();
        let balancer = &self.balancers[index];
        let deadline = Instant::now() + deadline_after;
        match balancer
            .call(
                |port| LoadBalancerMessage::Dispatch(request, deadline, port),
                Some(deadline_after + BALANCER_GRACE),
            )
            .await
        {
            Ok(CallResult::Success(result)) => result,
            Ok(CallResult::Timeout) => Err(DispatchError::DeadlineExceeded),
            Ok(CallResult::SenderError) | Err(_) => Err(DispatchError::Failed(
                ExecutionFailure::WorkerCrashed("the load balancer stopped".into()),
            )),
        }
    }
}
