//! The desired children of a CatalogNode, as pure functions of its spec: no client, no
//! clock, no randomness. `mediana render` prints exactly what these return.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, PersistentVolumeClaim, PodSpec, PodTemplateSpec, Probe, Volume,
    VolumeMount,
};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::ObjectMeta;

use super::backups::{self, BackupContext};
use super::config;
use super::environment::{Names, ckan_env, component, managed_database, managed_redis, managed_search};
use crate::api::catalog_node::{CatalogEndpoints, CatalogNodeSpec, ComponentVersions, ManagedRedis, ManagedSolr};
use crate::api::shared::SecretKeyRef;
use crate::controllers::Error;
use crate::controllers::children::metadata;
use crate::controllers::children::{Child, Owner};
use crate::controllers::secrets::{GeneratedSecret, SecretValue};
use crate::controllers::workloads::postgres_credentials;
use crate::controllers::workloads::{
    self, Route, allow_only_from, claim, container_port, default_resources, disruption_budget, empty_dir, env,
    env_from_secret, http_probe, mount, pod_template, restricted_container_security, selector, service, tcp_probe,
};

/// Registry path of mediana's CKAN image (images/ckan); the tag is the CKAN version.
pub const CKAN_IMAGE: &str = "ghcr.io/mediana-dev/ckan";
/// Solr image with CKAN's schema that mediana builds (images/solr), tagged
/// `SOLR_VERSION-ckanX.Y` after the CKAN line whose schema it carries.
const SOLR_IMAGE: &str = "ghcr.io/mediana-dev/solr";
/// The Solr release of mediana's Solr image (images/solr/pom.xml).
const SOLR_VERSION: &str = "9.10.1";
/// Default Redis image (images/redis).
const REDIS_IMAGE: &str = "ghcr.io/mediana-dev/redis:7.0";
/// The annotation of CKAN's pod templates holding a hash of `ckan.ini`, so a change of the
/// configuration rolls the pods (a mounted ConfigMap alone changes under running processes).
pub const CONFIG_HASH_ANNOTATION: &str = "mediana.dev/ckan-config-hash";

/// The Secrets a node needs generated, kept with its data: the database's password and the
/// key that signed its API tokens must outlive a node deleted under `deletionPolicy: Retain`,
/// or the next node of that name could not open the data it finds.
pub fn generated_secrets(spec: &CatalogNodeSpec, owner: &Owner) -> Vec<GeneratedSecret> {
    let names = Names::new(owner);
    let mut secrets = vec![GeneratedSecret {
        name: names.ckan_secret(),
        component: component::WEB,
        keys: vec![("secret-key".into(), SecretValue::Random), ("sysadmin-password".into(), SecretValue::Random)],
        kept_with_data: true,
    }];
    if managed_database(spec).is_some() {
        secrets.push(postgres_credentials(owner, component::DATABASE, "ckan").kept_with_data());
    }
    if managed_datastore(spec) {
        secrets.push(datastore_credentials(owner));
    }
    secrets
}

/// The DataStore's database and roles on the managed PostgreSQL (see [`crate::api::catalog_node::DatastoreSpec`]).
pub mod datastore {
    /// The database.
    pub const DATABASE: &str = "datastore";
    /// The role that owns and writes it (CKAN's `ckan.datastore.write_url`).
    pub const WRITE_ROLE: &str = "datastore_write";
    /// The read-only role (`ckan.datastore.read_url`), with which `datastore_search` runs.
    pub const READ_ROLE: &str = "datastore_read";
}

/// Whether the node's DataStore is on its managed PostgreSQL, set up by the operator.
pub fn managed_datastore(spec: &CatalogNodeSpec) -> bool {
    spec.datastore.as_ref().is_some_and(|d| d.external.is_none()) && managed_database(spec).is_some()
}

