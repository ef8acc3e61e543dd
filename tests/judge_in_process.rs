//! The judge in the fast tier: a standalone node started in this process
//! with the fake sandbox (no Docker), its submissions kept in a SQLite file
//! of the test's own. Without the pooled sandbox every test is an
//! execution of its own (the default of `Sandbox::execute_tests`); the
//! fake answers with the entry file's content as stdout, so a submission's
//! verdicts follow from its expected outputs. The end-to-end suite
//! (tests/judge.rs) runs the same API against the real engine.

mod common;
mod fake_sandbox;

use std::sync::Arc;
use std::time::{Duration, Instant};

use braindrill::startup;
use serde_json::{Value, json};

use common::in_process_settings;
use fake_sandbox::FakeSandbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_judged_kept_and_run_again_after_a_restart() {
    let folder =
        std::env::temp_dir().join(format!("braindrill-judge-fast-{}", uuid::Uuid::new_v4()));
    let database = folder.join("judge.sqlite").display().to_string();
    // The same database file for the node and its successor.
    let settings = || in_process_settings("standalone", &[("JUDGE_DATABASE", database.as_str())]);
    let sandbox = Arc::new(FakeSandbox::default());
    let node = startup::start_with_sandbox(settings(), sandbox.clone())
        .await
        .expect("the node starts");
    let base = format!("http://{}", node.http_address().expect("serves HTTP"));
    wait_ready(&base).await;

    let body = json!({
        "language": "python",
        "code": "42",
        "tests": [
            {"stdin": "a", "expected_output": "42\n"},
            {"stdin": "b", "expected_output": "43"},
            {"stdin": "c"},
        ],
    });
    let (status, done) = post(&base, "/api/v1/submissions?wait=true", &body).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "done");
    assert_eq!(done["verdict"], "wrong_answer");
    let verdicts: Vec<&Value> = done["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|test| &test["verdict"])
        .collect();
    assert_eq!(
        verdicts,
        [
            &json!("accepted"),
            &json!("wrong_answer"),
            &json!("accepted")
        ]
    );
    assert_eq!(done["tests"][1]["difference"]["got"], "42");
    // Each test crossed the cluster with its own stdin.
    assert!(
        done["tests"][2]["stderr"]
            .as_str()
            .is_some_and(|text| text.contains('c')),
        "{done}"
    );

    let (status, invalid) = post(
        &base,
        "/api/v1/submissions",
        &json!({"language": "python", "code": "1", "tests": []}),
    )
    .await;
    assert_eq!(
        (status, invalid["error"]["code"].clone()),
        (400, json!("invalid_request"))
    );

    // A submission still held in the sandbox when the node stops is run
    // again by the next node on the same database.
    let held = json!({"language": "python", "code": "hold:judge", "tests": [{"expected_output": "hold:judge"}]});
    let (status, accepted) = post(&base, "/api/v1/submissions", &held).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().expect("an id").to_string();
    sandbox
        .until(
            "hold:judge",
            |seen| seen.started == 1,
            "the held submission to start",
        )
        .await;
    node.stop().await;

    let node = startup::start_with_sandbox(settings(), sandbox.clone())
        .await
        .expect("the node starts again");
    let base = format!("http://{}", node.http_address().expect("serves HTTP"));
    wait_ready(&base).await;
    sandbox
        .until(
            "hold:judge",
            |seen| seen.started == 2,
            "the held submission to run again",
        )
        .await;
    sandbox.release_hold("hold:judge");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = common::client()
            .get(format!("{base}/api/v1/submissions/{id}"))
            .send()
            .await
            .expect("the node answers");
        let body: Value = response.json().await.expect("JSON");
        if body["status"] == "done" {
            assert_eq!(body["verdict"], "accepted", "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "never finished: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.stop().await;
    let _ = std::fs::remove_dir_all(&folder);
}

async fn post(base: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = common::client()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the node answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = common::client()
            .get(format!("{base}/ready"))
            .send()
            .await
            .is_ok_and(|response| response.status() == 200);
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "{base} never became ready");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
