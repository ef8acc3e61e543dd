//! A worker node's live executions ([`crate::protocol::live`]): each runs
//! in a task of its own on the node's sandbox ([`Sandbox::live`]), outside
//! the node's slots (a live run mostly waits for its client; the master
//! caps how many it holds), and its events wait in a small bounded channel
//! for the master's next pull. The channel is the node's window: a master
//! that stops pulling stops the run's output here, and the sandbox's own
//! limits (its timers keep running) or the abandonment check end it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::file_handler;
use crate::protocol::live::{
    LIVE_ABANDONED_MS, LiveItem, LivePullReply, LivePullRequest, LiveSendRequest, LiveStartReply,
    LiveStartRequest, LiveStarted,
};
use crate::protocol::{Executed, ExecutionFailure};
use crate::sandbox::{LiveEvent, LiveIo, Sandbox};
use crate::submission::Rules;

/// Events a run holds for its next pull, on each of its two hops (the
/// sandbox's channel and this node's): with output in chunks of at most
/// 32 KiB, at most about 1 MiB per run.
const WINDOW_EVENTS: usize = 16;
/// The longest a pull waits for a first event.
const MAX_PULL_WAIT: Duration = Duration::from_secs(5);
/// How often a run looks whether its master still pulls.
const ABANDON_CHECK: Duration = Duration::from_secs(5);
/// Stdin that may wait for a program that does not read it; past it the
/// run ends (`payload_too_large`) rather than grow the node.
const MAX_PENDING_INPUT: usize = 1024 * 1024;

/// The live runs of this node, by execution id.
pub struct LiveRuns {
    node: String,
    rules: Arc<Rules>,
    sandbox: Arc<dyn Sandbox>,
    runs: Mutex<HashMap<String, Arc<LiveRun>>>,
}

struct LiveRun {
    items: tokio::sync::Mutex<mpsc::Receiver<LiveItem>>,
    input: mpsc::UnboundedSender<crate::sandbox::LiveInput>,
    task: AbortHandle,
    /// When it was last pulled ([`now_ms`]).
    pulled: Arc<AtomicU64>,
    /// Stdin bytes sent and not yet written to the sandbox.
    input_pending: Arc<AtomicUsize>,
    /// Why the node ended it, for its next pull.
    refused: Mutex<Option<String>>,
}

impl LiveRuns {
    pub fn new(node: String, rules: Arc<Rules>, sandbox: Arc<dyn Sandbox>) -> Arc<LiveRuns> {
        Arc::new(LiveRuns {
            node,
            rules,
            sandbox,
            runs: Mutex::new(HashMap::new()),
        })
    }

    /// Live runs held now.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LiveRun>>> {
        // A panic while holding the map cannot leave it inconsistent.
        self.runs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks and registers a live run, and starts it.
    pub fn start(self: &Arc<Self>, start: LiveStartRequest) -> LiveStartReply {
        let limits_timeout = start.request.limits.timeout_ms;
        let mut submission = file_handler::prepare(&self.rules, start.request)?;
        if limits_timeout.is_none() {
            submission.limits.timeout = Duration::from_millis(start.wall_ms);
        }
        let execution_id = submission.execution_id.clone();
        if self.lock().contains_key(&execution_id) {
            return Err(ExecutionFailure::InvalidSubmission(format!(
                "live execution {execution_id} is already running"
            )));
        }
        let (items, items_out) = mpsc::channel(WINDOW_EVENTS);
        let (input, input_in) = mpsc::unbounded_channel();
        let pulled = Arc::new(AtomicU64::new(now_ms()));
        let input_pending = Arc::new(AtomicUsize::new(0));
        let (events, events_out) = mpsc::channel(WINDOW_EVENTS);
        let io = LiveIo {
            events,
            input: input_in,
            input_pending: input_pending.clone(),
            idle: Duration::from_millis(start.idle_ms),
        };
        let task = tokio::spawn(drive(
            self.clone(),
            submission,
            (io, events_out),
            items,
            pulled.clone(),
        ));
        tracing::info!(%execution_id, "live execution started");
        self.lock().insert(
            execution_id,
            Arc::new(LiveRun {
                items: tokio::sync::Mutex::new(items_out),
                input,
                task: task.abort_handle(),
                pulled,
                input_pending,
                refused: Mutex::new(None),
            }),
        );
        Ok(LiveStarted {
            node: self.node.clone(),
        })
    }

