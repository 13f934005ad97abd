//! The self-contained HTML report.

use std::fmt::Write;

use smartborder_model::{FIRST_STAMP, IntervalKind};
use smartborder_trs::trends::{LIMIT_K, MIN_PERIOD_COUNT, TrendPeriod};
use smartborder_trs::{IntervalStats, OutlierRule, TrsReport};

use crate::i18n::{Lang, Text};
use crate::svg::{self, escape};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:13px;display:block;overflow-x:auto;max-width:100%}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}\
th{background:#f0f0f0}td.l,th.l{text-align:left}h2{margin-top:2em;border-bottom:2px solid #1f77b4}\
.note{color:#555;font-size:13px}section{page-break-inside:avoid}";

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

fn hours(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{:.1}", v / 60.0))
}

/// The arrival-to-release total for the whole population, when the study has one.
fn headline(report: &TrsReport) -> Option<&IntervalStats> {
    report
        .intervals
        .iter()
        .find(|s| s.kind == IntervalKind::Total && s.segment_by == "all" && s.from != FIRST_STAMP)
}

fn summary(report: &TrsReport, lang: Lang) -> String {
    let mut s = String::new();
    let findings: u64 = report.findings_summary.iter().map(|f| f.count).sum();
    match lang {
        Lang::En => {
            let _ = write!(
                s,
                "<p>{} consignments were read from <code>{}</code>; {} are in the statistics. \
                 Verification produced {} findings.</p>",
                report.consignments,
                escape(&report.input),
                report.consignments_analysed,
                findings
            );
        }
        Lang::Ru => {
            let _ = write!(
                s,
                "<p>Прочитано партий: {} из <code>{}</code>; в статистику вошло {}. \
                 Проверка данных дала замечаний: {}.</p>",
                report.consignments,
                escape(&report.input),
                report.consignments_analysed,
                findings
            );
        }
    }
    if let Some(t) = headline(report) {
        let m = &t.summary;
        let within: Vec<String> = m
            .within_target
            .iter()
            .map(|w| {
                format!(
                    "{:.1}% ≤ {} {}",
                    w.share * 100.0,
                    w.hours,
                    lang.t(Text::Hours)
                )
            })
            .collect();
        let _ = match lang {
            Lang::En => write!(
                s,
                "<p>From {} to {}: median <b>{} h</b>, mean {} h, 90% of consignments within {} h \
                 (based on {} consignments with both stamps). Released within targets: {}.</p>",
                escape(&t.from),
                escape(&t.to),
                hours(m.median_minutes),
                hours(m.mean_minutes),
                hours(m.p90_minutes),
                m.count,
                within.join(", ")
            ),
            Lang::Ru => write!(
                s,
                "<p>От этапа «{}» до этапа «{}»: медиана <b>{} ч</b>, среднее {} ч, 90% партий — \
                 не более {} ч (по {} партиям с обеими отметками). Выпуск в пределах целевых \
                 сроков: {}.</p>",
                escape(&t.from),
                escape(&t.to),
                hours(m.median_minutes),
                hours(m.mean_minutes),
                hours(m.p90_minutes),
                m.count,
                within.join(", ")
            ),
        };
    }
    if !report.headline.is_empty() && report.method.outlier_rule != OutlierRule::None {
        let (caption, from_to, with, without) = match lang {
            Lang::En => (
                "Headline figures with and without the extreme values (hours)",
                "Interval",
                "with",
                "without",
            ),
            Lang::Ru => (
                "Основные показатели с экстремальными значениями и без них (часы)",
                "Интервал",
                "с ними",
                "без них",
            ),
        };
        let _ = write!(
            s,
            "<table id=\"headline\"><caption>{caption}</caption><thead><tr><th>{from_to}</th>\
             <th class=\"num\">n ({with})</th><th class=\"num\">n ({without})</th>\
             <th class=\"num\">median ({with})</th><th class=\"num\">median ({without})</th>\
             <th class=\"num\">mean ({with})</th><th class=\"num\">mean ({without})</th>\
             <th class=\"num\">p90 ({with})</th><th class=\"num\">p90 ({without})</th></tr></thead><tbody>"
        );
        for h in &report.headline {
            let (a, b) = (&h.with_outliers, &h.without_outliers);
            let _ = write!(
                s,
                "<tr><td>{} → {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&h.from),
                escape(&h.to),
                a.count,
                b.count,
                hours(a.median_minutes),
                hours(b.median_minutes),
                hours(a.mean_minutes),
                hours(b.mean_minutes),
                hours(a.p90_minutes),
                hours(b.p90_minutes)
            );
        }
        s.push_str("</tbody></table>");
    }
    if let Some(top) = report
        .bottlenecks
        .iter()
        .find(|b| b.segment_by == "all")
        .and_then(|b| b.stages.first())
    {
        let _ = match lang {
            Lang::En => write!(
                s,
                "<p>The largest share of the time goes to <b>{} → {}</b>: {:.0}% of the sum of \
                 stage means (mean {:.1} min).</p>",
                escape(&top.from),
                escape(&top.to),
                top.share * 100.0,
                top.mean_minutes
            ),
            Lang::Ru => write!(
                s,
                "<p>Больше всего времени занимает этап <b>{} → {}</b>: {:.0}% суммы средних по \
                 этапам (в среднем {:.1} мин).</p>",
                escape(&top.from),
                escape(&top.to),
                top.share * 100.0,
                top.mean_minutes
            ),
        };
    }
    let _ = match lang {
        Lang::En => write!(
            s,
            "<p class=note>The mean of the totals is not the sum of the interval means, because \
             stamps go missing unevenly; every figure states how many consignments it rests on.</p>"
        ),
        Lang::Ru => write!(
            s,
            "<p class=note>Среднее общего времени не равно сумме средних по интервалам, так как \
             отметки отсутствуют неравномерно; для каждого показателя указано число партий.</p>"
        ),
    };
    s
}

fn stats_table(rows: &[&IntervalStats], lang: Lang, targets: &[f64], with_segment: bool) -> String {
    let mut s = String::from("<table><tr>");
    if with_segment {
        let _ = write!(
            s,
            "<th class=l>{}</th><th class=l>{}</th>",
            lang.t(Text::SegmentBy),
            lang.t(Text::Segment)
        );
    }
    let m = lang.t(Text::Minutes);
    let _ = write!(
        s,
        "<th class=l>{}</th><th class=l>{}</th><th>{}</th><th>{} ({m})</th><th>{} ({m})</th>\
         <th>p75 ({m})</th><th>p90 ({m})</th><th>p95 ({m})</th><th>min ({m})</th><th>max ({m})</th><th>sd ({m})</th>",
        lang.t(Text::From),
        lang.t(Text::To),
        lang.t(Text::Count),
        lang.t(Text::Mean),
        lang.t(Text::Median)
    );
    for t in targets {
        let _ = write!(
            s,
            "<th>% {} {t} {}</th>",
            lang.t(Text::Within),
            lang.t(Text::Hours)
        );
    }
    s.push_str("</tr>");
    for r in rows {
        let x = &r.summary;
        s.push_str("<tr>");
        if with_segment {
            let _ = write!(
                s,
                "<td class=l>{}</td><td class=l>{}</td>",
                escape(&r.segment_by),
                escape(r.segment.as_deref().unwrap_or(lang.t(Text::All)))
            );
        }
        let _ = write!(
            s,
            "<td class=l>{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(&r.from),
            escape(&r.to),
            x.count,
            num(x.mean_minutes),
            num(x.median_minutes),
            num(x.p75_minutes),
            num(x.p90_minutes),
            num(x.p95_minutes),
            num(x.min_minutes),
            num(x.max_minutes),
            num(x.std_minutes)
        );
        for w in &x.within_target {
            let _ = write!(s, "<td>{:.1}</td>", w.share * 100.0);
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// The "expected / rule" cell of a finding: the engine's English message, preceded in a Russian
/// report by the rule in Russian (the English detail keeps formats, lines and fences).
fn finding_rule(lang: Lang, f: &smartborder_model::Finding) -> String {
    match lang.rule(f.kind) {
        Some(rule) => format!("{}<br><small>{}</small>", escape(rule), escape(&f.message)),
        None => escape(&f.message),
    }
}

/// The method section: the engine's own wording in English, its translation in Russian.
fn method_lines(report: &TrsReport, lang: Lang) -> Vec<String> {
    let m = &report.method;
    match lang {
        Lang::En => [
            &m.interval_rule,
            &m.quantiles,
            &m.standard_deviation,
            &m.extreme_values,
            &m.bottleneck_share,
            &m.working_time,
            &m.duplicates,
        ]
        .into_iter()
        .cloned()
        .collect(),
        Lang::Ru => {
            vec![
                "d(i,k) = t(до) − t(от). Интервал учитывается для партии, если обе отметки есть и \
                 читаются и d ≥ 0; отрицательный d исключается из этого интервала и попадает в \
                 замечания, остальные интервалы партии учитываются. Общее время: от прибытия до \
                 выпуска (если есть обе отметки) и от первой до последней имеющейся отметки."
                    .to_string(),
                "Квантили — линейная интерполяция между ближайшими рангами (как numpy по \
                 умолчанию и quantile_cont в DuckDB): h = (n − 1)p, Q(p) = x[⌊h⌋] + (h − ⌊h⌋)\
                 (x[⌊h⌋+1] − x[⌊h⌋])."
                    .to_string(),
                "Стандартное отклонение — выборочное, делитель n − 1.".to_string(),
                format!(
                    "{} {} Основные показатели приведены с ними и без них.",
                    match m.outlier_rule {
                        OutlierRule::Iqr { k } => format!(
                            "Для каждого интервала и поста: значение ниже Q1 − {k}·IQR или выше \
                             Q3 + {k}·IQR считается экстремальным (IQR = Q3 − Q1)."
                        ),
                        OutlierRule::Trim { percent } => format!(
                            "Для каждого интервала и поста: значение ниже {percent}-го или выше \
                             {}-го процентиля считается экстремальным (отсечение {percent}% с \
                             каждой стороны).",
                            100.0 - percent
                        ),
                        OutlierRule::None => "Правило для экстремальных значений не \
                                              применяется: учитываются все длительности."
                            .to_string(),
                    },
                    if m.extremes_excluded {
                        "Экстремальные значения исключены из статистики."
                    } else {
                        "Экстремальные значения показаны в замечаниях и оставлены в статистике."
                    }
                ),
                "Доля этапа = среднее его интервала / сумма средних всех последовательных этапов \
                 в том же сегменте."
                    .to_string(),
                if m.working_time_measured {
                    "Рабочее время учитывает только минуты в часы работы поста в его рабочие дни, \
                     по местному времени поста."
                } else {
                    "Часы работы в файле сопоставления не заданы: показано только календарное время."
                }
                .to_string(),
                "Повторный идентификатор партии попадает в замечания; более поздняя строка \
                 исключается."
                    .to_string(),
            ]
        }
    }
}

/// A section with the whole-population rows of an interval table.
fn population_section(
    intervals: &[IntervalStats],
    lang: Lang,
    title: Text,
    targets: &[f64],
) -> String {
    let all: Vec<&IntervalStats> = intervals.iter().filter(|s| s.segment_by == "all").collect();
    format!(
        "<section><h2>{}</h2>{}</section>",
        lang.t(title),
        stats_table(&all, lang, targets, false)
    )
}

/// Renders the whole report.
pub(crate) fn render(report: &TrsReport, lang: Lang) -> String {
    let mut h = String::with_capacity(1 << 20);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {}</title>\
         <style>{STYLE}</style></head><body><h1>{}</h1>",
        lang.code(),
        lang.t(Text::Title),
        escape(&report.input),
        lang.t(Text::Title)
    );
    let _ = write!(
        h,
        "<section><h2>{}</h2>{}</section>",
        lang.t(Text::Summary),
        summary(report, lang)
    );

    h.push_str(&population_section(
        &report.intervals,
        lang,
        Text::Stages,
        &report.targets_hours,
    ));

    if let Some(trends) = &report.trends {
        let _ = write!(
            h,
            "<section id=\"trends\"><h2>{}</h2><p class=note>{}</p>",
            lang.t(Text::Trends),
            lang.t(Text::TrendLegend)
        );
        // The whole population of each total interval, then of each consecutive one.
        for series in trends.series.iter().filter(|t| t.segment_by == "all") {
            let _ = write!(
                h,
                "<h3>{} → {}</h3>{}",
                escape(&series.from),
                escape(&series.to),
                svg::trend_chart(series)
            );
            if !series.flagged.is_empty() {
                let _ = write!(
                    h,
                    "<p class=note>{}: {}</p>",
                    lang.t(Text::TrendFlagged),
                    escape(&series.flagged.join(", "))
                );
            }
        }
        let method = match lang {
            Lang::En => trends.method.clone(),
            Lang::Ru => format!(
                "По {} первой отметки интервала (UTC; недели ISO): число партий, медиана, среднее \
                 и p90. Контрольные границы медиан: центр = медиана медиан периодов, разброс = \
                 1,4826 × их медианное абсолютное отклонение от центра, границы = центр ± {} × \
                 разброс; границы задают и отмечаются только периоды не менее чем с {} партиями, \
                 ряду нужно три таких периода.",
                match trends.period {
                    TrendPeriod::Week => "неделям",
                    TrendPeriod::Month => "месяцам",
                },
                LIMIT_K,
                MIN_PERIOD_COUNT
            ),
        };
        let _ = write!(h, "<p class=note>{}</p></section>", escape(&method));
    }
    let _ = write!(h, "<section><h2>{}</h2>", lang.t(Text::Distributions));
    for hist in &report.histograms {
        let _ = write!(
            h,
            "<h3>{} → {}</h3>{}",
            escape(&hist.from),
            escape(&hist.to),
            svg::histogram(hist)
        );
    }
    h.push_str("</section>");

    if let Some(total) = headline(report) {
        let _ = write!(
            h,
            "<section><h2>{}</h2><p class=note>{}</p>",
            lang.t(Text::BoxPlots),
            lang.t(Text::BoxLegend)
        );
        for seg in &report.segments {
            let rows: Vec<&IntervalStats> = report
                .intervals
                .iter()
                .filter(|s| {
                    s.from == total.from
                        && s.to == total.to
                        && (s.segment_by == "all" || s.segment_by == *seg)
                })
                .collect();
            let _ = write!(
                h,
                "<h3>{}</h3>{}",
                escape(seg),
                svg::box_plots(&rows, lang.t(Text::All))
            );
        }
        let segmented: Vec<&IntervalStats> = report
            .intervals
            .iter()
            .filter(|s| s.segment_by != "all")
            .collect();
        h.push_str(&stats_table(&segmented, lang, &report.targets_hours, true));
        h.push_str("</section>");
    }

    let _ = write!(
        h,
        "<section><h2>{}</h2><p class=note>{}</p>",
        lang.t(Text::Bottlenecks),
        lang.t(Text::BottleneckLegend)
    );
    let groups: Vec<&str> = std::iter::once("all")
        .chain(report.segments.iter().map(String::as_str))
        .collect();
    for g in groups {
        let bars: Vec<_> = report
            .bottlenecks
            .iter()
            .filter(|b| b.segment_by == g)
            .collect();
        if !bars.is_empty() {
            let _ = write!(
                h,
                "<h3>{}</h3>{}",
                escape(g),
                svg::bottleneck_bars(&bars, &report.stages, lang.t(Text::All))
            );
        }
    }
    h.push_str("</section>");

    let _ = write!(
        h,
        "<section><h2>{}</h2><p class=note>{}</p>{}</section>",
        lang.t(Text::Heatmap),
        lang.t(Text::HeatmapLegend),
        svg::heatmap(
            &report.arrival_pattern,
            lang.t(Text::Days),
            lang.t(Text::Hours)
        )
    );

    if !report.working_time_intervals.is_empty() {
        h.push_str(&population_section(
            &report.working_time_intervals,
            lang,
            Text::WorkingTime,
            &report.targets_hours,
        ));
    }

    let _ = write!(h, "<section><h2>{}</h2>", lang.t(Text::Findings));
    if report.findings_summary.is_empty() {
        let _ = write!(h, "<p>{}</p>", lang.t(Text::NoFindings));
    } else {
        let _ = write!(
            h,
            "<table><tr><th class=l>{}</th><th>{}</th><th>{}</th></tr>",
            lang.t(Text::Kind),
            lang.t(Text::Count),
            lang.t(Text::Listed)
        );
        for c in &report.findings_summary {
            let _ = write!(
                h,
                "<tr><td class=l>{} (<code>{}</code>)</td><td>{}</td><td>{}</td></tr>",
                lang.finding(c.kind),
                c.kind.code(),
                c.count,
                c.listed
            );
        }
        h.push_str("</table>");
        const HTML_LIMIT: usize = 200;
        for c in &report.findings_summary {
            let _ = write!(h, "<h3>{}</h3><table><tr>", lang.finding(c.kind));
            for t in [
                Text::File,
                Text::Line,
                Text::Column,
                Text::Consignment,
                Text::Value,
                Text::Rule,
            ] {
                let _ = write!(h, "<th class=l>{}</th>", lang.t(t));
            }
            h.push_str("</tr>");
            for f in report
                .findings
                .iter()
                .filter(|f| f.kind == c.kind)
                .take(HTML_LIMIT)
            {
                let _ = write!(
                    h,
                    "<tr><td class=l>{}</td><td>{}</td><td class=l>{}</td><td class=l>{}</td><td class=l>{}</td><td class=l>{}</td></tr>",
                    escape(&f.file),
                    f.line.map_or_else(String::new, |l| l.to_string()),
                    escape(f.column.as_deref().unwrap_or("")),
                    escape(f.consignment.as_deref().unwrap_or("")),
                    escape(f.value.as_deref().unwrap_or("")),
                    finding_rule(lang, f)
                );
            }
            h.push_str("</table>");
            if c.count as usize > HTML_LIMIT {
                let _ = write!(
                    h,
                    "<p class=note>+{} {}</p>",
                    c.count as usize - HTML_LIMIT,
                    lang.t(Text::MoreFindings)
                );
            }
        }
    }
    h.push_str("</section>");

    let _ = write!(h, "<section><h2>{}</h2><ul>", lang.t(Text::Method));
    for line in method_lines(report, lang) {
        let _ = write!(h, "<li>{}</li>", escape(&line));
    }
    h.push_str("</ul></section></body></html>");
    h
}
