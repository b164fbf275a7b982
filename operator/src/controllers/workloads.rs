//! Building blocks for the workloads every controller creates: security contexts that meet
//! the "restricted" Pod Security Standard, probes, volumes, Services, Ingresses,
//! NetworkPolicies, PodDisruptionBudgets, the managed PostgreSQL that CatalogNode and
//! ReusableSolution share, and how the readiness of Deployments and StatefulSets is read.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource, HTTPGetAction,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, Pod, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SeccompProfile, SecretKeySelector, SecurityContext, Service, ServicePort, ServiceSpec,
    TCPSocketAction, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
    ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ObjectMeta;

use super::Error;
use super::children::{COMPONENT_LABEL, Child, INSTANCE_LABEL, NAME_LABEL, Owner, metadata};
use super::secrets::{GeneratedSecret, SecretValue};
use crate::api::catalog_node::{IssuerKind, ManagedPostgres, TlsSpec};
use crate::api::shared::StorageSpec;

/// A pod security context for the "restricted" Pod Security Standard, running as `user`.
pub fn restricted_pod_security(user: i64) -> PodSecurityContext {
    restricted_pod_security_as(Some(user), Some(user), Some(user))
}

/// A pod security context for the "restricted" Pod Security Standard with the ids given,
/// the image's own where `None`: `runAsNonRoot` makes the kubelet refuse an image that
/// would run as root.
pub fn restricted_pod_security_as(user: Option<i64>, group: Option<i64>, fs_group: Option<i64>) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: user,
        run_as_group: group,
        fs_group,
        seccomp_profile: Some(SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
        ..Default::default()
    }
}

/// A container security context for the "restricted" Pod Security Standard: no privilege
/// escalation, no capabilities, read-only root file system (writable paths are volumes).
pub fn restricted_container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities { drop: Some(vec!["ALL".into()]), ..Default::default() }),
        ..Default::default()
    }
}

/// A pod template whose pods carry the component's selector labels plus the managed-by
/// label, with the restricted security context running as `user`.
pub fn pod_template(owner: &Owner, component: &str, user: i64, spec: PodSpec) -> PodTemplateSpec {
    secured_pod_template(owner, component, restricted_pod_security(user), spec)
}

/// A pod template like [`pod_template`]'s, with the pod security context `security`.
pub fn secured_pod_template(
    owner: &Owner,
    component: &str,
    security: PodSecurityContext,
    spec: PodSpec,
) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta { labels: Some(owner.labels(component)), ..Default::default() }),
        spec: Some(PodSpec {
            security_context: Some(security),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            ..spec
        }),
    }
}

/// A selector for the pods of `component`.
pub fn selector(owner: &Owner, component: &str) -> LabelSelector {
    LabelSelector { match_labels: Some(owner.selector_labels(component)), ..Default::default() }
}

/// An environment variable with a literal value.
pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.to_owned(), value: Some(value.into()), ..Default::default() }
}

/// An environment variable read from a Secret key.
pub fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector { name: secret.to_owned(), key: key.to_owned(), optional: None }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A named TCP container port.
pub fn container_port(name: &str, port: i32) -> ContainerPort {
    ContainerPort {
        name: Some(name.to_owned()),
        container_port: port,
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

/// An HTTP GET probe on a named port.
pub fn http_probe(path: &str, port: &str, initial_delay: i32, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String(port.to_owned()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..Default::default()
    }
}

/// A TCP probe on a named port.
pub fn tcp_probe(port: &str, period: i32) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction { port: IntOrString::String(port.to_owned()), ..Default::default() }),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(3),
        ..Default::default()
    }
}

/// A scratch volume (the root file system is read-only).
pub fn empty_dir(name: &str) -> Volume {
    Volume { name: name.to_owned(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Default::default() }
}

/// A volume mount.
pub fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount { name: name.to_owned(), mount_path: path.to_owned(), ..Default::default() }
}

/// A PersistentVolumeClaim spec for `storage`.
pub fn claim_spec(storage: &StorageSpec, access_mode: &str) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec![access_mode.to_owned()]),
        storage_class_name: storage.storage_class_name.clone(),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([("storage".to_owned(), Quantity(storage.size.clone()))])),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A standalone PersistentVolumeClaim. Claims are never pruned: data outlives specs.
