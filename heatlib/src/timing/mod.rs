//! Honest timings of any work: warm-up first, then repeats, reported as median and spread.
//!
//! The webinar timed single runs with no warm-up; a first run pays for page
//! faults, cold caches and (for a JIT) compilation, so it is kept apart here.
//! [`timeit`] is IPython's `%timeit` for a notebook cell; timing a stage or a
//! step of your own on a problem is [`benchmark`](crate::benchmark)'s job.

use std::time::Instant;

use crate::error::{HeatError, Result};

mod compile;

pub use compile::compile_seconds;

/// Seconds taken by each repeat of one piece of work.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Every repeat, in the order they ran (warm-up excluded).
    pub runs: Vec<f64>,
}

impl Timing {
    /// The middle run (mean of the two middle ones for an even count).
    pub fn median(&self) -> f64 {
        let mut sorted = self.runs.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }

    /// The fastest run.
    pub fn min(&self) -> f64 {
        self.runs.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The slowest run.
    pub fn max(&self) -> f64 {
        self.runs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// The average run.
    pub fn mean(&self) -> f64 {
        self.runs.iter().sum::<f64>() / self.runs.len() as f64
    }

    /// Sample standard deviation (0 for a single run).
    pub fn std_dev(&self) -> f64 {
        let n = self.runs.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let squares: f64 = self.runs.iter().map(|t| (t - mean).powi(2)).sum();
        (squares / (n - 1) as f64).sqrt()
    }
}

/// The most timed (or warm-up) runs one measurement takes: enough for any
/// median, and a bound on a mistyped count (a learner's extra zeros, or `usize::MAX`).
pub const MAX_REPEAT: usize = 1000;

/// Refuses a run count of 0 or more than [`MAX_REPEAT`], with a message that says why.
pub(crate) fn check_repeat(repeat: usize) -> Result<()> {
    match repeat {
        0 => Err(HeatError::NoRepeats),
        1..=MAX_REPEAT => Ok(()),
        _ => Err(HeatError::TooManyRepeats {
            repeat,
            max: MAX_REPEAT,
        }),
    }
}

/// Runs `work` `warmup` times untimed, then `repeat` times timed (at least
/// once); returns the timings and the last result. Stops at the first error;
/// refuses more than [`MAX_REPEAT`] warm-up or timed runs.
pub fn time_runs<T>(
    warmup: usize,
    repeat: usize,
    mut work: impl FnMut() -> Result<T>,
) -> Result<(Timing, T)> {
    check_repeat(warmup.max(1))?;
    check_repeat(repeat.max(1))?;
    let mut last = None;
    for _ in 0..warmup {
        last = Some(work()?);
    }
    let mut runs = Vec::with_capacity(repeat);
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let result = work()?;
        runs.push(start.elapsed().as_secs_f64());
        // Dropping the previous result outside the timed region keeps frees out of the figure.
        last = Some(result);
    }
    let last = last.expect("at least one timed run happened");
    Ok((Timing { runs }, last))
}

/// What [`timeit`] measured: IPython's `%timeit`, as a value.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeIt {
    /// Seconds per loop, one entry per run.
    pub per_loop: Timing,
    /// Loops in each run.
    pub loops: usize,
}

impl TimeIt {
    /// Seconds per loop, in the middle run.
    pub fn median(&self) -> f64 {
        self.per_loop.median()
    }
    /// Seconds per loop, averaged over the runs (what IPython prints first).
    pub fn mean(&self) -> f64 {
        self.per_loop.mean()
    }
    /// Spread of the seconds per loop over the runs.
    pub fn std_dev(&self) -> f64 {
        self.per_loop.std_dev()
    }
    /// Seconds per loop, in the fastest run.
    pub fn min(&self) -> f64 {
        self.per_loop.min()
    }
    /// Seconds per loop, in the slowest run.
    pub fn max(&self) -> f64 {
        self.per_loop.max()
    }
}

