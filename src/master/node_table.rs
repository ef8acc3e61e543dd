//! Which worker node gets the next execution: the master's table of the
//! worker nodes' routers, their health and their load. Routers are looked up
//! in the cluster-wide group on every pick (a restarted node comes back under
//! a new actor id, so refs are never cached); among the healthy ones, the one
//! with the fewest executions in flight from this master wins, ties broken
//! round robin. So a node whose workers are all busy is not sent more while
//! another has room.
//!
//! A node's slots (what it runs at once, from its ping replies) weigh its
//! load: the pick is the fewest in flight per slot, so unequal nodes share
//! the work by capacity, and the healthy nodes' slots together are the
//! cluster's capacity that admission counts on.
//!
//! Health comes from the [`super::heartbeat`]: a router that stops answering
//! pings is taken out of the choice, and executions waiting on it are told so
//! (through [`NodeTable::lost`]) to run again elsewhere.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ractor::{ActorId, ActorRef, pg};
use tokio::sync::broadcast;

use crate::protocol::{ROUTER_GROUP, RouterMessage};

/// Executions remembered per lost router, at most.
const MAX_ABANDONED: usize = 4096;

pub struct NodeTable {
    in_flight: Mutex<HashMap<ActorId, usize>>,
    /// Each router's slots, from its latest ping reply.
    slots: Mutex<HashMap<ActorId, usize>>,
    /// Executions run again elsewhere after their router was declared lost:
    /// cancelled on it again when it comes back.
    abandoned: Mutex<HashMap<ActorId, Vec<String>>>,
    /// Routers that answered in a protocol this master cannot read.
    incompatible: Mutex<HashSet<ActorId>>,
    /// Routers that stopped answering heartbeats, or whose node cannot run
    /// code, with the reason.
    unhealthy: Mutex<HashMap<ActorId, String>>,
    /// Announces a router declared lost by the heartbeat.
    lost: broadcast::Sender<ActorId>,
    next: AtomicUsize,
}

impl Default for NodeTable {
    fn default() -> NodeTable {
        NodeTable {
            in_flight: Mutex::default(),
            slots: Mutex::default(),
            abandoned: Mutex::default(),
            incompatible: Mutex::default(),
            unhealthy: Mutex::default(),
            lost: broadcast::channel(64).0,
            next: AtomicUsize::new(0),
        }
    }
}

/// Counts one execution as in flight on a router until dropped.
pub struct InFlightGuard {
    table: Arc<NodeTable>,
    router: ActorId,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if let Ok(mut in_flight) = self.table.in_flight.lock()
            && let Some(count) = in_flight.get_mut(&self.router)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                in_flight.remove(&self.router);
            }
        }
    }
}

/// Why no router can be picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRouter {
    /// No worker node is connected at all.
    NoneConnected,
    /// Worker nodes are connected but none is healthy; the reasons.
    NoneHealthy(Vec<String>),
}

impl NodeTable {
    /// Every router in the group that this master can talk to, healthy or
    /// not.
    pub fn routers(&self) -> Vec<ActorRef<RouterMessage>> {
        let incompatible = self
            .incompatible
            .lock()
            .map(|set| set.clone())
            .unwrap_or_default();
        pg::get_members(&ROUTER_GROUP.to_string())
            .into_iter()
            .filter(|cell| !incompatible.contains(&cell.get_id()))
            .map(ActorRef::from)
            .collect()
    }

    /// The least loaded healthy router not in `exclude`.
    pub fn pick(&self, exclude: &[ActorId]) -> Result<ActorRef<RouterMessage>, NoRouter> {
        let all = self.routers();
        if all.is_empty() {
            return Err(NoRouter::NoneConnected);
        }
        let unhealthy = self
            .unhealthy
            .lock()
            .map(|map| map.clone())
            .unwrap_or_default();
        let candidates: Vec<&ActorRef<RouterMessage>> = all
            .iter()
            .filter(|router| !exclude.contains(&router.get_id()))
            .filter(|router| !unhealthy.contains_key(&router.get_id()))
            .collect();
        if candidates.is_empty() {
            let mut reasons: Vec<String> = unhealthy.into_values().collect();
            reasons.sort();
            reasons.dedup();
            return Err(NoRouter::NoneHealthy(reasons));
        }
        let in_flight = self
            .in_flight
            .lock()
            .map(|map| map.clone())
            .unwrap_or_default();
        let slots = self.slots.lock().map(|map| map.clone()).unwrap_or_default();
        // In flight per slot, compared without division: a/b < c/d as
        // a*d < c*b. A router not yet pinged counts as one slot.
        let load = |router: &ActorRef<RouterMessage>| {
            let id = router.get_id();
            (
                in_flight.get(&id).copied().unwrap_or(0),
                slots.get(&id).copied().unwrap_or(1).max(1),
            )
        };
        let offset = self.next.fetch_add(1, Ordering::Relaxed);
        let count = candidates.len();
        let chosen = (0..count)
            .map(|i| candidates[(offset + i) % count])
            .min_by(|a, b| {
                let ((busy_a, slots_a), (busy_b, slots_b)) = (load(a), load(b));
                (busy_a * slots_b).cmp(&(busy_b * slots_a))
            })
            .unwrap_or(candidates[0]);
        Ok(chosen.clone())
    }

