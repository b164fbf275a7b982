//! The permissions the operator's code uses, derived from the registry of what the
//! controllers work with ([`super::kinds`]), so the Helm chart's RBAC can be checked
//! against the code: a test renders the chart and compares its rules with these, both ways.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Secret};
use kube::core::ApiResource;

use super::children::api_resource;
use super::kinds;
use crate::api::{CatalogNode, CloudTarget, HarvestJob, ReusableSolution};

/// One verb on one resource (or `resource/subresource`) of one API group (`""` for core).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// API group, `""` for the core group.
    pub group: String,
    /// Plural resource name, with `/subresource` where the grant is for one.
    pub resource: String,
    /// The verb.
    pub verb: String,
}

/// Verbs server-side apply needs: `get` to compare with the last applied state, `create`
/// for a missing object, `patch` for the apply itself.
pub const APPLY_VERBS: &[&str] = &["get", "create", "patch"];
/// Verbs pruning needs: list by the owner's labels, delete what is no longer desired.
pub const PRUNE_VERBS: &[&str] = &["list", "delete"];
/// Verbs a watch (the controllers' caches and triggers) needs.
pub const WATCH_VERBS: &[&str] = &["list", "watch"];

fn grants(resource: &ApiResource, subresource: Option<&str>, verbs: &[&str]) -> impl Iterator<Item = Grant> {
    let resource_name = match subresource {
        Some(sub) => format!("{}/{sub}", resource.plural),
        None => resource.plural.clone(),
    };
    let group = resource.group.clone();
    verbs.iter().map(move |verb| Grant { group: group.clone(), resource: resource_name.clone(), verb: (*verb).into() })
}

/// Every cluster-wide grant the controllers use (the chart's ClusterRole).
pub fn cluster_grants() -> BTreeSet<Grant> {
    let mut all = BTreeSet::new();
    let kinds = [
        api_resource::<CatalogNode>(),
        api_resource::<HarvestJob>(),
        api_resource::<ReusableSolution>(),
        api_resource::<CloudTarget>(),
    ];
    for kind in &kinds {
        // Each controller watches its kind (a `get` is how kubectl-like tools and the
        // controllers' finalizer checks read one object) and applies its status.
        all.extend(grants(kind, None, &["get", "list", "watch"]));
        all.extend(grants(kind, Some("status"), &["patch"]));
    }
    let catalog_nodes = api_resource::<CatalogNode>();
    // Finalizers (data volumes under the Delete policy; workloads on remote clusters) are
    // added and removed by a merge patch.
    all.extend(grants(&catalog_nodes, None, &["patch"]));
    all.extend(grants(&api_resource::<ReusableSolution>(), None, &["patch"]));
    // Owner references with blockOwnerDeletion need `update` on the owner's finalizers
    // where the OwnerReferencesPermissionEnforcement admission plugin is on (OpenShift).
    all.extend(grants(&catalog_nodes, Some("finalizers"), &["update"]));
    // A HarvestJob's runs report into its status from the harvester pod, and the
    // controller reports those the pod could not; the harvester's Role grants the same
    // `get` and status `patch`, which RBAC lets only a holder grant.
    // Events on every transition and failed reconcile (the recorder creates, then patches
    // the count of a repeated Event).
    all.extend(grants(&api_resource::<k8s_openapi::api::events::v1::Event>(), None, &["create", "patch"]));

    for controller in kinds::controllers() {
        all.extend(controller.applied.iter().flat_map(|kind| grants(kind, None, APPLY_VERBS)));
        all.extend(controller.prunable.iter().flat_map(|kind| grants(kind, None, PRUNE_VERBS)));
        all.extend(controller.watched.iter().flat_map(|kind| grants(kind, None, WATCH_VERBS)));
        // A ReusableSolution's publiccode.yml may be a ConfigMap key, read by name.
        all.extend(controller.read.iter().flat_map(|kind| grants(kind, None, &["get"])));
        // The pods of a ReusableSolution or a CatalogNode are listed to tell why one waits.
        all.extend(controller.listed.iter().flat_map(|kind| grants(kind, None, &["list"])));
        // A CatalogNode's CKAN is asked whether it serves through the API server's proxy.
        all.extend(controller.proxied.iter().flat_map(|kind| grants(kind, Some("proxy"), &["get"])));
    }
    // Data volumes are deleted by the finalizer under `deletionPolicy: Delete`.
    all.extend(grants(&api_resource::<PersistentVolumeClaim>(), None, PRUNE_VERBS));
    // Generated secrets are created once and never read back beyond their existence; a
    // CatalogNode's are deleted with its data under `deletionPolicy: Delete`.
    all.extend(grants(&api_resource::<Secret>(), None, &["get", "create", "delete"]));
    // The local CloudTarget reports the cluster's nodes and their capacity.
    all.extend(grants(&api_resource::<Node>(), None, &["list"]));
    all
}