    /// The next events of a run, waiting up to the request's wait for a
    /// first one.
    pub async fn pull(&self, pull: LivePullRequest) -> LivePullReply {
        let Some(run) = self.lock().get(&pull.execution_id).cloned() else {
            return LivePullReply {
                items: vec![LiveItem::Gone(format!(
                    "worker node {} has no live execution {}",
                    self.node, pull.execution_id
                ))],
            };
        };
        run.pulled.store(now_ms(), Ordering::Relaxed);
        let mut receiver = run.items.lock().await;
        let wait = Duration::from_millis(pull.wait_ms).min(MAX_PULL_WAIT);
        let mut items = Vec::new();
        let first = match tokio::time::timeout(wait, receiver.recv()).await {
            Ok(first) => first,
            Err(_elapsed) => return LivePullReply { items },
        };
        let mut next = first;
        let mut bytes = 0;
        let mut ended = false;
        loop {
            match next {
                Some(item) => {
                    bytes += match &item {
                        LiveItem::Event(LiveEvent::Stdout(text) | LiveEvent::Stderr(text)) => {
                            text.len()
                        }
                        _ => 0,
                    };
                    ended |= !matches!(item, LiveItem::Event(_));
                    items.push(item);
                }
                None => {
                    let refused = run
                        .refused
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .take();
                    items.push(match refused {
                        Some(message) => LiveItem::Refused {
                            code: "payload_too_large".into(),
                            message,
                        },
                        None => LiveItem::Gone("the live execution ended".into()),
                    });
                    ended = true;
                }
            }
            if ended || bytes >= pull.max_bytes {
                break;
            }
            next = match receiver.try_recv() {
                Ok(item) => Some(item),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => None,
            };
        }
        drop(receiver);
        run.pulled.store(now_ms(), Ordering::Relaxed);
        if ended {
            self.forget(&pull.execution_id);
        }
        LivePullReply { items }
    }

    /// Input for a run, in the order it arrives.
    pub fn send(&self, send: LiveSendRequest) {
        let Some(run) = self.lock().get(&send.execution_id).cloned() else {
            return;
        };
        if let crate::sandbox::LiveInput::Stdin(text) = &send.input {
            let pending = run.input_pending.fetch_add(text.len(), Ordering::Relaxed) + text.len();
            if pending > MAX_PENDING_INPUT {
                let message = format!(
                    "the program did not read its input: more than {MAX_PENDING_INPUT} bytes of stdin waited for it"
                );
                tracing::info!(execution_id = %send.execution_id, "live execution ended: {message}");
                *run.refused
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(message);
                // Its next pull finds the channel closed, and the reason.
                run.task.abort();
                return;
            }
        }
        let _ = run.input.send(send.input);
    }

    /// Stops a run (its sandbox is removed); whether there was one.
    pub fn cancel(&self, execution_id: &str) -> bool {
        match self.lock().remove(execution_id) {
            Some(run) => {
                run.task.abort();
                tracing::info!(%execution_id, "live execution cancelled");
                true
            }
            None => false,
        }
    }

    fn forget(&self, execution_id: &str) {
        self.lock().remove(execution_id);
    }
}

/// A node-wide clock for the pull marks, in milliseconds.
fn now_ms() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// Runs one live execution in its own task and forwards its events, then
/// its end; gives up when its master no longer pulls.
async fn drive(
    runs: Arc<LiveRuns>,
    submission: crate::sandbox::Submission,
    (io, mut events_out): (LiveIo, mpsc::Receiver<LiveEvent>),
    items: mpsc::Sender<LiveItem>,
    pulled: Arc<AtomicU64>,
) {
    let execution_id = submission.execution_id.clone();
    let sandbox = runs.sandbox.clone();
    let started = Instant::now();
    let run = tokio::spawn(async move { sandbox.live(submission, io).await });
    let _run = AbortOnDrop(run.abort_handle());
    let mut run = run;
    let mut check = tokio::time::interval(ABANDON_CHECK);
    // Until the run drops its end of the events (when it ends).
    let mut open = true;
    let outcome = loop {
        tokio::select! {
            biased;
            event = events_out.recv(), if open => {
                let Some(event) = event else {
                    open = false;
                    continue;
                };
                // Waits while the master is behind: the window.
                tokio::select! {
                    sent = items.send(LiveItem::Event(event)) => {
                        if sent.is_err() { return; }
                    }
                    () = abandoned(&pulled) => break None,
                }
            }
            ended = &mut run => break Some(ended),
            _ = check.tick() => {
                if is_abandoned(&pulled) { break None; }
            }
        }
    };
    let Some(ended) = outcome else {
        tracing::warn!(%execution_id, "live execution abandoned: its master stopped pulling");
        runs.forget(&execution_id);
        return;
    };
    // What the run sent before it ended comes first.
    while let Ok(event) = events_out.try_recv() {
        if items.send(LiveItem::Event(event)).await.is_err() {
            return;
        }
    }
    let item = match ended {
        Ok(outcome) => LiveItem::Exit(Box::new(Executed {
            outcome,
            node: runs.node.clone(),
            sandbox_us: started.elapsed().as_micros() as u64,
            tests: None,
        })),
        Err(error) => LiveItem::Gone(format!("the live execution's task failed: {error}")),
    };
    tokio::select! {
        _ = items.send(item) => {}
        () = abandoned(&pulled) => runs.forget(&execution_id),
    }
}

fn is_abandoned(pulled: &AtomicU64) -> bool {
    now_ms().saturating_sub(pulled.load(Ordering::Relaxed)) > LIVE_ABANDONED_MS
}

/// Resolves once the master has not pulled for [`LIVE_ABANDONED_MS`].
async fn abandoned(pulled: &AtomicU64) {
    loop {
        tokio::time::sleep(ABANDON_CHECK).await;
        if is_abandoned(pulled) {
            return;
        }
    }
}

struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
