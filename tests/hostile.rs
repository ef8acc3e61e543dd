//! A hostile-code suite: programs that attack the sandbox (bombs, floods,
//! escapes, signals, forged framing) run through the JSON API of one
//! standalone node, each with the outcome the engine must give. The
//! programs live in `tests/hostile/`, one file each; the table below says
//! how each must end. After every hostile program an ordinary request must
//! succeed, and at the end nothing the node created may remain.
//!
//! Programs print `BLOCKED` when the attack failed as it should and
//! `ESCAPED` when it succeeded.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{Node, client, free_port, wait_for_nodes};
use futures_util::stream::{self, StreamExt};
use serde_json::{Value, json};

/// Hostile programs run at once.
const CONCURRENCY: usize = 3;
/// Where the programs are.
const PROGRAMS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hostile");

/// Per-request limits; `None` keeps the language's.
#[derive(Clone, Copy)]
struct Limits {
    timeout_ms: Option<u64>,
    memory_mb: Option<u64>,
    output_bytes: Option<usize>,
}

const DEFAULT: Limits = Limits {
    timeout_ms: None,
    memory_mb: None,
    output_bytes: None,
};

const fn timeout(ms: u64) -> Limits {
    Limits {
        timeout_ms: Some(ms),
        ..DEFAULT
    }
}

type Check = fn(&Value) -> Result<(), String>;

/// One hostile program and how it must end.
struct Case {
    /// The file under `tests/hostile/`.
    file: &'static str,
    language: &'static str,
    /// The acceptable statuses (one, where the engine can be precise).
    expected: &'static [&'static str],
    limits: Limits,
    /// More checks on the answer.
    check: Check,
    /// The answer must come within this time of the request (compile
    /// included).
    within_ms: u64,
    /// Run an ordinary execution while this one runs; it must succeed.
    probe_concurrently: bool,
}

const BASE: Case = Case {
    file: "",
    language: "",
    expected: &[],
    limits: DEFAULT,
    check: no_escape,
    within_ms: 20_000,
    probe_concurrently: false,
};

