//! Warm sandboxes: a pool of started, never-used containers, each serving
//! exactly one execution and then destroyed, refilled in the background.
//!
//! A warm container runs `braindrill-runner` (images/runtime/runner.rs) as
//! its PID 1, with the same hardened configuration as a cold container but
//! no code volume. The pool stays attached to it from birth: an execution
//! is one request written to the runner's stdin (the files, and the steps:
//! the compile command where the language has one, then the run command and
//! the program's stdin) and frames read back (per step the output, then a
//! result with the exit status, CPU time, memory peak and the memory
//! cgroup's OOM kills, see [`runner_protocol`](super::runner_protocol)). So
//! a request pays neither a container start, nor an exec, nor an upload; a
//! compiled language's two steps share the one container.
//!
//! A request that finds no warm container of its key starts a runner
//! container of its own on the spot (a cold start, but without a volume or
//! an upload, and with the same measured results); only if even that fails
//! does it take the volume path of [`DockerSandbox`]. The engine keeps its
//! own timer (each step's limit plus a grace) and output cap, and removes
//! the container after its one execution whatever happened.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::query_parameters::{CreateContainerOptions, KillContainerOptions};
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::container_spec::ContainerSpec;
use super::engine;
use super::execution::{
    Collector, Flow, LATE_SWEEPS, attach, explain_create_error, remove_container,
};
use super::runner_protocol::{Ending, Frame, FrameDecoder, RunRequest, RunResult, RunStep};
use super::{DockerSandbox, Language, Limits, Outcome, Sandbox, Status, StepOutcome, Submission};

/// Names of warm containers: this, then a random id.
const WARM_PREFIX: &str = "braindrill-warm-";

fn warm_name() -> String {
    format!("{WARM_PREFIX}{}", uuid::Uuid::new_v4().simple())
}

/// The runner's path in the runtime image.
const RUNNER: &str = "/usr/local/bin/braindrill-runner";
/// Time for a warm container to start and its runner to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// The engine's timer fires this long after the runner's should have.
const RUNNER_GRACE: Duration = Duration::from_secs(1);
/// Warm containers started at once by the refill (a start mostly waits on
/// the engine). The refill only runs while the node is not busy (see
/// [`PoolSettings::refill_below_in_flight`]), so it does not compete with
/// executions under load.
const REFILL_PARALLELISM: usize = 2;
/// Time to wait for a warm container's removal.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// After a warm container of a key failed to start, that key is not tried
/// again for this long (e.g. an image without the runner).
const FAILED_KEY_PAUSE: Duration = Duration::from_secs(30);

type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// Sizes of the pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Warm containers kept per (image, limits) pair.
    pub per_key: usize,
    /// Warm containers kept in all.
    pub max_total: usize,
    /// A warm container older than this is replaced by a fresh one.
    pub max_idle: Duration,
    /// The refill waits while this many executions are in flight: a start
    /// costs as much CPU as a short program, and a program's time limit is
    /// wall-clock, so under load the refill would eat into the programs'
    /// time. (Under load the pool would drain anyway: every execution
    /// consumes a container, and the engine's start rate is the ceiling.)
    pub refill_below_in_flight: usize,
}

/// What a warm container is built for: containers are interchangeable only
/// when the image and the limits set at creation agree. The time limit and
/// the output cap travel with each request to the runner, so they are not
/// part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    image: String,
    limits: String,
}

impl PoolKey {
    fn of(language: &Language, limits: &Limits) -> PoolKey {
        PoolKey {
            image: language.image.clone(),
            limits: format!(
                "{:?}",
                Limits {
                    timeout: Duration::ZERO,
                    compile_timeout: Duration::ZERO,
                    output_bytes: 0,
                    ..limits.clone()
                }
            ),
        }
    }
}

/// A started container whose runner is waiting for its one execution.
struct Warm {
    name: String,
    born: Instant,
    output: Output,
    input: Input,
}

/// Warm containers by key, and what each key's containers are made of.
struct Shelves {
    warm: HashMap<PoolKey, VecDeque<Warm>>,
    /// The keys to keep warm: one per distinct (image, limits) of the
    /// pooled languages.
    templates: Vec<(PoolKey, Language)>,
    /// Keys whose last warm container failed to start, until when.
    paused: HashMap<PoolKey, Instant>,
}