/// The grants the operator's identity needs on a remote cluster (a CloudTarget with a
/// kubeconfig Secret): the namespaces it creates for placed objects, the workloads of
/// CatalogNodes and ReusableSolutions in them (and the solutions' pods, listed), their
/// generated Secrets, and the nodes the probe reports. Printed as a ClusterRole by
/// `mediana spoke-rbac`.
pub fn spoke_grants() -> BTreeSet<Grant> {
    let mut all = BTreeSet::new();
    all.extend(grants(
        &api_resource::<k8s_openapi::api::core::v1::Namespace>(),
        None,
        &["get", "create", "patch", "delete"],
    ));
    for controller in kinds::placed() {
        all.extend(controller.applied.iter().flat_map(|kind| grants(kind, None, APPLY_VERBS)));
        all.extend(controller.prunable.iter().flat_map(|kind| grants(kind, None, PRUNE_VERBS)));
        all.extend(controller.listed.iter().flat_map(|kind| grants(kind, None, &["list"])));
        all.extend(controller.proxied.iter().flat_map(|kind| grants(kind, Some("proxy"), &["get"])));
    }
    // Workloads are watched there (metadata, by the hub labels) to wake their hub objects.
    all.extend(kinds::remote_watched().iter().flat_map(|kind| grants(kind, None, WATCH_VERBS)));
    all.extend(grants(&api_resource::<Secret>(), None, &["get", "create"]));
    all.extend(grants(&api_resource::<Node>(), None, &["list"]));
    all
}

/// A ClusterRole granting `grants`, one rule per resource.
pub fn cluster_role(name: &str, grants: &BTreeSet<Grant>) -> k8s_openapi::api::rbac::v1::ClusterRole {
    use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
    let mut rules: Vec<PolicyRule> = Vec::new();
    for grant in grants {
        match rules.last_mut() {
            Some(rule)
                if rule.api_groups.as_deref() == Some(std::slice::from_ref(&grant.group))
                    && rule.resources.as_deref() == Some(std::slice::from_ref(&grant.resource)) =>
            {
                rule.verbs.push(grant.verb.clone());
            }
            _ => rules.push(PolicyRule {
                api_groups: Some(vec![grant.group.clone()]),
                resources: Some(vec![grant.resource.clone()]),
                verbs: vec![grant.verb.clone()],
                ..Default::default()
            }),
        }
    }
    ClusterRole {
        metadata: kube::api::ObjectMeta { name: Some(name.to_owned()), ..Default::default() },
        rules: Some(rules),
        ..Default::default()
    }
}

/// What a remote cluster needs so that the operator can place work on it, as manifests to
/// apply there with an administrator's credentials: a ServiceAccount `name` in `namespace`,
/// the ClusterRole of [`spoke_grants`] bound to it, and a token Secret for it (filled by the
/// cluster), from which the kubeconfig of the CloudTarget's Secret is made.
pub fn spoke_manifests(namespace: &str, name: &str) -> Vec<serde_json::Value> {
    let mut role = serde_json::to_value(cluster_role(name, &spoke_grants())).unwrap_or_default();
    role["apiVersion"] = "rbac.authorization.k8s.io/v1".into();
    role["kind"] = "ClusterRole".into();
    let labels =
        serde_json::json!({"app.kubernetes.io/managed-by": "mediana", "app.kubernetes.io/component": "spoke-access"});
    role["metadata"]["labels"] = labels.clone();
    vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}),
        serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace, "labels": labels}}),
        role,
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}),
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": format!("{name}-token"), "namespace": namespace, "labels": labels,
                "annotations": {"kubernetes.io/service-account.name": name}}}),
    ]
}

/// The grants of leader election, in the operator's own namespace (the chart's Role).
pub fn leader_election_grants() -> BTreeSet<Grant> {
    let lease = ApiResource::erase::<k8s_openapi::api::coordination::v1::Lease>(&());
    grants(&lease, None, crate::leader::LEASE_VERBS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mediana_kind_is_watched_and_its_status_written() {
        let all = cluster_grants();
        for plural in ["catalognodes", "harvestjobs", "reusablesolutions", "cloudtargets"] {
            for verb in ["get", "list", "watch"] {
                assert!(all.contains(&Grant {
                    group: "mediana.dev".into(),
                    resource: plural.into(),
                    verb: verb.into()
                }));
            }
            let status = format!("{plural}/status");
            assert!(all.contains(&Grant { group: "mediana.dev".into(), resource: status, verb: "patch".into() }));
        }
    }

    #[test]
    fn no_wildcards_and_secrets_are_never_listed_nor_updated() {
        let all = cluster_grants();
        assert!(all.iter().all(|g| g.verb != "*" && g.resource != "*" && g.group != "*"));
        let secret_verbs: BTreeSet<&str> =
            all.iter().filter(|g| g.group.is_empty() && g.resource == "secrets").map(|g| g.verb.as_str()).collect();
        assert_eq!(secret_verbs, BTreeSet::from(["create", "delete", "get"]));
    }

    #[test]
    fn a_spoke_grants_namespaces_and_workloads_but_never_lists_secrets() {
        let spoke = spoke_grants();
        let has = |resource: &str, verb: &str| spoke.iter().any(|g| g.resource == resource && g.verb == verb);
        assert!(has("namespaces", "create") && has("namespaces", "delete"));
        assert!(has("deployments", "patch") && has("statefulsets", "delete") && has("nodes", "list"));
        assert!(!has("secrets", "list") && !has("cloudtargets", "get"));
        let role = cluster_role("mediana-spoke", &spoke);
        let rules = role.rules.expect("rules");
        let deployments = rules.iter().find(|r| r.resources.as_deref() == Some(&["deployments".to_owned()][..]));
        let verbs = &deployments.expect("a rule for deployments").verbs;
        assert_eq!(verbs, &["create", "delete", "get", "list", "patch", "watch"]);
    }
}
