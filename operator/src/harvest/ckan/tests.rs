use super::*;
use crate::harvest::dcat::tests::fixture;
use crate::netguard::NetConfig;
use crate::netguard::tests::{Reply, ok_json, serve, status};
use std::time::Duration;

fn json_fixture(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).expect("fixture is JSON")
}

#[test]
fn demo_ckan_packages_map_to_datasets() {
    let search = json_fixture("ckan-api/demo-ckan-org-2017/package_search_rows3.json");
    let results = search["result"]["results"].as_array().expect("results");
    assert_eq!(search["result"]["count"], 3);
    let datasets: Vec<Dataset> = results.iter().map(from_package).collect();
    assert_eq!(datasets.len(), 3);
    let first = &datasets[0];
    assert_eq!(first.identifier.as_deref(), Some("62513382-3b26-4bc8-9096-40b6ce8383c0"));
    assert_eq!(crate::harvest::model::best_text(&first.title), Some("100 Validated Species of Plants"));
    assert_eq!(first.keywords.len(), 3);
    assert_eq!(first.distributions.len(), 1);
    assert_eq!(first.modified.as_deref(), Some("2017-08-05T03:19:33.886925"));
    // Plain CKAN: no holder, theme or frequency, which DCAT-AP_IT requires.
    let findings = crate::harvest::validate::validate(first);
    for property in ["dct:rightsHolder", "dcat:theme", "dct:accrualPeriodicity"] {
        assert!(findings.iter().any(|f| f.property == property), "{property}: {findings:#?}");
    }
    for file in [
        "package_show_17be64bb-da74-4195-9bb8-565c39846af2.json",
        "package_show_62513382-3b26-4bc8-9096-40b6ce8383c0.json",
        "package_show_9c3036b8-f6ac-4a4e-9036-5a3cc90c3900.json",
    ] {
        let show = json_fixture(&format!("ckan-api/demo-ckan-org-2017/{file}"));
        let dataset = from_package(&show["result"]);
        assert_eq!(dataset.uri.as_deref(), show["result"]["id"].as_str(), "{file}");
    }
}

#[test]
fn ckanext_dcat_examples_map_scheming_and_legacy_fields() {
    let full = from_package(&json_fixture("ckan-api/ckanext-dcat-examples/ckan_full_dataset_dcat_ap.json"));
    assert_eq!(full.identifier.as_deref(), Some("xx-some-dataset-id-yy"));
    assert_eq!(full.themes.len(), 3);
    assert_eq!(full.temporal.len(), 2);
    assert_eq!(full.temporal[0].start.as_deref(), Some("1905-03-01"));
    assert_eq!(full.alternate_identifiers, ["alt-id-1", "alt-id-2"]);
    assert_eq!(full.conforms_to.len(), 2);
    assert_eq!(full.frequency.as_deref(), Some("http://publications.europa.eu/resource/authority/frequency/MONTHLY"));
    // ckanext-dcat's resource fields for dct:rights, dct:issued and dct:modified.
    let resource = &full.distributions[0];
    assert_eq!(resource.rights.as_deref(), Some("Some stament about rights"));
    assert_eq!(resource.issued.as_deref(), Some("2024-05-01T01:20:33"));
    assert_eq!(resource.modified.as_deref(), Some("2024-05-05T09:33:20"));
    let legacy = from_package(&json_fixture("ckan-api/ckanext-dcat-examples/full_ckan_dataset_legacy.json"));
    assert_eq!(legacy.keywords.len(), 7);
    assert_eq!(legacy.distributions.len(), 1);
    let multilingual = from_package(&json_fixture("ckan-api/ckanext-dcat-examples/ckan_dataset_multilingual.json"));
    assert!(multilingual.title.iter().any(|t| t.lang == "ca"), "{:?}", multilingual.title);
    let plain = from_package(&json_fixture("ckan-api/ckanext-dcat-examples/ckan_dataset.json"));
    assert_eq!(plain.keywords.len(), 7);
}

#[test]
fn dcatapit_fields_in_extras_and_json_text_are_read() {
    let package = json!({
        "id": "x", "type": "dataset", "title": "T",
        "extras": [
            {"key": "identifier", "value": "c_h501:D.1"},
            {"key": "themes_aggregate", "value": "[{\"theme\": \"ECON\", \"subthemes\": [\"http://eurovoc.europa.eu/100\"]}]"},
            {"key": "holder_name", "value": "Comune di Roma"}, {"key": "holder_identifier", "value": "c_h501"},
            {"key": "frequency", "value": "ANNUAL"}, {"key": "language", "value": "{ITA,DEU}"},
            {"key": "temporal_coverage", "value": "[{\"temporal_start\": \"2020-01-01\", \"temporal_end\": null}]"}
        ],
        "resources": [{"url": "https://x/y.csv", "format": "CSV", "license_type": "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"}]
    });
    let d = from_package(&package);
    assert_eq!(d.identifier.as_deref(), Some("c_h501:D.1"));
    assert_eq!(d.themes, [format!("{}ECON", vocab::THEME_BASE)]);
    assert_eq!(d.subthemes, ["http://eurovoc.europa.eu/100"]);
    assert_eq!(d.rights_holder.as_ref().and_then(|a| a.identifier.as_deref()), Some("c_h501"));
    assert_eq!(d.languages, [format!("{}ITA", vocab::LANGUAGE_BASE), format!("{}DEU", vocab::LANGUAGE_BASE)]);
    assert_eq!(d.temporal[0].start.as_deref(), Some("2020-01-01"));
    assert_eq!(
        d.distributions[0].format.as_deref(),
        Some("http://publications.europa.eu/resource/authority/file-type/CSV")
    );
}

