//! The live run: one interactive execution in a runner container of its
//! own, started with `--live` (images/runtime/runner/live.rs), whose output
//! leaves as it is produced and whose stdin and signals arrive while it runs.
//!
//! The run reads the runner's frames as [`warm_run`](super::warm_run) does,
//! but forwards each output chunk at once as a [`LiveEvent`] on a bounded
//! channel: a reader that does not keep up stops this loop, then Docker's
//! attach stream, then the runner's writes, then the program's; memory stays
//! bounded on every hop. Input ([`LiveInput`]) is written to the runner's
//! stdin by a task of its own, so that a program that does not read its
//! stdin never blocks its output. Every limit of a run holds (the runner's
//! CPU time, wall clock and output cap, the container's memory); the engine
//! adds its own timer behind the runner's and an idle limit: a run that
//! neither writes output nor is sent input for that long ends as a
//! (wall-clock) timeout. The container serves this one execution and is
//! removed on every path, a dropped (cancelled) run included.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bollard::Docker;
use bollard::container::LogOutput;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::container_spec::{ContainerSpec, RUNNER};
use super::engine::{self, AttachedInput, AttachedOutput};
use super::output::Collector;
use super::runner_container::{self, RemoveOnDrop};
use super::runner_protocol::{Frame, FrameDecoder, RunRequest, RunStep};
use super::warm_run::step_outcome;
use super::{Outcome, Placement, Status, StepOutcome, Submission};

/// Time for the live container to start and its runner to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long past a step's wall-clock limit the engine waits for the
/// runner's result before it stops the container itself.
const RUNNER_GRACE: Duration = Duration::from_secs(2);
/// Output past the cap that the engine tolerates before it stops the
/// container itself (the runner cuts exactly at the cap).
const CAP_SLACK: usize = 64 * 1024;
/// Largest input frame (the runner refuses more); longer input is split.
const MAX_INPUT_FRAME: usize = 64 * 1024;

/// What a live run tells its reader, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiveEvent {
    /// A step begins: `compile` or `run`.
    Stage(String),
    /// Output, as UTF-8 (a character split between chunks is kept whole;
    /// invalid bytes become U+FFFD).
    Stdout(String),
    Stderr(String),
}

/// What a live run's client sends it while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LiveInput {
    Stdin(String),
    /// The program's stdin is closed: it reads EOF.
    CloseStdin,
    /// A signal number (SIGHUP, SIGINT, SIGQUIT, SIGKILL, SIGTERM).
    Signal(u8),
}

/// The channels and limits of one live run.
pub struct LiveIo {
    /// Bounded: its capacity is the run's window of unread output.
    pub events: mpsc::Sender<LiveEvent>,
    pub input: mpsc::UnboundedReceiver<LiveInput>,
    /// Bytes of stdin sent and not yet written to the sandbox: whoever
    /// sends input adds to it, the run takes off what it wrote (so the
    /// sender can bound what waits for a program that does not read).
    pub input_pending: Arc<AtomicUsize>,
    /// A run with no output and no input for this long ends.
    pub idle: Duration,
}

/// Runs `submission` live in a container of its own on `docker`.
pub async fn run(
    docker: &Docker,
    node: &str,
    placement: &Placement,
    submission: Submission,
    io: LiveIo,
) -> Outcome {
    let id = submission.execution_id.clone();
    let name = runner_container::new_name();
    // Dropped mid-create, the engine may finish the create after a first
    // removal: remove again later.
    let mut removal = RemoveOnDrop::new(docker, &name, true);
    let started = start(docker, node, placement, &submission, &name).await;
    removal.late = false;
    let (output, input) = match started {
        Ok(streams) => streams,
        Err(error) => {
            drop(removal);
            return Outcome::internal_error(&id, format!("{error:#}"));
        }
    };
    let outcome = match run_steps(output, input, &submission, io).await {
        Ok(Steps {
            outcomes,
            engine_killed,
        }) => {
            if engine_killed {
                engine::kill(docker, &name).await;
            }
            assemble(&submission, outcomes)
        }
        Err(error) if super::fresh_run::container_oom_killed(docker, &name).await => {
            tracing::info!(execution_id = %id, error = format!("{error:#}"), "a live sandbox was OOM-killed");
            let run = killed(Status::MemoryLimit, Duration::ZERO);
            Outcome {
                execution_id: id,
                status: Status::MemoryLimit,
                compile: None,
                run: Some(run),
                error: None,
            }
        }
        Err(error) => Outcome::internal_error(&id, format!("{error:#}")),
    };
    removal.remove().await;
    outcome
}

