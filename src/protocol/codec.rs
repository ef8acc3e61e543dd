//! CBOR encoding of cluster messages, with a version on every message.

use ractor::BytesConvertable;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Version of the messages in [`super::messages`]. Bump it on any change a
/// node of the previous version could not decode. 2: the requested limits
/// gained the CPU-time limits (`cpu_time_ms`, `compile_cpu_time_ms`), which
/// a node of version 1 refuses as unknown fields. 3: an execution may carry
/// a judged submission's tests (`judging`) and its answer their runs
/// (`tests`), which a node of version 2 would silently ignore; and the
/// router takes the live runs' calls (`LiveStart`, `LivePull`, `LiveSend`,
/// in [`super::live`]), which a node of version 2 cannot decode.
pub const PROTOCOL_VERSION: u32 = 3;

/// Why a message received from another node cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum WireFault {
    #[error("the peer speaks protocol version {theirs}, this node speaks {ours}")]
    VersionMismatch { theirs: u32, ours: u32 },
    #[error("the message does not decode: {0}")]
    Undecodable(String),
}

/// A message body as it crosses the wire: either what was sent, or the
/// reason it could not be read on this side.
#[derive(Debug, Clone, PartialEq)]
pub struct Wire<T>(pub Result<T, WireFault>);

impl<T> Wire<T> {
    pub fn new(body: T) -> Wire<T> {
        Wire(Ok(body))
    }
}

#[derive(Serialize)]
struct Outgoing<'a, T> {
    version: u32,
    body: Option<&'a T>,
}

#[derive(Deserialize)]
struct Incoming {
    version: u32,
    body: ciborium::Value,
}

/// Encodes `body` as CBOR under `version` (always [`PROTOCOL_VERSION`]
/// outside of tests that play a node of another version).
pub fn encode<T: Serialize>(version: u32, body: Option<&T>) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing serde structs into a Vec cannot fail.
    if let Err(error) = ciborium::into_writer(&Outgoing { version, body }, &mut bytes) {
        tracing::error!(%error, "cannot encode a cluster message");
    }
    bytes
}

/// Decodes a message, checking its version first.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireFault> {
    let incoming: Incoming = ciborium::from_reader(bytes)
        .map_err(|error| WireFault::Undecodable(format!("no versioned envelope: {error}")))?;
    if incoming.version != PROTOCOL_VERSION {
        return Err(WireFault::VersionMismatch {
            theirs: incoming.version,
            ours: PROTOCOL_VERSION,
        });
    }
    incoming
        .body
        .deserialized()
        .map_err(|error| WireFault::Undecodable(error.to_string()))
}

impl<T: Serialize + DeserializeOwned> BytesConvertable for Wire<T> {
    fn into_bytes(self) -> Vec<u8> {
        encode(PROTOCOL_VERSION, self.0.as_ref().ok())
    }

    fn from_bytes(bytes: Vec<u8>) -> Self {
        Wire(decode(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::messages::{ExecutionRequest, PingReply};
    use crate::sandbox::SourceFile;

    fn request() -> ExecutionRequest {
        ExecutionRequest {
            execution_id: "e-1".into(),
            language: "python".into(),
            files: vec![SourceFile {
                name: "main.py".into(),
                content: "print('héllo')\n".into(),
            }],
            stdin: "input".into(),
            args: vec!["a".into(), "b c".into()],
            limits: crate::sandbox::RequestedLimits {
                timeout_ms: Some(1000),
                ..Default::default()
            },
            start_within_ms: Some(500),
            answer_within_ms: Some(3500),
            judging: None,
        }
    }

    #[test]
    fn messages_round_trip_as_cbor() {
        let bytes = Wire::new(request()).into_bytes();
        // CBOR, not JSON: the first byte is a CBOR map header.
        assert_eq!(bytes[0] & 0xe0, 0xa0, "not a CBOR map");
        assert_eq!(
            Wire::<ExecutionRequest>::from_bytes(bytes),
            Wire::new(request())
        );

        let reply = PingReply {
            node: "worker-1".into(),
            ready: false,
            problem: Some("engine down".into()),
            workers: 32,
            busy: 3,
            queued: 0,
            cpus: 2,
            memory_budget_mb: 4096,
            versions: [("python".to_string(), "Python 3.11.2".to_string())].into(),
        };
        let bytes = Wire::new(reply.clone()).into_bytes();
        assert_eq!(Wire::<PingReply>::from_bytes(bytes), Wire::new(reply));
    }

    #[test]
    fn a_request_of_the_first_version_has_no_deadline() {
        #[derive(Serialize)]
        struct FirstVersion {
            execution_id: &'static str,
            language: &'static str,
            files: Vec<SourceFile>,
            stdin: &'static str,
            args: Vec<String>,
        }
        let bytes = encode(
            PROTOCOL_VERSION,
            Some(&FirstVersion {
                execution_id: "e-1",
                language: "python",
                files: Vec::new(),
                stdin: "",
                args: Vec::new(),
            }),
        );
        let request = Wire::<ExecutionRequest>::from_bytes(bytes)
            .0
            .expect("decodes");
        assert_eq!(
            (request.start_within_ms, request.answer_within_ms),
            (None, None)
        );
    }

    #[test]
    fn another_protocol_version_is_rejected_not_dropped() {
        let bytes = encode(PROTOCOL_VERSION + 1, Some(&request()));
        assert_eq!(
            Wire::<ExecutionRequest>::from_bytes(bytes).0,
            Err(WireFault::VersionMismatch {
                theirs: PROTOCOL_VERSION + 1,
                ours: PROTOCOL_VERSION
            })
        );
    }

    #[test]
    fn garbage_becomes_a_fault() {
        let fault = Wire::<ExecutionRequest>::from_bytes(vec![0xff, 0x00, 0x13]).0;
        assert!(matches!(fault, Err(WireFault::Undecodable(_))), "{fault:?}");
        let wrong_shape = encode(PROTOCOL_VERSION, Some(&"just a string"));
        let fault = Wire::<ExecutionRequest>::from_bytes(wrong_shape).0;
        assert!(matches!(fault, Err(WireFault::Undecodable(_))), "{fault:?}");
    }
}
