//! Controllers, one module per kind, and the layer they share: the context, the error
//! type and its policy, status writes by server-side apply, and Events.

pub mod backup_jobs;
pub mod catalog_node;
pub mod children;
mod cloud_target;
pub mod conditions;
pub mod harvest_job;
pub mod rbac;
pub mod reusable_solution;
pub mod secrets;
pub mod sites;
pub mod targets;
#[cfg(test)]
pub mod testing;
pub mod workloads;

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{DynamicObject, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::api::cloud_target::LOCAL_TARGET;
use crate::api::shared::CommonStatus;
use crate::api::{CatalogNode, CloudTarget, HarvestJob, ReusableSolution};
use crate::placement::PlacementPolicy;
use crate::telemetry::metrics::Metrics;
use conditions::{ConditionType, DesiredCondition};

/// The field manager of every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "mediana";

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the Kubernetes API failed.
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[from] kube::Error),
    /// The object lacks a field the API server always sets.
    #[error("object has no {0}")]
    MissingObjectKey(&'static str),
    /// A desired object could not be serialized.
    #[error("cannot serialize a desired object: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The spec asks for something the operator cannot build; the message names the field.
    #[error("{0}")]
    InvalidSpec(String),
    /// The operating system's random number generator failed.
    #[error("no randomness for a generated secret: {0}")]
    Random(String),
    /// The client of a remote CloudTarget could not be built from its kubeconfig Secret.
    #[error("CloudTarget {target}: {source}")]
    Target {
        /// The CloudTarget.
        target: String,
        /// What is wrong with its kubeconfig Secret.
        #[source]
        source: Box<targets::TargetError>,
    },
    /// The cluster of a remote CloudTarget could not be reached.
    #[error("CloudTarget {target} cannot be reached: {source}")]
    TargetUnreachable {
        /// The CloudTarget.
        target: String,
        /// The failed request.
        #[source]
        source: Box<kube::Error>,
    },
    /// The namespace for an object's workloads on a remote cluster belongs to another object.
    #[error("namespace {namespace} on CloudTarget {target} belongs to {holder}")]
    NamespaceTaken {
        /// The CloudTarget.
        target: String,
        /// The namespace.
        namespace: String,
        /// The object it belongs to, from its labels.
        holder: String,
    },
}

impl Error {
    /// A stable category for metrics labels and Event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Kube(_) => "KubeApiError",
            Self::MissingObjectKey(_) => "InvalidObject",
            Self::Serialize(_) => "SerializationFailed",
            Self::InvalidSpec(_) => "InvalidSpec",
            Self::Random(_) => "RandomnessUnavailable",
            Self::Target { .. } => "KubeconfigInvalid",
            Self::TargetUnreachable { .. } => "TargetUnreachable",
            Self::NamespaceTaken { .. } => "NamespaceConflict",
        }
    }

    /// The API server's message when it refused a child as invalid (422): what a retry
    /// cannot fix until the spec it was built from changes.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            Self::Kube(kube::Error::Api(status)) if status.is_invalid() => Some(&status.message),
            _ => None,
        }
    }
}

/// What every reconcile needs.
pub struct Context {
    /// Client of the cluster the operator runs in.
    pub client: Client,
    /// Publishes Events about reconciled objects.
    pub recorder: Recorder,
    /// Counts reconciles, failures and their durations.
    pub metrics: Arc<Metrics>,
    /// The operator's settings.
    pub settings: Settings,
    /// Clients of the remote CloudTargets' clusters.
    pub targets: targets::TargetClients,
}

/// What the operator's settings (command line, environment) decide for every controller.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Which ACN qualification each data classification needs.
    pub placement: PlacementPolicy,
    /// The CloudTarget of a ReusableSolution that names none; when it does not exist, the
    /// only CloudTarget without a kubeconfig (the local cluster), if there is exactly one.
    pub default_target: String,
    /// SPDX licence identifiers a reused solution's licence must satisfy on every target,
    /// besides each target's own `allowedLicenses`; no operator-wide list when empty.
    pub allowed_licenses: Vec<String>,
    /// The operator's own image: harvester pods run it (`mediana harvest-job`), and backup
    /// and restore pods copy the `mediana` command from it (`mediana copy-to`).
    pub operator_image: String,
    /// How often a reachable CloudTarget is probed (an unreachable one is retried sooner,
    /// with backoff).
    pub probe_interval: Duration,
}

