//! HarvestJob controller: gives the harvester an identity and its runs (CronJob, one-off
//! and run-now Jobs), refuses harvest loops, and supervises runs so that none stays
//! "Running" forever. The runs themselves report into the status (`mediana harvest-job`).

pub mod builders;
pub mod runs;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{DeleteParams, ListParams};
use kube::core::ApiResource;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};
use tracing::{info, instrument};

use super::children::{Owner, api_resource, apply_and_prune};
use super::conditions::{self, ConditionType, DesiredCondition, Progress, Reason};
use super::{Context, Error, publish, write_status};
use crate::api::harvest_job::{HarvestJobSpec, RUN_NOW_ANNOTATION, RunResult};
use crate::api::{CatalogNode, HarvestJob, HarvestJobStatus};
use crate::harvest::report;
use builders::{HARVEST_JOB_LABEL, TargetNode};
use runs::JobObservation;

/// Kinds of children deleted when no longer desired (a schedule removed, a run-now
/// annotation changed, a one-off run superseded by a new spec).
pub fn prunable() -> Vec<ApiResource> {
    vec![
        api_resource::<ServiceAccount>(),
        api_resource::<Role>(),
        api_resource::<RoleBinding>(),
        api_resource::<CronJob>(),
        api_resource::<Job>(),
    ]
}

/// Kinds of children the controller applies.
pub fn applied() -> Vec<ApiResource> {
    prunable()
}

/// Owned kinds whose changes wake the controller: the CronJob's schedule bookkeeping.
pub fn owned() -> Vec<ApiResource> {
    vec![api_resource::<CronJob>()]
}

/// Every kind the controller watches: the owned ones, and harvester Jobs (found by label,
/// since the CronJob's Jobs are owned by the CronJob, not by the HarvestJob).
pub fn watched() -> Vec<ApiResource> {
    let mut kinds = owned();
    kinds.push(api_resource::<Job>());
    kinds
}

/// The HarvestJobs that write into `node`: its creation or change wakes them.
pub fn targeting(store: &Store<HarvestJob>, node: &CatalogNode) -> Vec<ObjectRef<HarvestJob>> {
    let (namespace, name) = (node.namespace(), node.name_any());
    store
        .state()
        .iter()
        .filter(|job| job.namespace() == namespace && job.spec.target.catalog_node == name)
        .map(|job| ObjectRef::from_obj(job.as_ref()))
        .collect()
}

/// How often a waiting HarvestJob looks again for its target node.
const TARGET_RETRY: Duration = Duration::from_secs(30);

