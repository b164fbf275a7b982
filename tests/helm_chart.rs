//! The Helm chart as a platform engineer uses it: `helm lint`, then `helm install` into a
//! namespace that enforces the "restricted" Pod Security Standard, until the operator's
//! Deployment is Available.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{Patch, PatchParams};
use mediana::api::CloudTarget;
use mediana::controllers::rbac::{self, Grant};

use common::{chart, helm};

#[test]
fn chart_passes_helm_lint_and_its_schema_refuses_bad_values() {
    let chart = chart();
    let chart = chart.to_str().expect("UTF-8 path");
    helm(&["lint", "--strict", chart]);
    let refused =
        Command::new("helm").args(["template", "t", chart, "--set", "logFormat=xml"]).output().expect("run helm");
    assert!(!refused.status.success(), "values.schema.json accepted logFormat=xml");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("logFormat"), "the refusal names the value at fault");
}

#[test]
fn chart_ships_the_generated_crds() {
    for (file, generated) in mediana::api::crd_documents().expect("CRDs serialize") {
        let shipped = std::fs::read_to_string(chart().join("crds").join(&file)).unwrap_or_default();
        assert!(shipped == generated, "charts/mediana/crds/{file} differs from the Rust types: run `make crds`");
    }
}

/// The grants of the rules of every `kind` object in rendered manifests.
fn rendered_grants(manifests: &str, kind: &str) -> BTreeSet<Grant> {
    let mut grants = BTreeSet::new();
    for document in manifests.split("\n---") {
        let object: serde_json::Value = serde_saphyr::from_str(document).expect("rendered manifest is YAML");
        if object["kind"] != kind {
            continue;
        }
        for rule in object["rules"].as_array().expect("a role has rules") {
            let strings = |key: &str| -> Vec<String> {
                rule[key].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
            };
            for group in strings("apiGroups") {
                for resource in strings("resources") {
                    for verb in strings("verbs") {
                        grants.insert(Grant { group: group.clone(), resource: resource.clone(), verb });
                    }
                }
            }
        }
    }
    grants
}

/// The chart grants exactly what the code uses: nothing missing (the operator would fail),
/// nothing more (least privilege). The code's side is derived from the kinds the
/// controllers apply, prune and watch; the install test below proves it is enough.
#[test]
fn chart_rbac_is_exactly_what_the_code_uses() {
    let chart = chart();
    let rendered = helm(&["template", "t", chart.to_str().expect("UTF-8 path")]);
    for (kind, from_code) in [("ClusterRole", rbac::cluster_grants()), ("Role", rbac::leader_election_grants())] {
        let from_chart = rendered_grants(&rendered, kind);
        let missing: Vec<_> = from_code.difference(&from_chart).collect();
        let extra: Vec<_> = from_chart.difference(&from_code).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "chart {kind}: missing {missing:?}, not used by the code {extra:?}"
        );
    }
}

#[tokio::test]
async fn helm_install_brings_the_operator_up_under_restricted_pod_security() {
    let client = common::client().await;
    let ns = "mediana-system";
    let namespace = serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest"
        }}
    });
    Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .patch(ns, &PatchParams::apply(common::TEST_MANAGER).force(), &Patch::Apply(&namespace))
        .await
        .expect("create the restricted namespace");

    let chart = chart();
    let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG names the test cluster");
    let _ =
        Command::new("helm").args(["uninstall", "mediana", "-n", ns, "--kubeconfig", &kubeconfig, "--wait"]).output();
    helm(&[
        "install",
        "mediana",
        chart.to_str().expect("UTF-8 path"),
        "-n",
        ns,
        "--kubeconfig",
        &kubeconfig,
        "--set",
        "localCloudTarget.name=helm-local",
        "--wait",
        "--timeout",
        "120s",
    ]);

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let available = deployments.list(&Default::default()).await.expect("list deployments").items.iter().any(|d| {
            d.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Available" && c.status == "True"))
        });
        if available {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the operator Deployment is not Available after 60 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let targets: Api<CloudTarget> = Api::all(client.clone());
    let local = targets.get("helm-local").await.expect("the chart creates the local CloudTarget");
    assert!(local.spec.kubeconfig_secret_ref.is_none(), "the local target has no kubeconfig");

    // kwok only pretends to run the pod; tests/real_node.rs runs the chart's real pods and
    // checks what they do under the chart's RBAC (leader, hand-over, /metrics, the CloudTarget
    // probe, Events, a ReusableSolution and a CatalogNode served, a harvester pod's report).

    helm(&["uninstall", "mediana", "-n", ns, "--kubeconfig", &kubeconfig, "--wait"]);
    assert!(
        deployments.list(&Default::default()).await.expect("list deployments").items.is_empty(),
        "uninstall removes the Deployment"
    );
}
