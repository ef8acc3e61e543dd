//! `braindrill-bench`: the benchmark harness of braindrill.
//!
//! Six measurements, each one command:
//!
//! - `braindrill-bench http --url http://127.0.0.1:8080` ([`http_load`])
//!   drives `POST /lang/{language}` of a running node with C concurrent
//!   clients for each concurrency level and, interleaved with it in
//!   alternating batches at the same concurrency, the baseline
//!   `docker run --rm` of the same image under the same limits, and the
//!   library's own cold sandbox run in-process ("direct"; both in
//!   [`docker_baseline`]). It prints p50/p90/p99/max latency and throughput
//!   for all three ([`stats`]), the cluster hop (end-to-end latency minus the
//!   `x-braindrill-sandbox-us` the worker reports), the resident memory of the
//!   node's processes ([`memory`]) and a table of the speed issue's targets
//!   ([`targets`]); it saves every latency and the summary as JSON
//!   ([`report`]) and draws an SVG ([`plot`]).
//! - `braindrill-bench programs --url http://127.0.0.1:8080` ([`programs`])
//!   runs the corpus of real, self-checking programs ([`corpus`], under
//!   `bench/corpus/`) through `POST /api/v1/execute` and, in the same run, as
//!   host processes of Debian's interpreters (the image's) at the same
//!   concurrency, and reports programs/s of both and their ratio.
//! - `braindrill-bench overload --url http://127.0.0.1:8080` ([`overload`])
//!   measures goodput past capacity: closed loops of 8 clients, then 64, in
//!   one run; goodput ratio, 429 latency, 504 count, memory before and
//!   after.
//! - `braindrill-bench cpu-fairness --url http://127.0.0.1:8080`
//!   ([`cpu_fairness`]) runs a program of a fixed CPU time at 1 and at 16
//!   concurrent clients and reports the verdicts and the CPU time the
//!   engine reports at each level.
//! - `braindrill-bench compare --url http://127.0.0.1:A http://127.0.0.1:B`
//!   ([`compare`]) runs one workload (python hello or the corpus) against
//!   two running setups in one run, their passes alternating: one worker
//!   node against two, or recycling against single use; runs/s of each and
//!   the ratio.
//! - `braindrill-bench start-costs` ([`start_costs`]) measures through the
//!   Engine API what create + start + wait + remove of a container costs
//!   bare, with each option of the hardened sandbox spec added alone, and
//!   with the full spec; it writes a markdown table.
//!
//! Only 127.0.0.1 is ever contacted. Every container and volume created here
//! is labelled and removed at the end, also after an error or Ctrl-C
//! ([`cleanup`]). Every run is bounded in count and in time.

mod cleanup;
mod cli;
mod compare;
mod corpus;
mod cpu_fairness;
mod docker_baseline;
mod environment;
mod http_load;
mod memory;
mod overload;
mod plot;
mod programs;
mod report;
mod start_costs;
mod stats;
mod targets;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::anyhow;
use braindrill::sandbox::engine;
use clap::Parser;

use cli::{Cli, Command};

/// The Docker socket the engine uses by default.
const DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// Hard bound of a whole run, whatever the options say.
const MAX_RUN_TIME: Duration = Duration::from_secs(600);
/// Longest one request or one container may take before it counts as failed.
const JOB_TIMEOUT: Duration = Duration::from_secs(60);

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
    let docker = engine::connect(DOCKER_SOCKET, 30)?;
    // The direct sandbox's node: its own per run, so the sweep at the end
    // touches nothing of the engine's nor of another run's.
    let direct_node = cleanup::direct_node_name();
    let work = async {
        match cli.command {
            Command::Http(args) => http_load::http_bench(&docker, *args, &direct_node).await,
            Command::StartCosts(args) => start_costs::start_costs(&docker, args).await,
            Command::Overload(args) => overload::overload_bench(args).await,
            Command::Programs(args) => {
                let machine = environment::machine(&docker).await?;
                programs::programs_bench(args, machine).await
            }
            Command::CpuFairness(args) => cpu_fairness::cpu_fairness(args).await,
            Command::Compare(args) => compare::compare(args).await,
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
    let swept = cleanup::sweep(&docker).await;
    let direct_swept = cleanup::sweep_node(&docker, &direct_node).await;
    outcome?;
    swept?;
    direct_swept
}
