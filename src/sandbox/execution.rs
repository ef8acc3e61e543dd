//! One execution's lifecycle in Docker: volume, container(s), upload, attach,
//! start, stream under a cap and a timer, classify, remove.
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
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, KillContainerOptions, RemoveContainerOptions,
    RemoveVolumeOptions, UploadToContainerOptions,
};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;

use super::archive;
use super::container_spec::{CODE_DIR, ContainerSpec};
use super::engine;
use super::sweeper;
use super::{Outcome, Sandbox, Status, StepOutcome, Submission, signal_of};

/// When an execution is dropped mid-way, its label is swept after each of
/// these pauses.
pub(super) const LATE_SWEEPS: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// How long waiting for a container to exit may take once its output ended
/// or it was killed.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// Runs every step of an execution in a fresh container of its own.
#[derive(Clone)]
pub struct DockerSandbox {
    docker: Docker,
    node: String,
}

impl DockerSandbox {
    /// `node` labels everything created, so a node sweeps only its own.
    pub fn new(docker: Docker, node: impl Into<String>) -> DockerSandbox {
        DockerSandbox {
            docker,
            node: node.into(),
        }
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    async fn run(&self, submission: Submission) -> Outcome {
        let id = submission.execution_id.clone();
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
        let docker = &self.docker;
        let name = format!("{}-{}", leftovers.volume, step.name);
        let spec = ContainerSpec {
            image: &submission.language.image,
            command: &step.command,
            volume: Some(&leftovers.volume),
            code_read_only: step.code_read_only,
            limits: &submission.limits,
            labels: engine::labels(&self.node, &submission.execution_id),
        };
        leftovers.containers.push(name.clone());
        docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                spec.to_create_body(),
            )
            .await
            .map_err(|error| explain_create_error(error, &submission.language.image))?;
        if let Some(archive) = step.upload {
            docker
                .upload_to_container(
                    &name,
                    Some(UploadToContainerOptions {
                        path: CODE_DIR.into(),
                        ..Default::default()
                    }),
                    bollard::body_full(archive.into()),
                )
                .await
                .context("cannot upload the code into the container")?;
        }
        let attached = attach(docker, &name)
            .await
            .context("cannot attach to the container")?;
        let mut output = attached.output;
        let mut input = attached.input;
        docker
            .start_container(&name, None)
            .await
            .context("cannot start the container")?;
        let started = Instant::now();

        // Stdin is fed by its own task: a program that never reads it must
        // not stall the output reader.
        let stdin = step.stdin.into_bytes();
        let feeder = tokio::spawn(async move {
            if !stdin.is_empty() {
                let _ = input.write_all(&stdin).await;
            }
            let _ = input.shutdown().await;
        });

        let mut collector = Collector::new(submission.limits.output_bytes);
        let ended = tokio::time::timeout(step.timeout, async {
            while let Some(frame) = output.next().await {
                match frame {
                    Ok(frame) => {
                        if collector.push(frame) == Flow::OverCap {
                            return Ok(Ending::OverCap);
                        }
                    }
                    Err(error) => return Err(error),
                }
            }
            Ok(Ending::Exited)
        })
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
            // The container may already be gone; removal follows anyway.
            let _ = docker
                .kill_container(
                    &name,
                    Some(KillContainerOptions {
                        signal: "SIGKILL".into(),
                    }),
                )
                .await;
        }
        let exit_code = wait_for_exit(docker, &name).await?;
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
        let (stdout, stderr, stdout_truncated, stderr_truncated) = collector.finish();
        Ok(StepOutcome {
            status,
            exit_code: Some(exit_code),
            signal,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            wall_time_ms: wall_time.as_millis() as u64,
            // A fresh container's cgroup is gone before it could be read.
            cpu_time_ms: None,
            memory_peak_bytes: None,
        })
    }
}

impl Sandbox for DockerSandbox {
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
        self.run(submission).boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        engine::ping(&self.docker).boxed()
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
    timeout: Duration,
}

pub(super) enum Ending {
    Exited,
    OverCap,
}

#[derive(PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    OverCap,
}

/// Keeps stdout and stderr apart, never more than the cap over both.
pub(super) struct Collector {
    remaining: usize,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_truncated: bool,
    stderr_truncated: bool,
}

impl Collector {
    pub(super) fn new(cap: usize) -> Collector {
        Collector {
            remaining: cap,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_truncated: false,
            stderr_truncated: false,
        }
    }

