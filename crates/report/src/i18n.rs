//! Report text in English and Russian (the working languages of the corridor administrations).

use smartborder_model::FindingKind;

/// Language of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ru" => Ok(Lang::Ru),
            other => Err(format!("unknown language \"{other}\"; expected en or ru")),
        }
    }
}

/// Texts of the report, by key.
#[derive(Debug, Clone, Copy)]
pub enum Text {
    Title,
    Summary,
    Stages,
    From,
    To,
    Count,
    Mean,
    Median,
    Minutes,
    Hours,
    Within,
    Distributions,
    BoxPlots,
    BoxLegend,
    Bottlenecks,
    BottleneckLegend,
    Heatmap,
    HeatmapLegend,
    Findings,
    Kind,
    Listed,
    File,
    Line,
    Column,
    Consignment,
    Value,
    Rule,
    Method,
    WorkingTime,
    NoFindings,
    All,
    SegmentBy,
    Segment,
    MoreFindings,
    Days,
    Trends,
    TrendLegend,
    TrendFlagged,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    pub fn t(self, text: Text) -> &'static str {
        use Text::*;
        match (self, text) {
            (Lang::En, Title) => "Time Release Study",
            (Lang::Ru, Title) => "Исследование времени выпуска товаров",
            (Lang::En, Summary) => "Summary",
            (Lang::Ru, Summary) => "Краткие выводы",
            (Lang::En, Stages) => "Stages and intervals (whole population)",
            (Lang::Ru, Stages) => "Этапы и интервалы (вся совокупность)",
            (Lang::En, From) => "From",
            (Lang::Ru, From) => "От",
            (Lang::En, To) => "To",
            (Lang::Ru, To) => "До",
            (Lang::En, Count) => "Consignments",
            (Lang::Ru, Count) => "Партий",
            (Lang::En, Mean) => "Mean",
            (Lang::Ru, Mean) => "Среднее",
            (Lang::En, Median) => "Median",
            (Lang::Ru, Median) => "Медиана",
            (Lang::En, Minutes) => "min",
            (Lang::Ru, Minutes) => "мин",
            (Lang::En, Hours) => "h",
            (Lang::Ru, Hours) => "ч",
            (Lang::En, Within) => "within",
            (Lang::Ru, Within) => "в пределах",
            (Lang::En, Trends) => "Trends",
            (Lang::Ru, Trends) => "Динамика",
            (Lang::En, TrendLegend) => {
                "Median (solid) and p90 (dashed) in hours per period of the first stamp; grey lines: centre and control limits of the medians; red: periods outside the limits."
            }
            (Lang::Ru, TrendLegend) => {
                "Медиана (сплошная) и p90 (пунктир) в часах по периодам первой отметки; серые линии: центр и контрольные границы медиан; красным: периоды за границами."
            }
            (Lang::En, TrendFlagged) => "Periods outside the control limits",
            (Lang::Ru, TrendFlagged) => "Периоды за контрольными границами",
            (Lang::En, Distributions) => "Distributions",
            (Lang::Ru, Distributions) => "Распределения",
            (Lang::En, BoxPlots) => "Arrival to release by segment",
            (Lang::Ru, BoxPlots) => "От прибытия до выпуска по сегментам",
            (Lang::En, BoxLegend) => {
                "Box: Q1 to Q3; line: median; whiskers: minimum to p95. Hours, logarithmic scale."
            }
            (Lang::Ru, BoxLegend) => {
                "Ящик: от Q1 до Q3; линия: медиана; усы: от минимума до p95. Часы, логарифмическая шкала."
            }
            (Lang::En, Bottlenecks) => "Bottlenecks",
            (Lang::Ru, Bottlenecks) => "Узкие места",
            (Lang::En, BottleneckLegend) => {
                "Each stage's share of the time (mean of the interval / sum of the means of all stages), ranked."
            }
            (Lang::Ru, BottleneckLegend) => {
                "Доля каждого этапа во времени (среднее интервала / сумма средних всех этапов), по убыванию."
            }
            (Lang::En, Heatmap) => "Arrival pattern",
            (Lang::Ru, Heatmap) => "Распределение прибытий",
            (Lang::En, HeatmapLegend) => {
                "Arrivals by local hour of day and day of week; hover a cell for the median arrival-to-release time."
            }
            (Lang::Ru, HeatmapLegend) => {
                "Прибытия по местному часу и дню недели; наведите на ячейку, чтобы увидеть медиану времени до выпуска."
            }
            (Lang::En, Findings) => "Verification findings",
            (Lang::Ru, Findings) => "Результаты проверки данных",
            (Lang::En, Kind) => "Finding",
            (Lang::Ru, Kind) => "Замечание",
            (Lang::En, Listed) => "Listed",
            (Lang::Ru, Listed) => "Показано",
            (Lang::En, File) => "File",
            (Lang::Ru, File) => "Файл",
            (Lang::En, Line) => "Line / row",
            (Lang::Ru, Line) => "Строка",
            (Lang::En, Column) => "Column",
            (Lang::Ru, Column) => "Столбец",
            (Lang::En, Consignment) => "Consignment",
            (Lang::Ru, Consignment) => "Партия",
            (Lang::En, Value) => "Value",
            (Lang::Ru, Value) => "Значение",
            (Lang::En, Rule) => "Expected / rule",
            (Lang::Ru, Rule) => "Ожидалось / правило",
            (Lang::En, Method) => "Method",
            (Lang::Ru, Method) => "Методика",
            (Lang::En, WorkingTime) => "Working time (office hours only)",
            (Lang::Ru, WorkingTime) => "Рабочее время (только часы работы поста)",
            (Lang::En, NoFindings) => "No findings: every row passed verification.",
            (Lang::Ru, NoFindings) => "Замечаний нет: все строки прошли проверку.",
            (Lang::En, All) => "all",
            (Lang::Ru, All) => "все",
            (Lang::En, SegmentBy) => "Segment",
            (Lang::Ru, SegmentBy) => "Сегмент",
            (Lang::En, Segment) => "Value",
            (Lang::Ru, Segment) => "Значение",
            (Lang::En, MoreFindings) => {
                "more findings of this kind are in report.json / the workbook"
            }
            (Lang::Ru, MoreFindings) => {
                "остальные замечания этого вида — в report.json / книге Excel"
            }
            (Lang::En, Days) => "Mon Tue Wed Thu Fri Sat Sun",
            (Lang::Ru, Days) => "Пн Вт Ср Чт Пт Сб Вс",
        }
    }

    /// The rule behind a finding, in this language; `None` for English, whose rule is the
    /// engine's own message.
    pub fn rule(self, kind: FindingKind) -> Option<&'static str> {
        use FindingKind::*;
        match self {
            Lang::En => None,
            Lang::Ru => Some(match kind {
                MalformedRow => {
                    "Строка не читается целиком или число полей не совпадает с заголовком."
                }
                MissingConsignmentId => {
                    "Нет идентификатора партии: строка учтена, но не проверена на повтор."
                }
                UnparseableStamp => {
                    "Ожидались дата и время в формате, указанном в файле сопоставления."
                }
                UnknownZone => {
                    "Ожидалось имя часового пояса IANA (например, Asia/Almaty); местные отметки строки не учтены."
                }
                InvalidLocalTime => {
                    "Местное время попадает на перевод часов (не существует или повторяется)."
                }
                MissingStamp => "Нет отметки этапа: интервалы с этим этапом не учитывают партию.",
                OutOfOrder => {
                    "Отметка раньше отметки предыдущего этапа: отрицательный интервал исключён, остальные учтены."
                }
                DuplicateConsignment => {
                    "Партия уже встречалась: повторная строка исключена из статистики."
                }
                UnknownStage => "Значение этапа не указано в [stamps]: строка исключена.",
                DuplicateStamp => "Вторая отметка того же этапа: учтена первая.",
                ExtremeValue => {
                    "Значение за пределами Q1 − k·IQR … Q3 + k·IQR для интервала и поста."
                }
                UnmatchedLink => {
                    "Совместное исследование: для партии нет пары на другой стороне границы."
                }
                AmbiguousLink => {
                    "Совместное исследование: у партии несколько возможных пар; она исключена из общей шкалы."
                }
            }),
        }
    }

    pub fn finding(self, kind: FindingKind) -> &'static str {
        use FindingKind::*;
        match (self, kind) {
            (Lang::En, MalformedRow) => "Malformed row",
            (Lang::Ru, MalformedRow) => "Повреждённая строка",
            (Lang::En, MissingConsignmentId) => "Missing consignment identifier",
            (Lang::Ru, MissingConsignmentId) => "Нет идентификатора партии",
            (Lang::En, UnparseableStamp) => "Unparseable stamp",
            (Lang::Ru, UnparseableStamp) => "Нераспознанная отметка времени",
            (Lang::En, UnknownZone) => "Unknown time zone",
            (Lang::Ru, UnknownZone) => "Неизвестный часовой пояс",
            (Lang::En, InvalidLocalTime) => "Local time in a clock change",
            (Lang::Ru, InvalidLocalTime) => "Местное время при переводе часов",
            (Lang::En, MissingStamp) => "Missing stamp",
            (Lang::Ru, MissingStamp) => "Отсутствует отметка времени",
            (Lang::En, OutOfOrder) => "Stamps out of process order",
            (Lang::Ru, OutOfOrder) => "Нарушен порядок этапов",
            (Lang::En, DuplicateConsignment) => "Duplicate consignment",
            (Lang::Ru, DuplicateConsignment) => "Повтор партии",
            (Lang::En, UnknownStage) => "Unknown stage",
            (Lang::Ru, UnknownStage) => "Неизвестный этап",
            (Lang::En, DuplicateStamp) => "Duplicate stamp",
            (Lang::Ru, DuplicateStamp) => "Повтор отметки времени",
            (Lang::En, ExtremeValue) => "Extreme value",
            (Lang::Ru, ExtremeValue) => "Экстремальное значение",
            (Lang::En, UnmatchedLink) => "No partner across the border",
            (Lang::Ru, UnmatchedLink) => "Нет пары за границей",
            (Lang::En, AmbiguousLink) => "Ambiguous link across the border",
            (Lang::Ru, AmbiguousLink) => "Неоднозначная связь через границу",
        }
    }
}
