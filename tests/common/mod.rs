//! Black-box helpers for the end-to-end tests: start braindrill nodes as
//! real OS processes on loopback ports, wait for the cluster to form (by
//! polling its own readiness endpoint, never by sleeping), and stop them.

#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod certs;
pub mod devtools;
pub mod scrape;
pub mod test_pool;

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const COOKIE: &str = "braindrill-test-cookie";
/// The default time limit of test nodes, in ms (see [`Node::start`]).
pub const TEST_TIMEOUT_MS: u64 = 10_000;

/// Settings of a node started in the test's own process: loopback, a free
/// cluster port, an HTTP port chosen by the OS, development mode (no peer
/// crosses a network here: the link's TLS is tested with real processes in
/// tests/cluster.rs and tests/cluster_link.rs), the judge's store in memory
/// (never the default file under /var/lib, shared by every test), and
/// `extra` on top; later pairs override earlier ones, as in a process
/// environment.
pub fn in_process_settings(
    role: &str,
    extra: &[(&str, &str)],
) -> braindrill::configuration::Settings {
    let cluster_port = free_port().to_string();
    let vars: Vec<(String, String)> = [
        ("CLUSTER_ROLE", role),
        ("CLUSTER_IP", "127.0.0.1"),
        ("CLUSTER_PORT", &cluster_port),
        ("CLUSTER_COOKIE", COOKIE),
        ("CLUSTER_DEVELOPMENT", "true"),
        ("HTTP_HOST", "127.0.0.1"),
        ("HTTP_PORT", "0"),
        ("JUDGE_DATABASE", ":memory:"),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect();
    braindrill::configuration::Settings::load(None, vars).expect("the test settings load")
}

/// A port that was free a moment ago. Taken below the kernel's ephemeral
/// range (32768 and up by default), so that no outgoing connection of
/// another test can grab it between now and the node's bind; each test
/// binary starts at its own offset and counts up.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        10_000 + (std::process::id() % 1_000) as u16 * 20,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_000, "ran out of test ports");
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("0.0.0.0", port)).is_ok()
        {
            return port;
        }
    }
}

/// One braindrill process.
pub struct Node {
    child: Option<Child>,
    pub role: &'static str,
    pub cluster_port: u16,
    pub http_port: u16,
    pub log: PathBuf,
    env: Vec<(String, String)>,
    config: Option<PathBuf>,
    /// This node's TLS files, removed with it.
    secrets: PathBuf,
    /// Killed (SIGKILL) and not started again: its sandboxes are left, as a
    /// crash leaves them, and are swept when the node is dropped.
    crashed: bool,
}

impl Node {
    /// Starts `braindrill <role>` with the cluster on `cluster_port`, the
    /// seed on `seed_port` and HTTP on `http_port`; `extra` overrides.
    pub fn start(
        role: &'static str,
        cluster_port: u16,
        seed_port: u16,
        http_port: u16,
        extra: &[(&str, &str)],
    ) -> Node {
        let mut env: Vec<(String, String)> = vec![
            ("CLUSTER_IP".into(), "127.0.0.1".into()),
            ("CLUSTER_PORT".into(), cluster_port.to_string()),
            ("SEED_IP".into(), "127.0.0.1".into()),
            ("SEED_PORT".into(), seed_port.to_string()),
            ("HTTP_HOST".into(), "127.0.0.1".into()),
            ("HTTP_PORT".into(), http_port.to_string()),
            ("CLUSTER_COOKIE".into(), COOKIE.into()),
            ("WORKERS_PER_NODE".into(), "4".into()),
            // The tests start dozens of nodes, several at once, on two
            // cores: one warm sandbox per key at rest and three in all
            // (the pool's logic is the same at any size), so that filling
            // pools does not starve the programs under test of CPU. Tests
            // of the pool ask for more.
            ("BRAINDRILL__SANDBOX__POOL__MIN_PER_KEY".into(), "1".into()),
            ("BRAINDRILL__SANDBOX__POOL__MAX_TOTAL".into(), "3".into()),
            // The 3 s wall-clock limit is a fact of production, not of a
            // loaded CI machine: there a hello world, starved of CPU by the
            // other tests' containers, once ran past it (a batch in
            // tests/api.rs). Ordinary programs get room; tests of the time
            // limit set a shorter one per request where the API allows.
            (
                "BRAINDRILL__SANDBOX__LIMITS__TIMEOUT_MS".into(),
                TEST_TIMEOUT_MS.to_string(),
            ),
            ("RUST_LOG".into(), "info".into()),
        ];
        // Every test node speaks mutual TLS with a certificate of this test
        // process's authority naming its role; a test overrides these to
        // present another.
        let secrets =
            std::env::temp_dir().join(format!("braindrill-test-secrets-{}", uuid::Uuid::new_v4()));
        env.extend(certs::Authority::shared().write_node(&secrets, role));
        // The judge's database: the node's own, kept across a restart of
        // the node, removed with it.
        env.push((
            "JUDGE_DATABASE".into(),
            secrets.join("judge.sqlite").display().to_string(),
        ));
        for (key, value) in extra {
            env.retain(|(held, _)| held != key);
            env.push((key.to_string(), value.to_string()));
        }
        let log = std::env::temp_dir().join(format!(
            "braindrill-test-{role}-{cluster_port}-{}.log",
            uuid::Uuid::new_v4()
        ));
        let mut node = Node {
            child: None,
            role,
            cluster_port,
            http_port,
            log,
            env,
            config: None,
            secrets,
            crashed: false,
        };
        node.spawn();
        node
    }

