//! The API server itself enforces the mediana schemas: the CRDs install, every example is
//! accepted, and invalid objects are refused with a message that names the field at fault.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn catalog_node() -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1",
        "kind": "CatalogNode",
        "metadata": {"name": "regione", "namespace": "admission"},
        "spec": {
            "hostname": "dati.regione.marche.it",
            "publisher": {"ipaCode": "r_marche", "name": "Regione Marche"},
            "ingress": {"tls": {"certManager": {"issuer": "letsencrypt"}}},
            "backup": {"schedule": "30 2 * * *", "timeZone": "Europe/Rome", "retention": 14}
        }
    })
}

fn harvest_job() -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1",
        "kind": "HarvestJob",
        "metadata": {"name": "macerata", "namespace": "admission"},
        "spec": {
            "target": {"catalogNode": "regione"},
            "source": {"type": "ckan", "url": "https://dati.comune.macerata.it", "organization": "comune-di-macerata"},
            "schedule": "0 3 * * MON-FRI",
            "timeZone": "Europe/Rome",
            "publisher": {"organization": "comune-di-macerata", "ipaCode": "c_e783", "name": "Comune di Macerata"}
        }
    })
}

fn reusable_solution() -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1",
        "kind": "ReusableSolution",
        "metadata": {"name": "segnalazioni", "namespace": "admission"},
        "spec": {
            "publiccode": {"url": "https://raw.githubusercontent.com/example/app/main/publiccode.yml"},
            "administration": {"ipaCode": "c_e783"},
            "dataClassification": "Ordinary",
            "components": [
                {"name": "web", "image": "registry.example.it/app/web:1.2.3", "ports": [{"name": "http", "containerPort": 8080}]}
            ],
            "exposure": {"component": "web", "port": "http", "host": "segnalazioni.comune.macerata.it"}
        }
    })
}

fn cloud_target() -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1",
        "kind": "CloudTarget",
        "metadata": {"name": "admission-psn"},
        "spec": {"provider": "Polo Strategico Nazionale", "qualification": "QC3", "psn": true}
    })
}

/// A copy of `base` with the value at a JSON pointer replaced (or removed when `None`).
fn with(base: Value, pointer: &str, value: Option<Value>) -> Value {
    let mut doc = base;
    let (parent, key) = pointer.rsplit_once('/').expect("pointer has a parent");
    let target = doc.pointer_mut(parent).unwrap_or_else(|| panic!("{parent} exists in the base manifest"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().expect("array index")] = v,
        (other, _) => panic!("cannot edit {pointer} in {other}"),
    }
    doc
}

fn set(base: Value, pointer: &str, value: Value) -> Value {
    with(base, pointer, Some(value))
}

fn unset(base: Value, pointer: &str) -> Value {
    with(base, pointer, None)
}

