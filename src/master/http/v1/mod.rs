//! The JSON API, version 1: structured results, stdin, arguments, several
//! files, per-request limits, batches and the language listing, next to the
//! original's plain-text endpoint. One file per endpoint ([`execute`],
//! [`batch`], [`languages`], [`openapi`], and the live runs' [`connect`]
//! (a WebSocket) and [`stream`] (NDJSON), which share [`live_messages`]); they share the request and
//! response bodies ([`types`]), the rules of one execution ([`check`]) and
//! how one is run and answered ([`run`]).
//!
//! Request errors are 4xx and engine faults 5xx, always as
//! `{"error": {"code": ..., "message": ...}}`.
//!
//! The judge's endpoints ([`submissions`], checked by [`judge_check`]) keep
//! submissions with test cases and answer them asynchronously.

mod batch;
mod check;
mod connect;
mod execute;
mod judge_check;
mod languages;
mod live_messages;
mod openapi;
mod run;
mod stream;
mod submissions;
mod types;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::error::ApiError;
use super::state::AppState;

/// The API's endpoints, to be merged into the app.
pub fn endpoints() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/execute", post(execute::execute))
        .route("/api/v1/connect", get(connect::connect))
        .route("/api/v1/batch", post(batch::batch))
        .route("/api/v1/languages", get(languages::languages))
        .route("/api/v1/openapi.json", get(openapi::openapi_json))
        .route(
            "/api/v1/submissions",
            post(submissions::submit).get(submissions::list),
        )
        .route(
            "/api/v1/submissions/{id}",
            get(submissions::get_one).delete(submissions::delete),
        )
}

/// The JSON answer for an unknown path under `/api/`.
pub fn not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "not found: the API has POST /api/v1/execute, GET /api/v1/connect (a WebSocket), POST /api/v1/batch, /api/v1/submissions, GET /api/v1/languages and GET /api/v1/openapi.json",
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
