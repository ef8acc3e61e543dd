//! The cluster link as an attacker meets it, with real processes on
//! loopback: a node without a certificate of the cluster's authority never
//! joins, whatever its cookie; the node server listens on the cluster
//! address only; outside development mode a node refuses the built-in cookie
//! and a link without TLS; and what crosses the link holds no code in clear
//! text (read from a TCP proxy between a worker and its master, against a
//! development-mode link where it does).

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::certs::{Authority, WORKER_NAME};
use common::{Node, client, free_port, post_code, ready_nodes, wait_for_nodes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A folder of test files, removed with it.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("braindrill-link-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir(path)
    }

    fn write(&self, name: &str, content: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write");
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits for `needle` in a node's log, failing with the log.
async fn expect_log(node: &Node, needle: &str) {
    assert!(
        node.wait_for_log(needle, Duration::from_secs(30)).await,
        "the {} never logged {needle:?}:\n{}",
        node.role,
        node.log_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_cookie_without_a_certificate_of_the_cluster_never_joins() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    // It trusts the cluster's authority (its certificate is public) and has
    // the cookie, but its own certificate is signed by another authority.
    let files = TempDir::new();
    let (certificate, key) = Authority::new().node(&[WORKER_NAME]);
    let certificate = files.write("intruder.pem", &certificate);
    let key = files.write("intruder.key", &key);
    let intruder = Node::start(
        "worker",
        free_port(),
        seed,
        free_port(),
        &[
            ("CLUSTER_TLS_CERT", &certificate),
            ("CLUSTER_TLS_KEY", &key),
            ("BRAINDRILL__CLUSTER__REDIAL_MAX_MS", "200"),
        ],
    );
    expect_log(&master, "not signed by the cluster's CA").await;
    expect_log(&intruder, "refused this node's certificate").await;
    assert!(
        ready_nodes(&client, &master).await.is_empty(),
        "the intruder joined"
    );
    // A worker of the cluster, started after it, joins and serves.
    let worker = Node::start("worker", free_port(), seed, free_port(), &[]);
    wait_for_nodes(&client, &master, &[worker.name()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_tls_never_joins_with_or_without_the_cookie() {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    let plain = [
        ("CLUSTER_DEVELOPMENT", "true"),
        ("CLUSTER_TLS_CA", ""),
        ("CLUSTER_TLS_CERT", ""),
        ("CLUSTER_TLS_KEY", ""),
        ("BRAINDRILL__CLUSTER__REDIAL_MAX_MS", "200"),
    ];
    let with_cookie = Node::start("worker", free_port(), seed, free_port(), &plain);
    let mut neither = plain.to_vec();
    neither.push(("CLUSTER_COOKIE", "not-the-cookie-of-this-cluster"));
    let without_cookie = Node::start("worker", free_port(), seed, free_port(), &neither);
    for intruder in [&with_cookie, &without_cookie] {
        expect_log(
            intruder,
            "keeps closing the connection before authentication",
        )
        .await;
        expect_log(intruder, "clear text").await;
    }
    assert!(
        ready_nodes(&client, &master).await.is_empty(),
        "a node without TLS joined"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_port_answers_only_on_the_cluster_address() {
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, &[]);
    expect_log(&master, "cluster node listening").await;
    let timeout = Duration::from_secs(2);
    let bound = SocketAddr::from((Ipv4Addr::LOCALHOST, seed));
    assert!(
        TcpStream::connect_timeout(&bound, timeout).is_ok(),
        "the cluster port does not answer on its own address"
    );
    // Another address of this machine (every 127/8 address is the loopback
    // interface's): a node bound to every interface would answer there.
    let other = SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), seed));
    let error = TcpStream::connect_timeout(&other, timeout)
        .expect_err("the cluster port answered on an address it was not bound to");
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{error}"
    );
}

/// Runs `braindrill master` with `env` (and nothing else) and returns its
/// exit status and standard error; it must stop by itself.
fn run_refused(env: &[(String, String)]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_braindrill"))
        .arg("master")
        .env_clear()
        .env("CLUSTER_PORT", free_port().to_string())
        .env("HTTP_PORT", free_port().to_string())
        .env("HTTP_HOST", "127.0.0.1")
        .envs(env.iter().cloned())
        .output()
        .expect("runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_development_mode_a_node_needs_its_own_cookie_and_tls() {
    let files = TempDir::new();
    let tls = Authority::shared().write_node(&files.0, "master");
    // The built-in cookie, even with TLS.
    let (started, stderr) = run_refused(&tls);
    assert!(!started);
    assert!(
        stderr.contains("built-in development cookie") && stderr.contains("CLUSTER_COOKIE"),
        "{stderr}"
    );
    // A cookie of its own, but no TLS material.
    let cookie = (
        "CLUSTER_COOKIE".to_string(),
        "a-cookie-of-this-cluster-only".to_string(),
    );
    let (started, stderr) = run_refused(std::slice::from_ref(&cookie));
    assert!(!started);
    assert!(
        stderr.contains("needs TLS") && stderr.contains("CLUSTER_TLS_CERT"),
        "{stderr}"
    );
    // Half of the TLS material.
    let (started, stderr) = run_refused(&[cookie.clone(), tls[0].clone()]);
    assert!(!started);
    assert!(stderr.contains("CLUSTER_TLS_CERT"), "{stderr}");
}

/// Bytes that crossed a TCP proxy, both ways.
type Capture = Arc<Mutex<Vec<u8>>>;

/// A TCP proxy on loopback in front of `upstream`: returns its port and
/// what crosses it.
async fn capturing_proxy(upstream: u16) -> (u16, Capture) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let capture: Capture = Arc::default();
    let recorded = capture.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let Ok(outbound) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
                continue;
            };
            let (from_client, to_client) = inbound.into_split();
            let (from_server, to_server) = outbound.into_split();
            tokio::spawn(pipe(from_client, to_server, recorded.clone()));
            tokio::spawn(pipe(from_server, to_client, recorded.clone()));
        }
    });
    (port, capture)
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    capture: Capture,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(read) = from.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        capture
            .lock()
            .expect("capture")
            .extend_from_slice(&buffer[..read]);
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Runs one program through a master whose worker reaches it through a
/// capturing proxy; returns the capture.
async fn capture_an_execution(extra: &[(&str, &str)], marker: &str) -> Vec<u8> {
    let client = client();
    let (seed, http) = (free_port(), free_port());
    let master = Node::start("master", seed, seed, http, extra);
    let (proxy, capture) = capturing_proxy(seed).await;
    let worker = Node::start("worker", free_port(), proxy, free_port(), extra);
    wait_for_nodes(&client, &master, &[worker.name()]).await;
    let answer = post_code(&client, &master, "python", format!("print('{marker}')")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, format!("{marker}\n"));
    let captured = capture.lock().expect("capture").clone();
    assert!(
        captured.len() > 1000,
        "the proxy saw almost nothing: {} bytes",
        captured.len()
    );
    captured
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_link_carries_no_code_or_output_in_clear_text() {
    let marker = "braindrill-capture-marker-5b1e";
    let captured = capture_an_execution(&[], marker).await;
    assert!(
        !contains(&captured, marker.as_bytes()),
        "the code or its output crossed the TLS link in clear text"
    );
    assert!(!contains(&captured, common::COOKIE.as_bytes()));
    // The same through a development-mode link: the capture does see it,
    // so the check above can fail.
    let plain = [
        ("CLUSTER_DEVELOPMENT", "true"),
        ("CLUSTER_TLS_CA", ""),
        ("CLUSTER_TLS_CERT", ""),
        ("CLUSTER_TLS_KEY", ""),
    ];
    let captured = capture_an_execution(&plain, marker).await;
    assert!(contains(&captured, marker.as_bytes()));
}
