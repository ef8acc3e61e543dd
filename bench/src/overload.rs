//! `braindrill-bench overload`: goodput past capacity. In one run, closed
//! loops of C clients send `POST /lang/{language}` for a fixed time, first
//! at the capacity level (8 clients by default), then at the overload
//! level (64). A client that is refused 429 waits what `Retry-After` says,
//! as a well-behaved client does, then sends again. Per level: answers 200
//! per second (goodput), 429s and their latency (p50, p99), 504s, other
//! answers; the goodput ratio overload/capacity; the resident memory of
//! the node's processes before and after. Printed, and saved as JSON.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::JOB_TIMEOUT;
use crate::cli::OverloadArgs;
use crate::environment::utc_now;
use crate::http_load::{check_url, wait_ready};
use crate::memory::{idle_rss, watched_processes};
use crate::report::write_file;

/// What one level saw.
#[derive(Debug, Serialize)]
struct Level {
    clients: usize,
    seconds: f64,
    ok: usize,
    refused_429: usize,
    timed_out_504: usize,
    other: usize,
    goodput_rps: f64,
    ok_p50_ms: f64,
    ok_p99_ms: f64,
    refused_p50_ms: f64,
    refused_p99_ms: f64,
}

#[derive(Debug, Serialize)]
struct OverloadReport {
    date: String,
    url: String,
    language: String,
    code: String,
    capacity: Level,
    overload: Level,
    goodput_ratio: f64,
    /// VmRSS of each watched process before the first level and after the
    /// last, KiB, in the order of --master-pid then --worker-pid.
    rss_before_kib: Vec<u64>,
    rss_after_kib: Vec<u64>,
}

/// Runs both levels and reports.
pub async fn overload_bench(args: OverloadArgs) -> anyhow::Result<()> {
    let base = check_url(&args.url)?;
    let watched = watched_processes(&args.master_pid, &args.worker_pid)?;
    let client = reqwest::Client::builder()
        .timeout(JOB_TIMEOUT)
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()
        .context("cannot build the HTTP client")?;
    let endpoint = format!("{base}/lang/{}", args.language);
    wait_ready(&client, &base).await?;
    let warm = client
        .post(&endpoint)
        .body(args.code.clone())
        .send()
        .await
        .context("the warm-up request failed")?;
    if warm.status() != reqwest::StatusCode::OK {
        bail!("the warm-up request got HTTP {}", warm.status());
    }
    let rss_before_kib = idle_rss(&watched)?;
    let span = Duration::from_secs(args.seconds);
    let capacity = level(
        &client,
        &endpoint,
        &args.code,
        args.capacity_clients as usize,
        span,
    )
    .await;
    print_level("capacity", &capacity);
    let overload = level(
        &client,
        &endpoint,
        &args.code,
        args.overload_clients as usize,
        span,
    )
    .await;
    print_level("overload", &overload);
    let rss_after_kib = idle_rss(&watched)?;
    let report = OverloadReport {
        date: utc_now(),
        url: base,
        language: args.language,
        code: args.code,
        goodput_ratio: overload.goodput_rps / capacity.goodput_rps,
        capacity,
        overload,
        rss_before_kib,
        rss_after_kib,
    };
    println!(
        "goodput overload/capacity: {:.2} (target >= 0.9); 504s at overload: {} (target 0); 429 p99: {:.0} ms (target <= 100)",
        report.goodput_ratio, report.overload.timed_out_504, report.overload.refused_p99_ms
    );
    println!(
        "VmRSS before: {:?} KiB, after: {:?} KiB",
        report.rss_before_kib, report.rss_after_kib
    );
    let json = serde_json::to_string_pretty(&report).context("cannot encode the report")?;
    write_file(&args.out, &json)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

fn print_level(name: &str, level: &Level) {
    println!(
        "{name}: {} clients, {:.0} s: {} ok ({:.2}/s, p50 {:.0} ms, p99 {:.0} ms), {} answered 429 (p50 {:.0} ms, p99 {:.0} ms), {} answered 504, {} other",
        level.clients,
        level.seconds,
        level.ok,
        level.goodput_rps,
        level.ok_p50_ms,
        level.ok_p99_ms,
        level.refused_429,
        level.refused_p50_ms,
        level.refused_p99_ms,
        level.timed_out_504,
        level.other
    );
}

/// One answer: its status and how long it took.
struct Answer {
    status: u16,
    took: Duration,
}

/// `clients` closed loops for `span`; answers that arrive after it still
/// count (they were sent within it), and the goodput is over the time until
/// the last one.
async fn level(
    client: &reqwest::Client,
    endpoint: &str,
    code: &str,
    clients: usize,
    span: Duration,
) -> Level {
    let started = Instant::now();
    let until = started + span;
    let loops = (0..clients).map(|_| async move {
        let mut answers = Vec::new();
        while Instant::now() < until {
            let sent = Instant::now();
            let response = client.post(endpoint).body(code.to_string()).send().await;
            let (status, retry_after) = match response {
                Ok(response) => {
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.parse::<u64>().ok());
                    let status = response.status().as_u16();
                    // Read whole: the answer's time includes its body.
                    let _ = response.bytes().await;
                    (status, retry_after)
                }
                Err(_) => (0, None),
            };
            answers.push(Answer {
                status,
                took: sent.elapsed(),
            });
            if status == 429 {
                let wait = Duration::from_secs(retry_after.unwrap_or(1));
                tokio::time::sleep(wait.min(until.saturating_duration_since(Instant::now()))).await;
            }
        }
        answers
    });
    let answers: Vec<Answer> = futures_util::future::join_all(loops)
        .await
        .into_iter()
        .flatten()
        .collect();
    let seconds = started.elapsed().as_secs_f64();
    let took = |status: u16| {
        let mut took: Vec<f64> = answers
            .iter()
            .filter(|answer| answer.status == status)
            .map(|answer| answer.took.as_secs_f64() * 1000.0)
            .collect();
        took.sort_by(f64::total_cmp);
        took
    };
    let (ok, refused) = (took(200), took(429));
    let count = |status: u16| answers.iter().filter(|a| a.status == status).count();
    Level {
        clients,
        seconds,
        ok: ok.len(),
        refused_429: refused.len(),
        timed_out_504: count(504),
        other: answers
            .iter()
            .filter(|a| !matches!(a.status, 200 | 429 | 504))
            .count(),
        goodput_rps: ok.len() as f64 / seconds,
        ok_p50_ms: quantile(&ok, 0.5),
        ok_p99_ms: quantile(&ok, 0.99),
        refused_p50_ms: quantile(&refused, 0.5),
        refused_p99_ms: quantile(&refused, 0.99),
    }
}

/// The `q` quantile of sorted values (nearest rank); 0 when empty.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 50.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&[], 0.99), 0.0);
    }
}
