//! Conditions, built once for every controller.
//!
//! Types and reasons are enums, so a reason cannot be misspelt in one controller and
//! matched in another. `lastTransitionTime` moves only when a condition's status flips, and
//! an unchanged condition is returned as it was, so an unchanged object produces an
//! identical status and no write.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// Condition types used by mediana's kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionType {
    /// The object does what its spec asks (the summary condition).
    Ready,
    /// kstatus: the operator is working towards the spec.
    Reconciling,
    /// kstatus: the operator cannot make progress without a change.
    Stalled,
    /// A CloudTarget's API server answers.
    Reachable,
    /// A CatalogNode's database is ready (or external).
    DatabaseReady,
    /// A CatalogNode's search index is ready (or external).
    SearchReady,
    /// A CatalogNode's CKAN web application (and its Redis) is ready.
    WebReady,
    /// The newest harvest run succeeded.
    LastRunSucceeded,
    /// A CatalogNode's newest backup succeeded.
    LastBackupSucceeded,
    /// A ReusableSolution's publiccode.yml was read and follows the standard.
    PubliccodeValid,
    /// A ReusableSolution's target satisfies its data classification.
    PlacementAllowed,
    /// A CloudTarget's qualification is in force (not past `validUntil`).
    QualificationValid,
}

impl ConditionType {
    /// The name written in `status.conditions[].type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::Reconciling => "Reconciling",
            Self::Stalled => "Stalled",
            Self::Reachable => "Reachable",
            Self::DatabaseReady => "DatabaseReady",
            Self::SearchReady => "SearchReady",
            Self::WebReady => "WebReady",
            Self::LastRunSucceeded => "LastRunSucceeded",
            Self::LastBackupSucceeded => "LastBackupSucceeded",
            Self::PubliccodeValid => "PubliccodeValid",
            Self::PlacementAllowed => "PlacementAllowed",
            Self::QualificationValid => "QualificationValid",
        }
    }
}

/// Reasons written in `status.conditions[].reason`, also used as Event reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A probe of the cluster succeeded.
    ProbeSucceeded,
    /// A probe of the cluster failed.
    ProbeFailed,
    /// Nothing is in progress.
    Idle,
    /// The cluster of a CloudTarget could not be reached (connection, TLS, timeout).
    TargetUnreachable,
    /// The kubeconfig Secret of a CloudTarget is missing or unusable.
    KubeconfigInvalid,
    /// The namespace an object's workloads would use on a remote cluster belongs to
    /// another object.
    NamespaceConflict,
    /// The CloudTarget an object's workloads still run on was deleted.
    TargetDeleted,
    /// The object's workloads are being removed from the clusters they ran on.
    Deleting,
    /// Workloads of an earlier placement wait to be removed.
    RetiringPreviousPlacement,
    /// A HarvestJob's CatalogNode runs on a remote cluster, which harvesters do not reach.
    NodeOnRemoteCluster,
    /// The identity of a remote CloudTarget's kubeconfig lacks permissions the operator uses.
    PermissionsMissing,
    /// The component is run outside the operator.
    External,
    /// The component (or the whole object) is available.
    Available,
    /// Work is in progress towards the spec.
    Progressing,
    /// The workload is rolled out, but the software, asked, does not answer as it should.
    NotServing,
    /// A CKAN upgrade is in progress.
    Upgrading,
    /// The database migration of an upgrade failed.
    MigrationFailed,
    /// A backup failed (scheduled, on demand, or before an upgrade).
    BackupFailed,
    /// A backup completed.
    BackupCompleted,
    /// The search-index rebuild after an upgrade or a restore failed.
    ReindexFailed,
    /// A new node is being restored from a backup (`spec.restore`).
    Restoring,
    /// Restoring a backup failed (unreachable, corrupted, or refused by the database):
    /// CKAN does not start.
    RestoreFailed,
    /// The CatalogNode a HarvestJob writes into does not exist.
    TargetNotFound,
    /// The harvest would copy datasets in a loop between nodes.
    HarvestLoop,
    /// Runs follow a cron schedule.
    Scheduled,
    /// Scheduled runs are suspended.
    Suspended,
    /// Runs once, and on each run-now annotation.
    OnDemand,
    /// No run has happened yet.
    NoRunYet,
    /// A run's Job exists; its harvester has not started yet.
    Pending,
    /// A run is in progress.
    Running,
    /// The run harvested every dataset.
    Succeeded,
    /// The run completed, but some datasets were not written.
    PartiallySucceeded,
    /// The run failed; nothing was deleted.
    RunFailed,
    /// The run ran out of time or stopped sending heartbeats.
    DeadlineExceeded,
    /// The run was refused before it started.
    Refused,
    /// A publiccode.yml follows the standard.
    Valid,
    /// A publiccode.yml breaks the standard.
    Invalid,
    /// A publiccode.yml could not be read (missing ConfigMap or key, source not available).
    PubliccodeUnavailable,
    /// The software is declared obsolete: the reuse policy refuses it.
    Obsolete,
    /// The software's licence is not on an allowlist of the target or the operator.
    LicenceNotAllowed,
    /// Every maintenance contract of the software has expired (a warning).
    MaintenanceExpired,
    /// The target's qualification satisfies the data classification.
    QualificationSufficient,
    /// The target's qualification does not satisfy the data classification.
    QualificationInsufficient,
    /// The target's qualification has passed its last day (`validUntil`).
    QualificationExpired,
    /// The target's qualification ends within 30 days.
    QualificationExpiring,
    /// The target's qualification is in force.
    QualificationInForce,
    /// The target's kind of cloud may not hold the data classification.
    DeploymentModelNotAllowed,
    /// The target is an adeguamento, which the policy does not accept for the classification.
    AdeguamentoNotAccepted,
    /// No target is named and several could be the local cluster's.
    TargetAmbiguous,
    /// The spec asks for something the operator cannot build; the message names the field.
    InvalidSpec,
    /// The kubelet refuses to start a component's image because it would run as root.
    ImageRunsAsRoot,
    /// A request to the Kubernetes API failed (retried with backoff).
    KubeApiError,
    /// The object lacks a field the API server always sets.
    InvalidObject,
    /// A desired object could not be serialized.
    SerializationFailed,
    /// The operating system gave no randomness for a generated secret.
    RandomnessUnavailable,
}

