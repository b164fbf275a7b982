//! A node's backups, as pure builders: the pod that backs the node up (to an object store,
//! or as database dumps on a volume), the CronJob that runs it on schedule, the Job of each
//! `mediana.dev/backup-now` value, and what a finished backup Job says in the status.
//!
//! To an object store, the pod runs `mediana backup run` (docs/backup.md) in the PostgreSQL
//! image, which has `pg_dump` and `tar`: an init container copies the `mediana` command from
//! the operator's image into the pod, as CloudNativePG gives its instance pods its manager.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, KeyToPath, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodAffinity,
    PodAffinityTerm, PodSpec, PodTemplateSpec, ProjectedVolumeSource, SecretProjection, Volume, VolumeMount,
    VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::ObjectMeta;

use super::builders::{Names, ckan_env, component, managed_database};
use super::config;
use crate::api::catalog_node::{BackupSpec, BackupStatus, CatalogNodeSpec};
use crate::api::shared::{ObjectStoreSpec, SecretKeyRef};
use crate::backup::Report;
use crate::controllers::Error;
use crate::controllers::children::{Owner, fingerprint};
use crate::controllers::conditions::{ConditionType, DesiredCondition, Reason};
use crate::controllers::workloads::{
    self, claim, default_resources, empty_dir, env, metadata, mount, pod_template, restricted_container_security,
};

/// The annotation whose every new value runs one backup now, like `mediana.dev/run-now`
/// for a HarvestJob.
pub const BACKUP_NOW_ANNOTATION: &str = "mediana.dev/backup-now";

/// Where the pod finds the store's keys and CA (a projected volume of the Secrets named).
const STORE_DIR: &str = "/etc/mediana/store";
/// Where the init container puts the `mediana` command.
const TOOLS_DIR: &str = "/mediana";
/// The `mediana` command in a pod that [`copy_mediana`] gave it.
pub const MEDIANA_IN_POD: &str = "/mediana/mediana";
/// The operator image's `mediana` (its entrypoint).
const OPERATOR_PROGRAM: &str = "/usr/local/bin/mediana";
/// The termination log, which the kubelet copies into the pod's status.
pub const TERMINATION_LOG: &str = "/dev/termination-log";

/// What a backup pod needs besides the spec: the operator's image (for the `mediana`
/// command) and the CKAN version whose database it dumps, recorded in the manifest.
#[derive(Clone, Copy, Debug)]
pub struct BackupContext<'a> {
    /// The operator's own image.
    pub operator_image: &'a str,
    /// The CKAN version serving the database being backed up.
    pub ckan_version: &'a str,
}

/// The backup volume, when dumps go to one (no object store).
pub fn claim_of(spec: &CatalogNodeSpec, owner: &Owner) -> Option<PersistentVolumeClaim> {
    let backup = spec.backup.as_ref().filter(|b| b.object_store.is_none())?;
    Some(claim(owner, &Names::new(owner).backup(), component::BACKUP, &backup.storage, "ReadWriteOnce"))
}

/// The backup CronJob, when backups are configured.
pub fn cronjob(spec: &CatalogNodeSpec, owner: &Owner, context: BackupContext<'_>) -> Result<Option<CronJob>, Error> {
    let Some(backup) = &spec.backup else { return Ok(None) };
    Ok(Some(CronJob {
        metadata: metadata(owner, &Names::new(owner).backup(), component::BACKUP),
        spec: Some(CronJobSpec {
            schedule: backup.schedule.clone(),
            time_zone: backup.time_zone.clone(),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(owner.labels(component::BACKUP)), ..Default::default() }),
                spec: Some(job_spec(spec, owner, backup, context)?),
            },
            ..Default::default()
        }),
        ..Default::default()
    }))
}

/// The Job of one value of [`BACKUP_NOW_ANNOTATION`]: the scheduled backup's, run once.
pub fn now_job(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    context: BackupContext<'_>,
    value: &str,
) -> Result<Option<Job>, Error> {
    let Some(backup) = &spec.backup else { return Ok(None) };
    let name = format!("{}-now-{}", Names::new(owner).backup(), &fingerprint(value)[..8]);
    Ok(Some(Job {
        metadata: metadata(owner, &name, component::BACKUP),
        spec: Some(job_spec(spec, owner, backup, context)?),
        ..Default::default()
    }))
}

fn job_spec(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    backup: &BackupSpec,
    context: BackupContext<'_>,
) -> Result<JobSpec, Error> {
    Ok(JobSpec {
        // One retry: a store that does not answer has already been retried for about a
        // minute inside the run.
        backoff_limit: Some(1),
        template: pod(spec, owner, backup, context, "Never")?,
        ..Default::default()
    })
}

