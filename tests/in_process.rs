//! The fast tier: whole nodes (master and worker in one, as `standalone`)
//! started in this process with a fake sandbox, without Docker, covering
//! every 4xx answer of the API with its status and code, a 429 with
//! Retry-After, and the 200 path through the fake. The end-to-end suites
//! (tests/api.rs, tests/cluster.rs) run the same requests against the real
//! engine.
//!
//! ractor's process groups are process-wide: every router started in this
//! binary joins the one router group, so every master here may send work to
//! any of them. The nodes therefore share one fake sandbox, and they are
//! started once for the whole binary, on a runtime of their own that
//! outlives each test's.

mod common;
mod fake_sandbox;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use braindrill::configuration::Settings;
use braindrill::startup::{self, RunningNode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::in_process_settings;
use fake_sandbox::{BLOCK, FakeSandbox, HOLD};

/// The keys the keyed node accepts.
const KEY: &str = "in-process-test-key-1";
const OTHER_KEY: &str = "in-process-test-key-2";
/// The body read timeout of the narrow node, in ms.
const BODY_TIMEOUT_MS: u64 = 300;

/// The nodes every test shares.
struct Nodes {
    /// Default settings.
    open: SocketAddr,
    /// API keys required.
    keyed: SocketAddr,
    /// One execution at a time, none waiting, and a short body timeout.
    narrow: SocketAddr,
    sandbox: Arc<FakeSandbox>,
}

fn nodes() -> &'static Nodes {
    static NODES: OnceLock<Nodes> = OnceLock::new();
    NODES.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the nodes");
            runtime.block_on(async move {
                let sandbox = Arc::new(FakeSandbox::default());
                let keys = format!("{KEY},{OTHER_KEY}");
                let body_timeout = BODY_TIMEOUT_MS.to_string();
                let started = async {
                    let open = start(&sandbox, &[]).await?;
                    let keyed = start(&sandbox, &[("API_KEYS", &keys)]).await?;
                    let narrow = start(
                        &sandbox,
                        &[
                            ("BRAINDRILL__HTTP__MAX_CONCURRENT", "1"),
                            ("BRAINDRILL__HTTP__MAX_QUEUED", "0"),
                            ("BRAINDRILL__HTTP__BODY_READ_TIMEOUT_MS", &body_timeout),
                        ],
                    )
                    .await?;
                    anyhow::Ok([open, keyed, narrow])
                };
                match started.await {
                    Ok([open, keyed, narrow]) => {
                        let address =
                            |node: &RunningNode| node.http_address().expect("serves HTTP");
                        let _ = sender.send(Nodes {
                            open: address(&open),
                            keyed: address(&keyed),
                            narrow: address(&narrow),
                            sandbox: sandbox.clone(),
                        });
                        // The nodes run as long as the test binary does.
                        std::future::pending::<()>().await;
                    }
                    Err(error) => panic!("the in-process nodes do not start: {error:#}"),
                }
            });
        });
        receiver.recv().expect("the in-process nodes start")
    })
}

async fn start(sandbox: &Arc<FakeSandbox>, extra: &[(&str, &str)]) -> anyhow::Result<RunningNode> {
    let node =
        startup::start_with_sandbox(in_process_settings("standalone", extra), sandbox.clone())
            .await?;
    let address = node.http_address().expect("a standalone node serves HTTP");
    wait_until_ready(address).await;
    Ok(node)
}

/// Waits until the node reports a worker node ready (its router has joined
/// the group and answered a ping).
async fn wait_until_ready(address: SocketAddr) {
    let client = common::client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client
            .get(format!("http://{address}/ready"))
            .send()
            .await
            .is_ok_and(|response| response.status() == 200);
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "{address} never became ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An answer, read whole.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the node answers");
    let headers = response.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    Answer {
        status: response.status().as_u16(),
        content_type: header("content-type").unwrap_or_default(),
        retry_after: header("retry-after"),
        body: response.text().await.expect("a body"),
        headers,
    }
}

