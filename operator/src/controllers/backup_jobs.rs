//! Backups to an object store, as pure builders shared by the kinds that have them (a
//! CatalogNode's database and files, a ReusableSolution's managed database): the pod that runs
//! `mediana backup run` (docs/backup.md) in the PostgreSQL image, with the store's keys as
//! files; the CronJob and the Jobs of `mediana.dev/backup-now`; and what the finished backup
//! Jobs say in the status. The PostgreSQL image has `pg_dump` and `tar`; an init container
//! copies the `mediana` command from the operator's image into the pod, as CloudNativePG
//! gives its instance pods its manager.

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, KeyToPath, Pod, PodSpec, PodTemplateSpec, ProjectedVolumeSource, SecretProjection,
    Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{ListParams, ObjectMeta};
use kube::{Api, Client};

use super::Error;
use super::children::metadata;
use super::children::{COMPONENT_LABEL, Owner, fingerprint};
use super::conditions::{ConditionType, DesiredCondition, Reason};
use super::workloads::{self, default_resources, empty_dir, env, mount, pod_template, restricted_container_security};
use crate::api::shared::{BackupStatus, ObjectStoreSpec, SecretKeyRef};
use crate::backup::Report;

/// The component label of backup pods, Jobs and CronJobs.
pub const COMPONENT: &str = "backup";

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

/// What a pod of a PostgreSQL image that acts on an object's data (a backup, a restore) is
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

/// A pod of `image`, mediana's PostgreSQL image (which has the PostgreSQL client and `tar`),
/// run restricted, whose termination message is its report, or on failure its log's end.
pub fn postgres_tool_pod(owner: &Owner, component: &str, image: String, pod: ToolPod<'_>) -> PodTemplateSpec {
    let ToolPod { container, mut volumes, init, affinity, restart } = pod;
    volumes.push(empty_dir("tmp"));
    pod_template(
        owner,
        component,
        workloads::IMAGE_UID,
        PodSpec {
            init_containers: init.map(|c| vec![c]),
            containers: vec![Container {
                image: Some(image),
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

/// What `mediana backup run` backs up to a store, and how.
pub struct StoreBackup<'a> {
    /// The object's name: its folder in the store.
    pub node: &'a str,
    /// The store.
    pub store: &'a ObjectStoreSpec,
    /// The database's libpq URL, as a variable from a Secret (renamed here).
    pub database_url: EnvVar,
    /// Keep the newest N complete backups.
    pub keep: i32,
    /// Remove complete backups older than this many days.
    pub max_age_days: Option<u32>,
    /// CKAN's version, recorded in the manifest of a CatalogNode's backup.
    pub ckan_version: Option<&'a str>,
    /// The files to archive beside the database: a volume, mounted read-only at the path.
    pub files: Option<(Volume, &'a str)>,
    /// The operator's image, whose `mediana` the pod runs.
    pub operator_image: &'a str,
}

/// The container, volumes and init container of a backup pod writing to the store.
pub fn to_store(backup: StoreBackup<'_>) -> (Container, Vec<Volume>, Container) {
    let mut vars = store_env(backup.store);
    vars.extend([
        EnvVar { name: "MEDIANA_BACKUP_DATABASE_URL".into(), ..backup.database_url },
        env("MEDIANA_BACKUP_NODE", backup.node),
        env("MEDIANA_BACKUP_KEEP", backup.keep.to_string()),
        env("MEDIANA_BACKUP_REPORT", TERMINATION_LOG),
    ]);
    vars.extend(backup.ckan_version.map(|v| env("MEDIANA_BACKUP_CKAN_VERSION", v)));
    vars.extend(backup.max_age_days.map(|days| env("MEDIANA_BACKUP_MAX_AGE_DAYS", days.to_string())));
    let mut mounts = vec![tools_mount(), store_mount(), mount("tmp", "/tmp")];
    let mut volumes = vec![empty_dir("tools"), store_volume(backup.store)];
    if let Some((volume, path)) = backup.files {
        vars.push(env("MEDIANA_BACKUP_FILES_DIR", path));
        mounts.insert(2, VolumeMount { read_only: Some(true), ..mount(&volume.name, path) });
        volumes.push(volume);
    }
    let container = Container {
        name: "backup".into(),
        command: Some(vec![MEDIANA_IN_POD.into(), "backup".into(), "run".into()]),
        env: Some(vars),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    (container, volumes, copy_mediana(backup.operator_image))
}

/// The Job spec of one backup: its pod, retried once (a store that does not answer has
/// already been retried for about a minute inside the run).
pub fn job_spec(template: PodTemplateSpec) -> JobSpec {
    JobSpec { backoff_limit: Some(1), template, ..Default::default() }
}

/// The backup CronJob `name` running `job` on `schedule`, one at a time.
pub fn cronjob(owner: &Owner, name: &str, schedule: &str, time_zone: Option<&str>, job: JobSpec) -> CronJob {
    CronJob {
        metadata: metadata(owner, name, COMPONENT),
        spec: Some(CronJobSpec {
            schedule: schedule.to_owned(),
            time_zone: time_zone.map(str::to_owned),
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            job_template: JobTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(owner.labels(COMPONENT)), ..Default::default() }),
                spec: Some(job),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Job of one value of [`BACKUP_NOW_ANNOTATION`]: `job`, named after the CronJob `name`.
pub fn now_job(owner: &Owner, name: &str, value: &str, job: JobSpec) -> Job {
    let name = format!("{name}-now-{}", &fingerprint(value)[..8]);
    Job { metadata: metadata(owner, &name, COMPONENT), spec: Some(job), ..Default::default() }
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

/// The owner's finished backup Jobs (scheduled, on demand, before upgrades) summed up; only
/// the newest success and the newest failure have their pods read, for their messages.
pub async fn observe(client: &Client, owner: &Owner, recorded: Option<&BackupStatus>) -> Result<Summary, Error> {
    let jobs: Api<Job> = Api::namespaced(client.clone(), &owner.namespace);
    let selector = format!("{},{COMPONENT_LABEL}={COMPONENT}", owner.children_selector());
    let listed = jobs.list(&ListParams::default().labels(&selector)).await?.items;
    let done: Vec<Finished> = listed.iter().filter_map(finished).collect();
    let newest =
        |succeeded: bool| done.iter().filter(|f| f.succeeded == succeeded).max_by(|a, b| a.time.cmp(&b.time)).cloned();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &owner.namespace);
    let mut read = Vec::new();
    for mut job in [newest(true), newest(false)].into_iter().flatten() {
        let of_job = ListParams::default().labels(&format!("{}={}", workloads::JOB_NAME_LABEL, job.job));
        let listed = pods.list(&of_job).await?.items;
        job.message = if job.succeeded {
            listed.iter().find_map(workloads::success_message)
        } else {
            listed.iter().find_map(workloads::termination_summary)
        };
        read.push(job);
    }
    Ok(summarize(read, recorded))
}

/// A Warning Event when a backup failure is new: the condition's message (which names the
/// failed Job) differs from the one `before` holds.
pub async fn announce_failure<K: kube::Resource<DynamicType = ()>>(
    ctx: &super::Context,
    object: &K,
    before: &[Condition],
    condition: &DesiredCondition,
) {
    if condition.status {
        return;
    }
    let before = super::conditions::find(before, condition.type_);
    if before.is_none_or(|c| c.message != condition.message) {
        let (warning, reason) = (kube::runtime::events::EventType::Warning, condition.reason.as_str());
        super::publish(ctx, object, warning, reason, &condition.message).await;
    }
}
