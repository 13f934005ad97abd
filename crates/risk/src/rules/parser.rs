//! Recursive-descent parser of the risk-profile language. Every error names the file, the line
//! and column of the offending token, what was found and what was expected.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use smartborder_model::{DeclarationField, FieldKind, Lane};

use super::lexer::{Spanned, Tok, tokenize};
use super::{
    Actions, Comparison, Condition, FieldRef, Profile, RuleError, RuleSet, Test, ValueControl,
};
use crate::value_bands::ValueBands;

/// Parses and checks a rule file. `file` names it in errors; list and band files are read
/// relative to `base_dir`; `attributes` are the attribute names of the declaration mapping,
/// which conditions may use beside the built-in fields.
pub fn parse_rules(
    text: &str,
    file: &str,
    base_dir: Option<&Path>,
    attributes: &[String],
) -> Result<RuleSet, RuleError> {
    parse_rules_with(text, file, RuleFiles::Dir(base_dir), attributes)
}

/// Where the list and bands files a rule file names are read from.
#[derive(Debug, Clone, Copy)]
pub enum RuleFiles<'a> {
    /// On disk, relative to this directory (or to the working directory).
    Dir(Option<&'a Path>),
    /// By name, from the texts given (an administration's published files).
    Named(&'a BTreeMap<String, String>),
}

impl RuleFiles<'_> {
    /// The file's name as errors show it, and its text.
    fn read(&self, name: &str) -> (String, Result<String, String>) {
        match self {
            RuleFiles::Dir(base) => {
                let full = base.map_or_else(|| name.into(), |b| b.join(name));
                let text = std::fs::read_to_string(&full).map_err(|e| e.to_string());
                (full.display().to_string(), text)
            }
            RuleFiles::Named(files) => (
                name.to_string(),
                files
                    .get(name)
                    .cloned()
                    .ok_or_else(|| "is not among the published files".to_string()),
            ),
        }
    }
}

/// Parses a rule file like [`parse_rules`], with its list and bands files read from `files`.
pub fn parse_rules_with(
    text: &str,
    file: &str,
    files: RuleFiles<'_>,
    attributes: &[String],
) -> Result<RuleSet, RuleError> {
    let mut parser = Parser {
        toks: tokenize(text, file)?,
        pos: 0,
        file,
        files,
        attributes,
        lists: HashMap::new(),
        depth: 0,
    };
    parser.file_items()
}

#[derive(Clone)]
struct NamedList {
    values: Arc<Vec<String>>,
    set: Arc<HashSet<String>>,
}

struct Parser<'a> {
    toks: Vec<Spanned>,
    pos: usize,
    file: &'a str,
    files: RuleFiles<'a>,
    attributes: &'a [String],
    lists: HashMap<String, NamedList>,
    /// How many `not` and `(` enclose the condition being read.
    depth: usize,
}

/// The deepest nesting of `not` and parentheses a condition may have. Conditions are read and
/// evaluated recursively, so without a bound a hostile file would overflow the stack; real
/// profiles nest a handful of levels.
pub const MAX_CONDITION_DEPTH: usize = 64;

/// Words that cannot name a field or a list.
const RESERVED: &[&str] = &["and", "or", "not", "in", "between", "starts_with", "is"];

