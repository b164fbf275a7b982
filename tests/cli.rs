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
