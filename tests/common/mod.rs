//! What the integration tests share: a client for the test cluster, the CRDs installed
//! once, and helpers to apply arbitrary manifests.
//!
//! The cluster is the one KUBECONFIG names: `make test` starts a local control plane
//! (tests/controlplane/cluster.sh) and exports it; a real cluster works the same way.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use kube::{Api, Client};
use serde_json::Value;
use tokio::sync::{OnceCell, watch};

/// Field manager of the tests' own writes (not the operator's).
pub const TEST_MANAGER: &str = "mediana-tests";

static CRDS: OnceCell<()> = OnceCell::const_new();

/// A client for the test cluster, with the mediana CRDs installed and established.
pub async fn client() -> Client {
    // The operator's own kind of client (no retries of its own), shared by the tests and the
    // operators they start.
    let config = kube::Config::infer().await.unwrap_or_else(|err| {
        panic!("no test cluster: run the tests with `make test`, or set KUBECONFIG to a cluster ({err})")
    });
    let client = mediana::controllers::targets::operator_client(config).expect("a client");
    CRDS.get_or_init(|| install_crds(client.clone())).await;
    client
}

/// Applies the mediana CRDs to the cluster of `client` and waits until they are established.
pub async fn install_crds(client: Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client);
    for crd in mediana::api::crds() {
        let name = crd.metadata.name.clone().expect("CRDs have names");
        api.patch(&name, &PatchParams::apply(TEST_MANAGER).force(), &Patch::Apply(&crd))
            .await
            .unwrap_or_else(|err| panic!("the API server refused CRD {name}: {err}"));
    }
    for crd in mediana::api::crds() {
        let name = crd.metadata.name.expect("CRDs have names");
        let established = kube::runtime::wait::await_condition(
            api.clone(),
            &name,
            kube::runtime::wait::conditions::is_crd_established(),
        );
        tokio::time::timeout(Duration::from_secs(30), established)
            .await
            .unwrap_or_else(|_| panic!("CRD {name} not established after 30 s"))
            .unwrap_or_else(|err| panic!("waiting for CRD {name}: {err}"));
    }
}

/// A name unique to this test process, e.g. for a namespace that must start empty.
pub fn unique_name(base: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{base}-{:x}", (std::process::id() as u64) << 20 ^ u64::from(nanos >> 12))
}

/// A client and a new namespace of its own, as most end-to-end tests start.
pub async fn fresh_namespace(base: &str) -> (Client, String) {
    let client = client().await;
    let ns = unique_name(base);
    namespace(&client, &ns).await;
    (client, ns)
}

/// Creates (or keeps) a namespace for one test.
pub async fn namespace(client: &Client, name: &str) {
    let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    Api::<Namespace>::all(client.clone())
        .patch(name, &PatchParams::apply(TEST_MANAGER).force(), &Patch::Apply(&ns))
        .await
        .unwrap_or_else(|err| panic!("creating namespace {name}: {err}"));
}

/// Reads every YAML document of a file (skipping empty ones) as JSON values.
pub fn read_manifests(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
    // YAML 1.2 booleans: `on`/`yes` stay strings, as in the typed structs.
    let options = serde_saphyr::options! { strict_booleans: true };
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(&text, options)
        .unwrap_or_else(|err| panic!("{} is not valid YAML: {err}", path.display()));
    documents.into_iter().filter(|d| !d.is_null()).collect()
}

/// The API for a manifest's kind, in its namespace, found by discovery.
fn api_for(client: &Client, discovery: &Discovery, object: &DynamicObject) -> Api<DynamicObject> {
    let types = object.types.clone().expect("manifest has apiVersion and kind");
    let gvk = GroupVersionKind::try_from(&types).expect("apiVersion is group/version");
    let (resource, capabilities): (ApiResource, ApiCapabilities) =
        discovery.resolve_gvk(&gvk).unwrap_or_else(|| panic!("the API server does not serve {gvk:?}"));
    match capabilities.scope {
        Scope::Cluster => Api::all_with(client.clone(), &resource),
        Scope::Namespaced => {
            Api::namespaced_with(client.clone(), object.metadata.namespace.as_deref().unwrap_or("default"), &resource)
        }
    }
}

fn parse(manifest: &Value) -> DynamicObject {
    serde_json::from_value(manifest.clone()).expect("manifest has apiVersion, kind and metadata")
}

