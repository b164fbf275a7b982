//! ReusableSolution: open-source software from the Developers Italia catalogue run for an
//! administration on a certified cluster.
//!
//! The reconcile is a pipeline: read the publiccode.yml and validate it, resolve the
//! CloudTarget, decide (purely, in [`assess`]) whether the reuse policy and the placement
//! policy allow a rollout, and only then ensure the generated Secret and apply the children
//! built in [`builders`]; finally observe the workloads and report. A refusal never deletes
//! anything: a running solution whose target lost its qualification keeps running, untouched,
//! until a person moves it or restores the target.

pub mod builders;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::core::ApiResource;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Client, ResourceExt};
use tracing::{info, instrument};

use super::backup_jobs::{self, BACKUP_NOW_ANNOTATION};
use super::children::{Owner, api_resource, apply_and_prune};
use super::conditions::{self, ConditionType, DesiredCondition, Progress, Reason};
use super::sites::{self, Placed, Removal, Site, choose_target};
use super::workloads::{Observed, deployment_readiness, statefulset_readiness};
use super::{Context, Error, Settings, publish, secrets, write_status};
use crate::api::reusable_solution::{
    ComponentStatus, PlacementDecision, PubliccodeSource, PubliccodeSummary, ReusableSolutionSpec,
};
use crate::api::shared::PlacedSite;
use crate::api::{CloudTarget, ReusableSolution, ReusableSolutionStatus};
use crate::placement::{self, Refusal};
use crate::publiccode::{self, Severity, Summary, ValidateOptions, Validation};

/// Kinds of children deleted when no longer desired. PersistentVolumeClaims are not in the
/// list: data outlives spec changes.
pub fn prunable() -> Vec<ApiResource> {
    vec![
        api_resource::<CronJob>(),
        api_resource::<Deployment>(),
        api_resource::<StatefulSet>(),
        api_resource::<Service>(),
        api_resource::<Ingress>(),
        api_resource::<NetworkPolicy>(),
        api_resource::<PodDisruptionBudget>(),
    ]
}

/// Kinds of children the controller applies: the prunable ones, the volumes' claims, and the
/// Jobs of `mediana.dev/backup-now` (kept as the record of the backup).
pub fn applied() -> Vec<ApiResource> {
    let mut kinds = prunable();
    kinds.extend([api_resource::<PersistentVolumeClaim>(), api_resource::<Job>()]);
    kinds
}

/// Kinds of children whose changes wake the controller: workloads becoming ready, and
/// backup Jobs finishing.
pub fn watched() -> Vec<ApiResource> {
    vec![api_resource::<Deployment>(), api_resource::<StatefulSet>(), api_resource::<Job>()]
}

/// Kinds the controller only reads, one object at a time: the ConfigMap of a
/// `configMapKeyRef` publiccode.yml.
pub fn read() -> Vec<ApiResource> {
    vec![api_resource::<ConfigMap>()]
}

/// Kinds the controller lists by the solution's labels, on whichever cluster it runs, and
/// never watches: the Pods, while a component is not ready, to tell why.
pub fn listed() -> Vec<ApiResource> {
    vec![api_resource::<Pod>()]
}

/// A publiccode.yml read and checked, or why it could not be: the reason is
/// `PubliccodeUnavailable` (no text) or `Invalid` (not even a publiccode.yml).
pub type Read = Result<Validation, (Reason, String)>;

async fn read_publiccode(source: &PubliccodeSource, namespace: &str, ctx: &Context) -> Result<Read, Error> {
    let text = match publiccode::source::text(source, namespace, &ctx.client).await {
        Ok(text) => text,
        // The API server failing is transient: retry, rather than report a missing file.
        Err(publiccode::source::SourceError::Kube(err)) => return Err(err.into()),
        Err(other) => return Ok(Err((Reason::PubliccodeUnavailable, other.to_string()))),
    };
    Ok(publiccode::validate(&text, ValidateOptions::default()).map_err(|err| {
        let finding = err.to_finding();
        (Reason::Invalid, describe(std::slice::from_ref(&finding).iter()))
    }))
}

