//! `POST /api/v1/batch`: up to [`MAX_BATCH`] executions, every one checked
//! before any runs (a bad one fails the whole request, naming it), then run
//! in parallel across the cluster and answered in order, each with the
//! result or the error it would have had alone.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures_util::future::join_all;

use super::check::check;
use super::run::run;
use super::types::{BatchItem, BatchRequest, BatchResponse};
use crate::master::http::body::read_json;
use crate::master::http::error::{ApiError, ErrorBody};
use crate::master::http::state::AppState;

/// Executions in one batch, at most.
pub const MAX_BATCH: usize = 20;

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
pub async fn batch(State(state): State<Arc<AppState>>, body: Body) -> Response {
    let request: BatchRequest =
        match read_json(body, state.max_json_body_bytes, state.body_read_timeout).await {
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
        match check(&state, execution, &format!("executions[{index}].")) {
            Ok(valid) => checked.push(valid),
            Err(error) => return error.into_response(),
        }
    }
    let runs = checked
        .into_iter()
        .map(|(request, deadline)| run(&state, request, deadline));
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