/// Creates, attaches to and starts the live container; its streams once
/// its runner is ready.
async fn start(
    docker: &Docker,
    node: &str,
    placement: &Placement,
    submission: &Submission,
    name: &str,
) -> anyhow::Result<(AttachedOutput, AttachedInput)> {
    let command = vec![RUNNER.to_string(), "--live".to_string()];
    let spec = ContainerSpec {
        image: &submission.language.image,
        command: &command,
        volume: None,
        code_read_only: false,
        limits: &submission.limits,
        placement,
        // Labelled with its execution: a sweep, or a test, finds it by it.
        labels: engine::labels(node, &submission.execution_id),
    };
    engine::create_container(docker, name, &spec).await?;
    match tokio::time::timeout(
        READY_TIMEOUT,
        runner_container::attach_and_start(docker, name),
    )
    .await
    {
        Ok(started) => started,
        Err(_elapsed) => anyhow::bail!("the runner of a live sandbox was not ready in time"),
    }
}

struct Steps {
    outcomes: Vec<StepOutcome>,
    /// The engine, not the runner, ended the last step (its own timer, the
    /// idle limit, its cap guard): the container must be killed.
    engine_killed: bool,
}

async fn run_steps(
    mut output: AttachedOutput,
    mut input: AttachedInput,
    submission: &Submission,
    io: LiveIo,
) -> anyhow::Result<Steps> {
    let limits = &submission.limits;
    let mut run_argv = submission.language.run.clone();
    run_argv.extend(submission.args.iter().cloned());
    let mut steps = Vec::with_capacity(2);
    let mut stages = Vec::with_capacity(2);
    if let Some(compile) = &submission.language.compile {
        steps.push(RunStep {
            timeout: limits.compile_timeout,
            cpu_limit: limits.compile_cpu_time,
            output_cap: limits.output_bytes,
            argv: compile,
            stdin: b"",
        });
        stages.push("compile");
    }
    steps.push(RunStep {
        timeout: limits.timeout,
        cpu_limit: limits.cpu_time,
        output_cap: limits.output_bytes,
        argv: &run_argv,
        // The run's stdin is the live input (the first message's `stdin`
        // comes as its first chunk).
        stdin: b"",
    });
    stages.push("run");
    let request = RunRequest {
        files: &submission.files,
        steps: &steps,
    }
    .encode()?;
    input
        .write_all(&request)
        .await
        .context("cannot send the execution to a live sandbox")?;
    input
        .flush()
        .await
        .context("cannot send the execution to a live sandbox")?;

    let born = Instant::now();
    // Milliseconds since `born` of the last input or output.
    let active = Arc::new(AtomicU64::new(0));
    let mut initial = Vec::new();
    if !submission.stdin.is_empty() {
        initial.push(LiveInput::Stdin(submission.stdin.clone()));
    }
    let writer = tokio::spawn(write_input(
        input,
        io.input,
        initial,
        io.input_pending.clone(),
        (active.clone(), born),
    ));
    let _writer = AbortOnDrop(writer);

    let mut decoder = FrameDecoder::default();
    let mut outcomes = Vec::with_capacity(steps.len());
    for (step, stage) in steps.iter().zip(stages) {
        if io
            .events
            .send(LiveEvent::Stage(stage.into()))
            .await
            .is_err()
        {
            anyhow::bail!("nobody reads the live run any more");
        }
        let started = Instant::now();
        let mut relay = Relay::new(&io.events, limits.output_bytes);
        // A compile step waits for no input: only its own limits bound it.
        let idle = if stage == "run" {
            io.idle
        } else {
            step.timeout + RUNNER_GRACE * 2
        };
        let ended = tokio::time::timeout(
            step.timeout + RUNNER_GRACE,
            relay.until_result(&mut output, &mut decoder, idle, &active, born),
        )
        .await;
        let outcome = match ended {
            Ok(Ok(Ending::Result(result))) => step_outcome(&result, Collector::new(0)),
            Ok(Ok(Ending::OverCap)) => {
                return Ok(Steps {
                    outcomes: push(outcomes, killed(Status::OutputLimit, started.elapsed())),
                    engine_killed: true,
                });
            }
            Ok(Ok(Ending::Idle)) | Err(_) => {
                return Ok(Steps {
                    outcomes: push(outcomes, killed(Status::Timeout, started.elapsed())),
                    engine_killed: true,
                });
            }
            Ok(Err(error)) => return Err(error),
        };
        let succeeded = outcome.status == Status::Ok;
        outcomes.push(outcome);
        if !succeeded {
            break;
        }
    }
    Ok(Steps {
        outcomes,
        engine_killed: false,
    })
}

