//! Line plots: sweeps, with dashed limits, vertical marks and a legend.

use plotters::prelude::*;

use super::{Axis, LIMIT_GREYS, PALETTE};
use crate::display::{Canvas, FONT, Picture, TickedRange, drawing};
use crate::error::{HeatError, Result};

/// One line of a [`LinePlot`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// `(x, y)` points, joined in this order.
    pub points: Vec<(f64, f64)>,
}

impl Series {
    /// A line called `name` through `points`.
    pub fn new(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Series {
        Series {
            name: name.into(),
            points: points.into_iter().collect(),
        }
    }

    /// Its points where they are drawn: log10 of the values on a log axis.
    fn plotted(&self, x_axis: Axis, y_axis: Axis) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .map(|&(x, y)| (x_axis.plotted(x), y_axis.plotted(y)))
            .collect()
    }
}

/// Lines through points, with a legend: a signal, or time against problem size per stage.
#[derive(Debug, Clone)]
pub struct LinePlot {
    title: String,
    x_label: String,
    y_label: String,
    series: Vec<Series>,
    log_x: bool,
    log_y: bool,
    markers: bool,
    /// Dashed lines without dots: ceilings, limits.
    limits: Vec<Series>,
    /// Vertical lines at an x, labelled: cache sizes.
    marks: Vec<(f64, String)>,
    legend: Corner,
}

/// Where a plot's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    /// Top left (the default).
    UpperLeft,
    /// Top right.
    UpperRight,
    /// Bottom left.
    LowerLeft,
    /// Bottom right.
    LowerRight,
}

impl LinePlot {
    /// An empty plot with its title and axis labels.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> LinePlot {
        LinePlot {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            log_x: false,
            log_y: false,
            markers: true,
            limits: Vec::new(),
            marks: Vec::new(),
            legend: Corner::UpperLeft,
        }
    }

    /// Puts the legend in another corner, away from the lines.
    pub fn legend_at(mut self, corner: Corner) -> LinePlot {
        self.legend = corner;
        self
    }

    /// Adds a dashed line without dots, its name written along it: a ceiling or a limit.
    pub fn limit(mut self, series: Series) -> LinePlot {
        self.limits.push(series);
        self
    }

    /// Adds a labelled vertical line at `x`: where a cache ends, say.
    pub fn mark(mut self, x: f64, label: impl Into<String>) -> LinePlot {
        self.marks.push((x, label.into()));
        self
    }

    /// Adds a line.
    pub fn series(mut self, series: Series) -> LinePlot {
        self.series.push(series);
        self
    }

    /// Logarithmic axes (for sweeps over sizes and times).
    pub fn log_scale(mut self, log_x: bool, log_y: bool) -> LinePlot {
        self.log_x = log_x;
        self.log_y = log_y;
        self
    }

    /// Dots on the points (default on; off for dense signals).
    pub fn markers(mut self, markers: bool) -> LinePlot {
        self.markers = markers;
        self
    }

    /// Draws the plot; an error if there is no point, or a value is not positive on a log axis.
    pub fn render(&self) -> Result<Picture> {
        let points = || {
            self.series
                .iter()
                .chain(&self.limits)
                .flat_map(|s| s.points.iter())
        };
        if points().next().is_none() {
            return Err(HeatError::Picture {
                message: "a line plot needs at least one point".into(),
            });
        }
        let (x_axis, y_axis) = (Axis { log: self.log_x }, Axis { log: self.log_y });
        let x_range = x_axis.range(points().map(|p| p.0), "x values")?;
        let y_range = y_axis.range(points().map(|p| p.1), "y values")?;
        Picture::draw(720, 480, |canvas| {
            self.paint(canvas, (x_axis, x_range), (y_axis, y_range))
        })
    }

    fn paint(
        &self,
        canvas: &Canvas<'_>,
        (x_axis, x_range): (Axis, std::ops::Range<f64>),
        (y_axis, y_range): (Axis, std::ops::Range<f64>),
    ) -> Result<()> {
        let (x_ticks, y_ticks) = (x_axis.ticks(&x_range), y_axis.ticks(&y_range));
        let (y_low, y_high) = (y_range.start, y_range.end);
        let mut chart = ChartBuilder::on(canvas)
            .caption(&self.title, (FONT, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(
                TickedRange::new(x_range, &x_ticks),
                TickedRange::new(y_range, &y_ticks),
            )
            .map_err(drawing)?;
        let with_scale = |label: &str, log: bool| {
            if log {
                format!("{label} (log scale)")
            } else {
                label.to_string()
            }
        };
        chart
            .configure_mesh()
            .x_desc(with_scale(&self.x_label, self.log_x))
            .y_desc(with_scale(&self.y_label, self.log_y))
            .x_label_formatter(&|v| x_ticks.label(*v))
            .y_label_formatter(&|v| y_ticks.label(*v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(drawing)?;
        for (k, series) in self.series.iter().enumerate() {
            let colour = PALETTE[k % PALETTE.len()];
            let plotted = series.plotted(x_axis, y_axis);
            chart
                .draw_series(LineSeries::new(plotted.clone(), colour.stroke_width(2)))
                .map_err(drawing)?
                .label(&series.name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            if self.markers {
                chart
                    .draw_series(plotted.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                    .map_err(drawing)?;
            }
        }
        for (k, limit) in self.limits.iter().enumerate() {
            let colour = LIMIT_GREYS[k % LIMIT_GREYS.len()];
            let plotted = limit.plotted(x_axis, y_axis);
            // Named a quarter along its first segment: clear of the axis, and of
            // the other limits where they start together.
            let label_at = match plotted.as_slice() {
                [] => continue,
                [only] => *only,
                [a, b, ..] => (a.0 + 0.25 * (b.0 - a.0), a.1 + 0.25 * (b.1 - a.1)),
            };
            chart
                .draw_series(DashedLineSeries::new(plotted, 8, 5, colour.stroke_width(2)))
                .map_err(drawing)?;
            // Named along the line: a legend of greys would not tell them apart.
            let anchor = plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Bottom,
            );
            chart
                .draw_series([Text::new(
                    limit.name.clone(),
                    label_at,
                    (FONT, 12).into_font().color(&colour).pos(anchor),
                )])
                .map_err(drawing)?;
        }
        for (x, label) in &self.marks {
            let x = x_axis.plotted(*x);
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, y_low), (x, y_high)],
                    4,
                    4,
                    RGBColor(150, 150, 150).stroke_width(1),
                ))
                .map_err(drawing)?;
            chart
                .draw_series([Text::new(
                    format!(" {label}"),
                    (x, y_high - 0.04 * (y_high - y_low)),
                    (FONT, 12).into_font().color(&RGBColor(90, 90, 90)),
                )])
                .map_err(drawing)?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(match self.legend {
                Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
                Corner::UpperRight => SeriesLabelPosition::UpperRight,
                Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
                Corner::LowerRight => SeriesLabelPosition::LowerRight,
            })
            .draw()
            .map_err(drawing)?;
        Ok(())
    }
}

crate::display::drawable!(LinePlot);
