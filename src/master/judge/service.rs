//! The judge's service on the master: accepts submissions into the store,
//! runs each in the cluster as one execution with its tests (compiled once,
//! every test in one sandbox), judges what comes back, records it, and
//! calls its webhook. At start it runs again what a previous master left
//! queued or running; a periodic task deletes finished submissions past
//! their retention.
//!
//! A refusal of the cluster (no worker node yet, all busy, no start before
//! the deadline) is not the submission's fault: it is tried again with
//! backoff for `judge.queue_timeout_s`, so a submission accepted while the
//! workers are still joining (a master just restarted) runs once they are
//! there.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics;
use super::store::{
    CallbackAttempt, JudgeOutcome, JudgeRequest, StoreResult, StoredSubmission, SubmissionStatus,
    SubmissionStore,
};
use super::verdict::{self, CompileResult, TestResult, Verdict};
use super::view::SubmissionView;
use super::webhook::{self, Attempt, CallbackPolicy};
use crate::configuration::JudgeSettings;
use crate::master::http::observe;
use crate::master::http::state::AppState;
use crate::master::load_balancer::DispatchError;
use crate::protocol::{ExecutionFailure, ExecutionRequest, TestPlan};
use crate::sandbox::{Status, TestInput};

/// Time allowed per test beyond its run's limit: the runner's reset
/// between two tests and the frames of its output.
const PER_TEST_OVERHEAD: Duration = Duration::from_millis(500);
/// The first wait after a refusal of the cluster; it doubles up to
/// [`MAX_REFUSAL_BACKOFF`].
const FIRST_REFUSAL_BACKOFF: Duration = Duration::from_millis(200);
const MAX_REFUSAL_BACKOFF: Duration = Duration::from_secs(5);

pub struct Judge {
    store: Arc<dyn SubmissionStore>,
    /// The HTTP layer's state, to dispatch through (weak: it holds this).
    state: Weak<AppState>,
    settings: JudgeSettings,
    callbacks: CallbackPolicy,
    running: Semaphore,
    /// Bumped at each submission's end: `?wait=true` waits on it.
    finished: watch::Sender<u64>,
    tasks: TaskTracker,
    stop: CancellationToken,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Judge {
    pub fn new(
        store: Arc<dyn SubmissionStore>,
        state: Weak<AppState>,
        settings: JudgeSettings,
        callbacks: CallbackPolicy,
    ) -> Arc<Judge> {
        metrics::describe();
        Arc::new(Judge {
            store,
            state,
            running: Semaphore::new(settings.max_running),
            settings,
            callbacks,
            finished: watch::channel(0).0,
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        })
    }

    pub fn store(&self) -> &dyn SubmissionStore {
        self.store.as_ref()
    }

    pub fn callbacks(&self) -> &CallbackPolicy {
        &self.callbacks
    }

    /// Starts the background work: what a previous master left unfinished
    /// runs again, and old results are deleted periodically.
    pub async fn start(self: &Arc<Judge>) -> StoreResult<()> {
        let unfinished = self.store.unfinished().await?;
        if !unfinished.is_empty() {
            tracing::info!(
                submissions = unfinished.len(),
                "running again the submissions a previous master left unfinished"
            );
        }
        for submission in unfinished {
            self.spawn(submission);
        }
        let judge = self.clone();
        self.tasks.spawn(async move {
            let every = Duration::from_secs(judge.settings.retention_interval_s);
            loop {
                judge.delete_old().await;
                tokio::select! {
                    () = judge.stop.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
            }
        });
        Ok(())
    }

    /// Stops every task of the judge (at the master's shutdown); what was
    /// unfinished stays so in the store and runs again at the next start.
    pub async fn stop(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Deletes the finished submissions older than the retention.
    pub async fn delete_old(&self) {
        let retention_ms = self.settings.retention_s.saturating_mul(1000);
        match self
            .store
            .delete_finished_before(now_ms().saturating_sub(retention_ms))
            .await
        {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "deleted submissions past their retention"),
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "cannot delete old submissions"
                )
            }
        }
    }

    /// Keeps a new submission and starts running it.
    pub async fn submit(self: &Arc<Judge>, submission: StoredSubmission) -> StoreResult<()> {
        self.store.insert(submission.clone()).await?;
        tracing::info!(submission = %submission.id, language = %submission.request.language, tests = submission.request.tests.len(), "submission accepted");
        self.spawn(submission);
        Ok(())
    }

