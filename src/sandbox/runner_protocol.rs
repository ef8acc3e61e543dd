//! The engine's side of the wire to `braindrill-runner`, the in-sandbox
//! runner of a warm container (its source, and the wire's description, are
//! in images/runtime/runner.rs; the two must agree).
//!
//! The engine writes a request on the container's stdin and reads frames
//! from its stdout: a ready mark, then per step (a compile step, the run) the
//! program's output chunks and one result, each step only while the ones
//! before it succeeded; then the runner's reset: clean (the next request may
//! follow) or dirty (the runner exits). A fault ends it all. Everything here
//! is pure (bytes in, values out), so it is tested without Docker.

use std::time::Duration;

use super::{SourceFile, TimeoutKind};

const MAGIC: &[u8; 4] = b"BDR4";
/// A judged submission's request: `BDR4`'s, with the index of the first
/// test step and flags after the magic (see images/runtime/runner/judging.rs).
const JUDGING_MAGIC: &[u8; 4] = b"BDR5";
/// Judging flag: stop after the first test step that did not succeed.
const STOP_ON_FAILURE: u8 = 1;
/// Marks an unknown figure in a result.
const UNKNOWN: u64 = u64::MAX;
/// Length of a result frame's body.
const RESULT_LEN: usize = 1 + 4 + 1 + 8 * 4;
/// A frame longer than this is not the runner's (it sends 32 KiB chunks).
const MAX_FRAME: usize = 1024 * 1024;
/// Result flags: the wall-clock limit, the output cap, a cut stream, the
/// CPU-time limit.
const WALL_LIMIT: u8 = 1;
const OUTPUT_CAP: u8 = 2;
const STDOUT_CUT: u8 = 4;
const STDERR_CUT: u8 = 8;
const CPU_LIMIT: u8 = 16;

/// One execution for the runner: the files, and the steps to run on them.
pub struct RunRequest<'a> {
    pub files: &'a [SourceFile],
    pub steps: &'a [RunStep<'a>],
}

/// One program the runner runs to its end, under its own time limits and
/// output cap.
pub struct RunStep<'a> {
    /// Wall-clock limit.
    pub timeout: Duration,
    /// CPU-time limit of the sandbox's processes together.
    pub cpu_limit: Duration,
    pub output_cap: usize,
    pub argv: &'a [String],
    pub stdin: &'a [u8],
}

impl RunRequest<'_> {
    /// The request's bytes; fails only on a part too large for the wire.
    pub fn encode(&self) -> anyhow::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(MAGIC);
        self.encode_body(bytes)
    }

    /// The request of a judged submission: the steps before `first_test`
    /// (a compile) run while they succeed, as in `BDR4`; the steps from it
    /// on are its tests, each run after the runner's reset of processes
    /// and scratch, whatever the one before came to (unless
    /// `stop_on_failure`).
    pub fn encode_tests(
        &self,
        first_test: usize,
        stop_on_failure: bool,
    ) -> anyhow::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(JUDGING_MAGIC);
        put_len(&mut bytes, first_test)?;
        bytes.push(if stop_on_failure { STOP_ON_FAILURE } else { 0 });
        self.encode_body(bytes)
    }

    fn encode_body(&self, mut bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
        put_len(&mut bytes, self.files.len())?;
        for file in self.files {
            put_bytes(&mut bytes, file.name.as_bytes())?;
            put_bytes(&mut bytes, file.content.as_bytes())?;
        }
        put_len(&mut bytes, self.steps.len())?;
        for step in self.steps {
            for limit in [step.timeout, step.cpu_limit] {
                let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
                bytes.extend_from_slice(&ms.to_be_bytes());
            }
            bytes.extend_from_slice(&(step.output_cap as u64).to_be_bytes());
            put_len(&mut bytes, step.argv.len())?;
            for argument in step.argv {
                put_bytes(&mut bytes, argument.as_bytes())?;
            }
            put_bytes(&mut bytes, step.stdin)?;
        }
        Ok(bytes)
    }
}

fn put_len(bytes: &mut Vec<u8>, len: usize) -> anyhow::Result<()> {
    let len = u32::try_from(len).map_err(|_| anyhow::anyhow!("a request part is too large"))?;
    bytes.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

fn put_bytes(bytes: &mut Vec<u8>, part: &[u8]) -> anyhow::Result<()> {
    put_len(bytes, part.len())?;
    bytes.extend_from_slice(part);
    Ok(())
}

/// How the program ended, by the runner's `waitpid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    Signaled(i32),
}

