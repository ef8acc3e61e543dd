//! Typed settings, loaded once at start from layered sources.
//!
//! Layers, later ones win: `config/default.toml` (compiled into the binary, so
//! it runs from anywhere), an optional file given with `--config`, the
//! original braindrill's environment variables (`CLUSTER_IP`, `HTTP_PORT`,
//! ...), and any key as `BRAINDRILL__SECTION__KEY`. A setting that does not
//! parse or does not make sense stops the process with a message naming the
//! key and the problem. A language's settings, and how its limits inherit
//! the defaults, are in [`languages`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::sandbox::{
    CpuSet, Limits, PoolSettings, PoolSizing, RequestedLimits, ReuseMode, ReusePolicy, sweeper,
};

pub use judge::JudgeSettings;
pub use languages::LanguageSettings;
pub use live::LiveSettings;
pub use worker_slots::SlotPlan;

mod judge;
mod languages;
mod live;
mod worker_slots;

const DEFAULT_SETTINGS: &str = include_str!("../../config/default.toml");
/// The cookie `config/default.toml` ships: anyone can read it, so a node
/// accepts it only in development mode (see [`crate::cluster::link`]).
pub const BUILT_IN_COOKIE: &str = "braindrill-dev-cookie";
/// Room left under the sweepers' orphan age for a recycled container's last
/// execution: more than the longest a request may ask for (a 60 s compile
/// and a 30 s run, by the wall clock) and the engine's graces.
const RECYCLE_AGE_MARGIN: Duration = Duration::from_secs(120);

/// The original's environment variables and the keys they set.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("CLUSTER_IP", "cluster.ip"),
    ("CLUSTER_PORT", "cluster.port"),
    ("CLUSTER_ROLE", "role"),
    ("SEED_IP", "cluster.seed_ip"),
    ("SEED_PORT", "cluster.seed_port"),
    ("CLUSTER_COOKIE", "cluster.cookie"),
    ("CLUSTER_COOKIE_FILE", "cluster.cookie_file"),
    ("CLUSTER_DEVELOPMENT", "cluster.development"),
    ("CLUSTER_TLS_CA", "cluster.tls.ca"),
    ("CLUSTER_TLS_CERT", "cluster.tls.cert"),
    ("CLUSTER_TLS_KEY", "cluster.tls.key"),
    ("NODE_NAME", "cluster.node_name"),
    ("HTTP_HOST", "http.host"),
    ("HTTP_PORT", "http.port"),
    ("WORKERS_PER_NODE", "worker.workers_per_node"),
    ("LOAD_BALANCERS", "master.load_balancers"),
    ("DOCKER_SOCKET", "sandbox.docker_socket"),
    ("JUDGE_DATABASE", "judge.database"),
    ("JUDGE_CALLBACK_SECRET", "judge.callback_secret"),
];

/// What this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// HTTP gateway and load balancers; executes nothing itself.
    Master,
    /// Router and worker actors; runs code in Docker.
    Worker,
    /// Master and worker in one process.
    Standalone,
}

impl Role {
    pub fn runs_master(self) -> bool {
        matches!(self, Role::Master | Role::Standalone)
    }

