//! The restore of a new node from a backup (`spec.restore`), as pure builders: the pod that
//! runs `mediana backup restore` (docs/backup.md) in the PostgreSQL image before CKAN first
//! starts, and the name of its Job. The steps after it (migration, web, index rebuild) are
//! the install's, planned in [`super::upgrade`].

use k8s_openapi::api::core::v1::{Container, EnvVar, PodTemplateSpec};

use super::backups::{self, BackupContext};
use super::builders::uploads_volume;
use super::config;
use super::environment::component;
use crate::api::catalog_node::{CatalogNodeSpec, RestoreSpec};
use crate::controllers::Error;
use crate::controllers::backup_jobs::{self, TERMINATION_LOG, ToolPod};
use crate::controllers::children::{Owner, fingerprint};
use crate::controllers::workloads::{empty_dir, env, mount};

/// Where the restore pod downloads the backup (an emptyDir: room for the whole backup).
const WORK_DIR: &str = "/var/lib/mediana/restore";

/// The name of the restore Job: one per `spec.restore`, so that a restore pointed at another
/// backup after a failure is a new Job, while the failed one stays as its record.
pub fn job_name(owner: &Owner, restore: &RestoreSpec) -> String {
    let what = serde_json::to_string(restore).unwrap_or_default();
    owner.child_name(&format!("restore-{}", &fingerprint(&what)[..8]))
}

/// The node whose backup is restored: the one `spec.restore.node` names, else this one.
pub fn source_node<'a>(owner: &'a Owner, restore: &'a RestoreSpec) -> &'a str {
    restore.node.as_deref().unwrap_or(&owner.instance)
}

/// The restore pod: `mediana backup restore` with the store's keys as files, the uploads
/// claim writable (no web pod holds it yet) and the database through the node's URL.
pub fn pod(spec: &CatalogNodeSpec, owner: &Owner, context: BackupContext<'_>) -> Result<PodTemplateSpec, Error> {
    let restore = spec.restore.as_ref().ok_or(Error::MissingObjectKey("spec.restore"))?;
    let store = &restore.object_store;
    let mut vars = backup_jobs::store_env(store);
    vars.extend([
        EnvVar { name: "MEDIANA_BACKUP_DATABASE_URL".into(), ..backups::database_url(spec, owner)? },
        env("MEDIANA_BACKUP_NODE", source_node(owner, restore)),
        env("MEDIANA_BACKUP_NAME", restore.backup.clone()),
        env("MEDIANA_BACKUP_WORK_DIR", WORK_DIR),
        env("MEDIANA_BACKUP_FILES_DIR", config::STORAGE_PATH),
        env("MEDIANA_BACKUP_REPORT", TERMINATION_LOG),
    ]);
    let container = Container {
        name: "restore".into(),
        command: Some(vec![backup_jobs::MEDIANA_IN_POD.into(), "backup".into(), "restore".into()]),
        env: Some(vars),
        volume_mounts: Some(vec![
            backup_jobs::tools_mount(),
            backup_jobs::store_mount(),
            mount("uploads", config::STORAGE_PATH),
            mount("work", WORK_DIR),
            mount("tmp", "/tmp"),
        ]),
        ..Default::default()
    };
    let volumes = vec![empty_dir("tools"), backup_jobs::store_volume(store), uploads_volume(owner), empty_dir("work")];
    let init = Some(backup_jobs::copy_mediana(context.operator_image));
    let pod = ToolPod { container, volumes, init, affinity: None, restart: "Never" };
    Ok(backups::tool_pod(spec, owner, component::RESTORE, pod))
}