/// The runner's result frame, one per step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    pub ending: Ending,
    /// The runner killed the program at this time limit.
    pub time_limit: Option<TimeoutKind>,
    /// The output cap was reached and the runner killed the program.
    pub output_capped: bool,
    /// Which stream's output was cut at the cap.
    pub stdout_cut: bool,
    pub stderr_cut: bool,
    pub wall_time: Duration,
    pub cpu_time: Option<Duration>,
    /// The step's own memory peak: its largest process's peak resident
    /// set, or the rise of the container's peak during the step where that
    /// is more (processes together).
    pub memory_peak_bytes: Option<u64>,
    pub oom_kills: Option<u64>,
}

/// One frame from the runner.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Ready,
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Result(RunResult),
    /// The runner could not run the program.
    Fault(String),
    /// After a request's last step: the reset is proven, the runner waits
    /// for the next request.
    Clean,
    /// After a request's last step: the reset found this left behind; the
    /// runner exits.
    Dirty(String),
}

/// Splits the runner's stdout (in whatever pieces the engine delivers it)
/// into frames.
#[derive(Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

impl FrameDecoder {
    /// Whether no byte is buffered.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, if one is buffered; an error on bytes that
    /// are not the runner's wire.
    pub fn next_frame(&mut self) -> anyhow::Result<Option<Frame>> {
        let Some(&tag) = self.buffer.first() else {
            return Ok(None);
        };
        let (frame, used) = match tag {
            b'R' => (Frame::Ready, 1),
            b'X' => {
                if self.buffer.len() < 1 + RESULT_LEN {
                    return Ok(None);
                }
                (
                    Frame::Result(parse_result(&self.buffer[1..1 + RESULT_LEN])),
                    1 + RESULT_LEN,
                )
            }
            b'1' | b'2' | b'F' | b'C' | b'D' => {
                let Some(header) = self.buffer.get(1..5) else {
                    return Ok(None);
                };
                let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
                if len > MAX_FRAME {
                    anyhow::bail!("the runner sent a frame of {len} bytes");
                }
                let Some(body) = self.buffer.get(5..5 + len) else {
                    return Ok(None);
                };
                let body = body.to_vec();
                let frame = match tag {
                    b'1' => Frame::Stdout(body),
                    b'2' => Frame::Stderr(body),
                    b'C' if body.is_empty() => Frame::Clean,
                    b'C' => anyhow::bail!("the runner sent a clean mark with a body"),
                    b'D' => Frame::Dirty(String::from_utf8_lossy(&body).into_owned()),
                    _ => Frame::Fault(String::from_utf8_lossy(&body).into_owned()),
                };
                (frame, 5 + len)
            }
            other => anyhow::bail!("the runner sent an unknown frame tag {other:#04x}"),
        };
        self.buffer.drain(..used);
        Ok(Some(frame))
    }
}

