//! The object store: where it is, the credentials to reach it, and a client built from them.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{Certificate, ClientOptions};

use super::BackupError;

/// Where a credential comes from: a file (a mounted Secret) or an environment variable.
/// Never an argument: a process's arguments are visible to every user of the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// A file holding the value (surrounding whitespace is ignored).
    File(PathBuf),
    /// An environment variable holding the value.
    Env(String),
}

impl SecretSource {
    fn read(&self, what: &'static str) -> Result<String, BackupError> {
        let (from, value) = match self {
            Self::File(path) => (path.display().to_string(), std::fs::read_to_string(path).map_err(|e| e.to_string())),
            Self::Env(var) => (format!("${var}"), std::env::var(var).map_err(|e| e.to_string())),
        };
        let value = value.map_err(|reason| BackupError::Credential { what, from: from.clone(), reason })?;
        let value = value.trim();
        if value.is_empty() {
            return Err(BackupError::Credential { what, from, reason: "empty".into() });
        }
        Ok(value.to_owned())
    }
}

/// An access key pair. Its `Debug` shows neither half, so that it can sit in structs that
/// are logged.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(redacted)")
    }
}

impl Credentials {
    /// A key pair from its two values.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self { access_key_id: access_key_id.into(), secret_access_key: secret_access_key.into() }
    }

    /// Reads a key pair from its sources.
    pub fn read(access_key_id: &SecretSource, secret_access_key: &SecretSource) -> Result<Self, BackupError> {
        Ok(Self::new(access_key_id.read("access key id")?, secret_access_key.read("secret access key")?))
    }
}

/// An S3-compatible store: endpoint, bucket, prefix, region, credentials and the CA bundle
/// its TLS certificate is checked against (the system's roots when none is given).
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// The endpoint's URL (`https://s3.example.it`; `http://` only for stores on loopback or
    /// a private network the caller trusts).
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The prefix every backup is under (may be empty).
    pub prefix: String,
    /// The region requests are signed for (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// The access key pair.
    pub credentials: Credentials,
    /// PEM file of the certificate authorities to trust, for stores with a private CA.
    pub ca_bundle: Option<PathBuf>,
}

/// The region of stores that have none of their own, as S3-compatible servers expect.
pub const DEFAULT_REGION: &str = "us-east-1";

impl StoreConfig {
    /// Splits a location `s3://BUCKET[/PREFIX]` into its bucket and prefix.
    pub fn parse_location(location: &str) -> Result<(String, String), BackupError> {
        let rest = location
            .strip_prefix("s3://")
            .ok_or_else(|| BackupError::Config(format!("location {location:?} does not start with s3://")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BackupError::Config(format!("location {location:?} names no bucket")));
        }
        Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
    }
}

/// A connected store: the client and the prefix its backups live under.
pub struct Store {
    pub(crate) inner: Arc<dyn ObjectStore>,
    prefix: Path,
    location: String,
    /// The credential values, scrubbed from every error message the store returns: an S3
    /// server may echo the access key id, and no message is trusted to leave them out.
    secrets: Credentials,
}

/// Only the location: the client's own `Debug` would show its credentials.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("location", &self.location).finish_non_exhaustive()
    }
}

impl Store {
    /// Builds the client (no request is made yet). Requests are path-style
    /// (`endpoint/bucket/key`): S3-compatible servers rarely have a DNS name per bucket.
    pub fn connect(config: StoreConfig) -> Result<Self, BackupError> {
        crate::install_crypto_provider();
        let mut options = ClientOptions::new().with_allow_http(config.endpoint.starts_with("http://"));
        if let Some(bundle) = &config.ca_bundle {
            let pem = std::fs::read(bundle).map_err(|source| BackupError::Local { path: bundle.clone(), source })?;
            let certificates = Certificate::from_pem_bundle(&pem)
                .map_err(|e| BackupError::Config(format!("CA bundle {}: {e}", bundle.display())))?;
            for certificate in certificates {
                options = options.with_root_certificate(certificate);
            }
        }
        let inner = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.credentials.access_key_id)
            .with_secret_access_key(&config.credentials.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_client_options(options)
            .build()
            .map_err(|e| BackupError::Config(crate::with_causes(&e)))?;
        let prefix = Path::parse(&config.prefix).map_err(|e| BackupError::Config(format!("prefix: {e}")))?;
        let location = format!("s3://{}/{}", config.bucket, config.prefix);
        let store = Self { inner: Arc::new(inner), prefix, location, secrets: config.credentials };
        Ok(store)
    }

