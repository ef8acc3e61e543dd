//! End-to-end tests of the cluster: a master and workers as separate OS
//! processes on loopback TCP, running code in the real Docker engine.

mod common;

use std::time::{Duration, Instant};

use common::{HELLO, Node, client, free_port, post_code, ready_nodes, wait_for_nodes};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_and_two_workers_serve_every_language_and_survive_losing_one() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let mut first = Node::start("worker", free_port(), seed, free_port(), &[]);
    let second = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[first.name(), second.name()]).await;

    for (language, code) in HELLO {
        let answer = post_code(&client, &master, language, *code).await;
        assert_eq!(answer.status, 200, "{language}: {}", answer.body);
        assert_eq!(answer.body, "hi\n", "{language}");
    }

    // Work lands on both workers.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..6 {
        let answer = post_code(&client, &master, "python", "print(1)").await;
        assert_eq!(answer.body, "1\n");
        seen.insert(answer.node.expect("node header"));
    }
    assert_eq!(
        seen,
        [first.name(), second.name()].into_iter().collect(),
        "work did not spread over both workers"
    );

    // kill -9 one worker: the other answers everything from then on.
    first.kill();
    wait_for_nodes(&client, &master, &[second.name()]).await;
    for _ in 0..4 {
        let answer = post_code(&client, &master, "python", "print(2)").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body, "2\n");
        assert_eq!(answer.node.as_deref(), Some(second.name().as_str()));
    }

    // The restarted worker rejoins without a restart of the master and gets
    // work again.
    first.restart();
    wait_for_nodes(&client, &master, &[first.name(), second.name()]).await;
    let mut rejoined = false;
    for _ in 0..10 {
        let answer = post_code(&client, &master, "python", "print(3)").await;
        assert_eq!(answer.body, "3\n");
        if answer.node.as_deref() == Some(first.name().as_str()) {
            rejoined = true;
            break;
        }
    }
    assert!(rejoined, "the restarted worker got no work");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_serves_the_same_requests_from_one_process() {
    let client = client();
    let node = Node::start("standalone", free_port(), 1, free_port(), &[]);
    wait_for_nodes(&client, &node, &[node.name()]).await;
    for (language, code) in HELLO {
        let answer = post_code(&client, &node, language, *code).await;
        assert_eq!(answer.status, 200, "{language}: {}", answer.body);
        assert_eq!(answer.body, "hi\n", "{language}");
        assert_eq!(answer.outcome.as_deref(), Some("ok"));
    }
    // The original's contract: stderr when stdout is empty, and its
    // messages for limits.
    let answer = post_code(
        &client,
        &node,
        "python",
        "import sys; sys.stderr.write('oops')",
    )
    .await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "oops"));
    let answer = post_code(&client, &node, "python", "while True: pass").await;
    assert_eq!(
        answer.body,
        "The process was aborted because it exceeded the timeout"
    );
    let answer = post_code(&client, &node, "python", "x = bytearray(512 * 1024 * 1024)").await;
    assert_eq!(
        answer.body,
        "The process was aborted because it exceeded the memory usage"
    );
    let answer = post_code(&client, &node, "python", "print('x' * 1_000_000)").await;
    assert_eq!(
        answer.body,
        "the code is generating too large output, try reducing logs or printing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_specific_status_and_message() {
    let client = client();
    let node = Node::start("standalone", free_port(), 1, free_port(), &[]);
    wait_for_nodes(&client, &node, &[node.name()]).await;

    let answer = post_code(&client, &node, "cobol", "DISPLAY 'HI'.").await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.starts_with("unsupported language: cobol"),
        "{}",
        answer.body
    );
    for language in ["java", "javascript", "perl", "php", "python", "ruby"] {
        assert!(answer.body.contains(language), "{}", answer.body);
    }

    let answer = post_code(&client, &node, "python", "").await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("empty"), "{}", answer.body);

    let answer = post_code(&client, &node, "python", vec![0x70u8, 0xff, 0xfe]).await;
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("not valid UTF-8"), "{}", answer.body);

    let answer = post_code(&client, &node, "python", "#".repeat(64 * 1024 + 1)).await;
    assert_eq!(answer.status, 413);
    assert!(answer.body.contains("65536"), "{}", answer.body);
    let answer = post_code(
        &client,
        &node,
        "python",
        format!("print(1){}", " ".repeat(60_000)),
    )
    .await;
    assert_eq!(answer.status, 200, "a body under the limit is accepted");

    let response = client
        .get(node.url("/nowhere"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 404);
    let response = client
        .get(node.url("/lang/python"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 405);
    let response = client
        .get(node.url("/health"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_without_workers_says_so_at_once() {
    let client = client();
    let seed = free_port();
    let master = Node::start("master", seed, seed, free_port(), &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let health = loop {
        if let Ok(response) = client.get(master.url("/health")).send().await {
            break response;
        }
        assert!(Instant::now() < deadline, "master did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(health.status().as_u16(), 200);
    let ready = client
        .get(master.url("/ready"))
        .send()
        .await
        .expect("answers");
    assert_eq!(ready.status().as_u16(), 503);
    assert!(
        ready
            .text()
            .await
            .expect("body")
            .contains("no worker node available")
    );

    let started = Instant::now();
    let answer = post_code(&client, &master, "python", "print(1)").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.body, "no worker node available");
    // "At once": far below the 13 s deadline of a python request.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "503 was not immediate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_worker_gets_a_504_at_the_deadline() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    // The heartbeat is made too patient to notice within the deadline, so
    // that the deadline itself is what answers.
    let margin = [
        ("BRAINDRILL__HTTP__DEADLINE_MARGIN_MS", "300"),
        ("BRAINDRILL__CLUSTER__HEARTBEAT_MISSES", "1000"),
    ];
    let master = Node::start("master", seed, seed, http, &margin);
    let worker = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[worker.name()]).await;
    worker.signal("STOP");
    let answer = post_code(&client, &master, "python", "print(1)").await;
    worker.signal("CONT");
    assert_eq!(answer.status, 504, "{}", answer.body);
    assert!(answer.body.contains("deadline"), "{}", answer.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_come_back_after_a_master_restart() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let mut master = Node::start("master", seed, seed, http, &[]);
    let worker = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[worker.name()]).await;
    master.restart();
    wait_for_nodes(&client, &master, &[worker.name()]).await;
    let answer = post_code(&client, &master, "python", "print('back')").await;
    assert_eq!(answer.body, "back\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_the_wrong_cookie_never_joins_and_says_why() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let intruder = Node::start(
        "worker",
        free_port(),
        seed,
        free_port(),
        &[
            ("CLUSTER_COOKIE", "not-the-cookie-of-this-cluster"),
            ("BRAINDRILL__CLUSTER__REDIAL_MAX_MS", "200"),
        ],
    );
    assert!(
        intruder
            .wait_for_log("cookie", Duration::from_secs(20))
            .await,
        "the refused worker did not say the cookie may be wrong:\n{}",
        intruder.log_text()
    );
    assert!(
        master
            .wait_for_log("authentication failed", Duration::from_secs(20))
            .await,
        "the master did not log the refusal:\n{}",
        master.log_text()
    );
    assert!(
        ready_nodes(&client, &master).await.is_empty(),
        "the intruder joined"
    );
    let answer = post_code(&client, &master, "python", "print(1)").await;
    assert_eq!(answer.status, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configuration_stops_the_process_naming_the_key() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_braindrill"))
        .arg("standalone")
        .env("CLUSTER_PORT", "not-a-port")
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cluster.port"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_on_a_frozen_worker_run_again_on_another() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let frozen = Node::start("worker", free_port(), seed, free_port(), &[]);
    let healthy = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[frozen.name(), healthy.name()]).await;
    frozen.signal("STOP");
    // Every request is answered correctly, by the healthy worker; those that
    // were sent to the frozen one first say they were retried.
    let answers = futures_util::future::join_all(
        (0..4).map(|i| post_code(&client, &master, "python", format!("print({i})"))),
    )
    .await;
    frozen.signal("CONT");
    for (i, answer) in answers.iter().enumerate() {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body, format!("{i}\n"));
        assert_eq!(answer.node.as_deref(), Some(healthy.name().as_str()));
    }
    assert!(
        answers.iter().any(|answer| answer.retried),
        "no request was sent to the frozen worker first"
    );
    // Taken back when it answers again.
    wait_for_nodes(&client, &master, &[frozen.name(), healthy.name()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_on_a_killed_worker_run_again_on_another() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let mut doomed = Node::start("worker", free_port(), seed, free_port(), &[]);
    let survivor = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[doomed.name(), survivor.name()]).await;
    let code = "import time\ntime.sleep(1.5)\nprint('done')";
    let requests =
        futures_util::future::join_all((0..4).map(|_| post_code(&client, &master, "python", code)));
    let killer = async {
        // Kill as soon as the doomed worker holds an execution (they sleep
        // 1.5 s), as the master's own readiness report shows.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while busy_on(&client, &master, &doomed.name()).await == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the doomed worker got no work"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        doomed.kill();
    };
    let (answers, ()) = tokio::join!(requests, killer);
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body, "done\n");
        assert_eq!(answer.node.as_deref(), Some(survivor.name().as_str()));
    }
    assert!(
        answers.iter().any(|answer| answer.retried),
        "nothing ran on the killed worker"
    );
    // Restarted, the node removes what its killed run left behind.
    doomed.restart();
    wait_for_nodes(&client, &master, &[doomed.name(), survivor.name()]).await;
}

/// How many workers of `node` hold an execution, from the master's /ready.
async fn busy_on(client: &reqwest::Client, master: &Node, node: &str) -> u64 {
    let Ok(response) = client.get(master.url("/ready")).send().await else {
        return 0;
    };
    let body = response.text().await.unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    json["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["node"] == node)
        .and_then(|entry| entry["busy"].as_u64())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_capacity_the_master_answers_429_at_once() {
    let client = client();
    let node = Node::start(
        "standalone",
        free_port(),
        1,
        free_port(),
        &[
            ("BRAINDRILL__HTTP__MAX_CONCURRENT", "1"),
            ("BRAINDRILL__HTTP__MAX_QUEUED", "0"),
        ],
    );
    wait_for_nodes(&client, &node, &[node.name()]).await;
    // One slow execution holds the only slot...
    let slow = post_code(
        &client,
        &node,
        "python",
        "import time\ntime.sleep(2)\nprint('slow')",
    );
    let extra = async {
        // ...as the node's own readiness report shows; then one more is
        // refused at once.
        let deadline = Instant::now() + Duration::from_secs(20);
        while busy_on(&client, &node, &node.name()).await == 0 {
            assert!(
                Instant::now() < deadline,
                "the slow execution never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client
            .post(node.url("/lang/python"))
            .body("print('extra')")
            .send()
            .await
            .expect("answers")
    };
    let (slow, refused) = tokio::join!(slow, extra);
    assert_eq!(slow.body, "slow\n");
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert!(refused.text().await.expect("body").contains("retry later"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_that_is_down_gives_503_and_recovers_without_a_restart() {
    let client = client();
    // The worker's socket path does not exist yet: its engine is "down".
    let socket =
        std::env::temp_dir().join(format!("braindrill-test-{}.sock", uuid::Uuid::new_v4()));
    let socket_text = socket.display().to_string();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let worker = Node::start(
        "worker",
        free_port(),
        seed,
        free_port(),
        &[("DOCKER_SOCKET", socket_text.as_str())],
    );
    // The node joins but is not ready.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = match client.get(master.url("/ready")).send().await {
            Ok(response) => (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            ),
            Err(_) => (0, String::new()), // not listening yet
        };
        if body.contains(&worker.name()) {
            assert_eq!(status, 503, "{body}");
            assert!(body.contains("Docker engine"), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "the worker never showed up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = post_code(&client, &master, "python", "print(1)").await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(answer.body.contains("Docker engine"), "{}", answer.body);

    // The engine "comes back": the node serves again, no restart.
    std::os::unix::fs::symlink("/var/run/docker.sock", &socket).expect("symlink");
    wait_for_nodes(&client, &master, &[worker.name()]).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = post_code(&client, &master, "python", "print('back')").await;
        if answer.status == 200 {
            assert_eq!(answer.body, "back\n");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never recovered: {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // It serves as a node whose engine answered at start does: from runner
    // containers (the warm pool), which measure CPU time, not only from
    // fresh ones, which cannot.
    let body = client
        .post(master.url("/api/v1/execute"))
        .header("content-type", "application/json")
        .body(r#"{"language": "python", "code": "print(2)"}"#)
        .send()
        .await
        .expect("the JSON API answers")
        .text()
        .await
        .expect("a body");
    let result: serde_json::Value = serde_json::from_str(&body).expect("a JSON result");
    assert_eq!(result["stdout"], "2\n", "{result}");
    assert!(
        result["cpu_time_ms"].is_u64(),
        "served without the warm pool: {result}"
    );
    let _ = std::fs::remove_file(&socket);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_master_finishes_what_it_holds() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let mut master = Node::start("master", seed, seed, http, &[]);
    let worker = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[worker.name()]).await;
    let request = post_code(
        &client,
        &master,
        "python",
        "import time\ntime.sleep(1.5)\nprint('finished')",
    );
    let stop = async {
        // SIGTERM once the worker holds the execution.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let body = client
                .get(master.url("/ready"))
                .send()
                .await
                .expect("answers")
                .text()
                .await
                .unwrap_or_default();
            if body.contains("\"busy\":1") {
                break;
            }
            assert!(Instant::now() < deadline, "the execution never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        master.signal("TERM");
    };
    let (answer, ()) = tokio::join!(request, stop);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, "finished\n");
    assert!(master.terminate_wait().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_lose_their_connection_or_get_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let client = client();
    let node = Node::start(
        "standalone",
        free_port(),
        1,
        free_port(),
        &[
            ("BRAINDRILL__HTTP__HEADER_READ_TIMEOUT_MS", "500"),
            ("BRAINDRILL__HTTP__BODY_READ_TIMEOUT_MS", "500"),
        ],
    );
    wait_for_nodes(&client, &node, &[node.name()]).await;
    let address = format!("127.0.0.1:{}", node.http_port);

    // Half a header block, then nothing: the server closes the connection.
    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connects");
    slow.write_all(b"POST /lang/python HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("writes");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "the connection stayed open past the header timeout"
    );

    // Headers, then half the body: 408 with a message.
    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connects");
    slow.write_all(b"POST /lang/python HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nprint(")
        .await
        .expect("writes");
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut answer))
        .await
        .expect("an answer within the body timeout")
        .expect("reads");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 500 ms"), "{answer}");

    // Everyone else is still served.
    let ok = post_code(&client, &node, "python", "print('fine')").await;
    assert_eq!(ok.body, "fine\n");
}

/// The executions a node's JSON log says it started, by id.
fn started_executions(node: &Node) -> std::collections::BTreeSet<String> {
    node.log_text()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "execution started")
        .filter_map(|line| line["fields"]["execution_id"].as_str().map(str::to_string))
        .collect()
}

/// Waits until the node reports nothing running and nothing queued.
async fn wait_until_idle(client: &reqwest::Client, node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let report: Option<serde_json::Value> = match client.get(node.url("/ready")).send().await {
            Ok(response) => response
                .text()
                .await
                .ok()
                .and_then(|body| serde_json::from_str(&body).ok()),
            Err(_) => None,
        };
        let idle = report.is_some_and(|report| {
            report["nodes"].as_array().is_some_and(|nodes| {
                nodes
                    .iter()
                    .all(|node| node["busy"] == 0 && node["queued"] == 0)
            })
        });
        if idle {
            return;
        }
        assert!(Instant::now() < deadline, "the node never became idle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The load test: 64 clients at once against one node with a slot per CPU,
/// twice each (128 requests). Every request the engine accepts is answered
/// 200 (never 504: what cannot start before its deadline is refused 429,
/// at admission or when it leaves a queue unstarted), every refusal says
/// when to retry, and no execution starts that was not answered 200: the
/// node's log of started executions is exactly the set of 200 answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_overload_requests_are_answered_or_refused_429_and_none_runs_after_its_answer() {
    const CLIENTS: usize = 64;
    const ROUNDS: usize = 2;
    let client = client();
    let node = Node::start(
        "standalone",
        free_port(),
        1,
        free_port(),
        &[("WORKERS_PER_NODE", "0"), ("LOG_FORMAT", "json")],
    );
    wait_for_nodes(&client, &node, &[node.name()]).await;
    let clients = (0..CLIENTS).map(|_| async {
        let mut answers = Vec::new();
        for _ in 0..ROUNDS {
            let response = client
                .post(node.url("/lang/python"))
                .body("print(\"hi\")")
                .send()
                .await
                .expect("the gateway answers");
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_string)
            };
            let execution_id = header("x-braindrill-execution-id");
            let retry_after = header("retry-after");
            let status = response.status().as_u16();
            let body = response.text().await.expect("a body");
            answers.push((status, execution_id, retry_after, body));
        }
        answers
    });
    let answers: Vec<_> = futures_util::future::join_all(clients)
        .await
        .into_iter()
        .flatten()
        .collect();
    let mut answered = std::collections::BTreeSet::new();
    let mut refused = 0;
    for (status, execution_id, retry_after, body) in &answers {
        match status {
            200 => {
                assert_eq!(body, "hi\n");
                answered.insert(execution_id.clone().expect("an execution id"));
            }
            429 => {
                refused += 1;
                assert!(
                    retry_after
                        .as_deref()
                        .and_then(|value| value.parse::<u64>().ok())
                        .is_some_and(|seconds| seconds >= 1),
                    "a 429 without Retry-After: {body}"
                );
            }
            other => panic!("answered {other}: {body}"),
        }
    }
    assert!(!answered.is_empty(), "nothing ran");
    assert_eq!(answered.len() + refused, CLIENTS * ROUNDS);
    // Whatever was still in the node's hands has settled.
    wait_until_idle(&client, &node).await;
    assert_eq!(
        started_executions(&node),
        answered,
        "the started executions are not exactly the answered ones"
    );
}

/// A client that goes away mid-execution: the master cancels it on its
/// worker node, which kills the run and removes its container at once,
/// long before the program's own time limit (15 s) would end it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_has_its_execution_cancelled_and_its_container_removed() {
    use braindrill::sandbox::engine;
    use tokio::io::AsyncWriteExt;

    let client = client();
    // Fresh containers only: each is labelled with its execution's id.
    let node = Node::start(
        "standalone",
        free_port(),
        1,
        free_port(),
        &[
            ("BRAINDRILL__SANDBOX__POOL__ENABLED", "false"),
            ("LOG_FORMAT", "json"),
        ],
    );
    wait_for_nodes(&client, &node, &[node.name()]).await;
    let docker = engine::connect("/var/run/docker.sock", 30).expect("the Docker socket");
    let body = serde_json::json!({
        "language": "python",
        "code": "while True: pass",
        "limits": {"timeout_ms": 15000},
    })
    .to_string();
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", node.http_port))
        .await
        .expect("connects");
    let request = format!(
        "POST /api/v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    let objects_of = |execution_id: String| {
        let docker = docker.clone();
        async move {
            let filters =
                engine::with_labels(vec![format!("{}={execution_id}", engine::EXECUTION_LABEL)]);
            let found = engine::list_objects(&docker, filters)
                .await
                .expect("the engine lists containers and volumes");
            (found.containers.len(), found.volumes.len())
        }
    };
    // The execution has started, and its container exists.
    let deadline = Instant::now() + Duration::from_secs(60);
    let execution_id = loop {
        let started = started_executions(&node);
        if let Some(execution_id) = started.into_iter().next()
            && objects_of(execution_id.clone()).await.0 > 0
        {
            break execution_id;
        }
        assert!(
            Instant::now() < deadline,
            "the execution never reached its container"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(stream);
    assert!(
        node.wait_for_log("execution cancelled", Duration::from_secs(10))
            .await,
        "the execution was not cancelled: {}",
        node.log_text()
    );
    // The container goes, then its volume (seen left for a moment under
    // load when only the container was waited for).
    let cancelled_at = Instant::now();
    while objects_of(execution_id.clone()).await != (0, 0) {
        assert!(
            cancelled_at.elapsed() < Duration::from_secs(10),
            "the cancelled execution's container or volume is still there"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    common::assert_nothing_left(&docker, &execution_id).await;
}
