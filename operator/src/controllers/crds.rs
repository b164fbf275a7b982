//! The start-up check that mediana's CRDs are served.

use kube::{Client, Resource};

use crate::api::{CatalogNode, CloudTarget, HarvestJob, ReusableSolution};

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
