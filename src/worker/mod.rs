//! The worker node: a [`router`] joined to the cluster-wide router group,
//! owning a supervised pool of [`worker_actor`]s. Per execution a worker
//! spawns a [`file_handler`] (checks the submission and lays out its files)
//! and then an [`executor`] (runs it in the sandbox), as in the original.

pub mod executor;
pub mod file_handler;
pub mod router;
pub mod worker_actor;

pub use router::{Router, RouterArgs};
