//! The harvester against real CKAN 2.12 instances (tests/ckan/ckan.sh, started by
//! `make test`): the DCAT-AP_IT fixtures served over loopback HTTP, a second CKAN as a
//! source, results read back through the target's Action API, re-harvests that write
//! nothing, and removal at the source under both policies and the delete guard.

mod common;

use mediana::api::harvest_job::{RemovedDatasetPolicy, RunResult, SourceType, ValidationMode};
use mediana::harvest::{RunConfig, RunReport, SourceConfig, TargetConfig};
use serde_json::{Value, json};

/// A CKAN instance of the test harness: its URL and a sysadmin token.
struct Ckan {
    url: String,
    token: String,
}

fn ckan(instance: u8) -> Ckan {
    let var = |key: &str| {
        std::env::var(format!("MEDIANA_CKAN_{instance}_{key}")).unwrap_or_else(|_| {
            panic!(
                "no CKAN test peer {instance}: run the tests with `make test`, or \
                 `MEDIANA_CKAN_DCATAPIT=3 tests/ckan/ckan.sh up DIR 3` and export DIR/env"
            )
        })
    };
    Ckan { url: var("URL"), token: var("TOKEN") }
}

impl Ckan {
    /// Calls an action with the sysadmin token and returns its `result`.
    fn action(&self, action: &str, body: Value) -> Value {
        let response = std::process::Command::new("curl")
            .args(["-sS", "-X", "POST", &format!("{}/api/3/action/{action}", self.url)])
            .args(["-H", &format!("Authorization: {}", self.token), "-H", "Content-Type: application/json"])
            .args(["--data-binary", &body.to_string()])
            .output()
            .expect("run curl");
        let reply: Value = serde_json::from_slice(&response.stdout).expect("CKAN answers JSON");
        assert_eq!(reply["success"], true, "{action} failed: {reply}");
        reply["result"].clone()
    }

    /// The datasets of an organization, with their extras as a map.
    fn datasets_of(&self, organization: &str) -> Vec<Value> {
        let result = self.action("package_search", json!({"fq": format!("organization:{organization}"), "rows": 1000}));
        result["results"].as_array().cloned().unwrap_or_default()
    }
}

fn extra<'a>(dataset: &'a Value, key: &str) -> Option<&'a str> {
    dataset["extras"].as_array()?.iter().find(|e| e["key"] == key)?["value"].as_str()
}

fn fixture(name: &str) -> Vec<u8> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dcat-ap-it/examples").join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

fn config(source: &str, kind: SourceType, target: &Ckan, organization: &str) -> RunConfig {
    let source =
        SourceConfig { url: source.to_owned(), kind, format: None, organization: None, query: None, token: None };
    let target = TargetConfig {
        url: target.url.clone(),
        token: Some(target.token.clone()),
        organization: organization.to_owned(),
        organization_title: None,
    };
    let mut config = RunConfig::new(source, target, format!("tests/{organization}"));
    config.net.allow_private_networks = true; // the peers are on loopback
    config.validation = ValidationMode::Warn;
    config
}

async fn harvest(config: RunConfig) -> RunReport {
    mediana::harvest::run(config, None).await.expect("the harvest runs")
}

#[tokio::test]
async fn dcat_ap_it_fixtures_land_in_a_real_ckan_and_a_reharvest_writes_nothing() {
    let target = ckan(1);
    let files = common::Files::default();
    let base = files.serve();
    for (file, expected) in [("catalog_dati_unibo.rdf", 12), ("dataset.rdf", 1), ("dataset_it_esempio_6.rdf", 2)] {
        files.put(&format!("/{file}"), "application/rdf+xml", fixture(file));
        let organization = common::unique_name("dcat");
        let url = format!("{base}/{file}");
        let first = harvest(config(&url, SourceType::Dcat, &target, &organization)).await;
        assert_eq!(first.result, RunResult::Succeeded, "{file}: {} {:?}", first.message, first.errors);
        assert_eq!((first.counts.found, first.counts.created), (expected, expected), "{file}: {}", first.message);

        let stored = target.datasets_of(&organization);
        assert_eq!(stored.len() as i64, expected, "{file}: what the target's API returns");
        for dataset in &stored {
            assert!(extra(dataset, "identifier").is_some_and(|id| !id.is_empty()), "{file}: identifier kept");
            assert_eq!(extra(dataset, "mediana_harvest_source"), Some(url.as_str()), "{file}: provenance");
            assert_eq!(dataset["organization"]["name"], organization.as_str());
        }
        let modified: Vec<Value> = stored.iter().map(|d| d["metadata_modified"].clone()).collect();

        let again = harvest(config(&url, SourceType::Dcat, &target, &organization)).await;
        assert_eq!(
            (again.counts.created, again.counts.updated, again.counts.unchanged),
            (0, 0, expected),
            "{file}: a re-harvest of unchanged datasets writes nothing"
        );
        let after: Vec<Value> =
            target.datasets_of(&organization).iter().map(|d| d["metadata_modified"].clone()).collect();
        assert_eq!(modified, after, "{file}: no dataset was touched");
    }
}

