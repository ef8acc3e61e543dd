//! The sandbox: runs untrusted code in Docker containers (single-use, or
//! recycled after a proven reset) and says what came of it. It knows
//! nothing of actors, clusters or HTTP.
//!
//! Callers hold a [`Sandbox`]: give it a [`Submission`] (a language, the
//! files, stdin, arguments, limits) and get back an [`Outcome`]. Two
//! implementations run code, and a third waits for the engine:
//!
//! - [`DockerSandbox`] ([`fresh_run`]): each step in a fresh container on
//!   the execution's code volume.
//! - [`PooledSandbox`] ([`pooled`]): each execution in a runner container
//!   ([`runner_container`]) taken from the warm pool ([`warm_pool`]) or
//!   started on demand, run by [`warm_run`]; the fresh run where no runner
//!   container starts. Each key's shelf is sized from the node's demand
//!   ([`pool_sizing`]). The reuse policy ([`reuse`]) says whether a runner
//!   container is removed after its execution (`single_use`) or, once its
//!   runner proved its reset clean, serves the next execution of its key
//!   (`recycle`, up to a number of runs and an age).
//! - Either runs a live (interactive) execution in a runner container of
//!   its own ([`live_run`]).
//! - [`ConnectingSandbox`] ([`connecting`]): a [`DockerSandbox`] once the
//!   engine's socket appears.
//!
//! Both runs build their containers from one hardened configuration
//! ([`container_spec`]; pinned to the node's CPUs by [`cpuset`] when it
//! has some, `/usr` from a [`runtime_volume`] when one is ready: both are
//! the node's [`placement`]), talk to Docker through [`engine`], collect output
//! under a cap with [`output`], classify into an [`Outcome`] ([`outcome`]),
//! and remove everything they created on every path; what a crash leaves
//! behind, [`sweeper`] finds by label. The runner's wire format is
//! [`runner_protocol`]; the submission's rules are [`archive`], [`limits`]
//! and [`language`]. A judged submission's tests run through
//! [`Sandbox::execute_tests`] ([`judging`]).

mod archive;
mod connecting;
pub mod container_spec;
mod cpuset;
pub mod engine;
mod fresh_run;
mod judging;
mod language;
mod limits;
mod live_run;
mod outcome;
mod output;
mod placement;
mod pool_sizing;
mod pooled;
mod reuse;
mod runner_container;
mod runner_protocol;
pub mod runtime_volume;
pub mod sweeper;
mod warm_pool;
mod warm_run;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub use archive::{check_layout as check_file_layout, check_name as check_file_name};
pub use connecting::ConnectingSandbox;
pub use cpuset::CpuSet;
pub use fresh_run::{DockerSandbox, fresh_run_message};
pub use judging::{TestInput, TestsOutcome};
pub use language::Language;
pub use limits::{LimitError, Limits, RequestedLimits};
pub use live_run::{LiveEvent, LiveInput, LiveIo};
pub use outcome::{Outcome, Status, StepOutcome, TimeoutKind, signal_of};
pub use placement::Placement;
pub use pool_sizing::Sizing as PoolSizing;
pub use pooled::PooledSandbox;
pub use reuse::{ReuseMode, ReusePolicy};
pub use runtime_volume::RuntimeVolumes;
pub use warm_pool::PoolSettings;

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

    /// Runs a judged submission's tests: compiled once where the sandbox
    /// can, each test with the full limits, in order (see [`judging`]). By
    /// default each test is an execution of its own.
    fn execute_tests(
        &self,
        submission: Submission,
        tests: Vec<TestInput>,
        stop_on_failure: bool,
    ) -> BoxFuture<'_, TestsOutcome> {
        Box::pin(judging::one_by_one(
            self,
            submission,
            tests,
            stop_on_failure,
        ))
    }

    /// Whether this sandbox can run code right now (its engine answers).
    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Runs one submission live ([`live_run`]): its output goes out on
    /// `io.events` as it is produced, its input comes in on `io.input`.
    /// A sandbox without a Docker engine of its own cannot.
    fn live(&self, submission: Submission, io: LiveIo) -> BoxFuture<'_, Outcome> {
        drop(io);
        Box::pin(async move {
            Outcome::internal_error(
                &submission.execution_id,
                "this sandbox cannot run live executions",
            )
        })
    }
}
