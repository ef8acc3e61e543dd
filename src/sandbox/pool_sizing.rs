//! How many warm containers each key of the pool should hold: sized from
//! what the node actually serves, not fixed.
//!
//! The rule: a key's target is the largest number of its executions that
//! ran at once recently (within one to two `demand_window`s), at most the
//! node's worker slots (no more of them can run at once), and at least
//! `min_per_key` for the keys of the configured languages (so a key's
//! first request after a quiet spell still finds a warm container; a key
//! made by a request's own limits has no floor). The pool as a whole stays
//! within `max_total`, the neediest key filled first. A key not used for a
//! while shrinks back to its floor. With recycling, a container serves one
//! execution at a time and comes back after it, so one per execution that
//! runs at once is enough; in single-use mode it is what the refill races
//! to replace.
//!
//! Pure bookkeeping with the time passed in, so that it is tested without
//! an engine or a clock; [`warm_pool`](super::warm_pool) holds it under its
//! lock.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// The bounds of the rule (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// Warm containers a configured language's key keeps however quiet.
    pub min_per_key: usize,
    /// The most one key may hold: the node's worker slots.
    pub max_per_key: usize,
    /// Warm containers of every key together, lent ones included.
    pub max_total: usize,
    /// How long a key's peak counts: it is forgotten after one to two
    /// windows.
    pub demand_window: Duration,
}

impl Sizing {
    /// The containers a key should hold, given its recent peak and whether
    /// it is a configured language's key.
    pub(super) fn target(&self, recent_peak: usize, configured: bool) -> usize {
        let floor = if configured { self.min_per_key } else { 0 };
        recent_peak
            .min(self.max_per_key)
            .max(floor)
            .min(self.max_total)
    }
}

/// The executions each key runs now and its recent peak.
#[derive(Debug)]
pub(super) struct Demand<K> {
    window: Duration,
    keys: HashMap<K, KeyDemand>,
}

/// One key's counts. The peak is kept in two windows, the current one and
/// the one before, so that it is remembered for at least one whole window.
#[derive(Debug, Clone, Copy)]
struct KeyDemand {
    running: usize,
    peak_now: usize,
    peak_before: usize,
    window_start: Instant,
}

impl KeyDemand {
    /// Moves the windows on to `now`.
    fn roll(&mut self, now: Instant, window: Duration) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= window * 2 {
            self.peak_before = 0;
            self.peak_now = self.running;
            self.window_start = now;
        } else if elapsed >= window {
            self.peak_before = self.peak_now;
            self.peak_now = self.running;
            self.window_start += window;
        }
    }

    fn recent_peak(&self) -> usize {
        self.peak_now.max(self.peak_before).max(self.running)
    }
}

impl<K: Eq + Hash + Clone> Demand<K> {
    pub(super) fn new(window: Duration) -> Demand<K> {
        Demand {
            // A zero window would forget every peak at once.
            window: window.max(Duration::from_millis(1)),
            keys: HashMap::new(),
        }
    }

    /// An execution of `key` started.
    pub(super) fn started(&mut self, key: &K, now: Instant) {
        let window = self.window;
        let demand = self.keys.entry(key.clone()).or_insert(KeyDemand {
            running: 0,
            peak_now: 0,
            peak_before: 0,
            window_start: now,
        });
        demand.roll(now, window);
        demand.running += 1;
        demand.peak_now = demand.peak_now.max(demand.running);
    }

    /// An execution of `key` ended.
    pub(super) fn ended(&mut self, key: &K, now: Instant) {
        let window = self.window;
        if let Some(demand) = self.keys.get_mut(key) {
            demand.roll(now, window);
            demand.running = demand.running.saturating_sub(1);
        }
    }

    /// The most executions of `key` that ran at once within the last one
    /// to two windows, those running now included.
    pub(super) fn recent_peak(&self, key: &K, now: Instant) -> usize {
        self.keys.get(key).map_or(0, |demand| {
            let mut demand = *demand;
            demand.roll(now, self.window);
            demand.recent_peak()
        })
    }

    /// Forgets the keys with nothing running and no recent peak, so that
    /// keys made by requests' own limits do not pile up.
    pub(super) fn forget_idle(&mut self, now: Instant) {
        let window = self.window;
        self.keys.retain(|_, demand| {
            demand.roll(now, window);
            demand.recent_peak() > 0
        });
    }
}