impl Reason {
    /// The CamelCase name of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProbeSucceeded => "ProbeSucceeded",
            Self::ProbeFailed => "ProbeFailed",
            Self::Idle => "Idle",
            Self::TargetUnreachable => "TargetUnreachable",
            Self::KubeconfigInvalid => "KubeconfigInvalid",
            Self::NamespaceConflict => "NamespaceConflict",
            Self::TargetDeleted => "TargetDeleted",
            Self::Deleting => "Deleting",
            Self::RetiringPreviousPlacement => "RetiringPreviousPlacement",
            Self::NodeOnRemoteCluster => "NodeOnRemoteCluster",
            Self::PermissionsMissing => "PermissionsMissing",
            Self::External => "External",
            Self::Available => "Available",
            Self::Progressing => "Progressing",
            Self::NotServing => "NotServing",
            Self::Upgrading => "Upgrading",
            Self::MigrationFailed => "MigrationFailed",
            Self::BackupFailed => "BackupFailed",
            Self::BackupCompleted => "BackupCompleted",
            Self::ReindexFailed => "ReindexFailed",
            Self::Restoring => "Restoring",
            Self::RestoreFailed => "RestoreFailed",
            Self::TargetNotFound => "TargetNotFound",
            Self::HarvestLoop => "HarvestLoop",
            Self::Scheduled => "Scheduled",
            Self::Suspended => "Suspended",
            Self::OnDemand => "OnDemand",
            Self::NoRunYet => "NoRunYet",
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::PartiallySucceeded => "PartiallySucceeded",
            Self::RunFailed => "RunFailed",
            Self::DeadlineExceeded => "DeadlineExceeded",
            Self::Refused => "Refused",
            Self::Valid => "Valid",
            Self::Invalid => "Invalid",
            Self::PubliccodeUnavailable => "PubliccodeUnavailable",
            Self::Obsolete => "Obsolete",
            Self::LicenceNotAllowed => "LicenceNotAllowed",
            Self::MaintenanceExpired => "MaintenanceExpired",
            Self::QualificationSufficient => "QualificationSufficient",
            Self::QualificationInsufficient => "QualificationInsufficient",
            Self::QualificationExpired => "QualificationExpired",
            Self::QualificationExpiring => "QualificationExpiring",
            Self::QualificationInForce => "QualificationInForce",
            Self::DeploymentModelNotAllowed => "DeploymentModelNotAllowed",
            Self::AdeguamentoNotAccepted => "AdeguamentoNotAccepted",
            Self::TargetAmbiguous => "TargetAmbiguous",
            Self::InvalidSpec => "InvalidSpec",
            Self::ImageRunsAsRoot => "ImageRunsAsRoot",
            Self::KubeApiError => "KubeApiError",
            Self::InvalidObject => "InvalidObject",
            Self::SerializationFailed => "SerializationFailed",
            Self::RandomnessUnavailable => "RandomnessUnavailable",
        }
    }
}

