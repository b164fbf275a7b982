//! Placement policy: which certified clusters may hold each data classification, in one table.
//!
//! A target's level is its service level (`qualification`, QC), capped by the level of its
//! infrastructure (QI) when declared. For each classification the policy sets the lowest
//! level, the kinds of cloud of the Strategia Cloud Italia (§4.2) that may hold it, and
//! whether an adeguamento counts as a qualification. An expired qualification admits nothing
//! new. Membership of the Polo Strategico Nazionale grants nothing by itself: the PSN runs
//! public encrypted clouds, limited to ordinary and critical data, beside private ones (§4.3).
//!
//! Defaults: Ordinary → level 1 on any kind; Critical → level 2 on an encrypted public,
//! licensed private/hybrid or qualified private cloud; Strategic → level 3 on a licensed
//! private/hybrid or qualified private cloud. The kinds are the Strategia's; the levels are
//! our reading of the ACN levels, since the Regolamento's own table (art. 9) is not in a form
//! we could verify: the table can be replaced in the operator's settings
//! (`--placement-policy FILE`, docs/placement.md). A target that satisfies a stricter
//! classification always satisfies a laxer one, whatever the table says.

use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::api::cloud_target::{CloudTargetSpec, DeploymentModel, Qualification, QualificationKind};
use crate::api::reusable_solution::DataClassification;

/// What one classification requires of a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    /// The lowest level accepted (of the service, capped by its infrastructure's).
    pub minimum: Qualification,
    /// The kinds of cloud that may hold it.
    pub models: Vec<DeploymentModel>,
    /// Whether an adeguamento counts as a qualification.
    pub adeguamento: bool,
}

/// Why a target does not meet a requirement, first failure first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Its qualification has expired (or its expiry is not a date).
    Expired,
    /// Its kind of cloud may not hold the classification.
    Model,
    /// It is an adeguamento, which the policy does not accept for the classification.
    Adeguamento,
    /// Its level is below the minimum.
    Level,
}

const ALL_MODELS: [DeploymentModel; 4] = [
    DeploymentModel::PublicQualified,
    DeploymentModel::PublicEncrypted,
    DeploymentModel::PrivateHybridLicensed,
    DeploymentModel::PrivateQualified,
];

/// The kind of cloud a target is taken for: an undeclared one as the kind admitting the least.
pub fn model_of(target: &CloudTargetSpec) -> DeploymentModel {
    target.deployment_model.unwrap_or(DeploymentModel::PublicQualified)
}

/// The level that counts: the service's, capped by its infrastructure's when declared.
pub fn level_of(target: &CloudTargetSpec) -> u8 {
    let service = target.qualification.level();
    target.infrastructure_level.map_or(service, |infrastructure| service.min(infrastructure.level()))
}

impl Requirement {
    /// Why a target does not meet this requirement itself, if it does not.
    fn refusal(&self, target: &CloudTargetSpec) -> Option<Refusal> {
        if !self.models.contains(&model_of(target)) {
            Some(Refusal::Model)
        } else if target.qualification_kind == QualificationKind::Adeguamento && !self.adeguamento {
            Some(Refusal::Adeguamento)
        } else if level_of(target) < self.minimum.level() {
            Some(Refusal::Level)
        } else {
            None
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} or higher", self.minimum)?;
        if self.models.len() == ALL_MODELS.len() {
            f.write_str(" on any kind of cloud")?;
        } else {
            let names: Vec<String> = self.models.iter().map(|m| format!("{m:?}")).collect();
            write!(f, " on {}", names.join(" or "))?;
        }
        if !self.adeguamento {
            f.write_str(", by qualification only")?;
        }
        Ok(())
    }
}

/// One row of a settings file: what it leaves out keeps the default of its row.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequirementRow {
    minimum: Option<Qualification>,
    models: Option<Vec<DeploymentModel>>,
    adeguamento: Option<bool>,
    /// Refused with a reason: files written for earlier versions had it.
    psn: Option<serde::de::IgnoredAny>,
}

/// A settings file: a YAML mapping whose keys are the classifications.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PolicyFile {
    ordinary: Option<RequirementRow>,
    critical: Option<RequirementRow>,
    strategic: Option<RequirementRow>,
}

/// The table of requirements, one per classification. In a settings file, a YAML mapping
/// whose keys are the classifications; rows and fields left out keep their defaults:
///
/// ```yaml
/// Critical: {minimum: QC3}
/// Strategic: {minimum: QC4, models: [PrivateQualified], adeguamento: false}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementPolicy {
    /// For ordinary data and services.
    pub ordinary: Requirement,
    /// For critical data and services.
    pub critical: Requirement,
    /// For strategic data and services.
    pub strategic: Requirement,
    /// Where the table comes from, quoted in every decision.
    pub source: String,
}