    /// Records a router's slots from its ping reply.
    pub fn record_slots(&self, router: ActorId, slots: usize) {
        if let Ok(mut map) = self.slots.lock() {
            map.insert(router, slots);
        }
    }

    /// The slots of the healthy routers together (0 before any ping).
    pub fn healthy_slots(&self) -> usize {
        let unhealthy = self
            .unhealthy
            .lock()
            .map(|map| map.clone())
            .unwrap_or_default();
        self.slots
            .lock()
            .map(|map| {
                map.iter()
                    .filter(|(router, _)| !unhealthy.contains_key(router))
                    .map(|(_, slots)| slots)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Remembers that `execution_id` ran again elsewhere after `router` was
    /// lost, to cancel it there if the router comes back.
    pub fn abandon(&self, router: ActorId, execution_id: String) {
        if let Ok(mut abandoned) = self.abandoned.lock() {
            let ids = abandoned.entry(router).or_default();
            // Bounded: a router gone for good is forgotten with its list.
            if ids.len() < MAX_ABANDONED {
                ids.push(execution_id);
            }
        }
    }

    /// The executions abandoned on `router`, forgotten as they are taken.
    pub fn take_abandoned(&self, router: ActorId) -> Vec<String> {
        self.abandoned
            .lock()
            .ok()
            .and_then(|mut abandoned| abandoned.remove(&router))
            .unwrap_or_default()
    }

    /// Counts one more execution in flight on `router`, until the guard is
    /// dropped.
    pub fn count_in_flight(self: &Arc<Self>, router: ActorId) -> InFlightGuard {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            *in_flight.entry(router).or_default() += 1;
        }
        InFlightGuard {
            table: self.clone(),
            router,
        }
    }

    pub fn mark_incompatible(&self, router: ActorId) {
        if let Ok(mut incompatible) = self.incompatible.lock() {
            incompatible.insert(router);
        }
    }

    /// Takes a router out of routing; says whether it was healthy before.
    pub fn mark_unhealthy(&self, router: ActorId, reason: String) -> bool {
        self.unhealthy
            .lock()
            .map(|mut map| map.insert(router, reason).is_none())
            .unwrap_or(false)
    }

    /// Takes a router back; says whether it was unhealthy before.
    pub fn mark_healthy(&self, router: ActorId) -> bool {
        self.unhealthy
            .lock()
            .map(|mut map| map.remove(&router).is_some())
            .unwrap_or(false)
    }

    pub fn is_healthy(&self, router: ActorId) -> bool {
        self.unhealthy
            .lock()
            .map(|map| !map.contains_key(&router))
            .unwrap_or(true)
    }

    /// Announces that a router stopped answering: executions waiting on it
    /// run again elsewhere.
    pub fn announce_lost(&self, router: ActorId) {
        let _ = self.lost.send(router);
    }

    /// Subscribes to routers declared lost.
    pub fn lost(&self) -> broadcast::Receiver<ActorId> {
        self.lost.subscribe()
    }

    /// Forgets what is known of routers that left the group.
    pub fn forget_departed(&self, present: &[ActorId]) {
        if let Ok(mut unhealthy) = self.unhealthy.lock() {
            unhealthy.retain(|router, _| present.contains(router));
        }
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|router, _| present.contains(router));
        }
        if let Ok(mut abandoned) = self.abandoned.lock() {
            abandoned.retain(|router, _| present.contains(router));
        }
    }
}
