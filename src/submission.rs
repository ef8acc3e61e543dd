//! The rules of a submission, written once: which languages run, how files
//! are named and laid out, how much code, stdin and how many arguments a
//! submission may carry, and the limits it runs under (the language's,
//! with the requested ones laid over them within the server's maxima).
//!
//! Both sides hold the same [`Rules`], built from the settings: the gateway
//! checks a request before it crosses the cluster (to answer 400 or 413 at
//! once), and a worker node checks it again on arrival, because it trusts
//! no message off the wire. Each maps a [`SubmissionError`] to its own
//! answer: the gateway to an HTTP error, the worker to an
//! `ExecutionFailure`. What only the JSON API has (`code` or `files`, one of
//! them) stays with the API.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::configuration::Settings;
use crate::protocol::ExecutionRequest;
use crate::sandbox::{Language, Limits, RequestedLimits, SourceFile};
use crate::sandbox::{check_file_layout, check_file_name};

/// Files of one submission, at most.
pub const MAX_FILES: usize = 32;
/// Arguments of one submission, at most, and the length of each.
pub const MAX_ARGS: usize = 64;
/// Test cases of one judged submission, at most.
pub const MAX_TESTS: usize = 100;
pub const MAX_ARG_BYTES: usize = 4096;

/// What a submission may be on this node.
#[derive(Debug, Clone)]
pub struct Rules {
    languages: Arc<BTreeMap<String, Language>>,
    /// The most a request may set (`sandbox.max_limits`).
    max_limits: RequestedLimits,
    /// Bytes of code (all files together), and of stdin, at most: the plain
    /// endpoint's cap on its body (`http.max_body_bytes`).
    max_bytes: usize,
}

/// What the rules found of a valid submission.
#[derive(Debug)]
pub struct Checked<'a> {
    pub language: &'a Language,
    /// The limits it runs under.
    pub limits: Limits,
}

/// Why a submission is refused. Messages name the field by its path in the
/// request (`files[2].name ...`), first, so that the gateway can say before
/// it which execution of a batch it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    #[error("unsupported language: {language} (supported: {})", supported.join(", "))]
    UnsupportedLanguage {
        language: String,
        supported: Vec<String>,
    },
    /// A field breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// The code or stdin is larger than the server takes.
    #[error("{0}")]
    TooLarge(String),
}

impl Rules {
    pub fn new(
        languages: Arc<BTreeMap<String, Language>>,
        max_limits: RequestedLimits,
        max_bytes: usize,
    ) -> Rules {
        Rules {
            languages,
            max_limits,
            max_bytes,
        }
    }

    /// The rules of these settings, over their languages (resolved once by
    /// the caller, who shares them).
    pub fn from_settings(settings: &Settings, languages: Arc<BTreeMap<String, Language>>) -> Rules {
        Rules::new(
            languages,
            settings.sandbox.max_limits.clone(),
            settings.http.max_body_bytes,
        )
    }

    /// Every language of this node, by name.
    pub fn languages(&self) -> &BTreeMap<String, Language> {
        &self.languages
    }

    pub fn language(&self, name: &str) -> Result<&Language, SubmissionError> {
        self.languages
            .get(name)
            .ok_or_else(|| SubmissionError::UnsupportedLanguage {
                language: name.to_string(),
                supported: self.languages.keys().cloned().collect(),
            })
    }

    /// Checks every rule, in the order of the request's fields, and resolves
    /// the limits.
    pub fn check(&self, request: &ExecutionRequest) -> Result<Checked<'_>, SubmissionError> {
        let language = self.language(&request.language)?;
        check_files(language, &request.files)?;
        let code_bytes: usize = request.files.iter().map(|file| file.content.len()).sum();
        if code_bytes > self.max_bytes {
            return Err(SubmissionError::TooLarge(format!(
                "code: the code is larger than the limit of {} bytes",
                self.max_bytes
            )));
        }
        if request.stdin.len() > self.max_bytes {
            return Err(SubmissionError::TooLarge(format!(
                "stdin is larger than the limit of {} bytes",
                self.max_bytes
            )));
        }
        check_args(&request.args)?;
        let limits = request
            .limits
            .resolve(&language.limits, &self.max_limits)
            .map_err(|error| SubmissionError::Invalid(error.to_string()))?;
        Ok(Checked { language, limits })
    }
}

