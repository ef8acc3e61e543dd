//! What one execution came to: a status a client can switch on, the output
//! streams kept apart, and how the process ended.

use serde::{Deserialize, Serialize};

/// How an execution ended. Classified from facts (the engine's OOM flag, the
/// sandbox's own timer and output counter), never guessed from exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Exited with code 0.
    Ok,
    /// The compile step failed; the program never ran.
    CompileError,
    /// Exited with a non-zero code or was killed by a signal of its own doing.
    RuntimeError,
    /// Killed by the sandbox because it ran past its time limit.
    Timeout,
    /// Killed by the kernel because it ran out of memory.
    MemoryLimit,
    /// Killed by the sandbox because it printed more than its output limit.
    OutputLimit,
    /// The engine failed; not the program's fault.
    InternalError,
}

/// Which time limit ended a step that timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutKind {
    /// The CPU time its processes used together reached the CPU-time limit
    /// (`cpu_time_ms`, `compile_cpu_time_ms`).
    Cpu,
    /// The wall clock reached the wall-clock limit (`timeout_ms`,
    /// `compile_timeout_ms`): the program slept or blocked, or the engine's
    /// own timer had to stop it.
    Wall,
}

/// The result of one step (compile or run) in one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub status: Status,
    pub exit_code: Option<i64>,
    /// Signal that ended the process, when its exit code says it was one.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub wall_time_ms: u64,
    /// For a timeout, which limit was reached.
    #[serde(default)]
    pub timeout_kind: Option<TimeoutKind>,
    /// CPU time the step used, where it was measured (the in-sandbox
    /// runner reads the container's cgroup over the step, warm or fresh;
    /// unknown only from an image without the runner).
    #[serde(default)]
    pub cpu_time_ms: Option<u64>,
    /// Peak memory of the step (its largest process, or the rise of the
    /// sandbox's peak during the step where that is more), where it was
    /// measured.
    #[serde(default)]
    pub memory_peak_bytes: Option<u64>,
}

impl StepOutcome {
    /// A step that left nothing to report: no exit, no output, no figures
    /// (the engine ended it, or it never ran); fields are set on top.
    pub fn empty(status: Status) -> StepOutcome {
        StepOutcome {
            status,
            exit_code: None,
            signal: None,
            stdout: String::new(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            wall_time_ms: 0,
            timeout_kind: None,
            cpu_time_ms: None,
            memory_peak_bytes: None,
        }
    }
}

/// The result of one execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub execution_id: String,
    pub status: Status,
    /// The compile step, for languages that have one.
    pub compile: Option<StepOutcome>,
    /// The run step; absent when compiling failed or the engine failed first.
    pub run: Option<StepOutcome>,
    /// What went wrong inside the engine, for `internal_error`.
    pub error: Option<String>,
}

impl Outcome {
    pub fn internal_error(execution_id: &str, error: impl Into<String>) -> Outcome {
        Outcome {
            execution_id: execution_id.to_string(),
            status: Status::InternalError,
            compile: None,
            run: None,
            error: Some(error.into()),
        }
    }
}

/// The signal that ended a program, read from its exit code: docker-init
/// and the shell report a child killed by signal N as 128 + N.
pub fn signal_of(exit_code: i64) -> Option<i32> {
    (129..=128 + 64)
        .contains(&exit_code)
        .then(|| (exit_code - 128) as i32)
}