fn push(mut outcomes: Vec<StepOutcome>, outcome: StepOutcome) -> Vec<StepOutcome> {
    outcomes.push(outcome);
    outcomes
}

/// The outcome when the engine stopped the container (SIGKILL: 137).
fn killed(status: Status, elapsed: Duration) -> StepOutcome {
    Collector::new(0)
        .finish()
        .into_step(status, 137, Some(9), elapsed)
}

/// The outcome of the steps that ran, as [`warm_run`](super::warm_run)
/// assembles it.
fn assemble(submission: &Submission, mut outcomes: Vec<StepOutcome>) -> Outcome {
    let compiled = submission.language.compile.is_some();
    let compile = if compiled && !outcomes.is_empty() {
        Some(outcomes.remove(0))
    } else {
        None
    };
    let run = outcomes.pop();
    let status = match &run {
        Some(run) => run.status,
        None => Status::CompileError,
    };
    Outcome {
        execution_id: submission.execution_id.clone(),
        status,
        compile,
        run,
        error: None,
    }
}

/// Writes the client's input to the runner as its live frames, in order.
async fn write_input(
    mut input: AttachedInput,
    mut from_client: mpsc::UnboundedReceiver<LiveInput>,
    initial: Vec<LiveInput>,
    input_pending: Arc<AtomicUsize>,
    (active, born): (Arc<AtomicU64>, Instant),
) {
    let mut pending = initial.into_iter();
    loop {
        let (next, counted) = match pending.next() {
            Some(next) => (next, false),
            None => match from_client.recv().await {
                Some(next) => (next, true),
                // Nobody sends more: the input stays open (the client may
                // only be reading); the run ends by itself or is dropped.
                None => return std::future::pending().await,
            },
        };
        active.store(born.elapsed().as_millis() as u64, Ordering::Relaxed);
        let bytes = encode_input(&next);
        if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
            return;
        }
        if let (LiveInput::Stdin(text), true) = (&next, counted) {
            input_pending.fetch_sub(text.len(), Ordering::Relaxed);
        }
    }
}

