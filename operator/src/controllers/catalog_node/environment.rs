//! What every workload of a CatalogNode shares: its children's names and components, the
//! managed services its spec resolves to, and the environment of every CKAN container. Below
//! both the node's builders and its backup builder, which read it.

use k8s_openapi::api::core::v1::EnvVar;

use super::config;
use crate::api::catalog_node::{CatalogNodeSpec, ExternalService, ManagedPostgres, ManagedRedis, ManagedSolr};
use crate::api::shared::SecretKeyRef;
use crate::controllers::children::Owner;
use crate::controllers::workloads::{self, env, env_from_secret};

/// Component names, the value of `app.kubernetes.io/component`.
pub mod component {
    /// The CKAN web application.
    pub const WEB: &str = "web";
    /// CKAN's background worker (`ckan jobs worker`).
    pub const WORKER: &str = "worker";
    /// PostgreSQL.
    pub const DATABASE: &str = "database";
    /// Solr.
    pub const SEARCH: &str = "search";
    /// Redis.
    pub const REDIS: &str = "redis";
    /// Uploaded files.
    pub const STORAGE: &str = "storage";
    /// Database dumps.
    pub const BACKUP: &str = "backup";
    /// Jobs that act on the database and index (migrations, index rebuilds).
    pub const MAINTENANCE: &str = "maintenance";
    /// The restore of a new node from a backup.
    pub const RESTORE: &str = "restore";
}

/// Names of the children, derived from the node's name (documented for users).
pub struct Names {
    owner: Owner,
}

impl Names {
    /// The names for a node's children.
    pub fn new(owner: &Owner) -> Self {
        Self { owner: owner.clone() }
    }
    /// CKAN Deployment and Service.
    pub fn web(&self) -> String {
        self.owner.child_name("ckan")
    }
    /// Background worker Deployment.
    pub fn worker(&self) -> String {
        self.owner.child_name("ckan-worker")
    }
    /// PostgreSQL StatefulSet and Service.
    pub fn postgres(&self) -> String {
        workloads::postgres_name(&self.owner)
    }
    /// Solr StatefulSet and Service.
    pub fn solr(&self) -> String {
        self.owner.child_name("solr")
    }
    /// Redis Deployment and Service.
    pub fn redis(&self) -> String {
        self.owner.child_name("redis")
    }
    /// ConfigMap with `ckan.ini`.
    pub fn config(&self) -> String {
        self.owner.child_name("ckan-config")
    }
    /// Generated Secret with CKAN's secret key and the sysadmin password.
    pub fn ckan_secret(&self) -> String {
        self.owner.child_name("ckan-secrets")
    }
    /// Generated Secret with the managed database's credentials and URL.
    pub fn database_secret(&self) -> String {
        crate::controllers::workloads::postgres_secret_name(&self.owner)
    }
    /// Generated Secret with the managed DataStore's roles' passwords and URLs.
    pub fn datastore_secret(&self) -> String {
        self.owner.child_name("datastore")
    }
    /// Upload volume.
    pub fn uploads(&self) -> String {
        self.owner.child_name("uploads")
    }
    /// Backup volume and CronJob.
    pub fn backup(&self) -> String {
        self.owner.child_name("backup")
    }
}

/// The managed PostgreSQL of a spec, with defaults when neither alternative is given.
pub fn managed_database(spec: &CatalogNodeSpec) -> Option<ManagedPostgres> {
    match (&spec.database.managed, &spec.database.external) {
        (Some(managed), _) => Some(managed.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(ManagedPostgres::default()),
    }
}

/// The managed Solr of a spec, with defaults when neither alternative is given.
pub fn managed_search(spec: &CatalogNodeSpec) -> Option<ManagedSolr> {
    match (&spec.search.managed, &spec.search.external) {
        (Some(managed), _) => Some(managed.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(ManagedSolr::default()),
    }
}

/// The managed Redis of a spec, with defaults when neither alternative is given.
pub fn managed_redis(spec: &CatalogNodeSpec) -> Option<ManagedRedis> {
    match (&spec.redis.managed, &spec.redis.external) {
        (Some(managed), _) => Some(managed.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(ManagedRedis::default()),
    }
}

/// Environment variables for a URL given literally or through a Secret.
fn url_env(name: &str, external: &ExternalService) -> EnvVar {
    match (&external.url, &external.url_secret_ref) {
        (_, Some(secret)) => env_from_secret(name, &secret.name, &secret.key),
        (Some(url), None) => env(name, url.clone()),
        (None, None) => env(name, ""),
    }
}

/// The environment of every CKAN container (web pods and maintenance Jobs alike: they must see
/// the same database, index and configuration): where `ckan.ini` is, and the values it must
/// not hold, the URLs and the secret key.
pub fn ckan_env(spec: &CatalogNodeSpec, owner: &Owner) -> Vec<EnvVar> {
    let names = Names::new(owner);
    let database = match &spec.database.external {
        Some(external) if spec.database.managed.is_none() => {
            env_from_secret("CKAN_SQLALCHEMY_URL", &external.url_secret_ref.name, &external.url_secret_ref.key)
        }
        _ => env_from_secret("CKAN_SQLALCHEMY_URL", &names.database_secret(), "url"),
    };
    let search = match (&spec.search.external, managed_search(spec)) {
        (Some(external), None) => url_env("CKAN_SOLR_URL", external),
        _ => env("CKAN_SOLR_URL", format!("http://{}:8983/solr/ckan", names.solr())),
    };
    let redis = match (&spec.redis.external, managed_redis(spec)) {
        (Some(external), None) => url_env("CKAN_REDIS_URL", external),
        _ => env("CKAN_REDIS_URL", format!("redis://{}:6379/0", names.redis())),
    };
    let mut vars = vec![
        env("CKAN_INI", format!("{}/{}", config::CONFIG_DIR, config::CONFIG_FILE)),
        database,
        search,
        redis,
        env_from_secret(config::SECRET_KEY_ENV, &names.ckan_secret(), "secret-key"),
    ];
    if let Some(datastore) = &spec.datastore {
        let (write, read) = match &datastore.external {
            Some(external) => (&external.write_url_secret_ref, &external.read_url_secret_ref),
            None => (
                &SecretKeyRef { name: names.datastore_secret(), key: "write-url".into() },
                &SecretKeyRef { name: names.datastore_secret(), key: "read-url".into() },
            ),
        };
        vars.push(env_from_secret("CKAN_DATASTORE_WRITE_URL", &write.name, &write.key));
        vars.push(env_from_secret("CKAN_DATASTORE_READ_URL", &read.name, &read.key));
    }
    vars
}
