//! What the judge keeps of a submission, and the small interface of the
//! store that keeps it ([`SubmissionStore`]), so that a server database can
//! take the embedded one's place ([`super::sqlite`]).

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::Comparison;
use super::verdict::{CompileResult, TestResult, Verdict};
use crate::sandbox::{RequestedLimits, SourceFile};

/// Where a submission is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Accepted, waiting for the cluster.
    Queued,
    /// Sent to a worker node.
    Running,
    /// Finished with a verdict.
    Done,
    /// The engine failed (or the cluster refused it for too long): no
    /// verdict, `error` says why.
    Failed,
}

impl SubmissionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Queued => "queued",
            SubmissionStatus::Running => "running",
            SubmissionStatus::Done => "done",
            SubmissionStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<SubmissionStatus> {
        [
            SubmissionStatus::Queued,
            SubmissionStatus::Running,
            SubmissionStatus::Done,
            SubmissionStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    pub fn finished(self) -> bool {
        matches!(self, SubmissionStatus::Done | SubmissionStatus::Failed)
    }
}

/// One test case as asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub stdin: String,
    pub args: Vec<String>,
    pub expected_output: Option<String>,
}

/// What was asked: all that is needed to run it again after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeRequest {
    pub language: String,
    /// The entry point first, under the language's file name.
    pub files: Vec<SourceFile>,
    pub limits: RequestedLimits,
    pub tests: Vec<TestCase>,
    pub comparison: Comparison,
    pub stop_on_failure: bool,
    pub callback_url: Option<String>,
}

/// What came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgeOutcome {
    /// None for a failed submission.
    pub verdict: Option<Verdict>,
    pub compile: Option<CompileResult>,
    pub tests: Vec<TestResult>,
    /// The worker node that ran it.
    pub node: Option<String>,
    /// Why it failed, for a failed submission.
    pub error: Option<String>,
}

/// One delivery attempt of a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallbackAttempt {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The receiver's status code, when it answered.
    pub status_code: Option<u16>,
    /// Why the attempt failed before an answer.
    pub error: Option<String>,
}

/// A submission as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSubmission {
    pub id: String,
    /// The API key's fingerprint that submitted it (never the key), when
    /// keys are on.
    pub owner: Option<String>,
    pub status: SubmissionStatus,
    pub created_at_ms: u64,
    pub started_at_ms: Option<u64>,
    pub finished_at_ms: Option<u64>,
    pub request: JudgeRequest,
    pub outcome: Option<JudgeOutcome>,
    pub callbacks: Vec<CallbackAttempt>,
}

/// A page of submissions: newest first, after the one named by `after`.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only this owner's (`None`: everyone's).
    pub owner: Option<String>,
    pub status: Option<SubmissionStatus>,
    pub limit: usize,
    pub after: Option<String>,
}

pub type StoreResult<T> = anyhow::Result<T>;

/// Where submissions are kept. Every call is atomic on its own.
pub trait SubmissionStore: Send + Sync + 'static {
    fn insert(&self, submission: StoredSubmission) -> BoxFuture<'_, StoreResult<()>>;
    fn get(&self, id: String) -> BoxFuture<'_, StoreResult<Option<StoredSubmission>>>;
    /// A page, newest first; `after` names the last one of the page before
    /// (none left after an unknown one).
    fn list(&self, query: ListQuery) -> BoxFuture<'_, StoreResult<Vec<StoredSubmission>>>;
    /// Whether it was there.
    fn delete(&self, id: String) -> BoxFuture<'_, StoreResult<bool>>;
    /// Marks it running (sent to the cluster) at `at_ms`.
    fn mark_running(&self, id: String, at_ms: u64) -> BoxFuture<'_, StoreResult<()>>;
    /// Records its end: `done` or `failed`, with what came of it.
    fn finish(
        &self,
        id: String,
        status: SubmissionStatus,
        outcome: JudgeOutcome,
        at_ms: u64,
    ) -> BoxFuture<'_, StoreResult<()>>;
    fn add_callback_attempt(
        &self,
        id: String,
        attempt: CallbackAttempt,
    ) -> BoxFuture<'_, StoreResult<()>>;
    /// Those queued or running, oldest first (to run again after a restart).
    fn unfinished(&self) -> BoxFuture<'_, StoreResult<Vec<StoredSubmission>>>;
    /// Deletes those that finished before `at_ms`; how many.
    fn delete_finished_before(&self, at_ms: u64) -> BoxFuture<'_, StoreResult<usize>>;
}
