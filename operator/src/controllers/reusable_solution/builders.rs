//! The desired children of a ReusableSolution, as pure functions of its spec: no client, no
//! clock, no randomness.
//!
//! For a solution `s` and each component `c`: Deployment `s-c`, Service `s-c` (when `c` has
//! ports), PersistentVolumeClaim `s-c-<volume>` per volume, NetworkPolicy `s-c`, and
//! PodDisruptionBudget `s-c` when it has more than one replica. The exposure is the Ingress
//! `s`; the managed database is the StatefulSet and Service `s-postgres` with the Secret
//! `s-db`, built by the same code as a CatalogNode's.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Container, PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, Probe,
    SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};

use crate::api::reusable_solution::{Component, ComponentVolume, Exposure, HttpProbe, MAX_ID, ReusableSolutionSpec};
use crate::api::shared::StorageSpec;
use crate::controllers::Error;
use crate::controllers::backup_jobs::{self, StoreBackup, ToolPod};
use crate::controllers::children::metadata;
use crate::controllers::children::{Child, Owner};
use crate::controllers::secrets::GeneratedSecret;
use crate::controllers::workloads::{
    self, Route, admit, claim, container_port, default_resources, disruption_budget, empty_dir, http_probe, mount,
    network_policy, pods_of, restricted_container_security, restricted_pod_security_as, secured_pod_template, selector,
    service,
};
use crate::controllers::workloads::{postgres_credentials, postgres_secret_name};

/// Component label of the managed PostgreSQL; no component of a solution with a database
/// may take this name (the CRD refuses it).
pub const DATABASE_COMPONENT: &str = "postgres";

/// Name of the managed database and of its owner role.
pub const DATABASE_NAME: &str = "app";

/// Seconds before a component's first liveness check beyond its first readiness check: a
/// slow start makes a pod unready, never restarts it.
const LIVENESS_GRACE: i32 = 30;

/// Name of a component's Deployment, Service, NetworkPolicy and PodDisruptionBudget.
pub fn component_name(owner: &Owner, component: &Component) -> String {
    owner.child_name(&component.name)
}

/// Name of the claim of one volume of a component.
pub fn claim_name(owner: &Owner, component: &Component, volume: &ComponentVolume) -> String {
    owner.child_name(&format!("{}-{}", component.name, volume.name))
}

/// The backup CronJob `<solution>-backup` of the managed database, and the Job of a
/// `mediana.dev/backup-now` value when given; none without `spec.backup`.
pub fn backup_children(
    spec: &ReusableSolutionSpec,
    owner: &Owner,
    operator_image: &str,
    now: Option<&str>,
) -> Result<Vec<Child>, Error> {
    let (Some(backup), Some(database)) = (&spec.backup, &spec.database) else { return Ok(Vec::new()) };
    let url = workloads::env_from_secret("DATABASE_URL", &postgres_secret_name(owner), "url");
    let (container, volumes, init) = backup_jobs::to_store(StoreBackup {
        node: &owner.instance,
        store: &backup.object_store,
        database_url: url,
        keep: backup.retention,
        max_age_days: backup.max_age_days,
        ckan_version: None,
        files: None,
        operator_image,
    });
    let pod = ToolPod { container, volumes, init: Some(init), affinity: None, restart: "Never" };
    let pod = backup_jobs::postgres_tool_pod(owner, backup_jobs::COMPONENT, workloads::postgres_image(database), pod);
    let job = backup_jobs::job_spec(pod);
    let name = owner.child_name(backup_jobs::COMPONENT);
    let mut children = vec![Child::new(&backup_jobs::cronjob(
        owner,
        &name,
        &backup.schedule,
        backup.time_zone.as_deref(),
        job.clone(),
    ))?];
    if let Some(value) = now {
        children.push(Child::new(&backup_jobs::now_job(owner, &name, value, job))?);
    }
    Ok(children)
}

/// The Secrets a solution needs generated: the managed database's credentials.
pub fn generated_secrets(spec: &ReusableSolutionSpec, owner: &Owner) -> Vec<GeneratedSecret> {
    spec.database.iter().map(|_| postgres_credentials(owner, DATABASE_COMPONENT, DATABASE_NAME)).collect()
}

/// The public URL of the exposure, if any.
pub fn url(spec: &ReusableSolutionSpec) -> Option<String> {
    spec.exposure.as_ref().map(|e| workloads::public_url(&e.host, &e.path, e.tls.is_some()))
}

