//! File handler: the first child of a worker for one execution. It turns an
//! [`ExecutionRequest`] off the wire into the sandbox's [`Submission`]:
//! checks it against the node's [`Rules`] (the gateway's own, since a worker
//! trusts no message), resolves its limits, and lays out its files, the
//! entry point under the language's file name, which its commands name.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use ractor_cluster::RactorMessage;

use crate::protocol::{ExecutionFailure, ExecutionRequest};
use crate::sandbox::Submission;
use crate::submission::{Rules, SubmissionError};

pub struct FileHandler;

#[derive(RactorMessage)]
pub enum FileHandlerMessage {
    Prepare(
        ExecutionRequest,
        RpcReplyPort<Result<Submission, ExecutionFailure>>,
    ),
}

impl Actor for FileHandler {
    type Msg = FileHandlerMessage;
    type State = Arc<Rules>;
    type Arguments = Arc<Rules>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        rules: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(rules)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        rules: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let FileHandlerMessage::Prepare(request, reply) = message;
        let _ = reply.send(prepare(rules, request));
        Ok(())
    }
}

/// The submission the sandbox runs for `request`, if the rules admit it.
pub fn prepare(rules: &Rules, request: ExecutionRequest) -> Result<Submission, ExecutionFailure> {
    let checked = rules.check(&request).map_err(refusal)?;
    let language = checked.language.clone();
    let mut files = request.files;
    if let Some(entry) = files.first_mut() {
        entry.name = language.file.clone();
    }
    Ok(Submission {
        execution_id: request.execution_id,
        language,
        files,
        stdin: request.stdin,
        args: request.args,
        limits: checked.limits,
    })
}

/// How a worker node says that the rules refused a request.
fn refusal(error: SubmissionError) -> ExecutionFailure {
    match error {
        SubmissionError::UnsupportedLanguage {
            language,
            supported,
        } => ExecutionFailure::UnsupportedLanguage {
            language,
            supported,
        },
        SubmissionError::Invalid(message) | SubmissionError::TooLarge(message) => {
            ExecutionFailure::InvalidSubmission(message)
        }
    }
}