    /// The submission once it is finished, or as it is when `deadline`
    /// passes first (`None` if it is gone).
    pub async fn wait(&self, id: &str, deadline: Instant) -> StoreResult<Option<StoredSubmission>> {
        let mut finished = self.finished.subscribe();
        loop {
            // Subscribed first: an end between the read and the wait is seen.
            finished.borrow_and_update();
            let submission = self.store.get(id.to_string()).await?;
            match &submission {
                Some(found) if !found.status.finished() => {}
                _ => return Ok(submission),
            }
            if tokio::time::timeout_at(deadline, finished.changed())
                .await
                .is_err()
            {
                return Ok(submission);
            }
        }
    }

    fn spawn(self: &Arc<Judge>, submission: StoredSubmission) {
        let judge = self.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = judge.stop.cancelled() => {}
                () = judge.run(submission) => {}
            }
        });
    }

    async fn run(&self, submission: StoredSubmission) {
        let Ok(_permit) = self.running.acquire().await else {
            return;
        };
        let Some(state) = self.state.upgrade() else {
            return;
        };
        let id = submission.id.clone();
        if let Err(error) = self.store.mark_running(id.clone(), now_ms()).await {
            tracing::warn!(submission = %id, error = format!("{error:#}"), "cannot mark a submission running");
        }
        let (status, outcome) = self.execute(&state, &id, &submission.request).await;
        let verdict_label = match (status, outcome.verdict) {
            (SubmissionStatus::Done, Some(verdict)) => verdict.as_str(),
            _ => "failed",
        };
        for test in &outcome.tests {
            metrics::test_judged(test.verdict.as_str());
        }
        let took = Duration::from_millis(now_ms().saturating_sub(submission.created_at_ms));
        metrics::submission_finished(&submission.request.language, verdict_label, took);
        tracing::info!(submission = %id, verdict = verdict_label, node = outcome.node.as_deref().unwrap_or(""), error = outcome.error.as_deref().unwrap_or(""), "submission finished");
        if let Err(error) = self
            .store
            .finish(id.clone(), status, outcome, now_ms())
            .await
        {
            tracing::error!(submission = %id, error = format!("{error:#}"), "cannot record a finished submission");
            return;
        }
        self.finished.send_modify(|count| *count += 1);
        if let Some(url) = &submission.request.callback_url {
            self.deliver(&id, url).await;
        }
    }

    /// Runs the submission in the cluster and judges it.
    async fn execute(
        &self,
        state: &AppState,
        id: &str,
        request: &JudgeRequest,
    ) -> (SubmissionStatus, JudgeOutcome) {
        let failed = |error: String, node: Option<String>| {
            (
                SubmissionStatus::Failed,
                JudgeOutcome {
                    verdict: None,
                    compile: None,
                    tests: Vec::new(),
                    node,
                    error: Some(error),
                },
            )
        };
        let mut execution = execution_of(request);
        let deadline = match deadline(state, &execution) {
            Ok(deadline) => deadline,
            // Checked when it was submitted; the configuration changed since.
            Err(error) => {
                return failed(format!("the submission is no longer valid: {error}"), None);
            }
        };
        let give_up = Instant::now() + Duration::from_secs(self.settings.queue_timeout_s);
        let mut backoff = FIRST_REFUSAL_BACKOFF;
        loop {
            // A new id for each try: it names the sandbox's containers.
            execution.execution_id = uuid::Uuid::new_v4().to_string();
            tracing::debug!(submission = %id, execution_id = %execution.execution_id, "dispatching a submission");
            match observe::dispatch(state, execution.clone(), deadline).await {
                Ok(dispatched) => {
                    let executed = dispatched.executed;
                    let node = Some(executed.node.clone());
                    let outcome = executed.outcome;
                    if outcome.status == Status::InternalError {
                        return failed(
                            format!(
                                "the engine failed on {}: {}",
                                executed.node,
                                outcome.error.as_deref().unwrap_or("unknown error")
                            ),
                            node,
                        );
                    }
                    let Some(runs) = executed.tests else {
                        return failed("the worker node answered without tests".into(), node);
                    };
                    return (
                        SubmissionStatus::Done,
                        self.judge(request, outcome.status, outcome.compile, runs, node),
                    );
                }
                Err(error) if refused(&error) && Instant::now() + backoff < give_up => {
                    tracing::debug!(submission = %id, %error, "the cluster refused a submission; trying again");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_REFUSAL_BACKOFF);
                }
                Err(error) => return failed(error.to_string(), None),
            }
        }
    }

    /// The verdicts of a submission's runs.
    fn judge(
        &self,
        request: &JudgeRequest,
        status: Status,
        compile: Option<crate::sandbox::StepOutcome>,
        runs: Vec<crate::sandbox::StepOutcome>,
        node: Option<String>,
    ) -> JudgeOutcome {
        let keep = self.settings.max_stored_output_bytes;
        let compiled = status != Status::CompileError;
        let mut tests: Vec<TestResult> = if compiled {
            runs.into_iter()
                .zip(&request.tests)
                .map(|(run, test)| {
                    verdict::judge_test(
                        run,
                        test.expected_output.as_deref(),
                        &request.comparison,
                        keep,
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        // The runs stop at the first failure with `stop_on_failure`; a
        // wrong answer is only known here.
        if request.stop_on_failure
            && let Some(first) = tests
                .iter()
                .position(|test| test.verdict != Verdict::Accepted)
        {
            tests.truncate(first + 1);
        }
        // Those that did not run (all of them after a compile error).
        tests.resize_with(request.tests.len(), TestResult::skipped);
        JudgeOutcome {
            verdict: Some(verdict::overall(compiled, &tests)),
            compile: compile.map(|step| CompileResult::of(step, keep)),
            tests,
            node,
            error: None,
        }
    }

    /// Delivers the webhook of a finished submission, retrying with backoff
    /// for the policy's time; every attempt is recorded on it.
    async fn deliver(&self, id: &str, url: &str) {
        let body = match self.store.get(id.to_string()).await {
            Ok(Some(submission)) => match serde_json::to_string(&SubmissionView::of(submission)) {
                Ok(body) => body,
                Err(error) => {
                    tracing::error!(submission = %id, %error, "cannot encode a webhook");
                    return;
                }
            },
            // Deleted meanwhile: nobody to tell about it.
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(submission = %id, error = format!("{error:#}"), "cannot read a submission for its webhook");
                return;
            }
        };
        let give_up = Instant::now() + self.callbacks.retry_for;
        let mut retry = 0;
        loop {
            let (attempt, delivered) = match self.callbacks.attempt(url, id, &body).await {
                Attempt::Answered(code) => {
                    let delivered = (200..300).contains(&code);
                    metrics::callback_attempt(if delivered { "delivered" } else { "refused" });
                    (
                        CallbackAttempt {
                            at_ms: now_ms(),
                            status_code: Some(code),
                            error: None,
                        },
                        delivered,
                    )
                }
                Attempt::Failed(error) => {
                    metrics::callback_attempt("error");
                    (
                        CallbackAttempt {
                            at_ms: now_ms(),
                            status_code: None,
                            error: Some(error),
                        },
                        false,
                    )
                }
            };
            tracing::info!(submission = %id, status_code = attempt.status_code, error = attempt.error.as_deref().unwrap_or(""), "webhook attempt");
            if let Err(error) = self
                .store
                .add_callback_attempt(id.to_string(), attempt)
                .await
            {
                tracing::warn!(submission = %id, error = format!("{error:#}"), "cannot record a webhook attempt");
            }
            let wait = webhook::backoff(retry);
            if delivered || Instant::now() + wait > give_up {
                return;
            }
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }
}

/// How long a judged execution may take in the cluster: the compile step
/// and every test's run at their limits, the resets between them, and the
/// margin of any execution.
pub fn deadline(
    state: &AppState,
    execution: &ExecutionRequest,
) -> Result<Duration, crate::submission::SubmissionError> {
    let checked = state.rules.check(execution)?;
    let tests = execution.judging.as_ref().map_or(1, |plan| {
        u32::try_from(plan.tests.len()).unwrap_or(u32::MAX)
    });
    Ok(state.deadline_for(checked.language, &checked.limits)
        + checked
            .limits
            .timeout
            .saturating_mul(tests.saturating_sub(1))
        + PER_TEST_OVERHEAD.saturating_mul(tests))
}

/// The execution that runs a judged submission (its id set per try).
pub fn execution_of(request: &JudgeRequest) -> ExecutionRequest {
    ExecutionRequest {
        execution_id: String::new(),
        language: request.language.clone(),
        files: request.files.clone(),
        stdin: String::new(),
        args: Vec::new(),
        limits: request.limits.clone(),
        start_within_ms: None,
        answer_within_ms: None,
        judging: Some(TestPlan {
            tests: request
                .tests
                .iter()
                .map(|test| TestInput {
                    stdin: test.stdin.clone(),
                    args: test.args.clone(),
                })
                .collect(),
            stop_on_failure: request.stop_on_failure,
        }),
    }
}

/// Whether the cluster refused the execution without running it, so that
/// it may be tried again.
fn refused(error: &DispatchError) -> bool {
    matches!(
        error,
        DispatchError::NoWorker
            | DispatchError::Unavailable(_)
            | DispatchError::Overloaded { .. }
            | DispatchError::Expired
            | DispatchError::Failed(
                ExecutionFailure::Busy { .. }
                    | ExecutionFailure::EngineUnavailable(_)
                    | ExecutionFailure::Expired { .. }
            )
    )
}
