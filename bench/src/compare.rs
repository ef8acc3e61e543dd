//! `braindrill-bench compare`: one workload against two running setups in
//! one run, their passes alternating, so that both see the same machine
//! (on a shared host the load moves by the minute). The setups are two
//! URLs: a master with one worker node against a master with two (the
//! capacity of issue 16), or a recycling node against a single-use one
//! (issue 12). The workload is python hello (`POST /lang/python`,
//! `--requests` per pass) or the corpus of real programs (one pass of it
//! through `POST /api/v1/execute`), `--concurrency` at once. Every answer
//! is checked (hello prints `hi`; a program's result as in
//! [`programs`](crate::programs)); per setup: runs, failures, runs/s over
//! the time of its passes, p50/p90 latency; the ratio of the second's
//! rate over the first's; the 1-minute load average after every pass.
//! Printed, and saved as JSON.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use serde::Serialize;

use crate::corpus::{self, Program};
use crate::environment::utc_now;
use crate::http_load::{check_url, wait_ready};
use crate::programs::{check_answer, post_program};
use crate::report::write_file;
use crate::stats::{millis, percentile};
use crate::{JOB_TIMEOUT, MAX_RUN_TIME};

#[derive(Args)]
pub struct CompareArgs {
    /// The two setups' HTTP addresses, first the reference (e.g. one
    /// worker), then the one compared with it; only http://127.0.0.1:PORT.
    #[arg(long, num_args = 2, required = true)]
    pub url: Vec<String>,
    /// A name for each setup, in the order of --url.
    #[arg(long, num_args = 2, default_values = ["first", "second"])]
    pub label: Vec<String>,
    /// What every pass runs.
    #[arg(long, value_enum, default_value_t = Workload::Hello)]
    pub workload: Workload,
    /// Clients at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// Passes per setup, alternating (at most 20).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub rounds: u64,
    /// Requests per hello pass (at most 2000).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=2000))]
    pub requests: u64,
    /// The corpus of the programs workload.
    #[arg(long, default_value = "bench/corpus")]
    pub corpus: std::path::PathBuf,
    /// A note on the setups, saved in the JSON.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Where the summary goes (JSON).
    #[arg(long, default_value = "docs/bench-compare.json")]
    pub out: std::path::PathBuf,
    /// Time bound of the whole run in seconds (at most 600): no pass starts
    /// after it, and what was measured until then is reported.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=600))]
    pub max_seconds: u64,
}

#[derive(Clone, Copy, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// `print("hi")` through POST /lang/python.
    Hello,
    /// The corpus of real programs through POST /api/v1/execute.
    Programs,
}

/// One setup's passes.
#[derive(Serialize, Default)]
struct SetupReport {
    label: String,
    url: String,
    passes: usize,
    runs: usize,
    failures: usize,
    seconds: f64,
    runs_per_s: f64,
    p50_ms: f64,
    p90_ms: f64,
    /// The 1-minute load average after each of its passes.
    load_after_passes: Vec<f64>,
    /// The first failures' reasons (all are counted).
    failure_reasons: Vec<String>,
    #[serde(skip)]
    latencies_ms: Vec<f64>,
}

#[derive(Serialize)]
struct CompareReport {
    date: String,
    note: String,
    workload: Workload,
    concurrency: u64,
    rounds: u64,
    requests_per_hello_pass: u64,
    programs: usize,
    load_at_start: f64,
    setups: Vec<SetupReport>,
    /// The second setup's runs/s over the first's.
    ratio: Option<f64>,
}

/// Failure reasons kept per setup.
const KEPT_REASONS: usize = 20;

