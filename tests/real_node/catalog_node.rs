//! CatalogNodes on the real node, reconciled by the chart's operator: the examples serve CKAN
//! with DCAT-AP_IT, and a node's lifecycle (upgrade, failed migration, backups, deletion)
//! happens for real.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use super::common::{self, TEST_MANAGER, eventually, wait_for};
use super::{image, image_tags, no_volumes, ready_pods, restricted_namespace, run, run_pod, script_pod};

/// The CatalogNode of examples/regional-node-marche.yaml, adapted to one node, reconciled by
/// the chart's operator with the chart's RBAC on mediana's CKAN, Solr, PostgreSQL and Redis
/// images: Ready once its database is initialised by the migration Job, its sysadmin set up
/// by a Job, and CKAN, asked by the operator, answers with its version, plugins and
/// components; then CKAN, asked through the Service from another pod, reports the same.
pub async fn catalog_node_serves_ckan(client: &Client) {
    let ns = restricted_namespace(client, "opendata").await;
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/regional-node-marche.yaml");
    let mut node = common::read_manifests(&example)
        .into_iter()
        .find(|m| m["kind"] == "CatalogNode")
        .expect("the example's CatalogNode");
    // One node: one web replica (a ReadWriteOnce uploads claim), and the local cluster,
    // not the region's in-house CloudTarget. Everything else as the example says.
    node["metadata"]["namespace"] = json!(ns);
    node["spec"]["replicas"] = json!(1);
    node["spec"].as_object_mut().expect("a spec").remove("placement");
    // CPU requests of 50m, so that the nodes of the tests beside it fit on the node's two
    // CPUs (the example's 1.5 CPUs would leave the others' pods Pending).
    little_cpu(&mut node["spec"]);
    let name = node["metadata"]["name"].as_str().expect("a name").to_owned();
    let nodes: Api<mediana::api::CatalogNode> = Api::namespaced(client.clone(), &ns);
    nodes.patch(&name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(node)).await.expect("admitted");
    let ready = wait_for(&nodes, &name, "Ready", "True", "Available", 600).await;
    let versions = ready.status.and_then(|s| s.versions).expect("versions");
    assert_eq!(versions.ckan.as_deref(), Some(mediana::api::catalog_node::DEFAULT_CKAN_VERSION));
    // The versions CKAN found when it asked each component (mediana_status_show).
    assert!(versions.postgres.as_deref().is_some_and(|v| v.starts_with("15.")), "{versions:?}");
    assert_eq!(versions.solr.as_deref(), Some("9.10.1"), "{versions:?}");
    assert!(versions.redis.as_deref().is_some_and(|v| v.starts_with("7.")), "{versions:?}");
    let (v, m) = no_volumes();
    let script = format!("wget -qO- http://{name}-ckan/api/3/action/status_show");
    let (ok, out) = run(client, &ns, "status", &script, v, m).await;
    assert!(ok, "status_show through the Service:\n{out}");
    let answer: Value = serde_json::from_str(out.trim()).unwrap_or_else(|err| panic!("status_show: {err}:\n{out}"));
    assert_eq!(answer["result"]["ckan_version"], "2.12.0", "{answer}");
    assert_eq!(answer["result"]["site_title"], "Dati aperti della Regione Marche", "{answer}");
    let extensions: Vec<&str> =
        answer["result"]["extensions"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for plugin in [
        "activity",
        "dcat",
        "dcat_json_interface",
        "structured_data",
        "scheming_datasets",
        "mediana_dcatapit",
        "mediana_status",
    ] {
        assert!(extensions.contains(&plugin), "{plugin} runs: {extensions:?}");
    }

    portal_tests_pass_on(client, &nodes.get(&name).await.expect("the node")).await;
    csv_resources_are_loaded_into_the_datastore(client, &nodes.get(&name).await.expect("the node")).await;
    backups_are_complete_dumps(client, &ns, &name).await;

    // A harvester pod from the chart's image: its first step takes an API token from this
    // CKAN, then it reports into the HarvestJob's status that its source cannot be reached (a
    // name in the cluster's own domain, which CoreDNS answers itself: no packet leaves).
    let source = format!("http://no-such-catalogue.{ns}.svc.cluster.local/catalog.ttl");
    let harvest = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "HarvestJob",
        "metadata": {"name": "recanati", "namespace": ns},
        "spec": {"target": {"catalogNode": name},
                 "publisher": {"organization": "comune-di-recanati", "ipaCode": "c_h211"},
                 "source": {"type": "dcat", "url": source},
                 // One run: a retry's token step would issue a token while the test looks.
                 "retries": 0}
    });
    let harvests: Api<mediana::api::HarvestJob> = Api::namespaced(client.clone(), &ns);
    harvests.patch("recanati", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(harvest)).await.expect("admitted");
    let run = eventually("the harvester's report of its run", 300, || async {
        let run = harvests.get("recanati").await.ok()?.status?.last_run?;
        run.result.is_over().then_some(run)
    })
    .await;
    assert_eq!(run.result, mediana::api::harvest_job::RunResult::Failed, "{run:?}");
    let message = run.message.unwrap_or_default();
    assert!(message.contains("no-such-catalogue"), "the report names the unreachable source: {message}");
    // The run revoked its token before it reported (the token step named it after the job).
    let node = nodes.get(&name).await.expect("the node");
    let (token, url) = (sysadmin_token(client, &node).await, web_url(client, &node).await);
    let tokens = common::ckan_action(&url, &token, "api_token_list", json!({"user": node.spec.sysadmin.name}))
        .await
        .expect("the sysadmin's tokens");
    let names: Vec<&str> = tokens.as_array().into_iter().flatten().filter_map(|t| t["name"].as_str()).collect();
    assert!(!names.contains(&"mediana-harvest-recanati"), "the run's token is revoked: {names:?}");
    assert!(names.contains(&"tests"), "the tests' own tokens are there to see: {names:?}");

    retained_data_serves_a_new_node(client, &nodes, &name).await;
    Api::<Namespace>::all(client.clone()).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}

