//! Bar charts: timings and speed-ups, one bar per row, optionally in two series.

use plotters::prelude::*;

use super::{Axis, PALETTE};
use crate::display::{FONT, Picture, TickedRange, drawing, short_number};
use crate::error::{HeatError, Result};

/// A bar per label, with its figure written on it: stage timings or speed-ups.
///
/// ```
/// use heatlib::display::BarChart;
/// let chart = BarChart::new("Speed-up over pure Python", "times faster")
///     .bar("typed", 1948.0)
///     .bar("vectorized", 1397.0)
///     .log_scale(true);
/// assert!(chart.render().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct BarChart {
    title: String,
    value_label: String,
    /// Label, value, and the palette colour (a series' index) if one was chosen.
    bars: Vec<(String, f64, Option<usize>)>,
    log: bool,
}

impl BarChart {
    /// An empty chart: its title, and what the bars measure (the value axis' label).
    pub fn new(title: impl Into<String>, value_label: impl Into<String>) -> BarChart {
        BarChart {
            title: title.into(),
            value_label: value_label.into(),
            bars: Vec::new(),
            log: false,
        }
    }

    /// Adds a bar, labelled under it and with its value above it.
    pub fn bar(mut self, label: impl Into<String>, value: f64) -> BarChart {
        self.bars.push((label.into(), value, None));
        self
    }

    /// Adds a bar coloured as series `series` (the same colour for every bar of
    /// a series), instead of a colour of its own.
    pub fn bar_in_series(
        mut self,
        label: impl Into<String>,
        value: f64,
        series: usize,
    ) -> BarChart {
        self.bars.push((label.into(), value, Some(series)));
        self
    }

    /// A logarithmic value axis, for figures spanning several orders of magnitude.
    pub fn log_scale(mut self, log: bool) -> BarChart {
        self.log = log;
        self
    }

    /// Draws the chart; an error if there is no bar, or a value is not a positive number on a log scale.
    pub fn render(&self) -> Result<Picture> {
        if self.bars.is_empty() {
            return Err(HeatError::Picture {
                message: "a bar chart needs at least one bar".into(),
            });
        }
        let axis = Axis { log: self.log };
        let mut y_range = axis.range(self.bars.iter().map(|(_, v, _)| *v), "bars")?;
        if self.log {
            // Bars of ratios grow from 1x, so that their heights compare: an axis
            // cut just below the smallest bar would make a 10x bar look 100 times taller.
            y_range.start = y_range.start.min(axis.plotted(1.0));
        }
        let base = y_range.start;
        let y_ticks = axis.ticks(&y_range);
        // Each bar as wide as its label (about 7 pixels a character at the label's size).
        let longest = self.bars.iter().map(|(label, _, _)| label.chars().count());
        let per_bar = longest
            .max()
            .map_or(110, |chars| (7 * chars as u32 + 20).max(110));
        let width = (140 + per_bar * self.bars.len() as u32).max(480);
        Picture::draw(width, 420, |canvas| {
            let mut chart = ChartBuilder::on(canvas)
                .caption(&self.title, (FONT, 18))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(
                    -0.5..self.bars.len() as f64 - 0.5,
                    TickedRange::new(y_range.clone(), &y_ticks),
                )
                .map_err(drawing)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(self.bars.len())
                .x_label_formatter(&|x| {
                    let k = x.round();
                    match self.bars.get(k as usize) {
                        Some((label, _, _)) if (x - k).abs() < 1e-6 && k >= 0.0 => label.clone(),
                        _ => String::new(),
                    }
                })
                .y_desc(if self.log {
                    format!("{} (log scale)", self.value_label)
                } else {
                    self.value_label.clone()
                })
                .y_label_formatter(&|v| y_ticks.label(*v))
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 13))
                .draw()
                .map_err(drawing)?;
            for (k, (_, value, series)) in self.bars.iter().enumerate() {
                let (x, top) = (k as f64, axis.plotted(*value));
                let colour = PALETTE[series.unwrap_or(k) % PALETTE.len()];
                chart
                    .draw_series([Rectangle::new(
                        [(x - 0.35, base), (x + 0.35, top)],
                        colour.filled(),
                    )])
                    .map_err(drawing)?;
                chart
                    .draw_series([Text::new(
                        short_number(*value),
                        (x - 0.3, top),
                        (FONT, 13).into_font().color(&BLACK).pos(
                            plotters::style::text_anchor::Pos::new(
                                plotters::style::text_anchor::HPos::Left,
                                plotters::style::text_anchor::VPos::Bottom,
                            ),
                        ),
                    )])
                    .map_err(drawing)?;
            }
            Ok(())
        })
    }
}

crate::display::drawable!(BarChart);
