//! The master's heartbeat: ractor_cluster does not notice a frozen node (it
//! stays in the group and calls to it wait), so the master pings every
//! router on a short deadline. A router that misses several pings in a row,
//! or whose node says it cannot run code (its Docker engine is down), is
//! taken out of routing; executions waiting on a router that stopped
//! answering are told to run again elsewhere. It is taken back as soon as it
//! answers ready again, and the executions that ran again elsewhere while
//! it was out are cancelled on it (so nothing runs twice for long). Every
//! reply also gives the node's slots to the table, which routes by them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use ractor::ActorId;
use tokio::task::JoinHandle;

use super::node_table::NodeTable;
use crate::protocol::{CancelRequest, PingRequest, RouterMessage, Wire, ping};

pub struct Heartbeat {
    pub table: Arc<NodeTable>,
    pub interval: Duration,
    pub timeout: Duration,
    /// Missed pings in a row after which a router is taken out of routing.
    pub misses: u32,
}

impl Heartbeat {
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(self.run())
    }

    async fn run(self) {
        let mut missed: HashMap<ActorId, u32> = HashMap::new();
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let routers = self.table.routers();
            let present: Vec<ActorId> = routers.iter().map(|router| router.get_id()).collect();
            missed.retain(|router, _| present.contains(router));
            self.table.forget_departed(&present);
            let pings = routers.iter().map(|router| async move {
                let answer = ping(router, PingRequest::default(), self.timeout).await;
                (router, answer)
            });
            for (router_ref, answer) in join_all(pings).await {
                let router = router_ref.get_id();
                match answer {
                    Ok(reply) => {
                        missed.remove(&router);
                        self.table.record_slots(router, reply.workers);
                        for execution_id in self.table.take_abandoned(router) {
                            tracing::info!(node = %reply.node, %execution_id, "cancelling an execution that ran again elsewhere while its node was out");
                            let _ =
                                router_ref.cast(RouterMessage::Cancel(Wire::new(CancelRequest {
                                    execution_id,
                                })));
                        }
                        if reply.ready {
                            if self.table.mark_healthy(router) {
                                tracing::info!(node = %reply.node, "worker node is back in routing");
                            }
                        } else {
                            let reason = format!(
                                "worker node {} cannot run code: {}",
                                reply.node,
                                reply.problem.unwrap_or_else(|| "no reason given".into())
                            );
                            if self.table.mark_unhealthy(router, reason.clone()) {
                                tracing::warn!(%reason, "worker node taken out of routing");
                            }
                        }
                    }
                    _ => {
                        let count = missed.entry(router).or_default();
                        *count += 1;
                        if *count >= self.misses {
                            let reason =
                                format!("worker node {router} missed {count} heartbeats in a row");
                            if self.table.mark_unhealthy(router, reason.clone()) {
                                tracing::warn!(%reason, "worker node taken out of routing; its executions run elsewhere");
                                self.table.announce_lost(router);
                                crate::metrics::node_lost(true);
                            }
                        }
                    }
                }
            }
        }
    }
}
