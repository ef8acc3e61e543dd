//! The worker node: a [`router`] joined to the cluster-wide router group,
//! handing executions to the node's [`slots`], a supervised set of
//! [`worker_actor`]s, and the node's last known readiness ([`readiness`]). Per execution a worker spawns a [`file_handler`]
//! (checks the submission against the shared rules, resolves its limits and
//! lays out its files) and then an [`executor`] (runs it in the sandbox, and
//! cancels it if it is killed), as in the original. Live (interactive) executions run beside the slots
//! ([`live`]).

pub mod executor;
pub mod file_handler;
pub mod live;
mod readiness;
pub mod router;
mod slots;
pub mod worker_actor;

pub use router::{Router, RouterArgs};
