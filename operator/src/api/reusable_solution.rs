//! ReusableSolution: open-source software from the Developers Italia catalogue, described by
//! its publiccode.yml, run for an administration on a certified cloud cluster.

use k8s_openapi::api::core::v1::{EnvFromSource, EnvVar, ResourceRequirements};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::catalog_node::{ManagedPostgres, TlsSpec};
use super::patterns;
use super::shared::{
    Administration, BackupStatus, CommonStatus, ConfigMapKeyRef, DatabaseBackupSpec, PlacedSite, Placement,
    default_one, default_true,
};

/// Reused open-source software (CAD art. 68-69) described by its publiccode.yml, run for an
/// administration on a cluster whose ACN qualification matches its data classification.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "mediana.dev",
    version = "v1alpha1",
    kind = "ReusableSolution",
    namespaced,
    status = "ReusableSolutionStatus",
    shortname = "rsol",
    category = "mediana",
    doc = "Reused open-source software described by publiccode.yml, run for an administration on a certified cloud cluster that matches its data classification.",
    printcolumn(name = "Software", type_ = "string", json_path = ".status.publiccode.name"),
    printcolumn(name = "Administration", type_ = "string", json_path = ".spec.administration.ipaCode"),
    printcolumn(name = "Class", type_ = "string", json_path = ".spec.dataClassification"),
    printcolumn(name = "Target", type_ = "string", json_path = ".status.placement.target"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "URL", type_ = "string", json_path = ".status.url", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.exposure) || self.components.exists(c, c.name == self.exposure.component)").message("exposure.component must name one of spec.components"))]
#[x_kube(validation = Rule::new("!has(self.exposure) || !self.components.exists(c, c.name == self.exposure.component) || self.components.exists(c, c.name == self.exposure.component && has(c.ports) && c.ports.exists(p, p.name == self.exposure.port))").message("exposure.port must name a port of the exposed component"))]
#[x_kube(validation = Rule::new("!has(self.database) || !self.components.exists(c, c.name == 'postgres')").message("the component name postgres is taken by the managed database"))]
#[x_kube(validation = Rule::new("!has(self.backup) || has(self.database)").message("spec.backup backs up the managed database: it needs spec.database"))]
#[x_kube(validation = Rule::new("!has(self.backup) || !self.components.exists(c, c.name == 'backup')").message("the component name backup is taken by the database backups"))]
pub struct ReusableSolutionSpec {
    /// The software's publiccode.yml.
    pub publiccode: PubliccodeSource,

    /// The reusing administration.
    pub administration: Administration,

    /// Classification of the data and services, as ACN defines it; it decides which
    /// certified clusters may run the solution.
    pub data_classification: DataClassification,

    /// The certified cluster to run on.
    #[serde(default)]
    pub placement: Placement,

    /// The workloads of the solution.
    #[schemars(length(min = 1, max = 20))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub components: Vec<Component>,

    /// How one component is exposed outside the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,

    /// A PostgreSQL database run by the operator for the solution (StatefulSet and Service
    /// `<solution>-postgres`, database and user `app`). Its connection settings are in the
    /// Secret `<solution>-db` with libpq's keys (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`,
    /// `PGPASSWORD`), to reference from `envFrom`, and a `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<ManagedPostgres>,

    /// Scheduled backups of the managed database (`spec.database`) to an object store, each a
    /// `pg_dump` with a manifest of its size and SHA-256 (docs/backup.md). A backup also runs
    /// on each new value of the annotation `mediana.dev/backup-now`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<DatabaseBackupSpec>,
}

/// Where the publiccode.yml comes from: exactly one of `url`, `inline` and `configMapKeyRef`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("[has(self.url), has(self.inline), has(self.configMapKeyRef)].filter(x, x).size() == 1").message("publiccode needs exactly one of url, inline and configMapKeyRef"))]
pub struct PubliccodeSource {
    /// URL of the raw publiccode.yml, fetched through the network guard (size cap,
    /// timeouts, no private addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::HTTP_URL), length(max = 2048))]
    pub url: Option<String>,
    /// The publiccode.yml itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 262144))]
    pub inline: Option<String>,
    /// A ConfigMap key holding the publiccode.yml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<ConfigMapKeyRef>,
    /// Refuse to deploy when the publiccode.yml is invalid. Set to false to deploy anyway
    /// (the problems stay in the `PubliccodeValid` condition).
    #[serde(default = "default_true")]
    pub enforce: bool,
}

