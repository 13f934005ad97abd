//! The example risk configurations (`profiles/`): Korea Customs Service open data, and the
//! route's administrations for transit movements; what the demo publishes and what the
//! console's editor starts from.

/// Example risk profiles (`profiles/kcs-rules.risk`), written from the 2020 history.
pub const KCS_PROFILES: &str = include_str!("../../../profiles/kcs-rules.risk");
/// The value bands the example profiles name (`profiles/kcs-bands.csv`).
pub const KCS_BANDS: &str = include_str!("../../../profiles/kcs-bands.csv");
/// The name the example profiles give their bands file.
pub const KCS_BANDS_FILE: &str = "kcs-bands.csv";
/// The example selectivity plan (`profiles/kcs-selectivity.toml`).
pub const KCS_PLAN: &str = include_str!("../../../profiles/kcs-selectivity.toml");
/// Azerbaijan's example profiles for transit movements assessed before arrival
/// (`profiles/route-az.risk`), on the single window's goods items.
pub const ROUTE_AZ_PROFILES: &str = include_str!("../../../profiles/route-az.risk");
/// Georgia's (`profiles/route-ge.risk`).
pub const ROUTE_GE_PROFILES: &str = include_str!("../../../profiles/route-ge.risk");
/// The example plan of movements assessed one at a time (`profiles/route-selectivity.toml`).
pub const ROUTE_PLAN: &str = include_str!("../../../profiles/route-selectivity.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::{ConfigurationFile, PLAN, PROFILES, RiskConfiguration};

    #[test]
    fn the_route_examples_compile_on_goods_items() {
        let attributes: Vec<String> = smartborder_model::GOODS_ITEM_ATTRIBUTES
            .iter()
            .map(|a| a.to_string())
            .collect();
        for profiles in [ROUTE_AZ_PROFILES, ROUTE_GE_PROFILES] {
            let files = [
                ConfigurationFile {
                    name: PROFILES.into(),
                    version: 1,
                    body: profiles.into(),
                },
                ConfigurationFile {
                    name: PLAN.into(),
                    version: 1,
                    body: ROUTE_PLAN.into(),
                },
            ];
            let compiled = RiskConfiguration::compile(&files, &attributes);
            assert!(compiled.is_ok(), "{:?}", compiled.err());
        }
    }
}
