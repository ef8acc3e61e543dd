//! End-to-end tests of the judge (`/api/v1/submissions`) through the real
//! engine: nodes as real processes on loopback, code run in the real Docker
//! engine, the submissions kept in a SQLite file of the test's own.
//!
//! Every verdict on one submission of several tests; every comparison mode
//! with its edge cases; 100 tests compiled once; polling, `?wait=true`,
//! pages and deletion; the request's errors; a webhook received on
//! 127.0.0.1, signed, and retried after a 500; a master killed with SIGKILL
//! and started again, finishing what it held queued and running; retention;
//! with API keys on, a key sees only its own submissions.
//!
//! `BRAINDRILL_TEST_RUNTIME_IMAGE` (optional) names a runtime image to run
//! the languages in, for an image built from a changed runner before
//! `images/build.sh` has rebuilt `braindrill/runtime:bookworm`.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Node, client, free_port, runtime_image_overrides, wait_for_nodes};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "judge-test-webhook-secret";

/// A program whose behaviour each test's stdin picks.
const PROGRAM: &str = r#"
import sys, time
words = sys.stdin.read().split()
op = words[0] if words else ""
if op == "echo":
    print(" ".join(words[1:]))
elif op == "args":
    print(sys.argv[1:])
elif op == "crash":
    sys.exit(3)
elif op == "spin":
    while True:
        pass
elif op == "flood":
    sys.stdout.write("x" * 100000)
elif op == "eat":
    hog = b"a" * (300 * 1024 * 1024)
elif op == "crlf":
    sys.stdout.write("a\r\nb\r\n")
elif op == "spaces":
    print("1 2   ")
    print()
    print()
elif op == "float":
    print(0.1 + 0.2)
elif op == "far":
    print(0.3 + 2e-9)
elif op == "leave":
    import subprocess
    open("/tmp/left", "w").write("x")
    subprocess.Popen(["sleep", "30"], start_new_session=True)
    print("left")
elif op == "look":
    import os
    others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]
    print(os.path.exists("/tmp/left"), len(others))
elif op == "sleep":
    time.sleep(float(words[1]))
    print(" ".join(words[2:]))
"#;

/// A folder of the test's own (database, configuration), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let path = std::env::temp_dir().join(format!("braindrill-judge-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("a scratch folder");
        Scratch(path)
    }

    fn database(&self) -> String {
        self.0.join("judge.sqlite").display().to_string()
    }

    fn config(&self, toml: &str) -> PathBuf {
        let path = self.0.join("braindrill.toml");
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(toml.as_bytes()))
            .expect("a config file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect()
}

/// A standalone node with the judge's database in `scratch` and `judge`
/// as its `[judge]` settings.
async fn standalone(scratch: &Scratch, judge: &str) -> Node {
    let config = scratch.config(&format!("[judge]\n{judge}\n"));
    let mut env = runtime_image_overrides();
    env.push(("JUDGE_DATABASE".into(), scratch.database()));
    let node = Node::start_with_config(
        "standalone",
        free_port(),
        1,
        free_port(),
        &config,
        &env_refs(&env),
    );
    wait_for_nodes(&client(), &node, &[node.name()]).await;
    node
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, json)
}

