//! End-to-end tests of the JSON API v1 against a standalone node (a real
//! process on loopback, running code in the real Docker engine): every
//! status of the taxonomy, every validation error, batches, the language
//! listing, and the OpenAPI document.

mod common;

use std::io::Write;

use common::{Node, TEST_TIMEOUT_MS, client, free_port, wait_for_nodes};
use serde_json::{Value, json};

/// A language whose image does not exist: the engine fails on it, which is
/// how an internal error is produced on purpose.
const GHOST_LANGUAGE: &str = r#"
[languages.ghost]
image = "braindrill/does-not-exist:never"
file = "main.ghost"
run = ["ghost", "main.ghost"]
"#;

struct Api {
    node: Node,
    _config: tempfile_path::TempFile,
}

mod tempfile_path {
    /// A file removed on drop.
    pub struct TempFile(pub std::path::PathBuf);
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// A standalone node of its own for each test (stopped when dropped).
async fn api() -> Api {
    let path = std::env::temp_dir().join(format!("braindrill-api-{}.toml", uuid::Uuid::new_v4()));
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(GHOST_LANGUAGE.as_bytes()))
        .expect("config file");
    let node = Node::start_with_config("standalone", free_port(), 1, free_port(), &path, &[]);
    wait_for_nodes(&client(), &node, &[node.name()]).await;
    Api {
        node,
        _config: tempfile_path::TempFile(path),
    }
}

async fn post(api: &Api, path: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    // A client per request: each test has its own runtime, and a pooled
    // connection must not outlive the runtime that opened it.
    let response = client()
        .post(api.node.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, json)
}

async fn execute(api: &Api, request: Value) -> (u16, Value) {
    post(api, "/api/v1/execute", request.to_string()).await
}

/// Expects a 200 result with `status`.
async fn expect_status(api: &Api, request: Value, status: &str) -> Value {
    let (http, body) = execute(api, request.clone()).await;
    assert_eq!(http, 200, "{request} -> {body}");
    assert_eq!(body["status"], status, "{request} -> {body}");
    body
}

