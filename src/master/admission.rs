//! Admission by capacity: whether a request that arrives now can start
//! before its deadline, decided at once. The master knows what it has in
//! flight and waiting, the cluster's slots (from the heartbeat) and its
//! recent throughput (executions answered over the last
//! [`THROUGHPUT_WINDOW`]). A request that would find a slot at once is
//! admitted; one that would wait is admitted if its expected wait (the
//! requests ahead of it over the throughput) fits half its start window
//! (the other half absorbs the estimate's error: the runs ahead may be
//! slower than the recent ones), and refused otherwise, with how long until
//! a retry may fit. Before any
//! throughput is known the queue smooths a burst; whatever then cannot
//! start in time leaves the queue unstarted at its start deadline.
//! Everything is bounded: at most `max_concurrent` run, at most
//! `max_queued` wait.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// How far back the throughput is measured.
pub const THROUGHPUT_WINDOW: Duration = Duration::from_secs(10);
/// The shortest span a rate is measured over (a few early answers are not
/// a rate).
const MIN_SPAN: Duration = Duration::from_secs(1);
/// The longest `Retry-After`, in seconds.
const MAX_RETRY_AFTER_S: u64 = 60;

pub struct Admission {
    /// Executions this master has in the cluster at once.
    running: Semaphore,
    max_concurrent: usize,
    /// Executions waiting for one of those, and how many may.
    waiting: AtomicUsize,
    max_queued: usize,
    /// When recent executions were answered, oldest first, within
    /// [`THROUGHPUT_WINDOW`].
    answered: Mutex<VecDeque<Instant>>,
    started: Instant,
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
            answered: Mutex::new(VecDeque::new()),
            started: Instant::now(),
        }
    }

    /// Takes a request arriving now into the queue, or refuses it with the
    /// seconds after which a retry may fit: when `cluster_slots` (0: not yet
    /// known) and the throughput say it cannot start within half of
    /// `start_window`, or the queue is full.
    pub fn enter(&self, cluster_slots: usize, start_window: Duration) -> Result<Waiting<'_>, u64> {
        self.enter_at(Instant::now(), cluster_slots, start_window)
    }

    fn enter_at(
        &self,
        now: Instant,
        cluster_slots: usize,
        start_window: Duration,
    ) -> Result<Waiting<'_>, u64> {
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
        let expected_wait = self
            .throughput(now)
            .map(|per_second| Duration::from_secs_f64((ahead + 1 - capacity) as f64 / per_second));
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

    /// Counts an execution answered by a worker node.
    pub fn answered(&self) {
        self.answered_at(Instant::now());
    }

    fn answered_at(&self, now: Instant) {
        if let Ok(mut answered) = self.answered.lock() {
            answered.push_back(now);
            forget_before(&mut answered, now);
        }
    }

    /// Executions answered per second over the recent window; `None` when
    /// none was.
    fn throughput(&self, now: Instant) -> Option<f64> {
        let count = self.answered.lock().ok().map(|mut answered| {
            forget_before(&mut answered, now);
            answered.len()
        })?;
        if count == 0 {
            return None;
        }
        let span = now
            .saturating_duration_since(self.started)
            .clamp(MIN_SPAN, THROUGHPUT_WINDOW);
        Some(count as f64 / span.as_secs_f64())
    }
}

/// Drops the answers older than the window.
fn forget_before(answered: &mut VecDeque<Instant>, now: Instant) {
    while answered
        .front()
        .is_some_and(|at| now.duration_since(*at) > THROUGHPUT_WINDOW)
    {
        answered.pop_front();
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
        let start = admission.started;
        let later = start + Duration::from_secs(1);
        // Half of it is what a wait may be: 600 ms.
        let short = Duration::from_millis(1200);
        // Two answers over the first second: 2 per second.
        admission.answered_at(start);
        admission.answered_at(start);
        let mut held = Vec::new();
        for _ in 0..2 {
            let waiting = admission.enter_at(later, 2, WINDOW).expect("free slots");
            held.push(waiting.admitted(Instant::now()).await.expect("a permit"));
        }
        // Position 2 on 2 slots at 2 per second: half a second's wait.
        let queued = admission.enter_at(later, 2, short).expect("fits");
        // Position 3: a second's wait, past the 600 ms.
        assert_eq!(admission.enter_at(later, 2, short).err(), Some(1));
        drop(queued);
        // Nine ahead: 4 s to wait, 3.4 s past the 600 ms.
        let queued: Vec<_> = (0..7)
            .map(|_| {
                admission
                    .enter_at(later, 2, 2 * WINDOW)
                    .expect("fits the large window")
            })
            .collect();
        assert_eq!(admission.enter_at(later, 2, short).err(), Some(4));
        drop(queued);
        // The answers age out of the window: no rate, the queue takes it.
        let much_later = later + THROUGHPUT_WINDOW + Duration::from_secs(1);
        assert!(admission.enter_at(much_later, 2, short).is_ok());
    }
}