/// Each validation mode in a real run: Enforce (the CRD default) writes the valid dataset
/// and reports the one whose theme is not in the EU vocabulary; Warn writes both and reports
/// it; Off checks nothing, writes both, and gives no DCAT-AP compliance points.
#[tokio::test]
async fn enforce_warn_and_off_each_write_what_they_promise() {
    let target = ckan(1);
    let files = common::Files::default();
    let base = files.serve();
    let ttl = include_str!("fixtures/chain/tolentino.ttl");
    files.put("/tolentino.ttl", "text/turtle", ttl.as_bytes().to_vec());
    let url = format!("{base}/tolentino.ttl");
    let mut reports = Vec::new();
    for (mode, written, invalid) in
        [(ValidationMode::Enforce, 1, 1), (ValidationMode::Warn, 2, 1), (ValidationMode::Off, 2, 0)]
    {
        let organization = common::unique_name("mode");
        let mut config = config(&url, SourceType::Dcat, &target, &organization);
        config.validation = mode;
        let report = harvest(config).await;
        assert_eq!(
            (report.counts.found, report.counts.created, report.counts.invalid),
            (2, written, invalid),
            "{mode:?}: {} {:?}",
            report.message,
            report.errors
        );
        let stored: Vec<String> = target
            .datasets_of(&organization)
            .iter()
            .filter_map(|d| extra(d, "identifier").map(str::to_owned))
            .collect();
        assert_eq!(stored.len() as i64, written, "{mode:?}: the target holds {stored:?}");
        assert!(stored.contains(&"c_l191:parcheggi".to_owned()), "{mode:?}: {stored:?}");
        if mode == ValidationMode::Enforce {
            assert!(report.errors.iter().any(|e| e.reason.contains("CULTURA")), "{:?}", report.errors);
        }
        reports.push(report);
    }
    let (warn, off) = (reports[1].mean_quality.unwrap_or(0.0), reports[2].mean_quality.unwrap_or(0.0));
    // Warn gives the 30 compliance points to the one valid dataset of two; Off to none.
    assert!((warn - off - 15.0).abs() < 0.01, "mean score under Warn {warn}, under Off {off}");
}

/// A DCAT-AP_IT catalogue of `n` small datasets in Turtle.
fn catalogue(ids: &[u32]) -> String {
    let mut ttl = String::from(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n\
         @prefix dcatapit: <http://dati.gov.it/onto/dcatapit#> .\n@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n\
         <http://example.it/catalog> a dcat:Catalog ; dct:title \"Catalogo di prova\"@it .\n",
    );
    for id in ids {
        ttl.push_str(&format!(
            "<http://example.it/dataset/{id}> a dcat:Dataset, dcatapit:Dataset ;\n  dct:identifier \"c_e783:{id}\" ;\n  \
             dct:title \"Dataset {id}\"@it ;\n  dct:description \"Descrizione del dataset {id}\"@it ;\n  \
             dct:modified \"2026-01-0{}\"^^<http://www.w3.org/2001/XMLSchema#date> ;\n  \
             dcat:theme <http://publications.europa.eu/resource/authority/data-theme/GOVE> ;\n  \
             dct:publisher [ a dcatapit:Agent, foaf:Agent ; dct:identifier \"c_e783\" ; foaf:name \"Comune di Macerata\" ] .\n",
            id % 9 + 1
        ));
    }
    ttl
}

