//! Executor: the second child of a worker for one execution. It owns the
//! run: it runs the prepared submission through the sandbox, times it (the
//! `sandbox_us` of the answer) and answers with its outcome.
//!
//! It also owns the run's cancellation. The run is its message handler, so
//! killing the executor drops the sandbox's future mid-run, and the
//! sandbox's guards remove what it created. That is what happens when its
//! worker is killed, or the router stopped at a node's shutdown: ractor
//! kills every child of an actor that stops. A panic in the sandbox fails
//! this actor alone, which its worker answers as a crash.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use ractor_cluster::RactorMessage;

use crate::protocol::TestPlan;
use crate::sandbox::{Outcome, Sandbox, Submission, TestsOutcome};

pub struct Executor;

#[derive(RactorMessage)]
pub enum ExecutorMessage {
    /// Answers with the outcome and the time the sandbox took.
    Execute(Submission, RpcReplyPort<(Outcome, Duration)>),
    /// A judged submission's tests: answers with what came of them and the
    /// time the sandbox took.
    ExecuteTests(Submission, TestPlan, RpcReplyPort<(TestsOutcome, Duration)>),
}

impl Actor for Executor {
    type Msg = ExecutorMessage;
    type State = Arc<dyn Sandbox>;
    type Arguments = Arc<dyn Sandbox>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        sandbox: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(sandbox)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        sandbox: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let started = Instant::now();
        // In the execution's span, which ractor carries with the message.
        match message {
            ExecutorMessage::Execute(submission, reply) => {
                let outcome = sandbox.execute(submission).await;
                let _ = reply.send((outcome, started.elapsed()));
            }
            ExecutorMessage::ExecuteTests(submission, plan, reply) => {
                let outcome = sandbox
                    .execute_tests(submission, plan.tests, plan.stop_on_failure)
                    .await;
                let _ = reply.send((outcome, started.elapsed()));
            }
        }
        Ok(())
    }
}
