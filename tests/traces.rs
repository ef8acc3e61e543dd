//! Recycled sandboxes against the real Docker engine: a program that tries
//! to leave something for the next execution (tests/traces, README there)
//! runs, then the look program runs as the next execution in the same
//! container and must find nothing; a reset the runner cannot prove retires
//! the container; and every run of a recycled container reports its own
//! figures.
//!
//! Each test's pool keeps one key warm with exactly one container, so the
//! next execution surely reuses it; which container ran an execution is
//! read from inside (the engine's bind mount of /etc/hostname names it).

mod common;

use std::time::{Duration, Instant};

use braindrill::sandbox::{
    Language, Outcome, ReuseMode, ReusePolicy, Sandbox, SourceFile, Status, Submission,
};
use common::language;
use common::test_pool::TestPool;

const TRACES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/traces");

const RECYCLE: ReusePolicy = ReusePolicy {
    mode: ReuseMode::Recycle,
    max_runs: 50,
    max_age: Duration::from_secs(300),
};

/// Prints the id of the container it runs in, first.
const WHICH_CONTAINER: &str =
    "grep -o 'containers/[0-9a-f]*/hostname' /proc/self/mountinfo | head -n 1";

/// One key for every program here (C's limits, which fit gcc), so that
/// they all share the one warm container.
fn key_language() -> Language {
    let c = language("c");
    Language {
        name: "trace".into(),
        warm_paths: Vec::new(),
        ..c
    }
}

/// An execution of the trace files `files`, compiled by `compile` if set,
/// run by `run`.
fn trace_submission(files: &[&str], compile: Option<&[&str]>, run: &[&str]) -> Submission {
    let strings = |parts: &[&str]| parts.iter().map(|part| part.to_string()).collect();
    let mut language = key_language();
    language.compile = compile.map(strings);
    language.run = strings(run);
    language.file = files[0].to_string();
    let mut limits = language.limits.clone();
    limits.timeout = Duration::from_secs(10);
    Submission {
        execution_id: uuid::Uuid::new_v4().to_string(),
        files: files
            .iter()
            .map(|name| SourceFile {
                name: name.to_string(),
                content: std::fs::read_to_string(format!("{TRACES}/{name}"))
                    .unwrap_or_else(|error| panic!("{name}: {error}")),
            })
            .collect(),
        language,
        stdin: String::new(),
        args: Vec::new(),
        limits,
    }
}