#[tokio::test]
async fn datasets_removed_at_the_source_are_kept_or_deleted_and_the_guard_holds() {
    let target = ckan(1);
    let files = common::Files::default();
    let base = files.serve();
    let url = format!("{base}/catalog.ttl");
    let all: Vec<u32> = (1..=10).collect();

    for policy in [RemovedDatasetPolicy::Keep, RemovedDatasetPolicy::Delete] {
        let organization = common::unique_name("removal");
        let run = |ids: &[u32]| {
            files.put("/catalog.ttl", "text/turtle", catalogue(ids));
            let mut config = config(&url, SourceType::Dcat, &target, &organization);
            config.removed_datasets = policy;
            config
        };
        let first = harvest(run(&all)).await;
        assert_eq!(first.counts.created, 10, "{}", first.message);

        // One of ten gone (10%, under the default 20% guard).
        let second = harvest(run(&all[1..])).await;
        let remaining = target.datasets_of(&organization).len();
        match policy {
            RemovedDatasetPolicy::Keep => {
                assert_eq!((second.counts.deleted, remaining), (0, 10), "Keep keeps it: {}", second.message)
            }
            RemovedDatasetPolicy::Delete => {
                assert_eq!((second.counts.deleted, remaining), (1, 9), "Delete deletes it: {}", second.message)
            }
        }
        if policy == RemovedDatasetPolicy::Delete {
            // Half of the rest gone: more than maxDeletePercent, so nothing is deleted.
            let guarded = harvest(run(&all[1..5])).await;
            assert_eq!(guarded.counts.deleted, 0, "{}", guarded.message);
            assert!(guarded.message.contains("maxDeletePercent"), "the run says why: {}", guarded.message);
            assert_eq!(target.datasets_of(&organization).len(), 9);

            // The deleted dataset comes back at the source: CKAN's package_create brings the
            // deleted one of the same name back.
            let back = harvest(run(&all)).await;
            assert_eq!((back.counts.created, back.counts.failed), (1, 0), "{} {:?}", back.message, back.errors);
            assert_eq!(target.datasets_of(&organization).len(), 10);
        }
    }
}

/// A create repeated after its answer was lost (netguard retries it), or sent while the
/// search index did not show the dataset yet, finds the job's own dataset under the name and
/// counts it as created; a name held by another job's dataset (names are made per job, so only
/// a dataset created by hand or by another tool) is refused (CKAN's 409) and left as it was.
#[tokio::test]
async fn a_repeated_create_is_the_jobs_own_and_another_jobs_dataset_is_never_overwritten() {
    use mediana::harvest::sink::{CkanSink, Write};
    let target = ckan(1);
    let organization = common::unique_name("claimed");
    let config = config("http://127.0.0.1:9/unused", SourceType::Dcat, &target, &organization);
    let sink_of = |job: &str| {
        let client = mediana::harvest::target_client(&config).expect("client");
        CkanSink::new(client, organization.clone(), job.to_owned(), false)
    };
    let package = |job: &str, hash: &str| {
        json!({
            "name": format!("{organization}-uno"), "title": "Uno", "owner_org": organization,
            "extras": [{"key": "mediana_harvest_job", "value": job}, {"key": "mediana_content_hash", "value": hash}],
        })
    };
    let ours = sink_of("tests/ours");
    ours.ensure_organization(None).await.expect("organization");
    assert_eq!(ours.write(&package("tests/ours", "h1"), None).await.expect("create"), Write::Created);
    let again = ours.write(&package("tests/ours", "h2"), None).await.expect("the repeat is the job's own");
    assert_eq!(again, Write::Created);
    let stored = target.action("package_show", json!({"id": format!("{organization}-uno")}));
    assert_eq!(extra(&stored, "mediana_content_hash"), Some("h2"), "brought up to date");

    let theirs = sink_of("tests/theirs");
    let refused = theirs.write(&package("tests/theirs", "h3"), None).await.expect_err("another job's name");
    assert!(refused.to_string().contains("409"), "{refused}");
    let stored = target.action("package_show", json!({"id": format!("{organization}-uno")}));
    assert_eq!(extra(&stored, "mediana_harvest_job"), Some("tests/ours"), "left as it was");
    assert_eq!(extra(&stored, "mediana_content_hash"), Some("h2"));
}

