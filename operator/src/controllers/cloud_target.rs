//! CloudTarget: probes the cluster a target stands for and reports what it finds: API
//! server version, node count, allocatable CPU and memory. The local target is probed with
//! the operator's own client; a remote one with the client built from its kubeconfig
//! Secret, so a rotated Secret is used from the next probe on. It also says whether the
//! target's qualification is in force (`QualificationValid`), with a Warning Event when it
//! comes within 30 days of its last day and when it passes it.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use k8s_openapi::api::authorization::v1::{ResourceRule, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec};
use k8s_openapi::api::core::v1::Node;
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Client, ResourceExt};
use kube_quantity::ParsedQuantity;
use tracing::instrument;

use super::conditions::{ConditionType, DesiredCondition, Reason};
use super::rbac::{self, Grant};
use super::{Context, Error, publish, sites, targets, write_status};
use crate::api::cloud_target::CloudTargetSpec;
use crate::api::{CloudTarget, CloudTargetStatus};
use crate::placement;

/// How long before its last day a qualification is reported as expiring.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What a probe of a cluster found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// `gitVersion` of the API server.
    pub kubernetes_version: String,
    /// Number of nodes.
    pub nodes: i32,
    /// Sum of the nodes' allocatable CPU (a quantity).
    pub allocatable_cpu: String,
    /// Sum of the nodes' allocatable memory (a quantity).
    pub allocatable_memory: String,
    /// Permissions the operator uses that the cluster's identity lacks (`verb resource`).
    pub missing_permissions: Vec<String>,
}

/// Probes the target and records the result in its status.
#[instrument(skip_all, fields(object = %target.name_any()))]
pub async fn reconcile(target: Arc<CloudTarget>, ctx: Arc<Context>) -> Result<Action, Error> {
    let api: Api<CloudTarget> = Api::all(ctx.client.clone());
    let mut status = target.status.clone().unwrap_or_default();
    let remote = target.spec.kubeconfig_secret_ref.is_some();
    let probed = match ctx.targets.client(&ctx.client, &target).await {
        Err(err) => Err((Reason::KubeconfigInvalid, err.to_string())),
        Ok(client) => probe(&client, remote.then(rbac::spoke_grants)).await.map_err(|err| {
            let reason =
                if remote && targets::unreachable(&err) { Reason::TargetUnreachable } else { Reason::ProbeFailed };
            (reason, format!("probe of the cluster failed: {err}"))
        }),
    };
    let desired = match &probed {
        Ok(report) => {
            apply_report(&mut status, report);
            let message = format!("Kubernetes {} with {} nodes", report.kubernetes_version, report.nodes);
            let ready = if report.missing_permissions.is_empty() {
                DesiredCondition::true_(ConditionType::Ready, Reason::ProbeSucceeded, message.clone())
            } else {
                let lacking = format!(
                    "the kubeconfig's identity lacks {} permissions the operator uses on this cluster: {}; apply the output of `mediana spoke-rbac` there (docs/broker.md)",
                    report.missing_permissions.len(),
                    report.missing_permissions.join(", ")
                );
                DesiredCondition::false_(ConditionType::Ready, Reason::PermissionsMissing, lacking)
            };
            vec![DesiredCondition::true_(ConditionType::Reachable, Reason::ProbeSucceeded, message), ready]
        }
        Err((reason, message)) => vec![
            DesiredCondition::false_(ConditionType::Reachable, *reason, message.clone()),
            DesiredCondition::false_(ConditionType::Ready, *reason, message.clone()),
        ],
    };
    let mut desired = desired;
    let qualification = qualification_condition(&target.spec, chrono::Utc::now().date_naive());
    let before = target.status.as_ref().and_then(|s| {
        s.common
            .conditions
            .iter()
            .find(|c| c.type_ == ConditionType::QualificationValid.as_str())
            .map(|c| c.reason.clone())
    });
    let warns = matches!(qualification.reason, Reason::QualificationExpiring | Reason::QualificationExpired);
    if warns && before.as_deref() != Some(qualification.reason.as_str()) {
        publish(&ctx, target.as_ref(), EventType::Warning, qualification.reason.as_str(), &qualification.message).await;
    }
    desired.push(qualification);
    ctx.metrics.set_target_reachable(&target.name_any(), probed.is_ok());
    status.last_probe_time = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let conditions = status.common.conditions.clone();
    write_status(&ctx, &api, target.as_ref(), status, &desired).await?;
    Ok(Action::requeue(match probed {
        Ok(_) => ctx.settings.probe_interval,
        Err((Reason::TargetUnreachable, _)) => {
            sites::unreachable_backoff(&conditions, k8s_openapi::jiff::Timestamp::now())
                .min(ctx.settings.probe_interval)
        }
        Err(_) => ctx.settings.probe_interval,
    }))
}

