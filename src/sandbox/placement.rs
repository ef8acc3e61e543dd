//! Where a node's sandboxes run and what they run on: the CPUs they are
//! pinned to ([`CpuSet`]) and the runtime volumes they mount
//! ([`RuntimeVolumes`]). Decided once when the node starts and handed to
//! every place that creates a sandbox (fresh, warm, on demand, live).

use super::cpuset::CpuSet;
use super::runtime_volume::{RuntimeVolume, RuntimeVolumes};

#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// The node's `sandbox.cpuset`; none: any of the host's CPUs.
    pub cpuset: Option<CpuSet>,
    pub runtime_volumes: RuntimeVolumes,
}

impl Placement {
    /// The ready runtime volume of `image`, if any.
    pub fn runtime_volume(&self, image: &str) -> Option<&RuntimeVolume> {
        self.runtime_volumes.of(image)
    }
}
