//! The sandbox's cgroup counters (v1 or v2), read before and after a step:
//! they count for the whole container since its start, so a step's figures
//! are their differences.

use std::fs;

/// CPU time used by the sandbox's cgroup so far.
pub fn cpu_usage_us() -> Option<u64> {
    if let Ok(text) = fs::read_to_string("/sys/fs/cgroup/cpuacct/cpuacct.usage") {
        return text.trim().parse::<u64>().ok().map(|ns| ns / 1000);
    }
    field("/sys/fs/cgroup/cpu.stat", "usage_usec")
}

/// The most memory the sandbox's cgroup held since the container started.
pub fn memory_peak() -> Option<u64> {
    read_number(&[
        "/sys/fs/cgroup/memory/memory.max_usage_in_bytes",
        "/sys/fs/cgroup/memory.peak",
    ])
}

/// The memory the sandbox's cgroup holds now.
pub fn memory_usage() -> Option<u64> {
    read_number(&[
        "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        "/sys/fs/cgroup/memory.current",
    ])
}

fn read_number(paths: &[&str]) -> Option<u64> {
    paths
        .iter()
        .find_map(|path| fs::read_to_string(path).ok()?.trim().parse().ok())
}

/// OOM kills counted by the sandbox's memory cgroup.
pub fn oom_kills() -> Option<u64> {
    field("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")
        .or_else(|| field("/sys/fs/cgroup/memory.events", "oom_kill"))
}

fn field(path: &str, name: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok()).flatten()
    })
}
