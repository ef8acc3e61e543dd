//! The master's side of a live (interactive) execution: which worker node
//! runs it, the caps on how many run at once (per master and per API key),
//! and the stream of its events ([`LiveStream`]), which the WebSocket and
//! the NDJSON endpoints both read.
//!
//! A stream pulls its node ([`crate::protocol::live`]): one task per run
//! asks for the next batch of events, hands it on through a channel of one
//! batch, and asks again only once that batch was taken. So a client that
//! does not read holds at most a few batches here (the one being written to
//! it, one waiting, one arriving), the node stops being pulled, and the
//! program's writes block in its sandbox until its limits end it. A pull
//! that fails (the node left the cluster, or does not answer in time) ends
//! the stream with [`StreamItem::Lost`]: an interactive run is never run
//! again elsewhere, as its input cannot be replayed. Dropping the stream
//! before its end (the client went away) cancels the run on its node.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ractor::ActorRef;
use ractor::rpc::CallResult;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::configuration::LiveSettings;
use crate::master::load_balancer::DispatchError;
use crate::master::node_table::{InFlightGuard, NoRouter, NodeTable};
use crate::protocol::live::{
    LiveItem, LivePullRequest, LiveSendRequest, LiveStartRequest, LiveStarted,
};
use crate::protocol::{
    CancelRequest, Executed, ExecutionFailure, ExecutionRequest, RouterMessage, Wire,
};
use crate::sandbox::{LiveEvent, LiveInput};

/// How long a node may take to register a live run.
const START_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a pull waits on its node for a first event, and the margin
/// after which a pull without an answer says the node is lost.
const PULL_WAIT: Duration = Duration::from_secs(2);
const PULL_MARGIN: Duration = Duration::from_secs(8);
/// The output one pull brings at most (events are not split).
const PULL_BYTES: usize = 256 * 1024;

/// The caps on live runs held at once.
pub struct LiveGate {
    pub settings: LiveSettings,
    held: Mutex<(usize, HashMap<String, usize>)>,
}

/// One live run's place under the caps, until dropped.
pub struct LivePermit {
    gate: Arc<LiveGate>,
    key: Option<String>,
}

impl LiveGate {
    pub fn new(settings: LiveSettings) -> Arc<LiveGate> {
        Arc::new(LiveGate {
            settings,
            held: Mutex::new((0, HashMap::new())),
        })
    }

    /// A place for one more live run (of `key`, with API keys on), or why
    /// there is none.
    pub fn enter(self: &Arc<Self>, key: Option<&str>) -> Result<LivePermit, String> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if held.0 >= self.settings.max_per_master {
            crate::metrics::live_run_refused("per_master");
            return Err(format!(
                "this master holds its maximum of {} live executions; retry later",
                self.settings.max_per_master
            ));
        }
        if let Some(key) = key {
            let of_key = held.1.entry(key.to_string()).or_default();
            if *of_key >= self.settings.max_per_key {
                crate::metrics::live_run_refused("per_key");
                return Err(format!(
                    "this API key holds its maximum of {} live executions; retry later",
                    self.settings.max_per_key
                ));
            }
            *of_key += 1;
        }
        held.0 += 1;
        crate::metrics::live_run_entered();
        Ok(LivePermit {
            gate: self.clone(),
            key: key.map(str::to_string),
        })
    }
}

impl Drop for LivePermit {
    fn drop(&mut self) {
        let mut held = self
            .gate
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        held.0 = held.0.saturating_sub(1);
        crate::metrics::live_run_left();
        if let Some(key) = &self.key
            && let Some(count) = held.1.get_mut(key)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                held.1.remove(key);
            }
        }
    }
}

/// What a live stream brings, in order; [`StreamItem::Exit`] or
/// [`StreamItem::Lost`] last.
#[derive(Debug)]
pub enum StreamItem {
    Event(LiveEvent),
    Exit(Box<Executed>),
    /// The run's node was lost or failed it: the run is over.
    Lost(String),
    /// The node ended the run for its client's fault: the JSON API's
    /// error code, and why.
    Refused {
        code: String,
        message: String,
    },
}

/// One live run on its node, from its start to its end.
pub struct LiveStream {
    router: ActorRef<RouterMessage>,
    pub execution_id: String,
    pub node: String,
    batches: mpsc::Receiver<Vec<StreamItem>>,
    puller: AbortHandle,
    ended: bool,
    _in_flight: InFlightGuard,
    /// The run's place under the caps: given back as the last item arrives,
    /// before the client can see it, so that a client that starts its next
    /// run on the exit message is not refused by its own finished one.
    permit: Option<LivePermit>,
}

