//! Movement Reference Numbers (MRN) of NCTS Phase 5: 18 characters, allocated by the office of
//! departure when it accepts a transit declaration.
//!
//! Structure: last two digits of the year of acceptance (2n), country of the office of
//! departure (ISO 3166 alpha-2), a unique part (12an), the procedure identifier (J: transit
//! declaration only, K: with exit summary declaration, L: with security and safety data,
//! M: with entry summary declaration), and a check character.
//!
//! The check character follows the Transit Computerisation Project's algorithm based on
//! ISO 6346: each of the first 17 characters gets a value (digits 0-9; letters from A = 10
//! upwards, skipping the multiples of 11), is multiplied by 2^position (position 0 to 16), the
//! products are summed, the sum is taken modulo 11, and a remainder of 10 counts as 0.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How many unique parts there are: 12 characters of base 36.
pub const UNIQUE_PARTS: u64 = 36u64.pow(12);

/// A well-formed MRN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mrn(String);

/// Why a text is not an MRN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrnError {
    #[error("MRN \"{0}\": expected 18 characters, found {1}")]
    Length(String, usize),
    #[error(
        "MRN \"{0}\": expected 2 digits (year), 2 letters (country), 12 letters or digits, a procedure letter J-M and a check digit"
    )]
    Pattern(String),
    #[error("MRN \"{mrn}\": check character is {found}, expected {expected}")]
    CheckCharacter {
        mrn: String,
        found: char,
        expected: char,
    },
}

/// The ISO 6346 value of an MRN character (digits and upper-case letters only).
fn value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => {
            // A = 10, then skip 11, 22, 33: B = 12 ... K = 21, L = 23 ... U = 32, V = 34 ...
            let mut v = 10;
            for _ in b'A'..c {
                v += 1;
                if v % 11 == 0 {
                    v += 1;
                }
            }
            Some(v)
        }
        _ => None,
    }
}

/// The check character of the first 17 characters of an MRN.
pub fn check_character(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum: u64 = 0;
    for (i, &c) in bytes.iter().enumerate() {
        sum += u64::from(value(c)?) << i;
    }
    Some(char::from(b'0' + (sum % 11 % 10) as u8))
}

fn well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 18
        && b[..2].iter().all(u8::is_ascii_digit)
        && b[2..4].iter().all(u8::is_ascii_uppercase)
        && b[4..16]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && (b'J'..=b'M').contains(&b[16])
        && b[17].is_ascii_digit()
}

impl Mrn {
    /// Allocates the MRN of a movement accepted in `year` at a departure in `country`, with
    /// `unique` (taken modulo [`UNIQUE_PARTS`]) as the unique part, written in base 36 and
    /// zero-padded to 12 characters. The store draws `unique` at random, so that an MRN says
    /// nothing about how many movements there are and cannot be guessed from another one.
    pub fn allocate(year: i32, country: &str, unique: u64, procedure: char) -> Mrn {
        const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut n = unique % UNIQUE_PARTS;
        let mut unique = [b'0'; 12];
        for slot in unique.iter_mut().rev() {
            *slot = DIGITS[(n % 36) as usize];
            n /= 36;
        }
        let procedure = if ('J'..='M').contains(&procedure) {
            procedure
        } else {
            'J'
        };
        let first17 = format!(
            "{:02}{}{}{}",
            year.rem_euclid(100),
            country.to_ascii_uppercase(),
            String::from_utf8_lossy(&unique),
            procedure
        );
        let check = check_character(&first17).expect("allocated MRNs are well formed");
        Mrn(format!("{first17}{check}"))
    }

    /// Parses an MRN and verifies its check character.
    pub fn parse(s: &str) -> Result<Mrn, MrnError> {
        let mrn = Mrn::parse_unchecked(s)?;
        let expected = check_character(&s[..17]).expect("well formed");
        let found = char::from(s.as_bytes()[17]);
        if found != expected {
            return Err(MrnError::CheckCharacter {
                mrn: s.to_string(),
                found,
                expected,
            });
        }
        Ok(mrn)
    }

    /// Parses an MRN by its pattern only (as the NCTS schemas do), without the check character.
    pub fn parse_unchecked(s: &str) -> Result<Mrn, MrnError> {
        if s.len() != 18 {
            return Err(MrnError::Length(s.to_string(), s.chars().count()));
        }
        if !well_formed(s) {
            return Err(MrnError::Pattern(s.to_string()));
        }
        Ok(Mrn(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country of the office of departure.
    pub fn country(&self) -> &str {
        &self.0[2..4]
    }
}

impl fmt::Display for Mrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Mrn {
    type Error = MrnError;
    fn try_from(s: String) -> Result<Mrn, MrnError> {
        Mrn::parse_unchecked(&s)
    }
}

impl From<Mrn> for String {
    fn from(m: Mrn) -> String {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_values_skip_multiples_of_eleven() {
        assert_eq!(value(b'A'), Some(10));
        assert_eq!(value(b'B'), Some(12));
        assert_eq!(value(b'K'), Some(21));
        assert_eq!(value(b'L'), Some(23));
        assert_eq!(value(b'U'), Some(32));
        assert_eq!(value(b'V'), Some(34));
        assert_eq!(value(b'Z'), Some(38));
        assert_eq!(value(b'a'), None);
    }

    /// Published MRNs whose check characters are right.
    #[test]
    fn check_character_of_real_mrns() {
        for mrn in ["10NL5663962BE1E825", "06DE586600006143E1"] {
            assert_eq!(check_character(&mrn[..17]), mrn.chars().last(), "{mrn}");
        }
        // Worked by hand: "00AA000000000000J": A (10) x 2^2 + A x 2^3 + J (19) x 2^16
        // = 40 + 80 + 1245184 = 1245304; 1245304 mod 11 = 3.
        assert_eq!(check_character("00AA000000000000J"), Some('3'));
    }

    #[test]
    fn allocation_is_well_formed_and_unique() {
        let a = Mrn::allocate(2026, "ge", 1, 'J');
        assert_eq!(a.as_str().len(), 18);
        assert!(a.as_str().starts_with("26GE00000000000"));
        assert_eq!(Mrn::parse(a.as_str()).unwrap(), a);
        assert_eq!(a.country(), "GE");
        let b = Mrn::allocate(2026, "GE", 36 * 36 + 35, 'L');
        assert!(b.as_str().starts_with("26GE00000000010ZL"), "{b}");
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_mrns_say_why() {
        assert_eq!(
            Mrn::parse("26GE0000001"),
            Err(MrnError::Length("26GE0000001".into(), 11))
        );
        assert!(matches!(
            Mrn::parse("26ge0000000000001J5"),
            Err(MrnError::Length(..))
        ));
        assert!(matches!(
            Mrn::parse("26GE00000000000A1Z5"),
            Err(MrnError::Length(..))
        ));
        assert!(matches!(
            Mrn::parse("26GE000000000001Z5"),
            Err(MrnError::Pattern(_))
        ));
        let good = Mrn::allocate(2026, "KZ", 7, 'J').to_string();
        let wrong = format!(
            "{}{}",
            &good[..17],
            if good.ends_with('0') { '1' } else { '0' }
        );
        assert!(matches!(
            Mrn::parse(&wrong),
            Err(MrnError::CheckCharacter { .. })
        ));
        // The schemas check the pattern only: a sample MRN with another check digit passes.
        assert!(Mrn::parse_unchecked("27WF9X1FQ9RCKN0TM3").is_ok());
    }
}
