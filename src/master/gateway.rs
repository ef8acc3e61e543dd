//! The HTTP gateway: the original's `POST /lang/{language}` (code in, plain
//! text out), plus `GET /health` and `GET /ready`. It checks the request,
//! hands it to a load balancer (round robin over the pool) and turns the
//! answer into a status code and text. Every answer is definite: a limit
//! that was hit gets the original's message, an engine fault a specific one.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::future::join_all;
use ractor::ActorRef;
use ractor::rpc::CallResult;
use serde_json::json;
use tokio::time::Instant;

use super::api_keys::{ApiKeys, require_key};
use super::api_v1;
use super::load_balancer::{BALANCER_GRACE, LoadBalancerMessage, RouteError, Routed};
use super::routing::NodeTable;
use crate::protocol::{ExecutionFailure, ExecutionRequest, PingRequest, RouterMessage, Wire};
use crate::sandbox::{Language, Limits, SourceFile, Status};
use crate::submission::Rules;

pub const TIMEOUT_MESSAGE: &str = "The process was aborted because it exceeded the timeout";
pub const MEMORY_MESSAGE: &str = "The process was aborted because it exceeded the memory usage";
pub const OUTPUT_MESSAGE: &str =
    "the code is generating too large output, try reducing logs or printing";

/// What every handler shares.
pub struct Gateway {
    pub balancers: Vec<ActorRef<LoadBalancerMessage>>,
    pub table: Arc<NodeTable>,
    pub languages: Arc<BTreeMap<String, Language>>,
    pub max_body_bytes: usize,
    pub max_json_body_bytes: usize,
    pub body_read_timeout: Duration,
    /// What a submission may be (the JSON API checks it before routing).
    pub rules: Rules,
    pub deadline_margin: Duration,
    pub ping_timeout: Duration,
    pub next_balancer: AtomicUsize,
    /// Executions this master runs at once.
    pub admission: tokio::sync::Semaphore,
    /// Executions waiting for admission, and how many may.
    pub waiting: AtomicUsize,
    pub max_queued: usize,
}

pub fn router(gateway: Arc<Gateway>, keys: ApiKeys) -> Router {
    Router::new()
        .route("/lang/{language}", post(execute_plain))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(api_v1::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body limit is enforced by the handler, with its own message.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(keys, require_key))
        .with_state(gateway)
}

async fn execute_plain(
    State(gateway): State<Arc<Gateway>>,
    Path(language_name): Path<String>,
    body: Body,
) -> Response {
    let Some(language) = gateway.languages.get(&language_name) else {
        let supported: Vec<&str> = gateway.languages.keys().map(String::as_str).collect();
        return text(
            StatusCode::BAD_REQUEST,
            format!(
                "unsupported language: {language_name} (supported: {})",
                supported.join(", ")
            ),
        );
    };
    let code = match read_code(body, gateway.max_body_bytes, gateway.body_read_timeout).await {
        Ok(code) => code,
        Err(response) => return response,
    };
    let deadline_after = gateway.deadline_for(language, &language.limits);
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
    };
    let execution_id = request.execution_id.clone();
    let routed = gateway.route(request, deadline_after).await;
    let mut response = plain_answer(routed, deadline_after);
    set_header(&mut response, "x-braindrill-execution-id", &execution_id);
    response
}

/// Why a request body could not be read.
pub(super) enum BodyError {
    TooLarge,
    /// Not all of it arrived within the body read timeout.
    TooSlow,
    Broken(axum::Error),
}

/// Reads a whole body of at most `limit` bytes within `timeout`.
pub(super) async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<axum::body::Bytes, BodyError> {
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| BodyError::TooSlow)?;
    read.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            BodyError::TooLarge
        } else {
            BodyError::Broken(error)
        }
    })
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

impl Gateway {
    /// How long a request may take: the language's time limits plus a margin
    /// for container set-up and the cluster hop.
    pub(super) fn deadline_for(&self, language: &Language, limits: &Limits) -> Duration {
        let compile = if language.compile.is_some() {
            limits.compile_timeout
        } else {
            Duration::ZERO
        };
        limits.timeout + compile + self.deadline_margin
    }

