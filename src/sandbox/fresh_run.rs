//! The fresh run: one execution in containers of its own. Per step (the
//! compile step where the language has one, then the run) a fresh hardened
//! container on the execution's code volume: create, upload the code, attach,
//! start, hand the step to the container's runner (`braindrill-runner
//! --once`, its PID 1), read back its output and result, classify, remove.
//! So a fresh step has a warm one's limits (CPU time and wall clock) and
//! figures (CPU time, memory peak, exact signal). An image without the
//! runner still runs: the step is then the container's own command under
//! docker-init, bounded by the wall clock, without figures.
//! [`warm_run`](super::warm_run) is its counterpart in a runner container
//! that is already started.
//!
//! Ownership of what is created is explicit: a [`Leftovers`] guard names
//! every container and the volume before they exist, and removes them on
//! drop unless the execution already did. So a panic, an engine error or a
//! cancelled (dropped) execution leaves nothing behind; what a crash of the
//! whole process leaves is found by label by the sweeper.

use std::time::{Duration, Instant};

use anyhow::Context;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::UploadToContainerOptions;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;

use super::archive;
use super::container_spec::{CODE_DIR, ContainerSpec, RUNNER};
use super::engine::{self, AttachedInput, AttachedOutput};
use super::output::{self, Channel, Collector, Ending, Flow};
use super::runner_protocol::{Frame, FrameDecoder, RunRequest, RunResult, RunStep};
use super::sweeper::{self, LATE_SWEEPS};
use super::warm_run::step_outcome;
use super::{
    CpuSet, Outcome, Placement, RuntimeVolumes, Sandbox, Status, StepOutcome, Submission, signal_of,
};

/// How long waiting for a container to exit may take once its output ended
/// or it was killed.
const EXIT_GRACE: Duration = Duration::from_secs(10);
/// The engine's timer fires this long after the runner's should have.
const RUNNER_GRACE: Duration = Duration::from_secs(1);

/// Runs every step of an execution in a fresh container of its own.
#[derive(Clone)]
pub struct DockerSandbox {
    docker: Docker,
    node: String,
    placement: Placement,
}

impl DockerSandbox {
    /// `node` labels everything created, so a node sweeps only its own.
    pub fn new(docker: Docker, node: impl Into<String>) -> DockerSandbox {
        DockerSandbox {
            docker,
            node: node.into(),
            placement: Placement::default(),
        }
    }

    /// Pins every container this sandbox (and a pool built on it) creates
    /// to `cpuset`; none: any of the host's CPUs.
    pub fn with_cpuset(mut self, cpuset: Option<CpuSet>) -> DockerSandbox {
        self.placement.cpuset = cpuset;
        self
    }

