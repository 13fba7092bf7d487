//! The page's charts, drawn server-side with plotters into SVG strings. They only draw the
//! figures they are given: no statistic is computed here.
//!
//! plotters' SVG backend escapes text and writes it as `<text>`, so no font files are needed;
//! category labels are drawn beside the plot area at the chart's own pixel positions.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

type DrawResult = Result<(), Box<dyn std::error::Error>>;

pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const MUTED: RGBColor = RGBColor(0x77, 0x77, 0x77);
const GRID: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);
const SUPPRESSED: RGBColor = RGBColor(0xee, 0xee, 0xee);
/// The colour of "ready to customise" figures.
pub const READY: RGBColor = RGBColor(0xe6, 0x55, 0x0d);
const FONT: &str = "sans-serif";
const LABEL_PX: f64 = 7.6;
/// Longest label of a chart of 560 pixels, and of a wider one.
const MAX_LABEL_CHARS: usize = 34;
const MAX_WIDE_LABEL_CHARS: usize = 72;

/// A share with its 95 % interval, all fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    pub share: f64,
    pub low: f64,
    pub high: f64,
}

/// One bar of the stacked tier chart: the tier shares in rank order, or `None` when the
/// cell is suppressed.
pub struct StackedBar {
    pub label: String,
    pub shares: Option<Vec<f64>>,
}

/// One bar of a horizontal bar chart: a value with an optional interval, or `None` when
/// suppressed.
pub struct Bar {
    pub label: String,
    pub value: Option<Share>,
    pub color: RGBColor,
}

/// One period of the trend: its label and its share, or `None` when suppressed.
pub struct TrendPoint {
    pub label: String,
    pub value: Option<Share>,
}

/// How values of a horizontal bar chart are shown.
#[derive(Debug, Clone, Copy)]
pub enum Scale {
    /// Fractions shown as percentages, on an axis up to `max`.
    Percent { max: f64 },
    /// Scores from 0 to 100.
    Score,
}

/// Renders with `draw` into an SVG string of `width` × `height`, tagged `data-chart=name`.
fn svg(
    name: &str,
    description: &str,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> anyhow::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        let drawn = root
            .fill(&WHITE)
            .map_err(Box::<dyn std::error::Error>::from)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(Box::<dyn std::error::Error>::from));
        drawn.map_err(|e| anyhow::anyhow!("drawing the {name} chart failed: {e}"))?;
    }
    let attributes = format!(
        "<svg data-chart=\"{}\" role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMinYMin meet\" ",
        super::page::escape(name),
        super::page::escape(description)
    );
    Ok(out.replacen("<svg ", &attributes, 1))
}

fn text_style(size: u32, color: &'static RGBColor, h: HPos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
        .color(color)
        .pos(Pos::new(h, VPos::Center))
}

fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut short: String = label.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

fn label_area(labels: impl Iterator<Item = usize>) -> u32 {
    let chars = labels.max().unwrap_or(0);
    (chars as f64 * LABEL_PX) as u32 + 16
}

fn percent(value: f64) -> String {
    format!("{:.0} %", value * 100.0)
}