    pub(super) async fn route(
        &self,
        request: ExecutionRequest,
        deadline_after: Duration,
    ) -> Result<Routed, RouteError> {
        // Say "no worker" at once rather than after a timeout.
        if self.table.routers().is_empty() {
            return Err(RouteError::NoWorker);
        }
        // Admission: a bounded number run, a bounded number wait (keeping
        // their deadlines); past that, 429 at once.
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
        let admitted = if self.admission.available_permits() == 0 && waiting >= self.max_queued {
            None
        } else {
            tokio::time::timeout(deadline_after, self.admission.acquire())
                .await
                .map(Some)
                .map_err(|_| RouteError::DeadlineExceeded)
                .transpose()
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _permit = match admitted {
            None => return Err(RouteError::Overloaded),
            Some(Err(error)) => return Err(error),
            Some(Ok(Ok(permit))) => permit,
            Some(Ok(Err(_closed))) => return Err(RouteError::Overloaded),
        };
        let index = self.next_balancer.fetch_add(1, Ordering::Relaxed) % self.balancers.len();
        let balancer = &self.balancers[index];
        let deadline = Instant::now() + deadline_after;
        match balancer
            .call(
                |port| LoadBalancerMessage::Route(request, deadline, port),
                Some(deadline_after + BALANCER_GRACE),
            )
            .await
        {
            Ok(CallResult::Success(result)) => result,
            Ok(CallResult::Timeout) => Err(RouteError::DeadlineExceeded),
            Ok(CallResult::SenderError) | Err(_) => Err(RouteError::Failed(
                ExecutionFailure::WorkerCrashed("the load balancer stopped".into()),
            )),
        }
    }
}

/// The original's contract: stdout if not empty, else stderr; the original's
/// message for a limit that was hit.
fn plain_answer(routed: Result<Routed, RouteError>, deadline: Duration) -> Response {
    let routed = match routed {
        Ok(routed) => routed,
        Err(error) => return route_error(error, deadline),
    };
    let outcome = &routed.executed.outcome;
    let step = outcome.run.as_ref().or(outcome.compile.as_ref());
    let output = |step: Option<&crate::sandbox::StepOutcome>| {
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
    set_header(&mut response, "x-braindrill-node", &routed.executed.node);
    set_header(
        &mut response,
        "x-braindrill-sandbox-us",
        &routed.executed.sandbox_us.to_string(),
    );
    if let Some(code) = step.and_then(|step| step.exit_code) {
        set_header(&mut response, "x-braindrill-exit-code", &code.to_string());
    }
    if routed.retried {
        set_header(&mut response, "x-braindrill-retried", "true");
    }
    response
}

/// The JSON API's classification of a routing failure, as plain text.
fn route_error(error: RouteError, deadline: Duration) -> Response {
    api_v1::route_error(error, deadline).into_plain()
}

async fn health() -> Response {
    text(StatusCode::OK, "ok")
}

/// Ready when at least one worker node answers a ping and can run code.
async fn ready(State(gateway): State<Arc<Gateway>>) -> Response {
    let routers = gateway.table.routers();
    let ping_timeout = gateway.ping_timeout;
    let pings = routers.iter().map(|router| async move {
        match router
            .call(
                |port| RouterMessage::Ping(Wire::new(PingRequest::default()), port),
                Some(ping_timeout),
            )
            .await
        {
            Ok(CallResult::Success(Wire(Ok(reply)))) => json!({
                "node": reply.node,
                "ready": reply.ready,
                "problem": reply.problem,
                "workers": reply.workers,
                "busy": reply.busy,
                "queued": reply.queued,
            }),
            Ok(CallResult::Success(Wire(Err(fault)))) => {
                json!({ "router": router.get_id().to_string(), "ready": false, "problem": fault.to_string() })
            }
            _ => json!({ "router": router.get_id().to_string(), "ready": false, "problem": "no answer to a ping" }),
        }
    });
    let nodes = join_all(pings).await;
    let ready = nodes.iter().any(|node| node["ready"] == true);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let reason = if routers.is_empty() {
        Some("no worker node available")
    } else if !ready {
        Some("no worker node can run code")
    } else {
        None
    };
    (
        status,
        axum::Json(json!({ "ready": ready, "reason": reason, "nodes": nodes })),
    )
        .into_response()
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return api_v1::not_found();
    }
    text(
        StatusCode::NOT_FOUND,
        "not found: use POST /lang/{language}, GET /health, GET /ready or the JSON API under /api/v1 (see /api/v1/openapi.json)",
    )
}

async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return api_v1::method_not_allowed();
    }
    text(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed: POST /lang/{language} runs code; GET /health and GET /ready report state",
    )
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (status, headers, body.into()).into_response()
}

fn set_header(response: &mut Response, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        response.headers_mut().insert(name, value);
    }
}
