//! Declarations sent as JSON by a national clearance system to the live risk API, with the
//! field names of a declaration mapping's roles (`declaration_id`, `date`, `office`,
//! `hs_code`, `mass_kg`, ...) and the attributes by name. Each declaration is checked on its
//! own: a bad one is reported by its position and field, and the others are still read.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::Deserialize;
use smartborder_model::{Declaration, DeclarationSet, refused_in_text};

use crate::declarations::{normalize_hs, parse_date};

/// One declaration as sent. Amounts are numbers; codes are text. The texts that are only read
/// (date, commodity code, attribute names) borrow from the request body when they can.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclarationJson<'a> {
    pub declaration_id: String,
    /// `YYYY-MM-DD`, or an instant whose first ten characters are.
    #[serde(borrow)]
    pub date: Cow<'a, str>,
    pub office: String,
    #[serde(borrow)]
    pub hs_code: Cow<'a, str>,
    pub regime: Option<String>,
    pub declarant: Option<String>,
    pub importer: Option<String>,
    pub seller: Option<String>,
    pub origin: Option<String>,
    pub departure: Option<String>,
    pub quantity: Option<f64>,
    pub mass_kg: Option<f64>,
    pub value: Option<f64>,
    pub fob_value: Option<f64>,
    pub taxes: Option<f64>,
    pub tax_rate_percent: Option<f64>,
    #[serde(default, borrow)]
    pub attributes: Attributes<'a>,
}

/// A declaration's `attributes` object, its entries in the order written (a name written twice
/// keeps its last value, as a JSON object does). A list, not a map: the entries are only walked
/// once, to be put in the configuration's order, and a tree per declaration cost more than
/// reading its few entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes<'a>(pub Vec<(AttributeName<'a>, String)>);

impl<'de: 'a, 'a> Deserialize<'de> for Attributes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Entries<'a> {
            type Value = Attributes<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of attribute names and values")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some(entry) = map.next_entry::<AttributeName<'a>, String>()? {
                    entries.push(entry);
                }
                Ok(Attributes(entries))
            }
        }
        deserializer.deserialize_map(Entries(std::marker::PhantomData))
    }
}

/// The name of an attribute in a declaration's `attributes`, borrowed from the request body
/// unless it was written with escapes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttributeName<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for AttributeName<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl<'de> serde::de::Visitor<'de> for Name {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an attribute name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        deserializer.deserialize_str(Name).map(AttributeName)
    }
}

/// What was wrong with one declaration of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonProblem {
    /// Its position in the batch (0-based).
    pub index: usize,
    /// The JSON path of the field, e.g. `declarations[3].mass_kg`.
    pub field: String,
    pub found: String,
    pub expected: String,
}

impl std::fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: found {}, expected {}",
            self.field, self.found, self.expected
        )
    }
}

/// The longest identifier or code accepted, in bytes.
pub const MAX_TEXT: usize = 128;

/// Turns a batch into a declaration set whose attributes are `attributes` (in that order).
/// Returns the set of the declarations that were readable, the batch index of each, and the
/// problems of the others. The batch is taken by value so that its texts move into the set.
pub fn declarations_from_json(
    batch: Vec<DeclarationJson<'_>>,
    attributes: &[String],
) -> (DeclarationSet, Vec<usize>, Vec<JsonProblem>) {
    let mut set = DeclarationSet {
        attributes: attributes.to_vec(),
        declarations: Vec::with_capacity(batch.len()),
    };
    let (mut index, mut problems) = (Vec::new(), Vec::new());
    for (i, d) in batch.into_iter().enumerate() {
        match declaration(i, d, attributes) {
            Ok(d) => {
                set.declarations.push(d);
                index.push(i);
            }
            Err(p) => problems.push(p),
        }
    }
    (set, index, problems)
}

/// What an identifier or code must be.
const TEXT_RULE: &str = "1 to 128 characters, no control characters or direction overrides";

/// An identifier or code without its surrounding spaces; the value as given when it breaks
/// [`TEXT_RULE`].
fn checked_text(value: String) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.len() > MAX_TEXT || v.chars().any(refused_in_text) {
        return Err(value);
    }
    Ok(if v.len() == value.len() {
        value
    } else {
        v.to_string()
    })
}

