//! Admission by capacity: whether a request that arrives now can start
//! before its deadline, decided at once. The master knows what it has in
//! flight and waiting, the cluster's slots (from the heartbeat) and how long
//! an execution holds a slot (the sandbox time worker nodes report, as a
//! moving average). A request that would find a slot at once is admitted;
//! one that would wait is admitted if its expected wait (the requests ahead
//! of it, served by every slot at that pace) fits half its start window (the
//! other half absorbs the estimate's error: the runs ahead may be slower
//! than the recent ones), and refused otherwise, with how long until a
//! retry may fit.
//!
//! The pace is the cluster's, not the demand's: a quiet minute, or a burst
//! of refusals that run nothing, leaves it as it was, so a burst after a
//! pause is admitted as far as the slots can serve it in time. (An estimate
//! from the answers per second over a recent window fell with the demand
//! and refused bursts the cluster could serve.) Before any execution is
//! answered the queue smooths a burst; whatever then cannot start in time
//! leaves the queue unstarted at its start deadline. Everything is bounded:
//! at most `max_concurrent` run, at most `max_queued` wait.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// The weight of the newest sandbox time in the moving average: about the
/// last ten executions count.
const NEWEST_WEIGHT: f64 = 0.2;
/// The shortest time an execution is taken to hold a slot (a fake or empty
/// run is not free: the hop and the bookkeeping remain).
const SHORTEST_HOLD: Duration = Duration::from_millis(1);
/// The longest `Retry-After`, in seconds.
const MAX_RETRY_AFTER_S: u64 = 60;

pub struct Admission {
    /// Executions this master has in the cluster at once.
    running: Semaphore,
    max_concurrent: usize,
    /// Executions waiting for one of those, and how many may.
    waiting: AtomicUsize,
    max_queued: usize,
    /// How long an execution holds a slot: the moving average of the
    /// sandbox times of answered ones; `None` before the first.
    hold: Mutex<Option<Duration>>,
}

/// A request in the master's queue; leaves it when dropped.
pub struct Waiting<'a> {
    admission: &'a Admission,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.admission.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<'a> Waiting<'a> {
    /// Waits for a place among the executions in flight until `start_by`;
    /// `None` if none came in time.
    pub async fn admitted(self, start_by: Instant) -> Option<SemaphorePermit<'a>> {
        let admission = self.admission;
        match tokio::time::timeout_at(start_by, admission.running.acquire()).await {
            Ok(Ok(permit)) => Some(permit),
            Ok(Err(_)) | Err(_) => None,
        }
    }
}

impl Admission {
    pub fn new(max_concurrent: usize, max_queued: usize) -> Admission {
        Admission {
            running: Semaphore::new(max_concurrent),
            max_concurrent,
            waiting: AtomicUsize::new(0),
            max_queued,
            hold: Mutex::new(None),
        }
    }

