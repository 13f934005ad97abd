//! Certificates of the programme: a printable page in English and Russian, and a verification
//! code that whoever holds the programme's secret can check (a workshop laptop today, the
//! server when it keeps the secret).
//!
//! The code is the first 16 hex digits of HMAC-SHA-256 (RFC 2104) of the certificate's fields in
//! a fixed order, keyed with the programme's secret: changing any field, or guessing a code
//! without the secret, fails the check.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::text::Lang;

/// A person's level in the programme, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Participant,
    Trainer,
    MasterTrainer,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "participant" => Some(Level::Participant),
            "trainer" => Some(Level::Trainer),
            "master_trainer" => Some(Level::MasterTrainer),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Participant => "participant",
            Level::Trainer => "trainer",
            Level::MasterTrainer => "master_trainer",
        }
    }

    fn words(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Level::Participant, Lang::En) => "has completed the course as a participant",
            (Level::Trainer, Lang::En) => "is accredited as a trainer",
            (Level::MasterTrainer, Lang::En) => "is accredited as a master trainer",
            (Level::Participant, Lang::Ru) => "успешно прошёл(ла) курс",
            (Level::Trainer, Lang::Ru) => "аккредитован(а) в качестве тренера",
            (Level::MasterTrainer, Lang::Ru) => "аккредитован(а) в качестве мастер-тренера",
        }
    }
}

/// What a certificate attests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub name: String,
    /// The administration (ISO 3166 alpha-2).
    pub country: String,
    pub level: Level,
    pub course: String,
    /// The date of issue (YYYY-MM-DD).
    pub date: String,
    /// The final score, out of 100.
    pub score: f64,
    /// The verification code.
    pub code: String,
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The fields as signed: one per line, in a fixed order.
fn signed_text(c: &Certificate) -> String {
    let level = serde_json::to_value(c.level)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!(
        "{}\n{}\n{level}\n{}\n{}\n{:.1}\n",
        c.name, c.country, c.course, c.date, c.score
    )
}

fn code_of(secret: &[u8], c: &Certificate) -> String {
    hmac_sha256(secret, signed_text(c).as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

impl Certificate {
    /// A certificate with its code.
    pub fn issue(
        secret: &[u8],
        name: &str,
        country: &str,
        level: Level,
        course: &str,
        date: &str,
        score: f64,
    ) -> Certificate {
        let mut c = Certificate {
            name: name.trim().to_string(),
            country: country.to_string(),
            level,
            course: course.trim().to_string(),
            date: date.to_string(),
            score,
            code: String::new(),
        };
        c.code = code_of(secret, &c);
        c
    }

    /// Whether the code is the one the secret gives for these fields.
    pub fn verify(&self, secret: &[u8]) -> bool {
        let expected = code_of(secret, self);
        expected.len() == self.code.len()
            && expected
                .bytes()
                .zip(self.code.to_ascii_uppercase().bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The printable page, in one language.
    pub fn html(&self, lang: Lang) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let (title, programme, course, score, date, code) = match lang {
            Lang::En => (
                "Certificate",
                "Master Trainer Programme in risk management and Time Release Studies, Middle Corridor (WCO/JICA)",
                "Course",
                "Final score",
                "Date of issue",
                "Verification code",
            ),
            Lang::Ru => (
                "Сертификат",
                "Программа подготовки мастер-тренеров по управлению рисками и исследованию времени выпуска, Средний коридор (ВТамО/JICA)",
                "Курс",
                "Итоговый балл",
                "Дата выдачи",
                "Код проверки",
            ),
        };
        format!(
            "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}: {name}</title>\
             <style>body{{font-family:Georgia,serif;margin:0;color:#1b1f24}}main{{max-width:46rem;margin:3rem auto;padding:3rem;border:6px double #0b3d66;text-align:center}}\
             h1{{font-size:2.4rem;letter-spacing:.2rem;margin:0 0 1rem}}.name{{font-size:2rem;margin:1.5rem 0 .5rem}}dl{{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;text-align:left;margin:2rem auto;max-width:30rem}}\
             dt{{font-weight:bold}}.code{{font-family:monospace;font-size:1.2rem;letter-spacing:.1rem}}@media print{{main{{margin:0 auto}}}}</style></head>\
             <body><main><h1>{title}</h1><p>{programme}</p><p class=\"name\">{name}</p><p>({country}) {level}</p>\
             <dl><dt>{course}</dt><dd>{course_name}</dd><dt>{score}</dt><dd>{value:.1} / 100</dd><dt>{date}</dt><dd>{issued}</dd>\
             <dt>{code}</dt><dd class=\"code\">{code_value}</dd></dl></main></body></html>\n",
            lang = lang.code(),
            name = esc(&self.name),
            country = esc(&self.country),
            level = self.level.words(lang),
            course_name = esc(&self.course),
            value = self.score,
            issued = esc(&self.date),
            code_value = self.code,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2.
    #[test]
    fn hmac_matches_the_rfc_test_vector() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_changed_field_or_another_secret_fails_the_check() {
        let secret = b"the programme's secret";
        let c = Certificate::issue(
            secret,
            "Aliya K.",
            "KZ",
            Level::Trainer,
            "Risk profiling, Almaty",
            "2026-12-01",
            87.5,
        );
        assert_eq!(c.code.len(), 16);
        assert!(c.verify(secret));
        assert!(!c.verify(b"another secret"));
        for changed in [
            Certificate {
                name: "Aliya Kh.".into(),
                ..c.clone()
            },
            Certificate {
                level: Level::MasterTrainer,
                ..c.clone()
            },
            Certificate {
                score: 97.5,
                ..c.clone()
            },
            Certificate {
                date: "2026-12-02".into(),
                ..c.clone()
            },
        ] {
            assert!(!changed.verify(secret));
        }
        let lower = Certificate {
            code: c.code.to_lowercase(),
            ..c.clone()
        };
        assert!(lower.verify(secret), "codes are read in either case");
        for lang in [Lang::En, Lang::Ru] {
            let page = c.html(lang);
            assert!(page.contains(&c.code) && page.contains("Aliya K."));
            assert_eq!(page.contains("Сертификат"), lang == Lang::Ru);
        }
        let tricky = Certificate::issue(
            secret,
            "<script>",
            "KZ",
            Level::Participant,
            "x",
            "2026-12-01",
            60.0,
        );
        assert!(!tricky.html(Lang::En).contains("<script>"));
    }
}