/// Registry path of the operator's image (built by images/mediana/recipe.sh).
pub const OPERATOR_IMAGE: &str = "ghcr.io/mediana-dev/mediana";

impl Default for Settings {
    fn default() -> Self {
        Self {
            placement: PlacementPolicy::default(),
            default_target: LOCAL_TARGET.to_owned(),
            allowed_licenses: Vec::new(),
            operator_image: format!("{OPERATOR_IMAGE}:{}", env!("CARGO_PKG_VERSION")),
            probe_interval: Duration::from_secs(60),
        }
    }
}

/// A mediana kind whose status carries [`CommonStatus`].
pub trait Reconciled:
    Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize + Send + Sync + 'static
{
    /// The kind's status type.
    type Status: Serialize + PartialEq + Default + Clone;
    /// The current status, if any.
    fn status(&self) -> Option<&Self::Status>;
    /// The shared part of a status.
    fn common(status: &mut Self::Status) -> &mut CommonStatus;
    /// The status without the fields another field manager writes (the harvester's run
    /// reports): the controller's apply must not claim them, or a stale copy it read would
    /// overwrite a newer report.
    fn controller_fields(status: Self::Status) -> Self::Status;
}

macro_rules! reconciled {
    ($kind:ty, $status:ty) => {
        reconciled!($kind, $status, |status| status);
    };
    ($kind:ty, $status:ty, $controller_fields:expr) => {
        impl Reconciled for $kind {
            type Status = $status;
            fn status(&self) -> Option<&$status> {
                self.status.as_ref()
            }
            fn common(status: &mut $status) -> &mut CommonStatus {
                &mut status.common
            }
            fn controller_fields(status: $status) -> $status {
                let strip: fn($status) -> $status = $controller_fields;
                strip(status)
            }
        }
    };
}
// `status.sites` has its own field manager (sites::write_sites).
reconciled!(CatalogNode, crate::api::CatalogNodeStatus, |status| crate::api::CatalogNodeStatus {
    sites: Vec::new(),
    ..status
});
reconciled!(HarvestJob, crate::api::HarvestJobStatus, |status| crate::api::HarvestJobStatus {
    last_run: None,
    history: Vec::new(),
    ..status
});
reconciled!(ReusableSolution, crate::api::ReusableSolutionStatus, |status| crate::api::ReusableSolutionStatus {
    sites: Vec::new(),
    ..status
});
reconciled!(CloudTarget, crate::api::CloudTargetStatus);

/// Sets conditions and `observedGeneration` on a copy of the object's status, announces a
/// flip of `Ready` with an Event, and writes the status only when it changed, by
/// server-side apply on `/status` with the fields this controller owns.
pub async fn write_status<K: Reconciled>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    mut status: K::Status,
    desired: &[DesiredCondition],
) -> Result<(), Error> {
    let generation = obj.meta().generation;
    let previous = obj.status().cloned().unwrap_or_default();
    let mut previous_for_merge = previous.clone();
    let existing = std::mem::take(&mut K::common(&mut previous_for_merge).conditions);
    let common = K::common(&mut status);
    common.observed_generation = generation;
    common.conditions = conditions::merge(&existing, desired, generation, k8s_openapi::jiff::Timestamp::now());
    if obj.status() == Some(&status) {
        return Ok(());
    }
    let ready_before = conditions::find(&existing, ConditionType::Ready).map(|c| c.status.clone());
    if let Some(ready) = desired.iter().find(|d| d.type_ == ConditionType::Ready) {
        let now = if ready.status { "True" } else { "False" };
        if ready_before.as_deref() != Some(now) {
            let type_ = if ready.status { EventType::Normal } else { EventType::Warning };
            publish(ctx, obj, type_, ready.reason.as_str(), &ready.message).await;
        }
    }
    let name = obj.meta().name.as_deref().ok_or(Error::MissingObjectKey(".metadata.name"))?;
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": K::controller_fields(status),
    });
    api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch)).await?;
    ctx.metrics.wrote(&K::kind(&()), 1);
    Ok(())
}

