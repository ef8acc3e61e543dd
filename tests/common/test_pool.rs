//! A warm pool of a node of its own, in the test's process, swept when it
//! is dropped: for tests that look at the pool itself.

use std::time::{Duration, Instant};

use braindrill::sandbox::{
    CpuSet, DockerSandbox, Language, PoolSettings, PoolSizing, PooledSandbox, ReusePolicy,
    RuntimeVolumes, engine,
};

use super::{configured_languages, language};

/// A refilling pool of a node of its own. Dropped, a failed assertion
/// included, it stops refilling and removes everything of its node.
pub struct TestPool {
    pub node: String,
    pool: PooledSandbox,
    /// `None` once [`TestPool::stop`] stopped it.
    refiller: Option<tokio::task::JoinHandle<()>>,
}

impl TestPool {
    /// A single-use pool of `per_key` containers for every key, within
    /// `max_total`.
    pub fn start(per_key: usize, max_total: usize) -> TestPool {
        TestPool::start_with(per_key, max_total, ReusePolicy::SINGLE_USE)
    }

    pub fn start_with(per_key: usize, max_total: usize, reuse: ReusePolicy) -> TestPool {
        TestPool::start_for(&configured_languages(), per_key, max_total, reuse)
    }

    /// A pool that keeps only the keys of `languages` warm, `per_key` each
    /// whatever the demand.
    pub fn start_for(
        languages: &[Language],
        per_key: usize,
        max_total: usize,
        reuse: ReusePolicy,
    ) -> TestPool {
        let fixed = PoolSizing {
            min_per_key: per_key,
            max_per_key: per_key,
            max_total,
            demand_window: Duration::from_secs(60),
        };
        TestPool::start_sized(languages, fixed, reuse)
    }

    /// A pool that keeps only the keys of `languages` warm, sized by
    /// `sizing` from its demand.
    pub fn start_sized(languages: &[Language], sizing: PoolSizing, reuse: ReusePolicy) -> TestPool {
        TestPool::start_on_cpus(languages, sizing, reuse, None)
    }

    /// A recycling pool of one container per key of `languages`, whose
    /// containers (warm or started on demand) are pinned to `cpuset`, as a
    /// node's `sandbox.cpuset` pins them.
    pub fn start_pinned(languages: &[Language], cpuset: CpuSet) -> TestPool {
        let sizing = PoolSizing {
            min_per_key: 1,
            max_per_key: 1,
            max_total: languages.len(),
            demand_window: Duration::from_secs(60),
        };
        let reuse = ReusePolicy {
            mode: braindrill::sandbox::ReuseMode::Recycle,
            max_runs: 50,
            max_age: Duration::from_secs(300),
        };
        TestPool::start_on_cpus(languages, sizing, reuse, Some(cpuset))
    }

    fn start_on_cpus(
        languages: &[Language],
        sizing: PoolSizing,
        reuse: ReusePolicy,
        cpuset: Option<CpuSet>,
    ) -> TestPool {
        let node = format!("pool-test-{}", uuid::Uuid::new_v4());
        let docker = engine::connect("/var/run/docker.sock", 30).expect("docker socket");
        // As a node does: /usr from the runtime volumes that are ready, so
        // the suites on test pools (pool, traces, hostile) run the default.
        // Every caller is a multi-threaded tokio test.
        let images: Vec<String> = languages
            .iter()
            .map(|language| language.image.clone())
            .collect();
        let runtime_volumes = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(RuntimeVolumes::discover(&docker, &images))
        });
        let cold = DockerSandbox::new(docker, &node)
            .with_cpuset(cpuset)
            .with_runtime_volumes(runtime_volumes);
        let pool = PooledSandbox::new(
            cold,
            &node,
            languages,
            PoolSettings {
                sizing,
                max_idle: Duration::from_secs(300),
                refill_below_in_flight: 1,
                reuse,
            },
        );
        let refiller = Some(pool.start_refilling());
        TestPool {
            node,
            pool,
            refiller,
        }
    }

    /// Stops the pool as a stopping worker does: what it returns after,
    /// the pool has removed.
    pub async fn stop(&mut self) {
        if let Some(refiller) = self.refiller.take() {
            self.pool.stop_refilling(refiller).await;
        }
    }
}

impl std::ops::Deref for TestPool {
    type Target = PooledSandbox;

    fn deref(&self) -> &PooledSandbox {
        &self.pool
    }
}

impl Drop for TestPool {
    fn drop(&mut self) {
        // A refill aborted mid-way may have asked the engine for a
        // container: the engine finishes a create call cut short, maybe
        // after a first sweep (seen in CI: one `Created` warm container
        // left), so such a pool is swept again a moment later, as the
        // worker's sweeps of a dropped execution do.
        let aborted = self
            .refiller
            .take()
            .map(|refiller| refiller.abort())
            .is_some();
        let pauses: Vec<Duration> = if aborted {
            vec![
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(3),
            ]
        } else {
            vec![Duration::ZERO]
        };
        // Drop cannot await, and the test's runtime may be unwinding: the
        // sweep gets a runtime of its own.
        let node = self.node.clone();
        let swept = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|runtime| {
                    runtime.block_on(async {
                        for pause in pauses {
                            tokio::time::sleep(pause).await;
                            remove_all_of(&node).await;
                        }
                    })
                })
        })
        .join();
        if !std::thread::panicking() {
            assert!(matches!(swept, Ok(Ok(()))), "cannot sweep {}", self.node);
        }
    }
}

/// Waits until `count` warm sandboxes are held for the language.
pub async fn wait_for_warm(pool: &PooledSandbox, language_name: &str, count: usize) {
    let language = language(language_name);
    let deadline = Instant::now() + Duration::from_secs(60);
    while pool.warm_count_for(&language) < count {
        assert!(
            Instant::now() < deadline,
            "the pool never held {count} warm sandboxes for {language_name}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn remove_all_of(node: &str) {
    let docker = engine::connect("/var/run/docker.sock", 30).expect("docker socket");
    braindrill::sandbox::sweeper::sweep(&docker, Some(node))
        .await
        .expect("sweep");
}
