//! CatalogNode: a complete CKAN / DCAT-AP_IT catalogue node from one object.
//!
//! The reconcile is a pipeline: ensure the generated Secrets, build the desired children
//! (pure, in [`builders`]), apply them and prune what is no longer desired, observe the
//! workloads, and report what was observed in the status.

pub mod backups;
pub mod builders;
pub mod config;
pub mod environment;
pub mod restore;
pub mod serving;
pub mod upgrade;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{DeleteParams, ListParams};
use kube::core::ApiResource;
use kube::runtime::controller::Action;
use kube::{Api, Client, Resource, ResourceExt};
use tracing::{info, instrument};

use super::backup_jobs::{self, BACKUP_NOW_ANNOTATION};
use super::children::{Child, Owner, api_resource, apply_and_prune};
use super::conditions::{self, ConditionType, DesiredCondition, Progress, Reason};
use super::sites::{self, Placed, Removal, Site};
use super::workloads::{self, Observed, deployment_readiness, statefulset_readiness};
use super::{Context, Error, secrets, write_status};
use crate::api::catalog_node::{CatalogNodeSpec, ComponentVersions, RestorePhase, UpgradePhase};
use crate::api::shared::DeletionPolicy;
use crate::api::shared::PlacedSite;
use crate::api::{CatalogNode, CatalogNodeStatus};
use crate::backup::Report;
use backups::BackupContext;
use builders::{Release, UpgradeJob};
use environment::{Names, component, managed_database, managed_redis, managed_search};
use upgrade::{JobState, JobStates, Plan};

/// Kinds of children that are deleted when no longer desired. PersistentVolumeClaims and
/// generated Secrets are not in the list: data and credentials outlive spec changes.
pub fn prunable() -> Vec<ApiResource> {
    vec![
        api_resource::<ConfigMap>(),
        api_resource::<Deployment>(),
        api_resource::<StatefulSet>(),
        api_resource::<Service>(),
        api_resource::<Ingress>(),
        api_resource::<NetworkPolicy>(),
        api_resource::<PodDisruptionBudget>(),
        api_resource::<CronJob>(),
    ]
}

/// Kinds of children the controller applies: the prunable ones, the claims of uploads and
/// backups, and the Jobs of upgrade steps (kept as the record of the upgrade).
pub fn applied() -> Vec<ApiResource> {
    let mut kinds = prunable();
    kinds.extend([api_resource::<PersistentVolumeClaim>(), api_resource::<Job>()]);
    kinds
}

/// Kinds of children whose changes wake the controller: workloads becoming ready and
/// upgrade Jobs finishing.
pub fn watched() -> Vec<ApiResource> {
    vec![api_resource::<Deployment>(), api_resource::<StatefulSet>(), api_resource::<Job>()]
}

/// Kinds whose objects the controller asks through the API server's proxy (`get` on their
/// `proxy` subresource): the web Service, for CKAN's status.
pub fn proxied() -> Vec<ApiResource> {
    vec![api_resource::<Service>()]
}

/// Kinds the controller lists, never writes: the node's pods, to tell why a workload waits.
pub fn listed() -> Vec<ApiResource> {
    vec![api_resource::<Pod>()]
}

/// What the operator found of a node's workloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The CKAN Deployment.
    pub web: Observed,
    /// PostgreSQL.
    pub database: Observed,
    /// Solr.
    pub search: Observed,
    /// Redis.
    pub redis: Observed,
    /// The background worker Deployment.
    pub worker: Observed,
    /// The Job setting up the sysadmin account and its state; none before the database is
    /// initialised.
    pub sysadmin: Option<(String, JobState)>,
    /// What CKAN reported of itself and its components, once its pods are ready.
    pub ckan: Option<serving::CkanStatus>,
}

impl Placed for CatalogNode {
    fn requested_target(&self) -> Option<&str> {
        self.spec.placement.target.as_deref()
    }
    fn sites(&self) -> &[PlacedSite] {
        self.status.as_ref().map(|s| s.sites.as_slice()).unwrap_or_default()
    }
}

