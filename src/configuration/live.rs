//! Settings of live (interactive) executions (`[live]`, all optional):
//! how many a master holds at once, in all and per API key, and an
//! interactive run's own limits: a wall clock larger than a batch run's (a
//! run waiting for its user's input uses no CPU, and its CPU-time limit
//! still holds) and an idle limit.

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

/// The longest wall clock of a live run: a running sandbox older than the
/// sweepers' orphan age (10 minutes) would be taken for an orphan.
const MAX_WALL: Duration = Duration::from_secs(540);

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    /// Live runs a master holds at once; past it, `busy`.
    pub max_per_master: usize,
    /// Live runs one API key holds at once (with keys on); past it, `busy`.
    pub max_per_key: usize,
    /// Wall-clock limit of a live run that sets no `limits.timeout_ms`.
    pub wall_timeout_ms: u64,
    /// A live run that neither writes output nor is sent input for this
    /// long ends (a timeout).
    pub idle_timeout_ms: u64,
}

impl Default for LiveSettings {
    fn default() -> LiveSettings {
        LiveSettings {
            max_per_master: 64,
            max_per_key: 4,
            wall_timeout_ms: 300_000,
            idle_timeout_ms: 60_000,
        }
    }
}

impl LiveSettings {
    /// Refuses settings that cannot work, naming the key.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.wall_timeout_ms == 0 || Duration::from_millis(self.wall_timeout_ms) > MAX_WALL {
            bail!(
                "live.wall_timeout_ms must be between 1 and {} (the sweepers' orphan age less a margin)",
                MAX_WALL.as_millis()
            );
        }
        if self.idle_timeout_ms == 0 {
            bail!("live.idle_timeout_ms must be at least 1");
        }
        Ok(())
    }
}
