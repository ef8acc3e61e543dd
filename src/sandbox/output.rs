//! A program's output, collected under a cap: stdout and stderr kept apart,
//! never more than the cap over both, invalid UTF-8 replaced at the end.
//!
//! Both runs use it: the fresh run feeds it the attach stream of its
//! container ([`collect_attached`]), the warm run the output frames its
//! runner decoded. Each run keeps its own timer around it.

use std::time::Duration;

use bollard::container::LogOutput;
use futures_util::StreamExt;

use super::engine::AttachedOutput;
use super::{Status, StepOutcome, TimeoutKind};

/// Which of the program's streams bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Channel {
    Stdout,
    Stderr,
}

/// Whether collecting may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    /// The cap is reached: the program is to be stopped.
    OverCap,
}

/// How an attach stream ended.
pub(super) enum Ending {
    /// The container closed its output: it exited.
    Exited,
    OverCap,
}

/// The output kept so far.
pub(super) struct Collector {
    remaining: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_truncated: bool,
    stderr_truncated: bool,
}

/// The output of one step, as a client reads it.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Collected {
    pub stdout: String,
    pub stderr: String,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
}

impl Collector {
    /// Keeps at most `cap` bytes over both streams.
    pub(super) fn new(cap: usize) -> Collector {
        Collector {
            remaining: cap,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
        }
    }

    pub(super) fn push(&mut self, channel: Channel, bytes: &[u8]) -> Flow {
        let (buffer, truncated) = match channel {
            Channel::Stdout => (&mut self.stdout, &mut self.stdout_truncated),
            Channel::Stderr => (&mut self.stderr, &mut self.stderr_truncated),
        };
        if bytes.len() > self.remaining {
            buffer.extend_from_slice(&bytes[..self.remaining]);
            self.remaining = 0;
            *truncated = true;
            return Flow::OverCap;
        }
        buffer.extend_from_slice(bytes);
        self.remaining -= bytes.len();
        Flow::Continue
    }

    pub(super) fn finish(self) -> Collected {
        Collected {
            stdout: String::from_utf8_lossy(&self.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr).into_owned(),
            stdout_truncated: self.stdout_truncated,
            stderr_truncated: self.stderr_truncated,
        }
    }
}

impl Collected {
    /// A step's outcome with this output. What only a runner measures (CPU
    /// time, memory peak) is left unknown for the caller to fill in; a
    /// timeout is the wall clock's (the engine's own timer) unless the
    /// caller learns otherwise from the runner.
    pub(super) fn into_step(
        self,
        status: Status,
        exit_code: i64,
        signal: Option<i32>,
        wall_time: Duration,
    ) -> StepOutcome {
        StepOutcome {
            status,
            exit_code: Some(exit_code),
            signal,
            stdout: self.stdout,
            stderr: self.stderr,
            stdout_truncated: self.stdout_truncated,
            stderr_truncated: self.stderr_truncated,
            wall_time_ms: wall_time.as_millis() as u64,
            timeout_kind: (status == Status::Timeout).then_some(TimeoutKind::Wall),
            cpu_time_ms: None,
            memory_peak_bytes: None,
        }
    }
}

/// Reads a container's attach stream into `collector` until the container
/// closes it or the cap is reached.
pub(super) async fn collect_attached(
    output: &mut AttachedOutput,
    collector: &mut Collector,
) -> Result<Ending, bollard::errors::Error> {
    while let Some(frame) = output.next().await {
        let flow = match frame? {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                collector.push(Channel::Stdout, &message)
            }
            LogOutput::StdErr { message } => collector.push(Channel::Stderr, &message),
            LogOutput::StdIn { .. } => Flow::Continue,
        };
        if flow == Flow::OverCap {
            return Ok(Ending::OverCap);
        }
    }
    Ok(Ending::Exited)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_keeps_streams_apart_and_stops_at_the_cap() {
        let mut collector = Collector::new(10);
        assert_eq!(collector.push(Channel::Stdout, b"abc"), Flow::Continue);
        assert_eq!(collector.push(Channel::Stderr, b"de"), Flow::Continue);
        assert_eq!(
            collector.push(Channel::Stdout, b"0123456789"),
            Flow::OverCap
        );
        let collected = collector.finish();
        assert_eq!(collected.stdout, "abc01234");
        assert_eq!(collected.stderr, "de");
        assert!(collected.stdout_truncated);
        assert!(!collected.stderr_truncated);
    }

    #[test]
    fn collector_replaces_invalid_utf8() {
        let mut collector = Collector::new(100);
        collector.push(Channel::Stdout, b"ok \xff");
        assert_eq!(collector.finish().stdout, "ok \u{fffd}");
    }
}