/// A gather that breaks half-way (a page of a paged catalogue fails) deletes nothing, even
/// under the Delete policy: what was not read is not gone.
#[tokio::test]
async fn an_incomplete_gather_deletes_nothing() {
    let target = ckan(1);
    let files = common::Files::default();
    let base = files.serve();
    let page = |ids: &[u32], next: bool| {
        let mut ttl = catalogue(ids);
        if next {
            ttl.push_str(&format!(
                "@prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n<{base}/catalog.ttl> a hydra:PagedCollection ;\n  \
                 hydra:nextPage \"{base}/catalog.ttl?page=2\" ; hydra:totalItems 10 ; hydra:itemsPerPage 5 .\n"
            ));
        }
        ttl
    };
    let organization = common::unique_name("paged");
    let run = || {
        let mut config = config(&format!("{base}/catalog.ttl"), SourceType::Dcat, &target, &organization);
        config.removed_datasets = RemovedDatasetPolicy::Delete;
        config
    };
    files.put("/catalog.ttl", "text/turtle", page(&[1, 2, 3, 4, 5], true));
    files.put("/catalog.ttl?page=2", "text/turtle", page(&[6, 7, 8, 9, 10], false));
    let first = harvest(run()).await;
    assert_eq!((first.counts.found, first.counts.created), (10, 10), "both pages read: {}", first.message);

    // Dataset 5 is gone from page 1, and page 2 now fails.
    files.put("/catalog.ttl", "text/turtle", page(&[1, 2, 3, 4], true));
    files.put("/catalog.ttl?page=2", "text/plain", "Internal Server Error".as_bytes().to_vec());
    let broken = mediana::harvest::run(run(), None).await;
    let deleted = broken.as_ref().map(|r| r.counts.deleted).unwrap_or(0);
    assert_eq!(deleted, 0, "an incomplete gather deletes nothing: {broken:?}");
    assert!(broken.as_ref().map_or(true, |r| r.result != RunResult::Succeeded), "the run is not a success: {broken:?}");
    assert_eq!(target.datasets_of(&organization).len(), 10, "every dataset is still there");
}

/// A dry run reports what it would write, and writes nothing.
#[tokio::test]
async fn a_dry_run_previews_without_writing() {
    let target = ckan(1);
    let files = common::Files::default();
    let url = format!("{}/catalog.ttl", files.serve());
    files.put("/catalog.ttl", "text/turtle", catalogue(&[1, 2, 3]));
    let organization = common::unique_name("dry");
    let mut config = config(&url, SourceType::Dcat, &target, &organization);
    config.dry_run = true;
    let report = harvest(config).await;
    assert_eq!((report.result, report.counts.created), (RunResult::Succeeded, 3), "{}", report.message);
    let run = report.to_harvest_run(None);
    assert!(run.dry_run);
    assert_eq!(run.preview.map(|p| p.create.len()), Some(3), "the status lists what would be created");
    let search = target.action("package_search", json!({"fq": format!("organization:{organization}")}));
    assert_eq!(search["count"], 0, "nothing was written");
    let organizations = target.action("organization_list", json!({}));
    assert!(!organizations.as_array().is_some_and(|o| o.iter().any(|n| n == organization.as_str())));
}

#[tokio::test]
async fn a_second_real_ckan_is_harvested_through_its_action_api() {
    let (source, target) = (ckan(2), ckan(1));
    let source_org = common::unique_name("src");
    source.action("organization_create", json!({"name": source_org}));
    for i in 0..3 {
        source.action(
            "package_create",
            json!({
                "name": format!("{source_org}-ds-{i}"), "title": format!("Dataset {i}"), "owner_org": source_org,
                "notes": "Orari del trasporto pubblico", "license_id": "cc-by",
                "extras": [{"key": "identifier", "value": format!("c_e783:{source_org}-{i}")}],
                "resources": [{"url": format!("http://example.it/{i}.csv"), "format": "CSV"}]
            }),
        );
    }
    // Not a dataset: CKAN sources also hold showcases and harvest sources.
    source.action(
        "package_create",
        json!({"name": format!("{source_org}-showcase"), "type": "showcase", "owner_org": source_org}),
    );

    let target_org = common::unique_name("dst");
    let mut config = config(&source.url, SourceType::Ckan, &target, &target_org);
    config.source.organization = Some(source_org.clone());
    let report = harvest(config.clone()).await;
    assert_eq!((report.counts.found, report.counts.created), (3, 3), "{}", report.message);
    let stored = target.datasets_of(&target_org);
    let mut titles: Vec<&str> = stored.iter().filter_map(|d| d["title"].as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["Dataset 0", "Dataset 1", "Dataset 2"]);
    assert!(stored.iter().all(|d| d["num_resources"] == 1), "resources travel with the dataset");
    let again = harvest(config).await;
    assert_eq!((again.counts.created, again.counts.updated, again.counts.unchanged), (0, 0, 3));
}