/// Each case: what is wrong, the manifest, and what the refusal must say (the field path).
fn invalid_cases() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("CatalogNode without hostname", unset(catalog_node(), "/spec/hostname"), "spec.hostname: Required value"),
        (
            "hostname that is not a DNS name",
            set(catalog_node(), "/spec/hostname", json!("Dati Regione")),
            "spec.hostname",
        ),
        (
            "IPA code with illegal characters",
            set(catalog_node(), "/spec/publisher/ipaCode", json!("r-marche!")),
            "spec.publisher.ipaCode",
        ),
        ("zero web replicas", set(catalog_node(), "/spec/replicas", json!(0)), "spec.replicas"),
        ("negative web replicas", set(catalog_node(), "/spec/replicas", json!(-1)), "spec.replicas"),
        (
            "both managed and external database",
            set(
                catalog_node(),
                "/spec/database",
                json!({"managed": {}, "external": {"urlSecretRef": {"name": "db", "key": "url"}}}),
            ),
            "database.managed and database.external are mutually exclusive",
        ),
        (
            "a PostgreSQL version mediana builds no image of, without an image",
            set(catalog_node(), "/spec/database", json!({"managed": {"version": 16}})),
            "spec.database.managed: Invalid value: mediana builds a PostgreSQL image for version 15 only",
        ),
        (
            "TLS with neither secret nor issuer",
            set(catalog_node(), "/spec/ingress/tls", json!({})),
            "tls needs exactly one of secretName and certManager",
        ),
        (
            "TLS with both secret and issuer",
            set(catalog_node(), "/spec/ingress/tls", json!({"secretName": "tls", "certManager": {"issuer": "le"}})),
            "tls needs exactly one of secretName and certManager",
        ),
        (
            "unknown deletion policy",
            set(catalog_node(), "/spec/deletionPolicy", json!("Purge")),
            "spec.deletionPolicy: Unsupported value",
        ),
        ("misspelt field", set(catalog_node(), "/spec/hostnmae", json!("x.it")), "unknown field \"spec.hostnmae\""),
        (
            "backup schedule in words",
            set(catalog_node(), "/spec/backup/schedule", json!("every night")),
            "spec.backup.schedule",
        ),
        (
            "backup schedule minute 61",
            set(catalog_node(), "/spec/backup/schedule", json!("61 2 * * *")),
            "spec.backup.schedule",
        ),
        ("CKAN version 'latest'", set(catalog_node(), "/spec/version", json!("latest")), "spec.version"),
        ("image reference with spaces", set(catalog_node(), "/spec/image", json!("ckan ckan:2.11")), "spec.image"),
        (
            "storage size that is not a quantity",
            set(catalog_node(), "/spec/storage", json!({"size": "lots"})),
            "spec.storage.size",
        ),
        (
            "default locale not offered",
            set(catalog_node(), "/spec/locale", json!({"default": "es", "offered": ["it", "en"]})),
            "locale.default must be one of locale.offered",
        ),
        (
            "source type ftp",
            set(harvest_job(), "/spec/source/type", json!("ftp")),
            "spec.source.type: Unsupported value",
        ),
        (
            "source URL not http(s)",
            set(harvest_job(), "/spec/source/url", json!("ftp://dati.comune.macerata.it")),
            "spec.source.url",
        ),
        (
            "harvest schedule with six fields",
            set(harvest_job(), "/spec/schedule", json!("0 0 3 * * *")),
            "spec.schedule",
        ),
        ("time zone without schedule", unset(harvest_job(), "/spec/schedule"), "timeZone requires a schedule"),
        (
            "RDF format on a CKAN source",
            set(harvest_job(), "/spec/source/format", json!("Turtle")),
            "source.format applies only to type dcat",
        ),
        (
            "organization filter on a DCAT source",
            set(harvest_job(), "/spec/source/type", json!("dcat")),
            "source.organization and source.query apply only to type ckan",
        ),
        ("delete share above 100%", set(harvest_job(), "/spec/maxDeletePercent", json!(150)), "spec.maxDeletePercent"),
        (
            "unknown validation mode",
            set(harvest_job(), "/spec/validation", json!({"mode": "Strict"})),
            "spec.validation.mode: Unsupported value",
        ),
        ("HarvestJob without publisher", unset(harvest_job(), "/spec/publisher"), "spec.publisher: Required value"),
        (
            "unknown data classification",
            set(reusable_solution(), "/spec/dataClassification", json!("Secret")),
            "spec.dataClassification: Unsupported value",
        ),
        (
            "publiccode from both URL and inline",
            set(reusable_solution(), "/spec/publiccode/inline", json!("publiccodeYmlVersion: '0.4'")),
            "publiccode needs exactly one of url, inline and configMapKeyRef",
        ),
        (
            "publiccode from nowhere",
            set(reusable_solution(), "/spec/publiccode", json!({})),
            "publiccode needs exactly one of url, inline and configMapKeyRef",
        ),
        ("no components", set(reusable_solution(), "/spec/components", json!([])), "spec.components"),
        (
            "negative component replicas",
            set(reusable_solution(), "/spec/components/0/replicas", json!(-2)),
            "spec.components[0].replicas",
        ),
        (
            "exposure of an unknown component",
            set(reusable_solution(), "/spec/exposure/component", json!("api")),
            "exposure.component must name one of spec.components",
        ),
        (
            "a component named like the managed database",
            set(set(reusable_solution(), "/spec/database", json!({})), "/spec/components/0/name", json!("postgres")),
            "the component name postgres is taken by the managed database",
        ),
        (
            "backups without a managed database",
            set(
                reusable_solution(),
                "/spec/backup",
                json!({"schedule": "@daily", "objectStore": {"destinationPath": "s3://backups/sito",
                    "endpointURL": "https://s3.example.it", "s3Credentials": {
                        "accessKeyId": {"name": "k", "key": "id"}, "secretAccessKey": {"name": "k", "key": "secret"}}}}),
            ),
            "spec.backup backs up the managed database: it needs spec.database",
        ),
        (
            "two components with one name",
            set(
                reusable_solution(),
                "/spec/components",
                json!([{"name": "web", "image": "a:1"}, {"name": "web", "image": "b:1"}]),
            ),
            "spec.components[1]: Duplicate value",
        ),
        (
            "administration IPA code too long",
            set(reusable_solution(), "/spec/administration/ipaCode", json!("c_e783_e_molto_piu_lungo_del_consentito")),
            "spec.administration.ipaCode",
        ),
        (
            "qualification QC5",
            set(cloud_target(), "/spec/qualification", json!("QC5")),
            "spec.qualification: Unsupported value",
        ),
        ("CloudTarget without provider", unset(cloud_target(), "/spec/provider"), "spec.provider: Required value"),
        (
            "qualification valid until a date written the Italian way",
            set(cloud_target(), "/spec/validUntil", json!("31/07/2027")),
            "spec.validUntil: Invalid value",
        ),
        (
            "an unknown kind of cloud",
            set(cloud_target(), "/spec/deploymentModel", json!("Mainframe")),
            "spec.deploymentModel: Unsupported value",
        ),
        (
            "infrastructure level QI0",
            set(cloud_target(), "/spec/infrastructureLevel", json!("QI0")),
            "spec.infrastructureLevel: Unsupported value",
        ),
    ]
}

