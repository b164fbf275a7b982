//! Whether a node serves, asked of CKAN itself: `mediana_status_show` (the `mediana_status`
//! plugin of ckanext-mediana) through the API server's proxy to the web Service. CKAN answers
//! with its version and plugins, and with what it finds when it asks PostgreSQL (migrations
//! at their heads), Solr (a ping of the core) and Redis from inside the portal's network,
//! which NetworkPolicies open to CKAN alone. The proxy reaches a Service on any cluster the
//! operator's kubeconfig reaches, CloudTargets' included, so no pod network has to be
//! routable from the operator.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use kube::Client;
use regex::Regex;
use serde::Deserialize;

use super::builders::Release;
use super::environment::Names;
use crate::controllers::children::Owner;
use crate::controllers::workloads::Observed;

/// The CKAN action that reports the node's state.
pub const STATUS_ACTION: &str = "mediana_status_show";
/// How long CKAN may take to answer; CKAN waits at most 5 s for each component.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// What `mediana_status_show` answers, in the parts the operator reads.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct CkanStatus {
    /// CKAN's version (absent under `ckan.hide_version`).
    pub ckan_version: Option<String>,
    /// The plugins CKAN loaded.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// The components as CKAN finds them.
    pub components: Components,
}

/// The components behind CKAN.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Components {
    /// PostgreSQL and the migrations.
    pub database: Component,
    /// Solr's CKAN core.
    pub search: Component,
    /// Redis.
    pub redis: Component,
}

/// One component as CKAN finds it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Component {
    /// Whether it answers as CKAN needs (for the database: every migration at its head).
    pub ok: bool,
    /// The version it reports.
    pub version: Option<String>,
    /// Why not, when not.
    pub error: Option<String>,
    /// Migration histories by name (`ckan`, then one per plugin that has one).
    #[serde(default)]
    pub migrations: BTreeMap<String, Migrations>,
}

/// A migration history: the revisions applied and the newest ones.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Migrations {
    /// Revisions the database is at.
    #[serde(default)]
    pub current: Vec<String>,
    /// Newest revisions of the history.
    #[serde(default)]
    pub head: Vec<String>,
    /// Whether `current` is `head`.
    pub at_head: bool,
}

/// CKAN's action API envelope.
#[derive(Deserialize)]
struct Envelope {
    success: bool,
    result: Option<CkanStatus>,
    error: Option<serde_json::Value>,
}

/// A pod's address and port in the API server's proxy errors ("dial tcp 10.0.0.13:5000: …").
/// The proxy picks one of the Service's pods per request, so the address would make the
/// message, and the status, change from one reconcile to the next.
static POD_ADDRESS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:\d{1,3}\.){3}\d{1,3}:\d+|\[[0-9A-Fa-f:]+\]:\d+").ok());

/// A proxy error with the pod's address left out.
pub fn without_pod_address(message: &str) -> String {
    match POD_ADDRESS.as_ref() {
        Some(address) => address.replace_all(message, "a pod").into_owned(),
        None => message.to_owned(),
    }
}

/// Reads an answer of `mediana_status_show`.
pub fn parse(body: &str) -> Result<CkanStatus, String> {
    let envelope: Envelope =
        serde_json::from_str(body).map_err(|err| format!("{STATUS_ACTION} answered something else ({err})"))?;
    match envelope {
        Envelope { success: true, result: Some(status), .. } => Ok(status),
        Envelope { error, .. } => Err(format!("{STATUS_ACTION} failed: {}", error.unwrap_or_default())),
    }
}

/// Asks the node's CKAN through the API server's proxy to its web Service.
pub async fn ask(client: &Client, owner: &Owner) -> Result<CkanStatus, String> {
    let path = format!(
        "/api/v1/namespaces/{}/services/{}:http/proxy/api/3/action/{STATUS_ACTION}",
        owner.namespace,
        Names::new(owner).web()
    );
    let request = http::Request::get(path).body(Vec::new()).map_err(|err| err.to_string())?;
    let body = match tokio::time::timeout(ANSWER_TIMEOUT, client.request_text(request)).await {
        Err(_) => return Err(format!("no answer within {} s", ANSWER_TIMEOUT.as_secs())),
        Ok(Err(kube::Error::Api(status))) => {
            return Err(format!("{} ({})", without_pod_address(&status.message), status.code));
        }
        Ok(Err(err)) => return Err(without_pod_address(&err.to_string())),
        Ok(Ok(body)) => body,
    };
    parse(&body)
}

/// The web's state: rolled out, and CKAN answering with the release's version, every plugin
/// the node asked for, and the Redis it queues jobs in.
pub fn web(rollout: Observed, answer: &Result<CkanStatus, String>, release: &Release, plugins: &[&str]) -> Observed {
    if rollout != Observed::Ready {
        return rollout;
    }
    let status = match answer {
        Err(why) => {
            return Observed::NotServing(format!("its pods are ready, but {STATUS_ACTION} gets no answer: {why}"));
        }
        Ok(status) => status,
    };
    if let Some(version) = status.ckan_version.as_deref().filter(|v| *v != release.version) {
        return Observed::NotServing(format!(
            "the image {} runs CKAN {version}, not {} as spec.version says",
            release.image, release.version
        ));
    }
    let missing: Vec<&str> = plugins.iter().copied().filter(|p| !status.extensions.iter().any(|e| e == p)).collect();
    if !missing.is_empty() {
        return Observed::NotServing(format!("the plugins {} do not run", missing.join(", ")));
    }
    if !status.components.redis.ok {
        return Observed::NotServing(format!("CKAN cannot reach Redis: {}", failure(&status.components.redis)));
    }
    Observed::Ready
}

/// The database's state: PostgreSQL rolled out (or external) and, once CKAN answers, every
/// migration history at its head.
pub fn database(observed: Observed, answer: &Result<CkanStatus, String>) -> Observed {
    let Ok(status) = answer else { return observed };
    let database = &status.components.database;
    if !observed.rolled_out() || database.ok {
        return observed;
    }
    let behind: Vec<String> = database
        .migrations
        .iter()
        .filter(|(_, m)| !m.at_head)
        .map(|(name, m)| format!("{name} at {} (head {})", revisions(&m.current), revisions(&m.head)))
        .collect();
    if behind.is_empty() {
        Observed::NotServing(format!("CKAN cannot query it: {}", failure(database)))
    } else {
        Observed::NotServing(format!("migrations not applied: {}", behind.join(", ")))
    }
}

/// Solr's state: rolled out (or external) and, once CKAN answers, the core answering a ping.
pub fn search(observed: Observed, answer: &Result<CkanStatus, String>) -> Observed {
    match answer {
        Ok(status) if observed.rolled_out() && !status.components.search.ok => {
            Observed::NotServing(format!("CKAN's core does not answer a ping: {}", failure(&status.components.search)))
        }
        _ => observed,
    }
}

fn failure(component: &Component) -> &str {
    component.error.as_deref().unwrap_or("no reason given")
}

fn revisions(revisions: &[String]) -> String {
    if revisions.is_empty() { "none".to_owned() } else { revisions.join("+") }
}
