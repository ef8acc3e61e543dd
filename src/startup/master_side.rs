//! The master side of a node: the load balancers, the heartbeat, and the
//! HTTP layer served on its listener until the node stops.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ractor::{Actor, ActorRef};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::configuration::Settings;
use crate::master::heartbeat::Heartbeat;
use crate::master::http::api_keys::ApiKeys;
use crate::master::http::state::AppState;
use crate::master::http::{self, server};
use crate::master::load_balancer::{LoadBalancer, LoadBalancerMessage};
use crate::master::node_table::NodeTable;
use crate::sandbox::Language;

/// The master side: load balancers, heartbeat and the HTTP layer, served
/// until `stop` turns true. Returns the bound address and the serving task.
pub(super) async fn start(
    settings: &Settings,
    languages: Arc<BTreeMap<String, Language>>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    // Bound first: a taken port fails the start before any actor exists.
    let address = format!("{}:{}", settings.http.host, settings.http.port);
    let listener = TcpListener::bind(&address).await.with_context(|| {
        format!("cannot listen for HTTP on {address} (HTTP_HOST, HTTP_PORT); is the port taken?")
    })?;
    let bound = listener.local_addr()?;
    let table = Arc::new(NodeTable::default());
    let mut balancers: Vec<ActorRef<LoadBalancerMessage>> = Vec::new();
    for _ in 0..settings.master.load_balancers {
        match Actor::spawn(None, LoadBalancer, table.clone()).await {
            Ok((balancer, _)) => balancers.push(balancer),
            Err(error) => {
                for balancer in balancers {
                    balancer.stop(None);
                }
                return Err(error).context("cannot start a load balancer");
            }
        }
    }
    let state = Arc::new(AppState::new(
        settings,
        languages,
        table.clone(),
        balancers.clone(),
    ));
    let heartbeat = Heartbeat {
        table,
        interval: Duration::from_millis(settings.cluster.heartbeat_interval_ms),
        timeout: settings.ping_timeout(),
        misses: settings.cluster.heartbeat_misses,
    }
    .spawn();
    tracing::info!(address = %bound, "http gateway listening");
    let keys = ApiKeys(Arc::new(settings.http.api_keys.clone()));
    if !keys.0.is_empty() {
        tracing::info!(keys = keys.0.len(), "API keys required");
    }
    let app = http::app(state, keys, &settings.http.codemirror_dir);
    let limits = server::ServerLimits {
        header_read_timeout: Duration::from_millis(settings.http.header_read_timeout_ms),
        write_timeout: Duration::from_millis(settings.http.write_timeout_ms),
        max_connections: settings.http.max_connections,
    };
    let serving = tokio::spawn(async move {
        server::serve(listener, app, limits, stop).await;
        // Every request has been answered: nothing waits on these any more.
        heartbeat.abort();
        for balancer in balancers {
            balancer.stop(None);
        }
    });
    Ok((bound, serving))
}
