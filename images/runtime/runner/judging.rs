//! A judged submission's request (`BDR5`): the program compiled once, then
//! run once per test case in this one sandbox.
//!
//! The request is `BDR4`'s with, right after the magic, the index of the
//! first test step (u32) and flags (u8; 1: stop after the first test that
//! did not succeed). The steps before the first test (a compile step) run
//! while they succeed, as in `BDR4`. Then the code is sealed, as before a
//! `BDR4` request's last step, and the tests run one after another, each
//! with its own limits and frames, whatever the test before came to (unless
//! told to stop at a failure): the engine, not the runner, decides a test's
//! verdict. Between two tests the sandbox is put back as the first test
//! found it, short of the code: every process killed and reaped, the
//! runner's threads of the test ended, the scratch area and the message
//! queues emptied, the code sealed again (a program, its owner, may have
//! opened it up; what it changed there stays for the next test of the same
//! submission, never for another one). After the last test the request's
//! whole reset follows, as after any request.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::step::{self, Crew};
use crate::wire::Request;
use crate::reset;

/// How long the test's processes and threads may take to end.
const BETWEEN_TESTS: Duration = Duration::from_secs(5);
const MQUEUE_DIR: &str = "/dev/mqueue";

/// Writes the request's code, runs its set-up steps while they succeed and
/// then its tests.
pub fn serve(
    out: &mut io::Stdout,
    request: Request,
    first_test: usize,
    stop_on_failure: bool,
    crew: &mut Crew,
) -> Result<(), String> {
    crate::write_files(&request.files).map_err(|error| format!("cannot write the code: {error}"))?;
    if request.steps.len() <= first_test {
        return Err("no test to run".into());
    }
    let mut steps = request.steps.into_iter();
    for _ in 0..first_test {
        let set_up = match steps.next() {
            Some(step) => step,
            None => return Err("no test to run".into()),
        };
        if !step::run(out, set_up, crew)? {
            return Ok(());
        }
    }
    crate::prepare_last_step().map_err(|error| format!("cannot seal the code: {error}"))?;
    let mut first = true;
    for test in steps {
        if !first {
            between_tests(crew)?;
        }
        first = false;
        if !step::run(out, test, crew)? && stop_on_failure {
            break;
        }
    }
    Ok(())
}

/// Puts the sandbox back as the first test found it, short of the code.
fn between_tests(crew: &mut Crew) -> Result<(), String> {
    let deadline = Instant::now() + BETWEEN_TESTS;
    if !reset::kill_and_reap(deadline) {
        return Err("a test's processes were still running at the deadline".into());
    }
    let done = std::mem::replace(crew, Crew::new());
    if !done.join(deadline) {
        return Err("a runner thread of a test did not end".into());
    }
    reset::empty(Path::new(MQUEUE_DIR))
        .map_err(|error| format!("cannot empty {MQUEUE_DIR}: {error}"))?;
    // It empties the scratch area too.
    crate::prepare_last_step().map_err(|error| format!("cannot seal the code: {error}"))
}
