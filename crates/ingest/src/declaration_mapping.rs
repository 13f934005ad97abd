//! The declaration mapping file (TOML): how to read a clearance system's export of declarations
//! for risk management. Same spirit as the TRS mapping: a contract, unknown keys refused.
//!
//! ```toml
//! [input]
//! delimiter = ","            # CSV only
//! # sheet = "Declarations"   # Excel only
//! date_format = "%Y-%m-%d"   # chrono format of the date column (default: ISO 8601 date)
//! hs_code_digits = 6         # left-pad numeric commodity codes that lost their leading zeros
//!
//! [columns]                  # role -> column; declaration_id, date, office, hs_code required
//! declaration_id = "Declaration ID"
//! non_compliant = "Fraud"    # history: 0/1 result of the control
//!
//! [attributes]               # further coded fields, usable in rules and models
//! tax_type = "Tax Type"
//! ```

use std::path::Path;

use serde::Deserialize;
use smartborder_model::DeclarationField;

use crate::error::IngestError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    input: RawInput,
    columns: RawColumns,
    #[serde(default)]
    attributes: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    delimiter: Option<String>,
    sheet: Option<String>,
    date_format: Option<String>,
    hs_code_digits: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumns {
    declaration_id: String,
    date: String,
    office: String,
    hs_code: String,
    regime: Option<String>,
    declarant: Option<String>,
    importer: Option<String>,
    seller: Option<String>,
    origin: Option<String>,
    departure: Option<String>,
    quantity: Option<String>,
    mass_kg: Option<String>,
    value: Option<String>,
    fob_value: Option<String>,
    taxes: Option<String>,
    tax_rate_percent: Option<String>,
    non_compliant: Option<String>,
    revenue: Option<String>,
    propensity: Option<String>,
}

/// A role of the mapping: a declaration field or one of the history columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Field(DeclarationField),
    NonCompliant,
    Revenue,
    /// The probability the declaration was inspected (written by `risk select`).
    Propensity,
}

impl Role {
    /// The key of the role in `[columns]`.
    pub fn key(self) -> &'static str {
        match self {
            Role::Field(DeclarationField::Id) => "declaration_id",
            Role::Field(f) => f.name(),
            Role::NonCompliant => "non_compliant",
            Role::Revenue => "revenue",
            Role::Propensity => "propensity",
        }
    }
}

/// The declaration mapping of the Korea Customs Service open data (`profiles/kcs.toml`), built
/// in: `--mapping kcs` on the command line, and the console's rule checks.
pub const KCS_MAPPING: &str = include_str!("../../../profiles/kcs.toml");

/// The attribute names of [`KCS_MAPPING`]: those risk profiles are checked against in the
/// console, and live declarations are read with.
pub fn kcs_attribute_names() -> Vec<String> {
    DeclarationMapping::from_toml(KCS_MAPPING, "kcs")
        .map(|m| m.attributes.into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default()
}

/// The attribute names an administration's published risk configuration is checked and
/// compiled with: the built-in mapping's (declarations sent to the live API) and those of the
/// goods items of transit declarations (assessments before arrival), each once.
pub fn published_attribute_names() -> Vec<String> {
    let mut names = kcs_attribute_names();
    for a in smartborder_model::GOODS_ITEM_ATTRIBUTES {
        if !names.iter().any(|n| n == a) {
            names.push(a.to_string());
        }
    }
    names
}

/// A validated declaration mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclarationMapping {
    pub delimiter: u8,
    pub sheet: Option<String>,
    /// chrono format of the date column; `None` = ISO 8601 date, optionally followed by a time.
    pub date_format: Option<String>,
    /// Numeric commodity codes shorter than this are left-padded with zeros.
    pub hs_code_digits: Option<usize>,
    /// Role -> column name, for every role the mapping names.
    pub columns: Vec<(Role, String)>,
    /// Attribute name -> column name.
    pub attributes: Vec<(String, String)>,
}

