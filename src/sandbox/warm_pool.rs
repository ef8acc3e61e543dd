//! The warm pool: runner containers started ahead of time, on shelves by
//! key (image and creation-time limits), each taken by one execution at a
//! time. Each key's shelf is sized from what the node serves
//! ([`pool_sizing`](super::pool_sizing): about one container per execution
//! of the key that ran at once recently, within the node's slots and the
//! pool's total, down to a floor when the key is quiet). A background
//! refill keeps every key at its size while the node is not busy, retires
//! what a key no longer needs and containers that sat idle too long, and
//! pauses a key whose containers fail to start.
//!
//! In recycle mode ([`reuse`](super::reuse)) a container taken is lent: it
//! still counts against its key's and the pool's bounds, so the refill does
//! not start a replacement while it serves, and it goes back on the front of
//! its shelf (the next execution takes the one just used, whose caches are
//! warm) when its runner proved its reset clean. That proof is read after
//! the execution has answered, in a task the pool tracks (see
//! [`WarmPool::settle`]); a request that finds its key's shelf empty while
//! one of its containers is resetting waits a moment for it rather than
//! start a container. Only a container retired makes room for a start, and
//! containers started on demand under load join the shelf when the key's
//! size allows.
//!
//! It only manages containers: what runs in one is
//! [`warm_run`](super::warm_run)'s, and which path a request takes is
//! [`PooledSandbox`](super::PooledSandbox)'s.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::Docker;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use super::pool_sizing::{self, Demand, Sizing};
use super::reuse::ReusePolicy;
use super::runner_container::{self, REMOVAL_GRACE, RunnerContainer};
use super::sweeper::LATE_SWEEPS;
use super::{Language, Limits, Placement};

/// Runner containers started at once by the refill (a start mostly waits on
/// the engine). The refill only runs while the node is not busy (see
/// [`PoolSettings::refill_below_in_flight`]), so it does not compete with
/// executions under load.
const REFILL_PARALLELISM: usize = 2;
/// After a runner container of a key failed to start, that key is not
/// tried again for this long (e.g. an image without the runner).
const FAILED_KEY_PAUSE: Duration = Duration::from_secs(30);
/// How long a request that finds its key's shelf empty waits for one of
/// the key's containers to finish its reset (about 1 ms after a hello
/// world, ~180 ms after the worst trace program) before it starts one of
/// its own (~200-400 ms and a fifth of a CPU-second here).
const RESET_WAIT: Duration = Duration::from_millis(250);
/// How long a stopping pool waits for the resets it is reading to be
/// settled (each is bounded by the reset's timeout and a removal).
const SETTLE_GRACE: Duration = Duration::from_secs(10);

/// Sizes of the pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// How many warm containers each (image, limits) pair holds, and all
    /// of them together.
    pub sizing: Sizing,
    /// A warm container older than this is replaced by a fresh one.
    pub max_idle: Duration,
    /// The refill waits while this many executions are in flight: a start
    /// costs as much CPU as a short program, and a program's time limit is
    /// wall-clock, so under load the refill would eat into the programs'
    /// time. (Under load a single-use pool would drain anyway: every
    /// execution consumes a container, and the engine's start rate is the
    /// ceiling.)
    pub refill_below_in_flight: usize,
    /// Whether a container serves one execution or many.
    pub reuse: ReusePolicy,
}

/// What a warm container is built for: containers are interchangeable only
/// when the image and the limits set at creation agree. The time limit and
/// the output cap travel with each request to the runner, so they are not
/// part of the key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct PoolKey {
    image: String,
    limits: String,
}

impl PoolKey {
    pub(super) fn of(language: &Language, limits: &Limits) -> PoolKey {
        PoolKey {
            image: language.image.clone(),
            limits: format!(
                "{:?}",
                Limits {
                    timeout: Duration::ZERO,
                    compile_timeout: Duration::ZERO,
                    cpu_time: Duration::ZERO,
                    compile_cpu_time: Duration::ZERO,
                    output_bytes: 0,
                    ..limits.clone()
                }
            ),
        }
    }
}