/// Data and service classification (Strategia Cloud Italia §4.1; ACN Regolamento unico,
/// DD 21007/24). What each needs of a CloudTarget, with the default placement policy:
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub enum DataClassification {
    /// Dati ordinari: level 1 (QC1) or higher, on any qualified cloud.
    Ordinary,
    /// Dati critici: level 2 or higher, on an encrypted public or a private cloud.
    Critical,
    /// Dati strategici: level 3 or higher, on a private cloud ("su licenza" or qualified).
    Strategic,
}

/// The largest UID or GID Kubernetes accepts.
pub const MAX_ID: i64 = 2_147_483_647;

/// One workload of a solution: a Deployment and, when it has ports, a Service.
// No `Default`: it would make the root file system writable, against the serde default.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.probe) || (has(self.ports) && self.ports.exists(p, p.name == self.probe.port))").message("probe.port must name one of the component's ports"))]
pub struct Component {
    /// Name of the component. Its Deployment and Service are named
    /// `<solution>-<component>`, so other components reach it at that host name.
    #[schemars(pattern(patterns::DNS_LABEL), length(max = 40))]
    pub name: String,
    /// Container image.
    #[schemars(pattern(patterns::IMAGE))]
    pub image: String,
    /// Number of pods. A PodDisruptionBudget is created when it is above 1.
    #[serde(default = "default_one")]
    #[schemars(range(min = 0, max = 100))]
    pub replicas: i32,
    /// Ports the container listens on; each becomes a Service port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub ports: Vec<ComponentPort>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Environment from Secrets and ConfigMaps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    /// Entrypoint override.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// CPU and memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// HTTP readiness and liveness check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<HttpProbe>,
    /// Persistent volumes mounted into the component.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub volumes: Vec<ComponentVolume>,
    /// UID the component's processes run as. When omitted the pod sets none and runs as
    /// the user its image declares. Either way the pod has `runAsNonRoot: true`: the kubelet
    /// refuses an image whose user is root, or a name it cannot check (`USER www-data`),
    /// and the solution reports `Ready=False reason=ImageRunsAsRoot`; then set the image's
    /// unprivileged UID here (33 for www-data in the Debian-based WordPress images, 999 for
    /// mysql in MariaDB's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = MAX_ID))]
    pub run_as_user: Option<i64>,
    /// Primary GID of the component's processes; the image's when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = MAX_ID))]
    pub run_as_group: Option<i64>,
    /// GID that owns the component's volumes (the pod's fsGroup), so its processes can
    /// write them; `runAsGroup` when omitted, else `runAsUser`, else none (volumes keep the
    /// ownership their storage gives them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = MAX_ID))]
    pub fs_group: Option<i64>,
    /// Whether the container's root file system is read-only, the safe default. List the
    /// directories the software writes in `writablePaths` rather than turning this off;
    /// set it to false only for an image that writes all over its file system.
    #[serde(default = "default_true")]
    pub read_only_root_filesystem: bool,
    /// Absolute paths the component writes besides its volumes (`/run/apache2`,
    /// `/var/run/mysqld`): each is an empty directory (emptyDir) that lives as long as the
    /// pod. `/tmp` is always one, unless a volume is mounted there. No `..`, no path twice,
    /// none that is also a volume's `mountPath`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20), inner(pattern(r"^/\S*$"), length(max = 1024)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub writable_paths: Vec<String>,
}

/// A port of a component.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentPort {
    /// Port name (IANA service name style).
    #[schemars(pattern(patterns::PORT_NAME), length(max = 15))]
    pub name: String,
    /// Port number in the container.
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: i32,
}

