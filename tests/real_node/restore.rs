//! Backups that leave the cluster, on the real node, reconciled by the chart's operator: a
//! CatalogNode backed up to the harness's S3-compatible store (SeaweedFS, which listens on
//! the node's bridge inside the test's network namespace); a store that is down fails a
//! backup with `BackupFailed` and a Warning Event, and the next run succeeds; retention
//! keeps the newest N; the node deleted with its volumes, a new node restored from the
//! store serves its datasets (found by search) and its uploaded file (byte for byte); a
//! corrupted backup stops a restore with `RestoreFailed` and starts no CKAN. Beside it, a
//! ReusableSolution's managed database backed up to the same store, and its dump read back.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Secret};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use mediana::api::CatalogNode;
use mediana::api::catalog_node::RestorePhase;
use mediana::api::reusable_solution::ReusableSolution;
use mediana::backup::{Credentials, SecretSource, Store, StoreConfig};
use object_store::{ObjectStoreExt as _, PutPayload};
use serde_json::{Value, json};

use super::catalog_node::{macerata_dataset, publish, small, sysadmin_token, web_url};
use super::common::{self, TEST_MANAGER, eventually, unique_name, wait_for};
use super::{image, restricted_namespace, run_pod, script_pod};

/// The harness's object store (tests/objectstore/s3.sh), as `make test` exports it.
struct Harness {
    /// Its endpoint on loopback, for this process.
    endpoint: String,
    /// Its port, which pods reach at the node's address.
    port: u16,
    bucket: String,
    key_id: String,
    secret: String,
}

impl Harness {
    fn from_env() -> Self {
        let var = |key: &str| {
            std::env::var(key).unwrap_or_else(|_| {
                panic!("{key} is not set: run the tests with `make test`, which starts the object store")
            })
        };
        let read = |key: &str| std::fs::read_to_string(var(key)).expect("a key file").trim().to_owned();
        let endpoint = var("MEDIANA_S3_ENDPOINT");
        let port = endpoint.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).expect("the endpoint's port");
        Harness {
            endpoint,
            port,
            bucket: var("MEDIANA_S3_BUCKET"),
            key_id: read("MEDIANA_S3_ACCESS_KEY_ID_FILE"),
            secret: read("MEDIANA_S3_SECRET_ACCESS_KEY_FILE"),
        }
    }

    /// The store under `prefix`, reached from this process.
    fn store(&self, prefix: &str) -> Store {
        let credentials = Credentials::read(
            &SecretSource::File(std::env::var("MEDIANA_S3_ACCESS_KEY_ID_FILE").expect("set").into()),
            &SecretSource::File(std::env::var("MEDIANA_S3_SECRET_ACCESS_KEY_FILE").expect("set").into()),
        )
        .expect("credentials");
        Store::connect(StoreConfig {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            prefix: prefix.to_owned(),
            region: mediana::backup::DEFAULT_REGION.into(),
            credentials,
            ca_bundle: None,
        })
        .expect("the store")
    }
}

/// The node's address on its bridge, where pods reach the processes of the test's namespace.
async fn node_address(client: &Client) -> String {
    let nodes = Api::<Node>::all(client.clone()).list(&ListParams::default()).await.expect("the nodes");
    nodes
        .items
        .iter()
        .flat_map(|n| n.status.iter().flat_map(|s| s.addresses.iter().flatten()))
        .find(|a| a.type_ == "InternalIP")
        .map(|a| a.address.clone())
        .expect("the node's InternalIP")
}

/// A port that nothing listens on now (bound on every address, then released): a store
/// that is down.
fn closed_port() -> u16 {
    let socket = std::net::TcpListener::bind("0.0.0.0:0").expect("a free port");
    socket.local_addr().expect("its address").port()
}

/// A file an open-data office uploads with a dataset: bytes that do not compress, 1 MiB.
fn uploaded_file() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A resource with an uploaded file, made as CKAN's form makes it (multipart `upload`); the
/// path of its download URL.
async fn upload(url: &str, token: &str, dataset: &str, bytes: Vec<u8>) -> String {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("bilancio-2024.bin");
    let form = reqwest::multipart::Form::new()
        .text("package_id", dataset.to_owned())
        .text("name", "Bilancio (allegato)")
        .text("url", "bilancio-2024.bin")
        .part("upload", part);
    let reply = reqwest::Client::new()
        .post(format!("{url}/api/3/action/resource_create"))
        .header("Authorization", token)
        .multipart(form)
        .send()
        .await
        .expect("resource_create");
    let answer: Value = reply.json().await.expect("CKAN's JSON");
    assert_eq!(answer["success"], true, "the upload: {answer}");
    let download = answer["result"]["url"].as_str().expect("a download URL");
    // The URL is on the portal's public host name, which resolves nowhere here: its path is
    // asked of the web pod.
    let path = download.split_once("://").and_then(|(_, rest)| rest.split_once('/')).map(|(_, p)| p);
    format!("/{}", path.unwrap_or_else(|| panic!("a URL with a path: {download}")))
}

