//! What every reconcile is given: the clients, the operator's settings, and the watch
//! caches the controllers read instead of listing the cluster.

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::runtime::events::Recorder;
use kube::runtime::reflector::Store;

use super::error::{Error, Failures};
use super::targets;
use crate::api::cloud_target::LOCAL_TARGET;
use crate::api::{CatalogNode, CloudTarget, HarvestJob};
use crate::placement::PlacementPolicy;
use crate::telemetry::metrics::Metrics;

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
    /// The caches of the operator's watches.
    pub caches: Caches,
    /// Consecutive failures per object, for the error policy's backoff.
    pub failures: Failures,
}

/// The objects of the kinds other controllers read, from the watches the controllers keep
/// anyway: a reconcile reads memory, not a LIST of the cluster, so its cost does not grow
/// with the number of objects (16,547 HarvestJobs would read 273 million objects per resync).
/// Each read waits for the first full list, so no reconcile sees a cache still filling.
#[derive(Clone)]
pub struct Caches {
    /// Every CatalogNode.
    pub catalog_nodes: Store<CatalogNode>,
    /// Every HarvestJob.
    pub harvest_jobs: Store<HarvestJob>,
    /// Every CloudTarget.
    pub cloud_targets: Store<CloudTarget>,
}

impl Caches {
    /// Every CatalogNode, once the cache holds them all.
    pub async fn catalog_nodes(&self) -> Result<Vec<Arc<CatalogNode>>, Error> {
        filled(&self.catalog_nodes, "CatalogNodes").await
    }

    /// Every HarvestJob, once the cache holds them all.
    pub async fn harvest_jobs(&self) -> Result<Vec<Arc<HarvestJob>>, Error> {
        filled(&self.harvest_jobs, "HarvestJobs").await
    }

    /// Every CloudTarget, once the cache holds them all.
    pub async fn cloud_targets(&self) -> Result<Vec<CloudTarget>, Error> {
        // Few, and read by functions that take a slice of them.
        Ok(filled(&self.cloud_targets, "CloudTargets").await?.iter().map(|t| t.as_ref().clone()).collect())
    }
}

async fn filled<K: kube::Resource<DynamicType = ()> + Clone + 'static>(
    store: &Store<K>,
    what: &'static str,
) -> Result<Vec<Arc<K>>, Error> {
    store.wait_until_ready().await.map_err(|_| Error::CacheClosed(what))?;
    Ok(store.state())
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