impl Shelves {
    fn is_paused(&self, key: &PoolKey, now: Instant) -> bool {
        self.paused.get(key).is_some_and(|until| *until > now)
    }
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
    in_flight: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
}

impl PooledSandbox {
    /// A pool for the given languages. Call
    /// [`PooledSandbox::start_refilling`] to fill it.
    pub fn new(
        cold: DockerSandbox,
        node: impl Into<String>,
        languages: &[Language],
        settings: PoolSettings,
    ) -> PooledSandbox {
        let mut templates: Vec<(PoolKey, Language)> = Vec::new();
        for language in languages {
            let key = PoolKey::of(language, &language.limits);
            match templates.iter_mut().find(|(held, _)| *held == key) {
                // One container serves every language of its key: it warms
                // the folders of them all.
                Some((_, template)) => {
                    for path in &language.warm_paths {
                        if !template.warm_paths.contains(path) {
                            template.warm_paths.push(path.clone());
                        }
                    }
                }
                None => templates.push((key, language.clone())),
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
                paused: HashMap::new(),
            })),
            wake: Arc::new(Notify::new()),
            served_warm: Arc::new(AtomicUsize::new(0)),
            in_flight: Arc::new(AtomicUsize::new(0)),
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

    /// Stops refilling, waits until no container is being created, and
    /// removes every warm container held, so nothing the pool made outlives
    /// it (a sweep by label after it finds nothing of the pool's).
    pub async fn stop_refilling(&self, refiller: JoinHandle<()>) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if tokio::time::timeout(KILL_GRACE * 2, refiller)
            .await
            .is_err()
        {
            tracing::warn!("the warm pool did not stop refilling in time");
        }
        let held: Vec<Warm> = match self.shelves.lock() {
            Ok(mut shelves) => shelves.warm.drain().flat_map(|(_, queue)| queue).collect(),
            Err(_) => Vec::new(),
        };
        let removals = held.into_iter().map(|warm| retire(&self.docker, warm));
        futures_util::future::join_all(removals).await;
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

    /// Keeps the pool full until [`PooledSandbox::stop_refilling`].
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

    /// Creates what is missing, [`REFILL_PARALLELISM`] containers at a
    /// time (a start is mostly waiting on the engine), and replaces old ones.
    async fn refill_once(&self) {
        self.retire_old().await;
        while !self.stopping.load(Ordering::SeqCst) {
            if self.in_flight.load(Ordering::SeqCst) >= self.settings.refill_below_in_flight {
                // Woken again when an execution ends.
                return;
            }
            let plan = self.next_to_fill();
            if plan.is_empty() {
                return;
            }
            let starts = plan.iter().map(|(_, language)| {
                self.start_warm(
                    language,
                    &language.limits,
                    &language.warm_paths,
                    warm_name(),
                )
            });
            let started = futures_util::future::join_all(starts).await;
            let mut failed = false;
            for ((key, _), started) in plan.into_iter().zip(started) {
                match started {
                    Ok(warm) => {
                        if let Ok(mut shelves) = self.shelves.lock() {
                            shelves.warm.entry(key).or_default().push_back(warm);
                        }
                    }
                    Err(error) => {
                        tracing::warn!(
                            image = %key.image,
                            error = format!("{error:#}"),
                            "cannot start a warm sandbox; its requests take the cold path for now"
                        );
                        self.pause(key);
                        failed = true;
                    }
                }
            }
            if failed {
                return;
            }
        }
    }

