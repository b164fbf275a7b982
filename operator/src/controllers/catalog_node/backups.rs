//! A node's backups, as pure builders: the pod that backs the node up (to an object store,
//! with the shared builders of [`backup_jobs`], or as database dumps on a volume), the
//! CronJob that runs it on schedule, and the Job of each `mediana.dev/backup-now` value.

use k8s_openapi::api::batch::v1::{CronJob, Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Affinity, Container, EnvVar, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodAffinity,
    PodAffinityTerm, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::config;
use super::environment::{Names, ckan_env, component, managed_database};
use crate::api::catalog_node::{BackupSpec, CatalogNodeSpec};
use crate::controllers::Error;
use crate::controllers::backup_jobs::{self, StoreBackup, TERMINATION_LOG, ToolPod};
use crate::controllers::children::Owner;
use crate::controllers::workloads::{self, claim, mount};

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
    let job = job_spec(spec, owner, backup, context)?;
    let name = Names::new(owner).backup();
    Ok(Some(backup_jobs::cronjob(owner, &name, &backup.schedule, backup.time_zone.as_deref(), job)))
}

/// The Job of one value of the backup-now annotation: the scheduled backup's, run once.
pub fn now_job(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    context: BackupContext<'_>,
    value: &str,
) -> Result<Option<Job>, Error> {
    let Some(backup) = &spec.backup else { return Ok(None) };
    let job = job_spec(spec, owner, backup, context)?;
    Ok(Some(backup_jobs::now_job(owner, &Names::new(owner).backup(), value, job)))
}

fn job_spec(
    spec: &CatalogNodeSpec,
    owner: &Owner,
    backup: &BackupSpec,
    context: BackupContext<'_>,
) -> Result<JobSpec, Error> {
    Ok(backup_jobs::job_spec(pod(spec, owner, backup, context, "Never")?))
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
        Some(store) => {
            let uploads = Volume {
                name: "uploads".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: Names::new(owner).uploads(),
                    read_only: Some(true),
                }),
                ..Default::default()
            };
            let (container, volumes, init) = backup_jobs::to_store(StoreBackup {
                node: &owner.instance,
                store,
                database_url,
                keep: backup.retention,
                max_age_days: backup.max_age_days,
                ckan_version: Some(context.ckan_version),
                files: Some((uploads, config::STORAGE_PATH)),
                operator_image: context.operator_image,
            });
            (container, volumes, Some(init))
        }
        None => to_volume(owner, backup, database_url),
    };
    let affinity = beside_the_web(spec, owner, backup);
    Ok(tool_pod(spec, owner, component::BACKUP, ToolPod { container, volumes, init, affinity, restart }))
}

/// A pod of the node's PostgreSQL image that acts on its data (a backup, a restore); an
/// external database is dumped with the default version's client.
pub fn tool_pod(spec: &CatalogNodeSpec, owner: &Owner, component: &str, pod: ToolPod<'_>) -> PodTemplateSpec {
    let image = workloads::postgres_image(&managed_database(spec).unwrap_or_default());
    backup_jobs::postgres_tool_pod(owner, component, image, pod)
}

/// The node's database URL, from the node's Secret, as the variable CKAN reads it.
pub fn database_url(spec: &CatalogNodeSpec, owner: &Owner) -> Result<EnvVar, Error> {
    ckan_env(spec, owner)
        .into_iter()
        .find(|v| v.name == "CKAN_SQLALCHEMY_URL")
        .ok_or(Error::MissingObjectKey("database URL"))
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
