//! The speed of light drawn: a size sweep against the bandwidth ceilings.
//! (The classic roofline, with a comparison's stages as points, is
//! [`Comparison::roofline_chart`](crate::Comparison::roofline_chart).)

use crate::display::{Corner, LinePlot, Picture, Series};
use crate::error::{HeatError, Result};
use crate::roofline::{Ceilings, SweepPoint};

impl Ceilings {
    /// Achieved M cell updates/s against the working set (log-log), one line per
    /// stage of a [`sweep`](crate::roofline::sweep), with the ceilings the model
    /// predicts for a two-buffer step (one thread and all cores) dashed, and
    /// where each cache ends marked.
    pub fn sweep_chart(&self, points: &[SweepPoint]) -> Result<Picture> {
        let ceilings = self;
        let kib = |bytes: u64| bytes as f64 / 1024.0;
        let mut stages: Vec<&str> = Vec::new();
        for point in points {
            if !stages.contains(&point.stage.as_str()) {
                stages.push(&point.stage);
            }
        }
        let mut plot = LinePlot::new(
            format!("Speed against plate size, {}", ceilings.cpu),
            "working set: two fields (KiB)",
            "M cell updates/s",
        )
        .log_scale(true, true);
        for stage in &stages {
            plot = plot.series(Series::new(
                *stage,
                points
                    .iter()
                    .filter(|p| &p.stage == stage)
                    .map(|p| (kib(p.working_set), p.mcells_per_s)),
            ));
        }
        let (low, high) = points
            .iter()
            .map(|p| p.working_set)
            .fold((u64::MAX, 0), |(l, h), w| (l.min(w), h.max(w)));
        if low > high {
            return Err(HeatError::Picture {
                message: "a sweep chart needs at least one point".into(),
            });
        }
        // Each stage's own ceiling, unless one drawn already is within a quarter of
        // it everywhere (vectorized's differs from typed's by a load): two dashed
        // lines that close would only hide each other's names.
        let mut drawn: Vec<Vec<(f64, f64)>> = Vec::new();
        for stage in &stages {
            let ceiling: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| &p.stage == stage)
                .map(|p| (kib(p.working_set), p.ceiling.mcells_per_s))
                .collect();
            let close = |other: &Vec<(f64, f64)>| {
                other.len() == ceiling.len()
                    && other
                        .iter()
                        .zip(&ceiling)
                        .all(|(a, b)| (a.1 / b.1 - 1.0).abs() < 0.25)
            };
            if !drawn.iter().any(close) {
                plot = plot.limit(Series::new(format!("ceiling of {stage}"), ceiling.clone()));
                drawn.push(ceiling);
            }
        }
        for cache in &ceilings.caches {
            plot = plot.mark(kib(cache.bytes), cache.name());
        }
        plot.legend_at(Corner::LowerLeft).render()
    }
}