/// Publishes an Event about `obj`. A failure to publish is logged, never fatal: Events are
/// for people, and the status already carries the truth.
pub async fn publish<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    type_: EventType,
    reason: &str,
    note: &str,
) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(truncate(note, 1000)),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    ctx.metrics.wrote(&K::kind(&()), 1);
    if let Err(err) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        warn!(error = %err, reason, "could not publish event");
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Requeue policy for failed reconciles: API errors are transient and retried with a
/// jittered backoff; each failure is also a Warning Event with the error chain.
fn error_policy<K: Reconciled>(obj: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    warn!(object = %obj.name_any(), category = error.category(), error = %error, "reconcile failed");
    ctx.metrics.failed(&K::kind(&()), error.category());
    let message = error_chain(error);
    let category = error.category();
    tokio::spawn(async move {
        publish(&ctx, obj.as_ref(), EventType::Warning, category, &message).await;
    });
    Action::requeue(jittered(Duration::from_secs(15)))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `base` plus up to 50% random jitter, so that many failing objects do not retry in step.
fn jittered(base: Duration) -> Duration {
    base.mul_f64(rand::random_range(1.0..=1.5))
}

/// Checks that every mediana CRD is served, so that a missing install fails at start-up
/// with a hint instead of as an endless stream of watch errors. Asks discovery rather than
/// listing, so a missing permission is reported by the watch that needs it, not as a
/// missing CRD.
pub async fn check_crds_served(client: &Client) -> Result<(), CrdsMissing> {
    let group_version = CatalogNode::api_version(&());
    let served: Vec<String> = match client.list_api_group_resources(&group_version).await {
        Ok(list) => list.resources.into_iter().map(|r| r.name).collect(),
        Err(kube::Error::Api(status)) if status.is_not_found() => Vec::new(),
        Err(other) => return Err(CrdsMissing::Unreachable(other)),
    };
    let missing: Vec<String> = [
        (CatalogNode::plural(&()), CatalogNode::crd_name()),
        (HarvestJob::plural(&()), HarvestJob::crd_name()),
        (ReusableSolution::plural(&()), ReusableSolution::crd_name()),
        (CloudTarget::plural(&()), CloudTarget::crd_name()),
    ]
    .into_iter()
    .filter(|(plural, _)| !served.iter().any(|s| s == plural))
    .map(|(_, crd)| crd)
    .collect();
    if missing.is_empty() { Ok(()) } else { Err(CrdsMissing::NotServed(missing.join(", "))) }
}

/// The CRDs cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CrdsMissing {
    /// Some CRDs are not installed.
    #[error(
        "the API server does not serve {0}: install the CRDs with `mediana crds | kubectl apply --server-side -f -` or the Helm chart"
    )]
    NotServed(String),
    /// The API server could not be asked.
    #[error("could not check the mediana CRDs: {0}")]
    Unreachable(#[source] kube::Error),
}

trait CrdName {
    fn crd_name() -> String;
}
impl<K: Resource<DynamicType = ()>> CrdName for K {
    fn crd_name() -> String {
        format!("{}.{}", K::plural(&()), K::group(&()))
    }
}

