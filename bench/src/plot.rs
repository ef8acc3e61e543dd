//! The picture of `braindrill-bench http`, one SVG of four panels drawn
//! with plotters: the latency CDF of the three sides per concurrency, the
//! throughput by concurrency, the CDF of the cluster hop, and the targets
//! with this run's verdicts.

use std::path::Path;

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::{HttpReport, LevelReport, TargetCheck};
use crate::stats::SANDBOX_US_HEADER;

/// Draws the run's picture into `path`, creating its folder.
pub fn draw_svg(path: &Path, report: &HttpReport) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let root = SVGBackend::new(path, (1200, 920)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (top, bottom) = root.split_vertically(520);
    let (left, right) = top.split_horizontally(700);
    let (bottom_left, bottom_right) = bottom.split_horizontally(700);
    let note = if report.note.is_empty() {
        String::new()
    } else {
        format!(", {}", report.note)
    };
    draw_cdf(&left, &note, &report.levels)?;
    draw_throughput(&right, &note, &report.levels)?;
    draw_hops(&bottom_left, &note, &report.levels)?;
    draw_targets(&bottom_right, &report.targets)?;
    root.present().map_err(plot_error)
}

fn plot_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("cannot draw the picture: {error}")
}

fn level_color(index: usize) -> RGBColor {
    const COLORS: [RGBColor; 4] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
    ];
    COLORS[index % COLORS.len()]
}

/// Left panel: cumulative distribution of latencies, engine solid and
/// baseline dashed, one colour per concurrency.
fn draw_cdf(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    note: &str,
    levels: &[LevelReport],
) -> anyhow::Result<()> {
    let x_max = levels
        .iter()
        .flat_map(|level| {
            [
                level.engine.summary.p99_ms,
                level.baseline.summary.p99_ms,
                level.direct.summary.p99_ms,
            ]
        })
        .filter(|ms| ms.is_finite())
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Latency CDF{note} (solid: engine, dashed: docker run, dotted: direct)"),
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..x_max, 0f64..1f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms)")
        .y_desc("fraction of requests")
        .draw()
        .map_err(plot_error)?;
    for (index, level) in levels.iter().enumerate() {
        let color = level_color(index);
        let engine = cdf_points(&level.engine.latencies_ms, x_max);
        chart
            .draw_series(LineSeries::new(engine, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!("engine, {} concurrent", level.concurrency))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        let baseline = cdf_points(&level.baseline.latencies_ms, x_max);
        chart
            .draw_series(DashedLineSeries::new(baseline, 6, 4, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!("docker run, {} concurrent", level.concurrency))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 8, y)], color.stroke_width(2))
            });
        let direct = cdf_points(&level.direct.latencies_ms, x_max);
        chart
            .draw_series(DashedLineSeries::new(direct, 2, 4, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!("direct, {} concurrent", level.concurrency))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 3, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// The steps of an empirical CDF, cut at `x_max`.
fn cdf_points(latencies: &[f64], x_max: f64) -> Vec<(f64, f64)> {
    let mut sorted = latencies.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut points = vec![(0.0, 0.0)];
    for (index, &ms) in sorted.iter().enumerate() {
        if ms > x_max {
            points.push((x_max, index as f64 / n));
            return points;
        }
        points.push((ms, index as f64 / n));
        points.push((ms, (index + 1) as f64 / n));
    }
    points
}

/// A line of the throughput panel: its name, colour and value per level.
type Side = (&'static str, RGBColor, fn(&LevelReport) -> f64);

/// Right panel: throughput at each concurrency, engine and baseline.
fn draw_throughput(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    note: &str,
    levels: &[LevelReport],
) -> anyhow::Result<()> {
    let sides: [Side; 3] = [
        ("engine", RGBColor(31, 119, 180), |level| {
            level.engine.summary.throughput_rps
        }),
        ("docker run", RGBColor(255, 127, 14), |level| {
            level.baseline.summary.throughput_rps
        }),
        (
            "direct (cold sandbox, in-process)",
            RGBColor(44, 160, 44),
            |level| level.direct.summary.throughput_rps,
        ),
    ];
    let y_max = levels
        .iter()
        .flat_map(|level| sides.map(|(_, _, value)| value(level)))
        .filter(|rps| rps.is_finite())
        .fold(1.0, f64::max)
        * 1.25;
    let x_max = levels
        .iter()
        .map(|level| level.concurrency)
        .max()
        .unwrap_or(1) as f64
        + 1.0;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Throughput by concurrency{note}"),
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("concurrent clients")
        .y_desc("successful runs per second")
        .draw()
        .map_err(plot_error)?;
    for (name, color, value) in sides {
        let points: Vec<(f64, f64)> = levels
            .iter()
            .map(|level| (level.concurrency as f64, value(level)))
            .filter(|(_, rps)| rps.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(plot_error)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&point| Circle::new(point, 4, color.filled())),
            )
            .map_err(plot_error)?;
        chart
            .draw_series(points.iter().map(|&(x, y)| {
                EmptyElement::at((x, y))
                    + Text::new(
                        format!("{y:.1}"),
                        (8, -16),
                        ("sans-serif", 13).into_font().color(&color),
                    )
            }))
            .map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// Bottom left: cumulative distribution of the cluster hop per concurrency.
fn draw_hops(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    note: &str,
    levels: &[LevelReport],
) -> anyhow::Result<()> {
    let caption = format!("Cluster hop CDF{note} (end-to-end minus the worker's sandbox time)");
    if levels.iter().all(|level| !level.hop.available) {
        area.titled(&caption, ("sans-serif", 18))
            .map_err(plot_error)?
            .draw_text(
                &format!("hop unavailable: no answer carried {SANDBOX_US_HEADER}"),
                &("sans-serif", 15).into_font().color(&BLACK),
                (40, 60),
            )
            .map_err(plot_error)?;
        return Ok(());
    }
    let x_max = levels
        .iter()
        .filter(|level| level.hop.available)
        .map(|level| level.hop.p99_ms)
        .filter(|ms| ms.is_finite())
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..x_max, 0f64..1f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("hop (ms)")
        .y_desc("fraction of requests")
        .draw()
        .map_err(plot_error)?;
    for (index, level) in levels.iter().enumerate() {
        if !level.hop.available {
            continue;
        }
        let color = level_color(index);
        let points = cdf_points(&level.hop.hops_ms, x_max);
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(plot_error)?
            .label(format!(
                "{} concurrent (p50 {:.2} ms)",
                level.concurrency, level.hop.p50_ms
            ))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)
}

/// Bottom right: the targets and this run's verdicts, as text.
fn draw_targets(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    targets: &[TargetCheck],
) -> anyhow::Result<()> {
    let area = area
        .titled("Targets", ("sans-serif", 18))
        .map_err(plot_error)?;
    let mut y = 20;
    for target in targets {
        let color = match target.met {
            Some(true) => RGBColor(44, 160, 44),
            Some(false) => RGBColor(214, 39, 40),
            None => RGBColor(127, 127, 127),
        };
        area.draw_text(
            &format!("{} ({})", target.target, target.threshold),
            &("sans-serif", 13).into_font().color(&BLACK),
            (15, y),
        )
        .map_err(plot_error)?;
        area.draw_text(
            &format!("{}: {}", target.verdict(), target.measured),
            &("sans-serif", 13).into_font().color(&color),
            (30, y + 16),
        )
        .map_err(plot_error)?;
        y += 36;
    }
    Ok(())
}
