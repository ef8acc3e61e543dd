//! The master: an HTTP [`gateway`] (the original's plain-text endpoint, and
//! the JSON [`api_v1`]) in front of a pool of [`load_balancer`]
//! actors, which send each execution to a worker node's router chosen by
//! [`routing`] from the cluster-wide router group.

pub mod api_keys;
pub mod api_v1;
pub mod gateway;
pub mod heartbeat;
pub mod http_server;
pub mod load_balancer;
pub mod routing;
