//! The JSON API, version 1: structured results, stdin, arguments, several
//! files, per-request limits, batches and the language listing, next to the
//! original's plain-text endpoint. The OpenAPI document is derived from the
//! types and handlers below, so it cannot drift from them.
//!
//! Execution outcomes (whatever the program did) are 200 with their status;
//! request errors are 4xx and engine faults 5xx, always as
//! `{"error": {"code": ..., "message": ...}}`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::future::join_all;
use ractor::rpc::CallResult;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::gateway::{BodyError, Gateway, read_body};
use super::load_balancer::{RouteError, Routed};
use crate::protocol::{ExecutionFailure, ExecutionRequest, PingRequest, RouterMessage, Wire};
use crate::sandbox::{Limits, RequestedLimits, SourceFile, Status, StepOutcome};
use crate::submission::SubmissionError;

/// Executions in one batch, at most.
pub const MAX_BATCH: usize = 20;
/// How long reading the languages' versions from the images may take.
const VERSIONS_TIMEOUT: Duration = Duration::from_secs(60);

/// The JSON answer for an unknown path under `/api/`.
pub fn not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "not found: the API has POST /api/v1/execute, POST /api/v1/batch, GET /api/v1/languages and GET /api/v1/openapi.json",
    )
    .into_response()
}

/// The JSON answer for a known path with the wrong method.
pub fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not allowed on this path (see /api/v1/openapi.json)",
    )
    .into_response()
}

pub fn routes() -> Router<Arc<Gateway>> {
    Router::new()
        .route("/api/v1/execute", post(execute))
        .route("/api/v1/batch", post(batch))
        .route("/api/v1/languages", get(languages))
        .route("/api/v1/openapi.json", get(openapi_json))
}

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "braindrill",
        description = "A distributed remote code execution engine."
    ),
    paths(execute, batch, languages, openapi_json)
)]
pub struct ApiDoc;

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
    /// CPU time of the sandbox; measured by warm sandboxes (their runner
    /// reads the container's cgroup), null from a fresh container.
    pub cpu_time_ms: Option<u64>,
    /// Peak memory of the run (its largest process, or the sandbox's rise
    /// during the run where that is more); measured by warm sandboxes for
    /// every run, the run after a compile step included; null from a fresh
    /// container.
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `invalid_json`, `invalid_request`, `unsupported_language`,
    /// `not_found`, `method_not_allowed`, `unauthorized`, `request_timeout`,
    /// `payload_too_large`, `busy`, `no_worker`, `deadline_exceeded`,
    /// `internal_error`, `bad_gateway`.
    pub code: String,
    pub message: String,
}

/// An error answer: its status and body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: ErrorDetail,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
        }
    }

    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
}

impl ApiError {
    /// The same answer as plain text, for the original's endpoint.
    pub(super) fn into_plain(self) -> Response {
        let status = self.status;
        let response = (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.detail.message,
        )
            .into_response();
        with_retry_after(status, response)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let response = (self.status, Json(ErrorBody { error: self.detail })).into_response();
        with_retry_after(self.status, response)
    }
}

/// A 429 tells the client when to come back.
fn with_retry_after(status: StatusCode, mut response: Response) -> Response {
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    response
}

