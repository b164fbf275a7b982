//! The broker across clusters, end to end: a hub (the test cluster) and two spokes, each a
//! real control plane with kwok, started by `make test` (tests/run.sh) and named by
//! MEDIANA_SPOKE_{1,2}_KUBECONFIG and MEDIANA_SPOKE_{1,2}_DIR.
//!
//! The operator reaches each spoke as the ServiceAccount `mediana spoke-rbac` sets up, with
//! exactly the permissions it prints, through a kubeconfig Secret on the hub. Scenarios, in
//! one operator's life: probe; place on a spoke; drift on a spoke repaired through the
//! watch there; a qualification too low; move between spokes (new Ready before the old is
//! removed); a spoke's API server stopped and started again; the kubeconfig Secret rotated
//! (old credentials revoked); deletion, also while the spoke is down; a CatalogNode placed
//! on a spoke, refused as a harvest target, moved, and deleted with its data.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Conditioned, condition, wait_for};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Secret, ServiceAccount};
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, ResourceExt};
use mediana::api::{CatalogNode, CloudTarget, HarvestJob, ReusableSolution};
use mediana::controllers::Settings;
use serde_json::{Value, json};

const PUBLICCODE: &str = include_str!("fixtures/publiccode-design-comuni.yml");
/// Namespace of the broker's ServiceAccount on each spoke.
const SPOKE_ACCESS_NAMESPACE: &str = "mediana-system";

struct Spoke {
    /// Admin client, for the test's own checks.
    admin: Client,
    /// The control plane's directory, for cluster.sh apiserver-stop / apiserver-start.
    dir: String,
    /// The API server's URL and CA, for kubeconfigs made from tokens.
    server: String,
    ca_data: String,
}

async fn spoke(index: u8) -> Spoke {
    let var = |name: &str| {
        std::env::var(format!("MEDIANA_SPOKE_{index}_{name}"))
            .unwrap_or_else(|_| panic!("MEDIANA_SPOKE_{index}_{name} is not set: run the tests with `make test`"))
    };
    let kubeconfig = Kubeconfig::read_from(var("KUBECONFIG")).expect("the spoke's kubeconfig");
    let cluster = kubeconfig.clusters[0].cluster.clone().expect("a cluster entry");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("config");
    Spoke {
        admin: Client::try_from(config).expect("client"),
        dir: var("DIR"),
        server: cluster.server.expect("a server"),
        ca_data: cluster.certificate_authority_data.expect("inline CA"),
    }
}

fn apply_params() -> PatchParams {
    PatchParams::apply(common::TEST_MANAGER).force()
}

async fn apply(client: &Client, manifest: &Value) {
    let discovery = common::discovery(client).await;
    common::apply(client, &discovery, manifest).await.unwrap_or_else(|err| panic!("apply {manifest}: {err}"));
}

/// Sets up the broker's access to `spoke` as `mediana spoke-rbac` prints it, for the
/// ServiceAccount `account`; the kubeconfig with a token of that account. The token comes
/// from the TokenRequest API rather than the printed token Secret: the Secret is filled by
/// the spoke's controller manager, whose caches lag after the outages this test causes.
async fn broker_access(spoke: &Spoke, account: &str) -> String {
    token_kubeconfig(spoke, account, &["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"]).await
}

/// The kubeconfig of a token of `account`, after applying the `kinds` of the spoke-rbac
/// manifests.
async fn token_kubeconfig(spoke: &Spoke, account: &str, kinds: &[&str]) -> String {
    for manifest in mediana::controllers::rbac::spoke_manifests(SPOKE_ACCESS_NAMESPACE, account) {
        if kinds.iter().any(|kind| manifest["kind"] == *kind) {
            apply(&spoke.admin, &manifest).await;
        }
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(spoke.admin.clone(), SPOKE_ACCESS_NAMESPACE);
    let request = TokenRequest {
        spec: TokenRequestSpec { expiration_seconds: Some(3600), ..Default::default() },
        ..Default::default()
    };
    let issued = accounts.create_token_request(account, &Default::default(), &request).await.expect("a token");
    let token = issued.status.expect("the issued token").token;
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: spoke\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: broker\n  user:\n    token: {token}\ncontexts:\n- name: spoke\n  context: {{cluster: spoke, user: broker}}\ncurrent-context: spoke\n",
        spoke.server, spoke.ca_data
    )
}