/// Runs every controller until `shutdown` turns true (SIGTERM or Ctrl-C in the binary);
/// reconciles in progress finish first.
pub async fn run(client: Client, shutdown: watch::Receiver<bool>, metrics: Arc<Metrics>, settings: Settings) {
    let reporter = Reporter { controller: "mediana".into(), instance: std::env::var("POD_NAME").ok() };
    // Workloads on remote clusters wake their hub objects through these channels.
    let (wake_nodes, remote_nodes) = futures::channel::mpsc::unbounded();
    let (wake_solutions, remote_solutions) = futures::channel::mpsc::unbounded();
    let ctx = Arc::new(Context {
        client: client.clone(),
        recorder: Recorder::new(client.clone(), reporter),
        metrics,
        settings,
        targets: targets::TargetClients::new(
            targets::Wakers::from([
                (CatalogNode::kind(&()).to_lowercase(), wake_nodes),
                (ReusableSolution::kind(&()).to_lowercase(), wake_solutions),
            ]),
            sites::remote_watched(),
        ),
    });
    let all = || watcher::Config::default().any_semantic();
    let catalog_nodes = placed(&client, catalog_node::watched(), remote_nodes);
    let solutions = placed(&client, reusable_solution::watched(), remote_solutions);
    // Harvester Jobs wake their HarvestJob by label: the scheduled ones belong to the CronJob.
    // A CatalogNode created after its HarvestJobs (GitOps applies in any order) wakes them.
    let harvest_controller = Controller::new(Api::<HarvestJob>::all(client.clone()), all());
    let harvest_store = harvest_controller.store();
    let harvest_jobs = owning(&client, harvest_controller, harvest_job::owned())
        .watches(Api::<Job>::all(client.clone()), all().labels(harvest_job::builders::HARVEST_JOB_LABEL), |job| {
            let name = job.labels().get(harvest_job::builders::HARVEST_JOB_LABEL)?.clone();
            Some(ObjectRef::new(&name).within(&job.namespace()?))
        })
        .watches(Api::<CatalogNode>::all(client.clone()), all(), move |node| {
            harvest_job::targeting(&harvest_store, &node)
        });
    futures::join!(
        drive(catalog_nodes, catalog_node::reconcile, &ctx, &shutdown),
        drive(harvest_jobs, harvest_job::reconcile, &ctx, &shutdown),
        drive(solutions, reusable_solution::reconcile, &ctx, &shutdown),
        drive(
            Controller::new(Api::<CloudTarget>::all(client.clone()), all()),
            cloud_target::reconcile,
            &ctx,
            &shutdown
        ),
    );
    info!("all controllers stopped");
}

/// The controller of a kind placed on CloudTargets: woken by its local children of `kinds`,
/// by its workloads on remote clusters (`remote`: hub namespace and name), and by the
/// changes of a CloudTarget (created, reachable again, qualification lowered) that matter to
/// the objects that are, or may be, on it; a probe that changed nothing that matters wakes
/// none.
fn placed<K: sites::Placed>(
    client: &Client,
    kinds: Vec<kube::core::ApiResource>,
    remote: futures::channel::mpsc::UnboundedReceiver<(String, String)>,
) -> Controller<K> {
    let all = || watcher::Config::default().any_semantic();
    let controller = Controller::new(Api::<K>::all(client.clone()), all());
    let store = controller.store();
    let changes = sites::TargetChanges::default();
    owning(client, controller, kinds)
        .watches(Api::<CloudTarget>::all(client.clone()), all(), move |target| {
            if changes.changed(&target) { sites::placed_on(&store, &target) } else { Vec::new() }
        })
        .reconcile_on(remote.map(|(namespace, name)| ObjectRef::new(&name).within(&namespace)))
}

/// `controller` woken by changes of its own children of `kinds` (a pod became ready, an
/// upgrade step finished, someone edited a child); only mediana's children are watched.
fn owning<K: Reconciled>(
    client: &Client,
    controller: Controller<K>,
    kinds: Vec<kube::core::ApiResource>,
) -> Controller<K> {
    let app = K::kind(&()).to_lowercase();
    let children = watcher::Config::default().any_semantic().labels(&format!(
        "{}=mediana,{}={app}",
        children::MANAGED_BY_LABEL,
        children::NAME_LABEL
    ));
    kinds.into_iter().fold(controller, |controller, kind| {
        controller.owns_with(Api::<DynamicObject>::all_with(client.clone(), &kind), kind, children.clone())
    })
}

