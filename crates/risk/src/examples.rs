//! The example risk configuration for the Korea Customs Service open data (`profiles/`): what
//! the demo publishes and what the console's editor starts from.

/// Example risk profiles (`profiles/kcs-rules.risk`), written from the 2020 history.
pub const KCS_PROFILES: &str = include_str!("../../../profiles/kcs-rules.risk");
/// The value bands the example profiles name (`profiles/kcs-bands.csv`).
pub const KCS_BANDS: &str = include_str!("../../../profiles/kcs-bands.csv");
/// The name the example profiles give their bands file.
pub const KCS_BANDS_FILE: &str = "kcs-bands.csv";
/// The example selectivity plan (`profiles/kcs-selectivity.toml`).
pub const KCS_PLAN: &str = include_str!("../../../profiles/kcs-selectivity.toml");
