//! `POST /api/v1/execute`: one execution, checked, run, and answered with
//! its result; or, with `"stream": true`, streamed as it runs
//! ([`stream`](super::stream)).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::check::check;
use super::run::run;
use super::types::{ExecuteRequest, ExecuteResponse};
use crate::master::http::api_keys::PresentedKey;
use crate::master::http::body::read_json;
use crate::master::http::error::ErrorBody;
use crate::master::http::state::AppState;

/// Run one execution.
#[utoipa::path(
    post,
    path = "/api/v1/execute",
    request_body = ExecuteRequest,
    responses(
        (status = 200, description = "The execution ran; `status` says how it ended. With `\"stream\": true`, `application/x-ndjson`: the messages of GET /api/v1/connect, one per line, as the program runs", body = ExecuteResponse),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 413, description = "Body or code too large", body = ErrorBody),
        (status = 429, description = "Every worker node is busy", body = ErrorBody),
        (status = 500, description = "Engine fault", body = ErrorBody),
        (status = 503, description = "No worker node available", body = ErrorBody),
        (status = 504, description = "No answer before the deadline", body = ErrorBody),
    )
)]
pub async fn execute(
    State(state): State<Arc<AppState>>,
    key: Option<Extension<PresentedKey>>,
    body: Body,
) -> Response {
    let request: ExecuteRequest =
        match read_json(body, state.max_json_body_bytes, state.body_read_timeout).await {
            Ok(request) => request,
            Err(error) => return error.into_response(),
        };
    if request.stream == Some(true) {
        let key = key.and_then(|Extension(PresentedKey(key))| key);
        return super::stream::respond(&state, request, key.as_deref()).await;
    }
    let (request, deadline) = match check(&state, request, "") {
        Ok(checked) => checked,
        Err(error) => return error.into_response(),
    };
    match run(&state, request, deadline).await {
        Ok(result) => Json(result).into_response(),
        Err(error) => error.into_response(),
    }
}