/// The runner's live frames for one input (runner/live.rs): `I` + u32
/// length + bytes (split into frames of at most 64 KiB), `E`, `S` + signal.
pub(super) fn encode_input(input: &LiveInput) -> Vec<u8> {
    match input {
        LiveInput::Stdin(text) => {
            let mut bytes = Vec::with_capacity(text.len() + 5);
            for chunk in text.as_bytes().chunks(MAX_INPUT_FRAME) {
                bytes.push(b'I');
                bytes.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
                bytes.extend_from_slice(chunk);
            }
            bytes
        }
        LiveInput::CloseStdin => vec![b'E'],
        LiveInput::Signal(signal) => vec![b'S', *signal],
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How a step's relay ended.
enum Ending {
    Result(super::runner_protocol::RunResult),
    /// The engine's cap guard: far more output than the cap.
    OverCap,
    /// Neither output nor input for the idle limit.
    Idle,
}

/// Forwards one step's output frames as events, until its result.
struct Relay<'a> {
    events: &'a mpsc::Sender<LiveEvent>,
    cap: usize,
    forwarded: usize,
    stdout: Utf8Carry,
    stderr: Utf8Carry,
}

impl<'a> Relay<'a> {
    fn new(events: &'a mpsc::Sender<LiveEvent>, cap: usize) -> Relay<'a> {
        Relay {
            events,
            cap,
            forwarded: 0,
            stdout: Utf8Carry::default(),
            stderr: Utf8Carry::default(),
        }
    }

    async fn until_result(
        &mut self,
        output: &mut AttachedOutput,
        decoder: &mut FrameDecoder,
        idle: Duration,
        active: &AtomicU64,
        born: Instant,
    ) -> anyhow::Result<Ending> {
        let mut runner_said = Vec::new();
        loop {
            while let Some(frame) = decoder.next_frame()? {
                match frame {
                    Frame::Stdout(bytes) | Frame::Stderr(bytes) if bytes.is_empty() => {}
                    Frame::Stdout(bytes) => {
                        let text = self.stdout.push(&bytes);
                        if !self.forward(LiveEvent::Stdout(text), bytes.len()).await? {
                            return Ok(Ending::OverCap);
                        }
                    }
                    Frame::Stderr(bytes) => {
                        let text = self.stderr.push(&bytes);
                        if !self.forward(LiveEvent::Stderr(text), bytes.len()).await? {
                            return Ok(Ending::OverCap);
                        }
                    }
                    Frame::Result(result) => {
                        for (rest, stdout) in
                            [(self.stdout.finish(), true), (self.stderr.finish(), false)]
                        {
                            if !rest.is_empty() {
                                let event = if stdout {
                                    LiveEvent::Stdout(rest)
                                } else {
                                    LiveEvent::Stderr(rest)
                                };
                                self.forward(event, 0).await?;
                            }
                        }
                        return Ok(Ending::Result(result));
                    }
                    Frame::Fault(message) => {
                        anyhow::bail!(
                            "the live sandbox's runner could not run the program: {message}"
                        )
                    }
                    Frame::Ready => {}
                    Frame::Clean | Frame::Dirty(_) => {
                        anyhow::bail!("a live sandbox's runner sent a reset mark")
                    }
                }
                active.store(born.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
            let last = Duration::from_millis(active.load(Ordering::Relaxed));
            let idle_at = born + last + idle;
            let chunk = tokio::select! {
                chunk = output.next() => chunk,
                () = tokio::time::sleep_until(idle_at.into()) => {
                    let last = Duration::from_millis(active.load(Ordering::Relaxed));
                    if born + last + idle <= Instant::now() {
                        return Ok(Ending::Idle);
                    }
                    continue;
                }
            };
            match chunk {
                Some(chunk) => match chunk.context("lost a live sandbox's output")? {
                    LogOutput::StdOut { message } => decoder.push(&message),
                    LogOutput::StdErr { message } => runner_said.extend_from_slice(&message),
                    _ => {}
                },
                None => anyhow::bail!(
                    "a live sandbox ended without a result{}",
                    if runner_said.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", String::from_utf8_lossy(&runner_said).trim())
                    }
                ),
            }
        }
    }

    /// Sends one event (waiting while the reader is behind); false once
    /// the output is far past the cap.
    async fn forward(&mut self, event: LiveEvent, len: usize) -> anyhow::Result<bool> {
        self.forwarded += len;
        if self.forwarded > self.cap + CAP_SLACK {
            return Ok(false);
        }
        if self.events.send(event).await.is_err() {
            anyhow::bail!("nobody reads the live run any more");
        }
        Ok(true)
    }
}

/// Turns a stream's chunks into text without splitting a character that
/// straddles two chunks: an incomplete sequence at a chunk's end waits for
/// the next one.
#[derive(Default)]
struct Utf8Carry {
    carry: Vec<u8>,
}

impl Utf8Carry {
    fn push(&mut self, bytes: &[u8]) -> String {
        self.carry.extend_from_slice(bytes);
        let complete = complete_prefix(&self.carry);
        let text = String::from_utf8_lossy(&self.carry[..complete]).into_owned();
        self.carry.drain(..complete);
        text
    }

    fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.carry).into_owned();
        self.carry.clear();
        text
    }
}

/// The length of `bytes` without an incomplete UTF-8 sequence at its end.
fn complete_prefix(bytes: &[u8]) -> usize {
    let len = bytes.len();
    for back in 1..=len.min(3) {
        let byte = bytes[len - back];
        if byte & 0xC0 == 0x80 {
            continue;
        }
        let needed = match byte {
            0xF0.. => 4,
            0xE0.. => 3,
            0xC0.. => 2,
            _ => 1,
        };
        return if needed > back { len - back } else { len };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_character_split_between_chunks_whole() {
        let mut carry = Utf8Carry::default();
        let snowman = "☃".as_bytes();
        assert_eq!(carry.push(&[b'a', snowman[0]]), "a");
        assert_eq!(carry.push(&snowman[1..2]), "");
        assert_eq!(carry.push(&[snowman[2], b'b']), "☃b");
        assert_eq!(carry.push(&[0xff, b'c']), "\u{fffd}c");
        assert_eq!(carry.push(&[0xe2]), "");
        assert_eq!(carry.finish(), "\u{fffd}");
    }

    #[test]
    fn encodes_input_as_the_runners_live_frames() {
        assert_eq!(
            encode_input(&LiveInput::Stdin("hi".into())),
            vec![b'I', 0, 0, 0, 2, b'h', b'i']
        );
        assert_eq!(encode_input(&LiveInput::CloseStdin), vec![b'E']);
        assert_eq!(encode_input(&LiveInput::Signal(2)), vec![b'S', 2]);
        let long = "x".repeat(MAX_INPUT_FRAME + 1);
        let bytes = encode_input(&LiveInput::Stdin(long));
        assert_eq!(bytes.len(), MAX_INPUT_FRAME + 1 + 10);
        assert_eq!(bytes[MAX_INPUT_FRAME + 5], b'I');
    }
}
