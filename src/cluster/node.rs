//! This process's node in the cluster: the NodeServer that accepts peers on
//! the cluster address only (and refuses those without the cookie, and with
//! TLS those without a certificate of the cluster's authority naming the
//! right role), and a feed of session events that is logged here and watched
//! by the seed dialer.

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};

use anyhow::{Context, bail};
use ractor::{Actor, ActorRef};
use ractor_cluster::node::NodeServerSessionInformation;
use ractor_cluster::{NodeEventSubscription, NodeServer, NodeServerMessage};
use tokio::sync::broadcast;

use super::link::{ClusterLink, Transport};

/// Frames larger than this close the whole node connection. Requests are
/// capped at the HTTP body limit and replies at the output cap (both well
/// under 1 MiB), so this bound is never approached by honest traffic.
pub const MAX_FRAME_BYTES: u64 = 16 * 1024 * 1024;

/// A change of a session with another node.
#[derive(Debug, Clone)]
pub enum SessionEvent {
    Opened {
        session: u64,
        peer: String,
        inbound: bool,
    },
    Authenticated {
        session: u64,
        peer: String,
        inbound: bool,
    },
    Disconnected {
        session: u64,
        peer: String,
        inbound: bool,
    },
}

pub struct ClusterNode {
    pub server: ActorRef<NodeServerMessage>,
    pub events: broadcast::Sender<SessionEvent>,
}

/// Starts the node server under `name`, listening on `ip` (resolved: a
/// host name such as a compose service's works) and `port` only, with the
/// link's cookie and transport.
pub async fn start(
    name: &str,
    ip: &str,
    port: u16,
    link: &ClusterLink,
) -> anyhow::Result<ClusterNode> {
    let bind = bind_address(ip, port).await?;
    // ractor_cluster binds in the background; check first so a taken port
    // stops the process with a clear message.
    if let Err(error) = TcpListener::bind(bind) {
        bail!(
            "cannot listen on cluster port {port} (CLUSTER_PORT) at {bind} (CLUSTER_IP): {error}; is another node running there?"
        );
    }
    let server = NodeServer::new(
        port,
        link.cookie.clone(),
        name.to_string(),
        ip.to_string(),
        link.transport.incoming(),
        None,
    )
    .with_listen_addr(bind.ip())
    .with_max_inbound_frame_size(MAX_FRAME_BYTES);
    let (server, _) = Actor::spawn(None, server, ())
        .await
        .context("cannot start the cluster node server")?;
    let (events, _) = broadcast::channel(256);
    server
        .cast(NodeServerMessage::SubscribeToEvents {
            id: "braindrill-membership".into(),
            subscription: Box::new(Forwarder {
                events: events.clone(),
            }),
        })
        .context("cannot subscribe to cluster events")?;
    let mut log = events.subscribe();
    tokio::spawn(async move {
        // Sessions that authenticated: one that closes before it did was
        // refused (ractor_cluster logs that only at info level, hidden).
        let mut authenticated = HashSet::new();
        while let Ok(event) = log.recv().await {
            match event {
                SessionEvent::Opened { peer, inbound, .. } => {
                    tracing::debug!(%peer, inbound, "cluster session opened");
                }
                SessionEvent::Authenticated {
                    session,
                    peer,
                    inbound,
                } => {
                    authenticated.insert(session);
                    tracing::info!(%peer, inbound, "node joined the cluster");
                    crate::metrics::node_joined();
                }
                SessionEvent::Disconnected {
                    session,
                    peer,
                    inbound,
                } => {
                    if authenticated.remove(&session) {
                        tracing::info!(%peer, inbound, "node left the cluster");
                        crate::metrics::node_lost(false);
                    } else if inbound {
                        tracing::warn!(%peer, "refused a node: authentication failed (does it have another cluster cookie?)");
                        crate::metrics::node_refused();
                    }
                }
            }
        }
    });
    tracing::info!(node = name, address = %bind, tls = matches!(link.transport, Transport::Tls(_)), "cluster node listening");
    Ok(ClusterNode { server, events })
}

/// The address `ip` names: the node server listens there and nowhere else.
async fn bind_address(ip: &str, port: u16) -> anyhow::Result<SocketAddr> {
    let mut addresses: Vec<SocketAddr> = tokio::net::lookup_host((ip, port))
        .await
        .with_context(|| format!("cannot resolve the cluster address {ip} (CLUSTER_IP)"))?
        .collect();
    // An IPv4 address first: it is what peers are most likely to dial.
    addresses.sort_by_key(|address| !address.is_ipv4());
    addresses
        .first()
        .copied()
        .with_context(|| format!("the cluster address {ip} (CLUSTER_IP) resolves to nothing"))
}

struct Forwarder {
    events: broadcast::Sender<SessionEvent>,
}

fn peer(session: &NodeServerSessionInformation) -> String {
    session
        .peer_name
        .as_ref()
        .map(|name| name.name.clone())
        .unwrap_or_else(|| session.peer_addr.clone())
}

impl NodeEventSubscription for Forwarder {
    fn node_session_opened(&self, session: NodeServerSessionInformation) {
        let _ = self.events.send(SessionEvent::Opened {
            session: session.node_id,
            peer: peer(&session),
            inbound: session.is_server,
        });
    }

    fn node_session_disconnected(&self, session: NodeServerSessionInformation) {
        let _ = self.events.send(SessionEvent::Disconnected {
            session: session.node_id,
            peer: peer(&session),
            inbound: session.is_server,
        });
    }

    fn node_session_authenticated(&self, session: NodeServerSessionInformation) {
        let _ = self.events.send(SessionEvent::Authenticated {
            session: session.node_id,
            peer: peer(&session),
            inbound: session.is_server,
        });
    }
}
