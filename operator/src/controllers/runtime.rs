//! The wiring: each kind's controller, what wakes it, and how it is driven until shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::batch::v1::Job;
use kube::api::DynamicObject;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::context::{Caches, Context, Settings};
use super::error::{Error, LONGEST_RETRY};
use super::status::{Reconciled, publish};
use super::{catalog_node, children, cloud_target, harvest_job, kinds, reusable_solution, sites, targets};
use crate::api::{CatalogNode, CloudTarget, HarvestJob, ReusableSolution};
use crate::telemetry::metrics::Metrics;

/// Runs every controller until `shutdown` turns true (SIGTERM or Ctrl-C in the binary);
/// reconciles in progress finish first.
pub async fn run(client: Client, shutdown: watch::Receiver<bool>, metrics: Arc<Metrics>, settings: Settings) {
    let reporter = Reporter { controller: "mediana".into(), instance: std::env::var("POD_NAME").ok() };
    // Workloads on remote clusters wake their hub objects through these channels.
    let (wake_nodes, remote_nodes) = futures::channel::mpsc::unbounded();
    let (wake_solutions, remote_solutions) = futures::channel::mpsc::unbounded();
    let all = || watcher::Config::default().any_semantic();
    let catalog_nodes = placed(&client, catalog_node::watched(), remote_nodes);
    let solutions = placed(&client, reusable_solution::watched(), remote_solutions);
    // Harvester Jobs wake their HarvestJob by label: the scheduled ones belong to the CronJob.
    // A CatalogNode created after its HarvestJobs (GitOps applies in any order) wakes them.
    let harvest_controller = Controller::new(Api::<HarvestJob>::all(client.clone()), all());
    let harvest_store = harvest_controller.store();
    let cloud_targets = Controller::new(Api::<CloudTarget>::all(client.clone()), all());
    let caches = Caches {
        catalog_nodes: catalog_nodes.store(),
        harvest_jobs: harvest_store.clone(),
        cloud_targets: cloud_targets.store(),
    };
    let harvest_jobs = owning(&client, harvest_controller, harvest_job::owned())
        .watches(Api::<Job>::all(client.clone()), all().labels(harvest_job::builders::HARVEST_JOB_LABEL), |job| {
            let name = job.labels().get(harvest_job::builders::HARVEST_JOB_LABEL)?.clone();
            Some(ObjectRef::new(&name).within(&job.namespace()?))
        })
        .watches(Api::<CatalogNode>::all(client.clone()), all(), move |node| {
            harvest_job::targeting(&harvest_store, &node)
        });
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
            kinds::remote_watched(),
        ),
        caches,
        failures: Default::default(),
    });
    futures::join!(
        drive(catalog_nodes, catalog_node::reconcile, &ctx, &shutdown),
        drive(harvest_jobs, harvest_job::reconcile, &ctx, &shutdown),
        drive(solutions, reusable_solution::reconcile, &ctx, &shutdown),
        drive(cloud_targets, cloud_target::reconcile, &ctx, &shutdown),
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
        let key = failure_key(obj.as_ref());
        let reconciled = reconcile(obj, ctx.clone());
        async move {
            let result = reconciled.await;
            metrics.finished(&kind, started.elapsed());
            if result.is_ok() {
                ctx.failures.succeeded(&key);
            }
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

/// The key of an object in [`super::error::Failures`].
fn failure_key<K: Reconciled>(obj: &K) -> String {
    ObjectRef::from_obj(obj).to_string()
}

/// Requeue policy for failed reconciles: a transient failure (the API, the network) is
/// retried after a jittered backoff that grows with the object's consecutive failures; a
/// permanent one waits for a change, or at most [`LONGEST_RETRY`]. Each failure is also a
/// Warning Event with the error and its causes.
fn error_policy<K: Reconciled>(obj: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    let category = error.category();
    warn!(object = %kube::ResourceExt::name_any(obj.as_ref()), category, error = %error, "reconcile failed");
    ctx.metrics.failed(&K::kind(&()), category);
    let wait = if error.is_permanent() { LONGEST_RETRY } else { ctx.failures.next_retry(failure_key(obj.as_ref())) };
    let message = crate::with_causes(error);
    tokio::spawn(async move {
        publish(&ctx, obj.as_ref(), EventType::Warning, category, &message).await;
    });
    Action::requeue(jittered(wait))
}

/// `base` plus up to 50% random jitter, so that many failing objects do not retry in step.
fn jittered(base: Duration) -> Duration {
    base.mul_f64(rand::random_range(1.0..=1.5))
}
