//! Everything a trainee reads, in English and Russian: the brief of a risk world and the
//! feedback on a graded submission. Each text is one `match` on the language, so a language
//! cannot lack a text.

use std::fmt::Write as _;

use crate::grade::Grade;
use crate::risk_world::World;
use crate::scenario::RiskScenario;

/// A language of the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }
}

/// The brief of a risk world: the situation, the files, the task and how it is graded.
pub fn brief(lang: Lang, def: &RiskScenario, world: &World) -> String {
    let inspected = world.inspected.iter().filter(|x| **x).count();
    let budget = ((world.later.len() as f64) * def.budget_percent / 100.0).round() as usize;
    match lang {
        Lang::En => format!(
            "# {title}\n\n\
             You are a risk analyst of the customs of {country}. The file `history.csv` holds \
             {history} import declarations of {months} months; {inspected} of them were inspected \
             at random, and only those have a result (`Non-compliant`, `Revenue (USD)`). The file \
             `later.csv` holds the {later} declarations of the next {later_months} months, \
             without results. `mapping.toml` reads both (`smartborder risk ... --mapping mapping.toml`).\n\n\
             ## Task\n\n\
             Write risk profiles in the rule language (`smartborder risk rules check FILE`) that \
             select the non-compliant declarations of the later months. Your office can inspect \
             {budget} of them ({percent}%); profiles that hit more spend the capacity on the \
             declarations in date order.\n\n\
             ## Grading\n\n\
             Your file is run on the later months, whose results your trainer holds. The score is \
             the non-compliant declarations your selection finds within the capacity, against \
             what the reference profiles find (100 = as many; pass mark {pass}). A file that does \
             not parse is returned with the line and column of its error.\n",
            title = def.title_en,
            country = def.country,
            history = world.history.len(),
            months = def.history_months,
            later = world.later.len(),
            later_months = def.later_months,
            percent = def.budget_percent,
            pass = def.pass_mark,
        ),
        Lang::Ru => format!(
            "# {title}\n\n\
             Вы аналитик по рискам таможни ({country}). В файле `history.csv` {history} \
             деклараций на импорт за {months} мес.; {inspected} из них досмотрены выборочно, и \
             только у них есть результат (`Non-compliant`, `Revenue (USD)`). В файле `later.csv` \
             {later} деклараций следующих {later_months} мес., без результатов. Оба файла читает \
             `mapping.toml` (`smartborder risk ... --mapping mapping.toml`).\n\n\
             ## Задание\n\n\
             Составьте профили риска на языке правил (`smartborder risk rules check ФАЙЛ`), \
             отбирающие декларации с нарушениями за последующие месяцы. Ваш пост может досмотреть \
             {budget} из них ({percent}%); если профили отбирают больше, досматриваются \
             декларации в порядке дат.\n\n\
             ## Оценка\n\n\
             Ваш файл применяется к последующим месяцам, результаты которых известны тренеру. \
             Балл — число нарушений, найденных в пределах возможностей поста, по сравнению с \
             эталонными профилями (100 — столько же; проходной балл {pass}). Файл с ошибкой \
             возвращается с указанием строки и столбца.\n",
            title = def.title_ru,
            country = def.country,
            history = world.history.len(),
            months = def.history_months,
            later = world.later.len(),
            later_months = def.later_months,
            percent = def.budget_percent,
            pass = def.pass_mark,
        ),
    }
}

/// The feedback on a graded profile file.
pub fn feedback(lang: Lang, g: &Grade) -> String {
    let mut s = String::new();
    let t = &g.trainee;
    let r = &g.reference;
    let overall = &g.performance.overall;
    match lang {
        Lang::En => {
            let _ = writeln!(
                s,
                "Score {:.1} of {:.0} (pass mark {:.0}): {}.",
                g.score,
                g.max_score,
                g.pass_mark,
                if g.passed { "passed" } else { "not passed" }
            );
            let _ = writeln!(
                s,
                "Your profiles hit {} of {} later declarations; the capacity of {} inspections found {} non-compliant ({:.0} USD), with {} inspections of compliant declarations.",
                t.hits, g.later_declarations, g.budget, t.found, t.revenue_found, t.false_positives
            );
            let _ = writeln!(
                s,
                "The reference profiles hit {} and found {} ({:.0} USD) within the same capacity.",
                r.hits, r.found, r.revenue_found
            );
            let _ = writeln!(
                s,
                "Without the capacity limit: detection rate {:.3}, hit rate {:.3}, inspection rate {:.3}.",
                overall.detection_rate, overall.hit_rate, overall.inspection_rate
            );
            let _ = writeln!(s, "\nPlanted patterns:");
            for p in &g.patterns {
                let verdict = match (p.non_compliant, p.inspected) {
                    (true, 0) => "missed",
                    (true, _) => "caught",
                    (false, 0) => "left alone (right: it is compliant)",
                    (false, _) => "inspected (a decoy: these declarations are compliant)",
                };
                let _ = writeln!(
                    s,
                    "- {}: {} of {} hit, {} inspected: {verdict}",
                    p.name, p.hit, p.declarations, p.inspected
                );
            }
        }
        Lang::Ru => {
            let _ = writeln!(
                s,
                "Балл {:.1} из {:.0} (проходной {:.0}): {}.",
                g.score,
                g.max_score,
                g.pass_mark,
                if g.passed {
                    "зачтено"
                } else {
                    "не зачтено"
                }
            );
            let _ = writeln!(
                s,
                "Отобрано вашими профилями: {} из {} последующих деклараций. Досмотрено в пределах возможностей поста: {} из {}; выявлено нарушений: {} ({:.0} USD); досмотров без нарушений: {}.",
                t.hits,
                g.later_declarations,
                t.inspected,
                g.budget,
                t.found,
                t.revenue_found,
                t.false_positives
            );
            let _ = writeln!(
                s,
                "Эталонные профили при тех же возможностях: отобрано {}, выявлено нарушений: {} ({:.0} USD).",
                r.hits, r.found, r.revenue_found
            );
            let _ = writeln!(
                s,
                "Без ограничения возможностей: доля выявленного {:.3}, результативность {:.3}, доля досмотров {:.3}.",
                overall.detection_rate, overall.hit_rate, overall.inspection_rate
            );
            let _ = writeln!(s, "\nЗаложенные схемы:");
            for p in &g.patterns {
                let verdict = match (p.non_compliant, p.inspected) {
                    (true, 0) => "пропущена",
                    (true, _) => "выявлена",
                    (false, 0) => "не затронута (верно: нарушений нет)",
                    (false, _) => "досмотрена (ловушка: нарушений нет)",
                };
                let _ = writeln!(
                    s,
                    "- {}: отобрано {} из {}, досмотрено {}: {verdict}",
                    p.name_ru, p.hit, p.declarations, p.inspected
                );
            }
        }
    }
    s
}
