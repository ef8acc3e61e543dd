//! Runs one checked execution of the JSON API and shapes what came of it:
//! an outcome of the program is a result (200), an engine fault or a failed
//! dispatch an error. The single and the batch endpoints both run through it.

use std::time::Duration;

use axum::http::StatusCode;

use super::types::{CompileResponse, ExecuteResponse};
use crate::master::http::error::ApiError;
use crate::master::http::observe;
use crate::master::http::state::AppState;
use crate::master::load_balancer::Dispatched;
use crate::protocol::{Executed, ExecutionRequest};
use crate::sandbox::{Status, StepOutcome};

pub async fn run(
    state: &AppState,
    request: ExecutionRequest,
    deadline: Duration,
) -> Result<ExecuteResponse, ApiError> {
    let language = request.language.clone();
    let Dispatched { executed, retried } = observe::dispatch(state, request, deadline)
        .await
        .map_err(|error| ApiError::from_dispatch(error, deadline))?;
    shape(executed, language, retried)
}

/// The result of an execution that ran (a live one's too), or the error
/// answer of an engine fault.
pub fn shape(
    executed: Executed,
    language: String,
    retried: bool,
) -> Result<ExecuteResponse, ApiError> {
    let outcome = executed.outcome;
    if outcome.status == Status::InternalError {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!(
                "execution {} failed in the engine on {}: {}",
                outcome.execution_id,
                executed.node,
                outcome.error.as_deref().unwrap_or("unknown error")
            ),
        ));
    }
    let run = outcome
        .run
        .unwrap_or_else(|| StepOutcome::empty(outcome.status));
    let ran = outcome.status != Status::CompileError;
    Ok(ExecuteResponse {
        execution_id: outcome.execution_id,
        node: executed.node,
        language,
        status: outcome.status,
        exit_code: run.exit_code,
        signal: run.signal,
        stdout: run.stdout,
        stderr: run.stderr,
        stdout_truncated: run.stdout_truncated,
        stderr_truncated: run.stderr_truncated,
        wall_time_ms: ran.then_some(run.wall_time_ms),
        timeout_kind: run.timeout_kind.filter(|_| ran),
        cpu_time_ms: run.cpu_time_ms.filter(|_| ran),
        memory_peak_bytes: run.memory_peak_bytes.filter(|_| ran),
        compile: outcome.compile.map(|compile| CompileResponse {
            status: compile.status,
            exit_code: compile.exit_code,
            stdout: compile.stdout,
            stderr: compile.stderr,
            wall_time_ms: compile.wall_time_ms,
            timeout_kind: compile.timeout_kind,
            cpu_time_ms: compile.cpu_time_ms,
        }),
        retried,
    })
}