/// The passwords and URLs of the managed DataStore's two roles, kept with the data like the
/// database's own Secret.
fn datastore_credentials(owner: &Owner) -> GeneratedSecret {
    let host = workloads::postgres_name(owner);
    let url = |role: &str, key: &str| {
        SecretValue::Template(format!(
            "postgresql://{role}:{{random:{key}}}@{host}:{}/{}",
            workloads::POSTGRES_PORT,
            datastore::DATABASE
        ))
    };
    GeneratedSecret {
        name: Names::new(owner).datastore_secret(),
        component: component::DATABASE,
        keys: vec![
            ("write-password".into(), SecretValue::Random),
            ("read-password".into(), SecretValue::Random),
            ("write-url".into(), url(datastore::WRITE_ROLE, "write-password")),
            ("read-url".into(), url(datastore::READ_ROLE, "read-password")),
        ],
        kept_with_data: true,
    }
}

/// A CKAN release: the version and the image that runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// CKAN version.
    pub version: String,
    /// Container image.
    pub image: String,
}

impl Release {
    /// The release the spec asks for.
    pub fn desired(spec: &CatalogNodeSpec) -> Self {
        let version = spec.version.clone();
        let image = spec.image.clone().unwrap_or_else(|| format!("{CKAN_IMAGE}:{version}"));
        Self { version, image }
    }

    /// The release the status records as serving traffic; none before the first rollout.
    pub fn recorded(versions: Option<&ComponentVersions>) -> Option<Self> {
        versions.and_then(|v| Some(Self { version: v.ckan.clone()?, image: v.ckan_image.clone()? }))
    }

    /// The release serving traffic according to the status; the desired one before the
    /// first rollout (a new node has nothing to upgrade from).
    pub fn serving(spec: &CatalogNodeSpec, versions: Option<&ComponentVersions>) -> Self {
        Self::recorded(versions).unwrap_or_else(|| Self::desired(spec))
    }
}

/// The Solr image for a CKAN version: mediana's Solr with that CKAN line's schema.
fn solr_image(spec: &ManagedSolr, ckan_version: &str) -> String {
    let minor: String = ckan_version.split('.').take(2).collect::<Vec<_>>().join(".");
    spec.image.clone().unwrap_or_else(|| format!("{SOLR_IMAGE}:{SOLR_VERSION}-ckan{minor}"))
}

/// The web Service's URL inside the cluster.
pub fn internal_url(owner: &Owner) -> String {
    format!("http://{}.{}.svc", Names::new(owner).web(), owner.namespace)
}

/// The public base URL of the node.
pub fn site_url(spec: &CatalogNodeSpec) -> String {
    workloads::public_url(&spec.hostname, "/", spec.ingress.tls.is_some())
}

/// The machine endpoints of a node.
pub fn endpoints(spec: &CatalogNodeSpec) -> CatalogEndpoints {
    let base = site_url(spec);
    CatalogEndpoints {
        api: Some(format!("{base}/api/3/action")),
        catalog_turtle: Some(format!("{base}/catalog.ttl")),
        catalog_rdf: Some(format!("{base}/catalog.rdf")),
    }
}

