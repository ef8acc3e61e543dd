//! The messages of a live execution as its clients see them, shared by the
//! WebSocket (`GET /api/v1/connect`) and the NDJSON stream (`POST
//! /api/v1/execute` with `"stream": true`): JSON objects with a `type`.
//!
//! Client to server: `run` (first, with the fields of an execute request),
//! then any number of `stdin`, `close_stdin` and `signal`. Server to
//! client: `started`, `stage`, `stdout`/`stderr` as the program writes,
//! and last `exit` (the fields of the execute result, without the output
//! that was streamed) or `error` (`code` and `message` as the JSON API's).
//! A WebSocket closes after `error` with 4000 + the JSON API's HTTP status
//! for the same error (4400, 4401, 4413, 4429, 4500, 4503), or 4502 when
//! the worker node running it was lost.

use serde::{Deserialize, Serialize};

use super::run::shape;
use super::types::ExecuteRequest;
use crate::master::http::error::ApiError;
use crate::master::live::StreamItem;
use crate::sandbox::{LiveEvent, LiveInput};

/// The close code of a lost worker node (a bad gateway).
pub const WORKER_LOST: u16 = 4502;

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Run(ExecuteRequest),
    Stdin { data: String },
    CloseStdin,
    Signal { signal: String },
}

impl ClientMessage {
    /// The input this message is for a running program; an error for a
    /// `run` (there is one already) or an unknown signal.
    pub fn into_input(self) -> Result<LiveInput, ApiError> {
        match self {
            ClientMessage::Run(_) => Err(ApiError::invalid(
                "the execution runs already: send stdin, close_stdin or signal",
            )),
            ClientMessage::Stdin { data } => Ok(LiveInput::Stdin(data)),
            ClientMessage::CloseStdin => Ok(LiveInput::CloseStdin),
            ClientMessage::Signal { signal } => signal_number(&signal)
                .map(LiveInput::Signal)
                .ok_or_else(|| {
                    ApiError::invalid(format!(
                        "signal: {signal:?} is not one of SIGINT, SIGTERM, SIGKILL, SIGHUP, SIGQUIT"
                    ))
                }),
        }
    }
}

fn signal_number(name: &str) -> Option<u8> {
    Some(match name.trim_start_matches("SIG") {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "KILL" => 9,
        "TERM" => 15,
        _ => return None,
    })
}

/// What the server sends, before `exit`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Started { execution_id: String, node: String },
    Stage { stage: String },
    Stdout { data: String },
    Stderr { data: String },
    Error { code: String, message: String },
}

impl ServerMessage {
    pub fn error(error: &ApiError) -> ServerMessage {
        ServerMessage::Error {
            code: error.detail.code.clone(),
            message: error.detail.message.clone(),
        }
    }

    pub fn json(&self) -> String {
        // A plain enum of strings always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The close code of an error answer: 4000 + its HTTP status.
pub fn close_code(error: &ApiError) -> u16 {
    4000 + error.status.as_u16()
}

/// One item of a live stream as a line of JSON, and whether it was the
/// last; with the close code for a last one that is an error (`None`: a
/// normal end).
pub fn item_json(item: StreamItem, language: &str) -> (String, Option<Option<u16>>) {
    match item {
        StreamItem::Event(LiveEvent::Stage(stage)) => (ServerMessage::Stage { stage }.json(), None),
        StreamItem::Event(LiveEvent::Stdout(data)) => (ServerMessage::Stdout { data }.json(), None),
        StreamItem::Event(LiveEvent::Stderr(data)) => (ServerMessage::Stderr { data }.json(), None),
        StreamItem::Exit(executed) => match shape(*executed, language.to_string(), false) {
            Ok(result) => {
                let mut value = serde_json::to_value(result).unwrap_or_default();
                if let Some(object) = value.as_object_mut() {
                    // Streamed already.
                    object.remove("stdout");
                    object.remove("stderr");
                    object.remove("retried");
                    object.insert("type".into(), "exit".into());
                }
                (value.to_string(), Some(None))
            }
            Err(error) => (
                ServerMessage::error(&error).json(),
                Some(Some(close_code(&error))),
            ),
        },
        StreamItem::Refused { code, message } => {
            let close = if code == "payload_too_large" {
                4413
            } else {
                4400
            };
            (
                ServerMessage::Error { code, message }.json(),
                Some(Some(close)),
            )
        }
        StreamItem::Lost(message) => (
            ServerMessage::Error {
                code: "worker_lost".into(),
                message,
            }
            .json(),
            Some(Some(WORKER_LOST)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_clients_messages() {
        let run: ClientMessage =
            serde_json::from_str(r#"{"type":"run","language":"python","code":"print(1)"}"#)
                .unwrap_or(ClientMessage::CloseStdin);
        assert!(matches!(run, ClientMessage::Run(request) if request.language == "python"));
        let input = serde_json::from_str::<ClientMessage>(r#"{"type":"signal","signal":"SIGINT"}"#)
            .map_err(|error| error.to_string())
            .and_then(|message| message.into_input().map_err(|error| error.detail.message));
        assert_eq!(input, Ok(LiveInput::Signal(2)));
        assert!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"stdin","data":"x","more":1}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
    }
}
