//! The before-and-after report: HTML that says plainly where time improved, where it worsened
//! and where the data cannot tell; the same figures as an Excel workbook; English or Russian.

use std::fmt::Write;

use smartborder_trs::compare::{CompareReport, Comparison, Verdict};

use crate::i18n::Lang;
use crate::svg::{ChangeRow, change_chart, escape};
use crate::tables::{Cell, Sheet, workbook};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:13px;display:block;overflow-x:auto;max-width:100%}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}\
th{background:#f0f0f0}td.l,th.l{text-align:left}h2{margin-top:2em;border-bottom:2px solid #1f77b4}\
.note{color:#555;font-size:13px}.improved{color:#1a7f37}.worsened{color:#b42318}.unclear{color:#666}";

fn verdict_text(v: Verdict, lang: Lang) -> &'static str {
    match (lang, v) {
        (Lang::En, Verdict::Improved) => "improved",
        (Lang::En, Verdict::Worsened) => "worsened",
        (Lang::En, Verdict::NoClearChange) => "the data cannot tell",
        (Lang::En, Verdict::TooFew) => "too few consignments",
        (Lang::Ru, Verdict::Improved) => "улучшение",
        (Lang::Ru, Verdict::Worsened) => "ухудшение",
        (Lang::Ru, Verdict::NoClearChange) => "данные не позволяют судить",
        (Lang::Ru, Verdict::TooFew) => "слишком мало партий",
    }
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Improved => "improved",
        Verdict::Worsened => "worsened",
        Verdict::NoClearChange | Verdict::TooFew => "unclear",
    }
}

/// Hours with two decimals, the decimal comma in Russian.
fn h(minutes: Option<f64>, lang: Lang) -> String {
    minutes.map_or_else(
        || "-".to_string(),
        |m| {
            let s = format!("{:.2}", m / 60.0);
            match lang {
                Lang::En => s,
                Lang::Ru => s.replace('.', ","),
            }
        },
    )
}

fn pct(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_string(), |s| format!("{:.1}", s * 100.0))
}

fn group_name(c: &Comparison, lang: Lang) -> String {
    let segment = match &c.segment {
        Some(v) => format!("{} = {v}", c.segment_by),
        None => match lang {
            Lang::En => "all consignments".to_string(),
            Lang::Ru => "все партии".to_string(),
        },
    };
    format!("{} → {} ({segment})", c.from, c.to)
}

/// The unit a sentence gives a duration in: minutes under an hour and a half, else hours.
fn unit(minutes: f64) -> (f64, &'static str, &'static str) {
    if minutes.abs() < 90.0 {
        (1.0, "min", "мин")
    } else {
        (60.0, "h", "ч")
    }
}

/// `value` in `per` minutes, with the precision of the unit and the decimal comma in Russian.
fn amount(minutes: f64, per: f64, lang: Lang) -> String {
    let s = if per == 1.0 {
        format!("{:.0}", minutes)
    } else {
        format!("{:.1}", minutes / per)
    };
    let s = if s == "-0" || s == "-0.0" {
        s[1..].to_string()
    } else {
        s
    };
    match lang {
        Lang::En => s,
        Lang::Ru => s.replace('.', ","),
    }
}

/// A duration for a sentence: "40 min", "2.5 h".
fn duration(minutes: f64, lang: Lang) -> String {
    let (per, en, ru) = unit(minutes);
    let word = match lang {
        Lang::En => en,
        Lang::Ru => ru,
    };
    format!("{} {word}", amount(minutes, per, lang))
}

