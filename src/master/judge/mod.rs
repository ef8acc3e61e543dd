//! The judge: submissions of a program with test cases (expected outputs),
//! run asynchronously in the cluster and kept in a store, with a verdict
//! per test and for the submission, and webhooks.
//!
//! [`compare`] compares an output with the expected one (exact, trim,
//! tokens, float); [`verdict`] turns a test's run and comparison into its
//! verdict and a submission's tests into its own; [`store`] is the small
//! interface of the store, [`sqlite`] the embedded SQLite database behind
//! it; [`service`] accepts, runs (again, after a restart), records and
//! forgets submissions; [`webhook`] signs and delivers their results;
//! [`view`] is how the API shows one. The HTTP endpoints are in
//! `master::http::v1::submissions`.

pub mod compare;
mod metrics;
pub mod service;
pub mod sqlite;
pub mod store;
pub mod verdict;
pub mod view;
pub mod webhook;

pub use service::Judge;
