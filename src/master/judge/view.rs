//! A submission as the API answers it (and as a webhook delivers it).

use serde::Serialize;
use utoipa::ToSchema;

use super::store::{CallbackAttempt, StoredSubmission, SubmissionStatus};
use super::verdict::{CompileResult, TestResult, Verdict};

/// What a submission and its summary both say first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionHeader {
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
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    pub finished_at_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionView {
    #[serde(flatten)]
    pub header: SubmissionHeader,
    /// The compile step (once), for compiled languages.
    pub compile: Option<CompileResult>,
    /// One per test, in order, once `done` (`skipped` for one that did not
    /// run).
    pub tests: Vec<TestResult>,
    /// The worker node that ran it.
    pub node: Option<String>,
    pub error: Option<String>,
    pub started_at_ms: Option<u64>,
    pub callback_url: Option<String>,
    /// Every delivery attempt of the webhook so far.
    pub callbacks: Vec<CallbackAttempt>,
}

/// One submission of a page: without its tests' output.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubmissionSummary {
    #[serde(flatten)]
    pub header: SubmissionHeader,
}

impl SubmissionHeader {
    fn of(submission: &StoredSubmission) -> SubmissionHeader {
        let (verdict, passed) = match &submission.outcome {
            Some(outcome) => (outcome.verdict, passed(&outcome.tests)),
            None => (None, 0),
        };
        SubmissionHeader {
            id: submission.id.clone(),
            status: submission.status,
            language: submission.request.language.clone(),
            verdict,
            passed,
            total: submission.request.tests.len(),
            created_at_ms: submission.created_at_ms,
            finished_at_ms: submission.finished_at_ms,
        }
    }
}

impl SubmissionView {
    pub fn of(submission: StoredSubmission) -> SubmissionView {
        let header = SubmissionHeader::of(&submission);
        let (compile, tests, node, error) = match submission.outcome {
            Some(outcome) => (outcome.compile, outcome.tests, outcome.node, outcome.error),
            None => (None, Vec::new(), None, None),
        };
        SubmissionView {
            header,
            compile,
            tests,
            node,
            error,
            started_at_ms: submission.started_at_ms,
            callback_url: submission.request.callback_url,
            callbacks: submission.callbacks,
        }
    }
}

impl SubmissionSummary {
    pub fn of(submission: StoredSubmission) -> SubmissionSummary {
        SubmissionSummary {
            header: SubmissionHeader::of(&submission),
        }
    }
}

fn passed(tests: &[TestResult]) -> usize {
    tests
        .iter()
        .filter(|test| test.verdict == Verdict::Accepted)
        .count()
}
