//! HarvestJob: scheduled harvesting of dataset metadata from a source catalogue into a
//! CatalogNode, validated against DCAT-AP_IT and scored for quality.

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::patterns;
use super::shared::{Administration, CommonStatus, SecretKeyRef};

/// Annotation that starts a run now: set it to any new value (e.g. a timestamp).
pub const RUN_NOW_ANNOTATION: &str = "mediana.dev/run-now";

/// Scheduled harvesting of dataset metadata from a source catalogue (CKAN Action API or a
/// DCAT-AP_IT RDF catalogue) into a CatalogNode, validated and quality-scored.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "mediana.dev",
    version = "v1alpha1",
    kind = "HarvestJob",
    namespaced,
    status = "HarvestJobStatus",
    shortname = "hj",
    category = "mediana",
    doc = "Scheduled harvesting of dataset metadata from a CKAN or DCAT-AP_IT catalogue into a CatalogNode, validated and quality-scored.",
    printcolumn(name = "Target", type_ = "string", json_path = ".spec.target.catalogNode"),
    printcolumn(name = "Schedule", type_ = "string", json_path = ".spec.schedule"),
    printcolumn(name = "Last Run", type_ = "date", json_path = ".status.lastRun.startTime"),
    printcolumn(name = "Last Result", type_ = "string", json_path = ".status.lastRun.result"),
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Source", type_ = "string", json_path = ".spec.source.url", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.timeZone) || has(self.schedule)").message("timeZone requires a schedule"))]
pub struct HarvestJobSpec {
    /// The catalogue node that receives the datasets.
    pub target: HarvestTarget,

    /// The catalogue to harvest from.
    pub source: HarvestSource,

    /// When to harvest, in cron syntax (`0 3 * * *`) or an `@` macro (`@daily`). Without a
    /// schedule the job runs once, and again on each `mediana.dev/run-now` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::CRON_SCHEDULE))]
    pub schedule: Option<String>,

    /// Time zone of the schedule (IANA, e.g. `Europe/Rome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::TIME_ZONE))]
    pub time_zone: Option<String>,

    /// Pause scheduled runs; a running harvest finishes.
    #[serde(default)]
    pub suspend: bool,

    /// The organization the datasets are published under in the target, and the
    /// administration it stands for.
    pub publisher: HarvestPublisher,

    /// DCAT-AP_IT validation of every harvested dataset.
    #[serde(default)]
    pub validation: ValidationSpec,

    /// What to do with datasets this job created that are no longer in the source. They
    /// are deleted only after a complete, successful gather.
    #[serde(default)]
    pub removed_datasets: RemovedDatasetPolicy,

    /// Geographic datasets (GeoDCAT-AP): `Include` harvests them like the others; `Skip`
    /// leaves out every dataset that carries GeoDCAT-AP, for a source whose geodata reach
    /// the national catalogue through RNDT (AgID's open data guidelines, requirement 30:
    /// geodata are documented only in RNDT, which feeds dati.gov.it), so it gets them once.
    #[serde(default)]
    pub geodata: GeodataPolicy,

    /// Safety net: a run that would delete more than this percentage of this job's
    /// datasets deletes nothing and says why.
    #[serde(default = "default_max_delete_percent")]
    #[schemars(range(min = 0, max = 100))]
    pub max_delete_percent: i32,

    /// Run the harvest without writing to the target; status reports what would be
    /// created, updated and deleted.
    #[serde(default)]
    pub dry_run: bool,

    /// Allow a source on private, loopback or link-local addresses (refused by default,
    /// also after DNS resolution and on every redirect). Cloud metadata addresses are
    /// always refused.
    #[serde(default)]
    pub allow_private_networks: bool,

    /// Parallel requests to the source and to the target.
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = 32))]
    pub concurrency: i32,

    /// CPU and memory for the harvester pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// A run still going after this many seconds is stopped and reported as
    /// `DeadlineExceeded`.
    #[serde(default = "default_deadline")]
    #[schemars(range(min = 60, max = 86400))]
    pub active_deadline_seconds: i64,

    /// How many times a failed run is retried before it is reported as failed.
    #[serde(default = "default_retries")]
    #[schemars(range(min = 0, max = 10))]
    pub retries: i32,

    /// Successful runs kept (Jobs and status history).
    #[serde(default = "default_successful_history")]
    #[schemars(range(min = 0, max = 50))]
    pub successful_runs_history_limit: i32,

    /// Failed runs kept (Jobs and status history).
    #[serde(default = "default_failed_history")]
    #[schemars(range(min = 0, max = 50))]
    pub failed_runs_history_limit: i32,
}

