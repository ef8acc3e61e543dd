//! From samples to figures: each request, `docker run` or direct execution
//! is one [`Sample`]; a side's samples at one concurrency add up to a
//! [`Series`], which reports its nearest-rank percentiles, its throughput
//! over the wall time of its own batches, and (for the engine) the cluster
//! hop, the end-to-end latency minus the sandbox time the worker reports.

use std::time::{Duration, Instant};

use serde::Serialize;

/// The header in which the worker reports its sandbox's time in
/// microseconds: the hop is the answer's time minus it.
pub const SANDBOX_US_HEADER: &str = "x-braindrill-sandbox-us";

/// Error messages kept per series in the JSON (the count is always kept).
const KEPT_ERRORS: usize = 10;

/// Nearest-rank percentile of sorted values; NaN when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median of unsorted values (nearest rank).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile(&sorted, 50.0)
}

/// A duration in milliseconds.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// One request, one `docker run` or one direct execution: its latency, or
/// why it failed.
pub struct Sample {
    pub ms: f64,
    pub error: Option<String>,
    /// What the worker said its sandbox took (`x-braindrill-sandbox-us`),
    /// for engine requests whose answer carried it.
    pub sandbox_us: Option<u64>,
}

impl Sample {
    pub fn new(started: Instant, error: Option<String>) -> Sample {
        Sample {
            ms: millis(started.elapsed()),
            error,
            sandbox_us: None,
        }
    }
}

/// The samples of one batch and its wall time.
pub struct Batch {
    pub samples: Vec<Sample>,
    pub elapsed: Duration,
}

/// Every sample of one side (engine, baseline or direct) at one concurrency.
#[derive(Default)]
pub struct Series {
    latencies_ms: Vec<f64>,
    errors: usize,
    error_messages: Vec<String>,
    busy: Duration,
    /// End-to-end latency minus the sandbox's time, of successful answers
    /// that said their sandbox's time.
    hops_ms: Vec<f64>,
    sandbox_ms: Vec<f64>,
    /// Successful answers without the sandbox-time header.
    without_header: usize,
}

impl Series {
    pub fn add(&mut self, batch: Batch) {
        self.busy += batch.elapsed;
        for sample in batch.samples {
            match sample.error {
                None => {
                    self.latencies_ms.push(sample.ms);
                    match sample.sandbox_us {
                        Some(us) => {
                            let sandbox_ms = us as f64 / 1e3;
                            self.sandbox_ms.push(sandbox_ms);
                            self.hops_ms.push(sample.ms - sandbox_ms);
                        }
                        None => self.without_header += 1,
                    }
                }
                Some(message) => {
                    self.errors += 1;
                    if self.error_messages.len() < KEPT_ERRORS {
                        self.error_messages.push(message);
                    }
                }
            }
        }
    }

    /// The cluster hop of the engine's answers.
    pub fn hop_report(&self) -> HopReport {
        let mut sorted = self.hops_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let mut sandbox = self.sandbox_ms.clone();
        sandbox.sort_by(f64::total_cmp);
        HopReport {
            available: !sorted.is_empty(),
            with_header: sorted.len(),
            without_header: self.without_header,
            p50_ms: round2(percentile(&sorted, 50.0)),
            p90_ms: round2(percentile(&sorted, 90.0)),
            p99_ms: round2(percentile(&sorted, 99.0)),
            max_ms: round2(sorted.last().copied().unwrap_or(f64::NAN)),
            sandbox_p50_ms: round2(percentile(&sandbox, 50.0)),
            hops_ms: self.hops_ms.iter().copied().map(round2).collect(),
        }
    }

    pub fn report(self) -> SeriesReport {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let busy_s = self.busy.as_secs_f64();
        SeriesReport {
            summary: Summary {
                ok: sorted.len(),
                errors: self.errors,
                p50_ms: percentile(&sorted, 50.0),
                p90_ms: percentile(&sorted, 90.0),
                p99_ms: percentile(&sorted, 99.0),
                max_ms: sorted.last().copied().unwrap_or(f64::NAN),
                throughput_rps: if busy_s > 0.0 {
                    sorted.len() as f64 / busy_s
                } else {
                    f64::NAN
                },
                busy_s,
            },
            error_messages: self.error_messages,
            latencies_ms: self.latencies_ms,
        }
    }
}

/// Rounded to 2 decimals, as the hop figures are reported.
fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[derive(Serialize)]
pub struct Summary {
    /// Successful requests (HTTP 200, exit 0 for the baseline, status ok
    /// for the direct sandbox).
    pub ok: usize,
    /// Non-200 answers or transport failures (non-zero exit for the baseline).
    pub errors: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Successful requests per second of this side's batches' wall time.
    pub throughput_rps: f64,
    pub busy_s: f64,
}

#[derive(Serialize)]
pub struct SeriesReport {
    pub summary: Summary,
    pub error_messages: Vec<String>,
    /// In the order they completed.
    pub latencies_ms: Vec<f64>,
}

/// The cluster hop: an engine request's end-to-end latency minus the time
/// its worker's sandbox spent (`x-braindrill-sandbox-us`). Milliseconds
/// with 2 decimals; null when no answer carried the header.
#[derive(Serialize)]
pub struct HopReport {
    /// Whether any successful answer carried the header.
    pub available: bool,
    /// Successful answers with the header.
    pub with_header: usize,
    /// Successful answers without it.
    pub without_header: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The sandbox's own time (the header), median.
    pub sandbox_p50_ms: f64,
    /// Every hop, in the order the answers completed.
    pub hops_ms: Vec<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 90.0), 7.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
