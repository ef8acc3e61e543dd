//! How many executions a worker node runs at once (its slots): one per
//! CPU its sandboxes run on (its `sandbox.cpuset`'s, else every online
//! one) unless configured, and never more than its memory budget
//! holds at the largest memory limit of a language's defaults. A program
//! then gets a CPU of its own, so its verdict does not depend on how many
//! others run beside it.

use serde::Serialize;

/// A node's slots and what decided them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlotPlan {
    pub slots: usize,
    /// CPUs the node's sandboxes run on: its cpuset's, else the online
    /// CPUs of the node (its CPU affinity and cgroup quota counted).
    pub cpus: usize,
    /// Memory the node's executions may commit together, in MiB.
    pub memory_budget_mb: u64,
    /// The memory one slot is reserved for: the largest default memory
    /// limit of the configured languages, in MiB.
    pub slot_memory_mb: u64,
}

impl SlotPlan {
    /// `configured` slots (0: one per CPU: of `cpuset_cpus` when the
    /// sandboxes are pinned to that many, else one per online CPU), bounded
    /// by `memory_budget_mb` (0: half of the host's memory, or no bound if
    /// it cannot be read) over `slot_memory_mb`; at least one.
    pub fn new(
        configured: usize,
        cpuset_cpus: Option<usize>,
        memory_budget_mb: u64,
        slot_memory_mb: u64,
    ) -> SlotPlan {
        let cpus = cpuset_cpus
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |cpus| cpus.get()));
        let memory_budget_mb = if memory_budget_mb > 0 {
            memory_budget_mb
        } else {
            host_memory_mb().map_or(0, |total| total / 2)
        };
        SlotPlan::from_parts(configured, cpus, memory_budget_mb, slot_memory_mb)
    }

    fn from_parts(
        configured: usize,
        cpus: usize,
        memory_budget_mb: u64,
        slot_memory_mb: u64,
    ) -> SlotPlan {
        let wanted = if configured > 0 { configured } else { cpus };
        let by_memory = if memory_budget_mb > 0 && slot_memory_mb > 0 {
            usize::try_from(memory_budget_mb / slot_memory_mb).unwrap_or(usize::MAX)
        } else {
            usize::MAX
        };
        SlotPlan {
            slots: wanted.min(by_memory).max(1),
            cpus,
            memory_budget_mb,
            slot_memory_mb,
        }
    }
}

/// `MemTotal` of /proc/meminfo, in MiB.
fn host_memory_mb() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_default_to_the_cpus_and_the_memory_budget_bounds_them() {
        assert_eq!(SlotPlan::from_parts(0, 2, 8192, 512).slots, 2);
        assert_eq!(SlotPlan::from_parts(6, 2, 8192, 512).slots, 6);
        assert_eq!(SlotPlan::from_parts(0, 16, 1024, 384).slots, 2);
        assert_eq!(
            SlotPlan::from_parts(0, 4, 100, 384).slots,
            1,
            "at least one"
        );
        assert_eq!(
            SlotPlan::from_parts(0, 4, 0, 384).slots,
            4,
            "no budget known"
        );
    }

    #[test]
    fn the_host_has_cpus_and_memory() {
        let plan = SlotPlan::new(0, None, 0, 64);
        assert!(plan.cpus >= 1 && plan.slots >= 1);
        assert!(host_memory_mb().is_some_and(|mb| mb > 0));
    }

    #[test]
    fn a_cpuset_sets_the_cpus_whatever_the_host_has() {
        let pinned = SlotPlan::new(0, Some(1), 0, 64);
        assert_eq!((pinned.cpus, pinned.slots), (1, 1));
        let pinned = SlotPlan::new(0, Some(3), 0, 64);
        assert_eq!((pinned.cpus, pinned.slots), (3, 3));
        assert_eq!(
            SlotPlan::new(5, Some(1), 0, 64).slots,
            5,
            "configured slots win"
        );
    }
}