impl Parser<'_> {
    fn peek(&self) -> &Spanned {
        &self.toks[self.pos]
    }

    fn next(&mut self) -> Spanned {
        let t = self.toks[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn error_at(&self, at: &Spanned, message: String) -> RuleError {
        RuleError {
            file: self.file.to_string(),
            line: at.line,
            column: at.column,
            message,
        }
    }

    /// "expected X, found Y" at the next token.
    fn expected(&self, what: &str) -> RuleError {
        let at = self.peek();
        self.error_at(at, format!("expected {what}, found {}", at.tok.describe()))
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w == word)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let yes = self.is_word(word);
        if yes {
            self.next();
        }
        yes
    }

    fn expect_word(&mut self, word: &str) -> Result<(), RuleError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{word}`")))
        }
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), RuleError> {
        if self.peek().tok == tok {
            self.next();
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn string(&mut self, what: &str) -> Result<String, RuleError> {
        match self.peek().tok.clone() {
            Tok::Str(s) => {
                self.next();
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    fn ident(&mut self, what: &str) -> Result<(String, Spanned), RuleError> {
        match self.peek().clone() {
            Spanned {
                tok: Tok::Ident(s), ..
            } if !RESERVED.contains(&s.as_str()) => Ok((s, self.next())),
            _ => Err(self.expected(what)),
        }
    }

    /// A text literal: quoted text, or a number written as in the data (`office = 30`).
    fn text_literal(&mut self) -> Result<String, RuleError> {
        match self.peek().tok.clone() {
            Tok::Str(s) | Tok::Num(_, s) => {
                self.next();
                Ok(s)
            }
            _ => Err(self.expected("a text in quotes")),
        }
    }

    fn file_items(&mut self) -> Result<RuleSet, RuleError> {
        let mut profiles: Vec<Profile> = Vec::new();
        loop {
            let at = self.peek().clone();
            match &at.tok {
                Tok::Eof => break,
                Tok::Ident(w) if w == "list" => {
                    self.next();
                    self.list_definition()?;
                }
                Tok::Ident(w) if w == "profile" || w == "value_control" => {
                    let value_control = w == "value_control";
                    self.next();
                    let profile = self.profile(value_control, at.line)?;
                    if profiles.iter().any(|p| p.id == profile.id) {
                        return Err(self.error_at(
                            &at,
                            format!("profile \"{}\" is defined twice", profile.id),
                        ));
                    }
                    profiles.push(profile);
                }
                _ => return Err(self.expected("`list`, `profile` or `value_control`")),
            }
        }
        Ok(RuleSet { profiles })
    }

    fn list_definition(&mut self) -> Result<(), RuleError> {
        let (name, at) = self.ident("a list name")?;
        if self.lists.contains_key(&name) {
            return Err(self.error_at(&at, format!("list `{name}` is defined twice")));
        }
        self.expect(Tok::Eq, "`=`")?;
        let values = if self.eat_word("file") {
            let path_at = self.peek().clone();
            let path = self.string("a file name in quotes")?;
            let (full, text) = self.files.read(&path);
            let text = text.map_err(|e| {
                self.error_at(
                    &path_at,
                    format!("list file \"{full}\" cannot be read: {e}"),
                )
            })?;
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        } else {
            self.bracketed_texts()?
        };
        let list = NamedList {
            set: Arc::new(values.iter().cloned().collect()),
            values: Arc::new(values),
        };
        self.lists.insert(name, list);
        Ok(())
    }

    /// `[ "a", "b", 30 ]`
    fn bracketed_texts(&mut self) -> Result<Vec<String>, RuleError> {
        self.expect(Tok::LBracket, "`[` or `file`")?;
        let mut values = Vec::new();
        if self.peek().tok != Tok::RBracket {
            loop {
                values.push(self.text_literal()?);
                if self.peek().tok != Tok::Comma {
                    break;
                }
                self.next();
            }
        }
        self.expect(Tok::RBracket, "`,` or `]`")?;
        Ok(values)
    }

    /// A list: inline in brackets, or the name of a `list`.
    fn list_value(&mut self) -> Result<NamedList, RuleError> {
        if self.peek().tok == Tok::LBracket {
            let values = self.bracketed_texts()?;
            return Ok(NamedList {
                set: Arc::new(values.iter().cloned().collect()),
                values: Arc::new(values),
            });
        }
        let (name, at) = self.ident("a list in brackets or the name of a list")?;
        self.lists.get(&name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.lists.keys().map(String::as_str).collect();
            self.error_at(
                &at,
                format!(
                    "unknown list `{name}`; lists are defined before use with `list {name} = ...`{}",
                    if known.is_empty() {
                        String::new()
                    } else {
                        format!(" (defined so far: {})", known.join(", "))
                    }
                ),
            )
        })
    }

    fn profile(&mut self, value_control: bool, line: usize) -> Result<Profile, RuleError> {
        let id = self.string("the profile identifier in quotes")?;
        self.expect(Tok::LBrace, "`{`")?;
        let mut p = Profile {
            id,
            description: None,
            owner: None,
            valid_from: None,
            valid_to: None,
            offices: Vec::new(),
            regimes: Vec::new(),
            condition: None,
            value_control: None,
            actions: Actions::default(),
            line,
        };
        let mut then_seen = false;
        let mut measure = None;
        let mut bands = None;
        let mut seen: Vec<String> = Vec::new();
        loop {
            let at = self.peek().clone();
            let word =
                match &at.tok {
                    Tok::RBrace => {
                        self.next();
                        break;
                    }
                    Tok::Ident(w) => w.clone(),
                    _ => return Err(self.expected(
                        "a setting (description, owner, valid, offices, regime, when, then) or `}`",
                    )),
                };
            if seen.contains(&word) {
                return Err(self.error_at(
                    &at,
                    format!("`{word}` is given twice in profile \"{}\"", p.id),
                ));
            }
            seen.push(word.clone());
            self.next();
            match word.as_str() {
                "description" => p.description = Some(self.string("a description in quotes")?),
                "owner" => p.owner = Some(self.string("the owner in quotes")?),
                "valid" => {
                    if self.eat_word("from") {
                        p.valid_from = Some(self.date()?);
                    }
                    if self.eat_word("to") {
                        p.valid_to = Some(self.date()?);
                    }
                    if p.valid_from.is_none() && p.valid_to.is_none() {
                        return Err(self.expected("`from` or `to`"));
                    }
                    if let (Some(f), Some(t)) = (p.valid_from, p.valid_to)
                        && f > t
                    {
                        return Err(self
                            .error_at(&at, format!("validity ends ({t}) before it starts ({f})")));
                    }
                }
                "offices" => p.offices = self.texts()?,
                "regime" => p.regimes = self.texts()?,
                "when" => p.condition = Some(self.or_condition()?),
                "then" => {
                    p.actions = self.actions()?;
                    then_seen = true;
                }
                "measure" if value_control => {
                    let (name, m_at) =
                        self.ident("a number field (unit_value, value_per_kg ...)")?;
                    match DeclarationField::from_name(&name) {
                        Some(f) if f.kind() == FieldKind::Number => measure = Some(f),
                        _ => return Err(self.error_at(
                            &m_at,
                            format!(
                                "`{name}` is not a number field; value control measures one of: {}",
                                number_fields()
                            ),
                        )),
                    }
                }
                "bands" if value_control => {
                    self.expect_word("file")?;
                    let path_at = self.peek().clone();
                    let path = self.string("a bands file name in quotes")?;
                    bands = Some(self.bands_file(&path, &path_at)?);
                }
                _ => {
                    let settings = if value_control {
                        "description, owner, valid, offices, regime, measure, bands, when, then"
                    } else {
                        "description, owner, valid, offices, regime, when, then"
                    };
                    return Err(self.error_at(
                        &at,
                        format!("unknown setting `{word}`; expected one of: {settings}"),
                    ));
                }
            }
        }
        let end = &self.toks[self.pos - 1];
        if !then_seen {
            return Err(self.error_at(
                end,
                format!(
                    "profile \"{}\" has no `then`: expected its actions before `}}`",
                    p.id
                ),
            ));
        }
        if value_control {
            let (Some(measure), Some(bands)) = (measure, bands) else {
                return Err(self.error_at(
                    end,
                    format!(
                        "value_control \"{}\" needs `measure` and `bands file` before `}}`",
                        p.id
                    ),
                ));
            };
            p.value_control = Some(ValueControl {
                measure,
                bands: Arc::new(bands),
            });
        }
        Ok(p)
    }

    fn date(&mut self) -> Result<chrono::NaiveDate, RuleError> {
        match self.peek().tok {
            Tok::Date(d) => {
                self.next();
                Ok(d)
            }
            _ => Err(self.expected("a date (YYYY-MM-DD)")),
        }
    }

    /// `"30", "40"` or `["30", "40"]`
    fn texts(&mut self) -> Result<Vec<String>, RuleError> {
        if self.peek().tok == Tok::LBracket {
            return self.bracketed_texts();
        }
        let mut values = vec![self.text_literal()?];
        while self.peek().tok == Tok::Comma {
            self.next();
            values.push(self.text_literal()?);
        }
        Ok(values)
    }

    fn actions(&mut self) -> Result<Actions, RuleError> {
        let mut actions = Actions::default();
        let mut total = 0.0;
        loop {
            let at = self.peek().clone();
            let (word, _) = self.ident("an action: red, yellow, blue, green, score or review")?;
            match word.as_str() {
                "red" | "yellow" | "blue" | "green" => {
                    let lane = match word.as_str() {
                        "red" => Lane::Red,
                        "yellow" => Lane::Yellow,
                        "blue" => Lane::Blue,
                        _ => Lane::Green,
                    };
                    let share = match self.peek().tok {
                        Tok::Percent(p) => {
                            let p_at = self.next();
                            if !(p > 0.0 && p <= 100.0) {
                                return Err(self.error_at(&p_at, format!("expected a percentage above 0% and at most 100%, found {p}%")));
                            }
                            p / 100.0
                        }
                        _ => 1.0,
                    };
                    if actions.lanes.iter().any(|(l, _)| *l == lane) {
                        return Err(self.error_at(&at, format!("lane {word} is given twice")));
                    }
                    total += share;
                    if total > 1.0 + 1e-9 {
                        return Err(self.error_at(&at, format!("the lane percentages add up to {:.0}%, more than 100%", total * 100.0)));
                    }
                    actions.lanes.push((lane, share));
                }
                "score" => match self.peek().tok {
                    Tok::Num(n, _) if n.is_finite() => {
                        self.next();
                        actions.score += n;
                    }
                    _ => return Err(self.expected("a number after `score`")),
                },
                "review" => actions.review = true,
                _ => return Err(self.error_at(&at, format!("unknown action `{word}`; expected red, yellow, blue, green (with an optional percentage), score N or review"))),
            }
            if self.peek().tok != Tok::Comma {
                break;
            }
            self.next();
        }
        Ok(actions)
    }

    fn or_condition(&mut self) -> Result<Condition, RuleError> {
        let mut parts = vec![self.and_condition()?];
        while self.eat_word("or") {
            parts.push(self.and_condition()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Condition::Or(parts)
        })
    }

    fn and_condition(&mut self) -> Result<Condition, RuleError> {
        let mut parts = vec![self.not_condition()?];
        while self.eat_word("and") {
            parts.push(self.not_condition()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Condition::And(parts)
        })
    }

    fn not_condition(&mut self) -> Result<Condition, RuleError> {
        let nests = self.is_word("not") || self.peek().tok == Tok::LParen;
        if !nests {
            return self.comparison();
        }
        if self.depth >= MAX_CONDITION_DEPTH {
            let at = self.peek().clone();
            return Err(self.error_at(
                &at,
                format!("conditions nest deeper than {MAX_CONDITION_DEPTH} levels of `not` and parentheses"),
            ));
        }
        self.depth += 1;
        let c = if self.eat_word("not") {
            self.not_condition().map(|c| Condition::Not(Box::new(c)))
        } else {
            self.next();
            self.or_condition()
                .and_then(|c| self.expect(Tok::RParen, "`)`, `and` or `or`").map(|()| c))
        };
        self.depth -= 1;
        c
    }

    fn field(&mut self) -> Result<(FieldRef, FieldKind), RuleError> {
        let (name, at) = self.ident("a field name or `(`")?;
        if let Some(f) = DeclarationField::from_name(&name) {
            return Ok((FieldRef::Field(f), f.kind()));
        }
        if let Some(i) = self.attributes.iter().position(|a| *a == name) {
            return Ok((FieldRef::Attribute(name, i), FieldKind::Text));
        }
        let fields: Vec<&str> = DeclarationField::ALL.iter().map(|f| f.name()).collect();
        let attributes = if self.attributes.is_empty() {
            "no attributes (attributes come from the declaration mapping)".to_string()
        } else {
            format!("attributes of the mapping: {}", self.attributes.join(", "))
        };
        Err(self.error_at(
            &at,
            format!(
                "unknown field `{name}`; fields: {}; {attributes}",
                fields.join(", ")
            ),
        ))
    }

    fn comparison(&mut self) -> Result<Condition, RuleError> {
        let field_at = self.peek().clone();
        let (field, kind) = self.field()?;
        let op_at = self.peek().clone();
        let kind_name = match kind {
            FieldKind::Text => "a text field",
            FieldKind::Number => "a number field",
            FieldKind::Date => "the date field",
        };
        let wrong = |p: &Self, op: &str| {
            p.error_at(
                &op_at,
                format!("`{op}` does not apply to `{field}`, {kind_name}"),
            )
        };
        let comparison = match &op_at.tok {
            Tok::Eq => Some(Comparison::Eq),
            Tok::Ne => Some(Comparison::Ne),
            Tok::Lt => Some(Comparison::Lt),
            Tok::Le => Some(Comparison::Le),
            Tok::Gt => Some(Comparison::Gt),
            Tok::Ge => Some(Comparison::Ge),
            _ => None,
        };
        let test = if let Some(op) = comparison {
            self.next();
            match kind {
                FieldKind::Text => {
                    if !matches!(op, Comparison::Eq | Comparison::Ne) {
                        return Err(wrong(self, op_at.tok.describe().trim_matches('`')));
                    }
                    Test::Text(op, self.text_literal()?)
                }
                FieldKind::Number => Test::Number(op, self.number()?),
                FieldKind::Date => Test::Date(op, self.date()?),
            }
        } else if self.eat_word("between") {
            let test = match kind {
                FieldKind::Text => return Err(wrong(self, "between")),
                FieldKind::Number => {
                    let lo = self.number()?;
                    self.expect_word("and")?;
                    Test::NumberBetween(lo, self.number()?)
                }
                FieldKind::Date => {
                    let lo = self.date()?;
                    self.expect_word("and")?;
                    Test::DateBetween(lo, self.date()?)
                }
            };
            if let Test::NumberBetween(lo, hi) = test
                && lo > hi
            {
                return Err(self.error_at(
                    &op_at,
                    format!("between {lo} and {hi}: the lower bound is above the upper bound"),
                ));
            }
            test
        } else if self.is_word("in") || self.is_word("not") {
            let negated = self.eat_word("not");
            self.expect_word("in")?;
            if kind != FieldKind::Text {
                return Err(wrong(self, "in"));
            }
            let test = Test::InList(self.list_value()?.set);
            if negated {
                return Ok(Condition::Not(Box::new(Condition::Test(field, test))));
            }
            test
        } else if self.eat_word("starts_with") {
            if kind != FieldKind::Text {
                return Err(wrong(self, "starts_with"));
            }
            match self.peek().tok {
                Tok::Str(_) | Tok::Num(..) => {
                    Test::StartsWith(Arc::new(vec![self.text_literal()?]))
                }
                _ => Test::StartsWith(self.list_value()?.values),
            }
        } else if self.eat_word("is") {
            let negated = self.eat_word("not");
            self.expect_word("missing")?;
            if kind == FieldKind::Date
                || matches!(
                    field,
                    FieldRef::Field(
                        DeclarationField::Id | DeclarationField::Office | DeclarationField::HsCode
                    )
                )
            {
                return Err(self.error_at(
                    &field_at,
                    format!("`{field}` is always present; `is missing` applies to optional fields"),
                ));
            }
            let c = Condition::Test(field, Test::Missing);
            return Ok(if negated {
                Condition::Not(Box::new(c))
            } else {
                c
            });
        } else {
            return Err(self.expected("a comparison (=, !=, <, <=, >, >=), between, in, not in, starts_with or is missing"));
        };
        Ok(Condition::Test(field, test))
    }

    fn number(&mut self) -> Result<f64, RuleError> {
        match self.peek().tok {
            Tok::Num(n, _) => {
                self.next();
                Ok(n)
            }
            _ => Err(self.expected("a number")),
        }
    }

    /// Reads a bands file named at `at`; its errors name the bands file and line.
    fn bands_file(&self, path: &str, at: &Spanned) -> Result<ValueBands, RuleError> {
        let (full, text) = self.files.read(path);
        let text = text
            .map_err(|e| self.error_at(at, format!("bands file \"{full}\" cannot be read: {e}")))?;
        ValueBands::from_csv(&text).map_err(|e| {
            if e.line == 0 {
                self.error_at(at, format!("bands file \"{full}\" {}", e.message))
            } else {
                RuleError {
                    file: full.clone(),
                    line: e.line as usize,
                    column: 1,
                    message: e.message,
                }
            }
        })
    }
}

fn number_fields() -> String {
    DeclarationField::ALL
        .iter()
        .filter(|f| f.kind() == FieldKind::Number)
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}
