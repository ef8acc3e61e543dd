//! `braindrill-bench programs`: the corpus of real programs ([`corpus`])
//! through the engine's `POST /api/v1/execute` and, in the same run, as
//! plain host processes of the same interpreters at the same concurrency:
//! the machine's limit. For each concurrency level the rounds alternate (one
//! pass of the corpus through the engine, then one on the host), so that both
//! sides see the same machine. Every answer is checked (status `ok`, exit 0,
//! the program's `OK <name>` line last); a failure is counted and listed, never
//! timed as a success. Programs/s of both sides and their ratio go to a table
//! and a JSON file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures_util::StreamExt;
use serde::Serialize;

use crate::cli::ProgramsArgs;
use crate::corpus::{self, CorpusLanguage, LANGUAGES, Program};
use crate::environment::{Machine, utc_now};
use crate::http_load::{check_url, wait_ready};
use crate::report::write_file;
use crate::stats::median;
use crate::{JOB_TIMEOUT, MAX_RUN_TIME};

/// Longest a host process may run: the engine's time limit is 3 s of wall
/// time, a program this slow is broken, not slow.
const HOST_TIMEOUT: Duration = Duration::from_secs(15);

/// How the host runs one language: the interpreter, maybe overridden.
struct HostInterpreter {
    language: &'static CorpusLanguage,
    path: PathBuf,
}

/// A failed run: which program, on which side, and why.
#[derive(Serialize, Clone)]
pub struct Failure {
    pub program: String,
    pub side: &'static str,
    pub concurrency: usize,
    pub reason: String,
}

/// One side's passes at one concurrency.
#[derive(Serialize, Default)]
pub struct SideReport {
    pub programs_run: usize,
    pub failures: usize,
    pub seconds: f64,
    pub programs_per_s: f64,
}

/// One concurrency level.
#[derive(Serialize)]
pub struct ProgramsLevel {
    pub concurrency: usize,
    pub engine: SideReport,
    pub host: SideReport,
    /// Engine programs/s over host programs/s; none when a side ran nothing.
    pub ratio: Option<f64>,
    /// Stopped by the time bound before every round ran.
    pub truncated: bool,
}

/// The interpreter of a language on both sides.
#[derive(Serialize)]
pub struct InterpreterVersions {
    pub language: String,
    pub host_path: String,
    pub host_version: String,
    pub engine_version: String,
    pub same: bool,
}

/// What the engine reported of a program's runs: its CPU time and memory.
#[derive(Serialize)]
pub struct ProgramFigures {
    pub program: String,
    pub cpu_ms_median: Option<f64>,
    pub memory_peak_mib_max: Option<f64>,
}

/// The whole run, as saved in the JSON file.
#[derive(Serialize)]
pub struct ProgramsReport {
    pub date: String,
    pub machine: Machine,
    pub url: String,
    pub note: String,
    pub corpus: String,
    pub programs: usize,
    pub programs_by_language: BTreeMap<&'static str, usize>,
    pub rounds: u64,
    pub interpreters: Vec<InterpreterVersions>,
    pub levels: Vec<ProgramsLevel>,
    pub failures: Vec<Failure>,
    pub figures: Vec<ProgramFigures>,
}

/// The outcome of one run of one program.
struct RunOutcome {
    program: usize,
    failure: Option<String>,
    cpu_ms: Option<f64>,
    memory_peak_bytes: Option<f64>,
}

/// Everything a pass needs.
struct Sides<'a> {
    client: reqwest::Client,
    endpoint: String,
    programs: &'a [Program],
    interpreters: Vec<HostInterpreter>,
}

