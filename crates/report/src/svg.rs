//! Hand-written SVG charts: small, readable, and drawn without any script or network.

use std::fmt::Write;

use smartborder_trs::trends::TrendSeries;
use smartborder_trs::{ArrivalPattern, Bottleneck, Histogram, IntervalStats};

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

fn edge_label(minutes: f64) -> String {
    if minutes < 60.0 {
        format!("{minutes:.0}m")
    } else if minutes < 1440.0 {
        format!("{:.0}h", minutes / 60.0)
    } else {
        format!("{:.0}d", minutes / 1440.0)
    }
}

/// Vertical bars: consignments per duration bin.
pub(crate) fn histogram(h: &Histogram) -> String {
    let (w, ht, left, bottom) = (560.0, 200.0, 50.0, 40.0);
    let n = h.counts.len();
    let max = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bar_w = (w - left - 10.0) / n as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" role="img"><title>{} -> {}</title>"#,
        escape(&h.from),
        escape(&h.to)
    );
    let plot_h = ht - bottom - 10.0;
    for (i, &c) in h.counts.iter().enumerate() {
        let bh = c as f64 / max * plot_h;
        let x = left + i as f64 * bar_w;
        let label = if i < h.edges_minutes.len() {
            format!("≤{}", edge_label(h.edges_minutes[i]))
        } else {
            format!(">{}", edge_label(h.edges_minutes[i - 1]))
        };
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#1f77b4"><title>{label}: {c}</title></rect><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{label}</text>"##,
            10.0 + plot_h - bh,
            bar_w - 2.0,
            x + bar_w / 2.0,
            ht - bottom + 14.0,
        );
    }
    let _ = write!(
        s,
        r#"<text x="4" y="14" font-size="10">{max:.0}</text><line x1="{left}" y1="{:.1}" x2="{w}" y2="{:.1}" stroke="black"/></svg>"#,
        10.0 + plot_h,
        10.0 + plot_h
    );
    s
}

/// A trend: the median (solid) and p90 (dashed) per period in hours, the centre and control
/// limits of the medians (grey), and the periods outside them (red points).
pub(crate) fn trend_chart(t: &TrendSeries) -> String {
    let (w, ht, left, bottom, top) = (640.0, 240.0, 50.0, 50.0, 10.0);
    let n = t.points.len();
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" role="img"><title>{} -> {}</title>"#,
        escape(&t.from),
        escape(&t.to)
    );
    if n == 0 {
        s.push_str("</svg>");
        return s;
    }
    let hours = |m: f64| m / 60.0;
    // The scale follows the periods with enough consignments to count (a week with three
    // consignments must not flatten the others); a point beyond it is drawn at the top.
    let counted = |p: &&smartborder_trs::trends::TrendPoint| {
        p.count >= smartborder_trs::trends::MIN_PERIOD_COUNT
    };
    let scaled: Vec<f64> = t
        .points
        .iter()
        .filter(counted)
        .map(|p| hours(p.p90_minutes))
        .collect();
    let max = if scaled.is_empty() {
        t.points.iter().map(|p| hours(p.p90_minutes)).collect()
    } else {
        scaled
    }
    .into_iter()
    .chain(t.upper_limit_minutes.map(hours))
    .fold(0.0_f64, f64::max)
    .max(0.1);
    let plot_h = ht - bottom - top;
    let step = if n > 1 {
        (w - left - 20.0) / (n - 1) as f64
    } else {
        0.0
    };
    let x = |i: usize| left + 10.0 + i as f64 * step;
    let y = |h: f64| top + plot_h - (h / max).clamp(0.0, 1.0) * plot_h;
    for limit in [
        t.lower_limit_minutes,
        t.center_minutes,
        t.upper_limit_minutes,
    ]
    .into_iter()
    .flatten()
    {
        let yy = y(hours(limit));
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{w}" y2="{yy:.1}" stroke="#999" stroke-dasharray="2 3"><title>{:.1} h</title></line>"##,
            hours(limit)
        );
    }
    for (values, dash) in [
        (
            t.points
                .iter()
                .map(|p| hours(p.median_minutes))
                .collect::<Vec<_>>(),
            "",
        ),
        (
            t.points.iter().map(|p| hours(p.p90_minutes)).collect(),
            r#" stroke-dasharray="6 4""#,
        ),
    ] {
        let path: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            s,
            r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2"{dash}/>"##,
            path.join(" ")
        );
    }
    let label_every = n.div_ceil(12).max(1);
    for (i, p) in t.points.iter().enumerate() {
        let flagged = t.flagged.contains(&p.period);
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="{}" fill="{}"><title>{}: median {:.1} h, p90 {:.1} h, {} consignments</title></circle>"##,
            x(i),
            y(hours(p.median_minutes)),
            if flagged { 5 } else { 3 },
            if flagged { "#d62728" } else { "#1f77b4" },
            escape(&p.period),
            hours(p.median_minutes),
            hours(p.p90_minutes),
            p.count
        );
        if i % label_every == 0 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
                x(i),
                ht - bottom + 16.0,
                escape(&p.period)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="4" y="14" font-size="10">{max:.1} h</text><line x1="{left}" y1="{:.1}" x2="{w}" y2="{:.1}" stroke="black"/></svg>"#,
        top + plot_h,
        top + plot_h
    );
    s
}