async fn submit(node: &Node, query: &str, body: &Value) -> (u16, Value) {
    send(
        client()
            .post(node.url(&format!("/api/v1/submissions{query}")))
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
    .await
}

/// Submits with `?wait=true` and expects the finished submission.
async fn judged(node: &Node, body: Value) -> Value {
    let (status, answer) = submit(node, "?wait=true", &body).await;
    assert_eq!(status, 200, "{body} -> {answer}");
    assert_eq!(answer["status"], "done", "{answer}");
    answer
}

async fn get(node: &Node, path: &str) -> (u16, Value) {
    send(client().get(node.url(path))).await
}

/// Polls a submission until it is finished.
async fn finished(node: &Node, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (status, body) = get(node, &format!("/api/v1/submissions/{id}")).await;
        if status == 200 && (body["status"] == "done" || body["status"] == "failed") {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "submission {id} did not finish: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn python(tests: Value) -> Value {
    json!({"language": "python", "code": PROGRAM, "tests": tests})
}

fn verdicts(submission: &Value) -> Vec<String> {
    submission["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|test| test["verdict"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn every_verdict_every_comparison_and_the_api() {
    let scratch = Scratch::new();
    let node = standalone(
        &scratch,
        &format!("callback_secret = \"{SECRET}\"\ncallback_hosts = []"),
    )
    .await;

    // Every verdict of a run, in one submission, in one sandbox: the tests
    // after a crash, a timeout and an output flood still run.
    let mut all = python(json!([
        {"stdin": "echo 1 2", "expected_output": "1 2"},
        {"stdin": "echo 5", "expected_output": "6"},
        {"stdin": "crash"},
        {"stdin": "spin"},
        {"stdin": "flood"},
        {"stdin": "args", "args": ["a", "b c"], "expected_output": "['a', 'b c']\n"},
        {"stdin": "eat"},
    ]));
    all["limits"] = json!({"cpu_time_ms": 1000, "memory_mb": 64, "output_bytes": 4096});
    let done = judged(&node, all).await;
    assert_eq!(
        verdicts(&done),
        [
            "accepted",
            "wrong_answer",
            "runtime_error",
            "timeout",
            "output_limit",
            "accepted",
            "memory_limit"
        ],
        "{done}"
    );
    assert_eq!(done["verdict"], "wrong_answer", "the first failure decides");
    assert_eq!(
        (done["passed"].clone(), done["total"].clone()),
        (json!(2), json!(7))
    );
    let wrong = &done["tests"][1];
    assert_eq!(wrong["stdout"], "5\n");
    assert_eq!(
        wrong["difference"],
        json!({"line": 1, "column": 1, "expected": "6", "got": "5"})
    );
    assert_eq!(done["tests"][2]["exit_code"], 3);
    assert_eq!(done["tests"][3]["timeout_kind"], "cpu");
    assert!(
        done["tests"][0]["cpu_time_ms"].is_u64() && done["tests"][0]["memory_peak_bytes"].is_u64()
    );
    assert!(done["node"].is_string() && done["finished_at_ms"].is_u64());
    assert!(done["compile"].is_null(), "python has no compile step");

    // Every other verdict of a submission: accepted, and a compile error
    // (which ends it: every test skipped).
    let accepted = judged(
        &node,
        python(json!([{"stdin": "echo hi", "expected_output": "hi"}])),
    )
    .await;
    assert_eq!(accepted["verdict"], "accepted", "{accepted}");
    let broken = judged(
        &node,
        json!({"language": "c", "code": "int main( { return 0; }", "tests": [{}, {}]}),
    )
    .await;
    assert_eq!(broken["verdict"], "compile_error", "{broken}");
    assert_ne!(broken["compile"]["status"], "ok");
    assert!(
        broken["compile"]["stderr"]
            .as_str()
            .is_some_and(|text| text.contains("error"))
    );
    assert_eq!(verdicts(&broken), ["skipped", "skipped"]);

    // stop_on_failure: after a wrong answer (known on the master) and after
    // a crash (the sandbox stops there).
    let mut stop = python(json!([
        {"stdin": "echo 1", "expected_output": "1"},
        {"stdin": "echo 1", "expected_output": "2"},
        {"stdin": "echo 1", "expected_output": "1"},
    ]));
    stop["stop_on_failure"] = json!(true);
    assert_eq!(
        verdicts(&judged(&node, stop).await),
        ["accepted", "wrong_answer", "skipped"]
    );
    let mut stop = python(json!([{"stdin": "crash"}, {"stdin": "echo 1"}]));
    stop["stop_on_failure"] = json!(true);
    let stopped = judged(&node, stop).await;
    assert_eq!(
        verdicts(&stopped),
        ["runtime_error", "skipped"],
        "{stopped}"
    );

    // The reset between two tests: what one leaves (a process of its own
    // session, a file in the scratch area), the next does not find.
    let reset = judged(
        &node,
        python(json!([
            {"stdin": "leave", "expected_output": "left"},
            {"stdin": "look", "expected_output": "False 0"},
        ])),
    )
    .await;
    assert_eq!(verdicts(&reset), ["accepted", "accepted"], "{reset}");

    comparisons(&node).await;
    hundred_tests_compile_once(&node).await;
    polling_pages_and_deletion(&node).await;
    refusals(&node).await;
}

/// Each mode with its edge cases: CRLF, trailing spaces and empty lines,
/// tokens across lines, floats within 1e-9 (absolute and relative).
async fn comparisons(node: &Node) {
    let cases = [
        // (compare, extra fields, stdin, expected, verdict)
        ("exact", json!({}), "crlf", "a\nb\n", "wrong_answer"),
        ("exact", json!({}), "crlf", "a\r\nb\r\n", "accepted"),
        ("exact", json!({}), "spaces", "1 2\n\n\n", "wrong_answer"),
        ("trim", json!({}), "crlf", "a\nb", "accepted"),
        ("trim", json!({}), "spaces", "1 2", "accepted"),
        ("trim", json!({}), "spaces", " 1 2", "wrong_answer"),
        ("tokens", json!({}), "spaces", "1\n2", "accepted"),
        ("tokens", json!({}), "crlf", "a b c", "wrong_answer"),
        (
            "float",
            json!({"tolerance": 1e-9}),
            "float",
            "0.3",
            "accepted",
        ),
        (
            "float",
            json!({"tolerance": 1e-9}),
            "far",
            "0.3",
            "wrong_answer",
        ),
        (
            "float",
            json!({"tolerance": 1e-8}),
            "far",
            "0.3",
            "accepted",
        ),
        (
            "float",
            json!({"tolerance": 1e-9, "tolerance_type": "relative"}),
            "float",
            "0.3",
            "accepted",
        ),
        ("trim", json!({}), "float", "0.3", "wrong_answer"),
    ];
    let runs = cases.iter().map(|(mode, extra, stdin, expected, _)| {
        let mut body = python(json!([{"stdin": stdin, "expected_output": expected}]));
        body["compare"] = json!(mode);
        if let Some(extra) = extra.as_object() {
            for (key, value) in extra {
                body[key] = value.clone();
            }
        }
        judged(node, body)
    });
    let results = futures_util::future::join_all(runs).await;
    for ((mode, extra, stdin, expected, verdict), result) in cases.iter().zip(results) {
        assert_eq!(
            result["tests"][0]["verdict"], *verdict,
            "{mode} {extra} {stdin:?} vs {expected:?}: {result}"
        );
    }
    // Where a CRLF output first differs from LF, exactly.
    let mut body = python(json!([{"stdin": "crlf", "expected_output": "a\nb\n"}]));
    body["compare"] = json!("exact");
    let crlf = judged(node, body).await;
    assert_eq!(crlf["tests"][0]["difference"]["line"], 1);
    assert_eq!(crlf["tests"][0]["difference"]["column"], 2);
    let mut body = python(json!([{"stdin": "crlf", "expected_output": "a b c"}]));
    body["compare"] = json!("tokens");
    let tokens = judged(node, body).await;
    assert_eq!(
        tokens["tests"][0]["difference"],
        json!({"token": 2, "expected": "c", "got": null})
    );
}

/// 100 tests of a C program: one compile in the result, one execution on
/// the worker node.
async fn hundred_tests_compile_once(node: &Node) {
    let code = "#include <stdio.h>\nint main(void) { long n; if (scanf(\"%ld\", &n) != 1) return 1; printf(\"%ld\\n\", 2 * n); return 0; }\n";
    let tests: Vec<Value> = (0..100)
        .map(|n| json!({"stdin": format!("{n}\n"), "expected_output": format!("{}\n", 2 * n)}))
        .collect();
    let ran_before = node.log_text().matches("execution ran").count();
    let done = judged(node, json!({"language": "c", "code": code, "tests": tests})).await;
    assert_eq!(done["verdict"], "accepted", "{done}");
    assert_eq!(
        (done["passed"].clone(), done["total"].clone()),
        (json!(100), json!(100))
    );
    assert_eq!(
        done["compile"]["status"], "ok",
        "one compile step, in the result once"
    );
    // One execution on the worker node, one compile step, 100 runs.
    let log = without_colours(&node.log_text());
    let ran_after = log.matches("execution ran").count();
    assert_eq!(ran_after - ran_before, 1, "executions for 100 tests");
    let judged: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("execution ran") && line.contains("tests=100"))
        .collect();
    assert_eq!(judged.len(), 1, "{judged:?}");
    assert!(judged[0].contains("compile_steps=1"), "{}", judged[0]);
}

/// A log's text without its ANSI colour codes.
fn without_colours(log: &str) -> String {
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Up to the end of the sequence, an `m`.
            for next in chars.by_ref() {
                if next == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

async fn polling_pages_and_deletion(node: &Node) {
    let body = python(json!([{"stdin": "sleep 0.3 ok", "expected_output": "ok"}]));
    let (status, accepted) = submit(node, "", &body).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status"], "queued");
    let id = accepted["id"].as_str().expect("an id").to_string();
    let polled = finished(node, &id, Duration::from_secs(60)).await;
    assert_eq!(polled["verdict"], "accepted", "{polled}");
    assert!(polled["started_at_ms"].as_u64() <= polled["finished_at_ms"].as_u64());

    // Pages, newest first, by status.
    let (status, page) = get(node, "/api/v1/submissions?limit=2").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["submissions"][0]["id"], id.as_str(), "newest first");
    assert_eq!(page["submissions"].as_array().map(Vec::len), Some(2));
    let next = page["next"].as_str().expect("a next page");
    let (_, second) = get(node, &format!("/api/v1/submissions?limit=2&after={next}")).await;
    let first_ids: Vec<&Value> = page["submissions"]
        .as_array()
        .expect("a page")
        .iter()
        .map(|s| &s["id"])
        .collect();
    for summary in second["submissions"].as_array().expect("a page") {
        assert!(!first_ids.contains(&&summary["id"]), "pages do not overlap");
    }
    let (_, done) = get(node, "/api/v1/submissions?status=done&limit=100").await;
    assert!(
        done["submissions"]
            .as_array()
            .expect("a page")
            .iter()
            .all(|s| s["status"] == "done")
    );
    let (_, queued) = get(node, "/api/v1/submissions?status=queued").await;
    assert_eq!(queued["submissions"], json!([]));

    let (status, _) = send(client().delete(node.url(&format!("/api/v1/submissions/{id}")))).await;
    assert_eq!(status, 204);
    let (status, gone) = get(node, &format!("/api/v1/submissions/{id}")).await;
    assert_eq!(
        (status, gone["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    let (status, _) = send(client().delete(node.url(&format!("/api/v1/submissions/{id}")))).await;
    assert_eq!(status, 404);
}

/// Each bad request names its field.
async fn refusals(node: &Node) {
    let too_many: Vec<Value> = (0..101).map(|_| json!({})).collect();
    let cases = [
        (
            python(json!([])),
            400,
            "invalid_request",
            "tests must hold 1 to 100",
        ),
        (
            python(json!(too_many)),
            400,
            "invalid_request",
            "tests must hold 1 to 100",
        ),
        (
            python(json!([{"args": ["a\u{0}b"]}])),
            400,
            "invalid_request",
            "tests[0].args[0]",
        ),
        (
            python(json!([{"stdin": "x".repeat(70_000)}])),
            413,
            "payload_too_large",
            "tests[0].stdin",
        ),
        (
            python(json!([{"expected": "1"}])),
            400,
            "invalid_json",
            "tests[0]",
        ),
        (
            json!({"language": "cobol", "code": "x", "tests": [{}]}),
            400,
            "unsupported_language",
            "cobol",
        ),
        (
            json!({"language": "python", "tests": [{}]}),
            400,
            "invalid_request",
            "code or files",
        ),
    ];
    for (body, http, code, fragment) in cases {
        expect_refused(node, body, http, code, fragment).await;
    }
    let mut body = python(json!([{}]));
    body["compare"] = json!("fuzzy");
    expect_refused(node, body, 400, "invalid_json", "compare").await;
    let mut body = python(json!([{}]));
    body["tolerance"] = json!(0.1);
    expect_refused(node, body, 400, "invalid_request", "tolerance").await;
    let mut body = python(json!([{}]));
    body["compare"] = json!("float");
    body["tolerance"] = json!(-1.0);
    expect_refused(node, body, 400, "invalid_request", "tolerance").await;
    for (url, fragment) in [
        ("ftp://127.0.0.1/hook", "only http and https"),
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://0.0.0.0:9/hook", "unspecified"),
        ("not a url", "callback_url"),
    ] {
        let mut body = python(json!([{}]));
        body["callback_url"] = json!(url);
        expect_refused(node, body, 400, "invalid_request", fragment).await;
    }
    let (status, body) = get(node, "/api/v1/submissions?status=sleeping").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("invalid_request"))
    );
    let (status, body) = get(node, "/api/v1/submissions?limit=1000").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("invalid_request"))
    );
    let (status, _) = get(node, "/api/v1/submissions/no-such-id").await;
    assert_eq!(status, 404);
    let (status, _) = submit(node, "?wait=maybe", &python(json!([{}]))).await;
    assert_eq!(status, 400);
}

async fn expect_refused(node: &Node, body: Value, http: u16, code: &str, fragment: &str) {
    let (status, answer) = submit(node, "", &body).await;
    let shown: String = body.to_string().chars().take(200).collect();
    assert_eq!(status, http, "{shown} -> {answer}");
    assert_eq!(answer["error"]["code"], code, "{shown} -> {answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(fragment),
        "{shown}: {message:?} lacks {fragment:?}"
    );
}

/// One request the test's receiver got.
struct Delivery {
    signature: String,
    body: String,
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first request and
/// 200 to the others, and hands each request to the test.
async fn receiver() -> (u16, tokio::sync::mpsc::UnboundedReceiver<Delivery>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the receiver");
    let port = listener.local_addr().expect("an address").port();
    let (sender, deliveries) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut answered = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut bytes = Vec::new();
            let mut chunk = [0u8; 8192];
            // Headers, then the body by its content-length.
            let (head, body) = loop {
                let read = stream.read(&mut chunk).await.unwrap_or(0);
                if read == 0 {
                    break (String::new(), String::new());
                }
                bytes.extend_from_slice(&chunk[..read]);
                let text = String::from_utf8_lossy(&bytes).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break (head.to_string(), body.to_string());
                    }
                }
            };
            let signature = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("x-braindrill-signature")
                        .then(|| value.trim().to_string())
                })
                .unwrap_or_default();
            let status = if answered == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            answered += 1;
            let _ = stream
                .write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await;
            let _ = sender.send(Delivery { signature, body });
        }
    });
    (port, deliveries)
}

