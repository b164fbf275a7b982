//! The data flow of the Macerata area on real pods, reconciled by the chart's operator: a
//! municipal CKAN (a CatalogNode whose datasets the test publishes through its API) and two
//! municipal DCAT-AP_IT files (RDF/XML and Turtle, on a file server pod) harvested into the
//! regional node; the regional node harvested by the national one through its paged
//! `/catalog.ttl`. Every harvest is a CronJob's pod of the operator image. What a person
//! would check is checked at each hop, on the CKANs themselves.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Service};
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::{Api, Client};
use mediana::api::harvest_job::{HarvestJob, HarvestRun, RunResult};
use mediana::api::{CatalogNode, harvest_job::RUN_NOW_ANNOTATION};
use serde_json::{Value, json};

use super::catalog_node::{small, sysadmin_token, web_url};
use super::common::{self, TEST_MANAGER, eventually, wait_for};
use super::{exec_probe, image, restricted_namespace, server_pod};

/// The municipal files, as the municipalities' websites publish them.
const RECANATI_RDF: &str = include_str!("../fixtures/chain/recanati.rdf");
const TOLENTINO_TTL: &str = include_str!("../fixtures/chain/tolentino.ttl");
/// The Comune di Macerata's organization and datasets, as its open-data office publishes them
/// through the API.
const MACERATA_JSON: &str = include_str!("../fixtures/chain/macerata.json");

/// What a person checks of a dataset at each hop: the fields DCAT-AP_IT makes mandatory.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    title: String,
    holder: String,
    publisher: String,
    themes: Vec<String>,
    license: String,
    distributions: Vec<String>,
}

impl Seen {
    fn of(package: &Value) -> Self {
        let text = |key: &str| package[key].as_str().unwrap_or_default().to_owned();
        let aggregate: Value = serde_json::from_str(package["themes_aggregate"].as_str().unwrap_or("[]"))
            .unwrap_or_else(|err| panic!("themes_aggregate of {}: {err}", package["name"]));
        let mut themes: Vec<String> =
            aggregate.as_array().into_iter().flatten().filter_map(|t| t["theme"].as_str().map(str::to_owned)).collect();
        themes.sort();
        let mut distributions: Vec<String> = package["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["url"].as_str().map(str::to_owned))
            .collect();
        distributions.sort();
        Seen {
            title: text("title"),
            holder: text("holder_identifier"),
            publisher: text("publisher_identifier"),
            themes,
            license: text("license_id"),
            distributions,
        }
    }
}

/// One of the portals of the chain: a small CatalogNode (one replica, managed services) whose
/// volumes go with it. Three of them and the other tests' nodes share the node's two CPUs:
/// requests of a few hundredths of a CPU each, or pods wait Pending for CPU that others hold.
fn portal(ns: &str, name: &str, hostname: &str, title: &str, (ipa_code, holder): (&str, &str), config: Value) -> Value {
    json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"hostname": hostname, "title": title,
            "publisher": {"ipaCode": ipa_code, "name": holder},
            "replicas": 1, "resources": small("50m", "1Gi"), "config": config,
            "database": {"managed": {"resources": small("20m", "256Mi")}},
            "search": {"managed": {"resources": small("20m", "1Gi")}},
            "redis": {"managed": {"resources": small("10m", "64Mi")}},
            "deletionPolicy": "Delete"}})
}

/// A HarvestJob without a schedule (it runs once, then on run-now) of a source inside the
/// cluster.
fn harvest(ns: &str, name: &str, target: &str, publisher: (&str, &str, &str), source: Value) -> Value {
    let (organization, ipa_code, administration) = publisher;
    json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "HarvestJob",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"target": {"catalogNode": target},
            "publisher": {"organization": organization, "ipaCode": ipa_code, "name": administration},
            "source": source, "allowPrivateNetworks": true, "resources": small("20m", "256Mi"),
            "removedDatasets": "Delete", "maxDeletePercent": 50}})
}