/// Reconciles one CatalogNode.
#[instrument(skip_all, fields(object = %node.name_any(), namespace = node.namespace()))]
pub async fn reconcile(node: Arc<CatalogNode>, ctx: Arc<Context>) -> Result<Action, Error> {
    let hub = Owner::of(node.as_ref())?;
    let client = &ctx.client;
    let api: Api<CatalogNode> = Api::namespaced(client.clone(), &hub.namespace);
    let targets = ctx.caches.cloud_targets().await?;
    // Data volumes and the Secrets that open them have no owner reference; under
    // `deletionPolicy: Delete` a finalizer removes them after the node is deleted (on a
    // remote cluster, with its namespace).
    let wants_cleanup = node.spec.deletion_policy == DeletionPolicy::Delete;
    if node.meta().deletion_timestamp.is_some() {
        if wants_cleanup && has_finalizer(node.as_ref()) {
            let removed = delete_data(client, &hub, &node.spec).await?;
            ctx.metrics.wrote("CatalogNode", removed.len());
            info!(?removed, "deleted data volumes and their Secrets (deletionPolicy Delete)");
        }
        let removal = if wants_cleanup { Removal::Everything } else { Removal::KeepData };
        return sites::finish_deletion(&ctx, &api, node.as_ref(), &targets, removal, &prunable(), &[FINALIZER]).await;
    }

    // Options of spec.config the operator owns, or that no ini can hold: nothing changes until
    // the spec is fixed, and the condition says which key.
    if let Err(err) = config::check(&node.spec.config) {
        let status = node.status.clone().unwrap_or_default();
        write_status(
            &ctx,
            &api,
            node.as_ref(),
            status,
            &conditions::not_rolled_out(Reason::InvalidSpec, &err.to_string()),
        )
        .await?;
        return Ok(Action::requeue(Duration::from_secs(300)));
    }

    let named = node.spec.placement.target.as_deref();
    let site = match sites::choose_target(named, &ctx.settings.default_target, &targets) {
        Ok(target) => sites::open(&ctx, node.as_ref(), target).await,
        // Without a named target, and no default one: the operator's own cluster.
        Err(_) if named.is_none() => sites::local(&ctx, node.as_ref()),
        Err((reason, message)) => {
            let status = node.status.clone().unwrap_or_default();
            write_status(&ctx, &api, node.as_ref(), status, &conditions::not_rolled_out(reason, &message)).await?;
            return Ok(Action::requeue(Duration::from_secs(300)));
        }
    };
    let rolled_out = match site {
        Ok(site) => roll_out(&ctx, &api, node.as_ref(), site, wants_cleanup).await,
        Err(err) => Err(err),
    };
    let previous = node.status.clone().unwrap_or_default();
    let (mut status, mut desired, site) = match rolled_out {
        Ok(outcome) => outcome,
        // What the spec or a Secret it names asks for cannot run: said in the status. The
        // controller does not watch those Secrets, so it looks again soon.
        Err(Error::InvalidSpec(message)) => {
            let refused = conditions::not_rolled_out(Reason::InvalidSpec, &message);
            write_status(&ctx, &api, node.as_ref(), previous, &refused).await?;
            return Ok(Action::requeue(Duration::from_secs(30)));
        }
        Err(err) => {
            let problem = sites::site_conditions(&err).ok_or(err)?;
            write_status(&ctx, &api, node.as_ref(), previous.clone(), &problem).await?;
            let backoff = sites::unreachable_backoff(&previous.common.conditions, k8s_openapi::jiff::Timestamp::now());
            return Ok(Action::requeue(backoff));
        }
    };
    // Changes of the owned workloads and Jobs wake the controller; the requeue is a safety net.
    let settled = desired.iter().all(|c| match c.type_ {
        ConditionType::Ready => c.status,
        ConditionType::Reconciling => !c.status,
        _ => true,
    });
    let recorded = std::mem::take(&mut status.sites);
    let (kept, moving) = sites::settle(&ctx, node.as_ref(), &targets, recorded, &site, settled, &prunable()).await?;
    status.sites = kept;
    sites::override_conditions(&mut desired, moving);
    write_status(&ctx, &api, node.as_ref(), status.clone(), &desired).await?;
    Ok(Action::requeue(sites::requeue_after(settled, status.sites.len() > 1)))
}

