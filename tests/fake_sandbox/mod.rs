//! A sandbox that runs nothing, for the in-process tier: it answers every
//! submission at once with the entry file's content as stdout and what else
//! arrived (stdin, arguments, file names, time limit) as stderr, so a test
//! sees that a request crossed the cluster intact. An entry file of exactly
//! [`BLOCK`] holds its execution (and so its slot) until the test releases
//! it, which lets a test fill the engine without a clock.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use braindrill::sandbox::{Outcome, Sandbox, Status, StepOutcome, Submission};

/// The code that blocks in the sandbox until [`FakeSandbox::release`].
pub const BLOCK: &str = "block";

#[derive(Default)]
pub struct FakeSandbox {
    /// Told when an execution of [`BLOCK`] is in the sandbox.
    entered: Notify,
    /// Lets one execution of [`BLOCK`] finish.
    released: Notify,
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
}

impl Sandbox for FakeSandbox {
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
        async move {
            let code = submission
                .files
                .first()
                .map(|file| file.content.clone())
                .unwrap_or_default();
            if code == BLOCK {
                // notify_one keeps the news for a test that is not yet
                // waiting, and the release for an execution not yet here.
                self.entered.notify_one();
                self.released.notified().await;
            }
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
                    status: Status::Ok,
                    exit_code: Some(0),
                    signal: None,
                    stdout: code,
                    stderr: echo,
                    stdout_truncated: false,
                    stderr_truncated: false,
                    wall_time_ms: 1,
                    timeout_kind: None,
                    cpu_time_ms: None,
                    memory_peak_bytes: None,
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
