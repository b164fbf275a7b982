//! Real pods on the local cluster's real node (tests/controlplane/node.sh): mediana's own
//! images start and pass their probes, names resolve, claims keep their data, and the chart's
//! operator, running as pods, rolls a ReusableSolution out whose Service answers HTTP. "Ready"
//! here means the software answered: every check asks a real process.
//!
//! `make test` starts that cluster and sets MEDIANA_NODE_KUBECONFIG and MEDIANA_NODE_DIR;
//! with MEDIANA_SKIP_REAL_NODE=1 (a run against a cluster of your own) these tests are skipped.

#[path = "real_node/browser.rs"]
mod browser;
#[path = "real_node/catalog_node.rs"]
mod catalog_node;
#[path = "real_node/chain.rs"]
mod chain;
mod common;
#[path = "real_node/restore.rs"]
mod restore;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Pod};
use kube::api::{DeleteParams, LogParams, Patch, PatchParams};
use kube::{Api, Client, Config};
use mediana::api::reusable_solution::ReusableSolution;
use serde_json::{Value, json};

use common::{TEST_MANAGER, eventually, unique_name, wait_for};

const NODE_NAME: &str = "mediana-node";

/// The real-node cluster's kubeconfig, or None when the run skips real pods.
fn node_kubeconfig() -> Option<String> {
    if std::env::var("MEDIANA_SKIP_REAL_NODE").as_deref() == Ok("1") {
        eprintln!("MEDIANA_SKIP_REAL_NODE=1: real-node test skipped");
        return None;
    }
    Some(std::env::var("MEDIANA_NODE_KUBECONFIG").unwrap_or_else(|_| {
        panic!("MEDIANA_NODE_KUBECONFIG is not set: run the tests with `make test`, which starts the real node")
    }))
}

async fn node_client(kubeconfig: &str) -> Client {
    let config = kube::config::Kubeconfig::read_from(kubeconfig).expect("the node cluster's kubeconfig");
    let config = Config::from_custom_kubeconfig(config, &Default::default()).await.expect("a client configuration");
    let client = Client::try_from(config).expect("a client");
    common::install_crds(client.clone()).await;
    client
}

/// The references of the images of `name` that the node imported (images/build.sh's list): a
/// recipe's own version first, then its variants.
fn imported(name: &str) -> Vec<String> {
    let dir = std::env::var("MEDIANA_NODE_DIR").expect("MEDIANA_NODE_DIR is set with MEDIANA_NODE_KUBECONFIG");
    let list = std::fs::read_to_string(format!("{dir}/node/images")).expect("the node's image list");
    let references: Vec<String> = list
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|reference| reference.rsplit_once(':').is_some_and(|(repo, _)| repo.ends_with(&format!("/{name}"))))
        .map(str::to_owned)
        .collect();
    assert!(!references.is_empty(), "image {name} is not on the node (list: {list})");
    references
}

/// The reference of the image of `name` the node imported.
fn image(name: &str) -> String {
    imported(name).swap_remove(0)
}

/// The tags of the images of `name` the node imported.
fn image_tags(name: &str) -> Vec<String> {
    imported(name).into_iter().filter_map(|r| Some(r.rsplit_once(':')?.1.to_owned())).collect()
}

/// A namespace under the "restricted" Pod Security Standard, as users run theirs.
async fn restricted_namespace(client: &Client, base: &str) -> String {
    let name = unique_name(base);
    let ns = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}});
    Api::<Namespace>::all(client.clone())
        .patch(&name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(ns))
        .await
        .expect("namespace");
    name
}

/// A restricted busybox pod running `script` once.
fn shell_pod(name: &str, script: &str, volumes: Value, mounts: Value) -> Value {
    script_pod(&image("busybox"), name, script, volumes, mounts)
}

