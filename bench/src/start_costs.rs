//! `braindrill-bench start-costs`: what create + start + wait + remove of one
//! container costs through the Engine API, bare, with each option of the
//! engine's hardened sandbox spec added alone, and with the full spec
//! ([`ContainerSpec::to_create_body`]). The variants run round-robin, their
//! order rotated every round, after one unrecorded warm-up round; the result
//! is a markdown table of medians.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountType, MountVolumeOptions,
    ResourcesUlimits,
};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use braindrill::sandbox::container_spec::ContainerSpec;
use braindrill::sandbox::{Limits, Placement, engine};

use crate::cleanup::bench_labels;
use crate::cli::StartCostArgs;
use crate::environment::{Machine, load_language, machine, utc_now};
use crate::report::write_file;
use crate::stats::{median, millis, percentile};
use crate::{JOB_TIMEOUT, MAX_RUN_TIME};

/// A container configuration whose start cost is measured.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Bare,
    NetworkNone,
    ReadOnly,
    User,
    CapDropAll,
    NoNewPrivileges,
    Memory,
    NanoCpus,
    PidsLimit,
    Ulimits,
    Tmpfs,
    Init,
    LogNone,
    NamedVolume,
    Hardened,
}

const VARIANTS: [Variant; 15] = [
    Variant::Bare,
    Variant::NetworkNone,
    Variant::ReadOnly,
    Variant::User,
    Variant::CapDropAll,
    Variant::NoNewPrivileges,
    Variant::Memory,
    Variant::NanoCpus,
    Variant::PidsLimit,
    Variant::Ulimits,
    Variant::Tmpfs,
    Variant::Init,
    Variant::LogNone,
    Variant::NamedVolume,
    Variant::Hardened,
];

impl Variant {
    fn describe(self) -> &'static str {
        match self {
            Variant::Bare => "bare (no option)",
            Variant::NetworkNone => "network_mode none",
            Variant::ReadOnly => "readonly_rootfs",
            Variant::User => "user 65534:65534",
            Variant::CapDropAll => "cap_drop ALL",
            Variant::NoNewPrivileges => "security_opt no-new-privileges",
            Variant::Memory => "memory + memory_swap 64 MiB",
            Variant::NanoCpus => "nano_cpus (1 CPU)",
            Variant::PidsLimit => "pids_limit 64",
            Variant::Ulimits => "ulimits nofile + fsize",
            Variant::Tmpfs => "tmpfs /tmp (16 MiB)",
            Variant::Init => "init (docker-init as PID 1)",
            Variant::LogNone => "log driver none",
            Variant::NamedVolume => "named volume mount (created and removed)",
            Variant::Hardened => "full hardened spec (ContainerSpec::to_create_body)",
        }
    }

    fn uses_volume(self) -> bool {
        matches!(self, Variant::NamedVolume | Variant::Hardened)
    }
}

/// What every container of the measurement shares.
struct Setup {
    image: String,
    command: Vec<String>,
    limits: Limits,
}

/// The time of each phase of one container's life.
#[derive(Clone, Copy)]
struct Phases {
    create: Duration,
    start: Duration,
    wait: Duration,
    remove: Duration,
}

impl Phases {
    fn total(&self) -> Duration {
        self.create + self.start + self.wait + self.remove
    }
}

