//! Harvest runs as the controller sees them: what a Job's state says about a run, when the
//! controller must report a run the harvester could not (a crash, a deadline, silence), and
//! harvest-loop detection. Pure functions; the reports themselves are `harvest::report`'s.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use kube::ResourceExt;

use crate::api::harvest_job::{HarvestRun, RunResult};
use crate::api::{CatalogNode, HarvestJob};
use crate::controllers::conditions::{self, ConditionType, Reason};
use crate::harvest::report::HEARTBEAT_TIMEOUT;

/// What a harvester Job's status says.
#[derive(Clone, Debug, PartialEq)]
pub struct JobObservation {
    /// The Job's name.
    pub name: String,
    /// When it was created (RFC 3339), to find the newest.
    pub created: Option<DateTime<Utc>>,
    /// When its pod started.
    pub started: Option<String>,
    /// Whether it is still running.
    pub active: bool,
    /// How it ended, if it did.
    pub outcome: Option<JobOutcome>,
}

/// How a Job ended.
#[derive(Clone, Debug, PartialEq)]
pub enum JobOutcome {
    /// It completed.
    Complete,
    /// It failed: `DeadlineExceeded` or another reason, with the Job's message.
    Failed { reason: String, message: String },
}

impl JobObservation {
    /// Reads a Job's status.
    pub fn of(job: &Job) -> Self {
        let status = job.status.clone().unwrap_or_default();
        let condition =
            |type_: &str| status.conditions.iter().flatten().find(|c| c.type_ == type_ && c.status == "True").cloned();
        let outcome = if let Some(failed) = condition("Failed") {
            Some(JobOutcome::Failed {
                reason: failed.reason.unwrap_or_else(|| "Failed".into()),
                message: failed.message.unwrap_or_default(),
            })
        } else {
            condition("Complete").map(|_| JobOutcome::Complete)
        };
        Self {
            name: job.name_any(),
            created: job.metadata.creation_timestamp.as_ref().and_then(|t| t.0.to_string().parse().ok()),
            started: status.start_time.map(|t| t.0.to_string()),
            active: outcome.is_none(),
            outcome,
        }
    }
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The run the controller must record for the newest harvester Job, if the harvester has
/// not (and cannot) report it: a new Job whose harvester has not started (Pending), a Job
/// that failed or ran out of time while the report says Pending or Running, a Job that ended
/// without any report, and a running harvester silent for longer than [`HEARTBEAT_TIMEOUT`].
/// `None` when the report stands.
pub fn supervise(last_run: Option<&HarvestRun>, jobs: &[JobObservation], now: DateTime<Utc>) -> Option<HarvestRun> {
    let newest = jobs.iter().max_by_key(|j| j.created)?;
    let reported = last_run.filter(|r| r.job.as_deref() == Some(newest.name.as_str()));
    let base =
        || HarvestRun { job: Some(newest.name.clone()), start_time: newest.started.clone(), ..Default::default() };
    match (reported, &newest.outcome) {
        // The harvester reported the end of its run: it stands.
        (Some(run), _) if run.result.is_over() => None,
        (report, Some(JobOutcome::Failed { reason, message })) => {
            let deadline = reason == "DeadlineExceeded";
            Some(HarvestRun {
                result: if deadline { RunResult::DeadlineExceeded } else { RunResult::Failed },
                completion_time: Some(rfc3339(now)),
                message: Some(format!("the harvester Job failed ({reason}): {message}; nothing was deleted")),
                ..report.cloned().unwrap_or_else(base)
            })
        }
        (report, Some(JobOutcome::Complete)) => Some(HarvestRun {
            result: RunResult::Failed,
            completion_time: Some(rfc3339(now)),
            message: Some("the harvester ended without reporting its run".into()),
            ..report.cloned().unwrap_or_else(base)
        }),
        // Queued or in its token step: the Job's deadline, not the heartbeat, bounds it.
        (Some(run), None) if run.result == RunResult::Pending => None,
        (Some(run), None) => {
            let last_sign = parse_time(run.heartbeat_time.as_deref().or(run.start_time.as_deref()))?;
            let silent = now.signed_duration_since(last_sign).to_std().unwrap_or_default();
            (silent > HEARTBEAT_TIMEOUT).then(|| HarvestRun {
                result: RunResult::DeadlineExceeded,
                completion_time: Some(rfc3339(now)),
                message: Some(format!(
                    "no heartbeat from the harvester since {}; the run is considered stuck and its Job {} is \
                     deleted, so the next scheduled run can start; nothing was deleted from the target",
                    rfc3339(last_sign),
                    newest.name
                )),
                ..run.clone()
            })
        }
        // A Job exists and its harvester has not reported yet: the run is pending.
        (None, None) => Some(HarvestRun {
            result: RunResult::Pending,
            message: Some(format!(
                "Job {} created; waiting for its pod to be scheduled and its harvester to start",
                newest.name
            )),
            ..base()
        }),
    }
}

/// The Job to stop for a run recorded as stuck: the run's own Job, while it is still active
/// (a silent harvester would otherwise hold the schedule until `activeDeadlineSeconds`, and
/// with `concurrencyPolicy: Forbid` skip every run due meanwhile).
pub fn to_stop<'a>(run: &HarvestRun, jobs: &'a [JobObservation]) -> Option<&'a str> {
    (run.result == RunResult::DeadlineExceeded)
        .then(|| jobs.iter().find(|j| j.active && run.job.as_deref() == Some(j.name.as_str())))
        .flatten()
        .map(|j| j.name.as_str())
}

