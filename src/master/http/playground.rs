//! The playground: a page at `/` to try the engine in a browser (pick a
//! language, edit code, give stdin and arguments, run, see the result),
//! through the JSON API like any client. The page, its script and its style
//! are the project's own (compiled in); the editor is CodeMirror as the
//! system's package installs it (Debian's `libjs-codemirror`), served from
//! `http.codemirror_dir` under `/playground/codemirror/`. Nothing comes
//! from another site; without the package the page falls back to a plain
//! text area.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

const PAGE: &str = include_str!("playground/index.html");
const SCRIPT: &str = include_str!("playground/playground.js");
const STYLE: &str = include_str!("playground/playground.css");

/// The page and its files; the editor's from `codemirror_dir`.
pub fn endpoints<S: Clone + Send + Sync + 'static>(codemirror_dir: &Path) -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async { with_type(PAGE, "text/html; charset=utf-8") }),
        )
        .route(
            "/playground/playground.js",
            get(|| async { with_type(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/playground/playground.css",
            get(|| async { with_type(STYLE, "text/css; charset=utf-8") }),
        )
        .nest_service("/playground/codemirror", ServeDir::new(codemirror_dir))
}

fn with_type(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
