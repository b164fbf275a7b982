//! Types that several kinds share: references, storage, placement, publisher identity and
//! the status fields every mediana object reports.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::patterns;

/// A key of a Secret in the object's own namespace.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret, in the same namespace as the object that refers to it.
    #[schemars(pattern(patterns::OBJECT_NAME), length(max = 253))]
    pub name: String,
    /// Key inside the Secret's `data`.
    #[schemars(pattern(patterns::CONFIG_KEY), length(max = 253))]
    pub key: String,
}

/// An S3-compatible object store that backups are written to and restored from (the names
/// follow CloudNativePG's `barmanObjectStore`). Requests are path-style
/// (`endpoint/bucket/key`), which every S3-compatible server answers.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStoreSpec {
    /// Where the backups are: `s3://BUCKET[/PREFIX]`. Each node's backups are in the folder
    /// `PREFIX/<node name>/`.
    #[schemars(pattern(patterns::S3_DESTINATION), length(max = 1024))]
    pub destination_path: String,
    /// URL of the S3 endpoint, e.g. `https://s3.example.it`.
    #[serde(rename = "endpointURL")]
    #[schemars(pattern(patterns::HTTP_URL), length(max = 2048))]
    pub endpoint_url: String,
    /// Region the requests are signed for; `us-east-1` when omitted, which S3-compatible
    /// servers without regions accept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::CONFIG_KEY), length(max = 64))]
    pub region: Option<String>,
    /// The access keys, each a key of a Secret in the object's namespace. They reach the
    /// backup pod as mounted files, never as arguments or environment variables.
    pub s3_credentials: S3Credentials,
    /// A Secret key holding the PEM certificates of the authorities that signed the
    /// endpoint's certificate, for a store with a private CA; the system's roots otherwise.
    #[serde(rename = "endpointCA", default, skip_serializing_if = "Option::is_none")]
    pub endpoint_ca: Option<SecretKeyRef>,
}

/// The access keys of an S3-compatible store.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct S3Credentials {
    /// The access key id.
    pub access_key_id: SecretKeyRef,
    /// The secret access key.
    pub secret_access_key: SecretKeyRef,
}

/// A key of a ConfigMap in the object's own namespace.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapKeyRef {
    /// Name of the ConfigMap, in the same namespace as the object that refers to it.
    #[schemars(pattern(patterns::OBJECT_NAME), length(max = 253))]
    pub name: String,
    /// Key inside the ConfigMap's `data`.
    #[schemars(pattern(patterns::CONFIG_KEY), length(max = 253))]
    pub key: String,
}

/// A persistent volume the operator claims for a component.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StorageSpec {
    /// Requested size, as a Kubernetes quantity (`10Gi`, `500Mi`).
    #[schemars(pattern(patterns::QUANTITY))]
    pub size: String,
    /// StorageClass of the claim; the cluster's default class when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::OBJECT_NAME))]
    pub storage_class_name: Option<String>,
}

/// Where the object's workloads run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// Name of the CloudTarget (a certified cluster) to run on. When omitted, the operator's
    /// default target is used: the local cluster's CloudTarget, `local` unless the operator's
    /// settings say otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::OBJECT_NAME), length(max = 253))]
    pub target: Option<String>,
}

/// A cluster where an object's workloads exist: the current placement and, while the
/// object moves, the previous one until the new one is Ready.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlacedSite {
    /// The CloudTarget.
    pub target: String,
    /// The namespace of the workloads on that cluster: the object's own on the local
    /// cluster, `<namespace>-<short kind>-<name>` on a remote one (see docs/broker.md).
    pub namespace: String,
    /// Whether the cluster is remote (reached through a kubeconfig Secret). Deleting the
    /// object removes the workloads of a remote site through a finalizer.
    #[serde(default)]
    pub remote: bool,
}

/// A public administration or other publisher, identified as DCAT-AP_IT requires.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Administration {
    /// IPA code of the administration (IndicePA), e.g. `r_marche` or `c_e783`; the
    /// `dct:identifier` of its `dcatapit:Agent`.
    #[schemars(pattern(patterns::IPA_CODE))]
    pub ipa_code: String,
    /// Official name as in IndicePA, e.g. `Regione Marche`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 300))]
    pub name: Option<String>,
}

/// What happens to data volumes when the owning object is deleted.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Keep PersistentVolumeClaims (and so the data) after the object is deleted.
    #[default]
    Retain,
    /// Delete PersistentVolumeClaims with the object. The data is lost.
    Delete,
}

/// The status fields every mediana kind reports, flattened into each kind's status.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// The `metadata.generation` the status was computed from. When it lags behind the
    /// object's generation, the operator has not yet acted on the latest spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Standard conditions: `Ready` summarises the object; `Reconciling` and `Stalled`
    /// follow kstatus, so `kubectl wait`, Argo CD and Flux read health directly.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
}

/// Serde default for flags that are on unless switched off.
pub(crate) fn default_true() -> bool {
    true
}

/// Serde default for replica counts.
pub(crate) fn default_one() -> i32 {
    1
}
