//! Clients of the clusters CloudTargets stand for: the operator's own for the local target,
//! and for a remote target one client built from its kubeconfig Secret, kept while the
//! Secret's content stays the same and rebuilt as soon as it changes (credential rotation).
//!
//! Workloads on a remote cluster are watched there (their metadata, by the hub labels), so
//! that a rollout finishing on a spoke wakes its hub object as a local one does.
//!
//! The Secret is read by name on every use instead of being watched: the operator may `get`
//! Secrets but never list or watch them (a broker's hub holds many other credentials), and
//! one small read per reconcile is the price of noticing a rotation at the next use.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedSender;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{DynamicObject, PartialObjectMeta};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Config, ResourceExt};
use tokio::task::AbortHandle;

use super::children::fingerprint;
use super::children::{HUB_KIND_LABEL, HUB_NAME_LABEL, HUB_NAMESPACE_LABEL, HUB_UID_LABEL};
use super::error::TargetError;
use crate::api::CloudTarget;
use crate::api::cloud_target::KubeconfigSecretRef;

/// How long a connection to a remote API server may take: an unreachable cluster must fail
/// a reconcile quickly, not hold one of its slots for the operating system's TCP timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request to a remote API server may wait for its answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a change of a workload on a remote cluster is announced: per hub kind (lower
/// case, the `mediana.dev/hub-kind` label), a channel of (namespace, name) of the hub
/// object, which wakes its reconcile.
pub type Wakers = BTreeMap<String, UnboundedSender<(String, String)>>;

/// The clients of remote targets, by CloudTarget name, each with the watch that reports
/// its cluster's workload changes back to the hub.
#[derive(Default)]
pub struct TargetClients {
    clients: Mutex<HashMap<String, Remote>>,
    wakers: Wakers,
    watched: Vec<ApiResource>,
}

struct Remote {
    fingerprint: String,
    client: Client,
    watch: Option<AbortHandle>,
}

impl Drop for Remote {
    fn drop(&mut self) {
        if let Some(watch) = &self.watch {
            watch.abort();
        }
    }
}

impl TargetClients {
    /// Clients whose clusters' workloads of the `watched` kinds (those carrying the hub
    /// labels) wake the hub objects through `wakers`, as local children wake their owners.
    pub fn new(wakers: Wakers, watched: Vec<ApiResource>) -> Self {
        Self { clients: Mutex::default(), wakers, watched }
    }

