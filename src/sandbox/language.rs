//! A language as the sandbox sees it: which image, where the code goes, how
//! it is compiled and run. Languages come from configuration, never from code.

use serde::{Deserialize, Serialize};

use super::Limits;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Language {
    pub name: String,
    /// Image the container is created from; must exist on the engine.
    pub image: String,
    /// File name the (first) source file is saved under.
    pub file: String,
    /// Command that runs the program, in the code's folder.
    pub run: Vec<String>,
    /// Command that compiles the program first, if the language needs one.
    pub compile: Option<Vec<String>>,
    /// Command that prints the language's version (read from the image, so
    /// it is never out of date).
    pub version: Option<Vec<String>>,
    /// This language's limits (global defaults with its overrides applied).
    pub limits: Limits,
    /// Folders whose entries a warm sandbox's runner looks up while it waits
    /// for its execution: a fresh container's overlay filesystem has cold
    /// lookup caches, which the first program would otherwise pay for (about
    /// half of python's start here).
    #[serde(default)]
    pub warm_paths: Vec<String>,
}
