//! CloudTarget: a certified cloud cluster the broker can place work on.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::patterns;
use super::shared::CommonStatus;

/// Name of the CloudTarget that stands for the cluster the operator runs in.
pub const LOCAL_TARGET: &str = "local";

/// A certified cloud cluster the broker can place work on: provider, region, ACN
/// qualification, PSN or not, and for remote clusters a kubeconfig Secret. Cluster-scoped.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "mediana.dev",
    version = "v1alpha1",
    kind = "CloudTarget",
    status = "CloudTargetStatus",
    shortname = "ct",
    category = "mediana",
    doc = "A certified cloud cluster (provider, region, ACN qualification, PSN) on which the broker places workloads. Cluster-scoped.",
    printcolumn(name = "Provider", type_ = "string", json_path = ".spec.provider"),
    printcolumn(name = "Qualification", type_ = "string", json_path = ".spec.qualification"),
    printcolumn(name = "PSN", type_ = "boolean", json_path = ".spec.psn"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Kubernetes", type_ = "string", json_path = ".status.kubernetesVersion"),
    printcolumn(name = "Region", type_ = "string", json_path = ".spec.region", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
pub struct CloudTargetSpec {
    /// Cloud provider as listed in the ACN catalogue, e.g. `Polo Strategico Nazionale`,
    /// `Aruba`, `Regione Marche (in-house)`.
    #[schemars(length(min = 1, max = 200))]
    pub provider: String,
    /// Region or data centre location, e.g. `IT-Centro` or `Ancona`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub region: Option<String>,
    /// ACN qualification level of the cloud service (`QC1` ordinary data ... `QC4`).
    pub qualification: Qualification,
    /// Whether the cluster belongs to the Polo Strategico Nazionale.
    #[serde(default)]
    pub psn: bool,
    /// Kubeconfig of a remote cluster. The cluster the operator runs in when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_secret_ref: Option<KubeconfigSecretRef>,
    /// SPDX licence identifiers allowed on this cluster; any licence when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(r"^[A-Za-z0-9.+-]+$")))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub allowed_licenses: Vec<String>,
}

/// ACN qualification levels for cloud services.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub enum Qualification {
    /// Qualified for ordinary data and services.
    QC1,
    /// Qualified for critical data and services.
    QC2,
    /// Qualified for strategic data and services.
    QC3,
    /// The highest level.
    QC4,
}

/// Where a remote cluster's kubeconfig is kept.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KubeconfigSecretRef {
    /// Namespace of the Secret (usually the operator's).
    #[schemars(pattern(patterns::DNS_LABEL))]
    pub namespace: String,
    /// Name of the Secret.
    #[schemars(pattern(patterns::OBJECT_NAME), length(max = 253))]
    pub name: String,
    /// Key holding the kubeconfig.
    #[serde(default = "default_kubeconfig_key")]
    #[schemars(pattern(patterns::CONFIG_KEY))]
    pub key: String,
}

/// Observed state of a CloudTarget.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CloudTargetStatus {
    /// Generation and conditions (`Ready`, `Reachable`).
    #[serde(flatten)]
    pub common: CommonStatus,
    /// Kubernetes version reported by the cluster's API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// Number of nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<i32>,
    /// Total allocatable CPU of the nodes (a quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocatable_cpu: Option<String>,
    /// Total allocatable memory of the nodes (a quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocatable_memory: Option<String>,
    /// When the cluster was last probed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_probe_time: Option<String>,
}

fn default_kubeconfig_key() -> String {
    "kubeconfig".to_owned()
}
