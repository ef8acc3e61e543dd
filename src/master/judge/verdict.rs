//! Verdicts: each test's, from its run and the comparison of its output,
//! and the submission's, from its compile step and its tests.
//!
//! A test whose run ended `ok` is `accepted` when its output matches the
//! expected one (or none is given), else `wrong_answer` with where they
//! first differ; any other ending is its verdict (`runtime_error`,
//! `timeout`, `memory_limit`, `output_limit`). A test that did not run
//! (after `stop_on_failure`, or after the sandbox was lost) is `skipped`.
//! The submission's verdict is `compile_error` when its compile step
//! failed, else that of its first test that was not accepted, else
//! `accepted`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::compare::{Comparison, Difference, compare};
use crate::sandbox::{Status, StepOutcome, TimeoutKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    WrongAnswer,
    CompileError,
    RuntimeError,
    Timeout,
    MemoryLimit,
    OutputLimit,
    /// The test did not run (a test's only).
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::WrongAnswer => "wrong_answer",
            Verdict::CompileError => "compile_error",
            Verdict::RuntimeError => "runtime_error",
            Verdict::Timeout => "timeout",
            Verdict::MemoryLimit => "memory_limit",
            Verdict::OutputLimit => "output_limit",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One test's result as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestResult {
    pub verdict: Verdict,
    pub stdout: String,
    pub stderr: String,
    /// Whether the program's output was cut (at its output limit, or here
    /// at `judge.max_stored_output_bytes`; the verdict saw all it printed).
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub exit_code: Option<i64>,
    pub signal: Option<i32>,
    pub cpu_time_ms: Option<u64>,
    pub wall_time_ms: Option<u64>,
    pub memory_peak_bytes: Option<u64>,
    pub timeout_kind: Option<TimeoutKind>,
    /// For `wrong_answer`: where the output first differs.
    pub difference: Option<Difference>,
}

impl TestResult {
    pub fn skipped() -> TestResult {
        TestResult {
            verdict: Verdict::Skipped,
            stdout: String::new(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            exit_code: None,
            signal: None,
            cpu_time_ms: None,
            wall_time_ms: None,
            memory_peak_bytes: None,
            timeout_kind: None,
            difference: None,
        }
    }
}

/// The compile step of a judged submission, as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompileResult {
    pub status: Status,
    pub exit_code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub wall_time_ms: u64,
    pub timeout_kind: Option<TimeoutKind>,
    pub cpu_time_ms: Option<u64>,
}

impl CompileResult {
    /// The step, its output cut to `keep` bytes a stream.
    pub fn of(step: StepOutcome, keep: usize) -> CompileResult {
        CompileResult {
            status: step.status,
            exit_code: step.exit_code,
            stdout: cut(step.stdout, keep).0,
            stderr: cut(step.stderr, keep).0,
            wall_time_ms: step.wall_time_ms,
            timeout_kind: step.timeout_kind,
            cpu_time_ms: step.cpu_time_ms,
        }
    }
}

/// A test's verdict from its run: `expected` is its expected output, if
/// any; `keep` the bytes of each stream kept.
pub fn judge_test(
    run: StepOutcome,
    expected: Option<&str>,
    comparison: &Comparison,
    keep: usize,
) -> TestResult {
    let (verdict, difference) = match run.status {
        Status::Ok => {
            match expected.and_then(|expected| compare(expected, &run.stdout, comparison)) {
                None => (Verdict::Accepted, None),
                Some(difference) => (Verdict::WrongAnswer, Some(difference)),
            }
        }
        Status::Timeout => (Verdict::Timeout, None),
        Status::MemoryLimit => (Verdict::MemoryLimit, None),
        Status::OutputLimit => (Verdict::OutputLimit, None),
        Status::RuntimeError | Status::CompileError | Status::InternalError => {
            (Verdict::RuntimeError, None)
        }
    };
    let (stdout, stdout_cut) = cut(run.stdout, keep);
    let (stderr, stderr_cut) = cut(run.stderr, keep);
    TestResult {
        verdict,
        stdout,
        stderr,
        stdout_truncated: run.stdout_truncated || stdout_cut,
        stderr_truncated: run.stderr_truncated || stderr_cut,
        exit_code: run.exit_code,
        signal: run.signal,
        cpu_time_ms: run.cpu_time_ms,
        wall_time_ms: Some(run.wall_time_ms),
        memory_peak_bytes: run.memory_peak_bytes,
        timeout_kind: run.timeout_kind,
        difference,
    }
}