/// Where a URL of one of a node's external services is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlSource<'a> {
    /// Given in the spec.
    Literal(&'a str),
    /// In a key of a Secret.
    Secret(&'a SecretKeyRef),
}

/// The URLs a node's CKAN reads of the services it does not run, each with its field.
pub fn external_urls(spec: &CatalogNodeSpec) -> Vec<(&'static str, UrlSource<'_>)> {
    let mut urls = Vec::new();
    if let (Some(external), None) = (&spec.database.external, &spec.database.managed) {
        urls.push(("spec.database.external", UrlSource::Secret(&external.url_secret_ref)));
    }
    let services = [("spec.search.external", &spec.search.external), ("spec.redis.external", &spec.redis.external)];
    for (field, external) in services {
        if let Some(external) = external {
            match (&external.url, &external.url_secret_ref) {
                (_, Some(secret)) => urls.push((field, UrlSource::Secret(secret))),
                (Some(url), None) => urls.push((field, UrlSource::Literal(url))),
                (None, None) => {}
            }
        }
    }
    if let Some(external) = spec.datastore.as_ref().and_then(|d| d.external.as_ref()) {
        urls.push(("spec.datastore.external", UrlSource::Secret(&external.write_url_secret_ref)));
        urls.push(("spec.datastore.external", UrlSource::Secret(&external.read_url_secret_ref)));
    }
    urls
}

/// The node's `ckan.ini` (see [`config`]).
pub fn ckan_ini(spec: &CatalogNodeSpec, owner: &Owner) -> Result<String, config::ConfigError> {
    config::render(spec, &owner.instance, &site_url(spec), &internal_url(owner))
}

/// The ConfigMap holding `ckan.ini`.
fn config_map(owner: &Owner, ini: &str) -> ConfigMap {
    ConfigMap {
        metadata: metadata(owner, &Names::new(owner).config(), component::WEB),
        data: Some(BTreeMap::from([(config::CONFIG_FILE.to_owned(), ini.to_owned())])),
        ..Default::default()
    }
}

/// Every child of a node whose web runs `web` (the release serving traffic, which differs
/// from the desired one while an upgrade waits for its migration); with no `web`, the node
/// waits for its database to be initialised and runs no CKAN web pod yet. `backup` is what
/// the backup CronJob's pods need besides the spec.
pub fn children(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    web: Option<&Release>,
    backup: BackupContext<'_>,
) -> Result<Vec<Child>, Error> {
    let names = Names::new(owner);
    let ini = ckan_ini(spec, owner).map_err(|err| Error::InvalidSpec(err.to_string()))?;
    if spec.datastore.as_ref().is_some_and(|d| d.external.is_none()) && managed_database(spec).is_none() {
        // The API server's rule refuses this; `mediana render` reads files it never saw.
        return Err(Error::InvalidSpec(
            "spec.datastore on an external database needs datastore.external: the operator makes the DataStore's \
             database and roles only on the PostgreSQL it runs"
                .into(),
        ));
    }
    let mut out = vec![
        Child::new(&config_map(owner, &ini))?,
        Child::new(&service(owner, &names.web(), component::WEB, &[("http", 80)]))?,
        Child::new(&uploads_claim(spec, owner))?,
    ];
    if let Some(release) = web {
        out.push(Child::new(&web_deployment(spec, owner, release))?);
        out.push(Child::new(&worker_deployment(spec, owner, release))?);
        if spec.replicas > 1 {
            out.push(Child::new(&disruption_budget(owner, &names.web(), component::WEB))?);
        }
    }
    // Solr carries the schema of the CKAN line that serves (or is about to).
    let ckan_version = web.map_or(spec.version.as_str(), |release| release.version.as_str());
    if let Some(database) = managed_database(spec) {
        out.extend(workloads::managed_postgres(
            owner,
            component::DATABASE,
            &database,
            &[component::WEB, component::WORKER, component::MAINTENANCE, component::BACKUP],
        )?);
    }
    if let Some(search) = managed_search(spec) {
        out.push(Child::new(&solr_statefulset(owner, &search, ckan_version))?);
        out.push(Child::new(&service(owner, &names.solr(), component::SEARCH, &[("solr", 8983)]))?);
        out.push(Child::new(&allow_only_from(
            owner,
            component::SEARCH,
            &[component::WEB, component::WORKER, component::MAINTENANCE],
            8983,
        ))?);
    }
    if let Some(redis) = managed_redis(spec) {
        out.push(Child::new(&redis_deployment(owner, &redis))?);
        out.push(Child::new(&service(owner, &names.redis(), component::REDIS, &[("redis", 6379)]))?);
        out.push(Child::new(&allow_only_from(
            owner,
            component::REDIS,
            &[component::WEB, component::WORKER, component::MAINTENANCE],
            6379,
        ))?);
    }
    if spec.ingress.enabled {
        out.push(Child::new(&ingress(spec, owner))?);
    }
    if let Some(claim) = backups::claim_of(spec, owner) {
        out.push(Child::new(&claim)?);
    }
    if let Some(cron) = backups::cronjob(spec, owner, backup)? {
        out.push(Child::new(&cron)?);
    }
    Ok(out)
}

/// The CKAN container with the node's configuration, for the web pods and one-off steps.
pub fn ckan_container(spec: &CatalogNodeSpec, owner: &Owner, release: &Release) -> Container {
    Container {
        name: "ckan".into(),
        image: Some(release.image.clone()),
        env: Some(ckan_env(spec, owner)),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![config_mount(), mount("uploads", config::STORAGE_PATH), mount("tmp", "/tmp")]),
        ..Default::default()
    }
}

