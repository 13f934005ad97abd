//! Tokens of the risk-profile language, each with its line and column.

use chrono::NaiveDate;

use super::RuleError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A name: keyword, field, lane or list name.
    Ident(String),
    Str(String),
    /// A number and its text as written (so that `office = 30` can compare text).
    Num(f64, String),
    Percent(f64),
    Date(NaiveDate),
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(s) => format!("the text \"{s}\""),
            Tok::Num(_, t) => format!("the number {t}"),
            Tok::Percent(p) => format!("{p}%"),
            Tok::Date(d) => format!("the date {d}"),
            Tok::Eof => "the end of the file".into(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Eq => "=",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            _ => "",
        }
    }
}

/// A token and where it starts (1-based line and column, counted in characters).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Spanned {
    pub tok: Tok,
    pub line: usize,
    pub column: usize,
}

pub(super) fn tokenize(text: &str, file: &str) -> Result<Vec<Spanned>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut column) = (0usize, 1usize, 1usize);
    let error = |line, column, message: String| RuleError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    while i < chars.len() {
        let c = chars[i];
        let (start_line, start_column) = (line, column);
        let advance = |n: usize, i: &mut usize, column: &mut usize| {
            *i += n;
            *column += n;
        };
        if c == '\n' {
            i += 1;
            line += 1;
            column = 1;
            continue;
        }
        if c.is_whitespace() {
            advance(1, &mut i, &mut column);
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let tok = if c == '"' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None | Some('\n') => {
                        return Err(error(
                            start_line,
                            start_column,
                            "unterminated text: expected a closing \" on the same line".into(),
                        ));
                    }
                    Some('"') => break,
                    Some('\\') if matches!(chars.get(j + 1), Some('"') | Some('\\')) => {
                        s.push(chars[j + 1]);
                        j += 2;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        j += 1;
                    }
                }
            }
            advance(j + 1 - i, &mut i, &mut column);
            Tok::Str(s)
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || ".-_".contains(chars[j]))
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            advance(j - i, &mut i, &mut column);
            if word.len() == 10 && word.as_bytes()[4] == b'-' && word.as_bytes()[7] == b'-' {
                let date = NaiveDate::parse_from_str(&word, "%Y-%m-%d").map_err(|_| {
                    error(
                        start_line,
                        start_column,
                        format!("`{word}` is not a valid date (expected YYYY-MM-DD)"),
                    )
                })?;
                Tok::Date(date)
            } else {
                let n: f64 = word.parse().map_err(|_| {
                    error(
                        start_line,
                        start_column,
                        format!("`{word}` is not a number or a date (YYYY-MM-DD)"),
                    )
                })?;
                if chars.get(i) == Some(&'%') {
                    advance(1, &mut i, &mut column);
                    Tok::Percent(n)
                } else {
                    Tok::Num(n, word)
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            advance(j - i, &mut i, &mut column);
            Tok::Ident(word)
        } else {
            let next = chars.get(i + 1).copied();
            let (tok, len) = match (c, next) {
                ('!', Some('=')) => (Tok::Ne, 2),
                ('<', Some('=')) => (Tok::Le, 2),
                ('>', Some('=')) => (Tok::Ge, 2),
                ('<', _) => (Tok::Lt, 1),
                ('>', _) => (Tok::Gt, 1),
                ('=', _) => (Tok::Eq, 1),
                ('{', _) => (Tok::LBrace, 1),
                ('}', _) => (Tok::RBrace, 1),
                ('(', _) => (Tok::LParen, 1),
                (')', _) => (Tok::RParen, 1),
                ('[', _) => (Tok::LBracket, 1),
                (']', _) => (Tok::RBracket, 1),
                (',', _) => (Tok::Comma, 1),
                _ => {
                    return Err(error(
                        start_line,
                        start_column,
                        format!("unexpected character `{c}`"),
                    ));
                }
            };
            advance(len, &mut i, &mut column);
            tok
        };
        out.push(Spanned {
            tok,
            line: start_line,
            column: start_column,
        });
    }
    out.push(Spanned {
        tok: Tok::Eof,
        line,
        column,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_positions() {
        let toks = tokenize(
            "when hs_code starts_with \"0808\"\n  and value >= -1.5 # c\nred 50%, 2020-01-31",
            "f",
        )
        .unwrap();
        let kinds: Vec<_> = toks
            .iter()
            .map(|t| (t.tok.clone(), t.line, t.column))
            .collect();
        assert_eq!(kinds[0], (Tok::Ident("when".into()), 1, 1));
        assert_eq!(kinds[3], (Tok::Str("0808".into()), 1, 26));
        assert_eq!(kinds[6], (Tok::Ge, 2, 13));
        assert_eq!(kinds[7], (Tok::Num(-1.5, "-1.5".into()), 2, 16));
        assert_eq!(kinds[9], (Tok::Percent(50.0), 3, 5));
        assert_eq!(
            kinds[11],
            (
                Tok::Date(NaiveDate::from_ymd_opt(2020, 1, 31).unwrap()),
                3,
                10
            )
        );
        assert_eq!(kinds.last().unwrap().0, Tok::Eof);
    }

    #[test]
    fn bad_tokens_are_located() {
        let e = tokenize("when x = \"open", "r.risk").unwrap_err();
        assert_eq!((e.line, e.column), (1, 10));
        let e = tokenize("valid from 2020-02-30", "r.risk").unwrap_err();
        assert_eq!((e.line, e.column), (1, 12));
        assert!(e.message.contains("not a valid date"));
        let e = tokenize("\n  value ~ 3", "r.risk").unwrap_err();
        assert_eq!((e.line, e.column), (2, 9));
    }
}
