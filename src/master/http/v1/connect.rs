//! `GET /api/v1/connect`: a live execution over a WebSocket. The client
//! sends a `run` message first, then input and signals as it likes; the
//! server streams the program's output as it is produced and ends with
//! `exit`, then closes with 1000 (the messages and close codes are in
//! [`live_messages`](super::live_messages)). A client that goes away
//! cancels the execution: its sandbox is removed.
//!
//! With API keys on, a browser (which cannot set headers on a WebSocket)
//! may send its key as `?api_key=`; a request without a valid key is
//! upgraded, told `unauthorized` and closed with 4401, so that a browser
//! client sees why.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use super::check::check;
use super::live_messages::{ClientMessage, ServerMessage, close_code, item_json};
use crate::master::http::api_keys::{PresentedKey, SeesDetails};
use crate::master::http::error::ApiError;
use crate::master::http::state::AppState;
use crate::master::live::LiveStream;
use crate::master::load_balancer::DispatchError;

type Sink = SplitSink<WebSocket, Message>;

/// Run one execution live over a WebSocket.
#[utoipa::path(
    get,
    path = "/api/v1/connect",
    responses(
        (status = 101, description = "Switching to a WebSocket: JSON text messages, `run` first (the fields of POST /api/v1/execute), then `stdin`, `close_stdin`, `signal`; the server sends `started`, `stage`, `stdout`, `stderr`, and `exit` (or `error` and a 4xxx close code). See the README's \"Live runs\"."),
        (status = 400, description = "Not a WebSocket upgrade"),
    )
)]
pub async fn connect(
    State(state): State<Arc<AppState>>,
    Extension(SeesDetails(admitted)): Extension<SeesDetails>,
    Extension(PresentedKey(key)): Extension<PresentedKey>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let max = state.max_json_body_bytes;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| session(state, socket, admitted, key))
}

async fn session(state: Arc<AppState>, socket: WebSocket, admitted: bool, key: Option<String>) {
    let (mut sink, mut from_client) = socket.split();
    if !admitted {
        let error = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an API key is required: send it as 'Authorization: Bearer <key>', 'X-API-Key: <key>' or ?api_key=<key>",
        );
        return refuse(&mut sink, &error).await;
    }
    let first = match tokio::time::timeout(state.body_read_timeout, from_client.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(Some(Ok(_))) => {
            let error = ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "the first message must be a JSON text message of type run",
            );
            return refuse(&mut sink, &error).await;
        }
        // The client went away before it asked for anything.
        Ok(None | Some(Err(_))) => return,
        Err(_elapsed) => {
            let error = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "no run message within {} ms",
                    state.body_read_timeout.as_millis()
                ),
            );
            return refuse(&mut sink, &error).await;
        }
    };
    let request = match serde_json::from_str::<ClientMessage>(&first) {
        Ok(ClientMessage::Run(request)) => request,
        Ok(_) => {
            let error = ApiError::invalid("the first message must be of type run");
            return refuse(&mut sink, &error).await;
        }
        Err(error) => {
            let error = ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the first message is not a run message: {error}"),
            );
            return refuse(&mut sink, &error).await;
        }
    };
    let (request, _deadline) = match check(&state, request, "") {
        Ok(checked) => checked,
        Err(error) => return refuse(&mut sink, &error).await,
    };
    let language = request.language.clone();
    let mut stream = match start(&state, key.as_deref(), request).await {
        Ok(stream) => stream,
        Err(error) => return refuse(&mut sink, &error).await,
    };
    let started = ServerMessage::Started {
        execution_id: stream.execution_id.clone(),
        node: stream.node.clone(),
    };
    if sink.send(text(started.json())).await.is_err() {
        return;
    }
    relay(&mut stream, &mut sink, &mut from_client, &language).await;
}

/// Starts a live stream under the caps; the error answer if it cannot.
pub(super) async fn start(
    state: &AppState,
    key: Option<&str>,
    request: crate::protocol::ExecutionRequest,
) -> Result<LiveStream, ApiError> {
    let permit = state
        .live
        .enter(key)
        .map_err(|message| ApiError::new(StatusCode::TOO_MANY_REQUESTS, "busy", message))?;
    LiveStream::start(&state.table, permit, request)
        .await
        .map_err(|error: DispatchError| ApiError::from_dispatch(error, std::time::Duration::ZERO))
}

/// Carries the stream to the client and the client's input to the run,
/// until the run's end (or the client's).
async fn relay(
    stream: &mut LiveStream,
    sink: &mut Sink,
    from_client: &mut SplitStream<WebSocket>,
    language: &str,
) {
    loop {
        tokio::select! {
            batch = stream.next_batch() => {
                let Some(batch) = batch else { return };
                for item in batch {
                    let (json, last) = item_json(item, language);
                    if sink.send(text(json)).await.is_err() {
                        return;
                    }
                    if let Some(code) = last {
                        return close(sink, code.unwrap_or(1000), "").await;
                    }
                }
            }
            message = from_client.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        let error = ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "messages are JSON text");
                        return refuse(sink, &error).await;
                    }
                    // Gone: dropping the stream cancels the run.
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                };
                let input = serde_json::from_str::<ClientMessage>(&text)
                    .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("not a client message: {error}")))
                    .and_then(ClientMessage::into_input);
                match input {
                    Ok(input) => stream.send(input),
                    Err(error) => return refuse(sink, &error).await,
                }
            }
        }
    }
}

fn text(json: String) -> Message {
    Message::Text(Utf8Bytes::from(json))
}

/// Sends an error message, then closes with its code.
async fn refuse(sink: &mut Sink, error: &ApiError) {
    if sink
        .send(text(ServerMessage::error(error).json()))
        .await
        .is_ok()
    {
        close(sink, close_code(error), &error.detail.code).await;
    }
}

async fn close(sink: &mut Sink, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(Cow::Borrowed(reason).into_owned()),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}