/// The catalogue node that receives the datasets.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HarvestTarget {
    /// Name of a CatalogNode in the HarvestJob's namespace.
    #[schemars(pattern(patterns::OBJECT_NAME), length(max = 253))]
    pub catalog_node: String,
}

/// A source catalogue.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.type == 'dcat' || !has(self.format)").message("source.format applies only to type dcat"))]
#[x_kube(validation = Rule::new("self.type == 'ckan' || (!has(self.organization) && !has(self.query))").message("source.organization and source.query apply only to type ckan"))]
pub struct HarvestSource {
    /// Kind of source: a CKAN Action API or a DCAT catalogue document.
    #[serde(rename = "type")]
    pub type_: SourceType,
    /// For `ckan`, the portal's base URL (`https://dati.comune.example.it`); for `dcat`,
    /// the catalogue document's URL (`.../catalog.ttl`).
    #[schemars(pattern(patterns::HTTP_URL), length(max = 2048))]
    pub url: String,
    /// RDF serialization of a `dcat` source; guessed from the response's Content-Type
    /// and the URL when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RdfFormat>,
    /// Harvest only this organization of a `ckan` source (its CKAN name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::CKAN_NAME))]
    pub organization: Option<String>,
    /// Extra Solr filter query for a `ckan` source's `package_search` (`fq`), e.g.
    /// `tags:trasporti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1000))]
    pub query: Option<String>,
    /// Secret key holding an API token for a source that needs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_token_secret_ref: Option<SecretKeyRef>,
}

/// Kind of source catalogue.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    /// CKAN Action API (`package_search`), CKAN 2.9 to 2.12.
    Ckan,
    /// A DCAT(-AP_IT) catalogue in RDF, including paged (hydra) catalogues.
    Dcat,
}

/// RDF serializations a DCAT source may use.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, clap::ValueEnum)]
pub enum RdfFormat {
    /// RDF/XML (`application/rdf+xml`).
    RdfXml,
    /// Turtle (`text/turtle`).
    Turtle,
    /// JSON-LD (`application/ld+json`).
    JsonLd,
    /// N-Triples (`application/n-triples`).
    NTriples,
}

/// The organization datasets land in, and the administration it stands for.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HarvestPublisher {
    /// CKAN organization name in the target; created when missing.
    #[schemars(pattern(patterns::CKAN_NAME))]
    pub organization: String,
    /// The administration (IPA code and name) recorded as publisher and rights holder
    /// when the source does not say.
    #[serde(flatten)]
    pub administration: Administration,
}

/// DCAT-AP_IT validation settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ValidationSpec {
    /// Application profile to validate against.
    #[serde(default)]
    pub profile: ValidationProfile,
    /// `Enforce`: invalid datasets are not written and are reported; `Warn`: written and
    /// reported; `Off`: not validated.
    #[serde(default)]
    pub mode: ValidationMode,
}

/// Application profiles the harvester validates.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ValidationProfile {
    /// DCAT-AP_IT 2.0 (AgID), with its controlled vocabularies.
    #[default]
    #[serde(rename = "dcat-ap-it")]
    DcatApIt,
}

/// How validation results are used.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidationMode {
    /// Invalid datasets are not written.
    #[default]
    Enforce,
    /// Invalid datasets are written and reported.
    Warn,
    /// No validation.
    Off,
}

/// What to do with datasets removed at the source.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum RemovedDatasetPolicy {
    /// Leave them in the target.
    #[default]
    Keep,
    /// Delete them from the target, if this job created them.
    Delete,
}

/// Whether geographic (GeoDCAT-AP) datasets are harvested.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum GeodataPolicy {
    /// Harvest them like any dataset.
    #[default]
    Include,
    /// Leave them out, and count them (`counts.skippedGeodata`).
    Skip,
}