/// Every child of a solution.
pub fn children(spec: &ReusableSolutionSpec, owner: &Owner) -> Result<Vec<Child>, Error> {
    let mut out = Vec::new();
    for component in &spec.components {
        out.push(Child::new(&deployment(owner, component))?);
        for volume in &component.volumes {
            out.push(Child::new(&volume_claim(owner, component, volume))?);
        }
        if !component.ports.is_empty() {
            let ports: Vec<(&str, i32)> = component.ports.iter().map(|p| (p.name.as_str(), p.container_port)).collect();
            out.push(Child::new(&service(owner, &component_name(owner, component), &component.name, &ports))?);
        }
        out.push(Child::new(&component_policy(owner, component, spec.exposure.as_ref()))?);
        if component.replicas > 1 {
            out.push(Child::new(&disruption_budget(owner, &component_name(owner, component), &component.name))?);
        }
    }
    if let Some(database) = &spec.database {
        let mut clients: Vec<&str> = spec.components.iter().map(|c| c.name.as_str()).collect();
        // The backup pods dump it.
        clients.extend(spec.backup.as_ref().map(|_| backup_jobs::COMPONENT));
        out.extend(workloads::managed_postgres(owner, DATABASE_COMPONENT, database, &clients)?);
    }
    if let Some(exposure) = &spec.exposure {
        out.push(Child::new(&ingress(owner, exposure))?);
    }
    Ok(out)
}

fn probe(check: &HttpProbe, extra_delay: i32) -> Probe {
    http_probe(
        &check.path,
        &check.port,
        check.initial_delay_seconds.unwrap_or(10) + extra_delay,
        check.period_seconds.unwrap_or(10),
    )
}

/// Several replicas share a volume only through a ReadWriteMany class.
fn access_mode(component: &Component) -> &'static str {
    if component.replicas > 1 { "ReadWriteMany" } else { "ReadWriteOnce" }
}

/// What in a solution's spec the API server's schema cannot refuse (or did not, for an
/// object stored before a rule), each problem naming the component and the field: ids
/// from 1, writable paths absolute, without `..`, each once and apart from the volumes,
/// and no volume named like a scratch directory.
pub fn validate(spec: &ReusableSolutionSpec) -> Result<(), String> {
    let problems: Vec<String> = spec.components.iter().flat_map(component_problems).collect();
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

fn component_problems(component: &Component) -> Vec<String> {
    let at = |field: &str, problem: String| format!("spec.components[{}].{field}: {problem}", component.name);
    let mut problems = Vec::new();
    let ids =
        [("runAsUser", component.run_as_user), ("runAsGroup", component.run_as_group), ("fsGroup", component.fs_group)];
    for (field, id) in ids {
        match id {
            Some(0) => problems.push(at(
                field,
                "0 is root, which the pod's runAsNonRoot refuses: give the image's unprivileged id".into(),
            )),
            Some(id) if !(1..=MAX_ID).contains(&id) => {
                problems.push(at(field, format!("{id} is not an id from 1 to {MAX_ID}")))
            }
            _ => {}
        }
    }
    let mut seen = Vec::new();
    for path in &component.writable_paths {
        let normal = normal_path(path);
        let volume = component.volumes.iter().find(|v| normal_path(&v.mount_path) == normal);
        let problem = if !path.starts_with('/') {
            "is not an absolute path".to_owned()
        } else if path.split('/').any(|segment| segment == "..") {
            "contains `..`: give the directory itself".to_owned()
        } else if normal == "/" {
            "is the root directory: set readOnlyRootFilesystem: false instead".to_owned()
        } else if seen.contains(&normal) {
            "is listed twice".to_owned()
        } else if let Some(volume) = volume {
            format!("is the mountPath of volume {}, which is writable already", volume.name)
        } else {
            seen.push(normal);
            continue;
        };
        problems.push(at("writablePaths", format!("{path} {problem}")));
    }
    for (name, path) in scratch(component) {
        if component.volumes.iter().any(|v| v.name == name) {
            problems.push(at(
                "volumes",
                format!("the name {name} is taken by the scratch directory at {path}: rename the volume"),
            ));
        }
    }
    problems
}

/// A path without empty or `.` segments, to compare mount points.
fn normal_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    format!("/{}", segments.join("/"))
}

/// The scratch directories (emptyDirs) of a component, as volume name and path: its
/// `writablePaths`, and `/tmp` unless a volume or a writable path is mounted there.
fn scratch(component: &Component) -> Vec<(String, &str)> {
    let mut dirs: Vec<(String, &str)> =
        component.writable_paths.iter().enumerate().map(|(i, path)| (format!("writable-{i}"), path.as_str())).collect();
    let mounted = component.volumes.iter().map(|v| &v.mount_path).chain(&component.writable_paths);
    if !mounted.into_iter().any(|path| normal_path(path) == "/tmp") {
        dirs.push(("tmp".into(), "/tmp"));
    }
    dirs
}

