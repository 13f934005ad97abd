//! Countries, transport modes and customs offices of the Trans-Caspian Middle Corridor.
//!
//! Office names follow PRODUCT.md; UN/LOCODEs are deliberately absent because they are not verified.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::working_hours::WorkingHours;

/// ISO 3166-1 alpha-2 countries on the corridor (and its ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Country {
    CN,
    KZ,
    KG,
    UZ,
    TJ,
    TM,
    AZ,
    GE,
    AM,
    TR,
}

impl Country {
    /// ISO 3166-1 alpha-2 code.
    pub fn code(self) -> &'static str {
        match self {
            Country::CN => "CN",
            Country::KZ => "KZ",
            Country::KG => "KG",
            Country::UZ => "UZ",
            Country::TJ => "TJ",
            Country::TM => "TM",
            Country::AZ => "AZ",
            Country::GE => "GE",
            Country::AM => "AM",
            Country::TR => "TR",
        }
    }
}

/// Mode of transport at the border post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportMode {
    Road,
    Rail,
    Sea,
}

impl TransportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportMode::Road => "road",
            TransportMode::Rail => "rail",
            TransportMode::Sea => "sea",
        }
    }
}

/// A customs office (border post, rail station or sea port) with its IANA zone and opening hours.
#[derive(Debug, Clone)]
pub struct CustomsOffice {
    pub name: &'static str,
    pub country: Country,
    pub mode: TransportMode,
    pub zone: Tz,
    pub hours: WorkingHours,
}

const fn hours(open: u16, close: u16, days_off: [bool; 7]) -> WorkingHours {
    WorkingHours {
        open_minute: open * 60,
        close_minute: close * 60,
        days_off,
    }
}
/// Monday..Sunday, `true` = closed.
const NONE_OFF: [bool; 7] = [false; 7];
const SUNDAY_OFF: [bool; 7] = [false, false, false, false, false, false, true];
const WEEKEND_OFF: [bool; 7] = [false, false, false, false, false, true, true];

/// Offices used by the synthetic corridor and the examples.
pub const CORRIDOR_OFFICES: &[CustomsOffice] = &[
    CustomsOffice {
        name: "Khorgos / Nur Zholy",
        country: Country::KZ,
        mode: TransportMode::Road,
        zone: Tz::Asia__Almaty,
        hours: hours(0, 24, NONE_OFF),
    },
    CustomsOffice {
        name: "Altynkol",
        country: Country::KZ,
        mode: TransportMode::Rail,
        zone: Tz::Asia__Almaty,
        hours: hours(8, 20, NONE_OFF),
    },
    CustomsOffice {
        name: "Dostyk",
        country: Country::KZ,
        mode: TransportMode::Rail,
        zone: Tz::Asia__Almaty,
        hours: hours(8, 20, NONE_OFF),
    },
    CustomsOffice {
        name: "Aktau port",
        country: Country::KZ,
        mode: TransportMode::Sea,
        zone: Tz::Asia__Aqtau,
        hours: hours(9, 18, SUNDAY_OFF),
    },
    CustomsOffice {
        name: "Yallama",
        country: Country::UZ,
        mode: TransportMode::Road,
        zone: Tz::Asia__Tashkent,
        hours: hours(8, 20, NONE_OFF),
    },
    CustomsOffice {
        name: "Torugart",
        country: Country::KG,
        mode: TransportMode::Road,
        zone: Tz::Asia__Bishkek,
        hours: hours(9, 18, WEEKEND_OFF),
    },
    CustomsOffice {
        name: "Turkmenbashi port",
        country: Country::TM,
        mode: TransportMode::Sea,
        zone: Tz::Asia__Ashgabat,
        hours: hours(9, 18, SUNDAY_OFF),
    },
    CustomsOffice {
        name: "Alat / Baku port",
        country: Country::AZ,
        mode: TransportMode::Sea,
        zone: Tz::Asia__Baku,
        hours: hours(8, 20, NONE_OFF),
    },
    CustomsOffice {
        name: "Red Bridge",
        country: Country::AZ,
        mode: TransportMode::Road,
        zone: Tz::Asia__Baku,
        hours: hours(0, 24, NONE_OFF),
    },
    CustomsOffice {
        name: "Tsiteli Khidi",
        country: Country::GE,
        mode: TransportMode::Road,
        zone: Tz::Asia__Tbilisi,
        hours: hours(0, 24, NONE_OFF),
    },
    CustomsOffice {
        name: "Gardabani",
        country: Country::GE,
        mode: TransportMode::Rail,
        zone: Tz::Asia__Tbilisi,
        hours: hours(9, 18, WEEKEND_OFF),
    },
    CustomsOffice {
        name: "Poti port",
        country: Country::GE,
        mode: TransportMode::Sea,
        zone: Tz::Asia__Tbilisi,
        hours: hours(9, 18, WEEKEND_OFF),
    },
    CustomsOffice {
        name: "Sarpi",
        country: Country::GE,
        mode: TransportMode::Road,
        zone: Tz::Asia__Tbilisi,
        hours: hours(0, 24, NONE_OFF),
    },
    CustomsOffice {
        name: "Bagratashen",
        country: Country::AM,
        mode: TransportMode::Road,
        zone: Tz::Asia__Yerevan,
        hours: hours(9, 18, WEEKEND_OFF),
    },
];