/// `ckan.ini`, read-only where the image's `CKAN_INI` expects it.
pub fn config_mount() -> VolumeMount {
    VolumeMount { read_only: Some(true), ..mount("config", config::CONFIG_DIR) }
}

/// The volume of [`config_mount`]: the node's ConfigMap.
pub fn config_volume(owner: &Owner) -> Volume {
    Volume {
        name: "config".into(),
        config_map: Some(ConfigMapVolumeSource { name: Names::new(owner).config(), ..Default::default() }),
        ..Default::default()
    }
}

/// A CKAN pod template running `release`: the restricted pod of `component`, annotated with
/// the hash of `ckan.ini` so that a configuration change rolls it. With a managed DataStore,
/// its database and roles are set up first (ckanext-mediana's `ckanext.mediana.datastore`):
/// CKAN's `datastore` plugin connects to them as CKAN starts, in every pod, Jobs included.
pub fn ckan_pod_template(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    component: &str,
    release: &Release,
    mut pod: PodSpec,
) -> PodTemplateSpec {
    let step = |name: &str, module: &str| Container {
        name: name.into(),
        command: Some(["python3", "-m", module].map(str::to_owned).to_vec()),
        resources: Some(default_resources("50m", "512Mi")),
        volume_mounts: Some(vec![mount("tmp", "/tmp")]),
        ..ckan_container(spec, owner, release)
    };
    // The operator waits for a managed PostgreSQL before the first CKAN pod; an external one
    // only the pod can see: it waits until it answers (a migration Job would otherwise fail
    // for good against a database still starting).
    if managed_database(spec).is_none() {
        pod.init_containers = Some(vec![step("wait-for-database", "ckanext.mediana.database")]);
    }
    if managed_datastore(spec) {
        pod.init_containers = Some(vec![step("datastore-setup", "ckanext.mediana.datastore")]);
    }
    let mut template = pod_template(owner, component, workloads::IMAGE_UID, pod);
    // An invalid spec.config builds no children at all (see `children`); no hash then.
    if let Ok(ini) = ckan_ini(spec, owner) {
        let hash = crate::controllers::children::fingerprint(&ini);
        template.metadata.get_or_insert_default().annotations =
            Some(BTreeMap::from([(CONFIG_HASH_ANNOTATION.to_owned(), hash)]));
    }
    template
}

/// The volumes of the web pods: `ckan.ini`, the uploads, `/tmp`.
fn ckan_volumes(owner: &Owner) -> Vec<Volume> {
    vec![config_volume(owner), uploads_volume(owner), empty_dir("tmp")]
}

/// The uploads claim as the volume `uploads`.
pub fn uploads_volume(owner: &Owner) -> Volume {
    Volume {
        name: "uploads".into(),
        persistent_volume_claim: Some(k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
            claim_name: Names::new(owner).uploads(),
            read_only: None,
        }),
        ..Default::default()
    }
}

