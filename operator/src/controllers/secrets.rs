//! Secrets the operator generates: created once with values from the operating system's
//! CSPRNG, never rewritten, never logged. Only their names appear in logs, events and status.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use kube::{Api, Client};
use tracing::info;

use super::Error;
use super::children::{Owner, metadata};

/// A key of a Secret the operator generates once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretValue {
    /// A fixed value.
    Literal(String),
    /// 32 random bytes from the operating system's CSPRNG, hex-encoded.
    Random,
    /// A template in which `{random:KEY}` stands for the random value of KEY.
    Template(String),
}

/// A Secret the operator creates once and never rewrites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedSecret {
    /// Name of the Secret.
    pub name: String,
    /// Component label.
    pub component: &'static str,
    /// Keys and how their values are made.
    pub keys: Vec<(String, SecretValue)>,
    /// Whether the Secret lives as long as the data it opens rather than its owner: no owner
    /// reference, so that data kept after the owner is deleted (a CatalogNode's `deletionPolicy:
    /// Retain`) can be opened again by an owner of the same name; the owner's finalizer removes
    /// it with the data otherwise.
    pub kept_with_data: bool,
}

impl GeneratedSecret {
    /// The same Secret, kept as long as the data (see [`GeneratedSecret::kept_with_data`]).
    pub fn kept_with_data(self) -> Self {
        Self { kept_with_data: true, ..self }
    }
}

/// Creates the Secret if it does not exist. An existing Secret is left exactly as it is,
/// even if its keys differ from what this version would generate: rotating credentials is
/// a person's decision.
pub async fn ensure(client: &Client, owner: &Owner, secret: &GeneratedSecret) -> Result<bool, Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &owner.namespace);
    if api.get_opt(&secret.name).await?.is_some() {
        return Ok(false);
    }
    let mut metadata = metadata(owner, &secret.name, secret.component);
    if secret.kept_with_data {
        metadata.owner_references = None;
    }
    let object =
        Secret { metadata, data: Some(generate(&secret.keys)?), type_: Some("Opaque".into()), ..Default::default() };
    match api.create(&PostParams { dry_run: false, field_manager: Some(super::FIELD_MANAGER.into()) }, &object).await {
        Ok(_) => {
            info!(secret = secret.name, "generated secret");
            Ok(true)
        }
        // Another replica or an earlier reconcile won the race: its values stand.
        Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Makes the values of a Secret: random keys first, so templates can refer to them.
pub fn generate(keys: &[(String, SecretValue)]) -> Result<BTreeMap<String, ByteString>, Error> {
    let mut random = BTreeMap::new();
    for (key, value) in keys {
        if *value == SecretValue::Random {
            random.insert(key.clone(), random_hex()?);
        }
    }
    let mut data = BTreeMap::new();
    for (key, value) in keys {
        let text = match value {
            SecretValue::Literal(text) => text.clone(),
            SecretValue::Random => random[key].clone(),
            SecretValue::Template(template) => random
                .iter()
                .fold(template.clone(), |text, (name, value)| text.replace(&format!("{{random:{name}}}"), value)),
        };
        data.insert(key.clone(), ByteString(text.into_bytes()));
    }
    Ok(data)
}

/// 32 bytes from the operating system's CSPRNG, hex-encoded: 256 bits, and safe inside URLs.
fn random_hex() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| Error::Random(err.to_string()))?;
    Ok(crate::hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_random_literal_or_templated() {
        let keys = vec![
            ("user".to_owned(), SecretValue::Literal("ckan".into())),
            ("password".to_owned(), SecretValue::Random),
            ("url".to_owned(), SecretValue::Template("postgresql://ckan:{random:password}@db/ckan".into())),
        ];
        let first = generate(&keys).expect("generate");
        let second = generate(&keys).expect("generate");
        let text =
            |data: &BTreeMap<String, ByteString>, key: &str| String::from_utf8(data[key].0.clone()).expect("UTF-8");
        assert_eq!(text(&first, "user"), "ckan");
        let password = text(&first, "password");
        assert_eq!(password.len(), 64);
        assert!(password.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(text(&first, "url"), format!("postgresql://ckan:{password}@db/ckan"));
        assert_ne!(password, text(&second, "password"), "every generation draws new randomness");
    }
}
