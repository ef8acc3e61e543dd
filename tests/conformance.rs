//! Conformance of every configured language against the real Docker engine,
//! no mocks: each language has a table of small programs (hello world, echo
//! of stdin, its arguments, an exit code, a syntax error for compiled ones,
//! an infinite loop) and each check runs them all, so a language added to
//! the configuration without programs, or whose image lacks its toolchain,
//! fails here with the language's name.
//!
//! Needs the Docker engine at /var/run/docker.sock and the image
//! braindrill/runtime:bookworm (built by images/build.sh).

mod common;

use common::{assert_nothing_left, configured_languages, submit};

use std::sync::LazyLock;
use std::time::Duration;

use braindrill::sandbox::engine;
use braindrill::sandbox::{
    DockerSandbox, Language, Outcome, Sandbox, Status, StepOutcome, Submission,
};
use futures_util::stream::{self, StreamExt};
use tokio::sync::Semaphore;

const DOCKER_SOCKET: &str = "/var/run/docker.sock";
const DOCKER_TIMEOUT_S: u64 = 30;

/// The node every sandbox of this file runs as: its label marks all that
/// these tests create.
static NODE: LazyLock<String> =
    LazyLock::new(|| format!("conformance-test-{}", uuid::Uuid::new_v4()));

/// Executions at once within one check.
const CONCURRENCY: usize = 4;

/// Executions at once over the whole file: the checks run as parallel tests,
/// and compilers starved of CPU would hit their time limits.
static SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(CONCURRENCY));

/// A guard against a hung execution: far above any limit, so it only turns
/// a hang into a failure instead of a stuck test run.
const HANG_GUARD: Duration = Duration::from_secs(180);

/// The languages every deployment is expected to offer at least.
const MINIMUM_LANGUAGES: usize = 12;

/// What the stdin check feeds and expects back.
const STDIN: &str = "line one\nline two\n";

/// The programs of one language.
struct Programs {
    language: &'static str,
    /// Prints "hello\n".
    hello: &'static str,
    /// Copies stdin to stdout exactly.
    echo_stdin: &'static str,
    /// Prints its arguments, one per line.
    print_args: &'static str,
    /// Exits with code 3.
    exit_3: &'static str,
    /// Never ends.
    infinite_loop: &'static str,
    /// For compiled languages: a syntax error, and a fragment of the
    /// compiler's message about it.
    syntax_error: Option<(&'static str, &'static str)>,
}

const JAVA_HELLO: &str = "public class Main {
    public static void main(String[] args) {
        System.out.println(\"hello\");
    }
}
";
const JAVA_ECHO_STDIN: &str = "public class Main {
    public static void main(String[] args) throws Exception {
        System.in.transferTo(System.out);
        System.out.flush();
    }
}
";
const JAVA_PRINT_ARGS: &str = "public class Main {
    public static void main(String[] args) {
        for (String arg : args) {
            System.out.println(arg);
        }
    }
}
";
const JAVA_EXIT_3: &str = "public class Main {
    public static void main(String[] args) {
        System.exit(3);
    }
}
";
const JAVA_INFINITE_LOOP: &str = "public class Main {
    public static void main(String[] args) {
        while (true) {
        }
    }
}
";
const JAVA_SYNTAX_ERROR: &str = "public class Main {
    public static void main(String[] args) {
        int x = ;
    }
}
";

