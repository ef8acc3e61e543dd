//! A judged submission's tests in the sandbox: the program compiled once and
//! run once per test case, each run with the submission's full limits.
//!
//! [`Sandbox::execute_tests`](super::Sandbox::execute_tests) has a default,
//! [`one_by_one`]: every test as an execution of its own (so a compiled
//! language compiles once per test). That is what the fresh run (volume
//! path) and test doubles do. The pooled sandbox runs them all in one
//! runner container instead (one request of the runner's `BDR5` form, see
//! [`warm_run::run_tests`](super::warm_run)): one compile, then each test
//! after the runner's reset of processes and scratch between runs.

use serde::{Deserialize, Serialize};

use super::{Outcome, Sandbox, Status, StepOutcome, Submission};

/// One test case's input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestInput {
    #[serde(default)]
    pub stdin: String,
    #[serde(default)]
    pub args: Vec<String>,
}

/// What came of a submission's tests: the compile step (in `outcome`, whose
/// status is `ok` when the tests ran, `compile_error`, or `internal_error`
/// with its cause) and each test's run, in order, up to the last that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct TestsOutcome {
    pub outcome: Outcome,
    pub tests: Vec<StepOutcome>,
}

/// Runs every test as an execution of its own (one compile per test), in
/// order; stops at a compile error, an engine fault, or with
/// `stop_on_failure` after the first run that did not succeed.
pub async fn one_by_one<S: Sandbox + ?Sized>(
    sandbox: &S,
    submission: Submission,
    tests: Vec<TestInput>,
    stop_on_failure: bool,
) -> TestsOutcome {
    let execution_id = submission.execution_id.clone();
    let mut compile = None;
    let mut runs = Vec::with_capacity(tests.len());
    for (index, test) in tests.into_iter().enumerate() {
        let mut one = submission.clone();
        // Containers are named after it: each test's must differ.
        one.execution_id = format!("{execution_id}-t{index}");
        one.stdin = test.stdin;
        one.args = test.args;
        let mut outcome = sandbox.execute(one).await;
        outcome.execution_id = execution_id.clone();
        if compile.is_none() {
            compile = outcome.compile.clone();
        }
        match outcome.status {
            Status::CompileError | Status::InternalError => {
                return TestsOutcome {
                    outcome,
                    tests: runs,
                };
            }
            _ => {}
        }
        let Some(run) = outcome.run else {
            return TestsOutcome {
                outcome: Outcome::internal_error(&execution_id, "a test ran without a run step"),
                tests: runs,
            };
        };
        let failed = run.status != Status::Ok;
        runs.push(run);
        if failed && stop_on_failure {
            break;
        }
    }
    TestsOutcome {
        outcome: Outcome {
            execution_id,
            status: Status::Ok,
            compile,
            run: None,
            error: None,
        },
        tests: runs,
    }
}
