//! Everything a trainee reads, in English and Russian: the brief of a risk world and the
//! feedback on a graded submission. Each text is one `match` on the language, so a language
//! cannot lack a text.

use std::fmt::Write as _;

use crate::grade::Grade;
use crate::risk_world::World;
use crate::scenario::{
    PatternKind, RiskScenario, SelectivityScenario, TransitScenario, TrsScenario,
};
use crate::selectivity_world::{SelectivityGrade, SelectivityWorld};
use crate::transit_world::{TransitCase, TransitGrade, office_name};
use crate::trs_world::TrsGrade;

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

/// The brief of a TRS world.
pub fn trs_brief(lang: Lang, def: &TrsScenario) -> String {
    match lang {
        Lang::En => format!(
            "# {title}\n\n\
             You are in the Time Release Study working group of the corridor. `trs.csv` is a year \
             of {n} consignments through the corridor's posts, with the stamps of each stage in \
             the post's local time; `trs.mapping.toml` reads it (`smartborder trs run trs.csv \
             --mapping trs.mapping.toml`).\n\n\
             ## Tasks\n\n\
             1. At one road post, consignments with an other-agency control wait much longer on \
             some days of the week. Which post? (`weekend_post`)\n\
             2. At another road post, arrivals at some hours wait for registration. Which post? \
             (`night_queue_post`)\n\
             3. At a third road post the red lane's control stage grew much longer from the first \
             day of a month. Which post, and from which month? (`doubling_post`, `doubling_month`) What is \
             the median time from arrival to release of its red lane from then on, in hours? \
             (`red_median_hours`, within {tol:.0}%)\n\
             4. Some rows are wrong: written twice, with two stamps swapped, or with a zone that \
             is not the post's. List them with the reason (`[[wrong_row]]`).\n\n\
             Write your answers in `answers.toml`. Points: 20, 15, 15, 10 + 10, and 30 for the \
             wrong rows (F1 of the rows and reasons you name); pass mark {pass}.\n",
            title = def.title_en,
            n = def.consignments,
            tol = crate::trs_world::TOLERANCE * 100.0,
            pass = def.pass_mark,
        ),
        Lang::Ru => format!(
            "# {title}\n\n\
             Вы в рабочей группе по исследованию времени выпуска в коридоре. `trs.csv` — партии \
             за год ({n}) через пункты коридора, с отметками каждого этапа по местному времени \
             пункта; файл читает `trs.mapping.toml` (`smartborder trs run trs.csv --mapping \
             trs.mapping.toml`).\n\n\
             ## Задания\n\n\
             1. На одном автомобильном пункте партии с контролем других ведомств в некоторые дни \
             недели ждут намного дольше. Какой это пункт? (`weekend_post`)\n\
             2. На другом автомобильном пункте партии, прибывшие в определённые часы, ждут \
             регистрации. Какой это пункт? (`night_queue_post`)\n\
             3. На третьем автомобильном пункте этап контроля красного коридора резко удлинился с \
             первого числа некоторого месяца. Какой пункт и с какого месяца? (`doubling_post`, \
             `doubling_month`) Какова с тех пор медиана времени от прибытия до выпуска в красном \
             коридоре, в часах? (`red_median_hours`, с точностью {tol:.0}%)\n\
             4. Некоторые строки ошибочны: записаны дважды, с переставленными отметками или с \
             часовым поясом не этого пункта. Перечислите их с причиной (`[[wrong_row]]`).\n\n\
             Ответы запишите в `answers.toml`. Баллы: 20, 15, 15, 10 + 10 и 30 за ошибочные \
             строки (F1 по названным строкам и причинам); проходной балл {pass}.\n",
            title = def.title_ru,
            n = def.consignments,
            tol = crate::trs_world::TOLERANCE * 100.0,
            pass = def.pass_mark,
        ),
    }
}

