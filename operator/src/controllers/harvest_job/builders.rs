//! The desired children of a HarvestJob, as pure functions of its spec, its target node and
//! the operator's settings: the harvester's identity (ServiceAccount, Role, RoleBinding) and
//! its runs (a CronJob, a one-off Job, and a Job per `mediana.dev/run-now`).

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, ObjectFieldSelector, PodSpec, PodTemplateSpec, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::ObjectMeta;

use crate::api::CatalogNode;
use crate::api::harvest_job::{HarvestJobSpec, SourceType};
use crate::controllers::catalog_node::builders::{self as node_builders, Release};
use crate::controllers::catalog_node::environment::{Names as NodeNames, component as node_component};
use crate::controllers::children::metadata;
use crate::controllers::children::{Child, Owner, fingerprint};
use crate::controllers::workloads::{
    IMAGE_UID, default_resources, empty_dir, env, env_from_secret, mount, restricted_container_security,
    restricted_pod_security,
};
use crate::controllers::{Error, Settings};

/// Label on every harvester Job and pod naming its HarvestJob, also on the Jobs the CronJob
/// creates (which carry no owner labels, so that pruning never deletes a scheduled run).
pub const HARVEST_JOB_LABEL: &str = "mediana.dev/harvest-job";
/// The component label of the harvester's objects.
pub const COMPONENT: &str = "harvester";
/// Where the harvester pod finds the target's API token, written by its first container.
pub const TOKEN_FILE: &str = "/run/mediana/token";

/// The node a HarvestJob writes into, as the harvester pod needs it.
pub struct TargetNode<'a> {
    /// The CatalogNode.
    pub node: &'a CatalogNode,
    /// The node as owner of its own children (their names and labels).
    pub owner: Owner,
    /// The CKAN release the node serves (its image issues the API token).
    pub release: Release,
}

impl<'a> TargetNode<'a> {
    /// The target `node`, serving the release its status reports (or its spec's, before
    /// the first status).
    pub fn of(node: &'a CatalogNode) -> Result<Self, Error> {
        let versions = node.status.as_ref().and_then(|s| s.versions.as_ref());
        Ok(Self { node, owner: Owner::of(node)?, release: Release::serving(&node.spec, versions) })
    }

    /// The node's CKAN API as seen from inside the cluster (its web Service).
    pub fn api_url(&self) -> String {
        format!("http://{}.{}.svc", NodeNames::new(&self.owner).web(), self.owner.namespace)
    }
}

/// Names of a HarvestJob's children.
pub fn service_account_name(owner: &Owner) -> String {
    owner.child_name(COMPONENT)
}

/// Every desired child of a HarvestJob. `run_now` is the value of the run-now annotation.
pub fn children(
    spec: &HarvestJobSpec,
    owner: &Owner,
    target: &TargetNode<'_>,
    settings: &Settings,
    run_now: Option<&str>,
) -> Result<Vec<Child>, Error> {
    let template = job_template(spec, owner, target, settings);
    let mut children =
        vec![Child::new(&service_account(owner))?, Child::new(&role(owner))?, Child::new(&role_binding(owner))?];
    match &spec.schedule {
        Some(schedule) => children.push(Child::new(&cron_job(spec, owner, schedule, &template))?),
        // Without a schedule the job runs once per distinct template: a changed spec is a
        // new run, as a re-created Job would be.
        None => children.push(Child::new(&run_job(owner, "once", &template)?)?),
    }
    if let Some(value) = run_now {
        children.push(Child::new(&run_job(owner, &format!("now-{}", &fingerprint(value)[..8]), &template)?)?);
    }
    Ok(children)
}

fn service_account(owner: &Owner) -> ServiceAccount {
    ServiceAccount { metadata: metadata(owner, &service_account_name(owner), COMPONENT), ..Default::default() }
}

/// What the harvester pod may do: read its own HarvestJob and report into its status.
/// Nothing else: the target's token comes from the node's CKAN, not from a Secret.
pub fn role(owner: &Owner) -> Role {
    let only_this = |resource: &str, verb: &str| PolicyRule {
        api_groups: Some(vec![crate::api::GROUP.into()]),
        resources: Some(vec![resource.into()]),
        resource_names: Some(vec![owner.instance.clone()]),
        verbs: vec![verb.into()],
        ..Default::default()
    };
    Role {
        metadata: metadata(owner, &service_account_name(owner), COMPONENT),
        rules: Some(vec![only_this("harvestjobs", "get"), only_this("harvestjobs/status", "patch")]),
    }
}

fn role_binding(owner: &Owner) -> RoleBinding {
    let name = service_account_name(owner);
    RoleBinding {
        metadata: metadata(owner, &name, COMPONENT),
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "Role".into(), name: name.clone() },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name,
            namespace: Some(owner.namespace.clone()),
            ..Default::default()
        }]),
    }
}