/// Horizontal box plots on a log scale of hours, one per segment value.
pub(crate) fn box_plots(stats: &[&IntervalStats], all_label: &str) -> String {
    let rows: Vec<(&str, [f64; 5])> = stats
        .iter()
        .filter_map(|s| {
            let m = &s.summary;
            Some((
                s.segment.as_deref().unwrap_or(all_label),
                [
                    m.min_minutes?.max(1.0),
                    m.p25_minutes?.max(1.0),
                    m.median_minutes?.max(1.0),
                    m.p75_minutes?.max(1.0),
                    m.p95_minutes?.max(1.0),
                ],
            ))
        })
        .collect();
    let (w, left, row_h) = (640.0, 170.0, 22.0);
    let ht = 30.0 + rows.len() as f64 * row_h;
    let lo = rows
        .iter()
        .map(|r| r.1[0])
        .fold(f64::INFINITY, f64::min)
        .max(1.0)
        .log10();
    let hi = rows
        .iter()
        .map(|r| r.1[4])
        .fold(1.0, f64::max)
        .log10()
        .max(lo + 1.0);
    let x = |minutes: f64| left + (minutes.max(1.0).log10() - lo) / (hi - lo) * (w - left - 20.0);
    let mut s =
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" role="img">"#);
    for (i, (label, q)) in rows.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let mid = y + row_h / 2.0 - 2.0;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><line x1="{:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}" stroke="#555"/><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="#9ecae1" stroke="#3182bd"><title>Q1 {:.1} h, median {:.1} h, Q3 {:.1} h, p95 {:.1} h</title></rect><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#08306b" stroke-width="2"/>"##,
            left - 6.0,
            mid + 4.0,
            escape(label),
            x(q[0]),
            x(q[4]),
            x(q[1]),
            y + 2.0,
            (x(q[3]) - x(q[1])).max(1.0),
            row_h - 8.0,
            q[1] / 60.0,
            q[2] / 60.0,
            q[3] / 60.0,
            q[4] / 60.0,
            x(q[2]),
            y + 2.0,
            x(q[2]),
            y + row_h - 6.0,
        );
    }
    // Axis ticks at round numbers of hours that fall inside the plotted range.
    let axis_y = ht - 14.0;
    for hours in [
        0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 24.0, 48.0, 96.0, 168.0, 336.0, 720.0,
    ] {
        let minutes: f64 = hours * 60.0;
        let p = minutes.log10();
        if p >= lo && p <= hi {
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="8" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{axis_y:.1}" font-size="10" text-anchor="middle">{} h</text>"##,
                axis_y - 10.0,
                format_hours(hours),
                x = x(minutes),
            );
        }
    }
    s.push_str("</svg>");
    s
}

fn format_hours(h: f64) -> String {
    if h < 1.0 {
        format!("{h}")
    } else {
        format!("{h:.0}")
    }
}

/// One stacked bar per segment value: each stage's share of the time.
pub(crate) fn bottleneck_bars(bars: &[&Bottleneck], stages: &[String], all_label: &str) -> String {
    let (w, left, row_h) = (640.0, 170.0, 20.0);
    let ht = 40.0 + bars.len() as f64 * row_h;
    let mut s =
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" role="img">"#);
    let colour = |from: &str| {
        let i = stages.iter().position(|s| s == from).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };
    for (i, b) in bars.iter().enumerate() {
        let y = 6.0 + i as f64 * row_h;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + 12.0,
            escape(b.segment.as_deref().unwrap_or(all_label))
        );
        // Draw in process order so that colours line up between bars.
        let mut ordered = b.stages.clone();
        ordered.sort_by_key(|st| stages.iter().position(|s| *s == st.from));
        let mut x = left;
        for st in &ordered {
            let bw = st.share * (w - left - 10.0);
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="{}"><title>{} -> {}: {:.1}% (mean {:.1} min, n = {})</title></rect>"#,
                row_h - 4.0,
                colour(&st.from),
                escape(&st.from),
                escape(&st.to),
                st.share * 100.0,
                st.mean_minutes,
                st.count
            );
            x += bw;
        }
    }
    // Legend.
    let mut x = left;
    let legend_y = ht - 14.0;
    for (k, pair) in stages.windows(2).enumerate() {
        let label = format!("{} -> {}", pair[0], pair[1]);
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{legend_y:.1}" font-size="10">{}</text>"#,
            legend_y - 9.0,
            PALETTE[k % PALETTE.len()],
            x + 13.0,
            escape(&label)
        );
        x += 20.0 + label.len() as f64 * 5.5;
    }
    s.push_str("</svg>");
    s
}

