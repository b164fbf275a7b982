//! CKAN's configuration file of a node (`ckan.ini`), rendered by the operator and mounted
//! read-only into every CKAN container (web, worker, Jobs), so no pod writes its own.
//!
//! No secret is ever written in it. CKAN's config loader offers every `CKAN_*` environment
//! variable to the file's interpolation, so the file names them (`%(CKAN_SECRET_KEY)s`) and the
//! pods take them from the generated Secret; the database, Solr and Redis URLs CKAN reads from
//! `CKAN_SQLALCHEMY_URL`, `CKAN_SOLR_URL` and `CKAN_REDIS_URL` itself (`CONFIG_FROM_ENV_VARS`
//! in ckan/config/environment.py), so a URL whose password holds a `%` is never interpolated;
//! the DataStore's from `CKAN_DATASTORE_WRITE_URL` and `CKAN_DATASTORE_READ_URL` likewise.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::api::catalog_node::CatalogNodeSpec;

/// Where the CKAN containers find the file (the image's `CKAN_INI`).
pub const CONFIG_DIR: &str = "/etc/ckan";
/// The file's name in the ConfigMap and in [`CONFIG_DIR`].
pub const CONFIG_FILE: &str = "ckan.ini";
/// The environment variable holding CKAN's secret key (sessions, CSRF, API tokens).
pub const SECRET_KEY_ENV: &str = "CKAN_SECRET_KEY";
/// Where CKAN keeps uploaded files: the uploads volume.
pub const STORAGE_PATH: &str = "/var/lib/ckan";

/// The options the operator sets itself, each with the field of the spec (or the part of
/// the node) it comes from; `spec.config` may not set them.
pub const OWNED_OPTIONS: &[(&str, &str)] = &[
    ("ckan.site_id", "the node's name"),
    ("ckan.site_url", "spec.hostname"),
    ("ckan.site_title", "spec.title"),
    ("ckan.plugins", "spec.extraPlugins"),
    ("ckan.locale_default", "spec.locale.default"),
    ("ckan.locales_offered", "spec.locale.offered"),
    ("ckan.storage_path", "the uploads volume"),
    ("sqlalchemy.url", "spec.database"),
    ("solr_url", "spec.search"),
    ("ckan.redis.url", "spec.redis"),
    ("SECRET_KEY", "the generated Secret"),
    ("beaker.session.secret", "the generated Secret"),
    ("api_token.jwt.encode.secret", "the generated Secret"),
    ("api_token.jwt.decode.secret", "the generated Secret"),
    ("ckanext.dcat.base_uri", "spec.hostname"),
    ("ckanext.dcat.rdf.profiles", "the DCAT-AP_IT profile of the node"),
    ("scheming.dataset_schemas", "the DCAT-AP_IT schema of the node"),
    ("ckanext.mediana.publisher_name", "spec.publisher.name"),
    ("ckanext.mediana.publisher_identifier", "spec.publisher.ipaCode"),
    ("ckan.datastore.write_url", "spec.datastore"),
    ("ckan.datastore.read_url", "spec.datastore"),
    ("ckanext.xloader.site_url", "the node's Service"),
    ("ckanext.xloader.api_token", "the generated Secret (ckanext-mediana's mediana_xloader)"),
    ("ckanext.xloader.jobs_db.uri", "spec.database (ckanext-mediana's mediana_xloader)"),
];

/// CKAN plugins always enabled, in order: the activity stream, DCAT (RDF endpoints, the JSON
/// interface, schema.org markup), then DCAT-AP_IT: ckanext-scheming's dataset schemas and
/// mediana's extension (ckanext-mediana/), whose schema and `it_dcat_ap` profile the file
/// names, and whose `mediana_status` action tells the operator whether the node serves.
pub const BASE_PLUGINS: &[&str] = &[
    "activity",
    "dcat",
    "dcat_json_interface",
    "structured_data",
    "scheming_datasets",
    "mediana_dcatapit",
    "mediana_status",
];

/// Plugins enabled with `spec.datastore`, after the base ones: the DataStore, XLoader loading
/// resources into it, the table preview of what it holds, and ckanext-mediana's glue that
/// gives XLoader its API token and job log from the node's own key and database.
pub const DATASTORE_PLUGINS: &[&str] = &["datastore", "xloader", "datatables_view", "mediana_xloader"];

/// The DCAT-AP_IT dataset schema of ckanext-mediana.
pub const DATASET_SCHEMA: &str = "ckanext.mediana:schemas/dcatapit.yaml";
/// The ckanext-dcat profile writing and reading DCAT-AP_IT.
pub const RDF_PROFILE: &str = "it_dcat_ap";

/// What is wrong with `spec.config`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The option is one the operator sets.
    #[error("spec.config sets {key}, which the operator sets from {from}")]
    Owned {
        /// The option.
        key: String,
        /// Where the operator takes it from.
        from: &'static str,
    },
    /// The key cannot be a CKAN option name.
    #[error("spec.config key {key:?} is not a CKAN option name (letters, digits, '.', '_' and '-')")]
    BadKey {
        /// The key.
        key: String,
    },
    /// A URL CKAN takes from a `CKAN_*` variable holds a `%`.
    #[error(
        "{field}: the URL in {source_} holds '%' (a percent-encoded character, as a password with '@', ':', '/' or \
         '%' needs); CKAN reads every CKAN_* variable through Python's configparser, which refuses it: use a \
         password of letters, digits and -._~"
    )]
    PercentInUrl {
        /// The spec's field the URL is for.
        field: &'static str,
        /// Where the URL is: the spec's field, or the Secret and key it names.
        source_: String,
    },
    /// The value spans lines, which an ini option cannot.
    #[error("spec.config.{key} spans several lines; a CKAN option is one line")]
    MultiLine {
        /// The key.
        key: String,
    },
}

