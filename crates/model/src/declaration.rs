//! Goods declarations as risk management sees them: the fields that selectivity criteria and risk
//! models read (WCO Data Model names in the doc comments), and, for history, the outcome of the
//! control.

use chrono::NaiveDate;

/// One goods declaration (a single-item view: the fields of the item that risk assessment reads).
///
/// Amounts are in the national currency of the export; masses in kilograms. Optional fields are
/// `None` when the source does not have them, never zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    /// Declaration identifier (WCO DE 1/9 "LRN" or the national registration number).
    pub id: String,
    /// Acceptance date of the declaration.
    pub date: NaiveDate,
    /// Customs office of lodgement (WCO DE 5/27).
    pub office: String,
    /// Customs procedure or import type (ASYCUDA "model of declaration").
    pub regime: Option<String>,
    /// Declarant or customs broker (WCO DE 3/18).
    pub declarant: Option<String>,
    /// Importer (WCO DE 3/15).
    pub importer: Option<String>,
    /// Seller (WCO DE 3/24).
    pub seller: Option<String>,
    /// Commodity code, digits only (HS6 or a longer national tariff code).
    pub hs_code: String,
    /// Country of origin, as coded in the source (ISO 3166 alpha-2 usually).
    pub origin: Option<String>,
    /// Country of departure / dispatch.
    pub departure: Option<String>,
    /// Quantity in supplementary units.
    pub quantity: Option<f64>,
    /// Mass in kilograms (gross where the source has it, net otherwise).
    pub mass_kg: Option<f64>,
    /// Customs value (CIF).
    pub value: Option<f64>,
    /// FOB value.
    pub fob_value: Option<f64>,
    /// Duties and taxes assessed.
    pub taxes: Option<f64>,
    /// Applicable tax rate in percent.
    pub tax_rate_percent: Option<f64>,
    /// Further coded fields named by the mapping, in the order of [`DeclarationSet::attributes`].
    pub attributes: Vec<Option<String>>,
    /// The result of a past control, for history; `None` for declarations being assessed.
    pub outcome: Option<ControlOutcome>,
}

/// What a control found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlOutcome {
    /// The declaration was found non-compliant (fraud, mis-declaration, seizure).
    pub non_compliant: bool,
    /// Revenue recovered by the control (additional duties and taxes), when recorded.
    pub revenue: Option<f64>,
    /// The probability that the declaration was inspected under the selectivity in force
    /// (random and exploration draws, a profile's lane shares, top-up), when the selection
    /// recorded it: what corrects a model for the bias of the controls it learns from.
    pub propensity: Option<f64>,
}

impl Declaration {
    /// A declaration with only its required fields; every optional field absent, no attributes,
    /// no recorded outcome.
    pub fn new(id: &str, date: NaiveDate, office: &str, hs_code: &str) -> Declaration {
        Declaration {
            id: id.to_string(),
            date,
            office: office.to_string(),
            regime: None,
            declarant: None,
            importer: None,
            seller: None,
            hs_code: hs_code.to_string(),
            origin: None,
            departure: None,
            quantity: None,
            mass_kg: None,
            value: None,
            fob_value: None,
            taxes: None,
            tax_rate_percent: None,
            attributes: Vec::new(),
            outcome: None,
        }
    }

    /// Customs value per supplementary unit.
    pub fn unit_value(&self) -> Option<f64> {
        ratio(self.value, self.quantity)
    }

    /// Customs value per kilogram.
    pub fn value_per_kg(&self) -> Option<f64> {
        ratio(self.value, self.mass_kg)
    }

    /// Taxes as a share of the customs value.
    pub fn tax_ratio(&self) -> Option<f64> {
        ratio(self.taxes, self.value)
    }

    /// Taxes per supplementary unit.
    pub fn taxes_per_unit(&self) -> Option<f64> {
        ratio(self.taxes, self.quantity)
    }

    /// FOB value as a share of the CIF value.
    pub fn fob_cif_ratio(&self) -> Option<f64> {
        ratio(self.fob_value, self.value)
    }

