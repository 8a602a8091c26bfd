//! A [`Comparison`] drawn: its speed-ups as a chart, its final fields as
//! heatmaps, its rows on the machine's roofline; and a size [`sweep`](super::sweep)
//! against the ceilings. Nothing here measures: the figures come from the
//! comparison or the sweep, as their tables' do.

use ndarray::ArrayView2;

use crate::benchmark::{Comparison, SweepPoint};
use crate::display::{BarChart, Corner, LinePlot, Picture, Series, heatmap_row};
use crate::error::{HeatError, Result};
use crate::roofline::{Ceilings, Pattern};

impl Comparison {
    /// The speed-ups as a bar chart on a log scale, titled with the baseline.
    pub fn speed_up_chart(&self) -> Result<Picture> {
        let baseline = self.baseline().map_or("-", |row| row.name.as_str());
        self.speed_ups()
            .into_iter()
            .fold(
                BarChart::new(format!("Speed-up over {baseline}"), "times faster"),
                |chart, (name, speed_up)| chart.bar(name, speed_up),
            )
            .log_scale(true)
            .render()
    }

    /// Every row's final field side by side on one colour scale, each titled
    /// with its largest difference from the reference: the webinar's "make
    /// sure the algorithms are the same", with the number it lacked.
    pub fn heatmaps(&self) -> Result<Picture> {
        let panels: Vec<(String, ArrayView2<'_, f64>)> = self
            .rows
            .iter()
            .map(|row| {
                (
                    format!("{}: max |diff| {:.1e}", row.name, row.max_abs_diff),
                    row.final_field.view(),
                )
            })
            .collect();
        heatmap_row(&panels, None)
    }

    /// The classic roofline: attainable GFLOP/s against arithmetic intensity
    /// (flops per byte moved), one roof per level of the memory hierarchy (one
    /// thread), the arithmetic ceiling flat on top, and each row as a point.
    /// Needs [`Comparison::set_ceilings`] first.
    pub fn roofline_chart(&self) -> Result<Picture> {
        let ceilings = self.ceilings().ok_or_else(|| HeatError::Picture {
            message: "place the comparison on the machine's ceilings first: \
                      comparison.set_ceilings(&Ceilings::of_this_machine()?)"
                .into(),
        })?;
        let peak = ceilings.gflops(1);
        let (x_low, x_high) = (0.01, 10.0);
        let mut plot = LinePlot::new(
            format!("Roofline, one thread, {}", ceilings.cpu),
            "arithmetic intensity (flops per byte)",
            "GFLOP/s",
        )
        .log_scale(true, true)
        .legend_at(Corner::LowerRight);
        for row in &self.rows {
            let Some(ceiling) = self.ceiling(row) else {
                continue;
            };
            if ceiling.traffic.on_device || row.threads > 1 {
                continue; // the device and the threads have rooflines of their own
            }
            let intensity = ceiling.traffic.flops_per_update / ceiling.traffic.bytes_per_update;
            let gflops = row.mcells_per_s() * ceiling.traffic.flops_per_update / 1e3;
            plot = plot.series(Series::new(row.name.clone(), [(intensity, gflops)]));
        }
        for (level, working_set) in ceilings.level_samples() {
            let bandwidth = ceilings.bandwidth_at(Pattern::Copy, working_set, 1);
            let ridge = (peak / bandwidth).clamp(x_low, x_high);
            plot = plot.limit(Series::new(
                format!("{level}: {bandwidth:.0} GB/s"),
                [
                    (x_low, bandwidth * x_low),
                    (ridge, bandwidth * ridge),
                    (x_high, peak.min(bandwidth * x_high)),
                ],
            ));
        }
        plot.limit(Series::new(
            format!("arithmetic: {peak:.0} GFLOP/s"),
            [(x_low, peak), (x_high, peak)],
        ))
        .render()
    }
}

impl Ceilings {
    /// Achieved M cell updates/s against the working set (log-log), one line per
    /// stage of a [`sweep`](crate::benchmark::sweep), with the ceilings the model
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
