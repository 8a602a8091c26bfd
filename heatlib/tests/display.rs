//! Every picture decodes, has the promised size and content, and reaches evcxr in its framing.
#![cfg(feature = "display")]

use base64::Engine;
use heatlib::display::{Animation, BarChart, Heatmap, LinePlot, Series, heatmap_row, viridis};
use heatlib::{Problem, RunOptions, Show, Stage, TABLE_MIME_TYPE, compare, format_ratio};
use ndarray::Array2;

const VIRIDIS_LOW: [u8; 3] = [68, 1, 84];
const VIRIDIS_HIGH: [u8; 3] = [254, 232, 37];

struct Decoded {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Decoded {
    fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let at = (y * self.width + x) * 3;
        [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]]
    }
    fn count(&self, wanted: impl Fn([u8; 3]) -> bool, rows: std::ops::Range<usize>) -> usize {
        rows.flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| wanted(self.pixel(x, y)))
            .count()
    }
    fn distinct_colours(&self) -> usize {
        let mut colours: Vec<[u8; 3]> = self
            .rgb
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        colours.sort();
        colours.dedup();
        colours.len()
    }
}

fn decode_png(bytes: &[u8]) -> Decoded {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut rgb = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut rgb).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    rgb.truncate(info.buffer_size());
    Decoded {
        width: info.width as usize,
        height: info.height as usize,
        rgb,
    }
}

fn dark(p: [u8; 3]) -> bool {
    p.iter().all(|&c| c < 110)
}

fn half_cold_half_hot() -> Array2<f64> {
    Array2::from_shape_fn((40, 40), |(_, j)| if j < 20 { 0.0 } else { 100.0 })
}

#[test]
fn viridis_ends_are_the_scale_ends() {
    let ends = [viridis(0.0, (0.0, 100.0)), viridis(100.0, (0.0, 100.0))];
    assert_eq!([ends[0].0, ends[0].1, ends[0].2], VIRIDIS_LOW);
    assert_eq!([ends[1].0, ends[1].1, ends[1].2], VIRIDIS_HIGH);
    // Beyond the limits the colour stays at the ends.
    let below = viridis(-5.0, (0.0, 100.0));
    assert_eq!([below.0, below.1, below.2], VIRIDIS_LOW);
}

#[test]
fn heatmap_png_has_its_size_both_colour_ends_and_its_text() {
    let picture = Heatmap::new(half_cold_half_hot().view())
        .title("Half cold, half hot")
        .limits(0.0, 100.0)
        .render()
        .unwrap();
    let image = decode_png(picture.png_bytes());
    assert_eq!((image.width, image.height), (520, 440));
    assert_eq!(picture.size(), (520, 440));
    let everywhere = 0..image.height;
    assert!(
        image.count(|p| p == VIRIDIS_LOW, everywhere.clone()) > 20_000,
        "the cold half is viridis' dark end"
    );
    assert!(
        image.count(|p| p == VIRIDIS_HIGH, everywhere.clone()) > 20_000,
        "the hot half is viridis' bright end"
    );
    assert!(
        image.distinct_colours() > 50,
        "a colour bar and anti-aliased text add many colours"
    );
    // The title is drawn: dark pixels in the top band that an untitled map lacks.
    let untitled = decode_png(
        Heatmap::new(half_cold_half_hot().view())
            .limits(0.0, 100.0)
            .render()
            .unwrap()
            .png_bytes(),
    );
    let title_band = 0..26;
    let with_title = image.count(dark, title_band.clone());
    let without = untitled.count(dark, title_band);
    assert!(
        with_title > without + 100,
        "title pixels: {with_title} against {without}"
    );
    // Axis labels are drawn under the plate.
    assert!(image.count(dark, image.height - 30..image.height) > 200);
}

