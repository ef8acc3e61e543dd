//! Optional API keys for the HTTP API (off while none is configured). A
//! request must carry one of the keys as `Authorization: Bearer <key>` or
//! `X-API-Key: <key>`; `/health`, `/ready`, `/metrics`, the OpenAPI
//! document and the playground page (which asks for a key and sends it with
//! its API calls) stay open so that probes, scrapers, tooling and browsers
//! work without one. Every request is marked with [`SeesDetails`]: whether
//! it may see internal details (keys are off, or it carries a valid key),
//! which `/ready` asks before showing its nodes.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// Paths that never need a key.
const OPEN_PATHS: &[&str] = &["/", "/health", "/ready", "/metrics", "/api/v1/openapi.json"];

#[derive(Clone)]
pub struct ApiKeys(pub Arc<Vec<String>>);

/// Who a request is, for what it owns (the judge's submissions): the
/// fingerprint of its valid key (a SHA-256 prefix, never the key itself),
/// or `None` when keys are off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner(pub Option<String>);

/// Whether a request may see internal details: true when keys are off or
/// it carries a valid key.
#[derive(Debug, Clone, Copy)]
pub struct SeesDetails(pub bool);

/// The valid key a request carries, with keys on (the caps on live
/// executions count per key).
#[derive(Debug, Clone)]
pub struct PresentedKey(pub Option<String>);

/// The WebSocket endpoint: a browser cannot set headers on a WebSocket, so
/// it may carry its key as `?api_key=`; and a refusal there is a message
/// and a close code on the socket, which its handler sends.
const CONNECT_PATH: &str = "/api/v1/connect";

impl ApiKeys {
    fn admits(&self, presented: &str) -> bool {
        // Compare every key in constant time, so timing says nothing.
        self.0.iter().fold(false, |found, key| {
            found | constant_time_eq::constant_time_eq(key.as_bytes(), presented.as_bytes())
        })
    }
}

pub async fn require_key(
    State(keys): State<ApiKeys>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .or_else(|| {
            headers
                .get("x-api-key")
                .and_then(|value| value.to_str().ok())
        });
    let from_query = (request.uri().path() == CONNECT_PATH)
        .then(|| query_key(request.uri().query()))
        .flatten();
    let presented = presented.map(str::to_string).or(from_query);
    let presented = presented.as_deref();
    let admitted = keys.0.is_empty() || presented.is_some_and(|key| keys.admits(key));
    let path = request.uri().path();
    if admitted
        || OPEN_PATHS.contains(&path)
        || path.starts_with("/playground/")
        || path == CONNECT_PATH
    {
        let owner = match presented {
            Some(key) if admitted && !keys.0.is_empty() => Some(fingerprint(key)),
            _ => None,
        };
        request.extensions_mut().insert(KeyOwner(owner));
        let key = (admitted && !keys.0.is_empty())
            .then(|| presented.map(str::to_string))
            .flatten();
        request.extensions_mut().insert(SeesDetails(admitted));
        request.extensions_mut().insert(PresentedKey(key));
        return next.run(request).await;
    }
    let message = match presented {
        Some(_) => "the API key is wrong",
        None => {
            "an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        }
    };
    let error = ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
    let mut response = if request.uri().path().starts_with("/api/") {
        error.into_response()
    } else {
        error.into_plain()
    };
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// A key's fingerprint: the first 16 bytes of its SHA-256, in hex.
fn fingerprint(key: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(key.as_bytes())[..16])
}

/// The `api_key` parameter of a query string.
fn query_key(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "api_key")
        .map(|(_, value)| value.to_string())
}