#[tokio::test]
async fn a_webhook_is_signed_and_retried_after_a_500() {
    let scratch = Scratch::new();
    let node = standalone(
        &scratch,
        &format!("callback_secret = \"{SECRET}\"\ncallback_hosts = [\"127.0.0.1\"]"),
    )
    .await;
    let (port, mut deliveries) = receiver().await;
    let mut body = python(json!([{"stdin": "echo 7", "expected_output": "7"}]));
    body["callback_url"] = json!(format!("http://127.0.0.1:{port}/hooks/judge"));
    let (status, accepted) = submit(&node, "", &body).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("an id").to_string();

    let within = Duration::from_secs(90);
    let mut received = Vec::new();
    while received.len() < 2 {
        let delivery = tokio::time::timeout(within, deliveries.recv())
            .await
            .expect("a delivery in time")
            .expect("the receiver runs");
        received.push(delivery);
    }
    for delivery in &received {
        // t=<seconds>,v1=<hex of HMAC-SHA256 over "t.body">
        let (timestamp, signature) = delivery
            .signature
            .strip_prefix("t=")
            .and_then(|rest| rest.split_once(",v1="))
            .unwrap_or_else(|| panic!("a signature header: {:?}", delivery.signature));
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("a key");
        mac.update(format!("{timestamp}.{}", delivery.body).as_bytes());
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(signature, expected, "the signature is the body's");
        let sent: Value = serde_json::from_str(&delivery.body).expect("a JSON body");
        assert_eq!(sent["id"], id.as_str());
        assert_eq!(sent["status"], "done");
        assert_eq!(sent["verdict"], "accepted");
    }
    // Both attempts are recorded on the submission.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, submission) = get(&node, &format!("/api/v1/submissions/{id}")).await;
        let codes: Vec<Value> = submission["callbacks"]
            .as_array()
            .map(|attempts| {
                attempts
                    .iter()
                    .map(|attempt| attempt["status_code"].clone())
                    .collect()
            })
            .unwrap_or_default();
        if codes == [json!(500), json!(200)] {
            break;
        }
        assert!(Instant::now() < deadline, "attempts recorded: {submission}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_killed_master_finishes_its_queued_and_running_submissions_after_a_restart() {
    let scratch = Scratch::new();
    let cluster_port = free_port();
    // One submission at a time: the first runs, the others wait queued.
    let config = scratch.config("[judge]\nmax_running = 1\n");
    let database = scratch.database();
    let mut master = Node::start_with_config(
        "master",
        cluster_port,
        cluster_port,
        free_port(),
        &config,
        &[("JUDGE_DATABASE", database.as_str())],
    );
    let worker_env = runtime_image_overrides();
    let worker = Node::start(
        "worker",
        free_port(),
        cluster_port,
        free_port(),
        &env_refs(&worker_env),
    );
    wait_for_nodes(&client(), &master, &[worker.name()]).await;

    // Each takes a few seconds (three tests sleeping); every other one
    // gives a wrong answer.
    let mut expected = Vec::new();
    for index in 0..4 {
        let want = if index % 2 == 0 { "ok" } else { "other" };
        let body = python(json!([
            {"stdin": "sleep 0.5 ok", "expected_output": "ok"},
            {"stdin": "sleep 0.5 ok", "expected_output": "ok"},
            {"stdin": "sleep 0.5 ok", "expected_output": want},
        ]));
        let (status, accepted) = submit(&master, "", &body).await;
        assert_eq!(status, 202, "{accepted}");
        let verdict = if index % 2 == 0 {
            "accepted"
        } else {
            "wrong_answer"
        };
        expected.push((accepted["id"].as_str().expect("an id").to_string(), verdict));
    }
    // Killed while the first runs and the others are queued.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, first) = get(&master, &format!("/api/v1/submissions/{}", expected[0].0)).await;
        if first["status"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "the first never ran: {first}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, queued) = get(&master, "/api/v1/submissions?status=queued").await;
    assert!(
        queued["submissions"]
            .as_array()
            .is_some_and(|page| page.len() >= 2),
        "queued ones at the kill: {queued}"
    );
    master.kill();
    master.restart();
    assert!(
        master
            .wait_for_log("running again the submissions", Duration::from_secs(30))
            .await,
        "the restarted master runs them again"
    );
    for (id, verdict) in &expected {
        let done = finished(&master, id, Duration::from_secs(120)).await;
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(done["verdict"], *verdict, "{done}");
    }
    drop(worker);
}

#[tokio::test]
async fn finished_submissions_are_deleted_after_their_retention() {
    let scratch = Scratch::new();
    let node = standalone(&scratch, "retention_s = 0\nretention_interval_s = 1").await;
    let body = python(json!([{"stdin": "echo 1", "expected_output": "1"}]));
    let (status, accepted) = submit(&node, "", &body).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("an id");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _) = get(&node, &format!("/api/v1/submissions/{id}")).await;
        if status == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "still kept past its retention");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = node.log_text();
    assert!(
        log.lines()
            .any(|line| line.contains(id) && line.contains("submission finished")),
        "it finished before it was deleted"
    );
    assert!(log.contains("deleted submissions past their retention"));
}

