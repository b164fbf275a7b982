//! CatalogNode: a CKAN open-data portal with the DCAT-AP_IT profile and everything it needs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::patterns;
use super::shared::{
    Administration, BackupStatus, CommonStatus, DeletionPolicy, ObjectStoreSpec, PlacedSite, Placement, SecretKeyRef,
    StorageSpec, default_one, default_retention, default_true,
};

/// CKAN version deployed when `spec.version` is omitted.
pub const DEFAULT_CKAN_VERSION: &str = "2.12.0";

/// A CKAN open-data catalogue node with the DCAT-AP_IT profile: the CKAN web application,
/// PostgreSQL, Solr, Redis, upload storage, Ingress, backups and NetworkPolicies, declared
/// as one object. Like dati.gov.it or a regional portal, harvestable by the national one.
#[derive(CustomResource, KubeSchema, Clone, Debug, Deserialize, Serialize, PartialEq)]
#[kube(
    group = "mediana.dev",
    version = "v1alpha1",
    kind = "CatalogNode",
    namespaced,
    status = "CatalogNodeStatus",
    shortname = "cn",
    category = "mediana",
    doc = "A CKAN open-data catalogue node with the DCAT-AP_IT profile and all it needs: PostgreSQL, Solr, Redis, storage, Ingress, backups.",
    printcolumn(name = "Ready", type_ = "string", json_path = ".status.conditions[?(@.type==\"Ready\")].status"),
    printcolumn(name = "Version", type_ = "string", json_path = ".status.versions.ckan"),
    printcolumn(name = "URL", type_ = "string", json_path = ".status.url"),
    printcolumn(
        name = "Reason",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].reason",
        priority = 1
    ),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp")
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.datastore) || has(self.datastore.external) || !has(self.database) || !has(self.database.external)").message("datastore on an external database needs datastore.external: the operator makes the DataStore's database and roles only on the PostgreSQL it runs"))]
pub struct CatalogNodeSpec {
    /// Public host name of the portal, e.g. `dati.regione.marche.it`. CKAN's `site_url`
    /// and the Ingress host.
    #[schemars(pattern(patterns::HOSTNAME), length(max = 253))]
    pub hostname: String,

    /// Title shown by the portal and used as the DCAT catalogue's `dct:title`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub title: Option<String>,

    /// The administration that publishes the catalogue (`dct:publisher` of the
    /// `dcatapit:Catalog`), identified by its IPA code.
    pub publisher: Administration,

    /// CKAN version. Changing it starts an orchestrated upgrade: database backup (when
    /// backups are configured), `ckan db upgrade`, web rollout, search-index rebuild.
    #[serde(default = "default_ckan_version")]
    #[schemars(pattern(patterns::VERSION))]
    pub version: String,

    /// CKAN image. Defaults to mediana's image of `version` (`ghcr.io/mediana-dev/ckan`); set it
    /// to use a mirror or an image with extra extensions. It must contain ckanext-dcat and
    /// gunicorn, serve `wsgi:application` from its working directory, and read its
    /// configuration from `CKAN_INI`, as mediana's image does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::IMAGE))]
    pub image: Option<String>,

    /// Number of CKAN web replicas. A PodDisruptionBudget is created when it is above 1.
    #[serde(default = "default_one")]
    #[schemars(range(min = 1, max = 50))]
    pub replicas: i32,

    /// Default and offered languages of the portal (ISO 639-1). Defaults to Italian with
    /// English, German and French as in DCAT-AP_IT's multilingual fields.
    #[serde(default)]
    pub locale: LocaleSpec,

    /// CPU and memory for the CKAN web containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Additional CKAN plugins to enable after the ones always enabled (`activity dcat
    /// dcat_json_interface structured_data scheming_datasets mediana_dcatapit mediana_status`);
    /// the image must contain them. WebReady checks that CKAN runs each one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub extra_plugins: Vec<String>,

    /// Extra CKAN configuration options (`ckan.ini` keys such as
    /// `ckan.datasets_per_page`), written into the node's `ckan.ini`. Options the operator
    /// sets (the site URL, plugins, secrets, URLs of the database, Solr and Redis) are refused:
    /// the node reports `Stalled` with reason `InvalidSpec`, naming the key, and changes nothing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,