fn declaration(
    i: usize,
    d: DeclarationJson<'_>,
    attributes: &[String],
) -> Result<Declaration, JsonProblem> {
    let problem = |field: &str, found: String, expected: &str| JsonProblem {
        index: i,
        field: format!("declarations[{i}].{field}"),
        found,
        expected: expected.to_string(),
    };
    let text = |field: &str, value: String| -> Result<String, JsonProblem> {
        checked_text(value).map_err(|v| problem(field, format!("{v:?}"), TEXT_RULE))
    };
    let optional = |field: &str, value: Option<String>| -> Result<Option<String>, JsonProblem> {
        value.map(|v| text(field, v)).transpose()
    };
    let amount = |field: &str, value: Option<f64>| -> Result<Option<f64>, JsonProblem> {
        match value {
            Some(v) if !(v.is_finite() && v >= 0.0) => {
                Err(problem(field, v.to_string(), "a number at or above 0"))
            }
            v => Ok(v),
        }
    };
    let date: NaiveDate = parse_date(d.date.trim(), None)
        .ok_or_else(|| problem("date", format!("{:?}", d.date), "a date YYYY-MM-DD"))?;
    let hs_code = normalize_hs(d.hs_code.trim(), None).ok_or_else(|| {
        problem(
            "hs_code",
            format!("{:?}", d.hs_code),
            "a commodity code of 2 to 14 digits",
        )
    })?;
    let mut values = vec![None; attributes.len()];
    // Clearance systems write the attributes in one order, usually the configuration's: the
    // search for a name starts after the previous one's place, so that it is mostly found at
    // the first comparison.
    let (n, mut after) = (attributes.len(), 0);
    for (name, value) in d.attributes.0 {
        let name = name.0;
        let field = || format!("attributes.{name}");
        let Some(k) = (0..n)
            .map(|j| (after + j) % n)
            .find(|&k| attributes[k] == name)
        else {
            return Err(problem(
                &field(),
                format!("{name:?}"),
                &format!("one of the attributes {}", attributes.join(", ")),
            ));
        };
        values[k] =
            Some(checked_text(value).map_err(|v| problem(&field(), format!("{v:?}"), TEXT_RULE))?);
        after = k + 1;
    }
    Ok(Declaration {
        id: text("declaration_id", d.declaration_id)?,
        date,
        office: text("office", d.office)?,
        regime: optional("regime", d.regime)?,
        declarant: optional("declarant", d.declarant)?,
        importer: optional("importer", d.importer)?,
        seller: optional("seller", d.seller)?,
        hs_code,
        origin: optional("origin", d.origin)?,
        departure: optional("departure", d.departure)?,
        quantity: amount("quantity", d.quantity)?,
        mass_kg: amount("mass_kg", d.mass_kg)?,
        value: amount("value", d.value)?,
        fob_value: amount("fob_value", d.fob_value)?,
        taxes: amount("taxes", d.taxes)?,
        tax_rate_percent: amount("tax_rate_percent", d.tax_rate_percent)?,
        attributes: values,
        outcome: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Vec<DeclarationJson<'_>> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn reads_good_declarations_and_locates_bad_ones() {
        let batch = parse(
            r#"[
            {"declaration_id": "D1", "date": "2021-01-04", "office": "30", "hs_code": "0808.10",
             "importer": "I1", "mass_kg": 120.5, "value": 900, "attributes": {"courier": "C7"}},
            {"declaration_id": "D2", "date": "2021-13-01", "office": "30", "hs_code": "080810"},
            {"declaration_id": "D3", "date": "2021-01-04", "office": "30", "hs_code": "080810",
             "mass_kg": -1},
            {"declaration_id": "D4\u0000", "date": "2021-01-04", "office": "30", "hs_code": "0808"},
            {"declaration_id": "D5", "date": "2021-01-04T10:00:00Z", "office": "30", "hs_code": "84",
             "attributes": {"colour": "red"}},
            {"declaration_id": "D6", "date": "2021-01-04T10:00:00Z", "office": "40", "hs_code": "8471"},
            {"declaration_id": "D7", "date": "2021-01-04", "office": "30", "hs_code": "8471",
             "importer": "I\u202eTXE"}
        ]"#,
        );
        let (set, index, problems) = declarations_from_json(batch, &["courier".into()]);
        assert_eq!(index, vec![0, 5]);
        let d = &set.declarations[0];
        assert_eq!(
            (d.id.as_str(), d.hs_code.as_str(), d.mass_kg, d.value),
            ("D1", "080810", Some(120.5), Some(900.0))
        );
        assert_eq!(d.attributes, vec![Some("C7".to_string())]);
        assert_eq!(set.declarations[1].attributes, vec![None]);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "declarations[1].date",
                "declarations[2].mass_kg",
                "declarations[3].declaration_id",
                "declarations[4].attributes.colour",
                "declarations[6].importer"
            ]
        );
        assert!(problems[3].expected.contains("courier"), "{}", problems[3]);
    }

    #[test]
    fn attributes_are_put_in_the_configurations_order_and_the_last_of_a_name_counts() {
        let batch = parse(
            r#"[{"declaration_id": "D1", "date": "2021-01-04", "office": "30", "hs_code": "0808",
                 "attributes": {"payment": "P2", "courier": "C1", "courier": "C7"}}]"#,
        );
        let attributes = ["courier".to_string(), "mode".into(), "payment".into()];
        let (set, _, problems) = declarations_from_json(batch, &attributes);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            set.declarations[0].attributes,
            [Some("C7".to_string()), None, Some("P2".to_string())]
        );
        let refused = serde_json::from_str::<Vec<DeclarationJson<'_>>>(
            r#"[{"declaration_id": "D1", "date": "2021-01-04", "office": "30", "hs_code": "0808",
                 "attributes": ["C7"]}]"#,
        )
        .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("an object of attribute names and values"),
            "{refused}"
        );
    }

    #[test]
    fn escaped_texts_read_like_plain_ones_and_spaces_are_trimmed() {
        // JSON escapes cannot be borrowed from the body: they are read into owned text.
        let batch = parse(
            r#"[{"declaration_id": " D1 ", "date": "2021-01-0\u0034", "office": "30",
                 "hs_code": "0808\u002e10", "attributes": {"cour\u0069er": "C\u0037"}},
                {"declaration_id": "D2", "date": "2021-01-04", "office": "30", "hs_code": "0808",
                 "attributes": {"c\u006flour": "red"}}]"#,
        );
        assert!(matches!(batch[0].date, Cow::Owned(_)));
        assert!(matches!(batch[1].date, Cow::Borrowed(_)));
        let (set, index, problems) = declarations_from_json(batch, &["courier".into()]);
        assert_eq!(index, [0]);
        let d = &set.declarations[0];
        assert_eq!(
            (d.id.as_str(), d.date.to_string(), d.hs_code.as_str()),
            ("D1", "2021-01-04".to_string(), "080810")
        );
        assert_eq!(d.attributes, [Some("C7".to_string())]);
        assert_eq!(problems[0].field, "declarations[1].attributes.colour");
    }
}
