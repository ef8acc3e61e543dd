//! Cluster formation and membership over ractor_cluster: every node runs a
//! [`node::ClusterNode`] (a NodeServer with the cookie); a worker dials the
//! seed (the master) and re-dials after any disconnect ([`seed_dialer`]),
//! since ractor_cluster never reconnects by itself.

pub mod node;
pub mod seed_dialer;
