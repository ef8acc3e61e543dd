//! Removes containers and volumes that executions left behind: a node's own
//! at its start (after a crash of an earlier run of the same node) and at
//! its shutdown, and, periodically, orphans of any node (one killed with
//! executions in flight never cleans up after itself).

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::ContainerSummaryStateEnum;

use super::engine::{self, ENGINE_LABEL, ENGINE_NAME, EXECUTION_LABEL, NODE_LABEL};

/// When an execution is dropped mid-way, what it created is removed again
/// after each of these pauses: a create call cut short is finished by the
/// engine anyway, possibly after a first removal.
pub(super) const LATE_SWEEPS: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

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

/// Like [`sweep`] for one node, again and again until nothing of the node
/// is left or `attempts` sweeps `pause` apart have passed; then what is
/// left, if anything, is an error. For a node whose own sandboxes nothing
/// creates any more (an earlier run of it, a finished benchmark): a
/// container that was being created or started when its creator died may
/// refuse its removal for a moment.
pub async fn sweep_until_gone(
    docker: &Docker,
    node: &str,
    attempts: usize,
    pause: Duration,
) -> anyhow::Result<Swept> {
    let filters = engine::with_labels(vec![
        format!("{ENGINE_LABEL}={ENGINE_NAME}"),
        format!("{NODE_LABEL}={node}"),
    ]);
    let mut swept = Swept::default();
    let mut left = 0;
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(pause).await;
        }
        let this = sweep(docker, Some(node)).await?;
        swept.containers += this.containers;
        swept.volumes += this.volumes;
        let found = engine::list_objects(docker, filters.clone()).await?;
        left = found.containers.len() + found.volumes.len();
        if left == 0 {
            return Ok(swept);
        }
    }
    anyhow::bail!("{left} containers or volumes of node {node} could not be removed")
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
    let found = engine::list_objects(docker, engine::with_labels(label_filters)).await?;
    let mut swept = Swept::default();
    for container in found.containers {
        let Some(id) = container.id else { continue };
        if removed(engine::remove_container(docker, &id).await) {
            swept.containers += 1;
        }
    }
    for volume in found.volumes {
        if removed(engine::remove_volume(docker, &volume.name).await) {
            swept.volumes += 1;
        }
    }
    Ok(swept)
}

/// Containers older than this that are not running belong to no live
/// execution: a live one removes its container within milliseconds of its
/// exit.
const FINISHED_ORPHAN_AGE: Duration = Duration::from_secs(60);
/// Running containers older than this outlived any possible execution (the
/// largest time limits add up to well under it) or any warm sandbox (see
/// [`MAX_WARM_AGE`]).
const RUNNING_ORPHAN_AGE: Duration = Duration::from_secs(600);
/// The oldest a warm sandbox may get before its pool replaces it: well
/// under [`RUNNING_ORPHAN_AGE`], so no sweep takes one its pool still holds.
pub const MAX_WARM_AGE: Duration = Duration::from_secs(480);

/// Volumes seen without a container by the previous pass: removed when a
/// later pass still finds them so.
#[derive(Debug, Default)]
pub struct OrphanSweep {
    suspects: HashSet<String>,
}

impl OrphanSweep {
    /// Removes what executions of any node left behind (a node killed with
    /// its executions in flight cannot clean up after itself).
    pub async fn pass(&mut self, docker: &Docker) -> anyhow::Result<Swept> {
        let found = engine::list_objects(
            docker,
            engine::with_labels(vec![format!("{ENGINE_LABEL}={ENGINE_NAME}")]),
        )
        .await?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs() as i64)
            .unwrap_or(0);
        let mut swept = Swept::default();
        let mut executions_with_containers = HashSet::new();
        for container in found.containers {
            let age =
                Duration::from_secs(now.saturating_sub(container.created.unwrap_or(now)) as u64);
            let running = matches!(container.state, Some(ContainerSummaryStateEnum::RUNNING));
            let orphan = if running {
                age > RUNNING_ORPHAN_AGE
            } else {
                age > FINISHED_ORPHAN_AGE
            };
            let Some(id) = container.id else { continue };
            if orphan && removed(engine::remove_container(docker, &id).await) {
                swept.containers += 1;
                continue;
            }
            if let Some(execution) = container
                .labels
                .as_ref()
                .and_then(|labels| labels.get(EXECUTION_LABEL))
            {
                executions_with_containers.insert(execution.clone());
            }
        }
        let mut suspects = HashSet::new();
        for volume in found.volumes {
            let execution = volume
                .labels
                .get(EXECUTION_LABEL)
                .cloned()
                .unwrap_or_default();
            if executions_with_containers.contains(&execution) {
                continue;
            }
            if self.suspects.contains(&volume.name) {
                if removed(engine::remove_volume(docker, &volume.name).await) {
                    swept.volumes += 1;
                }
            } else {
                suspects.insert(volume.name);
            }
        }
        self.suspects = suspects;
        Ok(swept)
    }
}

/// Whether a removal removed something; a failure is counted out here and
/// met again by the next sweep.
fn removed(removal: anyhow::Result<bool>) -> bool {
    matches!(removal, Ok(true))
}