/// Applies a manifest by server-side apply, as `kubectl apply --server-side` does.
pub async fn apply(client: &Client, discovery: &Discovery, manifest: &Value) -> Result<DynamicObject, kube::Error> {
    let object = parse(manifest);
    let name = object.metadata.name.clone().expect("manifest has a name");
    let params = PatchParams::apply(TEST_MANAGER).force().validation_strict();
    api_for(client, discovery, &object).patch(&name, &params, &Patch::Apply(manifest)).await
}

/// Submits a manifest for creation without persisting it (`dryRun=All`), with strict field
/// validation, as `kubectl create` does: what the API server's admission says of it.
pub async fn admit(client: &Client, discovery: &Discovery, manifest: &Value) -> Result<DynamicObject, kube::Error> {
    let object = parse(manifest);
    let api = api_for(client, discovery, &object);
    let body = serde_json::to_vec(manifest).expect("JSON serializes");
    let params = PostParams { dry_run: true, field_manager: Some(TEST_MANAGER.to_owned()) };
    let mut request = kube::core::Request::new(api.resource_url()).create(&params, body).expect("request builds");
    let strict = format!("{}&fieldValidation=Strict", request.uri());
    *request.uri_mut() = strict.parse().expect("URI with a query parameter");
    client.request(request).await
}

/// Discovery of every API the server offers (after the CRDs are installed).
pub async fn discovery(client: &Client) -> Discovery {
    Discovery::new(client.clone()).run().await.expect("API discovery")
}

/// Runs the operator's controllers in this process for the duration of a test.
pub struct Operator {
    /// The operator's own metrics: how many reconciles ran and what they wrote.
    pub metrics: std::sync::Arc<mediana::telemetry::metrics::Metrics>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// One operator at a time in a test binary, as leader election ensures in a cluster: two
/// operators reconciling the same objects from caches of different ages would overwrite
/// each other's status, and a test asserting that an unchanged status is not rewritten
/// would fail for a reason no user meets.
static OPERATOR_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Operator {
    pub fn start(client: Client) -> Self {
        Self::start_with(client, mediana::controllers::Settings::default())
    }

    /// Runs the controllers with the given operator settings.
    pub fn start_with(client: Client, settings: mediana::controllers::Settings) -> Self {
        // A test that panicked with its operator running poisons the lock; the next may run.
        let turn = OPERATOR_TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (stop, shutdown) = watch::channel(false);
        let metrics = std::sync::Arc::new(mediana::telemetry::metrics::Metrics::default());
        let task = tokio::spawn(mediana::controllers::run(client, shutdown, metrics.clone(), settings));
        Self { metrics, stop, task, _turn: turn }
    }

    /// Runs `change`, waits until `kind`'s controller has finished a reconcile after it, and
    /// fails the test if that reconcile wrote anything: "idle" proven by a reconcile that ran,
    /// not by a quiet pause that passes when none did.
    pub async fn assert_idle_after<T, F: Future<Output = T>>(&self, kind: &str, change: F) -> T {
        let (reconciles, writes) = (self.metrics.reconciles(kind), self.metrics.writes(kind));
        let changed = change.await;
        eventually(&format!("a {kind} reconcile after the change"), 30, || async {
            (self.metrics.reconciles(kind) > reconciles).then_some(())
        })
        .await;
        assert_eq!(self.metrics.writes(kind), writes, "an idle {kind} reconcile wrote to the API server");
        changed
    }

    /// Ends the controllers abruptly, like a killed process: reconciles in progress are
    /// cut wherever they are.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    pub async fn stop(self) {
        self.stop.send(true).expect("controllers listen for shutdown");
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("controllers stop within 20 s of the shutdown signal")
            .expect("controller task did not panic");
    }
}

/// Polls `check` until it returns `Some`, or fails the test after `seconds`.
pub async fn eventually<T, F, Fut>(what: &str, seconds: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {seconds} s waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A plain HTTP GET on 127.0.0.1, returning the whole response.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).ok()?;
    Some(response)
}

