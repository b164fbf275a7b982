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

/// A completed backup.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BackupStatus {
    /// When the backup completed (RFC 3339).
    pub time: String,
    /// Name of the Job that made it.
    pub job: String,
    /// The backup's name in the store (its start time), what a CatalogNode's
    /// `spec.restore.backup` names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it is: `s3://BUCKET/PREFIX/NODE/NAME/`, or the dump's path on the backup volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Bytes stored: the database dump and the files archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// How long it took, as a duration such as `12.4s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// Scheduled backups of a managed database to an object store (a ReusableSolution's: the
/// database only, with the manifest of docs/backup.md).
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseBackupSpec {
    /// When to back up, in cron syntax (e.g. `30 2 * * *`). A backup also runs on each new
    /// value of the annotation `mediana.dev/backup-now`.
    #[schemars(pattern(patterns::CRON_SCHEDULE))]
    pub schedule: String,
    /// Time zone of the schedule (IANA, e.g. `Europe/Rome`); the controller manager's when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::TIME_ZONE))]
    pub time_zone: Option<String>,
    /// How many backups to keep; older ones are removed after each successful backup (never
    /// the newest complete one).
    #[serde(default = "default_retention")]
    #[schemars(range(min = 1, max = 365))]
    pub retention: i32,
    /// Also remove backups older than this many days (never the newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_age_days: Option<u32>,
    /// The S3-compatible store the backups go to.
    pub object_store: ObjectStoreSpec,
}

/// Seven backups: a week of daily ones.
pub fn default_retention() -> i32 {
    7
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