/// A condition as a controller wants it; [`merge`] turns it into a `Condition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredCondition {
    /// Which condition.
    pub type_: ConditionType,
    /// Whether it holds.
    pub status: bool,
    /// Why, as a reason.
    pub reason: Reason,
    /// Why, in a sentence for a person.
    pub message: String,
}

impl DesiredCondition {
    /// A condition that holds.
    pub fn true_(type_: ConditionType, reason: Reason, message: impl Into<String>) -> Self {
        Self { type_, status: true, reason, message: message.into() }
    }

    /// A condition that does not hold.
    pub fn false_(type_: ConditionType, reason: Reason, message: impl Into<String>) -> Self {
        Self { type_, status: false, reason, message: message.into() }
    }
}

fn status_str(status: bool) -> &'static str {
    if status { "True" } else { "False" }
}

/// What is going on besides `Ready`, as kstatus reads it (Argo CD, Flux, `kubectl wait`).
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// Nothing besides what `Ready` says: an object not ready is still being worked on.
    Settled,
    /// Work towards the spec in progress (an upgrade, a restore), ready or not meanwhile.
    Working(Reason, String),
    /// No progress without a change by a person.
    Stalled(Reason, String),
    /// A transient fault, retried with backoff.
    Retrying(Reason, String),
}

/// The one place where `Ready`, `Reconciling` and `Stalled` are built, for every kind:
/// `ready` as the kind decides it, the other two from it and `progress`.
pub fn kstatus(ready: DesiredCondition, progress: Progress) -> [DesiredCondition; 3] {
    use ConditionType::{Reconciling, Stalled};
    let not_stalled = || DesiredCondition::false_(Stalled, Reason::Available, "no failure");
    let (reconciling, stalled) = match progress {
        Progress::Settled if ready.status => {
            (DesiredCondition::false_(Reconciling, Reason::Available, "nothing in progress"), not_stalled())
        }
        Progress::Settled => (DesiredCondition::true_(Reconciling, ready.reason, ready.message.clone()), not_stalled()),
        Progress::Working(reason, message) => (DesiredCondition::true_(Reconciling, reason, message), not_stalled()),
        Progress::Stalled(reason, message) => (
            DesiredCondition::false_(Reconciling, Reason::Idle, "stalled, see Stalled"),
            DesiredCondition::true_(Stalled, reason, message),
        ),
        Progress::Retrying(reason, message) => (
            DesiredCondition::true_(Reconciling, reason, message),
            DesiredCondition::false_(Stalled, reason, "a transient outage; retried with backoff"),
        ),
    };
    [ready, reconciling, stalled]
}

/// The three conditions of an object that cannot go on until a person acts: not Ready, for
/// `reason`.
pub fn stalled(reason: Reason, message: impl Into<String>) -> [DesiredCondition; 3] {
    let message = message.into();
    kstatus(DesiredCondition::false_(ConditionType::Ready, reason, message.clone()), Progress::Stalled(reason, message))
}

/// `Ready`, `Reconciling` and `Stalled` of an object that a policy or a missing target keeps
/// from being rolled out: a person must act.
pub fn not_rolled_out(reason: Reason, message: &str) -> [DesiredCondition; 3] {
    kstatus(
        DesiredCondition::false_(ConditionType::Ready, reason, format!("not rolled out: {message}")),
        Progress::Stalled(reason, message.to_owned()),
    )
}

/// Merges the desired conditions into the existing ones for `generation`.
///
/// Conditions of other types are kept (another writer may own them); a desired condition
/// identical to the existing one keeps its object untouched; `lastTransitionTime` is
/// reset to `now` only when the status changes or the condition is new.
pub fn merge(
    existing: &[Condition],
    desired: &[DesiredCondition],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut merged: Vec<Condition> =
        existing.iter().filter(|c| !desired.iter().any(|d| d.type_.as_str() == c.type_)).cloned().collect();
    for want in desired {
        let previous = existing.iter().find(|c| c.type_ == want.type_.as_str());
        let status = status_str(want.status);
        let last_transition_time = match previous {
            Some(p) if p.status == status => p.last_transition_time.clone(),
            _ => Time(now),
        };
        merged.push(Condition {
            type_: want.type_.as_str().to_owned(),
            status: status.to_owned(),
            reason: want.reason.as_str().to_owned(),
            message: want.message.clone(),
            observed_generation: generation,
            last_transition_time,
        });
    }
    merged.sort_by(|a, b| a.type_.cmp(&b.type_));
    merged
}