/// A restricted pod of `image` running `script` once with its `sh`.
fn script_pod(image: &str, name: &str, script: &str, volumes: Value, mounts: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"restartPolicy": "Never",
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "fsGroup": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "sh", "image": image, "command": ["sh", "-c", script],
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
                "volumeMounts": mounts}],
            "volumes": volumes}})
}

/// Runs `script` in a pod to its end; returns whether it succeeded, and what it printed.
async fn run(client: &Client, ns: &str, name: &str, script: &str, volumes: Value, mounts: Value) -> (bool, String) {
    run_pod(client, ns, name, shell_pod(name, script, volumes, mounts)).await
}

/// Runs `pod` (restartPolicy Never) to its end; returns whether it succeeded, and its log.
async fn run_pod(client: &Client, ns: &str, name: &str, pod: Value) -> (bool, String) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pods.patch(name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(pod))
        .await
        .unwrap_or_else(|err| panic!("pod {name}: {err}"));
    let phase = eventually(&format!("pod {name} to finish"), 120, || async {
        let pod = pods.get(name).await.ok()?;
        let phase = pod.status?.phase?;
        matches!(phase.as_str(), "Succeeded" | "Failed").then_some(phase)
    })
    .await;
    let logs = pods.logs(name, &LogParams::default()).await.unwrap_or_else(|err| panic!("logs of {name}: {err}"));
    pods.delete(name, &DeleteParams::default()).await.expect("delete the pod");
    (phase == "Succeeded", logs)
}

fn no_volumes() -> (Value, Value) {
    (json!([]), json!([]))
}

/// Ready pods of a Deployment, checked as the kubelet reports them (its probes passed).
async fn ready_pods(client: &Client, ns: &str, selector: &str) -> Vec<Pod> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let listed = pods.list(&kube::api::ListParams::default().labels(selector)).await.expect("list pods");
    listed
        .items
        .into_iter()
        .filter(|pod| {
            let status = pod.status.as_ref();
            status.and_then(|s| s.phase.as_deref()) == Some("Running")
                && status
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .collect()
}

#[tokio::test]
async fn the_node_runs_our_images_and_serves_names() {
    let Some(kubeconfig) = node_kubeconfig() else { return };
    let client = node_client(&kubeconfig).await;
    // CoreDNS and local-path-provisioner: our images, Running and Ready on the real node.
    for (ns, selector, name) in [
        ("kube-system", "k8s-app=kube-dns", "coredns"),
        ("local-path-storage", "app=local-path-provisioner", "local-path-provisioner"),
    ] {
        let pods = eventually(&format!("{name} ready"), 60, || async {
            let pods = ready_pods(&client, ns, selector).await;
            (!pods.is_empty()).then_some(pods)
        })
        .await;
        let spec = pods[0].spec.as_ref().expect("pod spec");
        assert_eq!(spec.node_name.as_deref(), Some(NODE_NAME));
        assert_eq!(spec.containers[0].image.as_deref(), Some(image(name).as_str()));
    }
    let ns = restricted_namespace(&client, "names").await;
    let (v, m) = no_volumes();
    let (ok, out) = run(
        &client,
        &ns,
        "lookup",
        "nslookup kubernetes.default.svc.cluster.local && nslookup kube-dns.kube-system.svc.cluster.local",
        v.clone(),
        m.clone(),
    )
    .await;
    assert!(ok, "cluster names resolve from a pod:\n{out}");
    assert!(out.contains("10.96.0.1") && out.contains("10.96.0.10"), "the Services' addresses:\n{out}");
    let (ok, out) = run(&client, &ns, "no-such-name", "nslookup no-such-service.default.svc.cluster.local", v, m).await;
    assert!(!ok, "an unknown name does not resolve:\n{out}");
    Api::<Namespace>::all(client).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}

#[tokio::test]
async fn a_file_on_a_claim_survives_its_pod() {
    let Some(kubeconfig) = node_kubeconfig() else { return };
    let client = node_client(&kubeconfig).await;
    let ns = restricted_namespace(&client, "claims").await;
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}});
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    claims.patch("data", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(claim)).await.expect("claim");
    let volumes = json!([{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]);
    let mounts = json!([{"name": "data", "mountPath": "/data"}]);
    let token = unique_name("written");
    let (ok, out) =
        run(&client, &ns, "writer", &format!("echo {token} > /data/file && sync"), volumes.clone(), mounts.clone())
            .await;
    assert!(ok, "the writer wrote on the claim:\n{out}");
    let (ok, out) = run(&client, &ns, "reader", "cat /data/file", volumes, mounts).await;
    assert!(ok && out.trim() == token, "a new pod reads what the deleted one wrote: {out:?}");
    // The default StorageClass's volume is a real directory on the node.
    let claim = claims.get("data").await.expect("claim");
    assert_eq!(claim.spec.and_then(|s| s.storage_class_name).as_deref(), Some("local-path"));
    Api::<Namespace>::all(client).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}