/// Every dataset of a CKAN by its DCAT identifier, as anyone reads them.
async fn datasets(url: &str) -> BTreeMap<String, Value> {
    let found = common::ckan_action(url, "", "package_search", json!({"rows": 1000}))
        .await
        .unwrap_or_else(|err| panic!("package_search on {url}: {err}"));
    found["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["identifier"].as_str().unwrap_or_else(|| panic!("no identifier: {p}")).to_owned(), p.clone()))
        .collect()
}

/// The run after `before` (the job's `lastRun.job`), once it has ended.
async fn next_run(jobs: &Api<HarvestJob>, name: &str, before: Option<String>) -> HarvestRun {
    eventually(&format!("a finished run of {name} after {before:?}"), 420, || async {
        let run = jobs.get(name).await.ok()?.status?.last_run?;
        (run.job != before && run.result.is_over()).then_some(run)
    })
    .await
}

/// Starts a run now, as a person does (`kubectl annotate … mediana.dev/run-now=…`), and
/// returns it once it has ended.
async fn run_now(jobs: &Api<HarvestJob>, name: &str) -> HarvestRun {
    let before = jobs.get(name).await.expect("the job").status.and_then(|s| s.last_run).and_then(|r| r.job);
    let value = chrono::Utc::now().to_rfc3339();
    let patch = json!({"metadata": {"annotations": {RUN_NOW_ANNOTATION: value}}});
    jobs.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await.expect("annotated");
    next_run(jobs, name, before).await
}

/// A run that succeeded with these counts of (found, created, updated, deleted, invalid).
fn assert_counts(name: &str, run: &HarvestRun, (found, created, updated, deleted, invalid): (i64, i64, i64, i64, i64)) {
    let c = &run.counts;
    assert_eq!(run.result, RunResult::Succeeded, "{name}: {run:?}");
    assert_eq!(
        (c.found, c.created, c.updated, c.deleted, c.invalid),
        (found, created, updated, deleted, invalid),
        "{name}: (found, created, updated, deleted, invalid) of {run:?}"
    );
    // Measured by the harvester itself, and under the 256 MiB the chain's jobs allow.
    let peak = run.peak_memory_bytes.unwrap_or_else(|| panic!("{name}: no peak memory in {run:?}"));
    assert!((1 << 20..256 << 20).contains(&peak), "{name}: peak memory {peak} bytes");
}

/// The municipal files behind a Service, from busybox's httpd reading a ConfigMap.
async fn file_server(client: &Client, ns: &str) {
    let files = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "opendata"},
        "data": {"recanati.rdf": RECANATI_RDF, "tolentino.ttl": TOLENTINO_TTL}});
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .patch("opendata", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(files))
        .await
        .expect("the files");
    let probe = exec_probe(&["wget", "-qO-", "http://127.0.0.1:8080/tolentino.ttl"]);
    let mut server = server_pod("siti-comunali", &image("busybox"), json!([]), probe, &[]);
    server["spec"]["containers"][0]["command"] = json!(["httpd", "-f", "-p", "8080", "-h", "/srv/www"]);
    server["spec"]["containers"][0]["volumeMounts"] = json!([{"name": "opendata", "mountPath": "/srv/www"}]);
    server["spec"]["volumes"] = json!([{"name": "opendata", "configMap": {"name": "opendata"}}]);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pods.patch("siti-comunali", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(server))
        .await
        .expect("the file server");
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "siti-comunali"},
        "spec": {"selector": {"server": "siti-comunali"}, "ports": [{"port": 80, "targetPort": 8080}]}});
    Api::<Service>::namespaced(client.clone(), ns)
        .patch("siti-comunali", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(service))
        .await
        .expect("its Service");
}

