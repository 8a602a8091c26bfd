//! Pictures for the notebooks: heatmaps, animations and charts, shown inline by evcxr.
//!
//! Every picture type has an `evcxr_display` method, so a notebook cell that
//! ends with one shows it: evcxr prints what lies between
//! `EVCXR_BEGIN_CONTENT <mime type>` and `EVCXR_END_CONTENT` as that kind of
//! output. Pictures are drawn with plotters into memory and encoded as PNG or
//! GIF; the text uses DejaVu Sans compiled into the library, so labels appear
//! on a machine with no fonts installed.

use std::io::Write;
use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{HeatError, Result};

/// `save` and `evcxr_display` for a type with `render(&self) -> Result<Picture>`.
/// (evcxr looks for an inherent `evcxr_display` method, so a trait would not do.)
macro_rules! drawable {
    ($type:ty) => {
        impl $type {
            /// Writes the picture as a PNG file.
            pub fn save(&self, path: impl AsRef<std::path::Path>) -> crate::error::Result<()> {
                self.render()?.save(path)
            }

            /// Shows the picture in the evcxr Jupyter kernel (or the reason it cannot be drawn).
            pub fn evcxr_display(&self) {
                match self.render() {
                    Ok(picture) => picture.evcxr_display(),
                    Err(error) => crate::display::print_flushed(&format!(
                        "cannot draw this picture: {error}\n"
                    )),
                }
            }
        }
    };
}
use drawable;

mod charts;
mod heatmap;
mod table;

pub use charts::{BarChart, LinePlot, Series};
pub use heatmap::{Animation, Heatmap, heatmap_row, viridis};

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

/// The framing evcxr reads from a cell's output: one MIME type, then the content.
pub fn evcxr_content(mime_type: &str, content: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT {mime_type}\n{content}\nEVCXR_END_CONTENT\n")
}

pub(crate) fn print_flushed(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
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
        write_file(path.as_ref(), &self.png)
    }

    /// What evcxr shows inline: the PNG, base64-encoded.
    pub fn evcxr_text(&self) -> String {
        evcxr_content("image/png", &base64(&self.png))
    }

    /// Shows the picture in the evcxr Jupyter kernel.
    pub fn evcxr_display(&self) {
        print_flushed(&self.evcxr_text());
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
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
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

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|error| HeatError::File {
        path: path.display().to_string(),
        message: error.to_string(),
    })
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