    /// CKAN sysadmin account, whose password the operator generates once in a Secret.
    #[serde(default)]
    pub sysadmin: SysadminSpec,

    /// PostgreSQL: a StatefulSet managed by the operator (default) or an external database.
    #[serde(default)]
    pub database: DatabaseSpec,

    /// Solr 9 search index: managed by the operator (default) or an external URL.
    #[serde(default)]
    pub search: SearchSpec,

    /// Redis, used by CKAN for background jobs and caching: managed (default) or external.
    #[serde(default)]
    pub redis: RedisSpec,

    /// CKAN's DataStore, with XLoader: CSV and Excel resources loaded into tables of their
    /// own in the background, so that the portal previews them (`datatables_view`) and
    /// `datastore_search` queries them. Off when omitted. On the managed PostgreSQL the
    /// operator makes the DataStore's database and roles; with an external database, give
    /// the DataStore's URLs in `datastore.external`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore: Option<DatastoreSpec>,

    /// Volume for uploaded resources (CKAN's `ckan.storage_path`).
    #[serde(default = "default_upload_storage")]
    pub storage: StorageSpec,

    /// How the portal is exposed.
    #[serde(default)]
    pub ingress: IngressSpec,

    /// Scheduled database dumps to a backup volume. No backups when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupSpec>,

    /// A backup that a new node starts from: its database and uploaded files are restored
    /// before CKAN first starts, then the search index is rebuilt (docs/backup.md). Read only
    /// until the node first serves: added to a node that already serves, it is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreSpec>,

    /// Whether the data volumes (database, search index, uploads, backups) are deleted with
    /// the CatalogNode. `Retain` keeps them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// The certified cluster the node runs on.
    #[serde(default)]
    pub placement: Placement,
}

/// Languages of the portal.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.default in self.offered").message("locale.default must be one of locale.offered"))]
pub struct LocaleSpec {
    /// Default language (ISO 639-1, optionally with a country: `it`, `pt_BR`).
    #[serde(default = "default_locale")]
    #[schemars(pattern(patterns::LOCALE), length(max = 5))]
    pub default: String,
    /// Languages offered in the interface and in multilingual metadata.
    #[serde(default = "default_offered_locales")]
    #[schemars(length(min = 1, max = 24), inner(pattern(patterns::LOCALE), length(max = 5)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub offered: Vec<String>,
}

impl Default for LocaleSpec {
    fn default() -> Self {
        Self { default: default_locale(), offered: default_offered_locales() }
    }
}

/// The CKAN sysadmin account.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SysadminSpec {
    /// User name of the sysadmin.
    #[serde(default = "default_sysadmin_name")]
    #[schemars(pattern(patterns::CKAN_NAME))]
    pub name: String,
    /// E-mail address of the sysadmin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"))]
    pub email: Option<String>,
}

impl Default for SysadminSpec {
    fn default() -> Self {
        Self { name: default_sysadmin_name(), email: None }
    }
}

/// PostgreSQL for CKAN: exactly one of `managed` and `external`; `managed` with defaults
/// when both are omitted.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.managed) && has(self.external))").message("database.managed and database.external are mutually exclusive: set one"))]
pub struct DatabaseSpec {
    /// A PostgreSQL StatefulSet run by the operator, with a PersistentVolumeClaim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedPostgres>,
    /// An existing PostgreSQL server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalDatabase>,
}