/// The example's `deletionPolicy: Retain`: the node deleted, its claims stay; a new node of the
/// same name takes them and finds the datasets made before, by name and by search.
async fn retained_data_serves_a_new_node(client: &Client, nodes: &Api<mediana::api::CatalogNode>, name: &str) {
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    let node = nodes.get(name).await.expect("the node");
    let (token, url) = (sysadmin_token(client, &node).await, web_url(client, &node).await);
    publish(&url, &token, ("regione-marche", "Regione Marche"), "bilancio-retained").await;
    let claims: Api<PersistentVolumeClaim> =
        Api::namespaced(client.clone(), node.metadata.namespace.as_deref().unwrap_or_default());
    let before: Vec<_> = claims
        .list(&Default::default())
        .await
        .expect("claims")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.uid)
        .collect();
    let spec = serde_json::to_value(&node.spec).expect("JSON");
    nodes.delete(name, &DeleteParams::default()).await.expect("delete the node");
    eventually("the node deleted", 180, || async { nodes.get_opt(name).await.ok()?.is_none().then_some(()) }).await;
    let kept: Vec<_> = claims
        .list(&Default::default())
        .await
        .expect("claims")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.uid)
        .collect();
    assert!(!before.is_empty() && kept == before, "Retain keeps every claim: before {before:?}, after {kept:?}");

    let again = json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": name, "namespace": node.metadata.namespace}, "spec": spec});
    nodes.patch(name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(again)).await.expect("the node again");
    let ready = wait_for(nodes, name, "Ready", "True", "Available", 600).await;
    let url = web_url(client, &ready).await;
    common::ckan_action(&url, &token, "package_show", json!({"id": "bilancio-retained"}))
        .await
        .expect("the dataset in the kept database");
    let found = common::ckan_action(&url, &token, "package_search", json!({"q": "name:bilancio-retained"}))
        .await
        .expect("search");
    assert_eq!(found["count"], 1, "the kept index finds it: {found}");
}

