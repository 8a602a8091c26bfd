//! Heatmaps of the plate: one field, a row of stages with their differences, an animation.

use ndarray::{Array2, ArrayView2, s};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::{Canvas, FONT, Picture, TickedRange, Ticks, base64, draw_rgb, drawing};
use crate::error::{HeatError, Result};
use crate::solution::Snapshot;

/// A heatmap of one field: viridis colours, a colour bar, axis labels, the plate's top at the top.
///
/// ```
/// use heatlib::{Problem, RunOptions, Stage, display::Heatmap};
/// let field = Stage::Typed.solve(&Problem::small(), &RunOptions::final_field())?.final_field;
/// let picture = Heatmap::new(field.view()).title("After 999 steps").limits(0.0, 100.0).render()?;
/// assert_eq!(picture.size(), (520, 440));
/// # Ok::<(), heatlib::HeatError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Heatmap {
    /// The field, or every `stride`-th cell of a plate too large to draw cell by cell.
    field: Array2<f64>,
    stride: usize,
    /// The whole field's lowest and highest values, for the colour scale.
    range: (f64, f64),
    title: String,
    limits: Option<(f64, f64)>,
    size: (u32, u32),
}

impl Heatmap {
    /// A heatmap of `field` (row 0 at the bottom), colour limits from its own minimum and maximum.
    pub fn new(field: ArrayView2<'_, f64>) -> Heatmap {
        let (sampled, stride) = sample(field);
        Heatmap {
            field: sampled.to_owned(),
            stride,
            range: value_range([field]),
            title: String::new(),
            limits: None,
            size: (520, 440),
        }
    }

    /// The title above the plate.
    pub fn title(mut self, title: impl Into<String>) -> Heatmap {
        self.title = title.into();
        self
    }

    /// Fixed colour limits, e.g. 0 to 100 as in the webinar: `low` is viridis' dark purple, `high` its yellow.
    pub fn limits(mut self, low: f64, high: f64) -> Heatmap {
        self.limits = Some((low, high));
        self
    }

    /// Picture size in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Heatmap {
        self.size = (width, height);
        self
    }

    /// Draws the heatmap; an error if its colour limits are not finite (an empty or NaN field).
    pub fn render(&self) -> Result<Picture> {
        let limits = checked_limits(self.limits.unwrap_or(self.range))?;
        let (width, height) = checked_size(self.size)?;
        Picture::draw(width, height, |canvas| {
            let (plate, bar) = canvas.split_horizontally(width.saturating_sub(90));
            let sampled = Sampled {
                field: self.field.view(),
                stride: self.stride,
            };
            draw_field(&plate, sampled, &self.title, limits)?;
            draw_colour_bar(&bar, limits)
        })
    }
}

super::drawable!(Heatmap);

fn checked_size((width, height): (u32, u32)) -> Result<(u32, u32)> {
    if !(120..=8000).contains(&width) || !(120..=8000).contains(&height) {
        return Err(HeatError::Picture {
            message: format!(
                "a picture of {width} x {height} pixels: each side must be between 120 and 8000"
            ),
        });
    }
    Ok((width, height))
}

/// The colour scale: the given limits, checked, or the range of all the fields.
fn colour_limits<'a>(
    limits: Option<(f64, f64)>,
    fields: impl IntoIterator<Item = ArrayView2<'a, f64>>,
) -> Result<(f64, f64)> {
    checked_limits(limits.unwrap_or_else(|| value_range(fields)))
}

/// The lowest and highest values of all the fields (infinite limits when they are empty).
fn value_range<'a>(fields: impl IntoIterator<Item = ArrayView2<'a, f64>>) -> (f64, f64) {
    fields
        .into_iter()
        .flat_map(|f| f.into_iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), x| {
            (low.min(x), high.max(x))
        })
}

/// Most cells drawn along a side. A picture has fewer pixels than that, and
/// one rectangle per cell of a huge plate would take minutes to draw.
const MOST_CELLS_PER_SIDE: usize = 1000;

/// Every `stride`-th cell of `field` along both axes, with `stride` as small as keeps
/// the sample within [`MOST_CELLS_PER_SIDE`]: the field itself when it is small enough.
fn sample(field: ArrayView2<'_, f64>) -> (ArrayView2<'_, f64>, usize) {
    let (rows, columns) = field.dim();
    let stride = rows.max(columns).div_ceil(MOST_CELLS_PER_SIDE).max(1);
    (field.slice_move(s![..;stride, ..;stride]), stride)
}

/// A field drawn one rectangle per sampled cell, each `stride` cells wide.
#[derive(Clone, Copy)]
struct Sampled<'a> {
    field: ArrayView2<'a, f64>,
    stride: usize,
}

impl<'a> Sampled<'a> {
    fn of(field: ArrayView2<'a, f64>) -> Sampled<'a> {
        let (field, stride) = sample(field);
        Sampled { field, stride }
    }
}

fn checked_limits((low, high): (f64, f64)) -> Result<(f64, f64)> {
    if !low.is_finite() || !high.is_finite() || low > high {
        return Err(HeatError::Picture {
            message: format!(
                "colour limits {low} to {high}: they must be finite with low <= high (an empty or NaN field has none)"
            ),
        });
    }
    // A flat field still needs a scale to show its one colour on.
    Ok(if low == high {
        (low - 1.0, high + 1.0)
    } else {
        (low, high)
    })
}

/// Viridis colour of `value` on the scale `low..high` (clamped at the ends).
pub fn viridis(value: f64, (low, high): (f64, f64)) -> RGBColor {
    let t = ((value - low) / (high - low)).clamp(0.0, 1.0);
    ViridisRGB::get_color_normalized(t, 0.0, 1.0)
}

fn draw_field(
    area: &Canvas<'_>,
    Sampled { field, stride }: Sampled<'_>,
    title: &str,
    limits: (f64, f64),
) -> Result<()> {
    let (rows, columns) = (field.nrows() * stride, field.ncols() * stride);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 17))
        .margin(8)
        .x_label_area_size(38)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..columns as f64, 0.0..rows as f64)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x-position (column)")
        .y_desc("y-position (row)")
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(drawing)?;
    chart
        .draw_series(field.indexed_iter().map(|((i, j), &value)| {
            let (x, y) = ((j * stride) as f64, (i * stride) as f64);
            let side = stride as f64;
            Rectangle::new(
                [(x, y), (x + side, y + side)],
                viridis(value, limits).filled(),
            )
        }))
        .map_err(drawing)?;
    Ok(())
}

