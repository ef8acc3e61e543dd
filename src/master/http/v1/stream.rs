//! `POST /api/v1/execute` with `"stream": true`: the live run's messages
//! (see [`live_messages`](super::live_messages)) as `application/x-ndjson`,
//! one per line as the program produces them, for clients that cannot open
//! a WebSocket. The request's `stdin` is all the input (it is closed after
//! it). A refusal before the start is the JSON API's usual error answer;
//! once streaming, an error is a last `error` line. The body is produced
//! only as fast as the client reads it (the stream's window), and a client
//! that goes away cancels the run.

use std::collections::VecDeque;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::check::check;
use super::connect::start;
use super::live_messages::{ServerMessage, item_json};
use super::types::ExecuteRequest;
use crate::master::http::state::AppState;
use crate::master::live::LiveStream;
use crate::sandbox::LiveInput;

pub async fn respond(state: &AppState, request: ExecuteRequest, key: Option<&str>) -> Response {
    let (request, _deadline) = match check(state, request, "") {
        Ok(checked) => checked,
        Err(error) => return error.into_response(),
    };
    let language = request.language.clone();
    let stream = match start(state, key, request).await {
        Ok(stream) => stream,
        Err(error) => return error.into_response(),
    };
    // The request's stdin went with it; there is no more.
    stream.send(LiveInput::CloseStdin);
    let started = ServerMessage::Started {
        execution_id: stream.execution_id.clone(),
        node: stream.node.clone(),
    };
    let mut lines = VecDeque::new();
    lines.push_back(started.json());
    let body = futures_util::stream::unfold(
        (Some(stream), lines, language),
        |(mut stream, mut lines, language)| async move {
            loop {
                if let Some(line) = lines.pop_front() {
                    let bytes = Bytes::from(line + "\n");
                    return Some((
                        Ok::<_, std::convert::Infallible>(bytes),
                        (stream, lines, language),
                    ));
                }
                let live: &mut LiveStream = stream.as_mut()?;
                match live.next_batch().await {
                    Some(batch) => {
                        for item in batch {
                            let (json, last) = item_json(item, &language);
                            lines.push_back(json);
                            if last.is_some() {
                                // The run is over: nothing to cancel.
                                break;
                            }
                        }
                    }
                    None => stream = None,
                }
            }
        },
    );
    let mut response = Body::from_stream(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}