/// ckanext-mediana's portal tests (ckanext-mediana/tests/test_portal.py: DCAT-AP_IT datasets
/// created, searched, refused by name, refused to anonymous users, read back from
/// `/dataset/<name>.ttl` and `/catalog.ttl` and validated by `mediana validate dcat`), run
/// against the node's CKAN pod with a sysadmin token that CKAN's own CLI issues in a pod
/// built from the node's CKAN container (its image, ckan.ini and environment).
async fn portal_tests_pass_on(client: &Client, node: &mediana::api::CatalogNode) {
    let token = sysadmin_token(client, node).await;
    let url = web_url(client, node).await;
    let venv = std::env::var("MEDIANA_CKAN_VENV")
        .expect("MEDIANA_CKAN_VENV: the CKAN venv whose python runs the extension's tests (make test sets it)");
    let extension = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ckanext-mediana");
    let publisher = node.spec.publisher.ipa_code.clone();
    let pytest = std::process::Command::new(format!("{venv}/bin/python"))
        .args(["-m", "pytest", "-q", "tests/test_portal.py"])
        .current_dir(&extension)
        .env("PYTHONPATH", &extension)
        .env("MEDIANA_CKAN_DCATAPIT_URL", &url)
        .env("MEDIANA_CKAN_DCATAPIT_TOKEN", &token)
        .env("MEDIANA_CKAN_DCATAPIT_PUBLISHER", &publisher)
        .env("MEDIANA_BIN", env!("CARGO_BIN_EXE_mediana"))
        .output()
        .expect("run pytest");
    let said = format!("{}{}", String::from_utf8_lossy(&pytest.stdout), String::from_utf8_lossy(&pytest.stderr));
    assert!(pytest.status.success() && said.contains(" passed"), "the portal tests on the node's CKAN:\n{said}");
}

/// The example's DataStore with XLoader: a CSV on a municipality's file server (a pod of the
/// namespace, behind a Service) becomes a dataset's resource; the node's worker loads it into
/// the DataStore, which anyone can then query (`datastore_search`, on the read-only role).
async fn csv_resources_are_loaded_into_the_datastore(client: &Client, node: &mediana::api::CatalogNode) {
    let ns = node.metadata.namespace.as_deref().expect("a namespace");
    let csv = "voce,importo\nEntrate correnti,1250000\nSpese correnti,1180000\nInvestimenti,70000\n";
    let script =
        format!("mkdir -p /srv/www && printf '{csv}' > /srv/www/bilancio.csv && exec httpd -f -p 8080 -h /srv/www");
    let probe = super::exec_probe(&["wget", "-qO-", "http://127.0.0.1:8080/bilancio.csv"]);
    let mut server = super::server_pod("comune-files", &image("busybox"), json!([]), probe, &["/srv"]);
    server["spec"]["containers"][0]["command"] = json!(["sh", "-c", script]);
    Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client.clone(), ns)
        .patch("comune-files", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(server))
        .await
        .expect("the file server");
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "comune-files"},
        "spec": {"selector": {"server": "comune-files"}, "ports": [{"port": 80, "targetPort": 8080}]}});
    Api::<k8s_openapi::api::core::v1::Service>::namespaced(client.clone(), ns)
        .patch("comune-files", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(service))
        .await
        .expect("its Service");
    // XLoader fetches the file once, through the Service, from a pod: it must answer there
    // first (a Service without a ready endpoint rejects connections). Debian's busybox
    // 1.35 wget crashes with `-T`: the pod's own deadline bounds the loop instead.
    let fetch =
        "for try in $(seq 60); do wget -q -O- http://comune-files/bilancio.csv && exit 0; sleep 1; done; exit 1";
    let (volumes, mounts) = no_volumes();
    let (fetched, file) = run(client, ns, "fetch-bilancio", fetch, volumes, mounts).await;
    // The log holds wget's complaints about the tries before, then the file.
    assert!(fetched && file.ends_with(csv), "the file server answers through its Service: {file}");

    let (token, url) = (sysadmin_token(client, node).await, web_url(client, node).await);
    common::ckan_action(
        &url,
        &token,
        "organization_create",
        json!({"name": "comune-di-recanati", "title": "Comune di Recanati"}),
    )
    .await
    .expect("an organization");
    let mut dataset = macerata_dataset("bilancio-recanati", "comune-di-recanati");
    dataset["resources"] = json!([]);
    let created = common::ckan_action(&url, &token, "package_create", dataset).await.expect("a dataset");
    // XLoader submits on resource_create and on a changed URL, as the portal's form does; a
    // dataset made with its resources in one package_create is not loaded (docs/api.md).
    let csv_resource = json!({"package_id": created["id"], "name": "Bilancio (CSV)", "format": "CSV",
        "url": format!("http://comune-files.{ns}.svc/bilancio.csv")});
    let created = common::ckan_action(&url, &token, "resource_create", csv_resource).await.expect("a CSV resource");
    let resource = created["id"].as_str().expect("the resource's id").to_owned();
    // XLoader creates the table before it copies the rows: wait for its job to end.
    let status = eventually("XLoader's job to end", 300, || async {
        let status =
            common::ckan_action(&url, &token, "xloader_status", json!({"resource_id": resource})).await.ok()?;
        matches!(status["status"].as_str(), Some("complete" | "error")).then_some(status)
    })
    .await;
    assert_eq!(status["status"], "complete", "{status}");
    let table =
        common::ckan_action(&url, "", "datastore_search", json!({"resource_id": resource})).await.expect("the table");
    assert_eq!(table["total"], 3, "{table}");
    let rows: Vec<(&str, String)> = table["records"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["voce"].as_str().unwrap_or_default(), r["importo"].to_string()))
        .collect();
    assert!(rows.iter().any(|(voce, importo)| *voce == "Entrate correnti" && importo.contains("1250000")), "{rows:?}");
}