/// Findings as one condition message: `key: message; ...`, the first few only.
fn describe<'a>(findings: impl Iterator<Item = &'a publiccode::Finding>) -> String {
    const SHOWN: usize = 10;
    let all: Vec<String> =
        findings.map(|f| format!("{}: {}", if f.key.is_empty() { "(file)" } else { &f.key }, f.message)).collect();
    let mut text = all.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if all.len() > SHOWN {
        text.push_str(&format!("; and {} more (mediana validate publiccode shows them all)", all.len() - SHOWN));
    }
    text
}

/// What the reuse and placement policies decide for a solution, before anything is applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// Why nothing may be rolled out, if so (the reason of `Ready` and `Stalled`).
    pub blocked: Option<(Reason, String)>,
    /// The `PubliccodeValid` condition.
    pub publiccode: DesiredCondition,
    /// The `PlacementAllowed` condition.
    pub placement: DesiredCondition,
    /// The audit record of the placement decision (without its time).
    pub decision: PlacementDecision,
    /// The summary of the publiccode.yml, when it could be read.
    pub summary: Option<PubliccodeSummary>,
    /// Whether every maintenance contract has expired (a warning, not a refusal).
    pub maintenance_expired: bool,
    /// Whether an invalid publiccode.yml is deployed anyway (`enforce: false`).
    pub not_enforced: bool,
}

/// Applies the placement policy, then the reuse policy, to a solution: pure, so that every
/// combination is tested without a cluster.
pub fn assess(
    spec: &ReusableSolutionSpec,
    read: &Read,
    target: Result<&CloudTarget, (Reason, String)>,
    settings: &Settings,
    today: NaiveDate,
) -> Assessment {
    let classification = format!("{:?}", spec.data_classification);
    // Each list that is set must allow the licence: the target's and the operator's.
    let mut allowlists = vec![("the operator's allowed licences".to_owned(), settings.allowed_licenses.as_slice())];
    if let Ok(target) = &target {
        let whose = format!("the allowedLicenses of CloudTarget {}", target.name_any());
        allowlists.push((whose, target.spec.allowed_licenses.as_slice()));
    }
    let (placement, decision) = match target {
        Err((reason, message)) => (
            DesiredCondition::false_(ConditionType::PlacementAllowed, reason, message.clone()),
            PlacementDecision {
                target: spec.placement.target.clone().unwrap_or_else(|| settings.default_target.clone()),
                classification: Some(classification),
                rule: Some(message),
                ..Default::default()
            },
        ),
        Ok(target) => placement_decision(spec, target, settings, classification, today),
    };

    let validation = read.as_ref().ok();
    let errors: Vec<&publiccode::Finding> =
        validation.map(|v| v.with_severity(Severity::Error).collect()).unwrap_or_default();
    let maintenance_expired = validation.is_some_and(|v| v.publiccode.all_contracts_expired(today));
    let warning = if maintenance_expired {
        "; warning: every maintenance contract (maintenance.contractors[].until) has expired"
    } else {
        ""
    };
    let publiccode = match read {
        Err((reason, message)) => DesiredCondition::false_(ConditionType::PubliccodeValid, *reason, message.clone()),
        Ok(_) if !errors.is_empty() => DesiredCondition::false_(
            ConditionType::PubliccodeValid,
            Reason::Invalid,
            format!("{}{warning}", describe(errors.iter().copied())),
        ),
        Ok(validation) => {
            // Deprecations are named, so that the software's maintainers can be told.
            let warnings: Vec<&str> = validation.with_severity(Severity::Warning).map(|f| f.key.as_str()).collect();
            let deprecated =
                if warnings.is_empty() { String::new() } else { format!(" (warnings at {})", warnings.join(", ")) };
            DesiredCondition::true_(
                ConditionType::PubliccodeValid,
                Reason::Valid,
                format!("publiccode.yml follows the standard{deprecated}{warning}"),
            )
        }
    };
    let enforce = spec.publiccode.enforce;
    let publiccode_refusal = (!publiccode.status && enforce).then(|| {
        (
            publiccode.reason,
            format!("publiccode.yml: {} (set spec.publiccode.enforce: false to deploy anyway)", publiccode.message),
        )
    });
    let licence_refusal = licence_refusal(validation, allowlists);
    let obsolete = validation.is_some_and(|v| v.publiccode.is_obsolete()).then(|| {
        (
            Reason::Obsolete,
            "the software is declared obsolete (developmentStatus: obsolete): the reuse policy refuses it".to_owned(),
        )
    });
    let placement_refusal = (!placement.status).then(|| (placement.reason, placement.message.clone()));
    let invalid = builders::validate(spec).err().map(|message| (Reason::InvalidSpec, message));
    let blocked = invalid.or(placement_refusal).or(publiccode_refusal).or(obsolete).or(licence_refusal);
    Assessment {
        blocked,
        not_enforced: !publiccode.status && !enforce,
        publiccode,
        placement,
        decision,
        summary: validation.map(|v| Summary::of(&v.publiccode).into_status(Some(spec.administration.ipa_code.clone()))),
        maintenance_expired,
    }
}