/// Runs `braindrill-bench programs`.
pub async fn programs_bench(args: ProgramsArgs, machine: Machine) -> anyhow::Result<()> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.max_seconds).min(MAX_RUN_TIME);
    let base = check_url(&args.url)?;
    let programs = corpus::load(&args.corpus)?;
    let client = reqwest::Client::builder()
        .timeout(JOB_TIMEOUT)
        .no_proxy()
        .build()
        .context("cannot build the HTTP client")?;
    wait_ready(&client, &base).await?;
    let sides = Sides {
        endpoint: format!("{base}/api/v1/execute"),
        interpreters: host_interpreters(&args.host_interpreter)?,
        client,
        programs: &programs,
    };
    let interpreters = compare_versions(&sides, &base).await?;
    for version in interpreters.iter().filter(|version| !version.same) {
        eprintln!(
            "warning: {}: the host's {} is {:?}, the engine's {:?}",
            version.language, version.host_path, version.host_version, version.engine_version
        );
    }

    // One unrecorded pass of each side: the engine's pool fills for every key
    // the corpus uses, the host's page cache holds every interpreter.
    let warm_level = args.concurrency.iter().copied().max().unwrap_or(1) as usize;
    let mut failures = Vec::new();
    let mut figures: Vec<Vec<RunOutcome>> = (0..programs.len()).map(|_| Vec::new()).collect();
    for side in [Side::Engine, Side::Host] {
        let (outcomes, _) = run_pass(&sides, side, warm_level, deadline).await;
        collect(
            &sides,
            side,
            warm_level,
            outcomes,
            &mut failures,
            &mut figures,
        );
    }

    let mut levels = Vec::new();
    for &concurrency in &args.concurrency {
        let concurrency = concurrency as usize;
        let mut engine = SideReport::default();
        let mut host = SideReport::default();
        let mut rounds_run = 0;
        for _ in 0..args.rounds {
            if Instant::now() >= deadline {
                break;
            }
            for (side, report) in [(Side::Engine, &mut engine), (Side::Host, &mut host)] {
                let (outcomes, elapsed) = run_pass(&sides, side, concurrency, deadline).await;
                report.programs_run += outcomes.len();
                report.seconds += elapsed.as_secs_f64();
                report.failures += outcomes.iter().filter(|o| o.failure.is_some()).count();
                collect(
                    &sides,
                    side,
                    concurrency,
                    outcomes,
                    &mut failures,
                    &mut figures,
                );
            }
            rounds_run += 1;
        }
        for report in [&mut engine, &mut host] {
            report.programs_per_s = rate(report.programs_run, report.seconds);
        }
        let level = ProgramsLevel {
            concurrency,
            ratio: (engine.programs_run > 0 && host.programs_run > 0)
                .then(|| engine.programs_per_s / host.programs_per_s),
            truncated: rounds_run < args.rounds,
            engine,
            host,
        };
        print_level(&level);
        levels.push(level);
    }

    let report = ProgramsReport {
        date: utc_now(),
        machine,
        url: base,
        note: args.note,
        corpus: args.corpus.display().to_string(),
        programs: programs.len(),
        programs_by_language: corpus::count_by_language(&programs),
        rounds: args.rounds,
        interpreters,
        levels,
        failures,
        figures: summarize_figures(&programs, figures),
    };
    let json = serde_json::to_string_pretty(&report).context("cannot encode the report")?;
    write_file(&args.out, &json)?;
    print_report(&report);
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Which side a pass runs on.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Engine,
    Host,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Engine => "engine",
            Side::Host => "host",
        }
    }
}

