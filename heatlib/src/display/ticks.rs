//! Axis ticks at round values, every label of an axis written alike, and a
//! plotters range that puts its ticks exactly there.

/// Tick marks at round values (1, 2, 5 times a power of ten), all labelled in one format.
///
/// Positions are where the values are plotted: the value itself on a linear
/// axis, its log10 on a logarithmic one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ticks {
    /// Plotted positions of the ticks.
    pub(crate) positions: Vec<f64>,
    log: bool,
    format: TickFormat,
}

/// How every label of one axis is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TickFormat {
    /// The same number of decimals for all (a linear axis: 0.0, 0.2, ..., 1.0).
    Decimals(usize),
    /// Each round value exactly, no trailing zeros (a log axis: 0.1, 1, 10, 100).
    Exact,
    /// Powers of ten as 1e6, for very large or very small values.
    Scientific,
}

impl Ticks {
    /// Ticks for the plotted range `low..high`, of a logarithmic axis if `log`.
    pub(crate) fn new(low: f64, high: f64, log: bool) -> Ticks {
        let mut values = if log {
            log_ticks(low, high)
        } else {
            Vec::new()
        };
        let mut exact = log;
        if values.len() < 2 {
            let (from, to) = if log {
                (10f64.powf(low), 10f64.powf(high))
            } else {
                (low, high)
            };
            values = linear_ticks(from, to);
            exact = false;
        }
        let largest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let smallest = values
            .iter()
            .filter(|v| **v != 0.0)
            .fold(f64::INFINITY, |m, v| m.min(v.abs()));
        let format = if largest >= 1e6 || smallest < 1e-3 {
            TickFormat::Scientific
        } else if exact {
            TickFormat::Exact
        } else {
            TickFormat::Decimals(decimals_for(&values))
        };
        Ticks {
            positions: values
                .iter()
                .map(|&v| if log { v.log10() } else { v })
                .collect(),
            log,
            format,
        }
    }

    /// The label of the tick at plotted position `position`.
    pub(crate) fn label(&self, position: f64) -> String {
        let value = if self.log {
            10f64.powf(position)
        } else {
            position
        };
        match self.format {
            TickFormat::Decimals(decimals) => format!("{value:.decimals$}"),
            TickFormat::Exact => {
                let decimals = decimals_for(&[value]);
                format!("{value:.decimals$}")
            }
            TickFormat::Scientific => format!("{value:.0e}"),
        }
    }
}

/// The fewest decimals (up to 3) that write every one of `values` exactly.
fn decimals_for(values: &[f64]) -> usize {
    (0..=3)
        .find(|&d| {
            let scale = 10f64.powi(d as i32);
            values
                .iter()
                .all(|v| ((v * scale).round() - v * scale).abs() < 1e-6)
        })
        .unwrap_or(3)
}

/// A plotted range whose ticks are exactly `ticks` (plotters would choose its own).
#[derive(Clone)]
pub(crate) struct TickedRange {
    inner: plotters::coord::types::RangedCoordf64,
    ticks: Vec<f64>,
}

impl TickedRange {
    pub(crate) fn new(range: std::ops::Range<f64>, ticks: &Ticks) -> TickedRange {
        TickedRange {
            inner: range.into(),
            ticks: ticks.positions.clone(),
        }
    }
}

impl plotters::coord::ranged1d::Ranged for TickedRange {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// 1, 2 and 5 times each power of ten inside the plotted log range (only the
/// powers of ten themselves when the range spans more than three decades).
fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    let multiples: &[f64] = if high - low > 3.0 {
        &[1.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    let (first, last) = (low.floor() as i32, high.ceil() as i32);
    (first..=last)
        .flat_map(|power| multiples.iter().map(move |m| m * 10f64.powi(power)))
        .filter(|v| (low..=high).contains(&v.log10()))
        .collect()
}

/// Four to eight values at a round step (1, 2 or 5 times a power of ten) from `low` to `high`.
fn linear_ticks(low: f64, high: f64) -> Vec<f64> {
    let span = (high - low).abs().max(1e-12);
    let power = 10f64.powf((span / 5.0).log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|step| span / step <= 7.0)
        .unwrap_or(10.0 * power);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::Ticks;

    fn labels(low: f64, high: f64, log: bool) -> Vec<String> {
        let ticks = Ticks::new(low, high, log);
        ticks.positions.iter().map(|&p| ticks.label(p)).collect()
    }

    #[test]
    fn log_ticks_are_round_and_written_alike() {
        // log10 of 30 to 7000: 1.48 to 3.85.
        assert_eq!(
            labels(30f64.log10(), 7000f64.log10(), true),
            ["50", "100", "200", "500", "1000", "2000", "5000"]
        );
        assert_eq!(
            labels(-1.2, 4.6, true),
            ["0.1", "1", "10", "100", "1000", "10000"]
        );
        assert_eq!(
            labels(5.5, 8.2, true),
            ["5e5", "1e6", "2e6", "5e6", "1e7", "2e7", "5e7", "1e8"]
        );
    }

    #[test]
    fn linear_ticks_share_one_format() {
        assert_eq!(
            labels(0.0, 100.0, false),
            ["0", "20", "40", "60", "80", "100"]
        );
        assert_eq!(
            labels(0.0, 1.0, false),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(
            labels(-20.0, 35.0, false),
            ["-20", "-10", "0", "10", "20", "30"]
        );
    }
}
