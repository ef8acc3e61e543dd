//! `braindrill-bench judge`: what the judge saves a client. In the same
//! run, alternating round by round, one submission of N tests (20 by
//! default) through `POST /api/v1/submissions?wait=true` (one compile, the
//! tests in one sandbox) against the same N tests as N separate
//! `POST /api/v1/execute` calls (a compile each), sequentially and all at
//! once (a 429 retried after its `Retry-After`, as a client would); per
//! language the latency of each (p50, min, max) and the ratios.
//! Every answer is checked (the submission `accepted`, each execution's
//! stdout the expected one).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use futures_util::future::join_all;
use serde::Serialize;
use serde_json::{Value, json};

use crate::http_load::{check_url, wait_ready};
use crate::report::write_file;
use crate::stats::median;

/// 429s one execution may get before the run fails.
const MAX_BUSY_RETRIES: usize = 30;

#[derive(Args)]
pub struct JudgeArgs {
    /// The node's HTTP address; only http://127.0.0.1:PORT is accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Tests per submission (1 to 100).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub tests: u64,
    /// Rounds of each way (1 to 20).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub rounds: u64,
    /// Languages measured: c (a compile step) and python.
    #[arg(long, num_args = 1.., default_values_t = ["c".to_string(), "python".to_string()])]
    pub languages: Vec<String>,
    /// Where the summary goes (JSON).
    #[arg(long, default_value = "docs/bench-judge.json")]
    pub out: PathBuf,
}

/// Latencies of one way, in milliseconds.
#[derive(Serialize)]
struct Way {
    p50_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

#[derive(Serialize)]
struct LanguageReport {
    language: String,
    tests: u64,
    rounds: u64,
    submission: Way,
    executes_sequential: Way,
    executes_concurrent: Way,
    /// Sequential executes' p50 over the submission's.
    speedup_vs_sequential: f64,
    /// Concurrent executes' p50 over the submission's.
    speedup_vs_concurrent: f64,
}

fn program(language: &str) -> anyhow::Result<&'static str> {
    Ok(match language {
        "c" => {
            "#include <stdio.h>\nint main(void) { long n; if (scanf(\"%ld\", &n) != 1) return 1; printf(\"%ld\\n\", 2 * n); return 0; }\n"
        }
        "python" => "print(2 * int(input()))\n",
        other => bail!("--languages: {other} is not measured (c, python)"),
    })
}

pub async fn judge_bench(args: JudgeArgs) -> anyhow::Result<()> {
    let base = check_url(&args.url)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .no_proxy()
        .build()
        .context("cannot build the HTTP client")?;
    wait_ready(&client, &base).await?;
    let mut reports = Vec::new();
    for language in &args.languages {
        let code = program(language)?;
        let inputs: Vec<u64> = (0..args.tests).collect();
        // Unrecorded: the first of a key may start its sandbox.
        submission(&client, &base, language, code, &inputs).await?;
        let (mut judged, mut sequential, mut concurrent) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..args.rounds {
            judged.push(submission(&client, &base, language, code, &inputs).await?);
            let started = Instant::now();
            for &n in &inputs {
                execute(&client, &base, language, code, n).await?;
            }
            sequential.push(ms(started.elapsed()));
            let started = Instant::now();
            let all = join_all(
                inputs
                    .iter()
                    .map(|&n| execute(&client, &base, language, code, n)),
            )
            .await;
            for answer in all {
                answer?;
            }
            concurrent.push(ms(started.elapsed()));
        }
        let report = LanguageReport {
            language: language.clone(),
            tests: args.tests,
            rounds: args.rounds,
            speedup_vs_sequential: median(&sequential) / median(&judged),
            speedup_vs_concurrent: median(&concurrent) / median(&judged),
            submission: way(&judged),
            executes_sequential: way(&sequential),
            executes_concurrent: way(&concurrent),
        };
        println!(
            "{language}: {} tests; one submission p50 {:.0} ms (min {:.0}, max {:.0}); {} executes sequential p50 {:.0} ms ({:.1}x), all at once p50 {:.0} ms ({:.1}x)",
            report.tests,
            report.submission.p50_ms,
            report.submission.min_ms,
            report.submission.max_ms,
            report.tests,
            report.executes_sequential.p50_ms,
            report.speedup_vs_sequential,
            report.executes_concurrent.p50_ms,
            report.speedup_vs_concurrent,
        );
        reports.push(report);
    }
    write_file(&args.out, &serde_json::to_string_pretty(&reports)?)?;
    println!("summary written to {}", args.out.display());
    Ok(())
}

fn ms(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

fn way(samples: &[f64]) -> Way {
    Way {
        p50_ms: median(samples),
        min_ms: samples.iter().copied().fold(f64::INFINITY, f64::min),
        max_ms: samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

/// One submission of the tests, waited for; its latency in ms.
async fn submission(
    client: &reqwest::Client,
    base: &str,
    language: &str,
    code: &str,
    inputs: &[u64],
) -> anyhow::Result<f64> {
    let tests: Vec<Value> = inputs
        .iter()
        .map(|n| json!({"stdin": format!("{n}\n"), "expected_output": format!("{}", 2 * n)}))
        .collect();
    let body = json!({"language": language, "code": code, "tests": tests}).to_string();
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/v1/submissions?wait=true"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .context("POST /api/v1/submissions")?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    let took = ms(started.elapsed());
    let answer: Value = serde_json::from_str(&text).unwrap_or_default();
    if status != 200 || answer["verdict"] != "accepted" {
        bail!("a submission was not accepted: HTTP {status} {text}");
    }
    Ok(took)
}

/// One test as its own execution, its output checked; a 429 is retried
/// after its `Retry-After`, as a client does (the engine admits what can
/// start before its deadline: one program per slot).
async fn execute(
    client: &reqwest::Client,
    base: &str,
    language: &str,
    code: &str,
    n: u64,
) -> anyhow::Result<()> {
    let body = json!({"language": language, "code": code, "stdin": format!("{n}\n")}).to_string();
    for _ in 0..MAX_BUSY_RETRIES {
        let response = client
            .post(format!("{base}/api/v1/execute"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .context("POST /api/v1/execute")?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok())
            .unwrap_or(1);
        let text = response.text().await?;
        if status == 429 {
            tokio::time::sleep(Duration::from_secs(retry_after)).await;
            continue;
        }
        let answer: Value = serde_json::from_str(&text).unwrap_or_default();
        if status != 200 || answer["stdout"].as_str().map(str::trim) != Some(&(2 * n).to_string()) {
            bail!("an execution went wrong: HTTP {status} {text}");
        }
        return Ok(());
    }
    bail!("an execution was refused as busy {MAX_BUSY_RETRIES} times")
}
