//! ReusableSolutions end to end on the local control plane (kwok makes their pods Ready):
//! a multi-component solution with a managed database and an exposure becomes Ready; each
//! data classification against each qualification; a target whose qualification is lowered
//! under a running solution; the reuse policy (invalid, not enforced, obsolete, ConfigMap
//! and URL sources); deletion that keeps the data.
//!
//! One operator runs for the whole file, so the scenarios share one test function. CloudTargets
//! are cluster-scoped: each run creates its own, named after its namespace, and deletes them.

mod common;

use std::time::Duration;

use common::{condition, wait_for};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use mediana::api::{CloudTarget, ReusableSolution};
use mediana::controllers::Settings;
use serde_json::{Value, json};

/// A valid publiccode.yml (Designers Italia's theme for municipal sites), shared with the
/// controller's unit tests.
const PUBLICCODE: &str = include_str!("fixtures/publiccode-design-comuni.yml");

fn apply_params() -> PatchParams {
    PatchParams::apply(common::TEST_MANAGER).force()
}

fn target_name(ns: &str, suffix: &str) -> String {
    format!("{ns}-{suffix}")
}

/// A CloudTarget on a qualified private cloud, where the level alone decides.
async fn put_target(client: &Client, name: &str, qualification: &str) {
    put_target_spec(client, name, json!({"qualification": qualification})).await;
}

async fn put_target_spec(client: &Client, name: &str, spec: Value) {
    let mut full = json!({"provider": "e2e", "psn": false, "deploymentModel": "PrivateQualified"});
    full.as_object_mut().expect("an object").extend(spec.as_object().cloned().unwrap_or_default());
    let target = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CloudTarget",
        "metadata": {"name": name},
        "spec": full
    });
    Api::<CloudTarget>::all(client.clone())
        .patch(name, &apply_params(), &Patch::Apply(&target))
        .await
        .unwrap_or_else(|err| panic!("CloudTarget {name}: {err}"));
}

/// A one-component solution on `target` (none: the operator's default).
fn small(ns: &str, name: &str, class: &str, target: Option<&str>, publiccode: Value) -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "ReusableSolution",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "publiccode": publiccode,
            "administration": {"ipaCode": "c_h211"},
            "dataClassification": class,
            "placement": target.map(|t| json!({"target": t})).unwrap_or(json!({})),
            "components": [{"name": "web", "image": "nginxinc/nginx-unprivileged:1.27",
                            "ports": [{"name": "http", "containerPort": 8080}]}]
        }
    })
}

/// A WordPress site with a worker, a managed PostgreSQL and an exposure with TLS.
fn site(ns: &str, target: &str, web_replicas: i32) -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "ReusableSolution",
        "metadata": {"name": "sito", "namespace": ns},
        "spec": {
            "publiccode": {"inline": PUBLICCODE},
            "administration": {"ipaCode": "c_h211", "name": "Comune di Recanati"},
            "dataClassification": "Critical",
            "placement": {"target": target},
            "database": {"version": 15, "storage": {"size": "1Gi"}},
            "components": [
                {"name": "web", "image": "wordpress:6.8", "replicas": web_replicas,
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "probe": {"path": "/wp-login.php", "port": "http"},
                 "envFrom": [{"secretRef": {"name": "sito-db"}}],
                 "volumes": [{"name": "uploads", "size": "1Gi", "mountPath": "/var/www/html/wp-content/uploads"}]},
                {"name": "worker", "image": "wordpress:6.8-cli", "command": ["sleep", "infinity"]}
            ],
            "exposure": {"component": "web", "port": "http", "host": "www.comune.recanati.mc.it",
                         "tls": {"secretName": "recanati-tls"}}
        }
    })
}

