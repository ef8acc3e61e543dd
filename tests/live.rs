//! End-to-end tests of live executions: `GET /api/v1/connect` over a real
//! WebSocket client and `POST /api/v1/execute` with `"stream": true`,
//! against nodes as real processes running code in the real Docker engine.
//! Output arrives as it is produced (judged by the program's own clock),
//! input as it is sent, signals and EOF reach the program, every limit ends
//! the stream with its `exit`, a client that stops reading holds memory
//! bounded, one that leaves has its container removed, and a worker node
//! killed mid-stream ends the stream with an error.
//!
//! `BRAINDRILL_TEST_RUNTIME_IMAGE` runs the languages in another runtime
//! image than the configured one (a runner under test).

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::scrape::sample;
use common::{Node, client, free_port, runtime_image_overrides, wait_for_nodes};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The longest any one message may take to come.
const MESSAGE_WAIT: Duration = Duration::from_secs(60);

fn start_node(role: &'static str, cluster: u16, seed: u16, extra: &[(&str, &str)]) -> Node {
    let images = runtime_image_overrides();
    let mut env: Vec<(&str, &str)> = images
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    env.extend_from_slice(extra);
    Node::start(role, cluster, seed, free_port(), &env)
}

async fn standalone(extra: &[(&str, &str)]) -> Node {
    let node = start_node("standalone", free_port(), 1, extra);
    wait_for_nodes(&client(), &node, &[node.name()]).await;
    node
}

/// One live execution's socket and what came on it.
struct Live {
    socket: Socket,
    /// The close code, once the server closed.
    closed: Option<u16>,
}

impl Live {
    async fn connect(node: &Node, query: &str) -> Live {
        let url = format!("ws://127.0.0.1:{}/api/v1/connect{query}", node.http_port);
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the WebSocket opens");
        Live {
            socket,
            closed: None,
        }
    }

    /// Connects and sends a run message; returns after `started`.
    async fn run(node: &Node, run: Value) -> (Live, Value) {
        let mut live = Live::connect(node, "").await;
        let mut message = run;
        message["type"] = json!("run");
        live.send(message).await;
        let started = live.next().await.expect("a first message");
        assert_eq!(started["type"], "started", "{started}");
        (live, started)
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("the message goes");
    }