fn placement_decision(
    spec: &ReusableSolutionSpec,
    target: &CloudTarget,
    settings: &Settings,
    classification: String,
    today: NaiveDate,
) -> (DesiredCondition, PlacementDecision) {
    let verdict = settings.placement.decide(spec.data_classification, &target.spec, today);
    let facts = format!("CloudTarget {} ({})", target.name_any(), placement::describe(&target.spec));
    let (allowed, condition) = match verdict.refusal {
        None if verdict.allowed => {
            let message = format!("{facts} satisfies {classification} data: {}", verdict.rule);
            (true, DesiredCondition::true_(ConditionType::PlacementAllowed, Reason::QualificationSufficient, message))
        }
        refusal => {
            let reason = match refusal {
                Some(Refusal::Expired) => Reason::QualificationExpired,
                Some(Refusal::Model) => Reason::DeploymentModelNotAllowed,
                Some(Refusal::Adeguamento) => Reason::AdeguamentoNotAccepted,
                Some(Refusal::Level) | None => Reason::QualificationInsufficient,
            };
            let message = format!("{facts} does not satisfy {classification} data: {}", verdict.rule);
            (false, DesiredCondition::false_(ConditionType::PlacementAllowed, reason, message))
        }
    };
    let t = &target.spec;
    let decision = PlacementDecision {
        target: target.name_any(),
        qualification: Some(format!("{:?}", t.qualification)),
        infrastructure_level: t.infrastructure_level.map(|l| format!("{l:?}")),
        qualification_kind: Some(format!("{:?}", t.qualification_kind)),
        deployment_model: Some(format!("{:?}", placement::model_of(t))),
        catalogue_reference: t.catalogue_reference.clone(),
        valid_until: t.valid_until.clone(),
        psn: t.psn,
        classification: Some(classification),
        rule: Some(verdict.rule),
        allowed,
        decided_at: None,
    };
    (condition, decision)
}

fn licence_refusal(validation: Option<&Validation>, allowlists: Vec<(String, &[String])>) -> Option<(Reason, String)> {
    let licence = validation.and_then(|v| v.publiccode.legal.license.clone()).unwrap_or_else(|| "(unknown)".into());
    allowlists.into_iter().filter(|(_, list)| !list.is_empty()).find_map(|(whose, list)| {
        let allowed = validation.is_some_and(|v| v.publiccode.licence_allowed(list));
        (!allowed).then(|| {
            (Reason::LicenceNotAllowed, format!("licence {licence} is not allowed by {whose}: {}", list.join(", ")))
        })
    })
}

impl Placed for ReusableSolution {
    fn requested_target(&self) -> Option<&str> {
        self.spec.placement.target.as_deref()
    }
    fn sites(&self) -> &[PlacedSite] {
        self.status.as_ref().map(|s| s.sites.as_slice()).unwrap_or_default()
    }
}

