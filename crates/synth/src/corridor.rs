//! The consignment generator.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use smartborder_model::{CORRIDOR_OFFICES, CustomsOffice, Lane, TransportMode, ZoneResolver};

/// A data fault injected on purpose, so that verification has something to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// One stamp cell left empty.
    MissingStamp,
    /// Two consecutive stamps swapped.
    OutOfOrder,
    /// The whole row written twice.
    Duplicate,
    /// One stamp cell replaced by text that is not a date-time.
    Unparseable,
    /// The zone cell names no IANA zone.
    UnknownZone,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::MissingStamp,
        FaultKind::OutOfOrder,
        FaultKind::Duplicate,
        FaultKind::Unparseable,
        FaultKind::UnknownZone,
    ];
}

/// One synthetic consignment. Stamps are local wall-clock times of the office.
#[derive(Debug, Clone)]
pub struct SynthRow {
    pub id: String,
    pub office: &'static CustomsOffice,
    pub lane: Lane,
    pub regime: &'static str,
    pub hs_chapter: u8,
    pub oga: bool,
    pub pre_arrival: bool,
    pub aeo: bool,
    /// When the declaration was lodged (before arrival when lodged in advance).
    pub lodged: NaiveDateTime,
    /// `None` = the cell is empty.
    pub stamps: [Option<NaiveDateTime>; 6],
    /// Zone cell as written (an injected fault may make it invalid).
    pub zone: String,
    /// Stamp index whose cell must be written as garbage.
    pub garbled: Option<usize>,
    pub fault: Option<FaultKind>,
}

/// Streams synthetic consignments.
pub struct TrsGenerator {
    rng: ChaCha8Rng,
    next: u64,
    start: NaiveDateTime,
    period_days: i64,
    fault_rate: f64,
    weights: Vec<f64>,
}

const HS_CHAPTERS: [u8; 12] = [8, 27, 39, 44, 52, 61, 72, 84, 85, 87, 94, 95];

fn minutes(d: f64) -> Duration {
    Duration::seconds((d * 60.0).round() as i64)
}

