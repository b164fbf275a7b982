//! What the integration tests share: a client for the test cluster, the CRDs installed
//! once, and helpers to apply arbitrary manifests.
//!
//! The cluster is the one KUBECONFIG names: `make test` starts a local control plane
//! (tests/controlplane/cluster.sh) and exports it; a real cluster works the same way.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};
use kube::{Api, Client};
use serde_json::Value;
use tokio::sync::OnceCell;

/// Field manager of the tests' own writes (not the operator's).
pub const TEST_MANAGER: &str = "mediana-tests";

static CRDS: OnceCell<()> = OnceCell::const_new();

/// A client for the test cluster, with the mediana CRDs installed and established.
pub async fn client() -> Client {
    let client = Client::try_default().await.unwrap_or_else(|err| {
        panic!("no test cluster: run the tests with `make test`, or set KUBECONFIG to a cluster ({err})")
    });
    CRDS.get_or_init(|| install_crds(client.clone())).await;
    client
}

async fn install_crds(client: Client) {
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

/// Applies any manifest by server-side apply with strict field validation, as
/// `kubectl apply --server-side` does. Returns the API server's refusal, if any.
pub async fn apply(
    client: &Client,
    discovery: &Discovery,
    manifest: &Value,
    dry_run: bool,
) -> Result<DynamicObject, kube::Error> {
    let object: DynamicObject =
        serde_json::from_value(manifest.clone()).expect("manifest has apiVersion, kind and metadata");
    let types = object.types.clone().expect("manifest has apiVersion and kind");
    let gvk = GroupVersionKind::try_from(&types).expect("apiVersion is group/version");
    let (resource, capabilities): (ApiResource, ApiCapabilities) =
        discovery.resolve_gvk(&gvk).unwrap_or_else(|| panic!("the API server does not serve {gvk:?}"));
    let name = object.metadata.name.clone().expect("manifest has a name");
    let api: Api<DynamicObject> = match capabilities.scope {
        Scope::Cluster => Api::all_with(client.clone(), &resource),
        Scope::Namespaced => {
            Api::namespaced_with(client.clone(), object.metadata.namespace.as_deref().unwrap_or("default"), &resource)
        }
    };
    let mut params = PatchParams::apply(TEST_MANAGER).force().validation_strict();
    if dry_run {
        params = params.dry_run();
    }
    api.patch(&name, &params, &Patch::Apply(manifest)).await
}

/// Discovery of every API the server offers (after the CRDs are installed).
pub async fn discovery(client: &Client) -> Discovery {
    Discovery::new(client.clone()).run().await.expect("API discovery")
}
