//! From the dataset model to a CKAN `package_create` dict with the ckanext-dcatapit fields
//! (domain research §1.5), plus the harvest provenance extras that let a later run find the
//! datasets this job wrote and skip the unchanged ones.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::model::{Agent, Dataset, best_text};
use super::vocab;

/// Extra naming the source URL.
pub const EXTRA_SOURCE: &str = "mediana_harvest_source";
/// Extra naming the HarvestJob (`namespace/name`): deletions only touch datasets with it.
pub const EXTRA_JOB: &str = "mediana_harvest_job";
/// Extra holding the content hash: an unchanged dataset is not rewritten.
pub const EXTRA_HASH: &str = "mediana_content_hash";
/// Extra holding the dataset's key at the source.
pub const EXTRA_KEY: &str = "mediana_source_key";

/// Who is harvesting, for the provenance extras and the defaults.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    /// The source URL.
    pub source: String,
    /// The job identity, `namespace/name`.
    pub job: String,
    /// Target organization (CKAN name).
    pub organization: String,
    /// The administration used as publisher and holder when the source names none.
    pub default_agent: Option<Agent>,
}

/// The deterministic CKAN name of a dataset harvested by `job`: a slug of its key and a
/// short hash of job and key, so two keys that slug alike still get two names, a re-harvest
/// finds the same one, and two HarvestJobs bringing the same dataset into one portal (CKAN
/// names are portal-wide) never fight over a name.
pub fn package_name(job: &str, key: &str) -> String {
    let mut slug = String::with_capacity(key.len());
    for c in key.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(80).collect();
    let digest = Sha256::digest(format!("{job}\n{key}").as_bytes());
    let hash = crate::hex(&digest[..4]);
    if slug.is_empty() { format!("dataset-{hash}") } else { format!("{slug}-{hash}") }
}