fn parse_result(body: &[u8]) -> RunResult {
    let u64_at = |at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&body[at..at + 8]);
        u64::from_be_bytes(bytes)
    };
    let known = |value: u64| (value != UNKNOWN).then_some(value);
    let value = i32::from_be_bytes([body[1], body[2], body[3], body[4]]);
    let flags = body[5];
    RunResult {
        ending: if body[0] == 0 {
            Ending::Exited(value)
        } else {
            Ending::Signaled(value)
        },
        time_limit: if flags & CPU_LIMIT != 0 {
            Some(TimeoutKind::Cpu)
        } else if flags & WALL_LIMIT != 0 {
            Some(TimeoutKind::Wall)
        } else {
            None
        },
        output_capped: flags & OUTPUT_CAP != 0,
        stdout_cut: flags & STDOUT_CUT != 0,
        stderr_cut: flags & STDERR_CUT != 0,
        wall_time: Duration::from_micros(u64_at(6)),
        cpu_time: known(u64_at(14)).map(Duration::from_micros),
        memory_peak_bytes: known(u64_at(22)),
        oom_kills: known(u64_at(30)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result_frame(kind: u8, value: i32, flags: u8, figures: [u64; 4]) -> Vec<u8> {
        let mut bytes = vec![b'X', kind];
        bytes.extend_from_slice(&value.to_be_bytes());
        bytes.push(flags);
        for figure in figures {
            bytes.extend_from_slice(&figure.to_be_bytes());
        }
        bytes
    }

    #[test]
    fn decodes_frames_split_anywhere() {
        let mut wire = vec![b'R', b'1', 0, 0, 0, 2, b'h', b'i', b'2', 0, 0, 0, 1, b'!'];
        wire.extend(result_frame(1, 9, 1, [1500, UNKNOWN, 4096, 1]));
        wire.extend(result_frame(1, 9, 16 | 4, [2, 3000, 1, 0]));
        wire.extend([b'C', 0, 0, 0, 0]);
        wire.extend(result_frame(0, 0, 0, [1, 2, 3, 0]));
        wire.extend([b'D', 0, 0, 0, 3, b'p', b'i', b'd']);
        let mut decoder = FrameDecoder::default();
        let mut frames = Vec::new();
        for byte in wire {
            decoder.push(&[byte]);
            while let Some(frame) = decoder.next_frame().ok().flatten() {
                frames.push(frame);
            }
        }
        assert_eq!(
            frames,
            vec![
                Frame::Ready,
                Frame::Stdout(b"hi".to_vec()),
                Frame::Stderr(b"!".to_vec()),
                Frame::Result(RunResult {
                    ending: Ending::Signaled(9),
                    time_limit: Some(TimeoutKind::Wall),
                    output_capped: false,
                    stdout_cut: false,
                    stderr_cut: false,
                    wall_time: Duration::from_micros(1500),
                    cpu_time: None,
                    memory_peak_bytes: Some(4096),
                    oom_kills: Some(1),
                }),
                Frame::Result(RunResult {
                    ending: Ending::Signaled(9),
                    time_limit: Some(TimeoutKind::Cpu),
                    output_capped: false,
                    stdout_cut: true,
                    stderr_cut: false,
                    wall_time: Duration::from_micros(2),
                    cpu_time: Some(Duration::from_micros(3000)),
                    memory_peak_bytes: Some(1),
                    oom_kills: Some(0),
                }),
                Frame::Clean,
                Frame::Result(RunResult {
                    ending: Ending::Exited(0),
                    time_limit: None,
                    output_capped: false,
                    stdout_cut: false,
                    stderr_cut: false,
                    wall_time: Duration::from_micros(1),
                    cpu_time: Some(Duration::from_micros(2)),
                    memory_peak_bytes: Some(3),
                    oom_kills: Some(0),
                }),
                Frame::Dirty("pid".into()),
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_the_runners_wire() {
        let mut decoder = FrameDecoder::default();
        decoder.push(b"Traceback");
        assert!(decoder.next_frame().is_err());
        let mut decoder = FrameDecoder::default();
        decoder.push(&[b'1', 0xff, 0xff, 0xff, 0xff]);
        assert!(decoder.next_frame().is_err());
        // A clean mark carries nothing.
        let mut decoder = FrameDecoder::default();
        decoder.push(&[b'C', 0, 0, 0, 1, b'x']);
        assert!(decoder.next_frame().is_err());
        let mut decoder = FrameDecoder::default();
        decoder.push(&[b'D', 0x7f, 0xff, 0xff, 0xff]);
        assert!(decoder.next_frame().is_err());
    }

    #[test]
    fn encodes_a_request_in_the_runners_order() {
        let compile = vec!["cc".to_string(), "main.c".to_string()];
        let run = vec!["./a".to_string()];
        let files = vec![SourceFile {
            name: "main.c".into(),
            content: "int x;".into(),
        }];
        let steps = [
            RunStep {
                timeout: Duration::from_millis(10_000),
                cpu_limit: Duration::from_millis(4000),
                output_cap: 10,
                argv: &compile,
                stdin: b"",
            },
            RunStep {
                timeout: Duration::from_millis(3000),
                cpu_limit: Duration::from_millis(1000),
                output_cap: 10,
                argv: &run,
                stdin: b"in",
            },
        ];
        let bytes = RunRequest {
            files: &files,
            steps: &steps,
        }
        .encode()
        .unwrap_or_default();
        let mut expected = b"BDR4".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 6]);
        expected.extend_from_slice(b"main.c");
        expected.extend_from_slice(&[0, 0, 0, 6]);
        expected.extend_from_slice(b"int x;");
        expected.extend_from_slice(&[0, 0, 0, 2]);
        expected.extend_from_slice(&10_000u64.to_be_bytes());
        expected.extend_from_slice(&4000u64.to_be_bytes());
        expected.extend_from_slice(&10u64.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 2]);
        expected.extend_from_slice(b"cc");
        expected.extend_from_slice(&[0, 0, 0, 6]);
        expected.extend_from_slice(b"main.c");
        expected.extend_from_slice(&[0, 0, 0, 0]);
        expected.extend_from_slice(&3000u64.to_be_bytes());
        expected.extend_from_slice(&1000u64.to_be_bytes());
        expected.extend_from_slice(&10u64.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 3]);
        expected.extend_from_slice(b"./a");
        expected.extend_from_slice(&[0, 0, 0, 2]);
        expected.extend_from_slice(b"in");
        assert_eq!(bytes, expected);
    }
}
