//! Every Prometheus metric of a node, named and described in this one
//! place, and the text a `GET /metrics` answers with.
//!
//! The rest of the code calls the small functions below (one line at the
//! place where a thing happens); they record through the `metrics` crate's
//! global recorder, which [`install`] sets to the Prometheus exporter
//! (rendered by our own handlers, not by the exporter's HTTP listener). A
//! process has one recorder: in-process tests that start several nodes
//! share it, as master and worker of a standalone node do.
//!
//! Label values are bounded: languages and statuses come from the
//! configuration and the engine's own taxonomy, never from a request (the
//! gateway refuses an unknown language before anything is counted under
//! it), and node names from the cluster's members.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::protocol::PingReply;

/// The text exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub const EXECUTIONS: &str = "braindrill_executions_total";
pub const EXECUTION_DURATION: &str = "braindrill_execution_duration_seconds";
pub const EXECUTION_QUEUED: &str = "braindrill_execution_queued_seconds";
pub const EXECUTION_SANDBOX: &str = "braindrill_execution_sandbox_seconds";
pub const EXECUTION_RETRIES: &str = "braindrill_execution_retries_total";
pub const REQUESTS_REJECTED: &str = "braindrill_requests_rejected_total";
pub const INFLIGHT: &str = "braindrill_inflight_executions";
pub const QUEUED: &str = "braindrill_queued_executions";
pub const WORKER_NODES: &str = "braindrill_worker_nodes";
pub const NODE_SLOTS: &str = "braindrill_node_slots";
pub const NODE_BUSY_SLOTS: &str = "braindrill_node_busy_slots";
pub const NODE_QUEUED: &str = "braindrill_node_queued_executions";
pub const NODE_READY: &str = "braindrill_node_ready";
pub const SANDBOX_STARTS: &str = "braindrill_sandbox_starts_total";
pub const SANDBOX_START_FAILURES: &str = "braindrill_sandbox_start_failures_total";
pub const SANDBOX_RECYCLED: &str = "braindrill_sandbox_recycled_total";
pub const SANDBOX_RETIRED: &str = "braindrill_sandbox_retired_total";
pub const WARM_SANDBOXES: &str = "braindrill_warm_sandboxes";
pub const CLUSTER_JOINS: &str = "braindrill_cluster_node_joins_total";
pub const CLUSTER_LOSSES: &str = "braindrill_cluster_node_losses_total";
pub const CLUSTER_REFUSED: &str = "braindrill_cluster_refused_nodes_total";
pub const LIVE_RUNS: &str = "braindrill_live_runs";
pub const LIVE_RUNS_STARTED: &str = "braindrill_live_runs_started_total";
pub const LIVE_RUNS_REFUSED: &str = "braindrill_live_runs_refused_total";

/// Buckets of the time histograms, in seconds: from a warm sandbox's few
/// milliseconds to the largest time limits (15 s run, 30 s compile).
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0,
];

/// Why a request was refused without running: the `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// 429: the master's queue or every worker node is full.
    Busy,
    /// 503: no worker node is connected or none can run code.
    NoWorker,
    /// 504: no answer before the deadline.
    Deadline,
    /// 400, 408, 413: the request itself is wrong.
    Invalid,
    /// 401: API keys are on and the request has no valid one.
    Unauthorized,
}

impl Rejection {
    fn label(self) -> &'static str {
        match self {
            Rejection::Busy => "busy",
            Rejection::NoWorker => "no_worker",
            Rejection::Deadline => "deadline",
            Rejection::Invalid => "invalid",
            Rejection::Unauthorized => "unauthorized",
        }
    }
}

/// How a sandbox was started for an execution: the `mode` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxStart {
    /// A runner container started ahead of time for the warm pool.
    Warm,
    /// A runner container started for one request that found none warm.
    OnDemand,
    /// The fresh-container path (a volume, an upload, one run).
    Fresh,
}