/// An HTTP check of a component, used for readiness and liveness.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HttpProbe {
    /// Path to GET, e.g. `/healthz`.
    #[schemars(pattern(r"^/\S*$"))]
    pub path: String,
    /// Name of one of the component's ports.
    #[schemars(pattern(patterns::PORT_NAME), length(max = 15))]
    pub port: String,
    /// Seconds before the first check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub initial_delay_seconds: Option<i32>,
    /// Seconds between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub period_seconds: Option<i32>,
}

/// A persistent volume of a component.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentVolume {
    /// Volume name; names its PersistentVolumeClaim.
    #[schemars(pattern(patterns::DNS_LABEL), length(max = 40))]
    pub name: String,
    /// Requested size (`1Gi`).
    #[schemars(pattern(patterns::QUANTITY))]
    pub size: String,
    /// Absolute path where the volume is mounted.
    #[schemars(pattern(r"^/\S*$"))]
    pub mount_path: String,
    /// StorageClass of the claim; the cluster's default when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::OBJECT_NAME))]
    pub storage_class_name: Option<String>,
}

/// How a component is reached from outside the cluster.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    /// The component to expose.
    #[schemars(pattern(patterns::DNS_LABEL))]
    pub component: String,
    /// Name of the component's port to expose.
    #[schemars(pattern(patterns::PORT_NAME), length(max = 15))]
    pub port: String,
    /// Public host name.
    #[schemars(pattern(patterns::HOSTNAME), length(max = 253))]
    pub host: String,
    /// URL path prefix.
    #[serde(default = "default_path")]
    #[schemars(pattern(r"^/\S*$"))]
    pub path: String,
    /// IngressClass; the cluster's default when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::OBJECT_NAME))]
    pub class_name: Option<String>,
    /// TLS for the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
}

/// Observed state of a ReusableSolution.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReusableSolutionStatus {
    /// Generation and conditions (`Ready`, `Reconciling`, `Stalled`, `PubliccodeValid`,
    /// `PlacementAllowed`, and `LastBackupSucceeded` after the first backup).
    #[serde(flatten)]
    pub common: CommonStatus,
    /// Public URL, when exposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Summary of the publiccode.yml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publiccode: Option<PubliccodeSummary>,
    /// The placement decision, kept as audit evidence for the migration plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementDecision>,
    /// Ready replicas per component.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentStatus>,
    /// The last successful backup of the managed database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<BackupStatus>,
    /// The clusters where the solution's workloads exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["target".into()]))]
    pub sites: Vec<PlacedSite>,
}

/// The publiccode.yml facts a reviewer looks for first.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PubliccodeSummary {
    /// `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `softwareVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `legal.license` (SPDX expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `maintenance.type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_type: Option<String>,
    /// `softwareType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_type: Option<String>,
    /// `developmentStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub development_status: Option<String>,
    /// The reusing administration (IPA code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_by: Option<String>,
}

/// A placement decision, as evidence: target, its qualification, the rule applied, when.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlacementDecision {
    /// The CloudTarget chosen.
    pub target: String,
    /// Its ACN service level at the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<String>,
    /// Its ACN infrastructure level at the time, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_level: Option<String>,
    /// `Qualification` or `Adeguamento`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification_kind: Option<String>,
    /// Its kind of cloud, as the decision took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_model: Option<String>,
    /// Its entry in the ACN catalogue, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue_reference: Option<String>,
    /// The last day of its qualification, if declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Whether it is the Polo Strategico Nazionale (which grants nothing by itself).
    #[serde(default)]
    pub psn: bool,
    /// The solution's data classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    /// The rule applied and its source, e.g. `Critical requires QC2 or higher on
    /// PublicEncrypted or PrivateHybridLicensed or PrivateQualified (mediana defaults: ...)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Whether placement is allowed.
    #[serde(default)]
    pub allowed: bool,
    /// When the decision was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
}

/// Ready replicas of one component.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentStatus {
    /// Component name.
    pub name: String,
    /// Desired replicas.
    #[serde(default)]
    pub replicas: i32,
    /// Ready replicas.
    #[serde(default)]
    pub ready_replicas: i32,
}

fn default_path() -> String {
    "/".to_owned()
}