/// Expects an error answer naming `fragment`.
async fn expect_error(api: &Api, request: Value, http: u16, code: &str, fragment: &str) {
    let (got, body) = execute(api, request.clone()).await;
    assert_eq!(got, http, "{request} -> {body}");
    assert_eq!(body["error"]["code"], code, "{request} -> {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(fragment),
        "{request}: {message:?} lacks {fragment:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_of_the_taxonomy() {
    let api = api().await;
    let ok = expect_status(
        &api,
        json!({"language": "python", "code": "import sys\nprint(sys.argv[1:]); print(sys.stdin.read(), end='')", "stdin": "in\n", "args": ["a", "b c"]}),
        "ok",
    )
    .await;
    assert_eq!(ok["stdout"], "['a', 'b c']\nin\n");
    assert_eq!(ok["exit_code"], 0);
    assert!(ok["execution_id"].is_string() && ok["node"].is_string());
    assert!(ok["wall_time_ms"].is_u64());

    let failed = expect_status(
        &api,
        json!({"language": "python", "code": "import sys\nsys.stderr.write('bad')\nsys.exit(3)"}),
        "runtime_error",
    )
    .await;
    assert_eq!(
        (failed["exit_code"].clone(), failed["stderr"].clone()),
        (json!(3), json!("bad"))
    );

    let signalled = expect_status(
        &api,
        json!({"language": "python", "code": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)"}),
        "runtime_error",
    )
    .await;
    assert_eq!(signalled["signal"], 11, "{signalled}");

    let timeout = expect_status(
        &api,
        json!({"language": "python", "code": "while True: pass", "limits": {"timeout_ms": 500}}),
        "timeout",
    )
    .await;
    assert_eq!(timeout["signal"], 9);

    expect_status(
        &api,
        json!({"language": "python", "code": "x = bytearray(200 * 1024 * 1024)", "limits": {"memory_mb": 32}}),
        "memory_limit",
    )
    .await;

    let flood = expect_status(
        &api,
        json!({"language": "python", "code": "print('y' * 5000)", "limits": {"output_bytes": 100}}),
        "output_limit",
    )
    .await;
    assert_eq!(flood["stdout"].as_str().map(str::len), Some(100));
    assert_eq!(flood["stdout_truncated"], true);

    let compile = expect_status(
        &api,
        json!({"language": "c", "code": "int main( { return 0; }"}),
        "compile_error",
    )
    .await;
    assert_eq!(compile["compile"]["status"], "runtime_error");
    assert!(
        compile["compile"]["stderr"]
            .as_str()
            .unwrap_or_default()
            .contains("error"),
        "{compile}"
    );
    assert!(compile["wall_time_ms"].is_null(), "nothing ran: {compile}");

    let compiled = expect_status(
        &api,
        json!({"language": "c", "code": "#include <stdio.h>\nint main(void) { puts(\"compiled\"); return 0; }"}),
        "ok",
    )
    .await;
    assert_eq!(compiled["stdout"], "compiled\n");
    assert_eq!(compiled["compile"]["status"], "ok");

    expect_error(
        &api,
        json!({"language": "ghost", "code": "boo"}),
        500,
        "internal_error",
        "braindrill/does-not-exist:never",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_files_are_laid_out_by_name() {
    let api = api().await;
    let result = expect_status(
        &api,
        json!({"language": "python", "files": [
            {"name": "whatever.py", "content": "from lib.helper import answer\nprint(answer())"},
            {"name": "lib/__init__.py", "content": ""},
            {"name": "lib/helper.py", "content": "def answer():\n    return 42"}
        ]}),
        "ok",
    )
    .await;
    assert_eq!(result["stdout"], "42\n", "{result}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_is_validated_with_a_message_naming_it() {
    let api = api().await;
    let (http, body) = post(&api, "/api/v1/execute", "{not json").await;
    assert_eq!(
        (http, body["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "colour": "red"}),
        400,
        "invalid_json",
        "colour",
    )
    .await;
    expect_error(
        &api,
        json!({"code": "print(1)"}),
        400,
        "invalid_json",
        "language",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "args": "a b"}),
        400,
        "invalid_json",
        "args",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "limits": {"timeout_ms": -1}}),
        400,
        "invalid_json",
        "limits.timeout_ms",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "cobol", "code": "1"}),
        400,
        "unsupported_language",
        "cobol",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "files": [{"name": "a.py", "content": "1"}]}),
        400,
        "invalid_request",
        "not both",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python"}),
        400,
        "invalid_request",
        "code or files is required",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "code": ""}),
        400,
        "invalid_request",
        "code must not be empty",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "files": []}),
        400,
        "invalid_request",
        "files must hold",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "files": [{"name": "main.py", "content": "1"}, {"name": "../etc/x", "content": "1"}]}),
        400,
        "invalid_request",
        "files[1].name",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "files": [{"name": "a.py", "content": "1"}, {"name": "a.py", "content": "2"}]}),
        400,
        "invalid_request",
        "given twice",
    )
    .await;
    let many: Vec<String> = (0..65).map(|i| i.to_string()).collect();
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "args": many}),
        400,
        "invalid_request",
        "args",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "args": ["a\u{0}b"]}),
        400,
        "invalid_request",
        "args[0]",
    )
    .await;
    for (field, value, maximum) in [
        ("cpu_time_ms", 10001, "10000"),
        ("timeout_ms", 30001, "30000"),
        ("compile_cpu_time_ms", 20001, "20000"),
        ("compile_timeout_ms", 60001, "60000"),
        ("memory_mb", 1025, "1024"),
        ("output_bytes", 1048577, "1048576"),
    ] {
        let mut limits = serde_json::Map::new();
        limits.insert(field.into(), json!(value));
        let request = json!({"language": "python", "code": "1", "limits": limits});
        let (http, body) = execute(&api, request).await;
        assert_eq!(http, 400, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("limits.{field}")) && message.contains(maximum),
            "{message}"
        );
    }
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "limits": {"timeout_ms": 0}}),
        400,
        "invalid_request",
        "at least",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "code": "#".repeat(64 * 1024 + 1)}),
        413,
        "payload_too_large",
        "65536",
    )
    .await;
    expect_error(
        &api,
        json!({"language": "python", "code": "1", "stdin": "x".repeat(64 * 1024 + 1)}),
        413,
        "payload_too_large",
        "stdin",
    )
    .await;
    let (http, body) = post(&api, "/api/v1/execute", " ".repeat(1024 * 1024 + 1)).await;
    assert_eq!(
        (http, body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_runs_in_parallel_and_answers_in_order() {
    let api = api().await;
    let executions: Vec<Value> = (0..6)
        .map(|i| json!({"language": if i % 2 == 0 { "python" } else { "ruby" }, "code": if i % 2 == 0 { format!("print({i})") } else { format!("puts {i}") }}))
        .collect();
    let (http, body) = post(
        &api,
        "/api/v1/batch",
        json!({"executions": executions}).to_string(),
    )
    .await;
    assert_eq!(http, 200, "{body}");
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), 6);
    for (i, item) in results.iter().enumerate() {
        assert_eq!(item["http_status"], 200, "{item}");
        assert_eq!(item["result"]["stdout"], format!("{i}\n"), "{item}");
    }

    let (http, body) = post(&api, "/api/v1/batch", json!({"executions": []}).to_string()).await;
    assert_eq!(http, 400, "{body}");
    let too_many: Vec<Value> = (0..21)
        .map(|_| json!({"language": "python", "code": "1"}))
        .collect();
    let (http, body) = post(
        &api,
        "/api/v1/batch",
        json!({"executions": too_many}).to_string(),
    )
    .await;
    assert_eq!(http, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("20")
    );
    let (http, body) = post(
        &api,
        "/api/v1/batch",
        json!({"executions": [{"language": "python", "code": "1"}, {"language": "python", "code": "1", "limits": {"memory_mb": 4096}}]}).to_string(),
    )
    .await;
    assert_eq!(http, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("executions[1].limits.memory_mb"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_are_listed_with_versions_from_their_images() {
    let api = api().await;
    let response = client()
        .get(api.node.url("/api/v1/languages"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    let list: Vec<Value> =
        serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
    assert!(list.len() >= 12, "only {} languages", list.len());
    let python = list
        .iter()
        .find(|language| language["name"] == "python")
        .expect("python listed");
    assert!(
        python["version"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Python 3"),
        "{python}"
    );
    assert_eq!(python["file"], "main.py");
    assert_eq!(python["compiled"], false);
    assert_eq!(python["limits"]["timeout_ms"], TEST_TIMEOUT_MS);
    let c = list
        .iter()
        .find(|language| language["name"] == "c")
        .expect("c listed");
    assert_eq!(c["compiled"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_validates() {
    let api = api().await;
    let response = client()
        .get(api.node.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    let document = response.text().await.expect("body");
    let parsed: Value = serde_json::from_str(&document).expect("JSON");
    for path in ["/api/v1/execute", "/api/v1/batch", "/api/v1/languages"] {
        assert!(parsed["paths"][path].is_object(), "{path} missing");
    }
    let file =
        std::env::temp_dir().join(format!("braindrill-openapi-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, &document).expect("write");
    let output = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "the OpenAPI document does not validate (needs `pip install openapi-spec-validator`, which ./deploy.sh test does):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_when_configured_are_required() {
    let key = "a-long-enough-test-key-42";
    let node = Node::start(
        "standalone",
        free_port(),
        1,
        free_port(),
        &[("API_KEYS", &format!("other-key-0123456789,{key}"))],
    );
    let client = client();
    let health = loop {
        if let Ok(response) = client.get(node.url("/health")).send().await {
            break response;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(health.status().as_u16(), 200, "/health needs no key");
    let body = json!({"language": "python", "code": "print(1)"}).to_string();
    let send = |auth: Option<(&'static str, String)>| {
        let mut request = client.post(node.url("/api/v1/execute")).body(body.clone());
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        request.send()
    };
    let missing = send(None).await.expect("answers");
    assert_eq!(missing.status().as_u16(), 401);
    assert!(missing.headers().contains_key("www-authenticate"));
    let error: Value = serde_json::from_str(&missing.text().await.expect("body")).expect("JSON");
    assert_eq!(error["error"]["code"], "unauthorized");
    let wrong = send(Some(("authorization", "Bearer not-the-key".into())))
        .await
        .expect("answers");
    assert_eq!(wrong.status().as_u16(), 401);
    let plain = client
        .post(node.url("/lang/python"))
        .body("print(1)")
        .send()
        .await
        .expect("answers");
    assert_eq!(
        plain.status().as_u16(),
        401,
        "the plain endpoint is guarded too"
    );

    // With keys on, /ready tells a caller without a key its status only.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while client
        .get(node.url("/ready"))
        .send()
        .await
        .map(|response| response.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the node never became ready"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let bearer = send(Some(("authorization", format!("Bearer {key}"))))
        .await
        .expect("answers");
    assert_eq!(bearer.status().as_u16(), 200);
    let header = send(Some(("x-api-key", key.to_string())))
        .await
        .expect("answers");
    assert_eq!(header.status().as_u16(), 200);
}
