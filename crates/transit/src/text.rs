//! The one rule for identifiers and texts that travel along the route, whatever format they
//! came in (JSON or NCTS XML). They are stored, shared with other administrations and repeated in
//! XML answers, so they must never hold control characters, invisible direction overrides, or
//! anything XML 1.0 cannot carry.

use smartborder_model::refused_in_text;

/// The longest LRN (NCTS Phase 5: an..22).
pub const MAX_LRN: usize = 22;

/// The longest free text of an event: a reason, a justification, an incident's description
/// (NCTS Phase 5 texts are an..512).
pub const MAX_FREE_TEXT: usize = 512;

/// Why an identifier or text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("LRN \"{shown}\": expected 1 to {MAX_LRN} letters A-Z a-z, digits or - _ . / (SBR003)")]
    Lrn { shown: String },
    #[error("{field}: {found} characters, at most {MAX_FREE_TEXT} are allowed")]
    TooLong { field: &'static str, found: usize },
    #[error(
        "{field}: character U+{code:04X} at position {position} is not allowed (control characters and direction overrides are refused)"
    )]
    Character {
        field: &'static str,
        code: u32,
        position: usize,
    },
}

/// Shows a refused value safely: control and format characters as `\u{..}` escapes.
fn shown(value: &str) -> String {
    value
        .chars()
        .take(40)
        .map(|c| {
            if refused_in_text(c) {
                format!("\\u{{{:04X}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// SBR003: an LRN is 1 to 22 ASCII letters, digits or `- _ . /`.
pub fn check_lrn(lrn: &str) -> Result<(), TextError> {
    let ok = !lrn.is_empty()
        && lrn.len() <= MAX_LRN
        && lrn
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'));
    if ok {
        Ok(())
    } else {
        Err(TextError::Lrn { shown: shown(lrn) })
    }
}

/// A free text (reason, justification, description): at most 512 characters, none refused.
pub fn check_free_text(field: &'static str, text: &str) -> Result<(), TextError> {
    if let Some((position, c)) = text.chars().enumerate().find(|(_, c)| refused_in_text(*c)) {
        return Err(TextError::Character {
            field,
            code: u32::from(c),
            position: position + 1,
        });
    }
    let found = text.chars().count();
    if found > MAX_FREE_TEXT {
        return Err(TextError::TooLong { field, found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrns_are_letters_digits_and_four_signs() {
        for good in ["KZ-2026-0001", "a_b.c/d", "X", "1234567890123456789012"] {
            assert_eq!(check_lrn(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "12345678901234567890123",
            "KZ\u{0}1",
            "KZ\u{202E}1",
            "KZ 1",
            "{{LRN}}",
            "КЗ-1",
            "a\u{7}",
        ] {
            assert!(check_lrn(bad).is_err(), "{bad:?}");
        }
        let e = check_lrn("A\u{0}\u{202E}B").unwrap_err().to_string();
        assert!(e.contains("A\\u{0000}\\u{202E}B"), "{e}");
        assert!(!e.contains('\u{0}') && !e.contains('\u{202E}'), "{e}");
    }

    #[test]
    fn free_text_refuses_controls_overrides_and_length() {
        assert_eq!(
            check_free_text("description", "Seal broken at Poti\n\tok"),
            Ok(())
        );
        assert_eq!(check_free_text("description", "Пломба повреждена"), Ok(()));
        for (text, code) in [
            ("a\u{0}", 0),
            ("a\u{1B}[31m", 0x1B),
            ("\u{2066}x", 0x2066),
            ("\u{85}", 0x85),
            ("x\u{FFFF}", 0xFFFF),
        ] {
            assert!(
                matches!(check_free_text("description", text), Err(TextError::Character { code: c, .. }) if c == code),
                "{text:?}"
            );
        }
        assert_eq!(
            check_free_text("reason", &"й".repeat(513)),
            Err(TextError::TooLong {
                field: "reason",
                found: 513
            })
        );
        assert_eq!(check_free_text("reason", &"й".repeat(512)), Ok(()));
    }
}
