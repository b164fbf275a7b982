//! The health check docs/argocd.md gives Argo CD, run in the Lua interpreter Argo CD embeds
//! (gopher-lua: tests/argocd, built by tests/controlplane/build.sh) on objects as the API
//! server returned them, with statuses the operator really wrote: one test per state.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use kube::Api;
use kube::api::{Patch, PatchParams};
use mediana::api::{CatalogNode, HarvestJob};
use serde::Serialize;
use serde_json::{Value, json};

/// What Argo CD would show for `object` of `kind`: (status, message).
fn health(kind: &str, object: &impl Serialize) -> (String, String) {
    let dir = std::env::var("ARGOCD_HEALTH_DIR")
        .expect("ARGOCD_HEALTH_DIR names the Lua runner: run through `make test`, or export tests/controlplane/build.sh --print");
    let doc = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/argocd.md");
    let mut child = Command::new(format!("{dir}/argocd-health"))
        .args([doc, kind])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("argocd-health runs");
    let input = serde_json::to_vec(object).expect("JSON");
    child.stdin.take().expect("stdin").write_all(&input).expect("object written");
    let out = child.wait_with_output().expect("argocd-health ends");
    assert!(out.status.success(), "argocd-health failed: {}", String::from_utf8_lossy(&out.stderr));
    let health: Value = serde_json::from_slice(&out.stdout).expect("argocd-health prints JSON");
    let field = |name: &str| health[name].as_str().unwrap_or_default().to_owned();
    (field("status"), field("message"))
}

fn node(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"hostname": format!("dati.{name}.example.it"), "publisher": {"ipaCode": "r_marche"}}
    })
}

fn harvest_job(ns: &str, name: &str, node: &str) -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "HarvestJob",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "target": {"catalogNode": node},
            "publisher": {"ipaCode": "c_e783", "name": "Comune di Macerata", "organization": "comune-di-macerata"},
            "source": {"type": "ckan", "url": "https://dati.comune.macerata.it"},
            "schedule": "0 3 * * *"
        }
    })
}

fn apply() -> PatchParams {
    PatchParams::apply(common::TEST_MANAGER).force()
}

fn condition_is(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    type_: &str,
    status: &str,
) -> bool {
    conditions.iter().any(|c| c.type_ == type_ && c.status == status)
}

// The operator is killed, not stopped, at the end of each test: a graceful stop waits for the
// reconciles in flight, and a CatalogNode's may be asking a CKAN that kwok never runs for its
// status (up to 20 s). These tests are about what Argo CD reads; shutdown has tests of its own.

/// A node just created has no status: Progressing, until the operator has seen it. While
/// it rolls out (on kwok no CKAN ever answers, so it stays there) `Reconciling=True`:
/// Progressing with the operator's message.
#[tokio::test]
async fn a_catalog_node_being_rolled_out_is_progressing() {
    let (client, ns) = common::fresh_namespace("argocd-progressing").await;
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), &ns);
    let created = nodes.patch("marche", &apply(), &Patch::Apply(node(&ns, "marche"))).await.expect("created");
    assert!(created.status.is_none(), "a new object has no status");
    assert_eq!(health("CatalogNode", &created), ("Progressing".into(), "waiting for the operator".into()));

    let operator = common::Operator::start(client.clone());
    let rolling = common::eventually("the operator's first status", 60, || async {
        let node = nodes.get("marche").await.ok()?;
        let status = node.status.as_ref()?;
        (status.common.observed_generation == node.metadata.generation
            && condition_is(&status.common.conditions, "Reconciling", "True"))
        .then_some(node)
    })
    .await;
    let reconciling =
        rolling.status.as_ref().and_then(|s| s.common.conditions.iter().find(|c| c.type_ == "Reconciling"));
    let expected = reconciling.map(|c| c.message.clone()).unwrap_or_default();
    assert_eq!(health("CatalogNode", &rolling), ("Progressing".into(), expected));
    operator.kill().await;
}

/// A HarvestJob whose children are in place is `Ready=True`: Healthy, with its schedule.
#[tokio::test]
async fn a_scheduled_harvest_job_is_healthy() {
    let (client, ns) = common::fresh_namespace("argocd-healthy").await;
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), &ns);
    nodes.patch("marche", &apply(), &Patch::Apply(node(&ns, "marche"))).await.expect("node");
    let jobs: Api<HarvestJob> = Api::namespaced(client.clone(), &ns);
    jobs.patch("macerata", &apply(), &Patch::Apply(harvest_job(&ns, "macerata", "marche"))).await.expect("job");
    let operator = common::Operator::start(client.clone());
    let ready = common::wait_for(&jobs, "macerata", "Ready", "True", "Scheduled", 60).await;
    assert_eq!(health("HarvestJob", &ready), ("Healthy".into(), "runs on schedule '0 3 * * *'".into()));
    operator.kill().await;
}

/// A HarvestJob into a CatalogNode that does not exist is `Stalled=True`: Degraded, with the
/// reason and the operator's message.
#[tokio::test]
async fn a_stalled_harvest_job_is_degraded() {
    let (client, ns) = common::fresh_namespace("argocd-degraded").await;
    let jobs: Api<HarvestJob> = Api::namespaced(client.clone(), &ns);
    jobs.patch("macerata", &apply(), &Patch::Apply(harvest_job(&ns, "macerata", "nowhere"))).await.expect("job");
    let operator = common::Operator::start(client.clone());
    let stalled = common::wait_for(&jobs, "macerata", "Stalled", "True", "TargetNotFound", 60).await;
    let (status, message) = health("HarvestJob", &stalled);
    assert_eq!(status, "Degraded");
    assert_eq!(message, format!("TargetNotFound: CatalogNode {ns}/nowhere does not exist"));
    operator.kill().await;
}
