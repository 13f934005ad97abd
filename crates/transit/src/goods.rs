//! The goods of a transit declaration, as every administration on the route receives them, and
//! how they read as declarations for risk assessment before arrival.
//!
//! A consignment is lodged once (the JSON body's `consignment`, or the `Consignment` of a
//! CC015C) and replaced by an amendment. Each goods item becomes one risk declaration (the risk
//! engine reads single-item declarations); what the item does not say is taken from the house
//! consignment, then the consignment (NCTS Phase 5 puts consignor, dispatch and destination at
//! any of the three levels). Only texts pass the route's text rule, so nothing stored and shared
//! holds a control character or a direction override.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smartborder_model::{ControlOutcome, Declaration, DeclarationSet};

use crate::control::ControlResult;
use crate::text::{MAX_FREE_TEXT, TextError, check_free_text};

/// The most goods items a consignment may hold (NCTS Phase 5: 999 per declaration).
pub const MAX_GOODS_ITEMS: usize = 999;

/// The attributes a goods item gives a risk declaration (the names are in the model's
/// vocabulary, so that mappings and published configurations know them too).
pub use smartborder_model::GOODS_ITEM_ATTRIBUTES as ATTRIBUTES;

/// The goods of a declaration and the parties and means that carry them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consignment {
    /// The holder of the transit procedure (identification number; TIR holder for TIR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The consignor (identification number, or the name when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignor: Option<String>,
    /// The consignee (identification number, or the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignee: Option<String>,
    /// Country of dispatch (ISO 3166 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_of_dispatch: Option<String>,
    /// Country of destination (ISO 3166 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_of_destination: Option<String>,
    /// Mode of transport at the border (NCTS code: 1 sea, 2 rail, 3 road, 4 air ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_mode: Option<String>,
    /// Nationality of the active border transport means (or of the means at departure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_nationality: Option<String>,
    /// Identification of that means (registration plate, vessel IMO number, train number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_identification: Option<String>,
    /// Seals affixed, over all transport equipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seals: Option<u32>,
    /// Guarantee type (NCTS CL251: 0 waiver, 1 comprehensive, 2 individual, B TIR ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarantee_type: Option<String>,
    /// Type of the first previous document of the consignment (NCTS CL214, e.g. N830).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_document: Option<String>,
    #[serde(default)]
    pub items: Vec<GoodsItem>,
}

/// One goods item (NCTS `ConsignmentItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoodsItem {
    /// Commodity code, digits only: the HS sub-heading (6) and the combined nomenclature (2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commodity_code: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_mass_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_mass_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplementary_units: Option<f64>,
    /// Declared value (national systems that carry one; a CC015C has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Country of origin, where given (a CC015C has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_of_origin: Option<String>,
    /// The item's own country of dispatch, when it differs from the consignment's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_of_dispatch: Option<String>,
    /// The item's own country of destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_of_destination: Option<String>,
    /// The item's own consignee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignee: Option<String>,
    /// The item's own consignor (from its house consignment in a CC015C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consignor: Option<String>,
    /// Type of the item's first previous document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_document: Option<String>,
}

/// Why a consignment was refused, with the field it names (`items[2].commodity_code`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GoodsError {
    #[error("consignment.{field}: {problem}")]
    Text { field: String, problem: String },
    #[error("consignment.{field}: \"{found}\" is not {expected}")]
    Value {
        field: String,
        found: String,
        expected: &'static str,
    },
    #[error("consignment.items: {0} goods items; a declaration holds at most {MAX_GOODS_ITEMS}")]
    TooManyItems(usize),
}

