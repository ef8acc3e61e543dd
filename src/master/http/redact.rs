//! Error answers of a server that guards its API with keys: a 5xx names its
//! cause in public words and keeps the engine's own text (Docker's errors,
//! a worker's crash, a node's address) for the operator's log. Without keys
//! the raw text is the answer, as a local user wants it.
//!
//! One layer over the whole app, so every endpoint's 5xx follows the same
//! rule whatever built it; 4xx answers are about the request and pass as
//! they are.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use super::error::ApiError;

/// An error body larger than this is not read: it is replaced unseen.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn redact_server_errors(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_server_error() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let original = match http_body_util::Limited::new(body, MAX_ERROR_BODY)
        .collect()
        .await
    {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => String::from("(unreadable)"),
    };
    let execution = parts
        .headers
        .get("x-braindrill-execution-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    tracing::warn!(
        status = status.as_u16(),
        execution = execution.as_deref().unwrap_or(""),
        detail = %original,
        "a server error was answered without its details (API keys are on)"
    );
    let (code, cause) = public_cause(status);
    let message = match &execution {
        Some(id) => format!("{cause} (execution {id}; the operator's log has the details)"),
        None => format!("{cause} (the operator's log has the details)"),
    };
    let error = ApiError::new(status, code, message);
    let replaced = if api {
        error.into_response()
    } else {
        error.into_plain()
    };
    // The original's headers stay (execution id, node, status, Retry-After)
    // but not its length or type.
    let (new_parts, new_body) = replaced.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(content_type) = new_parts.headers.get(header::CONTENT_TYPE) {
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::clone(content_type));
    }
    Response::from_parts(parts, Body::new(new_body)).into_response()
}

/// The machine-readable code and the public cause of a server error.
fn public_cause(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::SERVICE_UNAVAILABLE => ("no_worker", "no worker node can run code right now"),
        StatusCode::GATEWAY_TIMEOUT => (
            "deadline_exceeded",
            "no answer from a worker node before the deadline",
        ),
        StatusCode::BAD_GATEWAY => (
            "bad_gateway",
            "a worker node answered in a way this master cannot read",
        ),
        _ => ("internal_error", "internal error: the engine failed"),
    }
}

#[cfg(test)]
mod tests {
    //! What a client sees of a server error with keys on.

    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn answer(path: &str, status: StatusCode, body: &'static str) -> (StatusCode, String) {
        let app = Router::new()
            .route(
                path,
                get(move || async move {
                    (status, [("x-braindrill-execution-id", "e-1")], body).into_response()
                }),
            )
            .layer(axum::middleware::from_fn(redact_server_errors));
        let response = app
            .oneshot(
                Request::builder()
                    .uri(path)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("answered");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_server_error_names_its_cause_without_the_engine_text() {
        let raw = "internal error: Docker responded with status code 500: /var/lib/docker/overlay2 is full";
        let (status, body) = answer("/lang/python", StatusCode::INTERNAL_SERVER_ERROR, raw).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body.starts_with("internal error: the engine failed"),
            "{body}"
        );
        assert!(body.contains("e-1"), "{body}");
        assert!(!body.contains("overlay2"), "{body}");

        let raw =
            r#"{"error":{"code":"no_worker","message":"cannot connect to /var/run/docker.sock"}}"#;
        let (status, body) = answer("/api/v1/execute", StatusCode::SERVICE_UNAVAILABLE, raw).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(json["error"]["code"], "no_worker");
        assert!(!body.contains("docker.sock"), "{body}");
    }

    #[tokio::test]
    async fn a_client_error_passes_as_it_is() {
        let (status, body) = answer(
            "/lang/cobol",
            StatusCode::BAD_REQUEST,
            "unsupported language: cobol",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, "unsupported language: cobol");
    }
}
