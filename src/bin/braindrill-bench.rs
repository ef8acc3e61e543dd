//! `braindrill-bench`: the benchmark harness of braindrill.
//!
//! Two measurements, each one command:
//!
//! - `braindrill-bench http --url http://127.0.0.1:8080` drives
//!   `POST /lang/{language}` of a running node with C concurrent clients for
//!   each concurrency level and, interleaved with it in alternating batches
//!   at the same concurrency, the baseline `docker run --rm` of the same
//!   image under the same limits, and the library's own cold sandbox run
//!   in-process ([`DockerSandbox`], "direct"). It prints p50/p90/p99/max
//!   latency and throughput for all three, the cluster hop (end-to-end
//!   latency minus the `x-braindrill-sandbox-us` the worker reports), the
//!   resident memory of the node's processes (`--master-pid`,
//!   `--worker-pid`) and a table of the speed issue's targets; it saves
//!   every latency and the summary as JSON and draws an SVG (latency CDF,
//!   throughput by concurrency, hop CDF, targets).
//! - `braindrill-bench start-costs` measures through the Engine API what
//!   create + start + wait + remove of a container costs bare, with each
//!   option of the hardened sandbox spec added alone, and with the full spec
//!   ([`ContainerSpec::to_create_body`]); it writes a markdown table.
//!
//! Only 127.0.0.1 is ever contacted. Every container and volume created here
//! carries the label `braindrill.engine=braindrill-bench` (the direct
//! sandbox's: `braindrill.node=braindrill-bench-<run>`) and is removed at
//! the end, also after an error or Ctrl-C. Both runs are bounded in count
//! and in time.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType, MountVolumeOptions,
    ResourcesUlimits,
};
use bollard::query_parameters::{
    CreateContainerOptions, RemoveContainerOptions, RemoveVolumeOptions,
};
use bollard::{ClientVersion, Docker};
use braindrill::configuration::Settings;
use braindrill::sandbox::container_spec::ContainerSpec;
use braindrill::sandbox::engine;
use braindrill::sandbox::{
    DockerSandbox, Language, Limits, Sandbox, SourceFile, Status, Submission, sweeper,
};
use clap::{Args, Parser, Subcommand};
use futures_util::StreamExt;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;

/// The label value of everything this harness creates.
const BENCH_LABEL: (&str, &str) = ("braindrill.engine", "braindrill-bench");
/// The Docker socket and API version the engine uses.
const DOCKER_SOCKET: &str = "/var/run/docker.sock";
const API_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};
/// Longest one request or one container may take before it counts as failed.
const JOB_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait for the node's `/ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Hard bound of a whole run, whatever the options say.
const MAX_RUN_TIME: Duration = Duration::from_secs(600);
/// Engine requests per client and round: after them comes a baseline batch.
const ROUND_PER_CLIENT: usize = 10;
/// Error messages kept per series in the JSON (the count is always kept).
const KEPT_ERRORS: usize = 10;
/// The header in which the worker reports its sandbox's time in microseconds.
const SANDBOX_US_HEADER: &str = "x-braindrill-sandbox-us";
/// How often the processes' resident memory is read during the load.
const RSS_INTERVAL: Duration = Duration::from_millis(100);
/// Most processes whose memory is watched.
const MAX_PIDS: usize = 16;
/// Prefix of the node name of the in-process direct sandbox.
const DIRECT_NODE_PREFIX: &str = "braindrill-bench";
/// How often, and how far apart, the direct sandbox's node is swept at the end.
const SWEEP_ATTEMPTS: usize = 20;
const SWEEP_PAUSE: Duration = Duration::from_millis(500);
/// The speed issue's targets.
const TARGET_RATIO_P50: f64 = 0.35;
const AIM_RATIO_P50: f64 = 0.15;
const TARGET_DIRECT_THROUGHPUT: f64 = 0.95;
const TARGET_DIRECT_CONCURRENCY: usize = 8;
const TARGET_HOP_P50_MS: f64 = 2.0;
const TARGET_IDLE_MASTER_MIB: f64 = 30.0;
const TARGET_IDLE_WORKER_MIB: f64 = 40.0;

#[derive(Parser)]
#[command(
    version,
    about = "Benchmarks of braindrill: HTTP latency and throughput against `docker run`, and container start costs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load a running node's POST /lang/{language}, interleaved with the `docker run --rm` baseline.
    Http(Box<HttpArgs>),
    /// Time create+start+wait+remove of a container per option of the hardened spec.
    StartCosts(StartCostArgs),
}

#[derive(Args)]
struct HttpArgs {
    /// The node's HTTP address; only http://127.0.0.1:PORT is accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Engine requests per concurrency level (at most 5000).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=5000))]
    requests: u64,
    /// Concurrency levels, each measured in turn.
    #[arg(long, num_args = 1.., default_values_t = [1u64, 8], value_parser = clap::value_parser!(u64).range(1..=64))]
    concurrency: Vec<u64>,
    /// One baseline `docker run` per this many engine requests.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    baseline_every: u64,
    /// One direct execution (the library's cold sandbox, in-process) per this
    /// many engine requests; 1 gives batches as large as the engine's, which
    /// the throughput comparison needs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    direct_every: u64,
    /// PID of a master process whose VmRSS is read (repeatable or a comma
    /// list; in standalone mode give the same PID as --worker-pid).
    #[arg(long, value_delimiter = ',')]
    master_pid: Vec<u32>,
    /// PID of a worker process whose VmRSS is read (repeatable or a comma list).
    #[arg(long, value_delimiter = ',')]
    worker_pid: Vec<u32>,
    /// The language (as configured in config/default.toml).
    #[arg(long, default_value = "python")]
    language: String,
    /// The program every request runs.
    #[arg(long, default_value = "print(\"hi\")")]
    code: String,
    /// Where the raw latencies and the summary go (JSON).
    #[arg(long, default_value = "docs/bench-results.json")]
    out: PathBuf,
    /// Where the picture goes (SVG).
    #[arg(long, default_value = "docs/benchmarks.svg")]
    svg: PathBuf,
    /// A note on the setup (e.g. "warm pool off"), shown in the picture's
    /// titles and saved in the JSON.
    #[arg(long, default_value = "")]
    note: String,
    /// Time bound of the whole run in seconds (at most 600); what was
    /// measured until then is reported.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=600))]
    time_limit_s: u64,
}

