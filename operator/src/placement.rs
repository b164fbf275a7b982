//! Placement policy: the minimum ACN qualification a certified cluster needs for each data
//! classification, in one table.
//!
//! The defaults follow the Strategia Cloud Italia (§4.1-4.2) and the ACN qualification levels
//! (QC1 ordinary, QC2 critical, QC3 strategic data; docs/placement.md has the sources):
//! Ordinary → QC1, Critical → QC2, Strategic → QC3 or the Polo Strategico Nazionale. What QC4
//! adds beyond QC3 is not published in a form we could verify, so the table can be replaced
//! in the operator's settings (`--placement-policy FILE`). A target that satisfies a stricter
//! classification always satisfies a laxer one, whatever the table says.

use std::fmt;

use serde::Deserialize;

use crate::api::cloud_target::{CloudTargetSpec, Qualification};
use crate::api::reusable_solution::DataClassification;

/// What one classification requires of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requirement {
    /// The lowest qualification accepted; every higher level satisfies it too.
    pub minimum: Qualification,
    /// Whether a cluster of the Polo Strategico Nazionale satisfies it whatever its level
    /// (the PSN was built for strategic data, Strategia Cloud Italia §4.3).
    #[serde(default)]
    pub psn: bool,
}

impl Requirement {
    /// Whether a target meets this requirement itself.
    fn met_by(self, target: &CloudTargetSpec) -> bool {
        target.qualification >= self.minimum || (self.psn && target.psn)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} or higher", self.minimum)?;
        if self.psn {
            f.write_str(", or the Polo Strategico Nazionale")?;
        }
        Ok(())
    }
}

/// The table of requirements, one per classification. In a settings file, a YAML mapping
/// whose keys are the classifications; those left out keep their defaults:
///
/// ```yaml
/// Critical: {minimum: QC3}
/// Strategic: {minimum: QC4, psn: true}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PlacementPolicy {
    /// For ordinary data and services.
    #[serde(default = "default_ordinary")]
    pub ordinary: Requirement,
    /// For critical data and services.
    #[serde(default = "default_critical")]
    pub critical: Requirement,
    /// For strategic data and services.
    #[serde(default = "default_strategic")]
    pub strategic: Requirement,
    /// Where the table comes from, quoted in every decision.
    #[serde(skip)]
    pub source: String,
}

fn default_ordinary() -> Requirement {
    Requirement { minimum: Qualification::QC1, psn: false }
}
fn default_critical() -> Requirement {
    Requirement { minimum: Qualification::QC2, psn: false }
}
fn default_strategic() -> Requirement {
    Requirement { minimum: Qualification::QC3, psn: true }
}

/// Where the built-in table comes from, as a decision quotes it.
pub const DEFAULT_SOURCE: &str = "mediana defaults (Strategia Cloud Italia §4.2, ACN QC levels)";

impl Default for PlacementPolicy {
    fn default() -> Self {
        Self {
            ordinary: default_ordinary(),
            critical: default_critical(),
            strategic: default_strategic(),
            source: DEFAULT_SOURCE.to_owned(),
        }
    }
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("placement policy {source_name}: {message}")]
pub struct PolicyError {
    /// The file.
    pub source_name: String,
    /// What is wrong with it.
    pub message: String,
}

/// The outcome of checking a target against a classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the classification may run on the target.
    pub allowed: bool,
    /// The rule applied, in words, with where the table comes from.
    pub rule: String,
}

/// Classifications from the laxest to the strictest.
const ORDER: [DataClassification; 3] =
    [DataClassification::Ordinary, DataClassification::Critical, DataClassification::Strategic];

impl PlacementPolicy {
    /// Reads a table from YAML; `source` names the file in errors and decisions.
    pub fn from_yaml(text: &str, source: &str) -> Result<Self, PolicyError> {
        let mut policy: Self = serde_saphyr::from_str(text)
            .map_err(|err| PolicyError { source_name: source.to_owned(), message: err.to_string() })?;
        policy.source = source.to_owned();
        Ok(policy)
    }

    /// The requirement for `classification`.
    pub fn requirement(&self, classification: DataClassification) -> Requirement {
        match classification {
            DataClassification::Ordinary => self.ordinary,
            DataClassification::Critical => self.critical,
            DataClassification::Strategic => self.strategic,
        }
    }

    /// Whether `target` may run data of `classification`: it meets the requirement of that
    /// classification or of a stricter one.
    pub fn decide(&self, classification: DataClassification, target: &CloudTargetSpec) -> Verdict {
        let allowed = ORDER.iter().filter(|c| **c >= classification).any(|c| self.requirement(*c).met_by(target));
        let rule = format!("{classification:?} requires {} ({})", self.requirement(classification), self.source);
        Verdict { allowed, rule }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DataClassification::{Critical, Ordinary, Strategic};
    use Qualification::{QC1, QC2, QC3, QC4};

    fn target(qualification: Qualification, psn: bool) -> CloudTargetSpec {
        CloudTargetSpec {
            provider: "test".into(),
            region: None,
            qualification,
            psn,
            kubeconfig_secret_ref: None,
            allowed_licenses: Vec::new(),
        }
    }

    /// Every classification against every qualification, with the default table.
    #[test]
    fn defaults_follow_the_acn_levels() {
        let table = [
            (Ordinary, [true, true, true, true]),
            (Critical, [false, true, true, true]),
            (Strategic, [false, false, true, true]),
        ];
        let policy = PlacementPolicy::default();
        for (classification, expected) in table {
            for (qualification, allowed) in [QC1, QC2, QC3, QC4].into_iter().zip(expected) {
                let verdict = policy.decide(classification, &target(qualification, false));
                assert_eq!(verdict.allowed, allowed, "{classification:?} on {qualification:?}");
            }
        }
        let rule = policy.decide(Strategic, &target(QC1, false)).rule;
        assert_eq!(
            rule,
            format!("Strategic requires QC3 or higher, or the Polo Strategico Nazionale ({DEFAULT_SOURCE})")
        );
    }

    /// The PSN satisfies strategic data whatever its declared level, and so also everything
    /// laxer: a stricter rule met is every laxer rule met.
    #[test]
    fn the_psn_satisfies_strategic_and_therefore_everything() {
        let policy = PlacementPolicy::default();
        for classification in ORDER {
            assert!(policy.decide(classification, &target(QC1, true)).allowed, "{classification:?}");
        }
    }

    #[test]
    fn a_settings_file_overrides_some_rows_and_is_quoted() {
        let policy = PlacementPolicy::from_yaml("Critical: {minimum: QC3}\nStrategic: {minimum: QC4}\n", "/etc/p.yaml")
            .expect("valid policy");
        assert_eq!(policy.ordinary, default_ordinary(), "rows left out keep their defaults");
        assert!(!policy.decide(Critical, &target(QC2, false)).allowed);
        assert!(policy.decide(Critical, &target(QC3, false)).allowed);
        assert!(!policy.decide(Strategic, &target(QC3, true)).allowed, "no PSN exception unless the file says so");
        assert!(policy.decide(Strategic, &target(QC3, true)).rule.ends_with("(/etc/p.yaml)"));
    }

    #[test]
    fn a_bad_settings_file_is_refused_with_its_name() {
        for bad in ["Secret: {minimum: QC1}", "Critical: {minimum: QC9}", "Critical: {minimum: QC2, extra: 1}"] {
            let err = PlacementPolicy::from_yaml(bad, "p.yaml").expect_err(bad);
            assert!(err.to_string().starts_with("placement policy p.yaml: "), "{err}");
        }
    }
}