async fn put_kubeconfig_secret(hub: &Client, ns: &str, name: &str, kubeconfig: &str) {
    let secret = Secret {
        metadata: kube::api::ObjectMeta { name: Some(name.into()), namespace: Some(ns.into()), ..Default::default() },
        data: Some(BTreeMap::from([("kubeconfig".to_owned(), ByteString(kubeconfig.as_bytes().to_vec()))])),
        ..Default::default()
    };
    let mut value = serde_json::to_value(&secret).expect("secret");
    value["apiVersion"] = "v1".into();
    value["kind"] = "Secret".into();
    Api::<Secret>::namespaced(hub.clone(), ns)
        .patch(name, &apply_params(), &Patch::Apply(&value))
        .await
        .expect("secret");
}

async fn put_target(hub: &Client, name: &str, qualification: &str, secret: (&str, &str)) {
    let target = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CloudTarget",
        "metadata": {"name": name},
        "spec": {"provider": "e2e spoke", "qualification": qualification, "deploymentModel": "PrivateQualified",
                 "kubeconfigSecretRef": {"namespace": secret.0, "name": secret.1}}
    });
    Api::<CloudTarget>::all(hub.clone()).patch(name, &apply_params(), &Patch::Apply(&target)).await.expect("target");
}

fn solution(ns: &str, name: &str, target: &str, class: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "ReusableSolution",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "publiccode": {"inline": PUBLICCODE},
            "administration": {"ipaCode": "c_h211"},
            "dataClassification": class,
            "placement": {"target": target},
            "database": {"version": 15, "storage": {"size": "1Gi"}},
            "components": [{"name": "web", "image": "wordpress:6.8", "replicas": replicas,
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "envFrom": [{"secretRef": {"name": format!("{name}-db")}}]}]
        }
    })
}

async fn deployment(client: &Client, ns: &str, name: &str) -> Option<Deployment> {
    Api::<Deployment>::namespaced(client.clone(), ns).get_opt(name).await.ok().flatten()
}

/// Whether the namespace is gone or on its way out.
async fn namespace_removed(client: &Client, name: &str) -> bool {
    match Api::<Namespace>::all(client.clone()).get_opt(name).await {
        Ok(None) => true,
        Ok(Some(ns)) => ns.metadata.deletion_timestamp.is_some(),
        Err(_) => false,
    }
}

