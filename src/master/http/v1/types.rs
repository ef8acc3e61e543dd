//! The JSON API's request and response bodies, shared by its endpoints. The
//! OpenAPI document is derived from them, so it cannot drift from them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::master::http::error::ErrorDetail;
use crate::sandbox::{Limits, RequestedLimits, Status, TimeoutKind};

/// One execution to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// A name from `GET /api/v1/languages`.
    pub language: String,
    /// The program, as one file. Give either `code` or `files`.
    #[serde(default)]
    pub code: Option<String>,
    /// The program as files; the first is the entry point and is saved under
    /// the language's file name, the others under their own (relative) names.
    #[serde(default)]
    pub files: Option<Vec<FileInput>>,
    /// Written to the program's standard input, which is then closed.
    #[serde(default)]
    pub stdin: Option<String>,
    /// Arguments given to the program.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Limits instead of the language's, up to the server's maxima.
    #[serde(default)]
    pub limits: Option<RequestedLimits>,
    /// `POST /api/v1/execute` only: answer `application/x-ndjson`, the
    /// live run's messages one per line as the program produces them (see
    /// `GET /api/v1/connect`), instead of one result at the end.
    #[serde(default)]
    pub stream: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    pub name: String,
    pub content: String,
}

/// What came of one execution.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExecuteResponse {
    pub execution_id: String,
    /// The worker node that ran it.
    pub node: String,
    pub language: String,
    /// `ok`, `compile_error`, `runtime_error`, `timeout`, `memory_limit`,
    /// `output_limit`, `internal_error`.
    pub status: Status,
    pub exit_code: Option<i64>,
    /// The signal that ended the program, if one did (e.g. 9 for SIGKILL).
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub wall_time_ms: Option<u64>,
    /// For `status: "timeout"`, which limit the run reached: `cpu` (its
    /// CPU-time limit, `cpu_time_ms`) or `wall` (its wall-clock limit,
    /// `timeout_ms`: it slept or blocked); null otherwise.
    pub timeout_kind: Option<TimeoutKind>,
    /// CPU time the run's processes used together (the sandbox's cgroup
    /// over the run, read by its in-sandbox runner), warm or fresh; null
    /// only from an image without the runner.
    pub cpu_time_ms: Option<u64>,
    /// Peak memory of the run (its largest process, or the sandbox's rise
    /// during the run where that is more), warm or fresh, the run after a
    /// compile step included; null only from an image without the runner.
    pub memory_peak_bytes: Option<u64>,
    /// The compile step, for languages that have one.
    pub compile: Option<CompileResponse>,
    /// Whether the first worker node was lost and the execution ran again.
    pub retried: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompileResponse {
    pub status: Status,
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub wall_time_ms: u64,
    /// For a compile step that timed out, which limit it reached (`cpu`:
    /// `compile_cpu_time_ms`, `wall`: `compile_timeout_ms`).
    pub timeout_kind: Option<TimeoutKind>,
    /// CPU time of the compile step's processes together.
    pub cpu_time_ms: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// 1 to 20 executions, run in parallel.
    pub executions: Vec<ExecuteRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One per execution, in the order given.
    pub results: Vec<BatchItem>,
}

/// Either a result or the error that execution would have had alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItem {
    /// The HTTP status the execution would have had alone.
    pub http_status: u16,
    pub result: Option<ExecuteResponse>,
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageInfo {
    pub name: String,
    /// Read from the language's image by a worker node; null while no
    /// worker node can say.
    pub version: Option<String>,
    /// The file name the entry point is saved under.
    pub file: String,
    pub compiled: bool,
    pub limits: Limits,
}