/// Day-of-week x hour-of-day heatmap of arrivals.
pub(crate) fn heatmap(p: &ArrivalPattern, days: &str, hours_unit: &str) -> String {
    let (cell, left, top) = (22.0, 40.0, 20.0);
    let w = left + 24.0 * cell + 10.0;
    let ht = top + 7.0 * cell + 10.0;
    let max = p.counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut s =
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" role="img">"#);
    for h in 0..24 {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="14" font-size="9" text-anchor="middle">{h}</text>"#,
            left + h as f64 * cell + cell / 2.0
        );
    }
    for (d, name) in days.split(' ').enumerate().take(7) {
        let y = top + d as f64 * cell;
        let _ = write!(
            s,
            r#"<text x="4" y="{:.1}" font-size="10">{}</text>"#,
            y + 15.0,
            escape(name)
        );
        for h in 0..24 {
            let c = p.counts[d][h];
            let t = (c as f64 / max).sqrt();
            let shade = (255.0 - t * 200.0) as u8;
            let median = p.median_release_minutes[d][h]
                .map(|m| format!("{:.1} {hours_unit}", m / 60.0))
                .unwrap_or_else(|| "-".into());
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="rgb({shade},{shade},255)"><title>{name} {h}:00 - {c}; median {median}</title></rect>"#,
                left + h as f64 * cell,
                cell - 1.0,
                cell - 1.0,
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// One row of a change chart: its label, the change and its 95% interval (minutes, negative =
/// faster), and the colour of its verdict.
pub(crate) struct ChangeRow {
    pub label: String,
    pub change: f64,
    pub interval: Option<(f64, f64)>,
    pub colour: &'static str,
}

/// A forest plot of changes: a row per interval, the change as a dot and its interval as a
/// whisker, around a zero line; left of zero is faster. The axis is in minutes under an hour
/// and a half of change, else in hours.
pub(crate) fn change_chart(
    rows: &[ChangeRow],
    faster: &str,
    slower: &str,
    (minutes, hours): (&'static str, &'static str),
) -> String {
    let (label_w, plot_w, row_h, top, bottom) = (300.0, 420.0, 22.0, 10.0, 40.0);
    let w = label_w + plot_w + 20.0;
    let ht = top + rows.len() as f64 * row_h + bottom;
    let max = rows
        .iter()
        .flat_map(|r| {
            let (lo, hi) = r.interval.unwrap_or((r.change, r.change));
            [r.change.abs(), lo.abs(), hi.abs()]
        })
        .fold(0.0_f64, f64::max)
        .max(1.0);
    // Round ticks: tens of minutes, or whole hours.
    let (max, per, unit) = if max < 90.0 {
        ((max / 10.0).ceil() * 10.0, 1.0, minutes)
    } else {
        ((max / 60.0).ceil() * 60.0, 60.0, hours)
    };
    let x = |m: f64| label_w + plot_w / 2.0 + (m / max).clamp(-1.0, 1.0) * plot_w / 2.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{ht}" role="img"><title>{}</title>"#,
        escape(&format!("{faster} / {slower}"))
    );
    let axis_y = top + rows.len() as f64 * row_h;
    for k in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        let xx = x(k * max);
        let _ = write!(
            s,
            r##"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{axis_y}" stroke="{}" stroke-dasharray="{}"/><text x="{xx:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
            if k == 0.0 { "#444" } else { "#ddd" },
            if k == 0.0 { "none" } else { "2 3" },
            axis_y + 14.0,
            format_change(k * max / per, unit, per == 1.0)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#1a7f37">← {}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#b42318">{} →</text>"##,
        label_w,
        axis_y + 30.0,
        escape(faster),
        label_w + plot_w,
        axis_y + 30.0,
        escape(slower)
    );
    for (i, r) in rows.iter().enumerate() {
        let yy = top + i as f64 * row_h + row_h / 2.0;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            yy + 4.0,
            escape(&r.label)
        );
        if let Some((lo, hi)) = r.interval {
            let _ = write!(
                s,
                r#"<line x1="{:.1}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="{}" stroke-width="2"/>"#,
                x(lo),
                x(hi),
                r.colour
            );
        }
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{yy:.1}" r="4" fill="{}"><title>{}</title></circle>"#,
            x(r.change),
            r.colour,
            escape(&format_change(r.change / per, unit, per == 1.0))
        );
    }
    s.push_str("</svg>");
    s
}

fn format_change(v: f64, unit: &str, whole: bool) -> String {
    let s = if whole {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    };
    let s = if s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    };
    format!("{s} {unit}")
}