/// Checks `spec.config`: every key a plain option name the operator does not own, every
/// value one line.
pub fn check(config: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    for (key, value) in config {
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !plain {
            return Err(ConfigError::BadKey { key: key.clone() });
        }
        if let Some((_, from)) = OWNED_OPTIONS.iter().find(|(owned, _)| owned.eq_ignore_ascii_case(key)) {
            return Err(ConfigError::Owned { key: key.clone(), from });
        }
        if value.contains(['\n', '\r']) {
            return Err(ConfigError::MultiLine { key: key.clone() });
        }
    }
    Ok(())
}

/// Checks a URL that CKAN will read from a `CKAN_*` variable: CKAN's config loader offers
/// every such variable to configparser's interpolation (ckan/cli/__init__.py), where a `%`
/// not followed by `%` or `(` stops CKAN from starting, and alembic's refuses it again when
/// `db upgrade` runs.
pub fn check_url(field: &'static str, source_: String, url: &str) -> Result<(), ConfigError> {
    if url.contains('%') { Err(ConfigError::PercentInUrl { field, source_ }) } else { Ok(()) }
}

/// The plugins of a node: the base ones, the DataStore's when it has one, then
/// `extraPlugins` in their order, once each.
pub fn plugins(spec: &CatalogNodeSpec) -> Vec<&str> {
    let mut plugins: Vec<&str> = BASE_PLUGINS.to_vec();
    if spec.datastore.is_some() {
        plugins.extend(DATASTORE_PLUGINS);
    }
    for plugin in &spec.extra_plugins {
        if !plugins.contains(&plugin.as_str()) {
            plugins.push(plugin);
        }
    }
    plugins
}

/// A value as the ini file must hold it: `%` doubled, since the file is interpolated.
fn literal(value: &str) -> String {
    value.replace('%', "%%")
}

/// Renders the node's `ckan.ini`: CKAN's options, then logging to the container's stderr for
/// CKAN, its CLI and gunicorn (`--log-config`). `internal_url` is the web Service's, by which
/// XLoader's jobs fetch uploads and report back without leaving the cluster.
pub fn render(
    spec: &CatalogNodeSpec,
    site_id: &str,
    site_url: &str,
    internal_url: &str,
) -> Result<String, ConfigError> {
    check(&spec.config)?;
    let secret = format!("%({SECRET_KEY_ENV})s");
    let mut options: Vec<(&str, String)> = vec![
        ("use", "egg:ckan".into()),
        ("ckan.site_id", literal(site_id)),
        ("ckan.site_url", literal(site_url)),
        ("SECRET_KEY", secret.clone()),
        // CKAN's API tokens are signed with this key; the value names its source (string:).
        ("api_token.jwt.encode.secret", format!("string:{secret}")),
        ("api_token.jwt.decode.secret", format!("string:{secret}")),
        ("ckan.plugins", plugins(spec).join(" ")),
        ("ckan.storage_path", STORAGE_PATH.into()),
        ("ckan.locale_default", literal(&spec.locale.default)),
        ("ckan.locales_offered", literal(&spec.locale.offered.join(" "))),
        ("ckanext.dcat.rdf.profiles", RDF_PROFILE.into()),
        ("ckanext.dcat.base_uri", literal(site_url)),
        ("scheming.dataset_schemas", DATASET_SCHEMA.into()),
        ("scheming.presets", "ckanext.scheming:presets.json".into()),
        // The catalogue's dct:publisher (dcatapit:Catalog, mandatory).
        ("ckanext.mediana.publisher_identifier", literal(&spec.publisher.ipa_code)),
    ];
    if let Some(name) = &spec.publisher.name {
        options.push(("ckanext.mediana.publisher_name", literal(name)));
    }
    if let Some(title) = &spec.title {
        options.push(("ckan.site_title", literal(title)));
    }
    if spec.datastore.is_some() {
        options.push(("ckanext.xloader.site_url", literal(internal_url)));
    }
    let mut ini = String::from(
        "# Rendered by mediana from the CatalogNode; edits are overwritten. Secrets come from the\n\
         # environment (CKAN_*), the database, Solr and Redis URLs too.\n[app:main]\n",
    );
    for (key, value) in options {
        let _ = writeln!(ini, "{key} = {value}");
    }
    if !spec.config.is_empty() {
        ini.push_str("# spec.config\n");
        for (key, value) in &spec.config {
            let _ = writeln!(ini, "{key} = {}", literal(value));
        }
    }
    ini.push_str(LOGGING);
    Ok(ini)
}

/// Python logging for CKAN, its extensions and gunicorn: one line per record on stderr, which
/// the container runtime keeps; requests in gunicorn's access log format.
const LOGGING: &str = "
[loggers]
keys = root, ckan, ckanext, gunicorn_error, gunicorn_access

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_ckan]
level = INFO
handlers = console
qualname = ckan
propagate = 0

[logger_ckanext]
level = INFO
handlers = console
qualname = ckanext
propagate = 0

[logger_gunicorn_error]
level = INFO
handlers = console
qualname = gunicorn.error
propagate = 0

[logger_gunicorn_access]
level = INFO
handlers = console
qualname = gunicorn.access
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
";