/// The pod that backs the node up once, to the object store when one is given, else to the
/// backup volume.
pub fn pod(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    backup: &BackupSpec,
    context: BackupContext<'_>,
    restart: &str,
) -> Result<PodTemplateSpec, Error> {
    let database_url = database_url(spec, owner)?;
    let (container, volumes, init) = match &backup.object_store {
        Some(store) => to_store(owner, backup, store, context, database_url),
        None => to_volume(owner, backup, database_url),
    };
    let affinity = beside_the_web(spec, owner, backup);
    Ok(postgres_tool_pod(spec, owner, component::BACKUP, ToolPod { container, volumes, init, affinity, restart }))
}

/// The node's database URL, from the node's Secret, as the variable CKAN reads it.
pub fn database_url(spec: &CatalogNodeSpec, owner: &Owner) -> Result<EnvVar, Error> {
    ckan_env(spec, owner)
        .into_iter()
        .find(|v| v.name == "CKAN_SQLALCHEMY_URL")
        .ok_or(Error::MissingObjectKey("database URL"))
}

/// What a pod of the PostgreSQL image that acts on the node's data (a backup, a restore) is
/// made of besides that image.
pub struct ToolPod<'a> {
    /// The container, without image, resources and security (the pod sets them).
    pub container: Container,
    /// The pod's volumes (a `tmp` directory is added).
    pub volumes: Vec<Volume>,
    /// The init container, e.g. [`copy_mediana`].
    pub init: Option<Container>,
    /// Where the pod may run.
    pub affinity: Option<Affinity>,
    /// The pod's restart policy.
    pub restart: &'a str,
}

/// A pod of the node's PostgreSQL image (which has the PostgreSQL client and `tar`), run
/// restricted, whose termination message is its report, or on failure its log's end.
pub fn postgres_tool_pod(spec: &CatalogNodeSpec, owner: &Owner, component: &str, pod: ToolPod<'_>) -> PodTemplateSpec {
    let ToolPod { container, mut volumes, init, affinity, restart } = pod;
    volumes.push(empty_dir("tmp"));
    pod_template(
        owner,
        component,
        workloads::IMAGE_UID,
        PodSpec {
            init_containers: init.map(|c| vec![c]),
            containers: vec![Container {
                // An external database is dumped with the default version's client.
                image: Some(workloads::postgres_image(&managed_database(spec).unwrap_or_default())),
                resources: Some(default_resources("100m", "256Mi")),
                security_context: Some(restricted_container_security()),
                // The report on success; on failure the log's end, which the status quotes.
                termination_message_policy: Some("FallbackToLogsOnError".into()),
                ..container
            }],
            restart_policy: Some(restart.into()),
            volumes: Some(volumes),
            affinity,
            ..Default::default()
        },
    )
}

/// `mediana backup run` to the store: the database and the uploaded files.
fn to_store(
    owner: &Owner,
    backup: &BackupSpec,
    store: &ObjectStoreSpec,
    context: BackupContext<'_>,
    database_url: EnvVar,
) -> (Container, Vec<Volume>, Option<Container>) {
    let mut vars = store_env(store);
    vars.extend([
        EnvVar { name: "MEDIANA_BACKUP_DATABASE_URL".into(), ..database_url },
        env("MEDIANA_BACKUP_NODE", owner.instance.clone()),
        env("MEDIANA_BACKUP_CKAN_VERSION", context.ckan_version),
        env("MEDIANA_BACKUP_FILES_DIR", config::STORAGE_PATH),
        env("MEDIANA_BACKUP_KEEP", backup.retention.to_string()),
        env("MEDIANA_BACKUP_REPORT", TERMINATION_LOG),
    ]);
    if let Some(days) = backup.max_age_days {
        vars.push(env("MEDIANA_BACKUP_MAX_AGE_DAYS", days.to_string()));
    }
    let container = Container {
        name: "backup".into(),
        command: Some(vec![MEDIANA_IN_POD.into(), "backup".into(), "run".into()]),
        env: Some(vars),
        volume_mounts: Some(vec![
            tools_mount(),
            store_mount(),
            VolumeMount { read_only: Some(true), ..mount("uploads", config::STORAGE_PATH) },
            mount("tmp", "/tmp"),
        ]),
        ..Default::default()
    };
    let uploads = Volume {
        name: "uploads".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: Names::new(owner).uploads(),
            read_only: Some(true),
        }),
        ..Default::default()
    };
    let volumes = vec![empty_dir("tools"), store_volume(store), uploads];
    (container, volumes, Some(copy_mediana(context.operator_image)))
}

