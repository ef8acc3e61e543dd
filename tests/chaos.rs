//! Chaos: a master and three workers as processes on loopback; 300 requests
//! at eight concurrent, ordinary and hostile programs mixed; a third of the
//! way in one worker is killed with SIGKILL, at two thirds another is frozen
//! with SIGSTOP for five seconds and the killed one is restarted. Every
//! request must get a definite answer within its deadline, and every
//! ordinary program its correct output. Prints a table of outcomes.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Node, client, free_port, wait_for_nodes};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::watch;

const REQUESTS: usize = 300;
const CONCURRENCY: usize = 8;
/// The deadline margin of the master (`http.deadline_margin_ms`, default).
const MARGIN: Duration = Duration::from_secs(10);

/// One request's fate: its index, its kind, what it got, whether that was
/// right and in time, and what was wrong otherwise.
type Outcome = (usize, &'static str, String, bool, Option<String>);

/// A program of the mix: its request, its time limit, and what must come of it.
struct Case {
    kind: &'static str,
    request: Value,
    timeout: Duration,
    /// The status it must end with, and its stdout where that is known.
    expect: (&'static str, Option<String>),
}

fn case(index: usize) -> Case {
    // Ordinary programs get a roomy time limit: time limits are wall-clock,
    // and the mix keeps both cores busy with CPU burners, so a program that
    // needs ~200 ms of CPU (node's start here) can be starved past the
    // default 3 s; this test is about definite answers through faults.
    let ordinary = |language: &'static str, code: String, out: String| Case {
        kind: language,
        request: json!({"language": language, "code": code, "limits": {"timeout_ms": 10000}}),
        timeout: Duration::from_secs(10),
        expect: ("ok", Some(out)),
    };
    match index % 10 {
        0 | 3 | 6 => ordinary(
            "python",
            format!("print({index} * 7)"),
            format!("{}\n", index * 7),
        ),
        1 | 7 => ordinary(
            "ruby",
            format!("puts {index} + 1"),
            format!("{}\n", index + 1),
        ),
        4 => ordinary(
            "javascript",
            format!("console.log('n' + {index})"),
            format!("n{index}\n"),
        ),
        2 => Case {
            kind: "infinite loop",
            request: json!({"language": "python", "code": "while True: pass", "limits": {"timeout_ms": 1000}}),
            timeout: Duration::from_secs(1),
            expect: ("timeout", None),
        },
        5 => Case {
            kind: "memory bomb",
            request: json!({"language": "python", "code": "x = bytearray(300 * 1024 * 1024)"}),
            timeout: Duration::from_secs(3),
            expect: ("memory_limit", None),
        },
        8 => Case {
            kind: "output flood",
            request: json!({"language": "python", "code": "while True: print('x' * 1000)"}),
            timeout: Duration::from_secs(3),
            expect: ("output_limit", None),
        },
        _ => Case {
            kind: "fork bomb",
            request: json!({"language": "bash", "code": ":(){ :|:& };:", "limits": {"timeout_ms": 1000}}),
            timeout: Duration::from_secs(1),
            // Contained either way: the pids limit ends it, or the timer does.
            expect: ("contained", None),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_gets_a_definite_answer_through_kill_and_freeze() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let mut killed = Node::start("worker", free_port(), seed, free_port(), &[]);
    let frozen = Node::start("worker", free_port(), seed, free_port(), &[]);
    let steady = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(
        &client,
        &master,
        &[killed.name(), frozen.name(), steady.name()],
    )
    .await;

    let (done_tx, mut done_rx) = watch::channel(0usize);
    let done_tx = Arc::new(done_tx);
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let started = Instant::now();

    let load = futures_util::stream::iter(0..REQUESTS)
        .map(|index| {
            let client = client.clone();
            let url = master.url("/api/v1/execute");
            let done_tx = done_tx.clone();
            let outcomes = outcomes.clone();
            async move {
                let case = case(index);
                let deadline = case.timeout + MARGIN + Duration::from_secs(1);
                let sent = Instant::now();
                let answer = tokio::time::timeout(
                    deadline,
                    client.post(url).body(case.request.to_string()).send(),
                )
                .await;
                let (got, ok, problem) = match answer {
                    Err(_) => (
                        "no answer".to_string(),
                        false,
                        Some("no answer within the deadline".to_string()),
                    ),
                    Ok(Err(error)) => (
                        format!("transport error: {error}"),
                        false,
                        Some(error.to_string()),
                    ),
                    Ok(Ok(response)) => {
                        let http = response.status().as_u16();
                        let body = response.text().await.unwrap_or_default();
                        let json: Value = serde_json::from_str(&body).unwrap_or_default();
                        let status = json["status"].as_str().unwrap_or_default().to_string();
                        let within = sent.elapsed() <= deadline;
                        let (expected, stdout) = &case.expect;
                        let matches = match (*expected, stdout) {
                            ("contained", _) => {
                                http == 200
                                    && ["timeout", "runtime_error", "ok"].contains(&status.as_str())
                            }
                            (expected, Some(stdout)) => {
                                http == 200
                                    && status == expected
                                    && json["stdout"] == stdout.as_str()
                            }
                            (expected, None) => http == 200 && status == expected,
                        };
                        let label = if http == 200 {
                            status
                        } else {
                            format!("HTTP {http}")
                        };
                        let problem = (!matches || !within).then(|| format!("{body:.300}"));
                        (label, matches && within, problem)
                    }
                };
                if let Ok(mut outcomes) = outcomes.lock() {
                    outcomes.push((index, case.kind, got, ok, problem));
                }
                done_tx.send_modify(|done| *done += 1);
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>();

    let chaos = async {
        let _ = done_rx.wait_for(|done| *done >= REQUESTS / 3).await;
        killed.kill();
        eprintln!("chaos: killed {} at {:?}", killed.name(), started.elapsed());
        let _ = done_rx.wait_for(|done| *done >= 2 * REQUESTS / 3).await;
        frozen.signal("STOP");
        eprintln!("chaos: froze {} at {:?}", frozen.name(), started.elapsed());
        killed.restart();
        tokio::time::sleep(Duration::from_secs(5)).await;
        frozen.signal("CONT");
        eprintln!("chaos: thawed {} at {:?}", frozen.name(), started.elapsed());
    };
    let hard_bound = Duration::from_secs(300);
    tokio::time::timeout(hard_bound, async { tokio::join!(load, chaos) })
        .await
        .expect("the chaos run ended within its bound");

    let outcomes = outcomes.lock().map(|o| o.clone()).unwrap_or_default();
    let mut table: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for (_, kind, got, _, _) in &outcomes {
        *table.entry((kind, got.clone())).or_default() += 1;
    }
    println!(
        "chaos: {} requests in {:?}",
        outcomes.len(),
        started.elapsed()
    );
    println!("{:<16} {:<16} {:>5}", "program", "outcome", "count");
    for ((kind, got), count) in &table {
        println!("{kind:<16} {got:<16} {count:>5}");
    }
    assert_eq!(
        outcomes.len(),
        REQUESTS,
        "some requests got no answer at all"
    );
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|(_, _, _, ok, _)| !ok)
        .map(|(index, kind, got, _, problem)| {
            format!(
                "#{index} {kind}: {got}: {}",
                problem.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The cluster is whole again: all three workers are ready.
    wait_for_nodes(
        &client,
        &master,
        &[killed.name(), frozen.name(), steady.name()],
    )
    .await;
}
