//! Value-control bands: the accepted range of a measure (unit value, value per kg) per
//! commodity-code prefix and origin, read from a CSV file or derived from compliant history.
//!
//! Bands file (CSV): `hs_code,origin,low,high[,count]`; an empty origin means any origin.

use std::collections::HashMap;
use std::path::Path;

use smartborder_model::{Declaration, DeclarationField};

use crate::metrics::percentile;

/// Unit-value bands by commodity-code prefix and origin ("" = any origin).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueBands {
    bands: HashMap<(String, String), (f64, f64)>,
}

impl ValueBands {
    pub fn insert(&mut self, hs_prefix: &str, origin: &str, low: f64, high: f64) {
        self.bands
            .insert((hs_prefix.to_string(), origin.to_string()), (low, high));
    }

    pub fn len(&self) -> usize {
        self.bands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bands.is_empty()
    }

    /// The most specific band: the longest commodity-code prefix, the declaration's origin
    /// before "any origin" at the same length.
    pub fn band(&self, hs_code: &str, origin: Option<&str>) -> Option<(f64, f64)> {
        let mut key = (String::new(), String::new());
        for len in (2..=hs_code.len()).rev() {
            key.0.clear();
            key.0.push_str(&hs_code[..len]);
            if let Some(o) = origin {
                key.1.clear();
                key.1.push_str(o);
                if let Some(b) = self.bands.get(&key) {
                    return Some(*b);
                }
            }
            key.1.clear();
            if let Some(b) = self.bands.get(&key) {
                return Some(*b);
            }
        }
        None
    }
}

/// How to derive bands from history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandSettings {
    pub measure: DeclarationField,
    /// Percentiles (0..=100) of the band's ends.
    pub low_percentile: f64,
    pub high_percentile: f64,
    /// Fewer declarations than this give no band.
    pub min_count: usize,
}

/// A derived band and the number of declarations behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedBand {
    pub hs_code: String,
    pub origin: String,
    pub low: f64,
    pub high: f64,
    pub count: usize,
}

/// Derives bands from the declarations not found non-compliant: for each HS6 x origin, HS6 and
/// HS4 with at least `min_count` values of the measure, the given percentiles of the measure
/// (linear interpolation). Sorted by commodity code, then origin.
pub fn derive_bands(declarations: &[Declaration], settings: &BandSettings) -> Vec<DerivedBand> {
    let mut groups: HashMap<(String, String), Vec<f64>> = HashMap::new();
    for d in declarations {
        if d.non_compliant() == Some(true) {
            continue;
        }
        let Some(m) = settings.measure.number(d) else {
            continue;
        };
        if d.hs_code.len() >= 6 {
            let hs6 = d.hs_prefix(6).to_string();
            if let Some(o) = &d.origin {
                groups.entry((hs6.clone(), o.clone())).or_default().push(m);
            }
            groups.entry((hs6, String::new())).or_default().push(m);
        }
        if d.hs_code.len() >= 4 {
            groups
                .entry((d.hs_prefix(4).to_string(), String::new()))
                .or_default()
                .push(m);
        }
    }
    let mut bands: Vec<DerivedBand> = groups
        .into_iter()
        .filter(|(_, v)| v.len() >= settings.min_count.max(1))
        .map(|((hs_code, origin), mut values)| {
            values.sort_by(f64::total_cmp);
            DerivedBand {
                hs_code,
                origin,
                low: percentile(&values, settings.low_percentile),
                high: percentile(&values, settings.high_percentile),
                count: values.len(),
            }
        })
        .collect();
    bands.sort_by(|a, b| (&a.hs_code, &a.origin).cmp(&(&b.hs_code, &b.origin)));
    bands
}