/// The CKAN tag form of a keyword (alphanumerics, spaces, `-_.`; at most 100 characters).
fn tag(keyword: &str) -> Option<String> {
    let cleaned: String = keyword
        .chars()
        .map(|c| if c.is_alphanumeric() || " -_.".contains(c) { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cleaned: String = cleaned.chars().take(100).collect();
    (cleaned.chars().count() >= 2).then_some(cleaned)
}

/// CKAN's licence id for a licence URI, when CKAN's default register has it.
fn ckan_license_id(uri: &str) -> &'static str {
    let u = uri.to_ascii_lowercase();
    if u.contains("a11_cco10") || u.contains("publicdomain/zero") || u.contains("cc-zero") {
        "cc-zero"
    } else if u.contains("ccbysa") || u.contains("/by-sa/") {
        "cc-by-sa"
    } else if u.contains("ccby") || u.contains("/by/") {
        "cc-by"
    } else if u.contains("odbl") {
        "odc-odbl"
    } else if u.contains("iodl") || u.contains("/licences/a") {
        "other-open"
    } else {
        "notspecified"
    }
}

fn agent_fields(dict: &mut serde_json::Map<String, Value>, prefix: &str, agent: Option<&Agent>) {
    if let Some(agent) = agent {
        if let Some(name) = agent.name.as_deref().filter(|s| !s.trim().is_empty()) {
            dict.insert(format!("{prefix}_name"), json!(name));
        }
        if let Some(id) = agent.identifier.as_deref().filter(|s| !s.trim().is_empty()) {
            dict.insert(format!("{prefix}_identifier"), json!(id));
        }
    }
}

/// The `package_create` dict of a dataset, with provenance extras (content hash included).
pub fn to_package(dataset: &Dataset, provenance: &Provenance) -> Value {
    let key = dataset.label();
    let mut dict = serde_json::Map::new();
    dict.insert("name".into(), json!(package_name(&provenance.job, &key)));
    dict.insert("title".into(), json!(best_text(&dataset.title).unwrap_or(&key)));
    dict.insert("notes".into(), json!(best_text(&dataset.description).unwrap_or_default()));
    dict.insert("owner_org".into(), json!(provenance.organization));
    dict.insert("identifier".into(), json!(key));
    if let Some(url) = &dataset.landing_page {
        dict.insert("url".into(), json!(url));
    }
    if let Some(version) = &dataset.version {
        dict.insert("version".into(), json!(version));
    }
    let tags: Vec<Value> = dataset.keywords.iter().filter_map(|k| tag(k)).map(|name| json!({ "name": name })).collect();
    dict.insert("tags".into(), Value::Array(tags));
    // ckanext-dcatapit 2.x: themes_aggregate (JSON text) carries themes and sub-themes.
    let themes: Vec<&str> =
        dataset.themes.iter().filter(|t| vocab::THEMES.has_uri(t)).map(|t| vocab::code(t, vocab::THEME_BASE)).collect();
    let aggregate: Vec<Value> = themes
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "theme": t, "subthemes": if i == 0 { json!(dataset.subthemes) } else { json!([]) } }))
        .collect();
    dict.insert("themes_aggregate".into(), json!(Value::Array(aggregate).to_string()));
    dict.insert(
        "frequency".into(),
        json!(dataset.frequency.as_deref().map_or("UNKNOWN", |f| vocab::code(f, vocab::FREQUENCY_BASE))),
    );
    if let Some(issued) = &dataset.issued {
        dict.insert("issued".into(), json!(issued.get(..10).unwrap_or(issued)));
    }
    let modified = dataset.modified.as_deref().unwrap_or_default();
    dict.insert("modified".into(), json!(modified.get(..10).unwrap_or(modified)));
    let default = provenance.default_agent.as_ref();
    agent_fields(&mut dict, "publisher", dataset.publisher.as_ref().filter(|a| !a.is_empty()).or(default));
    agent_fields(&mut dict, "holder", dataset.rights_holder.as_ref().filter(|a| !a.is_empty()).or(default));
    let creators: Vec<Value> = dataset
        .creators
        .iter()
        .filter(|a| !a.is_empty())
        .map(|a| json!({ "creator_name": { "it": a.name }, "creator_identifier": a.identifier }))
        .collect();
    if !creators.is_empty() {
        dict.insert("creator".into(), json!(Value::Array(creators).to_string()));
    }
    // Only the languages the portal accepts: a code outside the EU table was a warning, and
    // the portal would refuse the whole dataset for it.
    let codes: Vec<&str> = dataset.languages.iter().filter_map(|l| vocab::language_code(l)).collect();
    if !codes.is_empty() {
        dict.insert("language".into(), json!(format!("{{{}}}", codes.join(","))));
    }
    let periods: Vec<Value> =
        dataset.temporal.iter().map(|p| json!({ "temporal_start": p.start, "temporal_end": p.end })).collect();
    if !periods.is_empty() {
        dict.insert("temporal_coverage".into(), json!(Value::Array(periods).to_string()));
    }
    if let Some(location) = dataset.spatial.first() {
        if let Some(name) = &location.name {
            dict.insert("geographical_name".into(), json!(name));
        }
        if let Some(id) = location.geographical_identifier.as_ref().or(location.uri.as_ref()) {
            dict.insert("geographical_geonames_url".into(), json!(id));
        }
    }
    let standards: Vec<Value> = dataset
        .conforms_to
        .iter()
        .map(|s| json!({ "identifier": s.identifier.as_ref().or(s.uri.as_ref()), "uri": s.uri, "title": { "it": s.title } }))
        .collect();
    if !standards.is_empty() {
        dict.insert("conforms_to".into(), json!(Value::Array(standards).to_string()));
    }
    let alternates: Vec<Value> = dataset
        .alternate_identifiers
        .iter()
        .filter(|a| !a.trim().is_empty())
        .map(|a| json!({ "identifier": a.trim(), "agent": {} }))
        .collect();
    if !alternates.is_empty() {
        dict.insert("alternate_identifier".into(), json!(Value::Array(alternates).to_string()));
    }
    if let Some(cp) = &dataset.contact_point {
        if let Some(name) = &cp.name {
            dict.insert("maintainer".into(), json!(name));
        }
        if let Some(email) = &cp.email {
            dict.insert("maintainer_email".into(), json!(email));
        }
    }
    // DCAT-AP 3's HVD properties, as ckanext-dcat names them, as JSON lists in text fields.
    for (field, uris) in
        [("applicable_legislation", &dataset.applicable_legislation), ("hvd_category", &dataset.hvd_categories)]
    {
        if !uris.is_empty() {
            dict.insert(field.into(), json!(json!(uris).to_string()));
        }
    }
    let licence = dataset.distributions.iter().find_map(|d| d.license.as_ref().and_then(|l| l.uri.clone()));
    dict.insert("license_id".into(), json!(licence.as_deref().map_or("notspecified", ckan_license_id)));
    let resources: Vec<Value> = dataset
        .distributions
        .iter()
        .map(|d| {
            let format = d.format.as_deref().map(|f| vocab::file_type_code(f).unwrap_or_else(|| f.to_owned()));
            json!({
                "name": best_text(&d.title).unwrap_or_else(|| format.as_deref().unwrap_or("resource")),
                "description": best_text(&d.description).unwrap_or_default(),
                "url": d.download_url.as_ref().or(d.access_url.as_ref()).cloned().unwrap_or_default(),
                "access_url": d.access_url,
                "download_url": d.download_url,
                "format": format,
                "distribution_format": format,
                "mimetype": d.media_type,
                "license_type": d.license.as_ref().and_then(|l| l.uri.clone()),
                "size": d.byte_size,
                "last_modified": d.modified,
                "uri": d.uri,
                "applicable_legislation": (!d.applicable_legislation.is_empty())
                    .then(|| json!(d.applicable_legislation).to_string()),
            })
        })
        .map(drop_nulls)
        .collect();
    dict.insert("resources".into(), Value::Array(resources));
    let mut package = Value::Object(dict);
    let hash = content_hash(&package, provenance);
    let extras = json!([
        { "key": EXTRA_SOURCE, "value": provenance.source },
        { "key": EXTRA_JOB, "value": provenance.job },
        { "key": EXTRA_KEY, "value": key },
        { "key": EXTRA_HASH, "value": hash },
    ]);
    if let Some(object) = package.as_object_mut() {
        object.insert("extras".into(), extras);
    }
    package
}

fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

/// SHA-256 of the package dict (serde_json keeps keys sorted, so the text is canonical)
/// and of the job identity: the same content written by another job is another content.
fn content_hash(package: &Value, provenance: &Provenance) -> String {
    let mut hasher = Sha256::new();
    hasher.update(package.to_string().as_bytes());
    hasher.update(provenance.job.as_bytes());
    hasher.update(provenance.source.as_bytes());
    crate::hex(&hasher.finalize())
}

/// The value of an extra in a package dict as CKAN returns it.
pub fn extra<'a>(package: &'a Value, key: &str) -> Option<&'a str> {
    package["extras"].as_array()?.iter().find(|e| e["key"] == key).and_then(|e| e["value"].as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::dcat::tests::{fixture, parse};
    use oxrdfio::RdfFormat;

    fn provenance() -> Provenance {
        Provenance {
            source: "https://dati.example.it/catalog.rdf".into(),
            job: "marche/prato".into(),
            organization: "comune-di-prato".into(),
            default_agent: Some(Agent { name: Some("Regione Marche".into()), identifier: Some("r_marche".into()) }),
        }
    }

    /// A high-value dataset as DCAT-AP 3's HVD profile writes one (its example
    /// `example-ms_dataset_hvd_profile.ttl`, reduced to the HVD properties).
    const HVD_TURTLE: &str = r#"
        @prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
        @prefix dcatap: <http://data.europa.eu/r5r/> .
        <http://example.org/d> a dcat:Dataset ; dct:identifier "r_marche:meteo" ;
            dcatap:applicableLegislation <http://data.europa.eu/eli/reg_impl/2023/138/oj> ;
            dcatap:hvdCategory <http://data.europa.eu/bna/c_164e0bf5> ;
            dcat:distribution <http://example.org/d/csv> .
        <http://example.org/d/csv> a dcat:Distribution ; dcat:accessURL <http://example.org/d.csv> ;
            dcatap:applicableLegislation <http://data.europa.eu/eli/reg_impl/2023/138/oj> .
    "#;

    #[test]
    fn hvd_properties_are_read_written_and_read_back_from_ckan() {
        let (datasets, _) = parse(HVD_TURTLE.as_bytes(), RdfFormat::Turtle).expect("parses");
        let d = &datasets[0];
        assert!(d.is_high_value(), "{d:#?}");
        assert_eq!(d.hvd_categories, ["http://data.europa.eu/bna/c_164e0bf5"]);
        assert_eq!(d.distributions[0].applicable_legislation, [vocab::HVD_REGULATION]);
        let package = to_package(d, &provenance());
        assert_eq!(package["hvd_category"], json!(r#"["http://data.europa.eu/bna/c_164e0bf5"]"#));
        let back = crate::harvest::ckan::from_package(&package);
        assert_eq!(back.applicable_legislation, d.applicable_legislation);
        assert_eq!(back.hvd_categories, d.hvd_categories);
        assert_eq!(back.distributions[0].applicable_legislation, d.distributions[0].applicable_legislation);
        // Not a high-value dataset: no HVD field at all.
        let plain = to_package(&Dataset::default(), &provenance());
        assert!(plain.get("applicable_legislation").is_none() && plain.get("hvd_category").is_none());
    }

    #[test]
    fn names_are_valid_ckan_names_and_stable() {
        let name = package_name("marche/prato", "r_liguri:D.658");
        assert!(name.starts_with("r_liguri-d-658-"), "{name}");
        assert_eq!(name, package_name("marche/prato", "r_liguri:D.658"));
        assert_ne!(package_name("marche/prato", "a:b"), package_name("marche/prato", "a.b"));
        assert_ne!(name, package_name("agid/national", "r_liguri:D.658"), "each job has its own names");
        let long = package_name("j", &"x".repeat(300));
        assert!(long.len() <= 100 && long.len() >= 2);
        assert!(long.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'));
        assert!(package_name("j", "!!!").starts_with("dataset-"));
    }

    #[test]
    fn the_agid_example_maps_to_dcatapit_fields() {
        let (datasets, _) =
            parse(&fixture("dcat-ap-it/examples/dataset_it_esempio_6.rdf"), RdfFormat::RdfXml).expect("parse");
        let package = to_package(&datasets[0], &provenance());
        assert_eq!(package["identifier"], "r_liguri:D.658");
        assert_eq!(package["holder_identifier"], "r_liguri");
        assert_eq!(package["owner_org"], "comune-di-prato");
        assert!(package["themes_aggregate"].as_str().is_some_and(|t| t.contains("\"theme\"")), "{package:#}");
        assert_eq!(extra(&package, EXTRA_JOB), Some("marche/prato"));
        assert_eq!(extra(&package, EXTRA_KEY), Some("r_liguri:D.658"));
        assert_eq!(extra(&package, EXTRA_HASH).map(str::len), Some(64));
        assert_eq!(package["resources"].as_array().map(Vec::len), Some(datasets[0].distributions.len()));
    }

    #[test]
    fn prato_dataset_maps_holder_frequency_dates_and_language() {
        let (datasets, _) =
            parse(&fixture("dcat-ap-it/examples/dataset_identifier.rdf"), RdfFormat::RdfXml).expect("parse");
        let package = to_package(&datasets[0], &provenance());
        assert_eq!(package["holder_identifier"], "c_g999");
        assert_eq!(package["holder_name"], "Comune di Prato");
        assert_eq!(package["publisher_identifier"], "c_g999");
        assert_eq!(package["frequency"], "NEVER");
        assert_eq!(package["issued"], "2015-04-09");
        assert_eq!(package["modified"], "2017-08-21");
        assert_eq!(package["language"], "{ITA}");
        assert_eq!(package["themes_aggregate"], r#"[{"subthemes":[],"theme":"GOVE"}]"#);
        // The empty creator is not written.
        assert!(package.get("creator").is_none());
    }

    #[test]
    fn only_languages_the_portal_accepts_are_written() {
        let mut dataset = Dataset::default();
        let eu = |code: &str| format!("{}{code}", vocab::LANGUAGE_BASE);
        dataset.languages = vec![eu("SLV"), eu("XYZ"), "it".into(), "http://lexvo.org/id/iso639-3/eng".into()];
        assert_eq!(to_package(&dataset, &provenance())["language"], "{SLV,ITA}");
        dataset.languages = vec![eu("XYZ")];
        assert!(to_package(&dataset, &provenance()).get("language").is_none());
        // A CKAN source's locales are read as the EU codes they stand for.
        let package = json!({"id": "x", "language": "{it,XYZ}"});
        let read = crate::harvest::ckan::from_package(&package).languages;
        assert_eq!(read, [eu("ITA"), eu("XYZ")]);
    }

    #[test]
    fn the_hash_changes_with_the_content_only() {
        let (datasets, _) =
            parse(&fixture("dcat-ap-it/examples/dataset_identifier.rdf"), RdfFormat::RdfXml).expect("parse");
        let a = to_package(&datasets[0], &provenance());
        let b = to_package(&datasets[0], &provenance());
        assert_eq!(extra(&a, EXTRA_HASH), extra(&b, EXTRA_HASH));
        let mut changed = datasets[0].clone();
        changed.modified = Some("2020-01-01".into());
        let c = to_package(&changed, &provenance());
        assert_ne!(extra(&a, EXTRA_HASH), extra(&c, EXTRA_HASH));
    }
}
