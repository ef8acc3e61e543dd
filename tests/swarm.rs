//! The Docker Swarm deployment on this machine's engine, through the same
//! commands a person types: `./deploy.sh swarm up --workers 1` (a
//! single-node swarm when the engine is in none), ready and a run; scaling
//! to two workers; a worker task killed and replaced; a rolling update of
//! the workers while requests flow, none lost; the master's task killed,
//! its successor finding a judged submission in the stack's volume;
//! `./deploy.sh swarm down` with nothing of the stack left (its volume
//! included), and the engine out of the swarm again if it was out before.
//!
//! Needs the image `braindrill:latest` (or `BRAINDRILL_TEST_IMAGE`), which
//! `./deploy.sh test` builds before running the tests.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{client, free_port};

struct Stack {
    name: String,
    http_port: u16,
    image: String,
    /// Holds the stack's secrets and deploy.sh's state; removed with it.
    scratch: PathBuf,
}

impl Stack {
    fn deploy(&self, args: &[&str]) -> Output {
        Command::new("./deploy.sh")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .env("BRAINDRILL_STACK", &self.name)
            .env("BRAINDRILL_HTTP_PORT", self.http_port.to_string())
            .env("BRAINDRILL_IMAGE", &self.image)
            .env("BRAINDRILL_SECRETS", self.scratch.join("secrets"))
            .env("BRAINDRILL_STATE", self.scratch.join("state"))
            .env("WORKERS_PER_NODE", "4")
            .output()
            .expect("deploy.sh runs")
    }