/// Reconciles one ReusableSolution.
#[instrument(skip_all, fields(object = %solution.name_any(), namespace = solution.namespace()))]
pub async fn reconcile(solution: Arc<ReusableSolution>, ctx: Arc<Context>) -> Result<Action, Error> {
    let hub = Owner::of(solution.as_ref())?;
    let client = &ctx.client;
    let spec = &solution.spec;
    let api: Api<ReusableSolution> = Api::namespaced(client.clone(), &hub.namespace);
    let targets = ctx.caches.cloud_targets().await?;
    if solution.metadata.deletion_timestamp.is_some() {
        let (solution, removal) = (solution.as_ref(), Removal::Everything);
        return sites::finish_deletion(&ctx, &api, solution, &targets, removal, &prunable(), &[]).await;
    }

    let read = read_publiccode(&spec.publiccode, &hub.namespace, &ctx).await?;
    let target = choose_target(spec.placement.target.as_deref(), &ctx.settings.default_target, &targets);
    let assessment = assess(spec, &read, target.clone(), &ctx.settings, chrono::Utc::now().date_naive());

    let mut sites = solution.sites().to_vec();
    let mut observed = Vec::new();
    let mut site_problem = None;
    let mut current = None;
    let mut backups = None;
    if let (None, Ok(target)) = (&assessment.blocked, target) {
        match roll_out(&ctx, &api, &solution, target).await {
            Ok((site, recorded, components, summary)) => {
                (sites, observed, current, backups) = (recorded, components, Some(site), Some(summary));
            }
            Err(err) => site_problem = Some(sites::site_conditions(&err).ok_or(err)?),
        }
    }

    let previous = solution.status.as_ref();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut desired = solution_conditions(&assessment, &observed);
    let ready = site_problem.is_none() && desired.iter().any(|c| c.type_ == ConditionType::Ready && c.status);
    if let Some(current) = &current {
        let (kept, moving) =
            sites::settle(&ctx, solution.as_ref(), &targets, sites, current, ready, &prunable()).await?;
        sites = kept;
        sites::override_conditions(&mut desired, moving);
    }
    sites::override_conditions(&mut desired, site_problem.clone().unwrap_or_default());
    let mut status = status(spec, &assessment, &observed, previous, &now);
    status.sites = sites.clone();
    if let Some(summary) = &backups {
        status.last_backup = summary.last.clone();
        if let Some(backup) = backup_jobs::condition(summary) {
            let before = previous.map(|p| p.common.conditions.as_slice()).unwrap_or_default();
            backup_jobs::announce_failure(&ctx, solution.as_ref(), before, &backup).await;
            desired.push(backup);
        }
    }
    announce(&ctx, solution.as_ref(), &assessment, previous).await;
    write_status(&ctx, &api, solution.as_ref(), status, &desired).await?;
    Ok(Action::requeue(match (&assessment.blocked, &site_problem) {
        // Waiting for a person: a CloudTarget change wakes the solution at once; the
        // requeue notices a changed ConfigMap.
        (Some(_), _) => Duration::from_secs(300),
        // A spec the API server refuses waits for its change, which wakes the solution.
        (None, Some(problem)) if problem.iter().any(|c| c.reason == Reason::InvalidSpec) => Duration::from_secs(300),
        (None, Some(_)) => {
            let conditions = previous.map(|p| p.common.conditions.as_slice()).unwrap_or_default();
            sites::unreachable_backoff(conditions, k8s_openapi::jiff::Timestamp::now())
        }
        (None, None) => sites::requeue_after(ready, sites.len() > 1),
    }))
}

