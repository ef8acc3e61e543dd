//! The reuse policy of warm sandboxes: whether a runner container serves one
//! execution (`single_use`) or, after its runner proved its reset clean,
//! goes back on its key's shelf for the next (`recycle`), up to a number of
//! executions and an age.
//!
//! The pool ([`warm_pool`](super::warm_pool)) and the pooled sandbox
//! ([`pooled`](super::pooled)) ask it; the proof itself is the runner's (its
//! `C` frame, read by [`warm_run`](super::warm_run)).

use std::time::Duration;

use serde::Deserialize;

use super::runner_container::RunnerContainer;

/// Whether a warm sandbox serves more than one execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReuseMode {
    /// One container, one execution, then it is removed.
    SingleUse,
    /// A container whose reset was proven clean serves the next execution
    /// of its key, within [`ReusePolicy::max_runs`] and
    /// [`ReusePolicy::max_age`].
    Recycle,
}

/// How long a warm sandbox may serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReusePolicy {
    pub mode: ReuseMode,
    /// Executions one container serves at most.
    pub max_runs: u32,
    /// A container older than this serves no further execution.
    pub max_age: Duration,
}

impl ReusePolicy {
    /// Today's behaviour: every container serves one execution.
    pub const SINGLE_USE: ReusePolicy = ReusePolicy {
        mode: ReuseMode::SingleUse,
        max_runs: 1,
        max_age: Duration::ZERO,
    };

    pub fn recycles(&self) -> bool {
        self.mode == ReuseMode::Recycle
    }

    /// Whether a container that came back clean may serve again.
    pub(super) fn keeps(&self, container: &RunnerContainer) -> bool {
        self.recycles() && container.runs < self.max_runs && container.born.elapsed() < self.max_age
    }
}
