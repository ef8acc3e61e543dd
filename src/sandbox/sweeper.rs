//! Removes containers and volumes a node left behind: at start (after a crash
//! of an earlier run of the same node) and whenever asked.

use std::collections::HashMap;

use bollard::Docker;
use bollard::query_parameters::{
    ListContainersOptions, ListVolumesOptions, RemoveContainerOptions, RemoveVolumeOptions,
};

use super::engine::{ENGINE_LABEL, ENGINE_NAME, EXECUTION_LABEL, NODE_LABEL};

/// What a sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub containers: usize,
    pub volumes: usize,
}

/// Removes every container and volume labelled as braindrill's and, when
/// `node` is given, as that node's.
pub async fn sweep(docker: &Docker, node: Option<&str>) -> anyhow::Result<Swept> {
    let mut label_filters = vec![format!("{ENGINE_LABEL}={ENGINE_NAME}")];
    if let Some(node) = node {
        label_filters.push(format!("{NODE_LABEL}={node}"));
    }
    sweep_labelled(docker, label_filters).await
}

/// Removes every container and volume of one execution.
pub async fn sweep_execution(docker: &Docker, execution_id: &str) -> anyhow::Result<Swept> {
    sweep_labelled(
        docker,
        vec![
            format!("{ENGINE_LABEL}={ENGINE_NAME}"),
            format!("{EXECUTION_LABEL}={execution_id}"),
        ],
    )
    .await
}

async fn sweep_labelled(docker: &Docker, label_filters: Vec<String>) -> anyhow::Result<Swept> {
    let filters = HashMap::from([("label".to_string(), label_filters)]);
    let mut swept = Swept::default();

    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await?;
    for container in containers {
        let Some(id) = container.id else { continue };
        let removed = docker
            .remove_container(
                &id,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..Default::default()
                }),
            )
            .await;
        if removed.is_ok() {
            swept.containers += 1;
        }
    }

    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters),
        }))
        .await?;
    for volume in volumes.volumes.unwrap_or_default() {
        let removed = docker
            .remove_volume(&volume.name, Some(RemoveVolumeOptions { force: true }))
            .await;
        if removed.is_ok() {
            swept.volumes += 1;
        }
    }
    Ok(swept)
}
