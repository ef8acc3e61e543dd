//! Probes: `GET /health` (the process answers) and `GET /ready` (at least
//! one worker node answers a ping and can run code, with every node's
//! report). Both stay open when API keys are on; `/ready` then shows its
//! nodes (names, engine errors) only to a request with a key, and an
//! orchestrator's probe gets the status code and `{"ready": ...}`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::future::join_all;
use serde_json::json;

use super::api_keys::SeesDetails;
use super::state::AppState;
use crate::protocol::{PingRequest, ping};

pub async fn health() -> Response {
    (StatusCode::OK, "ok").into_response()
}

/// Ready when at least one worker node answers a ping and can run code.
pub async fn ready(
    State(state): State<Arc<AppState>>,
    sees: Option<Extension<SeesDetails>>,
) -> Response {
    let routers = state.table.routers();
    let ping_timeout = state.ping_timeout;
    let pings = routers.iter().map(|router| async move {
        match ping(router, PingRequest::default(), ping_timeout).await {
            Ok(reply) => json!({
                "node": reply.node,
                "ready": reply.ready,
                "problem": reply.problem,
                "workers": reply.workers,
                "slots": reply.workers,
                "cpus": reply.cpus,
                "memory_budget_mb": reply.memory_budget_mb,
                "busy": reply.busy,
                "queued": reply.queued,
            }),
            Err(problem) => {
                json!({ "router": router.get_id().to_string(), "ready": false, "problem": problem })
            }
        }
    });
    let nodes = join_all(pings).await;
    let ready = nodes.iter().any(|node| node["ready"] == true);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !sees.is_some_and(|Extension(SeesDetails(sees))| sees) {
        return (status, Json(json!({ "ready": ready }))).into_response();
    }
    let reason = if routers.is_empty() {
        Some("no worker node available")
    } else if !ready {
        Some("no worker node can run code")
    } else {
        None
    };
    (
        status,
        Json(json!({ "ready": ready, "reason": reason, "nodes": nodes })),
    )
        .into_response()
}