impl TrsGenerator {
    /// `fault_rate` is the share of consignments that get one injected fault.
    pub fn new(seed: u64, fault_rate: f64) -> Self {
        // Relative traffic of each office (road posts busiest).
        let weights = CORRIDOR_OFFICES
            .iter()
            .map(|o| match o.mode {
                TransportMode::Road => 3.0,
                TransportMode::Rail => 1.5,
                TransportMode::Sea => 1.0,
            })
            .collect();
        TrsGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            next: 0,
            start: NaiveDate::from_ymd_opt(2025, 1, 6)
                .expect("valid date")
                .and_hms_opt(0, 0, 0)
                .expect("valid time"),
            period_days: 364,
            fault_rate,
            weights,
        }
    }

    fn pick_office(&mut self) -> &'static CustomsOffice {
        let total: f64 = self.weights.iter().sum();
        let mut x = self.rng.random::<f64>() * total;
        for (o, w) in CORRIDOR_OFFICES.iter().zip(&self.weights) {
            if x < *w {
                return o;
            }
            x -= w;
        }
        &CORRIDOR_OFFICES[CORRIDOR_OFFICES.len() - 1]
    }

    /// Log-normal with the given median (minutes) and shape.
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        LogNormal::new(median.ln(), sigma)
            .expect("finite parameters")
            .sample(&mut self.rng)
    }

    /// Arrival time: uniform day, hours weighted towards the working day.
    fn arrival(&mut self) -> NaiveDateTime {
        let day = self.rng.random_range(0..self.period_days);
        let hour = if self.rng.random::<f64>() < 0.7 {
            self.rng.random_range(7..19)
        } else {
            self.rng.random_range(0..24)
        };
        let minute = self.rng.random_range(0..60);
        self.start + Duration::days(day) + Duration::hours(hour) + Duration::minutes(minute)
    }

    pub fn next_row(&mut self) -> SynthRow {
        let office = self.pick_office();
        self.next += 1;
        let id = format!("{}{:010}", office.country.code(), self.next);
        let aeo = self.rng.random::<f64>() < 0.12;
        let pre_arrival = self.rng.random::<f64>() < if aeo { 0.8 } else { 0.35 };
        let oga = self.rng.random::<f64>() < 0.22;
        let u = self.rng.random::<f64>();
        let lane = match (aeo, u) {
            (true, u) if u < 0.85 => Lane::Green,
            (true, u) if u < 0.95 => Lane::Yellow,
            (true, _) => Lane::Red,
            (false, u) if u < 0.55 => Lane::Green,
            (false, u) if u < 0.80 => Lane::Yellow,
            (false, _) => Lane::Red,
        };
        let regime = match self.rng.random_range(0..10) {
            0..=5 => "import",
            6..=7 => "export",
            _ => "transit",
        };
        let hs_chapter = HS_CHAPTERS[self.rng.random_range(0..HS_CHAPTERS.len())];
        let scale: f64 = match office.mode {
            TransportMode::Road => 1.0,
            TransportMode::Rail => 6.0,
            TransportMode::Sea => 4.0,
        };

        let arrival_local = self.arrival();
        let mut resolver = ZoneResolver::default();
        let arrival = resolver
            .to_utc(office.zone, arrival_local)
            .expect("corridor zones have no clock changes in 2025");
        // Minutes after arrival of each later stamp.
        let registration = if pre_arrival {
            self.lognormal(12.0, 0.6)
        } else {
            self.lognormal(90.0 * scale.sqrt(), 0.9)
        };
        let assessment = self.lognormal(6.0, 0.7);
        let mut control = match lane {
            Lane::Green | Lane::Blue => self.lognormal(4.0, 0.5),
            Lane::Yellow => self.lognormal(110.0, 0.8),
            Lane::Red => self.lognormal(330.0 * scale.sqrt(), 0.8),
        };
        if oga {
            control += self.lognormal(240.0, 0.9);
        }
        // Rail: wagons wait for train formation and, at Dostyk and Altynkol, the gauge change.
        if office.mode == TransportMode::Rail {
            control += self.lognormal(1500.0, 0.8);
        }
        // Occasional queue: a long heavy-tailed wait (e.g. a trainload at Dostyk, a ferry slot).
        if self.rng.random::<f64>() < 0.05 {
            control += self.lognormal(600.0 * scale, 0.7);
        }
        let release = self.lognormal(45.0, 0.8) * if aeo { 0.5 } else { 1.0 };
        let exit = self.lognormal(50.0 * scale, 0.9);
        let lodged = if pre_arrival {
            arrival - self.lognormal(300.0, 0.8) as i64 * 60
        } else {
            arrival + (registration * 60.0) as i64 - 300
        };
        let mut offsets = [0.0; 6];
        let steps = [0.0, registration, assessment, control, release, exit];
        let mut acc = 0.0;
        for (k, s) in steps.iter().enumerate() {
            acc += s;
            offsets[k] = acc;
        }
        // Clearance systems record minutes: every stamp is a whole minute, in CSV and Parquet.
        let to_local = |utc: i64| {
            ZoneResolver::to_local(office.zone, utc - utc.rem_euclid(60))
                .expect("timestamps in range")
        };
        let mut stamps: [Option<NaiveDateTime>; 6] = [None; 6];
        for (k, off) in offsets.iter().enumerate() {
            stamps[k] = Some(to_local(arrival + minutes(*off).num_seconds()));
        }
        let mut row = SynthRow {
            id,
            office,
            lane,
            regime,
            hs_chapter,
            oga,
            pre_arrival,
            aeo,
            lodged: to_local(lodged),
            stamps,
            zone: office.zone.name().to_string(),
            garbled: None,
            fault: None,
        };
        if self.fault_rate > 0.0 && self.rng.random::<f64>() < self.fault_rate {
            let fault = FaultKind::ALL[self.rng.random_range(0..FaultKind::ALL.len())];
            row.fault = Some(fault);
            match fault {
                FaultKind::MissingStamp => {
                    let k = self.rng.random_range(0..6);
                    row.stamps[k] = None;
                }
                FaultKind::OutOfOrder => {
                    // Swap two consecutive stamps that differ, so the order is really broken.
                    let k = self.rng.random_range(1..6);
                    row.stamps.swap(k - 1, k);
                    if row.stamps[k - 1] == row.stamps[k] {
                        row.stamps[k] = row.stamps[k].map(|t| t - Duration::minutes(5));
                        row.stamps[k - 1] = row.stamps[k - 1].map(|t| t + Duration::minutes(5));
                    }
                }
                FaultKind::Unparseable => row.garbled = Some(self.rng.random_range(0..6)),
                FaultKind::UnknownZone => row.zone = "Asia/Atlantis".to_string(),
                FaultKind::Duplicate => {}
            }
        }
        row
    }
}

impl Iterator for TrsGenerator {
    type Item = SynthRow;
    fn next(&mut self) -> Option<SynthRow> {
        Some(self.next_row())
    }
}