/// Waits until the object has not changed for 5 s (its rollout's reconciles are over).
async fn settle(api: &Api<ReusableSolution>, name: &str) {
    let mut last = None;
    for _ in 0..12 {
        let now = api.get(name).await.ok().and_then(|o| o.metadata.resource_version);
        if now.is_some() && now == last {
            return;
        }
        last = now;
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    panic!("{name} did not settle within a minute");
}

fn cluster(command: &str, dir: &str) {
    let script = format!("{}/../tests/controlplane/cluster.sh", env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash").args([script.as_str(), command, dir]).status().expect("cluster.sh");
    assert!(status.success(), "cluster.sh {command} {dir} failed");
}

#[tokio::test]
async fn the_broker_places_moves_and_removes_work_on_remote_clusters() {
    let (hub, ns) = common::fresh_namespace("broker").await;
    let (one, two) = (spoke(1).await, spoke(2).await);
    let account = format!("broker-{ns}");
    let (first, second) = (format!("{account}-a"), format!("{account}-b"));
    put_kubeconfig_secret(&hub, &ns, "spoke-1", &broker_access(&one, &first).await).await;
    put_kubeconfig_secret(&hub, &ns, "spoke-2", &broker_access(&two, &first).await).await;
    let (t1, t2, cheap) = (format!("{ns}-spoke-1"), format!("{ns}-spoke-2"), format!("{ns}-cheap"));
    put_target(&hub, &t1, "QC2", (&ns, "spoke-1")).await;
    put_target(&hub, &t2, "QC3", (&ns, "spoke-2")).await;
    put_target(&hub, &cheap, "QC1", (&ns, "spoke-2")).await;
    // Bad kubeconfig Secrets: missing, and present but not a kubeconfig.
    let (missing, garbled) = (format!("{ns}-missing"), format!("{ns}-garbled"));
    put_target(&hub, &missing, "QC2", (&ns, "nope")).await;
    put_kubeconfig_secret(&hub, &ns, "garbled", "clusters: [}").await;
    put_target(&hub, &garbled, "QC2", (&ns, "garbled")).await;
    // An identity the spoke knows but that was never granted the spoke role.
    let unbound = format!("{ns}-unbound");
    let kubeconfig = token_kubeconfig(&two, &format!("{account}-unbound"), &["Namespace", "ServiceAccount"]).await;
    put_kubeconfig_secret(&hub, &ns, "unbound", &kubeconfig).await;
    put_target(&hub, &unbound, "QC2", (&ns, "unbound")).await;
    let settings = Settings { probe_interval: std::time::Duration::from_secs(3), ..Settings::default() };
    let operator = common::Operator::start_with(hub.clone(), settings);
    let targets: Api<CloudTarget> = Api::all(hub.clone());
    let solutions: Api<ReusableSolution> = Api::namespaced(hub.clone(), &ns);

    // 1. Each spoke is probed with the broker's own credentials.
    for target in [&t1, &t2] {
        let probed = wait_for(&targets, target, "Reachable", "True", "ProbeSucceeded", 60).await;
        let status = probed.status.expect("status");
        assert!(status.kubernetes_version.as_deref().is_some_and(|v| v.starts_with("v1.")), "{status:?}");
        assert_eq!(status.nodes, Some(1));
        assert_eq!(status.allocatable_cpu.as_deref(), Some("4k"));
        assert!(status.last_probe_time.is_some());
        assert_eq!(
            condition(&wait_for(&targets, target, "Ready", "True", "ProbeSucceeded", 10).await, "Ready").map(|c| c.0),
            Some("True".into())
        );
    }

    // A target whose kubeconfig Secret is missing or unusable says which Secret and why.
    let broken = wait_for(&targets, &missing, "Ready", "False", "KubeconfigInvalid", 30).await;
    let message = condition(&broken, "Ready").expect("Ready").2;
    assert!(message.contains(&format!("kubeconfig Secret {ns}/nope does not exist")), "{message}");
    let broken = wait_for(&targets, &garbled, "Reachable", "False", "KubeconfigInvalid", 30).await;
    let message = condition(&broken, "Reachable").expect("Reachable").2;
    assert!(message.contains(&format!("Secret {ns}/garbled key kubeconfig is not usable")), "{message}");
    let lacking = wait_for(&targets, &unbound, "Ready", "False", "PermissionsMissing", 30).await;
    assert_eq!(condition(&lacking, "Reachable").map(|c| c.0), Some("True".into()));
    let message = condition(&lacking, "Ready").expect("Ready").2;
    assert!(message.contains("create namespaces") && message.contains("mediana spoke-rbac"), "{message}");
    solutions
        .patch("nowhere", &apply_params(), &Patch::Apply(solution(&ns, "nowhere", &missing, "Ordinary", 1)))
        .await
        .expect("nowhere");
    let stuck = wait_for(&solutions, "nowhere", "Ready", "False", "KubeconfigInvalid", 30).await;
    assert_eq!(condition(&stuck, "Stalled").map(|c| c.0), Some("True".into()), "a person must fix the Secret");
    solutions.delete("nowhere", &DeleteParams::default()).await.expect("delete nowhere");

    // 2. Placed on spoke 1: Ready on the hub, workloads in the predictable namespace there,
    //    labelled with the hub object's identity; nothing on the hub.
    solutions
        .patch("sito", &apply_params(), &Patch::Apply(solution(&ns, "sito", &t1, "Critical", 2)))
        .await
        .expect("sito");
    let ready = wait_for(&solutions, "sito", "Ready", "True", "Available", 90).await;
    let remote_ns = format!("{ns}-rsol-sito");
    let status = ready.status.clone().expect("status");
    assert_eq!(status.sites.len(), 1);
    assert_eq!(
        (status.sites[0].target.as_str(), status.sites[0].namespace.as_str()),
        (t1.as_str(), remote_ns.as_str())
    );
    assert!(status.sites[0].remote);
    assert!(ready.finalizers().iter().any(|f| f == "mediana.dev/remote-workloads"));
    let components: Vec<(String, i32)> = status.components.iter().map(|c| (c.name.clone(), c.ready_replicas)).collect();
    assert_eq!(components, [("web".into(), 2), ("postgres".into(), 1)]);
    let namespace = Api::<Namespace>::all(one.admin.clone()).get(&remote_ns).await.expect("the namespace on spoke 1");
    assert_eq!(namespace.labels().get("mediana.dev/hub-uid"), ready.uid().as_ref());
    assert_eq!(namespace.labels().get("mediana.dev/hub-namespace"), Some(&ns));
    let web = deployment(&one.admin, &remote_ns, "sito-web").await.expect("sito-web on spoke 1");
    assert_eq!(web.labels().get("mediana.dev/hub-name").map(String::as_str), Some("sito"));
    assert!(web.owner_references().is_empty(), "no owner reference can cross clusters");
    assert!(deployment(&hub, &ns, "sito-web").await.is_none(), "nothing runs on the hub");
    // Someone scales the workload down on the spoke: the watch there wakes the hub object
    // (a Ready object is otherwise reconciled only every 10 minutes), which restores it.
    // First the reconciles the rollout caused must be over, so none of them repairs it.
    settle(&solutions, "sito").await;
    let spoke_deployments = Api::<Deployment>::namespaced(one.admin.clone(), &remote_ns);
    let scaled_down = json!({"spec": {"replicas": 0}});
    spoke_deployments.patch("sito-web", &PatchParams::default(), &Patch::Merge(&scaled_down)).await.expect("scale");
    common::eventually("sito-web restored to 2 replicas on spoke 1", 20, || async {
        (deployment(&one.admin, &remote_ns, "sito-web").await?.spec?.replicas == Some(2)).then_some(())
    })
    .await;

    // 3. A target whose qualification is too low for the data is refused, and nothing is
    //    created on its cluster.
    solutions
        .patch("basso", &apply_params(), &Patch::Apply(solution(&ns, "basso", &cheap, "Critical", 1)))
        .await
        .expect("basso");
    let refused = wait_for(&solutions, "basso", "Ready", "False", "QualificationInsufficient", 60).await;
    assert!(refused.status.expect("status").sites.is_empty());
    assert!(
        Api::<Namespace>::all(two.admin.clone()).get_opt(&format!("{ns}-rsol-basso")).await.expect("get").is_none()
    );

    // 4. Moved to spoke 2: the new placement is rolled out while the old one still runs,
    //    and the old workloads are removed once it is Ready; data volumes stay.
    let moved = json!({"spec": {"placement": {"target": t2}}});
    solutions.patch("sito", &PatchParams::default(), &Patch::Merge(&moved)).await.expect("move");
    common::eventually("sito-web on spoke 2", 60, || async { deployment(&two.admin, &remote_ns, "sito-web").await })
        .await;
    assert!(
        deployment(&one.admin, &remote_ns, "sito-web").await.is_some(),
        "the old placement still runs when the new one starts"
    );
    let moved = common::eventually("sito Ready on spoke 2 only", 90, || async {
        let s = solutions.get("sito").await.ok()?;
        let (ready, _, _) = condition(&s, "Ready")?;
        let sites = &s.status.as_ref()?.sites;
        (ready == "True" && sites.len() == 1 && sites[0].target == t2).then_some(s)
    })
    .await;
    assert_eq!(moved.status.expect("status").placement.map(|p| p.target), Some(t2.clone()));
    common::eventually("sito-web removed from spoke 1", 30, || async {
        deployment(&one.admin, &remote_ns, "sito-web").await.is_none().then_some(())
    })
    .await;
    let claims = Api::<PersistentVolumeClaim>::namespaced(one.admin.clone(), &remote_ns);
    assert!(claims.get_opt("data-sito-postgres-0").await.expect("get").is_some(), "data volumes are not moved");

    // 5. Spoke 1's API server stops: its target and its objects say so; spoke 2 goes on.
    solutions
        .patch("uno", &apply_params(), &Patch::Apply(solution(&ns, "uno", &t1, "Ordinary", 1)))
        .await
        .expect("uno");
    wait_for(&solutions, "uno", "Ready", "True", "Available", 90).await;
    cluster("apiserver-stop", &one.dir);
    wait_for(&targets, &t1, "Reachable", "False", "TargetUnreachable", 60).await;
    let down = wait_for(&solutions, "uno", "Ready", "False", "TargetUnreachable", 60).await;
    assert!(condition(&down, "Ready").expect("Ready").2.contains(&t1));
    let scaled = json!({"spec": {"components": [{"name": "web", "image": "wordpress:6.8", "replicas": 3,
        "ports": [{"name": "http", "containerPort": 8080}], "envFrom": [{"secretRef": {"name": "sito-db"}}]}]}});
    solutions.patch("sito", &PatchParams::default(), &Patch::Merge(&scaled)).await.expect("scale sito");
    let on_two = wait_for(&solutions, "sito", "Ready", "True", "Available", 60).await;
    assert_eq!(on_two.status.expect("status").components[0].ready_replicas, 3, "spoke 2 is unaffected");
    assert_eq!(condition(&targets.get(&t2).await.expect("t2"), "Reachable").map(|c| c.0), Some("True".into()));
    cluster("apiserver-start", &one.dir);
    wait_for(&targets, &t1, "Reachable", "True", "ProbeSucceeded", 60).await;
    wait_for(&solutions, "uno", "Ready", "True", "Available", 90).await;

    // 6. The kubeconfig Secret is rotated and the old token revoked: the operator uses the
    //    new one (a kept client would now be refused).
    let original = Api::<Secret>::namespaced(hub.clone(), &ns).get("spoke-1").await.expect("the kubeconfig Secret");
    let original = String::from_utf8(original.data.expect("data")["kubeconfig"].0.clone()).expect("text");
    let rotated = broker_access(&one, &second).await;
    put_kubeconfig_secret(&hub, &ns, "spoke-1", &rotated).await;
    // Deleting the old ServiceAccount revokes every token issued to it.
    let accounts: Api<ServiceAccount> = Api::namespaced(one.admin.clone(), SPOKE_ACCESS_NAMESPACE);
    accounts.delete(&first, &DeleteParams::default()).await.expect("revoke the old credentials");
    // The API server caches accepted tokens for a few seconds: wait until the old one is
    // really refused, so that only a rebuilt client can go on.
    let old = mediana::controllers::targets::client_from_kubeconfig(&original).await.expect("old client");
    common::eventually("the old token refused by spoke 1", 60, || async {
        match Api::<Namespace>::all(old.clone()).get(SPOKE_ACCESS_NAMESPACE).await {
            Err(kube::Error::Api(status)) if status.code == 401 => Some(()),
            _ => None,
        }
    })
    .await;
    solutions
        .patch("due", &apply_params(), &Patch::Apply(solution(&ns, "due", &t1, "Ordinary", 1)))
        .await
        .expect("due");
    wait_for(&solutions, "due", "Ready", "True", "Available", 90).await;
    assert!(deployment(&one.admin, &format!("{ns}-rsol-due"), "due-web").await.is_some());

    // 7. Deleting an object removes its namespace on the spoke; while the spoke is down,
    //    the finalizer holds and the object says what it waits for.
    solutions.delete("sito", &DeleteParams::default()).await.expect("delete sito");
    common::eventually("sito gone from the hub and spoke 2", 60, || async {
        let gone = solutions.get_opt("sito").await.ok()?.is_none();
        (gone && namespace_removed(&two.admin, &remote_ns).await).then_some(())
    })
    .await;
    cluster("apiserver-stop", &one.dir);
    wait_for(&targets, &t1, "Reachable", "False", "TargetUnreachable", 60).await;
    solutions.delete("due", &DeleteParams::default()).await.expect("delete due");
    let waiting = wait_for(&solutions, "due", "Ready", "False", "TargetUnreachable", 60).await;
    assert!(condition(&waiting, "Ready").expect("Ready").2.contains("deletion waits"));
    assert!(waiting.metadata.deletion_timestamp.is_some());
    cluster("apiserver-start", &one.dir);
    common::eventually("due gone from the hub and spoke 1", 90, || async {
        let gone = solutions.get_opt("due").await.ok()?.is_none();
        (gone && namespace_removed(&one.admin, &format!("{ns}-rsol-due")).await).then_some(())
    })
    .await;

    // 8. A CatalogNode placed on a spoke, then deleted with its data (deletionPolicy Delete).
    let nodes: Api<CatalogNode> = Api::namespaced(hub.clone(), &ns);
    let node = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": "portale", "namespace": ns},
        "spec": {"hostname": "dati.regione.marche.it", "title": "Open data Regione Marche",
                 "publisher": {"ipaCode": "r_marche", "name": "Regione Marche"},
                 "deletionPolicy": "Delete", "placement": {"target": t2}}
    });
    nodes.patch("portale", &apply_params(), &Patch::Apply(&node)).await.expect("portale");
    // Rolled out there; kwok runs no CKAN, so nothing answers and the node is not Ready.
    wait_for(&nodes, "portale", "WebReady", "False", "NotServing", 120).await;
    let node_ns = format!("{ns}-cn-portale");
    assert!(deployment(&two.admin, &node_ns, "portale-ckan").await.is_some(), "CKAN runs on spoke 2");
    assert!(deployment(&hub, &ns, "portale-ckan").await.is_none());
    // Harvesters run on the hub and cannot reach a node on a spoke: refused, nothing runs.
    let harvest = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "HarvestJob",
        "metadata": {"name": "comuni", "namespace": ns},
        "spec": {"target": {"catalogNode": "portale"},
                 "publisher": {"organization": "comune-di-recanati", "ipaCode": "c_h211"},
                 "source": {"type": "ckan", "url": "https://dati.comune.recanati.mc.it"}, "schedule": "@daily"}
    });
    apply(&hub, &harvest).await;
    let jobs: Api<HarvestJob> = Api::namespaced(hub.clone(), &ns);
    let refused = wait_for(&jobs, "comuni", "Stalled", "True", "NodeOnRemoteCluster", 60).await;
    assert!(condition(&refused, "Stalled").expect("Stalled").2.contains(&t2));
    let cronjobs = Api::<k8s_openapi::api::batch::v1::CronJob>::namespaced(hub.clone(), &ns);
    assert!(cronjobs.get_opt("comuni").await.expect("get").is_none(), "no harvester is scheduled");
    // Moved to spoke 1: CKAN rolls out there, and spoke 2's stays, since the new one does not
    // answer (no CKAN runs on kwok): a portal is retired only once its successor serves.
    let moved = json!({"spec": {"placement": {"target": t1}}});
    nodes.patch("portale", &PatchParams::default(), &Patch::Merge(&moved)).await.expect("move portale");
    let moving = common::eventually("portale rolled out on spoke 1 and kept on spoke 2", 120, || async {
        let node = nodes.get("portale").await.ok()?;
        let retiring = condition(&node, "Reconciling")?.1 == "RetiringPreviousPlacement";
        let unanswered = condition(&node, "WebReady")?.1 == "NotServing";
        let on_one = deployment(&one.admin, &node_ns, "portale-ckan").await.is_some();
        (node.generation_observed() && retiring && unanswered && on_one).then_some(node)
    })
    .await;
    let sites: Vec<String> = moving.status.expect("status").sites.into_iter().map(|s| s.target).collect();
    assert_eq!(sites.len(), 2, "both placements recorded: {sites:?}");
    assert!(deployment(&two.admin, &node_ns, "portale-ckan").await.is_some(), "spoke 2's CKAN is kept");
    nodes.delete("portale", &DeleteParams::default()).await.expect("delete portale");
    common::eventually("portale gone from the hub and both spokes", 60, || async {
        let gone = nodes.get_opt("portale").await.ok()?.is_none();
        (gone && namespace_removed(&one.admin, &node_ns).await && namespace_removed(&two.admin, &node_ns).await)
            .then_some(())
    })
    .await;

    solutions.delete("uno", &DeleteParams::default()).await.expect("delete uno");
    solutions.delete("basso", &DeleteParams::default()).await.expect("delete basso");
    common::eventually("every solution gone", 60, || async {
        solutions.list(&Default::default()).await.ok()?.items.is_empty().then_some(())
    })
    .await;
    operator.stop().await;
    for target in [&t1, &t2, &cheap, &missing, &garbled, &unbound] {
        targets.delete(target, &DeleteParams::default()).await.expect("delete target");
    }
    // What the solution's move left behind on purpose (data volumes).
    let _ = Api::<Namespace>::all(one.admin.clone()).delete(&format!("{ns}-rsol-sito"), &DeleteParams::default()).await;
}