/// One plain sentence about a comparison.
pub(crate) fn sentence(c: &Comparison, lang: Lang) -> String {
    let d = &c.median;
    let name = group_name(c, lang);
    let shown = |m: Option<f64>| m.map_or_else(|| "-".to_string(), |m| duration(m, lang));
    let (before, after) = (shown(d.before_minutes), shown(d.after_minutes));
    let change = d.difference_minutes.unwrap_or(0.0);
    let by = duration(change.abs(), lang);
    // Both ends of the interval in the unit of the larger.
    let ci = match (d.lower_minutes, d.upper_minutes) {
        (Some(lo), Some(hi)) => {
            let (per, en, ru) = unit(lo.abs().max(hi.abs()));
            let (lo, hi) = (amount(lo, per, lang), amount(hi, per, lang));
            match lang {
                Lang::En => format!(" (95% interval of the change: {lo} to {hi} {en})"),
                Lang::Ru => {
                    format!(" (95% доверительный интервал изменения: от {lo} до {hi} {ru})")
                }
            }
        }
        _ => String::new(),
    };
    let verdict = verdict_text(c.verdict, lang);
    let (nb, na) = (c.count_before, c.count_after);
    match lang {
        Lang::En => {
            let direction = if change < 0.0 {
                format!("{by} faster")
            } else if change > 0.0 {
                format!("{by} slower")
            } else {
                "unchanged".to_string()
            };
            format!(
                "{name}: median {before} before, {after} after, {direction}{ci}; {nb} consignments before, {na} after: {verdict}."
            )
        }
        Lang::Ru => {
            let direction = if change < 0.0 {
                format!("быстрее на {by}")
            } else if change > 0.0 {
                format!("медленнее на {by}")
            } else {
                "без изменений".to_string()
            };
            format!(
                "{name}: медиана {before} до, {after} после, {direction}{ci}; партий до: {nb}, после: {na}: {verdict}."
            )
        }
    }
}

