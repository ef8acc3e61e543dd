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