/// The whole flow: three hops, checks at the region and at the national node, a re-run that
/// writes nothing, a deletion that travels under `Delete` and stays under `Keep`, and an
/// invalid dataset that Enforce mode stops at the region.
pub async fn municipalities_feed_the_region_which_feeds_the_nation(client: &Client) {
    let comune = restricted_namespace(client, "comune-macerata").await;
    let regione = restricted_namespace(client, "regione-marche").await;
    let nazionale = restricted_namespace(client, "nazionale").await;
    let nodes = |ns: &str| Api::<CatalogNode>::namespaced(client.clone(), ns);
    let apply_node = |node: Value| async move {
        let ns = node["metadata"]["namespace"].as_str().expect("a namespace").to_owned();
        let name = node["metadata"]["name"].as_str().expect("a name").to_owned();
        nodes(&ns).patch(&name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(node)).await.expect("admitted");
    };
    apply_node(portal(
        &comune,
        "dati-comune-macerata",
        "dati.comune.macerata.it",
        "Dati aperti del Comune di Macerata",
        ("c_e783", "Comune di Macerata"),
        json!({}),
    ))
    .await;
    // Two datasets a page, so that the national harvest follows hydra:nextPage.
    apply_node(portal(
        &regione,
        "dati-regione-marche",
        "dati.regione.marche.it",
        "Dati aperti della Regione Marche",
        ("r_marche", "Regione Marche"),
        json!({"ckanext.dcat.datasets_per_page": "2"}),
    ))
    .await;
    apply_node(portal(
        &nazionale,
        "dati-gov-it",
        "www.dati.gov.it",
        "dati.gov.it",
        ("agid", "Agenzia per l'Italia Digitale"),
        json!({}),
    ))
    .await;
    file_server(client, &comune).await;

    // The municipality publishes three datasets.
    let municipal = wait_for(&nodes(&comune), "dati-comune-macerata", "Ready", "True", "Available", 900).await;
    let (municipal_token, municipal_url) =
        (sysadmin_token(client, &municipal).await, web_url(client, &municipal).await);
    let macerata: Value = serde_json::from_str(MACERATA_JSON).expect("macerata.json");
    common::ckan_action(&municipal_url, &municipal_token, "organization_create", macerata["organization"].clone())
        .await
        .expect("the municipality's organization");
    for dataset in macerata["datasets"].as_array().expect("datasets") {
        common::ckan_action(&municipal_url, &municipal_token, "package_create", dataset.clone())
            .await
            .unwrap_or_else(|err| panic!("the dataset {}: {err}", dataset["name"]));
    }

    // The region harvests its three sources, in parallel.
    let in_cluster = |service: &str, ns: &str| format!("http://{service}.{ns}.svc.cluster.local");
    let files = in_cluster("siti-comunali", &comune);
    let region_jobs = Api::<HarvestJob>::namespaced(client.clone(), &regione);
    let sources = [
        (
            "comune-di-macerata",
            ("comune-di-macerata", "c_e783", "Comune di Macerata"),
            json!({"type": "ckan", "url": in_cluster("dati-comune-macerata-ckan", &comune),
                   "organization": "comune-di-macerata"}),
        ),
        (
            "comune-di-recanati",
            ("comune-di-recanati", "c_h211", "Comune di Recanati"),
            json!({"type": "dcat", "url": format!("{files}/recanati.rdf"), "format": "RdfXml"}),
        ),
        (
            "comune-di-tolentino",
            ("comune-di-tolentino", "c_l191", "Comune di Tolentino"),
            json!({"type": "dcat", "url": format!("{files}/tolentino.ttl"), "format": "Turtle"}),
        ),
    ];
    wait_for(&nodes(&regione), "dati-regione-marche", "Ready", "True", "Available", 900).await;
    for (name, publisher, source) in &sources {
        let job = harvest(&regione, name, "dati-regione-marche", *publisher, source.clone());
        region_jobs.patch(name, &PatchParams::apply(TEST_MANAGER), &Patch::Apply(job)).await.expect("admitted");
    }
    let region_names = sources.map(|(name, _, _)| name);
    let first = futures::future::join_all(region_names.map(|name| next_run(&region_jobs, name, None))).await;
    assert_counts("comune-di-macerata", &first[0], (3, 3, 0, 0, 0));
    assert_counts("comune-di-recanati", &first[1], (2, 2, 0, 0, 0));
    // Enforce (the default) writes the valid dataset and reports the other, naming the theme.
    assert_counts("comune-di-tolentino", &first[2], (2, 1, 0, 0, 1));
    let refused = &first[2].errors;
    assert!(
        refused.iter().any(|e| e.dataset.contains("c_l191:eventi") && e.reason.contains("CULTURA")),
        "the invalid dataset is reported with its theme: {refused:?}"
    );

    let regional = nodes(&regione).get("dati-regione-marche").await.expect("the region");
    let regional_url = web_url(client, &regional).await;
    let at_region = datasets(&regional_url).await;
    let municipal_datasets = datasets(&municipal_url).await;
    let expected = [
        "c_e783:bilancio-2024",
        "c_e783:linee-autobus",
        "c_e783:scuole-comunali",
        "c_h211:musei-civici-visitatori",
        "c_h211:raccolta-differenziata",
        "c_l191:parcheggi",
    ];
    assert_eq!(at_region.keys().collect::<Vec<_>>(), expected, "the region holds every valid municipal dataset");
    for (identifier, package) in &municipal_datasets {
        assert_eq!(Seen::of(&at_region[identifier]), Seen::of(package), "{identifier}: municipality → region");
    }
    let recanati = Seen::of(&at_region["c_h211:raccolta-differenziata"]);
    assert_eq!(
        (recanati.holder.as_str(), recanati.publisher.as_str(), recanati.themes.as_slice()),
        ("c_h211", "c_h211", ["ENVI".to_owned()].as_slice()),
        "the RDF/XML file's dataset at the region: {recanati:?}"
    );
    assert_eq!(recanati.distributions.len(), 2, "{recanati:?}");

    // What the region's open-data manager sees, in a browser.
    let titles: Vec<&str> = at_region.values().filter_map(|p| p["title"].as_str()).collect();
    let facets = ["Comune di Macerata", "Comune di Recanati", "Comune di Tolentino", "GOVE", "EDUC", "ENVI", "TRAN"];
    let page = at_region["c_h211:raccolta-differenziata"]["name"].as_str().expect("a name");
    let fields = ["Rights holder", "Comune di Recanati", "c_h211", "Update frequency", "Themes"];
    super::browser::a_person_sees_the_harvested_datasets(client, &regional, &titles, &facets, (page, &fields)).await;

    // The region's catalogue comes in pages of two, each naming the next on the region's
    // public URL (which resolves nowhere here: the harvester reads it on its Service).
    let first_page = reqwest::get(format!("{regional_url}/catalog.ttl"))
        .await
        .and_then(|r| r.error_for_status())
        .expect("the region's /catalog.ttl");
    let first_page = first_page.text().await.expect("its Turtle");
    assert!(
        first_page.contains("http://dati.regione.marche.it/catalog.ttl?page=2")
            && first_page.matches("a dcat:Dataset").count() <= 2,
        "a first page of two datasets that names the next:\n{first_page}"
    );

    // The nation harvests the region's catalogue, through its Service, page by page.
    let national_jobs = Api::<HarvestJob>::namespaced(client.clone(), &nazionale);
    let national_source = json!({"type": "dcat", "format": "Turtle",
        "url": format!("{}/catalog.ttl", in_cluster("dati-regione-marche-ckan", &regione))});
    let mut national = harvest(
        &nazionale,
        "regione-marche",
        "dati-gov-it",
        ("regione-marche", "r_marche", "Regione Marche"),
        national_source,
    );
    national["spec"]["removedDatasets"] = json!("Keep");
    wait_for(&nodes(&nazionale), "dati-gov-it", "Ready", "True", "Available", 900).await;
    national_jobs
        .patch("regione-marche", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(national.clone()))
        .await
        .expect("admitted");
    assert_counts("regione-marche", &next_run(&national_jobs, "regione-marche", None).await, (6, 6, 0, 0, 0));
    let national_node = nodes(&nazionale).get("dati-gov-it").await.expect("the national node");
    let national_url = web_url(client, &national_node).await;
    let at_nation = datasets(&national_url).await;
    assert_eq!(at_nation.keys().collect::<Vec<_>>(), expected, "the nation holds what the region holds");
    for (identifier, package) in &at_region {
        assert_eq!(Seen::of(&at_nation[identifier]), Seen::of(package), "{identifier}: region → nation");
        assert_eq!(at_nation[identifier]["organization"]["name"], "regione-marche", "{identifier}");
    }
    national_catalogue_is_valid(&national_url).await;

    // The whole chain again, nothing changed at the sources: nothing is written.
    let again = futures::future::join_all(region_names.map(|name| run_now(&region_jobs, name))).await;
    assert_counts("comune-di-macerata", &again[0], (3, 0, 0, 0, 0));
    assert_counts("comune-di-recanati", &again[1], (2, 0, 0, 0, 0));
    assert_counts("comune-di-tolentino", &again[2], (2, 0, 0, 0, 1));
    assert_counts("regione-marche", &run_now(&national_jobs, "regione-marche").await, (6, 0, 0, 0, 0));
    let history = region_jobs.get("comune-di-macerata").await.expect("the job").status.expect("a status").history;
    assert!(history.iter().any(|r| r.job == first[0].job), "the first run is in the history: {history:?}");

    // A dataset withdrawn by the municipality: gone at the region (Delete), kept by the
    // nation while its job says Keep, gone there too once it says Delete.
    let withdrawn = "c_e783:linee-autobus";
    common::ckan_action(&municipal_url, &municipal_token, "package_delete", json!({"id": "linee-autobus"}))
        .await
        .expect("withdrawn at the municipality");
    assert_counts("comune-di-macerata", &run_now(&region_jobs, "comune-di-macerata").await, (2, 0, 0, 1, 0));
    assert!(!datasets(&regional_url).await.contains_key(withdrawn), "withdrawn at the region");
    assert_counts("regione-marche", &run_now(&national_jobs, "regione-marche").await, (5, 0, 0, 0, 0));
    assert!(datasets(&national_url).await.contains_key(withdrawn), "kept by the nation under Keep");
    national["spec"]["removedDatasets"] = json!("Delete");
    national_jobs
        .patch("regione-marche", &PatchParams::apply(TEST_MANAGER), &Patch::Apply(national))
        .await
        .expect("now Delete");
    assert_counts("regione-marche", &run_now(&national_jobs, "regione-marche").await, (5, 0, 0, 1, 0));
    let at_nation = datasets(&national_url).await;
    assert!(!at_nation.contains_key(withdrawn) && at_nation.len() == 5, "withdrawn nationally: {:?}", at_nation.keys());

    for ns in [&comune, &regione, &nazionale] {
        Api::<Namespace>::all(client.clone()).delete(ns, &DeleteParams::default()).await.expect("delete namespace");
    }
}

/// `mediana validate dcat` of the national `/catalog.ttl`, as dati.gov.it's users read it:
/// no error.
async fn national_catalogue_is_valid(url: &str) {
    let catalogue = reqwest::get(format!("{url}/catalog.ttl"))
        .await
        .and_then(|r| r.error_for_status())
        .expect("the national /catalog.ttl");
    let body = catalogue.bytes().await.expect("its Turtle");
    let file = std::env::temp_dir().join(format!("{}-national.ttl", common::unique_name("chain")));
    std::fs::write(&file, &body).expect("write the catalogue");
    let validated = std::process::Command::new(env!("CARGO_BIN_EXE_mediana"))
        .args(["validate", "dcat"])
        .arg(&file)
        .output()
        .expect("run mediana validate dcat");
    let said = String::from_utf8_lossy(&validated.stdout).into_owned();
    let _ = std::fs::remove_file(&file);
    assert!(validated.status.success(), "the national catalogue validates:\n{said}");
    assert!(said.starts_with("6 datasets") && said.contains("6 valid, 0 invalid"), "{said}");
}
