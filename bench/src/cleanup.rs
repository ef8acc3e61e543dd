//! What the harness creates and how it is removed. Every container and
//! volume of the start-cost measurement and of the `docker run` baseline
//! carries the label `braindrill.engine=braindrill-bench`; the direct
//! sandbox's carry the engine's own labels under a node name of their own
//! (`braindrill.node=braindrill-bench-<run>`). Both are swept at the end of
//! every run, also after an error or Ctrl-C, and neither sweep can touch
//! what a running engine owns.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use bollard::Docker;
use braindrill::sandbox::{engine, sweeper};

/// The label of everything this harness creates (but the direct sandbox's).
pub const BENCH_LABEL: (&str, &str) = ("braindrill.engine", "braindrill-bench");
/// Prefix of the node name of the in-process direct sandbox.
const DIRECT_NODE_PREFIX: &str = "braindrill-bench";
/// How often, and how far apart, the direct sandbox's node is swept at the end.
const SWEEP_ATTEMPTS: usize = 20;
const SWEEP_PAUSE: Duration = Duration::from_millis(500);

/// [`BENCH_LABEL`] as Docker's labels of an object.
pub fn bench_labels() -> HashMap<String, String> {
    HashMap::from([(BENCH_LABEL.0.to_string(), BENCH_LABEL.1.to_string())])
}

/// A fresh node name for this run's direct sandbox.
pub fn direct_node_name() -> String {
    format!(
        "{DIRECT_NODE_PREFIX}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Removes every container and volume labelled as this harness's.
pub async fn sweep(docker: &Docker) -> anyhow::Result<()> {
    let found = engine::list_objects(
        docker,
        engine::with_labels(vec![format!("{}={}", BENCH_LABEL.0, BENCH_LABEL.1)]),
    )
    .await
    .context("cannot list the harness's containers and volumes")?;
    for id in found
        .containers
        .into_iter()
        .filter_map(|container| container.id)
    {
        engine::remove_container(docker, &id).await?;
    }
    for volume in found.volumes {
        engine::remove_volume(docker, &volume.name).await?;
    }
    Ok(())
}

/// Removes everything of the direct sandbox's node. An execution cut short
/// (Ctrl-C, the time bound) may still be creating or removing its container
/// and volume, so this sweeps again until nothing is left, for a few seconds.
pub async fn sweep_node(docker: &Docker, node: &str) -> anyhow::Result<()> {
    sweeper::sweep_until_gone(docker, node, SWEEP_ATTEMPTS, SWEEP_PAUSE)
        .await
        .with_context(|| format!("cannot remove the direct sandbox's leftovers ({node})"))?;
    Ok(())
}
