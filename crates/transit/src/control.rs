//! What a control found, as an administration records it on a movement. A control result is
//! confidential to the administration of the office that recorded it: it never travels along
//! the route, and it is what that administration's risk model learns from.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smartborder_model::Lane;

use crate::movement::OfficeRef;
use crate::text::check_free_text;

/// What the control found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Finding {
    /// Nothing irregular.
    None,
    /// An irregularity settled on the spot (a mis-declared quantity, a missing document).
    Minor,
    /// An offence: mis-classification, under-valuation, smuggling, a seizure.
    Major,
}

impl Finding {
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::None => "none",
            Finding::Minor => "minor",
            Finding::Major => "major",
        }
    }
}

/// A control result on a movement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    /// The office that controlled (the administration's own).
    pub office: OfficeRef,
    /// When the control ended (UTC).
    pub at: DateTime<Utc>,
    /// The lane the office applied (it may differ from the lane assessed).
    pub lane_applied: Lane,
    /// Whether the goods or documents were actually examined.
    pub inspected: bool,
    pub finding: Finding,
    /// The administration's code of the offence or irregularity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_code: Option<String>,
    /// Duties and taxes recovered by the control, in the national currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_recovered: Option<f64>,
    /// Goods were seized.
    #[serde(default)]
    pub seizure: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
    /// The probability that the movement was selected for control under the assessment in
    /// force when the result was recorded (set by the service from that assessment; `None`
    /// when the administration had not assessed the movement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propensity: Option<f64>,
    /// The assessment this control followed (its id), when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<i64>,
}

/// Why a control result was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error(
        "finding \"{0}\" without an inspection: a control that examined nothing finds nothing (finding \"none\")"
    )]
    FindingWithoutInspection(&'static str),
    #[error("seizure without an inspection")]
    SeizureWithoutInspection,
    #[error("revenue_recovered: {0} is not a finite amount of zero or more")]
    Revenue(String),
    #[error(transparent)]
    Text(#[from] crate::text::TextError),
}

impl ControlResult {
    /// Checks the result on its own: findings and seizures need an inspection; amounts are
    /// finite and not negative; texts pass the route's text rule.
    pub fn check(&self) -> Result<(), ControlError> {
        if !self.inspected && self.finding != Finding::None {
            return Err(ControlError::FindingWithoutInspection(
                self.finding.as_str(),
            ));
        }
        if !self.inspected && self.seizure {
            return Err(ControlError::SeizureWithoutInspection);
        }
        if let Some(r) = self.revenue_recovered
            && !(r.is_finite() && r >= 0.0)
        {
            return Err(ControlError::Revenue(r.to_string()));
        }
        if let Some(code) = &self.finding_code {
            check_free_text("finding_code", code)?;
        }
        if let Some(remarks) = &self.remarks {
            check_free_text("remarks", remarks)?;
        }
        Ok(())
    }

    /// Whether the control found the movement non-compliant (a minor or major finding, or a
    /// seizure); `None` when nothing was inspected, because then nothing is known.
    pub fn non_compliant(&self) -> Option<bool> {
        self.inspected
            .then_some(self.finding != Finding::None || self.seizure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> ControlResult {
        ControlResult {
            office: OfficeRef::parse("GE100100").unwrap(),
            at: "2026-12-01T10:00:00Z".parse().unwrap(),
            lane_applied: Lane::Red,
            inspected: true,
            finding: Finding::Major,
            finding_code: Some("UNDERVAL".to_string()),
            revenue_recovered: Some(1200.0),
            seizure: false,
            remarks: None,
            propensity: None,
            assessment: None,
        }
    }

    #[test]
    fn findings_need_an_inspection() {
        assert_eq!(result().check(), Ok(()));
        assert_eq!(result().non_compliant(), Some(true));
        let mut r = result();
        r.inspected = false;
        assert_eq!(
            r.check(),
            Err(ControlError::FindingWithoutInspection("major"))
        );
        r.finding = Finding::None;
        r.revenue_recovered = None;
        assert_eq!(r.check(), Ok(()));
        assert_eq!(r.non_compliant(), None, "not inspected: unknown");
        r.seizure = true;
        assert_eq!(r.check(), Err(ControlError::SeizureWithoutInspection));
        let mut r = result();
        r.finding = Finding::None;
        assert_eq!(r.non_compliant(), Some(false));
        r.revenue_recovered = Some(f64::NAN);
        assert!(r.check().is_err());
        let mut r = result();
        r.remarks = Some("ok\u{202E}".to_string());
        assert!(r.check().unwrap_err().to_string().contains("remarks"));
    }
}
