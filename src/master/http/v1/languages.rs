//! `GET /api/v1/languages`: the configured languages with their default
//! limits, and their versions as a ready worker node reads them from the
//! images.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::types::LanguageInfo;
use crate::master::http::state::AppState;
use crate::protocol::{PingRequest, ping};

/// How long reading the languages' versions from the images may take.
const VERSIONS_TIMEOUT: Duration = Duration::from_secs(60);

/// The languages this cluster runs, with their versions and default limits.
#[utoipa::path(
    get,
    path = "/api/v1/languages",
    responses((status = 200, description = "One entry per language", body = Vec<LanguageInfo>))
)]
pub async fn languages(State(state): State<Arc<AppState>>) -> Response {
    let mut versions = BTreeMap::new();
    for router in state.table.routers() {
        let request = PingRequest {
            with_versions: true,
        };
        if let Ok(reply) = ping(&router, request, VERSIONS_TIMEOUT).await
            && reply.ready
        {
            versions = reply.versions;
            break;
        }
    }
    let list: Vec<LanguageInfo> = state
        .languages
        .values()
        .map(|language| LanguageInfo {
            name: language.name.clone(),
            version: versions.get(&language.name).cloned(),
            file: language.file.clone(),
            compiled: language.compile.is_some(),
            limits: language.limits.clone(),
        })
        .collect();
    Json(list).into_response()
}