const PROGRAMS: &[Programs] = &[
    Programs {
        language: "python",
        hello: "print(\"hello\")\n",
        echo_stdin: "import sys\nsys.stdout.write(sys.stdin.read())\n",
        print_args: "import sys\nfor arg in sys.argv[1:]:\n    print(arg)\n",
        exit_3: "import sys\nsys.exit(3)\n",
        infinite_loop: "while True:\n    pass\n",
        syntax_error: None,
    },
    Programs {
        language: "ruby",
        hello: "puts \"hello\"\n",
        echo_stdin: "STDOUT.write(STDIN.read)\n",
        print_args: "ARGV.each { |arg| puts arg }\n",
        exit_3: "exit 3\n",
        infinite_loop: "loop { }\n",
        syntax_error: None,
    },
    Programs {
        language: "perl",
        hello: "print \"hello\\n\";\n",
        echo_stdin: "local $/;\nprint <STDIN>;\n",
        print_args: "print \"$_\\n\" for @ARGV;\n",
        exit_3: "exit 3;\n",
        infinite_loop: "1 while 1;\n",
        syntax_error: None,
    },
    Programs {
        language: "javascript",
        hello: "console.log(\"hello\");\n",
        echo_stdin: "process.stdout.write(require(\"fs\").readFileSync(0));\n",
        print_args: "for (const arg of process.argv.slice(2)) console.log(arg);\n",
        exit_3: "process.exit(3);\n",
        infinite_loop: "for (;;) {}\n",
        syntax_error: None,
    },
    Programs {
        language: "php",
        hello: "<?php\necho \"hello\\n\";\n",
        echo_stdin: "<?php\necho stream_get_contents(STDIN);\n",
        print_args: "<?php\nforeach (array_slice($argv, 1) as $arg) {\n    echo $arg, \"\\n\";\n}\n",
        exit_3: "<?php\nexit(3);\n",
        infinite_loop: "<?php\nwhile (true) {}\n",
        syntax_error: None,
    },
    Programs {
        language: "java",
        hello: JAVA_HELLO,
        echo_stdin: JAVA_ECHO_STDIN,
        print_args: JAVA_PRINT_ARGS,
        exit_3: JAVA_EXIT_3,
        infinite_loop: JAVA_INFINITE_LOOP,
        syntax_error: None,
    },
    Programs {
        language: "java-compiled",
        hello: JAVA_HELLO,
        echo_stdin: JAVA_ECHO_STDIN,
        print_args: JAVA_PRINT_ARGS,
        exit_3: JAVA_EXIT_3,
        infinite_loop: JAVA_INFINITE_LOOP,
        syntax_error: Some((JAVA_SYNTAX_ERROR, "error: illegal start of expression")),
    },
    Programs {
        language: "c",
        hello: "#include <stdio.h>\n\nint main(void) {\n    puts(\"hello\");\n    return 0;\n}\n",
        echo_stdin: "#include <stdio.h>\n\nint main(void) {\n    int c;\n    while ((c = getchar()) != EOF) {\n        putchar(c);\n    }\n    return 0;\n}\n",
        print_args: "#include <stdio.h>\n\nint main(int argc, char **argv) {\n    for (int i = 1; i < argc; i++) {\n        puts(argv[i]);\n    }\n    return 0;\n}\n",
        exit_3: "int main(void) {\n    return 3;\n}\n",
        infinite_loop: "int main(void) {\n    volatile unsigned long n = 0;\n    for (;;) {\n        n++;\n    }\n}\n",
        syntax_error: Some(("int main(void) {\n    return 0\n}\n", "error: expected")),
    },
    Programs {
        language: "cpp",
        hello: "#include <iostream>\n\nint main() {\n    std::cout << \"hello\\n\";\n}\n",
        echo_stdin: "#include <iostream>\n\nint main() {\n    std::cout << std::cin.rdbuf();\n}\n",
        print_args: "#include <iostream>\n\nint main(int argc, char **argv) {\n    for (int i = 1; i < argc; i++) {\n        std::cout << argv[i] << '\\n';\n    }\n}\n",
        exit_3: "#include <cstdlib>\n\nint main() {\n    std::exit(3);\n}\n",
        infinite_loop: "int main() {\n    volatile unsigned long n = 0;\n    for (;;) {\n        n++;\n    }\n}\n",
        syntax_error: Some(("int main() {\n    return 0\n}\n", "error: expected")),
    },
    Programs {
        language: "go",
        hello: "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n",
        echo_stdin: "package main\n\nimport (\n\t\"io\"\n\t\"os\"\n)\n\nfunc main() {\n\tio.Copy(os.Stdout, os.Stdin)\n}\n",
        print_args: "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfor _, arg := range os.Args[1:] {\n\t\tfmt.Println(arg)\n\t}\n}\n",
        exit_3: "package main\n\nimport \"os\"\n\nfunc main() {\n\tos.Exit(3)\n}\n",
        infinite_loop: "package main\n\nfunc main() {\n\tfor {\n\t}\n}\n",
        syntax_error: Some((
            "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\"\n}\n",
            "syntax error",
        )),
    },
    Programs {
        language: "rust",
        hello: "fn main() {\n    println!(\"hello\");\n}\n",
        echo_stdin: "use std::io;\n\nfn main() {\n    io::copy(&mut io::stdin(), &mut io::stdout()).unwrap();\n}\n",
        print_args: "fn main() {\n    for arg in std::env::args().skip(1) {\n        println!(\"{}\", arg);\n    }\n}\n",
        exit_3: "fn main() {\n    std::process::exit(3);\n}\n",
        infinite_loop: "fn main() {\n    loop {}\n}\n",
        syntax_error: Some((
            "fn main() {\n    let x = ;\n}\n",
            "error: expected expression",
        )),
    },
    Programs {
        language: "typescript",
        hello: "const greeting: string = \"hello\";\nconsole.log(greeting);\n",
        echo_stdin: "import * as fs from \"fs\";\n\nprocess.stdout.write(fs.readFileSync(0));\n",
        print_args: "const args: string[] = process.argv.slice(2);\nfor (const arg of args) {\n    console.log(arg);\n}\n",
        exit_3: "process.exit(3);\n",
        infinite_loop: "for (;;) {}\n",
        syntax_error: Some(("const x: number = ;\n", "error TS1109")),
    },
    Programs {
        language: "bash",
        hello: "echo hello\n",
        echo_stdin: "cat\n",
        print_args: "for arg in \"$@\"; do\n    printf '%s\\n' \"$arg\"\ndone\n",
        exit_3: "exit 3\n",
        infinite_loop: "while :; do :; done\n",
        syntax_error: None,
    },
    Programs {
        language: "lua",
        hello: "print(\"hello\")\n",
        echo_stdin: "io.write(io.read(\"a\"))\n",
        print_args: "for _, arg in ipairs(arg) do\n    print(arg)\nend\n",
        exit_3: "os.exit(3)\n",
        infinite_loop: "while true do end\n",
        syntax_error: None,
    },
];

