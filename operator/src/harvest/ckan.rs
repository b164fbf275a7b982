//! CKAN Action API: the client both the CKAN source and the CKAN sink use, the source's
//! `package_search` paging and its mapping from package dicts (CKAN 2.9 to 2.12, plain or
//! with ckanext-dcatapit / ckanext-dcat scheming fields) to the dataset model.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use url::Url;

use super::model::{Agent, ContactPoint, Dataset, Distribution, License, Location, Period, Standard, Text};
use super::vocab;
use crate::netguard::{NetError, NetGuard};

/// Errors of CKAN calls.
#[derive(Debug, thiserror::Error)]
pub enum CkanError {
    /// The base URL does not parse.
    #[error("invalid CKAN base URL {url:?}: {source}")]
    InvalidUrl {
        /// The text given.
        url: String,
        /// The parser's message.
        #[source]
        source: url::ParseError,
    },
    /// Transport, refusal, timeout or a non-JSON error status.
    #[error(transparent)]
    Net(#[from] NetError),
    /// CKAN answered `success: false`.
    #[error("{action}: HTTP {status} {kind}: {message}")]
    Api {
        /// The action called.
        action: String,
        /// HTTP status.
        status: u16,
        /// CKAN's `error.__type` (e.g. `Not Found Error`, `Validation Error`).
        kind: String,
        /// CKAN's message (or the validation errors as JSON).
        message: String,
    },
    /// The answer is not a CKAN envelope of the expected shape.
    #[error("{action}: unexpected response: {detail}")]
    Shape {
        /// The action called.
        action: String,
        /// What was missing.
        detail: String,
    },
    /// Two consecutive pages were identical: the portal ignores `start`.
    #[error("package_search returned the same page twice at start={0}; the source ignores paging")]
    RepeatedPage(usize),
    /// The consumer of the datasets went away.
    #[error("the harvest stopped reading datasets")]
    Stopped,
}

impl CkanError {
    /// A stable category, for metrics and reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "InvalidUrl",
            Self::Net(e) => e.category(),
            Self::Api { .. } => "CkanApi",
            Self::Shape { .. } | Self::RepeatedPage(_) => "CkanResponse",
            Self::Stopped => "Stopped",
        }
    }

    /// Whether CKAN said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
            || matches!(self, Self::Api { kind, .. } if kind == "Not Found Error")
    }
}

/// A CKAN portal's Action API, reached through the network guard.
#[derive(Clone, Debug)]
pub struct CkanClient {
    net: NetGuard,
    api: Url,
    token: Option<String>,
}

impl CkanClient {
    /// A client for the portal at `base` (e.g. `https://dati.comune.example.it`, or with a
    /// path prefix such as `https://www.dati.gov.it/opendata`).
    pub fn new(net: NetGuard, base: &str, token: Option<String>) -> Result<Self, CkanError> {
        let with_slash = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
        let api = Url::parse(&with_slash)
            .and_then(|u| u.join("api/3/action/"))
            .map_err(|source| CkanError::InvalidUrl { url: base.to_owned(), source })?;
        Ok(Self { net, api, token })
    }

    /// Calls an action with a JSON body (POST, which every action accepts) and returns
    /// `result`, or CKAN's error.
    pub async fn action(&self, action: &str, body: &Value) -> Result<Value, CkanError> {
        let url = self.api.join(action).map_err(|source| CkanError::InvalidUrl { url: action.to_owned(), source })?;
        let response = self.net.json(Method::POST, &url, Some(body), self.token.as_deref()).await?;
        let envelope = response.body;
        if envelope["success"].as_bool() == Some(true) {
            return Ok(envelope["result"].clone());
        }
        let error = &envelope["error"];
        if error.is_null() && envelope.get("success").is_none() {
            return Err(CkanError::Shape { action: action.to_owned(), detail: "no `success` field".into() });
        }
        let kind = error["__type"].as_str().unwrap_or("Error").to_owned();
        let message = match &error["message"] {
            Value::String(s) => s.clone(),
            Value::Null => {
                // Validation errors: field → messages, without the type.
                let mut fields = error.clone();
                if let Some(map) = fields.as_object_mut() {
                    map.remove("__type");
                }
                fields.to_string()
            }
            other => other.to_string(),
        };
        Err(CkanError::Api { action: action.to_owned(), status: response.status, kind, message })
    }