/// Whether a target's qualification is in force on `today`, from its `validUntil`.
pub fn qualification_condition(spec: &CloudTargetSpec, today: NaiveDate) -> DesiredCondition {
    let valid = ConditionType::QualificationValid;
    let until = spec.valid_until.as_deref().unwrap_or_default();
    match (spec.valid_until.is_some(), placement::days_left(spec, today)) {
        (false, _) => DesiredCondition::true_(
            valid,
            Reason::QualificationInForce,
            "no validUntil declared: mediana cannot tell when the qualification ends (declare it from the ACN catalogue)",
        ),
        (true, None) => DesiredCondition::false_(
            valid,
            Reason::QualificationExpired,
            format!("validUntil {until} is not a date: nothing new is placed on this target"),
        ),
        (true, Some(days)) if days < 0 => DesiredCondition::false_(
            valid,
            Reason::QualificationExpired,
            format!(
                "the qualification's last day was {until}: nothing new is placed on this target; the workloads running on it stay"
            ),
        ),
        (true, Some(days)) if days <= EXPIRY_WARNING_DAYS => DesiredCondition::true_(
            valid,
            Reason::QualificationExpiring,
            format!("the qualification ends on {until}, in {days} days: after it nothing new is placed on this target"),
        ),
        (true, Some(days)) => DesiredCondition::true_(
            valid,
            Reason::QualificationInForce,
            format!("in force until {until} ({days} days)"),
        ),
    }
}

/// Asks a cluster for its version, the permissions of `wanted` its identity lacks (when
/// given: remote clusters), and its nodes' allocatable resources.
pub async fn probe(client: &Client, wanted: Option<BTreeSet<Grant>>) -> Result<ProbeReport, kube::Error> {
    let version = client.apiserver_version().await?;
    let missing = match wanted {
        Some(wanted) => {
            let review = SelfSubjectRulesReview {
                spec: SelfSubjectRulesReviewSpec { namespace: Some("default".into()) },
                ..Default::default()
            };
            let reviewed =
                Api::<SelfSubjectRulesReview>::all(client.clone()).create(&Default::default(), &review).await?;
            missing_grants(&reviewed.status.map(|s| s.resource_rules).unwrap_or_default(), &wanted)
        }
        None => Vec::new(),
    };
    // Without the right to list nodes, the probe reports none rather than failing.
    let nodes = if missing.iter().any(|g| g.resource == "nodes") {
        Vec::new()
    } else {
        Api::<Node>::all(client.clone()).list(&ListParams::default()).await?.items
    };
    let mut report = report(version.git_version, &nodes);
    report.missing_permissions = missing.iter().map(describe).collect();
    Ok(report)
}

/// The grants of `wanted` that no rule allows (rules limited to resource names do not count:
/// the operator names objects it creates).
pub fn missing_grants(rules: &[ResourceRule], wanted: &BTreeSet<Grant>) -> Vec<Grant> {
    let matches =
        |list: Option<&Vec<String>>, value: &str| list.is_some_and(|l| l.iter().any(|v| v == "*" || v == value));
    wanted
        .iter()
        .filter(|grant| {
            !rules.iter().any(|rule| {
                rule.resource_names.as_ref().is_none_or(Vec::is_empty)
                    && matches(rule.api_groups.as_ref(), &grant.group)
                    && matches(rule.resources.as_ref(), &grant.resource)
                    && rule.verbs.iter().any(|v| v == "*" || *v == grant.verb)
            })
        })
        .cloned()
        .collect()
}

fn describe(grant: &Grant) -> String {
    if grant.group.is_empty() {
        format!("{} {}", grant.verb, grant.resource)
    } else {
        format!("{} {}.{}", grant.verb, grant.resource, grant.group)
    }
}

fn report(kubernetes_version: String, nodes: &[Node]) -> ProbeReport {
    let total = |resource: &str| -> String {
        let sum = nodes
            .iter()
            .filter_map(|node| node.status.as_ref()?.allocatable.as_ref()?.get(resource))
            // A quantity the API server accepted always parses; skip rather than fail a probe.
            .filter_map(|quantity| ParsedQuantity::try_from(quantity).ok())
            .reduce(|a, b| a + b);
        sum.map(|q| q.to_string()).unwrap_or_else(|| "0".to_owned())
    };
    ProbeReport {
        nodes: i32::try_from(nodes.len()).unwrap_or(i32::MAX),
        allocatable_cpu: total("cpu"),
        allocatable_memory: total("memory"),
        kubernetes_version,
        missing_permissions: Vec::new(),
    }
}