/// Warm containers by key, and what each key's containers are made of.
struct Shelves {
    warm: HashMap<PoolKey, VecDeque<RunnerContainer>>,
    /// Containers taken in recycle mode and not yet back, by key: they
    /// count against the bounds.
    lent: HashMap<PoolKey, usize>,
    /// The keys to keep warm: one per distinct (image, limits) of the
    /// pooled languages.
    templates: Vec<(PoolKey, Language)>,
    /// Keys whose last warm container failed to start, until when.
    paused: HashMap<PoolKey, Instant>,
    /// Containers the refill is starting now: should the refill be
    /// aborted, their names are what may still appear.
    starting: HashSet<String>,
    /// Executions running by key, and each key's recent peak.
    demand: Demand<PoolKey>,
    /// Containers whose reset verdict is being read, by key: they come
    /// back in a moment when clean.
    resetting: HashMap<PoolKey, usize>,
}

impl Shelves {
    fn is_paused(&self, key: &PoolKey, now: Instant) -> bool {
        self.paused.get(key).is_some_and(|until| *until > now)
    }

    /// Containers of `key`, on the shelf and lent.
    fn held(&self, key: &PoolKey) -> usize {
        self.warm.get(key).map_or(0, VecDeque::len) + self.lent.get(key).copied().unwrap_or(0)
    }

    /// Containers of every key, on the shelves and lent.
    fn total(&self) -> usize {
        self.warm.values().map(VecDeque::len).sum::<usize>() + self.lent.values().sum::<usize>()
    }

    /// The containers `key` should hold now.
    fn target(&self, key: &PoolKey, sizing: &Sizing, now: Instant) -> usize {
        let configured = self.templates.iter().any(|(held, _)| held == key);
        sizing.target(self.demand.recent_peak(key, now), configured)
    }
}

/// The warm containers of a node, and the task that refills them.
#[derive(Clone)]
pub(super) struct WarmPool {
    docker: Docker,
    node: String,
    /// Where its containers run and what they mount.
    placement: Placement,
    settings: PoolSettings,
    shelves: Arc<Mutex<Shelves>>,
    /// Wakes the refill.
    wake: Arc<Notify>,
    /// Wakes the requests waiting for a container to finish its reset.
    returned: Arc<Notify>,
    in_flight: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    /// The tasks reading reset verdicts: a stopping pool waits for them.
    settling: TaskTracker,
}

