//! The resident memory of the node's processes, read from
//! `/proc/PID/status`: each process's VmRSS once while idle (before the
//! warm-up), then every [`RSS_INTERVAL`] during the load by a task of its
//! own, per level and over the whole run, and the kernel's VmHWM at the end.
//! A standalone node is one process that plays both roles.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;

/// How often the processes' resident memory is read during the load.
pub const RSS_INTERVAL: Duration = Duration::from_millis(100);
/// Most processes whose memory is watched.
const MAX_PIDS: usize = 16;

/// Which part of the node a watched process plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Master,
    Worker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Worker => "worker",
        }
    }
}

/// The processes to watch, masters first; a PID given for both roles (a
/// standalone node) is watched as both.
pub fn watched_processes(masters: &[u32], workers: &[u32]) -> anyhow::Result<Vec<(Role, u32)>> {
    let mut watched: Vec<(Role, u32)> = Vec::new();
    for (role, pids) in [(Role::Master, masters), (Role::Worker, workers)] {
        for &pid in pids {
            if !watched.contains(&(role, pid)) {
                watched.push((role, pid));
            }
        }
    }
    if watched.len() > MAX_PIDS {
        bail!("at most {MAX_PIDS} processes can be watched");
    }
    Ok(watched)
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn proc_status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_status_kib(&status, field).ok_or_else(|| anyhow!("{path} has no {field} line"))
}

/// `field:   12345 kB` of a `/proc/PID/status` text.
fn parse_status_kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let mut words = rest.split_whitespace();
        let value = words.next()?.parse::<u64>().ok()?;
        (words.next() == Some("kB")).then_some(value)
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The VmRSS of each watched process now, KiB.
pub fn idle_rss(watched: &[(Role, u32)]) -> anyhow::Result<Vec<u64>> {
    watched
        .iter()
        .map(|&(role, pid)| {
            proc_status_kib(pid, "VmRSS").with_context(|| format!("--{}-pid {pid}", role.as_str()))
        })
        .collect()
}

/// What the sampler knows of one process.
struct Watched {
    role: Role,
    pid: u32,
    max_kib: Option<u64>,
    level_max_kib: Option<u64>,
    samples: usize,
    failed: usize,
}

/// Reads the watched processes' VmRSS every [`RSS_INTERVAL`] in a task of
/// its own, which ends when the sampler is finished or dropped.
pub struct RssSampler {
    state: Arc<Mutex<Vec<Watched>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(watched: &[(Role, u32)]) -> RssSampler {
        let state = Arc::new(Mutex::new(
            watched
                .iter()
                .map(|&(role, pid)| Watched {
                    role,
                    pid,
                    max_kib: None,
                    level_max_kib: None,
                    samples: 0,
                    failed: 0,
                })
                .collect::<Vec<_>>(),
        ));
        if watched.is_empty() {
            return RssSampler { state, task: None };
        }
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(RSS_INTERVAL);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                ticks.tick().await;
                let Ok(mut state) = shared.lock() else { return };
                for process in state.iter_mut() {
                    match proc_status_kib(process.pid, "VmRSS") {
                        Ok(kib) => {
                            process.samples += 1;
                            process.max_kib = process.max_kib.max(Some(kib));
                            process.level_max_kib = process.level_max_kib.max(Some(kib));
                        }
                        Err(_) => process.failed += 1,
                    }
                }
            }
        });
        RssSampler {
            state,
            task: Some(task),
        }
    }

    pub fn start_level(&self) {
        if let Ok(mut state) = self.state.lock() {
            for process in state.iter_mut() {
                process.level_max_kib = None;
            }
        }
    }

    /// The highest VmRSS of each process since the level started.
    pub fn level_peaks(&self) -> Vec<ProcessPeak> {
        let Ok(state) = self.state.lock() else {
            return Vec::new();
        };
        state
            .iter()
            .map(|process| ProcessPeak {
                role: process.role,
                pid: process.pid,
                max_mib: process.level_max_kib.map_or(f64::NAN, mib),
            })
            .collect()
    }

    /// Stops sampling; `idle` holds each process's idle VmRSS in KiB.
    pub fn finish(mut self, idle: Vec<u64>) -> MemoryReport {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let processes = match self.state.lock() {
            Ok(state) => state
                .iter()
                .zip(idle)
                .map(|(process, idle_kib)| ProcessMemory {
                    role: process.role,
                    pid: process.pid,
                    idle_mib: mib(idle_kib),
                    load_max_mib: process.max_kib.map_or(f64::NAN, mib),
                    samples: process.samples,
                    failed_samples: process.failed,
                    vm_hwm_mib: proc_status_kib(process.pid, "VmHWM").map_or(f64::NAN, mib),
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        MemoryReport {
            sample_interval_ms: RSS_INTERVAL.as_millis() as u64,
            processes,
        }
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[derive(Serialize)]
pub struct MemoryReport {
    pub sample_interval_ms: u64,
    pub processes: Vec<ProcessMemory>,
}

/// VmRSS of one process from `/proc/PID/status`, MiB.
#[derive(Serialize)]
pub struct ProcessMemory {
    pub role: Role,
    pub pid: u32,
    /// Before the warm-up.
    pub idle_mib: f64,
    /// The highest sample during the measured levels (null: none read).
    pub load_max_mib: f64,
    pub samples: usize,
    pub failed_samples: usize,
    /// The kernel's peak RSS of the process's whole life, read at the end.
    pub vm_hwm_mib: f64,
}

#[derive(Serialize)]
pub struct ProcessPeak {
    pub role: Role,
    pub pid: u32,
    pub max_mib: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_status_fields_are_read_in_kib() {
        let status = "Name:\tbraindrill\nVmHWM:\t   12000 kB\nVmRSS:\t   10880 kB\nThreads:\t9\n";
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(10_880));
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(12_000));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
        assert_eq!(parse_status_kib("VmRSS:\tlots kB\n", "VmRSS"), None);
        assert_eq!(parse_status_kib("VmRSSX: 1 kB\n", "VmRSS"), None);
    }

    #[test]
    fn a_standalone_pid_is_watched_as_both_roles() {
        let watched = watched_processes(&[7, 7], &[7, 9]).expect("few pids");
        assert_eq!(
            watched,
            vec![(Role::Master, 7), (Role::Worker, 7), (Role::Worker, 9)]
        );
        assert!(watched_processes(&(0..20).collect::<Vec<u32>>(), &[]).is_err());
    }
}