    /// Mounts `/usr` from these runtime volumes in every container this
    /// sandbox (and a pool built on it) creates under the runner.
    pub fn with_runtime_volumes(mut self, runtime_volumes: RuntimeVolumes) -> DockerSandbox {
        self.placement.runtime_volumes = runtime_volumes;
        self
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Where its containers run and what they mount.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    async fn run(&self, submission: Submission) -> Outcome {
        let id = submission.execution_id.clone();
        tracing::debug!("{}", fresh_run_message(&id));
        crate::metrics::sandbox_started(crate::metrics::SandboxStart::Fresh);
        let mut leftovers = Leftovers::new(self.docker.clone(), &id);
        let outcome = match self.run_steps(&submission, &mut leftovers).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(execution_id = %id, error = format!("{error:#}"), "execution failed in the engine");
                Outcome::internal_error(&id, format!("{error:#}"))
            }
        };
        leftovers.remove_all().await;
        outcome
    }

    async fn run_steps(
        &self,
        submission: &Submission,
        leftovers: &mut Leftovers,
    ) -> anyhow::Result<Outcome> {
        let id = &submission.execution_id;
        let language = &submission.language;
        let limits = &submission.limits;
        let compiles = language.compile.is_some();
        let archive = archive::pack(&submission.files, compiles)?;

        let mut compile_outcome = None;
        if let Some(compile) = &language.compile {
            let step = Step {
                name: "compile",
                command: compile.clone(),
                upload: Some(archive.clone()),
                code_read_only: false,
                stdin: String::new(),
                timeout: limits.compile_timeout,
                cpu_limit: limits.compile_cpu_time,
            };
            let outcome = self.run_step(submission, step, leftovers).await?;
            let failed = outcome.status != Status::Ok;
            compile_outcome = Some(outcome);
            if failed {
                let status = match compile_outcome.as_ref().map(|o| o.status) {
                    Some(Status::InternalError) => Status::InternalError,
                    _ => Status::CompileError,
                };
                return Ok(Outcome {
                    execution_id: id.clone(),
                    status,
                    compile: compile_outcome,
                    run: None,
                    error: None,
                });
            }
        }

        let mut command = language.run.clone();
        command.extend(submission.args.iter().cloned());
        let step = Step {
            name: "run",
            command,
            upload: if compiles { None } else { Some(archive) },
            code_read_only: compiles,
            stdin: submission.stdin.clone(),
            timeout: limits.timeout,
            cpu_limit: limits.cpu_time,
        };
        let run = self.run_step(submission, step, leftovers).await?;
        Ok(Outcome {
            execution_id: id.clone(),
            status: run.status,
            compile: compile_outcome,
            run: Some(run),
            error: None,
        })
    }

    async fn run_step(
        &self,
        submission: &Submission,
        step: Step,
        leftovers: &mut Leftovers,
    ) -> anyhow::Result<StepOutcome> {
        let runner_command = vec![RUNNER.to_string(), "--once".to_string()];
        match self
            .start_step(submission, &step, &runner_command, leftovers)
            .await?
        {
            Started::Running(name, output, input) => {
                self.finish_with_runner(submission, &step, name, output, input, leftovers)
                    .await
            }
            // An image without the runner: the program is the container's
            // command under docker-init, and only the wall clock, the
            // output cap and the memory limit bound it; no figures.
            Started::Refused(error) => {
                tracing::debug!(execution_id = %submission.execution_id, error = format!("{error:#}"), "no runner in the image; running the step without it");
                match self
                    .start_step(submission, &step, &step.command, leftovers)
                    .await?
                {
                    Started::Running(name, output, input) => {
                        self.finish_plain(submission, &step, name, output, input, leftovers)
                            .await
                    }
                    Started::Refused(error) => Err(error),
                }
            }
        }
    }

    /// Creates the step's container with `command`, uploads the code if
    /// the step does, attaches and starts it. A start the engine refuses
    /// (e.g. the command is not in the image) is `Refused`, the container
    /// already removed; any other failure is an error.
    async fn start_step(
        &self,
        submission: &Submission,
        step: &Step,
        command: &[String],
        leftovers: &mut Leftovers,
    ) -> anyhow::Result<Started> {
        let docker = &self.docker;
        let name = format!("{}-{}", leftovers.volume, step.name);
        let spec = ContainerSpec {
            image: &submission.language.image,
            command,
            volume: Some(&leftovers.volume),
            code_read_only: step.code_read_only,
            limits: &submission.limits,
            placement: &self.placement,
            labels: engine::labels(&self.node, &submission.execution_id),
        };
        leftovers.containers.push(name.clone());
        engine::create_container(docker, &name, &spec).await?;
        if let Some(archive) = &step.upload {
            docker
                .upload_to_container(
                    &name,
                    Some(UploadToContainerOptions {
                        path: CODE_DIR.into(),
                        ..Default::default()
                    }),
                    bollard::body_full(archive.clone().into()),
                )
                .await
                .context("cannot upload the code into the container")?;
        }
        let (output, input) = engine::attach(docker, &name).await?;
        match docker.start_container(&name, None).await {
            Ok(()) => Ok(Started::Running(name, output, input)),
            Err(error) => {
                drop((output, input));
                leftovers.remove_container(&name).await;
                Ok(Started::Refused(
                    anyhow::Error::new(error).context("cannot start the container"),
                ))
            }
        }
    }

    /// The step under the runner (`braindrill-runner --once`, the
    /// container's PID 1): the step goes to it as a request, and its frames
    /// come back as in a warm sandbox, with the step's two time limits, its
    /// CPU time and memory peak. The engine keeps its own timer (the wall
    /// clock plus a grace) and output cap behind the runner's.
    async fn finish_with_runner(
        &self,
        submission: &Submission,
        step: &Step,
        name: String,
        mut output: AttachedOutput,
        mut input: AttachedInput,
        leftovers: &mut Leftovers,
    ) -> anyhow::Result<StepOutcome> {
        let docker = &self.docker;
        let started = Instant::now();
        let steps = [RunStep {
            timeout: step.timeout,
            cpu_limit: step.cpu_limit,
            output_cap: submission.limits.output_bytes,
            argv: &step.command,
            stdin: step.stdin.as_bytes(),
        }];
        let request = RunRequest {
            files: &[],
            steps: &steps,
        }
        .encode()?;
        // The runner reads the whole request before it starts the program.
        input
            .write_all(&request)
            .await
            .context("cannot send the step to the sandbox's runner")?;
        let _ = input.shutdown().await;
        let mut collector = Collector::new(submission.limits.output_bytes);
        let mut runner_said = Vec::new();
        let ended = tokio::time::timeout(
            step.timeout + RUNNER_GRACE,
            runner_result(&mut output, &mut collector, &mut runner_said),
        )
        .await;
        drop(output);
        drop(input);
        let outcome = match ended {
            Ok(Ok(RunnerEnd::Result(result))) => {
                let _ = engine::wait_for_exit(docker, &name, EXIT_GRACE).await;
                step_outcome(&result, collector)
            }
            Ok(Ok(RunnerEnd::OverCap)) => {
                engine::kill(docker, &name).await;
                killed_by_engine(Status::OutputLimit, collector, started.elapsed())
            }
            Err(_elapsed) => {
                engine::kill(docker, &name).await;
                killed_by_engine(Status::Timeout, collector, started.elapsed())
            }
            // The runner ended without a result: killed with the whole
            // sandbox by the OOM killer, or a fault.
            Ok(Ok(RunnerEnd::Ended)) | Ok(Err(_)) => {
                let _ = engine::wait_for_exit(docker, &name, EXIT_GRACE).await;
                if container_oom_killed(docker, &name).await {
                    killed_by_engine(Status::MemoryLimit, collector, started.elapsed())
                } else {
                    let error = match ended {
                        Ok(Err(error)) => error,
                        _ => anyhow::anyhow!("the sandbox's runner ended without a result"),
                    };
                    let said = String::from_utf8_lossy(&runner_said);
                    return Err(if said.trim().is_empty() {
                        error
                    } else {
                        error.context(said.trim().to_string())
                    });
                }
            }
        };
        leftovers.remove_container(&name).await;
        Ok(outcome)
    }

    /// The step as the container's own command under docker-init: its
    /// output under the cap and the engine's timer on the wall clock.
    async fn finish_plain(
        &self,
        submission: &Submission,
        step: &Step,
        name: String,
        mut output: AttachedOutput,
        mut input: AttachedInput,
        leftovers: &mut Leftovers,
    ) -> anyhow::Result<StepOutcome> {
        let docker = &self.docker;
        let started = Instant::now();

        // Stdin is fed by its own task: a program that never reads it must
        // not stall the output reader.
        let stdin = step.stdin.clone().into_bytes();
        let feeder = tokio::spawn(async move {
            if !stdin.is_empty() {
                let _ = input.write_all(&stdin).await;
            }
            let _ = input.shutdown().await;
        });

        let mut collector = Collector::new(submission.limits.output_bytes);
        let ended = tokio::time::timeout(
            step.timeout,
            output::collect_attached(&mut output, &mut collector),
        )
        .await;
        let wall_time = started.elapsed();
        // Drop the attach stream before killing: a held, unread attach
        // stream makes the kill wait for the client timeout.
        drop(output);
        feeder.abort();

        let killed_for = match ended {
            Ok(Ok(Ending::Exited)) => None,
            Ok(Ok(Ending::OverCap)) => Some(Status::OutputLimit),
            Ok(Err(error)) => {
                return Err(anyhow::Error::new(error).context("lost the container's output"));
            }
            Err(_elapsed) => Some(Status::Timeout),
        };
        if killed_for.is_some() {
            engine::kill(docker, &name).await;
        }
        let exit_code = engine::wait_for_exit(docker, &name, EXIT_GRACE).await?;
        let state = docker
            .inspect_container(&name, None)
            .await
            .context("cannot inspect the finished container")?
            .state;
        let mut oom_killed = state.as_ref().and_then(|s| s.oom_killed).unwrap_or(false);
        let exit_code = state.and_then(|s| s.exit_code).unwrap_or(exit_code);
        // The engine learns of an OOM kill from an event that can arrive
        // after the exit: a SIGKILL we did not send is looked at again.
        if killed_for.is_none() && exit_code == 137 && !oom_killed {
            oom_killed = oom_flag_settles(docker, &name).await;
        }

        let status = match killed_for {
            Some(status) => status,
            None if oom_killed => Status::MemoryLimit,
            None if exit_code == 0 => Status::Ok,
            None => Status::RuntimeError,
        };
        let signal = signal_of(exit_code);
        leftovers.remove_container(&name).await;
        Ok(collector
            .finish()
            .into_step(status, exit_code, signal, wall_time))
    }
}

