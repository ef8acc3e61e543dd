//! The playground page in a real browser: headless Chromium (Debian's
//! `chromium`) over its DevTools protocol, against a standalone node on the
//! real engine with API keys on. It enters the key, picks python, types a
//! program into the editor, runs it and reads the output on the page; then
//! a C program that does not compile shows as a compile error.
//!
//! `PLAYGROUND_SCREENSHOT=docs/playground.png` also saves a picture of the
//! page after the python run (the README's).

mod common;

use std::time::Duration;

use common::devtools::{Browser, Page};
use common::{Node, free_port};

const KEY: &str = "playground-test-key-01";

/// Replaces the editor's text by typing `code`, and runs it.
async fn type_and_run(page: &mut Page, code: &str) {
    page.eval("playground.editor.focus(); playground.editor.execCommand('selectAll'); true")
        .await;
    page.type_text(code).await;
    assert_eq!(page.eval("playground.getCode()").await, code);
    page.eval("document.getElementById('status').textContent = ''; document.getElementById('run').click(); true")
        .await;
    page.wait_for(
        "!document.getElementById('result').hidden && !document.getElementById('run').disabled && document.getElementById('status').textContent !== ''",
        "the run's result",
    )
    .await;
}

async fn text_of(page: &mut Page, id: &str) -> String {
    page.eval(&format!("document.getElementById('{id}').textContent"))
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn pick(page: &mut Page, language: &str) {
    page.eval(&format!(
        "(() => {{ const s = document.getElementById('language'); s.value = '{language}'; s.dispatchEvent(new Event('change')); return s.value; }})()"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_runs_python_and_shows_a_compile_error_in_a_browser() {
    let node = Node::start(
        "standalone",
        free_port(),
        0,
        free_port(),
        &[("API_KEYS", KEY)],
    );
    let client = common::client();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !client
        .get(node.url("/ready"))
        .send()
        .await
        .is_ok_and(|response| response.status() == 200)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the node never became ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let browser = Browser::start();
    let mut page = browser.open(&node.url("/")).await;
    page.wait_for(
        "document.getElementById('notice').textContent.includes('API key')",
        "the page asking for an API key",
    )
    .await;
    // The real editor is there (from the system's libjs-codemirror).
    assert_eq!(page.eval("typeof CodeMirror").await, "function");
    assert_eq!(
        page.eval("!!document.querySelector('.CodeMirror-linenumber')")
            .await,
        true
    );

    page.eval(&format!(
        "(() => {{ const k = document.getElementById('api-key'); k.value = '{KEY}'; k.dispatchEvent(new Event('change')); return true; }})()"
    ))
    .await;
    page.wait_for(
        "!document.getElementById('language').disabled",
        "the languages listed",
    )
    .await;
    assert_eq!(
        page.eval("sessionStorage.getItem('braindrill.api_key')")
            .await,
        KEY
    );

    pick(&mut page, "python").await;
    assert_eq!(
        page.eval("playground.editor.getOption('mode')").await,
        "python"
    );
    page.eval("document.getElementById('stdin').value = 'browser'; true")
        .await;
    type_and_run(
        &mut page,
        "import sys; print('hello', sys.stdin.read(), 6 * 7)",
    )
    .await;
    assert_eq!(text_of(&mut page, "status").await, "ok");
    assert_eq!(text_of(&mut page, "stdout").await, "hello browser 42\n");
    assert_eq!(text_of(&mut page, "exit-code").await, "0");
    assert!(text_of(&mut page, "time").await.ends_with(" ms"));
    if let Ok(path) = std::env::var("PLAYGROUND_SCREENSHOT") {
        std::fs::write(&path, page.screenshot().await).expect("the screenshot is written");
    }

    pick(&mut page, "c").await;
    type_and_run(&mut page, "int main( { return 0; }").await;
    assert_eq!(text_of(&mut page, "status").await, "compile_error");
    let compiler = text_of(&mut page, "compile-output").await;
    assert!(compiler.contains("error"), "{compiler}");
    assert_eq!(
        page.eval("document.getElementById('compile-block').hidden")
            .await,
        false
    );
}
