//! The hardened configuration of a sandbox container. Every container the
//! engine creates for untrusted code is built here and nowhere else, so the
//! security model can be read in one place.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType, MountVolumeOptions,
    ResourcesUlimits,
};

use super::runtime_volume::{RUNTIME_DIR, RuntimeVolume};
use super::{Limits, Placement};

/// Where the code volume is mounted, inside the container.
pub const CODE_DIR: &str = "/sandbox";
/// The program's working directory: the folder that holds its files.
pub const WORK_DIR: &str = "/sandbox/code";
/// The writable scratch area: a size-capped tmpfs.
pub const SCRATCH_DIR: &str = "/tmp";
/// The unprivileged user the code runs as (nobody:nogroup).
pub const SANDBOX_USER: &str = "65534:65534";
/// Its user and group id.
const SANDBOX_UID: u32 = 65534;
/// The in-sandbox runner's path in the runtime image. A container whose
/// command it is has it as its init (PID 1), instead of docker-init.
pub const RUNNER: &str = "/usr/local/bin/braindrill-runner";

/// One container: the image, the command, the volume holding the code,
/// whether the code's folder is mounted read-only, and the node's
/// placement: the CPUs it may run on (`sandbox.cpuset`; none: any of the
/// host's) and the runtime volume it may mount.
///
/// Without a volume it is a warm container: its command is the in-sandbox
/// runner, which is PID 1 (so no docker-init) and receives the code over
/// stdin into a size-capped tmpfs at [`CODE_DIR`], so the program finds its
/// files at [`WORK_DIR`] either way.
pub struct ContainerSpec<'a> {
    pub image: &'a str,
    pub command: &'a [String],
    pub volume: Option<&'a str>,
    pub code_read_only: bool,
    pub limits: &'a Limits,
    /// The node's CPUs (the container is pinned to them) and runtime
    /// volumes: the image's, when ready, is mounted read-only over `/usr`
    /// if the runner is the command (docker-init, the init of any other
    /// command, is mounted by the engine under `/usr`, which the volume
    /// would hide), and the container is then created from the image ID the
    /// volume was copied from.
    pub placement: &'a Placement,
    pub labels: HashMap<String, String>,
}

impl ContainerSpec<'_> {
    pub fn to_create_body(&self) -> ContainerCreateBody {
        let limits = self.limits;
        let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
        let file_size = i64::try_from(limits.file_size_bytes).unwrap_or(i64::MAX);
        let host_config = HostConfig {
            // No network at all: only a loopback interface.
            network_mode: Some("none".into()),
            readonly_rootfs: Some(true),
            cap_drop: Some(vec!["ALL".into()]),
            // Docker's default seccomp profile stays on (never
            // "unconfined"): among others it refuses keyctl and add_key, so
            // no kernel keyring outlives a recycled sandbox's reset.
            security_opt: Some(vec!["no-new-privileges".into()]),
            memory: Some(memory),
            // Swap equal to memory: no swap, so exhaustion is an OOM kill.
            memory_swap: Some(memory),
            nano_cpus: Some((limits.cpus * 1e9) as i64),
            // The node's CPUs: its quota is spent on them alone, so nodes
            // pinned to separate CPUs do not share any.
            cpuset_cpus: self
                .placement
                .cpuset
                .as_ref()
                .map(|cpuset| cpuset.as_str().to_string()),
            pids_limit: Some(limits.pids),
            ulimits: Some(vec![
                ulimit("nofile", limits.nofile),
                ulimit("fsize", file_size),
                // No core dumps: a crash must not hand a core to the host's
                // handler (the soft limit could be raised up to the hard).
                ulimit("core", 0),
                // No POSIX message queue bytes: the per-user mqueue budget
                // is not charged to the container's memory, and a recycled
                // sandbox's reset need not rely on /dev/mqueue alone.
                ulimit("msgqueue", 0),
            ]),
            tmpfs: Some(self.tmpfs()),
            mounts: Some(self.mounts()),
            // docker-init as PID 1: signals and zombies behave, and the
            // container ends when the program does. A container run by
            // the runner (every warm one, a fresh one's step where the
            // image has it) has it as its own init.
            init: Some(!self.runner_is_init()),
            // Untrusted output never lands on the host's disk.
            log_config: Some(HostConfigLogConfig {
                typ: Some("none".into()),
                config: None,
            }),
            // No IPC namespace sharing and no /dev/shm: /tmp stays the only
            // writable place (POSIX shared memory is unavailable).
            ipc_mode: Some("none".into()),
            ..Default::default()
        };
        ContainerCreateBody {
            image: Some(match self.runtime_volume() {
                Some(runtime) => runtime.image_id.clone(),
                None => self.image.into(),
            }),
            cmd: Some(self.command.to_vec()),
            user: Some(SANDBOX_USER.into()),
            working_dir: Some(
                // Not the warm container's code tmpfs: Docker would create
                // it as root's and its mode=1777 would be lost.
                if self.volume.is_some() {
                    WORK_DIR
                } else {
                    SCRATCH_DIR
                }
                .into(),
            ),
            env: Some(sandbox_env()),
            hostname: Some("sandbox".into()),
            network_disabled: Some(true),
            tty: Some(false),
            open_stdin: Some(true),
            stdin_once: Some(true),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            labels: Some(self.labels.clone()),
            host_config: Some(host_config),
            ..Default::default()
        }
    }
}

