//! The fast tier of what an operator sees, without Docker: a standalone
//! node in this process on a fake sandbox, `GET /metrics` read after known
//! requests (executions by status, refusals by reason, the node's load),
//! and the playground page with its files.
//!
//! Metrics are process-wide (one recorder per process), so the counting
//! test is alone in this binary with the only node that executes anything:
//! its counts are exact.

mod common;
mod fake_sandbox;

use std::sync::Arc;
use std::time::Duration;

use braindrill::startup::{self, RunningNode};
use serde_json::json;

use common::in_process_settings;
use common::scrape::{count, sample};
use fake_sandbox::{BLOCK, FakeSandbox};

const KEY: &str = "observe-test-key-0001";

fn url(node: &RunningNode, path: &str) -> String {
    format!("http://{}{path}", node.http_address().expect("serves HTTP"))
}

async fn scrape(client: &reqwest::Client, node: &RunningNode) -> String {
    let response = client
        .get(url(node, "/metrics"))
        .send()
        .await
        .expect("the node answers");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("a body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_executions_by_status_and_refusals_by_reason() {
    let sandbox = Arc::new(FakeSandbox::default());
    let node = startup::start_with_sandbox(
        in_process_settings(
            "standalone",
            &[
                ("API_KEYS", KEY),
                ("WORKERS_PER_NODE", "3"),
                ("BRAINDRILL__HTTP__MAX_CONCURRENT", "1"),
                ("BRAINDRILL__HTTP__MAX_QUEUED", "0"),
            ],
        ),
        sandbox.clone(),
    )
    .await
    .expect("the node starts");
    let client = common::client();
    let execute = |body: serde_json::Value, key: Option<&str>| {
        let mut request = client
            .post(url(&node, "/api/v1/execute"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    // The router joins its group a moment after the start.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while count(
        &scrape(&client, &node).await,
        "braindrill_worker_nodes",
        &[],
    ) != 1.0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never joined"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    for code in ["print(1)", "print(2)", "print(3)"] {
        let answer = execute(json!({"language": "python", "code": code}), Some(KEY))
            .await
            .expect("answers");
        assert_eq!(answer.status(), 200);
    }
    let answer = execute(json!({"language": "ruby", "code": "p 1"}), Some(KEY))
        .await
        .expect("answers");
    assert_eq!(answer.status(), 200);
    // Two invalid requests, one unauthorized.
    let answer = execute(json!({"language": "cobol", "code": "x"}), Some(KEY))
        .await
        .expect("answers");
    assert_eq!(answer.status(), 400);
    let answer = execute(json!({"language": "python"}), Some(KEY))
        .await
        .expect("answers");
    assert_eq!(answer.status(), 400);
    let answer = execute(json!({"language": "python", "code": "1"}), None)
        .await
        .expect("answers");
    assert_eq!(answer.status(), 401);
    // One execution holds the master's only slot; the next is refused busy.
    let held = tokio::spawn(execute(
        json!({"language": "python", "code": BLOCK}),
        Some(KEY),
    ));
    tokio::time::timeout(Duration::from_secs(30), sandbox.blocked())
        .await
        .expect("the blocking execution reaches the sandbox");
    let during = scrape(&client, &node).await;
    assert_eq!(
        count(&during, "braindrill_inflight_executions", &[]),
        1.0,
        "{during}"
    );
    let node_name = node.name().to_string();
    assert_eq!(
        sample(
            &during,
            "braindrill_node_busy_slots",
            &[("node", &node_name)]
        ),
        Some(1.0),
        "{during}"
    );
    let answer = execute(json!({"language": "python", "code": "1"}), Some(KEY))
        .await
        .expect("answers");
    assert_eq!(answer.status(), 429);
    sandbox.release();
    assert_eq!(held.await.expect("joins").expect("answers").status(), 200);

    let text = scrape(&client, &node).await;
    let executions = |language: &str, status: &str| {
        count(
            &text,
            "braindrill_executions_total",
            &[("language", language), ("status", status)],
        )
    };
    assert_eq!(executions("python", "ok"), 4.0, "{text}");
    assert_eq!(executions("ruby", "ok"), 1.0, "{text}");
    assert_eq!(executions("python", "internal_error"), 0.0, "{text}");
    let rejected = |reason: &str| {
        count(
            &text,
            "braindrill_requests_rejected_total",
            &[("reason", reason)],
        )
    };
    assert_eq!(rejected("invalid"), 2.0, "{text}");
    assert_eq!(rejected("unauthorized"), 1.0, "{text}");
    assert_eq!(rejected("busy"), 1.0, "{text}");
    assert_eq!(rejected("no_worker"), 0.0, "{text}");
    assert_eq!(
        count(
            &text,
            "braindrill_execution_duration_seconds_count",
            &[("language", "python")]
        ),
        4.0,
        "{text}"
    );
    assert_eq!(
        count(&text, "braindrill_inflight_executions", &[]),
        0.0,
        "{text}"
    );
    assert_eq!(
        count(&text, "braindrill_queued_executions", &[]),
        0.0,
        "{text}"
    );
    assert_eq!(count(&text, "braindrill_worker_nodes", &[]), 1.0, "{text}");
    assert_eq!(
        sample(&text, "braindrill_node_slots", &[("node", &node_name)]),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "braindrill_node_busy_slots", &[("node", &node_name)]),
        Some(0.0),
        "{text}"
    );
    assert!(
        count(&text, "process_resident_memory_bytes", &[]) > 0.0,
        "no resident memory: {text}"
    );
    assert!(
        text.contains("# TYPE braindrill_execution_duration_seconds histogram"),
        "{text}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_page_and_its_editor_are_served_without_a_key() {
    // The editor's folder as the package lays it out, with a stand-in file.
    let editor = std::env::temp_dir().join(format!("braindrill-cm-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(editor.join("lib")).expect("a temporary folder");
    std::fs::write(editor.join("lib/codemirror.js"), "// the editor").expect("writes");
    let secret = editor.with_extension("secret");
    std::fs::write(&secret, "not to be served").expect("writes");
    let node = startup::start(in_process_settings(
        "master",
        &[
            ("API_KEYS", KEY),
            (
                "BRAINDRILL__HTTP__CODEMIRROR_DIR",
                editor.to_str().expect("UTF-8 path"),
            ),
        ],
    ))
    .await
    .expect("the master starts");
    let client = common::client();
    let get = |path: &str| client.get(url(&node, path)).send();

    let page = get("/").await.expect("answers");
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    let html = page.text().await.expect("a body");
    assert!(html.contains("/playground/playground.js"), "{html}");
    assert!(
        html.contains("/playground/codemirror/lib/codemirror.js"),
        "{html}"
    );
    // Nothing the page loads comes from another site.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );

    let script = get("/playground/playground.js").await.expect("answers");
    assert_eq!(script.status(), 200);
    assert!(
        script
            .text()
            .await
            .expect("a body")
            .contains("/api/v1/execute")
    );
    assert_eq!(
        get("/playground/playground.css")
            .await
            .expect("answers")
            .status(),
        200
    );

    let editor_file = get("/playground/codemirror/lib/codemirror.js")
        .await
        .expect("answers");
    assert_eq!(editor_file.status(), 200);
    assert_eq!(editor_file.text().await.expect("a body"), "// the editor");
    let name = secret.file_name().and_then(|n| n.to_str()).expect("a name");
    let escape = get(&format!("/playground/codemirror/%2e%2e/{name}"))
        .await
        .expect("answers");
    assert_eq!(escape.status(), 404);

    node.stop().await;
    let _ = std::fs::remove_dir_all(&editor);
    let _ = std::fs::remove_file(&secret);
}