/// A step's container, started, or refused by the engine at its start.
enum Started {
    Running(String, AttachedOutput, AttachedInput),
    Refused(anyhow::Error),
}

/// How a fresh sandbox's runner ended its step.
enum RunnerEnd {
    Result(RunResult),
    /// The engine's own output cap was reached first.
    OverCap,
    /// Its output ended without a result.
    Ended,
}

/// Reads a `--once` runner's frames up to its step's result, the program's
/// output into `collector`, what the runner itself wrote on stderr (only
/// ever a crash message) into `runner_said`.
async fn runner_result(
    output: &mut AttachedOutput,
    collector: &mut Collector,
    runner_said: &mut Vec<u8>,
) -> anyhow::Result<RunnerEnd> {
    let mut decoder = FrameDecoder::default();
    while let Some(chunk) = output.next().await {
        match chunk.context("lost the sandbox's output")? {
            LogOutput::StdOut { message } => decoder.push(&message),
            LogOutput::StdErr { message } => runner_said.extend_from_slice(&message),
            _ => {}
        }
        while let Some(frame) = decoder.next_frame()? {
            let flow = match frame {
                Frame::Ready => Flow::Continue,
                Frame::Stdout(bytes) => collector.push(Channel::Stdout, &bytes),
                Frame::Stderr(bytes) => collector.push(Channel::Stderr, &bytes),
                Frame::Result(result) => return Ok(RunnerEnd::Result(result)),
                Frame::Fault(message) => {
                    anyhow::bail!("the sandbox's runner could not run the program: {message}")
                }
                other => anyhow::bail!("the sandbox's runner sent {other:?} before a result"),
            };
            if flow == Flow::OverCap {
                return Ok(RunnerEnd::OverCap);
            }
        }
    }
    Ok(RunnerEnd::Ended)
}

