//! The Master Trainer Programme: practice worlds with known answers, and grading.
//!
//! A scenario is a definition (TOML, [`scenario`]) and a seed; a trainee's personal variant is
//! seeded from their identity as well. [`risk_world`] builds a risk world: months of import
//! declarations with planted patterns of non-compliance (and decoys) whose truth only the
//! answer key holds. [`pack`] writes what the trainee gets and, separately, the key.
//! [`grade`] runs a trainee's profile file on the world's later months, within the inspection
//! budget, with the risk engine's own parser and measures; [`text`] says it all in English and
//! Russian.
//!
//! [`trs_world`] builds a TRS world: the synthetic corridor's consignments with planted
//! bottlenecks and data-quality traps, and the questions of a study about them.
//!
//! [`selectivity_world`] builds posts with a daily inspection capacity and a scored stream to
//! route with a selectivity plan; [`transit_world`] tells one movement's story for the
//! trainee to log in NCTS terms, replayed by the single window's lifecycle.
//!
//! [`exercise`] is the one entry for every kind (key, brief, pack, grade, item analysis), used
//! by the console and the CLI; [`programme`] holds the programme's rules (the cascade,
//! accreditation expiry, a course's score); [`certificate`] issues printable certificates
//! with a verification code. Courses, people and attempts are kept by the store.

pub mod certificate;
pub mod exercise;
pub mod grade;
pub mod pack;
pub mod programme;
pub mod risk_world;
pub mod scenario;
pub mod selectivity_world;
pub mod text;
pub mod transit_world;
pub mod trs_world;