/// The HTML report.
pub fn render(report: &CompareReport, lang: Lang) -> String {
    let t = |en: &'static str, ru: &'static str| match lang {
        Lang::En => en,
        Lang::Ru => ru,
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>",
        lang.code(),
        t(
            "Time Release Study: before and after",
            "Исследование времени выпуска: до и после"
        ),
        t(
            "Time Release Study: before and after",
            "Исследование времени выпуска: до и после"
        ),
    );
    let _ = write!(
        s,
        "<p>{} <code>{}</code><br>{} <code>{}</code></p>",
        t("Before:", "До:"),
        escape(&report.before),
        t("After:", "После:"),
        escape(&report.after)
    );
    // The plain-language summary: every comparison of the whole population, then the counts
    // over the segments.
    let _ = write!(
        s,
        "<h2>{}</h2><ul id=\"summary\">",
        t("Summary", "Краткие выводы")
    );
    for c in report.comparisons.iter().filter(|c| c.segment_by == "all") {
        let _ = write!(
            s,
            "<li class=\"{}\">{}</li>",
            verdict_class(c.verdict),
            escape(&sentence(c, lang))
        );
    }
    s.push_str("</ul>");
    // The median's change of each interval, all consignments, as a forest plot.
    let rows: Vec<ChangeRow> = report
        .comparisons
        .iter()
        .filter(|c| c.segment_by == "all")
        .filter_map(|c| {
            Some(ChangeRow {
                label: format!("{} → {}", c.from, c.to),
                change: c.median.difference_minutes?,
                interval: c.median.lower_minutes.zip(c.median.upper_minutes),
                colour: match c.verdict {
                    Verdict::Improved => "#1a7f37",
                    Verdict::Worsened => "#b42318",
                    Verdict::NoClearChange | Verdict::TooFew => "#888",
                },
            })
        })
        .collect();
    if !rows.is_empty() {
        let _ = write!(
            s,
            "<figure id=\"median-changes\">{}<figcaption class=\"note\">{}</figcaption></figure>",
            change_chart(
                &rows,
                t("faster", "быстрее"),
                t("slower", "медленнее"),
                (t("min", "мин"), t("h", "ч"))
            ),
            t(
                "Change in the median of each interval (after − before), with its 95% interval.",
                "Изменение медианы каждого интервала (после − до) с 95% доверительным интервалом."
            )
        );
    }
    let segments: Vec<&Comparison> = report
        .comparisons
        .iter()
        .filter(|c| c.segment_by != "all")
        .collect();
    if !segments.is_empty() {
        let count = |v: Verdict| segments.iter().filter(|c| c.verdict == v).count();
        let _ = write!(
            s,
            "<p>{}: {} {}, {} {}, {} {}, {} {}.</p>",
            t("By segment", "По сегментам"),
            count(Verdict::Improved),
            verdict_text(Verdict::Improved, lang),
            count(Verdict::Worsened),
            verdict_text(Verdict::Worsened, lang),
            count(Verdict::NoClearChange),
            verdict_text(Verdict::NoClearChange, lang),
            count(Verdict::TooFew),
            verdict_text(Verdict::TooFew, lang),
        );
        for v in [Verdict::Worsened, Verdict::Improved] {
            let listed: Vec<&&Comparison> = segments.iter().filter(|c| c.verdict == v).collect();
            if listed.is_empty() {
                continue;
            }
            let _ = write!(
                s,
                "<p class=\"{}\"><b>{}</b></p><ul>",
                verdict_class(v),
                verdict_text(v, lang)
            );
            for c in listed {
                let _ = write!(s, "<li>{}</li>", escape(&sentence(c, lang)));
            }
            s.push_str("</ul>");
        }
    }
    // Every figure.
    let _ = write!(
        s,
        "<h2>{}</h2><table id=\"comparisons\"><tr><th class=\"l\">{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>p</th><th class=\"l\">{}</th></tr>",
        t("Every interval and segment", "Все интервалы и сегменты"),
        t("interval (segment)", "интервал (сегмент)"),
        t("consignments before", "партий до"),
        t("consignments after", "партий после"),
        t("median before (h)", "медиана до (ч)"),
        t("median after (h)", "медиана после (ч)"),
        t("change in median (h)", "изменение медианы (ч)"),
        t("95% interval (h)", "95% интервал (ч)"),
        t("mean before (h)", "среднее до (ч)"),
        t("mean after (h)", "среднее после (ч)"),
        t(
            "change in mean (h), 95% interval",
            "изменение среднего (ч), 95% интервал"
        ),
        t("verdict", "вывод"),
    );
    for c in &report.comparisons {
        let interval = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
            (Some(lo), Some(hi)) => format!("{} … {}", h(Some(lo), lang), h(Some(hi), lang)),
            _ => "-".to_string(),
        };
        let _ = write!(
            s,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td class=\"l {}\">{}</td></tr>",
            escape(&group_name(c, lang)),
            c.count_before,
            c.count_after,
            h(c.median.before_minutes, lang),
            h(c.median.after_minutes, lang),
            h(c.median.difference_minutes, lang),
            interval(c.median.lower_minutes, c.median.upper_minutes),
            h(c.mean.before_minutes, lang),
            h(c.mean.after_minutes, lang),
            h(c.mean.difference_minutes, lang),
            interval(c.mean.lower_minutes, c.mean.upper_minutes),
            c.mann_whitney
                .as_ref()
                .map_or_else(|| "-".to_string(), |u| format!("{:.4}", u.p_value)),
            verdict_class(c.verdict),
            verdict_text(c.verdict, lang),
        );
    }
    s.push_str("</table>");
    // Targets.
    let _ = write!(
        s,
        "<h2>{}</h2><table id=\"targets\"><tr><th class=\"l\">{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t(
            "Released within targets",
            "Выпуск в пределах целевых сроков"
        ),
        t("interval (segment)", "интервал (сегмент)"),
        t("target (h)", "целевой срок (ч)"),
        t("before (%)", "до (%)"),
        t("after (%)", "после (%)"),
        t("change (points)", "изменение (п.п.)"),
        t("95% interval (points)", "95% интервал (п.п.)"),
    );
    for c in report.comparisons.iter().filter(|c| c.segment_by == "all") {
        for w in &c.within_target {
            let _ = write!(
                s,
                "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} … {}</td></tr>",
                escape(&group_name(c, lang)),
                w.hours,
                pct(Some(w.before)),
                pct(Some(w.after)),
                pct(Some(w.difference)),
                pct(w.lower),
                pct(w.upper),
            );
        }
    }
    s.push_str("</table>");
    if !report.only_before.is_empty() || !report.only_after.is_empty() {
        let _ = write!(
            s,
            "<h2>{}</h2>",
            t(
                "Found in one study only",
                "Есть только в одном исследовании"
            )
        );
        for (label, list) in [
            (t("before only", "только до"), &report.only_before),
            (t("after only", "только после"), &report.only_after),
        ] {
            if !list.is_empty() {
                let _ = write!(
                    s,
                    "<p class=\"note\"><b>{label}</b>: {}</p>",
                    escape(&list.join("; "))
                );
            }
        }
    }
    let _ = write!(
        s,
        "<h2>{}</h2><p class=\"note\">{}</p></body></html>",
        t("Method", "Методика"),
        escape(&report.method)
    );
    s
}