/// Waits until the pool's one container is on its shelf.
async fn wait_for_one_warm(pool: &TestPool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while pool.warm_count() < 1 {
        assert!(
            Instant::now() < deadline,
            "the pool never held its container"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The container that ran an outcome (its first stdout line) and the rest.
fn split_container(outcome: &Outcome) -> (String, String) {
    let stdout = outcome
        .run
        .as_ref()
        .map(|run| run.stdout.clone())
        .unwrap_or_default();
    let (first, rest) = stdout.split_once('\n').unwrap_or((&stdout, ""));
    (first.to_string(), rest.to_string())
}

/// A fresh sandbox's fingerprint (look.py --fingerprint), and its container.
async fn fingerprint(pool: &TestPool) -> (String, String) {
    let script = format!("{WHICH_CONTAINER}; exec python3 look.py --fingerprint");
    let outcome = pool
        .execute(trace_submission(
            &["look.py"],
            None,
            &["bash", "-c", &script],
        ))
        .await;
    assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
    let (container, json) = split_container(&outcome);
    assert!(container.starts_with("containers/"), "{outcome:?}");
    (container, json.trim().to_string())
}

/// Runs look.py as the next execution: its container and what it found.
async fn look(pool: &TestPool, fingerprint: &str) -> (String, String) {
    let script = format!("{WHICH_CONTAINER}; exec python3 look.py --expect \"$0\" --files look.py");
    let outcome = pool
        .execute(trace_submission(
            &["look.py"],
            None,
            &["bash", "-c", &script, fingerprint],
        ))
        .await;
    let (container, found) = split_container(&outcome);
    (container, found)
}

/// The leave programs, as tests/traces/README.md runs them.
fn leave_programs() -> Vec<(&'static str, Submission)> {
    vec![
        (
            "leave_processes.c",
            trace_submission(
                &["leave_processes.c"],
                Some(&["gcc", "-O", "-o", "leave", "leave_processes.c"]),
                &["./leave"],
            ),
        ),
        (
            "leave_runner.c soft",
            trace_submission(
                &["leave_runner.c"],
                Some(&["gcc", "-O", "-o", "leave_runner", "leave_runner.c"]),
                &["./leave_runner", "soft"],
            ),
        ),
        (
            "leave_files.py",
            trace_submission(&["leave_files.py"], None, &["python3", "leave_files.py"]),
        ),
        (
            "leave_shell.sh",
            trace_submission(&["leave_shell.sh"], None, &["bash", "leave_shell.sh"]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_trace_of_a_leave_program_reaches_the_next_execution_in_a_recycled_sandbox() {
    let pool = TestPool::start_for(&[key_language()], 1, 1, RECYCLE);
    wait_for_one_warm(&pool).await;
    let (container, fingerprint) = fingerprint(&pool).await;
    let mut problems = Vec::new();
    for (name, leave) in leave_programs() {
        wait_for_one_warm(&pool).await;
        let left = pool.execute(leave).await;
        println!(
            "{name}: {:?}, compile {:?}, run {:?}",
            left.status,
            left.compile
                .as_ref()
                .map(|step| (step.status, &step.stderr)),
            left.run.as_ref().map(|run| (&run.stdout, &run.stderr))
        );
        let (next, found) = look(&pool, &fingerprint).await;
        if next != container {
            problems.push(format!(
                "{name}: the look ran in {next}, not in the recycled {container}"
            ));
        }
        if found.trim() != "CLEAN" {
            problems.push(format!("{name}: the next execution found {found}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(pool.served_warm() >= 2 * leave_programs().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_that_cannot_be_proven_retires_the_sandbox() {
    let pool = TestPool::start_for(&[key_language()], 1, 1, RECYCLE);
    wait_for_one_warm(&pool).await;
    let (container, fingerprint) = fingerprint(&pool).await;
    wait_for_one_warm(&pool).await;
    let hard = trace_submission(
        &["leave_runner.c"],
        Some(&["gcc", "-O", "-o", "leave_runner", "leave_runner.c"]),
        &["./leave_runner", "hard"],
    );
    let left = pool.execute(hard).await;
    assert_eq!(
        left.compile.as_ref().map(|step| step.status),
        Some(Status::Ok),
        "{left:?}"
    );
    // The runner said its reset was dirty (D): the next execution runs in
    // another container, and runs as in a fresh one.
    let (next, found) = look(&pool, &fingerprint).await;
    assert!(next.starts_with("containers/"), "{next} {found}");
    assert_ne!(next, container, "a dirty sandbox served again");
    assert_eq!(found.trim(), "CLEAN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recycled_sandbox_serves_many_executions_and_each_run_has_its_figures() {
    let python = language("python");
    let c = language("c");
    let pool = TestPool::start_for(&[python.clone(), c.clone()], 1, 2, RECYCLE);
    let deadline = Instant::now() + Duration::from_secs(60);
    while pool.warm_count() < 2 {
        assert!(Instant::now() < deadline, "the pool never filled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let which = |outcome: &Outcome| split_container(outcome).0;
    let python_code = "import re\nprint(re.search(r'containers/[0-9a-f]*/hostname', open('/proc/self/mountinfo').read()).group(0))\nprint(sum(range(100000)))";
    let c_code = "#include <stdio.h>\n#include <string.h>\nint main(void){char l[1024];FILE*f=fopen(\"/proc/self/mountinfo\",\"r\");while(f&&fgets(l,sizeof l,f)){char*s=strstr(l,\"containers/\");char*e=s?strstr(s,\"/hostname\"):0;if(e){printf(\"%.*s/hostname\\n\",(int)(e-s),s);break;}}puts(\"done\");return 0;}\n";
    let mut containers = Vec::new();
    for (language, code) in [
        (&python, python_code),
        (&python, python_code),
        (&c, c_code),
        (&c, c_code),
    ] {
        let outcome = pool.execute(common::submit(language, code)).await;
        assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
        let steps: Vec<_> = outcome.compile.iter().chain(outcome.run.iter()).collect();
        assert_eq!(steps.len(), if language.compile.is_some() { 2 } else { 1 });
        for step in steps {
            assert!(step.cpu_time_ms.is_some(), "no CPU time: {outcome:?}");
            assert!(
                step.memory_peak_bytes.is_some_and(|peak| peak > 0),
                "no memory peak: {outcome:?}"
            );
        }
        containers.push(which(&outcome));
    }
    assert!(
        containers.iter().all(|id| id.starts_with("containers/")),
        "{containers:?}"
    );
    assert_eq!(
        containers[0], containers[1],
        "python did not reuse its sandbox"
    );
    assert_eq!(containers[2], containers[3], "c did not reuse its sandbox");
    assert_ne!(containers[0], containers[2]);
    assert_eq!(pool.served_warm(), 4);
}