    /// The next JSON message; `None` once closed (the code in `closed`).
    async fn next(&mut self) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(MESSAGE_WAIT, self.socket.next())
                .await
                .expect("a message in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(&text).expect("JSON"));
                }
                Some(Ok(Message::Close(frame))) => {
                    self.closed = frame.map(|frame| u16::from(frame.code));
                    return None;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Reads up to a stdout chunk holding `needle`; the stdout read.
    async fn until_stdout(&mut self, needle: &str) -> String {
        let mut seen = String::new();
        while !seen.contains(needle) {
            let message = self.next().await.expect("more output");
            assert_ne!(
                message["type"], "exit",
                "{needle:?} never came: {seen:?} {message}"
            );
            if message["type"] == "stdout" {
                seen.push_str(message["data"].as_str().unwrap_or_default());
            }
        }
        seen
    }

    /// Reads to the end: the output by stream, and the `exit` (or `error`)
    /// message; checks the close that follows.
    async fn finish(&mut self) -> (String, String, Value) {
        let (mut stdout, mut stderr) = (String::new(), String::new());
        loop {
            let message = self
                .next()
                .await
                .expect("the stream ends with exit or error");
            match message["type"].as_str() {
                Some("stdout") => stdout.push_str(message["data"].as_str().unwrap_or_default()),
                Some("stderr") => stderr.push_str(message["data"].as_str().unwrap_or_default()),
                Some("stage" | "started") => {}
                Some("exit" | "error") => {
                    assert!(
                        self.next().await.is_none(),
                        "nothing after the last message"
                    );
                    return (stdout, stderr, message);
                }
                _ => panic!("unexpected message {message}"),
            }
        }
    }
}

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs_f64())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_comes_as_it_is_produced_and_input_as_it_is_sent() {
    let node = standalone(&[]).await;

    // Ordering: the first line arrives before the program prints the second
    // (by the program's own clock, which is the host's).
    let code = "import time\nprint('first', flush=True)\ntime.sleep(1)\nprint('second', time.time(), flush=True)";
    let (mut live, started) = Live::run(&node, json!({"language": "python", "code": code})).await;
    assert!(started["execution_id"].is_string() && started["node"].is_string());
    live.until_stdout("first").await;
    let first_arrived = now_s();
    let rest = live.until_stdout("second").await;
    let second_printed: f64 = rest
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|stamp| stamp.parse().ok())
        .expect("the program's timestamp");
    assert!(
        first_arrived < second_printed,
        "the first line came at {first_arrived}, after the second was printed at {second_printed}"
    );
    let (_, _, exit) = live.finish().await;
    assert_eq!(exit["type"], "exit");
    assert_eq!(exit["status"], "ok", "{exit}");
    assert_eq!(live.closed, Some(1000));
    assert!(
        exit.get("stdout").is_none(),
        "the output was streamed: {exit}"
    );

    // Interactive: two lines sent one at a time, each answered before the
    // next is sent.
    let code = "for i in range(2):\n    line = input()\n    print('got', line, flush=True)";
    let (mut live, _) = Live::run(&node, json!({"language": "python", "code": code})).await;
    live.send(json!({"type": "stdin", "data": "one\n"})).await;
    live.until_stdout("got one").await;
    live.send(json!({"type": "stdin", "data": "two\n"})).await;
    live.until_stdout("got two").await;
    let (_, _, exit) = live.finish().await;
    assert_eq!(exit["status"], "ok", "{exit}");

    // SIGINT reaches the program.
    let code = "import signal, sys, time\ndef stop(number, frame):\n    print('interrupted', number, flush=True)\n    sys.exit(7)\nsignal.signal(signal.SIGINT, stop)\nprint('ready', flush=True)\ntime.sleep(30)";
    let (mut live, _) = Live::run(&node, json!({"language": "python", "code": code})).await;
    live.until_stdout("ready").await;
    live.send(json!({"type": "signal", "signal": "SIGINT"}))
        .await;
    let (stdout, _, exit) = live.finish().await;
    assert!(stdout.contains("interrupted 2"), "{stdout:?}");
    assert_eq!(
        (exit["status"].clone(), exit["exit_code"].clone()),
        (json!("runtime_error"), json!(7)),
        "{exit}"
    );

    // Closing stdin gives EOF; the first message's stdin comes first.
    let code = "import sys\ndata = sys.stdin.read()\nprint(repr(data), 'EOF', flush=True)";
    let (mut live, _) = Live::run(
        &node,
        json!({"language": "python", "code": code, "stdin": "ab"}),
    )
    .await;
    live.send(json!({"type": "stdin", "data": "c☃"})).await;
    live.send(json!({"type": "close_stdin"})).await;
    let (stdout, _, exit) = live.finish().await;
    assert_eq!(stdout, "'abc☃' EOF\n");
    assert_eq!(exit["status"], "ok", "{exit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_limit_ends_the_stream_with_its_exit() {
    let node = standalone(&[("BRAINDRILL__LIVE__IDLE_TIMEOUT_MS", "3000")]).await;
    let cases = [
        (
            json!({"language": "python", "code": "while True: print('x' * 100)", "limits": {"output_bytes": 10000}}),
            "output_limit",
            Value::Null,
        ),
        (
            json!({"language": "python", "code": "while True: pass", "limits": {"cpu_time_ms": 500}}),
            "timeout",
            json!("cpu"),
        ),
        (
            json!({"language": "python", "code": "import time\nprint('sleeping', flush=True)\nwhile True: time.sleep(0.5); print('.', flush=True)", "limits": {"timeout_ms": 2000}}),
            "timeout",
            json!("wall"),
        ),
        // Neither output nor input for the idle limit.
        (
            json!({"language": "python", "code": "input()"}),
            "timeout",
            json!("wall"),
        ),
        (
            json!({"language": "python", "code": "a = []\nwhile True: a.append(bytearray(10**7))", "limits": {"memory_mb": 64}}),
            "memory_limit",
            Value::Null,
        ),
        (
            json!({"language": "c", "code": "int main( { return 0; }"}),
            "compile_error",
            Value::Null,
        ),
    ];
    for (run, status, kind) in cases {
        let (mut live, _) = Live::run(&node, run.clone()).await;
        let (stdout, _, exit) = live.finish().await;
        assert_eq!(exit["type"], "exit", "{run} -> {exit}");
        assert_eq!(exit["status"], status, "{run} -> {exit}");
        assert_eq!(exit["timeout_kind"], kind, "{run} -> {exit}");
        assert_eq!(live.closed, Some(1000));
        if status == "output_limit" {
            assert_eq!(stdout.len(), 10000, "the output stops at the cap");
            assert_eq!(exit["stdout_truncated"], true, "{exit}");
        }
        if status == "compile_error" {
            assert!(
                exit["compile"]["exit_code"].as_i64().unwrap_or(0) != 0,
                "{exit}"
            );
        }
    }
}

