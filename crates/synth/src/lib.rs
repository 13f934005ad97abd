//! Deterministic synthetic corridor data for demos, tests, benchmarks and training.
//!
//! `generate_trs` streams consignments through Middle Corridor offices (road posts, rail stations,
//! sea ports, each with its IANA zone) to CSV (wide layout, local times plus a zone column) and
//! Parquet, and writes the mapping that reads both. The same seed always gives the same bytes.
//!
//! Interval durations are log-normal (heavy right tail) with occasional queue delays, scaled by
//! mode, lane, OGA involvement, pre-arrival lodgement and AEO status so that mean arrival-to-release
//! times land in the ranges of the ADB CAREC corridor performance figures in PRODUCT.md
//! (road posts a few hours to about a day, rail two to three days, ports half a day to three days).
//!
//! `transit::world_movements` makes the single window's world: transit movements on the
//! corridor's routes at every stage of their lifecycle, for the demo and the console's tests.

mod corridor;
pub mod transit;
mod write;

pub use corridor::{FaultKind, SynthRow, TrsGenerator};
pub use write::{
    SynthError, SynthOutput, SynthSummary, TrsSynthConfig, generate_trs, mapping_toml, write_csv,
};