/// The environment that tells `mediana backup` where the store is and where its keys are
/// (files of [`store_volume`], never the keys themselves).
pub fn store_env(store: &ObjectStoreSpec) -> Vec<EnvVar> {
    let mut vars = vec![
        env("MEDIANA_BACKUP_STORE", store.destination_path.clone()),
        env("MEDIANA_BACKUP_ENDPOINT", store.endpoint_url.clone()),
        env("MEDIANA_BACKUP_REGION", store.region.clone().unwrap_or_else(|| crate::backup::DEFAULT_REGION.into())),
        env("MEDIANA_BACKUP_ACCESS_KEY_ID_FILE", format!("{STORE_DIR}/access-key-id")),
        env("MEDIANA_BACKUP_SECRET_ACCESS_KEY_FILE", format!("{STORE_DIR}/secret-access-key")),
    ];
    if store.endpoint_ca.is_some() {
        vars.push(env("MEDIANA_BACKUP_CA_BUNDLE", format!("{STORE_DIR}/ca.pem")));
    }
    vars
}

/// The store's keys and CA as files in one directory, from the Secret keys the spec names.
pub fn store_volume(store: &ObjectStoreSpec) -> Volume {
    let file = |from: &SecretKeyRef, path: &str| VolumeProjection {
        secret: Some(SecretProjection {
            name: from.name.clone(),
            items: Some(vec![KeyToPath { key: from.key.clone(), path: path.into(), mode: None }]),
            optional: None,
        }),
        ..Default::default()
    };
    let credentials = &store.s3_credentials;
    let mut sources = vec![
        file(&credentials.access_key_id, "access-key-id"),
        file(&credentials.secret_access_key, "secret-access-key"),
    ];
    if let Some(ca) = &store.endpoint_ca {
        sources.push(file(ca, "ca.pem"));
    }
    Volume {
        name: "store".into(),
        projected: Some(ProjectedVolumeSource { sources: Some(sources), default_mode: Some(0o400) }),
        ..Default::default()
    }
}

/// The mount of [`store_volume`].
pub fn store_mount() -> VolumeMount {
    VolumeMount { read_only: Some(true), ..mount("store", STORE_DIR) }
}

/// The mount of the directory [`copy_mediana`] fills.
pub fn tools_mount() -> VolumeMount {
    mount("tools", TOOLS_DIR)
}

/// The init container that copies `mediana` from the operator's image into the pod.
pub fn copy_mediana(operator_image: &str) -> Container {
    Container {
        name: "mediana".into(),
        image: Some(operator_image.to_owned()),
        command: Some(vec![OPERATOR_PROGRAM.into(), "copy-to".into(), TOOLS_DIR.into()]),
        resources: Some(default_resources("10m", "32Mi")),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![tools_mount()]),
        ..Default::default()
    }
}

/// `pg_dump` onto the backup volume, keeping the newest `retention` dumps.
fn to_volume(owner: &Owner, backup: &BackupSpec, database_url: EnvVar) -> (Container, Vec<Volume>, Option<Container>) {
    let container = Container {
        name: "backup".into(),
        command: Some(vec!["/bin/sh".into(), "-c".into(), volume_script(&owner.instance, backup.retention)]),
        env: Some(vec![EnvVar { name: "DATABASE_URL".into(), ..database_url }]),
        volume_mounts: Some(vec![mount("backups", "/backups"), mount("tmp", "/tmp")]),
        ..Default::default()
    };
    let volume = Volume {
        name: "backups".into(),
        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
            claim_name: Names::new(owner).backup(),
            read_only: None,
        }),
        ..Default::default()
    };
    (container, vec![volume], None)
}

/// The shell script of a backup to the volume: dump, keep the newest `retention` dumps,
/// report. The dump is written under a `.partial` name and renamed once complete; a failed
/// dump removes it, so the volume only ever holds complete dumps and retention never counts
/// a broken one.
pub fn volume_script(instance: &str, retention: i32) -> String {
    format!(
        "set -eu\n\
         start=$(date -u +%s)\n\
         name={instance}-$(date -u +%Y%m%dT%H%M%SZ)\n\
         out=/backups/$name.dump\n\
         trap 'rm -f \"$out.partial\"' EXIT\n\
         pg_dump --format=custom --file=\"$out.partial\" \"$DATABASE_URL\"\n\
         mv \"$out.partial\" \"$out\"\n\
         ls -1t /backups/{instance}-*.dump | tail -n +{keep} | xargs -r rm -f --\n\
         echo \"backup written: $out\"\n\
         printf '{{\"name\":\"%s\",\"location\":\"%s\",\"sizeBytes\":%s,\"seconds\":%s}}' \
         \"$name\" \"$out\" \"$(stat -c %s \"$out\")\" \"$(($(date -u +%s) - start))\" >{TERMINATION_LOG}\n",
        keep = retention + 1
    )
}

