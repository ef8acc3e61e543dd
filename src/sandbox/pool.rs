//! Warm sandboxes: a pool of started, never-used containers, each serving
//! exactly one execution and then destroyed, refilled in the background.
//!
//! A warm container runs `sleep infinity` under docker-init with the same
//! hardened configuration as a cold one, minus the code volume: its code
//! arrives with the execution, over the exec's stdin, as a tar archive that a
//! two-line shell prologue unpacks into the scratch area before it `exec`s
//! the program, which then reads the rest of stdin as its own. So a request
//! pays neither container start nor an upload.
//!
//! Only languages without a compile step, at their configured limits, are
//! pooled; anything else (and a request that finds the pool empty) takes the
//! cold path of [`DockerSandbox`]. An out-of-memory kill inside an exec does
//! not set the container's OOMKilled flag, so the memory cgroup's own
//! `oom_kill` counter is read instead.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bollard::Docker;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::query_parameters::{CreateContainerOptions, KillContainerOptions};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::archive;
use super::container_spec::{ContainerSpec, SANDBOX_USER, SCRATCH_DIR, sandbox_env};
use super::engine;
use super::execution::{Collector, Flow, explain_create_error, remove_container};
use super::{
    DockerSandbox, Language, Limits, Outcome, Sandbox, Status, StepOutcome, Submission, signal_of,
};

/// Unpacks the archive (its size is `$1`) from stdin into the scratch area,
/// then runs the program, whose stdin is what follows the archive. When the
/// program ends, whatever it left behind is killed (`kill -9 -1`: every
/// process of the sandbox user but the shell), so nothing holds the output
/// open and the exec's stream ends with the program; the shell exits with
/// the program's status.
const PROLOGUE: &str = "cd /tmp && head -c \"$1\" | tar -x -f - --no-same-owner && cd code && shift && \"$@\"; status=$?; kill -9 -1 2>/dev/null; exit $status";
/// The unprivileged user of a warm container's keeper (`sleep`); the
/// program runs as [`SANDBOX_USER`].
const KEEPER_USER: &str = "65533:65533";
/// Time to wait for a warm container to stop after a kill.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// Sizes of the pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Warm containers kept per (image, limits) pair.
    pub per_key: usize,
    /// Warm containers kept in all.
    pub max_total: usize,
    /// A warm container older than this is replaced by a fresh one.
    pub max_idle: Duration,
}

/// What a warm container is built for: containers are interchangeable only
/// when image and limits agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    image: String,
    limits: String,
}

impl PoolKey {
    fn of(language: &Language, limits: &Limits) -> PoolKey {
        PoolKey {
            image: language.image.clone(),
            limits: format!("{limits:?}"),
        }
    }
}

struct Warm {
    name: String,
    born: Instant,
}

/// Warm containers by key, and what each key's containers are made of.
struct Shelves {
    warm: HashMap<PoolKey, VecDeque<Warm>>,
    /// The keys to keep warm: one per distinct (image, limits) of the
    /// pooled languages.
    templates: Vec<(PoolKey, Language)>,
}

/// A [`Sandbox`] that serves from warm containers when it can.
#[derive(Clone)]
pub struct PooledSandbox {
    cold: DockerSandbox,
    docker: Docker,
    node: String,
    settings: PoolSettings,
    shelves: Arc<Mutex<Shelves>>,
    wake: Arc<Notify>,
    served_warm: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
}