#[tokio::test]
async fn valid_objects_are_accepted_and_invalid_ones_refused_naming_the_field() {
    let client = common::client().await;
    common::namespace(&client, "admission").await;
    let discovery = common::discovery(&client).await;

    // Another PostgreSQL version is fine with an image of it.
    let own_postgres =
        set(catalog_node(), "/spec/database", json!({"managed": {"version": 16, "image": "postgres:16"}}));
    for valid in [catalog_node(), own_postgres, harvest_job(), reusable_solution(), cloud_target()] {
        if let Err(err) = common::admit(&client, &discovery, &valid).await {
            panic!("valid {} refused: {err}", valid["kind"]);
        }
    }

    let cases = invalid_cases();
    assert!(cases.len() >= 15, "the issue asks for at least 15 invalid manifests");
    let mut failures = Vec::new();
    for (what, manifest, expected) in &cases {
        match common::admit(&client, &discovery, manifest).await {
            Ok(_) => failures.push(format!("{what}: accepted, but should be refused")),
            Err(kube::Error::Api(status)) => {
                if status.code != 422 && status.code != 400 {
                    failures.push(format!(
                        "{what}: refused with HTTP {} instead of 400/422: {}",
                        status.code, status.message
                    ));
                } else if !status.message.contains(expected) {
                    failures.push(format!("{what}: refusal does not mention `{expected}`: {}", status.message));
                }
            }
            Err(other) => failures.push(format!("{what}: request failed: {other}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} invalid cases misbehaved:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn example_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("reading {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml"))
        .collect();
    files.sort();
    files
}

/// Every example deserializes into the operator's own types, so that what the API server
/// accepts is also what the operator can read.
#[test]
fn examples_parse_into_the_operator_types() {
    use mediana::api::{CatalogNode, CloudTarget, HarvestJob, ReusableSolution};
    let files = example_files();
    assert!(!files.is_empty(), "examples/ is empty");
    let mut kinds = std::collections::BTreeSet::new();
    for file in &files {
        for manifest in common::read_manifests(file) {
            let kind = manifest["kind"].as_str().unwrap_or_default().to_owned();
            let parsed = match kind.as_str() {
                "CatalogNode" => serde_json::from_value::<CatalogNode>(manifest.clone()).map(drop),
                "HarvestJob" => serde_json::from_value::<HarvestJob>(manifest.clone()).map(drop),
                "ReusableSolution" => serde_json::from_value::<ReusableSolution>(manifest.clone()).map(drop),
                "CloudTarget" => serde_json::from_value::<CloudTarget>(manifest.clone()).map(drop),
                _ => Ok(()),
            };
            if let Err(err) = parsed {
                panic!("{} ({kind} {}): {err}", file.display(), manifest["metadata"]["name"]);
            }
            kinds.insert(kind);
        }
    }
    for kind in ["CatalogNode", "HarvestJob", "ReusableSolution", "CloudTarget"] {
        assert!(kinds.contains(kind), "no example of {kind} in examples/");
    }
}

#[tokio::test]
async fn every_example_is_accepted_by_the_api_server() {
    let client = common::client().await;
    let discovery = common::discovery(&client).await;
    for file in example_files() {
        // Namespaces first, so the objects in them can be created in one pass.
        let mut manifests = common::read_manifests(&file);
        manifests.sort_by_key(|m| m["kind"] != "Namespace");
        for manifest in manifests {
            if let Err(err) = common::apply(&client, &discovery, &manifest).await {
                panic!("{}: {} {} refused: {err}", file.display(), manifest["kind"], manifest["metadata"]["name"]);
            }
        }
    }
}