async fn names<K>(client: &Client, ns: &str, instance: &str) -> Vec<String>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let selector = format!("app.kubernetes.io/name=reusablesolution,app.kubernetes.io/instance={instance}");
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    let mut names: Vec<String> = api
        .list(&ListParams::default().labels(&selector))
        .await
        .expect("list")
        .items
        .iter()
        .map(|o| o.name_any())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn reusable_solutions_end_to_end() {
    let (client, ns) = common::fresh_namespace("rsol-e2e").await;
    let levels = ["QC1", "QC2", "QC3", "QC4"];
    for level in levels {
        put_target(&client, &target_name(&ns, &level.to_lowercase()), level).await;
    }
    let lowered = target_name(&ns, "lowered");
    put_target(&client, &lowered, "QC2").await;
    // Solutions that name no target land on this run's QC1 target.
    let settings = Settings { default_target: target_name(&ns, "qc1"), ..Settings::default() };
    let operator = common::Operator::start_with(client.clone(), settings);
    let api: Api<ReusableSolution> = Api::namespaced(client.clone(), &ns);

    // 1. A multi-component solution with a managed database and an exposure becomes Ready.
    api.patch("sito", &apply_params(), &Patch::Apply(site(&ns, &lowered, 2))).await.expect("create sito");
    let ready = wait_for(&api, "sito", "Ready", "True", "Available", 90).await;
    let status = ready.status.clone().expect("status");
    assert_eq!(status.url.as_deref(), Some("https://www.comune.recanati.mc.it"));
    let summary = status.publiccode.clone().expect("publiccode summary");
    assert_eq!(summary.name.as_deref(), Some("Design Comuni Italia (WordPress)"));
    assert_eq!(summary.license.as_deref(), Some("AGPL-3.0-only"));
    assert_eq!(summary.reused_by.as_deref(), Some("c_h211"));
    let placement = status.placement.clone().expect("placement record");
    assert_eq!((placement.target.as_str(), placement.qualification.as_deref()), (lowered.as_str(), Some("QC2")));
    assert_eq!(placement.classification.as_deref(), Some("Critical"));
    assert!(placement.allowed && placement.decided_at.is_some());
    assert!(placement.rule.as_deref().is_some_and(|r| r.starts_with("Critical requires QC2 or higher")));
    let components: Vec<(String, i32, i32)> =
        status.components.iter().map(|c| (c.name.clone(), c.replicas, c.ready_replicas)).collect();
    assert_eq!(components, [("web".into(), 2, 2), ("worker".into(), 1, 1), ("postgres".into(), 1, 1)]);
    for type_ in ["PubliccodeValid", "PlacementAllowed"] {
        assert_eq!(condition(&ready, type_).map(|c| c.0), Some("True".into()), "{type_}");
    }
    assert_eq!(condition(&ready, "Stalled").map(|c| c.0), Some("False".into()));
    assert_eq!(names::<Deployment>(&client, &ns, "sito").await, ["sito-web", "sito-worker"]);
    assert_eq!(names::<StatefulSet>(&client, &ns, "sito").await, ["sito-postgres"]);
    assert_eq!(names::<Service>(&client, &ns, "sito").await, ["sito-postgres", "sito-web"]);
    assert_eq!(names::<Ingress>(&client, &ns, "sito").await, ["sito"]);
    assert_eq!(names::<NetworkPolicy>(&client, &ns, "sito").await, ["sito-postgres", "sito-web", "sito-worker"]);
    assert_eq!(names::<PodDisruptionBudget>(&client, &ns, "sito").await, ["sito-web"]);
    assert_eq!(names::<Secret>(&client, &ns, "sito").await, ["sito-db"]);
    let claims = names::<PersistentVolumeClaim>(&client, &ns, "sito").await;
    assert!(claims.contains(&"sito-web-uploads".to_owned()) && claims.contains(&"data-sito-postgres-0".to_owned()));

    // An unchanged solution is never written again (a label change wakes a reconcile
    // without changing the spec), once the last readiness updates have settled.
    let mut settled = versions(&client, &ns, "sito").await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = versions(&client, &ns, "sito").await;
        if now == settled {
            break;
        }
        settled = now;
    }
    let touched = json!({"metadata": {"labels": {"touched": "1"}}});
    let labelled = operator
        .assert_idle_after("ReusableSolution", async {
            api.patch("sito", &PatchParams::default(), &Patch::Merge(touched)).await.expect("label")
        })
        .await;
    let mut after = versions(&client, &ns, "sito").await;
    assert_eq!(
        after.remove(0),
        labelled.resource_version().unwrap_or_default(),
        "status rewritten by an idle reconcile"
    );
    assert_eq!(after, settled[1..], "children rewritten by an idle reconcile");

    // 2. Each classification against each qualification.
    let classes = [("Ordinary", 0), ("Critical", 1), ("Strategic", 2)];
    for (class, _) in classes {
        for level in levels {
            let name = format!("m-{}-{}", class.to_lowercase(), level.to_lowercase());
            let target = target_name(&ns, &level.to_lowercase());
            let solution = small(&ns, &name, class, Some(&target), json!({"inline": PUBLICCODE}));
            api.patch(&name, &apply_params(), &Patch::Apply(solution)).await.expect("create");
        }
    }
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    for (class, lowest) in classes {
        for (index, level) in levels.iter().enumerate() {
            let name = format!("m-{}-{}", class.to_lowercase(), level.to_lowercase());
            let (status, reason) = if index >= lowest {
                ("True", "QualificationSufficient")
            } else {
                ("False", "QualificationInsufficient")
            };
            let solution = wait_for(&api, &name, "PlacementAllowed", status, reason, 90).await;
            let deployed = deployments.get_opt(&format!("{name}-web")).await.expect("get").is_some();
            assert_eq!(deployed, index >= lowest, "{class} on {level}: deployed");
            if index < lowest {
                assert_eq!(condition(&solution, "Ready").map(|c| c.1), Some("QualificationInsufficient".into()));
            }
        }
    }

    // 3. The target's qualification is lowered under the running solution: refused, not
    // deleted, and no further rollouts until it is restored.
    put_target(&client, &lowered, "QC1").await;
    let refused = wait_for(&api, "sito", "PlacementAllowed", "False", "QualificationInsufficient", 90).await;
    assert_eq!(
        condition(&refused, "Ready").map(|c| (c.0, c.1)),
        Some(("False".into(), "QualificationInsufficient".into()))
    );
    assert_eq!(condition(&refused, "Stalled").map(|c| c.0), Some("True".into()));
    assert!(!refused.status.as_ref().and_then(|s| s.placement.as_ref()).expect("record").allowed);
    api.patch("sito", &apply_params(), &Patch::Apply(site(&ns, &lowered, 3))).await.expect("scale sito");
    wait_for(&api, "sito", "PlacementAllowed", "False", "QualificationInsufficient", 90).await;
    let web = deployments.get("sito-web").await.expect("the running solution is not deleted");
    assert_eq!(web.spec.and_then(|s| s.replicas), Some(2), "no rollout while the placement is refused");
    put_target(&client, &lowered, "QC3").await;
    wait_for(&api, "sito", "Ready", "True", "Available", 90).await;
    assert_eq!(deployments.get("sito-web").await.expect("web").spec.and_then(|s| s.replicas), Some(3));

    // 3b. Its qualification expires: the same, with its own reason, and the target says so.
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Days::new(1)).to_string();
    put_target_spec(&client, &lowered, json!({"qualification": "QC3", "validUntil": yesterday})).await;
    let expired = wait_for(&api, "sito", "PlacementAllowed", "False", "QualificationExpired", 90).await;
    let record = expired.status.as_ref().and_then(|s| s.placement.clone()).expect("record");
    assert_eq!(record.valid_until.as_deref(), Some(yesterday.as_str()));
    assert!(deployments.get("sito-web").await.is_ok(), "an expired qualification deletes nothing");
    let targets: Api<CloudTarget> = Api::all(client.clone());
    common::eventually("the target reports its expired qualification", 60, || async {
        let target = targets.get(&lowered).await.ok()?;
        let conditions = target.status.as_ref()?.common.conditions.clone();
        conditions.iter().any(|c| c.type_ == "QualificationValid" && c.reason == "QualificationExpired").then_some(())
    })
    .await;
    put_target(&client, &lowered, "QC3").await;
    wait_for(&api, "sito", "Ready", "True", "Available", 90).await;

    // 4. The reuse policy.
    let invalid = PUBLICCODE.replace("developmentStatus: stable", "developmentStatus: finished");
    let obsolete = PUBLICCODE.replace("developmentStatus: stable", "developmentStatus: obsolete");
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "publiccode"},
        "data": {"publiccode.yml": PUBLICCODE}});
    configmaps.patch("publiccode", &apply_params(), &Patch::Apply(config_map)).await.expect("ConfigMap");
    let cases = [
        ("invalid", json!({"inline": invalid})),
        ("not-enforced", json!({"inline": invalid, "enforce": false})),
        ("obsolete", json!({"inline": obsolete, "enforce": false})),
        ("from-configmap", json!({"configMapKeyRef": {"name": "publiccode", "key": "publiccode.yml"}})),
        (
            "from-url",
            // A loopback address: the network guard refuses it before connecting.
            json!({"url": "http://127.0.0.1:9/publiccode.yml"}),
        ),
        ("default-target", json!({"inline": PUBLICCODE})),
    ];
    for (name, publiccode) in &cases {
        let target = (*name != "default-target").then(|| target_name(&ns, "qc1"));
        api.patch(
            name,
            &apply_params(),
            &Patch::Apply(small(&ns, name, "Ordinary", target.as_deref(), publiccode.clone())),
        )
        .await
        .unwrap_or_else(|err| panic!("create {name}: {err}"));
    }
    let solution = wait_for(&api, "invalid", "PubliccodeValid", "False", "Invalid", 90).await;
    assert!(condition(&solution, "PubliccodeValid").is_some_and(|c| c.2.contains("developmentStatus")));
    assert_eq!(condition(&solution, "Stalled").map(|c| c.1), Some("Invalid".into()));
    assert!(deployments.get_opt("invalid-web").await.expect("get").is_none(), "an invalid solution is not deployed");

    let solution = wait_for(&api, "not-enforced", "Ready", "True", "Available", 90).await;
    assert_eq!(condition(&solution, "PubliccodeValid").map(|c| c.0), Some("False".into()));
    assert!(condition(&solution, "Ready").is_some_and(|c| c.2.contains("enforce is false")));

    wait_for(&api, "obsolete", "Stalled", "True", "Obsolete", 90).await;
    assert!(deployments.get_opt("obsolete-web").await.expect("get").is_none(), "obsolete software is not deployed");

    let solution = wait_for(&api, "from-configmap", "Ready", "True", "Available", 90).await;
    assert_eq!(solution.status.and_then(|s| s.publiccode).and_then(|p| p.version).as_deref(), Some("v1.12.5"));

    let solution = wait_for(&api, "from-url", "PubliccodeValid", "False", "PubliccodeUnavailable", 90).await;
    assert!(
        condition(&solution, "PubliccodeValid").is_some_and(|c| c.2.contains("127.0.0.1") && c.2.contains("loopback")),
        "the refusal names the address and why"
    );

    let solution = wait_for(&api, "default-target", "Ready", "True", "Available", 90).await;
    assert_eq!(solution.status.and_then(|s| s.placement).map(|p| p.target), Some(target_name(&ns, "qc1")));

    // 5. Deletion: the children go with the solution, the data volumes stay.
    api.delete("sito", &DeleteParams::foreground()).await.expect("delete sito");
    common::eventually("sito's workloads garbage-collected", 60, || async {
        (names::<Deployment>(&client, &ns, "sito").await.is_empty()
            && names::<Service>(&client, &ns, "sito").await.is_empty())
        .then_some(())
    })
    .await;
    let claims = names::<PersistentVolumeClaim>(&client, &ns, "sito").await;
    assert!(claims.contains(&"sito-web-uploads".to_owned()), "data volumes outlive the solution: {claims:?}");

    // 6. The examples deploy as they are, in namespaces that enforce the "restricted" Pod
    // Security Standard (the API server's admission refuses any pod that breaks it).
    let discovery = common::discovery(&client).await;
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for file in ["cloudtargets.yaml", "reuse-govway-regione-marche.yaml", "reuse-sito-comune-recanati.yaml"] {
        let mut manifests = common::read_manifests(&examples.join(file));
        manifests.sort_by_key(|m| m["kind"] != "Namespace");
        for manifest in manifests {
            common::apply(&client, &discovery, &manifest).await.unwrap_or_else(|err| panic!("{file}: {err}"));
        }
    }
    for (namespace, name) in [("interop-marche", "govway"), ("comune-recanati", "sito-istituzionale")] {
        let api: Api<ReusableSolution> = Api::namespaced(client.clone(), namespace);
        let solution = wait_for(&api, name, "Ready", "True", "Available", 90).await;
        let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), namespace);
        let running =
            pods.list(&ListParams::default().labels("app.kubernetes.io/managed-by=mediana")).await.expect("pods");
        assert!(!running.items.is_empty(), "{name}: pods admitted under the restricted standard");
        assert!(solution.status.and_then(|s| s.url).is_some_and(|u| u.starts_with("https://")), "{name}");
    }

    operator.stop().await;
    let targets: Api<CloudTarget> = Api::all(client.clone());
    for suffix in ["qc1", "qc2", "qc3", "qc4", "lowered"] {
        let _ = targets.delete(&target_name(&ns, suffix), &DeleteParams::default()).await;
    }
}