async fn download(url: &str, path: &str) -> Vec<u8> {
    let reply = reqwest::get(format!("{url}{path}")).await.expect("the download");
    assert_eq!(reply.status(), 200, "GET {path}");
    reply.bytes().await.expect("the file's bytes").to_vec()
}

/// The Tolentino node, small, backed up to `backup_store` (none: no backups) and restored from
/// `restore` when given; its volumes go with it.
fn tolentino(ns: &str, name: &str, backup_store: Option<Value>, restore: Option<Value>) -> Value {
    let mut spec = json!({"hostname": "dati.comune.tolentino.mc.it", "title": "Dati aperti del Comune di Tolentino",
        "publisher": {"ipaCode": "c_l191", "name": "Comune di Tolentino"},
        "replicas": 1, "resources": small("100m", "1Gi"),
        "database": {"managed": {"resources": small("50m", "256Mi")}},
        "search": {"managed": {"resources": small("50m", "1Gi")}},
        "redis": {"managed": {"resources": small("10m", "64Mi")}},
        "deletionPolicy": "Delete"});
    if let Some(store) = backup_store {
        spec["backup"] = json!({"schedule": "0 3 * * *", "retention": 2, "objectStore": store});
    }
    if let Some(restore) = restore {
        spec["restore"] = restore;
    }
    json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

/// Sets `mediana.dev/backup-now` to `value`: one backup Job now.
async fn backup_now(nodes: &Api<CatalogNode>, name: &str, value: &str) {
    let annotation = json!({"metadata": {"annotations": {"mediana.dev/backup-now": value}}});
    nodes.patch(name, &PatchParams::default(), &Patch::Merge(annotation)).await.expect("annotate");
}

pub async fn a_node_backed_up_to_a_store_is_restored_as_a_new_node(client: &Client) {
    let harness = Harness::from_env();
    let ns = restricted_namespace(client, "backup").await;
    let keys = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3-keys"},
        "stringData": {"id": harness.key_id, "secret": harness.secret}});
    Api::<Secret>::namespaced(client.clone(), &ns)
        .patch("s3-keys", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(keys))
        .await
        .expect("the store's keys");
    let prefix = unique_name("real-node");
    let address = node_address(client).await;
    let store_at = |port: u16| {
        json!({"destinationPath": format!("s3://{}/{prefix}", harness.bucket),
            "endpointURL": format!("http://{address}:{port}"),
            "s3Credentials": {"accessKeyId": {"name": "s3-keys", "key": "id"},
                              "secretAccessKey": {"name": "s3-keys", "key": "secret"}}})
    };
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), &ns);
    let name = "tolentino";
    let apply = |node: Value| {
        let nodes = nodes.clone();
        async move { nodes.patch(name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(node)).await.expect("admitted") }
    };

    // 1. A store that is down: the backup fails, says so, and announces it. While the node
    // starts, a ReusableSolution's database is backed up to the working store.
    apply(tolentino(&ns, name, Some(store_at(closed_port())), None)).await;
    a_solutions_database_is_backed_up(client, &ns, store_at(harness.port), &harness.store(&prefix)).await;
    let ready = wait_for(&nodes, name, "Ready", "True", "Available", 600).await;
    let (token, url) = (sysadmin_token(client, &ready).await, web_url(client, &ready).await);
    publish(&url, &token, ("comune-di-tolentino", "Comune di Tolentino"), "bilancio-tolentino").await;
    common::ckan_action(&url, &token, "package_create", macerata_dataset("tributi-tolentino", "comune-di-tolentino"))
        .await
        .expect("a second dataset");
    let file = uploaded_file();
    let path = upload(&url, &token, "bilancio-tolentino", file.clone()).await;
    assert_eq!(download(&url, &path).await, file, "the upload as CKAN serves it");

    backup_now(&nodes, name, "store-down").await;
    let failed = wait_for(&nodes, name, "LastBackupSucceeded", "False", "BackupFailed", 600).await;
    let (_, _, message) = common::condition(&failed, "LastBackupSucceeded").expect("the condition");
    assert!(
        message.contains("tolentino-backup-now-") && message.to_lowercase().contains("connection refused"),
        "the message names the failed Job and why it failed: {message}"
    );
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), &ns);
    eventually("a BackupFailed Warning Event", 60, || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|e| {
            e.reason.as_deref() == Some("BackupFailed")
                && e.type_.as_deref() == Some("Warning")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
        })
    })
    .await;

    // 2. The store back: the next run succeeds, and the status says where the backup is.
    apply(tolentino(&ns, name, Some(store_at(harness.port)), None)).await;
    backup_now(&nodes, name, "store-up-1").await;
    let backed_up = eventually("a backup after the failure", 300, || async {
        let node = nodes.get(name).await.ok()?;
        let (status, _, _) = common::condition(&node, "LastBackupSucceeded")?;
        let last = node.status.as_ref()?.last_backup.clone()?;
        (status == "True" && last.job.contains("backup-now-")).then_some((node, last))
    })
    .await;
    let (node, first) = backed_up;
    let (_, reason, _) = common::condition(&node, "LastBackupSucceeded").expect("the condition");
    assert_eq!(reason, "BackupCompleted");
    let first_name = first.name.clone().expect("the backup's name");
    assert_eq!(
        first.location.as_deref(),
        Some(format!("s3://{}/{prefix}/{name}/{first_name}/", harness.bucket).as_str())
    );
    assert!(first.size_bytes.is_some_and(|s| s > file.len() as u64), "the upload is in it: {first:?}");
    // The keys appear nowhere a person reads.
    let said = format!(
        "{}{}",
        serde_json::to_string(&node.status).expect("JSON"),
        serde_json::to_string(&events.list(&ListParams::default()).await.expect("events").items).expect("JSON")
    );
    assert!(!said.contains(&harness.secret) && !said.contains(&harness.key_id), "a key in the status or an event");

    // 3. Retention 2: after two more backups the store holds the newest two, complete.
    for value in ["store-up-2", "store-up-3"] {
        let before = nodes.get(name).await.expect("the node").status.and_then(|s| s.last_backup).map(|b| b.job);
        backup_now(&nodes, name, value).await;
        eventually(&format!("the backup of {value}"), 300, || async {
            let last = nodes.get(name).await.ok()?.status?.last_backup?;
            (Some(&last.job) != before.as_ref()).then_some(())
        })
        .await;
    }
    let store = harness.store(&prefix);
    let kept = mediana::backup::list(&store, Some(name)).await.expect("the store's listing");
    let newest = nodes.get(name).await.expect("the node").status.and_then(|s| s.last_backup).expect("a backup");
    assert_eq!(kept.len(), 2, "retention 2: {kept:?}");
    assert!(kept.iter().all(|b| b.manifest.is_some()), "{kept:?}");
    assert!(!kept.iter().any(|b| b.name == first_name), "the oldest went: {kept:?}");
    assert!(kept.iter().any(|b| Some(&b.name) == newest.name.as_ref()), "the newest stays: {kept:?}");

    // 4. The node deleted with its volumes and Secrets, as a lost cluster loses it; a new node
    // of the same name restored from the store's latest backup. 5. At the same time, the
    // older kept backup damaged in the store: a new node restoring it stops before CKAN,
    // saying which part.
    let older = kept.iter().map(|b| b.name.clone()).find(|n| Some(n) != newest.name.as_ref()).expect("the older");
    let key = object_store::path::Path::from(format!("{prefix}/{name}/{older}/database.dump"));
    store.client().put(&key, PutPayload::from(vec![0u8; 4096])).await.expect("damage a part");
    nodes.delete(name, &DeleteParams::default()).await.expect("delete the node");
    eventually("the node deleted", 300, || async { nodes.get_opt(name).await.ok()?.is_none().then_some(()) }).await;
    let restore = json!({"objectStore": store_at(harness.port), "backup": "latest"});
    apply(tolentino(&ns, name, Some(store_at(harness.port)), Some(restore))).await;
    let other = "tolentino-bis";
    let restore = json!({"objectStore": store_at(harness.port), "node": name, "backup": older});
    nodes
        .patch(other, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(tolentino(&ns, other, None, Some(restore))))
        .await
        .expect("admitted");
    let (restored, stalled) = tokio::join!(
        wait_for(&nodes, name, "Ready", "True", "Available", 900),
        wait_for(&nodes, other, "Stalled", "True", "RestoreFailed", 600)
    );

    let status = restored.status.clone().and_then(|s| s.restore).expect("status.restore");
    assert_eq!(status.phase, RestorePhase::Completed, "{status:?}");
    assert_eq!(Some(&status.backup), newest.name.as_ref(), "latest is the newest backup: {status:?}");
    assert!(status.started_at.is_some() && status.completed_at.is_some(), "{status:?}");
    // The new node's own password (its Secrets were deleted with it) logs the sysadmin in.
    let (token, url) = (sysadmin_token(client, &restored).await, web_url(client, &restored).await);
    for dataset in ["bilancio-tolentino", "tributi-tolentino"] {
        let found = common::ckan_action(&url, "", "package_search", json!({"q": format!("name:{dataset}")}))
            .await
            .expect("search");
        assert_eq!(found["count"], 1, "the rebuilt index finds {dataset}: {found}");
    }
    assert_eq!(download(&url, &path).await, file, "the uploaded file, byte for byte");
    let organizations = common::ckan_action(&url, &token, "organization_list", json!({})).await.expect("organizations");
    assert_eq!(organizations, json!(["comune-di-tolentino"]));

    let (_, _, message) = common::condition(&stalled, "Stalled").expect("Stalled");
    assert!(
        message.contains("database.dump: 4096 bytes, the manifest says") && message.contains("CKAN is not started"),
        "the refused part, in the condition: {message}"
    );
    let phase = stalled.status.and_then(|s| s.restore).map(|r| r.phase);
    assert_eq!(phase, Some(RestorePhase::Failed));
    let web = Api::<Deployment>::namespaced(client.clone(), &ns).get_opt(&format!("{other}-ckan")).await.expect("get");
    assert!(web.is_none(), "no CKAN web on a refused restore");

    Api::<Namespace>::all(client.clone()).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}

