//! The fresh run: one execution in containers of its own. Per step (the
//! compile step where the language has one, then the run) a fresh hardened
//! container on the execution's code volume: create, upload the code, attach,
//! start, collect the output under the cap and the step's timer, classify,
//! remove. [`warm_run`](super::warm_run) is its counterpart in a runner
//! container that is already started.
//!
//! Ownership of what is created is explicit: a [`Leftovers`] guard names
//! every container and the volume before they exist, and removes them on
//! drop unless the execution already did. So a panic, an engine error or a
//! cancelled (dropped) execution leaves nothing behind; what a crash of the
//! whole process leaves is found by label by the sweeper.

use std::time::{Duration, Instant};

use anyhow::Context;
use bollard::Docker;
use bollard::query_parameters::UploadToContainerOptions;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::io::AsyncWriteExt;

use super::archive;
use super::container_spec::{CODE_DIR, ContainerSpec};
use super::engine;
use super::output::{self, Collector, Ending};
use super::sweeper::{self, LATE_SWEEPS};
use super::{Outcome, Sandbox, Status, StepOutcome, Submission, signal_of};

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
        engine::create_container(docker, &name, &spec).await?;
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
        let (mut output, mut input) = engine::attach(docker, &name).await?;
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
        // A fresh container's cgroup is gone before its CPU time or memory
        // peak could be read.
        Ok(collector
            .finish()
            .into_step(status, exit_code, signal, wall_time))
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
