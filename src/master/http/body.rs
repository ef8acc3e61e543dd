//! Reading a request's body whole, within a size limit and a time limit (a
//! client that sends it slowly is answered 408 rather than holding a slot),
//! and decoding it as the JSON API's request with a message naming the
//! field at fault.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Why a request body could not be read.
pub enum BodyError {
    TooLarge,
    /// Not all of it arrived within the body read timeout.
    TooSlow,
    Broken(axum::Error),
}

/// Reads a whole body of at most `limit` bytes within `timeout`.
pub async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, BodyError> {
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit))
        .await
        .map_err(|_| BodyError::TooSlow)?;
    read.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            BodyError::TooLarge
        } else {
            BodyError::Broken(error)
        }
    })
}

/// Reads a JSON body of at most `limit` bytes within `timeout` as a `T`.
pub async fn read_json<T: DeserializeOwned>(
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<T, ApiError> {
    let bytes = match read_body(body, limit, timeout).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than the limit of {limit} bytes"),
            ));
        }
        Err(BodyError::TooSlow) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("the body did not arrive within {} ms", timeout.as_millis()),
            ));
        }
        Err(BodyError::Broken(error)) => {
            return Err(ApiError::invalid(format!("cannot read the body: {error}")));
        }
    };
    let mut decoder = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut decoder).map_err(|error| {
        let path = error.path().to_string();
        let message = if path == "." {
            error.inner().to_string()
        } else {
            format!("{path}: {}", error.inner())
        };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    })
}
