//! Runtime volumes: a runtime image's `/usr`, copied into a Docker volume
//! once per image (by `images/runtime-volume.sh`, which `images/build.sh`
//! runs after building the runtime image), and mounted read-only over
//! `/usr` in that image's sandboxes.
//!
//! Why: where the engine's storage driver is slow to read from
//! (fuse-overlayfs, as on the machines this project is built on), every
//! file a program opens (its interpreter, libraries and standard modules)
//! costs a round trip through a FUSE daemon: about 7 ms of that daemon's
//! CPU per program of the benchmark corpus, and Ruby and PHP starting 1.6
//! times slower than on the host. A volume is a plain folder of the host's
//! filesystem, and its pages are shared by every sandbox (docs/benchmarks.md,
//! "Runtime volumes").
//!
//! A node looks the volumes up when it starts: one is used only when its
//! marker volume (`<name>-ready`, created after a complete copy) exists.
//! A sandbox that mounts one is created from the image ID the volume was
//! copied from, not from the tag, so its `/usr` and the rest of its root
//! always come from one image; a node picks up a rebuilt image when it
//! restarts. Without a ready volume (or with `sandbox.runtime_volume`
//! off) a sandbox reads `/usr` from its image as before.

use std::collections::HashMap;
use std::sync::Arc;

use bollard::Docker;

/// The label both volumes of an image carry: the image's full ID.
pub const RUNTIME_IMAGE_LABEL: &str = "braindrill.runtime-image";
/// Where the volume is mounted.
pub const RUNTIME_DIR: &str = "/usr";

/// One image's ready runtime volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVolume {
    /// The image the volume was copied from, by ID (`sha256:...`).
    pub image_id: String,
    /// The volume's name.
    pub volume: String,
}

/// The ready runtime volumes of a node's images, by image reference as the
/// languages name them. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct RuntimeVolumes {
    by_image: Arc<HashMap<String, RuntimeVolume>>,
}

impl RuntimeVolumes {
    /// No runtime volume: every sandbox reads `/usr` from its image.
    pub fn none() -> RuntimeVolumes {
        RuntimeVolumes::default()
    }

    /// The ready runtime volumes of `images` on this engine; an image
    /// without one (or that cannot be inspected) is left out, with the
    /// reason logged.
    pub async fn discover(docker: &Docker, images: &[String]) -> RuntimeVolumes {
        let mut by_image = HashMap::new();
        for image in images {
            let image = image.as_str();
            if by_image.contains_key(image) {
                continue;
            }
            match ready_volume(docker, image).await {
                Ok(Some(found)) => {
                    tracing::info!(
                        image,
                        volume = found.volume,
                        "sandboxes mount /usr from the runtime volume"
                    );
                    by_image.insert(image.to_string(), found);
                }
                Ok(None) => tracing::info!(
                    image,
                    "no runtime volume is ready for this image (images/runtime-volume.sh makes one); its sandboxes read /usr from the image"
                ),
                Err(error) => tracing::warn!(
                    image,
                    error = format!("{error:#}"),
                    "cannot look up the image's runtime volume; its sandboxes read /usr from the image"
                ),
            }
        }
        RuntimeVolumes {
            by_image: Arc::new(by_image),
        }
    }

    /// These volumes, by image reference (for tests of what a spec mounts).
    #[cfg(test)]
    pub(super) fn of_images<'a>(
        volumes: impl IntoIterator<Item = (&'a str, RuntimeVolume)>,
    ) -> RuntimeVolumes {
        let by_image = volumes
            .into_iter()
            .map(|(image, volume)| (image.to_string(), volume))
            .collect();
        RuntimeVolumes {
            by_image: Arc::new(by_image),
        }
    }

    /// The ready runtime volume of `image`, if any.
    pub fn of(&self, image: &str) -> Option<&RuntimeVolume> {
        self.by_image.get(image)
    }
}

/// The runtime volume of an image, by the image's ID, as
/// `images/runtime-volume.sh` names it.
pub fn volume_name(image_id: &str) -> String {
    let hex = image_id.strip_prefix("sha256:").unwrap_or(image_id);
    let short: String = hex.chars().take(12).collect();
    format!("braindrill-runtime-{short}")
}

/// The marker that says a runtime volume's copy is complete.
pub fn marker_name(volume: &str) -> String {
    format!("{volume}-ready")
}

async fn ready_volume(docker: &Docker, image: &str) -> anyhow::Result<Option<RuntimeVolume>> {
    let inspected = docker
        .inspect_image(image)
        .await
        .map_err(|error| anyhow::Error::new(error).context("cannot inspect the image"))?;
    let Some(image_id) = inspected.id else {
        anyhow::bail!("the engine gave the image no ID");
    };
    let volume = volume_name(&image_id);
    for name in [marker_name(&volume), volume.clone()] {
        match docker.inspect_volume(&name).await {
            Ok(found) if found.labels.get(RUNTIME_IMAGE_LABEL) == Some(&image_id) => {}
            Ok(_) => {
                anyhow::bail!(
                    "the volume {name} is not this image's runtime volume (its label differs)"
                )
            }
            Err(error) if super::engine::is_not_found(&error) => return Ok(None),
            Err(error) => {
                return Err(
                    anyhow::Error::new(error).context(format!("cannot inspect the volume {name}"))
                );
            }
        }
    }
    Ok(Some(RuntimeVolume { image_id, volume }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_image_id_as_the_script_writes_them() {
        let volume = volume_name("sha256:5677df0ef0901234567890abcdef");
        assert_eq!(volume, "braindrill-runtime-5677df0ef090");
        assert_eq!(
            marker_name(&volume),
            "braindrill-runtime-5677df0ef090-ready"
        );
        let script = include_str!("../../images/runtime-volume.sh");
        assert!(script.contains(r#"volume="braindrill-runtime-${hex:0:12}""#));
        assert!(script.contains(r#""$volume-ready""#));
        assert!(script.contains(&format!("label={RUNTIME_IMAGE_LABEL}")));
    }

    #[test]
    fn no_volumes_means_none_for_any_image() {
        assert_eq!(
            RuntimeVolumes::none().of("braindrill/runtime:bookworm"),
            None
        );
    }
}