/// A PostgreSQL server run by the operator. Shared with ReusableSolution's database.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.image) || self.version == 15").message("mediana builds a PostgreSQL image for version 15 only: set image for another version"))]
pub struct ManagedPostgres {
    /// PostgreSQL major version.
    #[serde(default = "default_postgres_version")]
    #[schemars(range(min = 13, max = 18))]
    pub version: i32,
    /// PostgreSQL image; defaults to mediana's image of `version` (`ghcr.io/mediana-dev/postgres`,
    /// built for version 15; any other version needs an image, which runs as a non-root user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::IMAGE))]
    pub image: Option<String>,
    /// Data volume.
    #[serde(default = "default_database_storage")]
    pub storage: StorageSpec,
    /// CPU and memory for the database container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

impl Default for ManagedPostgres {
    fn default() -> Self {
        Self { version: default_postgres_version(), image: None, storage: default_database_storage(), resources: None }
    }
}

/// An existing PostgreSQL database, reached with a connection URL kept in a Secret.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDatabase {
    /// Secret key holding the SQLAlchemy URL, `postgresql://user:password@host:5432/ckan`.
    pub url_secret_ref: SecretKeyRef,
}

/// CKAN's DataStore. `{}` puts it on the node's managed PostgreSQL: a database `datastore`
/// owned by a role `datastore_write`, and a read-only role `datastore_read` (their passwords
/// generated into the Secret `<node>-datastore`), set up with CKAN's own permission script
/// before each CKAN pod starts.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DatastoreSpec {
    /// An existing DataStore database, whose roles and permissions are its provider's (as
    /// `ckan datastore set-permissions`, run in any of the node's CKAN pods, prints them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalDatastore>,
}

/// The DataStore's database on a server the operator does not run: a role that writes it
/// and a read-only one, each reached with a URL kept in a Secret.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDatastore {
    /// Secret key holding the write role's URL, `postgresql://writer:password@host:5432/datastore`.
    pub write_url_secret_ref: SecretKeyRef,
    /// Secret key holding the read-only role's URL, on the same database.
    pub read_url_secret_ref: SecretKeyRef,
}

/// Solr for CKAN: exactly one of `managed` and `external`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.managed) && has(self.external))").message("search.managed and search.external are mutually exclusive: set one"))]
#[x_kube(validation = Rule::new("!has(self.external) || !has(self.external.url) || self.external.url.startsWith('http')").message("search.external.url must be an http(s) URL of a Solr core"))]
pub struct SearchSpec {
    /// A Solr 9 StatefulSet run by the operator with CKAN's schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedSolr>,
    /// An existing Solr core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalService>,
}

/// A Solr server run by the operator.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedSolr {
    /// Solr image with CKAN's schema; defaults to mediana's Solr 9 image with the schema of
    /// the node's CKAN line (`ghcr.io/mediana-dev/solr:9.10.1-ckan2.12`), which runs as a
    /// non-root user and keeps its core under `/var/solr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::IMAGE))]
    pub image: Option<String>,
    /// Index volume.
    #[serde(default = "default_search_storage")]
    pub storage: StorageSpec,
    /// CPU and memory for the Solr container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

impl Default for ManagedSolr {
    fn default() -> Self {
        Self { image: None, storage: default_search_storage(), resources: None }
    }
}

/// An existing service reached by URL; a Secret may hold the URL when it carries credentials.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.url) != has(self.urlSecretRef)").message("set exactly one of url and urlSecretRef"))]
pub struct ExternalService {
    /// URL of the service: `http://solr.search:8983/solr/ckan` for Solr,
    /// `redis://redis.cache:6379/0` for Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^(https?|redis|rediss)://\S+$"), length(max = 2048))]
    pub url: Option<String>,
    /// Secret key holding the URL, for URLs that carry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret_ref: Option<SecretKeyRef>,
}

/// Redis for CKAN: exactly one of `managed` and `external`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.managed) && has(self.external))").message("redis.managed and redis.external are mutually exclusive: set one"))]
#[x_kube(validation = Rule::new("!has(self.external) || !has(self.external.url) || self.external.url.startsWith('redis')").message("redis.external.url must be a redis:// or rediss:// URL"))]
pub struct RedisSpec {
    /// A Redis Deployment run by the operator (no persistence: CKAN uses it as a cache and
    /// job queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedRedis>,
    /// An existing Redis server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalService>,
}

/// A Redis server run by the operator.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedRedis {
    /// Redis image; defaults to the official Redis 7 image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::IMAGE))]
    pub image: Option<String>,
    /// CPU and memory for the Redis container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

