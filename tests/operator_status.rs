//! `mediana run`'s controllers against the real control plane: status tells the truth,
//! an unchanged object is not written again, and transitions become Events.

mod common;

use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use mediana::api::{CloudTarget, HarvestJob};
use serde_json::json;

fn condition<'a>(
    conditions: &'a [k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    type_: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[tokio::test]
async fn local_cloud_target_reports_the_cluster() {
    let client = common::client().await;
    let operator = common::Operator::start(client.clone());
    let targets: Api<CloudTarget> = Api::all(client.clone());
    let manifest = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CloudTarget",
        "metadata": {"name": "status-test-local"},
        "spec": {"provider": "Local test cluster", "qualification": "QC1"}
    });
    targets
        .patch("status-test-local", &PatchParams::apply(common::TEST_MANAGER).force(), &Patch::Apply(&manifest))
        .await
        .expect("create CloudTarget");

    let status = common::eventually("the CloudTarget to be probed", 30, || async {
        let target = targets.get("status-test-local").await.ok()?;
        let status = target.status?;
        let ready = condition(&status.common.conditions, "Ready")?;
        (ready.status == "True").then_some(status)
    })
    .await;
    let version = status.kubernetes_version.expect("kubernetesVersion is reported");
    assert!(version.starts_with("v1."), "kubernetesVersion {version} looks like a Kubernetes version");
    assert!(status.nodes.unwrap_or(0) >= 1, "the kwok node is counted");
    assert_ne!(status.allocatable_cpu.as_deref(), Some("0"), "allocatable CPU is summed from the nodes");
    assert_eq!(condition(&status.common.conditions, "Reachable").map(|c| c.status.as_str()), Some("True"));
    assert_eq!(status.common.observed_generation, Some(1));

    targets.delete("status-test-local", &Default::default()).await.expect("delete CloudTarget");
    operator.stop().await;
}

#[tokio::test]
async fn a_stalled_object_has_truthful_idempotent_and_announced_status() {
    let client = common::client().await;
    let ns = "operator-status";
    common::namespace(&client, ns).await;
    let operator = common::Operator::start(client.clone());
    let nodes: Api<HarvestJob> = Api::namespaced(client.clone(), ns);
    let manifest = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "HarvestJob",
        "metadata": {"name": "idempotent", "namespace": ns},
        "spec": {
            "target": {"catalogNode": "regione"},
            "source": {"type": "dcat", "url": "https://dati.comune.macerata.it/catalog.ttl"},
            "publisher": {"organization": "comune-di-macerata", "ipaCode": "c_e783"}
        }
    });
    let params = PatchParams::apply(common::TEST_MANAGER).force();
    nodes.patch("idempotent", &params, &Patch::Apply(&manifest)).await.expect("create HarvestJob");

    let node = common::eventually("the HarvestJob status", 30, || async {
        let node = nodes.get("idempotent").await.ok()?;
        node.status.as_ref()?.common.observed_generation.is_some().then_some(node)
    })
    .await;
    let status = node.status.clone().expect("status present");
    let ready = condition(&status.common.conditions, "Ready").expect("Ready condition");
    // Its target node does not exist: nothing runs, and the status says which is missing.
    assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("False", "TargetNotFound"));
    assert!(ready.message.contains("regione"), "{}", ready.message);
    assert_eq!(ready.observed_generation, Some(1));
    assert_eq!(condition(&status.common.conditions, "Stalled").map(|c| c.status.as_str()), Some("True"));
    assert_eq!(condition(&status.common.conditions, "Reconciling").map(|c| c.status.as_str()), Some("False"));

    // A metadata-only change triggers a reconcile but no status write: the status the
    // operator computes is identical, so the resourceVersion stays where the label put it.
    let touched = json!({"metadata": {"labels": {"touched": "yes"}}});
    let labelled = operator
        .assert_idle_after("HarvestJob", async {
            nodes
                .patch("idempotent", &PatchParams::default(), &Patch::Merge(touched))
                .await
                .expect("label the HarvestJob")
        })
        .await;
    let after = nodes.get("idempotent").await.expect("read HarvestJob");
    assert_eq!(
        after.metadata.resource_version, labelled.metadata.resource_version,
        "the operator rewrote an unchanged status"
    );

    // A spec change moves observedGeneration.
    let spec_change = json!({"spec": {"maxDeletePercent": 10}});
    nodes.patch("idempotent", &PatchParams::default(), &Patch::Merge(spec_change)).await.expect("change the spec");
    common::eventually("observedGeneration 2", 30, || async {
        let node = nodes.get("idempotent").await.ok()?;
        (node.status?.common.observed_generation == Some(2)).then_some(())
    })
    .await;

    // The first Ready transition is announced as an Event on the object.
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    common::eventually("a TargetNotFound Event", 30, || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|e| {
            e.reason.as_deref() == Some("TargetNotFound")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("idempotent")
        })
    })
    .await;

    nodes.delete("idempotent", &Default::default()).await.expect("delete HarvestJob");
    operator.stop().await;
}