    /// The first `digits` digits of the commodity code (HS2, HS4, HS6), or the whole code when
    /// it is shorter.
    pub fn hs_prefix(&self, digits: usize) -> &str {
        &self.hs_code[..digits.min(self.hs_code.len())]
    }

    /// Whether the declaration was found non-compliant; `None` when it has no recorded outcome.
    pub fn non_compliant(&self) -> Option<bool> {
        self.outcome.map(|o| o.non_compliant)
    }
}

/// A ratio that is only defined for a positive denominator.
fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<f64> {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => Some(n / d),
        _ => None,
    }
}

/// The attributes a transit declaration's goods item gives a risk declaration beyond the model's
/// own fields, by the name risk profiles and models use: the description of goods, the country
/// of destination, the mode of transport at the border (NCTS code 1-9), the nationality of the
/// active border transport means, the number of seals, the guarantee type (NCTS CL251) and the
/// type of the first previous document.
pub const GOODS_ITEM_ATTRIBUTES: [&str; 7] = [
    "description",
    "destination",
    "transport_mode",
    "transport_nationality",
    "seals",
    "guarantee_type",
    "previous_document",
];

/// Declarations read from one source, with the names of their extra attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclarationSet {
    /// Names of [`Declaration::attributes`], as given in the mapping.
    pub attributes: Vec<String>,
    pub declarations: Vec<Declaration>,
}

impl DeclarationSet {
    /// Index of a named attribute.
    pub fn attribute_index(&self, name: &str) -> Option<usize> {
        self.attributes.iter().position(|a| a == name)
    }
}

/// The kind of value a declaration field holds, which decides the comparisons a selectivity
/// criterion may make on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Date,
}

/// A field of a declaration by name: the vocabulary of selectivity criteria and of the mapping.
/// The ratios (unit value, value per kg ...) are derived from the declared amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclarationField {
    Id,
    Date,
    Office,
    Regime,
    Declarant,
    Importer,
    Seller,
    HsCode,
    Origin,
    Departure,
    Quantity,
    MassKg,
    Value,
    FobValue,
    Taxes,
    TaxRatePercent,
    UnitValue,
    ValuePerKg,
    TaxRatio,
    TaxesPerUnit,
    FobCifRatio,
}

impl DeclarationField {
    pub const ALL: [DeclarationField; 21] = [
        DeclarationField::Id,
        DeclarationField::Date,
        DeclarationField::Office,
        DeclarationField::Regime,
        DeclarationField::Declarant,
        DeclarationField::Importer,
        DeclarationField::Seller,
        DeclarationField::HsCode,
        DeclarationField::Origin,
        DeclarationField::Departure,
        DeclarationField::Quantity,
        DeclarationField::MassKg,
        DeclarationField::Value,
        DeclarationField::FobValue,
        DeclarationField::Taxes,
        DeclarationField::TaxRatePercent,
        DeclarationField::UnitValue,
        DeclarationField::ValuePerKg,
        DeclarationField::TaxRatio,
        DeclarationField::TaxesPerUnit,
        DeclarationField::FobCifRatio,
    ];