/// The submission's verdict: compile error, else its first test not
/// accepted, else accepted.
pub fn overall(compiled: bool, tests: &[TestResult]) -> Verdict {
    if !compiled {
        return Verdict::CompileError;
    }
    tests
        .iter()
        .map(|test| test.verdict)
        .find(|verdict| *verdict != Verdict::Accepted)
        .unwrap_or(Verdict::Accepted)
}

/// `text` cut to at most `keep` bytes at a character boundary; whether it
/// was cut.
fn cut(mut text: String, keep: usize) -> (String, bool) {
    if text.len() <= keep {
        return (text, false);
    }
    let mut end = keep;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: Status, stdout: &str) -> StepOutcome {
        StepOutcome {
            status,
            exit_code: Some(0),
            signal: None,
            stdout: stdout.into(),
            stderr: String::new(),
            stdout_truncated: false,
            stderr_truncated: false,
            wall_time_ms: 5,
            timeout_kind: None,
            cpu_time_ms: Some(3),
            memory_peak_bytes: Some(1),
        }
    }

    #[test]
    fn a_tests_verdict_comes_from_its_run_and_its_output() {
        let trim = Comparison::default();
        let accepted = judge_test(run(Status::Ok, "4\n"), Some("4"), &trim, 100);
        assert_eq!(accepted.verdict, Verdict::Accepted);
        let no_expectation = judge_test(run(Status::Ok, "anything"), None, &trim, 100);
        assert_eq!(no_expectation.verdict, Verdict::Accepted);
        let wrong = judge_test(run(Status::Ok, "5\n"), Some("4"), &trim, 100);
        assert_eq!(wrong.verdict, Verdict::WrongAnswer);
        assert_eq!(
            wrong.difference.and_then(|difference| difference.line),
            Some(1)
        );
        for (status, verdict) in [
            (Status::RuntimeError, Verdict::RuntimeError),
            (Status::Timeout, Verdict::Timeout),
            (Status::MemoryLimit, Verdict::MemoryLimit),
            (Status::OutputLimit, Verdict::OutputLimit),
        ] {
            // Whatever it printed, the ending decides.
            assert_eq!(
                judge_test(run(status, "4"), Some("4"), &trim, 100).verdict,
                verdict
            );
        }
    }

    #[test]
    fn stored_output_is_cut_at_a_character_boundary_after_the_verdict() {
        let long = "é".repeat(10);
        let result = judge_test(
            run(Status::Ok, &long),
            Some(&long),
            &Comparison::default(),
            5,
        );
        assert_eq!(
            result.verdict,
            Verdict::Accepted,
            "judged on the whole output"
        );
        assert_eq!(result.stdout, "éé");
        assert!(result.stdout_truncated);
    }

    #[test]
    fn the_submissions_verdict_is_its_first_failure() {
        let accepted = TestResult {
            verdict: Verdict::Accepted,
            ..TestResult::skipped()
        };
        let wrong = TestResult {
            verdict: Verdict::WrongAnswer,
            ..TestResult::skipped()
        };
        let timeout = TestResult {
            verdict: Verdict::Timeout,
            ..TestResult::skipped()
        };
        assert_eq!(
            overall(true, &[accepted.clone(), accepted.clone()]),
            Verdict::Accepted
        );
        assert_eq!(
            overall(true, &[accepted.clone(), timeout, wrong]),
            Verdict::Timeout
        );
        assert_eq!(overall(false, &[]), Verdict::CompileError);
    }
}
