//! The warm run: one execution in a runner container that is already
//! started and attached to. The counterpart of the fresh run
//! ([`fresh_run`](super::fresh_run)), with the same outcomes.
//!
//! An execution is one request written to the runner's stdin (the files,
//! and the steps: the compile command where the language has one, then the
//! run command and the program's stdin) and frames read back (per step the
//! output, then a result with the exit status, CPU time, memory peak and
//! the memory cgroup's OOM kills, see
//! [`runner_protocol`](super::runner_protocol)). So a request pays neither a
//! container start, nor an exec, nor an upload; a compiled language's two
//! steps share the one container. The runner keeps each step's timer and
//! output cap; the engine keeps its own behind them (each step's limit plus
//! a grace, and the same cap) and kills the container should the runner
//! not stop the program. Removing the container is its owner's job.

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
use super::{Outcome, Status, StepOutcome, Submission};

/// The engine's timer fires this long after the runner's should have.
const RUNNER_GRACE: Duration = Duration::from_secs(1);

/// Runs `submission` in `container` to its outcome.
pub(super) async fn run(
    docker: &Docker,
    container: RunnerContainer,
    submission: &Submission,
) -> Outcome {
    let id = submission.execution_id.clone();
    match run_steps(docker, container, submission).await {
        // The runner (and so the steps here) stopped at the first step
        // that failed: a compiled language's lone step is its compile.
        Ok(mut steps) => {
            let run = match submission.language.compile {
                Some(_) if steps.len() < 2 => None,
                _ => steps.pop(),
            };
            let compile = steps.pop();
            let status = match &run {
                Some(run) => run.status,
                None => Status::CompileError,
            };
            Outcome {
                execution_id: id,
                status,
                compile,
                run,
                error: None,
            }
        }
        Err(error) => {
            tracing::warn!(execution_id = %id, error = format!("{error:#}"), "pooled execution failed in the engine");
            Outcome::internal_error(&id, format!("{error:#}"))
        }
    }
}

/// Runs the submission's steps in the runner container; their outcomes,
/// up to the first that failed.
async fn run_steps(
    docker: &Docker,
    container: RunnerContainer,
    submission: &Submission,
) -> anyhow::Result<Vec<StepOutcome>> {
    let RunnerContainer {
        name,
        mut output,
        mut input,
        ..
    } = container;
    let limits = &submission.limits;
    let mut run_argv = submission.language.run.clone();
    run_argv.extend(submission.args.iter().cloned());
    let mut steps = Vec::with_capacity(2);
    if let Some(compile) = &submission.language.compile {
        steps.push(RunStep {
            timeout: limits.compile_timeout,
            output_cap: limits.output_bytes,
            argv: compile,
            stdin: b"",
        });
    }
    steps.push(RunStep {
        timeout: limits.timeout,
        output_cap: limits.output_bytes,
        argv: &run_argv,
        stdin: submission.stdin.as_bytes(),
    });
    let request = RunRequest {
        files: &submission.files,
        steps: &steps,
    }
    .encode()?;
    // The runner reads the whole request before it starts a program,
    // so this write cannot stall on a program that does not read.
    input
        .write_all(&request)
        .await
        .context("cannot send the execution to a warm sandbox")?;
    input
        .flush()
        .await
        .context("cannot send the execution to a warm sandbox")?;

    let mut wire = RunnerWire::default();
    let mut outcomes = Vec::with_capacity(steps.len());
    let mut engine_killed = false;
    for step in &steps {
        let mut collector = Collector::new(limits.output_bytes);
        let started = Instant::now();
        let ended = tokio::time::timeout(
            step.timeout + RUNNER_GRACE,
            wire.next_result(&mut output, &mut collector),
        )
        .await;
        let outcome = match ended {
            Ok(Ok(Some(result))) => step_outcome(&result, collector),
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
        if !succeeded {
            break;
        }
    }
    // Drop the attach before killing: a held, unread attach stream makes
    // a kill wait for the client timeout.
    drop(output);
    drop(input);
    if engine_killed {
        engine::kill(docker, &name).await;
    }
    Ok(outcomes)
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
                };
                // The runner cuts at the same cap; this is the engine's own
                // guard should it not.
                if flow == Flow::OverCap {
                    return Ok(None);
                }
            }
            match output.next().await {
                Some(chunk) => match chunk.context("lost a warm sandbox's output")? {
                    LogOutput::StdOut { message } => self.decoder.push(&message),
                    LogOutput::StdErr { message } => self.runner_said.extend_from_slice(&message),
                    _ => {}
                },
                None => anyhow::bail!(
                    "a warm sandbox ended without a result{}",
                    if self.runner_said.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", String::from_utf8_lossy(&self.runner_said).trim())
                    }
                ),
            }
        }
    }
}

/// What the runner's result says, in the sandbox's terms. Statuses come from
/// facts: the runner's timer and cap, the cgroup's OOM kill count, the
/// program's wait status.
fn step_outcome(result: &RunResult, collector: Collector) -> StepOutcome {
    let oom_killed = result.oom_kills.is_some_and(|kills| kills > 0);
    let status = if result.timed_out {
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

    fn result(ending: Ending, oom_kills: u64) -> RunResult {
        RunResult {
            ending,
            timed_out: false,
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

        let mut timed_out = result(Ending::Signaled(9), 0);
        timed_out.timed_out = true;
        assert_eq!(
            step_outcome(&timed_out, Collector::new(10)).status,
            Status::Timeout
        );

        let mut capped = result(Ending::Signaled(9), 0);
        capped.output_capped = true;
        capped.stderr_cut = true;
        let outcome = step_outcome(&capped, Collector::new(10));
        assert_eq!(outcome.status, Status::OutputLimit);
        assert!(outcome.stderr_truncated && !outcome.stdout_truncated);
    }
}
