//! The two references the engine's HTTP answers are compared with: the
//! baseline, `docker run --rm` of the language's image under the same limits
//! and hardening as the engine's sandbox (what one would do without
//! braindrill), and the direct run, the library's own cold sandbox
//! ([`DockerSandbox`]) called in this process (what braindrill costs without
//! HTTP and the cluster). Each is timed as one [`Sample`] per run.

use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context, bail};
use braindrill::sandbox::{
    DockerSandbox, Language, Limits, Sandbox, SourceFile, Status, Submission,
};

use crate::JOB_TIMEOUT;
use crate::cleanup::BENCH_LABEL;
use crate::stats::Sample;

/// `docker run --rm` of the language's image under the same limits and
/// hardening as the engine's sandbox, running the code inline.
pub fn baseline_args(language: &Language, code: &str) -> anyhow::Result<Vec<String>> {
    let interpreter = language.run.first().map(String::as_str).unwrap_or("");
    let flag = match interpreter {
        "python3" => "-c",
        "ruby" | "perl" | "node" => "-e",
        _ => bail!(
            "no `docker run` baseline for language {} (python, ruby, perl and javascript have one)",
            language.name
        ),
    };
    let limits = &language.limits;
    let mut args: Vec<String> = [
        "run",
        "--rm",
        "--network",
        "none",
        "--read-only",
        "--user",
        "65534:65534",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--init",
        "--log-driver",
        "none",
        "-w",
        "/tmp",
    ]
    .map(String::from)
    .to_vec();
    args.extend(limit_flags(limits));
    args.extend(
        [
            "--label",
            &format!("{}={}", BENCH_LABEL.0, BENCH_LABEL.1),
            &language.image,
            interpreter,
            flag,
            code,
        ]
        .map(String::from),
    );
    Ok(args)
}

/// The `docker run` flags of the engine's resource limits.
fn limit_flags(limits: &Limits) -> Vec<String> {
    [
        format!("--memory={}", limits.memory_bytes),
        format!("--memory-swap={}", limits.memory_bytes),
        format!("--cpus={}", limits.cpus),
        format!("--pids-limit={}", limits.pids),
        format!("--ulimit=nofile={0}:{0}", limits.nofile),
        format!("--ulimit=fsize={0}:{0}", limits.file_size_bytes),
        format!(
            "--tmpfs=/tmp:rw,nosuid,nodev,size={},mode=1777",
            limits.scratch_bytes
        ),
    ]
    .to_vec()
}

/// One unrecorded baseline run (the warm-up): what it printed.
pub async fn baseline_output(args: &[String]) -> anyhow::Result<String> {
    let output = tokio::process::Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("cannot run docker")?;
    if !output.status.success() {
        bail!(
            "the baseline `docker run` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// One `docker run --rm`, timed until the CLI exits.
pub async fn baseline_run(args: &[String]) -> Sample {
    let started = Instant::now();
    let run = tokio::process::Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let error = match tokio::time::timeout(JOB_TIMEOUT, run).await {
        Ok(Ok(output)) if output.status.success() => None,
        Ok(Ok(output)) => Some(format!(
            "docker run: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        Ok(Err(error)) => Some(format!("cannot run docker: {error}")),
        Err(_) => Some(format!("docker run took over {JOB_TIMEOUT:?}")),
    };
    Sample::new(started, error)
}

/// The submission of one direct execution: the language's file and limits,
/// as the engine builds it for `POST /lang/{language}`.
fn submission(language: &Language, code: &str) -> Submission {
    Submission {
        execution_id: uuid::Uuid::new_v4().to_string(),
        language: language.clone(),
        files: vec![SourceFile {
            name: language.file.clone(),
            content: code.to_string(),
        }],
        stdin: String::new(),
        args: Vec::new(),
        limits: language.limits.clone(),
    }
}

/// One unrecorded direct execution (the warm-up): what it printed.
pub async fn direct_output(
    sandbox: &DockerSandbox,
    language: &Language,
    code: &str,
) -> anyhow::Result<String> {
    let outcome = tokio::time::timeout(JOB_TIMEOUT, sandbox.execute(submission(language, code)))
        .await
        .context("the warm-up direct execution took too long")?;
    if outcome.status != Status::Ok {
        bail!(
            "the warm-up direct execution ended {:?}: {}",
            outcome.status,
            outcome.error.unwrap_or_default()
        );
    }
    Ok(outcome.run.map(|run| run.stdout).unwrap_or_default())
}

/// One execution by the library's cold sandbox in this process, timed
/// until its outcome. A cut-short execution removes what it created.
pub async fn direct_run(sandbox: &DockerSandbox, language: &Language, code: &str) -> Sample {
    let started = Instant::now();
    let outcome =
        tokio::time::timeout(JOB_TIMEOUT, sandbox.execute(submission(language, code))).await;
    let error = match outcome {
        Ok(outcome) if outcome.status == Status::Ok => None,
        Ok(outcome) => Some(format!(
            "direct: {:?}{}",
            outcome.status,
            outcome
                .error
                .map(|error| format!(": {error}"))
                .unwrap_or_default()
        )),
        Err(_) => Some(format!("direct execution took over {JOB_TIMEOUT:?}")),
    };
    Sample::new(started, error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::load_language;

    #[test]
    fn the_baseline_has_the_engines_limits() {
        let language = load_language("python").expect("python is configured");
        let args = baseline_args(&language, "print(1)").expect("python has a baseline");
        for flag in [
            "--memory=67108864",
            "--memory-swap=67108864",
            "--pids-limit=64",
            "--ulimit=nofile=64:64",
        ] {
            assert!(args.iter().any(|arg| arg == flag), "{flag} in {args:?}");
        }
        assert_eq!(args.last().map(String::as_str), Some("print(1)"));
    }
}