/// The Excel workbook: the comparisons, the targets and the method.
pub fn xlsx(report: &CompareReport, lang: Lang) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let num = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Number);
    let text = |v: &str| Cell::Text(v.to_string());
    let comparisons = Sheet {
        name: "Comparisons".into(),
        header: [
            "from",
            "to",
            "segment_by",
            "segment",
            "count_before",
            "count_after",
            "median_before_minutes",
            "median_after_minutes",
            "median_change_minutes",
            "median_change_lower_minutes",
            "median_change_upper_minutes",
            "mean_before_minutes",
            "mean_after_minutes",
            "mean_change_minutes",
            "mean_change_lower_minutes",
            "mean_change_upper_minutes",
            "mann_whitney_u_after",
            "mann_whitney_p",
            "share_of_pairs_after_faster",
            "verdict",
            "plain_language",
        ]
        .map(String::from)
        .to_vec(),
        rows: report
            .comparisons
            .iter()
            .map(|c| {
                let u = c.mann_whitney.as_ref();
                vec![
                    text(&c.from),
                    text(&c.to),
                    text(&c.segment_by),
                    c.segment.as_deref().map_or(Cell::Empty, text),
                    Cell::Number(c.count_before as f64),
                    Cell::Number(c.count_after as f64),
                    num(c.median.before_minutes),
                    num(c.median.after_minutes),
                    num(c.median.difference_minutes),
                    num(c.median.lower_minutes),
                    num(c.median.upper_minutes),
                    num(c.mean.before_minutes),
                    num(c.mean.after_minutes),
                    num(c.mean.difference_minutes),
                    num(c.mean.lower_minutes),
                    num(c.mean.upper_minutes),
                    num(u.map(|u| u.u_after)),
                    num(u.map(|u| u.p_value)),
                    num(u.map(|u| u.share_of_pairs_after_faster)),
                    text(verdict_text(c.verdict, lang)),
                    text(&sentence(c, lang)),
                ]
            })
            .collect(),
    };
    let targets = Sheet {
        name: "Targets".into(),
        header: [
            "from",
            "to",
            "segment_by",
            "segment",
            "target_hours",
            "share_before",
            "share_after",
            "change",
            "change_lower",
            "change_upper",
        ]
        .map(String::from)
        .to_vec(),
        rows: report
            .comparisons
            .iter()
            .flat_map(|c| {
                c.within_target.iter().map(move |w| {
                    vec![
                        text(&c.from),
                        text(&c.to),
                        text(&c.segment_by),
                        c.segment.as_deref().map_or(Cell::Empty, text),
                        Cell::Number(w.hours),
                        Cell::Number(w.before),
                        Cell::Number(w.after),
                        Cell::Number(w.difference),
                        num(w.lower),
                        num(w.upper),
                    ]
                })
            })
            .collect(),
    };
    let method = Sheet {
        name: "Method".into(),
        header: vec!["before".into(), "after".into(), "method".into()],
        rows: vec![vec![
            text(&report.before),
            text(&report.after),
            text(&report.method),
        ]],
    };
    workbook(&[comparisons, targets, method])
}
