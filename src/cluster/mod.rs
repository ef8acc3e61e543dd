//! Cluster formation and membership over ractor_cluster: every node runs a
//! [`node::ClusterNode`] (a NodeServer with the cookie, bound to the cluster
//! address); [`link`] decides how the link is secured (mutual TLS of
//! [`tls`], or clear text in development mode); a worker dials the seed (the
//! master) and re-dials after any disconnect ([`seed_dialer`]), since
//! ractor_cluster never reconnects by itself.

pub mod link;
pub mod node;
pub mod seed_dialer;
pub mod tls;