    /// The client itself, for what this module does not wrap (the tests overwrite a part
    /// with it, as a damaged bucket would).
    pub fn client(&self) -> &dyn ObjectStore {
        self.inner.as_ref()
    }

    /// The store's location, `s3://bucket/prefix`, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The key of a node's folder, or of one backup's when `name` is given.
    pub(crate) fn folder(&self, node: &str, name: Option<&str>) -> Path {
        let node = self.prefix.clone().join(node);
        name.map_or(node.clone(), |name| node.join(name))
    }

    /// The prefix every backup's key starts with.
    pub(crate) fn root(&self) -> &Path {
        &self.prefix
    }

    /// An error of the store as a [`BackupError`], with its causes and the credentials scrubbed.
    pub(crate) fn error(&self, context: impl Into<String>, error: impl std::error::Error + 'static) -> BackupError {
        let mut message = crate::with_causes(&error);
        for secret in [&self.secrets.secret_access_key, &self.secrets.access_key_id] {
            message = message.replace(secret.as_str(), "[redacted]");
        }
        BackupError::Store { context: context.into(), message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_into_bucket_and_prefix() {
        let split = |l| StoreConfig::parse_location(l).expect(l);
        assert_eq!(split("s3://backups"), ("backups".into(), String::new()));
        assert_eq!(split("s3://backups/"), ("backups".into(), String::new()));
        assert_eq!(split("s3://backups/ckan/prod/"), ("backups".into(), "ckan/prod".into()));
        assert!(StoreConfig::parse_location("https://backups/x").is_err());
        assert!(StoreConfig::parse_location("s3:///x").is_err());
    }

    #[test]
    fn store_errors_and_debug_never_show_the_credentials() {
        let config = StoreConfig {
            endpoint: "http://127.0.0.1:9".into(),
            bucket: "b".into(),
            prefix: "p".into(),
            region: DEFAULT_REGION.into(),
            credentials: Credentials::new("AKIDEXAMPLE", "s3cr3t-value"),
            ca_bundle: None,
        };
        assert!(!format!("{config:?}").contains("s3cr3t-value"));
        let store = Store::connect(config).expect("builds without a request");
        let denied = std::io::Error::other("denied for AKIDEXAMPLE signing with s3cr3t-value");
        let err = store.error("put p/x", object_store::Error::Generic { store: "S3", source: Box::new(denied) });
        assert_eq!(
            err.to_string(),
            "object store: put p/x: Generic S3 error: denied for [redacted] signing with [redacted]"
        );
        assert!(!format!("{store:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn credentials_come_from_files_and_say_where_they_failed() {
        let dir = std::env::temp_dir().join(format!("mediana-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let id = dir.join("id");
        std::fs::write(&id, "key-id\n").expect("write");
        let missing = SecretSource::File(dir.join("missing"));
        let err = Credentials::read(&SecretSource::File(id.clone()), &missing).expect_err("missing file");
        assert!(err.to_string().starts_with("reading the secret access key from "), "{err}");
        std::fs::write(dir.join("secret"), "  \n").expect("write");
        let err = Credentials::read(&SecretSource::File(id), &SecretSource::File(dir.join("secret")))
            .expect_err("empty secret");
        assert!(err.to_string().ends_with(": empty"), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
