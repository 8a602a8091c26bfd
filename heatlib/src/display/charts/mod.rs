//! Bar charts of timings and speed-ups, line plots of sweeps.
//!
//! Logarithmic axes are drawn by plotting log10 of the values on a linear
//! axis and labelling the ticks with the values themselves.

use plotters::prelude::*;

use super::Ticks;
use crate::error::{HeatError, Result};

mod bar_chart;
mod line_plot;

pub use bar_chart::BarChart;
pub use line_plot::{Corner, LinePlot, Series};

/// Colours for bars and lines (Tableau 10, which stays legible in print).
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Dashed limits, darkest first.
pub(super) const LIMIT_GREYS: [RGBColor; 4] = [
    RGBColor(0, 0, 0),
    RGBColor(80, 80, 80),
    RGBColor(125, 125, 125),
    RGBColor(165, 165, 165),
];

/// An axis that is linear or logarithmic.
#[derive(Debug, Clone, Copy)]
pub(super) struct Axis {
    log: bool,
}

impl Axis {
    fn plotted(self, value: f64) -> f64 {
        if self.log { value.log10() } else { value }
    }

    /// Ticks at round values over the plotted `range`, one label format for all.
    fn ticks(self, range: &std::ops::Range<f64>) -> Ticks {
        Ticks::new(range.start, range.end, self.log)
    }

    /// The plotted range covering `values`, with some room above.
    fn range(
        self,
        values: impl IntoIterator<Item = f64>,
        what: &str,
    ) -> Result<std::ops::Range<f64>> {
        let (low, high) = values
            .into_iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            });
        if !low.is_finite() || !high.is_finite() || (self.log && low <= 0.0) {
            return Err(HeatError::Picture {
                message: format!(
                    "cannot plot {what} from {low} to {high}: values must be finite{}",
                    if self.log {
                        " and above 0 on a log scale"
                    } else {
                        ""
                    }
                ),
            });
        }
        let (low, high) = (self.plotted(low), self.plotted(high));
        let pad = ((high - low) * 0.08).max(if self.log {
            0.15
        } else {
            1e-9_f64.max(high.abs() * 0.05)
        });
        let floor = if self.log { low - pad } else { low.min(0.0) };
        Ok(floor..high + pad)
    }
}