impl Consignment {
    /// Checks every field: texts by the route's text rule, country codes, commodity codes,
    /// amounts (finite, not negative).
    pub fn check(&self) -> Result<(), GoodsError> {
        if self.items.len() > MAX_GOODS_ITEMS {
            return Err(GoodsError::TooManyItems(self.items.len()));
        }
        let texts = [
            ("holder", &self.holder),
            ("consignor", &self.consignor),
            ("consignee", &self.consignee),
            ("transport_identification", &self.transport_identification),
            ("guarantee_type", &self.guarantee_type),
            ("previous_document", &self.previous_document),
            ("transport_mode", &self.transport_mode),
        ];
        for (field, value) in texts {
            if let Some(v) = value {
                text(field.to_string(), v)?;
            }
        }
        for (field, value) in [
            ("country_of_dispatch", &self.country_of_dispatch),
            ("country_of_destination", &self.country_of_destination),
            ("transport_nationality", &self.transport_nationality),
        ] {
            country(field.to_string(), value)?;
        }
        for (i, item) in self.items.iter().enumerate() {
            let at = |f: &str| format!("items[{i}].{f}");
            text(at("description"), &item.description)?;
            for (field, value) in [
                ("consignee", &item.consignee),
                ("consignor", &item.consignor),
                ("previous_document", &item.previous_document),
            ] {
                if let Some(v) = value {
                    text(at(field), v)?;
                }
            }
            for (field, value) in [
                ("country_of_origin", &item.country_of_origin),
                ("country_of_dispatch", &item.country_of_dispatch),
                ("country_of_destination", &item.country_of_destination),
            ] {
                country(at(field), value)?;
            }
            if let Some(code) = &item.commodity_code {
                let ok = (2..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return Err(GoodsError::Value {
                        field: at("commodity_code"),
                        found: shown(code),
                        expected: "a commodity code of 2 to 10 digits (HS6, then CN)",
                    });
                }
            }
            for (field, value) in [
                ("gross_mass_kg", item.gross_mass_kg),
                ("net_mass_kg", item.net_mass_kg),
                ("supplementary_units", item.supplementary_units),
                ("value", item.value),
            ] {
                if let Some(v) = value
                    && !(v.is_finite() && v >= 0.0)
                {
                    return Err(GoodsError::Value {
                        field: at(field),
                        found: v.to_string(),
                        expected: "a finite amount of zero or more",
                    });
                }
            }
        }
        Ok(())
    }

    /// The goods items as risk declarations, one per item, for an assessment at `office` on
    /// `date`: the identifier is `{reference}/{item number}`; holder, consignee and consignor
    /// are the declarant, importer and seller; the country of dispatch is the departure; the
    /// gross mass (the net mass when there is none) is the mass; supplementary units are the
    /// quantity. `attributes` are the names the risk configuration was compiled with: those of
    /// [`ATTRIBUTES`] are filled, any other is absent.
    pub fn declarations(
        &self,
        reference: &str,
        date: NaiveDate,
        office: &str,
        attributes: &[String],
    ) -> DeclarationSet {
        let declarations = self
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let code = item.commodity_code.as_deref().unwrap_or_default();
                let mut d = Declaration::new(&format!("{reference}/{}", i + 1), date, office, code);
                d.regime = Some("transit".to_string());
                d.declarant = self.holder.clone();
                d.importer = item.consignee.clone().or_else(|| self.consignee.clone());
                d.seller = item.consignor.clone().or_else(|| self.consignor.clone());
                d.origin = item.country_of_origin.clone();
                d.departure = item
                    .country_of_dispatch
                    .clone()
                    .or_else(|| self.country_of_dispatch.clone());
                d.quantity = item.supplementary_units;
                d.mass_kg = item.gross_mass_kg.or(item.net_mass_kg);
                d.value = item.value;
                d.attributes = attributes
                    .iter()
                    .map(|name| match name.as_str() {
                        "description" => Some(item.description.clone()),
                        "destination" => item
                            .country_of_destination
                            .clone()
                            .or_else(|| self.country_of_destination.clone()),
                        "transport_mode" => self.transport_mode.clone(),
                        "transport_nationality" => self.transport_nationality.clone(),
                        "seals" => self.seals.map(|s| s.to_string()),
                        "guarantee_type" => self.guarantee_type.clone(),
                        "previous_document" => item
                            .previous_document
                            .clone()
                            .or_else(|| self.previous_document.clone()),
                        _ => None,
                    })
                    .collect();
                d
            })
            .collect();
        DeclarationSet {
            attributes: attributes.to_vec(),
            declarations,
        }
    }
}

/// A movement an administration assessed, as a training example: what it knew (the goods, the
/// office and day of its assessment, the chance it had of selecting the movement) and, once
/// recorded, what its control found.
#[derive(Debug, Clone)]
pub struct AssessedGoods<'a> {
    pub reference: &'a str,
    pub consignment: &'a Consignment,
    pub date: NaiveDate,
    pub office: &'a str,
    pub propensity: Option<f64>,
    pub result: Option<&'a ControlResult>,
}

