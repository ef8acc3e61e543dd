//! `GET /api/v1/openapi.json`: the OpenAPI document of the JSON API, derived
//! from its handlers' annotations and its types, so it cannot drift from
//! them. A new endpoint of the API adds its handler to [`ApiDoc`]'s paths.

use axum::Json;
use axum::response::{IntoResponse, Response};
use utoipa::OpenApi;

use super::{batch, connect, execute, languages, submissions};

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "braindrill",
        description = "A distributed remote code execution engine."
    ),
    paths(
        execute::execute,
        connect::connect,
        batch::batch,
        languages::languages,
        submissions::submit,
        submissions::get_one,
        submissions::list,
        submissions::delete,
        openapi_json
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    responses((status = 200, description = "The OpenAPI document of this API"))
)]
pub async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