/// The CKAN web Deployment running `release`.
pub fn web_deployment(spec: &CatalogNodeSpec, owner: &Owner, release: &Release) -> Deployment {
    let container = Container {
        // The image's command, with logging as ckan.ini configures it.
        command: Some(
            ["gunicorn", "--bind=0.0.0.0:5000", "--workers=2", "--timeout=120", "--no-control-socket"]
                .into_iter()
                .map(str::to_owned)
                .chain([
                    format!("--log-config={}/{}", config::CONFIG_DIR, config::CONFIG_FILE),
                    "wsgi:application".into(),
                ])
                .collect(),
        ),
        ports: Some(vec![container_port("http", 5000)]),
        // gunicorn's sync workers answer the probes in the same queue as the API: under a
        // region's harvest (54 municipalities at once) status_show waited past 5 s, the
        // kubelet restarted CKAN mid-write, and runs failed. gunicorn itself restarts a
        // stuck worker (--timeout); the kubelet restarts only a master that stopped
        // listening, and takes the pod out of its Service after a minute without answers.
        readiness_probe: Some(Probe {
            timeout_seconds: Some(10),
            failure_threshold: Some(6),
            ..http_probe("/api/3/action/status_show", "http", 10, 10)
        }),
        liveness_probe: Some(Probe { initial_delay_seconds: Some(60), ..tcp_probe("http", 20) }),
        resources: spec.resources.clone().or_else(|| Some(default_resources("500m", "1Gi"))),
        ..ckan_container(spec, owner, release)
    };
    Deployment {
        metadata: metadata(owner, &Names::new(owner).web(), component::WEB),
        spec: Some(DeploymentSpec {
            replicas: Some(spec.replicas),
            selector: selector(owner, component::WEB),
            template: ckan_pod_template(
                spec,
                owner,
                component::WEB,
                release,
                PodSpec { containers: vec![container], volumes: Some(ckan_volumes(owner)), ..Default::default() },
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// CKAN's background worker running `release`: `ckan jobs worker` on the default queue, where
/// CKAN and its plugins (XLoader, notifications, search-index jobs) enqueue work in Redis.
/// One replica: jobs are taken one at a time from the queue, and a second worker would only
/// matter for a node that enqueues more than one can run. Like the Jobs' pods it has an
/// empty directory at the storage path, not the uploads (a ReadWriteOnce claim the web
/// holds): CKAN's jobs read uploads through the web's URLs.
pub fn worker_deployment(spec: &CatalogNodeSpec, owner: &Owner, release: &Release) -> Deployment {
    let container = Container {
        command: Some(["ckan", "jobs", "worker"].map(str::to_owned).to_vec()),
        resources: Some(default_resources("100m", "512Mi")),
        volume_mounts: Some(vec![config_mount(), mount("storage", config::STORAGE_PATH), mount("tmp", "/tmp")]),
        ..ckan_container(spec, owner, release)
    };
    Deployment {
        metadata: metadata(owner, &Names::new(owner).worker(), component::WORKER),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: selector(owner, component::WORKER),
            template: ckan_pod_template(
                spec,
                owner,
                component::WORKER,
                release,
                PodSpec {
                    containers: vec![container],
                    volumes: Some(vec![config_volume(owner), empty_dir("storage"), empty_dir("tmp")]),
                    ..Default::default()
                },
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What a one-off Job of an upgrade does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpgradeJob {
    /// Dump the database before migrating it.
    Backup,
    /// `ckan db upgrade` with the new release.
    Migrate,
    /// `ckan search-index rebuild` with the new release.
    Reindex,
    /// `mediana backup restore` of `spec.restore`, before the first install's migration.
    Restore,
}

impl UpgradeJob {
    fn suffix(self) -> &'static str {
        match self {
            Self::Backup => "upgrade-backup",
            Self::Migrate => "migrate",
            Self::Reindex => "reindex",
            Self::Restore => "restore",
        }
    }
}

/// Name of the Job of `kind` for an upgrade to `release`: one per target release, so a
/// retry after a failure needs a new release or the failed Job deleted.
pub fn upgrade_job_name(owner: &Owner, kind: UpgradeJob, release: &Release) -> String {
    let fingerprint = &crate::controllers::children::fingerprint(&release.image)[..8];
    owner.child_name(&format!("{}-{fingerprint}", kind.suffix()))
}

/// A Job of an upgrade to `release`; `first_install` when no release serves yet: the
/// migration then makes the database and the sysadmin account in one CKAN process
/// (`ckan mediana install`), instead of a sysadmin Job loading CKAN again beside the first
/// web pods, and holds the uploads claim (see [`Storage::Uploads`]).
pub fn upgrade_job(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    kind: UpgradeJob,
    release: &Release,
    first_install: bool,
    context: BackupContext<'_>,
) -> Result<Job, Error> {
    let maintenance = |storage, command: &[&str]| maintenance_pod(spec, owner, release, storage, command);
    let name = match (kind, &spec.restore) {
        (UpgradeJob::Restore, Some(restore)) => super::restore::job_name(owner, restore),
        _ => upgrade_job_name(owner, kind, release),
    };
    let (metadata, pod) = match kind {
        UpgradeJob::Backup => {
            let backup = spec.backup.as_ref().ok_or(Error::MissingObjectKey("spec.backup"))?;
            (metadata(owner, &name, component::BACKUP), backups::pod(spec, owner, backup, context, "Never")?)
        }
        UpgradeJob::Migrate if first_install => {
            let install = account_script(spec, "install");
            (
                account_metadata(spec, owner, &name),
                with_account(spec, owner, maintenance(Storage::Uploads, &["/bin/sh", "-c", &install])),
            )
        }
        UpgradeJob::Migrate => {
            (metadata(owner, &name, component::MAINTENANCE), maintenance(Storage::Empty, &["ckan", "db", "upgrade"]))
        }
        UpgradeJob::Reindex => (
            metadata(owner, &name, component::MAINTENANCE),
            maintenance(Storage::Empty, &["ckan", "search-index", "rebuild"]),
        ),
        UpgradeJob::Restore => (metadata(owner, &name, component::RESTORE), super::restore::pod(spec, owner, context)?),
    };
    Ok(Job {
        metadata,
        spec: Some(JobSpec {
            // A failed migration or restore is reported, not retried blindly against the
            // database.
            backoff_limit: Some(if matches!(kind, UpgradeJob::Migrate | UpgradeJob::Restore) { 0 } else { 2 }),
            template: pod,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The sysadmin's e-mail address: `spec.sysadmin.email`, else the user at the portal's host
/// (CKAN requires one).
pub fn sysadmin_email(spec: &CatalogNodeSpec) -> String {
    spec.sysadmin.email.clone().unwrap_or_else(|| format!("{}@{}", spec.sysadmin.name, spec.hostname))
}

/// The label that a Job setting up the sysadmin account (the sysadmin Job, or the first
/// install's migration) carries, with the account's fingerprint: any such Job that
/// succeeded means the account in the spec exists.
pub const ACCOUNT_LABEL: &str = "mediana.dev/sysadmin-account";

/// A fingerprint of the account's name and e-mail: a change of either sets it up again (the
/// account lives in the database, which upgrades keep).
fn account_fingerprint(spec: &CatalogNodeSpec) -> String {
    let account = format!("{}\n{}", spec.sysadmin.name, sysadmin_email(spec));
    crate::controllers::children::fingerprint(&account)[..8].to_owned()
}

/// The label selector of the Jobs that set up the account the spec names.
pub fn account_selector(spec: &CatalogNodeSpec, owner: &Owner) -> String {
    format!("{},{ACCOUNT_LABEL}={}", owner.children_selector(), account_fingerprint(spec))
}

/// Name of the Job that sets up the sysadmin: one per account, so that a change of its name or
/// e-mail runs it again.
pub fn sysadmin_job_name(spec: &CatalogNodeSpec, owner: &Owner) -> String {
    owner.child_name(&format!("sysadmin-{}", account_fingerprint(spec)))
}

/// The script of a Job that sets up the account: ckanext-mediana's `ckan mediana COMMAND`
/// (`sysadmin`, or `install` that first migrates the database), idempotent, which creates the
/// account when missing and sets its e-mail, the generated password (from the environment,
/// never the command line) and the sysadmin flag, on CKAN 2.11 and 2.12 alike (the sysadmin
/// Job runs the release that serves, older or newer). With the DataStore it records
/// XLoader's API token too. One command, not one per step: each loads CKAN, seconds of CPU
/// that the web pods starting beside the Job also need.
pub fn account_script(spec: &CatalogNodeSpec, command: &str) -> String {
    let xloader = if spec.datastore.is_some() { " --xloader-token" } else { "" };
    format!("set -eu\nexec ckan mediana {command} \"$CKAN_SYSADMIN_NAME\" --email \"$CKAN_SYSADMIN_EMAIL\"{xloader}\n")
}

/// The metadata of a maintenance Job named `name` that sets up the account.
fn account_metadata(spec: &CatalogNodeSpec, owner: &Owner, name: &str) -> ObjectMeta {
    let mut metadata = metadata(owner, name, component::MAINTENANCE);
    metadata.labels.get_or_insert_default().insert(ACCOUNT_LABEL.into(), account_fingerprint(spec));
    metadata
}

/// `pod` with the account's name, e-mail and generated password in its CKAN container's
/// environment.
fn with_account(spec: &CatalogNodeSpec, owner: &Owner, mut pod: PodTemplateSpec) -> PodTemplateSpec {
    if let Some(container) = pod.spec.as_mut().and_then(|p| p.containers.first_mut()) {
        container.env.get_or_insert_default().extend([
            env("CKAN_SYSADMIN_NAME", spec.sysadmin.name.clone()),
            env("CKAN_SYSADMIN_EMAIL", sysadmin_email(spec)),
            env_from_secret("CKAN_SYSADMIN_PASSWORD", &Names::new(owner).ckan_secret(), "sysadmin-password"),
        ]);
    }
    pod
}

/// The Job that creates or updates the sysadmin account with `release` (the one serving),
/// once the database is initialised, when no Job set up this account yet (an account changed
/// since the install, or a node installed by an older operator).
pub fn sysadmin_job(spec: &CatalogNodeSpec, owner: &Owner, release: &Release) -> Job {
    let script = account_script(spec, "sysadmin");
    let pod =
        with_account(spec, owner, maintenance_pod(spec, owner, release, Storage::Empty, &["/bin/sh", "-c", &script]));
    Job {
        metadata: account_metadata(spec, owner, &sysadmin_job_name(spec, owner)),
        spec: Some(JobSpec { backoff_limit: Some(2), template: pod, ..Default::default() }),
        ..Default::default()
    }
}

/// What a maintenance pod has at CKAN's storage path, where CKAN creates its folders as it
/// starts. No maintenance command reads the uploads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Storage {
    /// An empty directory: the web pods hold the uploads claim (ReadWriteOnce), which a pod
    /// on another node could not mount.
    Empty,
    /// The uploads claim, before any web pod exists: the scheduler binds it (and a
    /// WaitForFirstConsumer class such as local-path makes the volume) while the database
    /// is made, instead of holding the first web pods back until it is. Measured on the real
    /// node: 15 to 50 s per node when five start at once (docs/benchmarks.md, `serving`).
    Uploads,
}

/// A one-off CKAN command in a Job's pod, with the node's configuration and `storage`.
fn maintenance_pod(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    release: &Release,
    storage: Storage,
    command: &[&str],
) -> PodTemplateSpec {
    let container = Container {
        command: Some(command.iter().map(|c| (*c).to_owned()).collect()),
        // A request reserves CPU the Job holds only for its seconds of start-up (no CPU limit
        // is set: it uses what is idle), so that a small cluster still schedules it.
        resources: Some(default_resources("100m", "1Gi")),
        // A failed step's last log lines become its termination message, which the node's
        // status quotes (a migration's error, not only "backoff limit reached").
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        volume_mounts: Some(vec![config_mount(), mount("storage", config::STORAGE_PATH), mount("tmp", "/tmp")]),
        ..ckan_container(spec, owner, release)
    };
    ckan_pod_template(
        spec,
        owner,
        component::MAINTENANCE,
        release,
        PodSpec {
            containers: vec![container],
            volumes: Some(vec![
                config_volume(owner),
                match storage {
                    Storage::Empty => empty_dir("storage"),
                    Storage::Uploads => Volume { name: "storage".into(), ..uploads_volume(owner) },
                },
                empty_dir("tmp"),
            ]),
            restart_policy: Some("Never".into()),
            ..Default::default()
        },
    )
}

fn uploads_claim(spec: &CatalogNodeSpec, owner: &Owner) -> PersistentVolumeClaim {
    // Several web replicas mount the same uploads: that needs a ReadWriteMany class.
    let mode = if spec.replicas > 1 { "ReadWriteMany" } else { "ReadWriteOnce" };
    claim(owner, &Names::new(owner).uploads(), component::STORAGE, &spec.storage, mode)
}

fn solr_statefulset(owner: &Owner, solr: &ManagedSolr, ckan_version: &str) -> StatefulSet {
    let name = Names::new(owner).solr();
    let container = Container {
        name: "solr".into(),
        image: Some(solr_image(solr, ckan_version)),
        ports: Some(vec![container_port("solr", 8983)]),
        readiness_probe: Some(http_probe("/solr/ckan/admin/ping", "solr", 20, 10)),
        liveness_probe: Some(http_probe("/solr/ckan/admin/ping", "solr", 60, 20)),
        resources: solr.resources.clone().or_else(|| Some(default_resources("250m", "1Gi"))),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![mount("data", "/var/solr"), mount("tmp", "/tmp")]),
        ..Default::default()
    };
    StatefulSet {
        metadata: metadata(owner, &name, component::SEARCH),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(name),
            selector: selector(owner, component::SEARCH),
            template: pod_template(
                owner,
                component::SEARCH,
                workloads::IMAGE_UID,
                PodSpec { containers: vec![container], volumes: Some(vec![empty_dir("tmp")]), ..Default::default() },
            ),
            volume_claim_templates: Some(vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("data".into()),
                    labels: Some(owner.labels(component::SEARCH)),
                    ..Default::default()
                },
                spec: Some(workloads::claim_spec(&solr.storage, "ReadWriteOnce")),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn redis_deployment(owner: &Owner, redis: &ManagedRedis) -> Deployment {
    let container = Container {
        name: "redis".into(),
        image: Some(redis.image.clone().unwrap_or_else(|| REDIS_IMAGE.to_owned())),
        // A cache and job queue: nothing to persist.
        args: Some(vec!["--save".into(), String::new(), "--appendonly".into(), "no".into()]),
        ports: Some(vec![container_port("redis", 6379)]),
        readiness_probe: Some(tcp_probe("redis", 10)),
        liveness_probe: Some(tcp_probe("redis", 20)),
        resources: redis.resources.clone().or_else(|| Some(default_resources("50m", "128Mi"))),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![mount("data", "/data")]),
        ..Default::default()
    };
    Deployment {
        metadata: metadata(owner, &Names::new(owner).redis(), component::REDIS),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: selector(owner, component::REDIS),
            template: pod_template(
                owner,
                component::REDIS,
                workloads::IMAGE_UID,
                PodSpec { containers: vec![container], volumes: Some(vec![empty_dir("data")]), ..Default::default() },
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ingress(spec: &CatalogNodeSpec, owner: &Owner) -> Ingress {
    workloads::ingress(owner, component::WEB, route(spec, owner))
}

/// The node's public route: its host name to the CKAN Service.
fn route<'a>(spec: &'a CatalogNodeSpec, owner: &Owner) -> Route<'a> {
    Route {
        host: &spec.hostname,
        path: "/",
        service: Names::new(owner).web(),
        port: "http",
        class_name: spec.ingress.class_name.clone(),
        annotations: spec.ingress.annotations.clone(),
        tls: spec.ingress.tls.as_ref(),
    }
}

/// Labels as a plain map, for tests and status.
pub fn labels_of(child: &Child) -> BTreeMap<String, String> {
    serde_json::from_value(child.object["metadata"]["labels"].clone()).unwrap_or_default()
}