/// Observed state of a HarvestJob.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HarvestJobStatus {
    /// Generation and conditions (`Ready`, `LastRunSucceeded`, `Reconciling`, `Stalled`).
    #[serde(flatten)]
    pub common: CommonStatus,
    /// When a run was last scheduled (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<String>,
    /// The latest run, finished or in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<HarvestRun>,
    /// Earlier runs, newest first, bounded by the history limits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HarvestRun>,
}

/// One harvest run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HarvestRun {
    /// Name of the Job that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// When the run started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// When the run ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    /// Last sign of life from a running harvester (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_time: Option<String>,
    /// Outcome of the run.
    pub result: RunResult,
    /// Whether this was a dry run (nothing written).
    #[serde(default)]
    pub dry_run: bool,
    /// Dataset counts.
    #[serde(default)]
    pub counts: RunCounts,
    /// Mean quality score of the harvested datasets (0-405, data.europa.eu MQA points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_quality_score: Option<f64>,
    /// Why the run ended as it did, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The first errors, with the dataset and the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<DatasetError>,
    /// In a dry run, what would have been created, updated and deleted (counts are in
    /// `counts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<RunPreview>,
    /// The harvester's peak resident memory in the run, in bytes (the kernel's high-water
    /// mark of the process, read as it ends): what `spec.resources.limits.memory` must leave
    /// room for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory_bytes: Option<i64>,
}

/// What a dry run would have written.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RunPreview {
    /// Datasets that would be created (target CKAN names; the first 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub create: Vec<String>,
    /// Datasets that would be updated (the first 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub update: Vec<String>,
    /// Datasets that would be deleted (the first 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub delete: Vec<String>,
}

/// Outcome of a harvest run.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum RunResult {
    /// The run's Job exists but its harvester has not started: the pod waits for room on a
    /// node (runs queue when many are due at once) or runs its token step. Bounded by
    /// `activeDeadlineSeconds`, not by heartbeats.
    Pending,
    /// The harvester is running and sending heartbeats.
    #[default]
    Running,
    /// Every dataset was harvested (or reported invalid in Enforce mode).
    Succeeded,
    /// Completed, but some datasets failed to be written.
    PartiallySucceeded,
    /// The run failed; nothing was deleted.
    Failed,
    /// The run exceeded `activeDeadlineSeconds` or stopped sending heartbeats.
    DeadlineExceeded,
    /// The run was refused before it started (e.g. a harvest loop).
    Refused,
}

impl RunResult {
    /// Whether the run has ended, whichever way (neither pending nor running).
    pub fn is_over(self) -> bool {
        !matches!(self, Self::Pending | Self::Running)
    }
}

/// Dataset counts of a run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    /// Datasets found at the source.
    #[serde(default)]
    pub found: i64,
    /// Datasets created in the target.
    #[serde(default)]
    pub created: i64,
    /// Datasets updated in the target.
    #[serde(default)]
    pub updated: i64,
    /// Datasets already up to date (not written).
    #[serde(default)]
    pub unchanged: i64,
    /// Datasets deleted from the target.
    #[serde(default)]
    pub deleted: i64,
    /// Datasets that failed validation.
    #[serde(default)]
    pub invalid: i64,
    /// Datasets that could not be written.
    #[serde(default)]
    pub failed: i64,
    /// High-value datasets found (those naming the HVD regulation, Implementing Regulation
    /// (EU) 2023/138, in `dcatap:applicableLegislation`), valid or not.
    #[serde(default)]
    pub high_value: i64,
    /// Geographic (GeoDCAT-AP) datasets left out, with `geodata: Skip`.
    #[serde(default)]
    pub skipped_geodata: i64,
}

/// An error about one dataset.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DatasetError {
    /// The dataset's identifier (or URI) at the source.
    pub dataset: String,
    /// What is wrong, naming the property at fault.
    pub reason: String,
}

fn default_max_delete_percent() -> i32 {
    20
}
fn default_concurrency() -> i32 {
    4
}
fn default_deadline() -> i64 {
    3600
}
fn default_retries() -> i32 {
    2
}
fn default_successful_history() -> i32 {
    3
}
fn default_failed_history() -> i32 {
    1
}
