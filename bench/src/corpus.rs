//! The corpus of real programs that `braindrill-bench programs` runs
//! ([`programs`](crate::programs)): one file per program under
//! `bench/corpus/<language>/`, its language told by its extension. Each
//! program checks its own result and prints `OK <name>` (its file stem) as
//! its last line and exits 0; a wrong result exits non-zero. This module
//! loads the files and knows, per language, the name the engine's API uses,
//! the file name the sandbox saves the code under and the host interpreter
//! that runs the same code outside any sandbox.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Most programs a corpus may hold: a bound on every run's count.
const MAX_PROGRAMS: usize = 1000;
/// Largest program file accepted (the engine's own limit is 64 KiB).
const MAX_PROGRAM_BYTES: u64 = 60 * 1024;

/// One language of the corpus: how the engine names it and how the host runs it.
pub struct CorpusLanguage {
    /// The file extension of its programs in the corpus.
    pub extension: &'static str,
    /// Its name in the engine's API (config/default.toml).
    pub api_name: &'static str,
    /// The file name the sandbox saves the code under; the host run uses it too.
    pub file: &'static str,
    /// Debian's interpreter, the one the image braindrill/runtime:bookworm runs.
    pub host_interpreter: &'static str,
    /// Arguments after the interpreter that print its version (as the engine's
    /// `version` command of the language does).
    pub version_args: &'static [&'static str],
}

/// The interpreted languages the host can run too. Absolute paths: a build
/// found first on PATH (pyenv's python, NodeSource's node) is not the image's.
pub static LANGUAGES: &[CorpusLanguage] = &[
    CorpusLanguage {
        extension: "py",
        api_name: "python",
        file: "main.py",
        host_interpreter: "/usr/bin/python3",
        version_args: &["--version"],
    },
    CorpusLanguage {
        extension: "rb",
        api_name: "ruby",
        file: "main.rb",
        host_interpreter: "/usr/bin/ruby",
        version_args: &["--version"],
    },
    CorpusLanguage {
        extension: "pl",
        api_name: "perl",
        file: "main.pl",
        host_interpreter: "/usr/bin/perl",
        version_args: &["-e", "print qq(perl $^V\\n)"],
    },
    CorpusLanguage {
        extension: "js",
        api_name: "javascript",
        file: "main.js",
        host_interpreter: "/usr/bin/node",
        version_args: &["--version"],
    },
    CorpusLanguage {
        extension: "lua",
        api_name: "lua",
        file: "main.lua",
        host_interpreter: "/usr/bin/lua5.4",
        version_args: &["-v"],
    },
    CorpusLanguage {
        extension: "php",
        api_name: "php",
        file: "main.php",
        host_interpreter: "/usr/bin/php",
        version_args: &["--version"],
    },
    CorpusLanguage {
        extension: "sh",
        api_name: "bash",
        file: "main.sh",
        host_interpreter: "/usr/bin/bash",
        version_args: &["--version"],
    },
];

/// One program of the corpus.
pub struct Program {
    /// Its file stem; it prints `OK <name>` when its checks pass.
    pub name: String,
    pub language: &'static CorpusLanguage,
    pub code: String,
}

impl Program {
    /// The program in a report: its language and name, unique in the corpus.
    pub fn label(&self) -> String {
        format!("{}/{}", self.language.api_name, self.name)
    }

    /// The line the program prints last when its result is right.
    pub fn ok_line(&self) -> String {
        format!("OK {}", self.name)
    }

    /// Whether `stdout` ends with the program's OK line.
    pub fn passed(&self, stdout: &str) -> bool {
        stdout.lines().rev().find(|line| !line.trim().is_empty()) == Some(self.ok_line().as_str())
    }
}

/// Loads every program under `root/<folder>/`, sorted by path so that every
/// run sends them in the same order.
pub fn load(root: &Path) -> anyhow::Result<Vec<Program>> {
    let mut paths = Vec::new();
    collect_files(root, &mut paths, 0)?;
    paths.sort();
    let mut programs = Vec::new();
    let mut names = BTreeMap::new();
    for path in paths {
        let Some(language) = path
            .extension()
            .and_then(|extension| extension.to_str())
            .and_then(|extension| LANGUAGES.iter().find(|l| l.extension == extension))
        else {
            continue;
        };
        let name = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .filter(|stem| {
                stem.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
            .with_context(|| format!("{}: a program's name is a plain word", path.display()))?
            .to_string();
        let label = format!("{}/{name}", language.api_name);
        if let Some(other) = names.insert(label.clone(), path.clone()) {
            bail!(
                "two programs {label}: {} and {}",
                other.display(),
                path.display()
            );
        }
        let size = std::fs::metadata(&path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if size > MAX_PROGRAM_BYTES {
            bail!("{} is over {MAX_PROGRAM_BYTES} bytes", path.display());
        }
        let code = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        programs.push(Program {
            name,
            language,
            code,
        });
        if programs.len() > MAX_PROGRAMS {
            bail!("the corpus holds over {MAX_PROGRAMS} programs");
        }
    }
    if programs.is_empty() {
        bail!("no program found under {}", root.display());
    }
    Ok(programs)
}

/// Files under `dir`, one level of language folders deep (the corpus's
/// generator script sits at the top and is no program).
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>, depth: u32) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let kind = entry.file_type()?;
        if kind.is_dir() && depth == 0 {
            collect_files(&entry.path(), out, depth + 1)?;
        } else if kind.is_file() && depth == 1 {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// Programs per language (API name), for the report.
pub fn count_by_language(programs: &[Program]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for program in programs {
        *counts.entry(program.language.api_name).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ok_line_must_be_the_last_line() {
        let program = Program {
            name: "two_sum".into(),
            language: &LANGUAGES[0],
            code: String::new(),
        };
        assert!(program.passed("checking\nOK two_sum\n"));
        assert!(!program.passed("OK two_sum\nTraceback\n"));
        assert!(!program.passed("OK two_sum_slow\n"));
        assert!(!program.passed(""));
    }
}