const CASES: &[Case] = &[
    // Processes and threads.
    Case {
        file: "fork_bomb.c",
        language: "c",
        expected: &["timeout"],
        limits: timeout(2000),
        ..BASE
    },
    Case {
        file: "fork_bomb.sh",
        language: "bash",
        expected: &["timeout", "runtime_error"],
        limits: timeout(2000),
        ..BASE
    },
    Case {
        file: "thread_bomb.py",
        language: "python",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "zombie_storm.c",
        language: "c",
        expected: &["ok"],
        check: zombies_reaped_and_blocked,
        ..BASE
    },
    Case {
        file: "orphan_child.py",
        language: "python",
        expected: &["ok", "timeout"],
        check: main_done,
        // Promptly: the main process exits after 0.3 s, far before the
        // 3 s limit.
        within_ms: 8000,
        ..BASE
    },
    Case {
        file: "kill_pid1.py",
        language: "python",
        expected: &["ok"],
        check: still_alive,
        ..BASE
    },
    Case {
        file: "kill_everyone.sh",
        language: "bash",
        expected: &["ok"],
        check: still_alive,
        ..BASE
    },
    Case {
        file: "disturb_runner.py",
        language: "python",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "self_stop.py",
        language: "python",
        expected: &["timeout"],
        limits: timeout(2000),
        check: killed_by_the_timer,
        ..BASE
    },
    Case {
        file: "ignore_signals.sh",
        language: "bash",
        expected: &["timeout"],
        limits: timeout(2000),
        check: killed_by_the_timer,
        ..BASE
    },
    // Memory.
    Case {
        file: "memory_bomb.py",
        language: "python",
        expected: &["memory_limit"],
        ..BASE
    },
    Case {
        file: "memory_bomb.c",
        language: "c",
        expected: &["memory_limit"],
        limits: Limits {
            memory_mb: Some(64),
            ..DEFAULT
        },
        ..BASE
    },
    Case {
        file: "slow_memory_leak.rb",
        language: "ruby",
        expected: &["memory_limit"],
        limits: timeout(6000),
        ..BASE
    },
    Case {
        file: "fake_exit_code.py",
        language: "python",
        expected: &["runtime_error"],
        check: exit_code_137,
        ..BASE
    },
    Case {
        file: "stack_overflow.c",
        language: "c",
        expected: &["runtime_error"],
        check: signal_11,
        ..BASE
    },
    // Time and CPU.
    Case {
        file: "infinite_loop.js",
        language: "javascript",
        expected: &["timeout"],
        limits: timeout(2000),
        check: killed_by_the_timer,
        ..BASE
    },
    Case {
        file: "sleep_past_deadline.sh",
        language: "bash",
        expected: &["timeout"],
        limits: timeout(1500),
        check: killed_by_the_timer,
        ..BASE
    },
    Case {
        file: "cpu_burn.c",
        language: "c",
        expected: &["ok"],
        check: cpu_within_quota,
        probe_concurrently: true,
        ..BASE
    },
    // Output.
    Case {
        file: "stdout_flood.py",
        language: "python",
        expected: &["output_limit"],
        check: stdout_capped,
        ..BASE
    },
    Case {
        file: "stderr_flood.rb",
        language: "ruby",
        expected: &["output_limit"],
        check: stderr_capped,
        ..BASE
    },
    Case {
        file: "huge_line.pl",
        language: "perl",
        expected: &["output_limit"],
        limits: Limits {
            output_bytes: Some(100_000),
            ..DEFAULT
        },
        check: one_line_capped,
        ..BASE
    },
    Case {
        file: "tiny_writes.c",
        language: "c",
        expected: &["output_limit"],
        // A cap of its own, and room: one frame per byte through the engine
        // is slow on two busy cores, and the point is the cap, not speed.
        limits: Limits {
            timeout_ms: Some(10_000),
            output_bytes: Some(TINY_WRITES_CAP),
            ..DEFAULT
        },
        check: tiny_writes_capped,
        ..BASE
    },
    Case {
        file: "binary_output.py",
        language: "python",
        expected: &["ok"],
        check: invalid_utf8_replaced,
        ..BASE
    },
    Case {
        file: "fake_docker_frame.py",
        language: "python",
        expected: &["ok"],
        check: framing_not_forged,
        ..BASE
    },
    Case {
        file: "close_stdout.py",
        language: "python",
        expected: &["ok"],
        check: closed_stdout,
        ..BASE
    },
    Case {
        file: "close_streams_loop.py",
        language: "python",
        expected: &["timeout"],
        limits: timeout(2000),
        check: killed_by_the_timer,
        ..BASE
    },
    // Files.
    Case {
        file: "fill_tmp.py",
        language: "python",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "fill_tmp_small_memory.sh",
        language: "bash",
        expected: &["ok"],
        limits: Limits {
            memory_mb: Some(8),
            ..DEFAULT
        },
        check: blocked,
        ..BASE
    },
    Case {
        file: "file_too_big.c",
        language: "c",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "file_too_big_signal.sh",
        language: "bash",
        expected: &["runtime_error"],
        check: signal_25,
        ..BASE
    },
    Case {
        file: "write_rootfs.sh",
        language: "bash",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "writable_places.sh",
        language: "bash",
        expected: &["ok"],
        // It walks every writable mount.
        limits: timeout(5000),
        check: blocked,
        ..BASE
    },
    Case {
        file: "fd_exhaustion.py",
        language: "python",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "fd_exhaustion.js",
        language: "javascript",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "rlimit_raise.c",
        language: "c",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    // Isolation and secrets.
    Case {
        file: "read_other_code.py",
        language: "python",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "secrets_env.py",
        language: "python",
        expected: &["ok"],
        check: no_secrets,
        ..BASE
    },
    Case {
        file: "docker_socket.py",
        language: "python",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "network_tcp.py",
        language: "python",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "network_dns.rb",
        language: "ruby",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    Case {
        file: "network_udp.c",
        language: "c",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
    // Privileges.
    Case {
        file: "setuid_escalation.sh",
        language: "bash",
        expected: &["ok"],
        // su and newgrp wait about a second each before they refuse.
        limits: timeout(8000),
        check: blocked,
        ..BASE
    },
    Case {
        file: "cgroup_escape.sh",
        language: "bash",
        expected: &["ok"],
        check: blocked,
        ..BASE
    },
];

// ---- checks on an answer ----

fn text<'a>(answer: &'a Value, field: &str) -> &'a str {
    answer[field].as_str().unwrap_or_default()
}

fn excerpt(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match flat.char_indices().nth(160) {
        Some((cut, _)) => format!("{}...", &flat[..cut]),
        None => flat,
    }
}

fn no_escape(answer: &Value) -> Result<(), String> {
    let stdout = text(answer, "stdout");
    if stdout.contains("ESCAPED") {
        let line = stdout
            .lines()
            .find(|line| line.contains("ESCAPED"))
            .unwrap_or_default();
        return Err(format!("escaped: {}", excerpt(line)));
    }
    Ok(())
}

fn contains(answer: &Value, field: &str, needle: &str) -> Result<(), String> {
    let held = text(answer, field);
    if held.contains(needle) {
        Ok(())
    } else {
        Err(format!("{field} lacks {needle:?}: {}", excerpt(held)))
    }
}

fn blocked(answer: &Value) -> Result<(), String> {
    no_escape(answer)?;
    contains(answer, "stdout", "BLOCKED")
}

fn still_alive(answer: &Value) -> Result<(), String> {
    no_escape(answer)?;
    contains(answer, "stdout", "STILL ALIVE")
}

fn main_done(answer: &Value) -> Result<(), String> {
    no_escape(answer)?;
    if answer["status"] == "ok" {
        contains(answer, "stdout", "MAIN DONE")?;
    }
    Ok(())
}

fn zombies_reaped_and_blocked(answer: &Value) -> Result<(), String> {
    blocked(answer)?;
    contains(answer, "stdout", "REAPED 300 orphans")
}

fn signal_is(answer: &Value, signal: i64) -> Result<(), String> {
    if answer["signal"] == signal {
        Ok(())
    } else {
        Err(format!(
            "signal {} (exit code {}), expected {signal}",
            answer["signal"], answer["exit_code"]
        ))
    }
}

fn signal_11(answer: &Value) -> Result<(), String> {
    signal_is(answer, 11)
}

fn signal_25(answer: &Value) -> Result<(), String> {
    signal_is(answer, 25)
}

fn killed_by_the_timer(answer: &Value) -> Result<(), String> {
    no_escape(answer)?;
    signal_is(answer, 9)
}

fn capped(answer: &Value, field: &str, cap: usize) -> Result<(), String> {
    let held = text(answer, field).len();
    if held != cap {
        return Err(format!("{field} holds {held} bytes, expected {cap}"));
    }
    if answer[format!("{field}_truncated")] != true {
        return Err(format!("{field}_truncated is not true"));
    }
    Ok(())
}

fn stdout_capped(answer: &Value) -> Result<(), String> {
    capped(answer, "stdout", 409_600)?;
    if !text(answer, "stderr").is_empty() {
        return Err("stderr is not empty".into());
    }
    Ok(())
}

fn stderr_capped(answer: &Value) -> Result<(), String> {
    capped(answer, "stderr", 409_600)?;
    if !text(answer, "stdout").is_empty() {
        return Err("stdout is not empty".into());
    }
    Ok(())
}

fn one_line_capped(answer: &Value) -> Result<(), String> {
    capped(answer, "stdout", 100_000)?;
    if text(answer, "stdout").bytes().any(|byte| byte != b'x') {
        return Err("stdout holds something else than the line".into());
    }
    Ok(())
}

const TINY_WRITES_CAP: usize = 32 * 1024;

fn tiny_writes_capped(answer: &Value) -> Result<(), String> {
    capped(answer, "stdout", TINY_WRITES_CAP)
}

fn exit_code_137(answer: &Value) -> Result<(), String> {
    contains(answer, "stdout", "pretending")?;
    if answer["exit_code"] != 137 {
        return Err(format!("exit code {}, expected 137", answer["exit_code"]));
    }
    Ok(())
}

fn invalid_utf8_replaced(answer: &Value) -> Result<(), String> {
    for needle in ["BEGIN\n", "END\n", "\u{fffd}", "caf\u{e9} \u{2603}\n"] {
        contains(answer, "stdout", needle)?;
    }
    contains(answer, "stderr", "err \u{fffd}\u{fffd}\n")?;
    // Every byte below 0x80 arrives as itself, NUL included.
    let ascii: String = (0u8..0x80).map(char::from).collect();
    contains(answer, "stdout", &ascii)
}

fn framing_not_forged(answer: &Value) -> Result<(), String> {
    let expected = "\u{1}\0\0\0\0\0\0\u{5}hello\u{2}\0\0\0\0\0\0\u{5}EVIL!";
    if text(answer, "stdout") != expected {
        return Err(format!(
            "stdout is {:?}, expected {expected:?}",
            text(answer, "stdout")
        ));
    }
    if !text(answer, "stderr").is_empty() {
        return Err(format!(
            "a forged frame reached stderr: {:?}",
            text(answer, "stderr")
        ));
    }
    Ok(())
}

fn closed_stdout(answer: &Value) -> Result<(), String> {
    contains(answer, "stdout", "before close")?;
    contains(answer, "stderr", "still running")?;
    if text(answer, "stdout").contains("after close") {
        return Err("wrote to a closed stdout".into());
    }
    Ok(())
}

fn no_secrets(answer: &Value) -> Result<(), String> {
    no_escape(answer)?;
    contains(answer, "stdout", "ENV")?;
    let stdout = text(answer, "stdout");
    for secret in [
        "COOKIE",
        "DOCKER_HOST",
        "DOCKER_SOCKET",
        "BRAINDRILL",
        "CLUSTER",
        "SEED_",
        "RUST_LOG",
        "docker.sock",
    ] {
        if stdout.contains(secret) {
            return Err(format!("the environment shows {secret}"));
        }
    }
    Ok(())
}

/// `threads=8 wall=1.003 cpu=1.012`: the CPU quota of one CPU holds.
fn cpu_within_quota(answer: &Value) -> Result<(), String> {
    let stdout = text(answer, "stdout");
    let field = |name: &str| -> Option<f64> {
        stdout
            .split_whitespace()
            .find_map(|word| word.strip_prefix(&format!("{name}=")))
            .and_then(|value| value.parse().ok())
    };
    let (Some(wall), Some(cpu)) = (field("wall"), field("cpu")) else {
        return Err(format!("no wall= and cpu= in {}", excerpt(stdout)));
    };
    if wall < 0.9 {
        return Err(format!("wall {wall} s, expected about 1 s"));
    }
    if cpu > 1.2 * wall + 0.1 {
        return Err(format!(
            "cpu {cpu} s in {wall} s of wall time: more than one CPU"
        ));
    }
    Ok(())
}

// ---- running ----

/// What came of one request: the HTTP status, the JSON and the round trip.
struct Answer {
    http: u16,
    body: Value,
    elapsed: Duration,
}

/// Posts one execution; retries while the runtime image is being rebuilt.
async fn execute(node: &Node, request: &Value) -> Answer {
    let mut attempts = 0;
    loop {
        let started = Instant::now();
        let response = client()
            .post(node.url("/api/v1/execute"))
            .header("content-type", "application/json")
            .body(request.to_string())
            .send()
            .await;
        let (http, body) = match response {
            Ok(response) => {
                let http = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                let body = serde_json::from_str(&text)
                    .unwrap_or_else(|_| json!({"invalid_json_answer": text}));
                (http, body)
            }
            Err(error) => (0, json!({"transport_error": error.to_string()})),
        };
        let elapsed = started.elapsed();
        let missing_image = http == 500
            && body["error"]["message"]
                .as_str()
                .is_some_and(|message| message.contains("is missing"));
        attempts += 1;
        if missing_image && attempts < 8 {
            eprintln!("the runtime image is missing (being rebuilt?): retrying in 15 s");
            tokio::time::sleep(Duration::from_secs(15)).await;
            continue;
        }
        return Answer {
            http,
            body,
            elapsed,
        };
    }
}

fn request(case: &Case, code: String) -> Value {
    let mut limits = serde_json::Map::new();
    if let Some(ms) = case.limits.timeout_ms {
        limits.insert("timeout_ms".into(), json!(ms));
    }
    if let Some(mb) = case.limits.memory_mb {
        limits.insert("memory_mb".into(), json!(mb));
    }
    if let Some(bytes) = case.limits.output_bytes {
        limits.insert("output_bytes".into(), json!(bytes));
    }
    json!({"language": case.language, "code": code, "limits": limits})
}

/// An ordinary request must succeed: nothing of a hostile program lingers.
async fn ordinary(node: &Node, tag: &str) -> Result<Duration, String> {
    let code = format!("print('ordinary after {tag}')");
    let answer = execute(node, &json!({"language": "python", "code": code})).await;
    let expected = format!("ordinary after {tag}\n");
    if answer.http == 200
        && answer.body["status"] == "ok"
        && answer.body["stdout"] == expected.as_str()
    {
        Ok(answer.elapsed)
    } else {
        Err(format!(
            "the ordinary request failed: HTTP {} {}",
            answer.http,
            excerpt(&answer.body.to_string())
        ))
    }
}

/// The outcome of one hostile program, for the table.
struct Report {
    file: &'static str,
    language: &'static str,
    expected: String,
    got: String,
    exit: String,
    millis: u128,
    /// Whether a warm sandbox ran it (the node logs every execution that
    /// takes the fresh run).
    warm: bool,
    /// The last line of stdout, shortened.
    detail: String,
    problems: Vec<String>,
}

async fn run_case(node: &Node, case: &'static Case) -> Report {
    let path = format!("{PROGRAMS}/{}", case.file);
    let code = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let request = request(case, code);
    let hostile = execute(node, &request);
    let (answer, probe) = if case.probe_concurrently {
        let probe = async {
            // Start while the hostile program runs (after its compile step).
            tokio::time::sleep(Duration::from_millis(1500)).await;
            ordinary(node, &format!("{} (concurrent)", case.file)).await
        };
        let (answer, probe) = tokio::join!(hostile, probe);
        (answer, Some(probe))
    } else {
        (hostile.await, None)
    };
    let body = &answer.body;
    let mut problems = Vec::new();
    let got = if answer.http == 200 {
        body["status"].as_str().unwrap_or("?").to_string()
    } else {
        format!(
            "HTTP {} {}",
            answer.http,
            body["error"]["code"].as_str().unwrap_or_default()
        )
    };
    if !case.expected.contains(&got.as_str()) {
        problems.push(format!(
            "status {got}: {}",
            excerpt(&if answer.http == 200 {
                format!(
                    "stdout {:?} stderr {:?}",
                    text(body, "stdout"),
                    text(body, "stderr")
                )
            } else {
                body.to_string()
            })
        ));
    } else if let Err(problem) = (case.check)(body) {
        problems.push(problem);
    }
    // The engine's timer is precise: a timeout ends the run at the limit.
    if let (Some(limit), Some("timeout"), Some(wall)) = (
        case.limits.timeout_ms,
        body["status"].as_str(),
        body["wall_time_ms"].as_u64(),
    ) && (wall < limit || wall > limit + 1500)
    {
        problems.push(format!("timed out after {wall} ms of a {limit} ms limit"));
    }
    if answer.elapsed > Duration::from_millis(case.within_ms) {
        problems.push(format!(
            "answered after {} ms, more than {} ms",
            answer.elapsed.as_millis(),
            case.within_ms
        ));
    }
    if let Some(Err(problem)) = probe {
        problems.push(format!("concurrent: {problem}"));
    }
    if let Err(problem) = ordinary(node, case.file).await {
        problems.push(format!("next request: {problem}"));
    }
    let exit = format!(
        "{}/{}",
        body["exit_code"]
            .as_i64()
            .map_or("-".into(), |c| c.to_string()),
        body["signal"]
            .as_i64()
            .map_or("-".into(), |s| s.to_string())
    );
    let detail = excerpt(
        text(body, "stdout")
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or_default(),
    )
    .chars()
    .take(48)
    .collect();
    Report {
        detail,
        file: case.file,
        language: case.language,
        expected: case.expected.join("|"),
        got,
        exit,
        millis: answer.elapsed.as_millis(),
        warm: answer.http == 200 && !ran_fresh(node, body),
        problems,
    }
}

/// Whether the node logged that this answer's execution took the fresh run.
fn ran_fresh(node: &Node, answer: &Value) -> bool {
    let message = braindrill::sandbox::fresh_run_message(text(answer, "execution_id"));
    node.log_text().contains(&message)
}

/// Containers and volumes of `node` still in the engine, but for the warm
/// sandboxes waiting for an execution (a running node keeps its pool).
async fn leftovers(node_name: &str) -> Vec<String> {
    use braindrill::sandbox::engine;
    let docker = engine::connect("/var/run/docker.sock", 30).expect("the Docker socket");
    let left = engine::list_objects(
        &docker,
        engine::with_labels(vec![
            format!("{}={}", engine::ENGINE_LABEL, engine::ENGINE_NAME),
            format!("{}={node_name}", engine::NODE_LABEL),
        ]),
    )
    .await
    .expect("the engine lists containers and volumes");
    let mut found = Vec::new();
    for container in left.containers {
        let labels = container.labels.clone().unwrap_or_default();
        let idle_warm = labels
            .get(engine::EXECUTION_LABEL)
            .is_some_and(|execution| execution.starts_with("warm-"))
            && container.state.map(|s| s.to_string()).as_deref() == Some("running");
        if idle_warm {
            continue;
        }
        found.push(format!(
            "container {:?} {}",
            container.names.unwrap_or_default(),
            container.state.map(|s| s.to_string()).unwrap_or_default()
        ));
    }
    for volume in left.volumes {
        found.push(format!("volume {}", volume.name));
    }
    found
}

#[test]
fn every_program_is_in_the_table_and_every_entry_has_a_program() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(PROGRAMS)
        .expect("tests/hostile")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let listed: BTreeSet<String> = CASES.iter().map(|case| case.file.to_string()).collect();
    assert_eq!(listed.len(), CASES.len(), "a file is listed twice");
    assert_eq!(on_disk, listed, "tests/hostile and the table differ");
    let languages: BTreeSet<&str> = CASES.iter().map(|case| case.language).collect();
    assert!(CASES.len() >= 30 && languages.len() >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_are_contained_and_classified_in_fresh_sandboxes() {
    let reports = hostile_suite(&[("BRAINDRILL__SANDBOX__POOL__ENABLED", "false")]).await;
    assert!(
        reports.iter().all(|report| !report.warm),
        "a program ran warm with the pool off"
    );
}

/// The same programs against recycled warm sandboxes (the in-sandbox
/// runner, its reset between executions): a pool deep enough that most of
/// them find one. Each program is followed by an ordinary python run, which
/// takes a recycled container of the default key when one is on the shelf
/// (the same one as the program's where the program is of that key and no
/// other execution took it first); tests/traces.rs pins the same container.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_are_contained_and_classified_in_recycled_sandboxes() {
    warm_suite("recycle").await;
}

/// The same programs against single-use warm sandboxes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_programs_are_contained_and_classified_in_single_use_warm_sandboxes() {
    warm_suite("single_use").await;
}

