//! The judge's Prometheus metrics (rendered with the node's others by
//! `GET /metrics`). Labels are bounded: languages from the configuration,
//! verdicts and outcomes from the judge's own taxonomy.

use metrics::{Unit, counter, describe_counter, describe_histogram};
use std::time::Duration;

pub const SUBMISSIONS: &str = "braindrill_judge_submissions_total";
pub const TESTS: &str = "braindrill_judge_tests_total";
pub const SUBMISSION_DURATION: &str = "braindrill_judge_submission_duration_seconds";
pub const CALLBACKS: &str = "braindrill_judge_callback_attempts_total";

pub fn describe() {
    describe_counter!(
        SUBMISSIONS,
        "Judged submissions finished, by language and verdict (failed: an engine fault)."
    );
    describe_counter!(TESTS, "Test cases judged, by verdict.");
    describe_histogram!(
        SUBMISSION_DURATION,
        Unit::Seconds,
        "Time from a submission's acceptance to its end, queue included."
    );
    describe_counter!(
        CALLBACKS,
        "Webhook delivery attempts, by outcome (delivered, refused: a non-2xx answer, error)."
    );
}

pub fn submission_finished(language: &str, verdict: &'static str, took: Duration) {
    counter!(SUBMISSIONS, "language" => language.to_string(), "verdict" => verdict).increment(1);
    metrics::histogram!(SUBMISSION_DURATION).record(took.as_secs_f64());
}

pub fn test_judged(verdict: &'static str) {
    counter!(TESTS, "verdict" => verdict).increment(1);
}

pub fn callback_attempt(outcome: &'static str) {
    counter!(CALLBACKS, "outcome" => outcome).increment(1);
}
