//! A submission of the judge checked before it is kept: the program as an
//! execution's (language, files, limits: [`check`](super::check)), then
//! the tests (1 to 100, each one's stdin, arguments and expected output),
//! the comparison, and the callback URL, each error naming its field.

use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::check::check;
use super::types::{ExecuteRequest, FileInput};
use crate::master::http::error::ApiError;
use crate::master::http::state::AppState;
use crate::master::judge::compare::{CompareMode, Comparison, DEFAULT_TOLERANCE, ToleranceType};
use crate::master::judge::store::{JudgeRequest, TestCase};
use crate::master::judge::webhook::CallbackPolicy;
use crate::sandbox::RequestedLimits;
use crate::submission::{MAX_TESTS, SubmissionError};

/// A program and its test cases, to judge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionRequest {
    /// A name from `GET /api/v1/languages`.
    pub language: String,
    /// The program, as one file. Give either `code` or `files`.
    #[serde(default)]
    pub code: Option<String>,
    /// The program as files, as for `POST /api/v1/execute`.
    #[serde(default)]
    pub files: Option<Vec<FileInput>>,
    /// Limits of each test's run (and of the one compile step).
    #[serde(default)]
    pub limits: Option<RequestedLimits>,
    /// 1 to 100 test cases, run in order in one sandbox.
    pub tests: Vec<TestCaseInput>,
    /// How outputs are compared: `trim` (default: trailing whitespace of
    /// each line and trailing empty lines ignored), `exact`, `tokens`
    /// (whitespace-separated tokens), `float` (tokens, numbers within
    /// `tolerance`).
    #[serde(default)]
    pub compare: Option<CompareMode>,
    /// For `float`: the largest difference allowed (default 1e-6).
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// For `float`: `absolute` (default) or `relative` (to the expected
    /// number).
    #[serde(default)]
    pub tolerance_type: Option<ToleranceType>,
    /// Stop after the first test that is not accepted (the rest are
    /// `skipped`).
    #[serde(default)]
    pub stop_on_failure: Option<bool>,
    /// Where the finished submission is POSTed, signed (see the README).
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// One test case; every field is optional.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCaseInput {
    /// Written to the program's standard input.
    #[serde(default)]
    pub stdin: Option<String>,
    /// Arguments given to the program.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// The output it must print; none: any output of a successful run is
    /// accepted.
    #[serde(default)]
    pub expected_output: Option<String>,
}

/// Checks every field; the request to keep.
pub async fn check_submission(
    state: &AppState,
    callbacks: &CallbackPolicy,
    request: SubmissionRequest,
) -> Result<JudgeRequest, ApiError> {
    let program = ExecuteRequest {
        language: request.language,
        code: request.code,
        files: request.files,
        stdin: None,
        args: None,
        limits: request.limits,
        stream: None,
    };
    let (execution, _deadline) = check(state, program, "")?;
    if request.tests.is_empty() || request.tests.len() > MAX_TESTS {
        return Err(ApiError::invalid(format!(
            "tests must hold 1 to {MAX_TESTS} tests (it holds {})",
            request.tests.len()
        )));
    }
    let mut tests = Vec::with_capacity(request.tests.len());
    for (index, test) in request.tests.into_iter().enumerate() {
        let stdin = test.stdin.unwrap_or_default();
        let args = test.args.unwrap_or_default();
        state
            .rules
            .check_test(index, &stdin, &args)
            .map_err(|error| match error {
                SubmissionError::TooLarge(message) => too_large(message),
                other => ApiError::invalid(other.to_string()),
            })?;
        if test
            .expected_output
            .as_ref()
            .is_some_and(|expected| expected.len() > state.max_body_bytes)
        {
            return Err(too_large(format!(
                "tests[{index}].expected_output is larger than the limit of {} bytes",
                state.max_body_bytes
            )));
        }
        tests.push(TestCase {
            stdin,
            args,
            expected_output: test.expected_output,
        });
    }
    let mode = request.compare.unwrap_or_default();
    if mode != CompareMode::Float
        && (request.tolerance.is_some() || request.tolerance_type.is_some())
    {
        return Err(ApiError::invalid(
            "tolerance and tolerance_type apply only to compare \"float\"",
        ));
    }
    let tolerance = request.tolerance.unwrap_or(DEFAULT_TOLERANCE);
    if !tolerance.is_finite() || tolerance < 0.0 {
        return Err(ApiError::invalid(
            "tolerance must be a finite number of at least 0",
        ));
    }
    if let Some(url) = &request.callback_url {
        callbacks.check(url).await.map_err(ApiError::invalid)?;
    }
    Ok(JudgeRequest {
        language: execution.language,
        files: execution.files,
        limits: execution.limits,
        tests,
        comparison: Comparison {
            mode,
            tolerance,
            tolerance_type: request.tolerance_type.unwrap_or_default(),
        },
        stop_on_failure: request.stop_on_failure.unwrap_or(false),
        callback_url: request.callback_url,
    })
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}