fn draw_colour_bar(area: &Canvas<'_>, (low, high): (f64, f64)) -> Result<()> {
    let ticks = Ticks::new(low, high, false);
    let mut bar = ChartBuilder::on(area)
        .margin_top(36)
        .margin_bottom(46)
        .margin_left(4)
        .margin_right(4)
        .y_label_area_size(0)
        .right_y_label_area_size(52)
        .build_cartesian_2d(0.0..1.0, TickedRange::new(low..high, &ticks))
        .map_err(drawing)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&|v| ticks.label(*v))
        .label_style((FONT, 12))
        .draw()
        .map_err(drawing)?;
    let steps = 128;
    let step = (high - low) / steps as f64;
    bar.draw_series((0..steps).map(|k| {
        let from = low + k as f64 * step;
        Rectangle::new(
            [(0.0, from), (1.0, from + step)],
            viridis(from + step / 2.0, (low, high)).filled(),
        )
    }))
    .map_err(drawing)?;
    Ok(())
}

/// Several fields side by side on one colour scale, each with its title.
pub fn heatmap_row(
    panels: &[(String, ArrayView2<'_, f64>)],
    limits: Option<(f64, f64)>,
) -> Result<Picture> {
    if panels.is_empty() {
        return Err(HeatError::Picture {
            message: "a row of heatmaps needs at least one field".into(),
        });
    }
    let limits = colour_limits(limits, panels.iter().map(|(_, f)| f.view()))?;
    let panel_width = 340;
    let width = panel_width * panels.len() as u32 + 90;
    Picture::draw(width, 340, |canvas| {
        let (plates, bar) = canvas.split_horizontally(width - 90);
        let columns = plates.split_evenly((1, panels.len()));
        for ((title, field), area) in panels.iter().zip(&columns) {
            draw_field(area, Sampled::of(field.view()), title, limits)?;
        }
        draw_colour_bar(&bar, limits)
    })
}

/// An animated GIF of the plate, one frame per snapshot (at most `max_frames`, evenly chosen).
#[derive(Clone, PartialEq, Eq)]
pub struct Animation {
    gif: Vec<u8>,
    frames: usize,
}

impl std::fmt::Debug for Animation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Animation({} frames, {} bytes of GIF)",
            self.frames,
            self.gif.len()
        )
    }
}

impl Animation {
    /// Frames from `snapshots` (as [`RunOptions::snapshots_every`](crate::RunOptions::snapshots_every) asks for them), on one colour scale.
    pub fn from_snapshots(
        snapshots: &[Snapshot],
        limits: Option<(f64, f64)>,
        max_frames: usize,
    ) -> Result<Animation> {
        if snapshots.is_empty() || max_frames == 0 {
            return Err(HeatError::Picture {
                message: "an animation needs at least one snapshot and max_frames >= 1 \
                          (run with RunOptions::snapshots_every(k))"
                    .into(),
            });
        }
        let count = snapshots.len().min(max_frames);
        // Evenly spaced, always keeping the first and the last snapshot.
        let chosen: Vec<&Snapshot> = (0..count)
            .map(|k| {
                &snapshots[if count == 1 {
                    0
                } else {
                    k * (snapshots.len() - 1) / (count - 1)
                }]
            })
            .collect();
        let limits = colour_limits(limits, chosen.iter().map(|s| s.field.view()))?;
        let (width, height) = (360u16, 300u16);
        let mut gif = Vec::new();
        {
            let failed = |error: gif::EncodingError| HeatError::Picture {
                message: format!("GIF encoding: {error}"),
            };
            let mut encoder = gif::Encoder::new(&mut gif, width, height, &[]).map_err(failed)?;
            encoder.set_repeat(gif::Repeat::Infinite).map_err(failed)?;
            for snapshot in &chosen {
                let rgb = draw_rgb(width as u32, height as u32, |canvas| {
                    let (plate, bar) = canvas.split_horizontally(width as u32 - 90);
                    draw_field(
                        &plate,
                        Sampled::of(snapshot.field.view()),
                        &format!("step {}", snapshot.step),
                        limits,
                    )?;
                    draw_colour_bar(&bar, limits)
                })?;
                let mut frame = gif::Frame::from_rgb_speed(width, height, &rgb, 20);
                frame.delay = 12; // hundredths of a second
                encoder.write_frame(&frame).map_err(failed)?;
            }
        }
        Ok(Animation { gif, frames: count })
    }

    /// How many frames the animation has.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The GIF file's bytes.
    pub fn gif_bytes(&self) -> &[u8] {
        &self.gif
    }

    /// Writes the GIF to `path`.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::files::write_bytes(path.as_ref(), &self.gif)
    }
}

impl crate::show::Show for Animation {
    /// The GIF, base64-encoded.
    fn mime_bundle(&self) -> Result<Vec<crate::show::Representation>> {
        Ok(vec![crate::show::Representation::new(
            "image/gif",
            base64(&self.gif),
        )])
    }
}
