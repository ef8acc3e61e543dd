//! The master: an HTTP layer ([`http`]: the original's plain-text endpoint,
//! the JSON API, probes) in front of a pool of [`load_balancer`] actors,
//! which send each execution to a worker node's router chosen from the
//! [`node_table`] (the cluster-wide router group, with each router's health
//! and load). The [`heartbeat`] pings every router and takes one that stops
//! answering out of the choice. [`admission`] decides at once whether a
//! request can start before its deadline. [`live`] carries interactive
//! executions, streamed both ways.

pub mod admission;
pub mod heartbeat;
pub mod http;
pub mod judge;
pub mod live;
pub mod load_balancer;
pub mod node_table;