/// The feedback on graded TRS answers.
pub fn trs_feedback(lang: Lang, g: &TrsGrade) -> String {
    let mut s = String::new();
    let (verdict, question_word, given_word, expected_word) = match lang {
        Lang::En => (
            if g.passed { "passed" } else { "not passed" },
            "question",
            "your answer",
            "expected",
        ),
        Lang::Ru => (
            if g.passed {
                "зачтено"
            } else {
                "не зачтено"
            },
            "вопрос",
            "ваш ответ",
            "ожидалось",
        ),
    };
    let _ = match lang {
        Lang::En => writeln!(
            s,
            "Score {:.1} of {:.0} (pass mark {:.0}): {verdict}.",
            g.score, g.max_score, g.pass_mark
        ),
        Lang::Ru => writeln!(
            s,
            "Балл {:.1} из {:.0} (проходной {:.0}): {verdict}.",
            g.score, g.max_score, g.pass_mark
        ),
    };
    for q in &g.questions {
        let _ = writeln!(
            s,
            "- {question_word} {}: {:.1} / {:.0}; {given_word}: {}; {expected_word}: {}",
            q.question,
            q.points,
            q.max_points,
            if q.given.is_empty() { "-" } else { &q.given },
            q.expected
        );
    }
    s
}

/// A planted pattern's kind in words, the same in every variant (for item analysis).
pub fn pattern_label(kind: PatternKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (PatternKind::Undervaluation, Lang::En) => "undervaluation by related importers",
        (PatternKind::Undervaluation, Lang::Ru) => "занижение стоимости связанными импортёрами",
        (PatternKind::Misclassification, Lang::En) => "misclassification to a lower duty",
        (PatternKind::Misclassification, Lang::Ru) => "неверная классификация с меньшей пошлиной",
        (PatternKind::Transhipment, Lang::En) => "origin hidden by transhipment",
        (PatternKind::Transhipment, Lang::Ru) => "сокрытие происхождения через перевалку",
        (PatternKind::NewTraderBurst, Lang::En) => "burst of new traders",
        (PatternKind::NewTraderBurst, Lang::Ru) => "всплеск новых участников ВЭД",
        (PatternKind::Decoy, Lang::En) => "decoy left alone",
        (PatternKind::Decoy, Lang::Ru) => "ловушка не досмотрена",
    }
}

/// A TRS question in words (for item analysis).
pub fn question_label(question: &str, lang: Lang) -> &'static str {
    match (question, lang) {
        ("red_median_hours", Lang::En) => "red-lane median after the doubling",
        ("red_median_hours", Lang::Ru) => "медиана красного коридора после удлинения",
        ("weekend_post", Lang::En) => "post of the weekend other-agency stall",
        ("weekend_post", Lang::Ru) => "пункт с простоем контроля других ведомств",
        ("night_queue_post", Lang::En) => "post of the night queue",
        ("night_queue_post", Lang::Ru) => "пункт с ночной очередью",
        ("doubling_post", Lang::En) => "post whose red-lane control doubled",
        ("doubling_post", Lang::Ru) => "пункт, где удлинился контроль",
        ("doubling_month", Lang::En) => "month the control doubled",
        ("doubling_month", Lang::Ru) => "месяц удлинения контроля",
        (_, Lang::En) => "wrong rows found",
        (_, Lang::Ru) => "найденные ошибочные строки",
    }
}

