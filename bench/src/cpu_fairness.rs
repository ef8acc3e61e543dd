//! `braindrill-bench cpu-fairness`: whether a verdict and a CPU time hold
//! under load. A python program that burns a fixed CPU time of its own
//! (`--cpu-s`, 0.35 s by default) goes through `POST /api/v1/execute` of a
//! running node at each concurrency level (1 and 16 by default); per level
//! the statuses, the CPU time the engine reports (`cpu_time_ms`: p50, p90,
//! max) and the wall time the client saw, and the ratio of each level's
//! median CPU time to the first level's (the target: within 20 percent).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::JOB_TIMEOUT;
use crate::http_load::{check_url, wait_ready};
use crate::report::write_file;
use crate::stats::{median, percentile};

#[derive(Args)]
pub struct CpuFairnessArgs {
    /// The node's HTTP address; only http://127.0.0.1:PORT is accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Concurrency levels, each measured in turn.
    #[arg(long, num_args = 1.., default_values_t = [1u64, 16], value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: Vec<u64>,
    /// Requests per level (at most 500).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=500))]
    pub requests: u64,
    /// CPU seconds the program burns (0.01 to 2).
    #[arg(long, default_value_t = 0.35)]
    pub cpu_s: f64,
    /// Where the summary goes (JSON).
    #[arg(long, default_value = "docs/bench-cpu-fairness.json")]
    pub out: PathBuf,
}

/// What one request came to.
struct Answer {
    /// `status` of a 200 answer, else `HTTP n` or the transport error.
    verdict: String,
    cpu_time_ms: Option<u64>,
    wall: Duration,
}

#[derive(Serialize)]
struct LevelReport {
    concurrency: u64,
    requests: u64,
    /// Answers by verdict (`ok`, `timeout (cpu)`, `HTTP 429`, ...).
    verdicts: BTreeMap<String, u64>,
    cpu_time_ms_p50: f64,
    cpu_time_ms_p90: f64,
    cpu_time_ms_max: f64,
    /// Answers without `cpu_time_ms`.
    cpu_time_missing: u64,
    wall_ms_p50: f64,
    wall_ms_p90: f64,
    /// This level's median CPU time over the first level's.
    cpu_ratio_to_first: f64,
}

#[derive(Serialize)]
struct Report {
    program: String,
    levels: Vec<LevelReport>,
}

pub async fn cpu_fairness(args: CpuFairnessArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.01..=2.0).contains(&args.cpu_s),
        "--cpu-s must be between 0.01 and 2, got {}",
        args.cpu_s
    );
    let base = check_url(&args.url)?;
    let client = reqwest::Client::builder()
        .timeout(JOB_TIMEOUT)
        .no_proxy()
        .build()
        .context("cannot build the HTTP client")?;
    wait_ready(&client, &base).await?;
    let program = format!(
        "import time\nwhile time.process_time() < {}:\n    pass\nprint('done')\n",
        args.cpu_s
    );
    let body = serde_json::json!({"language": "python", "code": program}).to_string();
    // One unrecorded request: the first of a key may start its sandbox.
    execute(&client, &base, &body).await;
    let mut levels = Vec::new();
    let mut first_median = None;
    for &concurrency in &args.concurrency {
        let answers: Vec<Answer> = stream::iter(0..args.requests)
            .map(|_| execute(&client, &base, &body))
            .buffer_unordered(concurrency as usize)
            .collect()
            .await;
        let mut verdicts = BTreeMap::new();
        for answer in &answers {
            *verdicts.entry(answer.verdict.clone()).or_insert(0) += 1;
        }
        let mut cpu: Vec<f64> = answers
            .iter()
            .filter_map(|answer| answer.cpu_time_ms.map(|ms| ms as f64))
            .collect();
        cpu.sort_by(f64::total_cmp);
        let mut wall: Vec<f64> = answers
            .iter()
            .map(|answer| answer.wall.as_secs_f64() * 1000.0)
            .collect();
        wall.sort_by(f64::total_cmp);
        let cpu_median = median(&cpu);
        let first = *first_median.get_or_insert(cpu_median);
        let level = LevelReport {
            concurrency,
            requests: args.requests,
            verdicts,
            cpu_time_ms_p50: cpu_median,
            cpu_time_ms_p90: percentile(&cpu, 90.0),
            cpu_time_ms_max: cpu.last().copied().unwrap_or(f64::NAN),
            cpu_time_missing: (answers.len() - cpu.len()) as u64,
            wall_ms_p50: percentile(&wall, 50.0),
            wall_ms_p90: percentile(&wall, 90.0),
            cpu_ratio_to_first: cpu_median / first,
        };
        println!(
            "{:>3} clients: {:?}; cpu_time_ms p50 {:.0} p90 {:.0} max {:.0} ({} missing); wall ms p50 {:.0} p90 {:.0}; cpu p50 / first level's {:.2}",
            level.concurrency,
            level.verdicts,
            level.cpu_time_ms_p50,
            level.cpu_time_ms_p90,
            level.cpu_time_ms_max,
            level.cpu_time_missing,
            level.wall_ms_p50,
            level.wall_ms_p90,
            level.cpu_ratio_to_first,
        );
        levels.push(level);
    }
    let report = Report { program, levels };
    write_file(&args.out, &serde_json::to_string_pretty(&report)?)?;
    println!("summary written to {}", args.out.display());
    Ok(())
}

async fn execute(client: &reqwest::Client, base: &str, body: &str) -> Answer {
    let started = Instant::now();
    let answer = async {
        let response = client
            .post(format!("{base}/api/v1/execute"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok::<_, reqwest::Error>((status, text))
    }
    .await;
    let (verdict, cpu_time_ms) = match answer {
        Ok((200, text)) => {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let status = json["status"].as_str().unwrap_or("?");
            let verdict = match json["timeout_kind"].as_str() {
                Some(kind) => format!("{status} ({kind})"),
                None => status.to_string(),
            };
            (verdict, json["cpu_time_ms"].as_u64())
        }
        Ok((status, _)) => (format!("HTTP {status}"), None),
        Err(error) => (format!("transport error: {error}"), None),
    };
    Answer {
        verdict,
        cpu_time_ms,
        wall: started.elapsed(),
    }
}