    /// The name used in rule files, mappings and reports.
    pub fn name(self) -> &'static str {
        match self {
            DeclarationField::Id => "id",
            DeclarationField::Date => "date",
            DeclarationField::Office => "office",
            DeclarationField::Regime => "regime",
            DeclarationField::Declarant => "declarant",
            DeclarationField::Importer => "importer",
            DeclarationField::Seller => "seller",
            DeclarationField::HsCode => "hs_code",
            DeclarationField::Origin => "origin",
            DeclarationField::Departure => "departure",
            DeclarationField::Quantity => "quantity",
            DeclarationField::MassKg => "mass_kg",
            DeclarationField::Value => "value",
            DeclarationField::FobValue => "fob_value",
            DeclarationField::Taxes => "taxes",
            DeclarationField::TaxRatePercent => "tax_rate_percent",
            DeclarationField::UnitValue => "unit_value",
            DeclarationField::ValuePerKg => "value_per_kg",
            DeclarationField::TaxRatio => "tax_ratio",
            DeclarationField::TaxesPerUnit => "taxes_per_unit",
            DeclarationField::FobCifRatio => "fob_cif_ratio",
        }
    }

    pub fn from_name(name: &str) -> Option<DeclarationField> {
        DeclarationField::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn kind(self) -> FieldKind {
        use DeclarationField as F;
        match self {
            F::Date => FieldKind::Date,
            F::Id
            | F::Office
            | F::Regime
            | F::Declarant
            | F::Importer
            | F::Seller
            | F::HsCode
            | F::Origin
            | F::Departure => FieldKind::Text,
            _ => FieldKind::Number,
        }
    }

    /// The value of a text field (`None` for other kinds and for absent values).
    pub fn text(self, d: &Declaration) -> Option<&str> {
        use DeclarationField as F;
        match self {
            F::Id => Some(&d.id),
            F::Office => Some(&d.office),
            F::HsCode => Some(&d.hs_code),
            F::Regime => d.regime.as_deref(),
            F::Declarant => d.declarant.as_deref(),
            F::Importer => d.importer.as_deref(),
            F::Seller => d.seller.as_deref(),
            F::Origin => d.origin.as_deref(),
            F::Departure => d.departure.as_deref(),
            _ => None,
        }
    }

    /// The value of a number field (`None` for other kinds and for absent values).
    pub fn number(self, d: &Declaration) -> Option<f64> {
        use DeclarationField as F;
        match self {
            F::Quantity => d.quantity,
            F::MassKg => d.mass_kg,
            F::Value => d.value,
            F::FobValue => d.fob_value,
            F::Taxes => d.taxes,
            F::TaxRatePercent => d.tax_rate_percent,
            F::UnitValue => d.unit_value(),
            F::ValuePerKg => d.value_per_kg(),
            F::TaxRatio => d.tax_ratio(),
            F::TaxesPerUnit => d.taxes_per_unit(),
            F::FobCifRatio => d.fob_cif_ratio(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declaration() -> Declaration {
        Declaration {
            id: "1".into(),
            date: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            office: "30".into(),
            regime: None,
            declarant: None,
            importer: None,
            seller: None,
            hs_code: "080810".into(),
            origin: Some("US".into()),
            departure: None,
            quantity: Some(4.0),
            mass_kg: Some(0.0),
            value: Some(100.0),
            fob_value: Some(90.0),
            taxes: Some(15.0),
            tax_rate_percent: Some(15.0),
            attributes: vec![],
            outcome: None,
        }
    }

    #[test]
    fn derived_values_need_a_positive_denominator() {
        let d = declaration();
        assert_eq!(d.unit_value(), Some(25.0));
        assert_eq!(d.value_per_kg(), None, "zero mass gives no value per kg");
        assert_eq!(d.tax_ratio(), Some(0.15));
        assert_eq!(d.taxes_per_unit(), Some(3.75));
        assert_eq!(d.fob_cif_ratio(), Some(0.9));
        assert_eq!(d.hs_prefix(4), "0808");
        assert_eq!(d.hs_prefix(10), "080810");
    }

    #[test]
    fn field_names_round_trip_and_read_the_declaration() {
        let d = declaration();
        for f in DeclarationField::ALL {
            assert_eq!(DeclarationField::from_name(f.name()), Some(f));
            match f.kind() {
                FieldKind::Text => assert!(f.number(&d).is_none()),
                FieldKind::Number => assert!(f.text(&d).is_none()),
                FieldKind::Date => assert!(f.text(&d).is_none() && f.number(&d).is_none()),
            }
        }
        assert_eq!(DeclarationField::Origin.text(&d), Some("US"));
        assert_eq!(DeclarationField::Regime.text(&d), None);
        assert_eq!(DeclarationField::UnitValue.number(&d), Some(25.0));
        assert_eq!(DeclarationField::from_name("unit_price"), None);
    }
}