    pub(super) fn push(&mut self, frame: LogOutput) -> Flow {
        let (buffer, truncated, bytes) = match frame {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                (&mut self.stdout, &mut self.stdout_truncated, message)
            }
            LogOutput::StdErr { message } => {
                (&mut self.stderr, &mut self.stderr_truncated, message)
            }
            LogOutput::StdIn { .. } => return Flow::Continue,
        };
        if bytes.len() > self.remaining {
            buffer.extend_from_slice(&bytes[..self.remaining]);
            self.remaining = 0;
            *truncated = true;
            return Flow::OverCap;
        }
        buffer.extend_from_slice(&bytes);
        self.remaining -= bytes.len();
        Flow::Continue
    }

    pub(super) fn finish(self) -> (String, String, bool, bool) {
        (
            String::from_utf8_lossy(&self.stdout).into_owned(),
            String::from_utf8_lossy(&self.stderr).into_owned(),
            self.stdout_truncated,
            self.stderr_truncated,
        )
    }
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

/// Waits for the container to stop and returns its exit code. The engine
/// reports a non-zero exit as an error of the wait call: map it back.
async fn wait_for_exit(docker: &Docker, name: &str) -> anyhow::Result<i64> {
    let mut wait = docker.wait_container(name, None);
    let waited = tokio::time::timeout(EXIT_GRACE, wait.next())
        .await
        .context("the container did not stop after its output ended")?;
    match waited {
        Some(Ok(response)) => Ok(response.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(error)) => Err(anyhow::Error::new(error).context("cannot wait for the container")),
        None => anyhow::bail!("the engine closed the wait for the container"),
    }
}

pub(super) fn explain_create_error(error: bollard::errors::Error, image: &str) -> anyhow::Error {
    if let bollard::errors::Error::DockerResponseServerError {
        status_code: 404, ..
    } = &error
    {
        return anyhow::anyhow!(
            "the image {image} is missing on this node's Docker engine; build it with images/build.sh"
        );
    }
    anyhow::Error::new(error).context("cannot create the container")
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
        remove_container(&self.docker, name).await;
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
        remove_container(docker, name).await;
    }
    // The volume is created by the engine along with the first container;
    // it may not exist when creation failed, which is fine.
    if let Err(error) = docker
        .remove_volume(volume, Some(RemoveVolumeOptions { force: true }))
        .await
        && !is_not_found(&error)
    {
        tracing::warn!(volume, %error, "cannot remove a sandbox volume; the sweeper will retry");
    }
}

/// Attaches to a created container's stdin, stdout and stderr, from now on
/// (no logs: the log driver is `none`). Done before start, so no output is
/// lost.
pub(super) async fn attach(
    docker: &Docker,
    name: &str,
) -> Result<bollard::container::AttachContainerResults, bollard::errors::Error> {
    docker
        .attach_container(
            name,
            Some(AttachContainerOptions {
                stream: true,
                stdin: true,
                stdout: true,
                stderr: true,
                logs: false,
                ..Default::default()
            }),
        )
        .await
}

pub(super) async fn remove_container(docker: &Docker, name: &str) {
    if let Err(error) = docker
        .remove_container(
            name,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
        .await
        && !is_not_found(&error)
    {
        tracing::warn!(container = name, %error, "cannot remove a sandbox container; the sweeper will retry");
    }
}

fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn collector_keeps_streams_apart_and_stops_at_the_cap() {
        let mut collector = Collector::new(10);
        assert!(
            collector.push(LogOutput::StdOut {
                message: Bytes::from_static(b"abc")
            }) == Flow::Continue
        );
        assert!(
            collector.push(LogOutput::StdErr {
                message: Bytes::from_static(b"de")
            }) == Flow::Continue
        );
        assert!(
            collector.push(LogOutput::StdOut {
                message: Bytes::from_static(b"0123456789")
            }) == Flow::OverCap
        );
        let (stdout, stderr, out_cut, err_cut) = collector.finish();
        assert_eq!(stdout, "abc01234");
        assert_eq!(stderr, "de");
        assert!(out_cut);
        assert!(!err_cut);
    }

    #[test]
    fn collector_replaces_invalid_utf8() {
        let mut collector = Collector::new(100);
        collector.push(LogOutput::StdOut {
            message: Bytes::from_static(b"ok \xff"),
        });
        let (stdout, ..) = collector.finish();
        assert_eq!(stdout, "ok \u{fffd}");
    }
}