/// Runs `braindrill-bench compare`.
pub async fn compare(args: CompareArgs) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds).min(MAX_RUN_TIME);
    let bases = args
        .url
        .iter()
        .map(|url| check_url(url))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let client = reqwest::Client::builder()
        .timeout(JOB_TIMEOUT)
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .context("cannot build the HTTP client")?;
    for base in &bases {
        wait_ready(&client, base).await?;
    }
    let programs = match args.workload {
        Workload::Hello => Vec::new(),
        Workload::Programs => corpus::load(&args.corpus)?,
    };
    let jobs = Jobs {
        client,
        workload: args.workload,
        requests: args.requests as usize,
        programs,
        concurrency: args.concurrency as usize,
    };
    // One unrecorded pass of each: the warm pools fill for the keys used.
    for base in &bases {
        let (outcomes, _) = jobs.pass(base, deadline).await;
        if let Some(Err(reason)) = outcomes.iter().find(|outcome| outcome.is_err()) {
            eprintln!("warm-up on {base}: {reason}");
        }
    }
    let load_at_start = load_average();
    let mut setups: Vec<SetupReport> = bases
        .iter()
        .zip(&args.label)
        .map(|(base, label)| SetupReport {
            label: label.clone(),
            url: base.clone(),
            ..SetupReport::default()
        })
        .collect();
    for round in 0..args.rounds {
        // First A then B, then B then A: a drift of the machine's load
        // weighs on both alike.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            if Instant::now() >= deadline {
                break;
            }
            let setup = &mut setups[index];
            let (outcomes, elapsed) = jobs.pass(&setup.url, deadline).await;
            setup.passes += 1;
            setup.seconds += elapsed.as_secs_f64();
            for outcome in outcomes {
                setup.runs += 1;
                match outcome {
                    Ok(ms) => setup.latencies_ms.push(ms),
                    Err(reason) => {
                        setup.failures += 1;
                        if setup.failure_reasons.len() < KEPT_REASONS {
                            setup.failure_reasons.push(reason);
                        }
                    }
                }
            }
            setup.load_after_passes.push(load_average());
            println!(
                "round {}: {} {} runs in {:.1} s, load {:.2}",
                round + 1,
                setup.label,
                setup.runs,
                setup.seconds,
                load_average()
            );
        }
    }
    for setup in &mut setups {
        setup.runs_per_s = if setup.seconds > 0.0 {
            setup.runs as f64 / setup.seconds
        } else {
            0.0
        };
        setup.latencies_ms.sort_by(f64::total_cmp);
        setup.p50_ms = percentile(&setup.latencies_ms, 50.0);
        setup.p90_ms = percentile(&setup.latencies_ms, 90.0);
    }
    let ratio = (setups[0].runs_per_s > 0.0 && setups[1].passes > 0)
        .then(|| setups[1].runs_per_s / setups[0].runs_per_s);
    let report = CompareReport {
        date: utc_now(),
        note: args.note,
        workload: args.workload,
        concurrency: args.concurrency,
        rounds: args.rounds,
        requests_per_hello_pass: args.requests,
        programs: jobs.programs.len(),
        load_at_start,
        setups,
        ratio,
    };
    print_report(&report);
    let json = serde_json::to_string_pretty(&report).context("cannot encode the report")?;
    write_file(&args.out, &json)?;
    println!("wrote {}", args.out.display());
    if report.setups.iter().any(|setup| setup.passes == 0) {
        bail!("--max-seconds ran out before both setups were measured");
    }
    Ok(())
}

/// What a pass runs, and how many at once.
struct Jobs {
    client: reqwest::Client,
    workload: Workload,
    requests: usize,
    programs: Vec<Program>,
    concurrency: usize,
}

impl Jobs {
    /// One pass against `base`: each run's latency in ms or why it failed,
    /// and the pass's time. No run starts past the deadline.
    async fn pass(&self, base: &str, deadline: Instant) -> (Vec<Result<f64, String>>, Duration) {
        let started = Instant::now();
        let runs = match self.workload {
            Workload::Hello => self.requests,
            Workload::Programs => self.programs.len(),
        };
        let outcomes: Vec<Option<Result<f64, String>>> = futures_util::stream::iter(0..runs)
            .map(|index| async move {
                if Instant::now() >= deadline {
                    return None;
                }
                let started = Instant::now();
                let checked = match self.workload {
                    Workload::Hello => self.hello(base).await,
                    Workload::Programs => self.program(base, &self.programs[index]).await,
                };
                Some(checked.map(|()| millis(started.elapsed())))
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        (outcomes.into_iter().flatten().collect(), started.elapsed())
    }

    async fn hello(&self, base: &str) -> Result<(), String> {
        let response = self
            .client
            .post(format!("{base}/lang/python"))
            .body("print(\"hi\")")
            .send()
            .await
            .map_err(|error| format!("request: {error}"))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|error| format!("reading the answer: {error}"))?;
        if status != reqwest::StatusCode::OK || body != "hi\n" {
            return Err(format!("HTTP {status}: {:?}", &body[..body.len().min(200)]));
        }
        Ok(())
    }

    async fn program(&self, base: &str, program: &Program) -> Result<(), String> {
        let result = post_program(&self.client, &format!("{base}/api/v1/execute"), program)
            .await
            .map_err(|reason| format!("{}: {reason}", program.label()))?;
        match check_answer(program, &result) {
            None => Ok(()),
            Some(reason) => Err(format!("{}: {reason}", program.label())),
        }
    }
}

/// The 1-minute load average of the machine (0 when unreadable).
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn print_report(report: &CompareReport) {
    println!();
    println!(
        "{} at {} clients, {} rounds, load {:.2} at start",
        match report.workload {
            Workload::Hello =>
                format!("python hello ({} per pass)", report.requests_per_hello_pass),
            Workload::Programs => format!("{} real programs per pass", report.programs),
        },
        report.concurrency,
        report.rounds,
        report.load_at_start
    );
    println!("| setup | runs | failed | runs/s | p50 ms | p90 ms | load after its passes |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for setup in &report.setups {
        let loads: Vec<String> = setup
            .load_after_passes
            .iter()
            .map(|load| format!("{load:.1}"))
            .collect();
        println!(
            "| {} | {} | {} | {:.2} | {:.0} | {:.0} | {} |",
            setup.label,
            setup.runs,
            setup.failures,
            setup.runs_per_s,
            setup.p50_ms,
            setup.p90_ms,
            loads.join(", ")
        );
    }
    match report.ratio {
        Some(ratio) => println!(
            "ratio {} / {}: {ratio:.2}",
            report.setups[1].label, report.setups[0].label
        ),
        None => println!("ratio: not measured"),
    }
    for setup in &report.setups {
        for reason in &setup.failure_reasons {
            println!("  failed on {}: {reason}", setup.label);
        }
    }
}