/// The backup CronJob's run, started by hand as `kubectl create job --from=cronjob` does, writes
/// a dump that `pg_restore --list` reads (with the portal tests' datasets' table in it); a run
/// that cannot reach the database fails and leaves no partial file beside it.
async fn backups_are_complete_dumps(client: &Client, ns: &str, node: &str) {
    use k8s_openapi::api::batch::v1::{CronJob, Job};
    let template = Api::<CronJob>::namespaced(client.clone(), ns)
        .get(&format!("{node}-backup"))
        .await
        .expect("the backup CronJob")
        .spec
        .expect("a spec")
        .job_template;
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let start = |name: &str, database_url: Option<&str>| {
        let mut spec = serde_json::to_value(template.spec.clone().expect("a Job spec")).expect("JSON");
        if let Some(url) = database_url {
            spec["template"]["spec"]["containers"][0]["env"] = json!([{"name": "DATABASE_URL", "value": url}]);
            spec["backoffLimit"] = json!(0);
        }
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec})
    };
    let finished = |name: &'static str| {
        let jobs = jobs.clone();
        move || {
            let jobs = jobs.clone();
            async move {
                let status = jobs.get(name).await.ok()?.status?;
                (status.succeeded.unwrap_or(0) > 0 || status.failed.unwrap_or(0) > 0)
                    .then(|| status.succeeded.unwrap_or(0) > 0)
            }
        }
    };
    jobs.patch("backup-now", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(start("backup-now", None)))
        .await
        .expect("start a backup");
    assert!(eventually("the backup Job", 180, finished("backup-now")).await, "the backup succeeded");
    let unreachable = format!("postgresql://nobody:wrong@{node}-postgres:5432/nothing");
    jobs.patch(
        "backup-fails",
        &PatchParams::apply(TEST_MANAGER),
        &Patch::Apply(start("backup-fails", Some(&unreachable))),
    )
    .await
    .expect("start a failing backup");
    assert!(
        !eventually("the failing backup Job", 180, finished("backup-fails")).await,
        "a dump without a database fails"
    );

    let volumes = json!([{"name": "backups", "persistentVolumeClaim": {"claimName": format!("{node}-backup")}}]);
    let mounts = json!([{"name": "backups", "mountPath": "/backups"}]);
    // The image has the PostgreSQL client, not grep: the listing is read here.
    let script = "set -eu; cd /backups; ls -1; for f in *.dump; do pg_restore --list \"$f\"; done";
    let (ok, out) = run_pod(
        client,
        ns,
        "inspect-backups",
        script_pod(&image("postgres"), "inspect-backups", script, volumes, mounts),
    )
    .await;
    assert!(ok, "pg_restore --list of the dumps:\n{out}");
    let files: Vec<&str> = out.lines().filter(|l| l.starts_with(&format!("{node}-"))).collect();
    assert!(files.len() == 1 && files[0].ends_with(".dump"), "one complete dump, no partial file: {out}");
    assert!(out.lines().any(|l| l.contains(" TABLE DATA public package ")), "the dump holds CKAN's datasets: {out}");
}

