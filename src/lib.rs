//! braindrill: a distributed remote code execution engine.
//!
//! A request enters the [`master`] (HTTP gateway, load balancers), crosses
//! the [`cluster`] as a [`protocol`] message to a [`worker`] node, whose
//! actors run it in the [`sandbox`] (single-use Docker containers). Both
//! ends check it by the same [`submission`] rules. [`configuration`] loads
//! the settings and [`startup`] assembles a node, handing back a handle that
//! knows its addresses and how to stop it; [`metrics`] names what a node
//! counts for Prometheus.

pub mod cluster;
pub mod configuration;
pub mod master;
pub mod metrics;
pub mod protocol;
pub mod sandbox;
pub mod startup;
pub mod submission;
pub mod telemetry;
pub mod worker;