/// Writes derived bands as a bands file.
pub fn write_bands(path: &Path, bands: &[DerivedBand]) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["hs_code", "origin", "low", "high", "count"])?;
    for b in bands {
        w.write_record([
            b.hs_code.clone(),
            b.origin.clone(),
            b.low.to_string(),
            b.high.to_string(),
            b.count.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Why a bands file could not be read: the line (1 = header) and what was wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct BandsFileError {
    pub line: u64,
    pub message: String,
}

impl ValueBands {
    /// Reads a bands file (`hs_code,origin,low,high`, further columns ignored).
    pub fn read_csv(path: &Path) -> Result<ValueBands, BandsFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| BandsFileError {
            line: 0,
            message: format!("cannot be read: {e}"),
        })?;
        ValueBands::from_csv(&text)
    }

    /// Reads the text of a bands file (see [`ValueBands::read_csv`]).
    pub fn from_csv(text: &str) -> Result<ValueBands, BandsFileError> {
        let err = |line: u64, message: String| BandsFileError { line, message };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| err(1, e.to_string()))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let column = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                err(
                    1,
                    format!(
                        "expected the header hs_code,origin,low,high; column `{name}` is missing (found {})",
                        header.join(",")
                    ),
                )
            })
        };
        let (hs, origin, low, high) = (
            column("hs_code")?,
            column("origin")?,
            column("low")?,
            column("high")?,
        );
        let mut bands = ValueBands::default();
        for record in reader.records() {
            let record =
                record.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |i: usize| record.get(i).unwrap_or("").trim();
            let code = cell(hs);
            if code.len() < 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(
                    line,
                    format!("hs_code: expected 2 or more digits, found \"{code}\""),
                ));
            }
            let bound = |i: usize, name: &str| {
                cell(i)
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        err(
                            line,
                            format!("{name}: expected a number, found \"{}\"", cell(i)),
                        )
                    })
            };
            let (lo, hi) = (bound(low, "low")?, bound(high, "high")?);
            if lo > hi {
                return Err(err(line, format!("low {lo} is above high {hi}")));
            }
            bands.insert(code, cell(origin), lo, hi);
        }
        Ok(bands)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use smartborder_model::ControlOutcome;

    use super::*;

    fn declaration(i: usize, hs: &str, origin: &str, value: f64, fraud: bool) -> Declaration {
        Declaration {
            origin: Some(origin.into()),
            mass_kg: Some(1.0),
            value: Some(value),
            outcome: Some(ControlOutcome {
                non_compliant: fraud,
                revenue: None,
                propensity: None,
            }),
            ..Declaration::new(
                &i.to_string(),
                NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                "1",
                hs,
            )
        }
    }

    #[test]
    fn bands_come_from_compliant_history_by_percentile() {
        // HS 610910 from CN: values 1..=21 plus a fraud at 1000 (left out).
        let mut ds: Vec<Declaration> = (1..=21)
            .map(|v| declaration(v, "610910", "CN", v as f64, false))
            .collect();
        ds.push(declaration(99, "610910", "CN", 1000.0, true));
        ds.push(declaration(100, "610990", "TR", 5.0, false));
        let settings = BandSettings {
            measure: DeclarationField::ValuePerKg,
            low_percentile: 5.0,
            high_percentile: 95.0,
            min_count: 20,
        };
        let bands = derive_bands(&ds, &settings);
        let keys: Vec<(&str, &str, usize)> = bands
            .iter()
            .map(|b| (b.hs_code.as_str(), b.origin.as_str(), b.count))
            .collect();
        // 6109 has 22 compliant values; 610990 alone has 1 and gets no band.
        assert_eq!(
            keys,
            vec![("6109", "", 22), ("610910", "", 21), ("610910", "CN", 21)]
        );
        // 5th percentile of 1..=21: rank 1.0 -> 2; 95th: rank 19 -> 20.
        let cn = &bands[2];
        assert_eq!((cn.low, cn.high), (2.0, 20.0));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bands.csv");
        write_bands(&path, &bands).unwrap();
        let read = ValueBands::read_csv(&path).unwrap();
        assert_eq!(read.len(), 3);
        assert_eq!(read.band("610910", Some("CN")), Some((2.0, 20.0)));
        assert_eq!(
            read.band("610990", Some("TR")),
            Some((bands[0].low, bands[0].high))
        );
    }
}
