//! A worker's link to the seed (the master): dial, and after any disconnect
//! dial again with exponential backoff, so a restarted master gets its
//! workers back without restarting them. A seed that keeps closing the
//! session before authentication is most likely refusing the cookie: say so.

use std::time::Duration;

use ractor::ActorRef;
use ractor_cluster::{ClientConnectErr, NodeServerMessage};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::link::Transport;
use super::node::SessionEvent;

/// Refusals before authentication after which the cookie is suspected.
const REFUSALS_BEFORE_WARNING: u32 = 3;

pub struct SeedDialer {
    pub server: ActorRef<NodeServerMessage>,
    pub events: broadcast::Sender<SessionEvent>,
    pub seed: String,
    pub transport: Transport,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl SeedDialer {
    /// Runs until the returned task is aborted.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(self.run())
    }

    async fn run(self) {
        let mut backoff = self.initial_backoff;
        let mut refusals = 0u32;
        loop {
            // Subscribe before dialling so no event of this session is missed.
            let mut events = self.events.subscribe();
            match self.transport.dial(&self.server, &self.seed).await {
                Ok(()) => {
                    let authenticated = watch_session(&mut events).await;
                    if authenticated {
                        refusals = 0;
                        backoff = self.initial_backoff;
                        tracing::warn!(seed = %self.seed, "lost the seed node; re-dialling");
                    } else {
                        refusals += 1;
                        if refusals >= REFUSALS_BEFORE_WARNING {
                            tracing::error!(
                                seed = %self.seed,
                                refusals,
                                "the seed keeps closing the connection before authentication: the cluster cookie (CLUSTER_COOKIE) may be wrong, or the seed refused this node's certificate"
                            );
                        }
                    }
                }
                Err(ClientConnectErr::Encryption(error)) => {
                    tracing::error!(
                        seed = %self.seed,
                        %error,
                        "TLS with the seed failed: the seed and this node need certificates of the same cluster CA (CLUSTER_TLS_CA), the seed's naming it a master; retrying"
                    );
                }
                Err(error) => {
                    tracing::warn!(seed = %self.seed, %error, ?backoff, "cannot reach the seed node; retrying");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(self.max_backoff);
        }
    }
}

/// Follows the outbound session until it ends; says whether it was ever
/// authenticated.
async fn watch_session(events: &mut broadcast::Receiver<SessionEvent>) -> bool {
    let mut authenticated = false;
    loop {
        match events.recv().await {
            Ok(SessionEvent::Authenticated {
                inbound: false,
                peer,
                ..
            }) => {
                tracing::info!(%peer, "connected to the seed node");
                authenticated = true;
            }
            Ok(SessionEvent::Disconnected { inbound: false, .. }) => return authenticated,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return authenticated,
        }
    }
}
