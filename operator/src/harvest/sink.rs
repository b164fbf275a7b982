//! The CKAN sink: writes packages to any CKAN (base URL + API token), touching only
//! datasets this job created (found by the provenance extra) and only when their content
//! hash changed, so a re-harvest makes zero writes.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::ckan::{CkanClient, CkanError};
use super::package::{EXTRA_HASH, EXTRA_JOB, EXTRA_KEY, extra};

/// A dataset this job wrote earlier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Existing {
    /// Its key at the source.
    pub key: String,
    /// The content hash written with it.
    pub hash: String,
}

/// What a write did (or, in a dry run, would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// A new dataset.
    Created,
    /// The content hash changed.
    Updated,
    /// Same hash: nothing sent.
    Unchanged,
}

/// The CKAN target of a job.
#[derive(Clone, Debug)]
pub struct CkanSink {
    client: CkanClient,
    organization: String,
    job: String,
    dry_run: bool,
    /// Whether the target keeps DCAT-AP_IT fields as dataset fields (ckanext-dcatapit's
    /// schema); a stock CKAN drops unknown fields, so they travel as extras instead.
    dcatapit_schema: bool,
}

/// The dataset fields of CKAN's own schema; any other field needs a schema extension.
const CORE_FIELDS: &[&str] = &[
    "id",
    "name",
    "title",
    "notes",
    "owner_org",
    "url",
    "version",
    "author",
    "author_email",
    "maintainer",
    "maintainer_email",
    "license_id",
    "private",
    "state",
    "type",
    "tags",
    "resources",
    "groups",
    "extras",
];

/// Plugins that give a CKAN the DCAT-AP_IT dataset fields: mediana's own (ckanext-mediana/, what a
/// CatalogNode runs) and ckanext-dcatapit, whose field names it keeps.
const DCATAPIT_PLUGINS: &[&str] = &["mediana_dcatapit", "dcatapit_pkg"];

/// `package` with every field outside CKAN's own schema moved into `extras` (strings as
/// they are, other values as JSON), which is where ckanext-dcat's profiles read them.
pub fn fields_as_extras(package: &Value) -> Value {
    let Some(object) = package.as_object() else { return package.clone() };
    let mut out = serde_json::Map::new();
    let mut extras: Vec<Value> = object.get("extras").and_then(Value::as_array).cloned().unwrap_or_default();
    for (key, value) in object {
        if CORE_FIELDS.contains(&key.as_str()) {
            if key != "extras" {
                out.insert(key.clone(), value.clone());
            }
        } else if !value.is_null() {
            let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
            extras.push(json!({ "key": key, "value": text }));
        }
    }
    out.insert("extras".into(), Value::Array(extras));
    Value::Object(out)
}

impl CkanSink {
    /// A sink writing under `organization` for the job `namespace/name`.
    pub fn new(client: CkanClient, organization: String, job: String, dry_run: bool) -> Self {
        Self { client, organization, job, dry_run, dcatapit_schema: true }
    }

