//! One execution of the JSON API checked before anything is
//! dispatched so that a bad request is answered 400 (or 413) at once, with a
//! message naming the field: the language, the files and their names, the
//! sizes of code and stdin, the arguments, and the limits against the
//! language's defaults and the server's maxima.

use std::time::Duration;

use axum::http::StatusCode;

use super::types::ExecuteRequest;
use crate::master::http::error::ApiError;
use crate::master::http::state::AppState;
use crate::protocol::ExecutionRequest;
use crate::sandbox::SourceFile;
use crate::submission::SubmissionError;

/// Checks every field and turns the request into the cluster's message and
/// its deadline. `prefix` names the execution inside a batch. The rules are
/// the shared [`crate::submission::Rules`] (the worker checks them again);
/// only the API's own shape (`code` or `files`) is checked here.
pub fn check(
    state: &AppState,
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
    if request.stream.is_some() && !prefix.is_empty() {
        return Err(ApiError::invalid(format!(
            "{prefix}stream: only POST /api/v1/execute streams"
        )));
    }
    let language = state.rules.language(&request.language).map_err(refusal)?;
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
        start_within_ms: None,
        answer_within_ms: None,
        judging: None,
    };
    let checked = state.rules.check(&request).map_err(refusal)?;
    let deadline = state.deadline_for(checked.language, &checked.limits);
    Ok((request, deadline))
}