    /// Revokes the client's own API token (`api_token_revoke`, which its holder may call):
    /// a token issued for one run. Without a token, nothing to do.
    pub async fn revoke_own_token(&self) -> Result<(), CkanError> {
        let Some(token) = &self.token else { return Ok(()) };
        self.action("api_token_revoke", &serde_json::json!({ "token": token })).await.map(drop)
    }
}

/// Statistics of a CKAN gather.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CkanGatherStats {
    /// `package_search` calls made.
    pub pages: usize,
    /// Datasets sent on.
    pub datasets: usize,
    /// Packages skipped because their type is not `dataset` (showcase, harvest source…).
    pub skipped_types: usize,
    /// Packages seen twice across pages (the index moved while paging) and dropped.
    pub duplicates: usize,
}

/// The `fq` for an organization and an extra filter.
pub fn filter_query(organization: Option<&str>, query: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(org) = organization {
        parts.push(format!("organization:\"{org}\""));
    }
    if let Some(query) = query {
        parts.push(format!("({query})"));
    }
    parts.join(" AND ")
}

/// Pages `package_search` (`rows` per page, `sort=id asc` so pages are stable, public
/// datasets only) and sends each dataset down `datasets`.
pub async fn gather(
    client: &CkanClient,
    organization: Option<&str>,
    query: Option<&str>,
    rows: usize,
    datasets: mpsc::Sender<Dataset>,
) -> Result<CkanGatherStats, CkanError> {
    let mut stats = CkanGatherStats::default();
    let mut seen = HashSet::new();
    let mut previous_first: Option<String> = None;
    let fq = filter_query(organization, query);
    let mut start = 0usize;
    loop {
        let body = json!({
            "q": "*:*", "fq": fq, "rows": rows, "start": start, "sort": "id asc",
            "include_private": false, "include_drafts": false,
        });
        let result = client.action("package_search", &body).await?;
        stats.pages += 1;
        let shape = |detail: &str| CkanError::Shape { action: "package_search".into(), detail: detail.into() };
        let count = result["count"].as_u64().ok_or_else(|| shape("no result.count"))? as usize;
        let results = result["results"].as_array().ok_or_else(|| shape("no result.results list"))?;
        if results.is_empty() {
            break;
        }
        let first = results[0]["id"].as_str().map(str::to_owned);
        if first.is_some() && first == previous_first {
            return Err(CkanError::RepeatedPage(start));
        }
        previous_first = first;
        for package in results {
            // CKAN 2.9+ always sets `type`; older dicts without it are datasets.
            if package["type"].as_str().is_some_and(|t| t != "dataset") {
                stats.skipped_types += 1;
                continue;
            }
            let id = package["id"].as_str().or(package["name"].as_str()).unwrap_or_default().to_owned();
            if !seen.insert(id) {
                stats.duplicates += 1;
                continue;
            }
            datasets.send(from_package(package)).await.map_err(|_| CkanError::Stopped)?;
            stats.datasets += 1;
        }
        start += results.len();
        if start >= count {
            break;
        }
    }
    Ok(stats)
}

/// A field that ckanext-dcatapit may keep at top level (its schema) or in `extras`
/// (legacy and harvested dicts).
fn field<'a>(package: &'a Value, key: &str) -> Option<&'a Value> {
    match &package[key] {
        Value::Null => {
            package["extras"].as_array().and_then(|extras| extras.iter().find(|e| e["key"] == key)).map(|e| &e["value"])
        }
        value => Some(value),
    }
}

