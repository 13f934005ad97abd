//! Selectivity lanes (channels) as in ASYCUDA's selectivity module.

use serde::{Deserialize, Serialize};

/// The channel a declaration is routed to by risk assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// Released without control.
    Green,
    /// Documentary check.
    Yellow,
    /// Physical examination.
    Red,
    /// Released, selected for post-clearance audit.
    Blue,
}

impl Lane {
    /// The lane's rank when lanes compete: red > yellow > blue > green (the most severe wins,
    /// everywhere).
    pub fn severity(self) -> u8 {
        match self {
            Lane::Green => 0,
            Lane::Blue => 1,
            Lane::Yellow => 2,
            Lane::Red => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Green => "green",
            Lane::Yellow => "yellow",
            Lane::Red => "red",
            Lane::Blue => "blue",
        }
    }
}

impl std::fmt::Display for Lane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
