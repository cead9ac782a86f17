//! A line chart with `plotters`, drawn to a 1200x800 PNG: title, axis labels, legend, an
//! optional log axis (values drawn as log10 with `1e-3`-style tick labels), an optional second
//! y axis on the right, vertical markers. The public charts are in [`super::plot`].

use super::error::MonitorError;
use plotters::prelude::*;
use std::ops::Range;
use std::path::Path;
use std::sync::Once;

/// Width and height of every chart, pixels.
pub const SIZE: (u32, u32) = (1200, 800);

/// matplotlib's `tab10`, the colours people read plots in.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

const FONT: &str = "sans-serif";

/// One axis: its label (with units) and scale.
#[derive(Clone)]
pub struct Axis {
    pub label: String,
    pub log: bool,
    /// Whole numbers only (epochs): ticks at integers.
    pub integer: bool,
}

impl Axis {
    pub fn linear(label: &str) -> Self {
        Self {
            label: label.into(),
            log: false,
            integer: false,
        }
    }

    pub fn log(label: &str) -> Self {
        Self {
            label: label.into(),
            log: true,
            integer: false,
        }
    }

    pub fn integer(label: &str) -> Self {
        Self {
            label: label.into(),
            log: false,
            integer: true,
        }
    }

    /// The drawn value (log10 on a log axis; `None` where a log axis cannot show it). A
    /// finite value beyond [`DRAWN_LIMIT`] is drawn at that limit, so that the axis range and
    /// its ticks stay finite arithmetic (`1e308 - -1e308` is infinite).
    fn map(&self, v: f64) -> Option<f64> {
        match (self.log, v.is_finite()) {
            (_, false) => None,
            (true, _) if v <= 0.0 => None,
            (true, _) => Some(v.log10()),
            (false, _) => Some(v.clamp(-DRAWN_LIMIT, DRAWN_LIMIT)),
        }
    }
}

/// A series: a line, or markers only.
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub markers: bool,
    pub dashed: bool,
}

impl Line {
    pub fn new(label: &str, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            points,
            markers: false,
            dashed: false,
        }
    }

    pub fn with_markers(mut self) -> Self {
        self.markers = true;
        self
    }

    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }
}

/// A vertical line at `x` (a suggestion, an epoch boundary), named in the legend once.
pub struct Marker {
    pub x: f64,
    pub label: Option<String>,
    pub strong: bool,
}

/// A chart; see the module documentation.
pub struct Chart {
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub lines: Vec<Line>,
    pub right: Option<(Axis, Vec<Line>)>,
    pub markers: Vec<Marker>,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans, embedded: no system font is needed (CI machines have none).
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The largest magnitude a linear axis draws (larger finite values are drawn there).
const DRAWN_LIMIT: f64 = 1e300;

/// The smallest span of an axis relative to the magnitude of its values: plotters places its
/// ticks by repeatedly dividing the span, which never ends once a step is below the values'
/// float resolution, so a range narrower than this is widened (drawn as a flat series).
const MIN_RELATIVE_SPAN: f64 = 1e-9;

/// The drawn range of `lines` on `axis`, padded by 5% (a flat series gets a visible band). It
/// is always finite and at least [`MIN_RELATIVE_SPAN`] of its magnitude wide, whatever the
/// values (huge, tiny, equal, non-finite), so drawing ends in bounded time.
fn range(axis: &Axis, lines: &[Line], pick: fn(&(f64, f64)) -> f64) -> Range<f64> {
    let drawn = lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|p| axis.map(pick(p))));
    let (lo, hi) = drawn.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let magnitude = lo.abs().max(hi.abs());
    let pad = if hi - lo > magnitude * MIN_RELATIVE_SPAN {
        (hi - lo) * 0.05
    } else if axis.log {
        0.2
    } else {
        magnitude.max(1e-3) * 0.1
    };
    (lo - pad)..(hi + pad)
}