impl DeclarationMapping {
    /// Reads and validates a mapping file.
    pub fn from_file(path: &Path) -> Result<DeclarationMapping, IngestError> {
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
            path: path.display().to_string(),
            source,
        })?;
        DeclarationMapping::from_toml(&text, &path.display().to_string())
    }

    /// Parses a mapping from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<DeclarationMapping, IngestError> {
        let err = |message: String| IngestError::Mapping {
            file: origin.to_string(),
            message,
        };
        let raw: RawMapping = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let delimiter = crate::mapping::parse_delimiter(raw.input.delimiter.as_deref())
            .map_err(|m| err(format!("[input] delimiter: {m}")))?;
        if let Some(f) = &raw.input.date_format {
            // Format a known date and read it back; a format without a day, or with a time or
            // an unknown specifier, fails one of the two (without panicking).
            let mut probe = String::new();
            let date = chrono::NaiveDate::from_ymd_opt(2020, 12, 31).expect("valid date");
            let formatted =
                std::fmt::Write::write_fmt(&mut probe, format_args!("{}", date.format(f)));
            if formatted.is_err() || chrono::NaiveDate::parse_from_str(&probe, f).is_err() {
                return Err(err(format!(
                    "[input] date_format: \"{f}\" does not give a date (it needs a year, month and day, e.g. \"%d.%m.%Y\")"
                )));
            }
        }
        if let Some(d) = raw.input.hs_code_digits
            && !(2..=14).contains(&d)
        {
            return Err(err(format!(
                "[input] hs_code_digits: expected 2 to 14, found {d}"
            )));
        }
        let c = raw.columns;
        use DeclarationField as F;
        let named = [
            (Role::Field(F::Id), Some(c.declaration_id)),
            (Role::Field(F::Date), Some(c.date)),
            (Role::Field(F::Office), Some(c.office)),
            (Role::Field(F::HsCode), Some(c.hs_code)),
            (Role::Field(F::Regime), c.regime),
            (Role::Field(F::Declarant), c.declarant),
            (Role::Field(F::Importer), c.importer),
            (Role::Field(F::Seller), c.seller),
            (Role::Field(F::Origin), c.origin),
            (Role::Field(F::Departure), c.departure),
            (Role::Field(F::Quantity), c.quantity),
            (Role::Field(F::MassKg), c.mass_kg),
            (Role::Field(F::Value), c.value),
            (Role::Field(F::FobValue), c.fob_value),
            (Role::Field(F::Taxes), c.taxes),
            (Role::Field(F::TaxRatePercent), c.tax_rate_percent),
            (Role::NonCompliant, c.non_compliant),
            (Role::Revenue, c.revenue),
            (Role::Propensity, c.propensity),
        ];
        let columns: Vec<(Role, String)> = named
            .into_iter()
            .filter_map(|(role, column)| column.map(|c| (role, c)))
            .collect();
        let mut attributes = Vec::new();
        for (name, value) in &raw.attributes {
            let column = value.as_str().ok_or_else(|| {
                err(format!(
                    "[attributes] {name}: expected a column name in quotes, found {value}"
                ))
            })?;
            let identifier = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !identifier {
                return Err(err(format!(
                    "[attributes] {name}: attribute names are lower-case identifiers (a-z, 0-9, _), as rules refer to them"
                )));
            }
            if DeclarationField::from_name(name).is_some() {
                return Err(err(format!(
                    "[attributes] {name}: the name of a built-in declaration field; map it under [columns] instead"
                )));
            }
            attributes.push((name.clone(), column.to_string()));
        }
        Ok(DeclarationMapping {
            delimiter,
            sheet: raw.input.sheet,
            date_format: raw.input.date_format,
            hs_code_digits: raw.input.hs_code_digits,
            columns,
            attributes,
        })
    }

    /// The column of a role, when mapped.
    pub fn column(&self, role: Role) -> Option<&str> {
        self.columns
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, c)| c.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[columns]
declaration_id = "ID"
date = "Date"
office = "Office"
hs_code = "HS"
"#;

    #[test]
    fn minimal_mapping_has_defaults() {
        let m = DeclarationMapping::from_toml(MINIMAL, "m.toml").unwrap();
        assert_eq!(m.delimiter, b',');
        assert_eq!(m.columns.len(), 4);
        assert_eq!(m.column(Role::Field(DeclarationField::HsCode)), Some("HS"));
        assert_eq!(m.column(Role::NonCompliant), None);
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                MINIMAL.replace("hs_code = \"HS\"", ""),
                "missing field `hs_code`",
            ),
            (
                format!("{MINIMAL}origin_country = \"X\""),
                "unknown field `origin_country`",
            ),
            (
                format!("[input]\ndate_format = \"%H:%M\"\n{MINIMAL}"),
                "does not give a date",
            ),
            (
                format!("[input]\ndate_format = \"%Y\"\n{MINIMAL}"),
                "does not give a date",
            ),
            (
                format!("[input]\ndate_format = \"%Q-%m\"\n{MINIMAL}"),
                "does not give a date",
            ),
            (
                format!("[input]\nhs_code_digits = 40\n{MINIMAL}"),
                "expected 2 to 14, found 40",
            ),
            (
                format!("{MINIMAL}[attributes]\n\"Tax Type\" = \"Tax Type\""),
                "lower-case identifiers",
            ),
            (
                format!("{MINIMAL}[attributes]\norigin = \"Origin\""),
                "built-in declaration field",
            ),
            (
                format!("[input]\ndelimiter = \";;\"\n{MINIMAL}"),
                "expected one ASCII character",
            ),
        ];
        for (text, expected) in cases {
            let e = DeclarationMapping::from_toml(&text, "m.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{e} should contain {expected}");
            assert!(e.starts_with("mapping m.toml"), "{e}");
        }
    }
}
