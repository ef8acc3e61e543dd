//! The warm run: one execution in a runner container that is already
//! started and attached to. The counterpart of the fresh run
//! ([`fresh_run`](super::fresh_run)), with the same outcomes.
//!
//! An execution is one request written to the runner's stdin (the files,
//! and the steps: the compile command where the language has one, then the
//! run command and the program's stdin) and frames read back (per step the
//! output, then a result with the exit status and the step's own CPU time,
//! memory peak and OOM kills, see
//! [`runner_protocol`](super::runner_protocol)). So a request pays neither a
//! container start, nor an exec, nor an upload; a compiled language's two
//! steps share the one container. The runner keeps each step's timer and
//! output cap; the engine keeps its own behind them (each step's limit plus
//! a grace, and the same cap) and kills the container should the runner
//! not stop the program.
//!
//! In recycle mode the outcome is returned as soon as the last result is
//! in, with the container still resetting ([`Resetting`]): its owner reads
//! the runner's verdict afterwards, so that the caller does not wait for
//! the reset. Only a proven clean reset (`C`) hands the container back,
//! attached, for the next execution; anything else (a dirty reset, a
//! fault, the end of the stream, no answer in time) retires it, and so
//! does, without a reset, an OOM kill, the engine's own timer or cap
//! having fired, or an engine error, with the reason logged. Removing a
//! container not handed back is its owner's job.

use std::time::{Duration, Instant};

use anyhow::Context;
use bollard::Docker;
use bollard::container::LogOutput;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::engine::{self, AttachedOutput};
use super::output::{Channel, Collector, Flow};
use super::runner_container::RunnerContainer;
use super::runner_protocol::{Ending, Frame, FrameDecoder, RunRequest, RunResult, RunStep};
use super::{Outcome, Status, StepOutcome, Submission, TestInput, TestsOutcome};

/// The engine's timer fires this long after the runner's should have.
const RUNNER_GRACE: Duration = Duration::from_secs(1);
/// Time for the runner's verdict on its reset after the last result: the
/// reset takes about 1 ms after a hello world and up to ~180 ms after the
/// worst trace program (tests/traces), so this is a bound, not a wait.
const RESET_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs `submission` in `container` to its outcome; with `recycle`, also
/// the container resetting when it may serve again once its runner proves
/// the reset clean.
pub(super) async fn run(
    docker: &Docker,
    container: RunnerContainer,
    submission: &Submission,
    recycle: bool,
) -> (Outcome, Option<Resetting>) {
    let id = submission.execution_id.clone();
    let name = container.name.clone();
    match run_steps(docker, container, submission, recycle).await {
        // The runner (and so the steps here) stopped at the first step
        // that failed: a compiled language's lone step is its compile.
        Ok((mut steps, after)) => {
            let run = match submission.language.compile {
                Some(_) if steps.len() < 2 => None,
                _ => steps.pop(),
            };
            let compile = steps.pop();
            let status = match &run {
                Some(run) => run.status,
                None => Status::CompileError,
            };
            let outcome = Outcome {
                execution_id: id,
                status,
                compile,
                run,
                error: None,
            };
            let reusable = match after {
                After::Resetting(resetting) => Some(resetting),
                After::Retire(reason) => {
                    if recycle {
                        tracing::info!(execution_id = %outcome.execution_id, container = %name, reason, "retiring a warm sandbox");
                    }
                    None
                }
            };
            (outcome, reusable)
        }
        // The runner ended without a result: the kernel's OOM killer may
        // have stopped it with the program (PID 1 shares the sandbox's
        // memory cgroup). That is the program's memory limit, not a fault.
        Err(error) if super::fresh_run::container_oom_killed(docker, &name).await => {
            tracing::info!(execution_id = %id, container = %name, error = format!("{error:#}"), "the sandbox was OOM-killed; retiring it");
            let run = memory_limit_step();
            let outcome = Outcome {
                execution_id: id,
                status: Status::MemoryLimit,
                compile: None,
                run: Some(run),
                error: None,
            };
            (outcome, None)
        }
        Err(error) => {
            tracing::warn!(execution_id = %id, container = %name, error = format!("{error:#}"), "pooled execution failed in the engine; retiring its sandbox");
            (Outcome::internal_error(&id, format!("{error:#}")), None)
        }
    }
}

