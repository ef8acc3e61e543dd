//! The messages of a live (interactive) execution between the master and
//! the worker node that runs it. Every one goes from the master to the
//! node's router, so no actor reference ever crosses the wire:
//!
//! - `LiveStart` (a call): run this execution live; answered at once, when
//!   it is registered and its sandbox is starting (or refused, with the
//!   same failures as `Execute`).
//! - `LivePull` (a call): the next events, waiting up to `wait_ms` for the
//!   first one. The pull is the window: a node forwards at most one batch
//!   (`max_bytes`) per pull and holds at most a bounded channel of events
//!   between pulls, so a master whose client does not read stops pulling,
//!   and the program's writes block in its sandbox (until its limits end
//!   it). A call that fails says the node is lost: the stream ends with an
//!   error, never a silent re-run (its input cannot be replayed).
//! - `LiveSend` (a cast, in order): stdin, its end, or a signal.
//! - Stopping one is the existing `Cancel`.
//!
//! A node that is not pulled for [`LIVE_ABANDONED_MS`] cancels the run (its
//! master is gone). A node of an older version drops these variants
//! unread: the master's call times out and says so.

use serde::{Deserialize, Serialize};

use super::messages::{Executed, ExecutionFailure, ExecutionRequest};
use crate::sandbox::{LiveEvent, LiveInput};

/// A live run nobody pulls for this long is cancelled by its node.
pub const LIVE_ABANDONED_MS: u64 = 30_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStartRequest {
    pub request: ExecutionRequest,
    /// The run's wall-clock limit where the request sets none
    /// (`limits.timeout_ms`): an interactive run's own, larger one.
    pub wall_ms: u64,
    /// A run that neither writes output nor is sent input this long ends.
    pub idle_ms: u64,
}

pub type LiveStartReply = Result<LiveStarted, ExecutionFailure>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStarted {
    pub node: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePullRequest {
    pub execution_id: String,
    /// How long to wait for a first event.
    pub wait_ms: u64,
    /// The most output (bytes of text) one answer carries, roughly: events
    /// are not split.
    pub max_bytes: usize,
}

/// What a pull brings, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LiveItem {
    Event(LiveEvent),
    /// The run ended: its outcome (output already sent as events).
    Exit(Box<Executed>),
    /// The node knows no such run (it ended and was collected, or was
    /// cancelled), or failed it.
    Gone(String),
    /// The node ended the run for its client's fault, with the JSON API's
    /// error code (`payload_too_large`: more input waited for the program
    /// than the node holds).
    Refused {
        code: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivePullReply {
    pub items: Vec<LiveItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSendRequest {
    pub execution_id: String,
    pub input: LiveInput,
}