/// helm against the real-node cluster.
fn helm(kubeconfig: &str, args: &[&str]) {
    common::helm(&[args, &["--kubeconfig", kubeconfig]].concat());
}

/// The holder of the operator's leader Lease.
async fn leader(client: &Client, ns: &str) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), ns);
    let list = leases.list(&Default::default()).await.ok()?;
    list.items.into_iter().find_map(|lease| lease.spec?.holder_identity)
}

#[tokio::test]
async fn the_charts_operator_runs_as_pods_and_rolls_out_solutions_that_serve() {
    let Some(kubeconfig) = node_kubeconfig() else { return };
    let client = node_client(&kubeconfig).await;
    let system = restricted_namespace(&client, "mediana-system").await;
    let chart = common::chart();
    let chart = chart.to_str().expect("a UTF-8 path");
    let operator_image = image("mediana");
    let (repository, tag) = operator_image.rsplit_once(':').expect("a tagged image");
    // A release name of its own: the chart's cluster-scoped objects are named after it.
    let release = unique_name("mediana");
    helm(
        &kubeconfig,
        &[
            "install",
            &release,
            chart,
            "-n",
            &system,
            "--skip-crds",
            "--wait",
            "--timeout",
            "180s",
            "--set",
            &format!("image.repository={repository}"),
            "--set",
            &format!("image.tag={tag}"),
            "--set",
            &format!("localCloudTarget.name={release}"),
            "--set",
            &format!("placement.defaultTarget={release}"),
        ],
    );

    // Two replicas, both serving their readiness probe; exactly one leads.
    let pods = eventually("two ready operator pods", 120, || async {
        let pods = ready_pods(&client, &system, "app.kubernetes.io/name=mediana").await;
        (pods.len() == 2).then_some(pods)
    })
    .await;
    let names: Vec<String> = pods.iter().filter_map(|p| p.metadata.name.clone()).collect();
    let first =
        eventually("a leader", 60, || async { leader(&client, &system).await.filter(|h| names.contains(h)) }).await;

    // The chart's local CloudTarget, probed by the operator's pods with the chart's RBAC:
    // Ready, the real node counted, and an Event recorded about it.
    let targets: Api<mediana::api::CloudTarget> = Api::all(client.clone());
    let probed = eventually("the chart's CloudTarget probed from the operator's pods", 60, || async {
        let status = targets.get(&release).await.ok()?.status?;
        status.common.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True").then_some(status)
    })
    .await;
    assert!(probed.nodes.unwrap_or(0) >= 1, "the operator lists the nodes: {probed:?}");
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::all(client.clone());
    eventually("an Event about the CloudTarget from the operator's pods", 60, || async {
        let list = events.list(&Default::default()).await.ok()?;
        list.items.into_iter().find(|e| {
            e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(release.as_str())
                && e.reporting_controller.as_deref() == Some("mediana")
        })
    })
    .await;

    // /metrics through the Service, from another pod.
    let (v, m) = no_volumes();
    let script = format!("wget -qO- http://{release}-metrics.{system}.svc:8080/metrics");
    let (ok, out) = run(&client, &system, "scrape", &script, v.clone(), m.clone()).await;
    assert!(ok && out.contains("mediana_"), "the operator's metrics through its Service:\n{out}");

    // A ReusableSolution served by a real process: busybox's httpd.
    let ns = restricted_namespace(&client, "reuse").await;
    let solution = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "ReusableSolution",
        "metadata": {"name": "sito", "namespace": ns},
        "spec": {
            "publiccode": {"inline": include_str!("fixtures/publiccode-design-comuni.yml")},
            "administration": {"ipaCode": "c_h211"},
            "dataClassification": "Ordinary",
            "components": [{"name": "web", "image": image("busybox"),
                "command": ["sh", "-c", "mkdir -p /srv/www && echo benvenuti-a-recanati > /srv/www/index.html && exec httpd -f -p 8080 -h /srv/www"],
                "writablePaths": ["/srv"],
                "ports": [{"name": "http", "containerPort": 8080}],
                "probe": {"path": "/index.html", "port": "http", "initialDelaySeconds": 1, "periodSeconds": 2}}]
        }
    });
    let solutions: Api<ReusableSolution> = Api::namespaced(client.clone(), &ns);
    solutions
        .patch("sito", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(solution))
        .await
        .expect("the ReusableSolution is admitted");
    wait_for(&solutions, "sito", "Ready", "True", "Available", 180).await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let web = deployments.get("sito-web").await.expect("the component's Deployment");
    assert_eq!(web.status.and_then(|s| s.ready_replicas), Some(1), "its pod passed the HTTP probe");
    let (ok, out) = run(&client, &ns, "visit", "wget -qO- http://sito-web:8080/", v.clone(), m.clone()).await;
    assert!(ok && out.contains("benvenuti-a-recanati"), "the solution answers through its Service:\n{out}");

    recanati_example_serves_wordpress_from_its_mariadb(&client).await;
    // The examples one after the other, beside a node living its life (upgrade, failure,
    // deletion), the region's data flow, and a node backed up, lost and restored.
    tokio::join!(
        async {
            catalog_node::catalog_node_serves_ckan(&client).await;
            catalog_node::bologna_example_serves_from_an_external_database(&client).await;
        },
        catalog_node::catalog_node_lifecycle(&client),
        chain::municipalities_feed_the_region_which_feeds_the_nation(&client),
        restore::a_node_backed_up_to_a_store_is_restored_as_a_new_node(&client)
    );

    // The leader's pod deleted: the other replica takes over.
    Api::<Pod>::namespaced(client.clone(), &system).delete(&first, &DeleteParams::default()).await.expect("delete");
    // The survivor or the pod replacing the deleted one may win: either way a live pod.
    let second =
        eventually("a new leader", 120, || async { leader(&client, &system).await.filter(|holder| holder != &first) })
            .await;
    eventually(&format!("the new leader {second} to be a ready operator pod (before: {names:?})"), 60, || async {
        let live = ready_pods(&client, &system, "app.kubernetes.io/name=mediana").await;
        live.iter().any(|pod| pod.metadata.name.as_deref() == Some(second.as_str())).then_some(())
    })
    .await;
    // And it reconciles: a Deployment deleted now is restored by the new leader.
    let old_uid = deployments.get("sito-web").await.expect("Deployment").metadata.uid;
    deployments.delete("sito-web", &DeleteParams::default()).await.expect("delete the Deployment");
    eventually("the Deployment restored by the new leader and ready", 120, || async {
        let d = deployments.get("sito-web").await.ok()?;
        (d.metadata.uid != old_uid && d.status?.ready_replicas? == 1).then_some(())
    })
    .await;

    helm(&kubeconfig, &["uninstall", &release, "-n", &system, "--wait"]);
    for n in [&ns, &system] {
        Api::<Namespace>::all(client.clone()).delete(n, &DeleteParams::default()).await.expect("delete namespace");
    }
}

