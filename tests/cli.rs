//! The `mediana` binary as a person or a pod runs it.

mod common;

use std::io::{BufRead, BufReader};

use kube::Api;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Tests that run operator processes against the cluster take turns: run side by side, they
/// made each other's shutdown time out under load.
static OPERATOR_PROCESSES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn mediana() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mediana"))
}

#[test]
fn version_names_the_build_and_the_api() {
    let out = mediana().arg("version").output().expect("run mediana version");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with(&format!("mediana {}", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.contains("mediana.dev/v1alpha1"), "{text}");
}

#[test]
fn crds_prints_the_four_crds_as_yaml() {
    let out = mediana().arg("crds").output().expect("run mediana crds");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("valid multi-document YAML");
    let names: Vec<&str> = documents.iter().filter_map(|d| d["metadata"]["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "catalognodes.mediana.dev",
            "harvestjobs.mediana.dev",
            "reusablesolutions.mediana.dev",
            "cloudtargets.mediana.dev"
        ]
    );
    assert!(documents.iter().all(|d| d["kind"] == "CustomResourceDefinition"));
}

/// What `mediana spoke-rbac` prints is what the broker test applies to its spokes (the
/// library function behind it): here, that the command prints it as parseable YAML with the
/// names asked for, and a ClusterRole that never lists Secrets.
#[test]
fn spoke_rbac_prints_the_spoke_access_manifests() {
    let out = mediana().args(["spoke-rbac", "--namespace", "broker", "--name", "marche"]).output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).expect("valid multi-document YAML");
    let kinds: Vec<(&str, &str)> =
        documents.iter().filter_map(|d| Some((d["kind"].as_str()?, d["metadata"]["name"].as_str()?))).collect();
    assert_eq!(
        kinds,
        [
            ("Namespace", "broker"),
            ("ServiceAccount", "marche"),
            ("ClusterRole", "marche"),
            ("ClusterRoleBinding", "marche"),
            ("Secret", "marche-token")
        ]
    );
    let expected = mediana::controllers::rbac::spoke_manifests("broker", "marche");
    assert_eq!(documents, expected, "the printed manifests are the ones the broker test applies");
    let rules = documents[2]["rules"].as_array().expect("rules");
    let secrets = rules.iter().find(|r| r["resources"][0] == "secrets").expect("a rule for secrets");
    assert_eq!(secrets["verbs"], serde_json::json!(["create", "get"]));
}