/// With one web replica the uploads are a ReadWriteOnce volume, which only pods on the web
/// pod's node can mount: the backup pod goes there.
fn beside_the_web(spec: &CatalogNodeSpec, owner: &Owner, backup: &BackupSpec) -> Option<Affinity> {
    if backup.object_store.is_none() || spec.replicas > 1 {
        return None;
    }
    Some(Affinity {
        pod_affinity: Some(PodAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                label_selector: Some(LabelSelector {
                    match_labels: Some(owner.labels(component::WEB)),
                    ..Default::default()
                }),
                topology_key: "kubernetes.io/hostname".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// What a backup Job that succeeded reports: its pod's termination message when the pod
/// wrote one, else only its completion.
fn succeeded(job: &str, completed: &str, message: Option<&str>) -> BackupStatus {
    let report = message.and_then(Report::parse);
    BackupStatus {
        time: completed.to_owned(),
        job: job.to_owned(),
        name: report.as_ref().map(|r| r.name.clone()),
        location: report.as_ref().map(|r| r.location.clone()),
        size_bytes: report.as_ref().map(|r| r.size_bytes),
        duration: report.map(|r| format!("{:.1}s", r.seconds)),
    }
}

/// A backup Job that finished, as the controller found it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    /// The Job's name.
    pub job: String,
    /// When it finished (RFC 3339, UTC).
    pub time: String,
    /// Its pod's termination message (the report, or the end of a failed run's log).
    pub message: Option<String>,
    /// Whether it succeeded.
    pub succeeded: bool,
}

/// What the finished backup Jobs say: the newest backup that completed (or the one the status
/// already records, whose Job may be gone), and the newest failure after it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// `status.lastBackup`.
    pub last: Option<BackupStatus>,
    /// The Job that failed after the last backup, and why.
    pub failure: Option<(String, String)>,
}

/// Sums the finished backup Jobs up (RFC 3339 times in UTC compare as text).
pub fn summarize(mut finished: Vec<Finished>, recorded: Option<&BackupStatus>) -> Summary {
    finished.sort_by(|a, b| a.time.cmp(&b.time));
    let newest_success =
        finished.iter().filter(|f| f.succeeded).map(|f| succeeded(&f.job, &f.time, f.message.as_deref())).next_back();
    let last = [newest_success, recorded.cloned()].into_iter().flatten().max_by(|a, b| a.time.cmp(&b.time));
    let after = last.as_ref().map_or("", |l| l.time.as_str());
    let failure = finished
        .iter()
        .rfind(|f| !f.succeeded && f.time.as_str() > after)
        .map(|f| (f.job.clone(), f.message.clone().unwrap_or_else(|| "the Job failed".into())));
    Summary { last, failure }
}

/// `LastBackupSucceeded`, once a backup Job has finished.
pub fn condition(summary: &Summary) -> Option<DesiredCondition> {
    let last = summary.last.as_ref().map(|l| match (&l.name, &l.location) {
        (Some(name), Some(location)) => format!("backup {name} at {location}, completed {}", l.time),
        _ => format!("Job {} completed {}", l.job, l.time),
    });
    match (&summary.failure, last) {
        (Some((job, why)), last) => Some(DesiredCondition::false_(
            ConditionType::LastBackupSucceeded,
            Reason::BackupFailed,
            format!("backup Job {job} failed: {why}; the last good backup: {}", last.as_deref().unwrap_or("none")),
        )),
        (None, Some(last)) => {
            Some(DesiredCondition::true_(ConditionType::LastBackupSucceeded, Reason::BackupCompleted, last))
        }
        (None, None) => None,
    }
}

/// A backup Job that finished, without its pod's message yet; `None` while it runs.
pub fn finished(job: &Job) -> Option<Finished> {
    let status = job.status.as_ref()?;
    let holds =
        |type_: &str| status.conditions.as_ref()?.iter().find(|c| c.type_ == type_ && c.status == "True").cloned();
    let (succeeded, time) = match (holds("Complete"), holds("Failed")) {
        (Some(complete), _) => (true, status.completion_time.clone().or(complete.last_transition_time)),
        (None, Some(failed)) => (false, failed.last_transition_time),
        (None, None) => return None,
    };
    Some(Finished {
        job: job.metadata.name.clone()?,
        time: time.map(|t| t.0.to_string()).unwrap_or_default(),
        message: None,
        succeeded,
    })
}