#[test]
fn the_plate_top_is_at_the_top_of_the_picture() {
    let field = Stage::Typed
        .solve(&Problem::small(), &RunOptions::final_field())
        .unwrap()
        .final_field;
    let image = decode_png(
        Heatmap::new(field.view())
            .limits(0.0, 100.0)
            .render()
            .unwrap()
            .png_bytes(),
    );
    // Along the middle column of the plate, viridis' green rises with temperature:
    // the upper part of the plate must be much greener than the lower part.
    let column = 240;
    let mean_green = |rows: std::ops::Range<usize>| {
        let n = rows.len() as f64;
        rows.map(|y| image.pixel(column, y)[1] as f64).sum::<f64>() / n
    };
    let (upper, lower) = (mean_green(40..120), mean_green(300..380));
    assert!(upper > lower + 60.0, "upper {upper}, lower {lower}");
    assert!(
        lower < 30.0,
        "the bottom stays near the cold end (green 1): {lower}"
    );
}

#[test]
fn automatic_limits_use_the_field_range() {
    let field = half_cold_half_hot() * 0.5 + 10.0; // 10 to 60
    let image = decode_png(Heatmap::new(field.view()).render().unwrap().png_bytes());
    assert!(image.count(|p| p == VIRIDIS_LOW, 0..image.height) > 20_000);
    assert!(image.count(|p| p == VIRIDIS_HIGH, 0..image.height) > 20_000);
}

#[test]
fn bad_picture_requests_are_errors_not_panics() {
    let field = half_cold_half_hot();
    let nan = Heatmap::new(field.view())
        .limits(f64::NAN, 1.0)
        .render()
        .unwrap_err();
    assert!(nan.to_string().contains("colour limits"), "{nan}");
    let reversed = Heatmap::new(field.view())
        .limits(100.0, 0.0)
        .render()
        .unwrap_err();
    assert!(reversed.to_string().contains("low <= high"), "{reversed}");
    let tiny = Heatmap::new(field.view())
        .size(10, 10)
        .render()
        .unwrap_err();
    assert!(tiny.to_string().contains("between 120 and 8000"), "{tiny}");
    assert!(Animation::from_snapshots(&[], None, 10).is_err());
    assert!(BarChart::new("t", "v").render().is_err());
    let log_of_zero = BarChart::new("t", "v")
        .bar("zero", 0.0)
        .log_scale(true)
        .render()
        .unwrap_err();
    assert!(
        log_of_zero.to_string().contains("above 0 on a log scale"),
        "{log_of_zero}"
    );
    assert!(heatmap_row(&[], None).is_err());
}

#[test]
fn evcxr_sees_a_png_in_its_framing() {
    let picture = Heatmap::new(half_cold_half_hot().view()).render().unwrap();
    let text = picture.evcxr_text();
    let body = text
        .strip_prefix("EVCXR_BEGIN_CONTENT image/png\n")
        .and_then(|rest| rest.strip_suffix("\nEVCXR_END_CONTENT\n"))
        .expect("evcxr's framing");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    assert_eq!(bytes, picture.png_bytes());
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn stages_side_by_side_share_a_scale_and_show_their_differences() {
    let problem = Problem::small().with_size(30, 200);
    let stages = [Stage::Typed, Stage::Vectorized, Stage::Convolve];
    let table = compare(&problem, &stages, &RunOptions::final_field(), 1).unwrap();
    let image = decode_png(table.heatmaps().unwrap().png_bytes());
    assert_eq!((image.width, image.height), (340 * 3 + 90, 340));
    assert!(table.rows.iter().all(|row| row.max_abs_diff <= 1e-12));
    assert!(image.count(|p| p == VIRIDIS_HIGH, 0..image.height) > 100);
}

#[test]
fn animation_has_a_bounded_number_of_frames_with_the_last_step() {
    let solution = Stage::Typed
        .solve(
            &Problem::small().with_size(20, 101),
            &RunOptions::snapshots_every(2),
        )
        .unwrap();
    assert_eq!(solution.snapshots.len(), 51);
    let animation = Animation::from_snapshots(&solution.snapshots, Some((0.0, 100.0)), 12).unwrap();
    assert_eq!(animation.frames(), 12);
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(animation.gif_bytes()).unwrap();
    let (width, height) = (decoder.width(), decoder.height());
    let mut frames = 0;
    let mut last_bright = 0;
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        frames += 1;
        assert_eq!((frame.width, frame.height), (width, height));
        last_bright = frame
            .buffer
            .chunks_exact(4)
            .filter(|p| p[0] > 200 && p[1] > 200 && p[2] < 90)
            .count();
    }
    assert_eq!(frames, 12);
    assert!(last_bright > 100, "the last frame shows the hot edge");
    assert!(
        animation
            .evcxr_text()
            .starts_with("EVCXR_BEGIN_CONTENT image/gif\n")
    );
}