fn apply_report(status: &mut CloudTargetStatus, report: &ProbeReport) {
    status.kubernetes_version = Some(report.kubernetes_version.clone());
    status.nodes = Some(report.nodes);
    status.allocatable_cpu = Some(report.allocatable_cpu.clone());
    status.allocatable_memory = Some(report.allocatable_memory.clone());
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::NodeStatus;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    use super::*;

    fn node(cpu: &str, memory: &str) -> Node {
        let allocatable = BTreeMap::from([
            ("cpu".to_owned(), Quantity(cpu.to_owned())),
            ("memory".to_owned(), Quantity(memory.to_owned())),
        ]);
        Node { status: Some(NodeStatus { allocatable: Some(allocatable), ..Default::default() }), ..Default::default() }
    }

    #[test]
    fn allocatable_resources_are_summed_over_nodes() {
        let report = report("v1.36.3".into(), &[node("2", "4Gi"), node("500m", "1Gi")]);
        assert_eq!(report.nodes, 2);
        assert_eq!(report.allocatable_cpu, "2500m");
        assert_eq!(report.allocatable_memory, "5Gi");
        let mut status = CloudTargetStatus::default();
        apply_report(&mut status, &report);
        assert_eq!(status.allocatable_memory.as_deref(), Some("5Gi"));
        assert_eq!(status.kubernetes_version.as_deref(), Some("v1.36.3"));
    }

    #[test]
    fn missing_permissions_are_found_from_the_rules() {
        let rule = |groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]| ResourceRule {
            api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
            resources: Some(resources.iter().map(|s| s.to_string()).collect()),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            resource_names: (!names.is_empty()).then(|| names.iter().map(|s| s.to_string()).collect()),
        };
        let wanted = rbac::spoke_grants();
        assert!(missing_grants(&[rule(&["*"], &["*"], &["*"], &[])], &wanted).is_empty(), "cluster-admin");
        let everything: Vec<ResourceRule> = rbac::cluster_role("x", &wanted)
            .rules
            .expect("rules")
            .into_iter()
            .map(|r| ResourceRule {
                api_groups: r.api_groups,
                resources: r.resources,
                verbs: r.verbs,
                resource_names: None,
            })
            .collect();
        assert!(missing_grants(&everything, &wanted).is_empty(), "exactly the spoke role");
        let without_namespaces: Vec<ResourceRule> = everything
            .iter()
            .filter(|r| r.resources.as_deref() != Some(&["namespaces".to_owned()][..]))
            .cloned()
            .collect();
        let missing: Vec<String> = missing_grants(&without_namespaces, &wanted).iter().map(describe).collect();
        assert_eq!(missing, ["create namespaces", "delete namespaces", "get namespaces", "patch namespaces"]);
        let named_only = [rule(&[""], &["namespaces"], &["*"], &["one"])];
        assert!(missing_grants(&named_only, &wanted).iter().any(|g| g.resource == "namespaces"));
        let apps = missing_grants(&[], &wanted).into_iter().find(|g| g.group == "apps").expect("an apps grant");
        assert!(describe(&apps).ends_with(".apps"), "{}", describe(&apps));
    }

    #[test]
    fn a_cluster_without_nodes_reports_zero() {
        let report = report("v1.36.3".into(), &[]);
        assert_eq!((report.nodes, report.allocatable_cpu.as_str()), (0, "0"));
    }

    #[test]
    fn the_qualification_is_in_force_then_expiring_then_expired() {
        let on = |until: Option<&str>| -> CloudTargetSpec {
            serde_json::from_value(serde_json::json!({"provider": "p", "qualification": "QC2", "validUntil": until}))
                .expect("a spec")
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date");
        let cases = [
            (None, true, Reason::QualificationInForce, "no validUntil declared"),
            (Some("2027-06-30"), true, Reason::QualificationInForce, "in force until 2027-06-30 (205 days)"),
            (Some("2027-01-06"), true, Reason::QualificationExpiring, "in 30 days"),
            (Some("2026-12-07"), true, Reason::QualificationExpiring, "in 0 days"),
            (Some("2026-12-06"), false, Reason::QualificationExpired, "last day was 2026-12-06"),
            (Some("2026-02-31"), false, Reason::QualificationExpired, "is not a date"),
        ];
        for (until, status, reason, words) in cases {
            let condition = qualification_condition(&on(until), today);
            assert_eq!((condition.status, condition.reason), (status, reason), "{until:?}: {condition:?}");
            assert!(condition.message.contains(words), "{until:?}: {}", condition.message);
        }
    }
}
