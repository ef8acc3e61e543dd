//! The resource limits of one execution, as asked for and as resolved, and
//! the bounds that keep them sane.
//!
//! [`RequestedLimits`] are the limits a client may set, each optional:
//! the JSON API's `limits`, the cluster message's, and the server's maxima
//! (`sandbox.max_limits`). [`Limits`] are every limit, resolved: the
//! configuration's defaults (`sandbox.limits`), a language's, the ones the
//! sandbox enforces and the languages listing shows. Both read and write in
//! the units of the configuration and the API (`timeout_ms`, `memory_mb`,
//! ...); in Rust, `Limits` holds durations and bytes.
//!
//! Each step has two time limits. The CPU-time limit (`cpu_time_ms`,
//! `compile_cpu_time_ms`: what the step's processes used together) decides
//! a timeout whatever else runs on the host; the wall-clock limit
//! (`timeout_ms`, `compile_timeout_ms`) is a generous cap against a program
//! that sleeps or blocks. A request that sets only one of a step's two
//! keeps them consistent: a CPU-time limit alone raises the wall clock to
//! [`wall_clock_for`] it where that is more, and a wall clock alone raises
//! the CPU-time limit to it where that is more (what `timeout_ms` allowed
//! before there was a CPU-time limit), each within the server's maxima.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Bytes in a MiB, the unit of the memory and size limits.
const MIB: u64 = 1024 * 1024;

/// Docker refuses a memory limit under 6 MiB; leave room for the runtime.
const MIN_MEMORY_MB: u64 = 8;
/// The wall clock a CPU-time limit gets when a request sets it alone: three
/// times it (a busy host gives a program a share of a CPU), and a second
/// for the program's start.
const WALL_PER_CPU: u32 = 3;
const WALL_MARGIN: Duration = Duration::from_secs(1);

/// Every limit of one execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock time of the run step, in milliseconds; enforced by
    /// killing the program.
    #[serde(rename = "timeout_ms", with = "milliseconds")]
    #[schema(value_type = u64)]
    pub timeout: Duration,
    /// Wall-clock time of the compile step, where a language has one, in
    /// milliseconds.
    #[serde(rename = "compile_timeout_ms", with = "milliseconds")]
    #[schema(value_type = u64)]
    pub compile_timeout: Duration,
    /// CPU time the run step's processes may use together, in
    /// milliseconds; enforced by killing them all.
    #[serde(rename = "cpu_time_ms", with = "milliseconds")]
    #[schema(value_type = u64)]
    pub cpu_time: Duration,
    /// CPU time of the compile step, in milliseconds.
    #[serde(rename = "compile_cpu_time_ms", with = "milliseconds")]
    #[schema(value_type = u64)]
    pub compile_cpu_time: Duration,
    /// Memory of the sandbox, in MiB; swap is set equal, so there is none.
    #[serde(rename = "memory_mb", with = "mebibytes")]
    pub memory_bytes: u64,
    /// Bytes of stdout and stderr together; past it the program is killed.
    pub output_bytes: usize,
    /// CPU quota in CPUs.
    pub cpus: f64,
    /// Processes and threads in the sandbox.
    pub pids: i64,
    /// Open file descriptors (`ulimit -n`).
    pub nofile: i64,
    /// Largest file the program may write (`ulimit -f`), in MiB.
    #[serde(rename = "file_size_mb", with = "mebibytes")]
    pub file_size_bytes: u64,
    /// Size of the writable scratch area (`/tmp`, a tmpfs), in MiB.
    #[serde(rename = "scratch_mb", with = "mebibytes")]
    pub scratch_bytes: u64,
}