    fn deploy_ok(&self, args: &[&str]) {
        let output = self.deploy(args);
        assert!(
            output.status.success(),
            "./deploy.sh {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    /// The worker nodes the master reports ready.
    async fn ready_nodes(&self, client: &reqwest::Client) -> BTreeSet<String> {
        let Ok(response) = client.get(self.url("/ready")).send().await else {
            return BTreeSet::new();
        };
        let Ok(body) = response.text().await else {
            return BTreeSet::new();
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) else {
            return BTreeSet::new();
        };
        json["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|node| node["ready"] == true)
            .filter_map(|node| node["node"].as_str().map(str::to_string))
            .collect()
    }

    async fn wait_for_nodes(&self, client: &reqwest::Client, count: usize) -> BTreeSet<String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let nodes = self.ready_nodes(client).await;
            if nodes.len() == count {
                return nodes;
            }
            if Instant::now() >= deadline {
                let tasks = docker(&["stack", "ps", "--no-trunc", &self.name]);
                panic!(
                    "the stack did not reach {count} ready workers (it has {nodes:?}):\n{}",
                    String::from_utf8_lossy(&tasks.stdout)
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn run_python(&self, client: &reqwest::Client, code: &str) -> (u16, String) {
        match client
            .post(self.url("/lang/python"))
            .body(code.to_string())
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(error) => (0, error.to_string()),
        }
    }

    /// The running containers of the worker service.
    fn worker_containers(&self) -> BTreeSet<String> {
        let filter = format!("label=com.docker.swarm.service.name={}_worker", self.name);
        let output = docker(&["ps", "-q", "--filter", &filter]);
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The running container of the master's task ("" when none runs).
    fn master_container(&self) -> String {
        let filter = format!("label=com.docker.swarm.service.name={}_master", self.name);
        let output = docker(&["ps", "-q", "--filter", &filter]);
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Whatever of the stack is left: containers, networks, secrets,
    /// volumes, services.
    fn leftovers(&self) -> Vec<String> {
        let label = format!("label=com.docker.stack.namespace={}", self.name);
        let mut left = Vec::new();
        for args in [
            vec!["ps", "-aq", "--filter", label.as_str()],
            vec!["network", "ls", "-q", "--filter", label.as_str()],
            vec!["secret", "ls", "-q", "--filter", label.as_str()],
            vec!["volume", "ls", "-q", "--filter", label.as_str()],
            vec!["service", "ls", "-q", "--filter", label.as_str()],
        ] {
            let output = docker(&args);
            left.extend(
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(|line| format!("{}: {line}", args[0])),
            );
        }
        left
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.deploy(&["swarm", "down"]);
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs")
}

fn swarm_state() -> String {
    let output = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_stack_serves_scales_heals_updates_and_goes() {
    let image =
        std::env::var("BRAINDRILL_TEST_IMAGE").unwrap_or_else(|_| "braindrill:latest".into());
    assert!(
        docker(&["image", "inspect", &image]).status.success(),
        "the image {image} is missing: run ./deploy.sh test (or ./deploy.sh) to build it"
    );
    let swarm_before = swarm_state();
    let scratch = std::env::temp_dir().join(format!("braindrill-swarm-{}", uuid::Uuid::new_v4()));
    let stack = Stack {
        name: format!("bdswarm{}", std::process::id()),
        http_port: free_port(),
        image,
        scratch,
    };
    let client = client();

    // Up with one worker: ready, and a run.
    stack.deploy_ok(&["swarm", "up", "--workers", "1", "--no-build"]);
    assert_eq!(swarm_state(), "active");
    stack.wait_for_nodes(&client, 1).await;
    assert_eq!(
        stack.run_python(&client, "print('hi')").await,
        (200, "hi\n".to_string())
    );

    // Scaled to two: both serve.
    let worker_service = format!("{}_worker", stack.name);
    let scale = format!("{worker_service}=2");
    assert!(
        docker(&["service", "scale", "--detach", &scale])
            .status
            .success()
    );
    let two = stack.wait_for_nodes(&client, 2).await;

    // A worker task killed: swarm replaces it, the cluster is whole again.
    let before = stack.worker_containers();
    let victim = before.iter().next().expect("a worker container").clone();
    assert!(docker(&["kill", &victim]).status.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = stack.worker_containers();
        if now.len() == 2 && !now.contains(&victim) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the killed worker was not replaced: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(stack.wait_for_nodes(&client, 2).await, two);
    assert_eq!(
        stack.run_python(&client, "print(6*7)").await,
        (200, "42\n".to_string())
    );

    // A rolling update of the workers (one at a time, each drains on
    // SIGTERM) while requests flow: every request is answered.
    let updated_from = stack.worker_containers();
    let update = tokio::task::spawn_blocking({
        let service = worker_service.clone();
        move || docker(&["service", "update", "--force", "--quiet", &service])
    });
    let mut answers = Vec::new();
    while !update.is_finished() {
        let (a, b) = tokio::join!(
            stack.run_python(&client, "print('during')"),
            stack.run_python(&client, "print('update')")
        );
        answers.push(a);
        answers.push(b);
    }
    let update = update.await.expect("update task");
    assert!(
        update.status.success(),
        "{}",
        String::from_utf8_lossy(&update.stderr)
    );
    assert!(!answers.is_empty());
    for (status, body) in &answers {
        assert_eq!(*status, 200, "a request was lost during the update: {body}");
    }
    assert!(
        stack.worker_containers().is_disjoint(&updated_from),
        "the update replaced no worker"
    );

    // The master's task killed: swarm starts another, which finds the
    // judge's database in the stack's volume, a finished submission in it.
    let submitted = client
        .post(stack.url("/api/v1/submissions?wait=true"))
        .json(&serde_json::json!({
            "language": "python",
            "code": "print(input())",
            "tests": [{"stdin": "kept\n", "expected_output": "kept"}],
        }))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(submitted.status().as_u16(), 200);
    let submitted: serde_json::Value = submitted.json().await.expect("a submission");
    assert_eq!(submitted["verdict"], "accepted", "{submitted}");
    let id = submitted["id"].as_str().expect("an id").to_string();
    let master = stack.master_container();
    assert!(docker(&["kill", &master]).status.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    let kept = loop {
        let replaced = stack.master_container();
        if !replaced.is_empty()
            && replaced != master
            && let Ok(response) = client
                .get(stack.url(&format!("/api/v1/submissions/{id}")))
                .send()
                .await
            && response.status().as_u16() == 200
        {
            break response
                .json::<serde_json::Value>()
                .await
                .expect("a submission");
        }
        assert!(
            Instant::now() < deadline,
            "the master's task was not replaced with its database"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(kept["verdict"], "accepted", "{kept}");

    // Down: nothing of the stack is left, and the swarm is left only if
    // swarm up made it.
    stack.deploy_ok(&["swarm", "down"]);
    assert_eq!(
        stack.leftovers(),
        Vec::<String>::new(),
        "the stack left objects behind"
    );
    assert_eq!(swarm_state(), swarm_before);
    assert!(!stack.scratch.join("state/swarm-initialised").exists());
}
