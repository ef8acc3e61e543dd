//! File handler: the first child of a worker for one execution. It turns an
//! [`ExecutionRequest`] into a sandbox [`Submission`]: resolves the language,
//! checks the files and names the entry point after the language's file.

use std::collections::BTreeMap;
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use ractor_cluster::RactorMessage;

use crate::protocol::{ExecutionFailure, ExecutionRequest};
use crate::sandbox::{Language, MaxLimits, SourceFile, Submission};

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
    type State = (Arc<BTreeMap<String, Language>>, MaxLimits);
    type Arguments = (Arc<BTreeMap<String, Language>>, MaxLimits);

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(args)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        (languages, max_limits): &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let FileHandlerMessage::Prepare(request, reply) = message;
        let _ = reply.send(prepare(languages, max_limits, request));
        Ok(())
    }
}

/// Checks a request against this node's languages and lays out its files.
pub fn prepare(
    languages: &BTreeMap<String, Language>,
    max_limits: &MaxLimits,
    request: ExecutionRequest,
) -> Result<Submission, ExecutionFailure> {
    let Some(language) = languages.get(&request.language) else {
        return Err(ExecutionFailure::UnsupportedLanguage {
            language: request.language,
            supported: languages.keys().cloned().collect(),
        });
    };
    let mut files = request.files.into_iter();
    let Some(entry) = files.next() else {
        return Err(ExecutionFailure::InvalidSubmission(
            "there is no code to run".into(),
        ));
    };
    let mut laid_out = vec![SourceFile {
        name: language.file.clone(),
        content: entry.content,
    }];
    for file in files {
        crate::sandbox::check_file_name(&file.name)
            .map_err(|error| ExecutionFailure::InvalidSubmission(error.to_string()))?;
        if laid_out.iter().any(|held| held.name == file.name) {
            return Err(ExecutionFailure::InvalidSubmission(format!(
                "the file name {} is used twice",
                file.name
            )));
        }
        laid_out.push(file);
    }
    crate::sandbox::check_file_layout(laid_out.iter().map(|file| file.name.as_str()))
        .map_err(|error| ExecutionFailure::InvalidSubmission(error.to_string()))?;
    // The master checked the limits already; a worker trusts no one.
    let limits = request
        .limits
        .apply(&language.limits, max_limits)
        .map_err(ExecutionFailure::InvalidSubmission)?;
    Ok(Submission {
        execution_id: request.execution_id,
        limits,
        language: language.clone(),
        files: laid_out,
        stdin: request.stdin,
        args: request.args,
    })
}
