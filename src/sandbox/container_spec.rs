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

/// One container: the image, the command, the volume holding the code (none
/// for a warm container, which receives its code over stdin) and whether the
/// code's folder is mounted read-only.
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
            tmpfs: Some(HashMap::from([(
                SCRATCH_DIR.to_string(),
                format!("rw,nosuid,nodev,size={},mode=1777", limits.scratch_bytes),
            )])),
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
            // container ends when the program does.
            init: Some(true),
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