#[derive(Args)]
struct StartCostArgs {
    /// Measured runs per variant (at most 200).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=200))]
    runs: u64,
    /// Where the markdown table goes.
    #[arg(long, default_value = "docs/start-costs.md")]
    out: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("braindrill-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the subcommand, then removes whatever it left (also on error or Ctrl-C).
async fn run(cli: Cli) -> anyhow::Result<()> {
    let docker = Docker::connect_with_unix(DOCKER_SOCKET, 30, &API_VERSION)
        .with_context(|| format!("cannot use the Docker socket {DOCKER_SOCKET}"))?;
    // The direct sandbox's node: its own per run, so the sweep at the end
    // touches nothing of the engine's nor of another run's.
    let direct_node = format!(
        "{DIRECT_NODE_PREFIX}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let work = async {
        match cli.command {
            Command::Http(args) => http_bench(&docker, *args, &direct_node).await,
            Command::StartCosts(args) => start_costs(&docker, args).await,
        }
    };
    // A margin over the run's own bound: only a hung engine reaches it.
    let outcome = tokio::select! {
        outcome = work => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
        _ = tokio::time::sleep(MAX_RUN_TIME + Duration::from_secs(120)) => {
            Err(anyhow!("the run took over {:?}", MAX_RUN_TIME + Duration::from_secs(120)))
        }
    };
    let swept = sweep(&docker).await;
    let direct_swept = sweep_node(&docker, &direct_node).await;
    outcome?;
    swept?;
    direct_swept
}

// ---------------------------------------------------------------- shared

/// The engine's configuration of `name`, from the compiled-in defaults.
fn load_language(name: &str) -> anyhow::Result<Language> {
    let settings = Settings::load(None, std::iter::empty::<(String, String)>())
        .context("cannot load braindrill's default settings")?;
    settings
        .languages()?
        .into_iter()
        .find(|language| language.name == name)
        .ok_or_else(|| anyhow!("unknown language {name} (see config/default.toml)"))
}

fn bench_labels() -> HashMap<String, String> {
    HashMap::from([(BENCH_LABEL.0.to_string(), BENCH_LABEL.1.to_string())])
}

/// Removes every container and volume labelled as this harness's.
async fn sweep(docker: &Docker) -> anyhow::Result<()> {
    let found = engine::list_objects(
        docker,
        engine::with_labels(vec![format!("{}={}", BENCH_LABEL.0, BENCH_LABEL.1)]),
    )
    .await
    .context("cannot list the harness's containers and volumes")?;
    for id in found
        .containers
        .into_iter()
        .filter_map(|container| container.id)
    {
        remove_container(docker, &id).await?;
    }
    for volume in found.volumes {
        remove_volume(docker, &volume.name).await?;
    }
    Ok(())
}

/// Removes everything of the direct sandbox's node. An execution cut short
/// (Ctrl-C, the time bound) may still be creating or removing its container
/// and volume, so this sweeps again until nothing is left, for a few seconds.
async fn sweep_node(docker: &Docker, node: &str) -> anyhow::Result<()> {
    sweeper::sweep_until_gone(docker, node, SWEEP_ATTEMPTS, SWEEP_PAUSE)
        .await
        .with_context(|| format!("cannot remove the direct sandbox's leftovers ({node})"))?;
    Ok(())
}

async fn remove_container(docker: &Docker, name: &str) -> anyhow::Result<()> {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    match docker.remove_container(name, Some(options)).await {
        Err(error) if !is_not_found(&error) => {
            Err(anyhow::Error::new(error).context(format!("cannot remove container {name}")))
        }
        _ => Ok(()),
    }
}

async fn remove_volume(docker: &Docker, name: &str) -> anyhow::Result<()> {
    let options = RemoveVolumeOptions { force: true };
    match docker.remove_volume(name, Some(options)).await {
        Err(error) if !is_not_found(&error) => {
            Err(anyhow::Error::new(error).context(format!("cannot remove volume {name}")))
        }
        _ => Ok(()),
    }
}

fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// What the machine is, for the report.
#[derive(Serialize)]
struct Machine {
    cores: usize,
    docker_version: String,
    docker_api_version: String,
    kernel: String,
}

async fn machine(docker: &Docker) -> anyhow::Result<Machine> {
    let version = docker
        .version()
        .await
        .context("the Docker engine does not answer")?;
    Ok(Machine {
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        docker_version: version.version.unwrap_or_default(),
        docker_api_version: version.api_version.unwrap_or_default(),
        kernel: version.kernel_version.unwrap_or_default(),
    })
}

/// The current time as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let minutes = seconds % 86_400 / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Nearest-rank percentile of sorted values; NaN when there are none.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, 50.0)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn write_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

// ---------------------------------------------------------------- http

/// One request, one `docker run` or one direct execution: its latency, or
/// why it failed.
struct Sample {
    ms: f64,
    error: Option<String>,
    /// What the worker said its sandbox took (`x-braindrill-sandbox-us`),
    /// for engine requests whose answer carried it.
    sandbox_us: Option<u64>,
}

impl Sample {
    fn new(started: Instant, error: Option<String>) -> Sample {
        Sample {
            ms: millis(started.elapsed()),
            error,
            sandbox_us: None,
        }
    }
}

/// The samples of one batch and its wall time.
struct Batch {
    samples: Vec<Sample>,
    elapsed: Duration,
}

/// Every sample of one side (engine, baseline or direct) at one concurrency.
#[derive(Default)]
struct Series {
    latencies_ms: Vec<f64>,
    errors: usize,
    error_messages: Vec<String>,
    busy: Duration,
    /// End-to-end latency minus the sandbox's time, of successful answers
    /// that said their sandbox's time.
    hops_ms: Vec<f64>,
    sandbox_ms: Vec<f64>,
    /// Successful answers without the sandbox-time header.
    without_header: usize,
}

impl Series {
    fn add(&mut self, batch: Batch) {
        self.busy += batch.elapsed;
        for sample in batch.samples {
            match sample.error {
                None => {
                    self.latencies_ms.push(sample.ms);
                    match sample.sandbox_us {
                        Some(us) => {
                            let sandbox_ms = us as f64 / 1e3;
                            self.sandbox_ms.push(sandbox_ms);
                            self.hops_ms.push(sample.ms - sandbox_ms);
                        }
                        None => self.without_header += 1,
                    }
                }
                Some(message) => {
                    self.errors += 1;
                    if self.error_messages.len() < KEPT_ERRORS {
                        self.error_messages.push(message);
                    }
                }
            }
        }
    }

    /// The cluster hop of the engine's answers.
    fn hop_report(&self) -> HopReport {
        let mut sorted = self.hops_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let mut sandbox = self.sandbox_ms.clone();
        sandbox.sort_by(f64::total_cmp);
        HopReport {
            available: !sorted.is_empty(),
            with_header: sorted.len(),
            without_header: self.without_header,
            p50_ms: round2(percentile(&sorted, 50.0)),
            p90_ms: round2(percentile(&sorted, 90.0)),
            p99_ms: round2(percentile(&sorted, 99.0)),
            max_ms: round2(sorted.last().copied().unwrap_or(f64::NAN)),
            sandbox_p50_ms: round2(percentile(&sandbox, 50.0)),
            hops_ms: self.hops_ms.iter().copied().map(round2).collect(),
        }
    }

    fn report(self) -> SeriesReport {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let busy_s = self.busy.as_secs_f64();
        SeriesReport {
            summary: Summary {
                ok: sorted.len(),
                errors: self.errors,
                p50_ms: percentile(&sorted, 50.0),
                p90_ms: percentile(&sorted, 90.0),
                p99_ms: percentile(&sorted, 99.0),
                max_ms: sorted.last().copied().unwrap_or(f64::NAN),
                throughput_rps: if busy_s > 0.0 {
                    sorted.len() as f64 / busy_s
                } else {
                    f64::NAN
                },
                busy_s,
            },
            error_messages: self.error_messages,
            latencies_ms: self.latencies_ms,
        }
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[derive(Serialize)]
struct Summary {
    /// Successful requests (HTTP 200, exit 0 for the baseline, status ok
    /// for the direct sandbox).
    ok: usize,
    /// Non-200 answers or transport failures (non-zero exit for the baseline).
    errors: usize,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Successful requests per second of this side's batches' wall time.
    throughput_rps: f64,
    busy_s: f64,
}

#[derive(Serialize)]
struct SeriesReport {
    summary: Summary,
    error_messages: Vec<String>,
    /// In the order they completed.
    latencies_ms: Vec<f64>,
}

/// The cluster hop: an engine request's end-to-end latency minus the time
/// its worker's sandbox spent (`x-braindrill-sandbox-us`). Milliseconds
/// with 2 decimals; null when no answer carried the header.
#[derive(Serialize)]
struct HopReport {
    /// Whether any successful answer carried the header.
    available: bool,
    /// Successful answers with the header.
    with_header: usize,
    /// Successful answers without it.
    without_header: usize,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// The sandbox's own time (the header), median.
    sandbox_p50_ms: f64,
    /// Every hop, in the order the answers completed.
    hops_ms: Vec<f64>,
}

#[derive(Serialize)]
struct LevelReport {
    concurrency: usize,
    engine: SeriesReport,
    baseline: SeriesReport,
    /// The library's cold sandbox run in-process at the same concurrency.
    direct: SeriesReport,
    hop: HopReport,
    /// Engine p50 over baseline p50.
    ratio_p50: f64,
    /// Engine throughput over direct throughput.
    throughput_engine_over_direct: f64,
    /// The highest VmRSS of each watched process during this level, MiB.
    rss_max: Vec<ProcessPeak>,
    /// Whether the time bound cut this level short.
    truncated: bool,
}

#[derive(Serialize)]
struct ProcessPeak {
    role: Role,
    pid: u32,
    max_mib: f64,
}

#[derive(Serialize)]
struct HttpReport {
    date: String,
    machine: Machine,
    url: String,
    language: String,
    code: String,
    note: String,
    requests_per_level: u64,
    baseline_every: u64,
    baseline_command: Vec<String>,
    direct_every: u64,
    /// The node name (label `braindrill.node`) of the direct sandbox.
    direct_node: String,
    levels: Vec<LevelReport>,
    memory: MemoryReport,
    targets: Vec<TargetCheck>,
}

/// What one level needs to run its batches.
struct Target {
    client: reqwest::Client,
    endpoint: String,
    code: String,
    baseline: Vec<String>,
    language: Language,
    direct: DockerSandbox,
}

async fn http_bench(docker: &Docker, args: HttpArgs, direct_node: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(args.time_limit_s).min(MAX_RUN_TIME);
    let base = check_url(&args.url)?;
    check_language_name(&args.language)?;
    let language = load_language(&args.language)?;
    let watched = watched_processes(&args.master_pid, &args.worker_pid)?;
    let target = Target {
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
    wait_ready(&target.client, &base).await?;
    // Idle: before anything of ours has run on the node.
    let idle = idle_rss(&watched)?;
    warm_up(&target).await?;

    let sampler = RssSampler::start(&watched);
    let mut levels = Vec::new();
    for &concurrency in &args.concurrency {
        let level = run_level(&target, &args, concurrency as usize, deadline, &sampler).await;
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
        baseline_command: target.baseline,
        direct_every: args.direct_every,
        direct_node: direct_node.to_string(),
        levels,
        memory,
        targets,
    };
    let json = serde_json::to_string_pretty(&report).context("cannot encode the report")?;
    write_file(&args.out, &json)?;
    draw_svg(&args.svg, &report)?;
    println!("{}", markdown_table(&report.levels));
    println!("{}", level_table(&report.levels));
    println!("{}", memory_table(&report.memory));
    println!("{}", targets_table(&report.targets));
    println!("wrote {} and {}", args.out.display(), args.svg.display());
    Ok(())
}

/// Accepts only `http://127.0.0.1:PORT` (an optional trailing `/`).
fn check_url(raw: &str) -> anyhow::Result<String> {
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

/// `docker run --rm` of the language's image under the same limits and
/// hardening as the engine's sandbox, running the code inline.
fn baseline_args(language: &Language, code: &str) -> anyhow::Result<Vec<String>> {
    let interpreter = language.run.first().map(String::as_str).unwrap_or("");
    let flag = match interpreter {
        "python3" => "-c",
        "ruby" | "perl" | "node" => "-e",
        _ => bail!(
            "no `docker run` baseline for language {} (python, ruby, perl and javascript have one)",
            language.name
        ),
    };
    let limits = &language.limits;
    let mut args: Vec<String> = [
        "run",
        "--rm",
        "--network",
        "none",
        "--read-only",
        "--user",
        "65534:65534",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--init",
        "--log-driver",
        "none",
        "-w",
        "/tmp",
    ]
    .map(String::from)
    .to_vec();
    args.extend(limit_flags(limits));
    args.extend(
        [
            "--label",
            &format!("{}={}", BENCH_LABEL.0, BENCH_LABEL.1),
            &language.image,
            interpreter,
            flag,
            code,
        ]
        .map(String::from),
    );
    Ok(args)
}

/// The `docker run` flags of the engine's resource limits.
fn limit_flags(limits: &Limits) -> Vec<String> {
    [
        format!("--memory={}", limits.memory_bytes),
        format!("--memory-swap={}", limits.memory_bytes),
        format!("--cpus={}", limits.cpus),
        format!("--pids-limit={}", limits.pids),
        format!("--ulimit=nofile={0}:{0}", limits.nofile),
        format!("--ulimit=fsize={0}:{0}", limits.file_size_bytes),
        format!(
            "--tmpfs=/tmp:rw,nosuid,nodev,size={},mode=1777",
            limits.scratch_bytes
        ),
    ]
    .to_vec()
}

/// Polls `/ready` until the node can run code.
async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
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
async fn warm_up(target: &Target) -> anyhow::Result<()> {
    let mut engine_body = String::new();
    for _ in 0..2 {
        let response = target
            .client
            .post(&target.endpoint)
            .body(target.code.clone())
            .send()
            .await
            .context("the warm-up request failed")?;
        if response.status() != reqwest::StatusCode::OK {
            bail!("the warm-up request got HTTP {}", response.status());
        }
        engine_body = response.text().await.context("the warm-up answer")?;
    }
    let output = tokio::process::Command::new("docker")
        .args(&target.baseline)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("cannot run docker")?;
    if !output.status.success() {
        bail!(
            "the baseline `docker run` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let baseline_out = String::from_utf8_lossy(&output.stdout);
    if baseline_out != engine_body {
        eprintln!(
            "warning: the engine answered {engine_body:?} but the baseline printed {baseline_out:?}"
        );
    }
    let outcome = tokio::time::timeout(JOB_TIMEOUT, target.direct.execute(submission(target)))
        .await
        .context("the warm-up direct execution took too long")?;
    if outcome.status != Status::Ok {
        bail!(
            "the warm-up direct execution ended {:?}: {}",
            outcome.status,
            outcome.error.unwrap_or_default()
        );
    }
    let direct_out = outcome.run.map(|run| run.stdout).unwrap_or_default();
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
    target: &Target,
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
        engine.add(run_batch(count, concurrency, || engine_request(target)).await);
        let direct_count = count.div_ceil(direct_every);
        direct.add(
            run_batch(direct_count, concurrency.min(direct_count), || {
                direct_run(target)
            })
            .await,
        );
        let baseline_count = count.div_ceil(every);
        let baseline_concurrency = concurrency.min(baseline_count);
        baseline.add(
            run_batch(baseline_count, baseline_concurrency, || {
                baseline_run(&target.baseline)
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
async fn engine_request(target: &Target) -> Sample {
    let started = Instant::now();
    let answer = target
        .client
        .post(&target.endpoint)
        .body(target.code.clone())
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

/// The submission of one direct execution: the language's file and limits,
/// as the engine builds it for `POST /lang/{language}`.
fn submission(target: &Target) -> Submission {
    Submission {
        execution_id: uuid::Uuid::new_v4().to_string(),
        language: target.language.clone(),
        files: vec![SourceFile {
            name: target.language.file.clone(),
            content: target.code.clone(),
        }],
        stdin: String::new(),
        args: Vec::new(),
        limits: target.language.limits.clone(),
    }
}

/// One execution by the library's cold sandbox in this process, timed
/// until its outcome. A cut-short execution removes what it created.
async fn direct_run(target: &Target) -> Sample {
    let started = Instant::now();
    let outcome =
        tokio::time::timeout(JOB_TIMEOUT, target.direct.execute(submission(target))).await;
    let error = match outcome {
        Ok(outcome) if outcome.status == Status::Ok => None,
        Ok(outcome) => Some(format!(
            "direct: {:?}{}",
            outcome.status,
            outcome
                .error
                .map(|error| format!(": {error}"))
                .unwrap_or_default()
        )),
        Err(_) => Some(format!("direct execution took over {JOB_TIMEOUT:?}")),
    };
    Sample::new(started, error)
}

/// One `docker run --rm`, timed until the CLI exits.
async fn baseline_run(args: &[String]) -> Sample {
    let started = Instant::now();
    let run = tokio::process::Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let error = match tokio::time::timeout(JOB_TIMEOUT, run).await {
        Ok(Ok(output)) if output.status.success() => None,
        Ok(Ok(output)) => Some(format!(
            "docker run: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Ok(Err(error)) => Some(format!("cannot run docker: {error}")),
        Err(_) => Some(format!("docker run took over {JOB_TIMEOUT:?}")),
    };
    Sample::new(started, error)
}

fn print_level(level: &LevelReport) {
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

// ---------------------------------------------------------------- memory

/// Which part of the node a watched process plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Role {
    Master,
    Worker,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Worker => "worker",
        }
    }

    /// The idle target of this role, MiB; under load it may take twice that.
    fn idle_target_mib(self) -> f64 {
        match self {
            Role::Master => TARGET_IDLE_MASTER_MIB,
            Role::Worker => TARGET_IDLE_WORKER_MIB,
        }
    }
}

/// The processes to watch, masters first; a PID given for both roles (a
/// standalone node) is watched as both.
fn watched_processes(masters: &[u32], workers: &[u32]) -> anyhow::Result<Vec<(Role, u32)>> {
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
fn idle_rss(watched: &[(Role, u32)]) -> anyhow::Result<Vec<u64>> {
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
struct RssSampler {
    state: Arc<Mutex<Vec<Watched>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RssSampler {
    fn start(watched: &[(Role, u32)]) -> RssSampler {
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

    fn start_level(&self) {
        if let Ok(mut state) = self.state.lock() {
            for process in state.iter_mut() {
                process.level_max_kib = None;
            }
        }
    }

    /// The highest VmRSS of each process since the level started.
    fn level_peaks(&self) -> Vec<ProcessPeak> {
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
    fn finish(mut self, idle: Vec<u64>) -> MemoryReport {
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
struct MemoryReport {
    sample_interval_ms: u64,
    processes: Vec<ProcessMemory>,
}

/// VmRSS of one process from `/proc/PID/status`, MiB.
#[derive(Serialize)]
struct ProcessMemory {
    role: Role,
    pid: u32,
    /// Before the warm-up.
    idle_mib: f64,
    /// The highest sample during the measured levels (null: none read).
    load_max_mib: f64,
    samples: usize,
    failed_samples: usize,
    /// The kernel's peak RSS of the process's whole life, read at the end.
    vm_hwm_mib: f64,
}

// ---------------------------------------------------------------- targets

/// One target of the speed issue and how this run fared.
#[derive(Serialize)]
struct TargetCheck {
    target: String,
    threshold: String,
    /// The figure compared (null when not measured).
    value: f64,
    measured: String,
    /// Null when this run could not measure it.
    met: Option<bool>,
    note: String,
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

    fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "not measured",
        }
    }
}

fn check_targets(levels: &[LevelReport], memory: &MemoryReport) -> Vec<TargetCheck> {
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
        let idle_target = role.idle_target_mib();
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

// ---------------------------------------------------------------- picture

fn draw_svg(path: &Path, report: &HttpReport) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let root = SVGBackend::new(path, (1200, 920)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (top, bottom) = root.split_vertically(520);
    let (left, right) = top.split_horizontally(700);
    let (bottom_left, bottom_right) = bottom.split_horizontally(700);
    let note = if report.note.is_empty() {
        String::new()
    } else {
        format!(", {}", report.note)
    };
    draw_cdf(&left, &note, &report.levels)?;
    draw_throughput(&right, &note, &report.levels)?;
    draw_hops(&bottom_left, &note, &report.levels)?;
    draw_targets(&bottom_right, &report.targets)?;
    root.present().map_err(plot_error)
}

fn plot_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("cannot draw the picture: {error}")
}

fn level_color(index: usize) -> RGBColor {
    const COLORS: [RGBColor; 4] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
    ];
    COLORS[index % COLORS.len()]
}

/// Left panel: cumulative distribution of latencies, engine solid and
/// baseline dashed, one colour per concurrency.
fn draw_cdf(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    note: &str,
    levels: &[LevelReport],
) -> anyhow::Result<()> {
    let x_max = levels
        .iter()
        .flat_map(|level| {
            [
                level.engine.summary.p99_ms,
                level.baseline.summary.p99_ms,
                level.direct.summary.p99_ms,
            ]
        })
        .filter(|ms| ms.is_finite())
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Latency CDF{note} (solid: engine, dashed: docker run, dotted: direct)"),
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..x_max, 0f64..1f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms)")
        .y_desc("fraction of requests")
        .draw()
        .map_err(plot_error)?;
    for (index, level) in levels.iter().enumerate() {
        let color = level_color(index);
        let engine = cdf_points(&level.engine.latencies_ms, x_max);
        chart
            .draw_series(LineSeries::new(engine, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!("engine, {} concurrent", level.concurrency))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        let baseline = cdf_points(&level.baseline.latencies_ms, x_max);
        chart
            .draw_series(DashedLineSeries::new(baseline, 6, 4, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!("docker run, {} concurrent", level.concurrency))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 8, y)], color.stroke_width(2))
            });
        let direct = cdf_points(&level.direct.latencies_ms, x_max);
        chart
            .draw_series(DashedLineSeries::new(direct, 2, 4, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!("direct, {} concurrent", level.concurrency))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 3, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// The steps of an empirical CDF, cut at `x_max`.
fn cdf_points(latencies: &[f64], x_max: f64) -> Vec<(f64, f64)> {
    let mut sorted = latencies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut points = vec![(0.0, 0.0)];
    for (index, &ms) in sorted.iter().enumerate() {
        if ms > x_max {
            points.push((x_max, index as f64 / n));
            return points;
        }
        points.push((ms, index as f64 / n));
        points.push((ms, (index + 1) as f64 / n));
    }
    points
}

/// A line of the throughput panel: its name, colour and value per level.
type Side = (&'static str, RGBColor, fn(&LevelReport) -> f64);

/// Right panel: throughput at each concurrency, engine and baseline.
fn draw_throughput(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    note: &str,
    levels: &[LevelReport],
) -> anyhow::Result<()> {
    let sides: [Side; 3] = [
        ("engine", RGBColor(31, 119, 180), |level| {
            level.engine.summary.throughput_rps
        }),
        ("docker run", RGBColor(255, 127, 14), |level| {
            level.baseline.summary.throughput_rps
        }),
        (
            "direct (cold sandbox, in-process)",
            RGBColor(44, 160, 44),
            |level| level.direct.summary.throughput_rps,
        ),
    ];
    let y_max = levels
        .iter()
        .flat_map(|level| sides.map(|(_, _, value)| value(level)))
        .filter(|rps| rps.is_finite())
        .fold(1.0, f64::max)
        * 1.25;
    let x_max = levels
        .iter()
        .map(|level| level.concurrency)
        .max()
        .unwrap_or(1) as f64
        + 1.0;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Throughput by concurrency{note}"),
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("concurrent clients")
        .y_desc("successful runs per second")
        .draw()
        .map_err(plot_error)?;
    for (name, color, value) in sides {
        let points: Vec<(f64, f64)> = levels
            .iter()
            .map(|level| (level.concurrency as f64, value(level)))
            .filter(|(_, rps)| rps.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(plot_error)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&point| Circle::new(point, 4, color.filled())),
            )
            .map_err(plot_error)?;
        chart
            .draw_series(points.iter().map(|&(x, y)| {
                EmptyElement::at((x, y))
                    + Text::new(
                        format!("{y:.1}"),
                        (8, -16),
                        ("sans-serif", 13).into_font().color(&color),
                    )
            }))
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// Bottom left: cumulative distribution of the cluster hop per concurrency.
fn draw_hops(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    note: &str,
    levels: &[LevelReport],
) -> anyhow::Result<()> {
    let caption = format!("Cluster hop CDF{note} (end-to-end minus the worker's sandbox time)");
    if levels.iter().all(|level| !level.hop.available) {
        area.titled(&caption, ("sans-serif", 18))
            .map_err(plot_error)?
            .draw_text(
                &format!("hop unavailable: no answer carried {SANDBOX_US_HEADER}"),
                &("sans-serif", 15).into_font().color(&BLACK),
                (40, 60),
            )
            .map_err(plot_error)?;
        return Ok(());
    }
    let x_max = levels
        .iter()
        .filter(|level| level.hop.available)
        .map(|level| level.hop.p99_ms)
        .filter(|ms| ms.is_finite())
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..x_max, 0f64..1f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("hop (ms)")
        .y_desc("fraction of requests")
        .draw()
        .map_err(plot_error)?;
    for (index, level) in levels.iter().enumerate() {
        if !level.hop.available {
            continue;
        }
        let color = level_color(index);
        let points = cdf_points(&level.hop.hops_ms, x_max);
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!(
                "{} concurrent (p50 {:.2} ms)",
                level.concurrency, level.hop.p50_ms
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// Bottom right: the targets and this run's verdicts, as text.
fn draw_targets(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    targets: &[TargetCheck],
) -> anyhow::Result<()> {
    let area = area
        .titled("Targets", ("sans-serif", 18))
        .map_err(plot_error)?;
    let mut y = 20;
    for target in targets {
        let color = match target.met {
            Some(true) => RGBColor(44, 160, 44),
            Some(false) => RGBColor(214, 39, 40),
            None => RGBColor(127, 127, 127),
        };
        area.draw_text(
            &format!("{} ({})", target.target, target.threshold),
            &("sans-serif", 13).into_font().color(&BLACK),
            (15, y),
        )
        .map_err(plot_error)?;
        area.draw_text(
            &format!("{}: {}", target.verdict(), target.measured),
            &("sans-serif", 13).into_font().color(&color),
            (30, y + 16),
        )
        .map_err(plot_error)?;
        y += 36;
    }
    Ok(())
}

// ---------------------------------------------------------------- start costs

/// A container configuration whose start cost is measured.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Bare,
    NetworkNone,
    ReadOnly,
    User,
    CapDropAll,
    NoNewPrivileges,
    Memory,
    NanoCpus,
    PidsLimit,
    Ulimits,
    Tmpfs,
    Init,
    LogNone,
    NamedVolume,
    Hardened,
}

const VARIANTS: [Variant; 15] = [
    Variant::Bare,
    Variant::NetworkNone,
    Variant::ReadOnly,
    Variant::User,
    Variant::CapDropAll,
    Variant::NoNewPrivileges,
    Variant::Memory,
    Variant::NanoCpus,
    Variant::PidsLimit,
    Variant::Ulimits,
    Variant::Tmpfs,
    Variant::Init,
    Variant::LogNone,
    Variant::NamedVolume,
    Variant::Hardened,
];

impl Variant {
    fn describe(self) -> &'static str {
        match self {
            Variant::Bare => "bare (no option)",
            Variant::NetworkNone => "network_mode none",
            Variant::ReadOnly => "readonly_rootfs",
            Variant::User => "user 65534:65534",
            Variant::CapDropAll => "cap_drop ALL",
            Variant::NoNewPrivileges => "security_opt no-new-privileges",
            Variant::Memory => "memory + memory_swap 64 MiB",
            Variant::NanoCpus => "nano_cpus (1 CPU)",
            Variant::PidsLimit => "pids_limit 64",
            Variant::Ulimits => "ulimits nofile + fsize",
            Variant::Tmpfs => "tmpfs /tmp (16 MiB)",
            Variant::Init => "init (docker-init as PID 1)",
            Variant::LogNone => "log driver none",
            Variant::NamedVolume => "named volume mount (created and removed)",
            Variant::Hardened => "full hardened spec (ContainerSpec::to_create_body)",
        }
    }

    fn uses_volume(self) -> bool {
        matches!(self, Variant::NamedVolume | Variant::Hardened)
    }
}

/// What every container of the measurement shares.
struct Setup {
    image: String,
    command: Vec<String>,
    limits: Limits,
}

/// The time of each phase of one container's life.
#[derive(Clone, Copy)]
struct Phases {
    create: Duration,
    start: Duration,
    wait: Duration,
    remove: Duration,
}

impl Phases {
    fn total(&self) -> Duration {
        self.create + self.start + self.wait + self.remove
    }
}

async fn start_costs(docker: &Docker, args: StartCostArgs) -> anyhow::Result<()> {
    let deadline = Instant::now() + MAX_RUN_TIME;
    let language = load_language("python")?;
    let setup = Setup {
        image: language.image,
        command: ["python3", "-c", "print(1)"].map(String::from).to_vec(),
        limits: language.limits,
    };
    let machine = machine(docker).await?;
    // One unrecorded round: caches warm, first-use costs paid.
    for variant in VARIANTS {
        run_once(docker, variant, &setup).await?;
    }
    let mut measured: Vec<Vec<Phases>> = vec![Vec::new(); VARIANTS.len()];
    let mut rounds = 0;
    while rounds < args.runs && Instant::now() < deadline {
        // Rotate the order each round so no variant always runs first.
        for offset in 0..VARIANTS.len() {
            let index = (offset + rounds as usize) % VARIANTS.len();
            measured[index].push(run_once(docker, VARIANTS[index], &setup).await?);
        }
        rounds += 1;
    }
    let table = start_cost_table(&measured, &machine, &setup, rounds);
    write_file(&args.out, &table)?;
    println!("{table}");
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Creates, starts, waits for and removes one container; removes it (and
/// its volume) whatever happened.
async fn run_once(docker: &Docker, variant: Variant, setup: &Setup) -> anyhow::Result<Phases> {
    let name = format!(
        "braindrill-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let volume = format!("{name}-code");
    let body = create_body(variant, setup, &volume);
    let lived = live(
        docker,
        &name,
        body,
        variant.uses_volume().then_some(&volume),
    )
    .await;
    let removed = remove_container(docker, &name).await;
    let volume_removed = remove_volume(docker, &volume).await;
    let phases = lived.with_context(|| format!("variant {:?}", variant.describe()))?;
    removed?;
    volume_removed?;
    Ok(phases)
}

/// The timed life of one container.
async fn live(
    docker: &Docker,
    name: &str,
    body: ContainerCreateBody,
    volume: Option<&String>,
) -> anyhow::Result<Phases> {
    let options = CreateContainerOptions {
        name: Some(name.to_string()),
        ..Default::default()
    };
    let clock = Instant::now();
    docker
        .create_container(Some(options), body)
        .await
        .context("cannot create the container")?;
    let create = clock.elapsed();
    let clock = Instant::now();
    docker
        .start_container(name, None)
        .await
        .context("cannot start the container")?;
    let start = clock.elapsed();
    let clock = Instant::now();
    let exit_code = wait_for_exit(docker, name).await?;
    let wait = clock.elapsed();
    if exit_code != 0 {
        bail!("the container exited with {exit_code}");
    }
    let clock = Instant::now();
    let options = RemoveContainerOptions {
        v: true,
        ..Default::default()
    };
    docker
        .remove_container(name, Some(options))
        .await
        .context("cannot remove the container")?;
    if let Some(volume) = volume {
        remove_volume(docker, volume).await?;
    }
    let remove = clock.elapsed();
    Ok(Phases {
        create,
        start,
        wait,
        remove,
    })
}

/// The container's exit code; the engine reports a non-zero one as an error
/// of the wait call.
async fn wait_for_exit(docker: &Docker, name: &str) -> anyhow::Result<i64> {
    let mut wait = docker.wait_container(name, None);
    let waited = tokio::time::timeout(JOB_TIMEOUT, wait.next())
        .await
        .context("the container did not exit in time")?;
    match waited {
        Some(Ok(response)) => Ok(response.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(error)) => Err(anyhow::Error::new(error).context("cannot wait for the container")),
        None => bail!("the engine closed the wait for the container"),
    }
}

/// The container of `variant`: bare, with one option added, or the engine's
/// full spec.
fn create_body(variant: Variant, setup: &Setup, volume: &str) -> ContainerCreateBody {
    if variant == Variant::Hardened {
        let spec = ContainerSpec {
            image: &setup.image,
            command: &setup.command,
            volume: Some(volume),
            code_read_only: false,
            limits: &setup.limits,
            labels: bench_labels(),
        };
        return spec.to_create_body();
    }
    let mut body = ContainerCreateBody {
        image: Some(setup.image.clone()),
        cmd: Some(setup.command.clone()),
        labels: Some(bench_labels()),
        ..Default::default()
    };
    if variant == Variant::User {
        body.user = Some("65534:65534".into());
    }
    body.host_config = Some(host_config(variant, &setup.limits, volume));
    body
}

/// The bare host configuration with the one option of `variant`.
fn host_config(variant: Variant, limits: &Limits, volume: &str) -> HostConfig {
    let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
    let mut host = HostConfig::default();
    match variant {
        Variant::NetworkNone => host.network_mode = Some("none".into()),
        Variant::ReadOnly => host.readonly_rootfs = Some(true),
        Variant::CapDropAll => host.cap_drop = Some(vec!["ALL".into()]),
        Variant::NoNewPrivileges => host.security_opt = Some(vec!["no-new-privileges".into()]),
        Variant::Memory => {
            host.memory = Some(memory);
            host.memory_swap = Some(memory);
        }
        Variant::NanoCpus => host.nano_cpus = Some((limits.cpus * 1e9) as i64),
        Variant::PidsLimit => host.pids_limit = Some(limits.pids),
        Variant::Ulimits => host.ulimits = Some(ulimits(limits)),
        Variant::Tmpfs => {
            host.tmpfs = Some(HashMap::from([(
                "/tmp".to_string(),
                format!("rw,nosuid,nodev,size={},mode=1777", limits.scratch_bytes),
            )]));
        }
        Variant::Init => host.init = Some(true),
        Variant::LogNone => {
            host.log_config = Some(HostConfigLogConfig {
                typ: Some("none".into()),
                config: None,
            });
        }
        Variant::NamedVolume => host.mounts = Some(vec![volume_mount(volume)]),
        Variant::Bare | Variant::User | Variant::Hardened => {}
    }
    host
}

fn ulimits(limits: &Limits) -> Vec<ResourcesUlimits> {
    let file_size = i64::try_from(limits.file_size_bytes).unwrap_or(i64::MAX);
    [("nofile", limits.nofile), ("fsize", file_size)]
        .map(|(name, value)| ResourcesUlimits {
            name: Some(name.into()),
            soft: Some(value),
            hard: Some(value),
        })
        .to_vec()
}

/// A named volume at /sandbox, created by the engine with the harness's label.
fn volume_mount(volume: &str) -> Mount {
    Mount {
        target: Some("/sandbox".into()),
        source: Some(volume.into()),
        typ: Some(MountType::VOLUME),
        read_only: Some(false),
        volume_options: Some(MountVolumeOptions {
            labels: Some(bench_labels()),
            no_copy: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn start_cost_table(
    measured: &[Vec<Phases>],
    machine: &Machine,
    setup: &Setup,
    rounds: u64,
) -> String {
    let totals: Vec<Vec<f64>> = measured
        .iter()
        .map(|runs| runs.iter().map(|phases| millis(phases.total())).collect())
        .collect();
    let bare = median(&totals[0]);
    let mut table = format!(
        "Start cost of one container: create + start + wait + remove of `{}` in `{}`, \
         through the Engine API (bollard, API 1.41), {rounds} runs per variant, \
         round-robin over the variants (one unrecorded warm-up round). \
         {} cores, Docker {} (API {}), kernel {}, {}. \
         Each row adds one option to the bare container; the last is the engine's full spec.\n\n\
         | variant | median ms | p90 ms | median − bare ms | median start ms |\n\
         |---|---:|---:|---:|---:|\n",
        setup.command.join(" "),
        setup.image,
        machine.cores,
        machine.docker_version,
        machine.docker_api_version,
        machine.kernel,
        utc_now(),
    );
    for ((variant, runs), total) in VARIANTS.iter().zip(measured).zip(&totals) {
        let mut sorted = total.clone();
        sorted.sort_by(f64::total_cmp);
        let starts: Vec<f64> = runs.iter().map(|phases| millis(phases.start)).collect();
        let p50 = percentile(&sorted, 50.0);
        table.push_str(&format!(
            "| {} | {p50:.0} | {:.0} | {:+.0} | {:.0} |\n",
            variant.describe(),
            percentile(&sorted, 90.0),
            p50 - bare,
            median(&starts),
        ));
    }
    table
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

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 90.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }

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

    #[test]
    fn the_baseline_has_the_engines_limits() {
        let language = load_language("python").expect("python is configured");
        let args = baseline_args(&language, "print(1)").expect("python has a baseline");
        for flag in [
            "--memory=67108864",
            "--memory-swap=67108864",
            "--pids-limit=64",
            "--ulimit=nofile=64:64",
        ] {
            assert!(args.iter().any(|arg| arg == flag), "{flag} in {args:?}");
        }
        assert_eq!(args.last().map(String::as_str), Some("print(1)"));
    }
}
