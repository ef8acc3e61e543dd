//! The HTTP driver of `braindrill-bench http`: checks that the node is
//! local and ready, warms it up, then for each concurrency level sends
//! rounds of `POST /lang/{language}` from C concurrent clients, each round
//! followed by a batch of direct runs and a batch of `docker run --rm` at
//! the same concurrency ([`docker_baseline`](crate::docker_baseline)), so
//! that all three sides see the same load on the machine. The level's
//! samples become a [`LevelReport`].

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use bollard::Docker;
use braindrill::sandbox::{DockerSandbox, Language};
use futures_util::StreamExt;

use crate::cli::HttpArgs;
use crate::docker_baseline::{
    baseline_args, baseline_output, baseline_run, direct_output, direct_run,
};
use crate::environment::{load_language, machine, utc_now};
use crate::memory::{RssSampler, idle_rss, watched_processes};
use crate::report::{HttpReport, LevelReport, print_level, print_report, write_file};
use crate::stats::{Batch, SANDBOX_US_HEADER, Sample, Series};
use crate::targets::check_targets;
use crate::{JOB_TIMEOUT, MAX_RUN_TIME, plot};

/// How long to wait for the node's `/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Engine requests per client and round: after them comes a baseline batch.
const ROUND_PER_CLIENT: usize = 10;

/// The three sides measured at each level: the engine behind its
/// endpoint, the `docker run` baseline and the direct sandbox.
struct Sides {
    client: reqwest::Client,
    endpoint: String,
    code: String,
    baseline: Vec<String>,
    language: Language,
    direct: DockerSandbox,
}

/// Runs `braindrill-bench http`: every level, then the report, the JSON
/// and the picture.
pub async fn http_bench(docker: &Docker, args: HttpArgs, direct_node: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(args.time_limit_s).min(MAX_RUN_TIME);
    let base = check_url(&args.url)?;
    check_language_name(&args.language)?;
    let language = load_language(&args.language)?;
    let watched = watched_processes(&args.master_pid, &args.worker_pid)?;
    let sides = Sides {
        client: reqwest::Client::builder()
            .timeout(JOB_TIMEOUT)
            .no_proxy()
            .build()
            .context("cannot build the HTTP client")?,
        endpoint: format!("{base}/lang/{}", args.language),
        code: args.code.clone(),
        baseline: baseline_args(&language, &args.code)?,
        direct: DockerSandbox::new(docker.clone(), direct_node),
        language,
    };
    let machine = machine(docker).await?;
    wait_ready(&sides.client, &base).await?;
    // Idle: before anything of ours has run on the node.
    let idle = idle_rss(&watched)?;
    warm_up(&sides).await?;

    let sampler = RssSampler::start(&watched);
    let mut levels = Vec::new();
    for &concurrency in &args.concurrency {
        let level = run_level(&sides, &args, concurrency as usize, deadline, &sampler).await;
        print_level(&level);
        levels.push(level);
    }
    let memory = sampler.finish(idle);
    let targets = check_targets(&levels, &memory);
    let report = HttpReport {
        date: utc_now(),
        machine,
        url: base,
        language: args.language,
        code: args.code,
        note: args.note,
        requests_per_level: args.requests,
        baseline_every: args.baseline_every,
        baseline_command: sides.baseline,
        direct_every: args.direct_every,
        direct_node: direct_node.to_string(),
        levels,
        memory,
        targets,
    };
    let json = serde_json::to_string_pretty(&report).context("cannot encode the report")?;
    write_file(&args.out, &json)?;
    plot::draw_svg(&args.svg, &report)?;
    print_report(&report);
    println!("wrote {} and {}", args.out.display(), args.svg.display());
    Ok(())
}

/// Accepts only `http://127.0.0.1:PORT` (an optional trailing `/`).
pub fn check_url(raw: &str) -> anyhow::Result<String> {
    let refuse = || anyhow!("--url must be http://127.0.0.1:PORT (a local node only), got {raw:?}");
    let url = reqwest::Url::parse(raw).map_err(|_| refuse())?;
    let plain = url.scheme() == "http"
        && url.host_str() == Some("127.0.0.1")
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    match url.port_or_known_default() {
        Some(port) if plain => Ok(format!("http://127.0.0.1:{port}")),
        _ => Err(refuse()),
    }
}

/// Refuses a language name that is not a plain word (it goes into the URL).
fn check_language_name(name: &str) -> anyhow::Result<()> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !plain {
        bail!("--language must be a plain name such as python, got {name:?}");
    }
    Ok(())
}