impl PooledSandbox {
    /// A pool for the given languages (those with a compile step are left
    /// out). Call [`PooledSandbox::start_refilling`] to fill it.
    pub fn new(
        cold: DockerSandbox,
        node: impl Into<String>,
        languages: &[Language],
        settings: PoolSettings,
    ) -> PooledSandbox {
        let mut templates: Vec<(PoolKey, Language)> = Vec::new();
        for language in languages
            .iter()
            .filter(|language| language.compile.is_none())
        {
            let key = PoolKey::of(language, &language.limits);
            if !templates.iter().any(|(held, _)| *held == key) {
                templates.push((key, language.clone()));
            }
        }
        PooledSandbox {
            docker: cold.docker().clone(),
            cold,
            node: node.into(),
            settings,
            shelves: Arc::new(Mutex::new(Shelves {
                warm: HashMap::new(),
                templates,
            })),
            wake: Arc::new(Notify::new()),
            served_warm: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Warm containers held now for `language` at its own limits.
    pub fn warm_count_for(&self, language: &Language) -> usize {
        let key = PoolKey::of(language, &language.limits);
        self.shelves
            .lock()
            .map(|shelves| shelves.warm.get(&key).map_or(0, VecDeque::len))
            .unwrap_or(0)
    }

    /// Stops refilling and waits until no container is being created, so a
    /// sweep after it finds everything the pool made.
    pub async fn stop_refilling(&self, refiller: JoinHandle<()>) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if tokio::time::timeout(KILL_GRACE * 2, refiller)
            .await
            .is_err()
        {
            tracing::warn!("the warm pool did not stop refilling in time");
        }
    }

    /// Executions served by a warm container so far.
    pub fn served_warm(&self) -> usize {
        self.served_warm.load(Ordering::Relaxed)
    }

    /// Warm containers held now.
    pub fn warm_count(&self) -> usize {
        self.shelves
            .lock()
            .map(|shelves| shelves.warm.values().map(VecDeque::len).sum())
            .unwrap_or(0)
    }

    /// Keeps the pool full until the returned task is aborted (abort it
    /// before sweeping the node's containers at shutdown).
    pub fn start_refilling(&self) -> JoinHandle<()> {
        let pool = self.clone();
        tokio::spawn(async move {
            while !pool.stopping.load(Ordering::SeqCst) {
                pool.refill_once().await;
                // Woken when a container is taken, and now and then to
                // replace old ones.
                let _ = tokio::time::timeout(Duration::from_secs(1), pool.wake.notified()).await;
            }
        })
    }

    /// Creates what is missing, one container at a time, and replaces old
    /// ones.
    async fn refill_once(&self) {
        self.retire_old().await;
        while !self.stopping.load(Ordering::SeqCst) {
            let Some((key, language)) = self.next_to_fill() else {
                return;
            };
            match self.start_warm(&language).await {
                Ok(warm) => {
                    if let Ok(mut shelves) = self.shelves.lock() {
                        shelves.warm.entry(key).or_default().push_back(warm);
                    }
                }
                Err(error) => {
                    tracing::debug!(error = format!("{error:#}"), "cannot start a warm sandbox");
                    return;
                }
            }
        }
    }

    /// The key most in need of a container, within the bounds.
    fn next_to_fill(&self) -> Option<(PoolKey, Language)> {
        let shelves = self.shelves.lock().ok()?;
        let total: usize = shelves.warm.values().map(VecDeque::len).sum();
        if total >= self.settings.max_total {
            return None;
        }
        shelves
            .templates
            .iter()
            .map(|(key, language)| {
                let held = shelves.warm.get(key).map_or(0, VecDeque::len);
                (held, key, language)
            })
            .filter(|(held, _, _)| *held < self.settings.per_key)
            .min_by_key(|(held, _, _)| *held)
            .map(|(_, key, language)| (key.clone(), language.clone()))
    }

    async fn retire_old(&self) {
        let old: Vec<String> = match self.shelves.lock() {
            Ok(mut shelves) => {
                let max_idle = self.settings.max_idle;
                let mut old = Vec::new();
                for queue in shelves.warm.values_mut() {
                    queue.retain(|warm| {
                        let keep = warm.born.elapsed() < max_idle;
                        if !keep {
                            old.push(warm.name.clone());
                        }
                        keep
                    });
                }
                old
            }
            Err(_) => Vec::new(),
        };
        for name in old {
            remove_container(&self.docker, &name).await;
        }
    }

    async fn start_warm(&self, language: &Language) -> anyhow::Result<Warm> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("braindrill-warm-{id}");
        let command = vec!["sleep".to_string(), "infinity".to_string()];
        let spec = ContainerSpec {
            image: &language.image,
            command: &command,
            volume: None,
            code_read_only: false,
            limits: &language.limits,
            labels: engine::labels(&self.node, &format!("warm-{id}")),
        };
        let mut body = spec.to_create_body();
        // The keeper runs as another unprivileged user than the program, so
        // the prologue's `kill -9 -1` (as the sandbox user) cannot stop it.
        body.user = Some(KEEPER_USER.into());
        let created = self
            .docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                body,
            )
            .await;
        if let Err(error) = created {
            return Err(explain_create_error(error, &language.image));
        }
        if let Err(error) = self.docker.start_container(&name, None).await {
            remove_container(&self.docker, &name).await;
            return Err(anyhow::Error::new(error).context("cannot start a warm sandbox"));
        }
        Ok(Warm {
            name,
            born: Instant::now(),
        })
    }

    fn take(&self, key: &PoolKey) -> Option<Warm> {
        let warm = self
            .shelves
            .lock()
            .ok()
            .and_then(|mut shelves| shelves.warm.get_mut(key).and_then(VecDeque::pop_front));
        self.wake.notify_one();
        warm
    }

    async fn run(&self, submission: Submission) -> Outcome {
        let key = PoolKey::of(&submission.language, &submission.limits);
        let warm = if submission.language.compile.is_none() {
            self.take(&key)
        } else {
            None
        };
        let Some(warm) = warm else {
            return self.cold.execute(submission).await;
        };
        self.served_warm.fetch_add(1, Ordering::Relaxed);
        // Whatever happens below, the container served its one execution.
        let guard = Retire {
            docker: self.docker.clone(),
            name: warm.name.clone(),
        };
        let id = submission.execution_id.clone();
        let outcome = match self.run_in(&warm.name, &submission).await {
            Ok(run) => Outcome {
                execution_id: id.clone(),
                status: run.status,
                compile: None,
                run: Some(run),
                error: None,
            },
            Err(error) => {
                tracing::warn!(execution_id = %id, error = format!("{error:#}"), "pooled execution failed in the engine");
                Outcome::internal_error(&id, format!("{error:#}"))
            }
        };
        drop(guard);
        outcome
    }

    async fn run_in(
        &self,
        container: &str,
        submission: &Submission,
    ) -> anyhow::Result<StepOutcome> {
        let docker = &self.docker;
        let archive = archive::pack(&submission.files, false)?;
        let mut command = vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            PROLOGUE.to_string(),
            "braindrill".to_string(),
            archive.len().to_string(),
        ];
        command.extend(submission.language.run.iter().cloned());
        command.extend(submission.args.iter().cloned());
        let exec = docker
            .create_exec(
                container,
                ExecConfig {
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    tty: Some(false),
                    env: Some(sandbox_env()),
                    cmd: Some(command),
                    user: Some(SANDBOX_USER.into()),
                    working_dir: Some(SCRATCH_DIR.into()),
                    ..Default::default()
                },
            )
            .await
            .context("cannot create the exec in a warm sandbox")?
            .id;
        let started = Instant::now();
        let StartExecResults::Attached {
            mut output,
            mut input,
        } = docker
            .start_exec(
                &exec,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
            .context("cannot start the exec in a warm sandbox")?
        else {
            anyhow::bail!("the engine started the exec detached");
        };
        let mut stdin = archive;
        stdin.extend_from_slice(submission.stdin.as_bytes());
        let feeder = tokio::spawn(async move {
            let _ = input.write_all(&stdin).await;
            let _ = input.shutdown().await;
        });

        let mut collector = Collector::new(submission.limits.output_bytes);
        let ended = tokio::time::timeout(submission.limits.timeout, async {
            while let Some(frame) = output.next().await {
                let frame = frame.context("lost the exec's output")?;
                if collector.push(frame) == Flow::OverCap {
                    return Ok(Some(Status::OutputLimit));
                }
            }
            Ok::<_, anyhow::Error>(None)
        })
        .await;
        let wall_time = started.elapsed();
        drop(output);
        feeder.abort();
        let killed_for = match ended {
            Ok(Ok(killed_for)) => killed_for,
            Ok(Err(error)) => return Err(error),
            Err(_elapsed) => Some(Status::Timeout),
        };
        let exit_code = match killed_for {
            Some(_) => {
                // Stop everything in the container: the program, and
                // anything it left behind.
                let _ = docker
                    .kill_container(
                        container,
                        Some(KillContainerOptions {
                            signal: "SIGKILL".into(),
                        }),
                    )
                    .await;
                Some(137)
            }
            None => wait_for_exec(docker, &exec).await,
        };
        let status = match killed_for {
            Some(status) => status,
            None if exit_code == Some(0) => Status::Ok,
            // Only a SIGKILL can be the OOM killer's.
            None if exit_code == Some(137) && self.oom_kills(container).await > 0 => {
                Status::MemoryLimit
            }
            None => Status::RuntimeError,
        };
        let signal = exit_code.and_then(signal_of);
        let (stdout, stderr, stdout_truncated, stderr_truncated) = collector.finish();
        Ok(StepOutcome {
            status,
            exit_code,
            signal,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            wall_time_ms: wall_time.as_millis() as u64,
        })
    }

    /// How often the kernel's OOM killer struck in the container: its memory
    /// cgroup counts the kills (the engine's OOMKilled flag only sees the
    /// container's main process, not an exec). Read from inside, where the
    /// container's own cgroup is visible; cgroup v1 or v2.
    async fn oom_kills(&self, container: &str) -> u64 {
        let read = async {
            let exec = self
                .docker
                .create_exec(
                    container,
                    ExecConfig {
                        attach_stdout: Some(true),
                        attach_stderr: Some(false),
                        cmd: Some(vec![
                            "/bin/sh".into(),
                            "-c".into(),
                            "cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null".into(),
                        ]),
                        ..Default::default()
                    },
                )
                .await
                .ok()?
                .id;
            let StartExecResults::Attached { mut output, .. } =
                self.docker.start_exec(&exec, None).await.ok()?
            else {
                return None;
            };
            let mut text = Vec::new();
            while let Some(Ok(frame)) = output.next().await {
                text.extend_from_slice(&frame.into_bytes());
            }
            parse_oom_kills(&String::from_utf8_lossy(&text))
        };
        tokio::time::timeout(KILL_GRACE, read)
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    }
}

