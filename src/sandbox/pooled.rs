//! The pooled sandbox: serves each execution from a warm runner container
//! when the pool holds one of its key ([`warm_pool`](super::warm_pool)),
//! and runs it there ([`warm_run`](super::warm_run)).
//!
//! A request that finds no warm container of its key starts a runner
//! container of its own on the spot (a cold start, but without a volume or
//! an upload, and with the same measured results); only if even that fails
//! does it take the fresh run of [`DockerSandbox`]. In single-use mode the
//! container serves this one execution and is removed; in recycle mode
//! ([`reuse`](super::reuse)) the outcome is answered first, and then, in a
//! task the pool tracks, one whose reset was proven clean, within the
//! policy's runs and age, goes back on its key's shelf (one started on
//! demand too, if its key's size allows), and any other is removed.
//! Whatever happens (a cancelled request included), nothing is left
//! behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bollard::Docker;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::task::JoinHandle;

use super::runner_container::{self, RemoveOnDrop, RunnerContainer};
use super::warm_pool::{Loan, PoolKey, PoolSettings, WarmPool};
use super::warm_run::{self, Resetting};
use super::{
    DockerSandbox, Language, Outcome, Sandbox, Submission, TestInput, TestsOutcome, engine,
};

/// A [`Sandbox`] that serves from warm containers when it can.
#[derive(Clone)]
pub struct PooledSandbox {
    cold: DockerSandbox,
    docker: Docker,
    node: String,
    pool: WarmPool,
    served_warm: Arc<AtomicUsize>,
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
        let node = node.into();
        let docker = cold.docker().clone();
        PooledSandbox {
            pool: WarmPool::new(
                docker.clone(),
                node.clone(),
                cold.placement().clone(),
                languages,
                settings,
            ),
            cold,
            docker,
            node,
            served_warm: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Keeps the pool full until [`PooledSandbox::stop_refilling`].
    pub fn start_refilling(&self) -> JoinHandle<()> {
        self.pool.start_refilling()
    }

    /// Stops refilling and removes every warm container held, so nothing
    /// the pool made outlives it (a sweep by label after it finds nothing
    /// of the pool's).
    pub async fn stop_refilling(&self, refiller: JoinHandle<()>) {
        self.pool.stop_refilling(refiller).await;
    }

    /// Executions served by a warm container so far.
    pub fn served_warm(&self) -> usize {
        self.served_warm.load(Ordering::Relaxed)
    }

    /// Warm containers held now.
    pub fn warm_count(&self) -> usize {
        self.pool.warm_count()
    }

    /// Warm containers held now for `language` at its own limits.
    pub fn warm_count_for(&self, language: &Language) -> usize {
        self.pool.warm_count_for(language)
    }

    async fn run(&self, submission: Submission) -> Outcome {
        let key = PoolKey::of(&submission.language, &submission.limits);
        let _running = self.pool.count_running(&key);
        let Some((container, removal, loan)) = self.container_for(&key, &submission).await else {
            return self.cold.execute(submission).await;
        };
        let reuse = self.pool.reuse();
        let (outcome, resetting) =
            warm_run::run(&self.docker, container, &submission, reuse.recycles()).await;
        self.after(key, resetting, removal, loan, &outcome.execution_id);
        outcome
    }

    /// A judged submission's tests, all in one runner container (one
    /// compile); the fresh run's one execution per test where no runner
    /// container starts.
    async fn run_tests(
        &self,
        submission: Submission,
        tests: Vec<TestInput>,
        stop_on_failure: bool,
    ) -> TestsOutcome {
        let key = PoolKey::of(&submission.language, &submission.limits);
        let _running = self.pool.count_running(&key);
        let Some((container, removal, loan)) = self.container_for(&key, &submission).await else {
            return self
                .cold
                .execute_tests(submission, tests, stop_on_failure)
                .await;
        };
        let reuse = self.pool.reuse();
        let (outcome, resetting) = warm_run::run_tests(
            &self.docker,
            container,
            &submission,
            &tests,
            stop_on_failure,
            reuse.recycles(),
        )
        .await;
        self.after(key, resetting, removal, loan, &outcome.outcome.execution_id);
        outcome
    }

    /// A runner container for `submission`: a warm one of its key, else one
    /// started for it alone; `None` when the fresh run must serve it.
    async fn container_for(
        &self,
        key: &PoolKey,
        submission: &Submission,
    ) -> Option<(RunnerContainer, RemoveOnDrop, Loan)> {
        match self.pool.take(key).await {
            Some((warm, loan)) => {
                self.served_warm.fetch_add(1, Ordering::Relaxed);
                let removal = RemoveOnDrop::new(&self.docker, &warm.name, false);
                Some((warm, removal, loan))
            }
            // A key whose runner containers fail to start (e.g. an image
            // without the runner) takes the volume path without a try.
            None if self.pool.is_paused(key) => None,
            // No warm one: start a runner container for this request alone
            // (no volume, no upload; the same measured, exact results), or
            // if even that fails, take the volume path.
            None => {
                let name = runner_container::new_name();
                // Dropped mid-create, the engine may finish the create
                // after a first removal: remove again later.
                let mut removal = RemoveOnDrop::new(&self.docker, &name, true);
                let started = runner_container::start(
                    &self.docker,
                    &self.node,
                    &submission.language,
                    &submission.limits,
                    self.cold.placement(),
                    // Nothing to warm: the program comes right away.
                    &[],
                    name,
                )
                .await;
                match started {
                    Ok(fresh) => {
                        crate::metrics::sandbox_started(crate::metrics::SandboxStart::OnDemand);
                        removal.late = false;
                        Some((fresh, removal, self.pool.lend(key)))
                    }
                    Err(error) => {
                        crate::metrics::sandbox_start_failed();
                        tracing::debug!(
                            error = format!("{error:#}"),
                            "no runner container; taking the volume path"
                        );
                        self.pool.pause(key.clone());
                        drop(removal);
                        None
                    }
                }
            }
        }
    }

    /// After an execution: a container resetting goes to be settled (back
    /// on its shelf or removed) in a task the pool tracks; any other is
    /// removed now.
    fn after(
        &self,
        key: PoolKey,
        resetting: Option<Resetting>,
        removal: RemoveOnDrop,
        loan: Loan,
        execution_id: &str,
    ) {
        match resetting {
            Some(resetting) => {
                let pool = self.pool.clone();
                let execution_id = execution_id.to_string();
                self.pool.settle(
                    key.clone(),
                    settle(pool, key, resetting, removal, loan, execution_id).boxed(),
                );
            }
            None => {
                drop(removal);
                crate::metrics::sandbox_retired();
            }
        }
    }
}

/// Reads the reset verdict of a container whose execution has answered,
/// and puts it back on its shelf or removes it (awaited, so that a
/// stopping pool that waited for this knows it is gone).
async fn settle(
    pool: WarmPool,
    key: PoolKey,
    resetting: Resetting,
    removal: RemoveOnDrop,
    loan: Loan,
    execution_id: String,
) {
    let name = resetting.name().to_string();
    match resetting.verdict().await {
        Ok(container) if pool.reuse().keeps(&container) => {
            match pool.give_back(key, container, loan) {
                None => {
                    crate::metrics::sandbox_recycled();
                    removal.keep();
                }
                Some(refused) => {
                    crate::metrics::sandbox_retired();
                    tracing::debug!(container = %refused.name, "no room on its shelf; retiring a warm sandbox");
                    // Its streams go first: the runner exits on its closed
                    // stdin, and the removal is quick.
                    drop(refused);
                    removal.remove().await;
                }
            }
        }
        Ok(done) => {
            tracing::debug!(container = %done.name, runs = done.runs, "a warm sandbox served its runs or its age; retiring it");
            drop(done);
            drop(loan);
            crate::metrics::sandbox_retired();
            removal.remove().await;
        }
        Err(reason) => {
            tracing::info!(%execution_id, container = %name, reason, "retiring a warm sandbox");
            drop(loan);
            crate::metrics::sandbox_retired();
            removal.remove().await;
        }
    }
}

impl Sandbox for PooledSandbox {
    fn execute(&self, submission: Submission) -> BoxFuture<'_, Outcome> {
        self.run(submission).boxed()
    }

    fn execute_tests(
        &self,
        submission: Submission,
        tests: Vec<TestInput>,
        stop_on_failure: bool,
    ) -> BoxFuture<'_, TestsOutcome> {
        self.run_tests(submission, tests, stop_on_failure).boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        engine::ping(&self.docker).boxed()
    }

    fn live(&self, submission: Submission, io: super::LiveIo) -> BoxFuture<'_, Outcome> {
        self.cold.live(submission, io)
    }
}