    pub fn runs_worker(self) -> bool {
        matches!(self, Role::Worker | Role::Standalone)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Worker => "worker",
            Role::Standalone => "standalone",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Set by `CLUSTER_ROLE` or the subcommand; standalone when neither is.
    pub role: Option<Role>,
    pub cluster: ClusterSettings,
    pub http: HttpSettings,
    pub master: MasterSettings,
    pub worker: WorkerSettings,
    pub sandbox: SandboxSettings,
    pub languages: BTreeMap<String, LanguageSettings>,
    /// The judge's store and webhooks.
    #[serde(default)]
    pub judge: JudgeSettings,
    /// Live (interactive) executions; every key has a default.
    #[serde(default)]
    pub live: LiveSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterSettings {
    pub ip: String,
    pub port: u16,
    pub seed_ip: String,
    pub seed_port: u16,
    pub cookie: String,
    /// A file holding the cookie (a Docker or Kubernetes secret); wins over
    /// `cookie` when set.
    pub cookie_file: String,
    /// Allows the built-in cookie and a clear-text link without TLS.
    pub development: bool,
    pub tls: TlsSettings,
    pub node_name: String,
    pub redial_initial_ms: u64,
    pub redial_max_ms: u64,
    pub ping_timeout_ms: u64,
    pub heartbeat_interval_ms: u64,
    pub heartbeat_misses: u32,
}

/// PEM files of the cluster link's mutual TLS; all empty: no TLS (allowed
/// in development mode only).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The certificate(s) of the cluster's authority.
    pub ca: String,
    /// This node's certificate (then any intermediates).
    pub cert: String,
    /// This node's private key.
    pub key: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    pub max_body_bytes: usize,
    pub max_json_body_bytes: usize,
    pub max_concurrent: usize,
    pub max_queued: usize,
    pub header_read_timeout_ms: u64,
    pub body_read_timeout_ms: u64,
    /// Each write of an answer must make progress within it.
    pub write_timeout_ms: u64,
    /// HTTP connections held at once.
    pub max_connections: usize,
    /// Keys a client must present; none means the API is open.
    pub api_keys: Vec<String>,
    /// CodeMirror's files for the playground page.
    pub codemirror_dir: std::path::PathBuf,
    pub deadline_margin_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MasterSettings {
    pub load_balancers: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkerSettings {
    /// Executions at once; 0: one per online CPU (see [`SlotPlan`]).
    pub workers_per_node: usize,
    /// Memory the node's executions may commit together; 0: half of the
    /// host's.
    pub memory_budget_mb: u64,
    pub queue_capacity: usize,
    /// Port of the worker node's own `GET /metrics` (on `http.host`); none
    /// serves no metrics (a standalone node's are on the master's).
    #[serde(default)]
    pub metrics_port: Option<u16>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SandboxSettings {
    pub docker_socket: String,
    pub docker_timeout_s: u64,
    /// The CPUs this node's sandboxes run on, as Docker writes them ("0",
    /// "0-1", "0,2-3"); empty: any of the host's. See [`Settings::cpuset`].
    #[serde(default)]
    pub cpuset: String,
    /// Whether sandboxes mount `/usr` from their image's runtime volume
    /// when one is ready (`sandbox::runtime_volume`).
    pub runtime_volume: bool,
    /// Limits of every execution, unless its language sets its own.
    pub limits: Limits,
    /// The most a request may ask for; every field is set.
    pub max_limits: RequestedLimits,
    pub pool: PoolSettingsFile,
    pub reuse: ReuseSettingsFile,
}

/// Whether a warm sandbox serves one execution or many, as written in
/// settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReuseSettingsFile {
    pub mode: ReuseMode,
    pub max_runs: u32,
    pub max_age_s: u64,
}

/// Warm sandboxes, as written in settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSettingsFile {
    pub enabled: bool,
    pub min_per_key: usize,
    pub max_total: usize,
    pub max_idle_s: u64,
    pub demand_window_s: u64,
}

impl Settings {
    /// Loads the layers and validates the result. `env` is the process
    /// environment as pairs (a parameter so that tests need not mutate the
    /// real one).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings> {
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_SETTINGS,
            config::FileFormat::Toml,
        ));
        if let Some(path) = file {
            if !path.exists() {
                bail!("configuration file {} does not exist", path.display());
            }
            builder = builder.add_source(config::File::from(path));
        }
        let prefixed: BTreeMap<String, String> = env
            .iter()
            .filter(|(key, _)| key.starts_with("BRAINDRILL__"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("BRAINDRILL")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(prefixed.into_iter().collect())),
        );
        // API_KEYS is a comma-separated list.
        if let Some(list) = env.get("API_KEYS") {
            let keys: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(str::to_string)
                .collect();
            builder = builder
                .set_override("http.api_keys", keys)
                .context("environment variable API_KEYS")?;
        }
        for (variable, key) in ENV_ALIASES {
            if let Some(value) = env.get(*variable) {
                let value = if *key == "role" {
                    value.to_lowercase()
                } else {
                    value.clone()
                };
                builder = builder
                    .set_override(*key, value)
                    .with_context(|| format!("environment variable {variable}"))?;
            }
        }
        let settings: Settings = builder
            .build()
            .context("invalid configuration")?
            .try_deserialize()
            .map_err(|error| anyhow::anyhow!("invalid configuration: {error}"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.judge.validate()?;
        self.live
            .check()
            .map_err(|error| error.context("invalid configuration"))?;
        if self.cluster.cookie.trim().is_empty() && self.cluster.cookie_file.trim().is_empty() {
            bail!("invalid configuration: cluster.cookie must not be empty");
        }
        if self.cluster.port == 0 {
            bail!("invalid configuration: cluster.port must be a port number above 0");
        }
        if self.cluster.redial_initial_ms == 0
            || self.cluster.redial_max_ms < self.cluster.redial_initial_ms
        {
            bail!(
                "invalid configuration: cluster.redial_initial_ms must be above 0 and at most cluster.redial_max_ms"
            );
        }
        if self.cluster.heartbeat_interval_ms == 0 || self.cluster.heartbeat_misses == 0 {
            bail!(
                "invalid configuration: cluster.heartbeat_interval_ms and cluster.heartbeat_misses must be above 0"
            );
        }
        if self.http.api_keys.iter().any(|key| key.len() < 16) {
            bail!("invalid configuration: http.api_keys must each be at least 16 characters long");
        }
        if self.http.header_read_timeout_ms == 0 || self.http.body_read_timeout_ms == 0 {
            bail!(
                "invalid configuration: http.header_read_timeout_ms and http.body_read_timeout_ms must be above 0"
            );
        }
        if self.http.write_timeout_ms == 0 || self.http.max_connections == 0 {
            bail!(
                "invalid configuration: http.write_timeout_ms and http.max_connections must be above 0"
            );
        }
        if self.http.max_concurrent == 0 {
            bail!("invalid configuration: http.max_concurrent must be at least 1");
        }
        if self.master.load_balancers == 0 {
            bail!("invalid configuration: master.load_balancers must be at least 1");
        }
        if self.sandbox.pool.enabled && self.sandbox.pool.demand_window_s == 0 {
            bail!("invalid configuration: sandbox.pool.demand_window_s must be at least 1");
        }
        self.cpuset()?;
        if self.http.max_body_bytes == 0 {
            bail!("invalid configuration: http.max_body_bytes must be at least 1");
        }
        let max = &self.sandbox.max_limits;
        for (field, set) in [
            ("timeout_ms", max.timeout_ms.is_some()),
            ("compile_timeout_ms", max.compile_timeout_ms.is_some()),
            ("cpu_time_ms", max.cpu_time_ms.is_some()),
            ("compile_cpu_time_ms", max.compile_cpu_time_ms.is_some()),
            ("memory_mb", max.memory_mb.is_some()),
            ("output_bytes", max.output_bytes.is_some()),
        ] {
            if !set {
                bail!("invalid configuration: sandbox.max_limits.{field} is missing");
            }
        }
        if self.languages.is_empty() {
            bail!("invalid configuration: languages must name at least one language");
        }
        self.languages()?;
        Ok(())
    }

    /// The warm pool's sizes, or `None` when it is off.
    pub fn pool(&self) -> Option<PoolSettings> {
        let pool = &self.sandbox.pool;
        let slots = self.worker_slots().slots;
        (pool.enabled && pool.max_total > 0).then(|| PoolSettings {
            sizing: PoolSizing {
                min_per_key: pool.min_per_key,
                // No more executions of one key run at once than the
                // node's worker slots.
                max_per_key: slots,
                max_total: pool.max_total,
                demand_window: Duration::from_secs(pool.demand_window_s),
            },
            // A running container older than that is an orphan to the
            // sweepers of every node.
            max_idle: Duration::from_secs(pool.max_idle_s).min(sweeper::MAX_WARM_AGE),
            // Refill while at most half the node's workers are busy.
            refill_below_in_flight: (slots / 2).max(1),
            reuse: self.reuse(),
        })
    }

    /// The reuse policy of warm sandboxes.
    pub fn reuse(&self) -> ReusePolicy {
        let reuse = &self.sandbox.reuse;
        match reuse.mode {
            ReuseMode::SingleUse => ReusePolicy::SINGLE_USE,
            ReuseMode::Recycle => ReusePolicy {
                mode: ReuseMode::Recycle,
                max_runs: reuse.max_runs.max(1),
                // A running container older than MAX_WARM_AGE is an orphan
                // to the sweepers: a recycled one stops taking executions
                // early enough for the longest to end before that.
                max_age: Duration::from_secs(reuse.max_age_s)
                    .min(sweeper::MAX_WARM_AGE.saturating_sub(RECYCLE_AGE_MARGIN)),
            },
        }
    }

    /// The CPUs this node's sandboxes are pinned to (`sandbox.cpuset`), or
    /// none when it is empty; an error names the key and what is wrong.
    pub fn cpuset(&self) -> anyhow::Result<Option<CpuSet>> {
        let text = self.sandbox.cpuset.trim();
        if text.is_empty() {
            return Ok(None);
        }
        CpuSet::parse(text)
            .map(Some)
            .map_err(|problem| anyhow::anyhow!("invalid configuration: sandbox.cpuset {problem}"))
    }

    /// This node's slots: executions it runs at once (one per CPU of its
    /// cpuset, when it has one).
    pub fn worker_slots(&self) -> SlotPlan {
        let largest_memory = self
            .languages()
            .ok()
            .and_then(|languages| {
                languages
                    .iter()
                    .map(|language| language.limits.memory_bytes)
                    .max()
            })
            .unwrap_or(self.sandbox.limits.memory_bytes);
        SlotPlan::new(
            self.worker.workers_per_node,
            // Checked at load.
            self.cpuset().ok().flatten().map(|cpuset| cpuset.len()),
            self.worker.memory_budget_mb,
            largest_memory >> 20,
        )
    }

    pub fn role(&self) -> Role {
        self.role.unwrap_or(Role::Standalone)
    }

    /// This node's name in the cluster: unique per node, stable across a
    /// restart of the same node (so it can sweep what it left behind). By
    /// default role, host name and cluster port: distinct for replicas of a
    /// compose service (each has its own host name) and for several
    /// processes on one host (each has its own port).
    pub fn node_name(&self) -> String {
        if !self.cluster.node_name.trim().is_empty() {
            return self.cluster.node_name.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .ok()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| self.cluster.ip.clone());
        format!("{}-{}-{}", self.role().as_str(), host, self.cluster.port)
    }

    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.cluster.ping_timeout_ms)
    }
}

#[cfg(test)]
mod tests;