#[test]
fn a_licence_of_ckans_register_is_named_by_its_agid_uri() {
    // What CKAN's API says of a dataset whose form chose "Creative Commons Attribution".
    let package = json!({
        "id": "x", "type": "dataset", "title": "T", "license_id": "cc-by",
        "license_url": "http://www.opendefinition.org/licenses/cc-by",
        "resources": [{"url": "https://x/y.csv", "format": "CSV"},
                      {"url": "https://x/y.json", "format": "JSON", "license_type": "https://creativecommons.org/licenses/by/4.0/"}]
    });
    let licences: Vec<Option<String>> =
        from_package(&package).distributions.iter().map(|d| d.license.as_ref().and_then(|l| l.uri.clone())).collect();
    let agid = format!("{}A21_CCBY40", vocab::LICENCE_BASE);
    assert_eq!(licences, [Some(agid), Some("https://creativecommons.org/licenses/by/4.0/".to_owned())]);
    // A licence outside the register keeps its URL.
    let other = json!({"id": "y", "type": "dataset", "license_id": "iodl-2", "license_url": "https://www.dati.gov.it/iodl/2.0/",
        "resources": [{"url": "https://x/z.csv", "format": "CSV"}]});
    let uri = from_package(&other).distributions[0].license.as_ref().and_then(|l| l.uri.clone());
    assert_eq!(uri.as_deref(), Some("https://www.dati.gov.it/iodl/2.0/"));
}

#[test]
fn filter_queries_combine_organization_and_query() {
    assert_eq!(
        filter_query(Some("comune-x"), Some("tags:trasporti")),
        "organization:\"comune-x\" AND (tags:trasporti)"
    );
    assert_eq!(filter_query(None, None), "");
}

fn guard() -> NetGuard {
    NetGuard::new(NetConfig {
        allow_private_networks: true,
        retry_base: Duration::from_millis(5),
        ..NetConfig::default()
    })
    .expect("client")
}

fn page(count: usize, ids: &[&str], types: &[&str]) -> String {
    let results: Vec<Value> =
        ids.iter().zip(types).map(|(id, t)| json!({"id": id, "name": id, "type": t, "title": id})).collect();
    json!({"help": "h", "success": true, "result": {"count": count, "results": results}}).to_string()
}

#[tokio::test]
async fn package_search_pages_skip_other_types_and_survive_a_429() {
    let (addr, count) = serve(|_, n| match n {
        0 => status(429, "Retry-After: 0\r\n"),
        1 => ok_json(&page(5, &["a", "b", "s"], &["dataset", "dataset", "showcase"])),
        2 => ok_json(&page(5, &["c", "b"], &["dataset", "dataset"])),
        _ => ok_json(&page(5, &[], &[])),
    })
    .await;
    let client = CkanClient::new(guard(), &format!("http://{addr}"), None).expect("client");
    let (tx, mut rx) = mpsc::channel(16);
    let stats = gather(&client, Some("org"), None, 3, tx).await.expect("gather");
    let mut names = Vec::new();
    while let Some(d) = rx.recv().await {
        names.push(d.identifier.unwrap_or_default());
    }
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(stats.skipped_types, 1);
    assert_eq!(stats.duplicates, 1);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3, "429, then two pages reaching count");
}

#[tokio::test]
async fn ckan_errors_and_bad_envelopes_are_named() {
    let (addr, _) = serve(|line, _| {
        if line.contains("organization_show") {
            let body = r#"{"success": false, "error": {"__type": "Not Found Error", "message": "Not found"}}"#;
            Reply::Full(format!("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()))
        } else {
            ok_json(r#"{"unexpected": true}"#)
        }
    })
    .await;
    let client = CkanClient::new(guard(), &format!("http://{addr}/"), Some("token".into())).expect("client");
    let err = client.action("organization_show", &json!({"id": "x"})).await.expect_err("404");
    assert!(err.is_not_found(), "{err}");
    let err = client.action("package_search", &json!({})).await.expect_err("shape");
    assert!(matches!(err, CkanError::Shape { .. }), "{err}");
}
