//! A thin handle on the Docker Engine: the connection (pinned to API 1.41,
//! which this engine speaks; bollard defaults to a newer one) and the labels
//! every object the sandbox creates carries, so that leftovers can be swept.

use std::collections::HashMap;

use anyhow::Context;
use bollard::models::{ContainerSummary, Volume};
use bollard::query_parameters::{ListContainersOptions, ListVolumesOptions};
use bollard::{ClientVersion, Docker};

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
