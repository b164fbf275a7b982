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
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.deploymentModel"),
    printcolumn(name = "Until", type_ = "string", json_path = ".spec.validUntil"),
    printcolumn(name = "PSN", type_ = "boolean", json_path = ".spec.psn", priority = 1),
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
    /// ACN level of the cloud service (`QC1` ... `QC4`), as in the ACN catalogue. With the
    /// default placement policy: QC1 admits ordinary data, QC2 critical, QC3 strategic.
    pub qualification: Qualification,
    /// ACN level of the infrastructure the service runs on (`QI1` ... `QI4`). When given, the
    /// lower of the two levels counts; when omitted, the service level alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_level: Option<InfrastructureLevel>,
    /// How ACN admitted it: `Qualification` (a provider's service or infrastructure) or
    /// `Adeguamento` (an administration's own or in-house infrastructure brought up to the
    /// Regolamento's requirements).
    #[serde(default)]
    pub qualification_kind: QualificationKind,
    /// The kind of cloud in the Strategia Cloud Italia (§4.2): it bounds the data classes a
    /// target may hold whatever its level. When omitted, read as `PublicQualified`, the kind
    /// that admits the least.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_model: Option<DeploymentModel>,
    /// The entry of the ACN catalogue of qualified services and infrastructures
    /// (catalogocloud.acn.gov.it) this target stands on, as evidence in placement decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 300))]
    pub catalogue_reference: Option<String>,
    /// The last day of the qualification or adeguamento (`YYYY-MM-DD`; they last up to 36
    /// months). After it, nothing new is placed on the target (running workloads stay), and
    /// the target warns 30 days before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::DATE))]
    pub valid_until: Option<String>,
    /// Whether the cluster belongs to the Polo Strategico Nazionale. Shown in decisions; it
    /// grants nothing by itself, since the PSN runs public encrypted clouds (ordinary and
    /// critical data) as well as private ones (Strategia Cloud Italia §4.3).
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
    /// Level 1 (ordinary data with the default policy).
    QC1,
    /// Level 2 (critical data with the default policy).
    QC2,
    /// Level 3 (strategic data with the default policy).
    QC3,
    /// Level 4, the highest.
    QC4,
}

/// ACN qualification levels for cloud infrastructures.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub enum InfrastructureLevel {
    /// Level 1.
    QI1,
    /// Level 2.
    QI2,
    /// Level 3.
    QI3,
    /// Level 4, the highest.
    QI4,
}

/// How ACN admitted a cloud service or infrastructure.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum QualificationKind {
    /// Qualified (qualificazione): a provider's service or infrastructure.
    #[default]
    Qualification,
    /// Brought up to the requirements (adeguamento): an administration's own or in-house
    /// infrastructure (DD ACN 5489/2023, kept by the Regolamento unico).
    Adeguamento,
}

/// The kinds of cloud of the Strategia Cloud Italia (§4.2), from the one admitting the least.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeploymentModel {
    /// Cloud Pubblico qualificato (UE): ordinary data.
    PublicQualified,
    /// Cloud Pubblico Criptato (IT), security keys held on premises: ordinary and critical data.
    PublicEncrypted,
    /// Cloud Privato/Ibrido "su licenza" (IT): up to strategic data.
    PrivateHybridLicensed,
    /// Cloud Privato Qualificato (IT): up to strategic data.
    PrivateQualified,
}

impl Qualification {
    /// The level as a number, 1 to 4.
    pub fn level(self) -> u8 {
        self as u8 + 1
    }
}

impl InfrastructureLevel {
    /// The level as a number, 1 to 4.
    pub fn level(self) -> u8 {
        self as u8 + 1
    }
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