#[test]
fn run_without_a_cluster_fails_clearly_in_json_logs() {
    let out = mediana()
        .args(["run", "--log-format", "json", "--probe-addr", "127.0.0.1:0"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output()
        .expect("run mediana run");
    assert!(!out.status.success(), "mediana run succeeded without a cluster");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    let log: serde_json::Value =
        serde_json::from_str(first).unwrap_or_else(|err| panic!("log line is not JSON ({err}): {first}"));
    assert_eq!(log["level"], "INFO");
    assert_eq!(log["message"], "starting");
    assert!(stderr.contains("set KUBECONFIG"), "the error says what to do: {stderr}");
}

#[tokio::test]
async fn run_becomes_ready_and_stops_gracefully_on_sigterm() {
    let _turn = OPERATOR_PROCESSES.lock().await;
    common::client().await; // the CRDs must be served, or the operator refuses to start
    let port = common::free_port();
    let child = mediana()
        .args(["run", "--probe-addr", &format!("127.0.0.1:{port}"), "--lease-name", &common::unique_name("cli-ready")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mediana run");
    // Killed if the test fails half-way.
    let mut replica = Replica { name: "ready", port, child };
    let child = &mut replica.child;
    // Drain the logs as they come: a full pipe would block the child.
    let stderr = child.stderr.take().expect("stderr");
    let log_reader =
        std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<String>>());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if common::http_get(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(child.try_wait().expect("poll child").is_none(), "mediana run exited before becoming ready");
        assert!(Instant::now() < deadline, "mediana run not ready after 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(common::http_get(port, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200")));
    let leading = wait_for_metric(port, "mediana_leader 1", 30);
    assert!(leading, "the only replica becomes leader");
    // The backlog of every controller is exported (sampled every 2 s).
    let deadline = Instant::now() + Duration::from_secs(15);
    let queue = "mediana_reconcile_queue_depth{controller=\"CatalogNode\"} ";
    while !common::http_get(port, "/metrics").is_some_and(|m| m.lines().any(|l| l.starts_with(queue))) {
        assert!(Instant::now() < deadline, "no {queue}line in /metrics");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Within the chart's terminationGracePeriodSeconds: reconciles in progress finish first.
    let status = terminate(child);
    let logs = log_reader.join().expect("log reader");
    assert!(status.success(), "mediana run exited with {status} after SIGTERM:\n{}", logs.join("\n"));
    assert_wound_down(&logs);
}

/// Every controller wound down by itself; the bounded grace period (a safety net for a
/// request that never returns) was not needed.
fn assert_wound_down(logs: &[String]) {
    assert!(
        logs.iter().any(|l| l.contains("all controllers stopped"))
            && !logs.iter().any(|l| l.contains("exiting anyway")),
        "every controller stops by itself on SIGTERM:\n{}",
        logs.join("\n")
    );
}

/// Sends SIGTERM and waits (at most 30 s, the chart's termination grace) for the exit.
fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill").success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("poll child") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("mediana run still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An identity that may not list HarvestJobs: the operator starts (the CRDs are served),
/// warns that the HarvestJob watch fails, and still stops promptly on SIGTERM although that
/// controller's cache never filled (kube-runtime would wait for it forever).
#[tokio::test]
async fn a_forbidden_watch_is_reported_and_does_not_block_shutdown() {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
    use kube::api::{ObjectMeta, PostParams};
    let _turn = OPERATOR_PROCESSES.lock().await;
    let client = common::client().await;
    let name = common::unique_name("mediana-no-harvestjobs");
    let rules = mediana::controllers::rbac::cluster_grants()
        .into_iter()
        .filter(|g| !(g.resource == "harvestjobs" && (g.verb == "list" || g.verb == "watch")))
        .map(|g| PolicyRule {
            api_groups: Some(vec![g.group]),
            resources: Some(vec![g.resource]),
            verbs: vec![g.verb],
            ..Default::default()
        })
        .collect();
    let meta = ObjectMeta { name: Some(name.clone()), ..Default::default() };
    Api::<ClusterRole>::all(client.clone())
        .create(
            &PostParams::default(),
            &ClusterRole { metadata: meta.clone(), rules: Some(rules), ..Default::default() },
        )
        .await
        .expect("create the ClusterRole");
    let binding = ClusterRoleBinding {
        metadata: meta,
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: name.clone(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: name.clone(),
            namespace: Some("default".into()),
            ..Default::default()
        }]),
    };
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .expect("create the ClusterRoleBinding");
    let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG names the test cluster");
    let as_partial =
        common::impersonating_kubeconfig(&kubeconfig, &format!("system:serviceaccount:default:{name}"), "default");

    let port = common::free_port();
    let child = mediana()
        .args(["run", "--probe-addr", &format!("127.0.0.1:{port}"), "--leader-election=false"])
        .env("KUBECONFIG", &as_partial)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mediana run");
    let mut replica = Replica { name: "partial", port, child };
    let child = &mut replica.child;
    let stderr = child.stderr.take().expect("stderr");
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut logs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !logs.iter().any(|l: &String| l.contains("watch failed") && l.contains("harvestjobs")) {
        assert!(Instant::now() < deadline, "no warning about the forbidden watch within 30 s:\n{}", logs.join("\n"));
        if let Ok(line) = seen.recv_timeout(Duration::from_millis(500)) {
            logs.push(line);
        }
    }
    let status = terminate(child);
    logs.extend(seen.iter());
    assert!(status.success(), "mediana run exited with {status}:\n{}", logs.join("\n"));
    assert_wound_down(&logs);
    let _ = Api::<ClusterRoleBinding>::all(client.clone()).delete(&name, &Default::default()).await;
    let _ = Api::<ClusterRole>::all(client).delete(&name, &Default::default()).await;
}

/// `mediana render` prints what the operator would create; the API server accepts all of it.
#[tokio::test]
async fn render_output_of_every_example_is_accepted_by_the_api_server() {
    let client = common::client().await;
    let discovery = common::discovery(&client).await;
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut rendered = 0;
    for entry in std::fs::read_dir(&examples).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|ext| ext != "yaml") {
            continue;
        }
        // Into namespaces of its own: the examples themselves may already run in the cluster.
        let text = std::fs::read_to_string(&path).expect("read example").replace("namespace: ", "namespace: render-");
        let copy = std::env::temp_dir().join(format!(
            "render-{}-{}",
            std::process::id(),
            path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        ));
        std::fs::write(&copy, text).expect("write copy");
        let out = mediana().arg("render").arg("-f").arg(&copy).output().expect("run mediana render");
        std::fs::remove_file(&copy).ok();
        assert!(out.status.success(), "render {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        let documents: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(&String::from_utf8_lossy(&out.stdout)).expect("render prints YAML");
        for document in documents {
            let namespace = document["metadata"]["namespace"].as_str().expect("children are namespaced").to_owned();
            common::namespace(&client, &namespace).await;
            if let Err(err) = common::admit(&client, &discovery, &document).await {
                panic!("{}: {} {} refused: {err}", path.display(), document["kind"], document["metadata"]["name"]);
            }
            rendered += 1;
        }
    }
    assert!(rendered > 30, "only {rendered} children rendered from examples/");
}

