//! Headless Chromium (Debian's `chromium`) driven over its DevTools
//! protocol, for the browser test of the playground: start it, open a page,
//! evaluate script in it, type as a keyboard would, take a screenshot. The
//! protocol is JSON over one WebSocket per page; the few calls a test needs
//! are [`Page::call`] away, so no client crate (and its large generated
//! protocol) is compiled for them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A headless Chromium process with its own profile, ended on drop.
pub struct Browser {
    child: Child,
    /// `127.0.0.1:port` of its DevTools endpoint.
    endpoint: String,
    profile: PathBuf,
}

impl Browser {
    pub fn start() -> Browser {
        let profile =
            std::env::temp_dir().join(format!("braindrill-chromium-{}", uuid::Uuid::new_v4()));
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--disable-background-networking",
                "--window-size=1280,820",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts (apt-get install chromium)");
        // It says where its DevTools endpoint listens on stderr.
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = BufReader::new(stderr).lines();
        let endpoint = loop {
            let line = lines
                .next()
                .expect("chromium says where DevTools listen")
                .expect("chromium's stderr is readable");
            if let Some(url) = line.strip_prefix("DevTools listening on ws://") {
                break url.split('/').next().expect("host:port").to_string();
            }
        };
        // Keep draining stderr so that chromium never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Browser {
            child,
            endpoint,
            profile,
        }
    }

    /// Opens a new tab on `url`.
    pub async fn open(&self, url: &str) -> Page {
        let target = reqwest::Client::new()
            .put(format!("http://{}/json/new?{url}", self.endpoint))
            .send()
            .await
            .expect("DevTools answer")
            .text()
            .await
            .expect("a target");
        let target: Value = serde_json::from_str(&target).expect("a target in JSON");
        let socket_url = target["webSocketDebuggerUrl"]
            .as_str()
            .expect("the tab's socket");
        let (socket, _) = tokio_tungstenite::connect_async(socket_url)
            .await
            .expect("the tab's socket opens");
        Page { socket, next_id: 0 }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab.
pub struct Page {
    socket: Socket,
    next_id: u64,
}

impl Page {
    /// Calls a DevTools method and returns its result (events in between
    /// are skipped).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let request = json!({"id": id, "method": method, "params": params});
        self.socket
            .send(Message::text(request.to_string()))
            .await
            .expect("the tab takes a call");
        while let Some(message) = self.socket.next().await {
            let Ok(Message::Text(text)) = message else {
                continue;
            };
            let answer: Value = serde_json::from_str(&text).expect("DevTools speak JSON");
            if answer["id"] == id {
                assert!(answer["error"].is_null(), "{method} failed: {answer}");
                return answer["result"].clone();
            }
        }
        panic!("the tab closed during {method}");
    }

    /// The value of a script expression (promises awaited).
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            )
            .await;
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression} threw: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true (the page changes on its own time:
    /// its loading, a fetch, a run); one that throws (the page is not there
    /// yet) is not.
    pub async fn wait_for(&mut self, expression: &str, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let guarded = format!(
            "(() => {{ try {{ return ({expression}) === true; }} catch (_) {{ return false; }} }})()"
        );
        while self.eval(&guarded).await != Value::Bool(true) {
            assert!(std::time::Instant::now() < deadline, "never saw {what}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into the focused element as a keyboard's input would.
    pub async fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text})).await;
    }

    /// A PNG of the visible page.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        use base64::Engine;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("image data"))
            .expect("base64")
    }
}