/// Rolls the node out on `site`: records the site, ensures the generated Secrets, plans
/// the upgrade, applies and prunes the children, and observes them; the new status, its
/// conditions, and the site.
async fn roll_out(
    ctx: &Context,
    api: &Api<CatalogNode>,
    node: &CatalogNode,
    site: Site,
    wants_cleanup: bool,
) -> Result<(CatalogNodeStatus, Vec<DesiredCondition>, Site), Error> {
    let kind = "CatalogNode";
    let spec = &node.spec;
    // The volume finalizer only ever concerns the local cluster: a remote namespace goes
    // with its volumes.
    let recorded = sites::record(api, node, &site, &[(FINALIZER, wants_cleanup && !site.remote)]).await?;
    let (client, owner) = (&site.client, &site.owner);
    let outcome = async {
        check_external_urls(client, owner, spec).await?;
        for secret in builders::generated_secrets(spec, owner) {
            if secrets::ensure(client, owner, &secret).await? {
                ctx.metrics.wrote(kind, 1);
            }
        }
        let previous = node.status.as_ref();
        let desired_release = Release::desired(spec);
        let serving = Release::recorded(previous.and_then(|s| s.versions.as_ref()));
        let jobs = observe_upgrade_jobs(client, owner, spec, &desired_release).await?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let backup_first = spec.backup.as_ref().is_some_and(|b| b.before_upgrade);
        let database_ready = observe_database(client, owner, spec).await?.rolled_out();
        let search_ready = observe_search(client, owner, spec).await?.rolled_out();
        // A restore is planned until it completed, on a node that has never served.
        let recorded_restore = previous.and_then(|s| s.restore.as_ref());
        let restoring = spec.restore.as_ref().filter(|_| {
            recorded_restore.is_none_or(|r| r.phase != RestorePhase::Completed)
                && (serving.is_none() || recorded_restore.is_some())
        });
        let report = match restoring {
            Some(restore) if jobs.restore == JobState::Succeeded => {
                restore_report(client, owner, restore::job_name(owner, restore)).await?
            }
            _ => None,
        };
        let restore = restoring.map(|r| upgrade::Restore {
            backup: &r.backup,
            recorded: recorded_restore,
            report: report.as_ref(),
        });
        let plan = upgrade::plan(&upgrade::Situation {
            serving: serving.as_ref(),
            desired: &desired_release,
            backup_first,
            jobs: &jobs,
            previous: previous.and_then(|s| s.upgrade.as_ref()),
            database_ready,
            search_ready,
            restore,
            now: &now,
        });

        // Backups record the release whose database they dump: the serving one.
        let dumped = plan.web.as_ref().or(serving.as_ref()).unwrap_or(&desired_release);
        let context = BackupContext { operator_image: &ctx.settings.operator_image, ckan_version: &dumped.version };
        let mut children = builders::children(spec, owner, plan.web.as_ref(), context)?;
        if let Some(kind) = plan.start {
            info!(job = ?kind, to = desired_release.version, "starting an upgrade step");
            let job = builders::upgrade_job(spec, owner, kind, &desired_release, serving.is_none(), context)?;
            children.push(Child::new(&job)?);
        }
        if let Some(value) = node.annotations().get(BACKUP_NOW_ANNOTATION)
            && let Some(job) = backups::now_job(spec, owner, context, value)?
        {
            children.push(Child::new(&job)?);
        }
        // The first install sets up the sysadmin account; one changed since is set up by a
        // Job of the release that serves, created once per account.
        let sysadmin = match &plan.web {
            Some(web) => {
                let job = builders::sysadmin_job(spec, owner, web);
                let state = observe_account(client, owner, spec, job.name_any()).await?;
                if state == JobState::Missing {
                    children.push(Child::new(&job)?);
                }
                Some((job.name_any(), state))
            }
            None => None,
        };
        let report = apply_and_prune(client, owner, &children, &prunable()).await?;
        ctx.metrics.wrote(kind, report.applied.len() + report.pruned.len());
        if report.wrote() {
            info!(target = site.target, applied = ?report.applied, pruned = ?report.pruned, "children updated");
        }

        let observation = Observation { sysadmin, ..observe(client, owner, spec, plan.web.as_ref()).await? };
        let mut status = status(spec, &observation, plan.web.as_ref(), previous);
        status.upgrade = plan.status.clone();
        if plan.restore.is_some() {
            status.restore = plan.restore.clone();
        }
        let backups = backup_jobs::observe(client, owner, previous.and_then(|p| p.last_backup.as_ref())).await?;
        status.last_backup = backups.last.clone();
        status.sites = recorded;
        let mut desired = conditions(&observation, &plan);
        if let Some(backup) = backup_jobs::condition(&backups) {
            let before = node.status.as_ref().map(|s| s.common.conditions.as_slice()).unwrap_or_default();
            backup_jobs::announce_failure(ctx, node, before, &backup).await;
            desired.push(backup);
        }
        Ok((status, desired))
    }
    .await
    .map_err(|err| site.classify(err))?;
    Ok((outcome.0, outcome.1, site))
}

