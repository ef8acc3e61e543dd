//! A sandbox that runs nothing, for the in-process tier: it answers every
//! submission at once with the entry file's content as stdout and what else
//! arrived (stdin, arguments, file names, time limit) as stderr, so a test
//! sees that a request crossed the cluster intact. An entry file of exactly
//! [`BLOCK`] holds its execution (and so its slot) until the test releases
//! it, which lets a test fill the engine without a clock. It counts, by
//! code, the executions that started and those dropped before their end
//! (cancelled); an entry file starting with [`HOLD`] holds its execution
//! until [`FakeSandbox::release_hold`] names it, so a test can cancel it.

#![allow(dead_code)] // each test binary uses its own part of it

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, watch};

use braindrill::sandbox::{Outcome, Sandbox, Status, StepOutcome, Submission};

/// The code that blocks in the sandbox until [`FakeSandbox::release`].
pub const BLOCK: &str = "block";
/// The prefix of codes held until [`FakeSandbox::release_hold`].
pub const HOLD: &str = "hold:";

/// What became of the executions of one code.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub started: usize,
    /// Dropped before their end: their executor was killed.
    pub cancelled: usize,
}

pub struct FakeSandbox {
    /// Told when an execution of [`BLOCK`] is in the sandbox.
    entered: Notify,
    /// Lets one execution of [`BLOCK`] finish.
    released: Notify,
    seen: watch::Sender<BTreeMap<String, Seen>>,
    holds: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Default for FakeSandbox {
    fn default() -> FakeSandbox {
        FakeSandbox {
            entered: Notify::new(),
            released: Notify::new(),
            seen: watch::Sender::new(BTreeMap::new()),
            holds: Mutex::default(),
        }
    }
}

/// Counts its execution as cancelled if dropped while armed.
struct CountCancel<'a> {
    seen: &'a watch::Sender<BTreeMap<String, Seen>>,
    code: String,
    armed: bool,
}

impl Drop for CountCancel<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.seen
                .send_modify(|seen| seen.entry(self.code.clone()).or_default().cancelled += 1);
        }
    }
}

impl FakeSandbox {
    /// Resolves once an execution of [`BLOCK`] has entered the sandbox (or
    /// at once if one entered since the last call).
    pub async fn blocked(&self) {
        self.entered.notified().await;
    }

    /// Lets one execution of [`BLOCK`] finish (now, or when it arrives).
    pub fn release(&self) {
        self.released.notify_one();
    }

    /// Lets the held execution of `code` finish (now, or when it arrives).
    pub fn release_hold(&self, code: &str) {
        self.hold(code).notify_one();
    }

    fn hold(&self, code: &str) -> Arc<Notify> {
        let mut holds = self
            .holds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        holds.entry(code.to_string()).or_default().clone()
    }

    /// What became of the executions of `code` so far.
    pub fn seen(&self, code: &str) -> Seen {
        self.seen.borrow().get(code).copied().unwrap_or_default()
    }

    /// Waits (30 s at most, else panics saying `what`) until the executions
    /// of `code` satisfy `wanted`.
    pub async fn until(&self, code: &str, wanted: impl Fn(Seen) -> bool, what: &str) {
        let mut seen = self.seen.subscribe();
        let reached = tokio::time::timeout(
            Duration::from_secs(30),
            seen.wait_for(|seen| wanted(seen.get(code).copied().unwrap_or_default())),
        )
        .await;
        assert!(
            matches!(reached, Ok(Ok(_))),
            "{what}: {:?}",
            self.seen(code)
        );
    }
}

impl Sandbox for FakeSandbox {
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
        async move {
            let code = submission
                .files
                .first()
                .map(|file| file.content.clone())
                .unwrap_or_default();
            self.seen
                .send_modify(|seen| seen.entry(code.clone()).or_default().started += 1);
            let mut count_cancel = CountCancel {
                seen: &self.seen,
                code: code.clone(),
                armed: true,
            };
            if code == BLOCK {
                // notify_one keeps the news for a test that is not yet
                // waiting, and the release for an execution not yet here.
                self.entered.notify_one();
                self.released.notified().await;
            }
            if code.starts_with(HOLD) {
                let hold = self.hold(&code);
                hold.notified().await;
            }
            count_cancel.armed = false;
            let names: Vec<&str> = submission
                .files
                .iter()
                .map(|file| file.name.as_str())
                .collect();
            let echo = format!(
                "stdin={:?} args={:?} files={:?} timeout_ms={}",
                submission.stdin,
                submission.args,
                names,
                submission.limits.timeout.as_millis()
            );
            Outcome {
                execution_id: submission.execution_id,
                status: Status::Ok,
                compile: None,
                run: Some(StepOutcome {
                    exit_code: Some(0),
                    stdout: code,
                    stderr: echo,
                    wall_time_ms: 1,
                    ..StepOutcome::empty(Status::Ok)
                }),
                error: None,
            }
        }
        .boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        async { Ok(()) }.boxed()
    }
}
