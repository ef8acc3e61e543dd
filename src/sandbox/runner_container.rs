//! A runner container: a hardened container (no code volume) whose PID 1 is
//! `braindrill-runner` (images/runtime/runner.rs), started and attached to,
//! waiting on its stdin for its next execution.
//!
//! The warm pool starts them ahead of time; the pooled sandbox starts one on
//! demand when the pool has none. Either way it serves an execution
//! ([`warm_run`](super::warm_run)); then, in recycle mode and after its
//! runner proved its reset clean, it may go back on its shelf with its
//! attach streams ([`reuse`](super::reuse)); otherwise it is removed: by
//! [`retire`] when it is not in use, by a [`RemoveOnDrop`] guard once it was
//! taken, so that a cancelled execution removes it too.

use std::time::{Duration, Instant};

use anyhow::Context;
use bollard::Docker;
use bollard::container::LogOutput;
use futures_util::StreamExt;

use super::container_spec::{ContainerSpec, RUNNER};
use super::engine::{self, AttachedInput, AttachedOutput};
use super::runner_protocol::{Frame, FrameDecoder};
use super::sweeper::LATE_SWEEPS;
use super::{Language, Limits, Placement};

/// Names of runner containers: this, then a random id.
const NAME_PREFIX: &str = "braindrill-warm-";
/// Time for a runner container to start and its runner to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Time to wait for a runner container's removal.
pub(super) const REMOVAL_GRACE: Duration = Duration::from_secs(5);

/// A started container whose runner is waiting for its next execution.
pub(super) struct RunnerContainer {
    pub name: String,
    pub born: Instant,
    /// Executions it has served.
    pub runs: u32,
    pub output: AttachedOutput,
    pub input: AttachedInput,
}

/// A fresh, unique name for a runner container.
pub(super) fn new_name() -> String {
    format!("{NAME_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// Creates, attaches to and starts the runner container `name` for
/// `language` under `limits` (placed as `placement` says), and waits
/// for its runner to say it is ready
/// (it looks through `warm_paths` afterwards, while it waits for its
/// execution). What it created is removed when it fails.
pub(super) async fn start(
    docker: &Docker,
    node: &str,
    language: &Language,
    limits: &Limits,
    placement: &Placement,
    warm_paths: &[String],
    name: String,
) -> anyhow::Result<RunnerContainer> {
    let id = name.trim_start_matches(NAME_PREFIX).to_string();
    let mut command = vec![RUNNER.to_string()];
    for path in warm_paths {
        command.push("--warm".into());
        command.push(path.clone());
    }
    let spec = ContainerSpec {
        image: &language.image,
        command: &command,
        volume: None,
        code_read_only: false,
        limits,
        placement,
        labels: engine::labels(node, &format!("warm-{id}")),
    };
    engine::create_container(docker, &name, &spec).await?;
    let started = tokio::time::timeout(READY_TIMEOUT, attach_and_start(docker, &name)).await;
    match started {
        Ok(Ok((output, input))) => Ok(RunnerContainer {
            name,
            born: Instant::now(),
            runs: 0,
            output,
            input,
        }),
        Ok(Err(error)) => {
            engine::discard_container(docker, &name).await;
            Err(error)
        }
        Err(_elapsed) => {
            engine::discard_container(docker, &name).await;
            anyhow::bail!("the runner of a warm sandbox was not ready in time")
        }
    }
}

pub(super) async fn attach_and_start(
    docker: &Docker,
    name: &str,
) -> anyhow::Result<(AttachedOutput, AttachedInput)> {
    let (mut output, input) = engine::attach(docker, name)
        .await
        .context("cannot attach to a warm sandbox")?;
    docker
        .start_container(name, None)
        .await
        .context("cannot start a warm sandbox (does its image have braindrill-runner?)")?;
    let mut decoder = FrameDecoder::default();
    let mut said = Vec::new();
    while let Some(chunk) = output.next().await {
        match chunk.context("lost a warm sandbox's output")? {
            LogOutput::StdOut { message } => {
                decoder.push(&message);
                match decoder.next_frame()? {
                    Some(Frame::Ready) => return Ok((output, input)),
                    Some(other) => {
                        anyhow::bail!("a warm sandbox's runner began with {other:?}")
                    }
                    None => {}
                }
            }
            LogOutput::StdErr { message } => said.extend_from_slice(&message),
            _ => {}
        }
    }
    anyhow::bail!(
        "a warm sandbox's runner ended before it was ready: {}",
        String::from_utf8_lossy(&said).trim()
    )
}

/// Removes a runner container nobody will use: closing its stdin lets the
/// runner end by itself; the removal makes sure.
pub(super) async fn retire(docker: &Docker, container: RunnerContainer) {
    let RunnerContainer {
        name,
        output,
        input,
        ..
    } = container;
    drop((output, input));
    let _ = tokio::time::timeout(REMOVAL_GRACE, engine::discard_container(docker, &name)).await;
}

/// Removes a runner container by its name after each of `pauses`: once, or,
/// for one that may still be being created, after each of [`LATE_SWEEPS`].
pub(super) async fn remove_by_name(docker: &Docker, name: &str, pauses: &[Duration]) {
    for pause in pauses {
        tokio::time::sleep(*pause).await;
        let _ = tokio::time::timeout(REMOVAL_GRACE, engine::discard_container(docker, name)).await;
    }
}

/// Removes a runner container when dropped: after its execution (unless it
/// is kept for the next), and when the execution is cancelled midway (or
/// its start is).
pub(super) struct RemoveOnDrop {
    docker: Docker,
    name: String,
    /// Whether the container may still be being created: then removal is
    /// tried again after each of [`LATE_SWEEPS`].
    pub late: bool,
}

impl RemoveOnDrop {
    pub(super) fn new(docker: &Docker, name: &str, late: bool) -> RemoveOnDrop {
        RemoveOnDrop {
            docker: docker.clone(),
            name: name.to_string(),
            late,
        }
    }
}

impl RemoveOnDrop {
    /// The container serves on: it is not removed.
    pub(super) fn keep(mut self) {
        self.name.clear();
    }

    /// Removes the container now, and returns once that is done.
    pub(super) async fn remove(mut self) {
        let name = std::mem::take(&mut self.name);
        let pauses: &[Duration] = if self.late {
            &LATE_SWEEPS
        } else {
            &[Duration::ZERO]
        };
        remove_by_name(&self.docker, &name, pauses).await;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if self.name.is_empty() {
            return;
        }
        let docker = self.docker.clone();
        let name = std::mem::take(&mut self.name);
        let pauses: &'static [Duration] = if self.late {
            &LATE_SWEEPS
        } else {
            &[Duration::ZERO]
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { remove_by_name(&docker, &name, pauses).await });
        }
    }
}
