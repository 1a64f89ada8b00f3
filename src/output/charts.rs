//! Inline SVG bar charts for report.html: two stacked series (ledger, bank)
//! over a list of categories, drawn as columns (hours, amount bands) or as
//! horizontal bars (reasons, whose labels are long). Plain SVG elements and
//! presentation attributes only, so the page needs no script or stylesheet
//! from anywhere to show them; every text is escaped.

use std::fmt::Write as _;

use super::html::escape;

/// One series of a stacked chart: a name, a CSS class for its colour, a value per category.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// CSS class that colours it (`ledger` or `bank`).
    pub class: &'static str,
    /// One value per category.
    pub values: Vec<u64>,
}

const WIDTH: u32 = 390;
const TOP: u32 = 34;

/// A round axis maximum at or above `max`, and its tick step.
fn axis(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut step = 1;
    while max.div_ceil(step) > 5 {
        step = match step.to_string().as_bytes()[0] {
            b'1' => step * 2,
            b'2' => step / 2 * 5,
            _ => step * 2,
        };
    }
    (max.div_ceil(step) * step, step)
}

fn open(out: &mut String, title: &str, height: u32) {
    let t = escape(title);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>"
    );
}

fn legend(out: &mut String, series: &[Series; 2]) {
    let mut x = 8;
    for s in series {
        let _ = write!(
            out,
            "<rect class=\"{}\" x=\"{x}\" y=\"8\" width=\"12\" height=\"12\"/><text x=\"{}\" y=\"18\">{}</text>",
            s.class,
            x + 16,
            escape(&s.name)
        );
        x += 40 + 8 * s.name.chars().count() as u32;
    }
}

fn total(series: &[Series; 2], i: usize) -> u64 {
    series.iter().map(|s| s.values.get(i).copied().unwrap_or(0)).sum()
}

fn bar_title(label: &str, series: &[Series; 2], i: usize) -> String {
    escape(&format!(
        "{label}: {} {} / {} {}",
        series[0].name,
        series[0].values.get(i).copied().unwrap_or(0),
        series[1].name,
        series[1].values.get(i).copied().unwrap_or(0)
    ))
}

/// Vertical stacked columns, one per label.
pub fn columns(title: &str, labels: &[String], series: &[Series; 2]) -> String {
    let (height, left, bottom) = (240u32, 40u32, 28u32);
    let plot_h = height - TOP - bottom;
    let plot_w = WIDTH - left - 10;
    let max = (0..labels.len()).map(|i| total(series, i)).max().unwrap_or(0);
    let (top_value, step) = axis(max);
    let mut out = String::new();
    open(&mut out, title, height);
    legend(&mut out, series);
    let y_of = |v: u64| TOP as f64 + plot_h as f64 * (1.0 - v as f64 / top_value as f64);
    let mut tick = 0;
    while tick <= top_value {
        let y = y_of(tick);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>",
            left + plot_w,
            left - 4,
            y + 4.0
        );
        tick += step;
    }
    let slot = plot_w as f64 / labels.len().max(1) as f64;
    // Label every n-th column when they would run into each other.
    let every = (22.0 / slot).ceil().max(1.0) as usize;
    for (i, label) in labels.iter().enumerate() {
        let x = left as f64 + slot * i as f64 + slot * 0.15;
        let mut base = 0;
        for s in series {
            let v = s.values.get(i).copied().unwrap_or(0);
            if v > 0 {
                let (y0, y1) = (y_of(base), y_of(base + v));
                let _ = write!(
                    out,
                    "<rect class=\"{}\" x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
                    s.class,
                    slot * 0.7,
                    y0 - y1,
                    bar_title(label, series, i)
                );
            }
            base += v;
        }
        if i % every == 0 {
            let _ = write!(
                out,
                "<text class=\"label\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x + slot * 0.35,
                height - bottom + 14,
                escape(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Horizontal stacked bars, one row per label, with the total at the end.
pub fn bars(title: &str, labels: &[String], series: &[Series; 2]) -> String {
    let (row, label_w) = (26u32, 190u32);
    let height = TOP + row * labels.len().max(1) as u32 + 8;
    let plot_w = WIDTH - label_w - 36;
    let max = (0..labels.len())
        .map(|i| total(series, i))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = String::new();
    open(&mut out, title, height);
    legend(&mut out, series);
    for (i, label) in labels.iter().enumerate() {
        let y = TOP + row * i as u32;
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 6,
            y + 16,
            escape(label)
        );
        let mut x = label_w as f64;
        for s in series {
            let v = s.values.get(i).copied().unwrap_or(0);
            if v > 0 {
                let w = plot_w as f64 * v as f64 / max as f64;
                let _ = write!(
                    out,
                    "<rect class=\"{}\" x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"18\"><title>{}</title></rect>",
                    s.class,
                    y + 3,
                    bar_title(label, series, i)
                );
                x += w;
            }
        }
        let _ = write!(
            out,
            "<text class=\"value\" x=\"{:.1}\" y=\"{}\">{}</text>",
            x + 4.0,
            y + 16,
            total(series, i)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two(a: Vec<u64>, b: Vec<u64>) -> [Series; 2] {
        [
            Series {
                name: "ledger".into(),
                class: "ledger",
                values: a,
            },
            Series {
                name: "bank".into(),
                class: "bank",
                values: b,
            },
        ]
    }

    #[test]
    fn axes_are_round() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(3), (3, 1));
        assert_eq!(axis(7), (8, 2));
        assert_eq!(axis(23), (25, 5));
        assert_eq!(axis(180), (200, 50));
    }

    #[test]
    fn charts_escape_labels_and_draw_one_rect_per_nonzero_value() {
        let svg = bars(
            "<b>",
            &["<script>".into(), "ok".into()],
            &two(vec![1, 0], vec![2, 0]),
        );
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert_eq!(svg.matches("<rect class=\"ledger\" x=\"190").count(), 1);
        let svg = columns("hours", &["0".into(), "1".into()], &two(vec![3, 0], vec![0, 1]));
        assert_eq!(svg.matches("<rect").count(), 2 + 2, "two legend boxes, two bars");
    }
}