async fn post(address: SocketAddr, path: &str, body: impl Into<reqwest::Body>) -> Answer {
    send(
        common::client()
            .post(format!("http://{address}{path}"))
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

async fn get(address: SocketAddr, path: &str) -> Answer {
    send(common::client().get(format!("http://{address}{path}"))).await
}

/// Posts `request` to the execute endpoint of the open node.
async fn execute(request: Value) -> Answer {
    post(nodes().open, "/api/v1/execute", request.to_string()).await
}

/// Asserts a JSON error answer: its status, code, and a fragment of its
/// message.
fn assert_error(answer: &Answer, status: u16, code: &str, fragment: &str) {
    let body = answer.json();
    assert_eq!(
        (answer.status, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(fragment),
        "{message:?} does not say {fragment:?}"
    );
    assert!(answer.content_type.starts_with("application/json"));
}

/// Asserts a plain-text answer: its status and a fragment of its body.
fn assert_plain(answer: &Answer, status: u16, fragment: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(
        answer.body.contains(fragment),
        "{:?} does not say {fragment:?}",
        answer.body
    );
    assert_eq!(answer.content_type, "text/plain; charset=utf-8");
}

#[tokio::test]
async fn a_body_that_is_not_the_request_is_invalid_json() {
    let open = nodes().open;
    let cases = [
        ("{not json".to_string(), "line 1"),
        (
            json!({"language": "python", "code": "1", "colour": "red"}).to_string(),
            "colour",
        ),
        (json!({"code": "print(1)"}).to_string(), "language"),
        (
            json!({"language": "python", "code": "1", "args": "a b"}).to_string(),
            "args",
        ),
        (json!({"language": "python", "code": 1}).to_string(), "code"),
        (
            json!({"language": "python", "code": "1", "limits": {"timeout_ms": -1}}).to_string(),
            "limits.timeout_ms",
        ),
        (
            json!({"language": "python", "code": "1", "limits": {"cpus": 2}}).to_string(),
            "cpus",
        ),
        (
            json!({"language": "python", "files": [{"name": "main.py"}]}).to_string(),
            "files[0]",
        ),
    ];
    for (body, fragment) in cases {
        let answer = post(open, "/api/v1/execute", body.clone()).await;
        assert_error(&answer, 400, "invalid_json", fragment);
    }
    let answer = post(open, "/api/v1/batch", "[]").await;
    assert_error(&answer, 400, "invalid_json", "");
    let answer = post(
        open,
        "/api/v1/batch",
        json!({"executions": [{"language": "python", "code": "1", "colour": "red"}]}).to_string(),
    )
    .await;
    assert_error(&answer, 400, "invalid_json", "executions[0]");
    assert!(answer.body.contains("colour"), "{}", answer.body);
}

#[tokio::test]
async fn every_rule_of_an_execution_is_invalid_request_naming_its_field() {
    let file = |name: &str| json!({"name": name, "content": "1"});
    let too_many_files: Vec<Value> = (0..33).map(|i| file(&format!("f{i}.py"))).collect();
    let too_many_args: Vec<String> = (0..65).map(|i| i.to_string()).collect();
    let cases = [
        (
            json!({"language": "python", "code": "1", "files": [file("a.py")]}),
            "not both",
        ),
        (json!({"language": "python"}), "code or files is required"),
        (
            json!({"language": "python", "code": ""}),
            "code must not be empty",
        ),
        (
            json!({"language": "python", "files": []}),
            "files must hold",
        ),
        (
            json!({"language": "python", "files": too_many_files}),
            "files must hold 1 to 32",
        ),
        (
            json!({"language": "python", "files": [file("main.py"), file("../etc/x")]}),
            "files[1].name",
        ),
        (
            json!({"language": "python", "files": [file("main.py"), file("/etc/passwd")]}),
            "relative path",
        ),
        (
            json!({"language": "python", "files": [file("main.py"), file(".hidden")]}),
            "hidden",
        ),
        (
            json!({"language": "python", "files": [file("a.py"), file("a.py")]}),
            "given twice",
        ),
        (
            json!({"language": "python", "files": [file("a.py"), file("main.py/b.py")]}),
            "also the folder",
        ),
        (
            json!({"language": "python", "code": "1", "args": too_many_args}),
            "args must hold at most 64",
        ),
        (
            json!({"language": "python", "code": "1", "args": ["ok", "a\u{0}b"]}),
            "args[1]",
        ),
        (
            json!({"language": "python", "code": "1", "args": ["x".repeat(4097)]}),
            "args[0] must be at most 4096 bytes",
        ),
    ];
    for (request, fragment) in cases {
        let answer = execute(request.clone()).await;
        assert_error(&answer, 400, "invalid_request", fragment);
    }
}

#[tokio::test]
async fn limits_out_of_range_are_invalid_request_naming_the_field() {
    let max = Settings::load(None, std::iter::empty())
        .expect("the default settings load")
        .sandbox
        .max_limits;
    let above = [
        ("timeout_ms", max.timeout_ms),
        ("compile_timeout_ms", max.compile_timeout_ms),
        ("cpu_time_ms", max.cpu_time_ms),
        ("compile_cpu_time_ms", max.compile_cpu_time_ms),
        ("memory_mb", max.memory_mb),
        ("output_bytes", max.output_bytes.map(|bytes| bytes as u64)),
    ];
    for (field, maximum) in above {
        let maximum = maximum.expect("the default settings set every maximum");
        let request = json!({"language": "python", "code": "1", "limits": {field: maximum + 1}});
        let answer = execute(request).await;
        assert_error(&answer, 400, "invalid_request", &format!("limits.{field}"));
        assert!(
            answer.body.contains(&maximum.to_string()),
            "{}",
            answer.body
        );
        // The maximum itself is allowed.
        let request = json!({"language": "python", "code": "1", "limits": {field: maximum}});
        assert_eq!(execute(request).await.status, 200);
    }
    let below = [
        ("timeout_ms", 0),
        ("compile_timeout_ms", 0),
        ("cpu_time_ms", 0),
        ("compile_cpu_time_ms", 0),
        ("memory_mb", 7),
        ("output_bytes", 0),
    ];
    for (field, value) in below {
        let request = json!({"language": "python", "code": "1", "limits": {field: value}});
        let answer = execute(request).await;
        assert_error(&answer, 400, "invalid_request", &format!("limits.{field}"));
        assert!(answer.body.contains("at least"), "{}", answer.body);
    }
}

#[tokio::test]
async fn a_batch_is_checked_whole_naming_the_execution() {
    let open = nodes().open;
    let one = json!({"language": "python", "code": "1"});
    for count in [0, 21] {
        let executions = vec![one.clone(); count];
        let answer = post(
            open,
            "/api/v1/batch",
            json!({ "executions": executions }).to_string(),
        )
        .await;
        assert_error(
            &answer,
            400,
            "invalid_request",
            &format!("executions must hold 1 to 20 executions, it holds {count}"),
        );
    }
    let answer = post(
        open,
        "/api/v1/batch",
        json!({"executions": [one, {"language": "python", "code": ""}]}).to_string(),
    )
    .await;
    assert_error(&answer, 400, "invalid_request", "executions[1].code");
    let answer = post(
        open,
        "/api/v1/batch",
        json!({"executions": [{"language": "cobol", "code": "1"}]}).to_string(),
    )
    .await;
    assert_error(
        &answer,
        400,
        "unsupported_language",
        "executions[0].language",
    );
}

#[tokio::test]
async fn an_unknown_language_is_unsupported_on_both_endpoints() {
    let open = nodes().open;
    let answer = execute(json!({"language": "cobol", "code": "1"})).await;
    assert_error(&answer, 400, "unsupported_language", "cobol");
    assert!(answer.body.contains("python"), "{}", answer.body);
    let answer = post(open, "/lang/cobol", "DISPLAY 'HI'.").await;
    assert_plain(&answer, 400, "unsupported language: cobol (supported: ");
    for language in ["java", "javascript", "perl", "php", "python", "ruby"] {
        assert!(answer.body.contains(language), "{}", answer.body);
    }
}

#[tokio::test]
async fn the_plain_endpoint_refuses_an_empty_or_broken_body() {
    let open = nodes().open;
    let answer = post(open, "/lang/python", "").await;
    assert_plain(&answer, 400, "the request body is empty");
    let answer = post(open, "/lang/python", vec![0x70u8, 0xff, 0xfe]).await;
    assert_plain(&answer, 400, "not valid UTF-8 (invalid byte at offset 1)");
}

#[tokio::test]
async fn what_is_too_large_is_413() {
    let open = nodes().open;
    let limit = 64 * 1024;
    let answer = post(open, "/lang/python", "#".repeat(limit + 1)).await;
    assert_plain(
        &answer,
        413,
        "the code is larger than the limit of 65536 bytes",
    );
    let answer = post(open, "/lang/python", "#".repeat(limit)).await;
    assert_eq!(answer.status, 200, "the limit itself is accepted");

    let answer = execute(json!({"language": "python", "code": "#".repeat(limit + 1)})).await;
    assert_error(
        &answer,
        413,
        "payload_too_large",
        "code: the code is larger",
    );
    let half = "#".repeat(limit / 2 + 1);
    let answer = execute(json!({"language": "python", "files": [
        {"name": "main.py", "content": half},
        {"name": "b.py", "content": half},
    ]}))
    .await;
    assert_error(&answer, 413, "payload_too_large", "65536");
    let answer =
        execute(json!({"language": "python", "code": "1", "stdin": "x".repeat(limit + 1)})).await;
    assert_error(&answer, 413, "payload_too_large", "stdin is larger");
    for path in ["/api/v1/execute", "/api/v1/batch"] {
        let answer = post(open, path, " ".repeat(1024 * 1024 + 1)).await;
        assert_error(
            &answer,
            413,
            "payload_too_large",
            "the body is larger than the limit of 1048576 bytes",
        );
    }
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let open = nodes().open;
    let answer = get(open, "/nowhere").await;
    assert_plain(&answer, 404, "not found: use POST /lang/{language}");
    for path in ["/api/nowhere", "/api/v1/nowhere", "/api/v2/execute"] {
        let answer = get(open, path).await;
        assert_error(&answer, 404, "not_found", "POST /api/v1/execute");
    }
    let answer = get(open, "/lang/python").await;
    assert_plain(
        &answer,
        405,
        "method not allowed: POST /lang/{language} runs code",
    );
    let answer = post(open, "/health", "").await;
    assert_plain(&answer, 405, "method not allowed");
    for path in ["/api/v1/execute", "/api/v1/batch"] {
        let answer = get(open, path).await;
        assert_error(&answer, 405, "method_not_allowed", "not allowed");
    }
    let answer = post(open, "/api/v1/languages", "").await;
    assert_error(&answer, 405, "method_not_allowed", "not allowed");
}

#[tokio::test]
async fn with_api_keys_a_request_without_the_right_one_is_401() {
    let keyed = nodes().keyed;
    let client = common::client();
    let request = json!({"language": "python", "code": "print(1)"}).to_string();
    let execute = || {
        client
            .post(format!("http://{keyed}/api/v1/execute"))
            .body(request.clone())
    };

    let missing = send(execute()).await;
    assert_error(&missing, 401, "unauthorized", "an API key is required");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    let wrong = send(execute().bearer_auth("not-the-key-at-all")).await;
    assert_error(&wrong, 401, "unauthorized", "the API key is wrong");
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    let wrong = send(execute().header("x-api-key", "not-the-key-at-all")).await;
    assert_error(&wrong, 401, "unauthorized", "the API key is wrong");
    let plain = send(
        client
            .post(format!("http://{keyed}/lang/python"))
            .body("print(1)"),
    )
    .await;
    assert_plain(&plain, 401, "an API key is required");
    assert_eq!(plain.header("www-authenticate"), Some("Bearer"));

    // Either header form, and any of the keys, is accepted.
    assert_eq!(send(execute().bearer_auth(KEY)).await.status, 200);
    assert_eq!(
        send(execute().header("x-api-key", OTHER_KEY)).await.status,
        200
    );
    let plain = send(
        client
            .post(format!("http://{keyed}/lang/python"))
            .header("x-api-key", KEY)
            .body("print(1)"),
    )
    .await;
    assert_eq!((plain.status, plain.body.as_str()), (200, "print(1)"));
    // Probes and the API's document need none.
    for path in ["/health", "/ready", "/api/v1/openapi.json"] {
        assert_eq!(get(keyed, path).await.status, 200, "{path}");
    }
    // Without a key, /ready gives its status and nothing of its nodes;
    // with one, every node's report.
    assert_eq!(get(keyed, "/ready").await.json(), json!({"ready": true}));
    let detailed = send(
        common::client()
            .get(format!("http://{keyed}/ready"))
            .header("x-api-key", KEY),
    )
    .await;
    assert_eq!(detailed.status, 200);
    assert!(
        detailed.json()["nodes"]
            .as_array()
            .is_some_and(|nodes| !nodes.is_empty()),
        "{}",
        detailed.body
    );
}

/// Sends headers announcing 100 bytes and only the first few, then waits
/// for the answer.
async fn slow_body(address: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"lang"
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    // The server answers when the body timeout fires; the test's own bound
    // only keeps a broken server from hanging it.
    while !String::from_utf8_lossy(&answer).contains("ms") {
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buffer))
            .await
            .expect("an answer after the body timeout")
            .expect("reads");
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_408() {
    let narrow = nodes().narrow;
    let within = format!("did not arrive within {BODY_TIMEOUT_MS} ms");
    let answer = slow_body(narrow, "/api/v1/execute").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(answer.contains(&within), "{answer}");
    let answer = slow_body(narrow, "/lang/python").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(&within), "{answer}");
}

#[tokio::test]
async fn past_its_capacity_a_master_answers_429_with_retry_after() {
    let nodes = nodes();
    let narrow = nodes.narrow;
    // One execution holds the narrow master's only slot...
    let held = tokio::spawn(post(
        narrow,
        "/api/v1/execute",
        json!({"language": "python", "code": BLOCK}).to_string(),
    ));
    tokio::time::timeout(Duration::from_secs(30), nodes.sandbox.blocked())
        .await
        .expect("the blocking execution reaches the sandbox");
    // ...so the next ones, on either endpoint, are refused at once.
    let refused = post(
        narrow,
        "/api/v1/execute",
        json!({"language": "python", "code": "1"}).to_string(),
    )
    .await;
    assert_error(&refused, 429, "busy", "retry later");
    assert_retry_after(&refused);
    let refused = post(narrow, "/lang/python", "print(1)").await;
    assert_plain(&refused, 429, "retry later");
    assert_retry_after(&refused);
    let refused = post(
        narrow,
        "/api/v1/batch",
        json!({"executions": [{"language": "python", "code": "1"}]}).to_string(),
    )
    .await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert_eq!(refused.json()["results"][0]["http_status"], 429);
    assert_eq!(refused.json()["results"][0]["error"]["code"], "busy");

    nodes.sandbox.release();
    let held = held.await.expect("the held request ends");
    assert_eq!(held.status, 200, "{}", held.body);
    assert_eq!(held.json()["stdout"], BLOCK);
    // The slot is free again.
    assert_eq!(post(narrow, "/lang/python", "print(1)").await.status, 200);
}

/// Asserts a 429's `Retry-After`: whole seconds, at least one.
fn assert_retry_after(answer: &Answer) {
    let seconds: Option<u64> = answer
        .retry_after
        .as_deref()
        .and_then(|value| value.parse().ok());
    assert!(
        seconds.is_some_and(|seconds| seconds >= 1),
        "Retry-After: {:?}",
        answer.retry_after
    );
}

/// A master alone (its work goes to the shared nodes' routers) running
/// one execution at a time, whose requests must start within 200 ms of
/// their arrival (half its margin).
async fn one_at_a_time_master() -> RunningNode {
    let node = startup::start_with_sandbox(
        in_process_settings(
            "master",
            &[
                ("BRAINDRILL__HTTP__MAX_CONCURRENT", "1"),
                ("BRAINDRILL__HTTP__MAX_QUEUED", "4"),
                ("BRAINDRILL__HTTP__DEADLINE_MARGIN_MS", "400"),
            ],
        ),
        nodes().sandbox.clone(),
    )
    .await
    .expect("a master starts in-process");
    wait_until_ready(node.http_address().expect("serves HTTP")).await;
    node
}

/// A code no other test sends, held in the fake sandbox until released.
fn held_code() -> String {
    format!("{HOLD}{}", uuid::Uuid::new_v4())
}

/// A JSON execution of `code` with a time limit of `timeout_ms`.
fn execution(code: &str, timeout_ms: u64) -> String {
    json!({"language": "python", "code": code, "limits": {"timeout_ms": timeout_ms}}).to_string()
}

#[tokio::test]
async fn work_that_cannot_start_before_its_deadline_is_answered_429_and_never_runs() {
    let sandbox = nodes().sandbox.clone();
    let node = one_at_a_time_master().await;
    let address = node.http_address().expect("serves HTTP");
    // One execution holds the master's only place...
    let held = held_code();
    let holding = tokio::spawn(post(address, "/api/v1/execute", execution(&held, 15_000)));
    sandbox
        .until(
            &held,
            |seen| seen.started == 1,
            "the held execution never started",
        )
        .await;
    // ...so the next one waits in the master's queue (no throughput is
    // known yet) until its start window closes, and is answered 429.
    let late = format!("late-{}", uuid::Uuid::new_v4());
    let refused = post(address, "/api/v1/execute", execution(&late, 100)).await;
    assert_error(&refused, 429, "busy", "did not run");
    assert_retry_after(&refused);
    sandbox.release_hold(&held);
    let held_answer = holding.await.expect("the held request ends");
    assert_eq!(held_answer.status, 200, "{}", held_answer.body);
    // The place is free again, and what expired never started.
    let after = format!("after-{}", uuid::Uuid::new_v4());
    assert_eq!(
        post(address, "/lang/python", after.clone()).await.status,
        200
    );
    assert_eq!(sandbox.seen(&after).started, 1);
    assert_eq!(sandbox.seen(&late).started, 0, "expired work ran");
    node.stop().await;
}

#[tokio::test]
async fn past_the_throughput_a_request_is_refused_at_once_with_retry_after() {
    let sandbox = nodes().sandbox.clone();
    let node = one_at_a_time_master().await;
    let address = node.http_address().expect("serves HTTP");
    // A few answers make a throughput of at most 3 per second (it is
    // measured over a second at least)...
    for _ in 0..3 {
        assert_eq!(post(address, "/lang/python", "quick").await.status, 200);
    }
    let held = held_code();
    let holding = tokio::spawn(post(address, "/api/v1/execute", execution(&held, 15_000)));
    sandbox
        .until(
            &held,
            |seen| seen.started == 1,
            "the held execution never started",
        )
        .await;
    // ...so the next one, on one place, expects a wait of a third of a
    // second at least: past its start window of 200 ms, it is refused at
    // admission, before any queue.
    let refused_code = format!("refused-{}", uuid::Uuid::new_v4());
    let refused = post(address, "/api/v1/execute", execution(&refused_code, 100)).await;
    assert_error(&refused, 429, "busy", "could not start within its deadline");
    assert_retry_after(&refused);
    let refused = post(address, "/lang/python", refused_code.clone()).await;
    assert_plain(&refused, 429, "retry later (after");
    assert_retry_after(&refused);
    sandbox.release_hold(&held);
    assert_eq!(holding.await.expect("the held request ends").status, 200);
    assert_eq!(sandbox.seen(&refused_code).started, 0);
    node.stop().await;
}

#[tokio::test]
async fn a_client_that_goes_away_has_its_execution_cancelled_on_the_worker() {
    let nodes = nodes();
    let held = held_code();
    let body = execution(&held, 15_000);
    let mut stream = tokio::net::TcpStream::connect(nodes.open)
        .await
        .expect("connects");
    let request = format!(
        "POST /api/v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    nodes
        .sandbox
        .until(
            &held,
            |seen| seen.started == 1,
            "the execution never started",
        )
        .await;
    // The client goes away: the master cancels the execution on its worker
    // node, which kills its executor (dropping the run) at once, long
    // before its time limit of 15 s.
    drop(stream);
    nodes
        .sandbox
        .until(
            &held,
            |seen| seen.cancelled == 1,
            "the execution was not cancelled",
        )
        .await;
    // Its slot is free: the node still serves.
    assert_eq!(post(nodes.open, "/lang/python", "next").await.status, 200);
}

#[tokio::test]
async fn a_request_crosses_the_cluster_to_the_sandbox_and_back() {
    let open = nodes().open;
    let answer = execute(json!({
        "language": "python",
        "code": "print(1)",
        "stdin": "in",
        "args": ["a", "b c"],
        "limits": {"timeout_ms": 500},
    }))
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result = answer.json();
    assert_eq!(result["status"], "ok");
    assert_eq!(result["language"], "python");
    assert_eq!(result["stdout"], "print(1)");
    assert_eq!(
        result["stderr"],
        r#"stdin="in" args=["a", "b c"] files=["main.py"] timeout_ms=500"#
    );
    assert_eq!(result["retried"], false);

    let answer = post(open, "/lang/python", "print(2)").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "print(2)"));
    assert_eq!(answer.header("x-braindrill-status"), Some("ok"));
    assert_eq!(answer.header("x-braindrill-exit-code"), Some("0"));
    assert!(answer.header("x-braindrill-execution-id").is_some());

    let answer = post(
        open,
        "/api/v1/batch",
        json!({"executions": [
            {"language": "python", "code": "first"},
            {"language": "ruby", "files": [{"name": "main.rb", "content": "second"}, {"name": "lib/x.rb", "content": ""}]},
        ]})
        .to_string(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let results = answer.json()["results"].clone();
    assert_eq!(results[0]["result"]["stdout"], "first");
    assert_eq!(results[1]["result"]["stdout"], "second");
    let stderr = results[1]["result"]["stderr"].as_str().unwrap_or_default();
    assert!(
        stderr.contains(r#"files=["main.rb", "lib/x.rb"]"#),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_node_started_in_process_stops_on_request() {
    // A master alone: it joins no router group, so it cannot disturb the
    // shared nodes; it sends its work to their routers.
    let sandbox = nodes().sandbox.clone();
    let node = startup::start_with_sandbox(in_process_settings("master", &[]), sandbox)
        .await
        .expect("a master starts in-process");
    let address = node.http_address().expect("a master serves HTTP");
    assert_ne!(address.port(), 0, "the handle holds the port the OS chose");
    assert!(node.cluster_address().starts_with("127.0.0.1:"));
    wait_until_ready(address).await;
    let answer = post(address, "/lang/python", "print(3)").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "print(3)"));
    node.stop().await;
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "a stopped node no longer listens"
    );
}

#[tokio::test]
async fn a_node_that_cannot_listen_says_so() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = taken.local_addr().expect("an address").port().to_string();
    let sandbox = nodes().sandbox.clone();
    let error = match startup::start_with_sandbox(
        in_process_settings("master", &[("HTTP_PORT", &port)]),
        sandbox,
    )
    .await
    {
        Ok(_) => panic!("a master started on a taken port"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("cannot listen for HTTP"), "{error}");
}
