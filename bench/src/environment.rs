//! What a run is measured on and with: the machine (cores, Docker, kernel)
//! and the date, both written next to every figure, and the engine's own
//! configuration of a language (image, files, limits), so that the
//! baseline, the direct sandbox and the start costs use exactly what the
//! engine would.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use bollard::Docker;
use braindrill::configuration::Settings;
use braindrill::sandbox::Language;
use serde::Serialize;

/// The engine's configuration of `name`, from the compiled-in defaults.
pub fn load_language(name: &str) -> anyhow::Result<Language> {
    let settings = Settings::load(None, std::iter::empty::<(String, String)>())
        .context("cannot load braindrill's default settings")?;
    settings
        .languages()?
        .into_iter()
        .find(|language| language.name == name)
        .ok_or_else(|| anyhow!("unknown language {name} (see config/default.toml)"))
}

/// What the machine is, for the report.
#[derive(Serialize)]
pub struct Machine {
    pub cores: usize,
    pub docker_version: String,
    pub docker_api_version: String,
    pub kernel: String,
}

/// The machine and its Docker engine.
pub async fn machine(docker: &Docker) -> anyhow::Result<Machine> {
    let version = docker
        .version()
        .await
        .context("the Docker engine does not answer")?;
    Ok(Machine {
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        docker_version: version.version.unwrap_or_default(),
        docker_api_version: version.api_version.unwrap_or_default(),
        kernel: version.kernel_version.unwrap_or_default(),
    })
}

/// The current time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let minutes = seconds % 86_400 / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
    }
}
