//! A worker: runs one execution at a time. For each it spawns a file handler,
//! then an executor, both linked to it, and answers with the outcome. Its
//! job is the sequence and the containment: a child that panics fails only
//! its own execution, which is answered as a crash, and the worker goes on.

use std::sync::Arc;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use ractor_cluster::RactorMessage;

use super::executor::{Executor, ExecutorMessage};
use super::file_handler::{FileHandler, FileHandlerMessage};
use crate::protocol::{Executed, ExecutionFailure, ExecutionReply, ExecutionRequest, TestPlan};
use crate::sandbox::Sandbox;
use crate::submission::Rules;

pub struct Worker;

/// What every worker of a node shares.
#[derive(Clone)]
pub struct WorkerContext {
    pub node: String,
    pub rules: Arc<Rules>,
    pub sandbox: Arc<dyn Sandbox>,
}

#[derive(RactorMessage)]
pub enum WorkerMessage {
    Run(ExecutionRequest, RpcReplyPort<ExecutionReply>),
}

impl Actor for Worker {
    type Msg = WorkerMessage;
    type State = WorkerContext;
    type Arguments = WorkerContext;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        context: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(context)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        context: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let WorkerMessage::Run(request, reply) = message;
        // In the execution's span: ractor carries the router's span with
        // the message.
        let answer = async {
            let answer = run(&myself, context, request).await;
            match &answer {
                Ok(executed) => tracing::info!(
                    status = ?executed.outcome.status,
                    sandbox_us = executed.sandbox_us,
                    // A judged submission's: its tests' runs after one
                    // compile step (if its language has one).
                    tests = executed.tests.as_ref().map_or(0, Vec::len),
                    compile_steps = usize::from(executed.outcome.compile.is_some()),
                    "execution ran"
                ),
                Err(failure) => tracing::warn!(%failure, "execution did not run"),
            }
            answer
        }
        .await;
        let _ = reply.send(answer);
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        _context: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // A child that failed has already failed its call; the worker stays.
        if let SupervisionEvent::ActorFailed(child, error) = event {
            tracing::error!(child = %child.get_id(), %error, "a child of a worker crashed");
        }
        Ok(())
    }
}

async fn run(
    myself: &ActorRef<WorkerMessage>,
    context: &WorkerContext,
    request: ExecutionRequest,
) -> ExecutionReply {
    let execution_id = request.execution_id.clone();
    let mut request = request;
    let judging = request.judging.take();
    if let Some(plan) = &judging {
        check_tests(&context.rules, plan)?;
    }
    let (file_handler, _) =
        Actor::spawn_linked(None, FileHandler, context.rules.clone(), myself.get_cell())
            .await
            .map_err(|error| ExecutionFailure::WorkerCrashed(error.to_string()))?;
    let prepared = file_handler
        .call(|port| FileHandlerMessage::Prepare(request, port), None)
        .await;
    file_handler.stop(None);
    let submission = match prepared {
        Ok(CallResult::Success(prepared)) => prepared?,
        _ => {
            return Err(ExecutionFailure::WorkerCrashed(format!(
                "the file handler of execution {execution_id} stopped without an answer"
            )));
        }
    };

    let (executor, _) =
        Actor::spawn_linked(None, Executor, context.sandbox.clone(), myself.get_cell())
            .await
            .map_err(|error| ExecutionFailure::WorkerCrashed(error.to_string()))?;
    let node = context.node.clone();
    let executed = match judging {
        None => executor
            .call(|port| ExecutorMessage::Execute(submission, port), None)
            .await
            .map(|result| result.map(|(outcome, took)| (outcome, None, took))),
        Some(plan) => executor
            .call(
                |port| ExecutorMessage::ExecuteTests(submission, plan, port),
                None,
            )
            .await
            .map(|result| result.map(|(judged, took)| (judged.outcome, Some(judged.tests), took))),
    };
    executor.stop(None);
    match executed {
        Ok(CallResult::Success((outcome, tests, sandbox_time))) => Ok(Executed {
            outcome,
            node,
            sandbox_us: u64::try_from(sandbox_time.as_micros()).unwrap_or(u64::MAX),
            tests,
        }),
        _ => Err(ExecutionFailure::WorkerCrashed(format!(
            "the executor of execution {execution_id} stopped without an answer"
        ))),
    }
}

/// A judged submission's tests, by the node's rules (1 to
/// [`MAX_TESTS`](crate::submission::MAX_TESTS), each test's stdin and
/// arguments as an execution's).
fn check_tests(rules: &Rules, plan: &TestPlan) -> Result<(), ExecutionFailure> {
    if plan.tests.is_empty() || plan.tests.len() > crate::submission::MAX_TESTS {
        return Err(ExecutionFailure::InvalidSubmission(format!(
            "tests must hold 1 to {} tests",
            crate::submission::MAX_TESTS
        )));
    }
    for (index, test) in plan.tests.iter().enumerate() {
        rules
            .check_test(index, &test.stdin, &test.args)
            .map_err(|error| ExecutionFailure::InvalidSubmission(error.to_string()))?;
    }
    Ok(())
}