/// One pass of the whole corpus on one side, `concurrency` at once; no run
/// starts past the deadline. Returns each run's outcome and the pass's time.
async fn run_pass(
    sides: &Sides<'_>,
    side: Side,
    concurrency: usize,
    deadline: Instant,
) -> (Vec<RunOutcome>, Duration) {
    let started = Instant::now();
    let outcomes: Vec<Option<RunOutcome>> = futures_util::stream::iter(0..sides.programs.len())
        .map(|index| async move {
            if Instant::now() >= deadline {
                return None;
            }
            Some(match side {
                Side::Engine => engine_run(sides, index).await,
                Side::Host => host_run(sides, index).await,
            })
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    (outcomes.into_iter().flatten().collect(), started.elapsed())
}

/// Files the failures of a pass and keeps the engine's figures per program.
fn collect(
    sides: &Sides<'_>,
    side: Side,
    concurrency: usize,
    outcomes: Vec<RunOutcome>,
    failures: &mut Vec<Failure>,
    figures: &mut [Vec<RunOutcome>],
) {
    for outcome in outcomes {
        let program = &sides.programs[outcome.program];
        if let Some(reason) = &outcome.failure {
            failures.push(Failure {
                program: program.label(),
                side: side.name(),
                concurrency,
                reason: reason.clone(),
            });
        }
        if side == Side::Engine {
            figures[outcome.program].push(outcome);
        }
    }
}

/// One `POST /api/v1/execute` of a program, its answer checked.
async fn engine_run(sides: &Sides<'_>, index: usize) -> RunOutcome {
    let program = &sides.programs[index];
    let mut outcome = RunOutcome {
        program: index,
        failure: None,
        cpu_ms: None,
        memory_peak_bytes: None,
    };
    let result = match post_program(&sides.client, &sides.endpoint, program).await {
        Ok(result) => result,
        Err(reason) => {
            outcome.failure = Some(reason);
            return outcome;
        }
    };
    outcome.cpu_ms = result["cpu_time_ms"].as_f64();
    outcome.memory_peak_bytes = result["memory_peak_bytes"].as_f64();
    outcome.failure = check_answer(program, &result);
    outcome
}

/// Sends `program` to `endpoint` (`POST /api/v1/execute`): its result, or
/// why there is none (no answer, not 200, not JSON).
pub async fn post_program(
    client: &reqwest::Client,
    endpoint: &str,
    program: &Program,
) -> Result<serde_json::Value, String> {
    let body = serde_json::json!({
        "language": program.language.api_name,
        "code": program.code,
    });
    let response = client
        .post(endpoint)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|error| format!("request: {error}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| format!("reading the answer: {error}"))?;
    if status != reqwest::StatusCode::OK {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        return Err(format!("HTTP {status}: {text}"));
    }
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .map_err(|error| format!("the answer is no JSON: {error}"))
}

/// Why the engine's result of `program` is not a correct run (status `ok`,
/// exit 0, its `OK <name>` line last), or none when it is.
pub fn check_answer(program: &Program, result: &serde_json::Value) -> Option<String> {
    let status = result["status"].as_str().unwrap_or("");
    let exit_code = result["exit_code"].as_i64();
    let stdout = result["stdout"].as_str().unwrap_or("");
    (status != "ok" || exit_code != Some(0) || !program.passed(stdout)).then(|| {
        format!(
            "status {status}, exit {exit_code:?}, stdout ends {:?}, stderr {:?}",
            tail(stdout),
            tail(result["stderr"].as_str().unwrap_or(""))
        )
    })
}

/// One host process of a program: its file in a folder of its own (removed
/// after), the Debian interpreter, a plain environment.
async fn host_run(sides: &Sides<'_>, index: usize) -> RunOutcome {
    let program = &sides.programs[index];
    let failure = host_process(sides, program).await.err();
    RunOutcome {
        program: index,
        failure: failure.map(|error| format!("{error:#}")),
        cpu_ms: None,
        memory_peak_bytes: None,
    }
}

async fn host_process(sides: &Sides<'_>, program: &Program) -> anyhow::Result<()> {
    let interpreter = sides
        .interpreters
        .iter()
        .find(|host| host.language.api_name == program.language.api_name)
        .ok_or_else(|| anyhow!("no host interpreter for {}", program.language.api_name))?;
    let dir =
        std::env::temp_dir().join(format!("braindrill-bench-program-{}", uuid::Uuid::new_v4()));
    tokio::fs::create_dir(&dir)
        .await
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let outcome = async {
        tokio::fs::write(dir.join(program.language.file), &program.code)
            .await
            .context("cannot write the program")?;
        let child = tokio::process::Command::new(&interpreter.path)
            .arg(program.language.file)
            .current_dir(&dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &dir)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", interpreter.path.display()))?;
        let output = tokio::time::timeout(HOST_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| anyhow!("ran over {HOST_TIMEOUT:?}"))?
            .context("waiting for the process")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() || !program.passed(&stdout) {
            bail!(
                "{}, stdout ends {:?}, stderr {:?}",
                output.status,
                tail(&stdout),
                tail(&String::from_utf8_lossy(&output.stderr))
            );
        }
        Ok(())
    }
    .await;
    let removed = tokio::fs::remove_dir_all(&dir).await;
    outcome?;
    removed.with_context(|| format!("cannot remove {}", dir.display()))
}

/// The last 200 characters of an output, for a failure's reason.
fn tail(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .nth(199)
        .map_or(0, |(index, _)| index);
    &text[start..]
}

/// The host interpreters: Debian's by default, `LANGUAGE=PATH` overrides.
fn host_interpreters(overrides: &[String]) -> anyhow::Result<Vec<HostInterpreter>> {
    let mut interpreters: Vec<HostInterpreter> = LANGUAGES
        .iter()
        .map(|language| HostInterpreter {
            language,
            path: PathBuf::from(language.host_interpreter),
        })
        .collect();
    for item in overrides {
        let (name, path) = item
            .split_once('=')
            .ok_or_else(|| anyhow!("--host-interpreter wants LANGUAGE=PATH, got {item:?}"))?;
        let path = PathBuf::from(path);
        if !path.is_absolute() {
            bail!("--host-interpreter {name}: give an absolute path, not one found on PATH");
        }
        let host = interpreters
            .iter_mut()
            .find(|host| host.language.api_name == name)
            .ok_or_else(|| anyhow!("--host-interpreter: no corpus language {name:?}"))?;
        host.path = path;
    }
    Ok(interpreters)
}

/// Each language's version on the host (its interpreter's first line) and
/// in the engine (`GET /api/v1/languages`).
async fn compare_versions(
    sides: &Sides<'_>,
    base: &str,
) -> anyhow::Result<Vec<InterpreterVersions>> {
    let bytes = sides
        .client
        .get(format!("{base}/api/v1/languages"))
        .send()
        .await
        .context("GET /api/v1/languages")?
        .bytes()
        .await
        .context("reading /api/v1/languages")?;
    let listed: serde_json::Value =
        serde_json::from_slice(&bytes).context("/api/v1/languages answered no JSON")?;
    let entries = listed
        .as_array()
        .or_else(|| listed["languages"].as_array())
        .cloned()
        .unwrap_or_default();
    let mut versions = Vec::new();
    for host in &sides.interpreters {
        let engine_version = entries
            .iter()
            .find(|entry| entry["name"].as_str() == Some(host.language.api_name))
            .and_then(|entry| entry["version"].as_str())
            .unwrap_or("")
            .trim()
            .to_string();
        let output = tokio::process::Command::new(&host.path)
            .args(host.language.version_args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .output()
            .await;
        let host_version = match output {
            Ok(output) => first_line(&String::from_utf8_lossy(&output.stdout)),
            Err(error) => format!("missing: {error}"),
        };
        versions.push(InterpreterVersions {
            language: host.language.api_name.to_string(),
            host_path: host.path.display().to_string(),
            same: !host_version.is_empty() && first_line(&engine_version) == host_version,
            host_version,
            engine_version,
        });
    }
    Ok(versions)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

fn rate(count: usize, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// Per program: the median CPU time and the largest memory peak the engine
/// reported over its runs.
fn summarize_figures(programs: &[Program], runs: Vec<Vec<RunOutcome>>) -> Vec<ProgramFigures> {
    programs
        .iter()
        .zip(runs)
        .map(|(program, runs)| {
            let cpu: Vec<f64> = runs.iter().filter_map(|run| run.cpu_ms).collect();
            let memory = runs
                .iter()
                .filter_map(|run| run.memory_peak_bytes)
                .fold(None, |peak: Option<f64>, bytes| {
                    Some(peak.map_or(bytes, |peak| peak.max(bytes)))
                });
            ProgramFigures {
                program: program.label(),
                cpu_ms_median: (!cpu.is_empty()).then(|| median(&cpu)),
                memory_peak_mib_max: memory.map(|bytes| bytes / (1024.0 * 1024.0)),
            }
        })
        .collect()
}

/// A ratio to two decimals, or "-" when a side ran nothing.
fn ratio_text(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".to_string(), |ratio| format!("{ratio:.2}"))
}

fn print_level(level: &ProgramsLevel) {
    println!(
        "concurrency {}: engine {:.1} programs/s ({} runs, {} failed), host {:.1} programs/s ({} runs, {} failed), ratio {}{}",
        level.concurrency,
        level.engine.programs_per_s,
        level.engine.programs_run,
        level.engine.failures,
        level.host.programs_per_s,
        level.host.programs_run,
        level.host.failures,
        ratio_text(level.ratio),
        if level.truncated {
            " (cut by --max-seconds)"
        } else {
            ""
        }
    );
}

fn print_report(report: &ProgramsReport) {
    println!();
    println!(
        "{} programs ({:?}), {} rounds per level, {}",
        report.programs, report.programs_by_language, report.rounds, report.note
    );
    for version in &report.interpreters {
        println!(
            "  {:<10} host {} ({}) {} engine {}",
            version.language,
            version.host_version,
            version.host_path,
            if version.same { "==" } else { "!=" },
            version.engine_version
        );
    }
    let cpu: Vec<f64> = report
        .figures
        .iter()
        .filter_map(|figures| figures.cpu_ms_median)
        .collect();
    if !cpu.is_empty() {
        let mut sorted = cpu.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "  engine CPU per program (median of its runs): min {:.0} ms, median {:.0} ms, max {:.0} ms",
            sorted[0],
            median(&sorted),
            sorted[sorted.len() - 1]
        );
    }
    println!();
    println!(
        "| concurrency | engine programs/s | host programs/s | ratio | failures (engine/host) |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for level in &report.levels {
        println!(
            "| {} | {:.1} | {:.1} | {} | {}/{} |",
            level.concurrency,
            level.engine.programs_per_s,
            level.host.programs_per_s,
            ratio_text(level.ratio),
            level.engine.failures,
            level.host.failures
        );
    }
    if !report.failures.is_empty() {
        println!();
        println!("{} failed runs:", report.failures.len());
        for failure in report.failures.iter().take(50) {
            println!(
                "  {} ({}, concurrency {}): {}",
                failure.program, failure.side, failure.concurrency, failure.reason
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreter_override_must_be_absolute_and_known() {
        assert!(host_interpreters(&["javascript=/opt/node18/bin/node".into()]).is_ok());
        assert!(host_interpreters(&["javascript=node".into()]).is_err());
        assert!(host_interpreters(&["cobol=/usr/bin/cobc".into()]).is_err());
        assert!(host_interpreters(&["python".into()]).is_err());
    }

    #[test]
    fn a_tail_keeps_the_last_characters() {
        assert_eq!(tail("short"), "short");
        assert_eq!(tail(&"é".repeat(300)).chars().count(), 200);
    }
}