/// How the portal is exposed outside the cluster.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// Create an Ingress for `spec.hostname`. Disable it to expose the Service yourself.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// IngressClass to use; the cluster's default class when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::OBJECT_NAME))]
    pub class_name: Option<String>,
    /// Extra annotations for the Ingress (e.g. for the ingress controller).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// TLS for the host. Plain HTTP when omitted, which public portals should not do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,
}

impl Default for IngressSpec {
    fn default() -> Self {
        Self { enabled: true, class_name: None, annotations: BTreeMap::new(), tls: None }
    }
}

/// Where the TLS certificate comes from: exactly one of an existing Secret and a
/// cert-manager issuer.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.secretName) != has(self.certManager)").message("tls needs exactly one of secretName and certManager"))]
pub struct TlsSpec {
    /// An existing `kubernetes.io/tls` Secret in the same namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::OBJECT_NAME))]
    pub secret_name: Option<String>,
    /// Have cert-manager issue the certificate (adds its Ingress annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_manager: Option<CertManagerIssuer>,
}

/// A cert-manager issuer.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CertManagerIssuer {
    /// Name of the Issuer or ClusterIssuer.
    #[schemars(pattern(patterns::OBJECT_NAME))]
    pub issuer: String,
    /// Kind of the issuer.
    #[serde(default)]
    pub kind: IssuerKind,
}

/// Kind of a cert-manager issuer.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum IssuerKind {
    /// A cluster-wide issuer.
    #[default]
    ClusterIssuer,
    /// An issuer in the CatalogNode's namespace.
    Issuer,
}

/// Scheduled backups: to an S3-compatible object store (the database and the uploaded files,
/// off the cluster), or, without one, database dumps on a volume beside the node.
#[derive(Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BackupSpec {
    /// When to back up, in cron syntax (e.g. `30 2 * * *`). A backup also runs on each new
    /// value of the annotation `mediana.dev/backup-now`.
    #[schemars(pattern(patterns::CRON_SCHEDULE))]
    pub schedule: String,
    /// Time zone of the schedule (IANA, e.g. `Europe/Rome`); the controller manager's when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::TIME_ZONE))]
    pub time_zone: Option<String>,
    /// How many backups to keep; older ones are removed after each successful backup (never
    /// the newest complete one, so a node whose backups stopped working keeps its last good one).
    #[serde(default = "default_retention")]
    #[schemars(range(min = 1, max = 365))]
    pub retention: i32,
    /// With an object store, also remove backups older than this many days (never the newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3650))]
    pub max_age_days: Option<u32>,
    /// The S3-compatible store the backups go to: each holds a `pg_dump` of the database, a
    /// tar of the uploaded files and a manifest with their sizes and SHA-256 (docs/backup.md).
    /// Without it, database dumps go to the volume of `storage`, in the node's cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_store: Option<ObjectStoreSpec>,
    /// Volume that holds the dumps when there is no object store.
    #[serde(default = "default_backup_storage")]
    pub storage: StorageSpec,
    /// Take a backup before each CKAN version upgrade.
    #[serde(default = "default_true")]
    pub before_upgrade: bool,
}

/// Where a new node's data comes from: a backup that `spec.backup.objectStore` of a node
/// (this one before it was lost, or another) wrote.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RestoreSpec {
    /// The store the backup is in: the `objectStore` of the node that was backed up.
    pub object_store: ObjectStoreSpec,
    /// The name of the node that was backed up (its folder in the store); this node's name
    /// when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::DNS_LABEL), length(max = 63))]
    pub node: Option<String>,
    /// The backup: its name (`status.lastBackup.name` of the node backed up, or a row of
    /// `mediana backup list`), or `latest` for that node's newest complete backup.
    #[serde(default = "latest")]
    #[schemars(pattern(patterns::BACKUP_NAME))]
    pub backup: String,
}

/// Progress of the restore a node started from.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RestoreStatus {
    /// The current step.
    pub phase: RestorePhase,
    /// The backup restored: the name `spec.restore.backup` gives, and the resolved name once
    /// the restore Job reported it (what `latest` was).
    pub backup: String,
    /// Where the backup is, once the restore Job reported it: `s3://BUCKET/PREFIX/NODE/NAME/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Human-readable detail, e.g. why a step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the restore started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the last step completed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