/// Polls `/ready` until the node can run code.
pub async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let give_up = Instant::now() + READY_TIMEOUT;
    loop {
        let answer = client.get(format!("{base}/ready")).send().await;
        if answer.is_ok_and(|response| response.status() == reqwest::StatusCode::OK) {
            return Ok(());
        }
        if Instant::now() > give_up {
            bail!("{base}/ready did not answer 200 within {READY_TIMEOUT:?}; is the node running?");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Two unrecorded engine requests, one baseline run and one direct
/// execution; checks they print the same.
async fn warm_up(sides: &Sides) -> anyhow::Result<()> {
    let mut engine_body = String::new();
    for _ in 0..2 {
        let response = sides
            .client
            .post(&sides.endpoint)
            .body(sides.code.clone())
            .send()
            .await
            .context("the warm-up request failed")?;
        if response.status() != reqwest::StatusCode::OK {
            bail!("the warm-up request got HTTP {}", response.status());
        }
        engine_body = response.text().await.context("the warm-up answer")?;
    }
    let baseline_out = baseline_output(&sides.baseline).await?;
    if baseline_out != engine_body {
        eprintln!(
            "warning: the engine answered {engine_body:?} but the baseline printed {baseline_out:?}"
        );
    }
    let direct_out = direct_output(&sides.direct, &sides.language, &sides.code).await?;
    if direct_out != engine_body {
        eprintln!(
            "warning: the engine answered {engine_body:?} but the direct sandbox printed {direct_out:?}"
        );
    }
    Ok(())
}

/// One concurrency level: rounds of engine requests, each followed by a
/// direct batch and a baseline batch at the same concurrency, until the
/// count or the deadline.
async fn run_level(
    sides: &Sides,
    args: &HttpArgs,
    concurrency: usize,
    deadline: Instant,
    sampler: &RssSampler,
) -> LevelReport {
    sampler.start_level();
    let mut engine = Series::default();
    let mut baseline = Series::default();
    let mut direct = Series::default();
    let mut remaining = args.requests as usize;
    let round = ROUND_PER_CLIENT * concurrency;
    let every = args.baseline_every as usize;
    let direct_every = args.direct_every as usize;
    while remaining > 0 && Instant::now() < deadline {
        let count = round.min(remaining);
        remaining -= count;
        engine.add(run_batch(count, concurrency, || engine_request(sides)).await);
        let direct_count = count.div_ceil(direct_every);
        direct.add(
            run_batch(direct_count, concurrency.min(direct_count), || {
                direct_run(&sides.direct, &sides.language, &sides.code)
            })
            .await,
        );
        let baseline_count = count.div_ceil(every);
        let baseline_concurrency = concurrency.min(baseline_count);
        baseline.add(
            run_batch(baseline_count, baseline_concurrency, || {
                baseline_run(&sides.baseline)
            })
            .await,
        );
    }
    let hop = engine.hop_report();
    let (engine, baseline, direct) = (engine.report(), baseline.report(), direct.report());
    LevelReport {
        concurrency,
        ratio_p50: engine.summary.p50_ms / baseline.summary.p50_ms,
        throughput_engine_over_direct: engine.summary.throughput_rps
            / direct.summary.throughput_rps,
        engine,
        baseline,
        direct,
        hop,
        rss_max: sampler.level_peaks(),
        truncated: remaining > 0,
    }
}

/// Runs `jobs` jobs, at most `concurrency` at once.
async fn run_batch<F, Fut>(jobs: usize, concurrency: usize, job: F) -> Batch
where
    F: Fn() -> Fut,
    Fut: Future<Output = Sample>,
{
    let started = Instant::now();
    let samples = futures_util::stream::iter(0..jobs)
        .map(|_| job())
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    Batch {
        samples,
        elapsed: started.elapsed(),
    }
}

/// One `POST /lang/{language}`, timed until its whole answer is read.
async fn engine_request(sides: &Sides) -> Sample {
    let started = Instant::now();
    let answer = sides
        .client
        .post(&sides.endpoint)
        .body(sides.code.clone())
        .send()
        .await;
    let mut sandbox_us = None;
    let error = match answer {
        Ok(response) => {
            let status = response.status();
            sandbox_us = response
                .headers()
                .get(SANDBOX_US_HEADER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok());
            let body = response.bytes().await;
            match body {
                Ok(_) if status == reqwest::StatusCode::OK => None,
                Ok(body) => Some(format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                )),
                Err(error) => Some(format!("reading the answer: {error}")),
            }
        }
        Err(error) => Some(format!("request: {error}")),
    };
    Sample {
        sandbox_us,
        ..Sample::new(started, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_http_url_is_accepted() {
        assert_eq!(
            check_url("http://127.0.0.1:8080/").ok(),
            Some("http://127.0.0.1:8080".into())
        );
        for refused in [
            "https://127.0.0.1:8080",
            "http://localhost:8080",
            "http://10.0.0.1:8080",
            "http://127.0.0.1:8080/lang",
            "http://user@127.0.0.1:8080",
            "127.0.0.1:8080",
        ] {
            assert!(check_url(refused).is_err(), "{refused}");
        }
    }
}