/// The brief of a selectivity world.
pub fn selectivity_brief(
    lang: Lang,
    def: &SelectivityScenario,
    world: &SelectivityWorld,
) -> String {
    let inspected = world.inspected.iter().filter(|x| **x).count();
    let mut posts = String::new();
    for p in &world.posts {
        let _ = writeln!(
            posts,
            "| {} | {} | {} |",
            p.office, p.declarations_per_day, p.capacity_per_day
        );
    }
    match lang {
        Lang::En => format!(
            "# {title}\n\n\
             You are the risk analyst who sets the selectivity of {n} posts. Each post can \
             inspect only so many declarations a day; every declaration comes with the risk score \
             of the administration's model (0 to 1).\n\n\
             | Post | Declarations per day | Inspections per day (capacity) |\n\
             |---|---|---|\n{posts}\n\
             ## Files\n\n\
             - `history.csv`: {h} days, {hn} declarations with their risk scores; {inspected} of \
             them were inspected at random and show the result and the revenue recovered.\n\
             - `stream.csv`: the next {d} days ({sn} declarations), scores only. Your plan is \
             graded on them.\n\
             - `posts.csv`: the table above. `plan.toml`: your plan, every post at zero.\n\n\
             ## Task\n\n\
             For each post set the red lane's `expected` share (filled with the highest scores) and \
             its `random` share. The administration requires a random share of at least {min}% at \
             every post. Red-lane declarations beyond a day's capacity are released uninspected.\n\n\
             ## Grading\n\n\
             Non-compliance found and revenue recovered within capacity, half each, on a scale \
             from the full capacity spent at random (0) to the reference plan (100); pass mark \
             {pass}. The feedback shows each post's capacity used, the overflow and the random \
             share.\n",
            title = def.title_en,
            n = world.posts.len(),
            h = def.history_days,
            hn = world.history.len(),
            d = def.days,
            sn = world.later.len(),
            min = def.minimum_random_percent,
            pass = def.pass_mark,
        ),
        Lang::Ru => format!(
            "# {title}\n\n\
             Вы аналитик по рискам и настраиваете селективность {n} пунктов. Каждый пункт может \
             досмотреть в день лишь ограниченное число деклараций; у каждой декларации есть оценка \
             риска модели администрации (от 0 до 1).\n\n\
             | Пункт | Деклараций в день | Досмотров в день (возможности) |\n\
             |---|---|---|\n{posts}\n\
             ## Файлы\n\n\
             - `history.csv`: {h} дней, {hn} деклараций с оценками риска; {inspected} из них \
             досмотрены случайным образом, указаны результат и доначисленные платежи.\n\
             - `stream.csv`: следующие {d} дней ({sn} деклараций), только оценки. По ним \
             оценивается ваш план.\n\
             - `posts.csv`: таблица выше. `plan.toml`: ваш план, у всех пунктов нули.\n\n\
             ## Задание\n\n\
             Для каждого пункта задайте долю красного коридора `expected` (заполняется \
             декларациями с наибольшими оценками) и случайную долю `random`. Администрация \
             требует случайную долю не меньше {min}% на каждом пункте. Декларации красного \
             коридора сверх дневных возможностей выпускаются без досмотра.\n\n\
             ## Оценка\n\n\
             Выявленные нарушения и доначисленные платежи в пределах возможностей, поровну, по \
             шкале от случайного досмотра в пределах всех возможностей (0) до эталонного плана \
             (100); проходной балл {pass}. В отзыве — загрузка каждого пункта, превышение \
             возможностей и случайная доля.\n",
            title = def.title_ru,
            n = world.posts.len(),
            h = def.history_days,
            hn = world.history.len(),
            d = def.days,
            sn = world.later.len(),
            min = def.minimum_random_percent,
            pass = def.pass_mark,
        ),
    }
}

