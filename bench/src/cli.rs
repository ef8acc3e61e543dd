//! The command line: one subcommand per measurement, each option bounded so
//! that no invocation can run unbounded (requests, concurrency, runs and the
//! time limit all have a ceiling).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "Benchmarks of braindrill: HTTP latency and throughput against `docker run`, and container start costs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Load a running node's POST /lang/{language}, interleaved with the `docker run --rm` baseline.
    Http(Box<HttpArgs>),
    /// Time create+start+wait+remove of a container per option of the hardened spec.
    StartCosts(StartCostArgs),
    /// Run the corpus of real programs through POST /api/v1/execute and as host processes.
    Programs(ProgramsArgs),
    /// Goodput past capacity: closed loops of 8 clients, then 64, against POST /lang/{language}.
    Overload(OverloadArgs),
    /// Run a program of a fixed CPU time at several concurrency levels: verdicts and reported CPU time.
    CpuFairness(crate::cpu_fairness::CpuFairnessArgs),
    /// One workload (python hello or the real programs) against two running setups, passes alternating.
    Compare(crate::compare::CompareArgs),
}

#[derive(Args)]
pub struct OverloadArgs {
    /// The node's HTTP address; only http://127.0.0.1:PORT is accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Clients of the capacity level.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub capacity_clients: u64,
    /// Clients of the overload level.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub overload_clients: u64,
    /// Seconds each level lasts (at most 240).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=240))]
    pub seconds: u64,
    /// PID of a master process whose VmRSS is read (repeatable or a comma list).
    #[arg(long, value_delimiter = ',')]
    pub master_pid: Vec<u32>,
    /// PID of a worker process whose VmRSS is read (repeatable or a comma list).
    #[arg(long, value_delimiter = ',')]
    pub worker_pid: Vec<u32>,
    /// The language (as configured in config/default.toml).
    #[arg(long, default_value = "python")]
    pub language: String,
    /// The program every request runs.
    #[arg(long, default_value = "print(\"hi\")")]
    pub code: String,
    /// Where the summary goes (JSON).
    #[arg(long, default_value = "docs/overload-results.json")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct HttpArgs {
    /// The node's HTTP address; only http://127.0.0.1:PORT is accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Engine requests per concurrency level (at most 5000).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=5000))]
    pub requests: u64,
    /// Concurrency levels, each measured in turn.
    #[arg(long, num_args = 1.., default_values_t = [1u64, 8], value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: Vec<u64>,
    /// One baseline `docker run` per this many engine requests.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub baseline_every: u64,
    /// One direct execution (the library's cold sandbox, in-process) per this
    /// many engine requests; 1 gives batches as large as the engine's, which
    /// the throughput comparison needs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub direct_every: u64,
    /// PID of a master process whose VmRSS is read (repeatable or a comma
    /// list; in standalone mode give the same PID as --worker-pid).
    #[arg(long, value_delimiter = ',')]
    pub master_pid: Vec<u32>,
    /// PID of a worker process whose VmRSS is read (repeatable or a comma list).
    #[arg(long, value_delimiter = ',')]
    pub worker_pid: Vec<u32>,
    /// The language (as configured in config/default.toml).
    #[arg(long, default_value = "python")]
    pub language: String,
    /// The program every request runs.
    #[arg(long, default_value = "print(\"hi\")")]
    pub code: String,
    /// Where the raw latencies and the summary go (JSON).
    #[arg(long, default_value = "docs/bench-results.json")]
    pub out: PathBuf,
    /// Where the picture goes (SVG).
    #[arg(long, default_value = "docs/benchmarks.svg")]
    pub svg: PathBuf,
    /// A note on the setup (e.g. "warm pool off"), shown in the picture's
    /// titles and saved in the JSON.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Time bound of the whole run in seconds (at most 600); what was
    /// measured until then is reported.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(10..=600))]
    pub time_limit_s: u64,
}

#[derive(Args)]
pub struct StartCostArgs {
    /// Measured runs per variant (at most 200).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=200))]
    pub runs: u64,
    /// Where the markdown table goes.
    #[arg(long, default_value = "docs/start-costs.md")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct ProgramsArgs {
    /// The node's HTTP address; only http://127.0.0.1:PORT is accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The corpus: one folder per language, one self-checking program per file.
    #[arg(long, default_value = "bench/corpus")]
    pub corpus: PathBuf,
    /// Concurrency levels, each measured in turn on both sides.
    #[arg(long, num_args = 1.., default_values_t = [1u64, 2, 4, 8], value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: Vec<u64>,
    /// Passes of the whole corpus per side and level (at most 20).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub rounds: u64,
    /// Another host interpreter for a language, LANGUAGE=ABSOLUTE_PATH
    /// (repeatable), e.g. javascript=/opt/debian-nodejs18/usr/bin/node when
    /// the host's /usr/bin/node is not Debian's.
    #[arg(long)]
    pub host_interpreter: Vec<String>,
    /// A note on the setup (e.g. "recycle"), saved in the JSON.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Where the summary goes (JSON).
    #[arg(long, default_value = "docs/bench-programs.json")]
    pub out: PathBuf,
    /// Time bound of the whole run in seconds (at most 600); no run starts
    /// after it, and what was measured until then is reported.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(10..=600))]
    pub max_seconds: u64,
}