/// The resourceVersions of a solution and of its children: equal before and after a
/// reconcile that wrote nothing.
async fn versions(client: &Client, ns: &str, name: &str) -> Vec<String> {
    let selector = format!("app.kubernetes.io/instance={name},app.kubernetes.io/managed-by=mediana");
    let mut out = vec![
        Api::<ReusableSolution>::namespaced(client.clone(), ns)
            .get(name)
            .await
            .expect("get")
            .resource_version()
            .unwrap_or_default(),
    ];
    macro_rules! collect {
        ($($kind:ty),*) => {$(
            let api: Api<$kind> = Api::namespaced(client.clone(), ns);
            for o in api.list(&ListParams::default().labels(&selector)).await.expect("list").items {
                out.push(format!("{}/{}@{}", stringify!($kind), o.name_any(), o.resource_version().unwrap_or_default()));
            }
        )*};
    }
    collect!(
        Deployment,
        StatefulSet,
        Service,
        Ingress,
        NetworkPolicy,
        PodDisruptionBudget,
        Secret,
        PersistentVolumeClaim
    );
    out
}

/// A value the CRD cannot check, in the backups of a solution's database: the API server
/// refuses the backup CronJob of a time zone it does not know. The solution is
/// `Stalled=True InvalidSpec` in the API server's words (not a retry loop with no status), and
/// a fixed spec recovers.
#[tokio::test]
async fn a_backup_time_zone_the_api_server_does_not_know_is_reported_until_fixed() {
    let (client, ns) = common::fresh_namespace("rsol-tz").await;
    let target = target_name(&ns, "qc1");
    put_target(&client, &target, "QC1").await;
    let operator = common::Operator::start(client.clone());
    let api: Api<ReusableSolution> = Api::namespaced(client.clone(), &ns);
    let with_backups = |time_zone: &str| {
        let mut solution = small(&ns, "protocollo", "Ordinary", Some(&target), json!({"inline": PUBLICCODE}));
        solution["spec"]["database"] = json!({"version": 15});
        solution["spec"]["backup"] = json!({"schedule": "0 3 * * *", "timeZone": time_zone, "objectStore": {
            "destinationPath": "s3://backups/soluzioni", "endpointURL": "https://s3.example.it",
            "s3Credentials": {"accessKeyId": {"name": "k", "key": "id"}, "secretAccessKey": {"name": "k", "key": "secret"}}}});
        solution
    };
    api.patch("protocollo", &apply_params(), &Patch::Apply(with_backups("Mars/Olympus"))).await.expect("admitted");
    let stalled = wait_for(&api, "protocollo", "Stalled", "True", "InvalidSpec", 90).await;
    let (_, _, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert!(message.contains("timeZone") && message.contains("Mars/Olympus"), "names the field and value: {message}");
    assert!(!message.contains("Status {"), "the API server's words, not a debug dump: {message}");
    let (ready, _, _) = condition(&stalled, "Ready").expect("Ready");
    assert_eq!(ready, "False");

    api.patch("protocollo", &apply_params(), &Patch::Apply(with_backups("Europe/Rome"))).await.expect("fixed");
    wait_for(&api, "protocollo", "Ready", "True", "Available", 90).await;
    operator.stop().await;
    let _ = Api::<CloudTarget>::all(client.clone()).delete(&target, &DeleteParams::default()).await;
}