/// The training set of an administration from the movements it assessed, one declaration per
/// goods item, in date order. An item is labelled when the movement was inspected (non-compliant
/// on a minor or major finding or a seizure), with the assessment's propensity and an equal
/// share of the revenue recovered (a control result is per movement); an item of a movement not
/// inspected, or with no result yet, is context without a label, never "compliant".
pub fn training_set(movements: &[AssessedGoods<'_>]) -> DeclarationSet {
    let attributes: Vec<String> = ATTRIBUTES.iter().map(|a| a.to_string()).collect();
    let mut ordered: Vec<&AssessedGoods<'_>> = movements.iter().collect();
    ordered.sort_by_key(|m| m.date);
    let mut declarations = Vec::new();
    for m in ordered {
        let mut set = m
            .consignment
            .declarations(m.reference, m.date, m.office, &attributes);
        let items = set.declarations.len().max(1) as f64;
        let outcome = m.result.and_then(|r| {
            Some(ControlOutcome {
                non_compliant: r.non_compliant()?,
                revenue: r.revenue_recovered.map(|v| v / items),
                propensity: m.propensity,
            })
        });
        for d in &mut set.declarations {
            d.outcome = outcome;
        }
        declarations.append(&mut set.declarations);
    }
    DeclarationSet {
        attributes,
        declarations,
    }
}

fn text(field: String, value: &str) -> Result<(), GoodsError> {
    check_free_text("text", value).map_err(|e| {
        let problem = match e {
            TextError::Character { code, position, .. } => format!(
                "character U+{code:04X} at position {position} is not allowed (control characters and direction overrides are refused)"
            ),
            TextError::TooLong { found, .. } => {
                format!("{found} characters, at most {MAX_FREE_TEXT} are allowed")
            }
            TextError::Lrn { shown } => format!("\"{shown}\" is not allowed"),
        };
        GoodsError::Text { field, problem }
    })
}

fn country(field: String, value: &Option<String>) -> Result<(), GoodsError> {
    match value {
        Some(v) if !(v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase())) => {
            Err(GoodsError::Value {
                field,
                found: shown(v),
                expected: "a country code of 2 capital letters (ISO 3166 alpha-2)",
            })
        }
        _ => Ok(()),
    }
}

