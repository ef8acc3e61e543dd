//! The languages of the settings: each is an image, a file name for the
//! code, the commands that compile and run it, and the limits it sets
//! instead of `sandbox.limits`, resolved here into the sandbox's
//! [`Language`]s.

use anyhow::bail;
use serde::Deserialize;

use super::Settings;
use crate::sandbox::{Language, LimitError, Limits, RequestedLimits};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageSettings {
    pub image: String,
    pub file: String,
    pub run: Vec<String>,
    #[serde(default)]
    pub compile: Option<Vec<String>>,
    /// Command that prints the language's version, run once per worker.
    #[serde(default)]
    pub version: Option<Vec<String>>,
    /// Keys of [`Limits`] this language sets instead of `sandbox.limits`:
    /// one more layer over them, read by [`Settings::languages`].
    #[serde(default)]
    pub limits: config::Map<String, config::Value>,
    /// Folders a warm sandbox looks through while it waits (see
    /// [`Language::warm_paths`]).
    #[serde(default)]
    pub warm_paths: Vec<String>,
}

impl Settings {
    /// Every configured language with its limits resolved.
    pub fn languages(&self) -> anyhow::Result<Vec<Language>> {
        let defaults = &self.sandbox.limits;
        defaults.check().map_err(|problem| {
            anyhow::anyhow!("invalid configuration: sandbox.limits.{problem}")
        })?;
        let max = &self.sandbox.max_limits;
        self.languages
            .iter()
            .map(|(name, language)| {
                let key = format!("languages.{name}");
                if language.image.trim().is_empty() {
                    bail!("invalid configuration: {key}.image must not be empty");
                }
                if language.run.is_empty() {
                    bail!("invalid configuration: {key}.run must name a command");
                }
                if language.compile.as_ref().is_some_and(Vec::is_empty) {
                    bail!("invalid configuration: {key}.compile must name a command when set");
                }
                let file = language.file.as_str();
                if file.is_empty() || file.contains('/') || file.starts_with('.') {
                    bail!(
                        "invalid configuration: {key}.file must be a plain file name, got {file:?}"
                    );
                }
                let limits = lay_over(defaults, &language.limits)
                    .map_err(|error| anyhow::anyhow!("invalid configuration: {key}.limits: {error}"))?;
                limits
                    .check()
                    .map_err(|problem| anyhow::anyhow!("invalid configuration: {key}.limits.{problem}"))?;
                // A language's own limits must be ones a request could ask for.
                match RequestedLimits::from(&limits).resolve(&limits, max) {
                    Ok(_) => {}
                    Err(LimitError::AboveMaximum { field, .. }) => bail!(
                        "invalid configuration: {key}.limits.{field} is above sandbox.max_limits.{field}"
                    ),
                    Err(error) => bail!("invalid configuration: {key}.{error}"),
                }
                Ok(Language {
                    name: name.clone(),
                    image: language.image.clone(),
                    file: language.file.clone(),
                    run: language.run.clone(),
                    compile: language.compile.clone(),
                    version: language.version.clone(),
                    limits,
                    warm_paths: language.warm_paths.clone(),
                })
            })
            .collect()
    }
}

/// `defaults` with a language's own keys laid over them, as the
/// configuration's layers are: what it does not set, it inherits.
fn lay_over(
    defaults: &Limits,
    own: &config::Map<String, config::Value>,
) -> Result<Limits, config::ConfigError> {
    let mut layers = config::Config::builder().add_source(config::Config::try_from(defaults)?);
    for (key, value) in own {
        layers = layers.set_override(key.as_str(), value.clone())?;
    }
    layers.build()?.try_deserialize()
}
