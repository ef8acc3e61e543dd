//! The original's endpoint, `POST /lang/{language}`: the code is the body,
//! the answer is plain text (stdout if not empty, else stderr), and a limit
//! that was hit gets the original's message. What else is known (status,
//! node, exit code, whether it ran again elsewhere) travels in
//! `x-braindrill-*` headers, so the body stays the original's contract.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::body::{BodyError, read_body};
use super::error::ApiError;
use super::observe;
use super::state::AppState;
use crate::master::load_balancer::DispatchResult;
use crate::protocol::ExecutionRequest;
use crate::sandbox::{SourceFile, Status, StepOutcome};

const TIMEOUT_MESSAGE: &str = "The process was aborted because it exceeded the timeout";
const MEMORY_MESSAGE: &str = "The process was aborted because it exceeded the memory usage";
const OUTPUT_MESSAGE: &str =
    "the code is generating too large output, try reducing logs or printing";

pub async fn execute_plain(
    State(state): State<Arc<AppState>>,
    Path(language_name): Path<String>,
    body: Body,
) -> Response {
    let Some(language) = state.languages.get(&language_name) else {
        let supported: Vec<&str> = state.languages.keys().map(String::as_str).collect();
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "unsupported language: {language_name} (supported: {})",
                supported.join(", ")
            ),
        );
    };
    let code = match read_code(body, state.max_body_bytes, state.body_read_timeout).await {
        Ok(code) => code,
        Err(response) => return response,
    };
    let deadline_after = state.deadline_for(language, &language.limits);
    let request = ExecutionRequest {
        execution_id: uuid::Uuid::new_v4().to_string(),
        language: language_name,
        files: vec![SourceFile {
            name: language.file.clone(),
            content: code,
        }],
        stdin: String::new(),
        args: Vec::new(),
        limits: Default::default(),
        start_within_ms: None,
        answer_within_ms: None,
        judging: None,
    };
    let execution_id = request.execution_id.clone();
    let dispatched = observe::dispatch(&state, request, deadline_after).await;
    let mut response = plain_answer(dispatched, deadline_after);
    set_header(&mut response, "x-braindrill-execution-id", &execution_id);
    response
}

async fn read_code(body: Body, limit: usize, timeout: Duration) -> Result<String, Response> {
    let bytes = match read_body(body, limit, timeout).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return Err(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the code is larger than the limit of {limit} bytes"),
            ));
        }
        Err(BodyError::TooSlow) => {
            return Err(text(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} ms",
                    timeout.as_millis()
                ),
            ));
        }
        Err(BodyError::Broken(error)) => {
            return Err(text(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {error}"),
            ));
        }
    };
    if bytes.is_empty() {
        return Err(text(
            StatusCode::BAD_REQUEST,
            "the request body is empty: send the code to run as the body",
        ));
    }
    String::from_utf8(bytes.to_vec()).map_err(|error| {
        text(
            StatusCode::BAD_REQUEST,
            format!(
                "the request body is not valid UTF-8 (invalid byte at offset {})",
                error.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The original's contract: stdout if not empty, else stderr; the original's
/// message for a limit that was hit.
fn plain_answer(dispatched: DispatchResult, deadline: Duration) -> Response {
    let dispatched = match dispatched {
        Ok(dispatched) => dispatched,
        Err(error) => return ApiError::from_dispatch(error, deadline).into_plain(),
    };
    let outcome = &dispatched.executed.outcome;
    let step = outcome.run.as_ref().or(outcome.compile.as_ref());
    let output = |step: Option<&StepOutcome>| {
        step.map(|step| {
            if step.stdout.is_empty() {
                step.stderr.clone()
            } else {
                step.stdout.clone()
            }
        })
        .unwrap_or_default()
    };
    let (status, body) = match outcome.status {
        Status::Ok | Status::RuntimeError | Status::CompileError => (StatusCode::OK, output(step)),
        Status::Timeout => (StatusCode::OK, TIMEOUT_MESSAGE.to_string()),
        Status::MemoryLimit => (StatusCode::OK, MEMORY_MESSAGE.to_string()),
        Status::OutputLimit => (StatusCode::OK, OUTPUT_MESSAGE.to_string()),
        Status::InternalError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "internal error: {}",
                outcome.error.as_deref().unwrap_or("the engine failed")
            ),
        ),
    };
    let mut response = text(status, body);
    let status_name = serde_json::to_value(outcome.status)
        .ok()
        .and_then(|value| value.as_str().map(str::to_string))
        .unwrap_or_default();
    set_header(&mut response, "x-braindrill-status", &status_name);
    set_header(
        &mut response,
        "x-braindrill-node",
        &dispatched.executed.node,
    );
    set_header(
        &mut response,
        "x-braindrill-sandbox-us",
        &dispatched.executed.sandbox_us.to_string(),
    );
    if let Some(code) = step.and_then(|step| step.exit_code) {
        set_header(&mut response, "x-braindrill-exit-code", &code.to_string());
    }
    if dispatched.retried {
        set_header(&mut response, "x-braindrill-retried", "true");
    }
    let timeout_kind = step
        .and_then(|step| step.timeout_kind)
        .and_then(|kind| serde_json::to_value(kind).ok())
        .and_then(|value| value.as_str().map(str::to_string));
    if let Some(kind) = timeout_kind {
        set_header(&mut response, "x-braindrill-timeout-kind", &kind);
    }
    if let Some(cpu_time_ms) = step.and_then(|step| step.cpu_time_ms) {
        set_header(
            &mut response,
            "x-braindrill-cpu-time-ms",
            &cpu_time_ms.to_string(),
        );
    }
    response
}

/// A plain-text answer (axum labels a `String` body `text/plain;
/// charset=utf-8`).
fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (status, body.into()).into_response()
}

fn set_header(response: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        response.headers_mut().insert(name, value);
    }
}