/// examples/reuse-sito-comune-recanati.yaml as a user applies it, in a namespace of its own:
/// WordPress and MariaDB from mediana's images, Ready, and the WordPress installer (which
/// PHP renders only once it has connected to MariaDB) read through the Service from a pod.
async fn recanati_example_serves_wordpress_from_its_mariadb(client: &Client) {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/reuse-sito-comune-recanati.yaml");
    let mut solution = common::read_manifests(&example)
        .into_iter()
        .find(|m| m["kind"] == "ReusableSolution")
        .expect("the example's ReusableSolution");
    let name = solution["metadata"]["name"].as_str().expect("a name").to_owned();
    for component in solution["spec"]["components"].as_array().expect("components") {
        let wanted = component["image"].as_str().expect("an image");
        let on_node = image(component["name"].as_str().expect("a component name"));
        assert_eq!(wanted, on_node, "the example names the image mediana builds");
    }
    let ns = restricted_namespace(client, "comune-recanati").await;
    solution["metadata"]["namespace"] = json!(ns);
    // The Secret the example's comment tells the user to create.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("{name}-mariadb")},
        "stringData": {"MARIADB_DATABASE": "wordpress", "MARIADB_USER": "wordpress",
                       "MARIADB_PASSWORD": "pa'ss\\word", "MARIADB_ROOT_PASSWORD": common::unique_name("root")}});
    Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), &ns)
        .patch(&format!("{name}-mariadb"), &PatchParams::apply(TEST_MANAGER), &Patch::Apply(secret))
        .await
        .expect("the database Secret");
    let solutions: Api<ReusableSolution> = Api::namespaced(client.clone(), &ns);
    solutions
        .patch(&name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(solution))
        .await
        .expect("the example is admitted");
    wait_for(&solutions, &name, "Ready", "True", "Available", 300).await;

    let (v, m) = no_volumes();
    let script = format!("wget -qO- http://{name}-wordpress:8080/wp-admin/install.php");
    let (ok, page) = run(client, &ns, "visit", &script, v, m).await;
    assert!(
        ok && page.contains("<title>WordPress &rsaquo; Installation</title>"),
        "WordPress answers through its Service with its installer:\n{page}"
    );
    assert!(!page.contains("Error establishing a database connection"), "WordPress reached MariaDB:\n{page}");
    Api::<Namespace>::all(client.clone()).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}