    /// Takes a request arriving now into the queue, or refuses it with the
    /// seconds after which a retry may fit: when `cluster_slots` (0: not yet
    /// known) at the recent pace say it cannot start within half of
    /// `start_window`, or the queue is full.
    pub fn enter(&self, cluster_slots: usize, start_window: Duration) -> Result<Waiting<'_>, u64> {
        let position = self.waiting.fetch_add(1, Ordering::SeqCst);
        let waiting = Waiting { admission: self };
        let running = self.max_concurrent - self.running.available_permits();
        let ahead = running + position;
        let capacity = match cluster_slots {
            0 => self.max_concurrent,
            slots => slots.min(self.max_concurrent),
        };
        if ahead < capacity {
            return Ok(waiting);
        }
        // Every slot frees one per hold: the requests ahead beyond the slots
        // go at `capacity` per hold.
        let expected_wait = self
            .hold()
            .map(|hold| hold.mul_f64((ahead + 1 - capacity) as f64 / capacity as f64));
        let admissible = start_window / 2;
        let retry_after_s = |wait: Duration| {
            wait.saturating_sub(admissible)
                .as_secs_f64()
                .ceil()
                .clamp(1.0, MAX_RETRY_AFTER_S as f64) as u64
        };
        if position >= self.max_queued {
            return Err(expected_wait.map_or(1, retry_after_s));
        }
        match expected_wait {
            Some(wait) if wait > admissible => Err(retry_after_s(wait)),
            _ => Ok(waiting),
        }
    }

    /// Counts an execution answered by a worker node after `sandbox_time`
    /// in its sandbox.
    pub fn answered(&self, sandbox_time: Duration) {
        let newest = sandbox_time.max(SHORTEST_HOLD);
        if let Ok(mut hold) = self.hold.lock() {
            *hold = Some(match *hold {
                None => newest,
                Some(average) => {
                    average.mul_f64(1.0 - NEWEST_WEIGHT) + newest.mul_f64(NEWEST_WEIGHT)
                }
            });
        }
    }

    /// How long an execution holds a slot, as recently seen.
    fn hold(&self) -> Option<Duration> {
        self.hold.lock().ok().and_then(|hold| *hold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn a_free_slot_admits_and_a_full_queue_refuses() {
        let admission = Admission::new(1, 1);
        let first = admission.enter(4, WINDOW).expect("a free slot");
        let permit = first.admitted(Instant::now()).await.expect("a permit");
        // No throughput known: the queue takes a burst...
        let second = admission.enter(4, WINDOW).expect("queued");
        // ...up to its bound.
        assert_eq!(admission.enter(4, WINDOW).err(), Some(1));
        drop(second);
        drop(permit);
        assert!(admission.enter(4, WINDOW).is_ok());
    }

    #[tokio::test]
    async fn a_wait_longer_than_the_start_window_is_refused_with_when_to_retry() {
        let admission = Admission::new(2, 100);
        // Half of it is what a wait may be: 600 ms.
        let short = Duration::from_millis(1200);
        // Executions hold a slot for a second: 2 slots serve 2 per second.
        admission.answered(Duration::from_secs(1));
        let mut held = Vec::new();
        for _ in 0..2 {
            let waiting = admission.enter(2, WINDOW).expect("free slots");
            held.push(waiting.admitted(Instant::now()).await.expect("a permit"));
        }
        // Position 2 on 2 slots at 2 per second: half a second's wait.
        let queued = admission.enter(2, short).expect("fits");
        // Position 3: a second's wait, past the 600 ms.
        assert_eq!(admission.enter(2, short).err(), Some(1));
        drop(queued);
        // Nine ahead: 4 s to wait, 3.4 s past the 600 ms.
        let queued: Vec<_> = (0..7)
            .map(|_| {
                admission
                    .enter(2, 2 * WINDOW)
                    .expect("fits the large window")
            })
            .collect();
        assert_eq!(admission.enter(2, short).err(), Some(4));
        drop(queued);
    }

    #[tokio::test]
    async fn a_pause_leaves_the_pace_and_a_burst_the_slots_can_serve_is_admitted() {
        let admission = Admission::new(64, 100);
        // Executions of 50 ms, then however long a quiet spell: the pace
        // reads no clock, it stays what the cluster showed.
        for _ in 0..5 {
            admission.answered(Duration::from_millis(50));
        }
        // Sixteen at once on 2 slots: the last waits 7 × 50 ms, within
        // half of a 1 s window; all are admitted.
        let burst: Vec<_> = (0..16)
            .map(|_| {
                admission
                    .enter(2, Duration::from_secs(1))
                    .expect("admitted")
            })
            .collect();
        assert_eq!(burst.len(), 16);
        // Up to 22 fit (the 22nd waits 10 holds, 500 ms); the 23rd is
        // refused, and refusals run nothing and change nothing: so is the
        // next try.
        let more: Vec<_> = (16..22)
            .map(|_| {
                admission
                    .enter(2, Duration::from_secs(1))
                    .expect("admitted")
            })
            .collect();
        assert_eq!(admission.enter(2, Duration::from_secs(1)).err(), Some(1));
        assert_eq!(admission.enter(2, Duration::from_secs(1)).err(), Some(1));
        drop(more);
        assert!(admission.enter(2, Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn the_pace_follows_the_recent_sandbox_times() {
        let admission = Admission::new(1, 1);
        assert_eq!(admission.hold(), None);
        admission.answered(Duration::from_millis(100));
        assert_eq!(admission.hold(), Some(Duration::from_millis(100)));
        for _ in 0..30 {
            admission.answered(Duration::from_millis(10));
        }
        let hold = admission.hold().expect("a pace");
        assert!(hold < Duration::from_millis(11), "{hold:?}");
        // An empty run still holds a slot a little.
        admission.answered(Duration::ZERO);
        assert!(admission.hold().expect("a pace") > Duration::ZERO);
    }
}
