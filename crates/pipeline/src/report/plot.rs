//! Line charts of accuracy (in %) against a log-scaled count, as SVG.

use crate::error::{write_file, Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// One chart: named curves plus named horizontal reference lines (vanilla,
/// oracle), both as fractions in [0, 1].
pub struct Chart<'a> {
    /// The caption.
    pub title: &'a str,
    /// The x-axis label.
    pub xlabel: &'a str,
    /// Curves: name and (x, accuracy) points.
    pub curves: Vec<(String, Vec<(f64, f64)>)>,
    /// Horizontal lines: name and accuracy.
    pub lines: Vec<(&'a str, f64)>,
}

/// The seventh curve's colour (plotters has six named ones).
const ORANGE: RGBColor = RGBColor(230, 140, 0);

/// Draws `chart` into an SVG file at `path`, and returns the SVG's text
/// (the HTML report inlines it).
pub fn draw(path: &Path, chart: &Chart<'_>) -> Result<String> {
    let svg = render(path, chart)?;
    write_file(path, svg.as_bytes())?;
    Ok(svg)
}

/// The SVG text of `chart`; `path` names the file in errors.
fn render(path: &Path, chart: &Chart<'_>) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        draw_on(&root, chart).map_err(|e| Error::Plot {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    Ok(svg)
}

type Area<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;

fn draw_on(
    root: &Area<'_>,
    chart: &Chart<'_>,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    {
        root.fill(&WHITE)?;
        let xmax = chart
            .curves
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
            .fold(2.0, f64::max);
        // The log axis starts at 1, or at the power of ten below the
        // smallest positive x when a curve starts under 1 (tests run per
        // problem can be a fraction: most generations give no test).
        let xmin = chart
            .curves
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|p| p.0))
            .filter(|&x| x > 0.0)
            .fold(1.0, f64::min);
        let xmin = 10f64.powf(xmin.log10().floor());
        let mut c = ChartBuilder::on(root)
            .caption(chart.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((xmin..xmax).log_scale(), 0f64..100f64)?;
        c.configure_mesh()
            .x_desc(chart.xlabel)
            .y_desc("accuracy (%)")
            .draw()?;
        let colors = [&RED, &BLUE, &CYAN, &MAGENTA, &GREEN, &BLACK, &ORANGE];
        for (i, (name, pts)) in chart.curves.iter().enumerate() {
            let color = colors[i % colors.len()];
            let series: Vec<(f64, f64)> =
                pts.iter().map(|&(x, y)| (x.max(xmin), 100.0 * y)).collect();
            c.draw_series(LineSeries::new(series, color.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        for &(name, value) in &chart.lines {
            let style = BLACK.mix(0.4);
            c.draw_series(LineSeries::new(
                vec![(xmin, 100.0 * value), (xmax, 100.0 * value)],
                style,
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        // The legend goes where the curves are not: top left when every
        // curve stays in the lower half, else bottom right.
        let top = chart
            .curves
            .iter()
            .flat_map(|(_, pts)| pts.iter().map(|p| p.1))
            .fold(0.0, f64::max);
        let position = if top < 0.55 {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::LowerRight
        };
        c.configure_series_labels()
            .position(position)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()?;
        root.present()?;
        Ok(())
    }
}