/// Opens the solution's site on `target`, records it, applies the generated Secrets and
/// the children there, and observes the workloads.
async fn roll_out(
    ctx: &Context,
    api: &Api<ReusableSolution>,
    solution: &ReusableSolution,
    target: &CloudTarget,
) -> Result<(Site, Vec<PlacedSite>, Vec<ObservedComponent>, backup_jobs::Summary), Error> {
    let kind = "ReusableSolution";
    let spec = &solution.spec;
    let site = sites::open(ctx, solution, target).await?;
    let recorded = sites::record(api, solution, &site, &[]).await?;
    let (client, owner) = (&site.client, &site.owner);
    let observed = async {
        for secret in builders::generated_secrets(spec, owner) {
            if secrets::ensure(client, owner, &secret).await? {
                ctx.metrics.wrote(kind, 1);
            }
        }
        let mut children = builders::children(spec, owner)?;
        let now = solution.annotations().get(BACKUP_NOW_ANNOTATION).map(String::as_str);
        children.extend(builders::backup_children(spec, owner, &ctx.settings.operator_image, now)?);
        let report = apply_and_prune(client, owner, &children, &prunable()).await?;
        ctx.metrics.wrote(kind, report.applied.len() + report.pruned.len());
        if report.wrote() {
            info!(target = site.target, applied = ?report.applied, pruned = ?report.pruned, "children updated");
        }
        let components = observe(client, owner, spec).await?;
        let recorded_backup = solution.status.as_ref().and_then(|s| s.last_backup.as_ref());
        let backups = backup_jobs::observe(client, owner, recorded_backup).await?;
        Ok((components, backups))
    }
    .await
    .map_err(|err| site.classify(err))?;
    Ok((site, recorded, observed.0, observed.1))
}

/// What was observed of one workload of the solution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObservedComponent {
    /// Replicas desired and ready.
    pub status: ComponentStatus,
    /// Whether it is rolled out.
    pub readiness: Observed,
    /// Why the kubelet refuses to start its pods, when it refuses them (see [`root_refusal`]).
    pub refusal: Option<String>,
}

async fn observe(client: &Client, owner: &Owner, spec: &ReusableSolutionSpec) -> Result<Vec<ObservedComponent>, Error> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &owner.namespace);
    let mut found = Vec::new();
    for component in &spec.components {
        found.push((component, deployments.get_opt(&builders::component_name(owner, component)).await?));
    }
    // The pods tell why a component is not ready; a ready solution costs no list.
    let pending = found.iter().any(|(_, deployment)| deployment_readiness(deployment.as_ref()) != Observed::Ready);
    let pods = super::workloads::pods_while_waiting(client, owner, pending).await?;
    let mut observed: Vec<ObservedComponent> = found
        .into_iter()
        .map(|(component, deployment)| ObservedComponent {
            status: ComponentStatus {
                name: component.name.clone(),
                replicas: component.replicas,
                ready_replicas: deployment.as_ref().and_then(|d| d.status.as_ref()?.ready_replicas).unwrap_or(0),
            },
            readiness: deployment_readiness(deployment.as_ref()),
            refusal: root_refusal(&component.name, &pods),
        })
        .collect();
    if spec.database.is_some() {
        let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &owner.namespace);
        let database = statefulsets.get_opt(&super::workloads::postgres_name(owner)).await?;
        let ready = database.as_ref().and_then(|d| d.status.as_ref()?.ready_replicas).unwrap_or(0);
        observed.push(ObservedComponent {
            status: ComponentStatus { name: builders::DATABASE_COMPONENT.into(), replicas: 1, ready_replicas: ready },
            readiness: statefulset_readiness(database.as_ref()),
            refusal: None,
        });
    }
    Ok(observed)
}

/// Why the kubelet refuses to start the pods of `component` (among `pods`, those of the
/// solution) because its image would run as root, with what to do: the kubelet's message
/// of a container waiting in `CreateContainerConfigError` for `runAsNonRoot`. `None` when
/// no pod of the component is refused so.
pub fn root_refusal(component: &str, pods: &[Pod]) -> Option<String> {
    let kubelet = super::workloads::pods_of_component(component, pods)
        .filter_map(|pod| pod.status.as_ref())
        .flat_map(|status| status.init_container_statuses.iter().chain(&status.container_statuses).flatten())
        .filter_map(|container| container.state.as_ref()?.waiting.as_ref())
        .filter(|waiting| waiting.reason.as_deref() == Some("CreateContainerConfigError"))
        .find_map(|waiting| waiting.message.clone().filter(|m| m.contains("runAsNonRoot") || m.contains("non-root")))?;
    Some(format!(
        "component {component} cannot start, its image would run as root ({kubelet}): set \
         spec.components[{component}].runAsUser to the image's unprivileged UID"
    ))
}

