//! What crosses between nodes: the messages ([`messages`]) and how they are
//! encoded on the wire ([`codec`]: CBOR, with a protocol version that a
//! receiving node checks before it trusts a message).
//!
//! ractor_cluster drops a message it cannot decode without a word, so the
//! codec never fails: a message from another protocol version, or one that
//! does not decode, arrives as a [`WireFault`] that the receiver answers and
//! logs.

pub mod codec;
pub mod messages;
pub mod ping;

pub use codec::{PROTOCOL_VERSION, Wire, WireFault};
pub use messages::{
    CancelRequest, Executed, ExecutionFailure, ExecutionReply, ExecutionRequest, PingReply,
    PingRequest, ROUTER_GROUP, RouterMessage, TestPlan,
};
pub use ping::ping;