impl ContainerSpec<'_> {
    /// Whether the in-sandbox runner is the container's command, and so
    /// its PID 1.
    fn runner_is_init(&self) -> bool {
        self.command.first().map(String::as_str) == Some(RUNNER)
    }

    /// The runtime volume this container mounts, if any.
    fn runtime_volume(&self) -> Option<&RuntimeVolume> {
        self.placement
            .runtime_volume(self.image)
            .filter(|_| self.runner_is_init())
    }

    /// The code's volume (a fresh container's), and the runtime volume.
    fn mounts(&self) -> Vec<Mount> {
        let mut mounts = Vec::new();
        if let Some(volume) = self.volume {
            mounts.push(Mount {
                target: Some(CODE_DIR.into()),
                source: Some(volume.into()),
                typ: Some(MountType::VOLUME),
                read_only: Some(self.code_read_only),
                volume_options: Some(MountVolumeOptions {
                    // The engine creates the volume with these labels, so
                    // a leaked one is found by the sweeper like a
                    // container.
                    labels: Some(self.labels.clone()),
                    no_copy: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        if let Some(runtime) = self.runtime_volume() {
            mounts.push(Mount {
                target: Some(RUNTIME_DIR.into()),
                source: Some(runtime.volume.clone()),
                typ: Some(MountType::VOLUME),
                read_only: Some(true),
                volume_options: Some(MountVolumeOptions {
                    // Never copy into it: it is filled once, by its script.
                    no_copy: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        mounts
    }

    /// The scratch area, and for a warm container the code's tmpfs: owned by
    /// the sandbox user so its runner can write the code there (and then
    /// make it read-only), and not `noexec`: the code is executed.
    fn tmpfs(&self) -> HashMap<String, String> {
        let size = tmpfs_bytes(self.limits);
        let scratch = format!("rw,nosuid,nodev,size={size},mode=1777");
        let mut tmpfs = HashMap::from([(SCRATCH_DIR.to_string(), scratch.clone())]);
        if self.volume.is_none() {
            tmpfs.insert(
                CODE_DIR.to_string(),
                format!(
                    "rw,nosuid,nodev,exec,size={size},uid={SANDBOX_UID},gid={SANDBOX_UID},mode=0755"
                ),
            );
        }
        tmpfs
    }
}

/// The size of each tmpfs: tmpfs pages count against the container's memory
/// and no OOM kill can free them, so the two areas together stay within half
/// the memory limit. Otherwise a program filling them under a small limit
/// (a request may ask for 8 MiB) would leave the OOM killer only the runner.
fn tmpfs_bytes(limits: &Limits) -> u64 {
    limits.scratch_bytes.min(limits.memory_bytes / 4)
}

fn ulimit(name: &str, value: i64) -> ResourcesUlimits {
    ResourcesUlimits {
        name: Some(name.into()),
        soft: Some(value),
        hard: Some(value),
    }
}

/// The environment of every sandboxed program.
pub fn sandbox_env() -> Vec<String> {
    vec![
        format!("HOME={SCRATCH_DIR}"),
        format!("TMPDIR={SCRATCH_DIR}"),
        "LANG=C.UTF-8".into(),
    ]
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sandbox::RuntimeVolumes;

    fn limits(memory_mb: u64) -> Limits {
        Limits {
            timeout: Duration::from_secs(10),
            compile_timeout: Duration::from_secs(30),
            cpu_time: Duration::from_secs(3),
            compile_cpu_time: Duration::from_secs(10),
            memory_bytes: memory_mb << 20,
            output_bytes: 1 << 20,
            cpus: 1.0,
            pids: 64,
            nofile: 64,
            file_size_bytes: 8 << 20,
            scratch_bytes: 16 << 20,
        }
    }

    fn tmpfs_sizes(memory_mb: u64) -> Vec<String> {
        let limits = limits(memory_mb);
        let spec = ContainerSpec {
            image: "image",
            command: &[],
            volume: None,
            code_read_only: false,
            limits: &limits,
            placement: &Placement::default(),
            labels: HashMap::new(),
        };
        let mut sizes: Vec<String> = spec
            .tmpfs()
            .values()
            .filter_map(|options| {
                options
                    .split(',')
                    .find_map(|option| option.strip_prefix("size="))
                    .map(str::to_string)
            })
            .collect();
        sizes.sort();
        sizes
    }

    #[test]
    fn both_tmpfs_areas_fit_in_half_the_memory_limit() {
        // A request may ask for 8 MiB: 2 MiB each.
        assert_eq!(tmpfs_sizes(8), vec!["2097152", "2097152"]);
        // The default 64 MiB keeps the configured 16 MiB each.
        assert_eq!(tmpfs_sizes(64), vec!["16777216", "16777216"]);
        assert_eq!(tmpfs_sizes(512), vec!["16777216", "16777216"]);
    }

    #[test]
    fn core_dumps_and_message_queues_are_off() {
        let limits = limits(64);
        let spec = ContainerSpec {
            image: "image",
            command: &[],
            volume: Some("volume"),
            code_read_only: true,
            limits: &limits,
            placement: &Placement::default(),
            labels: HashMap::new(),
        };
        let body = spec.to_create_body();
        let ulimits = body
            .host_config
            .and_then(|host| host.ulimits)
            .unwrap_or_default();
        for name in ["core", "msgqueue"] {
            let limit = ulimits
                .iter()
                .find(|limit| limit.name.as_deref() == Some(name));
            assert_eq!(
                limit.map(|limit| (limit.soft, limit.hard)),
                Some((Some(0), Some(0))),
                "{name}"
            );
        }
    }

    #[test]
    fn the_runtime_volume_is_mounted_read_only_over_usr_only_under_the_runner() {
        let limits = limits(64);
        let placement = Placement {
            cpuset: None,
            runtime_volumes: RuntimeVolumes::of_images([(
                "braindrill/runtime:bookworm",
                RuntimeVolume {
                    image_id: "sha256:5677df0ef090".into(),
                    volume: "braindrill-runtime-5677df0ef090".into(),
                },
            )]),
        };
        let body = |command: &[String]| {
            ContainerSpec {
                image: "braindrill/runtime:bookworm",
                command,
                volume: None,
                code_read_only: false,
                limits: &limits,
                placement: &placement,
                labels: HashMap::new(),
            }
            .to_create_body()
        };
        let under_runner = body(&[RUNNER.to_string()]);
        assert_eq!(under_runner.image.as_deref(), Some("sha256:5677df0ef090"));
        let host = under_runner.host_config.unwrap_or_default();
        let mounts = host.mounts.unwrap_or_default();
        let usr = mounts
            .iter()
            .find(|mount| mount.target.as_deref() == Some(RUNTIME_DIR));
        assert_eq!(
            usr.map(|mount| (mount.source.as_deref(), mount.read_only)),
            Some((Some("braindrill-runtime-5677df0ef090"), Some(true)))
        );
        assert_eq!(
            usr.and_then(|mount| mount.volume_options.as_ref())
                .and_then(|options| options.no_copy),
            Some(true)
        );
        assert_eq!(host.init, Some(false));

        // Any other command has docker-init, which the engine mounts under
        // /usr: no runtime volume, and the image as named.
        let other = body(&["python3".to_string()]);
        assert_eq!(other.image.as_deref(), Some("braindrill/runtime:bookworm"));
        let host = other.host_config.unwrap_or_default();
        assert!(host.mounts.unwrap_or_default().is_empty());
        assert_eq!(host.init, Some(true));
    }
}