impl std::fmt::Display for TimeIt {
    /// `12.3 ms ± 0.4 ms per loop (mean ± std. dev. of 7 runs, 10 loops each)`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let runs = self.per_loop.runs.len();
        write!(
            f,
            "{} ± {} per loop (mean ± std. dev. of {runs} run{}, {} loop{} each)",
            format_seconds(self.mean()),
            format_seconds(self.std_dev()),
            if runs == 1 { "" } else { "s" },
            self.loops,
            if self.loops == 1 { "" } else { "s" },
        )
    }
}

/// A duration the way IPython writes it: 3 significant digits in s, ms, µs or ns.
pub fn format_seconds(s: f64) -> String {
    let (value, unit) = match s {
        _ if s >= 1.0 => (s, "s"),
        _ if s >= 1e-3 => (s * 1e3, "ms"),
        _ if s >= 1e-6 => (s * 1e6, "µs"),
        _ => (s * 1e9, "ns"),
    };
    let decimals = match value {
        _ if value >= 100.0 => 0,
        _ if value >= 10.0 => 1,
        _ => 2,
    };
    format!("{value:.decimals$} {unit}")
}

/// Runs in a [`timeit`] measurement, as IPython.
const TIMEIT_RUNS: usize = 7;
/// A run should last at least this long, so the clock's resolution does not matter.
const TIMEIT_MIN_RUN_S: f64 = 0.2;
/// Past this, a measurement says what it is doing as it goes.
const PROGRESS_AFTER_S: f64 = 2.0;

/// Times `work` as IPython's `%timeit` does: as many loops per run
/// (1, 2, 5, 10, 20, ...) as make a run last 0.2 s, then 7 such runs.
/// Long measurements print progress. For work that can fail, see [`try_timeit`].
///
/// ```
/// let result = heatlib::timeit(|| (0..1000u64).sum::<u64>());
/// println!("{result}"); // e.g. "312 ns ± 4.10 ns per loop (mean ± std. dev. of 7 runs, 1000000 loops each)"
/// assert_eq!(result.per_loop.runs.len(), 7);
/// ```
pub fn timeit<T>(mut work: impl FnMut() -> T) -> TimeIt {
    let outcome: Result<TimeIt, std::convert::Infallible> = try_timeit(|| Ok(work()));
    match outcome {
        Ok(measured) => measured,
    }
}

/// [`timeit`] for work that returns a `Result`: stops at the first error and returns it.
pub fn try_timeit<T, E>(
    mut work: impl FnMut() -> std::result::Result<T, E>,
) -> std::result::Result<TimeIt, E> {
    // Calibrate as IPython does: 1, 2, 5, 10, 20, ... loops until a run lasts long enough.
    // These runs also warm up caches and anything built on first use.
    let mut loops: usize = 1;
    let calibration = loop {
        let start = Instant::now();
        for _ in 0..loops {
            std::hint::black_box(work()?);
        }
        let took = start.elapsed().as_secs_f64();
        if took >= TIMEIT_MIN_RUN_S || loops >= 1_000_000_000 {
            break took / loops as f64;
        }
        let decade = 10usize.pow(loops.ilog10());
        loops = match loops / decade {
            1 => 2 * decade,
            2 => 5 * decade,
            _ => 10 * decade,
        };
    };
    let expected = calibration * (loops * TIMEIT_RUNS) as f64;
    let talk = expected > PROGRESS_AFTER_S;
    if talk {
        println!(
            "timing {TIMEIT_RUNS} runs of {loops} loop{}, about {} in all...",
            if loops == 1 { "" } else { "s" },
            format_seconds(expected)
        );
    }
    let mut per_loop = Vec::with_capacity(TIMEIT_RUNS);
    for run in 1..=TIMEIT_RUNS {
        let start = Instant::now();
        for _ in 0..loops {
            std::hint::black_box(work()?);
        }
        per_loop.push(start.elapsed().as_secs_f64() / loops as f64);
        if talk {
            println!(
                "  run {run}/{TIMEIT_RUNS}: {} per loop",
                format_seconds(per_loop[run - 1])
            );
        }
    }
    Ok(TimeIt {
        per_loop: Timing { runs: per_loop },
        loops,
    })
}