/// Runs `braindrill-bench start-costs` and writes its table.
pub async fn start_costs(docker: &Docker, args: StartCostArgs) -> anyhow::Result<()> {
    let deadline = Instant::now() + MAX_RUN_TIME;
    let language = load_language("python")?;
    let setup = Setup {
        image: language.image,
        command: ["python3", "-c", "print(1)"].map(String::from).to_vec(),
        limits: language.limits,
    };
    let machine = machine(docker).await?;
    // One unrecorded round: caches warm, first-use costs paid.
    for variant in VARIANTS {
        run_once(docker, variant, &setup).await?;
    }
    let mut measured: Vec<Vec<Phases>> = vec![Vec::new(); VARIANTS.len()];
    let mut rounds = 0;
    while rounds < args.runs && Instant::now() < deadline {
        // Rotate the order each round so no variant always runs first.
        for offset in 0..VARIANTS.len() {
            let index = (offset + rounds as usize) % VARIANTS.len();
            measured[index].push(run_once(docker, VARIANTS[index], &setup).await?);
        }
        rounds += 1;
    }
    let table = start_cost_table(&measured, &machine, &setup, rounds);
    write_file(&args.out, &table)?;
    println!("{table}");
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Creates, starts, waits for and removes one container; removes it (and
/// its volume) whatever happened.
async fn run_once(docker: &Docker, variant: Variant, setup: &Setup) -> anyhow::Result<Phases> {
    let name = format!(
        "braindrill-bench-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let volume = format!("{name}-code");
    let body = create_body(variant, setup, &volume);
    let lived = live(
        docker,
        &name,
        body,
        variant.uses_volume().then_some(&volume),
    )
    .await;
    let removed = engine::remove_container(docker, &name).await;
    let volume_removed = engine::remove_volume(docker, &volume).await;
    let phases = lived.with_context(|| format!("variant {:?}", variant.describe()))?;
    removed?;
    volume_removed?;
    Ok(phases)
}

/// The timed life of one container.
async fn live(
    docker: &Docker,
    name: &str,
    body: ContainerCreateBody,
    volume: Option<&String>,
) -> anyhow::Result<Phases> {
    let options = CreateContainerOptions {
        name: Some(name.to_string()),
        ..Default::default()
    };
    let clock = Instant::now();
    docker
        .create_container(Some(options), body)
        .await
        .context("cannot create the container")?;
    let create = clock.elapsed();
    let clock = Instant::now();
    docker
        .start_container(name, None)
        .await
        .context("cannot start the container")?;
    let start = clock.elapsed();
    let clock = Instant::now();
    let exit_code = engine::wait_for_exit(docker, name, JOB_TIMEOUT).await?;
    let wait = clock.elapsed();
    if exit_code != 0 {
        bail!("the container exited with {exit_code}");
    }
    let clock = Instant::now();
    let options = RemoveContainerOptions {
        v: true,
        ..Default::default()
    };
    docker
        .remove_container(name, Some(options))
        .await
        .context("cannot remove the container")?;
    if let Some(volume) = volume {
        engine::remove_volume(docker, volume).await?;
    }
    let remove = clock.elapsed();
    Ok(Phases {
        create,
        start,
        wait,
        remove,
    })
}

/// The container of `variant`: bare, with one option added, or the engine's
/// full spec.
fn create_body(variant: Variant, setup: &Setup, volume: &str) -> ContainerCreateBody {
    if variant == Variant::Hardened {
        let spec = ContainerSpec {
            image: &setup.image,
            command: &setup.command,
            volume: Some(volume),
            code_read_only: false,
            limits: &setup.limits,
            placement: &Placement::default(),
            labels: bench_labels(),
        };
        return spec.to_create_body();
    }
    let mut body = ContainerCreateBody {
        image: Some(setup.image.clone()),
        cmd: Some(setup.command.clone()),
        labels: Some(bench_labels()),
        ..Default::default()
    };
    if variant == Variant::User {
        body.user = Some("65534:65534".into());
    }
    body.host_config = Some(host_config(variant, &setup.limits, volume));
    body
}

/// The bare host configuration with the one option of `variant`.
fn host_config(variant: Variant, limits: &Limits, volume: &str) -> HostConfig {
    let memory = i64::try_from(limits.memory_bytes).unwrap_or(i64::MAX);
    let mut host = HostConfig::default();
    match variant {
        Variant::NetworkNone => host.network_mode = Some("none".into()),
        Variant::ReadOnly => host.readonly_rootfs = Some(true),
        Variant::CapDropAll => host.cap_drop = Some(vec!["ALL".into()]),
        Variant::NoNewPrivileges => host.security_opt = Some(vec!["no-new-privileges".into()]),
        Variant::Memory => {
            host.memory = Some(memory);
            host.memory_swap = Some(memory);
        }
        Variant::NanoCpus => host.nano_cpus = Some((limits.cpus * 1e9) as i64),
        Variant::PidsLimit => host.pids_limit = Some(limits.pids),
        Variant::Ulimits => host.ulimits = Some(ulimits(limits)),
        Variant::Tmpfs => {
            host.tmpfs = Some(HashMap::from([(
                "/tmp".to_string(),
                format!("rw,nosuid,nodev,size={},mode=1777", limits.scratch_bytes),
            )]));
        }
        Variant::Init => host.init = Some(true),
        Variant::LogNone => {
            host.log_config = Some(HostConfigLogConfig {
                typ: Some("none".into()),
                config: None,
            });
        }
        Variant::NamedVolume => host.mounts = Some(vec![volume_mount(volume)]),
        Variant::Bare | Variant::User | Variant::Hardened => {}
    }
    host
}

fn ulimits(limits: &Limits) -> Vec<ResourcesUlimits> {
    let file_size = i64::try_from(limits.file_size_bytes).unwrap_or(i64::MAX);
    [("nofile", limits.nofile), ("fsize", file_size)]
        .map(|(name, value)| ResourcesUlimits {
            name: Some(name.into()),
            soft: Some(value),
            hard: Some(value),
        })
        .to_vec()
}

/// A named volume at /sandbox, created by the engine with the harness's label.
fn volume_mount(volume: &str) -> Mount {
    Mount {
        target: Some("/sandbox".into()),
        source: Some(volume.into()),
        typ: Some(MountType::VOLUME),
        read_only: Some(false),
        volume_options: Some(MountVolumeOptions {
            labels: Some(bench_labels()),
            no_copy: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn start_cost_table(
    measured: &[Vec<Phases>],
    machine: &Machine,
    setup: &Setup,
    rounds: u64,
) -> String {
    let totals: Vec<Vec<f64>> = measured
        .iter()
        .map(|runs| runs.iter().map(|phases| millis(phases.total())).collect())
        .collect();
    let bare = median(&totals[0]);
    let mut table = format!(
        "Start cost of one container: create + start + wait + remove of `{}` in `{}`, \
         through the Engine API (bollard, API 1.41), {rounds} runs per variant, \
         round-robin over the variants (one unrecorded warm-up round). \
         {} cores, Docker {} (API {}), kernel {}, {}. \
         Each row adds one option to the bare container; the last is the engine's full spec.\n\n\
         | variant | median ms | p90 ms | median − bare ms | median start ms |\n\
         |---|---:|---:|---:|---:|\n",
        setup.command.join(" "),
        setup.image,
        machine.cores,
        machine.docker_version,
        machine.docker_api_version,
        machine.kernel,
        utc_now(),
    );
    for ((variant, runs), total) in VARIANTS.iter().zip(measured).zip(&totals) {
        let mut sorted = total.clone();
        sorted.sort_by(f64::total_cmp);
        let starts: Vec<f64> = runs.iter().map(|phases| millis(phases.start)).collect();
        let p50 = percentile(&sorted, 50.0);
        table.push_str(&format!(
            "| {} | {p50:.0} | {:.0} | {:+.0} | {:.0} |\n",
            variant.describe(),
            percentile(&sorted, 90.0),
            p50 - bare,
            median(&starts),
        ));
    }
    table
}