impl Rules {
    /// Checks one test case of a judged submission (`tests[index]`): its
    /// stdin's size and its arguments, by the rules of an execution's.
    pub fn check_test(
        &self,
        index: usize,
        stdin: &str,
        args: &[String],
    ) -> Result<(), SubmissionError> {
        if stdin.len() > self.max_bytes {
            return Err(SubmissionError::TooLarge(format!(
                "tests[{index}].stdin is larger than the limit of {} bytes",
                self.max_bytes
            )));
        }
        check_args(args).map_err(|error| match error {
            SubmissionError::Invalid(message) => {
                SubmissionError::Invalid(format!("tests[{index}].{message}"))
            }
            other => other,
        })
    }
}

/// The first file is the entry point, saved under the language's file name
/// whatever it is given as; the others under their own.
fn check_files(language: &Language, files: &[SourceFile]) -> Result<(), SubmissionError> {
    if files.is_empty() || files.len() > MAX_FILES {
        return Err(SubmissionError::Invalid(format!(
            "files must hold 1 to {MAX_FILES} files"
        )));
    }
    let mut given = BTreeSet::new();
    for (index, file) in files.iter().enumerate() {
        if let Err(error) = check_file_name(&file.name) {
            return Err(SubmissionError::Invalid(format!(
                "files[{index}].name: {error}"
            )));
        }
        if !given.insert(file.name.as_str()) {
            return Err(SubmissionError::Invalid(format!(
                "files[{index}].name: {} is given twice",
                file.name
            )));
        }
    }
    let laid_out = std::iter::once(language.file.as_str())
        .chain(files[1..].iter().map(|file| file.name.as_str()));
    check_file_layout(laid_out).map_err(|error| SubmissionError::Invalid(format!("files: {error}")))
}