/// What becomes of the container after the steps.
enum After {
    /// Its runner is resetting it: it may serve again.
    Resetting(Resetting),
    /// It must be removed, for this reason.
    Retire(String),
}

/// A runner container whose last execution has its outcome and whose
/// runner is resetting the sandbox: its verdict decides whether it serves
/// again.
pub(super) struct Resetting {
    container: RunnerContainer,
    wire: RunnerWire,
}

impl Resetting {
    pub(super) fn name(&self) -> &str {
        &self.container.name
    }

    /// Reads the runner's verdict on its reset: the container, ready for
    /// the next execution (one more run counted), when it proved the reset
    /// clean and said nothing else; else why it must go (its streams are
    /// closed then).
    pub(super) async fn verdict(self) -> Result<RunnerContainer, String> {
        let Resetting {
            mut container,
            mut wire,
        } = self;
        let verdict =
            tokio::time::timeout(RESET_TIMEOUT, wire.reset_verdict(&mut container.output)).await;
        match verdict {
            Ok(Ok(None)) => {
                container.runs += 1;
                Ok(container)
            }
            Ok(Ok(Some(reason))) => Err(reason),
            Ok(Err(error)) => Err(format!("{error:#}")),
            Err(_elapsed) => Err("its runner did not confirm its reset in time".into()),
        }
    }
}

/// Runs the submission's steps in the runner container; their outcomes,
/// up to the first that failed, and what becomes of the container.
async fn run_steps(
    docker: &Docker,
    container: RunnerContainer,
    submission: &Submission,
    recycle: bool,
) -> anyhow::Result<(Vec<StepOutcome>, After)> {
    let limits = &submission.limits;
    let mut run_argv = submission.language.run.clone();
    run_argv.extend(submission.args.iter().cloned());
    let mut steps = Vec::with_capacity(2);
    if let Some(compile) = &submission.language.compile {
        steps.push(compile_step(submission, compile));
    }
    steps.push(RunStep {
        timeout: limits.timeout,
        cpu_limit: limits.cpu_time,
        output_cap: limits.output_bytes,
        argv: &run_argv,
        stdin: submission.stdin.as_bytes(),
    });
    let request = RunRequest {
        files: &submission.files,
        steps: &steps,
    }
    .encode()?;
    let mut outcomes = Vec::with_capacity(steps.len());
    let after = drive(
        docker,
        container,
        &steps,
        &request,
        Sequence::WhileSucceeding,
        recycle,
        &mut outcomes,
    )
    .await?;
    Ok((outcomes, after))
}

fn compile_step<'a>(submission: &Submission, argv: &'a [String]) -> RunStep<'a> {
    let limits = &submission.limits;
    RunStep {
        timeout: limits.compile_timeout,
        cpu_limit: limits.compile_cpu_time,
        output_cap: limits.output_bytes,
        argv,
        stdin: b"",
    }
}

/// Which steps of a request the runner goes on after.
#[derive(Clone, Copy)]
enum Sequence {
    /// `BDR4`: each step while the ones before it succeeded.
    WhileSucceeding,
    /// `BDR5`: the steps before `first_test` (a compile) while they
    /// succeed; each test whatever the one before came to, unless
    /// `stop_on_failure`.
    Tests {
        first_test: usize,
        stop_on_failure: bool,
    },
}

impl Sequence {
    fn goes_on(self, index: usize, succeeded: bool) -> bool {
        match self {
            Sequence::WhileSucceeding => succeeded,
            Sequence::Tests {
                first_test,
                stop_on_failure,
            } => succeeded || (index >= first_test && !stop_on_failure),
        }
    }
}