/// Tick label of a drawn value; `span` is the axis's drawn range (a log axis spanning less
/// than two decades gets a second digit, so its ticks differ).
fn tick(axis: &Axis, v: f64, span: f64) -> String {
    if axis.integer {
        return if (v - v.round()).abs() < 1e-9 {
            format!("{}", v.round())
        } else {
            String::new()
        };
    }
    if axis.log && span < 2.0 {
        format!("{:.1e}", 10f64.powf(v))
    } else if axis.log {
        format!("{:.0e}", 10f64.powf(v))
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e5) {
        format!("{v:.1e}")
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

/// The drawn points of `line` (on `x`, `y`), clipped to the bottom of a log axis where the
/// value is 0 (an LR of 0 at a warmup's start or a decay's end).
fn drawn(line: &Line, x: &Axis, y: &Axis, floor: f64) -> Vec<(f64, f64)> {
    line.points
        .iter()
        .filter_map(|&(px, py)| {
            let dx = x.map(px)?;
            let dy = match y.map(py) {
                Some(v) => v,
                None if y.log && py == 0.0 => floor,
                None => return None,
            };
            Some((dx, dy))
        })
        .collect()
}

fn style(i: usize) -> ShapeStyle {
    PALETTE[i % PALETTE.len()].stroke_width(3)
}

/// Draws `chart` to `path` (PNG, [`SIZE`]), written atomically.
///
/// # Errors
/// [`MonitorError::Plot`] (a drawing error), [`MonitorError::Io`].
pub fn draw(chart: &Chart, path: &Path) -> Result<(), MonitorError> {
    register_font();
    let plot_err = |e: String| MonitorError::Plot {
        path: path.to_path_buf(),
        why: e,
    };
    let mut buf = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    render(chart, &mut buf).map_err(plot_err)?;
    let image = image::RgbImage::from_raw(SIZE.0, SIZE.1, buf).ok_or_else(|| plot_err("buffer size".into()))?;
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| plot_err(e.to_string()))?;
    super::files::write_file(path, png.get_ref(), super::files::Output::Named)
}

fn render(c: &Chart, buf: &mut [u8]) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let root = BitMapBackend::with_buffer(buf, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let xr = range(&c.x, &c.lines, |p| p.0);
    // Headroom above the lines for the legend.
    let headroom = |r: Range<f64>| r.start..r.end + (r.end - r.start) * 0.15;
    let yr = headroom(range(&c.y, &c.lines, |p| p.1));
    let (right_axis, right_lines) = match &c.right {
        Some((axis, lines)) => (axis.clone(), lines.as_slice()),
        None => (Axis::linear(""), &[][..]),
    };
    let rr = headroom(range(&right_axis, right_lines, |p| p.1));
    let x_labels = if c.x.integer {
        ((xr.end - xr.start).round() as usize + 1).clamp(2, 12)
    } else {
        12
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(&c.title, (FONT, 34))
        .margin(24)
        .x_label_area_size(70)
        .y_label_area_size(110)
        .right_y_label_area_size(if c.right.is_some() { 110 } else { 0 })
        .build_cartesian_2d(xr.clone(), yr.clone())
        .map_err(|x| e(&x))?
        .set_secondary_coord(xr.clone(), rr.clone());
    let (xa, ya, ra) = (c.x.clone(), c.y.clone(), right_axis.clone());
    chart
        .configure_mesh()
        .x_desc(c.x.label.as_str())
        .y_desc(c.y.label.as_str())
        .x_label_formatter(&|v| tick(&xa, *v, xr.end - xr.start))
        .y_label_formatter(&|v| tick(&ya, *v, yr.end - yr.start))
        .x_labels(x_labels)
        .y_labels(10)
        .label_style((FONT, 20))
        .axis_desc_style((FONT, 24))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(|x| e(&x))?;
    if c.right.is_some() {
        chart
            .configure_secondary_axes()
            .y_desc(right_axis.label.as_str())
            .y_label_formatter(&|v| tick(&ra, *v, rr.end - rr.start))
            .label_style((FONT, 20))
            .axis_desc_style((FONT, 24))
            .draw()
            .map_err(|x| e(&x))?;
    }
    for (i, m) in c.markers.iter().enumerate() {
        let Some(x) = c.x.map(m.x) else { continue };
        let color = if m.strong {
            PALETTE[(i + 3) % PALETTE.len()].mix(0.9)
        } else {
            BLACK.mix(0.3)
        };
        let st = color.stroke_width(if m.strong { 2 } else { 1 });
        let series = chart
            .draw_series(DashedLineSeries::new(vec![(x, yr.start), (x, yr.end)], 10, 6, st))
            .map_err(|x| e(&x))?;
        if let Some(label) = &m.label {
            series
                .label(label.as_str())
                .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 24, py)], st));
        }
    }
    let mut n = 0;
    for line in &c.lines {
        let pts = drawn(line, &c.x, &c.y, yr.start);
        let st = style(n);
        n += 1;
        let anno = if line.dashed {
            chart.draw_series(DashedLineSeries::new(pts.clone(), 12, 6, st))
        } else {
            chart.draw_series(LineSeries::new(pts.clone(), st))
        }
        .map_err(|x| e(&x))?;
        anno.label(line.label.as_str())
            .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 24, py)], st));
        if line.markers {
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 5, st.filled())))
                .map_err(|x| e(&x))?;
        }
    }
    for line in right_lines {
        let pts = drawn(line, &c.x, &right_axis, rr.start);
        let st = style(n);
        n += 1;
        let anno = if line.dashed {
            chart.draw_secondary_series(DashedLineSeries::new(pts.clone(), 12, 6, st))
        } else {
            chart.draw_secondary_series(LineSeries::new(pts.clone(), st))
        }
        .map_err(|x| e(&x))?;
        anno.label(format!("{} (right axis)", line.label))
            .legend(move |(px, py)| PathElement::new(vec![(px, py), (px + 24, py)], st));
        if line.markers {
            chart
                .draw_secondary_series(pts.iter().map(|p| Circle::new(*p, 5, st.filled())))
                .map_err(|x| e(&x))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 20))
        .draw()
        .map_err(|x| e(&x))?;
    root.present().map_err(|x| e(&x))?;
    Ok(())
}

