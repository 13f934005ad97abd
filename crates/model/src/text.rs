//! The one character rule for text that SmartBorder stores, shares with other administrations
//! and repeats in XML answers, whatever format it came in (JSON, NCTS XML, a risk declaration).

/// Characters refused in text: C0 and C1 controls other than tab, line feed and carriage
/// return; the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
/// U+2066-U+2069), which make text read differently from what it is; the byte order mark and
/// the non-characters U+FFFE and U+FFFF, which XML 1.0 does not allow.
pub fn refused_in_text(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::refused_in_text;

    #[test]
    fn controls_and_direction_overrides_are_refused_line_breaks_are_not() {
        for c in [
            '\0', '\u{7}', '\u{1B}', '\u{85}', '\u{202E}', '\u{2067}', '\u{FEFF}', '\u{FFFF}',
        ] {
            assert!(refused_in_text(c), "U+{:04X}", u32::from(c));
        }
        for c in ['\t', '\n', '\r', 'a', 'Ж', 'ə', '\u{200F}', '€'] {
            assert!(!refused_in_text(c), "U+{:04X}", u32::from(c));
        }
    }
}