#[test]
fn charts_decode_and_are_not_blank() {
    let bars = BarChart::new("Speed-up", "times faster")
        .bar("a", 3.0)
        .bar("b", 3000.0)
        .log_scale(true);
    let lines = LinePlot::new("Sweep", "nx", "seconds")
        .series(Series::new(
            "typed",
            [(64.0, 0.001), (256.0, 0.02), (1024.0, 0.4)],
        ))
        .series(Series::new(
            "parallel",
            [(64.0, 0.002), (256.0, 0.01), (1024.0, 0.2)],
        ))
        .log_scale(true, true);
    for picture in [bars.render().unwrap(), lines.render().unwrap()] {
        let image = decode_png(picture.png_bytes());
        assert!(image.width >= 480 && image.height >= 400);
        assert!(image.distinct_colours() > 20);
        assert!(
            image.count(dark, 0..image.height) > 500,
            "axes and labels are drawn"
        );
    }
}

#[test]
fn the_comparison_table_lists_every_stage_in_text_and_html() {
    let stages: Vec<Stage> = Stage::ALL.to_vec();
    let table = compare(
        &Problem::small().with_size(12, 20),
        &stages,
        &RunOptions::final_field(),
        2,
    )
    .unwrap();
    let (text, html) = (table.to_text(), table.table().to_html());
    for stage in &stages {
        assert!(text.lines().any(|l| l.starts_with(stage.name())), "{text}");
        assert!(
            html.contains(&format!("<td>{}</td>", stage.name())),
            "{html}"
        );
        assert!(
            html.contains(&format!("<td>{}</td>", stage.python_analog())),
            "{html}"
        );
    }
    assert_eq!(html.matches("<tr>").count(), stages.len() + 1);
    assert!(table.rows.iter().all(|m| m.max_abs_diff <= 1e-12));
    assert!(text.contains("speed-up over interpreted"), "{text}");
    assert!(html.contains("speed-up over interpreted"), "{html}");
    let shown = table.evcxr_text();
    assert!(
        shown.starts_with("EVCXR_BEGIN_CONTENT text/plain\n")
            && shown
                .contains("EVCXR_BEGIN_CONTENT text/html\n<div class=\"heat-comparison\">\n<table")
            && shown.contains(&format!("EVCXR_BEGIN_CONTENT {TABLE_MIME_TYPE}\n{{"))
    );
    let chart = decode_png(table.speed_up_chart().unwrap().png_bytes());
    assert!(chart.distinct_colours() > 20);
}

/// The text table, the HTML table and the computed figures print the same speed-ups.
#[test]
fn every_rendering_of_a_comparison_shows_the_same_speed_ups() {
    let mut table = compare(
        &Problem::small().with_size(40, 60),
        &[Stage::TypedChecked, Stage::Typed, Stage::Vectorized],
        &RunOptions::final_field(),
        2,
    )
    .unwrap();
    table.set_baseline("vectorized").unwrap();
    let (text, html) = (table.to_text(), table.table().to_html());
    for (name, speed_up) in table.speed_ups() {
        let printed = format_ratio(speed_up);
        let text_row = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap();
        assert!(text_row.contains(&format!(" {printed} ")), "{text}");
        let html_row = html
            .lines()
            .find(|l| l.starts_with(&format!("<tr><td>{name}</td>")))
            .unwrap();
        assert!(html_row.contains(&format!(">{printed}</td>")), "{html}");
    }
    let data: serde_json::Value = serde_json::from_str(&table.table().to_json()).unwrap();
    let speed_up_column = data["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|title| title == "speed-up")
        .unwrap();
    for (row, (_, speed_up)) in table.speed_ups().iter().enumerate() {
        assert_eq!(data["rows"][row][speed_up_column]["value"], *speed_up);
    }
    assert_eq!(data["baseline"], "vectorized");
    let vectorized = &table.rows[2];
    assert_eq!(table.speed_up(vectorized), 1.0);
    assert!(html.contains("speed-up over vectorized"), "{html}");
}