/// A copy of the test kubeconfig that acts as `user` (a ServiceAccount of `namespace`),
/// as the operator's pod would.
pub fn impersonating_kubeconfig(kubeconfig: &str, user: &str, namespace: &str) -> PathBuf {
    let text = std::fs::read_to_string(kubeconfig).expect("read the test kubeconfig");
    let mut config: serde_json::Value = serde_saphyr::from_str(&text).expect("kubeconfig is YAML");
    for entry in config["users"].as_array_mut().expect("kubeconfig users") {
        entry["user"]["as"] = serde_json::json!(user);
        entry["user"]["as-groups"] = serde_json::json!([
            "system:serviceaccounts",
            format!("system:serviceaccounts:{namespace}"),
            "system:authenticated"
        ]);
    }
    let path = std::env::temp_dir().join(format!("mediana-as-{}-{}.yaml", user.replace(':', "-"), std::process::id()));
    std::fs::write(&path, serde_saphyr::to_string(&config).expect("kubeconfig serializes")).expect("write kubeconfig");
    path
}

/// A served file: its content type and body.
type Served = (String, Vec<u8>);

/// A loopback HTTP server of files whose content a test may change between runs.
#[derive(Clone, Default)]
pub struct Files(std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Served>>>);

impl Files {
    pub fn put(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) {
        self.0.lock().expect("files").insert(path.to_owned(), (content_type.to_owned(), body.into()));
    }

    /// Serves the files on a free loopback port; returns the base URL.
    pub fn serve(&self) -> String {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let files = self.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(&stream);
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let found = files.0.lock().expect("files").get(&path).cloned();
                let mut stream = &stream;
                let _ = match found {
                    Some((content_type, body)) => stream
                        .write_all(
                            format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                                .as_bytes(),
                        )
                        .and_then(|()| stream.write_all(&body)),
                    None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                };
            }
        });
        format!("http://127.0.0.1:{port}")
    }
}

/// The mediana kinds whose status carries conditions, for the helpers below.
pub trait Conditioned {
    /// `status.conditions`.
    fn conditions(&self) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>;
    /// Whether the status was computed from the object's latest generation.
    fn generation_observed(&self) -> bool;
}
macro_rules! conditioned {
    ($($kind:ty),*) => {$(
        impl Conditioned for $kind {
            fn conditions(&self) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
                self.status.as_ref().map(|s| s.common.conditions.clone()).unwrap_or_default()
            }
            fn generation_observed(&self) -> bool {
                self.status.as_ref().and_then(|s| s.common.observed_generation) == self.metadata.generation
            }
        }
    )*};
}
conditioned!(
    mediana::api::CatalogNode,
    mediana::api::HarvestJob,
    mediana::api::ReusableSolution,
    mediana::api::CloudTarget
);

/// Status, reason and message of the object's condition `type_`.
pub fn condition<K: Conditioned>(obj: &K, type_: &str) -> Option<(String, String, String)> {
    obj.conditions().iter().find(|c| c.type_ == type_).map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// Waits until the object's condition has `status` and `reason` for its latest generation;
/// returns the object.
pub async fn wait_for<K>(api: &Api<K>, name: &str, type_: &str, status: &str, reason: &str, seconds: u64) -> K
where
    K: Conditioned + kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    eventually(&format!("{name}: {type_}={status} ({reason})"), seconds, || async {
        let obj = api.get(name).await.ok()?;
        let (s, r, _) = condition(&obj, type_)?;
        (s == status && r == reason && obj.generation_observed()).then_some(obj)
    })
    .await
}

/// The repository's Helm chart.
pub fn chart() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/mediana")
}

/// Runs helm (from PATH, as `make test` sets it) and returns its stdout, failing the test
/// with helm's own words when it fails.
pub fn helm(args: &[&str]) -> String {
    let output = std::process::Command::new("helm")
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run helm ({err}): run the tests with `make test`, which builds it"));
    assert!(
        output.status.success(),
        "helm {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// CKAN's action API on `url` as the holder of `token`: the result, or CKAN's words.
pub async fn ckan_action(url: &str, token: &str, name: &str, body: Value) -> Result<Value, String> {
    let reply = reqwest::Client::new()
        .post(format!("{url}/api/3/action/{name}"))
        .header("Authorization", token)
        .json(&body)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|err| format!("{name}: {err}"))?;
    let status = reply.status();
    let answer: Value = reply.json().await.map_err(|err| format!("{name}: {status}: {err}"))?;
    if answer["success"] == true { Ok(answer["result"].clone()) } else { Err(format!("{name}: {status}: {answer}")) }
}
