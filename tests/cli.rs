//! The `mediana` binary as a person or a pod runs it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[tokio::test]
async fn run_becomes_ready_and_stops_gracefully_on_sigterm() {
    common::client().await; // the CRDs must be served, or the operator refuses to start
    let port = free_port();
    let mut child = mediana()
        .args(["run", "--probe-addr", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mediana run");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if http_get(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(child.try_wait().expect("poll child").is_none(), "mediana run exited before becoming ready");
        assert!(Instant::now() < deadline, "mediana run not ready after 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(http_get(port, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200")));

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll child") {
            break status;
        }
        assert!(Instant::now() < deadline, "mediana run still running 15 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    let logs: Vec<String> =
        BufReader::new(child.stderr.take().expect("stderr")).lines().map_while(Result::ok).collect();
    assert!(status.success(), "mediana run exited with {status} after SIGTERM:\n{}", logs.join("\n"));
    assert!(logs.iter().any(|l| l.contains("all controllers stopped")), "shutdown is logged:\n{}", logs.join("\n"));
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
