//! The master's HTTP layer, one file per endpoint family, none importing
//! another: the original's plain endpoint (`plain`), the probes
//! (`health`) and the JSON API (`v1`). They share the application state
//! ([`state`]: languages, limits, admission and dispatch to the load
//! balancers), body reading (`body`) and the error answer (`error`).
//! [`api_keys`] guards them all (and, with keys on, `redact` keeps
//! internal text out of 5xx answers), and [`server`] serves the assembled app.
//! `metrics` serves `GET /metrics` and counts refused requests; `observe`
//! is how every endpoint dispatches (a span and counts per execution);
//! `playground` is the page at `/`.
//! A new endpoint gets its own file here and is added to [`app`].
//!
//! Execution outcomes (whatever the program did) are 200 with their status;
//! request errors are 4xx and engine faults 5xx.

pub mod api_keys;
mod body;
mod error;
mod health;
mod metrics;
pub(crate) mod observe;
mod plain;
mod playground;
mod redact;
pub mod server;
pub mod state;
mod v1;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use api_keys::{ApiKeys, require_key};
use state::AppState;

/// Every endpoint, behind the API keys.
pub fn app(state: Arc<AppState>, keys: ApiKeys, codemirror_dir: &Path) -> Router {
    let guarded = !keys.0.is_empty();
    let router = Router::new()
        .route("/lang/{language}", post(plain::execute_plain))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics))
        .merge(v1::endpoints())
        .merge(playground::endpoints(codemirror_dir))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body limit is enforced by the handler, with its own message.
        .layer(DefaultBodyLimit::disable());
    // With keys on, a server error keeps its internal text for the log.
    let router = if guarded {
        router.layer(axum::middleware::from_fn(redact::redact_server_errors))
    } else {
        router
    };
    router
        .layer(axum::middleware::from_fn_with_state(keys, require_key))
        .layer(axum::middleware::from_fn(metrics::count_refusals))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return v1::not_found();
    }
    (
        StatusCode::NOT_FOUND,
        "not found: use POST /lang/{language}, the playground at /, GET /health, GET /ready, GET /metrics or the JSON API under /api/v1 (see /api/v1/openapi.json)",
    )
        .into_response()
}

async fn method_not_allowed(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return v1::method_not_allowed();
    }
    (
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed: POST /lang/{language} runs code; GET /health and GET /ready report state",
    )
        .into_response()
}