    /// The next containers to start: each time the key most in need, within
    /// the bounds, up to [`REFILL_PARALLELISM`].
    fn next_to_fill(&self) -> Vec<(PoolKey, Language)> {
        let Ok(shelves) = self.shelves.lock() else {
            return Vec::new();
        };
        let mut total: usize = shelves.warm.values().map(VecDeque::len).sum();
        let mut planned: Vec<(PoolKey, Language)> = Vec::new();
        let now = Instant::now();
        while planned.len() < REFILL_PARALLELISM && total < self.settings.max_total {
            let neediest = shelves
                .templates
                .iter()
                .filter(|(key, _)| !shelves.is_paused(key, now))
                .map(|(key, language)| {
                    let held = shelves.warm.get(key).map_or(0, VecDeque::len)
                        + planned.iter().filter(|(held, _)| held == key).count();
                    (held, key, language)
                })
                .filter(|(held, _, _)| *held < self.settings.per_key)
                .min_by_key(|(held, _, _)| *held);
            let Some((_, key, language)) = neediest else {
                break;
            };
            planned.push((key.clone(), language.clone()));
            total += 1;
        }
        planned
    }

    async fn retire_old(&self) {
        let old: Vec<Warm> = match self.shelves.lock() {
            Ok(mut shelves) => {
                let max_idle = self.settings.max_idle;
                let mut old = Vec::new();
                for queue in shelves.warm.values_mut() {
                    while queue
                        .front()
                        .is_some_and(|warm| warm.born.elapsed() >= max_idle)
                    {
                        old.extend(queue.pop_front());
                    }
                }
                old
            }
            Err(_) => Vec::new(),
        };
        for warm in old {
            retire(&self.docker, warm).await;
        }
    }

    /// Creates, attaches to and starts a warm container, and waits for its
    /// runner to say it is ready (it looks through `warm_paths` afterwards,
    /// while it waits for its execution).
    async fn start_warm(
        &self,
        language: &Language,
        limits: &Limits,
        warm_paths: &[String],
        name: String,
    ) -> anyhow::Result<Warm> {
        let id = name.trim_start_matches(WARM_PREFIX).to_string();
        let mut command = vec![RUNNER.to_string()];
        for path in warm_paths {
            command.push("--warm".into());
            command.push(path.clone());
        }
        let spec = ContainerSpec {
            image: &language.image,
            command: &command,
            volume: None,
            code_read_only: false,
            limits,
            labels: engine::labels(&self.node, &format!("warm-{id}")),
        };
        let created = self
            .docker
            .create_container(
                Some(CreateContainerOptions {
                    name: Some(name.clone()),
                    ..Default::default()
                }),
                spec.to_create_body(),
            )
            .await;
        if let Err(error) = created {
            return Err(explain_create_error(error, &language.image));
        }
        let started = tokio::time::timeout(READY_TIMEOUT, self.attach_and_start(&name)).await;
        match started {
            Ok(Ok((output, input))) => Ok(Warm {
                name,
                born: Instant::now(),
                output,
                input,
            }),
            Ok(Err(error)) => {
                remove_container(&self.docker, &name).await;
                Err(error)
            }
            Err(_elapsed) => {
                remove_container(&self.docker, &name).await;
                anyhow::bail!("the runner of a warm sandbox was not ready in time")
            }
        }
    }

    async fn attach_and_start(&self, name: &str) -> anyhow::Result<(Output, Input)> {
        let attached = attach(&self.docker, name)
            .await
            .context("cannot attach to a warm sandbox")?;
        let mut output = attached.output;
        self.docker
            .start_container(name, None)
            .await
            .context("cannot start a warm sandbox (does its image have braindrill-runner?)")?;
        let mut decoder = FrameDecoder::default();
        let mut said = Vec::new();
        while let Some(chunk) = output.next().await {
            match chunk.context("lost a warm sandbox's output")? {
                LogOutput::StdOut { message } => {
                    decoder.push(&message);
                    match decoder.next_frame()? {
                        Some(Frame::Ready) => return Ok((output, attached.input)),
                        Some(other) => {
                            anyhow::bail!("a warm sandbox's runner began with {other:?}")
                        }
                        None => {}
                    }
                }
                LogOutput::StdErr { message } => said.extend_from_slice(&message),
                _ => {}
            }
        }
        anyhow::bail!(
            "a warm sandbox's runner ended before it was ready: {}",
            String::from_utf8_lossy(&said).trim()
        )
    }

    /// Keeps the key from being tried for [`FAILED_KEY_PAUSE`].
    fn pause(&self, key: PoolKey) {
        if let Ok(mut shelves) = self.shelves.lock() {
            shelves
                .paused
                .insert(key, Instant::now() + FAILED_KEY_PAUSE);
        }
    }

