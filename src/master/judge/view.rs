//! A submission as the API answers it (and as a webhook delivers it).

use serde::Serialize;
use utoipa::ToSchema;

use super::store::{CallbackAttempt, StoredSubmission, SubmissionStatus};
use super::verdict::{CompileResult, TestResult, Verdict};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionView {
    pub id: String,
    /// `queued`, `running`, `done` (with a verdict) or `failed` (an engine
    /// fault: `error` says why).
    pub status: SubmissionStatus,
    pub language: String,
    /// The submission's verdict, once `done`: `accepted`, `wrong_answer`,
    /// `compile_error`, `runtime_error`, `timeout`, `memory_limit`,
    /// `output_limit` (its first test not accepted).
    pub verdict: Option<Verdict>,
    /// Tests accepted.
    pub passed: usize,
    /// Tests given.
    pub total: usize,
    /// The compile step (once), for compiled languages.
    pub compile: Option<CompileResult>,
    /// One per test, in order, once `done` (`skipped` for one that did not
    /// run).
    pub tests: Vec<TestResult>,
    /// The worker node that ran it.
    pub node: Option<String>,
    pub error: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    pub started_at_ms: Option<u64>,
    pub finished_at_ms: Option<u64>,
    pub callback_url: Option<String>,
    /// Every delivery attempt of the webhook so far.
    pub callbacks: Vec<CallbackAttempt>,
}

/// One submission of a page: without its tests' output.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionSummary {
    pub id: String,
    pub status: SubmissionStatus,
    pub language: String,
    pub verdict: Option<Verdict>,
    pub passed: usize,
    pub total: usize,
    pub created_at_ms: u64,
    pub finished_at_ms: Option<u64>,
}

impl SubmissionView {
    pub fn of(submission: StoredSubmission) -> SubmissionView {
        let total = submission.request.tests.len();
        let (verdict, compile, tests, node, error) = match submission.outcome {
            Some(outcome) => (
                outcome.verdict,
                outcome.compile,
                outcome.tests,
                outcome.node,
                outcome.error,
            ),
            None => (None, None, Vec::new(), None, None),
        };
        SubmissionView {
            passed: passed(&tests),
            id: submission.id,
            status: submission.status,
            language: submission.request.language,
            verdict,
            total,
            compile,
            tests,
            node,
            error,
            created_at_ms: submission.created_at_ms,
            started_at_ms: submission.started_at_ms,
            finished_at_ms: submission.finished_at_ms,
            callback_url: submission.request.callback_url,
            callbacks: submission.callbacks,
        }
    }
}

impl SubmissionSummary {
    pub fn of(submission: StoredSubmission) -> SubmissionSummary {
        let (verdict, passed) = match &submission.outcome {
            Some(outcome) => (outcome.verdict, passed(&outcome.tests)),
            None => (None, 0),
        };
        SubmissionSummary {
            total: submission.request.tests.len(),
            id: submission.id,
            status: submission.status,
            language: submission.request.language,
            verdict,
            passed,
            created_at_ms: submission.created_at_ms,
            finished_at_ms: submission.finished_at_ms,
        }
    }
}

fn passed(tests: &[TestResult]) -> usize {
    tests
        .iter()
        .filter(|test| test.verdict == Verdict::Accepted)
        .count()
}
