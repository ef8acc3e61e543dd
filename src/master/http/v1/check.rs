//! The rules of one execution of the JSON API, checked before anything is
//! dispatched so that a bad request is answered 400 (or 413) at once, with a
//! message naming the field: the language, the files and their names, the
//! sizes of code and stdin, the arguments, and the limits against the
//! language's defaults and the server's maxima.

use std::time::Duration;

use axum::http::StatusCode;

use super::types::ExecuteRequest;
use crate::master::http::error::ApiError;
use crate::master::http::state::AppState;
use crate::protocol::{ExecutionRequest, LimitOverrides};
use crate::sandbox::{SourceFile, check_file_layout, check_file_name};

/// Arguments of one execution, at most, and the length of each.
const MAX_ARGS: usize = 64;
const MAX_ARG_BYTES: usize = 4096;
/// Files of one execution, at most.
const MAX_FILES: usize = 32;

/// Checks every field and turns the request into the cluster's message and
/// its deadline. `prefix` names the execution inside a batch.
pub fn check(
    state: &AppState,
    request: ExecuteRequest,
    prefix: &str,
) -> Result<(ExecutionRequest, Duration), ApiError> {
    let Some(language) = state.languages.get(&request.language) else {
        let supported: Vec<&str> = state.languages.keys().map(String::as_str).collect();
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_language",
            format!(
                "{prefix}language: unsupported language: {} (supported: {})",
                request.language,
                supported.join(", ")
            ),
        ));
    };
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
        (None, Some(files)) => {
            if files.is_empty() || files.len() > MAX_FILES {
                return Err(ApiError::invalid(format!(
                    "{prefix}files must hold 1 to {MAX_FILES} files"
                )));
            }
            let mut names = std::collections::BTreeSet::new();
            for (index, file) in files.iter().enumerate() {
                if let Err(error) = check_file_name(&file.name) {
                    return Err(ApiError::invalid(format!(
                        "{prefix}files[{index}].name: {error}"
                    )));
                }
                if !names.insert(file.name.as_str()) {
                    return Err(ApiError::invalid(format!(
                        "{prefix}files[{index}].name: {} is given twice",
                        file.name
                    )));
                }
            }
            // The entry point is saved under the language's file name.
            let laid_out = std::iter::once(language.file.as_str())
                .chain(files.iter().skip(1).map(|file| file.name.as_str()));
            if let Err(error) = check_file_layout(laid_out) {
                return Err(ApiError::invalid(format!("{prefix}files: {error}")));
            }
            files
                .into_iter()
                .map(|file| SourceFile {
                    name: file.name,
                    content: file.content,
                })
                .collect()
        }
    };
    let code_bytes: usize = files.iter().map(|file| file.content.len()).sum();
    if code_bytes > state.max_body_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "{prefix}code: the code is larger than the limit of {} bytes",
                state.max_body_bytes
            ),
        ));
    }
    let stdin = request.stdin.unwrap_or_default();
    if stdin.len() > state.max_body_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "{prefix}stdin is larger than the limit of {} bytes",
                state.max_body_bytes
            ),
        ));
    }
    let args = request.args.unwrap_or_default();
    if args.len() > MAX_ARGS {
        return Err(ApiError::invalid(format!(
            "{prefix}args must hold at most {MAX_ARGS} arguments"
        )));
    }
    for (index, arg) in args.iter().enumerate() {
        if arg.len() > MAX_ARG_BYTES || arg.contains('\0') {
            return Err(ApiError::invalid(format!(
                "{prefix}args[{index}] must be at most {MAX_ARG_BYTES} bytes without NUL"
            )));
        }
    }
    let given = request.limits.unwrap_or_default();
    let overrides = LimitOverrides {
        timeout_ms: given.timeout_ms,
        compile_timeout_ms: given.compile_timeout_ms,
        memory_mb: given.memory_mb,
        output_bytes: given.output_bytes,
    };
    let limits = overrides
        .apply(&language.limits, &state.max_limits)
        .map_err(|message| ApiError::invalid(format!("{prefix}{message}")))?;
    let deadline = state.deadline_for(language, &limits);
    Ok((
        ExecutionRequest {
            execution_id: uuid::Uuid::new_v4().to_string(),
            language: language.name.clone(),
            files,
            stdin,
            args,
            limits: overrides,
        },
        deadline,
    ))
}