/// The next keys to start a container for, at most `parallelism`: each
/// time the key below its target that holds the fewest (so every key gets
/// its first container before any gets a second), within `max_total`.
/// `keys` gives each candidate's containers held (on its shelf and lent)
/// and its target; `total` is what the whole pool holds.
pub(super) fn plan<K: Clone + PartialEq>(
    keys: &[(K, usize, usize)],
    total: usize,
    max_total: usize,
    parallelism: usize,
) -> Vec<K> {
    let mut planned: Vec<K> = Vec::new();
    let mut total = total;
    while planned.len() < parallelism && total < max_total {
        let neediest = keys
            .iter()
            .map(|(key, held, target)| {
                let held = held + planned.iter().filter(|planned| *planned == key).count();
                (key, held, *target)
            })
            .filter(|(_, held, target)| held < target)
            .min_by_key(|(_, held, _)| *held);
        let Some((key, _, _)) = neediest else {
            break;
        };
        planned.push(key.clone());
        total += 1;
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    fn sizing() -> Sizing {
        Sizing {
            min_per_key: 1,
            max_per_key: 8,
            max_total: 24,
            demand_window: WINDOW,
        }
    }

    #[test]
    fn a_key_targets_its_peak_within_the_slots_and_the_floor() {
        let sizing = sizing();
        // Quiet: the floor for a configured language, nothing for a key of
        // a request's own limits.
        assert_eq!(sizing.target(0, true), 1);
        assert_eq!(sizing.target(0, false), 0);
        // One warm container per execution that ran at once.
        assert_eq!(sizing.target(5, true), 5);
        assert_eq!(sizing.target(5, false), 5);
        // No more than the node's slots can run at once.
        assert_eq!(sizing.target(30, true), 8);
        // Nor more than the whole pool.
        let small = Sizing {
            max_total: 3,
            ..sizing
        };
        assert_eq!(small.target(5, true), 3);
        // A floor above the slots wins over them (a fixed size per key).
        let fixed = Sizing {
            min_per_key: 4,
            max_per_key: 2,
            ..sizing
        };
        assert_eq!(fixed.target(0, true), 4);
        assert_eq!(fixed.target(9, true), 4);
    }

    #[test]
    fn the_peak_counts_executions_at_once_and_is_forgotten_after_two_windows() {
        let start = Instant::now();
        let mut demand: Demand<&str> = Demand::new(WINDOW);
        assert_eq!(demand.recent_peak(&"python", start), 0);

        // A burst of eight at once, then all end.
        for _ in 0..8 {
            demand.started(&"python", start);
        }
        demand.started(&"c", start);
        for _ in 0..8 {
            demand.ended(&"python", start + Duration::from_secs(1));
        }
        assert_eq!(
            demand.recent_peak(&"python", start + Duration::from_secs(1)),
            8
        );
        assert_eq!(demand.recent_peak(&"c", start), 1);

        // Remembered for the rest of the window and the whole next one...
        assert_eq!(demand.recent_peak(&"python", start + WINDOW), 8);
        assert_eq!(
            demand.recent_peak(&"python", start + WINDOW * 2 - Duration::from_secs(1)),
            8
        );
        // ...then forgotten.
        assert_eq!(demand.recent_peak(&"python", start + WINDOW * 2), 0);

        // What runs now always counts: c's execution never ended.
        assert_eq!(demand.recent_peak(&"c", start + WINDOW * 10), 1);
    }

    #[test]
    fn sequential_executions_make_a_peak_of_one() {
        let start = Instant::now();
        let mut demand: Demand<&str> = Demand::new(WINDOW);
        for second in 0..100 {
            let now = start + Duration::from_secs(second);
            demand.started(&"python", now);
            demand.ended(&"python", now + Duration::from_millis(50));
        }
        assert_eq!(
            demand.recent_peak(&"python", start + Duration::from_secs(100)),
            1
        );
    }

    #[test]
    fn a_later_smaller_burst_replaces_the_peak_once_the_first_is_old() {
        let start = Instant::now();
        let mut demand: Demand<&str> = Demand::new(WINDOW);
        for _ in 0..6 {
            demand.started(&"python", start);
        }
        for _ in 0..6 {
            demand.ended(&"python", start);
        }
        let later = start + WINDOW + Duration::from_secs(5);
        demand.started(&"python", later);
        demand.started(&"python", later);
        assert_eq!(demand.recent_peak(&"python", later), 6);
        assert_eq!(demand.recent_peak(&"python", start + WINDOW * 2), 2);
    }

    #[test]
    fn idle_keys_are_forgotten_and_busy_ones_kept() {
        let start = Instant::now();
        let mut demand: Demand<&str> = Demand::new(WINDOW);
        demand.started(&"512 MiB", start);
        demand.ended(&"512 MiB", start);
        demand.started(&"python", start);
        demand.forget_idle(start + WINDOW * 3);
        assert_eq!(demand.keys.len(), 1);
        assert!(demand.keys.contains_key("python"));
        // An ended that comes after its key was forgotten changes nothing.
        demand.ended(&"512 MiB", start + WINDOW * 3);
        assert_eq!(demand.recent_peak(&"512 MiB", start + WINDOW * 3), 0);
    }

    #[test]
    fn the_plan_fills_the_emptiest_key_first_within_the_total() {
        // python wants 4 and holds 1; c wants 2 and holds 0; go is full.
        let keys = [("python", 1, 4), ("c", 0, 2), ("go", 1, 1)];
        assert_eq!(plan(&keys, 2, 24, 2), vec!["c", "python"]);
        assert_eq!(
            plan(&keys, 2, 24, 10),
            vec!["c", "python", "c", "python", "python"]
        );
        // The total bound stops it.
        assert_eq!(plan(&keys, 2, 3, 10), vec!["c"]);
        assert!(plan(&keys, 24, 24, 10).is_empty());
        // Nothing below its target: nothing to start.
        assert!(plan(&[("go", 1, 1)], 1, 24, 2).is_empty());
    }
}
