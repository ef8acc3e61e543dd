//! One execution as the gateway sees it, observed: its dispatch runs in a
//! tracing span named by its execution id (so every log line about it says
//! which), and what came of it is counted (executions by language and
//! status, their durations, refusals by reason, retries). The endpoints
//! dispatch through [`dispatch`], never [`AppState::dispatch`] directly.

use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use super::state::AppState;
use crate::master::load_balancer::{DispatchError, DispatchResult};
use crate::metrics::{self, Rejection};
use crate::protocol::{ExecutionFailure, ExecutionRequest};
use crate::sandbox::Status;

/// Runs `request` in the cluster like [`AppState::dispatch`], in the
/// execution's span, and counts the result.
pub async fn dispatch(
    state: &AppState,
    request: ExecutionRequest,
    deadline_after: Duration,
) -> DispatchResult {
    // The gateway checked the language against the configuration: the
    // label's values are bounded.
    let language = request.language.clone();
    let span = tracing::info_span!("execution", execution_id = %request.execution_id);
    async {
        let started = Instant::now();
        let result = state.dispatch(request, deadline_after).await;
        record(&language, &result, started.elapsed());
        result
    }
    .instrument(span)
    .await
}

/// Counts what came of an execution and says it in the log (in its span).
fn record(language: &str, result: &DispatchResult, took: Duration) {
    match result {
        Ok(dispatched) => {
            let executed = &dispatched.executed;
            let status = status_label(executed.outcome.status);
            let sandbox = Duration::from_micros(executed.sandbox_us);
            metrics::execution_finished(language, status, took, sandbox);
            if dispatched.retried {
                metrics::execution_retried();
            }
            tracing::info!(
                language,
                status,
                node = %executed.node,
                took_ms = took.as_millis(),
                retried = dispatched.retried,
                "execution answered"
            );
        }
        Err(error) => {
            match what_failed(error) {
                Failed::Refused(reason) => metrics::rejected(reason),
                Failed::Invalid | Failed::Abandoned => {}
                Failed::Engine => {
                    metrics::execution_finished(language, "internal_error", took, Duration::ZERO)
                }
            }
            tracing::info!(language, %error, took_ms = took.as_millis(), "execution not run");
        }
    }
}

/// What a failed dispatch counts as.
enum Failed {
    /// Refused without running, for this reason.
    Refused(Rejection),
    /// The worker node found the submission invalid: answered 400, which
    /// the HTTP layer's counter of invalid requests counts.
    Invalid,
    /// Nobody waits for the answer any more.
    Abandoned,
    /// The engine failed: an execution that ended in `internal_error`.
    Engine,
}

fn what_failed(error: &DispatchError) -> Failed {
    match error {
        DispatchError::NoWorker
        | DispatchError::Unavailable(_)
        | DispatchError::Failed(ExecutionFailure::EngineUnavailable(_)) => {
            Failed::Refused(Rejection::NoWorker)
        }
        DispatchError::Overloaded { .. } | DispatchError::Failed(ExecutionFailure::Busy { .. }) => {
            Failed::Refused(Rejection::Busy)
        }
        DispatchError::Expired | DispatchError::DeadlineExceeded => {
            Failed::Refused(Rejection::Deadline)
        }
        // The client went away: no answer is sent, so nothing is counted.
        DispatchError::Abandoned => Failed::Abandoned,
        DispatchError::Failed(
            ExecutionFailure::InvalidSubmission(_) | ExecutionFailure::UnsupportedLanguage { .. },
        ) => Failed::Invalid,
        _ => Failed::Engine,
    }
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::CompileError => "compile_error",
        Status::RuntimeError => "runtime_error",
        Status::Timeout => "timeout",
        Status::MemoryLimit => "memory_limit",
        Status::OutputLimit => "output_limit",
        Status::InternalError => "internal_error",
    }
}