/// Run one execution.
#[utoipa::path(
    post,
    path = "/api/v1/execute",
    request_body = ExecuteRequest,
    responses(
        (status = 200, description = "The execution ran; `status` says how it ended", body = ExecuteResponse),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 413, description = "Body or code too large", body = ErrorBody),
        (status = 429, description = "Every worker node is busy", body = ErrorBody),
        (status = 500, description = "Engine fault", body = ErrorBody),
        (status = 503, description = "No worker node available", body = ErrorBody),
        (status = 504, description = "No answer before the deadline", body = ErrorBody),
    )
)]
async fn execute(State(gateway): State<Arc<Gateway>>, body: Body) -> Response {
    let request: ExecuteRequest = match read_json(&gateway, body).await {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let (request, deadline) = match check(&gateway, request, "") {
        Ok(checked) => checked,
        Err(error) => return error.into_response(),
    };
    match run(&gateway, request, deadline).await {
        Ok(result) => Json(result).into_response(),
        Err(error) => error.into_response(),
    }
}

/// Run up to 20 executions in parallel across the cluster.
#[utoipa::path(
    post,
    path = "/api/v1/batch",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "Every execution's result or error, in order", body = BatchResponse),
        (status = 400, description = "Invalid request (names the execution and field)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
    )
)]
async fn batch(State(gateway): State<Arc<Gateway>>, body: Body) -> Response {
    let request: BatchRequest = match read_json(&gateway, body).await {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let count = request.executions.len();
    if count == 0 || count > MAX_BATCH {
        return ApiError::invalid(format!(
            "executions must hold 1 to {MAX_BATCH} executions, it holds {count}"
        ))
        .into_response();
    }
    let mut checked = Vec::with_capacity(count);
    for (index, execution) in request.executions.into_iter().enumerate() {
        match check(&gateway, execution, &format!("executions[{index}].")) {
            Ok(valid) => checked.push(valid),
            Err(error) => return error.into_response(),
        }
    }
    let runs = checked
        .into_iter()
        .map(|(request, deadline)| run(&gateway, request, deadline));
    let results = join_all(runs)
        .await
        .into_iter()
        .map(|result| match result {
            Ok(result) => BatchItem {
                http_status: 200,
                result: Some(result),
                error: None,
            },
            Err(error) => BatchItem {
                http_status: error.status.as_u16(),
                result: None,
                error: Some(error.detail),
            },
        })
        .collect();
    Json(BatchResponse { results }).into_response()
}

/// The languages this cluster runs, with their versions and default limits.
#[utoipa::path(
    get,
    path = "/api/v1/languages",
    responses((status = 200, description = "One entry per language", body = Vec<LanguageInfo>))
)]
async fn languages(State(gateway): State<Arc<Gateway>>) -> Response {
    let mut versions = std::collections::BTreeMap::new();
    for router in gateway.table.routers() {
        let ping = router
            .call(
                |port| {
                    RouterMessage::Ping(
                        Wire::new(PingRequest {
                            with_versions: true,
                        }),
                        port,
                    )
                },
                Some(VERSIONS_TIMEOUT),
            )
            .await;
        if let Ok(CallResult::Success(Wire(Ok(reply)))) = ping
            && reply.ready
        {
            versions = reply.versions;
            break;
        }
    }
    let list: Vec<LanguageInfo> = gateway
        .languages
        .values()
        .map(|language| LanguageInfo {
            name: language.name.clone(),
            version: versions.get(&language.name).cloned(),
            file: language.file.clone(),
            compiled: language.compile.is_some(),
            limits: language.limits.clone(),
        })
        .collect();
    Json(list).into_response()
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    responses((status = 200, description = "The OpenAPI document of this API"))
)]
async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

async fn read_json<T: serde::de::DeserializeOwned>(
    gateway: &Gateway,
    body: Body,
) -> Result<T, ApiError> {
    let limit = gateway.max_json_body_bytes;
    let timeout = gateway.body_read_timeout;
    let bytes = match read_body(body, limit, timeout).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than the limit of {limit} bytes"),
            ));
        }
        Err(BodyError::TooSlow) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("the body did not arrive within {} ms", timeout.as_millis()),
            ));
        }
        Err(BodyError::Broken(error)) => {
            return Err(ApiError::invalid(format!("cannot read the body: {error}")));
        }
    };
    let mut decoder = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut decoder).map_err(|error| {
        let path = error.path().to_string();
        let message = if path == "." {
            error.inner().to_string()
        } else {
            format!("{path}: {}", error.inner())
        };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    })
}

