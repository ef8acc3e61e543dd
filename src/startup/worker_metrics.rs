//! A worker node's own `GET /metrics` (its sandboxes and its process), on
//! `worker.metrics_port` when that is set: a scraper reaches every worker
//! node this way, the master's `/metrics` carrying the executions and each
//! node's load. Nothing else is served there.

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::configuration::Settings;

/// Serves `GET /metrics` on `http.host:worker.metrics_port` until the
/// returned task is aborted; `None` when no port is set.
pub(super) async fn serve(settings: &Settings) -> anyhow::Result<Option<JoinHandle<()>>> {
    let Some(port) = settings.worker.metrics_port else {
        return Ok(None);
    };
    let address = format!("{}:{}", settings.http.host, port);
    let listener = TcpListener::bind(&address).await.with_context(|| {
        format!("cannot listen for metrics on {address} (worker.metrics_port); is the port taken?")
    })?;
    tracing::info!(address = %listener.local_addr()?, "worker metrics listening");
    let app = Router::new().route("/metrics", get(metrics));
    Ok(Some(tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::warn!(%error, "the worker's metrics endpoint stopped");
        }
    })))
}

async fn metrics() -> Response {
    let mut response = crate::metrics::render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    response
}