/// Whether the kernel's OOM killer stopped the container (its flag may
/// come after the exit).
pub(super) async fn container_oom_killed(docker: &Docker, name: &str) -> bool {
    let flag = docker
        .inspect_container(name, None)
        .await
        .ok()
        .and_then(|inspect| inspect.state)
        .and_then(|state| state.oom_killed);
    flag == Some(true) || oom_flag_settles(docker, name).await
}

/// The outcome when the engine, not the runner, had to stop the sandbox:
/// by SIGKILL, which reads as 137.
fn killed_by_engine(status: Status, collector: Collector, elapsed: Duration) -> StepOutcome {
    collector.finish().into_step(status, 137, Some(9), elapsed)
}

/// What the fresh run logs (at debug) for each execution it takes: the one
/// sign of it in a node's log, now that both runs measure the same figures.
pub fn fresh_run_message(execution_id: &str) -> String {
    format!("execution {execution_id} runs in fresh containers")
}

impl Sandbox for DockerSandbox {
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
        self.run(submission).boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        engine::ping(&self.docker).boxed()
    }

    fn live(&self, submission: Submission, io: super::LiveIo) -> BoxFuture<'_, Outcome> {
        super::live_run::run(&self.docker, &self.node, &self.placement, submission, io).boxed()
    }
}