/// Checks every field and turns the request into the cluster's message and
/// its deadline. `prefix` names the execution inside a batch.
fn check(
    gateway: &Gateway,
    request: ExecuteRequest,
    prefix: &str,
) -> Result<(ExecutionRequest, Duration), ApiError> {
    let refusal = |error: SubmissionError| match error {
        SubmissionError::UnsupportedLanguage { .. } => ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_language",
            format!("{prefix}language: {error}"),
        ),
        SubmissionError::Invalid(_) => ApiError::invalid(format!("{prefix}{error}")),
        SubmissionError::TooLarge(_) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("{prefix}{error}"),
        ),
    };
    let language = gateway.rules.language(&request.language).map_err(refusal)?;
    // The API's own rule: the program comes as `code` or as `files`.
    let files = match (request.code, request.files) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(format!(
                "{prefix}code and {prefix}files: give one of them, not both"
            )));
        }
        (None, None) => {
            return Err(ApiError::invalid(format!(
                "{prefix}code or {prefix}files is required"
            )));
        }
        (Some(code), None) => {
            if code.is_empty() {
                return Err(ApiError::invalid(format!("{prefix}code must not be empty")));
            }
            vec![SourceFile {
                name: language.file.clone(),
                content: code,
            }]
        }
        (None, Some(files)) => files
            .into_iter()
            .map(|file| SourceFile {
                name: file.name,
                content: file.content,
            })
            .collect(),
    };
    let request = ExecutionRequest {
        execution_id: uuid::Uuid::new_v4().to_string(),
        language: request.language,
        files,
        stdin: request.stdin.unwrap_or_default(),
        args: request.args.unwrap_or_default(),
        limits: request.limits.unwrap_or_default(),
    };
    let checked = gateway.rules.check(&request).map_err(refusal)?;
    let deadline = gateway.deadline_for(checked.language, &checked.limits);
    Ok((request, deadline))
}

async fn run(
    gateway: &Gateway,
    request: ExecutionRequest,
    deadline: Duration,
) -> Result<ExecuteResponse, ApiError> {
    let language = request.language.clone();
    let routed = gateway
        .route(request, deadline)
        .await
        .map_err(|error| route_error(error, deadline))?;
    let Routed { executed, retried } = routed;
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
    let run = outcome.run.unwrap_or_else(|| StepOutcome {
        status: outcome.status,
        exit_code: None,
        signal: None,
        stdout: String::new(),
        stderr: String::new(),
        stdout_truncated: false,
        stderr_truncated: false,
        wall_time_ms: 0,
        cpu_time_ms: None,
        memory_peak_bytes: None,
    });
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
        cpu_time_ms: run.cpu_time_ms.filter(|_| ran),
        memory_peak_bytes: run.memory_peak_bytes.filter(|_| ran),
        compile: outcome.compile.map(|compile| CompileResponse {
            status: compile.status,
            exit_code: compile.exit_code,
            stdout: compile.stdout,
            stderr: compile.stderr,
            wall_time_ms: compile.wall_time_ms,
        }),
        retried,
    })
}

/// How a routing failure is answered; the plain endpoint uses it too.
pub(super) fn route_error(error: RouteError, deadline: Duration) -> ApiError {
    match error {
        RouteError::NoWorker => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_worker",
            "no worker node available",
        ),
        error @ RouteError::Unavailable(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_worker",
            error.to_string(),
        ),
        RouteError::Failed(failure @ ExecutionFailure::EngineUnavailable(_)) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_worker",
            failure.to_string(),
        ),
        RouteError::Overloaded => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "the engine is at capacity: retry later",
        ),
        RouteError::DeadlineExceeded => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "deadline_exceeded",
            format!(
                "no answer from a worker node within the deadline of {} ms",
                deadline.as_millis()
            ),
        ),
        RouteError::Failed(ExecutionFailure::UnsupportedLanguage {
            language,
            supported,
        }) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_language",
            format!(
                "unsupported language: {language} (supported: {})",
                supported.join(", ")
            ),
        ),
        RouteError::Failed(failure @ ExecutionFailure::InvalidSubmission(_)) => {
            ApiError::invalid(failure.to_string())
        }
        RouteError::Failed(ExecutionFailure::Busy { .. }) => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "every worker node is busy: retry later",
        ),
        RouteError::Failed(failure @ ExecutionFailure::WorkerCrashed(_)) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            failure.to_string(),
        ),
        RouteError::Failed(failure @ ExecutionFailure::Rejected(_)) => {
            ApiError::new(StatusCode::BAD_GATEWAY, "bad_gateway", failure.to_string())
        }
        error @ RouteError::Protocol { .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, "bad_gateway", error.to_string())
        }
    }
}