/// Steps of a restore, in order.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum RestorePhase {
    /// The restore Job fetches the backup, checks every part against its manifest, then
    /// restores the database and the uploaded files.
    #[default]
    Restoring,
    /// The install Job migrates the restored database to this node's CKAN and sets up its
    /// sysadmin with this node's generated password.
    Migrating,
    /// CKAN's web pods start on the restored data.
    Starting,
    /// The search index is rebuilt from the restored database.
    Reindexing,
    /// Every step done: the node serves the backup's datasets and files.
    Completed,
    /// A step failed; CKAN does not start on a partial restore (see the `Stalled` condition).
    Failed,
}

fn latest() -> String {
    "latest".to_owned()
}

/// Observed state of a CatalogNode.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CatalogNodeStatus {
    /// Generation, conditions (`Ready`, `Reconciling`, `Stalled`, `DatabaseReady`,
    /// `SearchReady`, `WebReady`).
    #[serde(flatten)]
    pub common: CommonStatus,
    /// Public URL of the portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Machine endpoints of the node, e.g. for the national portal to harvest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<CatalogEndpoints>,
    /// Versions of the running components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<ComponentVersions>,
    /// Progress of the last CKAN version upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeStatus>,
    /// The last successful backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<BackupStatus>,
    /// Progress of the restore the node started from (`spec.restore`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreStatus>,
    /// The clusters where the node's workloads exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["target".into()]))]
    pub sites: Vec<PlacedSite>,
}

/// Machine endpoints of a catalogue node.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CatalogEndpoints {
    /// CKAN Action API base, e.g. `https://dati.example.it/api/3/action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// DCAT-AP_IT catalogue in Turtle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_turtle: Option<String>,
    /// DCAT-AP_IT catalogue in RDF/XML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_rdf: Option<String>,
}

/// Versions of the components that are running.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ComponentVersions {
    /// CKAN version serving traffic: the release whose pods are rolled out (WebReady checks
    /// that CKAN reports this version itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ckan: Option<String>,
    /// CKAN image serving traffic. An upgrade starts when the spec asks for another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ckan_image: Option<String>,
    /// PostgreSQL version, as the database CKAN uses reports it (`SHOW server_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<String>,
    /// Solr version, as CKAN's Solr core reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solr: Option<String>,
    /// Redis version, as the Redis CKAN uses reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<String>,
}

/// Progress of a CKAN version upgrade.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStatus {
    /// Version being upgraded from.
    pub from_version: String,
    /// Version being upgraded to.
    pub to_version: String,
    /// Current step.
    pub phase: UpgradePhase,
    /// Human-readable detail of the current step, e.g. the migration Job's failure message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the upgrade started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

/// Steps of a CKAN upgrade, in order.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum UpgradePhase {
    /// Dumping the database before migrating.
    #[default]
    BackingUp,
    /// Running `ckan db upgrade` with the new image.
    Migrating,
    /// Rolling the web Deployment to the new image.
    RollingOut,
    /// Rebuilding the search index.
    Reindexing,
    /// All steps done.
    Completed,
    /// A step failed; the previous version keeps serving.
    Failed,
}

fn default_ckan_version() -> String {
    DEFAULT_CKAN_VERSION.to_owned()
}
fn default_locale() -> String {
    "it".to_owned()
}
fn default_offered_locales() -> Vec<String> {
    ["it", "en", "de", "fr"].map(str::to_owned).to_vec()
}
fn default_sysadmin_name() -> String {
    "admin".to_owned()
}
fn default_postgres_version() -> i32 {
    15
}
fn storage(size: &str) -> StorageSpec {
    StorageSpec { size: size.to_owned(), storage_class_name: None }
}
fn default_database_storage() -> StorageSpec {
    storage("10Gi")
}
fn default_search_storage() -> StorageSpec {
    storage("5Gi")
}
fn default_upload_storage() -> StorageSpec {
    storage("20Gi")
}
fn default_backup_storage() -> StorageSpec {
    storage("20Gi")
}
