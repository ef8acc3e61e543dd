//! The hardened configuration of a sandbox container. Every container the
//! engine creates for untrusted code is built here and nowhere else, so the
//! security model can be read in one place.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType, MountVolumeOptions,
    ResourcesUlimits,
};

use super::Limits;

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

/// One container: the image, the command, the volume holding the code and
/// whether the code's folder is mounted read-only.
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
            security_opt: Some(vec!["no-new-privileges".into()]),
            memory: Some(memory),
            // Swap equal to memory: no swap, so exhaustion is an OOM kill.
            memory_swap: Some(memory),
            nano_cpus: Some((limits.cpus * 1e9) as i64),
            pids_limit: Some(limits.pids),
            ulimits: Some(vec![
                ulimit("nofile", limits.nofile),
                ulimit("fsize", file_size),
            ]),
            tmpfs: Some(self.tmpfs()),
            mounts: self.volume.map(|volume| {
                vec![Mount {
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
                }]
            }),
            // docker-init as PID 1: signals and zombies behave, and the
            // container ends when the program does. A warm container's
            // runner is its own init.
            init: Some(self.volume.is_some()),
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
            image: Some(self.image.into()),
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
    /// The scratch area, and for a warm container the code's tmpfs: owned by
    /// the sandbox user so its runner can write the code there (and then
    /// make it read-only), and not `noexec`: the code is executed.
    fn tmpfs(&self) -> HashMap<String, String> {
        let scratch = format!(
            "rw,nosuid,nodev,size={},mode=1777",
            self.limits.scratch_bytes
        );
        let mut tmpfs = HashMap::from([(SCRATCH_DIR.to_string(), scratch.clone())]);
        if self.volume.is_none() {
            tmpfs.insert(
                CODE_DIR.to_string(),
                format!(
                    "rw,nosuid,nodev,exec,size={},uid={SANDBOX_UID},gid={SANDBOX_UID},mode=0755",
                    self.limits.scratch_bytes
                ),
            );
        }
        tmpfs
    }
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