impl LiveStream {
    /// Starts `request` live on the least loaded healthy node.
    pub async fn start(
        table: &Arc<NodeTable>,
        permit: LivePermit,
        request: ExecutionRequest,
    ) -> Result<LiveStream, DispatchError> {
        let router = match table.pick(&[]) {
            Ok(router) => router,
            Err(NoRouter::NoneConnected) => return Err(DispatchError::NoWorker),
            Err(NoRouter::NoneHealthy(reasons)) => {
                return Err(DispatchError::Unavailable(reasons.join("; ")));
            }
        };
        let in_flight = table.count_in_flight(router.get_id());
        let execution_id = request.execution_id.clone();
        let start = LiveStartRequest {
            request,
            wall_ms: permit.gate.settings.wall_timeout_ms,
            idle_ms: permit.gate.settings.idle_timeout_ms,
        };
        let answer = router
            .call(
                |port| RouterMessage::LiveStart(Wire::new(start), port),
                Some(START_TIMEOUT),
            )
            .await;
        let LiveStarted { node } = match answer {
            Ok(CallResult::Success(Wire(Ok(Ok(started))))) => started,
            Ok(CallResult::Success(Wire(Ok(Err(failure))))) => return Err(failure.into()),
            Ok(CallResult::Success(Wire(Err(fault)))) => {
                return Err(DispatchError::Protocol {
                    node: router.get_id().to_string(),
                    reason: fault.to_string(),
                });
            }
            Ok(CallResult::Timeout) => {
                // It may have started after all.
                cancel(&router, &execution_id);
                return Err(DispatchError::Failed(ExecutionFailure::Rejected(
                    "the worker node did not take the live execution in time (is it of an older version?)".into(),
                )));
            }
            Ok(CallResult::SenderError) | Err(_) => {
                return Err(DispatchError::Failed(ExecutionFailure::WorkerCrashed(
                    "the worker node was lost before the live execution started".into(),
                )));
            }
        };
        let (batches_in, batches) = mpsc::channel(1);
        let puller = tokio::spawn(pull(
            router.clone(),
            execution_id.clone(),
            node.clone(),
            batches_in,
        ));
        Ok(LiveStream {
            router,
            execution_id,
            node,
            batches,
            puller: puller.abort_handle(),
            ended: false,
            _in_flight: in_flight,
            permit: Some(permit),
        })
    }

    /// The next batch of items; `None` after the last one.
    pub async fn next_batch(&mut self) -> Option<Vec<StreamItem>> {
        if self.ended {
            return None;
        }
        let batch = self.batches.recv().await;
        let ended = match &batch {
            None => true,
            Some(items) => items
                .iter()
                .any(|item| !matches!(item, StreamItem::Event(_))),
        };
        self.ended |= ended;
        if self.ended {
            self.permit = None;
        }
        batch
    }

    /// Input for the program, in the order sent.
    pub fn send(&self, input: LiveInput) {
        let message = LiveSendRequest {
            execution_id: self.execution_id.clone(),
            input,
        };
        let _ = self
            .router
            .cast(RouterMessage::LiveSend(Wire::new(message)));
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.puller.abort();
        if !self.ended {
            tracing::info!(execution_id = %self.execution_id, "live execution abandoned by its client; cancelling it");
            cancel(&self.router, &self.execution_id);
        }
    }
}

fn cancel(router: &ActorRef<RouterMessage>, execution_id: &str) {
    let _ = router.cast(RouterMessage::Cancel(Wire::new(CancelRequest {
        execution_id: execution_id.to_string(),
    })));
}

/// Pulls the node for batches until the run's end, handing each on once
/// the one before was taken.
async fn pull(
    router: ActorRef<RouterMessage>,
    execution_id: String,
    node: String,
    batches: mpsc::Sender<Vec<StreamItem>>,
) {
    loop {
        let request = LivePullRequest {
            execution_id: execution_id.clone(),
            wait_ms: PULL_WAIT.as_millis() as u64,
            max_bytes: PULL_BYTES,
        };
        let answer = router
            .call(
                |port| RouterMessage::LivePull(Wire::new(request), port),
                Some(PULL_WAIT + PULL_MARGIN),
            )
            .await;
        let items = match answer {
            Ok(CallResult::Success(Wire(Ok(reply)))) => reply.items,
            Ok(CallResult::Success(Wire(Err(fault)))) => {
                vec![LiveItem::Gone(format!(
                    "worker node {node} answered in a way this master cannot read: {fault}"
                ))]
            }
            Ok(CallResult::Timeout) => vec![LiveItem::Gone(format!(
                "worker node {node} did not answer for {} s: the live execution is lost",
                (PULL_WAIT + PULL_MARGIN).as_secs()
            ))],
            Ok(CallResult::SenderError) | Err(_) => vec![LiveItem::Gone(format!(
                "worker node {node} was lost: the live execution is over"
            ))],
        };
        if items.is_empty() {
            continue;
        }
        let mut last = false;
        let batch: Vec<StreamItem> = items
            .into_iter()
            .map(|item| match item {
                LiveItem::Event(event) => StreamItem::Event(event),
                LiveItem::Exit(executed) => {
                    last = true;
                    StreamItem::Exit(executed)
                }
                LiveItem::Gone(reason) => {
                    last = true;
                    StreamItem::Lost(reason)
                }
                LiveItem::Refused { code, message } => {
                    last = true;
                    StreamItem::Refused { code, message }
                }
            })
            .collect();
        if batches.send(batch).await.is_err() || last {
            return;
        }
    }
}