/// Sends `request` (of `steps`) to the runner and reads each step's
/// outcome into `outcomes` as the runner goes on by `sequence` (so that a
/// caller keeps what ran should the runner fail later); then what becomes
/// of the container.
async fn drive(
    docker: &Docker,
    container: RunnerContainer,
    steps: &[RunStep<'_>],
    request: &[u8],
    sequence: Sequence,
    recycle: bool,
    outcomes: &mut Vec<StepOutcome>,
) -> anyhow::Result<After> {
    let RunnerContainer {
        name,
        born,
        runs,
        mut output,
        mut input,
    } = container;
    // The runner reads the whole request before it starts a program,
    // so this write cannot stall on a program that does not read.
    input
        .write_all(request)
        .await
        .context("cannot send the execution to a warm sandbox")?;
    input
        .flush()
        .await
        .context("cannot send the execution to a warm sandbox")?;

    let mut wire = RunnerWire::default();
    let mut engine_killed = false;
    let mut oom_killed = false;
    for (index, step) in steps.iter().enumerate() {
        let mut collector = Collector::new(step.output_cap);
        let started = Instant::now();
        let ended = tokio::time::timeout(
            step.timeout + RUNNER_GRACE,
            wire.next_result(&mut output, &mut collector),
        )
        .await;
        let outcome = match ended {
            Ok(Ok(Some(result))) => {
                oom_killed |= result.oom_kills.is_some_and(|kills| kills > 0);
                step_outcome(&result, collector)
            }
            Ok(Ok(None)) => {
                engine_killed = true;
                killed_by_engine(Status::OutputLimit, collector, started.elapsed())
            }
            Ok(Err(error)) => return Err(error),
            Err(_elapsed) => {
                engine_killed = true;
                killed_by_engine(Status::Timeout, collector, started.elapsed())
            }
        };
        let succeeded = outcome.status == Status::Ok;
        outcomes.push(outcome);
        if engine_killed || !sequence.goes_on(index, succeeded) {
            break;
        }
    }
    let after = if engine_killed {
        After::Retire("the engine had to stop the program itself".into())
    } else if !recycle {
        After::Retire("single use".into())
    } else if oom_killed {
        // The runner survived (it sent its result), but memory ran out
        // in the sandbox: the policy retires it rather than trust it.
        After::Retire("an OOM kill in the sandbox".into())
    } else {
        return Ok(After::Resetting(Resetting {
            container: RunnerContainer {
                name,
                born,
                runs,
                output,
                input,
            },
            wire,
        }));
    };
    // Drop the attach before killing: a held, unread attach stream makes
    // a kill wait for the client timeout.
    drop(output);
    drop(input);
    if engine_killed {
        engine::kill(docker, &name).await;
    }
    Ok(after)
}

/// Runs a judged submission's tests in `container` with one request: the
/// compile step once, then every test with the full limits, the runner
/// resetting processes and scratch between them; and, as [`run`], the
/// container resetting when it may serve again.
pub(super) async fn run_tests(
    docker: &Docker,
    container: RunnerContainer,
    submission: &Submission,
    tests: &[TestInput],
    stop_on_failure: bool,
    recycle: bool,
) -> (TestsOutcome, Option<Resetting>) {
    let id = submission.execution_id.clone();
    let name = container.name.clone();
    let limits = &submission.limits;
    let argvs: Vec<Vec<String>> = tests
        .iter()
        .map(|test| {
            let mut argv = submission.language.run.clone();
            argv.extend(test.args.iter().cloned());
            argv
        })
        .collect();
    let mut steps = Vec::with_capacity(tests.len() + 1);
    if let Some(compile) = &submission.language.compile {
        steps.push(compile_step(submission, compile));
    }
    let first_test = steps.len();
    for (test, argv) in tests.iter().zip(&argvs) {
        steps.push(RunStep {
            timeout: limits.timeout,
            cpu_limit: limits.cpu_time,
            output_cap: limits.output_bytes,
            argv,
            stdin: test.stdin.as_bytes(),
        });
    }
    let sequence = Sequence::Tests {
        first_test,
        stop_on_failure,
    };
    let mut outcomes = Vec::with_capacity(steps.len());
    let driven = match (RunRequest {
        files: &submission.files,
        steps: &steps,
    })
    .encode_tests(first_test, stop_on_failure)
    {
        Ok(request) => {
            drive(
                docker,
                container,
                &steps,
                &request,
                sequence,
                recycle,
                &mut outcomes,
            )
            .await
        }
        Err(error) => Err(error),
    };
    let compile = if first_test == 1 && !outcomes.is_empty() {
        Some(outcomes.remove(0))
    } else {
        None
    };
    let compiled = compile
        .as_ref()
        .is_none_or(|compile| compile.status == Status::Ok);
    let ran = |status, compile, error| Outcome {
        execution_id: id.clone(),
        status,
        compile,
        run: None,
        error,
    };
    match driven {
        Ok(after) => {
            let status = if compiled {
                Status::Ok
            } else {
                Status::CompileError
            };
            let reusable = match after {
                After::Resetting(resetting) => Some(resetting),
                After::Retire(reason) => {
                    if recycle {
                        tracing::info!(execution_id = %id, container = %name, reason, "retiring a warm sandbox");
                    }
                    None
                }
            };
            let outcome = TestsOutcome {
                outcome: ran(status, compile, None),
                tests: outcomes,
            };
            (outcome, reusable)
        }
        // As in `run`: the runner ended without a result because the OOM
        // killer stopped it with the program; the step under way ran out
        // of memory.
        Err(error) if super::fresh_run::container_oom_killed(docker, &name).await => {
            tracing::info!(execution_id = %id, container = %name, error = format!("{error:#}"), "the sandbox was OOM-killed; retiring it");
            let memory = memory_limit_step();
            let outcome = if first_test == 1 && compile.is_none() {
                TestsOutcome {
                    outcome: ran(Status::CompileError, Some(memory), None),
                    tests: outcomes,
                }
            } else {
                outcomes.push(memory);
                TestsOutcome {
                    outcome: ran(Status::Ok, compile, None),
                    tests: outcomes,
                }
            };
            (outcome, None)
        }
        Err(error) => {
            tracing::warn!(execution_id = %id, container = %name, error = format!("{error:#}"), "judged execution failed in the engine; retiring its sandbox");
            let outcome = TestsOutcome {
                outcome: Outcome::internal_error(&id, format!("{error:#}")),
                tests: outcomes,
            };
            (outcome, None)
        }
    }
}

/// A step the kernel's OOM killer ended together with the runner.
fn memory_limit_step() -> StepOutcome {
    StepOutcome {
        exit_code: Some(137),
        signal: Some(9),
        ..StepOutcome::empty(Status::MemoryLimit)
    }
}

/// The engine's end of a runner's frames, kept across the steps: a chunk
/// may hold the end of one step and the start of the next.
#[derive(Default)]
struct RunnerWire {
    decoder: FrameDecoder,
    /// What the runner itself wrote on stderr (only ever a crash message).
    runner_said: Vec<u8>,
}

impl RunnerWire {
    /// Reads up to the current step's result, its output into `collector`;
    /// `None` if the engine's own output cap was reached first.
    async fn next_result(
        &mut self,
        output: &mut AttachedOutput,
        collector: &mut Collector,
    ) -> anyhow::Result<Option<RunResult>> {
        loop {
            while let Some(frame) = self.decoder.next_frame()? {
                let flow = match frame {
                    Frame::Stdout(bytes) => collector.push(Channel::Stdout, &bytes),
                    Frame::Stderr(bytes) => collector.push(Channel::Stderr, &bytes),
                    Frame::Result(result) => return Ok(Some(result)),
                    Frame::Fault(message) => {
                        anyhow::bail!("the sandbox's runner could not run the program: {message}")
                    }
                    Frame::Ready => Flow::Continue,
                    Frame::Clean | Frame::Dirty(_) => {
                        anyhow::bail!("a warm sandbox's runner reset before the step's result")
                    }
                };
                // The runner cuts at the same cap; this is the engine's own
                // guard should it not.
                if flow == Flow::OverCap {
                    return Ok(None);
                }
            }
            self.read_more(output, "a result").await?;
        }
    }

    /// Reads the runner's verdict on its reset after the last result:
    /// `None` when it is proven clean and nothing else was said; else why
    /// the container must go.
    async fn reset_verdict(
        &mut self,
        output: &mut AttachedOutput,
    ) -> anyhow::Result<Option<String>> {
        loop {
            if let Some(frame) = self.decoder.next_frame()? {
                return Ok(match frame {
                    Frame::Clean if self.decoder.is_empty() && self.runner_said.is_empty() => None,
                    Frame::Clean => Some("its runner said more than its clean mark".into()),
                    Frame::Dirty(left) => Some(format!("its reset left {left}")),
                    Frame::Fault(message) => Some(format!("its runner failed: {message}")),
                    other => Some(format!("its runner sent {other:?} after the last result")),
                });
            }
            self.read_more(output, "its reset's verdict").await?;
        }
    }

    /// Buffers the next chunk of the runner's output; an error at its end.
    async fn read_more(
        &mut self,
        output: &mut AttachedOutput,
        awaited: &str,
    ) -> anyhow::Result<()> {
        match output.next().await {
            Some(chunk) => match chunk.context("lost a warm sandbox's output")? {
                LogOutput::StdOut { message } => self.decoder.push(&message),
                LogOutput::StdErr { message } => self.runner_said.extend_from_slice(&message),
                _ => {}
            },
            None => anyhow::bail!(
                "a warm sandbox ended without {awaited}{}",
                if self.runner_said.is_empty() {
                    String::new()
                } else {
                    format!(": {}", String::from_utf8_lossy(&self.runner_said).trim())
                }
            ),
        }
        Ok(())
    }
}

/// What the runner's result says, in the sandbox's terms. Statuses come from
/// facts: the runner's time limits and cap, the cgroup's OOM kill count,
/// the program's wait status. The fresh run reads its runner's results
/// through it too.
pub(super) fn step_outcome(result: &RunResult, collector: Collector) -> StepOutcome {
    let oom_killed = result.oom_kills.is_some_and(|kills| kills > 0);
    let status = if result.time_limit.is_some() {
        Status::Timeout
    } else if result.output_capped {
        Status::OutputLimit
    } else {
        match result.ending {
            Ending::Exited(0) => Status::Ok,
            _ if oom_killed => Status::MemoryLimit,
            _ => Status::RuntimeError,
        }
    };
    // Like docker-init and a shell, a death by signal N reads as 128 + N; the
    // signal itself is exact here, from the runner's waitpid.
    let (exit_code, signal) = match result.ending {
        Ending::Exited(code) => (i64::from(code), None),
        Ending::Signaled(signal) => (128 + i64::from(signal), Some(signal)),
    };
    let step = collector
        .finish()
        .into_step(status, exit_code, signal, result.wall_time);
    StepOutcome {
        stdout_truncated: step.stdout_truncated || result.stdout_cut,
        stderr_truncated: step.stderr_truncated || result.stderr_cut,
        timeout_kind: result.time_limit,
        cpu_time_ms: result.cpu_time.map(|cpu| cpu.as_millis() as u64),
        memory_peak_bytes: result.memory_peak_bytes,
        ..step
    }
}

/// The outcome when the engine, not the runner, had to stop the sandbox:
/// by SIGKILL, which reads as 137.
fn killed_by_engine(status: Status, collector: Collector, elapsed: Duration) -> StepOutcome {
    collector.finish().into_step(status, 137, Some(9), elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::TimeoutKind;

    fn result(ending: Ending, oom_kills: u64) -> RunResult {
        RunResult {
            ending,
            time_limit: None,
            output_capped: false,
            stdout_cut: false,
            stderr_cut: false,
            wall_time: Duration::from_millis(12),
            cpu_time: Some(Duration::from_millis(9)),
            memory_peak_bytes: Some(4 << 20),
            oom_kills: Some(oom_kills),
        }
    }

    #[test]
    fn classifies_the_runners_result_from_facts() {
        let outcome = step_outcome(&result(Ending::Exited(0), 0), Collector::new(10));
        assert_eq!(outcome.status, Status::Ok);
        assert_eq!((outcome.exit_code, outcome.signal), (Some(0), None));
        assert_eq!(outcome.cpu_time_ms, Some(9));

        let outcome = step_outcome(&result(Ending::Signaled(9), 1), Collector::new(10));
        assert_eq!(outcome.status, Status::MemoryLimit);
        assert_eq!((outcome.exit_code, outcome.signal), (Some(137), Some(9)));

        // A program that exits 137 itself was not killed by a signal.
        let outcome = step_outcome(&result(Ending::Exited(137), 0), Collector::new(10));
        assert_eq!(outcome.status, Status::RuntimeError);
        assert_eq!((outcome.exit_code, outcome.signal), (Some(137), None));

        for kind in [TimeoutKind::Cpu, TimeoutKind::Wall] {
            let mut timed_out = result(Ending::Signaled(9), 0);
            timed_out.time_limit = Some(kind);
            let outcome = step_outcome(&timed_out, Collector::new(10));
            assert_eq!(
                (outcome.status, outcome.timeout_kind),
                (Status::Timeout, Some(kind))
            );
        }

        let mut capped = result(Ending::Signaled(9), 0);
        capped.output_capped = true;
        capped.stderr_cut = true;
        let outcome = step_outcome(&capped, Collector::new(10));
        assert_eq!(outcome.status, Status::OutputLimit);
        assert!(outcome.stderr_truncated && !outcome.stdout_truncated);
    }
}