/// The JIT lesson in numbers: the first call alone, then the steady state.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstAndLater {
    /// Seconds the first call took (compilation, if any, included).
    pub first_s: f64,
    /// The calls after the first, timed as [`timeit`] does.
    pub later: TimeIt,
}

impl std::fmt::Display for FirstAndLater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "first call: {}; later calls: {} (the first call paid {} more)",
            format_seconds(self.first_s),
            self.later,
            format_seconds((self.first_s - self.later.median()).max(0.0))
        )
    }
}

/// Times the first call of `work` on its own, then the later calls with [`try_timeit`].
/// Call it before anything else has run `work`, or the first call is not the first.
pub fn first_and_later<T, E>(
    mut work: impl FnMut() -> std::result::Result<T, E>,
) -> std::result::Result<FirstAndLater, E> {
    let start = Instant::now();
    std::hint::black_box(work()?);
    let first_s = start.elapsed().as_secs_f64();
    Ok(FirstAndLater {
        first_s,
        later: try_timeit(work)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics() {
        let timing = Timing {
            runs: vec![3.0, 1.0, 2.0, 10.0],
        };
        assert_eq!(timing.median(), 2.5);
        assert_eq!(timing.min(), 1.0);
        assert_eq!(timing.max(), 10.0);
        assert_eq!(timing.mean(), 4.0);
        assert!((timing.std_dev() - (50.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn warm_up_runs_are_not_timed() {
        let mut calls = 0;
        let (timing, last) = time_runs(2, 3, || {
            calls += 1;
            Ok(calls)
        })
        .unwrap();
        assert_eq!(timing.runs.len(), 3);
        assert_eq!(last, 5);
    }

    #[test]
    fn timeit_reads_like_ipython() {
        let measured = timeit(|| std::hint::black_box(3u64).pow(2));
        assert_eq!(measured.per_loop.runs.len(), 7);
        assert!(
            measured.loops >= 1000,
            "a trivial loop needs many loops per run: {}",
            measured.loops
        );
        let text = measured.to_string();
        assert!(
            text.contains("per loop (mean ± std. dev. of 7 runs, ")
                && text.contains(" loops each)"),
            "{text}"
        );
    }

    #[test]
    fn timeit_takes_one_loop_for_slow_work_and_stops_at_errors() {
        // A sleep lasts at least as long as asked, however busy the machine:
        // one call already exceeds the 0.2 s a run must last, so one loop it is.
        let slow = try_timeit(|| {
            std::thread::sleep(std::time::Duration::from_millis(250));
            Ok::<_, String>(())
        })
        .unwrap();
        assert_eq!(slow.loops, 1);
        assert!(slow.min() >= 0.25);
        let mut calls = 0;
        let failed = try_timeit(|| {
            calls += 1;
            if calls < 3 {
                Ok(())
            } else {
                Err("third call failed")
            }
        });
        assert_eq!(failed.unwrap_err(), "third call failed");
    }

    #[test]
    fn durations_are_written_in_the_right_unit() {
        assert_eq!(format_seconds(1.5), "1.50 s");
        assert_eq!(format_seconds(0.0123), "12.3 ms");
        assert_eq!(format_seconds(0.000_456_7), "457 µs");
        assert_eq!(format_seconds(4.2e-9), "4.20 ns");
    }

    #[test]
    fn first_call_is_timed_alone() {
        let mut first = true;
        let measured = first_and_later(|| {
            if std::mem::take(&mut first) {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Ok::<_, ()>(())
        })
        .unwrap();
        assert!(
            measured.first_s >= 0.05 && measured.later.max() < 0.01,
            "{measured}"
        );
        assert!(measured.to_string().starts_with("first call: "));
    }
}