impl WarmPool {
    /// A pool for the given languages, empty until
    /// [`WarmPool::start_refilling`].
    pub(super) fn new(
        docker: Docker,
        node: String,
        placement: Placement,
        languages: &[Language],
        settings: PoolSettings,
    ) -> WarmPool {
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
        WarmPool {
            docker,
            node,
            placement,
            shelves: Arc::new(Mutex::new(Shelves {
                warm: HashMap::new(),
                lent: HashMap::new(),
                templates,
                paused: HashMap::new(),
                starting: HashSet::new(),
                demand: Demand::new(settings.sizing.demand_window),
                resetting: HashMap::new(),
            })),
            settings,
            wake: Arc::new(Notify::new()),
            returned: Arc::new(Notify::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
            settling: TaskTracker::new(),
        }
    }

    /// Warm containers held now for `language` at its own limits.
    pub(super) fn warm_count_for(&self, language: &Language) -> usize {
        let key = PoolKey::of(language, &language.limits);
        self.shelves
            .lock()
            .map(|shelves| shelves.warm.get(&key).map_or(0, VecDeque::len))
            .unwrap_or(0)
    }

    /// Warm containers held now.
    pub(super) fn warm_count(&self) -> usize {
        self.shelves
            .lock()
            .map(|shelves| shelves.warm.values().map(VecDeque::len).sum())
            .unwrap_or(0)
    }

    /// The reuse policy of its containers.
    pub(super) fn reuse(&self) -> ReusePolicy {
        self.settings.reuse
    }

    /// A warm container of `key`, if one is held or one of the key's comes
    /// back from its reset within [`RESET_WAIT`]. In single-use mode the
    /// refill is woken to replace it; in recycle mode it is lent until the
    /// [`Loan`] is dropped or given back with it.
    pub(super) async fn take(&self, key: &PoolKey) -> Option<(RunnerContainer, Loan)> {
        let recycles = self.settings.reuse.recycles();
        let deadline = tokio::time::Instant::now() + RESET_WAIT;
        loop {
            // Registered before the shelf is looked at, so that a container
            // given back in between is not missed.
            let returned = self.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            let (warm, resetting) = match self.shelves.lock() {
                Ok(mut shelves) => {
                    let warm = shelves.warm.get_mut(key).and_then(VecDeque::pop_front);
                    if warm.is_some() && recycles {
                        *shelves.lent.entry(key.clone()).or_default() += 1;
                    }
                    let resetting = shelves.resetting.get(key).copied().unwrap_or(0);
                    (warm, resetting)
                }
                Err(_) => (None, 0),
            };
            if let Some(warm) = warm {
                self.wake.notify_one();
                let loan = Loan {
                    pool: self.clone(),
                    key: recycles.then(|| key.clone()),
                };
                return Some((warm, loan));
            }
            if resetting == 0
                || self.stopping.load(Ordering::SeqCst)
                || tokio::time::timeout_at(deadline, returned).await.is_err()
            {
                self.wake.notify_one();
                return None;
            }
        }
    }

    /// Counts a container of `key` started on demand as lent, in recycle
    /// mode: it may join the shelf after its execution, so the refill does
    /// not start another for the key meanwhile.
    pub(super) fn lend(&self, key: &PoolKey) -> Loan {
        let recycles = self.settings.reuse.recycles();
        if recycles && let Ok(mut shelves) = self.shelves.lock() {
            *shelves.lent.entry(key.clone()).or_default() += 1;
        }
        Loan {
            pool: self.clone(),
            key: recycles.then(|| key.clone()),
        }
    }

    /// Puts a container that proved its reset clean back on the front of
    /// its shelf, ending its loan; gives it back to be removed when its key
    /// holds what it needs, the pool is full, or the pool is stopping.
    pub(super) fn give_back(
        &self,
        key: PoolKey,
        container: RunnerContainer,
        mut loan: Loan,
    ) -> Option<RunnerContainer> {
        let Ok(mut shelves) = self.shelves.lock() else {
            return Some(container);
        };
        if let Some(lent_key) = loan.key.take()
            && let Some(lent) = shelves.lent.get_mut(&lent_key)
        {
            *lent = lent.saturating_sub(1);
        }
        let sizing = &self.settings.sizing;
        let fits = shelves.held(&key) < shelves.target(&key, sizing, Instant::now())
            && shelves.total() < sizing.max_total;
        if self.stopping.load(Ordering::SeqCst) || !fits {
            drop(shelves);
            self.wake.notify_one();
            return Some(container);
        }
        shelves.warm.entry(key).or_default().push_front(container);
        drop(shelves);
        self.returned.notify_waiters();
        None
    }

    /// Runs `settle`, which reads a reset verdict of a container of `key`
    /// and gives the container back or removes it, in a task of its own:
    /// the execution has answered already. Until it ends, requests of
    /// `key` that find the shelf empty wait for it, and a stopping pool
    /// waits for it before its last removal.
    pub(super) fn settle(&self, key: PoolKey, settle: BoxFuture<'static, ()>) {
        if let Ok(mut shelves) = self.shelves.lock() {
            *shelves.resetting.entry(key.clone()).or_default() += 1;
        }
        let resetting = ResetPending {
            pool: self.clone(),
            key,
        };
        self.settling.spawn(async move {
            settle.await;
            drop(resetting);
        });
    }

    /// Keeps the key from being tried for [`FAILED_KEY_PAUSE`].
    pub(super) fn pause(&self, key: PoolKey) {
        if let Ok(mut shelves) = self.shelves.lock() {
            shelves
                .paused
                .insert(key, Instant::now() + FAILED_KEY_PAUSE);
        }
    }

    pub(super) fn is_paused(&self, key: &PoolKey) -> bool {
        self.shelves
            .lock()
            .is_ok_and(|shelves| shelves.is_paused(key, Instant::now()))
    }

    /// Counts an execution of `key` as running until the returned guard is
    /// dropped: the refill waits while the node is busy, and the key's
    /// size follows what runs at once.
    pub(super) fn count_running(&self, key: &PoolKey) -> RunningExecution<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut shelves) = self.shelves.lock() {
            shelves.demand.started(key, Instant::now());
        }
        RunningExecution {
            pool: self,
            key: key.clone(),
        }
    }

    /// Keeps the pool full until [`WarmPool::stop_refilling`].
    pub(super) fn start_refilling(&self) -> JoinHandle<()> {
        let pool = self.clone();
        tokio::spawn(async move {
            while !pool.stopping.load(Ordering::SeqCst) {
                pool.refill_once().await;
                crate::metrics::warm_sandboxes(pool.warm_count());
                // Woken when a container is taken, and now and then to
                // replace old ones.
                let _ = tokio::time::timeout(Duration::from_secs(1), pool.wake.notified()).await;
            }
        })
    }

    /// Stops refilling, waits until no container is being created and no
    /// reset verdict is being read, and removes every warm container held,
    /// so nothing the pool made outlives it (a sweep by label after it
    /// finds nothing of the pool's). A refill that does not stop in time is
    /// aborted, and the containers it was starting are removed until the
    /// engine has surely finished creating them.
    pub(super) async fn stop_refilling(&self, mut refiller: JoinHandle<()>) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if tokio::time::timeout(REMOVAL_GRACE * 2, &mut refiller)
            .await
            .is_err()
        {
            tracing::warn!("the warm pool did not stop refilling in time; aborting the refill");
            refiller.abort();
            // An aborted task ends at its next await: once this returns,
            // nothing adds to the shelves or starts a container any more.
            let _ = refiller.await;
            let starting: Vec<String> = match self.shelves.lock() {
                Ok(mut shelves) => shelves.starting.drain().collect(),
                Err(_) => Vec::new(),
            };
            let removals = starting
                .iter()
                .map(|name| runner_container::remove_by_name(&self.docker, name, &LATE_SWEEPS));
            futures_util::future::join_all(removals).await;
        }
        // A verdict read from now on finds the pool stopping: its container
        // is removed, not shelved.
        self.settling.close();
        if tokio::time::timeout(SETTLE_GRACE, self.settling.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "reset verdicts still pending at the pool's stop; the final sweep removes their sandboxes"
            );
        }
        let held: Vec<RunnerContainer> = match self.shelves.lock() {
            Ok(mut shelves) => shelves.warm.drain().flat_map(|(_, queue)| queue).collect(),
            Err(_) => Vec::new(),
        };
        let removals = held
            .into_iter()
            .map(|warm| runner_container::retire(&self.docker, warm));
        futures_util::future::join_all(removals).await;
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
            let starts = plan.iter().map(|(_, language)| self.start_one(language));
            let started = futures_util::future::join_all(starts).await;
            let mut failed = false;
            for ((key, _), started) in plan.into_iter().zip(started) {
                match started {
                    Ok(warm) => {
                        crate::metrics::sandbox_started(crate::metrics::SandboxStart::Warm);
                        if let Ok(mut shelves) = self.shelves.lock() {
                            shelves.starting.remove(&warm.name);
                            shelves.warm.entry(key).or_default().push_back(warm);
                        }
                    }
                    Err(error) => {
                        crate::metrics::sandbox_start_failed();
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

    /// Starts one container for the shelf of `language`. Its name stays on
    /// the list of those being started until it is on its shelf (or its
    /// start failed, which removes what it created): an aborted refill may
    /// drop it anywhere in between.
    async fn start_one(&self, language: &Language) -> anyhow::Result<RunnerContainer> {
        let name = runner_container::new_name();
        if let Ok(mut shelves) = self.shelves.lock() {
            shelves.starting.insert(name.clone());
        }
        let started = runner_container::start(
            &self.docker,
            &self.node,
            language,
            &language.limits,
            &self.placement,
            &language.warm_paths,
            name.clone(),
        )
        .await;
        if started.is_err()
            && let Ok(mut shelves) = self.shelves.lock()
        {
            shelves.starting.remove(&name);
        }
        started
    }

    /// The next containers to start: each time the key most in need, within
    /// the bounds, up to [`REFILL_PARALLELISM`].
    fn next_to_fill(&self) -> Vec<(PoolKey, Language)> {
        let Ok(shelves) = self.shelves.lock() else {
            return Vec::new();
        };
        let now = Instant::now();
        let sizing = &self.settings.sizing;
        // A lent container comes back unless retired: it is not replaced.
        let keys: Vec<(&PoolKey, usize, usize)> = shelves
            .templates
            .iter()
            .filter(|(key, _)| !shelves.is_paused(key, now))
            .map(|(key, _)| (key, shelves.held(key), shelves.target(key, sizing, now)))
            .collect();
        pool_sizing::plan(&keys, shelves.total(), sizing.max_total, REFILL_PARALLELISM)
            .into_iter()
            .filter_map(|key| {
                shelves
                    .templates
                    .iter()
                    .find(|(held, _)| held == key)
                    .cloned()
            })
            .collect()
    }

    /// Removes the containers older than `max_idle`, in recycle mode those
    /// past the policy's age or runs (anywhere on the shelf: a container
    /// given back goes to the front), and those a key holds beyond its
    /// size (from the back: the least recently used).
    async fn retire_old(&self) {
        let reuse = self.settings.reuse;
        let too_old = |warm: &RunnerContainer| {
            warm.born.elapsed() >= self.settings.max_idle || (warm.runs > 0 && !reuse.keeps(warm))
        };
        let old: Vec<RunnerContainer> = match self.shelves.lock() {
            Ok(mut shelves) => {
                let now = Instant::now();
                shelves.demand.forget_idle(now);
                let keys: Vec<PoolKey> = shelves.warm.keys().cloned().collect();
                let mut old = Vec::new();
                for key in keys {
                    let target = shelves.target(&key, &self.settings.sizing, now);
                    let mut beyond = shelves.held(&key).saturating_sub(target);
                    let Some(queue) = shelves.warm.get_mut(&key) else {
                        continue;
                    };
                    for warm in std::mem::take(queue) {
                        if too_old(&warm) {
                            beyond = beyond.saturating_sub(1);
                            old.push(warm);
                        } else {
                            queue.push_back(warm);
                        }
                    }
                    while beyond > 0
                        && let Some(warm) = queue.pop_back()
                    {
                        beyond -= 1;
                        old.push(warm);
                    }
                }
                shelves.warm.retain(|_, queue| !queue.is_empty());
                old
            }
            Err(_) => Vec::new(),
        };
        for warm in old {
            runner_container::retire(&self.docker, warm).await;
            crate::metrics::sandbox_retired();
        }
    }
}

/// A container taken or started on demand in recycle mode, counted against
/// the bounds until it is given back ([`WarmPool::give_back`]) or this is
/// dropped (it was retired, or its execution was cancelled): then the
/// refill may replace it.
pub(super) struct Loan {
    pool: WarmPool,
    /// The key it counts against; `None` when nothing is counted (single
    /// use, or the loan ended).
    key: Option<PoolKey>,
}

impl Drop for Loan {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        if let Ok(mut shelves) = self.pool.shelves.lock()
            && let Some(lent) = shelves.lent.get_mut(&key)
        {
            *lent = lent.saturating_sub(1);
        }
        self.pool.wake.notify_one();
    }
}

/// One execution counted as running, until dropped; then the refill is
/// woken, since it may have waited for the node to be less busy.
pub(super) struct RunningExecution<'a> {
    pool: &'a WarmPool,
    key: PoolKey,
}

impl Drop for RunningExecution<'_> {
    fn drop(&mut self) {
        self.pool.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut shelves) = self.pool.shelves.lock() {
            shelves.demand.ended(&self.key, Instant::now());
        }
        self.pool.wake.notify_one();
    }
}

/// A container of `key` whose reset verdict is being read, until dropped:
/// then requests waiting for it look at the shelf again.
struct ResetPending {
    pool: WarmPool,
    key: PoolKey,
}

impl Drop for ResetPending {
    fn drop(&mut self) {
        if let Ok(mut shelves) = self.pool.shelves.lock()
            && let Some(resetting) = shelves.resetting.get_mut(&self.key)
        {
            *resetting = resetting.saturating_sub(1);
            if *resetting == 0 {
                shelves.resetting.remove(&self.key);
            }
        }
        self.pool.returned.notify_waiters();
    }
}