    fn is_paused(&self, key: &PoolKey) -> bool {
        self.shelves
            .lock()
            .is_ok_and(|shelves| shelves.is_paused(key, Instant::now()))
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
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let _in_flight = InFlight(self);
        let key = PoolKey::of(&submission.language, &submission.limits);
        // Whatever happens below (a cancelled request included), the
        // container serves this one execution and is removed.
        let (warm, guard) = match self.take(&key) {
            Some(warm) => {
                self.served_warm.fetch_add(1, Ordering::Relaxed);
                let guard = Retire::new(&self.docker, &warm.name, false);
                (warm, guard)
            }
            // A key whose runner containers fail to start (e.g. an image
            // without the runner) takes the volume path without a try.
            None if self.is_paused(&key) => return self.cold.execute(submission).await,
            // No warm one: start a runner container for this request alone
            // (no volume, no upload; the same measured, exact results), or
            // if even that fails, take the volume path.
            None => {
                let name = warm_name();
                // Dropped mid-create, the engine may finish the create
                // after a first removal: remove again later.
                let mut guard = Retire::new(&self.docker, &name, true);
                match self
                    // Nothing to warm: the program comes right away.
                    .start_warm(&submission.language, &submission.limits, &[], name)
                    .await
                {
                    Ok(fresh) => {
                        guard.late = false;
                        (fresh, guard)
                    }
                    Err(error) => {
                        tracing::debug!(
                            error = format!("{error:#}"),
                            "no runner container; taking the volume path"
                        );
                        self.pause(key);
                        drop(guard);
                        return self.cold.execute(submission).await;
                    }
                }
            }
        };
        let id = submission.execution_id.clone();
        let outcome = match self.run_in(warm, &submission).await {
            // The runner (and so the steps here) stopped at the first step
            // that failed: a compiled language's lone step is its compile.
            Ok(mut steps) => {
                let run = match submission.language.compile {
                    Some(_) if steps.len() < 2 => None,
                    _ => steps.pop(),
                };
                let compile = steps.pop();
                let status = match &run {
                    Some(run) => run.status,
                    None => Status::CompileError,
                };
                Outcome {
                    execution_id: id.clone(),
                    status,
                    compile,
                    run,
                    error: None,
                }
            }
            Err(error) => {
                tracing::warn!(execution_id = %id, error = format!("{error:#}"), "pooled execution failed in the engine");
                Outcome::internal_error(&id, format!("{error:#}"))
            }
        };
        drop(guard);
        outcome
    }

    /// Runs the submission's steps in the warm container; their outcomes,
    /// up to the first that failed.
    async fn run_in(
        &self,
        warm: Warm,
        submission: &Submission,
    ) -> anyhow::Result<Vec<StepOutcome>> {
        let Warm {
            name,
            mut output,
            mut input,
            ..
        } = warm;
        let limits = &submission.limits;
        let mut run_argv = submission.language.run.clone();
        run_argv.extend(submission.args.iter().cloned());
        let mut steps = Vec::with_capacity(2);
        if let Some(compile) = &submission.language.compile {
            steps.push(RunStep {
                timeout: limits.compile_timeout,
                output_cap: limits.output_bytes,
                argv: compile,
                stdin: b"",
            });
        }
        steps.push(RunStep {
            timeout: limits.timeout,
            output_cap: limits.output_bytes,
            argv: &run_argv,
            stdin: submission.stdin.as_bytes(),
        });
        let request = RunRequest {
            files: &submission.files,
            steps: &steps,
        }
        .encode()?;
        // The runner reads the whole request before it starts a program,
        // so this write cannot stall on a program that does not read.
        input
            .write_all(&request)
            .await
            .context("cannot send the execution to a warm sandbox")?;
        input
            .flush()
            .await
            .context("cannot send the execution to a warm sandbox")?;

        let mut wire = RunnerWire::default();
        let mut outcomes = Vec::with_capacity(steps.len());
        let mut engine_killed = false;
        for step in &steps {
            let mut collector = Collector::new(limits.output_bytes);
            let started = Instant::now();
            let ended = tokio::time::timeout(
                step.timeout + RUNNER_GRACE,
                wire.next_result(&mut output, &mut collector),
            )
            .await;
            let outcome = match ended {
                Ok(Ok(Some(result))) => step_outcome(&result, collector),
                Ok(Ok(None)) => {
                    engine_killed = true;
                    killed_by_engine(Status::OutputLimit, collector, started.elapsed())
                }
                Ok(Err(error)) => return Err(error),
                Err(_elapsed) => {
                    engine_killed = true;
                    killed_by_engine(Status::Timeout, collector, started.elapsed())
                }
            };
            let succeeded = outcome.status == Status::Ok;
            outcomes.push(outcome);
            if !succeeded {
                break;
            }
        }
        // Drop the attach before killing: a held, unread attach stream makes
        // a kill wait for the client timeout.
        drop(output);
        drop(input);
        if engine_killed {
            self.kill(&name).await;
        }
        Ok(outcomes)
    }

