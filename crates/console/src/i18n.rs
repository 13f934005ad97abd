//! The console's languages, in Project Fluent. Every `locales/*.ftl` file is a locale (the
//! build embeds them all), English is the fallback for a message a locale lacks, and dates and
//! numbers are written the way the locale writes them.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The locale every other falls back to.
pub const FALLBACK: &str = "en";

struct Catalogue {
    bundles: HashMap<&'static str, FluentBundle<FluentResource>>,
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut bundles = HashMap::new();
        for (tag, source) in LOCALES {
            let id: LanguageIdentifier = tag.parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // Console pages are HTML: no Unicode isolation marks around arguments.
            bundle.set_use_isolating(false);
            // A locale file with a syntax error keeps the messages that do parse; the
            // locale tests refuse such a file before it ships.
            let resource = match FluentResource::try_new((*source).to_string()) {
                Ok(r) => r,
                Err((r, _)) => r,
            };
            let _ = bundle.add_resource(resource);
            bundles.insert(*tag, bundle);
        }
        Catalogue { bundles }
    })
}

/// The tags of the locales the console speaks, sorted.
pub fn locales() -> impl Iterator<Item = &'static str> {
    LOCALES.iter().map(|(tag, _)| *tag)
}

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(&'static str);

impl Lang {
    /// The locale of a tag (`ru`, `ru-RU`), if the console has it.
    pub fn find(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or("").trim();
        locales()
            .find(|l| l.eq_ignore_ascii_case(primary))
            .map(Lang)
    }

    /// The first language of an `Accept-Language` header the console has, else English.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        accept_language
            .into_iter()
            .flat_map(|h| h.split(','))
            .filter_map(|part| Lang::find(part.split(';').next().unwrap_or("")))
            .next()
            .unwrap_or(Lang(FALLBACK))
    }

    pub fn tag(self) -> &'static str {
        self.0
    }

    /// A message of this locale (or of English when this locale lacks it).
    pub fn t(self, id: &str) -> String {
        self.format(id, None)
    }

    /// A message with arguments.
    pub fn t_args(self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.format(id, Some(&fluent))
    }

    fn format(self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let catalogue = catalogue();
        for tag in [self.0, FALLBACK] {
            let Some(bundle) = catalogue.bundles.get(tag) else {
                continue;
            };
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle
                    .format_pattern(pattern, args, &mut errors)
                    .into_owned();
            }
        }
        // A missing message shows its id, so that it is noticed rather than hidden.
        id.to_string()
    }

    /// An instant as a person at a place reads it: in `zone`, with the zone's abbreviation.
    pub fn local_time(self, at: DateTime<Utc>, zone: Tz) -> String {
        let local = at.with_timezone(&zone);
        match self.0 {
            "en" => local.format("%Y-%m-%d %H:%M %Z").to_string(),
            _ => local.format("%d.%m.%Y %H:%M %Z").to_string(),
        }
    }

    /// An instant in UTC.
    pub fn utc_time(self, at: DateTime<Utc>) -> String {
        match self.0 {
            "en" => at.format("%Y-%m-%d %H:%M UTC").to_string(),
            _ => at.format("%d.%m.%Y %H:%M UTC").to_string(),
        }
    }

    /// Hours with one decimal, with the locale's decimal mark (5.5 or 5,5).
    pub fn hours(self, hours: f64) -> String {
        let text = format!("{hours:.1}");
        if self.0 == "en" {
            text
        } else {
            text.replace('.', ",")
        }
    }

    /// A whole number with the locale's digit grouping (1,234,567 or 1 234 567).
    pub fn count(self, n: i64) -> String {
        let separator = if self.0 == "en" { ',' } else { '\u{a0}' };
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(separator);
            }
            out.push(d);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Every message id of a Fluent source.
    fn ids(source: &str) -> Vec<String> {
        let resource = FluentResource::try_new(source.to_string())
            .unwrap_or_else(|(_, errors)| panic!("locale does not parse: {errors:?}"));
        resource
            .entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_locale_parses_and_has_every_english_message() {
        let english = ids(LOCALES.iter().find(|(t, _)| *t == "en").unwrap().1);
        assert!(english.len() > 50, "{} English messages", english.len());
        for (tag, source) in LOCALES {
            let own = ids(source);
            let missing: Vec<_> = english.iter().filter(|id| !own.contains(id)).collect();
            assert!(missing.is_empty(), "{tag} lacks {missing:?}");
        }
    }

    #[test]
    fn languages_are_found_and_negotiated() {
        assert_eq!(Lang::find("ru-RU").map(Lang::tag), Some("ru"));
        assert_eq!(Lang::find("xx"), None);
        assert_eq!(
            Lang::negotiate(Some("de-DE, ru;q=0.8, en;q=0.5")).tag(),
            "ru"
        );
        assert_eq!(Lang::negotiate(None).tag(), "en");
    }

    #[test]
    fn messages_take_arguments_and_fall_back_to_english() {
        let ru = Lang::find("ru").unwrap();
        assert_eq!(ru.t("sign-in"), "Вход");
        assert_eq!(
            ru.t_args("page-of", &[("count", FluentValue::from(3))]),
            "Показано: 3"
        );
        assert_eq!(ru.t("no-such-message"), "no-such-message");
    }

    #[test]
    fn dates_and_numbers_follow_the_locale() {
        let en = Lang::find("en").unwrap();
        let ru = Lang::find("ru").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 21, 30, 0).unwrap();
        let baku: Tz = "Asia/Baku".parse().unwrap();
        assert_eq!(en.local_time(at, baku), "2026-12-02 01:30 +04");
        assert_eq!(ru.local_time(at, baku), "02.12.2026 01:30 +04");
        assert_eq!(ru.utc_time(at), "01.12.2026 21:30 UTC");
        assert_eq!(en.count(1234567), "1,234,567");
        assert_eq!(ru.count(-1234), "-1\u{a0}234");
        assert_eq!(en.count(999), "999");
        assert_eq!(en.hours(5.25), "5.2");
        assert_eq!(ru.hours(12.0), "12,0");
    }
}