/// A ReusableSolution with a managed PostgreSQL backed up to `store`: a table written into
/// the database, `mediana.dev/backup-now`, `status.lastBackup` and `LastBackupSucceeded`, and
/// the dump, fetched from the store and checked against its manifest, holding the table.
async fn a_solutions_database_is_backed_up(client: &Client, ns: &str, store: Value, from: &Store) {
    let name = "protocollo";
    let solution = json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "ReusableSolution",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "publiccode": {"inline": include_str!("../fixtures/publiccode-design-comuni.yml")},
            "administration": {"ipaCode": "c_l191"},
            "dataClassification": "Ordinary",
            "components": [{"name": "web", "image": image("busybox"),
                "command": ["sh", "-c", "mkdir -p /srv/www && echo protocollo > /srv/www/index.html && exec httpd -f -p 8080 -h /srv/www"],
                "writablePaths": ["/srv"],
                "ports": [{"name": "http", "containerPort": 8080}],
                "probe": {"path": "/index.html", "port": "http", "initialDelaySeconds": 1, "periodSeconds": 2}}],
            "database": {"version": 15, "resources": small("50m", "256Mi")},
            "backup": {"schedule": "0 4 * * *", "objectStore": store}}});
    let solutions: Api<ReusableSolution> = Api::namespaced(client.clone(), ns);
    solutions.patch(name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(solution)).await.expect("admitted");
    wait_for(&solutions, name, "Ready", "True", "Available", 300).await;
    // What the software would write: a table of the database, through the generated Secret.
    let sql = "CREATE TABLE registro AS SELECT g AS numero FROM generate_series(1, 500) g";
    let mut writer = script_pod(
        &image("postgres"),
        "registro",
        &format!("psql -v ON_ERROR_STOP=1 -c '{sql}'"),
        json!([]),
        json!([]),
    );
    writer["spec"]["containers"][0]["envFrom"] = json!([{"secretRef": {"name": format!("{name}-db")}}]);
    let (ok, out) = run_pod(client, ns, "registro", writer).await;
    assert!(ok, "the table written:\n{out}");

    let annotation = json!({"metadata": {"annotations": {"mediana.dev/backup-now": "first"}}});
    solutions.patch(name, &PatchParams::default(), &Patch::Merge(annotation)).await.expect("annotate");
    let backed_up = wait_for(&solutions, name, "LastBackupSucceeded", "True", "BackupCompleted", 300).await;
    let last = backed_up.status.and_then(|s| s.last_backup).expect("status.lastBackup");
    let backup = last.name.clone().expect("the backup's name");
    assert!(last.location.as_deref().is_some_and(|l| l.ends_with(&format!("/{name}/{backup}/"))), "{last:?}");

    let into = std::env::temp_dir().join(format!("mediana-{}", unique_name("solution-backup")));
    let manifest = mediana::backup::fetch(from, name, &backup, &into).await.expect("the backup, checked");
    let parts: Vec<&str> = manifest.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(parts, ["database.dump"], "a database alone");
    let list = std::process::Command::new("pg_restore").arg("--list").arg(into.join("database.dump")).output();
    let listing = String::from_utf8_lossy(&list.expect("pg_restore").stdout).into_owned();
    assert!(listing.contains("TABLE DATA public registro"), "the dump holds the table:\n{listing}");
    let _ = std::fs::remove_dir_all(&into);
}