async fn warm_suite(reuse: &str) {
    let reports = hostile_suite(&[
        ("BRAINDRILL__SANDBOX__POOL__ENABLED", "true"),
        ("BRAINDRILL__SANDBOX__POOL__MIN_PER_KEY", "4"),
        ("BRAINDRILL__SANDBOX__POOL__MAX_TOTAL", "12"),
        ("BRAINDRILL__SANDBOX__REUSE__MODE", reuse),
    ])
    .await;
    let warm = reports.iter().filter(|report| report.warm).count();
    assert!(
        warm * 2 >= reports.len(),
        "only {warm} of {} programs ran in a warm sandbox ({reuse})",
        reports.len()
    );
}

/// Runs every case against a standalone node started with `extra` settings,
/// checks each, and checks that nothing is left behind, while the node runs
/// (but its idle warm sandboxes) and after it stops.
async fn hostile_suite(extra: &[(&str, &str)]) -> Vec<Report> {
    let started = Instant::now();
    // The fresh run says so at debug, per execution.
    let mut settings = vec![("RUST_LOG", "info,braindrill::sandbox::fresh_run=debug")];
    settings.extend_from_slice(extra);
    let mut node = Node::start("standalone", free_port(), 1, free_port(), &settings);
    wait_for_nodes(&client(), &node, &[node.name()]).await;
    if let Err(problem) = ordinary(&node, "start").await {
        panic!("the node cannot run ordinary code: {problem}");
    }

    let node_ref = &node;
    let mut reports: Vec<Report> = stream::iter(CASES)
        .map(|case| run_case(node_ref, case))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    reports.sort_by_key(|report| {
        CASES
            .iter()
            .position(|case| case.file == report.file)
            .unwrap_or(usize::MAX)
    });

    // Every execution removes what it created before it answers; give the
    // engine a moment for anything asynchronous.
    let name = node.name();
    let mut remaining = leftovers(&name).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !remaining.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        remaining = leftovers(&name).await;
    }

    let mut table = format!(
        "{:<24} {:<10} {:<21} {:<13} {:>8} {:>6} {:<4}  {:<48}  problems\n",
        "program", "language", "expected", "got", "exit/sig", "ms", "warm", "last line of stdout"
    );
    for report in &reports {
        table.push_str(&format!(
            "{:<24} {:<10} {:<21} {:<13} {:>8} {:>6} {:<4}  {:<48}  {}\n",
            report.file,
            report.language,
            report.expected,
            report.got,
            report.exit,
            report.millis,
            if report.warm { "yes" } else { "no" },
            report.detail,
            if report.problems.is_empty() {
                "-".to_string()
            } else {
                report.problems.join("; ")
            }
        ));
    }
    println!(
        "{table}{} programs in {:.1} s",
        reports.len(),
        started.elapsed().as_secs_f64()
    );

    let mut failures: Vec<String> = reports
        .iter()
        .filter(|report| !report.problems.is_empty())
        .map(|report| {
            format!(
                "{} ({}): expected {}, got {}: {}",
                report.file,
                report.language,
                report.expected,
                report.got,
                report.problems.join("; ")
            )
        })
        .collect();
    if !remaining.is_empty() {
        failures.push(format!("left behind by {name}: {remaining:?}"));
    }
    // A node that stops takes its warm sandboxes with it.
    node.terminate();
    let remaining = leftovers(&name).await;
    if !remaining.is_empty() {
        failures.push(format!(
            "left behind by {name} after it stopped: {remaining:?}"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}\n\n{table}",
        failures.len(),
        failures.join("\n")
    );
    reports
}
