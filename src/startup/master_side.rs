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
use crate::master::judge::Judge;
use crate::master::judge::sqlite::SqliteStore;
use crate::master::judge::webhook::CallbackPolicy;
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
    let judge = match start_judge(settings, &state).await {
        Ok(judge) => judge,
        Err(error) => {
            for balancer in balancers {
                balancer.stop(None);
            }
            return Err(error);
        }
    };
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
        // What the judge has unfinished stays in its store for the next start.
        judge.stop().await;
        heartbeat.abort();
        for balancer in balancers {
            balancer.stop(None);
        }
    });
    Ok((bound, serving))
}

/// Opens the judge's store, runs again what it holds unfinished, and hands
/// the judge to the HTTP layer.
async fn start_judge(settings: &Settings, state: &Arc<AppState>) -> anyhow::Result<Arc<Judge>> {
    let path = std::path::PathBuf::from(&settings.judge.database);
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
        .await
        .context("opening the judge's database stopped")??;
    let callbacks = CallbackPolicy::from_settings(settings).await;
    let judge = Judge::new(
        Arc::new(store),
        Arc::downgrade(state),
        settings.judge.clone(),
        callbacks,
    );
    judge
        .start()
        .await
        .context("cannot read the judge's unfinished submissions")?;
    // Set once, here, right after the state was made.
    let _ = state.judge.set(judge.clone());
    tracing::info!(database = %settings.judge.database, "judge ready");
    Ok(judge)
}