struct Exporter {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

static EXPORTER: OnceLock<Option<Exporter>> = OnceLock::new();

/// Installs the Prometheus recorder (once per process; later calls do
/// nothing) and describes every metric.
pub fn install() {
    EXPORTER.get_or_init(|| {
        let installed = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
            .and_then(|builder| builder.install_recorder());
        match installed {
            Ok(handle) => {
                describe();
                let process = metrics_process::Collector::default();
                process.describe();
                Some(Exporter { handle, process })
            }
            Err(error) => {
                tracing::warn!(%error, "cannot install the metrics recorder; /metrics stays empty");
                None
            }
        }
    });
}

/// Everything recorded in this process, in Prometheus' text format, with
/// the process's own figures (resident memory, CPU time) read now.
pub fn render() -> String {
    match EXPORTER.get().and_then(Option::as_ref) {
        Some(exporter) => {
            exporter.process.collect();
            exporter.handle.run_upkeep();
            exporter.handle.render()
        }
        None => String::new(),
    }
}

fn describe() {
    describe_counter!(
        EXECUTIONS,
        "Executions that ran to an outcome, by language and status (internal_error included)."
    );
    describe_histogram!(
        EXECUTION_DURATION,
        Unit::Seconds,
        "Time from the gateway's dispatch to the worker node's answer, by language."
    );
    describe_histogram!(
        EXECUTION_QUEUED,
        Unit::Seconds,
        "Time a request waited for admission on the master (refused ones included)."
    );
    describe_histogram!(
        EXECUTION_SANDBOX,
        Unit::Seconds,
        "Time the worker node's sandbox spent on an execution, by language."
    );
    describe_counter!(
        EXECUTION_RETRIES,
        "Executions that ran again on another worker node after losing the first."
    );
    describe_counter!(
        REQUESTS_REJECTED,
        "Requests refused without an outcome, by reason (busy, no_worker, deadline, invalid, unauthorized)."
    );
    describe_gauge!(
        INFLIGHT,
        "Executions admitted by this master and not yet answered."
    );
    describe_gauge!(QUEUED, "Executions waiting for admission on this master.");
    describe_counter!(
        SANDBOX_STARTS,
        "Sandbox containers started, by mode (warm: for the pool; on_demand; fresh)."
    );
    describe_counter!(
        SANDBOX_START_FAILURES,
        "Sandbox containers that failed to start."
    );
    describe_counter!(
        SANDBOX_RECYCLED,
        "Warm sandboxes put back on their shelf after a proven reset."
    );
    describe_counter!(
        SANDBOX_RETIRED,
        "Warm sandboxes removed after serving (runs, age, a failed reset, no room)."
    );
    describe_gauge!(
        WARM_SANDBOXES,
        "Warm sandboxes on the shelves of this worker node."
    );
    describe_counter!(
        CLUSTER_JOINS,
        "Nodes that joined this node's cluster sessions."
    );
    describe_counter!(
        CLUSTER_LOSSES,
        "Worker nodes lost, by cause (disconnected: its session closed; heartbeat: it stopped answering)."
    );
    describe_counter!(
        CLUSTER_REFUSED,
        "Nodes refused at authentication (another cluster cookie)."
    );
    describe_gauge!(
        LIVE_RUNS,
        "Live runs (WebSocket or NDJSON) this master holds under its caps now."
    );
    describe_counter!(
        LIVE_RUNS_STARTED,
        "Live runs this master gave a place under its caps."
    );
    describe_counter!(
        LIVE_RUNS_REFUSED,
        "Live runs refused as busy, by the cap reached (per_master, per_key)."
    );
}

/// An execution that came back from a worker node with an outcome.
pub fn execution_finished(language: &str, status: &'static str, took: Duration, sandbox: Duration) {
    counter!(EXECUTIONS, "language" => language.to_string(), "status" => status).increment(1);
    histogram!(EXECUTION_DURATION, "language" => language.to_string()).record(took.as_secs_f64());
    histogram!(EXECUTION_SANDBOX, "language" => language.to_string()).record(sandbox.as_secs_f64());
}

pub fn rejected(reason: Rejection) {
    counter!(REQUESTS_REJECTED, "reason" => reason.label()).increment(1);
}

pub fn execution_retried() {
    counter!(EXECUTION_RETRIES).increment(1);
}

/// A live run given a place under the master's caps: counted, and held in
/// the gauge until [`live_run_left`].
pub fn live_run_entered() {
    counter!(LIVE_RUNS_STARTED).increment(1);
    gauge!(LIVE_RUNS).increment(1.0);
}

/// A live run that gave its place back.
pub fn live_run_left() {
    gauge!(LIVE_RUNS).decrement(1.0);
}

/// A live run refused at `cap` (`per_master` or `per_key`).
pub fn live_run_refused(cap: &'static str) {
    counter!(LIVE_RUNS_REFUSED, "cap" => cap).increment(1);
}

/// Counts one execution in a gauge while held.
pub struct InFlight;

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(INFLIGHT).decrement(1.0);
    }
}