/// Refuses, naming the Secret and key (never the value), a URL of an external service that
/// CKAN could not read (see [`config::check_url`]). A Secret not there yet is the pods' to
/// wait for.
async fn check_external_urls(client: &Client, owner: &Owner, spec: &CatalogNodeSpec) -> Result<(), Error> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &owner.namespace);
    for (field, source) in builders::external_urls(spec) {
        let (url, place) = match source {
            builders::UrlSource::Literal(url) => (Some(url.to_owned()), field.to_owned()),
            builders::UrlSource::Secret(key) => {
                let data = secrets.get_opt(&key.name).await?.and_then(|s| s.data).unwrap_or_default();
                let url = data.get(&key.key).map(|bytes| String::from_utf8_lossy(&bytes.0).into_owned());
                (url, format!("Secret {} key {}", key.name, key.key))
            }
        };
        if let Some(url) = url {
            config::check_url(field, place, &url).map_err(|err| Error::InvalidSpec(err.to_string()))?;
        }
    }
    Ok(())
}

/// The finalizer that deletes a node's data volumes under `deletionPolicy: Delete`.
pub const FINALIZER: &str = "mediana.dev/delete-volumes";

fn has_finalizer(node: &CatalogNode) -> bool {
    node.finalizers().iter().any(|f| f == FINALIZER)
}

/// Deletes every PersistentVolumeClaim of the node (uploads, backups, and the claims of the
/// PostgreSQL and Solr StatefulSets, which carry the node's labels) and its generated Secrets.
async fn delete_data(client: &Client, owner: &Owner, spec: &CatalogNodeSpec) -> Result<Vec<String>, Error> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &owner.namespace);
    let listed = claims.list_metadata(&ListParams::default().labels(&owner.children_selector())).await?.items;
    let mut removed = delete_each(&claims, listed.iter().map(ResourceExt::name_any)).await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &owner.namespace);
    removed.extend(delete_each(&secrets, builders::generated_secrets(spec, owner).into_iter().map(|s| s.name)).await?);
    Ok(removed)
}

/// Deletes the named objects; those already gone are not an error. Returns the deleted ones.
async fn delete_each<K>(api: &Api<K>, names: impl Iterator<Item = String>) -> Result<Vec<String>, Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut removed = Vec::new();
    for name in names {
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => removed.push(name),
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(removed)
}

/// What a restore Job that succeeded reported: the backup's name and location.
async fn restore_report(client: &Client, owner: &Owner, job: String) -> Result<Option<Report>, Error> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &owner.namespace);
    let of_job = ListParams::default().labels(&format!("{}={job}", workloads::JOB_NAME_LABEL));
    let listed = pods.list(&of_job).await?.items;
    Ok(listed.iter().filter_map(workloads::success_message).find_map(|m| Report::parse(&m)))
}

