//! Which worker node gets the next execution. Routers are looked up in the
//! cluster-wide group on every pick (a restarted node comes back under a new
//! actor id, so refs are never cached); among them the one with the fewest
//! executions in flight from this master wins, ties broken round robin. So a
//! node whose workers are all busy is not sent more while another has room.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ractor::{ActorId, ActorRef, pg};

use crate::protocol::{ROUTER_GROUP, RouterMessage};

#[derive(Default)]
pub struct NodeTable {
    in_flight: Mutex<HashMap<ActorId, usize>>,
    /// Routers that answered in a protocol this master cannot read.
    incompatible: Mutex<HashSet<ActorId>>,
    next: AtomicUsize,
}

/// Counts one execution as in flight on a router until dropped.
pub struct InFlight {
    table: Arc<NodeTable>,
    router: ActorId,
}

impl Drop for InFlight {
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

impl NodeTable {
    /// Every router in the group that this master can talk to.
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

    /// The least loaded router not in `exclude`.
    pub fn pick(&self, exclude: &[ActorId]) -> Option<ActorRef<RouterMessage>> {
        let candidates: Vec<ActorRef<RouterMessage>> = self
            .routers()
            .into_iter()
            .filter(|router| !exclude.contains(&router.get_id()))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let in_flight = self.in_flight.lock().ok()?;
        let offset = self.next.fetch_add(1, Ordering::Relaxed);
        let count = candidates.len();
        (0..count)
            .map(|i| &candidates[(offset + i) % count])
            .min_by_key(|router| in_flight.get(&router.get_id()).copied().unwrap_or(0))
            .cloned()
    }

    pub fn begin(self: &Arc<Self>, router: ActorId) -> InFlight {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            *in_flight.entry(router).or_default() += 1;
        }
        InFlight {
            table: self.clone(),
            router,
        }
    }

    pub fn mark_incompatible(&self, router: ActorId) {
        if let Ok(mut incompatible) = self.incompatible.lock() {
            incompatible.insert(router);
        }
    }
}