fn text_field(package: &Value, key: &str) -> Option<String> {
    field(package, key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A list held as a JSON array, as JSON text (ckanext-dcatapit stores JSON in strings), as
/// a Postgres-style `{A,B}` set, or as one value.
fn list(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(s)) => {
            let s = s.trim();
            if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(s) {
                items
            } else if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                inner.split(',').map(|v| json!(v.trim())).filter(|v| v != "").collect()
            } else if s.is_empty() {
                Vec::new()
            } else {
                vec![json!(s)]
            }
        }
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

/// The strings of a [`list`] (ckanext-dcat's DCAT-AP 3 fields `applicable_legislation`
/// and `hvd_category` are lists of URIs).
fn texts(value: Option<&Value>) -> Vec<String> {
    list(value).iter().filter_map(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn uri_of(code_or_uri: &str, base: &str) -> String {
    if code_or_uri.starts_with("http") {
        code_or_uri.to_owned()
    } else {
        format!("{base}{}", code_or_uri.to_ascii_uppercase())
    }
}

fn translated(package: &Value, key: &str) -> Vec<Text> {
    let mut texts = Vec::new();
    if let Some(map) = package[format!("{key}_translated")].as_object() {
        for (lang, value) in map {
            if let Some(v) = value.as_str() {
                texts.push(Text { lang: lang.to_ascii_lowercase(), value: v.to_owned() });
            }
        }
    }
    if let Some(v) = package[key].as_str() {
        texts.push(Text { lang: String::new(), value: v.to_owned() });
    }
    texts
}

/// Maps a CKAN package dict to the dataset model.
pub fn from_package(package: &Value) -> Dataset {
    let id = package["id"].as_str().map(str::to_owned);
    let identifier = text_field(package, "identifier").or_else(|| text_field(package, "guid")).or_else(|| id.clone());
    let mut themes = Vec::new();
    let mut subthemes = Vec::new();
    for item in list(field(package, "themes_aggregate")) {
        if let Some(theme) = item["theme"].as_str() {
            themes.push(uri_of(theme, vocab::THEME_BASE));
        }
        subthemes.extend(list(item.get("subthemes")).iter().filter_map(|s| s.as_str().map(str::to_owned)));
    }
    if themes.is_empty() {
        themes = list(field(package, "theme"))
            .iter()
            .filter_map(Value::as_str)
            .map(|t| uri_of(t, vocab::THEME_BASE))
            .collect();
    }
    let agent = |prefix: &str| {
        let a = Agent {
            name: text_field(package, &format!("{prefix}_name")),
            identifier: text_field(package, &format!("{prefix}_identifier")),
        };
        (!a.is_empty()).then_some(a)
    };
    let organization = &package["organization"];
    let org_agent = organization.is_object().then(|| Agent {
        name: organization["title"].as_str().map(str::to_owned),
        identifier: organization["name"].as_str().map(str::to_owned),
    });
    let creators = list(field(package, "creator"))
        .iter()
        .filter_map(|c| {
            let name =
                c["creator_name"].as_object().and_then(|m| m.values().find_map(Value::as_str)).map(str::to_owned);
            let a = Agent { name, identifier: c["creator_identifier"].as_str().map(str::to_owned) };
            c.is_object().then_some(a)
        })
        .collect();
    let temporal = list(field(package, "temporal_coverage"))
        .iter()
        .map(|p| Period {
            start: p["temporal_start"].as_str().or(p["start"].as_str()).map(str::to_owned),
            end: p["temporal_end"].as_str().or(p["end"].as_str()).map(str::to_owned),
        })
        .collect();
    let spatial = match (text_field(package, "geographical_name"), text_field(package, "geographical_geonames_url")) {
        (None, None) => Vec::new(),
        (name, id) => vec![Location { uri: None, geographical_identifier: id, name }],
    };
    let conforms_to = list(field(package, "conforms_to"))
        .iter()
        .map(|s| match s {
            Value::String(text) => Standard { identifier: Some(text.clone()), ..Standard::default() },
            object => Standard {
                uri: object["uri"].as_str().map(str::to_owned),
                identifier: object["identifier"].as_str().map(str::to_owned),
                title: object["title"].as_object().and_then(|m| m.values().find_map(Value::as_str)).map(str::to_owned),
            },
        })
        .collect();
    let contact = ContactPoint {
        uri: None,
        name: text_field(package, "maintainer").or_else(|| text_field(package, "author")),
        email: text_field(package, "maintainer_email").or_else(|| text_field(package, "author_email")),
        telephone: None,
        url: None,
    };
    // A licence of CKAN's register is named by its AgID URI: its `license_url` (e.g.
    // opendefinition.org's page) is no DCAT-AP_IT licence, and a DCAT-AP_IT target refuses it.
    let package_licence = package["license_id"]
        .as_str()
        .and_then(vocab::licence_of_ckan_id)
        .or_else(|| package["license_url"].as_str().or(package["license_id"].as_str()).map(str::to_owned));
    let distributions = package["resources"]
        .as_array()
        .map(|resources| {
            resources
                .iter()
                .map(|r| {
                    let licence = r["license_type"].as_str().map(str::to_owned).or_else(|| package_licence.clone());
                    Distribution {
                        uri: r["uri"].as_str().or(r["id"].as_str()).map(str::to_owned),
                        title: r["name"]
                            .as_str()
                            .map(|v| vec![Text { lang: String::new(), value: v.to_owned() }])
                            .unwrap_or_default(),
                        description: r["description"]
                            .as_str()
                            .filter(|d| !d.is_empty())
                            .map(|v| vec![Text { lang: String::new(), value: v.to_owned() }])
                            .unwrap_or_default(),
                        access_url: r["access_url"]
                            .as_str()
                            .or(r["url"].as_str())
                            .filter(|u| !u.is_empty())
                            .map(str::to_owned),
                        download_url: r["download_url"]
                            .as_str()
                            .or(r["url"].as_str())
                            .filter(|u| !u.is_empty())
                            .map(str::to_owned),
                        format: r["format"].as_str().filter(|f| !f.is_empty()).map(|f| {
                            vocab::file_type_code(f)
                                .map_or_else(|| f.to_owned(), |c| format!("{}{c}", vocab::FILE_TYPE_BASE))
                        }),
                        media_type: r["mimetype"].as_str().filter(|m| !m.is_empty()).map(str::to_owned),
                        license: licence.map(|uri| License {
                            name: package["license_title"].as_str().map(str::to_owned),
                            uri: Some(uri),
                            license_type: None,
                        }),
                        byte_size: r["size"].as_u64(),
                        // ckanext-dcat's schema fields first, then CKAN core's own dates
                        // (the fallbacks ckanext-dcat's serializer uses, its 1.4.0 changelog).
                        issued: text_field(r, "issued").or_else(|| text_field(r, "created")),
                        modified: text_field(r, "modified").or_else(|| text_field(r, "last_modified")),
                        rights: text_field(r, "rights"),
                        applicable_legislation: texts(field(r, "applicable_legislation")),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Dataset {
        uri: id,
        identifier,
        title: translated(package, "title"),
        description: translated(package, "notes"),
        issued: text_field(package, "issued").or_else(|| package["metadata_created"].as_str().map(str::to_owned)),
        modified: text_field(package, "modified").or_else(|| package["metadata_modified"].as_str().map(str::to_owned)),
        themes,
        subthemes,
        keywords: package["tags"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["name"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        publisher: agent("publisher").or_else(|| org_agent.clone()),
        rights_holder: agent("holder"),
        creators,
        frequency: text_field(package, "frequency").map(|f| uri_of(&f, vocab::FREQUENCY_BASE)),
        languages: list(field(package, "language"))
            .iter()
            .filter_map(Value::as_str)
            // A CKAN locale (`it`) is the EU code the portal reads it as; an unknown code stays
            // as given, for the validation to name.
            .map(|l| uri_of(vocab::language_code(l).unwrap_or(l), vocab::LANGUAGE_BASE))
            .collect(),
        landing_page: package["url"].as_str().filter(|u| !u.is_empty()).map(str::to_owned),
        temporal,
        spatial,
        conforms_to,
        contact_point: (contact.name.is_some() || contact.email.is_some()).then_some(contact),
        alternate_identifiers: list(field(package, "alternate_identifier"))
            .iter()
            .filter_map(|a| a.as_str().or(a["identifier"].as_str()).map(str::to_owned))
            .collect(),
        version: text_field(package, "version"),
        access_rights: text_field(package, "access_rights"),
        applicable_legislation: texts(field(package, "applicable_legislation")),
        // ckanext-spatial's CSW/ISO harvesters mark the records they import so.
        geodcat: field(package, "spatial_harvester")
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))),
        hvd_categories: texts(field(package, "hvd_category")),
        distributions,
    }
}

#[cfg(test)]
mod tests;