/// Brings a HarvestJob's children and status in line with its spec.
#[instrument(skip_all, fields(object = %job.name_any(), namespace = job.namespace()))]
pub async fn reconcile(job: Arc<HarvestJob>, ctx: Arc<Context>) -> Result<Action, Error> {
    let client = &ctx.client;
    let owner = Owner::of(job.as_ref())?;
    let api: Api<HarvestJob> = Api::namespaced(client.clone(), &owner.namespace);
    let spec = &job.spec;
    let mut status = job.status.clone().unwrap_or_default();

    let all_nodes = ctx.caches.catalog_nodes().await?;
    let target = ctx.caches.catalog_nodes.get(&ObjectRef::new(&spec.target.catalog_node).within(&owner.namespace));
    let Some(target) = target.as_deref() else {
        // Nothing may run without a target: no children.
        apply_and_prune(client, &owner, &[], &prunable()).await?;
        let message = format!("CatalogNode {}/{} does not exist", owner.namespace, spec.target.catalog_node);
        write_status(&ctx, &api, job.as_ref(), status, &conditions::stalled(Reason::TargetNotFound, message)).await?;
        return Ok(Action::requeue(TARGET_RETRY));
    };

    let all_jobs = ctx.caches.harvest_jobs().await?;
    if let Some(path) = runs::harvest_loop(job.as_ref(), &all_jobs, &all_nodes) {
        apply_and_prune(client, &owner, &[], &prunable()).await?;
        let message = format!("harvesting would loop: {}; no run is started", path.join(" → "));
        write_status(&ctx, &api, job.as_ref(), status, &conditions::stalled(Reason::HarvestLoop, message)).await?;
        return Ok(Action::await_change());
    }

    if let Some(remote) = target.status.as_ref().and_then(|s| s.sites.iter().find(|site| site.remote)) {
        apply_and_prune(client, &owner, &[], &prunable()).await?;
        let message = format!(
            "CatalogNode {} runs on the remote CloudTarget {}: harvesters run on the operator's cluster and reach nodes there only (docs/broker.md)",
            spec.target.catalog_node, remote.target
        );
        write_status(&ctx, &api, job.as_ref(), status, &conditions::stalled(Reason::NodeOnRemoteCluster, message))
            .await?;
        return Ok(Action::await_change());
    }

    let target = TargetNode::of(target)?;
    let run_now = job.annotations().get(RUN_NOW_ANNOTATION).map(String::as_str);
    let children = builders::children(spec, &owner, &target, &ctx.settings, run_now)?;
    let report = match apply_and_prune(client, &owner, &children, &prunable()).await {
        Ok(report) => report,
        Err(err) => {
            // A value the CRD cannot check (a time zone the API server does not know, say):
            // said in the status, in the API server's words, until the spec changes.
            let Some(refusal) = err.refusal() else { return Err(err) };
            let message = format!("the API server refused this HarvestJob's children: {refusal}");
            write_status(&ctx, &api, job.as_ref(), status, &conditions::stalled(Reason::InvalidSpec, message)).await?;
            return Ok(Action::await_change());
        }
    };
    ctx.metrics.wrote("HarvestJob", report.applied.len() + report.pruned.len());
    if report.wrote() {
        info!(applied = ?report.applied, pruned = ?report.pruned, "children updated");
    }

    let cron = Api::<CronJob>::namespaced(client.clone(), &owner.namespace).get_opt(&owner.instance).await?;
    status.last_schedule_time =
        cron.and_then(|c| c.status?.last_schedule_time).map(|t| t.0.to_string()).or(status.last_schedule_time);
    let selector = ListParams::default().labels(&format!("{HARVEST_JOB_LABEL}={}", owner.instance));
    let jobs: Vec<JobObservation> = Api::<Job>::namespaced(client.clone(), &owner.namespace)
        .list(&selector)
        .await?
        .items
        .iter()
        .map(JobObservation::of)
        .collect();
    let now = chrono::Utc::now();
    if let Some(run) = runs::supervise(status.last_run.as_ref(), &jobs, now) {
        info!(job = ?run.job, result = ?run.result, "recording a run the harvester could not report");
        if let Some(stuck) = runs::to_stop(&run, &jobs) {
            let jobs_api = Api::<Job>::namespaced(client.clone(), &owner.namespace);
            match jobs_api.delete(stuck, &DeleteParams::background()).await {
                // Gone already (its TTL, or a person): the run is recorded all the same.
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.is_not_found() => {}
                Err(err) => return Err(err.into()),
            }
            let message = run.message.clone().unwrap_or_default();
            publish(&ctx, job.as_ref(), EventType::Warning, Reason::DeadlineExceeded.as_str(), &message).await;
        }
        report::record(&mut status, run, spec);
        report::apply_report(&api, &owner.instance, &status).await?;
        ctx.metrics.wrote("HarvestJob", 1);
    }
    write_status(&ctx, &api, job.as_ref(), status.clone(), &conditions(spec, &status)).await?;
    // A run is watched through its Job; the heartbeat check needs a clock.
    let running = status.last_run.as_ref().is_some_and(|r| !r.result.is_over());
    Ok(if running { Action::requeue(report::HEARTBEAT_TIMEOUT) } else { Action::await_change() })
}

/// The conditions of a HarvestJob whose children are in place.
pub fn conditions(spec: &HarvestJobSpec, status: &HarvestJobStatus) -> Vec<DesiredCondition> {
    let (reason, message) = match (&spec.schedule, spec.suspend) {
        (Some(schedule), false) => (
            Reason::Scheduled,
            format!(
                "runs on schedule '{schedule}'{}",
                spec.time_zone.as_ref().map(|z| format!(" ({z})")).unwrap_or_default()
            ),
        ),
        (Some(_), true) => (Reason::Suspended, "scheduled runs are suspended".to_owned()),
        (None, _) => (Reason::OnDemand, format!("runs once, and again on each change of {RUN_NOW_ANNOTATION}")),
    };
    let last_run = match &status.last_run {
        None => DesiredCondition::false_(ConditionType::LastRunSucceeded, Reason::NoRunYet, "no run yet"),
        Some(run) => {
            let message = run.message.clone().unwrap_or_else(|| format!("{:?}", run.result));
            match run.result {
                RunResult::Succeeded => {
                    DesiredCondition::true_(ConditionType::LastRunSucceeded, Reason::Succeeded, message)
                }
                RunResult::Pending => {
                    DesiredCondition::false_(ConditionType::LastRunSucceeded, Reason::Pending, message)
                }
                RunResult::Running => {
                    DesiredCondition::false_(ConditionType::LastRunSucceeded, Reason::Running, message)
                }
                RunResult::PartiallySucceeded => {
                    DesiredCondition::false_(ConditionType::LastRunSucceeded, Reason::PartiallySucceeded, message)
                }
                RunResult::Failed => {
                    DesiredCondition::false_(ConditionType::LastRunSucceeded, Reason::RunFailed, message)
                }
                RunResult::DeadlineExceeded => {
                    DesiredCondition::false_(ConditionType::LastRunSucceeded, Reason::DeadlineExceeded, message)
                }
                RunResult::Refused => {
                    DesiredCondition::false_(ConditionType::LastRunSucceeded, Reason::Refused, message)
                }
            }
        }
    };
    let [ready, reconciling, stalled] =
        conditions::kstatus(DesiredCondition::true_(ConditionType::Ready, reason, message), Progress::Settled);
    vec![ready, reconciling, stalled, last_run]
}