fn check_args(args: &[String]) -> Result<(), SubmissionError> {
    if args.len() > MAX_ARGS {
        return Err(SubmissionError::Invalid(format!(
            "args must hold at most {MAX_ARGS} arguments"
        )));
    }
    match args
        .iter()
        .position(|arg| arg.len() > MAX_ARG_BYTES || arg.contains('\0'))
    {
        Some(index) => Err(SubmissionError::Invalid(format!(
            "args[{index}] must be at most {MAX_ARG_BYTES} bytes without NUL"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    //! Each rule's error, against the default settings' languages.

    use std::time::Duration;

    use super::*;

    fn rules() -> Rules {
        let settings = Settings::load(None, Vec::<(String, String)>::new()).expect("defaults load");
        let languages = settings
            .languages()
            .expect("languages resolve")
            .into_iter()
            .map(|language| (language.name.clone(), language))
            .collect();
        Rules::from_settings(&settings, Arc::new(languages))
    }

    fn file(name: &str, content: &str) -> SourceFile {
        SourceFile {
            name: name.into(),
            content: content.into(),
        }
    }

    fn request(files: Vec<SourceFile>) -> ExecutionRequest {
        ExecutionRequest {
            execution_id: "e-1".into(),
            language: "python".into(),
            files,
            stdin: String::new(),
            args: Vec::new(),
            limits: RequestedLimits::default(),
            start_within_ms: None,
            answer_within_ms: None,
            judging: None,
        }
    }

    fn refusal(request: &ExecutionRequest) -> SubmissionError {
        rules().check(request).expect_err("refused")
    }

    fn invalid(request: &ExecutionRequest) -> String {
        match refusal(request) {
            SubmissionError::Invalid(message) => message,
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn a_valid_submission_runs_under_its_languages_limits() {
        let rules = rules();
        let request = request(vec![
            file("whatever.py", "import lib.helper"),
            file("lib/helper.py", ""),
        ]);
        let checked = rules.check(&request).expect("valid");
        assert_eq!(checked.language.name, "python");
        assert_eq!(checked.limits, checked.language.limits);
    }

    #[test]
    fn an_unknown_language_names_the_supported_ones() {
        let mut request = request(vec![file("main.py", "1")]);
        request.language = "cobol".into();
        let error = refusal(&request);
        assert!(
            matches!(&error, SubmissionError::UnsupportedLanguage { language, supported }
                if language == "cobol" && supported.contains(&"python".to_string())),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("unsupported language: cobol (supported: bash, c, cpp,"),
            "{error}"
        );
    }

    #[test]
    fn files_are_counted_named_and_laid_out() {
        assert_eq!(
            invalid(&request(Vec::new())),
            "files must hold 1 to 32 files"
        );
        let many = (0..=MAX_FILES)
            .map(|i| file(&format!("f{i}.py"), ""))
            .collect();
        assert_eq!(invalid(&request(many)), "files must hold 1 to 32 files");
        let message = invalid(&request(vec![file("main.py", "1"), file("../x", "")]));
        assert!(message.starts_with("files[1].name: file name"), "{message}");
        let message = invalid(&request(vec![file("/abs.py", "1")]));
        assert!(message.starts_with("files[0].name: "), "{message}");
        assert_eq!(
            invalid(&request(vec![file("a.py", "1"), file("a.py", "2")])),
            "files[1].name: a.py is given twice"
        );
        // The entry point takes the language's file name.
        assert_eq!(
            invalid(&request(vec![file("x.py", "1"), file("main.py", "2")])),
            "files: the file name main.py is used twice"
        );
        assert_eq!(
            invalid(&request(vec![file("x.py", "1"), file("main.py/b", "2")])),
            "files: the file name main.py is also the folder of main.py/b"
        );
    }

    #[test]
    fn code_and_stdin_are_capped_in_bytes() {
        let half = "#".repeat(40_000);
        let error = refusal(&request(vec![file("main.py", &half), file("b.py", &half)]));
        assert_eq!(
            error,
            SubmissionError::TooLarge(
                "code: the code is larger than the limit of 65536 bytes".into()
            )
        );
        let mut request = request(vec![file("main.py", "1")]);
        request.stdin = "x".repeat(65_537);
        assert_eq!(
            refusal(&request),
            SubmissionError::TooLarge("stdin is larger than the limit of 65536 bytes".into())
        );
    }

    #[test]
    fn arguments_are_counted_and_bounded() {
        let mut many = request(vec![file("main.py", "1")]);
        many.args = (0..=MAX_ARGS).map(|i| i.to_string()).collect();
        assert_eq!(invalid(&many), "args must hold at most 64 arguments");
        let mut nul = request(vec![file("main.py", "1")]);
        nul.args = vec!["fine".into(), "a\0b".into()];
        assert_eq!(
            invalid(&nul),
            "args[1] must be at most 4096 bytes without NUL"
        );
        let mut long = request(vec![file("main.py", "1")]);
        long.args = vec!["x".repeat(MAX_ARG_BYTES + 1)];
        assert_eq!(
            invalid(&long),
            "args[0] must be at most 4096 bytes without NUL"
        );
    }

    #[test]
    fn limits_are_resolved_within_the_servers_maxima() {
        let mut request = request(vec![file("main.py", "1")]);
        request.limits.timeout_ms = Some(30_001);
        assert_eq!(
            invalid(&request),
            "limits.timeout_ms must be at most 30000 (the server's maximum)"
        );
        request.limits.timeout_ms = Some(0);
        assert_eq!(invalid(&request), "limits.timeout_ms must be at least 1");
        request.limits.timeout_ms = Some(700);
        let rules = rules();
        let checked = rules.check(&request).expect("valid");
        assert_eq!(checked.limits.timeout, Duration::from_millis(700));
        request.limits.cpu_time_ms = Some(10_001);
        assert_eq!(
            invalid(&request),
            "limits.cpu_time_ms must be at most 10000 (the server's maximum)"
        );
        request.limits.cpu_time_ms = Some(400);
        let checked = rules.check(&request).expect("valid");
        assert_eq!(
            (checked.limits.cpu_time, checked.limits.timeout),
            (Duration::from_millis(400), Duration::from_millis(700))
        );
    }
}