/// A readiness probe that runs `command` in the container.
fn exec_probe(command: &[&str]) -> Value {
    json!({"exec": {"command": command}})
}

/// A restricted pod of `image` whose readiness probe is `probe`, run in the container: the
/// pod is Ready only once the software itself answered the probe's query.
fn server_pod(name: &str, image: &str, env: Value, mut probe: Value, writable: &[&str]) -> Value {
    probe["periodSeconds"] = json!(2);
    probe["failureThreshold"] = json!(90);
    // As the operator's own probes: the default second is too short for an exec probe on
    // two busy CPUs, and a probe that times out is a failure, not a wait.
    probe["timeoutSeconds"] = json!(5);
    let volumes: Vec<Value> = (0..writable.len()).map(|i| json!({"name": format!("w{i}"), "emptyDir": {}})).collect();
    let mounts: Vec<Value> =
        writable.iter().enumerate().map(|(i, path)| json!({"name": format!("w{i}"), "mountPath": path})).collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"server": name}},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": name, "image": image, "env": env,
                "readinessProbe": probe,
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                                    "readOnlyRootFilesystem": true},
                "volumeMounts": mounts}],
            "volumes": volumes}})
}

#[tokio::test]
async fn the_server_images_start_as_nonroot_and_answer_queries() {
    let Some(kubeconfig) = node_kubeconfig() else { return };
    let client = node_client(&kubeconfig).await;
    let ns = restricted_namespace(&client, "images").await;
    let env =
        |pairs: &[(&str, &str)]| Value::Array(pairs.iter().map(|(k, v)| json!({"name": k, "value": v})).collect());
    let servers = [
        server_pod(
            "postgres",
            &image("postgres"),
            env(&[
                ("POSTGRES_USER", "ckan"),
                ("POSTGRES_PASSWORD", "se'cret"),
                ("POSTGRES_DB", "ckan_default"),
                ("PGDATA", "/var/lib/postgresql/data/pgdata"),
            ]),
            exec_probe(&[
                "psql",
                "postgresql://ckan:se%27cret@127.0.0.1/ckan_default",
                "-Atc",
                "select current_database()",
            ]),
            &["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"],
        ),
        server_pod(
            "redis",
            &image("redis"),
            json!([]),
            exec_probe(&["redis-cli", "-h", "127.0.0.1", "ping"]),
            &["/data"],
        ),
        server_pod(
            "mariadb",
            &image("mariadb"),
            // A quote and a backslash: the SQL the entrypoint writes must keep them.
            env(&[
                ("MARIADB_ROOT_PASSWORD", r"r'o\ot"),
                ("MARIADB_DATABASE", "wp"),
                ("MARIADB_USER", "wp"),
                ("MARIADB_PASSWORD", "wp"),
            ]),
            exec_probe(&["mariadb", "-h", "127.0.0.1", "-u", "root", r"-pr'o\ot", "wp", "-e", "select 1"]),
            &["/var/lib/mysql", "/tmp"],
        ),
        // The probe a CatalogNode's search StatefulSet uses: the ckan core answers a ping.
        server_pod(
            "solr",
            &image("solr"),
            env(&[("SOLR_HEAP", "256m")]),
            json!({"httpGet": {"path": "/solr/ckan/admin/ping", "port": 8983}}),
            &["/var/solr", "/tmp"],
        ),
    ];
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    for pod in &servers {
        let name = pod["metadata"]["name"].as_str().expect("a name");
        pods.patch(name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(pod))
            .await
            .unwrap_or_else(|err| panic!("pod {name}: {err}"));
    }
    for pod in &servers {
        let name = pod["metadata"]["name"].as_str().expect("a name");
        // runAsNonRoot: the kubelet starts the container only if the image's user is not root.
        // Ten minutes, as for a CatalogNode: beside the chain's three CKANs, Solr's JVM took
        // over three to start on CI's two CPUs.
        eventually(&format!("{name} to answer its readiness query"), 600, || async {
            ready_pods(&client, &ns, &format!("server={name}")).await.into_iter().next()
        })
        .await;
    }
    // Reachable over the pod network too: redis from a busybox pod, through the pod IP.
    let redis_ip = pods.get("redis").await.ok().and_then(|p| p.status?.pod_ip).expect("redis has a pod IP");
    let (v, m) = no_volumes();
    let (ok, out) = run(&client, &ns, "ping", &format!("printf 'PING\\r\\n' | nc -w 5 {redis_ip} 6379"), v, m).await;
    assert!(ok && out.contains("+PONG"), "redis answers another pod:\n{out}");
    // Solr serves on the pod's address (its embedded runner binds loopback unless told), with
    // CKAN's schema in the ckan core.
    let solr_ip = pods.get("solr").await.ok().and_then(|p| p.status?.pod_ip).expect("solr has a pod IP");
    let (v, m) = no_volumes();
    let (ok, out) =
        run(&client, &ns, "schema", &format!("wget -qO- http://{solr_ip}:8983/solr/ckan/schema/name"), v, m).await;
    assert!(ok && out.contains("\"ckan-2.12\""), "Solr serves CKAN's schema to another pod:\n{out}");
    Api::<Namespace>::all(client.clone()).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}