/// Counts an execution as admitted (in flight) on the master until dropped.
pub fn in_flight() -> InFlight {
    gauge!(INFLIGHT).increment(1.0);
    InFlight
}

/// An execution waiting for admission on the master: counted in the queue
/// gauge until dropped, when its wait is recorded.
pub struct Queued(std::time::Instant);

impl Drop for Queued {
    fn drop(&mut self) {
        gauge!(QUEUED).decrement(1.0);
        histogram!(EXECUTION_QUEUED).record(self.0.elapsed().as_secs_f64());
    }
}

pub fn queued() -> Queued {
    gauge!(QUEUED).increment(1.0);
    Queued(std::time::Instant::now())
}

/// The cluster as the master sees it now, in a recorder of its own (so a
/// node that left is simply absent): the worker nodes in the router group
/// and each answering node's readiness, slots, busy slots and queue.
pub fn render_cluster(worker_nodes: usize, nodes: &[PingReply]) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        describe_gauge!(WORKER_NODES, "Worker nodes in the cluster's router group.");
        describe_gauge!(
            NODE_SLOTS,
            "Executions a worker node runs at once, by node."
        );
        describe_gauge!(
            NODE_BUSY_SLOTS,
            "A worker node's slots running an execution, by node."
        );
        describe_gauge!(
            NODE_QUEUED,
            "Executions waiting in a worker node's queue, by node."
        );
        describe_gauge!(
            NODE_READY,
            "1 when a worker node answered its ping ready to run code, by node."
        );
        gauge!(WORKER_NODES).set(worker_nodes as f64);
        for node in nodes {
            let name = node.node.clone();
            gauge!(NODE_READY, "node" => name.clone()).set(if node.ready { 1.0 } else { 0.0 });
            gauge!(NODE_SLOTS, "node" => name.clone()).set(node.workers as f64);
            gauge!(NODE_BUSY_SLOTS, "node" => name.clone()).set(node.busy as f64);
            gauge!(NODE_QUEUED, "node" => name).set(node.queued as f64);
        }
    });
    handle.render()
}

pub fn sandbox_started(mode: SandboxStart) {
    let mode = match mode {
        SandboxStart::Warm => "warm",
        SandboxStart::OnDemand => "on_demand",
        SandboxStart::Fresh => "fresh",
    };
    counter!(SANDBOX_STARTS, "mode" => mode).increment(1);
}

pub fn sandbox_start_failed() {
    counter!(SANDBOX_START_FAILURES).increment(1);
}

pub fn sandbox_recycled() {
    counter!(SANDBOX_RECYCLED).increment(1);
}

pub fn sandbox_retired() {
    counter!(SANDBOX_RETIRED).increment(1);
}

pub fn warm_sandboxes(count: usize) {
    gauge!(WARM_SANDBOXES).set(count as f64);
}

pub fn node_joined() {
    counter!(CLUSTER_JOINS).increment(1);
}

/// Why a worker node was lost: the `cause` label.
pub fn node_lost(by_heartbeat: bool) {
    let cause = if by_heartbeat {
        "heartbeat"
    } else {
        "disconnected"
    };
    counter!(CLUSTER_LOSSES, "cause" => cause).increment(1);
}

pub fn node_refused() {
    counter!(CLUSTER_REFUSED).increment(1);
}