/// A sysadmin API token, got as the sysadmin gets one: logged in through CKAN's login form
/// with the generated password (read from the node's Secret), then `api_token_create` with the
/// session and its CSRF token. So every test that uses it proves the account was set up with
/// that password.
pub(super) async fn sysadmin_token(client: &Client, node: &mediana::api::CatalogNode) -> String {
    let password = sysadmin_password(client, node).await;
    let (name, url) = (node.spec.sysadmin.name.clone(), web_url(client, node).await);
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        // CKAN redirects to its site URL, a name that resolves nowhere here.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    // Every CKAN page carries the session's CSRF token, in the login form and in a meta tag.
    let csrf = |page: &str| {
        let token = regex::Regex::new(r#"name="_csrf_token" (?:value|content)="([^"]+)""#).expect("a regex");
        token.captures(page).map(|c| c[1].to_owned()).unwrap_or_else(|| panic!("no CSRF token in:\n{page}"))
    };
    let page = |path: String| {
        let browser = browser.clone();
        async move {
            let reply = browser.get(&path).send().await.expect("a CKAN page");
            assert_eq!(reply.status(), 200, "GET {path} (logged in?)");
            reply.text().await.expect("its HTML")
        }
    };
    let login_page = page(format!("{url}/user/login")).await;
    let form = [("login", name.as_str()), ("password", password.as_str()), ("_csrf_token", &csrf(&login_page))];
    let login = browser.post(format!("{url}/user/login")).form(&form).send().await.expect("the login form posted");
    assert!(login.status().is_redirection(), "CKAN sends a person who logged in on: {}", login.status());
    let tokens = page(format!("{url}/user/{name}/api-tokens")).await;
    let reply = browser
        .post(format!("{url}/api/3/action/api_token_create"))
        .header("X-CSRFToken", csrf(&tokens))
        .json(&json!({"user": name, "name": "tests"}))
        .send()
        .await
        .expect("api_token_create");
    let answer: Value = reply.json().await.expect("CKAN's JSON");
    assert_eq!(answer["success"], true, "the sysadmin, logged in with the generated password, makes a token: {answer}");
    answer["result"]["token"].as_str().expect("a token").to_owned()
}

/// The sysadmin's password that the operator generated, from the node's Secret.
pub(super) async fn sysadmin_password(client: &Client, node: &mediana::api::CatalogNode) -> String {
    use k8s_openapi::api::core::v1::Secret;
    use mediana::controllers::catalog_node::environment::Names;
    let owner = mediana::controllers::children::Owner::of(node).expect("an owner");
    let secret = Api::<Secret>::namespaced(client.clone(), &owner.namespace)
        .get(&Names::new(&owner).ckan_secret())
        .await
        .expect("the node's generated Secret");
    let password = secret.data.as_ref().and_then(|d| d.get("sysadmin-password")).expect("a sysadmin password");
    String::from_utf8(password.0.clone()).expect("a UTF-8 password")
}

/// The URL of one of the node's ready CKAN web pods, which the tests reach on the node's
/// bridge.
pub(super) async fn web_url(client: &Client, node: &mediana::api::CatalogNode) -> String {
    let owner = mediana::controllers::children::Owner::of(node).expect("an owner");
    let selector = format!("app.kubernetes.io/instance={},app.kubernetes.io/component=web", owner.instance);
    let web =
        eventually("a ready web pod", 120, || async { ready_pods(client, &owner.namespace, &selector).await.pop() })
            .await;
    let ip = web.status.and_then(|s| s.pod_ip).expect("a ready web pod with an address");
    format!("http://{ip}:5000")
}

/// Every CPU request under `value` set to 50m.
fn little_cpu(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match (key.as_str(), inner.get("cpu").is_some()) {
                    ("requests", true) => inner["cpu"] = json!("50m"),
                    _ => little_cpu(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(little_cpu),
        _ => {}
    }
}

/// Resources small enough for the Marche node and this one to share the real node's two CPUs.
pub(super) fn small(cpu: &str, memory: &str) -> Value {
    json!({"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}})
}

/// An organization and a DCAT-AP_IT dataset of it (`macerata_dataset`), made through the
/// CKAN API at `url` as the holder of `token`.
pub(super) async fn publish(url: &str, token: &str, (organization, title): (&str, &str), dataset: &str) {
    common::ckan_action(url, token, "organization_create", json!({"name": organization, "title": title}))
        .await
        .expect("an organization");
    common::ckan_action(url, token, "package_create", macerata_dataset(dataset, organization))
        .await
        .unwrap_or_else(|err| panic!("the dataset {dataset}: {err}"));
}

/// A DCAT-AP_IT dataset of the Comune di Macerata, as an API client creates it.
pub(super) fn macerata_dataset(name: &str, organization: &str) -> Value {
    json!({
        "name": name, "owner_org": organization,
        "title": "Bilancio di previsione 2024", "notes": "Entrate e uscite previste per il 2024.",
        "identifier": format!("c_e783:{name}"),
        "themes_aggregate": json!([{"theme": "GOVE", "subthemes": []}]).to_string(),
        "frequency": "ANNUAL", "modified": "2024-05-31",
        "holder_name": "Comune di Macerata", "holder_identifier": "c_e783",
        "publisher_name": "Comune di Macerata", "publisher_identifier": "c_e783",
        "language": "ITA", "license_id": "cc-by",
        "resources": [{"name": "Bilancio (CSV)", "url": "https://dati.comune.macerata.it/bilancio-2024.csv", "format": "csv"}]
    })
}

/// SQL run by psql in a pod made from the node's backup CronJob (its PostgreSQL image and
/// database URL), as a DBA would change the database by hand.
async fn psql(client: &Client, ns: &str, node: &str, name: &str, sql: &str) -> String {
    use k8s_openapi::api::batch::v1::CronJob;
    let template = Api::<CronJob>::namespaced(client.clone(), ns)
        .get(&format!("{node}-backup"))
        .await
        .expect("the backup CronJob")
        .spec
        .and_then(|s| s.job_template.spec?.template.spec)
        .expect("a pod spec");
    let mut pod = serde_json::to_value(template).expect("JSON");
    pod["restartPolicy"] = json!("Never");
    pod["containers"][0]["command"] =
        json!(["sh", "-c", format!("exec psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -c '{sql}'")]);
    let (ok, out) =
        run_pod(client, ns, name, json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": pod}))
            .await;
    assert!(ok, "psql {sql}:\n{out}");
    out
}

/// A node's whole life on the real node, on the images of the CKAN recipe for the previous
/// and the current CKAN line: created on 2.11 with a dataset; an upgrade to 2.12 whose
/// migration really fails (a column that a DBA added by hand collides with one that CKAN
/// 2.12's migration adds) leaves 2.11 serving and the node `Stalled=True MigrationFailed`
/// with alembic's error; once the column is dropped and the failed Job deleted, the upgrade
/// completes (pre-upgrade dump, `db upgrade`, web rollout, index rebuild) and search finds the
/// dataset on 2.12; deleted under `deletionPolicy: Delete`, the node's volumes go with it.
pub async fn catalog_node_lifecycle(client: &Client) {
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    use mediana::api::catalog_node::{DEFAULT_CKAN_VERSION, UpgradePhase};
    let ns = restricted_namespace(client, "lifecycle").await;
    let previous =
        image_tags("ckan").into_iter().find(|t| t != DEFAULT_CKAN_VERSION).expect("the previous CKAN's image");
    let name = "macerata";
    let node = |version: &str| {
        json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"hostname": "dati.comune.macerata.it", "title": "Dati aperti del Comune di Macerata",
                "publisher": {"ipaCode": "c_e783", "name": "Comune di Macerata"},
                "version": version, "replicas": 1, "resources": small("100m", "1Gi"),
                "database": {"managed": {"resources": small("50m", "256Mi")}},
                "search": {"managed": {"resources": small("50m", "1Gi")}},
                "redis": {"managed": {"resources": small("10m", "64Mi")}},
                "backup": {"schedule": "0 3 * * *"}, "deletionPolicy": "Delete"}})
    };
    let nodes: Api<mediana::api::CatalogNode> = Api::namespaced(client.clone(), &ns);
    let apply = |version: &str| {
        let nodes = nodes.clone();
        let node = node(version);
        async move { nodes.patch(name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(node)).await.expect("admitted") }
    };
    apply(&previous).await;
    let ready = wait_for(&nodes, name, "Ready", "True", "Available", 600).await;
    let versions = ready.status.as_ref().and_then(|s| s.versions.clone()).expect("versions");
    assert_eq!(versions.ckan.as_deref(), Some(previous.as_str()), "{versions:?}");
    assert_eq!(versions.solr.as_deref(), Some("9.10.1"), "{versions:?}");

    let token = sysadmin_token(client, &ready).await;
    let url = web_url(client, &ready).await;
    publish(&url, &token, ("comune-di-macerata", "Comune di Macerata"), "bilancio-2024").await;

    // A DBA's own column where CKAN 2.12's migration 106 adds package.extras.
    psql(client, &ns, name, "dba-column", "ALTER TABLE package ADD COLUMN extras text").await;
    apply(DEFAULT_CKAN_VERSION).await;
    let stalled = wait_for(&nodes, name, "Stalled", "True", "MigrationFailed", 600).await;
    let (_, _, message) = common::condition(&stalled, "Stalled").expect("Stalled");
    assert!(
        message.contains("DuplicateColumn")
            && message.contains("extras")
            && message.contains(&format!("{previous} keeps serving")),
        "the migration's own error, and the release that serves: {message}"
    );
    assert_eq!(common::condition(&stalled, "Ready").map(|c| c.0), Some("True".to_owned()), "the old release serves");
    let answer = common::ckan_action(&url, &token, "status_show", json!({})).await.expect("status_show");
    assert_eq!(answer["ckan_version"], previous.as_str(), "{answer}");
    let upgrade = stalled.status.as_ref().and_then(|s| s.upgrade.clone()).expect("the upgrade's status");
    assert_eq!(upgrade.phase, UpgradePhase::Failed, "{upgrade:?}");

    // The DBA's column dropped and the failed Job deleted: the upgrade goes on.
    psql(client, &ns, name, "dba-drop", "ALTER TABLE package DROP COLUMN extras").await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
    let failed = jobs.list(&Default::default()).await.expect("Jobs").items.into_iter().find(|j| {
        mediana::controllers::catalog_node::job_state(Some(j))
            != mediana::controllers::catalog_node::upgrade::JobState::Succeeded
            && j.metadata.name.as_deref().is_some_and(|n| n.contains("-migrate-"))
    });
    let failed = failed.and_then(|j| j.metadata.name).expect("the failed migration Job");
    jobs.delete(&failed, &DeleteParams::background()).await.expect("delete the failed Job");
    let upgraded = eventually("the upgrade to complete", 900, || async {
        let node = nodes.get(name).await.ok()?;
        let status = node.status.as_ref()?;
        let done = status.upgrade.as_ref()?.phase == UpgradePhase::Completed
            && status.versions.as_ref()?.ckan.as_deref() == Some(DEFAULT_CKAN_VERSION);
        let ready = common::condition(&node, "Ready").is_some_and(|c| c.0 == "True");
        (done && ready).then_some(node)
    })
    .await;
    let backup = upgraded.status.as_ref().and_then(|s| s.last_backup.clone()).expect("the pre-upgrade backup");
    let dumped = jobs.get(&backup.job).await.expect("the backup Job");
    assert_eq!(dumped.status.and_then(|s| s.succeeded), Some(1), "the pre-upgrade dump ran: {backup:?}");

    let url = web_url(client, &upgraded).await;
    let answer = common::ckan_action(&url, &token, "status_show", json!({})).await.expect("status_show on 2.12");
    assert_eq!(answer["ckan_version"], DEFAULT_CKAN_VERSION, "{answer}");
    let found =
        common::ckan_action(&url, &token, "package_search", json!({"q": "name:bilancio-2024"})).await.expect("search");
    assert_eq!(found["count"], 1, "the dataset made on {previous} is found after the rebuild: {found}");

    nodes.delete(name, &DeleteParams::default()).await.expect("delete the node");
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    eventually("the node and its volumes gone (deletionPolicy: Delete)", 180, || async {
        let gone = nodes.get_opt(name).await.ok()?.is_none();
        (gone && claims.list(&Default::default()).await.ok()?.items.is_empty()).then_some(())
    })
    .await;
    Api::<Namespace>::all(client.clone()).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}

/// examples/metropolitan-node-bologna.yaml, adapted to one node: its PostgreSQL outside the
/// node's management (a server the test starts, as the city's provider would run one, its URL
/// in the Secret the example names), Solr and Redis managed. Ready, with CKAN reporting the
/// external server's version, and a dataset made through the API found by search. The
/// example's TLS Secret is left out: no Ingress controller runs on the real node to serve it.
pub async fn bologna_example_serves_from_an_external_database(client: &Client) {
    let ns = restricted_namespace(client, "opendata-bologna").await;
    let password = "bo'logna-2024";
    let env = json!([{"name": "POSTGRES_USER", "value": "ckan"}, {"name": "POSTGRES_PASSWORD", "value": password},
        {"name": "POSTGRES_DB", "value": "ckan"}, {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}]);
    let probe = super::exec_probe(&["psql", "postgresql://ckan@127.0.0.1/ckan", "-Atc", "select 1"]);
    let mut server = super::server_pod(
        "city-db",
        &image("postgres"),
        env,
        probe,
        &["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"],
    );
    server["spec"]["containers"][0]["env"]
        .as_array_mut()
        .expect("env")
        .push(json!({"name": "PGPASSWORD", "value": password}));
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), &ns);
    pods.patch("city-db", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(server)).await.expect("the city's database");
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "city-db"},
        "spec": {"selector": {"server": "city-db"}, "ports": [{"port": 5432}]}});
    Api::<k8s_openapi::api::core::v1::Service>::namespaced(client.clone(), &ns)
        .patch("city-db", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(service))
        .await
        .expect("its Service");
    // First the password percent-encoded, as a SQLAlchemy URL must hold a '%': CKAN cannot
    // read it (configparser), so the node says so, naming the Secret and not the password.
    let secrets = Api::<k8s_openapi::api::core::v1::Secret>::namespaced(client.clone(), &ns);
    let put_url = |url: String| {
        let secrets = secrets.clone();
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "opendata-bologna-db"},
            "stringData": {"sqlalchemy-url": url}});
        async move {
            secrets
                .patch("opendata-bologna-db", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(secret))
                .await
                .expect("the database Secret")
        }
    };
    let host = format!("city-db.{ns}.svc.cluster.local:5432");
    put_url(format!("postgresql://ckan:bo%27logna%252024@{host}/ckan")).await;

    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/metropolitan-node-bologna.yaml");
    let mut node = common::read_manifests(&example)
        .into_iter()
        .find(|m| m["kind"] == "CatalogNode")
        .expect("the example's CatalogNode");
    // One node: one web replica, and requests that let three portals share two CPUs.
    node["metadata"]["namespace"] = json!(ns);
    node["spec"]["replicas"] = json!(1);
    node["spec"]["resources"] = small("100m", "1Gi");
    node["spec"]["search"]["managed"]["resources"] = small("50m", "1Gi");
    node["spec"]["redis"] = json!({"managed": {"resources": small("10m", "64Mi")}});
    let name = node["metadata"]["name"].as_str().expect("a name").to_owned();
    let nodes: Api<mediana::api::CatalogNode> = Api::namespaced(client.clone(), &ns);
    nodes.patch(&name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(node)).await.expect("admitted");
    let refused = wait_for(&nodes, &name, "Stalled", "True", "InvalidSpec", 120).await;
    let (_, _, message) = common::condition(&refused, "Stalled").expect("Stalled");
    assert!(message.contains("Secret opendata-bologna-db key sqlalchemy-url holds '%'"), "{message}");
    assert!(!message.contains("logna%"), "never the password: {message}");
    // The password as it is, with a quote (allowed in a URL's user part), as the city's DBA
    // fixes it: the next reconcile reads the Secret again.
    put_url(format!("postgresql://ckan:bo'logna-2024@{host}/ckan")).await;
    let ready = wait_for(&nodes, &name, "Ready", "True", "Available", 600).await;
    let versions = ready.status.as_ref().and_then(|s| s.versions.clone()).expect("versions");
    assert!(versions.postgres.as_deref().is_some_and(|v| v.starts_with("15.")), "the city's server: {versions:?}");
    let database = common::condition(&ready, "DatabaseReady").expect("DatabaseReady");
    assert_eq!(database.0, "True", "{database:?}");

    let (token, url) = (sysadmin_token(client, &ready).await, web_url(client, &ready).await);
    publish(&url, &token, ("comune-di-bologna", "Comune di Bologna"), "bilancio-bologna").await;
    let found = common::ckan_action(&url, &token, "package_search", json!({"q": "name:bilancio-bologna"}))
        .await
        .expect("search");
    assert_eq!(found["count"], 1, "{found}");
    Api::<Namespace>::all(client.clone()).delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
}