/// A refused value as shown in an error: at most 40 characters, controls escaped.
fn shown(value: &str) -> String {
    value
        .chars()
        .take(40)
        .flat_map(char::escape_default)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consignment() -> Consignment {
        Consignment {
            holder: Some("KZ123456789012".to_string()),
            consignor: Some("CN-SHIPPER-1".to_string()),
            consignee: Some("GE-IMPORTER-7".to_string()),
            country_of_dispatch: Some("CN".to_string()),
            country_of_destination: Some("GE".to_string()),
            transport_mode: Some("3".to_string()),
            transport_nationality: Some("KZ".to_string()),
            transport_identification: Some("777ABC02".to_string()),
            seals: Some(2),
            guarantee_type: Some("1".to_string()),
            previous_document: Some("N740".to_string()),
            items: vec![
                GoodsItem {
                    commodity_code: Some("85176200".to_string()),
                    description: "Network switches".to_string(),
                    gross_mass_kg: Some(1200.0),
                    net_mass_kg: Some(1100.0),
                    ..GoodsItem::default()
                },
                GoodsItem {
                    commodity_code: Some("620342".to_string()),
                    description: "Cotton trousers".to_string(),
                    net_mass_kg: Some(300.0),
                    supplementary_units: Some(1500.0),
                    country_of_destination: Some("AZ".to_string()),
                    consignee: Some("AZ-BUYER-2".to_string()),
                    value: Some(4500.0),
                    country_of_origin: Some("UZ".to_string()),
                    ..GoodsItem::default()
                },
            ],
        }
    }

    #[test]
    fn items_become_declarations_with_the_consignment_filling_gaps() {
        let names: Vec<String> = ["destination", "seals", "courier", "description"]
            .map(String::from)
            .to_vec();
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let set = consignment().declarations("26KZ0001", date, "GE100100", &names);
        assert_eq!(set.attributes, names);
        let [a, b] = &set.declarations[..] else {
            panic!("two items, two declarations")
        };
        assert_eq!(a.id, "26KZ0001/1");
        assert_eq!(a.office, "GE100100");
        assert_eq!(a.hs_code, "85176200");
        assert_eq!(a.declarant.as_deref(), Some("KZ123456789012"));
        assert_eq!(a.importer.as_deref(), Some("GE-IMPORTER-7"));
        assert_eq!(a.seller.as_deref(), Some("CN-SHIPPER-1"));
        assert_eq!(a.departure.as_deref(), Some("CN"));
        assert_eq!(a.mass_kg, Some(1200.0), "gross mass first");
        assert_eq!(
            a.attributes,
            vec![
                Some("GE".to_string()),
                Some("2".to_string()),
                None,
                Some("Network switches".to_string())
            ]
        );
        assert_eq!(b.mass_kg, Some(300.0), "net mass when no gross");
        assert_eq!(b.importer.as_deref(), Some("AZ-BUYER-2"));
        assert_eq!(b.origin.as_deref(), Some("UZ"));
        assert_eq!(b.quantity, Some(1500.0));
        assert_eq!(b.value, Some(4500.0));
        assert_eq!(b.unit_value(), Some(3.0));
        assert_eq!(b.attributes[0].as_deref(), Some("AZ"));
        assert!(a.outcome.is_none() && b.outcome.is_none());
    }

    #[test]
    fn only_inspected_movements_are_labelled() {
        use crate::control::Finding;
        let goods = consignment();
        let result = |inspected: bool, finding: Finding| ControlResult {
            office: crate::OfficeRef::parse("GE100100").unwrap(),
            at: "2026-12-01T10:00:00Z".parse().unwrap(),
            lane_applied: smartborder_model::Lane::Red,
            inspected,
            finding,
            finding_code: None,
            revenue_recovered: Some(100.0),
            seizure: false,
            remarks: None,
            propensity: None,
            assessment: None,
        };
        let (found, clean, waved) = (
            result(true, Finding::Minor),
            result(true, Finding::None),
            result(false, Finding::None),
        );
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let row = |reference, date, result| AssessedGoods {
            reference,
            consignment: &goods,
            date,
            office: "GE100100",
            propensity: Some(0.25),
            result,
        };
        let set = training_set(&[
            row("LATE", day(20), Some(&found)),
            row("CLEAN", day(3), Some(&clean)),
            row("WAVED", day(4), Some(&waved)),
            row("OPEN", day(5), None),
        ]);
        assert_eq!(set.declarations.len(), 8, "two items each");
        let ids: Vec<&str> = set.declarations.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids[0], "CLEAN/1", "date order");
        assert_eq!(ids[7], "LATE/2");
        let label = |id: &str| {
            set.declarations
                .iter()
                .find(|d| d.id == id)
                .and_then(|d| d.outcome)
        };
        let late = label("LATE/1").unwrap();
        assert!(late.non_compliant);
        assert_eq!(late.propensity, Some(0.25));
        assert_eq!(late.revenue, Some(50.0), "shared between two items");
        assert!(!label("CLEAN/2").unwrap().non_compliant);
        assert_eq!(label("WAVED/1"), None, "not inspected: context");
        assert_eq!(label("OPEN/1"), None, "no result yet: context");
    }

    #[test]
    fn refused_fields_are_named() {
        assert_eq!(consignment().check(), Ok(()));
        let mut c = consignment();
        c.items[1].description = "x\u{202E}y".to_string();
        let e = c.check().unwrap_err().to_string();
        assert!(e.starts_with("consignment.items[1].description:"), "{e}");
        let mut c = consignment();
        c.items[0].commodity_code = Some("8517-62".to_string());
        let e = c.check().unwrap_err().to_string();
        assert!(
            e.contains("items[0].commodity_code") && e.contains("8517-62"),
            "{e}"
        );
        let mut c = consignment();
        c.items[0].gross_mass_kg = Some(-1.0);
        assert!(c.check().unwrap_err().to_string().contains("gross_mass_kg"));
        let mut c = consignment();
        c.country_of_dispatch = Some("china".to_string());
        assert!(
            c.check()
                .unwrap_err()
                .to_string()
                .contains("country_of_dispatch")
        );
        let mut c = consignment();
        c.items = vec![GoodsItem::default(); MAX_GOODS_ITEMS + 1];
        assert_eq!(c.check(), Err(GoodsError::TooManyItems(1000)));
    }

    #[test]
    fn json_refuses_unknown_fields() {
        let e = serde_json::from_str::<Consignment>(r#"{"items":[{"description":"x","hs":"1"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `hs`"), "{e}");
    }
}