#[test]
fn render_names_what_is_wrong() {
    let dir = std::env::temp_dir().join(format!("mediana-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "apiVersion: mediana.dev/v1alpha1\nkind: CatalogNode\nmetadata: {name: bad}\nspec:\n  hostname: dati.example.it\n  publisher: {ipaCode: agid}\n  replicas: many\n").expect("write");
    let out = mediana().arg("render").arg("-f").arg(&file).output().expect("run mediana render");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("document 1 (CatalogNode bad): spec.replicas: invalid type: string \"many\""), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Whether a response has `line` as one of its lines.
fn has_line(response: &str, line: &str) -> bool {
    response.lines().any(|l| l.trim_end() == line)
}

/// Polls `/metrics` until it has `line` as one of its lines.
fn wait_for_metric(port: u16, line: &str, seconds: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if common::http_get(port, "/metrics").is_some_and(|r| has_line(&r, line)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

struct Replica {
    name: &'static str,
    port: u16,
    child: std::process::Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two replicas: exactly one leads (and only it runs the controllers); when it stops, the
/// other takes over within seconds because the leader releases its Lease.
#[tokio::test]
async fn two_replicas_elect_one_leader_and_hand_over_on_shutdown() {
    let _turn = OPERATOR_PROCESSES.lock().await;
    let client = common::client().await;
    let lease = common::unique_name("mediana-leader");
    let start = |name: &'static str| {
        let port = common::free_port();
        let child = mediana()
            .args([
                "run",
                "--probe-addr",
                &format!("127.0.0.1:{port}"),
                "--lease-name",
                &lease,
                "--lease-namespace",
                "default",
            ])
            .env("POD_NAME", name)
            .stderr(Stdio::null())
            .spawn()
            .expect("start a replica");
        Replica { name, port, child }
    };
    let mut replicas = vec![start("replica-a"), start("replica-b")];
    assert!(
        replicas.iter().all(|r| wait_for_metric(r.port, "# TYPE mediana_leader gauge", 30)),
        "both replicas serve metrics"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let leader = loop {
        let leading: Vec<usize> = (0..2)
            .filter(|&i| {
                common::http_get(replicas[i].port, "/metrics").is_some_and(|m| has_line(&m, "mediana_leader 1"))
            })
            .collect();
        if leading.len() == 1 {
            break leading[0];
        }
        assert!(leading.len() < 2, "two leaders at once");
        assert!(Instant::now() < deadline, "no leader after 30 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    let follower = 1 - leader;
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        common::http_get(replicas[follower].port, "/metrics").is_some_and(|m| has_line(&m, "mediana_leader 0")),
        "the follower stays a follower"
    );
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> = Api::namespaced(client.clone(), "default");
    let holder = leases.get(&lease).await.expect("the Lease exists").spec.and_then(|s| s.holder_identity);
    assert_eq!(holder.as_deref(), Some(replicas[leader].name));

    let pid = replicas[leader].child.id().to_string();
    let stopped = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    assert!(
        wait_for_metric(replicas[follower].port, "mediana_leader 1", 20),
        "the follower did not take over within 20 s"
    );
    let hand_over = stopped.elapsed();
    assert!(replicas[leader].child.wait().expect("leader exits").success(), "the old leader exits cleanly");
    let holder = leases.get(&lease).await.expect("the Lease exists").spec.and_then(|s| s.holder_identity);
    assert_eq!(holder.as_deref(), Some(replicas[follower].name));
    eprintln!("leader hand-over took {hand_over:?}");
    replicas.clear();
}

fn dcat_fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dcat-ap-it/examples").join(name)
}

/// `mediana validate dcat` prints counts, findings and quality, and exits by validity.
#[test]
fn validate_dcat_reports_and_exits_by_validity() {
    let valid = mediana().args(["validate", "dcat"]).arg(dcat_fixture("catalog_dati_unibo.rdf")).output().expect("run");
    let stdout = String::from_utf8_lossy(&valid.stdout);
    assert!(valid.status.success(), "{stdout}");
    assert!(stdout.contains("12 datasets") && stdout.contains("12 valid, 0 invalid"), "{stdout}");
    assert!(stdout.contains("/ 405"), "the MQA score is shown: {stdout}");

    // Comune di Prato's dataset has an empty dct:creator agent.
    let invalid =
        mediana().args(["validate", "dcat"]).arg(dcat_fixture("dataset_identifier.rdf")).output().expect("run");
    let stdout = String::from_utf8_lossy(&invalid.stdout);
    assert_eq!(invalid.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("1 invalid") && stdout.contains("creator"), "the property at fault is named: {stdout}");
}

/// Bad input gets a clear error naming the file and what is wrong, and no partial report.
#[test]
fn validate_dcat_refuses_malformed_and_hostile_xml_clearly() {
    let dir = std::env::temp_dir().join(common::unique_name("bad-rdf"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broken = dir.join("broken.rdf");
    std::fs::write(&broken, r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><broken"#)
        .expect("write");
    let laughs = dir.join("laughs.rdf");
    let mut entities = String::from(r#"<!ENTITY lol0 "lol">"#);
    for i in 1..10 {
        let previous = format!("&lol{};", i - 1).repeat(10);
        entities.push_str(&format!(r#"<!ENTITY lol{i} "{previous}">"#));
    }
    std::fs::write(
        &laughs,
        format!(
            r#"<?xml version="1.0"?><!DOCTYPE rdf:RDF [{entities}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/"><rdf:Description rdf:about="http://x/"><dct:title>&lol9;</dct:title></rdf:Description></rdf:RDF>"#
        ),
    )
    .expect("write");
    for (file, expected) in [(&broken, "invalid RDF/XML"), (&laughs, "entit")] {
        let output = mediana().args(["validate", "dcat"]).arg(file).env_remove("RUST_BACKTRACE").output().expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{} accepted", file.display());
        assert!(stderr.contains(&file.display().to_string()) && stderr.contains(expected), "{stderr}");
        assert!(output.stdout.is_empty(), "no partial report for {}", file.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