/// Ready, Reconciling and Stalled from the assessment and the workloads, plus the
/// PubliccodeValid and PlacementAllowed conditions.
pub fn solution_conditions(assessment: &Assessment, observed: &[ObservedComponent]) -> Vec<DesiredCondition> {
    let refusals: Vec<&str> = observed.iter().filter_map(|o| o.refusal.as_deref()).collect();
    let [ready, reconciling, stalled] = match &assessment.blocked {
        Some((reason, message)) => conditions::not_rolled_out(*reason, message),
        // Applied, but a person must change the spec before it can run.
        None if !refusals.is_empty() => conditions::stalled(Reason::ImageRunsAsRoot, refusals.join("; ")),
        None => {
            let waiting: Vec<String> = observed
                .iter()
                .filter_map(|o| o.readiness.waiting_for().map(|detail| format!("{}: {detail}", o.status.name)))
                .collect();
            let caveat = if assessment.not_enforced {
                "; publiccode.yml is invalid, deployed because spec.publiccode.enforce is false"
            } else {
                ""
            };
            let ready = if waiting.is_empty() {
                DesiredCondition::true_(
                    ConditionType::Ready,
                    Reason::Available,
                    format!("the solution is serving{caveat}"),
                )
            } else {
                let message = format!("waiting for {}", waiting.join("; "));
                DesiredCondition::false_(ConditionType::Ready, Reason::Progressing, message)
            };
            conditions::kstatus(ready, Progress::Settled)
        }
    };
    vec![ready, reconciling, stalled, assessment.publiccode.clone(), assessment.placement.clone()]
}

/// The status fields other than conditions. The decision keeps the time it was first made
/// while it stays the same, so an unchanged solution is never written again.
pub fn status(
    spec: &ReusableSolutionSpec,
    assessment: &Assessment,
    observed: &[ObservedComponent],
    previous: Option<&ReusableSolutionStatus>,
    now: &str,
) -> ReusableSolutionStatus {
    let previous_decision = previous.and_then(|p| p.placement.clone());
    let decided_at = match &previous_decision {
        Some(before) if PlacementDecision { decided_at: None, ..before.clone() } == assessment.decision => {
            before.decided_at.clone()
        }
        _ => Some(now.to_owned()),
    };
    ReusableSolutionStatus {
        common: Default::default(),
        // A blocked solution may still run an earlier rollout: keep what was reported.
        url: if assessment.blocked.is_some() { previous.and_then(|p| p.url.clone()) } else { builders::url(spec) },
        publiccode: assessment.summary.clone(),
        placement: Some(PlacementDecision { decided_at, ..assessment.decision.clone() }),
        // A blocked solution is not observed: keep what was last seen.
        components: if assessment.blocked.is_some() {
            previous.map(|p| p.components.clone()).unwrap_or_default()
        } else {
            observed.iter().map(|o| o.status.clone()).collect()
        },
        // Kept until the backups are observed again (a blocked solution is not).
        last_backup: previous.and_then(|p| p.last_backup.clone()),
        sites: Vec::new(),
    }
}

/// Events for what a person must know besides `Ready` flipping: a new placement decision,
/// and expired maintenance contracts when first noticed.
async fn announce(
    ctx: &Context,
    solution: &ReusableSolution,
    assessment: &Assessment,
    previous: Option<&ReusableSolutionStatus>,
) {
    let before = previous.and_then(|p| p.placement.clone()).map(|p| PlacementDecision { decided_at: None, ..p });
    if before.as_ref() != Some(&assessment.decision) {
        let placement = &assessment.placement;
        let type_ = if placement.status { EventType::Normal } else { EventType::Warning };
        publish(ctx, solution, type_, placement.reason.as_str(), &placement.message).await;
    }
    let conditions = previous.map(|p| p.common.conditions.as_slice()).unwrap_or_default();
    let before = conditions::find(conditions, ConditionType::PubliccodeValid).map(|c| c.message.as_str());
    if assessment.maintenance_expired && before != Some(assessment.publiccode.message.as_str()) {
        let note = "every maintenance contract of the software (maintenance.contractors[].until) has expired";
        publish(ctx, solution, EventType::Warning, Reason::MaintenanceExpired.as_str(), note).await;
    }
}

#[cfg(test)]
mod tests;