/// At most `2 * buckets` points of a long series: the lowest and highest value of each bucket
/// of consecutive points, so a restart or a step survives the thinning. Fed one point at a
/// time (constant memory for a 10^9-update preview).
pub struct Thinner {
    per_bucket: u64,
    seen: u64,
    bucket: Option<((f64, f64), (f64, f64))>,
    pub points: Vec<(f64, f64)>,
}

impl Thinner {
    /// For a series of `total` points.
    pub fn new(total: u64, buckets: u64) -> Self {
        Self {
            per_bucket: total.div_ceil(buckets.max(1)).max(1),
            seen: 0,
            bucket: None,
            points: Vec::new(),
        }
    }

    pub fn push(&mut self, p: (f64, f64)) {
        let (lo, hi) = self.bucket.get_or_insert((p, p));
        if p.1 < lo.1 || lo.1.is_nan() {
            *lo = p;
        }
        if p.1 > hi.1 || hi.1.is_nan() {
            *hi = p;
        }
        self.seen += 1;
        if self.seen.is_multiple_of(self.per_bucket) {
            self.flush();
        }
    }

    pub fn finish(mut self) -> Vec<(f64, f64)> {
        self.flush();
        self.points
    }

    fn flush(&mut self) {
        if let Some((lo, hi)) = self.bucket.take() {
            let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            self.points.push(a);
            if b != a {
                self.points.push(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(ys: &[f64]) -> Vec<Line> {
        vec![Line::new(
            "y",
            ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect(),
        )]
    }

    /// Any f64 at all, the extremes and the non-finite values often.
    fn any_value() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            Just(f64::MAX),
            Just(-f64::MAX),
            Just(f64::MIN_POSITIVE),
            Just(5e-324),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(1.0),
            Just(1.0 + f64::EPSILON),
        ]
    }

    proptest! {
        /// The range plotters places its ticks in is finite and wide enough for its values'
        /// resolution, whatever they are (an infinite or sub-resolution range never ends).
        #[test]
        fn every_axis_range_is_finite_and_resolvable(ys in proptest::collection::vec(any_value(), 0..6), log in any::<bool>()) {
            let axis = if log { Axis::log("y") } else { Axis::linear("y") };
            let r = range(&axis, &line(&ys), |p| p.1);
            prop_assert!(r.start.is_finite() && r.end.is_finite() && (r.end - r.start).is_finite(), "{r:?}");
            let magnitude = r.start.abs().max(r.end.abs());
            prop_assert!(r.end - r.start >= magnitude * MIN_RELATIVE_SPAN, "{r:?}");
        }
    }

    #[test]
    fn extreme_series_draw_in_bounded_time() {
        let tmp = tempfile::tempdir().unwrap();
        let cases: [&[f64]; 6] = [
            &[-1e308, 1e308, 0.0],
            &[1e308, 1e308],
            &[1.0, 1.0 + f64::EPSILON, 1.0],
            &[f64::NAN, f64::INFINITY, -f64::INFINITY],
            &[5e-324, 0.0, -5e-324],
            &[],
        ];
        let (done, finished) = std::sync::mpsc::channel();
        let path = tmp.path().join("c.png");
        std::thread::spawn(move || {
            for ys in cases {
                let chart = Chart {
                    title: "extreme".into(),
                    x: Axis::linear("x"),
                    y: Axis::linear("y"),
                    lines: line(ys),
                    right: Some((Axis::log("m"), line(ys))),
                    markers: Vec::new(),
                };
                draw(&chart, &path).unwrap();
            }
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("drawing did not end");
    }
}