    async fn kill(&self, name: &str) {
        let _ = self
            .docker
            .kill_container(
                name,
                Some(KillContainerOptions {
                    signal: "SIGKILL".into(),
                }),
            )
            .await;
    }
}

/// The engine's end of a runner's frames, kept across the steps: a chunk
/// may hold the end of one step and the start of the next.
#[derive(Default)]
struct RunnerWire {
    decoder: FrameDecoder,
    /// What the runner itself wrote on stderr (only ever a crash message).
    runner_said: Vec<u8>,
}

impl RunnerWire {
    /// Reads up to the current step's result, its output into `collector`;
    /// `None` if the engine's own output cap was reached first.
    async fn next_result(
        &mut self,
        output: &mut Output,
        collector: &mut Collector,
    ) -> anyhow::Result<Option<RunResult>> {
        loop {
            while let Some(frame) = self.decoder.next_frame()? {
                let flow = match frame {
                    Frame::Stdout(bytes) => collector.push(LogOutput::StdOut {
                        message: bytes.into(),
                    }),
                    Frame::Stderr(bytes) => collector.push(LogOutput::StdErr {
                        message: bytes.into(),
                    }),
                    Frame::Result(result) => return Ok(Some(result)),
                    Frame::Fault(message) => {
                        anyhow::bail!("the sandbox's runner could not run the program: {message}")
                    }
                    Frame::Ready => Flow::Continue,
                };
                // The runner cuts at the same cap; this is the engine's own
                // guard should it not.
                if flow == Flow::OverCap {
                    return Ok(None);
                }
            }
            match output.next().await {
                Some(chunk) => match chunk.context("lost a warm sandbox's output")? {
                    LogOutput::StdOut { message } => self.decoder.push(&message),
                    LogOutput::StdErr { message } => self.runner_said.extend_from_slice(&message),
                    _ => {}
                },
                None => anyhow::bail!(
                    "a warm sandbox ended without a result{}",
                    if self.runner_said.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", String::from_utf8_lossy(&self.runner_said).trim())
                    }
                ),
            }
        }
    }
}

/// Counts an execution in flight until dropped, then wakes the refill.
struct InFlight<'a>(&'a PooledSandbox);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.wake.notify_one();
    }
}

/// What the runner's result says, in the sandbox's terms. Statuses come from
/// facts: the runner's timer and cap, the cgroup's OOM kill count, the
/// program's wait status.
fn step_outcome(result: &RunResult, collector: Collector) -> StepOutcome {
    let oom_killed = result.oom_kills.is_some_and(|kills| kills > 0);
    let status = if result.timed_out {
        Status::Timeout
    } else if result.output_capped {
        Status::OutputLimit
    } else {
        match result.ending {
            Ending::Exited(0) => Status::Ok,
            _ if oom_killed => Status::MemoryLimit,
            _ => Status::RuntimeError,
        }
    };
    // Like docker-init and a shell, a death by signal N reads as 128 + N; the
    // signal itself is exact here, from the runner's waitpid.
    let (exit_code, signal) = match result.ending {
        Ending::Exited(code) => (i64::from(code), None),
        Ending::Signaled(signal) => (128 + i64::from(signal), Some(signal)),
    };
    let (stdout, stderr, stdout_truncated, stderr_truncated) = collector.finish();
    StepOutcome {
        status,
        exit_code: Some(exit_code),
        signal,
        stdout,
        stderr,
        stdout_truncated: stdout_truncated || result.stdout_cut,
        stderr_truncated: stderr_truncated || result.stderr_cut,
        wall_time_ms: result.wall_time.as_millis() as u64,
        cpu_time_ms: result.cpu_time.map(|cpu| cpu.as_millis() as u64),
        memory_peak_bytes: result.memory_peak_bytes,
    }
}