    /// Asks the target which extensions it runs (`status_show`), to send DCAT-AP_IT fields
    /// where it keeps them.
    pub async fn detect_schema(&mut self) -> Result<(), CkanError> {
        let status = self.client.action("status_show", &json!({})).await?;
        let extensions: Vec<&str> =
            status["extensions"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        self.dcatapit_schema = DCATAPIT_PLUGINS.iter().any(|p| extensions.contains(p));
        Ok(())
    }

    /// Creates the organization when it is missing (not in a dry run); whether it was missing.
    pub async fn ensure_organization(&self, title: Option<&str>) -> Result<bool, CkanError> {
        if self.organization_exists().await? {
            return Ok(false);
        }
        if self.dry_run {
            return Ok(true);
        }
        let body = json!({ "name": self.organization, "title": title.unwrap_or(&self.organization) });
        match self.client.action("organization_create", &body).await {
            Ok(_) => Ok(true),
            // Created meanwhile, by another job's run or by this call before its answer was lost.
            Err(refused @ CkanError::Api { status: 409, .. }) => {
                if self.organization_exists().await? {
                    Ok(true)
                } else {
                    Err(refused)
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn organization_exists(&self) -> Result<bool, CkanError> {
        let body = json!({ "id": self.organization, "include_datasets": false });
        match self.client.action("organization_show", &body).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The datasets this job created, by CKAN name (Solr indexes extras as `extras_<key>`).
    pub async fn existing(&self) -> Result<HashMap<String, Existing>, CkanError> {
        let mut found = HashMap::new();
        let rows = 1000;
        let mut start = 0;
        loop {
            let body = json!({
                "q": "*:*", "fq": format!("extras_{EXTRA_JOB}:\"{}\"", self.job.replace('"', "\\\"")),
                "rows": rows, "start": start, "sort": "name asc", "include_private": true,
            });
            let result = self.client.action("package_search", &body).await?;
            let results = result["results"].as_array().cloned().unwrap_or_default();
            for package in &results {
                // Solr matched the job; check the extra exactly (tokenized fields match loosely).
                if extra(package, EXTRA_JOB) != Some(self.job.as_str()) {
                    continue;
                }
                if let Some(name) = package["name"].as_str() {
                    let existing = Existing {
                        key: extra(package, EXTRA_KEY).unwrap_or_default().to_owned(),
                        hash: extra(package, EXTRA_HASH).unwrap_or_default().to_owned(),
                    };
                    found.insert(name.to_owned(), existing);
                }
            }
            start += results.len();
            if results.is_empty() || start as u64 >= result["count"].as_u64().unwrap_or(0) {
                break;
            }
        }
        Ok(found)
    }

    /// Creates or updates a package, unless its hash is the one already written.
    pub async fn write(&self, package: &Value, existing: Option<&Existing>) -> Result<Write, CkanError> {
        let hash = extra(package, EXTRA_HASH).unwrap_or_default();
        let outcome = match existing {
            Some(e) if e.hash == hash => return Ok(Write::Unchanged),
            Some(_) => Write::Updated,
            None => Write::Created,
        };
        if self.dry_run {
            return Ok(outcome);
        }
        let converted;
        let package = if self.dcatapit_schema {
            package
        } else {
            converted = fields_as_extras(package);
            &converted
        };
        if outcome == Write::Updated {
            self.update(package).await?;
            return Ok(outcome);
        }
        match self.client.action("package_create", package).await {
            Ok(_) => Ok(Write::Created),
            Err(refused @ CkanError::Api { status: 409, .. }) => self.created_already(package, hash, refused).await,
            Err(e) => Err(e),
        }
    }

    /// After a create refused with 409: a name this job holds already is the job's own
    /// dataset, brought up to date. That happens when a create is repeated after a lost
    /// answer, and when the search index has not shown a new dataset yet. A name held by a
    /// dataset this job did not create, or any other refusal, is reported, never
    /// overwritten. (A deleted dataset holds no name: CKAN's package_create reuses it.)
    async fn created_already(&self, package: &Value, hash: &str, refused: CkanError) -> Result<Write, CkanError> {
        let Some(name) = package["name"].as_str() else { return Err(refused) };
        let held = match self.client.action("package_show", &json!({ "id": name })).await {
            Ok(held) => held,
            Err(e) if e.is_not_found() => return Err(refused),
            Err(e) => return Err(e),
        };
        if extra(&held, EXTRA_JOB) != Some(self.job.as_str()) {
            return Err(refused);
        }
        if extra(&held, EXTRA_HASH) != Some(hash) {
            self.update(package).await?;
        }
        Ok(Write::Created)
    }

    /// Overwrites the job's dataset of the same name.
    async fn update(&self, package: &Value) -> Result<(), CkanError> {
        let mut body = package.clone();
        if let (Some(object), Some(name)) = (body.as_object_mut(), package["name"].as_str()) {
            object.insert("id".into(), json!(name));
        }
        self.client.action("package_update", &body).await.map(drop)
    }

    /// Deletes (soft, `state=deleted`) a dataset of this job.
    pub async fn delete(&self, name: &str) -> Result<(), CkanError> {
        if !self.dry_run {
            self.client.action("package_delete", &json!({ "id": name })).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    #[test]
    fn dcatapit_fields_travel_as_extras_to_a_stock_ckan() {
        let package = json!({
            "name": "ds", "title": "T", "identifier": "c_e783:1", "theme": ["GOVE"], "frequency": null,
            "extras": [{"key": "mediana_harvest_job", "value": "ns/job"}]
        });
        let flat = fields_as_extras(&package);
        assert_eq!(flat["name"], "ds");
        assert!(flat.get("identifier").is_none() && flat.get("theme").is_none());
        assert_eq!(
            flat["extras"],
            json!([
                {"key": "mediana_harvest_job", "value": "ns/job"},
                {"key": "identifier", "value": "c_e783:1"},
                {"key": "theme", "value": "[\"GOVE\"]"}
            ])
        );
    }
}