/// The host a URL points at, lower-cased.
fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok()?.host_str().map(str::to_lowercase)
}

/// The public host name of the node that a source's host names through the node's Service
/// (`<node>-ckan.<namespace>.svc`, with or without the cluster's domain, `<node>-ckan.<namespace>`,
/// or `<node>-ckan` from the job's own namespace), as the national node of a broker harvests a
/// region inside the cluster.
fn node_behind_service(host: &str, job_namespace: Option<&str>, nodes: &[&CatalogNode]) -> Option<String> {
    nodes.iter().find_map(|node| {
        let owner = crate::controllers::children::Owner::of(*node).ok()?;
        let internal = host_of(&crate::controllers::catalog_node::builders::internal_url(&owner))?;
        let service = internal.strip_suffix(".svc")?;
        let short = service.strip_suffix(&format!(".{}", owner.namespace))?;
        let names_it = host == internal
            || host == service
            || host.strip_prefix(&internal).is_some_and(|domain| domain.starts_with('.'))
            || (host == short && job_namespace == Some(owner.namespace.as_str()));
        names_it.then(|| node.spec.hostname.to_lowercase())
    })
}

/// If `job` would close a harvest loop, the hosts along it (`a → b → a`). Every older
/// HarvestJob in the cluster is an edge from its source's host to its target node's host
/// name; a loop would copy datasets around forever, each copy one hop further from its
/// publisher.
///
/// Only a source that is itself a node can close a loop (every edge ends at a node), so the
/// jobs of all other sources, nearly all of a broker's, cost one look at the nodes and
/// never a walk over every job.
pub fn harvest_loop<J, N>(job: &HarvestJob, all_jobs: &[J], nodes: &[N]) -> Option<Vec<String>>
where
    J: Borrow<HarvestJob>,
    N: Borrow<CatalogNode>,
{
    let nodes: Vec<&CatalogNode> = nodes.iter().map(Borrow::borrow).collect();
    let nodes = nodes.as_slice();
    let node_host = |namespace: Option<String>, name: &str| {
        nodes
            .iter()
            .find(|n| n.namespace() == namespace && n.name_any() == name)
            .map(|n| n.spec.hostname.to_lowercase())
    };
    let source_host = |j: &HarvestJob| {
        let host = host_of(&j.spec.source.url)?;
        Some(node_behind_service(&host, j.namespace().as_deref(), nodes).unwrap_or(host))
    };
    let edge = |j: &HarvestJob| Some((source_host(j)?, node_host(j.namespace(), &j.spec.target.catalog_node)?));
    let (from, to) = edge(job)?;
    if !nodes.iter().any(|n| n.spec.hostname.eq_ignore_ascii_case(&from)) {
        return None;
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Only older jobs count: of two jobs that close a loop, the newer is refused and the
    // older keeps running (counting both would refuse both, and which one runs would
    // depend on the order of reconciles).
    let age = |j: &HarvestJob| (j.creation_timestamp().map(|t| t.0), j.namespace(), j.name_any());
    // A job refused for a loop of its own runs nothing: it is no edge.
    let refused = |j: &HarvestJob| {
        j.status.as_ref().is_some_and(|s| {
            conditions::find(&s.common.conditions, ConditionType::Stalled)
                .is_some_and(|c| c.status == "True" && c.reason == Reason::HarvestLoop.as_str())
        })
    };
    for other in all_jobs.iter().map(Borrow::borrow).filter(|j| age(j) < age(job) && !refused(j)) {
        if let Some((a, b)) = edge(other) {
            graph.entry(a).or_default().insert(b);
        }
    }
    // Breadth-first from the target back to the source closes the loop with this edge.
    let mut previous: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = VecDeque::from([to.clone()]);
    let mut seen = BTreeSet::from([to.clone()]);
    while let Some(host) = queue.pop_front() {
        if host == from {
            let mut path = vec![from.clone()];
            let mut cursor = from.clone();
            while let Some(before) = previous.get(&cursor) {
                path.push(before.clone());
                cursor = before.clone();
            }
            path.reverse();
            // The job's own edge closes it: source → target → … → source.
            let mut hops = vec![from.clone()];
            hops.extend(path);
            return Some(hops);
        }
        for next in graph.get(&host).into_iter().flatten() {
            if seen.insert(next.clone()) {
                previous.insert(next.clone(), host.clone());
                queue.push_back(next.clone());
            }
        }
    }
    None
}
