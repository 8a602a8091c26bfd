//! Pictures for the notebooks: heatmaps, animations and charts, shown inline by evcxr.
//!
//! Every picture type implements [`Show`], so a notebook cell
//! that ends with one shows it (as `image/png`, or `image/gif` for an
//! animation). Pictures are drawn with plotters into memory and encoded as PNG or
//! GIF; the text uses DejaVu Sans compiled into the library, so labels appear
//! on a machine with no fonts installed.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{HeatError, Result};
use crate::show::{Representation, Show};

/// `save` and [`Show`] for a type with `render(&self) -> Result<Picture>`.
macro_rules! drawable {
    ($type:ty) => {
        impl $type {
            /// Writes the picture as a PNG file.
            pub fn save(&self, path: impl AsRef<std::path::Path>) -> crate::error::Result<()> {
                self.render()?.save(path)
            }
        }

        impl crate::show::Show for $type {
            fn mime_bundle(&self) -> crate::error::Result<Vec<crate::show::Representation>> {
                self.render()?.mime_bundle()
            }
        }
    };
}
pub(crate) use drawable;

mod charts;
mod heatmap;
mod ticks;

pub use charts::{BarChart, Corner, LinePlot, Series};
pub use heatmap::{Animation, Heatmap, heatmap_row, viridis};
pub(crate) use ticks::{TickedRange, Ticks};

/// The font family every picture uses.
const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// A still picture, encoded as PNG.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    png: Vec<u8>,
    width: u32,
    height: u32,
}

impl Picture {
    /// Draws into a white canvas of `width` x `height` pixels, then encodes it.
    pub(crate) fn draw(
        width: u32,
        height: u32,
        paint: impl FnOnce(&Canvas<'_>) -> Result<()>,
    ) -> Result<Picture> {
        let rgb = draw_rgb(width, height, paint)?;
        Ok(Picture {
            png: encode_png(&rgb, width, height)?,
            width,
            height,
        })
    }

    /// The PNG file's bytes.
    pub fn png_bytes(&self) -> &[u8] {
        &self.png
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Writes the PNG to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::files::write_bytes(path.as_ref(), &self.png)
    }
}

impl Show for Picture {
    /// The PNG, base64-encoded.
    fn mime_bundle(&self) -> Result<Vec<Representation>> {
        Ok(vec![Representation::new("image/png", base64(&self.png))])
    }
}

/// The drawing area pictures are painted on.
pub(crate) type Canvas<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Paints a white `width` x `height` canvas and returns its RGB pixels.
pub(crate) fn draw_rgb(
    width: u32,
    height: u32,
    paint: impl FnOnce(&Canvas<'_>) -> Result<()>,
) -> Result<Vec<u8>> {
    register_font();
    let mut rgb =
        crate::memory::try_filled(width as usize * height as usize * 3, 255u8, "a picture")?;
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        paint(&area)?;
        area.present().map_err(drawing)?;
    }
    Ok(rgb)
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Picture({} x {} PNG, {} bytes)",
            self.width,
            self.height,
            self.png.len()
        )
    }
}

pub(crate) fn drawing<E: std::error::Error + Send + Sync>(
    error: DrawingAreaErrorKind<E>,
) -> HeatError {
    HeatError::Picture {
        message: error.to_string(),
    }
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let failed = |error: png::EncodingError| HeatError::Picture {
        message: format!("PNG encoding: {error}"),
    };
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(rgb).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(png)
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A short number for labels: 3 significant digits, scientific when tiny or huge.
pub(crate) fn short_number(x: f64) -> String {
    let magnitude = x.abs();
    if x == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&magnitude) {
        format!("{x:.1e}")
    } else if magnitude >= 100.0 {
        format!("{x:.0}")
    } else if magnitude >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}