/// The pod security context of a component: "restricted", as the ids it gives, the image's
/// own where it gives none; its volumes belong to its group, or its user.
fn pod_security(component: &Component) -> PodSecurityContext {
    let fs_group = component.fs_group.or(component.run_as_group).or(component.run_as_user);
    restricted_pod_security_as(component.run_as_user, component.run_as_group, fs_group)
}

/// The Deployment of a component, with its volumes and its scratch directories (the root
/// file system is read-only unless the component says otherwise).
pub fn deployment(owner: &Owner, component: &Component) -> Deployment {
    let non_empty = |list: &Vec<String>| (!list.is_empty()).then(|| list.clone());
    let mut mounts: Vec<VolumeMount> = component.volumes.iter().map(|v| mount(&v.name, &v.mount_path)).collect();
    let mut volumes: Vec<Volume> = component
        .volumes
        .iter()
        .map(|v| Volume {
            name: v.name.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim_name(owner, component, v),
                read_only: None,
            }),
            ..Default::default()
        })
        .collect();
    for (name, path) in scratch(component) {
        mounts.push(mount(&name, path));
        volumes.push(empty_dir(&name));
    }
    let container = Container {
        name: component.name.clone(),
        image: Some(component.image.clone()),
        command: non_empty(&component.command),
        args: non_empty(&component.args),
        env: (!component.env.is_empty()).then(|| component.env.clone()),
        env_from: (!component.env_from.is_empty()).then(|| component.env_from.clone()),
        ports: (!component.ports.is_empty())
            .then(|| component.ports.iter().map(|p| container_port(&p.name, p.container_port)).collect()),
        readiness_probe: component.probe.as_ref().map(|p| probe(p, 0)),
        liveness_probe: component.probe.as_ref().map(|p| probe(p, LIVENESS_GRACE)),
        resources: component.resources.clone().or_else(|| Some(default_resources("100m", "256Mi"))),
        security_context: Some(SecurityContext {
            read_only_root_filesystem: Some(component.read_only_root_filesystem),
            ..restricted_container_security()
        }),
        volume_mounts: Some(mounts),
        ..Default::default()
    };
    // A ReadWriteOnce volume cannot be attached to the old and the new pod at once: replace
    // the pod rather than roll.
    let recreate = !component.volumes.is_empty() && access_mode(component) == "ReadWriteOnce";
    Deployment {
        metadata: metadata(owner, &component_name(owner, component), &component.name),
        spec: Some(DeploymentSpec {
            replicas: Some(component.replicas),
            selector: selector(owner, &component.name),
            strategy: recreate.then(|| DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None }),
            template: secured_pod_template(
                owner,
                &component.name,
                pod_security(component),
                PodSpec { containers: vec![container], volumes: Some(volumes), ..Default::default() },
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn volume_claim(owner: &Owner, component: &Component, volume: &ComponentVolume) -> PersistentVolumeClaim {
    let storage = StorageSpec { size: volume.size.clone(), storage_class_name: volume.storage_class_name.clone() };
    claim(owner, &claim_name(owner, component, volume), &component.name, &storage, access_mode(component))
}

/// The NetworkPolicy of a component: its ports are open to the other pods of the solution,
/// the exposed port to anyone (the ingress controller runs in a namespace of its own); a
/// component without ports accepts nothing.
pub fn component_policy(owner: &Owner, component: &Component, exposure: Option<&Exposure>) -> NetworkPolicy {
    let mut rules = Vec::new();
    if !component.ports.is_empty() {
        let ports: Vec<i32> = component.ports.iter().map(|p| p.container_port).collect();
        rules.push(admit(Some(pods_of(owner, &[])), &ports));
    }
    let exposed = exposure
        .filter(|e| e.component == component.name)
        .and_then(|e| component.ports.iter().find(|p| p.name == e.port));
    if let Some(port) = exposed {
        rules.push(admit(None, &[port.container_port]));
    }
    network_policy(owner, &component.name, rules)
}

fn ingress(owner: &Owner, exposure: &Exposure) -> Ingress {
    let route = Route {
        host: &exposure.host,
        path: &exposure.path,
        service: owner.child_name(&exposure.component),
        port: &exposure.port,
        class_name: exposure.class_name.clone(),
        annotations: Default::default(),
        tls: exposure.tls.as_ref(),
    };
    workloads::ingress(owner, &exposure.component, route)
}