#[tokio::test]
async fn a_dcat_ap_it_portal_keeps_harvested_fields_and_serves_them_as_valid_dcat_ap_it() {
    // Instance 3 runs ckanext-mediana, as a CatalogNode does (MEDIANA_CKAN_DCATAPIT).
    let target = ckan(3);
    let files = common::Files::default();
    let base = files.serve();
    files.put("/catalog_dati_unibo.rdf", "application/rdf+xml", fixture("catalog_dati_unibo.rdf"));
    let organization = common::unique_name("dcatapit");
    let url = format!("{base}/catalog_dati_unibo.rdf");
    let first = harvest(config(&url, SourceType::Dcat, &target, &organization)).await;
    assert_eq!(first.result, RunResult::Succeeded, "{} {:?}", first.message, first.errors);
    assert_eq!((first.counts.found, first.counts.created), (12, 12), "{}", first.message);

    // The DCAT-AP_IT fields are dataset fields of the schema, not extras.
    for dataset in target.datasets_of(&organization) {
        assert!(dataset["holder_identifier"].as_str().is_some_and(|id| !id.is_empty()), "holder: {dataset}");
        assert!(dataset["themes_aggregate"].as_str().is_some_and(|t| t.contains("\"theme\"")), "themes: {dataset}");
        assert!(extra(&dataset, "holder_identifier").is_none(), "not an extra: {dataset}");
        assert_eq!(extra(&dataset, "mediana_harvest_source"), Some(url.as_str()), "provenance stays an extra");
    }
    let again = harvest(config(&url, SourceType::Dcat, &target, &organization)).await;
    assert_eq!((again.counts.created, again.counts.updated, again.counts.unchanged), (0, 0, 12), "{}", again.message);

    // What the portal serves is DCAT-AP_IT that mediana's validator passes with no error.
    let catalogue = std::process::Command::new("curl")
        .args(["-fsS", &format!("{}/catalog.ttl?q=organization:{organization}", target.url)])
        .output()
        .expect("run curl");
    assert!(catalogue.status.success(), "{}", String::from_utf8_lossy(&catalogue.stderr));
    let report = mediana::harvest::check::check(catalogue.stdout.as_slice(), None, "catalog.ttl").expect("parses");
    assert_eq!(report.datasets.len(), 12, "{report}");
    assert!(report.is_valid(), "{report}");
}

/// A high-value dataset keeps its HVD properties through a DCAT-AP_IT portal: harvested into
/// it (the fields of the schema), served by its /catalog.ttl (the profile writes them), and
/// harvested from there in Enforce mode, which refuses an HVD dataset whose distribution does
/// not name the regulation. So a region passes HVD on to the nation.
#[tokio::test]
async fn a_high_value_dataset_keeps_its_hvd_properties_through_a_portal() {
    let target = ckan(3);
    let files = common::Files::default();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/hvd/macerata-mobilita.ttl");
    files.put("/mobilita.ttl", "text/turtle", std::fs::read(&fixture).expect("read the HVD fixture"));
    let municipality = common::unique_name("hvd");
    let mut first = config(&format!("{}/mobilita.ttl", files.serve()), SourceType::Dcat, &target, &municipality);
    first.validation = ValidationMode::Enforce;
    let first = harvest(first).await;
    assert_eq!((first.counts.created, first.counts.high_value), (1, 1), "{} {:?}", first.message, first.errors);
    let stored = &target.datasets_of(&municipality)[0];
    assert_eq!(stored["hvd_category"], r#"["http://data.europa.eu/bna/c_b79e35eb"]"#, "{stored}");

    let region = common::unique_name("hvd-region");
    let served = format!("{}/catalog.ttl?q=organization:{municipality}", target.url);
    let mut second = config(&served, SourceType::Dcat, &target, &region);
    second.validation = ValidationMode::Enforce;
    let second = harvest(second).await;
    assert_eq!(
        (second.counts.created, second.counts.high_value, second.counts.invalid),
        (1, 1, 0),
        "{} {:?}",
        second.message,
        second.errors
    );
    let again = &target.datasets_of(&region)[0];
    assert_eq!(again["hvd_category"], stored["hvd_category"]);
    assert_eq!(again["applicable_legislation"], stored["applicable_legislation"]);
    assert!(
        again["resources"][0]["applicable_legislation"].as_str().is_some_and(|l| l.contains("2023/138")),
        "the distribution names the regulation: {again}"
    );
}