impl Sandbox for PooledSandbox {
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
        self.run(submission).boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        engine::ping(&self.docker).boxed()
    }
}

/// Removes a used warm container when dropped: after every execution, and
/// when one is cancelled midway.
struct Retire {
    docker: Docker,
    name: String,
}

impl Drop for Retire {
    fn drop(&mut self) {
        let docker = self.docker.clone();
        let name = std::mem::take(&mut self.name);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = tokio::time::timeout(KILL_GRACE, remove_container(&docker, &name)).await;
            });
        }
    }
}

async fn wait_for_exec(docker: &Docker, exec: &str) -> Option<i64> {
    let deadline = Instant::now() + KILL_GRACE;
    while Instant::now() < deadline {
        match docker.inspect_exec(exec).await {
            Ok(state) if state.running == Some(false) => return state.exit_code,
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(_) => return None,
        }
    }
    None
}

fn parse_oom_kills(control: &str) -> Option<u64> {
    control.lines().find_map(|line| {
        line.strip_prefix("oom_kill ")
            .and_then(|count| count.trim().parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_oom_kills_of_cgroup_v1_and_v2() {
        assert_eq!(
            parse_oom_kills("low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n"),
            Some(1)
        );
        assert_eq!(
            parse_oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"),
            Some(2)
        );
        assert_eq!(parse_oom_kills("oom_kill_disable 0\n"), None);
    }
}
