//! The error answer every endpoint gives: a status, a machine-readable code
//! and a message. The JSON API sends it as `{"error": {"code", "message"}}`,
//! the original's plain endpoint as its message in plain text. How a failed
//! dispatch is answered is decided here once, so every endpoint says the
//! same thing for the same failure.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::master::load_balancer::DispatchError;
use crate::protocol::ExecutionFailure;

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
    pub status: StatusCode,
    pub detail: ErrorDetail,
    /// A 429's `Retry-After`, in seconds.
    pub retry_after_s: u64,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail {
                code: code.into(),
                message: message.into(),
            },
            retry_after_s: 1,
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// The same answer as plain text, for the original's endpoint.
    pub fn into_plain(self) -> Response {
        let status = self.status;
        let response = (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.detail.message,
        )
            .into_response();
        with_retry_after(status, self.retry_after_s, response)
    }

    /// How a failed dispatch is answered; `deadline` is the one it had.
    pub fn from_dispatch(error: DispatchError, deadline: Duration) -> ApiError {
        match error {
            DispatchError::NoWorker => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_worker",
                "no worker node available",
            ),
            error @ DispatchError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "no_worker",
                error.to_string(),
            ),
            DispatchError::Failed(failure @ ExecutionFailure::EngineUnavailable(_)) => {
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no_worker",
                    failure.to_string(),
                )
            }
            DispatchError::Overloaded { retry_after_s } => ApiError {
                retry_after_s,
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "busy",
                    format!(
                        "the engine is at capacity: this execution could not start within its deadline; retry later (after {retry_after_s} s)"
                    ),
                )
            },
            DispatchError::Expired => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                "the engine is at capacity: this execution could not start within its deadline and did not run; retry later",
            ),
            // Nobody reads this answer: the client went away.
            DispatchError::Abandoned => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline_exceeded",
                "the client went away",
            ),
            DispatchError::DeadlineExceeded => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline_exceeded",
                format!(
                    "no answer from a worker node within the deadline of {} ms",
                    deadline.as_millis()
                ),
            ),
            DispatchError::Failed(ExecutionFailure::UnsupportedLanguage {
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
            DispatchError::Failed(failure @ ExecutionFailure::InvalidSubmission(_)) => {
                ApiError::invalid(failure.to_string())
            }
            DispatchError::Failed(ExecutionFailure::Busy { .. }) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                "every worker node is busy: retry later",
            ),
            DispatchError::Failed(failure @ ExecutionFailure::WorkerCrashed(_)) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                failure.to_string(),
            ),
            DispatchError::Failed(failure @ ExecutionFailure::Rejected(_)) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "bad_gateway", failure.to_string())
            }
            // The balancer maps these two to Expired and DeadlineExceeded.
            DispatchError::Failed(ExecutionFailure::Expired { .. }) => {
                ApiError::from_dispatch(DispatchError::Expired, deadline)
            }
            DispatchError::Failed(ExecutionFailure::Cancelled { .. }) => {
                ApiError::from_dispatch(DispatchError::DeadlineExceeded, deadline)
            }
            error @ DispatchError::Protocol { .. } => {
                ApiError::new(StatusCode::BAD_GATEWAY, "bad_gateway", error.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let response = (self.status, Json(ErrorBody { error: self.detail })).into_response();
        with_retry_after(self.status, self.retry_after_s, response)
    }
}

/// A 429 tells the client when to come back.
fn with_retry_after(status: StatusCode, seconds: u64, mut response: Response) -> Response {
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

#[cfg(test)]
mod tests {
    //! The answers to failures only a worker node reports (the in-process
    //! tier cannot provoke them through the API: the master checks the same
    //! rules first, and its nodes never fill up).

    use super::*;

    fn answer(error: DispatchError) -> (u16, String) {
        let error = ApiError::from_dispatch(error, Duration::from_secs(1));
        (error.status.as_u16(), error.detail.code)
    }

    #[test]
    fn a_worker_nodes_refusal_is_a_4xx_with_its_code() {
        let unsupported = DispatchError::Failed(ExecutionFailure::UnsupportedLanguage {
            language: "cobol".into(),
            supported: vec!["python".into()],
        });
        assert_eq!(answer(unsupported), (400, "unsupported_language".into()));
        let invalid = DispatchError::Failed(ExecutionFailure::InvalidSubmission("bad name".into()));
        assert_eq!(answer(invalid), (400, "invalid_request".into()));
        let busy = DispatchError::Failed(ExecutionFailure::Busy {
            node: "worker-1".into(),
        });
        assert_eq!(answer(busy), (429, "busy".into()));
        let overloaded = DispatchError::Overloaded { retry_after_s: 1 };
        assert_eq!(answer(overloaded), (429, "busy".into()));
        assert_eq!(answer(DispatchError::Expired), (429, "busy".into()));
    }

    #[test]
    fn a_busy_answer_says_when_to_come_back() {
        let overloaded = || {
            ApiError::from_dispatch(
                DispatchError::Overloaded { retry_after_s: 7 },
                Duration::ZERO,
            )
        };
        for response in [overloaded().into_response(), overloaded().into_plain()] {
            assert_eq!(
                response.headers().get(header::RETRY_AFTER),
                Some(&HeaderValue::from_static("7"))
            );
        }
    }
}
