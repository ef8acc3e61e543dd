//! The messages between a master's load balancers and a worker node's
//! router. Only two calls cross nodes: `Execute` and `Ping`; their variant
//! names are part of the wire format (ractor_cluster routes by name).

use std::collections::BTreeMap;

use ractor::RpcReplyPort;
use ractor_cluster::RactorClusterMessage;
use serde::{Deserialize, Serialize};

use super::Wire;
use crate::sandbox::{Outcome, RequestedLimits, SourceFile};

/// The process group every worker node's router joins; load balancers find
/// routers through it (the original's receptionist `ServiceKey`).
pub const ROUTER_GROUP: &str = "braindrill.routers";

/// The messages a worker node's router answers.
#[derive(RactorClusterMessage)]
pub enum RouterMessage {
    /// Run one execution and answer with its outcome.
    #[rpc]
    Execute(Wire<ExecutionRequest>, RpcReplyPort<Wire<ExecutionReply>>),
    /// Heartbeat and readiness: can this node run code, and how busy is it.
    #[rpc]
    Ping(Wire<PingRequest>, RpcReplyPort<Wire<PingReply>>),
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
    pub workers: usize,
    pub busy: usize,
    pub queued: usize,
    /// Language name to version, when asked for.
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
}