#[tokio::test]
async fn with_api_keys_a_key_sees_only_its_own_submissions() {
    const MINE: &str = "judge-test-key-number-one";
    const THEIRS: &str = "judge-test-key-number-two";
    let scratch = Scratch::new();
    let config = scratch.config("");
    let keys = format!("{MINE},{THEIRS}");
    let mut env = runtime_image_overrides();
    env.push(("JUDGE_DATABASE".into(), scratch.database()));
    env.push(("API_KEYS".into(), keys));
    let node = Node::start_with_config(
        "standalone",
        free_port(),
        1,
        free_port(),
        &config,
        &env_refs(&env),
    );
    // /ready shows its nodes to a key only.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client()
            .get(node.url("/ready"))
            .bearer_auth(MINE)
            .send()
            .await
            .map(|response| response.status().as_u16())
            .ok();
        if ready == Some(200) {
            break;
        }
        assert!(Instant::now() < deadline, "the node never got ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let with = |key: &str, request: reqwest::RequestBuilder| request.bearer_auth(key);
    let body = python(json!([{"stdin": "echo 1", "expected_output": "1"}]));
    let (status, done) = send(with(
        MINE,
        client()
            .post(node.url("/api/v1/submissions?wait=true"))
            .header("content-type", "application/json")
            .body(body.to_string()),
    ))
    .await;
    assert_eq!(status, 200, "{done}");
    let id = done["id"].as_str().expect("an id");
    let path = format!("/api/v1/submissions/{id}");

    let (status, _) = send(with(MINE, client().get(node.url(&path)))).await;
    assert_eq!(status, 200, "its own");
    let (status, _) = send(with(THEIRS, client().get(node.url(&path)))).await;
    assert_eq!(status, 404, "another key's");
    let (status, _) = send(client().get(node.url(&path))).await;
    assert_eq!(status, 401, "no key");
    let (_, page) = send(with(THEIRS, client().get(node.url("/api/v1/submissions")))).await;
    assert_eq!(page["submissions"], json!([]), "another key's page");
    let (_, page) = send(with(MINE, client().get(node.url("/api/v1/submissions")))).await;
    assert_eq!(page["submissions"][0]["id"], id, "its own page");
    let (status, _) = send(with(THEIRS, client().delete(node.url(&path)))).await;
    assert_eq!(status, 404, "another key cannot delete it");
    let (status, _) = send(with(MINE, client().delete(node.url(&path)))).await;
    assert_eq!(status, 204);
    // The store holds the key's fingerprint, never the key.
    let stored = std::fs::read(scratch.0.join("judge.sqlite")).unwrap_or_default();
    let wal = std::fs::read(scratch.0.join("judge.sqlite-wal")).unwrap_or_default();
    for bytes in [stored, wal] {
        assert!(
            !bytes
                .windows(MINE.len())
                .any(|window| window == MINE.as_bytes()),
            "the key itself is not stored"
        );
    }
}