fn default_requirement(classification: DataClassification) -> Requirement {
    use DeploymentModel::{PrivateHybridLicensed, PrivateQualified, PublicEncrypted};
    let (minimum, models) = match classification {
        DataClassification::Ordinary => (Qualification::QC1, ALL_MODELS.to_vec()),
        DataClassification::Critical => {
            (Qualification::QC2, vec![PublicEncrypted, PrivateHybridLicensed, PrivateQualified])
        }
        DataClassification::Strategic => (Qualification::QC3, vec![PrivateHybridLicensed, PrivateQualified]),
    };
    Requirement { minimum, models, adeguamento: true }
}

/// Where the built-in table comes from, as a decision quotes it.
pub const DEFAULT_SOURCE: &str = "mediana defaults: kinds of cloud from the Strategia Cloud Italia §4.2-4.3; \
     levels QC1/QC2/QC3 for ordinary/critical/strategic data, our reading of Regolamento ACN 21007/24";

impl Default for PlacementPolicy {
    fn default() -> Self {
        Self {
            ordinary: default_requirement(DataClassification::Ordinary),
            critical: default_requirement(DataClassification::Critical),
            strategic: default_requirement(DataClassification::Strategic),
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
    /// Why not, when it may not.
    pub refusal: Option<Refusal>,
    /// The rule applied, in words, with where the table comes from.
    pub rule: String,
}

/// Classifications from the laxest to the strictest.
const ORDER: [DataClassification; 3] =
    [DataClassification::Ordinary, DataClassification::Critical, DataClassification::Strategic];

impl PlacementPolicy {
    /// Reads a table from YAML; `source` names the file in errors and decisions.
    pub fn from_yaml(text: &str, source: &str) -> Result<Self, PolicyError> {
        let error = |message: String| PolicyError { source_name: source.to_owned(), message };
        let file: PolicyFile = serde_saphyr::from_str(text).map_err(|err| error(err.to_string()))?;
        let mut policy = Self { source: source.to_owned(), ..Self::default() };
        for (classification, row) in ORDER.into_iter().zip([file.ordinary, file.critical, file.strategic]) {
            let Some(row) = row else { continue };
            if row.psn.is_some() {
                return Err(error(format!(
                    "{classification:?}.psn: the PSN no longer grants placement by itself (it runs public encrypted \
                     clouds as well as private ones, Strategia Cloud Italia §4.3); list the kinds of cloud in \
                     `models` and declare each CloudTarget's deploymentModel"
                )));
            }
            if row.models.as_ref().is_some_and(Vec::is_empty) {
                return Err(error(format!("{classification:?}.models: an empty list admits no cloud at all")));
            }
            let requirement = policy.requirement_mut(classification);
            requirement.minimum = row.minimum.unwrap_or(requirement.minimum);
            requirement.models = row.models.unwrap_or_else(|| requirement.models.clone());
            requirement.adeguamento = row.adeguamento.unwrap_or(requirement.adeguamento);
        }
        Ok(policy)
    }

    /// The requirement for `classification`.
    pub fn requirement(&self, classification: DataClassification) -> &Requirement {
        match classification {
            DataClassification::Ordinary => &self.ordinary,
            DataClassification::Critical => &self.critical,
            DataClassification::Strategic => &self.strategic,
        }
    }

    fn requirement_mut(&mut self, classification: DataClassification) -> &mut Requirement {
        match classification {
            DataClassification::Ordinary => &mut self.ordinary,
            DataClassification::Critical => &mut self.critical,
            DataClassification::Strategic => &mut self.strategic,
        }
    }

    /// Whether `target` may take new data of `classification` on `today`: its qualification
    /// has not expired, and it meets the requirement of that classification or of a stricter one.
    pub fn decide(&self, classification: DataClassification, target: &CloudTargetSpec, today: NaiveDate) -> Verdict {
        let requirement = self.requirement(classification);
        let rule = format!("{classification:?} requires {requirement} ({})", self.source);
        if let Some(until) = &target.valid_until {
            let expired = NaiveDate::parse_from_str(until, "%Y-%m-%d").map_or(true, |last_day| last_day < today);
            if expired {
                let rule = format!("the qualification's last day (validUntil) was {until}; {rule}");
                return Verdict { allowed: false, refusal: Some(Refusal::Expired), rule };
            }
        }
        let allowed =
            ORDER.iter().filter(|c| **c >= classification).any(|c| self.requirement(*c).refusal(target).is_none());
        let refusal = if allowed { None } else { requirement.refusal(target).or(Some(Refusal::Level)) };
        Verdict { allowed, refusal, rule }
    }
}

/// Days from `today` to a target's last qualified day (0 on that day, negative after), when it
/// declares one that is a date.
pub fn days_left(target: &CloudTargetSpec, today: NaiveDate) -> Option<i64> {
    let until = NaiveDate::parse_from_str(target.valid_until.as_deref()?, "%Y-%m-%d").ok()?;
    Some(until.signed_duration_since(today).num_days())
}

/// What a decision states about a target, e.g. `QC3/QI3, PrivateQualified, Qualification
/// until 2027-07-31, PSN`.
pub fn describe(target: &CloudTargetSpec) -> String {
    let level = match target.infrastructure_level {
        Some(infrastructure) => format!("{:?}/{infrastructure:?}", target.qualification),
        None => format!("{:?}", target.qualification),
    };
    let model = match target.deployment_model {
        Some(model) => format!("{model:?}"),
        None => "kind of cloud not declared, taken as PublicQualified".to_owned(),
    };
    let until = target.valid_until.as_ref().map(|u| format!(" until {u}")).unwrap_or_default();
    let psn = if target.psn { ", PSN" } else { "" };
    format!("{level}, {model}, {:?}{until}{psn}", target.qualification_kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::cloud_target::InfrastructureLevel::{self, QI2, QI3};
    use DataClassification::{Critical, Ordinary, Strategic};
    use DeploymentModel::{PrivateHybridLicensed, PrivateQualified, PublicEncrypted, PublicQualified};
    use Qualification::{QC1, QC2, QC3, QC4};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date")
    }

    fn target(qualification: Qualification, model: Option<DeploymentModel>) -> CloudTargetSpec {
        serde_json::from_value(
            serde_json::json!({"provider": "test", "qualification": qualification, "deploymentModel": model}),
        )
        .expect("a spec")
    }

    fn with(mut spec: CloudTargetSpec, change: impl FnOnce(&mut CloudTargetSpec)) -> CloudTargetSpec {
        change(&mut spec);
        spec
    }

    fn allowed(policy: &PlacementPolicy, classification: DataClassification, spec: &CloudTargetSpec) -> bool {
        policy.decide(classification, spec, today()).allowed
    }

    /// Every classification against every level, on a qualified private cloud.
    #[test]
    fn levels_follow_the_acn_levels_on_a_private_qualified_cloud() {
        let table = [
            (Ordinary, [true, true, true, true]),
            (Critical, [false, true, true, true]),
            (Strategic, [false, false, true, true]),
        ];
        let policy = PlacementPolicy::default();
        for (classification, expected) in table {
            for (qualification, expect) in [QC1, QC2, QC3, QC4].into_iter().zip(expected) {
                let spec = target(qualification, Some(PrivateQualified));
                assert_eq!(allowed(&policy, classification, &spec), expect, "{classification:?} on {qualification:?}");
            }
        }
        let verdict = policy.decide(Strategic, &target(QC1, Some(PrivateQualified)), today());
        assert_eq!(verdict.refusal, Some(Refusal::Level));
        assert_eq!(
            verdict.rule,
            format!("Strategic requires QC3 or higher on PrivateHybridLicensed or PrivateQualified ({DEFAULT_SOURCE})")
        );
    }

    /// Strategia Cloud Italia §4.2: public qualified clouds hold ordinary data, encrypted
    /// public clouds ordinary and critical, private ones strategic too, whatever the level.
    #[test]
    fn the_kind_of_cloud_bounds_the_classes_whatever_the_level() {
        let policy = PlacementPolicy::default();
        let expected = [
            (PublicQualified, [true, false, false]),
            (PublicEncrypted, [true, true, false]),
            (PrivateHybridLicensed, [true, true, true]),
            (PrivateQualified, [true, true, true]),
        ];
        for (model, row) in expected {
            for (classification, expect) in ORDER.into_iter().zip(row) {
                let spec = target(QC4, Some(model));
                assert_eq!(allowed(&policy, classification, &spec), expect, "{classification:?} on {model:?}");
            }
        }
        let refused = policy.decide(Critical, &target(QC4, Some(PublicQualified)), today());
        assert_eq!(refused.refusal, Some(Refusal::Model));
        // A target that declares no kind is taken for the one admitting the least.
        assert!(!allowed(&policy, Critical, &target(QC3, None)));
        assert!(allowed(&policy, Ordinary, &target(QC3, None)));
    }

    /// The PSN flag was once enough for strategic data at any level; it grants nothing now
    /// (the PSN's encrypted public cloud is limited to ordinary and critical data, §4.3).
    #[test]
    fn the_psn_flag_alone_places_nothing_above_ordinary() {
        let policy = PlacementPolicy::default();
        let psn_qc1 = with(target(QC1, None), |t| t.psn = true);
        assert!(allowed(&policy, Ordinary, &psn_qc1));
        assert!(!allowed(&policy, Critical, &psn_qc1));
        assert!(!allowed(&policy, Strategic, &psn_qc1));
        let psn_encrypted = with(target(QC3, Some(PublicEncrypted)), |t| t.psn = true);
        assert!(allowed(&policy, Critical, &psn_encrypted));
        assert_eq!(policy.decide(Strategic, &psn_encrypted, today()).refusal, Some(Refusal::Model));
    }

    #[test]
    fn the_infrastructure_level_caps_the_service_level() {
        let policy = PlacementPolicy::default();
        let on = |infrastructure: InfrastructureLevel| {
            with(target(QC3, Some(PrivateQualified)), |t| t.infrastructure_level = Some(infrastructure))
        };
        assert!(!allowed(&policy, Strategic, &on(QI2)));
        assert!(allowed(&policy, Critical, &on(QI2)));
        assert!(allowed(&policy, Strategic, &on(QI3)));
        assert_eq!(level_of(&on(QI2)), 2);
    }

    #[test]
    fn an_expired_qualification_admits_nothing_new() {
        let policy = PlacementPolicy::default();
        let until = |day: &str| with(target(QC3, Some(PrivateQualified)), |t| t.valid_until = Some(day.into()));
        assert!(allowed(&policy, Strategic, &until("2026-12-07")), "its last day still counts");
        for classification in ORDER {
            let verdict = policy.decide(classification, &until("2026-12-06"), today());
            assert_eq!((verdict.allowed, verdict.refusal), (false, Some(Refusal::Expired)), "{classification:?}");
            assert!(verdict.rule.starts_with("the qualification's last day (validUntil) was 2026-12-06"));
        }
        assert_eq!(days_left(&until("2027-01-06"), today()), Some(30));
        assert_eq!(days_left(&target(QC1, None), today()), None);
    }

    #[test]
    fn an_adeguamento_counts_unless_the_policy_says_otherwise() {
        let inhouse =
            with(target(QC2, Some(PrivateQualified)), |t| t.qualification_kind = QualificationKind::Adeguamento);
        assert!(allowed(&PlacementPolicy::default(), Critical, &inhouse));
        let strict = PlacementPolicy::from_yaml("Critical: {adeguamento: false}", "p.yaml").expect("valid policy");
        let verdict = strict.decide(Critical, &inhouse, today());
        assert_eq!((verdict.allowed, verdict.refusal), (false, Some(Refusal::Adeguamento)));
        assert!(verdict.rule.contains("by qualification only"), "{}", verdict.rule);
    }

    #[test]
    fn a_settings_file_overrides_some_rows_and_is_quoted() {
        let policy = PlacementPolicy::from_yaml(
            "Critical: {minimum: QC3}\nStrategic: {minimum: QC4, models: [PrivateQualified]}\n",
            "/etc/p.yaml",
        )
        .expect("valid policy");
        assert_eq!(policy.ordinary, default_requirement(Ordinary), "rows left out keep their defaults");
        assert_eq!(policy.critical.models, default_requirement(Critical).models, "fields left out too");
        assert!(!allowed(&policy, Critical, &target(QC2, Some(PrivateQualified))));
        assert!(allowed(&policy, Critical, &target(QC3, Some(PrivateQualified))));
        assert!(!allowed(&policy, Strategic, &target(QC4, Some(PrivateHybridLicensed))));
        assert!(policy.decide(Strategic, &target(QC3, None), today()).rule.ends_with("(/etc/p.yaml)"));
    }

    #[test]
    fn a_bad_settings_file_is_refused_with_its_name() {
        for bad in [
            "Secret: {minimum: QC1}",
            "Critical: {minimum: QC9}",
            "Critical: {minimum: QC2, extra: 1}",
            "Critical: {models: [Mainframe]}",
            "Critical: {models: []}",
            "Strategic: {minimum: QC4, psn: true}",
        ] {
            let err = PlacementPolicy::from_yaml(bad, "p.yaml").expect_err(bad);
            assert!(err.to_string().starts_with("placement policy p.yaml: "), "{err}");
        }
        let psn = PlacementPolicy::from_yaml("Strategic: {psn: true}", "p.yaml").expect_err("psn");
        assert!(psn.to_string().contains("Strategic.psn: the PSN no longer grants placement"), "{psn}");
    }

    #[test]
    fn a_decision_describes_the_target() {
        let spec = with(target(QC3, Some(PrivateQualified)), |t| {
            t.infrastructure_level = Some(QI3);
            t.valid_until = Some("2027-07-31".into());
            t.psn = true;
        });
        assert_eq!(describe(&spec), "QC3/QI3, PrivateQualified, Qualification until 2027-07-31, PSN");
        assert_eq!(
            describe(&target(QC1, None)),
            "QC1, kind of cloud not declared, taken as PublicQualified, Qualification"
        );
    }
}