/// The resident set of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .expect("VmRSS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_holds_memory_bounded_and_one_that_leaves_removes_its_container()
 {
    use braindrill::sandbox::engine;

    let seed = free_port();
    // An output cap far above what the sockets' buffers hold, so that only
    // the stream's window stops the flood.
    let big_outputs = [("BRAINDRILL__SANDBOX__MAX_LIMITS__OUTPUT_BYTES", "67108864")];
    let master = start_node("master", seed, seed, &big_outputs);
    let worker = start_node("worker", free_port(), seed, &big_outputs);
    wait_for_nodes(&client(), &master, &[worker.name()]).await;
    let docker = engine::connect("/var/run/docker.sock", 30).expect("the Docker socket");

    // A flood of output to a client that reads nothing past `started`: it
    // stops at the pull window, the program's writes block, and its wall
    // clock ends it; neither process grows by more than a bound.
    let flood = "import sys\nline = 'y' * 1023 + '\\n'\nwhile True: sys.stdout.write(line)";
    let (master_before, worker_before) = (rss(master.pid()), rss(worker.pid()));
    let (mut live, started) = Live::run(
        &master,
        json!({"language": "python", "code": flood, "limits": {"output_bytes": 67108864, "timeout_ms": 6000, "cpu_time_ms": 6000}}),
    )
    .await;
    let execution_id = started["execution_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut peak = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(8);
    while Instant::now() < deadline {
        peak = (peak.0.max(rss(master.pid())), peak.1.max(rss(worker.pid())));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let grew = (
        peak.0.saturating_sub(master_before),
        peak.1.saturating_sub(worker_before),
    );
    println!(
        "a client that does not read: master grew {} KiB, worker {} KiB",
        grew.0 / 1024,
        grew.1 / 1024
    );
    assert!(grew.0 < 16 << 20 && grew.1 < 16 << 20, "grew {grew:?}");
    // Read now: the output stopped at the window, then at the limit.
    let (stdout, _, exit) = live.finish().await;
    println!(
        "{} bytes came before the wall clock ended the run",
        stdout.len()
    );
    assert!(stdout.len() < 67108864, "{} bytes came", stdout.len());
    assert_eq!(exit["status"], "timeout", "{exit}");
    common::assert_nothing_left(&docker, &execution_id).await;

    // A client that goes away: its run is cancelled, its container removed.
    let code = "import time\nprint('ready', flush=True)\ntime.sleep(60)";
    let (mut live, started) = Live::run(&master, json!({"language": "python", "code": code})).await;
    let execution_id = started["execution_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    live.until_stdout("ready").await;
    drop(live);
    assert!(
        worker
            .wait_for_log("live execution cancelled", Duration::from_secs(10))
            .await,
        "the live execution was not cancelled"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let filters =
            engine::with_labels(vec![format!("{}={execution_id}", engine::EXECUTION_LABEL)]);
        let left = engine::list_objects(&docker, filters)
            .await
            .expect("the engine lists");
        if left.containers.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the container is still there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    common::assert_nothing_left(&docker, &execution_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_stream_ends_it_with_an_error() {
    let seed = free_port();
    let master = start_node("master", seed, seed, &[]);
    let mut worker = start_node("worker", free_port(), seed, &[]);
    wait_for_nodes(&client(), &master, &[worker.name()]).await;
    let code = "import time\nprint('ready', flush=True)\ntime.sleep(60)";
    let (mut live, _) = Live::run(&master, json!({"language": "python", "code": code})).await;
    live.until_stdout("ready").await;
    worker.kill();
    let (_, _, error) = live.finish().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "worker_lost", "{error}");
    assert_eq!(live.closed, Some(4502));
    // Restarted, the node removes what its killed run left behind.
    worker.restart();
    wait_for_nodes(&client(), &master, &[worker.name()]).await;
}

/// The master's `GET /metrics` text.
async fn metrics_text(node: &Node) -> String {
    client()
        .get(node.url("/metrics"))
        .send()
        .await
        .expect("an answer from /metrics")
        .text()
        .await
        .expect("a body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_close_with_their_codes_and_ndjson_streams_the_same_messages() {
    const KEY: &str = "live-test-key-0123456789";
    let node = start_node(
        "standalone",
        free_port(),
        1,
        &[("API_KEYS", KEY), ("BRAINDRILL__LIVE__MAX_PER_KEY", "1")],
    );
    // With keys on, /ready names its nodes to a request with a key only.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client()
            .get(node.url("/ready"))
            .header("x-api-key", KEY)
            .send()
            .await;
        if let Ok(ready) = ready
            && ready
                .text()
                .await
                .unwrap_or_default()
                .contains(&node.name())
        {
            break;
        }
        assert!(Instant::now() < deadline, "the node never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // No key: told why, closed 4401.
    let mut live = Live::connect(&node, "").await;
    let error = live.next().await.expect("an error message");
    assert_eq!(error["code"], "unauthorized", "{error}");
    assert!(live.next().await.is_none());
    assert_eq!(live.closed, Some(4401));

    let query = format!("?api_key={KEY}");
    for (first, code, close) in [
        (
            json!({"type": "stdin", "data": "x"}),
            "invalid_request",
            4400,
        ),
        (
            json!({"type": "run", "language": "cobol", "code": "x"}),
            "unsupported_language",
            4400,
        ),
        (
            json!({"type": "run", "language": "python", "code": "x", "limits": {"memory_mb": 100000}}),
            "invalid_request",
            4400,
        ),
        (
            json!({"type": "run", "language": "python", "code": "x", "bogus": 1}),
            "invalid_json",
            4400,
        ),
    ] {
        let mut live = Live::connect(&node, &query).await;
        live.send(first.clone()).await;
        let error = live.next().await.expect("an error message");
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str()),
            (Some("error"), Some(code)),
            "{first} -> {error}"
        );
        assert!(live.next().await.is_none());
        assert_eq!(live.closed, Some(close), "{first}");
    }

    // The key's cap: a second live run at once is refused as busy.
    let mut holder = Live::connect(&node, &query).await;
    holder
        .send(json!({"type": "run", "language": "python", "code": "input()"}))
        .await;
    assert_eq!(holder.next().await.expect("started")["type"], "started");
    let mut second = Live::connect(&node, &query).await;
    second
        .send(json!({"type": "run", "language": "python", "code": "print(1)"}))
        .await;
    let error = second.next().await.expect("an error message");
    assert_eq!(error["code"], "busy", "{error}");
    assert!(second.next().await.is_none());
    assert_eq!(second.closed, Some(4429));
    // The master's metrics: one run held, one refused at the key's cap.
    let metrics = metrics_text(&node).await;
    assert_eq!(
        sample(&metrics, "braindrill_live_runs", &[]),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "braindrill_live_runs_refused_total",
            &[("cap", "per_key")]
        ),
        Some(1.0),
        "{metrics}"
    );
    holder.send(json!({"type": "stdin", "data": "\n"})).await;
    let (_, _, exit) = holder.finish().await;
    assert_eq!(exit["status"], "ok", "{exit}");
    // Its place is given back with its last message, before the client sees it.
    let metrics = metrics_text(&node).await;
    assert_eq!(
        sample(&metrics, "braindrill_live_runs", &[]),
        Some(0.0),
        "{metrics}"
    );
    assert!(
        sample(&metrics, "braindrill_live_runs_started_total", &[])
            .is_some_and(|started| started >= 1.0),
        "{metrics}"
    );

    // A program that does not read its stdin: what waits for it is bounded
    // (the sandbox's queue, then the node's 1 MiB), then the run ends.
    let mut deaf = Live::connect(&node, &query).await;
    deaf.send(json!({"type": "run", "language": "python", "code": "import time\ntime.sleep(30)"}))
        .await;
    assert_eq!(deaf.next().await.expect("started")["type"], "started");
    let chunk = "z".repeat(64 * 1024);
    let mut sent = 0;
    let error = loop {
        // The socket may close under the sends: then read why.
        let sending = deaf
            .socket
            .send(Message::text(
                json!({"type": "stdin", "data": chunk}).to_string(),
            ))
            .await;
        sent += chunk.len();
        assert!(sent < 256 << 20, "256 MiB of stdin were taken");
        if sending.is_err() || sent % (4 << 20) == 0 {
            let next = tokio::time::timeout(Duration::from_millis(50), deaf.socket.next()).await;
            if let Ok(Some(Ok(Message::Text(text)))) = next {
                break serde_json::from_str::<Value>(&text).expect("JSON");
            }
        }
    };
    assert_eq!(error["code"], "payload_too_large", "{error}");
    println!("{sent} bytes of stdin sent to a program that does not read before it ended");

    // NDJSON: the same messages, one per line, stdin closed after the
    // request's.
    let response = client()
        .post(node.url("/api/v1/execute"))
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .body(json!({"language": "python", "code": "import sys\nprint(sys.stdin.read().upper())", "stdin": "hi", "stream": true}).to_string())
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/x-ndjson")
    );
    let text = response.text().await.expect("a body");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    let types: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["type"].as_str())
        .collect();
    assert_eq!(types.first(), Some(&"started"), "{text}");
    assert_eq!(types.last(), Some(&"exit"), "{text}");
    let stdout: String = lines
        .iter()
        .filter(|line| line["type"] == "stdout")
        .filter_map(|line| line["data"].as_str())
        .collect();
    assert_eq!(stdout, "HI\n");
    assert_eq!(
        lines.last().map(|exit| exit["status"].clone()),
        Some(json!("ok"))
    );
}
