//! Reading Prometheus' text format in tests: one sample's value by its name
//! and labels.

/// The value of the sample `name` whose labels include every pair of
/// `labels` (`None` when no such sample is exposed).
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((series_name, rest)) => (series_name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            (series_name == name).then_some((series_labels, value))
        })
        .find(|(series_labels, _)| {
            labels.iter().all(|(key, value)| {
                series_labels
                    .split(',')
                    .any(|pair| pair == format!("{key}=\"{value}\""))
            })
        })
        .and_then(|(_, value)| value.parse().ok())
}

/// Like [`sample`], 0 when the sample is not exposed (a counter that has
/// not counted yet).
pub fn count(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(text, name, labels).unwrap_or(0.0)
}
