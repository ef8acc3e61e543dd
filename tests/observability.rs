//! What an operator sees of a real cluster (a master and workers as OS
//! processes on loopback TCP, the real Docker engine): the master's
//! `/metrics` after known requests and after a worker leaves, a worker's
//! own `/metrics`, and one execution followed by its id from the master's
//! log to the worker's.

mod common;

use std::time::{Duration, Instant};

use common::scrape::{count, sample};
use common::{Node, client, free_port, post_code, wait_for_nodes};

async fn scrape(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.expect("answers");
    assert_eq!(response.status(), 200, "{url}");
    response.text().await.expect("a body")
}

/// Scrapes `url` until `done` holds of its text (a change the cluster
/// makes on its own time), and returns that text.
async fn scrape_until(
    client: &reqwest::Client,
    url: &str,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = scrape(client, url).await;
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never saw {what}: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_real_executions_and_a_worker_that_leaves() {
    let client = client();
    let (seed, http, metrics_port) = (free_port(), free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let mut scraped = Node::start(
        "worker",
        free_port(),
        seed,
        free_port(),
        &[(
            "BRAINDRILL__WORKER__METRICS_PORT",
            &metrics_port.to_string(),
        )],
    );
    let mut leaving = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[scraped.name(), leaving.name()]).await;

    for _ in 0..2 {
        let answer = post_code(&client, &master, "python", "print(1)").await;
        assert_eq!((answer.status, answer.body.as_str()), (200, "1\n"));
    }
    let answer = post_code(&client, &master, "python", "import sys\nsys.exit(3)").await;
    assert_eq!(answer.outcome.as_deref(), Some("runtime_error"));
    let answer = post_code(&client, &master, "cobol", "DISPLAY 'HI'.").await;
    assert_eq!(answer.status, 400);

    let text = scrape(&client, &master.url("/metrics")).await;
    let executions = |status: &str| {
        count(
            &text,
            "braindrill_executions_total",
            &[("language", "python"), ("status", status)],
        )
    };
    assert_eq!(executions("ok"), 2.0, "{text}");
    assert_eq!(executions("runtime_error"), 1.0, "{text}");
    assert_eq!(
        count(
            &text,
            "braindrill_requests_rejected_total",
            &[("reason", "invalid")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(count(&text, "braindrill_worker_nodes", &[]), 2.0, "{text}");
    for worker in [&scraped, &leaving] {
        assert_eq!(
            sample(&text, "braindrill_node_slots", &[("node", &worker.name())]),
            Some(4.0),
            "{text}"
        );
    }
    // (Joins are counted as the membership log sees them; it may miss a
    // session that authenticates while the node is still starting.)
    assert!(
        count(&text, "braindrill_cluster_node_joins_total", &[]) >= 1.0,
        "{text}"
    );
    assert!(
        count(&text, "process_resident_memory_bytes", &[]) > 0.0,
        "{text}"
    );

    // The worker's own endpoint: its sandboxes (the pool starts warm ones
    // by itself) and its process.
    let worker_url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let worker_text = scrape_until(&client, &worker_url, "a warm sandbox started", |text| {
        count(text, "braindrill_sandbox_starts_total", &[("mode", "warm")]) >= 1.0
    })
    .await;
    assert!(
        count(&worker_text, "process_resident_memory_bytes", &[]) > 0.0,
        "{worker_text}"
    );
    // (Whole seconds: a young process may show 0.)
    assert!(
        sample(&worker_text, "process_cpu_seconds_total", &[]).is_some(),
        "{worker_text}"
    );

    // kill -9 one worker: the master counts one node, the lost one's
    // series are gone, and the loss is counted.
    leaving.kill();
    let text = scrape_until(
        &client,
        &master.url("/metrics"),
        "one worker node left",
        |text| count(text, "braindrill_worker_nodes", &[]) == 1.0,
    )
    .await;
    assert_eq!(
        sample(&text, "braindrill_node_slots", &[("node", &leaving.name())]),
        None,
        "{text}"
    );
    assert_eq!(
        sample(&text, "braindrill_node_slots", &[("node", &scraped.name())]),
        Some(4.0),
        "{text}"
    );
    scrape_until(
        &client,
        &master.url("/metrics"),
        "the loss counted",
        |text| {
            count(
                text,
                "braindrill_cluster_node_losses_total",
                &[("cause", "disconnected")],
            ) >= 1.0
        },
    )
    .await;

    // With no worker left, a request is refused as no_worker.
    scraped.kill();
    scrape_until(&client, &master.url("/metrics"), "no worker node", |text| {
        count(text, "braindrill_worker_nodes", &[]) == 0.0
    })
    .await;
    let answer = post_code(&client, &master, "python", "print(1)").await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    let text = scrape(&client, &master.url("/metrics")).await;
    assert_eq!(
        count(
            &text,
            "braindrill_requests_rejected_total",
            &[("reason", "no_worker")]
        ),
        1.0,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_execution_is_followed_by_its_id_from_the_master_log_to_the_worker_log() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    // The master logs JSON lines, the worker text: the id is in both.
    let master = Node::start("master", seed, seed, http, &[("LOG_FORMAT", "json")]);
    let worker = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[worker.name()]).await;

    let response = client
        .post(master.url("/lang/python"))
        .body("print('followed')")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    let id = response
        .headers()
        .get("x-braindrill-execution-id")
        .and_then(|value| value.to_str().ok())
        .expect("an execution id")
        .to_string();
    assert_eq!(response.text().await.expect("a body"), "followed\n");

    // The worker's lines about it carry the id.
    assert!(
        worker.wait_for_log(&id, Duration::from_secs(10)).await,
        "the worker's log never names {id}"
    );
    let worker_log = worker.log_text();
    let ran = worker_log
        .lines()
        .find(|line| line.contains(&id) && line.contains("execution ran"))
        .unwrap_or_else(|| panic!("no 'execution ran' line names {id}: {worker_log}"));
    assert!(ran.contains("execution_id"), "{ran}");
    assert!(ran.contains("Ok"), "{ran}");

    // The master's: JSON lines whose span is the execution's.
    assert!(
        master.wait_for_log(&id, Duration::from_secs(10)).await,
        "the master's log never names {id}"
    );
    let master_log = master.log_text();
    let lines: Vec<serde_json::Value> = master_log
        .lines()
        .filter(|line| line.contains(&id))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let answered = lines
        .iter()
        .find(|line| line["fields"]["message"] == "execution answered")
        .unwrap_or_else(|| panic!("no 'execution answered' line names {id}: {master_log}"));
    assert_eq!(answered["span"]["execution_id"], id.as_str(), "{answered}");
    assert_eq!(answered["fields"]["status"], "ok", "{answered}");
    assert_eq!(
        answered["fields"]["node"],
        worker.name().as_str(),
        "{answered}"
    );
}
