//! The resource limits of one execution, and the checks that keep them sane.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits of one execution. Resolved from the global settings and the
/// language's overrides before they reach the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Wall-clock time of the run step, enforced by killing the container.
    pub timeout: Duration,
    /// Wall-clock time of the compile step, where a language has one.
    pub compile_timeout: Duration,
    /// Memory of the container; swap is set equal, so there is none.
    pub memory_bytes: u64,
    /// Bytes of stdout and stderr together; past it the container is killed.
    pub output_bytes: usize,
    /// CPU quota in CPUs.
    pub cpus: f64,
    /// Processes and threads in the container.
    pub pids: i64,
    /// Open file descriptors (`ulimit -n`).
    pub nofile: i64,
    /// Largest file the program may write (`ulimit -f`).
    pub file_size_bytes: u64,
    /// Size of the writable scratch area (`/tmp`, a tmpfs).
    pub scratch_bytes: u64,
}

/// Docker refuses a memory limit under 6 MiB; leave room for the runtime.
const MIN_MEMORY_BYTES: u64 = 8 * 1024 * 1024;

impl Limits {
    /// Says which field is out of range, if any (as `field ...`).
    pub fn check(&self) -> Result<(), String> {
        if self.timeout.is_zero() {
            return Err("timeout_ms must be above 0".into());
        }
        if self.compile_timeout.is_zero() {
            return Err("compile_timeout_ms must be above 0".into());
        }
        if self.memory_bytes < MIN_MEMORY_BYTES {
            return Err("memory_mb must be at least 8".into());
        }
        if self.output_bytes == 0 {
            return Err("output_bytes must be above 0".into());
        }
        if !(self.cpus > 0.0 && self.cpus <= 64.0) {
            return Err("cpus must be above 0 and at most 64".into());
        }
        if self.pids < 8 {
            return Err("pids must be at least 8".into());
        }
        if self.nofile < 16 {
            return Err("nofile must be at least 16".into());
        }
        if self.file_size_bytes == 0 {
            return Err("file_size_mb must be above 0".into());
        }
        if self.scratch_bytes == 0 {
            return Err("scratch_mb must be above 0".into());
        }
        Ok(())
    }
}

/// The most a request may ask for; requests may always ask for less.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxLimits {
    pub timeout: Duration,
    pub compile_timeout: Duration,
    pub memory_bytes: u64,
    pub output_bytes: usize,
}

impl MaxLimits {
    /// Names the first field of `limits` above its maximum, if any.
    pub fn admits(&self, limits: &Limits) -> Result<(), &'static str> {
        if limits.timeout > self.timeout {
            return Err("timeout_ms");
        }
        if limits.compile_timeout > self.compile_timeout {
            return Err("compile_timeout_ms");
        }
        if limits.memory_bytes > self.memory_bytes {
            return Err("memory_mb");
        }
        if limits.output_bytes > self.output_bytes {
            return Err("output_bytes");
        }
        Ok(())
    }
}
