//! `GET /metrics`: the Prometheus text of this process (everything
//! [`crate::metrics`] recorded, and the process's memory and CPU), then the
//! cluster as this master sees it now: the worker nodes in the router
//! group and each one's slots, busy slots and queue, from a ping sent at
//! scrape time (so a node that left is simply absent). Also the layer that
//! counts requests refused as invalid or unauthorized, by their status.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::future::join_all;

use super::state::AppState;
use crate::metrics::{self, Rejection};
use crate::protocol::{PingReply, PingRequest, ping};

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let routers = state.table.routers();
    let ping_timeout = state.ping_timeout;
    let pings = routers.iter().map(|router| async move {
        ping(router, PingRequest::default(), ping_timeout)
            .await
            .ok()
    });
    let replies: Vec<PingReply> = join_all(pings).await.into_iter().flatten().collect();
    let mut body = metrics::render();
    body.push_str(&metrics::render_cluster(routers.len(), &replies));
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    response
}

/// Counts the requests answered 400, 408 or 413 (invalid) and 401
/// (unauthorized); refusals of the engine (429, 503, 504) are counted where
/// the dispatch fails, batch items included.
pub async fn count_refusals(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    match response.status() {
        StatusCode::BAD_REQUEST | StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE => {
            metrics::rejected(Rejection::Invalid)
        }
        StatusCode::UNAUTHORIZED => metrics::rejected(Rejection::Unauthorized),
        _ => {}
    }
    response
}
