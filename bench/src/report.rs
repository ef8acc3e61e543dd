//! What `braindrill-bench http` reports: the JSON document (every latency,
//! the summaries, the hop, the memory and the targets, with the machine and
//! the date) and the markdown tables printed at the end, one per question:
//! latency against `docker run`, throughput against the direct sandbox with
//! the hop, memory, and the targets.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::environment::Machine;
use crate::memory::{MemoryReport, ProcessPeak};
use crate::stats::{HopReport, SeriesReport};

/// One concurrency level: the three sides, the hop and the memory peaks.
#[derive(Serialize)]
pub struct LevelReport {
    pub concurrency: usize,
    pub engine: SeriesReport,
    pub baseline: SeriesReport,
    /// The library's cold sandbox run in-process at the same concurrency.
    pub direct: SeriesReport,
    pub hop: HopReport,
    /// Engine p50 over baseline p50.
    pub ratio_p50: f64,
    /// Engine throughput over direct throughput.
    pub throughput_engine_over_direct: f64,
    /// The highest VmRSS of each watched process during this level, MiB.
    pub rss_max: Vec<ProcessPeak>,
    /// Whether the time bound cut this level short.
    pub truncated: bool,
}

/// The JSON document of one run.
#[derive(Serialize)]
pub struct HttpReport {
    pub date: String,
    pub machine: Machine,
    pub url: String,
    pub language: String,
    pub code: String,
    pub note: String,
    pub requests_per_level: u64,
    pub baseline_every: u64,
    pub baseline_command: Vec<String>,
    pub direct_every: u64,
    /// The node name (label `braindrill.node`) of the direct sandbox.
    pub direct_node: String,
    pub levels: Vec<LevelReport>,
    pub memory: MemoryReport,
    pub targets: Vec<TargetCheck>,
}

/// Prints the tables of a finished run.
pub fn print_report(report: &HttpReport) {
    println!("{}", markdown_table(&report.levels));
    println!("{}", level_table(&report.levels));
    println!("{}", memory_table(&report.memory));
    println!("{}", targets_table(&report.targets));
}

/// One line per level, as soon as the level ends.
pub fn print_level(level: &LevelReport) {
    let (engine, baseline, direct) = (
        &level.engine.summary,
        &level.baseline.summary,
        &level.direct.summary,
    );
    println!(
        "concurrency {}: engine p50 {:.0} ms {:.2}/s ({} ok, {} errors), direct p50 {:.0} ms {:.2}/s ({} ok, {} errors), baseline p50 {:.0} ms ({} ok, {} errors), ratio p50 {:.2}, throughput engine/direct {:.2}, hop p50 {}{}",
        level.concurrency,
        engine.p50_ms,
        engine.throughput_rps,
        engine.ok,
        engine.errors,
        direct.p50_ms,
        direct.throughput_rps,
        direct.ok,
        direct.errors,
        baseline.p50_ms,
        baseline.ok,
        baseline.errors,
        level.ratio_p50,
        level.throughput_engine_over_direct,
        hop_ms(level.hop.available, level.hop.p50_ms),
        if level.truncated {
            " (cut short by the time bound)"
        } else {
            ""
        }
    );
}

/// A hop figure, or why there is none.
fn hop_ms(available: bool, ms: f64) -> String {
    if available {
        format!("{ms:.2} ms")
    } else {
        "unavailable".into()
    }
}

/// Latency of the three sides per level, and the engine over the baseline.
fn markdown_table(levels: &[LevelReport]) -> String {
    let mut table = String::from(
        "| concurrency | side | ok | errors | p50 ms | p90 ms | p99 ms | max ms | req/s | p50 engine / baseline |\n\
         |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for level in levels {
        for (side, series) in [
            ("engine", &level.engine),
            ("direct (cold sandbox)", &level.direct),
            ("docker run", &level.baseline),
        ] {
            let s = &series.summary;
            let ratio = if side == "engine" {
                format!("{:.2}", level.ratio_p50)
            } else {
                String::new()
            };
            table.push_str(&format!(
                "| {} | {side} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {ratio} |\n",
                level.concurrency,
                s.ok,
                s.errors,
                s.p50_ms,
                s.p90_ms,
                s.p99_ms,
                s.max_ms,
                s.throughput_rps
            ));
        }
    }
    table
}

/// Throughput against the direct sandbox and the cluster hop, per level.
fn level_table(levels: &[LevelReport]) -> String {
    let mut table = String::from(
        "| concurrency | engine req/s | direct req/s | engine / direct | hop p50 ms | hop p90 ms | hop p99 ms | sandbox p50 ms | answers without the header |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for level in levels {
        let hop = &level.hop;
        let figure = |ms: f64| {
            if hop.available {
                format!("{ms:.2}")
            } else {
                "unavailable".into()
            }
        };
        table.push_str(&format!(
            "| {} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} |\n",
            level.concurrency,
            level.engine.summary.throughput_rps,
            level.direct.summary.throughput_rps,
            level.throughput_engine_over_direct,
            figure(hop.p50_ms),
            figure(hop.p90_ms),
            figure(hop.p99_ms),
            figure(hop.sandbox_p50_ms),
            hop.without_header,
        ));
    }
    table
}

/// Idle and peak resident memory of each watched process.
fn memory_table(memory: &MemoryReport) -> String {
    if memory.processes.is_empty() {
        return "memory: not measured (give --master-pid and --worker-pid)\n".into();
    }
    let mut table = String::from(
        "| process | pid | idle VmRSS MiB | max VmRSS under load MiB | samples | failed samples | VmHWM at the end MiB |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for process in &memory.processes {
        table.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {} | {} | {:.1} |\n",
            process.role.as_str(),
            process.pid,
            process.idle_mib,
            process.load_max_mib,
            process.samples,
            process.failed_samples,
            process.vm_hwm_mib,
        ));
    }
    table
}

/// Each target and this run's verdict.
fn targets_table(targets: &[TargetCheck]) -> String {
    let mut table = String::from(
        "targets:\n\n| target | threshold | measured | verdict | note |\n|---|---|---|---|---|\n",
    );
    for target in targets {
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            target.target,
            target.threshold,
            target.measured,
            target.verdict(),
            target.note
        ));
    }
    table
}

/// Writes `contents` to `path`, creating its folder.
pub fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// One target of the speed issue and how this run fared.
#[derive(Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub threshold: String,
    /// The figure compared (null when not measured).
    pub value: f64,
    pub measured: String,
    /// Null when this run could not measure it.
    pub met: Option<bool>,
    pub note: String,
}