/// Runs one kind's controller until shutdown.
async fn drive<K, F, Fut>(
    controller: Controller<K>,
    mut reconcile: F,
    ctx: &Arc<Context>,
    shutdown: &watch::Receiver<bool>,
) where
    K: Reconciled,
    F: FnMut(Arc<K>, Arc<Context>) -> Fut,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
{
    let kind = K::kind(&()).into_owned();
    // The resourceVersion each object had when its last reconcile started: an object whose
    // version differs waits in the queue (the queue itself is private to kube-runtime).
    let handled: Arc<std::sync::Mutex<HashMap<ObjectRef<K>, String>>> = Arc::default();
    let started_versions = handled.clone();
    let measured = move |obj: Arc<K>, ctx: Arc<Context>| {
        let metrics = ctx.metrics.clone();
        let kind = K::kind(&()).into_owned();
        if let Ok(mut handled) = started_versions.lock() {
            handled.insert(ObjectRef::from_obj(obj.as_ref()), obj.resource_version().unwrap_or_default());
        }
        metrics.started(&kind);
        let started = std::time::Instant::now();
        let reconciled = reconcile(obj, ctx);
        async move {
            let result = reconciled.await;
            metrics.finished(&kind, started.elapsed());
            result
        }
    };
    let cache = controller.store();
    let sampled = cache.clone();
    let mut graceful = shutdown.clone();
    let running = controller
        .with_config(controller_config())
        .graceful_shutdown_on(async move {
            let _ = graceful.wait_for(|stop| *stop).await;
        })
        .run(measured, error_policy::<K>, ctx.clone())
        .for_each(|result| async move {
            match result {
                // A watch that fails (RBAC, API server down) leaves the controller blind:
                // say so where operators look.
                Err(err @ kube::runtime::controller::Error::QueueError(_)) => warn!(error = %err, "watch failed"),
                Err(err) => debug!(error = %err, "controller event"),
                Ok(_) => {}
            }
        });
    // kube-runtime holds reconciles until the controller's cache has its first full list, and
    // that list is fed by the very watch a graceful shutdown cuts: a shutdown that arrives
    // before the cache is ready (start-up, or a watch failing on RBAC) would wait forever.
    // Nothing can be reconciling then, so such a controller stops at once.
    let mut stopping = shutdown.clone();
    let cache_never_filled = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
        if cache.wait_until_ready().now_or_never().is_none() {
            return;
        }
        std::future::pending::<()>().await
    };
    let metrics = ctx.metrics.clone();
    let sample_kind = kind.clone();
    let queue_depth = async move {
        loop {
            tokio::time::sleep(QUEUE_SAMPLE_INTERVAL).await;
            let objects = sampled.state();
            let depth = match handled.lock() {
                Ok(mut handled) => {
                    let current: HashMap<ObjectRef<K>, String> = objects
                        .iter()
                        .map(|o| (ObjectRef::from_obj(o.as_ref()), o.resource_version().unwrap_or_default()))
                        .collect();
                    handled.retain(|key, _| current.contains_key(key));
                    current.iter().filter(|(key, version)| handled.get(*key) != Some(*version)).count()
                }
                Err(_) => continue,
            };
            metrics.set_queue_depth(&sample_kind, depth);
        }
    };
    info!(kind, "controller started");
    tokio::select! {
        () = queue_depth => {}
        () = running => info!(kind, "controller stopped"),
        () = cache_never_filled => info!(kind, "controller stopped before its cache was filled"),
    }
}

/// How often the queue depth gauge is computed.
const QUEUE_SAMPLE_INTERVAL: Duration = Duration::from_secs(2);

/// Most reconciles one controller runs at once. Unbounded, hundreds of new objects would send
/// the API server more requests than it serves at once (504s at 500 CatalogNodes).
const MAX_CONCURRENT_RECONCILES: u16 = 16;

/// Changes of one object within this window wake one reconcile, not one each: a rollout
/// updates a workload's status several times a second.
const RECONCILE_DEBOUNCE: Duration = Duration::from_millis(500);

fn controller_config() -> kube::runtime::controller::Config {
    kube::runtime::controller::Config::default().concurrency(MAX_CONCURRENT_RECONCILES).debounce(RECONCILE_DEBOUNCE)
}