fn cron_job(spec: &HarvestJobSpec, owner: &Owner, schedule: &str, template: &JobTemplateSpec) -> CronJob {
    CronJob {
        metadata: metadata(owner, &owner.instance, COMPONENT),
        spec: Some(CronJobSpec {
            schedule: schedule.to_owned(),
            time_zone: spec.time_zone.clone(),
            suspend: Some(spec.suspend),
            // Two runs into the same node would race on the same datasets.
            concurrency_policy: Some("Forbid".into()),
            successful_jobs_history_limit: Some(spec.successful_runs_history_limit),
            failed_jobs_history_limit: Some(spec.failed_runs_history_limit),
            job_template: template.clone(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A run outside the schedule: `<job>-<kind>-<fingerprint of the template>`.
fn run_job(owner: &Owner, kind: &str, template: &JobTemplateSpec) -> Result<Job, Error> {
    let text = serde_json::to_string(template).map_err(Error::Serialize)?;
    let name = owner.child_name(&format!("{kind}-{}", &fingerprint(&text)[..8]));
    let mut meta = metadata(owner, &name, COMPONENT);
    meta.labels.get_or_insert_default().insert(HARVEST_JOB_LABEL.into(), owner.instance.clone());
    Ok(Job { metadata: meta, spec: template.spec.clone(), ..Default::default() })
}

/// The Job every run uses: a first container asks the node's CKAN for an API token, then
/// `mediana harvest-job` harvests and reports into the HarvestJob's status.
pub fn job_template(
    spec: &HarvestJobSpec,
    owner: &Owner,
    target: &TargetNode<'_>,
    settings: &Settings,
) -> JobTemplateSpec {
    let job_labels = std::collections::BTreeMap::from([(HARVEST_JOB_LABEL.to_owned(), owner.instance.clone())]);
    // The token step talks to the node's database, whose NetworkPolicy admits the node's
    // maintenance pods: the pod carries those labels too.
    let mut pod_labels = target.owner.selector_labels(node_component::MAINTENANCE);
    pod_labels.extend(job_labels.clone());
    let token_name = format!("mediana-harvest-{}", owner.instance);
    let token_step = Container {
        name: "api-token".into(),
        command: Some(vec![
            "sh".into(),
            "-c".into(),
            // ckanext-mediana's command revokes the tokens of this name that earlier runs left
            // (a run revokes its own as it ends, unless it died first) and prints the new one
            // alone on stdout.
            format!("ckan mediana harvest-token \"$CKAN_SYSADMIN_NAME\" {token_name} > {TOKEN_FILE}"),
        ]),
        resources: Some(default_resources("100m", "512Mi")),
        ..node_builders::ckan_container(&target.node.spec, &target.owner, &target.release)
    };
    let token_step = Container {
        env: Some(
            token_step
                .env
                .into_iter()
                .flatten()
                .chain([env("CKAN_SYSADMIN_NAME", target.node.spec.sysadmin.name.clone())])
                .collect(),
        ),
        // ckan.ini and /tmp; not the node's uploads, which the web pods hold.
        volume_mounts: Some(vec![node_builders::config_mount(), mount("tmp", "/tmp"), mount("token", "/run/mediana")]),
        ..token_step
    };
    let mut args = vec![
        "harvest-job".to_owned(),
        "--namespace".into(),
        owner.namespace.clone(),
        "--name".into(),
        owner.instance.clone(),
        "--target-url".into(),
        target.api_url(),
        "--target-token-file".into(),
        TOKEN_FILE.into(),
        "--revoke-target-token".into(),
    ];
    let mut vars = vec![EnvVar {
        name: "MEDIANA_RUN_JOB".into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: format!("metadata.labels['{}']", crate::controllers::workloads::JOB_NAME_LABEL),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }];
    if let Some(secret) = &spec.source.api_token_secret_ref {
        vars.push(env_from_secret("MEDIANA_SOURCE_TOKEN", &secret.name, &secret.key));
        args.extend(["--source-token-env".into(), "MEDIANA_SOURCE_TOKEN".into()]);
    }
    vars.push(env("MEDIANA_LOG_FORMAT", "json"));
    let harvester = Container {
        name: COMPONENT.into(),
        image: Some(settings.operator_image.clone()),
        args: Some(args),
        env: Some(vars),
        resources: spec.resources.clone().or_else(|| Some(default_resources("250m", "256Mi"))),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![mount("token", "/run/mediana")]),
        ..Default::default()
    };
    let source_kind = match spec.source.type_ {
        SourceType::Ckan => "ckan",
        SourceType::Dcat => "dcat",
    };
    JobTemplateSpec {
        metadata: Some(ObjectMeta { labels: Some(job_labels), ..Default::default() }),
        spec: Some(JobSpec {
            active_deadline_seconds: Some(spec.active_deadline_seconds),
            backoff_limit: Some(spec.retries),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some([("mediana.dev/source-type".to_owned(), source_kind.to_owned())].into()),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(service_account_name(owner)),
                    security_context: Some(restricted_pod_security(IMAGE_UID)),
                    init_containers: Some(vec![token_step]),
                    containers: vec![harvester],
                    volumes: Some(vec![
                        node_builders::config_volume(&target.owner),
                        empty_dir("token"),
                        empty_dir("tmp"),
                    ]),
                    restart_policy: Some("Never".into()),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
    }
}
