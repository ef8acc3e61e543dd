//! A verdict does not depend on the load: a program that needs about 0.35 s
//! of CPU gets the same verdict, with its CPU time reported, alone and
//! among 16 concurrent clients, through the JSON API of a standalone node
//! (a real process on loopback, the real Docker engine). Its time limit is
//! its CPU time; the wall clock, which the load stretches, is only a cap
//! against sleeping. No wall-clock figure is asserted here: the CPU times
//! at both levels go to docs/benchmarks.md through the bench harness.

mod common;

use common::{Node, client, free_port, wait_for_nodes};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// Burns 0.35 s of the process's own CPU time, whatever share of a CPU it
/// gets, then says so.
const BURNER: &str = "import time\nwhile time.process_time() < 0.35:\n    pass\nprint('done')\n";
const CLIENTS: usize = 16;

/// Runs the burner once, as a well-behaved client: a 429 (the node's
/// admission: it runs one program per CPU and refuses what cannot start
/// before its deadline) is retried after its `Retry-After`, a bounded
/// number of times; the verdict is that of the run that was admitted.
async fn execute(node: &Node) -> Value {
    for _attempt in 0..60 {
        let response = client()
            .post(node.url("/api/v1/execute"))
            .header("content-type", "application/json")
            .body(
                json!({
                    "language": "python",
                    "code": BURNER,
                    // The default CPU time; a wall clock far above it, so that
                    // other tests loading a shared machine cannot reach it.
                    "limits": {"cpu_time_ms": 3000, "timeout_ms": 30_000},
                })
                .to_string(),
            )
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        let text = response.text().await.expect("the gateway's answer");
        let body: Value = serde_json::from_str(&text).expect("a JSON answer");
        if status == 429 {
            let retry_after = retry_after.expect("a 429 says when to retry");
            tokio::time::sleep(std::time::Duration::from_secs(retry_after.max(1))).await;
            continue;
        }
        assert_eq!(status, 200, "{body}");
        return body;
    }
    panic!("the burner was refused 60 times");
}

/// The verdict every run must get, and its CPU time (ms).
fn verdict(body: &Value) -> (String, String, Option<u64>) {
    (
        body["status"].as_str().unwrap_or_default().to_string(),
        body["stdout"].as_str().unwrap_or_default().to_string(),
        body["cpu_time_ms"].as_u64(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_bound_program_gets_the_same_verdict_alone_and_among_16_clients() {
    let node = Node::start("standalone", free_port(), 1, free_port(), &[]);
    wait_for_nodes(&client(), &node, &[node.name()]).await;

    let mut alone = Vec::new();
    for _ in 0..3 {
        alone.push(execute(&node).await);
    }
    let loaded = join_all((0..CLIENTS).map(|_| execute(&node))).await;

    for (level, bodies) in [("alone", &alone), ("16 clients", &loaded)] {
        for body in bodies.iter() {
            let (status, stdout, cpu_time_ms) = verdict(body);
            assert_eq!(
                (status.as_str(), stdout.as_str()),
                ("ok", "done\n"),
                "{level}: {body}"
            );
            let cpu = cpu_time_ms.unwrap_or_else(|| panic!("{level}: no cpu_time_ms: {body}"));
            // The program's own 0.35 s, and its interpreter's start.
            assert!(cpu >= 350, "{level}: {cpu} ms of CPU time: {body}");
            assert!(body["timeout_kind"].is_null(), "{level}: {body}");
        }
    }
}