    /// Like [`Node::start`], with a settings file given by `--config`.
    pub fn start_with_config(
        role: &'static str,
        cluster_port: u16,
        seed_port: u16,
        http_port: u16,
        config: &std::path::Path,
        extra: &[(&str, &str)],
    ) -> Node {
        let mut node = Node::start(role, cluster_port, seed_port, http_port, extra);
        node.kill();
        node.config = Some(config.to_path_buf());
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_braindrill"));
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        let child = command
            .arg(self.role)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("braindrill starts");
        self.child = Some(child);
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("running")
    }

    /// The node's name as the cluster knows it (role-host-port).
    pub fn name(&self) -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .expect("host name");
        format!("{}-{}-{}", self.role, host, self.cluster_port)
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            self.crashed = true;
        }
    }

    /// SIGTERM, and wait for the process to end by itself.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "TERM");
        child.wait().expect("exits")
    }

    /// Waits for the process to end by itself (after a signal).
    pub fn terminate_wait(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        child.wait().expect("exits")
    }

    pub fn signal(&self, name: &str) {
        signal(self.pid(), name);
    }

    /// Starts the same node again (same ports, same name).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
        // The new run sweeps its crashed run's sandboxes itself.
        self.crashed = false;
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log holds `needle`.
    pub async fn wait_for_log(&self, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.log_text().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // A graceful stop: a worker finishes or removes its sandboxes.
        if let Some(mut child) = self.child.take() {
            signal(child.id(), "CONT");
            signal(child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(25);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if self.crashed {
            sweep_crashed_node(&self.name());
        }
        if std::thread::panicking() {
            eprintln!(
                "--- log of {} {} ---\n{}",
                self.role,
                self.cluster_port,
                self.log_text()
            );
        }
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_dir_all(&self.secrets);
    }
}

/// Removes the sandboxes a killed node left on the engine, as its next run
/// or a surviving node's orphan sweep would in a cluster that goes on; a
/// test's cluster ends instead. Only a crashed node's: a graceful stop that
/// leaves anything is a leak the suite's final check must see.
fn sweep_crashed_node(name: &str) {
    let label = format!("label=braindrill.node={name}");
    for (list, remove) in [
        (vec!["ps", "-aq"], vec!["rm", "-fv"]),
        (vec!["volume", "ls", "-q"], vec!["volume", "rm", "-f"]),
    ] {
        let Ok(listed) = Command::new("docker")
            .args(&list)
            .args(["--filter", &label])
            .output()
        else {
            return;
        };
        let ids: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let _ = Command::new("docker").args(&remove).args(&ids).output();
        }
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} {pid} failed");
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// The master's view of the cluster: the names of the ready worker nodes.
pub async fn ready_nodes(client: &reqwest::Client, master: &Node) -> Vec<String> {
    let Ok(response) = client.get(master.url("/ready")).send().await else {
        return Vec::new();
    };
    let Ok(body) = response.text().await else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&body) else {
        return Vec::new();
    };
    let mut names: Vec<String> = json["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .filter(|node| node["ready"] == true)
                .filter_map(|node| node["node"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits until exactly `expected` worker nodes are ready.
pub async fn wait_for_nodes(client: &reqwest::Client, master: &Node, expected: &[String]) {
    let mut expected = expected.to_vec();
    expected.sort();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let nodes = ready_nodes(client, master).await;
        if nodes == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "cluster did not reach nodes {expected:?}; it has {nodes:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The answer to `POST /lang/{language}`.
pub struct PlainAnswer {
    pub status: u16,
    pub body: String,
    pub node: Option<String>,
    pub outcome: Option<String>,
    pub retried: bool,
}

pub async fn post_code(
    client: &reqwest::Client,
    node: &Node,
    language: &str,
    code: impl Into<reqwest::Body>,
) -> PlainAnswer {
    let response = client
        .post(node.url(&format!("/lang/{language}")))
        .header("content-type", "text/plain")
        .body(code)
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
    let node = header("x-braindrill-node");
    let outcome = header("x-braindrill-status");
    let retried = header("x-braindrill-retried").is_some();
    let status = response.status().as_u16();
    let body = response.text().await.expect("a body");
    PlainAnswer {
        status,
        body,
        node,
        outcome,
        retried,
    }
}

/// Hello world in each of the original's six languages.
pub const HELLO: &[(&str, &str)] = &[
    ("python", "print(\"hi\")"),
    ("ruby", "puts \"hi\""),
    ("perl", "print \"hi\\n\";"),
    ("javascript", "console.log(\"hi\")"),
    ("php", "<?php echo \"hi\\n\";"),
    (
        "java",
        "public class Main { public static void main(String[] args) { System.out.println(\"hi\"); } }",
    ),
];

impl Node {
    /// How the process ended, if it has; `None` while it still runs.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }
}

/// No container and no volume of the execution remains, whether found by
/// the execution's label or by its name.
pub async fn assert_nothing_left(docker: &bollard::Docker, execution_id: &str) {
    use braindrill::sandbox::engine;
    let by_label = engine::with_labels(vec![format!("{}={execution_id}", engine::EXECUTION_LABEL)]);
    let by_name =
        std::collections::HashMap::from([("name".to_string(), vec![execution_id.to_string()])]);
    for filters in [by_label, by_name] {
        let left = engine::list_objects(docker, filters)
            .await
            .expect("the engine lists containers and volumes");
        let containers: Vec<_> = left.containers.iter().map(|c| c.names.clone()).collect();
        let volumes: Vec<_> = left.volumes.iter().map(|v| v.name.clone()).collect();
        assert!(
            left.is_empty(),
            "of execution {execution_id}, left behind: containers {containers:?}, volumes {volumes:?}"
        );
    }
}

/// The settings that run every language of a test node in the runtime
/// image `BRAINDRILL_TEST_RUNTIME_IMAGE` names, if it is set: an image built
/// from a changed runner before `images/build.sh` rebuilt the configured
/// one.
pub fn runtime_image_overrides() -> Vec<(String, String)> {
    match std::env::var("BRAINDRILL_TEST_RUNTIME_IMAGE") {
        Ok(image) if !image.is_empty() => configured_languages()
            .into_iter()
            .map(|language| {
                (
                    format!(
                        "BRAINDRILL__LANGUAGES__{}__IMAGE",
                        language.name.to_uppercase()
                    ),
                    image.clone(),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Every configured language, with its limits, from the default settings
/// (for the suites that drive a sandbox in-process).
pub fn configured_languages() -> Vec<braindrill::sandbox::Language> {
    braindrill::configuration::Settings::load(None, std::iter::empty())
        .expect("the default settings load")
        .languages()
        .expect("the default languages resolve")
}

/// One configured language, with its limits, from the default settings.
pub fn language(name: &str) -> braindrill::sandbox::Language {
    configured_languages()
        .into_iter()
        .find(|language| language.name == name)
        .unwrap_or_else(|| panic!("the language {name} is not configured"))
}

/// A submission of `code` as the language's entry file, with the language's
/// limits and a fresh id.
pub fn submit(
    language: &braindrill::sandbox::Language,
    code: &str,
) -> braindrill::sandbox::Submission {
    braindrill::sandbox::Submission {
        execution_id: uuid::Uuid::new_v4().to_string(),
        language: language.clone(),
        files: vec![braindrill::sandbox::SourceFile {
            name: language.file.clone(),
            content: code.to_string(),
        }],
        stdin: String::new(),
        args: Vec::new(),
        limits: language.limits.clone(),
    }
}
