//! The judge's endpoints: `POST /api/v1/submissions` (accepted at once,
//! 202, or with `?wait=true` answered finished, 200, within its deadline),
//! `GET /api/v1/submissions/{id}` (poll), `GET /api/v1/submissions` (a page,
//! newest first, by `status`, `limit` and `after`) and
//! `DELETE /api/v1/submissions/{id}`. With API keys on, a key sees only the
//! submissions it made (anyone else's answer 404, as an unknown id).

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::time::Instant;
use utoipa::ToSchema;

use super::judge_check::{SubmissionRequest, check_submission};
use crate::master::http::api_keys::KeyOwner;
use crate::master::http::body::read_json;
use crate::master::http::error::{ApiError, ErrorBody};
use crate::master::http::state::AppState;
use crate::master::judge::Judge;
use crate::master::judge::service::{self, now_ms};
use crate::master::judge::store::{ListQuery, StoredSubmission, SubmissionStatus};
use crate::master::judge::view::{SubmissionSummary, SubmissionView};

/// A page's size when `limit` is not given, and its largest.
const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

/// The answer to an accepted submission that is not finished yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionAccepted {
    pub id: String,
    /// `queued` (or `running` after `?wait=true` ran out of time).
    pub status: SubmissionStatus,
}

/// A page of submissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionPage {
    /// Newest first.
    pub submissions: Vec<SubmissionSummary>,
    /// Give it as `after` for the next page; null on the last one.
    pub next: Option<String>,
}

/// Submit a program with test cases to judge.
#[utoipa::path(
    post,
    path = "/api/v1/submissions",
    request_body = SubmissionRequest,
    params(("wait" = Option<bool>, Query, description = "Answer when it is finished (within its deadline)")),
    responses(
        (status = 200, description = "With `?wait=true`: the finished submission", body = SubmissionView),
        (status = 202, description = "Accepted: poll `GET /api/v1/submissions/{id}`", body = SubmissionAccepted),
        (status = 400, description = "Invalid request", body = ErrorBody),
        (status = 413, description = "Body, code, stdin or an expected output too large", body = ErrorBody),
        (status = 500, description = "The judge's store failed", body = ErrorBody),
        (status = 503, description = "The judge is not available", body = ErrorBody),
    )
)]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    owner: Option<axum::Extension<KeyOwner>>,
    uri: Uri,
    body: Body,
) -> Response {
    let wait = match query(&uri).find(|(key, _)| key == "wait") {
        None => false,
        Some((_, value)) => match value.as_str() {
            "true" | "1" | "" => true,
            "false" | "0" => false,
            _ => return ApiError::invalid("wait must be true or false").into_response(),
        },
    };
    let judge = match judge(&state) {
        Ok(judge) => judge,
        Err(error) => return error.into_response(),
    };
    let request: SubmissionRequest =
        match read_json(body, state.max_json_body_bytes, state.body_read_timeout).await {
            Ok(request) => request,
            Err(error) => return error.into_response(),
        };
    let request = match check_submission(&state, judge.callbacks(), request).await {
        Ok(request) => request,
        Err(error) => return error.into_response(),
    };
    let deadline = service::deadline(&state, &service::execution_of(&request));
    let submission = StoredSubmission {
        id: uuid::Uuid::new_v4().to_string(),
        owner: owner.and_then(|owner| owner.0.0),
        status: SubmissionStatus::Queued,
        created_at_ms: now_ms(),
        started_at_ms: None,
        finished_at_ms: None,
        request,
        outcome: None,
        callbacks: Vec::new(),
    };
    let id = submission.id.clone();
    if let Err(error) = judge.submit(submission).await {
        return store_failed(&error).into_response();
    }
    if wait && let Ok(deadline) = deadline {
        match judge.wait(&id, Instant::now() + deadline).await {
            Ok(Some(done)) if done.status.finished() => {
                return Json(SubmissionView::of(done)).into_response();
            }
            Ok(Some(pending)) => return accepted(&id, pending.status),
            Ok(None) => {}
            Err(error) => return store_failed(&error).into_response(),
        }
    }
    accepted(&id, SubmissionStatus::Queued)
}

