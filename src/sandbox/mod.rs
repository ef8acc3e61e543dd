//! The sandbox: runs untrusted code in single-use Docker containers and says
//! what came of it. It knows nothing of actors, clusters or HTTP.
//!
//! Callers hold a [`Sandbox`]: give it a [`Submission`] (a language, the
//! files, stdin, arguments, limits) and get back an [`Outcome`]. The only
//! implementation today, [`DockerSandbox`], creates a fresh hardened
//! container per step ([`container_spec`]), streams its output under a cap,
//! enforces the time limit with its own timer, and removes everything it
//! created on every path ([`execution`]). [`PooledSandbox`] serves from warm,
//! single-use containers where it can and falls back to the cold path.

mod archive;
mod connecting;
pub mod container_spec;
pub mod engine;
mod execution;
mod language;
mod limits;
mod outcome;
mod pool;
mod runner_protocol;
pub mod sweeper;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use archive::{check_layout as check_file_layout, check_name as check_file_name};
pub use connecting::ConnectingSandbox;
pub use execution::DockerSandbox;
pub use language::Language;
pub use limits::{LimitError, Limits, RequestedLimits};
pub use outcome::{Outcome, Status, StepOutcome, signal_of};
pub use pool::{PoolSettings, PooledSandbox};

/// One file of a submission, by its path relative to the code's folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFile {
    pub name: String,
    pub content: String,
}

/// Everything the sandbox needs to run one execution.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Unique id; names and labels the containers and the volume.
    pub execution_id: String,
    pub language: Language,
    /// The files; the language's run command names the entry point.
    pub files: Vec<SourceFile>,
    /// Bytes written to the program's standard input, then closed.
    pub stdin: String,
    /// Arguments appended to the run command.
    pub args: Vec<String>,
    pub limits: Limits,
}

/// Runs submissions. Implementations must never panic on any input and must
/// leave nothing behind, whatever the program does.
pub trait Sandbox: Send + Sync + 'static {
    /// Runs one submission to its outcome.
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome>;

    /// Whether this sandbox can run code right now (its engine answers).
    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>>;
}