/// The state of the install and upgrade Jobs for `release` (all missing when no upgrade ran),
/// and of the restore Job of `spec.restore`.
async fn observe_upgrade_jobs(
    client: &Client,
    owner: &Owner,
    spec: &CatalogNodeSpec,
    release: &Release,
) -> Result<JobStates, Error> {
    let state = |kind| observe_job(client, &owner.namespace, builders::upgrade_job_name(owner, kind, release));
    let restore = match &spec.restore {
        Some(restore) => observe_job(client, &owner.namespace, restore::job_name(owner, restore)).await?,
        None => JobState::Missing,
    };
    Ok(JobStates {
        restore,
        backup: state(UpgradeJob::Backup).await?,
        migrate: state(UpgradeJob::Migrate).await?,
        reindex: state(UpgradeJob::Reindex).await?,
    })
}

/// A Job's state; a failed one with what its pod said last (the error a person needs, where
/// the Job itself only says that it reached its backoff limit).
async fn observe_job(client: &Client, namespace: &str, name: String) -> Result<JobState, Error> {
    let job = Api::<Job>::namespaced(client.clone(), namespace).get_opt(&name).await?;
    Ok(match job_state(job.as_ref()) {
        JobState::Failed(why) => {
            let pods = Api::<Pod>::namespaced(client.clone(), namespace);
            let of_job = ListParams::default().labels(&format!("{}={name}", workloads::JOB_NAME_LABEL));
            let pods = pods.list(&of_job).await?.items;
            JobState::Failed(pods.iter().find_map(workloads::termination_summary).unwrap_or(why))
        }
        state => state,
    })
}

/// The state of the sysadmin account the spec names: set up when a Job labelled with it (the
/// first install's migration or a sysadmin Job) succeeded, else that of the sysadmin Job.
async fn observe_account(
    client: &Client,
    owner: &Owner,
    spec: &CatalogNodeSpec,
    job: String,
) -> Result<JobState, Error> {
    let jobs = Api::<Job>::namespaced(client.clone(), &owner.namespace);
    let labelled = jobs.list(&ListParams::default().labels(&builders::account_selector(spec, owner))).await?.items;
    if labelled.iter().any(|j| job_state(Some(j)) == JobState::Succeeded) {
        return Ok(JobState::Succeeded);
    }
    observe_job(client, &owner.namespace, job).await
}

/// A Job's state from its conditions.
pub fn job_state(job: Option<&Job>) -> JobState {
    let Some(job) = job else { return JobState::Missing };
    let conditions = job.status.as_ref().and_then(|s| s.conditions.as_ref()).cloned().unwrap_or_default();
    let holds = |type_: &str| conditions.iter().find(|c| c.type_ == type_ && c.status == "True");
    if holds("Complete").is_some() {
        JobState::Succeeded
    } else if let Some(failed) = holds("Failed") {
        let why = failed.message.clone().or(failed.reason.clone()).unwrap_or_else(|| "the Job failed".into());
        JobState::Failed(why)
    } else {
        JobState::Running
    }
}

/// Why the web waits, when it is for its uploads claim: several replicas share it, which needs a
/// ReadWriteMany volume that the claim's StorageClass (that of kind and of most clusters
/// included) may not provide, so it stays Pending and no pod starts.
pub fn unbound_shared_claim(claim: Option<&PersistentVolumeClaim>) -> Option<String> {
    let claim = claim?;
    let spec = claim.spec.as_ref()?;
    let shared = spec.access_modes.iter().flatten().any(|mode| mode == "ReadWriteMany");
    let pending = claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
    (shared && pending).then(|| {
        let class = spec.storage_class_name.as_deref().unwrap_or("the default StorageClass");
        format!(
            "the uploads claim {} is Pending: the web replicas share it, which needs a ReadWriteMany volume that {class} \
             does not provide yet; set spec.storage.storageClassName to a class that does, or replicas: 1",
            claim.name_any()
        )
    })
}