/// Horizontal stacked bars of tier shares, one bar per segment (first on top); a suppressed
/// segment is a grey bar that says so, with no figures. `width` is 560 (half the page) or more.
pub fn stacked_tiers(
    bars: &[StackedBar],
    colors: &[RGBColor],
    width: u32,
) -> anyhow::Result<String> {
    let rows = bars.len().max(1);
    let height = 50 + 34 * rows as u32;
    let labels = label_area(
        bars.iter()
            .map(|b| shorten(&b.label, MAX_LABEL_CHARS).chars().count()),
    );
    svg(
        "tiers",
        "Share of firms at each tier, by segment",
        (width, height),
        |root| {
            let mut chart = ChartBuilder::on(root)
                .margin_top(8)
                .margin_right(16)
                .x_label_area_size(28)
                .y_label_area_size(labels)
                .build_cartesian_2d(0f64..1f64, 0f64..rows as f64)?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(6)
                .x_label_formatter(&|x| percent(*x))
                .light_line_style(TRANSPARENT)
                .bold_line_style(GRID)
                .axis_style(MUTED)
                .label_style((FONT, 12).into_font().color(&MUTED))
                .draw()?;
            for (index, bar) in bars.iter().enumerate() {
                let top = (rows - index) as f64;
                let (low, high) = (top - 0.82, top - 0.18);
                let middle = top - 0.5;
                match &bar.shares {
                    Some(shares) => {
                        let mut start = 0.0;
                        for (tier, share) in shares.iter().enumerate() {
                            let end = (start + share).min(1.0);
                            let color = colors.get(tier).copied().unwrap_or(MUTED);
                            chart.draw_series(std::iter::once(Rectangle::new(
                                [(start, low), (end, high)],
                                color.filled(),
                            )))?;
                            if *share >= 0.07 {
                                chart.draw_series(std::iter::once(Text::new(
                                    percent(*share),
                                    ((start + end) / 2.0, middle),
                                    text_style(12, contrast(color), HPos::Center),
                                )))?;
                            }
                            start = end;
                        }
                    }
                    None => {
                        chart.draw_series(std::iter::once(Rectangle::new(
                            [(0.0, low), (1.0, high)],
                            SUPPRESSED.filled(),
                        )))?;
                        chart.draw_series(std::iter::once(Text::new(
                            "suppressed".to_owned(),
                            (0.02, middle),
                            text_style(12, &MUTED, HPos::Left),
                        )))?;
                    }
                }
                let (x, y) = chart.backend_coord(&(0.0, middle));
                root.draw(&Text::new(
                    shorten(&bar.label, MAX_LABEL_CHARS),
                    (x - 8, y),
                    text_style(14, &INK, HPos::Right),
                ))?;
            }
            Ok(())
        },
    )
}

/// One cell of the transition heat table: the published count and row share, or `None`
/// when suppressed.
pub struct HeatCell {
    pub count: u64,
    pub row_share: f64,
}

/// The tier transition matrix as a heat table: a row per baseline tier, a column per
/// follow-up tier, each cell shaded by its row share and labelled with its count and share;
/// a suppressed cell is grey and says so. `rows` are (label, cells).
pub fn transition_heat(
    rows: &[(String, Vec<Option<HeatCell>>)],
    columns: &[String],
) -> anyhow::Result<String> {
    const CELL_HEIGHT: i32 = 46;
    const HEADER: i32 = 40;
    const WIDTH: u32 = 1120;
    let count = columns.len().max(1);
    let labels = i32::try_from(label_area(
        rows.iter()
            .map(|(label, _)| shorten(label, MAX_LABEL_CHARS).chars().count()),
    ))
    .unwrap_or(200);
    let height = HEADER + CELL_HEIGHT * i32::try_from(rows.len().max(1)).unwrap_or(1) + 10;
    let cell_width =
        (i32::try_from(WIDTH).unwrap_or(1120) - labels - 16) / i32::try_from(count).unwrap_or(1);
    svg(
        "transitions",
        "Firms by baseline tier (rows) and follow-up tier (columns), shaded by row share",
        (WIDTH, u32::try_from(height).unwrap_or(200)),
        |root| {
            for (j, column) in columns.iter().enumerate() {
                let x = labels + cell_width * i32::try_from(j).unwrap_or(0) + cell_width / 2;
                root.draw(&Text::new(
                    shorten(column, MAX_LABEL_CHARS / 2),
                    (x, HEADER / 2),
                    text_style(13, &MUTED, HPos::Center),
                ))?;
            }
            for (i, (label, cells)) in rows.iter().enumerate() {
                let top = HEADER + CELL_HEIGHT * i32::try_from(i).unwrap_or(0);
                root.draw(&Text::new(
                    shorten(label, MAX_LABEL_CHARS),
                    (labels - 8, top + CELL_HEIGHT / 2),
                    text_style(14, &INK, HPos::Right),
                ))?;
                for (j, cell) in cells.iter().enumerate() {
                    let left = labels + cell_width * i32::try_from(j).unwrap_or(0);
                    let corners = [
                        (left + 1, top + 1),
                        (left + cell_width - 1, top + CELL_HEIGHT - 1),
                    ];
                    let middle = (left + cell_width / 2, top + CELL_HEIGHT / 2);
                    match cell {
                        Some(cell) => {
                            let fill = shade(cell.row_share);
                            root.draw(&Rectangle::new(corners, fill.filled()))?;
                            root.draw(&Text::new(
                                format!("{} · {}", cell.count, percent(cell.row_share)),
                                middle,
                                text_style(13, contrast(fill), HPos::Center),
                            ))?;
                        }
                        None => {
                            root.draw(&Rectangle::new(corners, SUPPRESSED.filled()))?;
                            root.draw(&Text::new(
                                "suppressed".to_owned(),
                                middle,
                                text_style(12, &MUTED, HPos::Center),
                            ))?;
                        }
                    }
                }
            }
            Ok(())
        },
    )
}