/// The outcome when the engine, not the runner, had to stop the sandbox.
fn killed_by_engine(status: Status, collector: Collector, elapsed: Duration) -> StepOutcome {
    let (stdout, stderr, stdout_truncated, stderr_truncated) = collector.finish();
    StepOutcome {
        status,
        exit_code: Some(137),
        signal: Some(9),
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        wall_time_ms: elapsed.as_millis() as u64,
        cpu_time_ms: None,
        memory_peak_bytes: None,
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

/// Removes a warm container nobody will use: closing its stdin lets the
/// runner end by itself; the removal makes sure.
async fn retire(docker: &Docker, warm: Warm) {
    let Warm {
        name,
        output,
        input,
        ..
    } = warm;
    drop((output, input));
    let _ = tokio::time::timeout(KILL_GRACE, remove_container(docker, &name)).await;
}

/// Removes a used warm container when dropped: after every execution, and
/// when one is cancelled midway.
struct Retire {
    docker: Docker,
    name: String,
    /// Whether the container may still be being created: then removal is
    /// tried again after each of [`LATE_SWEEPS`].
    late: bool,
}

impl Retire {
    fn new(docker: &Docker, name: &str, late: bool) -> Retire {
        Retire {
            docker: docker.clone(),
            name: name.to_string(),
            late,
        }
    }
}

impl Drop for Retire {
    fn drop(&mut self) {
        let docker = self.docker.clone();
        let name = std::mem::take(&mut self.name);
        let pauses: &[Duration] = if self.late {
            &LATE_SWEEPS
        } else {
            &[Duration::ZERO]
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for pause in pauses {
                    tokio::time::sleep(*pause).await;
                    let _ =
                        tokio::time::timeout(KILL_GRACE, remove_container(&docker, &name)).await;
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(ending: Ending, oom_kills: u64) -> RunResult {
        RunResult {
            ending,
            timed_out: false,
            output_capped: false,
            stdout_cut: false,
            stderr_cut: false,
            wall_time: Duration::from_millis(12),
            cpu_time: Some(Duration::from_millis(9)),
            memory_peak_bytes: Some(4 << 20),
            oom_kills: Some(oom_kills),
        }
    }

    #[test]
    fn classifies_the_runners_result_from_facts() {
        let outcome = step_outcome(&result(Ending::Exited(0), 0), Collector::new(10));
        assert_eq!(outcome.status, Status::Ok);
        assert_eq!((outcome.exit_code, outcome.signal), (Some(0), None));
        assert_eq!(outcome.cpu_time_ms, Some(9));

        let outcome = step_outcome(&result(Ending::Signaled(9), 1), Collector::new(10));
        assert_eq!(outcome.status, Status::MemoryLimit);
        assert_eq!((outcome.exit_code, outcome.signal), (Some(137), Some(9)));

        // A program that exits 137 itself was not killed by a signal.
        let outcome = step_outcome(&result(Ending::Exited(137), 0), Collector::new(10));
        assert_eq!(outcome.status, Status::RuntimeError);
        assert_eq!((outcome.exit_code, outcome.signal), (Some(137), None));

        let mut timed_out = result(Ending::Signaled(9), 0);
        timed_out.timed_out = true;
        assert_eq!(
            step_outcome(&timed_out, Collector::new(10)).status,
            Status::Timeout
        );

        let mut capped = result(Ending::Signaled(9), 0);
        capped.output_capped = true;
        capped.stderr_cut = true;
        let outcome = step_outcome(&capped, Collector::new(10));
        assert_eq!(outcome.status, Status::OutputLimit);
        assert!(outcome.stderr_truncated && !outcome.stdout_truncated);
    }
}