/// The condition of `type_`, if present.
pub fn find(conditions: &[Condition], type_: ConditionType) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == type_.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).expect("valid timestamp")
    }

    #[test]
    fn new_condition_gets_now_and_generation() {
        let merged = merge(&[], &[DesiredCondition::true_(ConditionType::Ready, Reason::Idle, "ok")], Some(3), at(100));
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].type_, "Ready");
        assert_eq!(merged[0].status, "True");
        assert_eq!(merged[0].reason, "Idle");
        assert_eq!(merged[0].observed_generation, Some(3));
        assert_eq!(merged[0].last_transition_time, Time(at(100)));
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let first = merge(
            &[],
            &[DesiredCondition::false_(ConditionType::Ready, Reason::ProbeFailed, "down")],
            Some(1),
            at(100),
        );
        let same_status =
            merge(&first, &[DesiredCondition::false_(ConditionType::Ready, Reason::Idle, "other")], Some(2), at(200));
        assert_eq!(same_status[0].last_transition_time, Time(at(100)), "same status keeps the time");
        assert_eq!(same_status[0].reason, "Idle", "reason and message still update");
        let flipped = merge(
            &same_status,
            &[DesiredCondition::true_(ConditionType::Ready, Reason::ProbeSucceeded, "up")],
            Some(2),
            at(300),
        );
        assert_eq!(flipped[0].last_transition_time, Time(at(300)));
    }

    #[test]
    fn unchanged_conditions_are_identical_and_others_are_kept() {
        let foreign = Condition {
            type_: "Foreign".into(),
            status: "True".into(),
            reason: "SetElsewhere".into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: Time(at(5)),
        };
        let desired = [
            DesiredCondition::true_(ConditionType::Ready, Reason::Idle, "ok"),
            DesiredCondition::false_(ConditionType::Stalled, Reason::Idle, "ok"),
        ];
        let once = merge(std::slice::from_ref(&foreign), &desired, Some(1), at(10));
        let twice = merge(&once, &desired, Some(1), at(20));
        assert_eq!(once, twice, "a second merge of the same desire changes nothing");
        assert_eq!(twice.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(), ["Foreign", "Ready", "Stalled"]);
        assert_eq!(find(&twice, ConditionType::Stalled).map(|c| c.status.as_str()), Some("False"));
    }

    #[test]
    fn kstatus_derives_reconciling_and_stalled_from_ready_and_progress() {
        let summary = |[ready, reconciling, stalled]: [DesiredCondition; 3]| {
            [ready, reconciling, stalled].map(|c| (c.status, c.reason))
        };
        let serving = || DesiredCondition::true_(ConditionType::Ready, Reason::Available, "serving");
        let waiting = || DesiredCondition::false_(ConditionType::Ready, Reason::NotServing, "no answer");
        assert_eq!(
            summary(kstatus(serving(), Progress::Settled)),
            [(true, Reason::Available), (false, Reason::Available), (false, Reason::Available)]
        );
        assert_eq!(
            summary(kstatus(waiting(), Progress::Settled)),
            [(false, Reason::NotServing), (true, Reason::NotServing), (false, Reason::Available)],
            "not ready with nothing else to say: still being worked on"
        );
        assert_eq!(
            summary(kstatus(serving(), Progress::Working(Reason::Upgrading, "2.11 to 2.12".into()))),
            [(true, Reason::Available), (true, Reason::Upgrading), (false, Reason::Available)],
            "an upgrade of a serving node"
        );
        assert_eq!(
            summary(kstatus(serving(), Progress::Stalled(Reason::MigrationFailed, "x".into()))),
            [(true, Reason::Available), (false, Reason::Idle), (true, Reason::MigrationFailed)],
            "the old release keeps serving while a person must act"
        );
        let retrying = kstatus(waiting(), Progress::Retrying(Reason::TargetUnreachable, "down".into()));
        assert_eq!(
            summary(retrying),
            [(false, Reason::NotServing), (true, Reason::TargetUnreachable), (false, Reason::TargetUnreachable)]
        );
        let [ready, _, stalled] = super::stalled(Reason::TargetNotFound, "CatalogNode x does not exist");
        assert_eq!(
            (ready.status, stalled.status, stalled.message.as_str()),
            (false, true, "CatalogNode x does not exist")
        );
    }
}
