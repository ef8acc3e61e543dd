//! The judge's settings (`[judge]`): where its database is, how long its
//! results are kept and how much of their output, and its webhooks.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeSettings {
    /// The SQLite database file.
    pub database: String,
    /// Seconds a finished submission is kept.
    pub retention_s: u64,
    pub retention_interval_s: u64,
    /// Bytes of each stream of each test kept in the store.
    pub max_stored_output_bytes: usize,
    /// Submissions dispatched at once.
    pub max_running: usize,
    /// Seconds a submission retries refusals of the cluster.
    pub queue_timeout_s: u64,
    /// The webhooks' HMAC-SHA256 secret; empty: no callbacks.
    pub callback_secret: String,
    /// Hosts a callback may go to; empty: any public host.
    pub callback_hosts: Vec<String>,
    /// Seconds a failed delivery is retried.
    pub callback_retry_s: u64,
    pub callback_attempt_timeout_ms: u64,
}

impl Default for JudgeSettings {
    fn default() -> JudgeSettings {
        JudgeSettings {
            database: "/var/lib/braindrill/judge.sqlite".into(),
            retention_s: 7 * 24 * 3600,
            retention_interval_s: 60,
            max_stored_output_bytes: 64 * 1024,
            max_running: 16,
            queue_timeout_s: 600,
            callback_secret: String::new(),
            callback_hosts: Vec::new(),
            callback_retry_s: 300,
            callback_attempt_timeout_ms: 5000,
        }
    }
}

impl JudgeSettings {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if self.database.is_empty() {
            anyhow::bail!("invalid configuration: judge.database must name a file");
        }
        if self.max_running == 0 {
            anyhow::bail!("invalid configuration: judge.max_running must be at least 1");
        }
        if self.retention_interval_s == 0 {
            anyhow::bail!("invalid configuration: judge.retention_interval_s must be at least 1");
        }
        Ok(())
    }
}