/// Whether the node's PostgreSQL is ready (an external one is taken to be).
async fn observe_database(client: &Client, owner: &Owner, spec: &CatalogNodeSpec) -> Result<Observed, Error> {
    observe_statefulset(client, owner, managed_database(spec).is_some(), Names::new(owner).postgres()).await
}

/// The managed Solr's rollout, or `External`.
async fn observe_search(client: &Client, owner: &Owner, spec: &CatalogNodeSpec) -> Result<Observed, Error> {
    observe_statefulset(client, owner, managed_search(spec).is_some(), Names::new(owner).solr()).await
}

/// The rollout of the managed StatefulSet `name`, or `External` when the spec names an
/// external service instead.
async fn observe_statefulset(client: &Client, owner: &Owner, managed: bool, name: String) -> Result<Observed, Error> {
    if !managed {
        return Ok(Observed::External);
    }
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &owner.namespace);
    Ok(statefulset_readiness(statefulsets.get_opt(&name).await?.as_ref()))
}

/// What runs: each workload's rollout, then CKAN asked how it and its components are.
async fn observe(
    client: &Client,
    owner: &Owner,
    spec: &CatalogNodeSpec,
    web: Option<&Release>,
) -> Result<Observation, Error> {
    let names = Names::new(owner);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &owner.namespace);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &owner.namespace);
    let rollout = match deployment_readiness(deployments.get_opt(&names.web()).await?.as_ref()) {
        Observed::Pending(detail) => {
            let uploads = claims.get_opt(&names.uploads()).await?;
            Observed::Pending(unbound_shared_claim(uploads.as_ref()).unwrap_or(detail))
        }
        observed => observed,
    };
    let database = observe_database(client, owner, spec).await?;
    let search = observe_search(client, owner, spec).await?;
    let redis = if managed_redis(spec).is_none() {
        Observed::External
    } else {
        deployment_readiness(deployments.get_opt(&names.redis()).await?.as_ref())
    };
    let worker = deployment_readiness(deployments.get_opt(&names.worker()).await?.as_ref());
    let waiting = [&rollout, &database, &search, &redis, &worker].iter().any(|o| !o.rolled_out());
    let pods = workloads::pods_while_waiting(client, owner, waiting).await?;
    let rollout = rollout.explained(component::WEB, &pods);
    let (database, search) =
        (database.explained(component::DATABASE, &pods), search.explained(component::SEARCH, &pods));
    let (redis, worker) = (redis.explained(component::REDIS, &pods), worker.explained(component::WORKER, &pods));
    let (web, answer) = match web {
        Some(release) if rollout == Observed::Ready => {
            let answer = serving::ask(client, owner).await;
            (serving::web(rollout, &answer, release, &config::plugins(spec)), answer)
        }
        _ => (rollout, Err("not asked".to_owned())),
    };
    Ok(Observation {
        web,
        database: serving::database(database, &answer),
        search: serving::search(search, &answer),
        redis,
        worker,
        sysadmin: None,
        ckan: answer.ok(),
    })
}

fn component_condition(type_: ConditionType, what: &str, observed: &Observed) -> DesiredCondition {
    match observed {
        Observed::External => DesiredCondition::true_(type_, Reason::External, format!("{what} is external")),
        Observed::Ready => DesiredCondition::true_(type_, Reason::Available, format!("{what} is ready")),
        Observed::Pending(detail) => DesiredCondition::false_(type_, Reason::Progressing, format!("{what}: {detail}")),
        Observed::NotServing(why) => DesiredCondition::false_(type_, Reason::NotServing, format!("{what}: {why}")),
    }
}

