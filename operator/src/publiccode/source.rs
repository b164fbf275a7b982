//! Where a ReusableSolution's publiccode.yml comes from: inline in the spec, a ConfigMap key,
//! or a URL fetched through the network guard.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};

use crate::api::reusable_solution::PubliccodeSource;
use crate::netguard::{NetConfig, NetGuard};

/// Why the publiccode.yml could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The ConfigMap of `configMapKeyRef` does not exist.
    #[error("ConfigMap {0} does not exist")]
    ConfigMapNotFound(String),
    /// The ConfigMap exists without the key.
    #[error("ConfigMap {name} has no key {key} in its data")]
    KeyNotFound {
        /// The ConfigMap.
        name: String,
        /// The key.
        key: String,
    },
    /// The URL could not be fetched, or the network guard refused it.
    #[error("fetching publiccode.yml: {0}")]
    Fetch(#[source] crate::netguard::NetError),
    /// The fetched file is not UTF-8 text.
    #[error("publiccode.yml at {0} is not UTF-8 text")]
    NotText(String),
    /// No source is given (the CRD's rule refuses this; kept for objects stored before it).
    #[error("spec.publiccode names no source: set one of url, inline and configMapKeyRef")]
    NoSource,
    /// The API server could not be asked.
    #[error("reading the publiccode.yml ConfigMap failed: {0}")]
    Kube(#[source] kube::Error),
}

/// The text of the solution's publiccode.yml, from wherever its spec says.
pub async fn text(source: &PubliccodeSource, namespace: &str, client: &Client) -> Result<String, SourceError> {
    if let Some(text) = &source.inline {
        return Ok(text.clone());
    }
    if let Some(reference) = &source.config_map_key_ref {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
        let config_map = api
            .get_opt(&reference.name)
            .await
            .map_err(SourceError::Kube)?
            .ok_or_else(|| SourceError::ConfigMapNotFound(reference.name.clone()))?;
        return config_map
            .data
            .and_then(|mut data| data.remove(&reference.key))
            .ok_or_else(|| SourceError::KeyNotFound { name: reference.name.clone(), key: reference.key.clone() });
    }
    if let Some(url) = &source.url {
        return fetch(url, net_config()).await;
    }
    Err(SourceError::NoSource)
}

/// The network guard's settings for publiccode.yml files: public addresses only (they live
/// on public code forges), small files, short waits.
pub fn net_config() -> NetConfig {
    NetConfig {
        max_body_bytes: 1024 * 1024,
        total_timeout: std::time::Duration::from_secs(30),
        retries: 2,
        ..NetConfig::default()
    }
}

/// Fetches a publiccode.yml through the shared network guard (refused addresses, redirects
/// checked hop by hop, size cap, timeouts).
pub async fn fetch(url: &str, config: NetConfig) -> Result<String, SourceError> {
    let guard = NetGuard::new(config).map_err(SourceError::Fetch)?;
    let fetched = guard.fetch(url).await.map_err(SourceError::Fetch)?;
    String::from_utf8(fetched.bytes).map_err(|_| SourceError::NotText(url.to_owned()))
}
