//! The messages between a master's load balancers and a worker node's
//! router. Two calls cross nodes, `Execute` and `Ping`, and one cast,
//! `Cancel`, and the live run's own (`LiveStart`, `LivePull`, `LiveSend`:
//! see [`super::live`]); their variant names are part of the wire format
//! (ractor_cluster routes by name).
//!
//! Deadlines travel as budgets (milliseconds left when the master sent the
//! message), not as instants: the nodes' clocks need not agree, and the
//! hop's own time (well under a millisecond on a LAN) is what a budget
//! loses. Everything added since the first version is additive: a new
//! field has a serde default, and a node of the first version drops a
//! `Cancel` it cannot name (ractor_cluster refuses an unknown variant) and
//! is never sent a budget, so it is never answered `Expired` or
//! `Cancelled`.

use std::collections::BTreeMap;

use ractor::RpcReplyPort;
use ractor_cluster::RactorClusterMessage;
use serde::{Deserialize, Serialize};

use super::Wire;
use super::live::{
    LivePullReply, LivePullRequest, LiveSendRequest, LiveStartReply, LiveStartRequest,
};
use crate::sandbox::{Outcome, RequestedLimits, SourceFile, StepOutcome, TestInput};

/// The process group every worker node's router joins; load balancers find
/// routers through it (the original's receptionist `ServiceKey`).
pub const ROUTER_GROUP: &str = "braindrill.routers";

/// The messages a worker node's router answers.
// One message per execution: its size does not matter, and ractor_cluster's
// derive needs each argument to be the wire type itself (not a box).
#[allow(clippy::large_enum_variant)]
#[derive(RactorClusterMessage)]
pub enum RouterMessage {
    /// Run one execution and answer with its outcome.
    #[rpc]
    Execute(Wire<ExecutionRequest>, RpcReplyPort<Wire<ExecutionReply>>),
    /// Heartbeat and readiness: can this node run code, and how busy is it.
    #[rpc]
    Ping(Wire<PingRequest>, RpcReplyPort<Wire<PingReply>>),
    /// Stop an execution: its request was answered or abandoned (the
    /// client went away, its deadline passed, or it ran again on another
    /// node). A queued one is dropped; a running one has its sandbox
    /// killed and its slot freed.
    Cancel(Wire<CancelRequest>),
    /// Start a live execution (see [`super::live`]).
    #[rpc]
    LiveStart(Wire<LiveStartRequest>, RpcReplyPort<Wire<LiveStartReply>>),
    /// The next events of a live execution.
    #[rpc]
    LivePull(Wire<LivePullRequest>, RpcReplyPort<Wire<LivePullReply>>),
    /// Input or a signal for a live execution.
    LiveSend(Wire<LiveSendRequest>),
}

/// Which execution to stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    pub execution_id: String,
}

/// `StartExecution` of the original: what to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRequest {
    pub execution_id: String,
    pub language: String,
    /// The files; the first is the entry point.
    pub files: Vec<SourceFile>,
    pub stdin: String,
    pub args: Vec<String>,
    /// Limits the client asked for instead of the language's own.
    #[serde(default)]
    pub limits: RequestedLimits,
    /// Milliseconds, from its arrival, within which the node must start
    /// it; past them it is answered `Expired` without running. `None`: no
    /// bound.
    #[serde(default)]
    pub start_within_ms: Option<u64>,
    /// Milliseconds, from its arrival, within which its answer is due;
    /// past them the node cancels it (nobody waits for it any more).
    #[serde(default)]
    pub answer_within_ms: Option<u64>,
    /// A judged submission's test cases (version 3): the program is
    /// compiled once and run once per test in one sandbox; `stdin` and
    /// `args` above are then unused.
    #[serde(default)]
    pub judging: Option<TestPlan>,
}

/// The test cases of a judged submission, as a worker node runs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestPlan {
    pub tests: Vec<TestInput>,
    /// Stop after the first test whose run did not succeed.
    pub stop_on_failure: bool,
}

/// The answer to [`ExecutionRequest`].
pub type ExecutionReply = Result<Executed, ExecutionFailure>;

/// An execution that ran (whatever its status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Executed {
    pub outcome: Outcome,
    /// The worker node that ran it.
    pub node: String,
    /// Microseconds the node's sandbox spent on it (its `execute`, measured
    /// by the executor), so the cluster's own cost is what remains of the
    /// end-to-end time.
    #[serde(default)]
    pub sandbox_us: u64,
    /// For a judged submission, the run of each test, in order, up to the
    /// last that ran (the compile step is in `outcome`).
    #[serde(default)]
    pub tests: Option<Vec<StepOutcome>>,
}

/// Why a worker node did not run an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ExecutionFailure {
    #[error("unsupported language: {language}")]
    UnsupportedLanguage {
        language: String,
        supported: Vec<String>,
    },
    #[error("invalid submission: {0}")]
    InvalidSubmission(String),
    #[error("worker node {node} is busy: all its workers and its queue are full")]
    Busy { node: String },
    #[error("{0}")]
    EngineUnavailable(String),
    #[error("the worker running the execution crashed: {0}")]
    WorkerCrashed(String),
    #[error("the worker node refused the message: {0}")]
    Rejected(String),
    #[error("worker node {node} could not start the execution before its deadline")]
    Expired { node: String },
    #[error("worker node {node} cancelled the execution: {reason}")]
    Cancelled { node: String, reason: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingRequest {
    /// Also report the languages' versions (read from the images once).
    #[serde(default)]
    pub with_versions: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingReply {
    pub node: String,
    /// Whether the node can run code (its Docker engine answers).
    pub ready: bool,
    /// Why it cannot, when it cannot.
    pub problem: Option<String>,
    /// The node's slots: executions it runs at once.
    pub workers: usize,
    pub busy: usize,
    pub queued: usize,
    /// The node's online CPUs and memory budget (MiB), which decided its
    /// slots.
    #[serde(default)]
    pub cpus: usize,
    #[serde(default)]
    pub memory_budget_mb: u64,
    /// Language name to version, when asked for.
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
}