/// The conditions for an observation and an upgrade plan: one per component, and
/// Ready/Reconciling/Stalled. A failed upgrade step stalls the node while the old release
/// keeps it Ready.
pub fn conditions(observation: &Observation, plan: &Plan) -> Vec<DesiredCondition> {
    let database = component_condition(ConditionType::DatabaseReady, "PostgreSQL", &observation.database);
    let search = component_condition(ConditionType::SearchReady, "Solr", &observation.search);
    let redis = component_condition(ConditionType::WebReady, "Redis", &observation.redis);
    let web = if redis.status { component_condition(ConditionType::WebReady, "CKAN", &observation.web) } else { redis };
    let sysadmin = match &observation.sysadmin {
        None => Some("the database initialisation".to_owned()),
        Some((_, JobState::Succeeded)) => None,
        Some((job, JobState::Failed(message))) => {
            Some(format!("the sysadmin account (Job {job} failed: {message}; delete the Job to run it again)"))
        }
        Some((job, _)) => Some(format!("the sysadmin account (Job {job})")),
    };
    let worker = observation.worker.waiting_for().map(|detail| format!("the background worker: {detail}"));
    let upgrading = plan
        .status
        .as_ref()
        .filter(|u| plan.failure.is_none() && !matches!(u.phase, UpgradePhase::Completed | UpgradePhase::Failed))
        .map(|u| (Reason::Upgrading, format!("upgrading CKAN {} to {}: {:?}", u.from_version, u.to_version, u.phase)));
    // A restored node is not ready before its search index finds the restored datasets.
    let restoring = plan
        .restore
        .as_ref()
        .filter(|r| plan.failure.is_none() && !matches!(r.phase, RestorePhase::Completed | RestorePhase::Failed))
        .map(|r| (Reason::Restoring, format!("the restore of backup {}: {:?}", r.backup, r.phase)));
    let waiting: Vec<&str> = [&database, &search, &web]
        .iter()
        .filter(|c| !c.status)
        .map(|c| c.message.as_str())
        .chain(sysadmin.as_deref())
        .chain(worker.as_deref())
        .chain(restoring.as_ref().map(|(_, m)| m.as_str()))
        .collect();
    // Rolled out but not answering as it should is worth its own reason: waiting may not help.
    let not_serving = [&database, &search, &web].iter().any(|c| c.reason == Reason::NotServing);
    let ready = if waiting.is_empty() {
        DesiredCondition::true_(ConditionType::Ready, Reason::Available, "the catalogue node is serving")
    } else {
        DesiredCondition::false_(
            ConditionType::Ready,
            if not_serving { Reason::NotServing } else { Reason::Progressing },
            format!("waiting for {}", waiting.join("; ")),
        )
    };
    let progress = match (&plan.failure, upgrading.or(restoring)) {
        (Some((reason, message)), _) => Progress::Stalled(*reason, message.clone()),
        (None, Some((reason, message))) => Progress::Working(reason, message),
        (None, None) => Progress::Settled,
    };
    let [ready, reconciling, stalled] = conditions::kstatus(ready, progress);
    vec![ready, reconciling, stalled, database, search, web]
}

/// The status fields other than conditions, from the spec and what was observed.
pub fn status(
    spec: &CatalogNodeSpec,
    observation: &Observation,
    web: Option<&Release>,
    previous: Option<&CatalogNodeStatus>,
) -> CatalogNodeStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.url = Some(builders::site_url(spec));
    status.endpoints = Some(builders::endpoints(spec));
    // The release serving traffic: the new one only once the web rollout is complete (whether
    // CKAN answers as that release should is WebReady's concern).
    let previous_versions = previous.and_then(|p| p.versions.clone()).unwrap_or_default();
    let (ckan, ckan_image) = match web {
        Some(web) if observation.web.rolled_out() => (Some(web.version.clone()), Some(web.image.clone())),
        _ => (previous_versions.ckan, previous_versions.ckan_image),
    };
    // The other components' versions as CKAN last found them; kept while CKAN does not answer.
    let components = observation.ckan.as_ref().map(|ckan| &ckan.components);
    let reported = |component: fn(&serving::Components) -> &serving::Component, before: Option<String>| {
        components.and_then(|c| component(c).version.clone()).or(before)
    };
    status.versions = Some(ComponentVersions {
        ckan,
        ckan_image,
        postgres: reported(|c| &c.database, previous_versions.postgres),
        solr: reported(|c| &c.search, previous_versions.solr),
        redis: reported(|c| &c.redis, previous_versions.redis),
    });
    status
}

#[cfg(test)]
mod tests;