impl Limits {
    /// Says which field is out of range, if any (as `field ...`).
    pub fn check(&self) -> Result<(), String> {
        if self.timeout.is_zero() {
            return Err("timeout_ms must be above 0".into());
        }
        if self.compile_timeout.is_zero() {
            return Err("compile_timeout_ms must be above 0".into());
        }
        if self.cpu_time.is_zero() {
            return Err("cpu_time_ms must be above 0".into());
        }
        if self.compile_cpu_time.is_zero() {
            return Err("compile_cpu_time_ms must be above 0".into());
        }
        if self.memory_bytes < MIN_MEMORY_MB * MIB {
            return Err(format!("memory_mb must be at least {MIN_MEMORY_MB}"));
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

/// The limits a request may set instead of its language's; as the server's
/// maxima, the most a request may set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestedLimits {
    /// Wall-clock time of the run, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Wall-clock time of the compile step, in milliseconds.
    pub compile_timeout_ms: Option<u64>,
    /// CPU time of the run (its processes together), in milliseconds.
    #[serde(default)]
    pub cpu_time_ms: Option<u64>,
    /// CPU time of the compile step, in milliseconds.
    #[serde(default)]
    pub compile_cpu_time_ms: Option<u64>,
    /// Memory, in MiB.
    pub memory_mb: Option<u64>,
    /// Bytes of stdout and stderr together.
    pub output_bytes: Option<usize>,
}

/// Why requested limits cannot be resolved: the message names the field as
/// a request gives it (`limits.memory_mb ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("limits.{field} must be at least {min}")]
    BelowFloor { field: &'static str, min: u64 },
    #[error("limits.{field} must be at most {max} (the server's maximum)")]
    AboveMaximum { field: &'static str, max: u64 },
}

impl RequestedLimits {
    /// `base` with these limits laid over it, each at least its floor and
    /// at most `max`'s (where `max` sets one), a step's two time limits
    /// kept consistent where only one is set (see the module's opening).
    pub fn resolve(&self, base: &Limits, max: &RequestedLimits) -> Result<Limits, LimitError> {
        let mut limits = base.clone();
        (limits.timeout, limits.cpu_time) = time_limits(
            ("timeout_ms", self.timeout_ms, max.timeout_ms, base.timeout),
            (
                "cpu_time_ms",
                self.cpu_time_ms,
                max.cpu_time_ms,
                base.cpu_time,
            ),
        )?;
        (limits.compile_timeout, limits.compile_cpu_time) = time_limits(
            (
                "compile_timeout_ms",
                self.compile_timeout_ms,
                max.compile_timeout_ms,
                base.compile_timeout,
            ),
            (
                "compile_cpu_time_ms",
                self.compile_cpu_time_ms,
                max.compile_cpu_time_ms,
                base.compile_cpu_time,
            ),
        )?;
        if let Some(mb) = self.memory_mb {
            within("memory_mb", mb, MIN_MEMORY_MB, max.memory_mb)?;
            limits.memory_bytes = mb.saturating_mul(MIB);
        }
        if let Some(bytes) = self.output_bytes {
            let max_bytes = max.output_bytes.map(|bytes| bytes as u64);
            within("output_bytes", bytes as u64, 1, max_bytes)?;
            limits.output_bytes = bytes;
        }
        Ok(limits)
    }
}

/// The resolved limits as a request would ask for them.
impl From<&Limits> for RequestedLimits {
    fn from(limits: &Limits) -> RequestedLimits {
        RequestedLimits {
            timeout_ms: Some(whole_millis(limits.timeout)),
            compile_timeout_ms: Some(whole_millis(limits.compile_timeout)),
            cpu_time_ms: Some(whole_millis(limits.cpu_time)),
            compile_cpu_time_ms: Some(whole_millis(limits.compile_cpu_time)),
            memory_mb: Some(limits.memory_bytes.div_ceil(MIB)),
            output_bytes: Some(limits.output_bytes),
        }
    }
}

/// One step's wall-clock and CPU-time limits, each `(field, requested,
/// maximum, base)`: what is requested within its floor and maximum, and
/// where only one is requested the other raised to match it (never
/// lowered, never past its maximum).
type TimeLimit = (&'static str, Option<u64>, Option<u64>, Duration);

fn time_limits(wall: TimeLimit, cpu: TimeLimit) -> Result<(Duration, Duration), LimitError> {
    let (wall_field, wall_ms, wall_max, wall_base) = wall;
    let (cpu_field, cpu_ms, cpu_max, cpu_base) = cpu;
    if let Some(ms) = wall_ms {
        within(wall_field, ms, 1, wall_max)?;
    }
    if let Some(ms) = cpu_ms {
        within(cpu_field, ms, 1, cpu_max)?;
    }
    let capped = |duration: Duration, max: Option<u64>| match max {
        Some(max) => duration.min(Duration::from_millis(max)),
        None => duration,
    };
    Ok(match (wall_ms, cpu_ms) {
        (Some(wall), Some(cpu)) => (Duration::from_millis(wall), Duration::from_millis(cpu)),
        (Some(wall), None) => {
            let wall = Duration::from_millis(wall);
            (wall, cpu_base.max(capped(wall, cpu_max)))
        }
        (None, Some(cpu)) => {
            let cpu = Duration::from_millis(cpu);
            (wall_base.max(capped(wall_clock_for(cpu), wall_max)), cpu)
        }
        (None, None) => (wall_base, cpu_base),
    })
}

/// The wall-clock limit a CPU-time limit set alone comes with.
pub fn wall_clock_for(cpu_time: Duration) -> Duration {
    cpu_time.saturating_mul(WALL_PER_CPU) + WALL_MARGIN
}

fn within(field: &'static str, value: u64, min: u64, max: Option<u64>) -> Result<(), LimitError> {
    if value < min {
        return Err(LimitError::BelowFloor { field, min });
    }
    match max {
        Some(max) if value > max => Err(LimitError::AboveMaximum { field, max }),
        _ => Ok(()),
    }
}

fn whole_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A duration written as whole milliseconds.
mod milliseconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(super::whole_millis(*duration))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

/// Bytes written as whole MiB.
mod mebibytes {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::MIB;

    pub fn serialize<S: Serializer>(bytes: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(bytes.div_ceil(MIB))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        let mb = u64::deserialize(deserializer)?;
        mb.checked_mul(MIB).ok_or_else(|| {
            D::Error::custom(format!("{mb} MiB is more than this machine can count"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Limits {
        Limits {
            timeout: Duration::from_secs(10),
            compile_timeout: Duration::from_secs(30),
            cpu_time: Duration::from_secs(3),
            compile_cpu_time: Duration::from_secs(10),
            memory_bytes: 64 * MIB,
            output_bytes: 1000,
            cpus: 1.0,
            pids: 64,
            nofile: 64,
            file_size_bytes: 8 * MIB,
            scratch_bytes: 16 * MIB,
        }
    }

    fn max() -> RequestedLimits {
        RequestedLimits {
            timeout_ms: Some(30_000),
            compile_timeout_ms: Some(60_000),
            cpu_time_ms: Some(10_000),
            compile_cpu_time_ms: Some(20_000),
            memory_mb: Some(1024),
            output_bytes: Some(1 << 20),
        }
    }

    #[test]
    fn requested_limits_replace_only_what_they_set() {
        let requested = RequestedLimits {
            timeout_ms: Some(500),
            memory_mb: Some(128),
            ..Default::default()
        };
        let limits = requested.resolve(&base(), &max()).expect("resolves");
        assert_eq!(limits.timeout, Duration::from_millis(500));
        assert_eq!(limits.memory_bytes, 128 * MIB);
        assert_eq!(limits.compile_timeout, base().compile_timeout);
        assert_eq!(limits.output_bytes, base().output_bytes);
        assert_eq!(
            RequestedLimits::default().resolve(&base(), &max()),
            Ok(base())
        );
    }

    #[test]
    fn a_steps_time_limit_set_alone_brings_the_other_along() {
        let resolve = |requested: RequestedLimits| {
            let limits = requested.resolve(&base(), &max()).expect("resolves");
            (
                limits.cpu_time.as_millis(),
                limits.timeout.as_millis(),
                limits.compile_cpu_time.as_millis(),
                limits.compile_timeout.as_millis(),
            )
        };
        // A CPU-time limit alone: the wall clock rises to 3 x + 1 s, not
        // past its maximum, and never falls below the language's.
        let cpu = |ms| RequestedLimits {
            cpu_time_ms: Some(ms),
            ..Default::default()
        };
        assert_eq!(resolve(cpu(5000)), (5000, 16_000, 10_000, 30_000));
        assert_eq!(resolve(cpu(10_000)), (10_000, 30_000, 10_000, 30_000));
        assert_eq!(resolve(cpu(100)), (100, 10_000, 10_000, 30_000));
        // A wall clock alone (what timeout_ms meant before): the CPU time
        // rises with it, within its maximum, and is never lowered.
        let wall = |ms| RequestedLimits {
            timeout_ms: Some(ms),
            ..Default::default()
        };
        assert_eq!(resolve(wall(6000)), (6000, 6000, 10_000, 30_000));
        assert_eq!(resolve(wall(25_000)), (10_000, 25_000, 10_000, 30_000));
        assert_eq!(resolve(wall(500)), (3000, 500, 10_000, 30_000));
        // Both: as given. The compile step's pair alike.
        let both = RequestedLimits {
            timeout_ms: Some(2000),
            cpu_time_ms: Some(1500),
            compile_cpu_time_ms: Some(15_000),
            ..Default::default()
        };
        assert_eq!(resolve(both), (1500, 2000, 15_000, 46_000));
    }

    #[test]
    fn each_requested_limit_has_a_floor_and_a_maximum() {
        let cases = [
            (
                RequestedLimits {
                    timeout_ms: Some(0),
                    ..Default::default()
                },
                "limits.timeout_ms must be at least 1",
            ),
            (
                RequestedLimits {
                    compile_timeout_ms: Some(60_001),
                    ..Default::default()
                },
                "limits.compile_timeout_ms must be at most 60000 (the server's maximum)",
            ),
            (
                RequestedLimits {
                    cpu_time_ms: Some(10_001),
                    ..Default::default()
                },
                "limits.cpu_time_ms must be at most 10000 (the server's maximum)",
            ),
            (
                RequestedLimits {
                    compile_cpu_time_ms: Some(0),
                    ..Default::default()
                },
                "limits.compile_cpu_time_ms must be at least 1",
            ),
            (
                RequestedLimits {
                    memory_mb: Some(7),
                    ..Default::default()
                },
                "limits.memory_mb must be at least 8",
            ),
            (
                RequestedLimits {
                    output_bytes: Some((1 << 20) + 1),
                    ..Default::default()
                },
                "limits.output_bytes must be at most 1048576 (the server's maximum)",
            ),
        ];
        for (requested, message) in cases {
            let error = requested.resolve(&base(), &max()).expect_err(message);
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn limits_read_and_write_in_the_configurations_units() {
        let json = serde_json::to_value(base()).expect("serialises");
        assert_eq!(json["timeout_ms"], 10_000);
        assert_eq!(json["cpu_time_ms"], 3000);
        assert_eq!(json["memory_mb"], 64);
        assert_eq!(json["file_size_mb"], 8);
        let back: Limits = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, base());
        let huge = serde_json::json!({"memory_mb": u64::MAX});
        assert!(serde_json::from_value::<Limits>(huge).is_err());
        assert_eq!(
            RequestedLimits::from(&base()).resolve(&base(), &max()),
            Ok(base())
        );
    }
}