/// A blue as dark as `share` (0–1) is large, from near white.
fn shade(share: f64) -> RGBColor {
    let share = share.clamp(0.0, 1.0);
    let mix = |light: u8, dark: u8| {
        let value = f64::from(light) + (f64::from(dark) - f64::from(light)) * share;
        value.round().clamp(0.0, 255.0) as u8
    };
    RGBColor(mix(0xf4, 0x08), mix(0xf8, 0x51), mix(0xfc, 0x9c))
}

/// White text on dark fills, dark text on light ones.
fn contrast(color: RGBColor) -> &'static RGBColor {
    let RGBColor(r, g, b) = color;
    let luminance = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if luminance < 150.0 { &WHITE } else { &INK }
}

/// The ready-to-customise share per period as a line inside its interval band; suppressed
/// periods are grey columns without a point.
pub fn trend(points: &[TrendPoint]) -> anyhow::Result<String> {
    let count = points.len().max(1);
    let highest = points
        .iter()
        .filter_map(|p| p.value.map(|v| v.high))
        .fold(0.0f64, f64::max);
    let top = ((highest * 1.15) / 0.05).ceil().max(1.0) * 0.05;
    let top = top.min(1.0);
    svg(
        "trend",
        "Share ready to customise per period, with its 95 % interval",
        (560, 320),
        |root| {
            let mut chart = ChartBuilder::on(root)
                .margin_top(12)
                .margin_right(20)
                .x_label_area_size(44)
                .y_label_area_size(48)
                .build_cartesian_2d(-0.5f64..count as f64 - 0.5, 0f64..top)?;
            let label = |x: &f64| {
                let index = x.round();
                if (x - index).abs() > 1e-6 || index < 0.0 {
                    return String::new();
                }
                points
                    .get(index as usize)
                    .map(|p| p.label.clone())
                    .unwrap_or_default()
            };
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(count.min(8))
                .x_label_formatter(&label)
                .x_label_style((FONT, 11).into_font().color(&MUTED))
                .y_labels(6)
                .y_label_formatter(&|y| percent(*y))
                .light_line_style(TRANSPARENT)
                .bold_line_style(GRID)
                .axis_style(MUTED)
                .label_style((FONT, 12).into_font().color(&MUTED))
                .draw()?;
            for (index, point) in points.iter().enumerate() {
                if point.value.is_none() {
                    let x = index as f64;
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.45, 0.0), (x + 0.45, top)],
                        SUPPRESSED.filled(),
                    )))?;
                }
            }
            for run in runs(points) {
                if run.len() == 1 {
                    let (x, v) = run[0];
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x, v.low), (x, v.high)],
                        READY.mix(0.5).stroke_width(6),
                    )))?;
                } else {
                    let mut band: Vec<(f64, f64)> = run.iter().map(|(x, v)| (*x, v.low)).collect();
                    band.extend(run.iter().rev().map(|(x, v)| (*x, v.high)));
                    chart.draw_series(std::iter::once(Polygon::new(band, READY.mix(0.18))))?;
                    chart.draw_series(LineSeries::new(
                        run.iter().map(|(x, v)| (*x, v.share)),
                        READY.stroke_width(2),
                    ))?;
                }
                chart.draw_series(
                    run.iter()
                        .map(|(x, v)| Circle::new((*x, v.share), 3, READY.filled())),
                )?;
            }
            Ok(())
        },
    )
}

