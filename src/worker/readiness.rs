//! The node's last known readiness: a background task asks the sandbox's
//! engine whether it can run code, every [`CHECK_INTERVAL`], and keeps the
//! answer. A heartbeat ping is answered from it at once: an engine slowed
//! by container churn makes the check late, not the ping, so the master
//! does not take a busy node for a lost one and run its executions twice.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::sandbox::Sandbox;

/// How often the engine is checked.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// A check that takes longer says the engine cannot run code.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The latest check's answer, kept up to date until dropped.
pub struct Readiness {
    latest: watch::Receiver<Result<(), String>>,
    checker: JoinHandle<()>,
}

impl Readiness {
    /// Checks `sandbox` once (so that the node's first ping already knows),
    /// then every [`CHECK_INTERVAL`] in the background.
    pub async fn start(sandbox: Arc<dyn Sandbox>) -> Readiness {
        let (sender, latest) = watch::channel(check(sandbox.as_ref()).await);
        let checker = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(CHECK_INTERVAL);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let answer = check(sandbox.as_ref()).await;
                sender.send_if_modified(|held| {
                    let changed = *held != answer;
                    *held = answer;
                    changed
                });
            }
        });
        Readiness { latest, checker }
    }

    /// Whether the node could run code at the latest check, and if not why.
    pub fn latest(&self) -> Result<(), String> {
        self.latest.borrow().clone()
    }
}

/// One check of the engine, bounded by [`CHECK_TIMEOUT`].
async fn check(sandbox: &dyn Sandbox) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, sandbox.check_ready()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("{error:#}")),
        Err(_) => Err(format!(
            "the Docker engine did not answer within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    }
}

impl Drop for Readiness {
    fn drop(&mut self) {
        self.checker.abort();
    }
}
