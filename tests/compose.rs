//! Smoke test of the compose deployment: the real docker-compose.yaml with
//! the real app image, a master and two workers that reach the Docker engine
//! through its socket, over a mutual-TLS cluster link with secrets made as
//! `./deploy.sh secrets` makes them; scaling to three workers; teardown
//! leaves nothing.
//!
//! Needs the image `braindrill:latest` (or `BRAINDRILL_TEST_IMAGE`), which
//! `./deploy.sh test` builds before running the tests.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::certs::Authority;
use common::{client, free_port};

struct Project {
    name: String,
    http_port: u16,
    image: String,
    /// The cluster's cookie and TLS files, as `./deploy.sh secrets` makes
    /// them; removed with the project.
    secrets: PathBuf,
}

impl Project {
    fn compose(&self, args: &[&str]) -> Output {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let plugin = Command::new("docker")
            .args(["compose", "version"])
            .output()
            .is_ok_and(|output| output.status.success());
        let mut command = if plugin {
            let mut command = Command::new("docker");
            command.arg("compose");
            command
        } else {
            Command::new("docker-compose")
        };
        command
            .current_dir(manifest)
            .args(["-p", &self.name, "-f", "docker-compose.yaml"])
            .args(args)
            .env("BRAINDRILL_HTTP_PORT", self.http_port.to_string())
            .env("BRAINDRILL_IMAGE", &self.image)
            .env("BRAINDRILL_SECRETS", &self.secrets)
            .env("WORKERS_PER_NODE", "4")
            .output()
            .expect("compose runs")
    }

    fn compose_ok(&self, args: &[&str]) {
        let output = self.compose(args);
        assert!(
            output.status.success(),
            "compose {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    async fn wait_for_ready_nodes(&self, client: &reqwest::Client, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(response) = client.get(self.url("/ready")).send().await
                && let Ok(body) = response.text().await
                && let Ok(json) = serde_json::from_str::<serde_json::Value>(&body)
            {
                let nodes: Vec<String> = json["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|node| node["ready"] == true)
                    .filter_map(|node| node["node"].as_str().map(str::to_string))
                    .collect();
                if nodes.len() == count {
                    return nodes;
                }
            }
            if Instant::now() >= deadline {
                let logs = self.compose(&["logs", "--tail", "40"]);
                panic!(
                    "the compose cluster did not reach {count} ready workers:\n{}",
                    String::from_utf8_lossy(&logs.stdout)
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn run_python(&self, client: &reqwest::Client, code: &str) -> (String, String) {
        let response = client
            .post(self.url("/lang/python"))
            .body(code.to_string())
            .send()
            .await
            .expect("the master answers");
        assert_eq!(response.status().as_u16(), 200);
        let node = response
            .headers()
            .get("x-braindrill-node")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (response.text().await.expect("body"), node)
    }

    fn leftovers(&self) -> Vec<String> {
        let label = format!("label=com.docker.compose.project={}", self.name);
        let mut left = Vec::new();
        for args in [
            vec!["ps", "-aq", "--filter", label.as_str()],
            vec!["network", "ls", "-q", "--filter", label.as_str()],
            vec!["volume", "ls", "-q", "--filter", label.as_str()],
        ] {
            let output = Command::new("docker")
                .args(&args)
                .output()
                .expect("docker runs");
            left.extend(
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(|line| format!("{}: {line}", args[0])),
            );
        }
        left
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-v", "--remove-orphans", "--timeout", "20"]);
        let _ = std::fs::remove_dir_all(&self.secrets);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_cluster_scales_and_tears_down_cleanly() {
    let image =
        std::env::var("BRAINDRILL_TEST_IMAGE").unwrap_or_else(|_| "braindrill:latest".into());
    let present = Command::new("docker")
        .args(["image", "inspect", &image])
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        present,
        "the image {image} is missing: run ./deploy.sh test (or ./deploy.sh) to build it"
    );

    let secrets = std::env::temp_dir().join(format!("braindrill-compose-{}", uuid::Uuid::new_v4()));
    Authority::new().write_cluster(&secrets, "a-cookie-of-the-compose-test");
    let project = Project {
        name: format!("braindrilltest{}", std::process::id()),
        http_port: free_port(),
        image,
        secrets,
    };
    let client = client();
    project.compose_ok(&["up", "-d", "--scale", "worker=2"]);
    let two = project.wait_for_ready_nodes(&client, 2).await;

    let mut used = BTreeSet::new();
    for _ in 0..6 {
        let (output, node) = project.run_python(&client, "print('hi')").await;
        assert_eq!(output, "hi\n");
        used.insert(node);
    }
    assert_eq!(
        used,
        two.iter().cloned().collect(),
        "work did not reach both workers"
    );

    project.compose_ok(&["up", "-d", "--scale", "worker=3", "--no-recreate"]);
    let three = project.wait_for_ready_nodes(&client, 3).await;
    let newcomer: Vec<&String> = three.iter().filter(|node| !two.contains(node)).collect();
    assert_eq!(newcomer.len(), 1, "{three:?}");
    let mut reached = false;
    for _ in 0..12 {
        let (output, node) = project.run_python(&client, "print(6*7)").await;
        assert_eq!(output, "42\n");
        if &node == newcomer[0] {
            reached = true;
            break;
        }
    }
    assert!(reached, "the third worker received no work");

    project.compose_ok(&["down", "-v", "--remove-orphans", "--timeout", "20"]);
    assert_eq!(
        project.leftovers(),
        Vec::<String>::new(),
        "compose left objects behind"
    );
}