/// A submission, as it is now.
#[utoipa::path(
    get,
    path = "/api/v1/submissions/{id}",
    params(("id" = String, Path, description = "The submission's id")),
    responses(
        (status = 200, description = "The submission", body = SubmissionView),
        (status = 404, description = "No such submission (or not this key's)", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<Arc<AppState>>,
    owner: Option<axum::Extension<KeyOwner>>,
    Path(id): Path<String>,
) -> Response {
    match owned(&state, owner, &id).await {
        Ok(submission) => Json(SubmissionView::of(submission)).into_response(),
        Err(error) => error.into_response(),
    }
}

/// A page of submissions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/submissions",
    params(
        ("status" = Option<String>, Query, description = "Only those with this status: queued, running, done, failed"),
        ("limit" = Option<usize>, Query, description = "At most this many (1 to 100, default 20)"),
        ("after" = Option<String>, Query, description = "The `next` of the page before"),
    ),
    responses(
        (status = 200, description = "A page", body = SubmissionPage),
        (status = 400, description = "Invalid query", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    owner: Option<axum::Extension<KeyOwner>>,
    uri: Uri,
) -> Response {
    let judge = match judge(&state) {
        Ok(judge) => judge,
        Err(error) => return error.into_response(),
    };
    let mut page = ListQuery {
        owner: owner.and_then(|owner| owner.0.0),
        limit: DEFAULT_PAGE,
        ..ListQuery::default()
    };
    for (key, value) in query(&uri) {
        match key.as_str() {
            "status" => match SubmissionStatus::parse(&value) {
                Some(status) => page.status = Some(status),
                None => {
                    return ApiError::invalid(
                        "status must be one of queued, running, done, failed",
                    )
                    .into_response();
                }
            },
            "limit" => match value.parse::<usize>() {
                Ok(limit) if (1..=MAX_PAGE).contains(&limit) => page.limit = limit,
                _ => {
                    return ApiError::invalid(format!(
                        "limit must be a number from 1 to {MAX_PAGE}"
                    ))
                    .into_response();
                }
            },
            "after" => page.after = Some(value),
            other => {
                return ApiError::invalid(format!(
                    "unknown query parameter {other} (status, limit, after)"
                ))
                .into_response();
            }
        }
    }
    let limit = page.limit;
    match judge.store().list(page).await {
        Ok(found) => {
            let next = (found.len() == limit)
                .then(|| found.last().map(|last| last.id.clone()))
                .flatten();
            Json(SubmissionPage {
                submissions: found.into_iter().map(SubmissionSummary::of).collect(),
                next,
            })
            .into_response()
        }
        Err(error) => store_failed(&error).into_response(),
    }
}

/// Delete a submission (a running one is forgotten: its result is not kept).
#[utoipa::path(
    delete,
    path = "/api/v1/submissions/{id}",
    params(("id" = String, Path, description = "The submission's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such submission (or not this key's)", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    owner: Option<axum::Extension<KeyOwner>>,
    Path(id): Path<String>,
) -> Response {
    if let Err(error) = owned(&state, owner, &id).await {
        return error.into_response();
    }
    let judge = match judge(&state) {
        Ok(judge) => judge,
        Err(error) => return error.into_response(),
    };
    match judge.store().delete(id.clone()).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => not_found(&id).into_response(),
        Err(error) => store_failed(&error).into_response(),
    }
}

fn judge(state: &AppState) -> Result<&Arc<Judge>, ApiError> {
    state.judge.get().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the judge is not available on this node",
        )
    })
}

/// The submission if it exists and the request's key may see it.
async fn owned(
    state: &AppState,
    owner: Option<axum::Extension<KeyOwner>>,
    id: &str,
) -> Result<StoredSubmission, ApiError> {
    let judge = judge(state)?;
    let owner = owner.and_then(|owner| owner.0.0);
    match judge.store().get(id.to_string()).await {
        Ok(Some(submission)) if owner.is_none() || submission.owner == owner => Ok(submission),
        Ok(_) => Err(not_found(id)),
        Err(error) => Err(store_failed(&error)),
    }
}

fn accepted(id: &str, status: SubmissionStatus) -> Response {
    let mut response = (
        StatusCode::ACCEPTED,
        Json(SubmissionAccepted {
            id: id.to_string(),
            status,
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/submissions/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no submission {id}"),
    )
}

fn store_failed(error: &anyhow::Error) -> ApiError {
    tracing::error!(error = format!("{error:#}"), "the judge's store failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        format!("the judge's store failed: {error:#}"),
    )
}

/// The query's pairs, percent-decoded.
fn query(uri: &Uri) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
}