/// One container's worth of work.
struct Step {
    name: &'static str,
    command: Vec<String>,
    /// The archive to upload before start (the first step only).
    upload: Option<Vec<u8>>,
    code_read_only: bool,
    stdin: String,
    /// Its wall-clock and CPU-time limits.
    timeout: Duration,
    cpu_limit: Duration,
}

/// Re-reads the OOMKilled flag a few times over two seconds: the engine
/// learns of the OOM kill by an event that can come after the exit, later
/// still under load.
async fn oom_flag_settles(docker: &Docker, name: &str) -> bool {
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let flag = docker
            .inspect_container(name, None)
            .await
            .ok()
            .and_then(|inspect| inspect.state)
            .and_then(|state| state.oom_killed);
        if flag == Some(true) {
            return true;
        }
    }
    false
}

/// Everything one execution created, removed on every path.
struct Leftovers {
    docker: Docker,
    execution_id: String,
    volume: String,
    containers: Vec<String>,
    done: bool,
}

impl Leftovers {
    fn new(docker: Docker, execution_id: &str) -> Leftovers {
        // A random part in every name: an execution that runs again (on
        // another node, after losing the first) never meets the remains of
        // its first run.
        let instance = uuid::Uuid::new_v4().simple().to_string();
        Leftovers {
            docker,
            execution_id: execution_id.to_string(),
            volume: format!("braindrill-{execution_id}-{}", &instance[..8]),
            containers: Vec::new(),
            done: false,
        }
    }

    async fn remove_container(&mut self, name: &str) {
        engine::discard_container(&self.docker, name).await;
        self.containers.retain(|held| held != name);
    }

    async fn remove_all(&mut self) {
        remove_everything(&self.docker, &self.containers, &self.volume).await;
        self.done = true;
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Dropped mid-execution (a panic or a cancelled request): finish the
        // removal on the runtime, since Drop cannot wait.
        let docker = self.docker.clone();
        let containers = std::mem::take(&mut self.containers);
        let volume = std::mem::take(&mut self.volume);
        let execution_id = self.execution_id.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // A create call cut short is finished by the engine anyway,
                // possibly after a first removal: sweep the execution's label
                // again a few times.
                for pause in LATE_SWEEPS {
                    tokio::time::sleep(pause).await;
                    remove_everything(&docker, &containers, &volume).await;
                    if let Err(error) = sweeper::sweep_execution(&docker, &execution_id).await {
                        tracing::warn!(%execution_id, %error, "cannot sweep a cancelled execution");
                    }
                }
            });
        }
    }
}

async fn remove_everything(docker: &Docker, containers: &[String], volume: &str) {
    for name in containers {
        engine::discard_container(docker, name).await;
    }
    // The volume is created by the engine along with the first container;
    // it may not exist when creation failed, which is fine.
    engine::discard_volume(docker, volume).await;
}
