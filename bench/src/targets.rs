//! The speed issue's targets and this run's verdict on each: the sequential
//! latency against `docker run`, the throughput against the direct sandbox
//! at eight clients, the cluster hop, and the idle and loaded memory of the
//! master and the worker. A target this run could not measure (a level not
//! run, a PID not given) is "not measured", neither met nor failed.

use crate::memory::{MemoryReport, ProcessMemory, RSS_INTERVAL, Role};
use crate::report::{LevelReport, TargetCheck};
use crate::stats::SANDBOX_US_HEADER;

/// The speed issue's targets.
const TARGET_RATIO_P50: f64 = 0.35;
const AIM_RATIO_P50: f64 = 0.15;
const TARGET_DIRECT_THROUGHPUT: f64 = 0.95;
const TARGET_DIRECT_CONCURRENCY: usize = 8;
const TARGET_HOP_P50_MS: f64 = 2.0;
const TARGET_IDLE_MASTER_MIB: f64 = 30.0;
const TARGET_IDLE_WORKER_MIB: f64 = 40.0;

/// The idle target of a role, MiB; under load it may take twice that.
fn idle_target_mib(role: Role) -> f64 {
    match role {
        Role::Master => TARGET_IDLE_MASTER_MIB,
        Role::Worker => TARGET_IDLE_WORKER_MIB,
    }
}

impl TargetCheck {
    fn new(
        target: String,
        threshold: String,
        value: f64,
        unit: &str,
        met: fn(f64) -> bool,
    ) -> Self {
        let measured = if value.is_finite() {
            format!("{value:.2}{unit}")
        } else {
            "not measured".into()
        };
        TargetCheck {
            target,
            threshold,
            value,
            measured,
            met: value.is_finite().then(|| met(value)),
            note: String::new(),
        }
    }

    fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    pub fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "not measured",
        }
    }
}

/// Every target against this run's levels and memory.
pub fn check_targets(levels: &[LevelReport], memory: &MemoryReport) -> Vec<TargetCheck> {
    let level = |concurrency: usize| levels.iter().find(|level| level.concurrency == concurrency);
    let mut targets = Vec::new();

    let ratio = level(1).map_or(f64::NAN, |level| level.ratio_p50);
    let aim = if !ratio.is_finite() {
        "run --concurrency 1 to measure it".to_string()
    } else if ratio <= AIM_RATIO_P50 {
        format!("the aim {AIM_RATIO_P50} is met too")
    } else {
        format!("aim {AIM_RATIO_P50}: not met yet")
    };
    targets.push(
        TargetCheck::new(
            "sequential (c=1) p50 engine / docker run".into(),
            format!("<= {TARGET_RATIO_P50} (aim {AIM_RATIO_P50})"),
            ratio,
            "",
            |ratio| ratio <= TARGET_RATIO_P50,
        )
        .with_note(aim),
    );

    let c = TARGET_DIRECT_CONCURRENCY;
    let throughput = level(c).map_or(f64::NAN, |level| level.throughput_engine_over_direct);
    let note = match level(c) {
        Some(level) => format!(
            "engine {:.2}/s, direct {:.2}/s",
            level.engine.summary.throughput_rps, level.direct.summary.throughput_rps
        ),
        None => format!("run --concurrency {c} to measure it"),
    };
    targets.push(
        TargetCheck::new(
            format!("c={c} throughput engine / direct cold sandbox"),
            format!(">= {TARGET_DIRECT_THROUGHPUT}"),
            throughput,
            "",
            |ratio| ratio >= TARGET_DIRECT_THROUGHPUT,
        )
        .with_note(note),
    );

    for level in levels {
        let hop = &level.hop;
        let value = if hop.available { hop.p50_ms } else { f64::NAN };
        let note = if hop.available {
            format!("p90 {:.2} ms, p99 {:.2} ms", hop.p90_ms, hop.p99_ms)
        } else {
            format!("unavailable: no answer carried {SANDBOX_US_HEADER}")
        };
        targets.push(
            TargetCheck::new(
                format!("hop p50 at c={}", level.concurrency),
                format!("<= {TARGET_HOP_P50_MS} ms"),
                value,
                " ms",
                |ms| ms <= TARGET_HOP_P50_MS,
            )
            .with_note(note),
        );
    }

    for role in [Role::Master, Role::Worker] {
        let of_role: Vec<&ProcessMemory> = memory
            .processes
            .iter()
            .filter(|process| process.role == role)
            .collect();
        // The worst process of the role is the one compared.
        let worst = |value: fn(&ProcessMemory) -> f64| {
            of_role
                .iter()
                .map(|process| value(process))
                .fold(f64::NAN, f64::max)
        };
        let pids = if of_role.is_empty() {
            format!("give --{}-pid to measure it", role.as_str())
        } else {
            let pids: Vec<String> = of_role.iter().map(|p| p.pid.to_string()).collect();
            format!("pid {}", pids.join(", "))
        };
        let idle_target = idle_target_mib(role);
        targets.push(
            TargetCheck::new(
                format!("idle RSS {}", role.as_str()),
                format!("< {idle_target} MiB"),
                worst(|process| process.idle_mib),
                " MiB",
                match role {
                    Role::Master => |mib| mib < TARGET_IDLE_MASTER_MIB,
                    Role::Worker => |mib| mib < TARGET_IDLE_WORKER_MIB,
                },
            )
            .with_note(pids.clone()),
        );
        targets.push(
            TargetCheck::new(
                format!("RSS under load {}", role.as_str()),
                format!("<= {} MiB", 2.0 * idle_target),
                worst(|process| process.load_max_mib),
                " MiB",
                match role {
                    Role::Master => |mib| mib <= 2.0 * TARGET_IDLE_MASTER_MIB,
                    Role::Worker => |mib| mib <= 2.0 * TARGET_IDLE_WORKER_MIB,
                },
            )
            .with_note(format!(
                "{pids}; max of samples every {} ms",
                RSS_INTERVAL.as_millis()
            )),
        );
    }
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmeasured_targets_are_neither_met_nor_failed() {
        let levels: Vec<LevelReport> = Vec::new();
        let memory = MemoryReport {
            sample_interval_ms: 100,
            processes: vec![ProcessMemory {
                role: Role::Master,
                pid: 1,
                idle_mib: 12.0,
                load_max_mib: 70.0,
                samples: 3,
                failed_samples: 0,
                vm_hwm_mib: 70.0,
            }],
        };
        let targets = check_targets(&levels, &memory);
        let verdict = |name: &str| {
            targets
                .iter()
                .find(|target| target.target == name)
                .map(TargetCheck::verdict)
        };
        assert_eq!(
            verdict("sequential (c=1) p50 engine / docker run"),
            Some("not measured")
        );
        assert_eq!(verdict("idle RSS master"), Some("met"));
        assert_eq!(verdict("RSS under load master"), Some("not met"));
        assert_eq!(verdict("idle RSS worker"), Some("not measured"));
    }
}