/// Consecutive periods with figures, as (x, share).
fn runs(points: &[TrendPoint]) -> Vec<Vec<(f64, Share)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (index, point) in points.iter().enumerate() {
        match point.value {
            Some(value) => current.push((index as f64, value)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// Horizontal bars with their value written beside them and, where given, the interval as a
/// whisker; a suppressed bar says so. `width` is 560 (half the page) or more.
pub fn bars(
    name: &str,
    description: &str,
    bars: &[Bar],
    scale: Scale,
    width: u32,
) -> anyhow::Result<String> {
    let rows = bars.len().max(1);
    let height = 40 + 32 * rows as u32;
    let longest = if width > 800 {
        MAX_WIDE_LABEL_CHARS
    } else {
        MAX_LABEL_CHARS
    };
    let labels = label_area(
        bars.iter()
            .map(|b| shorten(&b.label, longest).chars().count()),
    );
    let (max, show): (f64, fn(f64) -> String) = match scale {
        Scale::Percent { max } => (max.clamp(0.05, 1.0), |v| format!("{:.1} %", v * 100.0)),
        Scale::Score => (100.0, |v| format!("{v:.0}")),
    };
    let axis: fn(&f64) -> String = match scale {
        Scale::Percent { .. } => |v| percent(*v),
        Scale::Score => |v| format!("{v:.0}"),
    };
    svg(name, description, (width, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin_top(8)
            .margin_right(56)
            .x_label_area_size(26)
            .y_label_area_size(labels)
            .build_cartesian_2d(0f64..max, 0f64..rows as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_formatter(&axis)
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(MUTED)
            .label_style((FONT, 12).into_font().color(&MUTED))
            .draw()?;
        for (index, bar) in bars.iter().enumerate() {
            let top = (rows - index) as f64;
            let middle = top - 0.5;
            match bar.value {
                Some(value) => {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(0.0, top - 0.78), (value.share.min(max), top - 0.22)],
                        bar.color.filled(),
                    )))?;
                    let mut end = value.share;
                    if value.high > value.low {
                        let (low, high) = (value.low, value.high.min(max));
                        chart.draw_series(std::iter::once(PathElement::new(
                            vec![(low, middle), (high, middle)],
                            INK.stroke_width(1),
                        )))?;
                        for x in [low, high] {
                            chart.draw_series(std::iter::once(PathElement::new(
                                vec![(x, top - 0.36), (x, top - 0.64)],
                                INK.stroke_width(1),
                            )))?;
                        }
                        end = end.max(high);
                    }
                    let (x, y) = chart.backend_coord(&(end.min(max), middle));
                    root.draw(&Text::new(
                        show(value.share),
                        (x + 6, y),
                        text_style(12, &INK, HPos::Left),
                    ))?;
                }
                None => {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(0.0, top - 0.78), (max, top - 0.22)],
                        SUPPRESSED.filled(),
                    )))?;
                    chart.draw_series(std::iter::once(Text::new(
                        "suppressed".to_owned(),
                        (max * 0.02, middle),
                        text_style(12, &MUTED, HPos::Left),
                    )))?;
                }
            }
            let (x, y) = chart.backend_coord(&(0.0, middle));
            root.draw(&Text::new(
                shorten(&bar.label, longest),
                (x - 8, y),
                text_style(14, &INK, HPos::Right),
            ))?;
        }
        Ok(())
    })
}