pub fn claim(
    owner: &Owner,
    name: &str,
    component: &str,
    storage: &StorageSpec,
    access_mode: &str,
) -> PersistentVolumeClaim {
    let mut metadata = metadata(owner, name, component);
    // Without an owner reference, deleting the parent keeps the data (deletionPolicy Retain);
    // the Delete policy removes claims through a finalizer.
    metadata.owner_references = None;
    PersistentVolumeClaim { metadata, spec: Some(claim_spec(storage, access_mode)), ..Default::default() }
}

/// A ClusterIP Service for the pods of `component`.
pub fn service(owner: &Owner, name: &str, component: &str, ports: &[(&str, i32)]) -> Service {
    Service {
        metadata: metadata(owner, name, component),
        spec: Some(ServiceSpec {
            selector: Some(owner.selector_labels(component)),
            ports: Some(
                ports
                    .iter()
                    .map(|(port_name, port)| ServicePort {
                        name: Some((*port_name).to_owned()),
                        port: *port,
                        target_port: Some(IntOrString::String((*port_name).to_owned())),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Peers that are pods of the same owner: those of `components`, or of every component
/// when `components` is empty.
pub fn pods_of(owner: &Owner, components: &[&str]) -> NetworkPolicyPeer {
    let match_expressions = (!components.is_empty()).then(|| {
        vec![LabelSelectorRequirement {
            key: COMPONENT_LABEL.to_owned(),
            operator: "In".into(),
            values: Some(components.iter().map(|c| (*c).to_owned()).collect()),
        }]
    });
    NetworkPolicyPeer {
        pod_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([
                (NAME_LABEL.to_owned(), owner.app.clone()),
                (INSTANCE_LABEL.to_owned(), owner.instance.clone()),
            ])),
            match_expressions,
        }),
        ..Default::default()
    }
}

/// An ingress rule admitting `from` (anyone when `None`) on TCP `ports`.
pub fn admit(from: Option<NetworkPolicyPeer>, ports: &[i32]) -> NetworkPolicyIngressRule {
    NetworkPolicyIngressRule {
        from: from.map(|peer| vec![peer]),
        ports: Some(
            ports
                .iter()
                .map(|port| NetworkPolicyPort {
                    port: Some(IntOrString::Int(*port)),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                })
                .collect(),
        ),
    }
}

/// A NetworkPolicy, named `<owner>-<component>`, under which the pods of `component` accept
/// only what `rules` admit; with no rules they accept no traffic at all.
pub fn network_policy(owner: &Owner, component: &str, rules: Vec<NetworkPolicyIngressRule>) -> NetworkPolicy {
    NetworkPolicy {
        metadata: metadata(owner, &owner.child_name(component), component),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(selector(owner, component)),
            policy_types: Some(vec!["Ingress".into()]),
            // The API server stores no rules as an absent list: an empty one would differ
            // from what is read back, and be rewritten at every reconcile.
            ingress: (!rules.is_empty()).then_some(rules),
            ..Default::default()
        }),
    }
}

/// A NetworkPolicy that lets only the pods of `clients` (components of the same owner)
/// reach `component` on `port`; everything else is refused.
pub fn allow_only_from(owner: &Owner, component: &str, clients: &[&str], port: i32) -> NetworkPolicy {
    network_policy(owner, component, vec![admit(Some(pods_of(owner, clients)), &[port])])
}

/// A PodDisruptionBudget keeping at least one pod of `component` up during voluntary
/// disruptions (node drains), for components with several replicas.
pub fn disruption_budget(owner: &Owner, name: &str, component: &str) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: metadata(owner, name, component),
        spec: Some(PodDisruptionBudgetSpec {
            min_available: Some(IntOrString::Int(1)),
            selector: Some(selector(owner, component)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What an Ingress routes: a host and path prefix to a named port of a Service.
#[derive(Clone, Debug)]
pub struct Route<'a> {
    /// Public host name.
    pub host: &'a str,
    /// URL path prefix.
    pub path: &'a str,
    /// The Service to reach.
    pub service: String,
    /// Name of the Service's port.
    pub port: &'a str,
    /// IngressClass; the cluster's default when `None`.
    pub class_name: Option<String>,
    /// Annotations for the ingress controller.
    pub annotations: BTreeMap<String, String>,
    /// TLS for the host.
    pub tls: Option<&'a TlsSpec>,
}

/// The public URL of a host and path prefix: https when served with TLS.
pub fn public_url(host: &str, path: &str, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    let path = if path == "/" { "" } else { path };
    format!("{scheme}://{host}{path}")
}

/// An Ingress named after the owner for `route`. TLS comes from the Secret named in the
/// spec, or from cert-manager (its annotation, and the Secret `<owner>-tls` it fills).
pub fn ingress(owner: &Owner, component: &str, route: Route) -> Ingress {
    let mut metadata = metadata(owner, &owner.instance, component);
    let mut annotations = route.annotations;
    let tls = route.tls.map(|tls| {
        let secret = match (&tls.secret_name, &tls.cert_manager) {
            (Some(secret), _) => secret.clone(),
            (None, Some(issuer)) => {
                let key = match issuer.kind {
                    IssuerKind::ClusterIssuer => "cert-manager.io/cluster-issuer",
                    IssuerKind::Issuer => "cert-manager.io/issuer",
                };
                annotations.insert(key.to_owned(), issuer.issuer.clone());
                owner.child_name("tls")
            }
            (None, None) => owner.child_name("tls"),
        };
        vec![IngressTLS { hosts: Some(vec![route.host.to_owned()]), secret_name: Some(secret) }]
    });
    if !annotations.is_empty() {
        metadata.annotations = Some(annotations);
    }
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: route.class_name,
            tls,
            rules: Some(vec![IngressRule {
                host: Some(route.host.to_owned()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(route.path.to_owned()),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: route.service,
                                port: Some(ServiceBackendPort { name: Some(route.port.to_owned()), number: None }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The user every image of mediana runs as (`nonroot`, images/lib.sh).
pub const IMAGE_UID: i64 = 65532;

/// Registry path of mediana's PostgreSQL image (images/postgres); the tag is the major
/// version. Only Debian's major (15) is built: the CRD's rule on `ManagedPostgres` refuses
/// another version without an `image`.
pub const POSTGRES_IMAGE: &str = "ghcr.io/mediana-dev/postgres";

/// Default image of a managed PostgreSQL.
pub fn postgres_image(spec: &ManagedPostgres) -> String {
    spec.image.clone().unwrap_or_else(|| format!("{POSTGRES_IMAGE}:{}", spec.version))
}

/// The port a managed PostgreSQL listens on.
pub const POSTGRES_PORT: i32 = 5432;

/// Name of an owner's managed PostgreSQL StatefulSet and Service (its host name).
pub fn postgres_name(owner: &Owner) -> String {
    owner.child_name("postgres")
}

/// Name of the Secret with the connection settings of an owner's managed PostgreSQL:
/// `<owner>-db`.
pub fn postgres_secret_name(owner: &Owner) -> String {
    owner.child_name("db")
}

/// The credentials of a managed PostgreSQL (the one [`postgres_statefulset`]
/// runs), with libpq's keys so that pods can take them whole with `envFrom`, plus a `url`.
/// `database` names both the database and its owner role.
pub fn postgres_credentials(owner: &Owner, component: &'static str, database: &str) -> GeneratedSecret {
    let host = postgres_name(owner);
    GeneratedSecret {
        name: postgres_secret_name(owner),
        component,
        keys: vec![
            ("PGHOST".into(), SecretValue::Literal(host.clone())),
            ("PGPORT".into(), SecretValue::Literal(POSTGRES_PORT.to_string())),
            ("PGDATABASE".into(), SecretValue::Literal(database.to_owned())),
            ("PGUSER".into(), SecretValue::Literal(database.to_owned())),
            ("PGPASSWORD".into(), SecretValue::Random),
            (
                "url".into(),
                SecretValue::Template(format!(
                    "postgresql://{database}:{{random:PGPASSWORD}}@{host}:{}/{database}",
                    POSTGRES_PORT
                )),
            ),
        ],
        kept_with_data: false,
    }
}

/// The children of a managed PostgreSQL: the StatefulSet, its Service, and a
/// NetworkPolicy that lets only the pods of `clients` reach it. Its credentials are the
/// Secret of [`postgres_credentials`], generated separately (once).
pub fn managed_postgres(
    owner: &Owner,
    component: &str,
    spec: &ManagedPostgres,
    clients: &[&str],
) -> Result<Vec<Child>, Error> {
    Ok(vec![
        Child::new(&postgres_statefulset(owner, component, spec, &postgres_secret_name(owner)))?,
        Child::new(&service(owner, &postgres_name(owner), component, &[("postgres", POSTGRES_PORT)]))?,
        Child::new(&allow_only_from(owner, component, clients, POSTGRES_PORT))?,
    ])
}

/// A single-instance PostgreSQL StatefulSet with its data on a claim from the template,
/// reading its password from `secret` (key `PGPASSWORD`).
pub fn postgres_statefulset(owner: &Owner, component: &str, spec: &ManagedPostgres, secret: &str) -> StatefulSet {
    let name = postgres_name(owner);
    let container = Container {
        name: "postgres".into(),
        image: Some(postgres_image(spec)),
        env: Some(vec![
            env_from_secret("POSTGRES_USER", secret, "PGUSER"),
            env_from_secret("POSTGRES_PASSWORD", secret, "PGPASSWORD"),
            env_from_secret("POSTGRES_DB", secret, "PGDATABASE"),
            // A subdirectory: the volume's root may hold lost+found, which initdb refuses.
            env("PGDATA", "/var/lib/postgresql/data/pgdata"),
        ]),
        ports: Some(vec![container_port("postgres", POSTGRES_PORT)]),
        readiness_probe: Some(tcp_probe("postgres", 10)),
        liveness_probe: Some(tcp_probe("postgres", 20)),
        resources: spec.resources.clone().or_else(|| Some(default_resources("250m", "512Mi"))),
        security_context: Some(restricted_container_security()),
        volume_mounts: Some(vec![
            mount("data", "/var/lib/postgresql/data"),
            mount("run", "/var/run/postgresql"),
            mount("tmp", "/tmp"),
        ]),
        ..Default::default()
    };
    StatefulSet {
        metadata: metadata(owner, &name, component),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(name.clone()),
            selector: selector(owner, component),
            template: pod_template(
                owner,
                component,
                IMAGE_UID,
                PodSpec {
                    containers: vec![container],
                    volumes: Some(vec![empty_dir("run"), empty_dir("tmp")]),
                    ..Default::default()
                },
            ),
            volume_claim_templates: Some(vec![PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some("data".into()),
                    labels: Some(owner.labels(component)),
                    ..Default::default()
                },
                spec: Some(claim_spec(&spec.storage, "ReadWriteOnce")),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Requests as given, and a memory limit equal to the memory request.
pub fn default_resources(cpu: &str, memory: &str) -> ResourceRequirements {
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_owned(), Quantity(cpu.to_owned())),
            ("memory".to_owned(), Quantity(memory.to_owned())),
        ])),
        limits: Some(BTreeMap::from([("memory".to_owned(), Quantity(memory.to_owned()))])),
        ..Default::default()
    }
}

/// Readiness of a workload as observed in the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// Run elsewhere; the operator does not check it.
    External,
    /// Desired and fully rolled out: all replicas ready and up to date.
    Ready,
    /// Desired but not yet ready, with what is missing.
    Pending(String),
    /// Rolled out, but the software, asked, does not answer as it should: why.
    NotServing(String),
}

impl Observed {
    /// Whether the workload is rolled out (or run elsewhere), serving or not.
    pub fn rolled_out(&self) -> bool {
        !matches!(self, Self::Pending(_))
    }

    /// What keeps the workload from being ready (pending or not serving); `None` when ready
    /// or run elsewhere.
    pub fn waiting_for(&self) -> Option<&str> {
        match self {
            Self::Pending(detail) | Self::NotServing(detail) => Some(detail),
            Self::Ready | Self::External => None,
        }
    }

    /// A pending workload's detail with why the scheduler cannot place the pods of
    /// `component` (among `pods`), when that is why; anything else unchanged.
    pub fn explained(self, component: &str, pods: &[Pod]) -> Self {
        match (self, unschedulable(component, pods)) {
            (Self::Pending(detail), Some(why)) => Self::Pending(format!("{detail}; {why}")),
            (observed, _) => observed,
        }
    }
}

/// The pods of `owner`, listed only when `waiting` (they tell why a workload waits), so that a
/// rolled-out object costs no list.
pub async fn pods_while_waiting(client: &kube::Client, owner: &Owner, waiting: bool) -> Result<Vec<Pod>, Error> {
    if !waiting {
        return Ok(Vec::new());
    }
    let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), &owner.namespace);
    Ok(pods.list(&kube::api::ListParams::default().labels(&owner.children_selector())).await?.items)
}

/// The pods of `component` among `pods` (by the component label).
pub fn pods_of_component<'a>(component: &'a str, pods: &'a [Pod]) -> impl Iterator<Item = &'a Pod> + 'a {
    pods.iter().filter(move |pod| {
        pod.metadata.labels.as_ref().and_then(|labels| labels.get(COMPONENT_LABEL)).map(String::as_str)
            == Some(component)
    })
}

/// The scheduler's words when it cannot place a pod of `component`: its `PodScheduled=False
/// reason=Unschedulable` message ("0/1 nodes are available: 1 Insufficient cpu").
pub fn unschedulable(component: &str, pods: &[Pod]) -> Option<String> {
    pods_of_component(component, pods)
        .filter_map(|pod| pod.status.as_ref()?.conditions.as_ref())
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable"))
        .map(|c| format!("its pod cannot be scheduled: {}", c.message.as_deref().unwrap_or("no reason given")))
}

/// Whether a Deployment has rolled out its current generation with every replica ready.
pub fn deployment_readiness(deployment: Option<&Deployment>) -> Observed {
    let Some(deployment) = deployment else { return Observed::Pending("not created yet".into()) };
    let wanted = deployment.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = deployment.status.clone().unwrap_or_default();
    let current = status.observed_generation >= deployment.metadata.generation;
    let updated = status.updated_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    if current && updated >= wanted && ready >= wanted {
        Observed::Ready
    } else {
        Observed::Pending(format!("{ready}/{wanted} replicas ready, {updated} up to date"))
    }
}

/// Whether a StatefulSet has every replica ready at its current revision.
pub fn statefulset_readiness(statefulset: Option<&StatefulSet>) -> Observed {
    let Some(statefulset) = statefulset else { return Observed::Pending("not created yet".into()) };
    let wanted = statefulset.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = statefulset.status.clone().unwrap_or_default();
    let current = status.observed_generation >= statefulset.metadata.generation;
    let ready = status.ready_replicas.unwrap_or(0);
    let updated = status.current_revision.is_some() && status.current_revision == status.update_revision;
    if current && ready >= wanted && updated {
        Observed::Ready
    } else {
        Observed::Pending(format!("{ready}/{wanted} replicas ready"))
    }
}

/// The label the Job controller puts on its pods.
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";

/// What a failed pod said last: the error line at the end of its container's termination
/// message (its log's tail, under `terminationMessagePolicy: FallbackToLogsOnError`), e.g.
/// `psycopg2.errors.DuplicateColumn: column "extras" of relation "package" already exists`.
/// Python's traceback ends with the exception; SQLAlchemy adds the statement and a link after
/// it, so the last line naming an error or exception wins over the last line.
pub fn termination_summary(pod: &Pod) -> Option<String> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let message = statuses.iter().find_map(|s| {
        let terminated = s.state.as_ref()?.terminated.as_ref()?;
        (terminated.exit_code != 0).then(|| terminated.message.clone()).flatten()
    })?;
    let lines: Vec<&str> = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let names_an_error = |line: &&&str| {
        let head = line.split([':', ' ']).next().unwrap_or_default();
        head.ends_with("Error") || head.ends_with("Exception") || line.starts_with("ERROR")
    };
    let line = lines.iter().rev().find(names_an_error).or(lines.last())?;
    // A connection URL in an error (SQLAlchemy's, libpq's) keeps its user, not its password:
    // the summary goes into the status, which anyone who may read the object reads.
    let line = match USERINFO_PASSWORD.as_ref() {
        Some(pattern) => pattern.replace_all(line, "${1}***@"),
        None => std::borrow::Cow::Borrowed(*line),
    };
    // Room for an error line that carries its causes after its context (mediana's own: an
    // object store's error names the request, its retries, then the cause at the end).
    const MAX: usize = 1000;
    Some(match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.into_owned(),
    })
}

/// The termination message of a pod whose containers all exited successfully (what a
/// backup pod reports); `None` while one runs, after a failure, or without a message.
pub fn success_message(pod: &Pod) -> Option<String> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let mut messages = statuses.iter().map(|s| {
        let terminated = s.state.as_ref()?.terminated.as_ref()?;
        (terminated.exit_code == 0).then(|| terminated.message.clone().unwrap_or_default())
    });
    let all: Option<Vec<String>> = messages.by_ref().collect();
    all?.into_iter().find(|m| !m.trim().is_empty())
}

/// `scheme://user:password@`, the password in group 2.
static USERINFO_PASSWORD: std::sync::LazyLock<Option<regex::Regex>> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"(://[^:/@\s]*:)([^@\s]*)@").ok());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_steps_summary_keeps_no_password() {
        let pod = failed_pod(
            1,
            "sqlalchemy.exc.OperationalError: could not connect to postgresql://ckan:s3cr3t@db:5432/ckan (timeout)\n",
        );
        let summary = termination_summary(&pod).expect("a summary");
        assert_eq!(
            summary,
            "sqlalchemy.exc.OperationalError: could not connect to postgresql://ckan:***@db:5432/ckan (timeout)"
        );
    }

    fn failed_pod(exit_code: i32, message: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "migrate-x"},
            "status": {"containerStatuses": [{
                "name": "ckan", "image": "ckan", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": exit_code, "message": message}}
            }]}
        }))
        .expect("a pod")
    }

    #[test]
    fn a_failed_migration_is_summed_up_by_its_exception_not_sqlalchemys_footer() {
        let log = "2026-12-03 08:50:01 INFO  [alembic] Running upgrade 4a5e3465beb6 -> 12d64978ab44, Faster extras\n\
            Traceback (most recent call last):\n  File \"/opt/ckan/venv/bin/ckan\", line 8, in <module>\n\
            psycopg2.errors.DuplicateColumn: column \"extras\" of relation \"package\" already exists\n\n\
            \n\
            sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateColumn) column \"extras\" of relation \"package\" already exists\n\
            [SQL: ALTER TABLE package ADD COLUMN extras JSONB]\n\
            (Background on this error at: https://sqlalche.me/e/20/f405)\n";
        assert_eq!(
            termination_summary(&failed_pod(1, log)).as_deref(),
            Some(
                "sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateColumn) column \"extras\" of relation \"package\" already exists"
            )
        );
    }

    #[test]
    fn without_an_error_line_the_last_line_is_the_summary_and_success_says_nothing() {
        let log = "pg_dump: connecting to database\npg_dump: could not connect to server db:5432\n";
        assert_eq!(
            termination_summary(&failed_pod(1, log)).as_deref(),
            Some("pg_dump: could not connect to server db:5432")
        );
        assert_eq!(termination_summary(&failed_pod(0, "done")), None, "a container that succeeded");
        assert_eq!(termination_summary(&failed_pod(1, "\n\n")), None, "nothing said");
        let long = "ValueError: ".to_owned() + &"x".repeat(2000);
        let summary = termination_summary(&failed_pod(1, &long)).expect("a summary");
        assert!(summary.chars().count() == 1001 && summary.ends_with('…'), "cut at 1000 characters: {summary}");
    }
}