    /// The client of `target`: `local` for a target without kubeconfig Secret, otherwise the
    /// client built from the Secret's current content (built anew, with a new watch, when the
    /// content changed).
    pub async fn client(&self, local: &Client, target: &CloudTarget) -> Result<Client, TargetError> {
        let Some(reference) = &target.spec.kubeconfig_secret_ref else {
            return Ok(local.clone());
        };
        let text = kubeconfig_text(local, reference).await?;
        let fingerprint = fingerprint(&text);
        let name = target.name_any();
        if let Some(known) = self.lock().get(&name)
            && known.fingerprint == fingerprint
        {
            return Ok(known.client.clone());
        }
        let client = client_from_kubeconfig(&text)
            .await
            .map_err(|reason| TargetError::InvalidKubeconfig { secret: reference.clone(), reason })?;
        tracing::info!(target = name, "built a client from the kubeconfig Secret");
        let watch = (!self.wakers.is_empty()).then(|| {
            let task = watch_workloads(client.clone(), self.watched.clone(), self.wakers.clone(), name.clone());
            tokio::spawn(task).abort_handle()
        });
        // Replacing the entry drops the previous one, which stops its watch.
        self.lock().insert(name, Remote { fingerprint, client: client.clone(), watch });
        Ok(client)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Remote>> {
        // A panic while holding the lock cannot leave the map half-written: recover it.
        self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Watches the workloads mediana placed on a remote cluster (metadata only, selected by the
/// hub labels) and wakes their hub objects. A watch that fails (the cluster down) retries
/// with backoff; it ends when its client is replaced or dropped.
async fn watch_workloads(client: Client, kinds: Vec<ApiResource>, wakers: Wakers, target: String) {
    let config = watcher::Config::default().labels(HUB_UID_LABEL);
    let streams = kinds.iter().map(|kind| {
        let api: Api<PartialObjectMeta<DynamicObject>> = Api::all_with(client.clone(), kind);
        watcher(api, config.clone()).default_backoff().touched_objects().boxed()
    });
    let mut changes = futures::stream::select_all(streams);
    while let Some(change) = changes.next().await {
        match change {
            Ok(object) => {
                let labels = object.labels();
                let hub = (labels.get(HUB_KIND_LABEL), labels.get(HUB_NAMESPACE_LABEL), labels.get(HUB_NAME_LABEL));
                if let (Some(kind), Some(namespace), Some(name)) = hub
                    && let Some(waker) = wakers.get(kind)
                {
                    let _ = waker.unbounded_send((namespace.clone(), name.clone()));
                }
            }
            Err(err) => tracing::debug!(target, error = %err, "watch of a remote cluster failed; retrying"),
        }
    }
}

async fn kubeconfig_text(local: &Client, reference: &KubeconfigSecretRef) -> Result<String, TargetError> {
    let secrets: Api<Secret> = Api::namespaced(local.clone(), &reference.namespace);
    let secret = secrets
        .get_opt(&reference.name)
        .await
        .map_err(TargetError::Hub)?
        .ok_or_else(|| TargetError::SecretNotFound(reference.clone()))?;
    let bytes = secret
        .data
        .and_then(|mut data| data.remove(&reference.key))
        .ok_or_else(|| TargetError::KeyNotFound(reference.clone()))?;
    String::from_utf8(bytes.0)
        .map_err(|_| TargetError::InvalidKubeconfig { secret: reference.clone(), reason: "not UTF-8 text".into() })
}

/// The operator's client of a cluster. It does not retry a 429, 503 or 504 itself (kube's
/// default): the API server's proxy answers 503 when a Service's pods do not answer, which
/// the status of a CatalogNode must report at once rather than after minutes of retries, and
/// a failed reconcile is requeued by the controllers' error policy anyway.
pub fn operator_client(mut config: Config) -> Result<Client, kube::Error> {
    config.default_retry = false;
    Client::try_from(config)
}

/// A client for the current context of a kubeconfig, with short timeouts. The kubeconfig
/// must carry its credentials inline (`*-data` fields or a token): files it names would be
/// looked up on the operator's own filesystem.
pub async fn client_from_kubeconfig(text: &str) -> Result<Client, String> {
    let kubeconfig = Kubeconfig::from_yaml(text).map_err(|err| err.to_string())?;
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|err| err.to_string())?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    operator_client(config).map_err(|err| err.to_string())
}

/// Whether a failed request means the cluster could not be reached (no connection, TLS,
/// timeout) rather than an answer from its API server (forbidden, conflict, invalid).
pub fn unreachable(error: &kube::Error) -> bool {
    !matches!(error, kube::Error::Api(_) | kube::Error::SerdeError(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_kubeconfig_that_is_not_one_is_refused_with_the_reason() {
        let err = client_from_kubeconfig("just: text").await.err().expect("refused");
        assert!(err.contains("context"), "no current context: {err}");
        let err = client_from_kubeconfig("apiVersion: v1\nkind: Config\nclusters: [}").await.err().expect("refused");
        assert!(err.to_lowercase().contains("yaml"), "{err}");
    }

    #[tokio::test]
    async fn an_inline_kubeconfig_builds_a_client() {
        let text = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: abc}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
        let client = client_from_kubeconfig(text).await.expect("client");
        let err = client.apiserver_version().await.expect_err("nothing listens on port 1");
        assert!(unreachable(&err), "a refused connection is unreachable: {err:?}");
    }
}