fn sandbox() -> DockerSandbox {
    let docker = engine::connect(DOCKER_SOCKET, DOCKER_TIMEOUT_S).expect("the Docker socket");
    DockerSandbox::new(docker, NODE.as_str())
}

fn programs(language: &str) -> Option<&'static Programs> {
    PROGRAMS
        .iter()
        .find(|programs| programs.language == language)
}

/// Executes a submission; the outcome must name it, and nothing of it may
/// remain afterwards.
async fn execute(sandbox: &DockerSandbox, submission: Submission) -> Outcome {
    let id = submission.execution_id.clone();
    let outcome = {
        let _slot = SLOTS
            .acquire()
            .await
            .expect("the semaphore is never closed");
        tokio::time::timeout(HANG_GUARD, sandbox.execute(submission))
            .await
            .unwrap_or_else(|_| panic!("execution {id} hung for {HANG_GUARD:?}"))
    };
    assert_eq!(
        outcome.execution_id, id,
        "the outcome names another execution"
    );
    assert_nothing_left(sandbox.docker(), &id).await;
    outcome
}

/// Executes the submissions, a few at once, each named by its language.
async fn execute_all(submissions: Vec<(String, Submission)>) -> Vec<(String, Outcome)> {
    let sandbox = sandbox();
    let sandbox = &sandbox;
    stream::iter(submissions)
        .map(|(name, submission)| async move { (name, execute(sandbox, submission).await) })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

/// One check over every configured language: `make` builds the submission
/// from the language's programs (None: the check does not apply), `check`
/// judges the outcome. Returns the failures, each naming its language.
async fn check_every_language(
    make: impl Fn(&Language, &Programs) -> Option<Submission>,
    check: impl Fn(&Language, &Outcome) -> Result<(), String>,
) -> Vec<String> {
    let languages = configured_languages();
    let mut failures = Vec::new();
    let mut submissions = Vec::new();
    for language in &languages {
        match programs(&language.name) {
            Some(programs) => {
                if let Some(submission) = make(language, programs) {
                    submissions.push((language.name.clone(), submission));
                }
            }
            None => failures.push(format!(
                "{}: no conformance programs in tests/conformance.rs",
                language.name
            )),
        }
    }
    for (name, outcome) in execute_all(submissions).await {
        let language = languages
            .iter()
            .find(|language| language.name == name)
            .expect("a configured language");
        if let Err(expected) = check(language, &outcome) {
            failures.push(format!(
                "{name}: expected {expected}; outcome: {outcome:#?}"
            ));
        }
    }
    failures.sort();
    failures
}

fn assert_no_failures(check: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{check} failed in {} language(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The run step of an outcome, after a successful compile step for the
/// languages that have one.
fn ran<'a>(language: &Language, outcome: &'a Outcome) -> Result<&'a StepOutcome, String> {
    match (&language.compile, &outcome.compile) {
        (None, None) => {}
        (Some(_), Some(compile)) if compile.status == Status::Ok => {}
        (Some(_), _) => return Err("a successful compile step".into()),
        (None, Some(_)) => return Err("no compile step".into()),
    }
    outcome.run.as_ref().ok_or_else(|| "a run step".into())
}

/// The program ran to exit code 0 and printed exactly `stdout`.
fn prints(language: &Language, outcome: &Outcome, stdout: &str) -> Result<(), String> {
    let run = ran(language, outcome)?;
    if outcome.status == Status::Ok && run.exit_code == Some(0) && run.stdout == stdout {
        Ok(())
    } else {
        Err(format!("status ok, exit code 0 and stdout {stdout:?}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_configured_language_has_conformance_programs() {
    let languages = configured_languages();
    let names: Vec<&str> = languages.iter().map(|l| l.name.as_str()).collect();
    assert!(
        languages.len() >= MINIMUM_LANGUAGES,
        "at least {MINIMUM_LANGUAGES} languages must be configured, found {}: {names:?}",
        languages.len()
    );
    let mut problems = Vec::new();
    for language in &languages {
        match programs(&language.name) {
            None => problems.push(format!("{}: configured but has no programs", language.name)),
            Some(programs) => {
                if language.compile.is_some() != programs.syntax_error.is_some() {
                    problems.push(format!(
                        "{}: a syntax error program must be given exactly when the language compiles",
                        language.name
                    ));
                }
            }
        }
        if language.version.as_ref().is_none_or(Vec::is_empty) {
            problems.push(format!("{}: no version command", language.name));
        }
    }
    for programs in PROGRAMS {
        if !names.contains(&programs.language) {
            problems.push(format!(
                "{}: has programs but is not configured",
                programs.language
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "configured languages: {names:?}\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_world_prints_hello() {
    let failures = check_every_language(
        |language, programs| Some(submit(language, programs.hello)),
        |language, outcome| prints(language, outcome, "hello\n"),
    )
    .await;
    assert_no_failures("hello world", failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_is_copied_to_stdout() {
    let failures = check_every_language(
        |language, programs| {
            let mut submission = submit(language, programs.echo_stdin);
            submission.stdin = STDIN.into();
            Some(submission)
        },
        |language, outcome| prints(language, outcome, STDIN),
    )
    .await;
    assert_no_failures("echo of stdin", failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_reach_the_program() {
    let failures = check_every_language(
        |language, programs| {
            let mut submission = submit(language, programs.print_args);
            submission.args = vec!["a".into(), "b c".into()];
            Some(submission)
        },
        |language, outcome| prints(language, outcome, "a\nb c\n"),
    )
    .await;
    assert_no_failures("arguments", failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exit_code_is_a_runtime_error_with_that_code() {
    let failures = check_every_language(
        |language, programs| Some(submit(language, programs.exit_3)),
        |language, outcome| {
            let run = ran(language, outcome)?;
            if outcome.status == Status::RuntimeError && run.exit_code == Some(3) {
                Ok(())
            } else {
                Err("status runtime_error with exit code 3".into())
            }
        },
    )
    .await;
    assert_no_failures("exit code", failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syntax_error_is_a_compile_error_with_the_compilers_message() {
    let failures = check_every_language(
        |language, programs| {
            language.compile.as_ref()?;
            Some(match programs.syntax_error {
                Some((code, _)) => submit(language, code),
                // Compiles but has no program for this check: it fails below.
                None => submit(language, programs.hello),
            })
        },
        |language, outcome| {
            let fragment = programs(&language.name)
                .and_then(|programs| programs.syntax_error)
                .map(|(_, fragment)| fragment)
                .ok_or("a syntax error program in the table")?;
            let expected = || {
                format!("status compile_error, no run step, {fragment:?} in the compiler's output")
            };
            let compile = outcome.compile.as_ref().ok_or_else(expected)?;
            let said = format!("{}{}", compile.stdout, compile.stderr);
            if outcome.status == Status::CompileError
                && compile.status != Status::Ok
                && outcome.run.is_none()
                && said.contains(fragment)
            {
                Ok(())
            } else {
                Err(expected())
            }
        },
    )
    .await;
    assert_no_failures("syntax error", failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_times_out() {
    let failures = check_every_language(
        |language, programs| Some(submit(language, programs.infinite_loop)),
        |language, outcome| {
            let run = ran(language, outcome)?;
            if outcome.status == Status::Timeout && run.status == Status::Timeout {
                Ok(())
            } else {
                Err("status timeout".into())
            }
        },
    )
    .await;
    assert_no_failures("infinite loop", failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_version_command_runs_in_the_image() {
    let versions = std::sync::Mutex::new(Vec::new());
    let failures = check_every_language(
        |language, _| {
            let mut language = language.clone();
            language.run = language.version.clone().unwrap_or_default();
            language.compile = None;
            if language.run.is_empty() {
                // No version command: run nothing that could pass.
                language.run = vec!["false".into()];
            }
            Some(submit(&language, "\n"))
        },
        |language, outcome| {
            let expected = || {
                format!(
                    "the version command {:?} to print its version",
                    language.version
                )
            };
            let run = outcome.run.as_ref().ok_or_else(expected)?;
            let printed = format!("{}{}", run.stdout, run.stderr);
            let first_line = printed.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            if outcome.status == Status::Ok && language.version.is_some() && !first_line.is_empty()
            {
                versions
                    .lock()
                    .expect("not poisoned")
                    .push((language.name.clone(), first_line.trim().to_string()));
                Ok(())
            } else {
                Err(expected())
            }
        },
    )
    .await;
    let mut versions = versions.into_inner().expect("not poisoned");
    versions.sort();
    let versions: Vec<String> = versions
        .iter()
        .map(|(name, version)| format!("{name:>14}: {version}"))
        .collect();
    println!("versions:\n{}", versions.join("\n"));
    assert_no_failures("version", failures);
}