/// The feedback on a graded selectivity plan.
pub fn selectivity_feedback(lang: Lang, g: &SelectivityGrade) -> String {
    let mut s = String::new();
    let t = &g.trainee;
    let r = &g.reference;
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
                "Your plan found {} non-compliant declarations and {:.0} USD within capacity; the reference plan {} and {:.0} USD; the full capacity spent at random about {:.0} and {:.0} USD.",
                t.found, t.revenue, r.found, r.revenue, g.random_found, g.random_revenue
            );
            let _ = writeln!(s, "\nPosts:");
            for p in &t.posts {
                let _ = writeln!(
                    s,
                    "- {}: {} in the red lane, {} inspected of a capacity of {} ({:.0}%), {} released over capacity; random share {:.2}%{}",
                    p.office,
                    p.red,
                    p.inspected,
                    p.capacity,
                    100.0 * p.inspected as f64 / p.capacity.max(1) as f64,
                    p.over_capacity,
                    p.random_percent,
                    if p.random_percent + 1e-9 < g.minimum_random_percent {
                        format!(", below the required {}%", g.minimum_random_percent)
                    } else {
                        String::new()
                    }
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
                "Ваш план выявил нарушений: {} и {:.0} USD в пределах возможностей; эталонный план — {} и {:.0} USD; случайный досмотр в пределах всех возможностей — около {:.0} и {:.0} USD.",
                t.found, t.revenue, r.found, r.revenue, g.random_found, g.random_revenue
            );
            let _ = writeln!(s, "\nПункты:");
            for p in &t.posts {
                let _ = writeln!(
                    s,
                    "- {}: в красном коридоре {}, досмотрено {} при возможностях {} ({:.0}%), выпущено сверх возможностей {}; случайная доля {:.2}%{}",
                    p.office,
                    p.red,
                    p.inspected,
                    p.capacity,
                    100.0 * p.inspected as f64 / p.capacity.max(1) as f64,
                    p.over_capacity,
                    p.random_percent,
                    if p.random_percent + 1e-9 < g.minimum_random_percent {
                        format!(", ниже требуемых {}%", g.minimum_random_percent)
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    s
}

/// An instant as an office's clock shows it: "2026-03-02 10:10 (Asia/Almaty)".
fn local(at: chrono::DateTime<chrono::Utc>, office: &str) -> String {
    let zone =
        smartborder_transit::country_zone(office.get(..2).unwrap_or("")).unwrap_or(chrono_tz::UTC);
    format!(
        "{} ({})",
        at.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
        zone.name()
    )
}

/// The brief of a transit exercise: the movement's story, each step in its office's local time.
pub fn transit_brief(lang: Lang, def: &TransitScenario, case: &TransitCase) -> String {
    let name = |o: &str| format!("{o} {}", office_name(o));
    let transit: Vec<String> = case
        .route
        .transit
        .iter()
        .map(|t| name(t.office.as_str()))
        .collect();
    let mut story = String::new();
    for e in &case.log.events {
        let at = local(e.at, &e.office);
        let o = name(&e.office);
        let line = match (lang, e.kind.as_str()) {
            (Lang::En, "accepted") => {
                format!("{at}: {o} accepts the declaration and allocates the MRN.")
            }
            (Lang::En, "released_for_transit") => format!(
                "{at}: {o} releases the goods for transit; the goods must be presented at destination by {}.",
                e.limit_date.map_or(String::new(), |l| local(l, &e.office))
            ),
            (Lang::En, "anticipated_transit_record") => {
                format!("{at}: the anticipated transit record reaches {o}.")
            }
            (Lang::En, "arrival_at_transit") => format!("{at}: the truck is presented at {o}."),
            (Lang::En, "incident") => format!(
                "{at}: at {o} the officer finds a seal damaged; the goods are checked and resealed."
            ),
            (Lang::En, "frontier_crossed") => {
                format!("{at}: the truck leaves {o} across the frontier.")
            }
            (Lang::En, "arrival_at_destination") => format!("{at}: the goods arrive at {o}."),
            (Lang::En, "unloading_remarks") => format!(
                "{at}: {o} finishes unloading: {}.",
                if e.conform == Some(true) {
                    "everything conforms to the declaration"
                } else {
                    "two packages fewer than declared"
                }
            ),
            (Lang::En, "goods_released") => format!("{at}: {o} releases the goods."),
            (Lang::En, _) => format!("{at}: {o} closes the movement."),
            (Lang::Ru, "accepted") => format!("{at}: {o} принимает декларацию и присваивает MRN."),
            (Lang::Ru, "released_for_transit") => format!(
                "{at}: {o} выпускает товары для транзита; срок доставки в место назначения — {}.",
                e.limit_date.map_or(String::new(), |l| local(l, &e.office))
            ),
            (Lang::Ru, "anticipated_transit_record") => {
                format!("{at}: предварительная транзитная запись поступает в {o}.")
            }
            (Lang::Ru, "arrival_at_transit") => format!("{at}: грузовик предъявлен в {o}."),
            (Lang::Ru, "incident") => format!(
                "{at}: в {o} инспектор обнаруживает повреждённую пломбу; товары проверены и опломбированы заново."
            ),
            (Lang::Ru, "frontier_crossed") => {
                format!("{at}: грузовик покидает {o} и пересекает границу.")
            }
            (Lang::Ru, "arrival_at_destination") => format!("{at}: товары прибывают в {o}."),
            (Lang::Ru, "unloading_remarks") => format!(
                "{at}: {o} завершает разгрузку: {}.",
                if e.conform == Some(true) {
                    "всё соответствует декларации"
                } else {
                    "на два места меньше заявленного"
                }
            ),
            (Lang::Ru, "goods_released") => format!("{at}: {o} выпускает товары."),
            (Lang::Ru, _) => format!("{at}: {o} завершает процедуру."),
        };
        let _ = writeln!(story, "- {line}");
    }
    match lang {
        Lang::En => format!(
            "# {title}\n\n\
             Declaration {lrn}: {goods}. Route: office of departure {dep}; offices of transit \
             {transit}; office of destination {dest}.\n\n\
             ## What happened (each office's local time)\n\n{story}\n\
             ## Task\n\n\
             Write the movement's log in `movement.toml`: every event in order, with the NCTS \
             Phase 5 message that carries it, the office and the instant in UTC. The log is \
             replayed by the single window's own lifecycle (a sandbox: nothing reaches a real \
             single window); an event it would refuse is refused with its reason.\n\n\
             ## Grading\n\n\
             Events of the lifecycle accepted 40, NCTS messages 15, times in UTC (within a minute) \
             20, the limit date 10, the unloading remarks 10, a clean log ending written off 5; \
             pass mark {pass}.\n",
            title = def.title_en,
            lrn = case.lrn,
            goods = case.goods,
            dep = name(case.route.departure.as_str()),
            transit = transit.join(", "),
            dest = name(case.route.destination.as_str()),
            pass = def.pass_mark,
        ),
        Lang::Ru => format!(
            "# {title}\n\n\
             Декларация {lrn}: {goods}. Маршрут: таможня отправления {dep}; таможни транзита \
             {transit}; таможня назначения {dest}.\n\n\
             ## Что произошло (по местному времени каждой таможни)\n\n{story}\n\
             ## Задание\n\n\
             Запишите журнал перемещения в `movement.toml`: каждое событие по порядку, с \
             сообщением NCTS Phase 5, таможней и моментом по UTC. Журнал воспроизводится \
             жизненным циклом самого единого окна (песочница: в настоящее единое окно ничего не \
             попадает); событие, которое оно отклонило бы, отклоняется с причиной.\n\n\
             ## Оценка\n\n\
             Принятые события жизненного цикла 40, сообщения NCTS 15, время по UTC (с точностью \
             до минуты) 20, срок доставки 10, результаты разгрузки 10, журнал без ошибок до \
             завершения 5; проходной балл {pass}.\n",
            title = def.title_ru,
            lrn = case.lrn,
            goods = case.goods_ru,
            dep = name(case.route.departure.as_str()),
            transit = transit.join(", "),
            dest = name(case.route.destination.as_str()),
            pass = def.pass_mark,
        ),
    }
}

/// A part of a transit grade in words (for item analysis).
pub fn transit_part_label(part: &str, lang: Lang) -> &'static str {
    match (part, lang) {
        ("lifecycle", Lang::En) => "every event of the lifecycle accepted",
        ("lifecycle", Lang::Ru) => "все события жизненного цикла приняты",
        ("messages", Lang::En) => "the NCTS message of each event",
        ("messages", Lang::Ru) => "сообщение NCTS каждого события",
        ("times_utc", Lang::En) => "local times converted to UTC",
        ("times_utc", Lang::Ru) => "местное время переведено в UTC",
        ("limit_date", Lang::En) => "the limit date",
        ("limit_date", Lang::Ru) => "срок доставки",
        ("unloading_remarks", Lang::En) => "the unloading remarks",
        ("unloading_remarks", Lang::Ru) => "результаты разгрузки",
        (_, Lang::En) => "a clean log ending written off",
        (_, Lang::Ru) => "журнал без ошибок до завершения",
    }
}

/// The feedback on a replayed movement log.
pub fn transit_feedback(lang: Lang, g: &TransitGrade) -> String {
    let mut s = String::new();
    let (verdict, accepted, refused, missing_word, points_word, wrong_message) = match lang {
        Lang::En => (
            if g.passed { "passed" } else { "not passed" },
            "accepted",
            "refused",
            "Missing from your log",
            "Points",
            " (not the event's NCTS message)",
        ),
        Lang::Ru => (
            if g.passed {
                "зачтено"
            } else {
                "не зачтено"
            },
            "принято",
            "отклонено",
            "Нет в вашем журнале",
            "Баллы",
            " (сообщение NCTS не то)",
        ),
    };
    let status = serde_json::to_value(g.final_status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = match lang {
        Lang::En => writeln!(
            s,
            "Score {:.1} of {:.0} (pass mark {:.0}): {verdict}. The movement ends {status}.",
            g.score, g.max_score, g.pass_mark
        ),
        Lang::Ru => writeln!(
            s,
            "Балл {:.1} из {:.0} (проходной {:.0}): {verdict}. Итоговый статус перемещения: {status}.",
            g.score, g.max_score, g.pass_mark
        ),
    };
    for (k, r) in g.replayed.iter().enumerate() {
        let mark = if r.message_right { "" } else { wrong_message };
        match &r.refused {
            None => {
                let _ = writeln!(s, "{}. {} at {}: {accepted}{mark}", k + 1, r.kind, r.office);
            }
            Some(why) => {
                let _ = writeln!(s, "{}. {} at {}: {refused}: {why}", k + 1, r.kind, r.office);
            }
        }
    }
    if !g.missing.is_empty() {
        let _ = writeln!(s, "{missing_word}: {}", g.missing.join("; "));
    }
    let _ = writeln!(s, "{points_word}:");
    for (part, points, max) in &g.parts {
        let _ = writeln!(
            s,
            "- {}: {points:.1} / {max:.0}",
            transit_part_label(part, lang)
        );
    }
    s
}
