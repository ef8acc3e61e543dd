//! A thin handle on the Docker Engine: the connection (pinned to API 1.41,
//! which this engine speaks; bollard defaults to a newer one), the labels
//! every object the sandbox creates carries, so that leftovers can be swept,
//! and the calls the fresh run, the runner containers and the sweeper share
//! (create, attach, kill, wait, remove), each with its error said once.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use anyhow::Context;
use bollard::container::LogOutput;
use bollard::models::{ContainerSummary, Volume};
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, KillContainerOptions, ListContainersOptions,
    ListVolumesOptions, RemoveContainerOptions, RemoveVolumeOptions,
};
use bollard::{ClientVersion, Docker};
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWrite;

use super::container_spec::ContainerSpec;

/// Label on every container and volume braindrill creates.
pub const ENGINE_LABEL: &str = "braindrill.engine";
/// Value of [`ENGINE_LABEL`].
pub const ENGINE_NAME: &str = "braindrill";
/// Label naming the node that created the object.
pub const NODE_LABEL: &str = "braindrill.node";
/// Label naming the execution the object serves.
pub const EXECUTION_LABEL: &str = "braindrill.execution";

const API_VERSION: ClientVersion = ClientVersion {
    major_version: 1,
    minor_version: 41,
};

/// Connects to the engine at `socket` (a path, or `unix://path`). Connecting
/// is lazy: use [`ping`] to know whether the engine answers.
pub fn connect(socket: &str, timeout_s: u64) -> anyhow::Result<Docker> {
    Docker::connect_with_unix(socket, timeout_s, &API_VERSION)
        .with_context(|| format!("cannot use the Docker socket {socket}"))
}

/// Whether the engine answers.
pub async fn ping(docker: &Docker) -> anyhow::Result<()> {
    docker
        .ping()
        .await
        .context("the Docker engine does not answer")?;
    Ok(())
}

/// The labels of an object created for `execution_id` on `node`.
pub fn labels(node: &str, execution_id: &str) -> HashMap<String, String> {
    HashMap::from([
        (ENGINE_LABEL.to_string(), ENGINE_NAME.to_string()),
        (NODE_LABEL.to_string(), node.to_string()),
        (EXECUTION_LABEL.to_string(), execution_id.to_string()),
    ])
}

/// Containers (running or not) and volumes of the engine.
#[derive(Debug, Default)]
pub struct Objects {
    pub containers: Vec<ContainerSummary>,
    pub volumes: Vec<Volume>,
}

impl Objects {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.volumes.is_empty()
    }
}

/// Docker's list filter for objects that carry every one of `labels`
/// (each `key=value`).
pub fn with_labels(labels: Vec<String>) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), labels)])
}

/// The containers and volumes that match Docker's list `filters`.
pub async fn list_objects(
    docker: &Docker,
    filters: HashMap<String, Vec<String>>,
) -> anyhow::Result<Objects> {
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .context("cannot list containers")?;
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters),
        }))
        .await
        .context("cannot list volumes")?
        .volumes
        .unwrap_or_default();
    Ok(Objects {
        containers,
        volumes,
    })
}

/// What a container writes on its stdout and stderr, frame by frame.
pub type AttachedOutput =
    Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
/// The container's stdin.
pub type AttachedInput = Pin<Box<dyn AsyncWrite + Send>>;

/// Creates the container `name` as `spec` says. A missing image is said in
/// words an operator can act on.
pub async fn create_container(
    docker: &Docker,
    name: &str,
    spec: &ContainerSpec<'_>,
) -> anyhow::Result<()> {
    docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.to_string()),
                ..Default::default()
            }),
            spec.to_create_body(),
        )
        .await
        .map_err(|error| explain_create_error(error, spec.image))?;
    Ok(())
}

/// The error of a create call, saying how to fix a missing image.
pub fn explain_create_error(error: bollard::errors::Error, image: &str) -> anyhow::Error {
    if is_not_found(&error) {
        return anyhow::anyhow!(
            "the image {image} is missing on this node's Docker engine; build it with images/build.sh"
        );
    }
    anyhow::Error::new(error).context("cannot create the container")
}

/// Attaches to a created container's stdin, stdout and stderr, from now on
/// (no logs: the log driver is `none`). Done before start, so no output is
/// lost.
pub async fn attach(
    docker: &Docker,
    name: &str,
) -> anyhow::Result<(AttachedOutput, AttachedInput)> {
    let attached = docker
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
        .context("cannot attach to the container")?;
    Ok((attached.output, attached.input))
}

/// Sends SIGKILL. The container may already be gone; its removal follows
/// anyway, so a failure is of no interest.
pub async fn kill(docker: &Docker, name: &str) {
    let _ = docker
        .kill_container(
            name,
            Some(KillContainerOptions {
                signal: "SIGKILL".into(),
            }),
        )
        .await;
}

/// Waits up to `within` for the container to stop and returns its exit
/// code. The engine reports a non-zero exit as an error of the wait call:
/// it is mapped back.
pub async fn wait_for_exit(docker: &Docker, name: &str, within: Duration) -> anyhow::Result<i64> {
    let mut wait = docker.wait_container(name, None);
    let waited = tokio::time::timeout(within, wait.next())
        .await
        .context("the container did not stop in time")?;
    match waited {
        Some(Ok(response)) => Ok(response.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(error)) => Err(anyhow::Error::new(error).context("cannot wait for the container")),
        None => anyhow::bail!("the engine closed the wait for the container"),
    }
}

/// Removes a container, running or not, with its anonymous volumes:
/// `Ok(true)` if it removed it, `Ok(false)` if there was none of that name.
pub async fn remove_container(docker: &Docker, name: &str) -> anyhow::Result<bool> {
    let removed = docker
        .remove_container(
            name,
            Some(RemoveContainerOptions {
                force: true,
                v: true,
                ..Default::default()
            }),
        )
        .await;
    gone(removed).with_context(|| format!("cannot remove the container {name}"))
}

/// Removes a volume: `Ok(true)` if it removed it, `Ok(false)` if there was
/// none of that name.
pub async fn remove_volume(docker: &Docker, name: &str) -> anyhow::Result<bool> {
    let removed = docker
        .remove_volume(name, Some(RemoveVolumeOptions { force: true }))
        .await;
    gone(removed).with_context(|| format!("cannot remove the volume {name}"))
}

/// Removes a container the sandbox is done with. A failure is logged, not
/// returned: nothing waits on it, and the sweeper finds it by label later.
pub async fn discard_container(docker: &Docker, name: &str) {
    leave_to_the_sweeper(remove_container(docker, name).await);
}

/// Like [`discard_container`], for a volume.
pub async fn discard_volume(docker: &Docker, name: &str) {
    leave_to_the_sweeper(remove_volume(docker, name).await);
}

fn leave_to_the_sweeper(removal: anyhow::Result<bool>) {
    if let Err(error) = removal {
        tracing::warn!(
            error = format!("{error:#}"),
            "cannot remove a sandbox object; the sweeper will retry"
        );
    }
}

/// Whether the engine answered that the object does not exist.
pub fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// A removal's answer: done, nothing to do, or an error.
fn gone(removed: Result<(), bollard::errors::Error>) -> Result<bool, bollard::errors::Error> {
    match removed {
        Ok(()) => Ok(true),
        Err(error) if is_not_found(&error) => Ok(false),
        Err(error) => Err(error),
    }
}
