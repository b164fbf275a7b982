//! `mediana render`: the children the operator would create for the objects in a file,
//! computed by the same builders, without a cluster. A preview for reviews and GitOps
//! pull requests.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use serde_json::Value;

use crate::api::CatalogNode;
use crate::controllers::catalog_node::builders;
use crate::controllers::children::{Child, Owner};
use crate::controllers::secrets::SecretValue;
use crate::controllers::workloads::metadata;

/// Why a file could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The file is not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(String),
    /// A document is not a valid object of its kind.
    #[error("document {index} ({kind} {name}): {path}: {message}")]
    Invalid {
        /// Position of the document in the file, from 1.
        index: usize,
        /// Its kind.
        kind: String,
        /// Its name.
        name: String,
        /// The field at fault, e.g. `spec.replicas`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// A child could not be built.
    #[error("building the children of {name}: {source}")]
    Build {
        /// The object whose children failed.
        name: String,
        /// What failed.
        #[source]
        source: crate::controllers::Error,
    },
    /// Serializing the output failed.
    #[error("writing YAML: {0}")]
    Output(String),
}

/// What a generated value looks like in a preview: never a real secret.
const GENERATED: &str = "<generated once by the operator>";

/// Renders the children of every CatalogNode in `manifests` (multi-document YAML); other
/// kinds are skipped, since this version deploys nothing for them. Returns multi-document
/// YAML.
pub fn render(manifests: &str) -> Result<String, RenderError> {
    let options = serde_saphyr::options! { strict_booleans: true };
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(manifests, options)
        .map_err(|err| RenderError::Yaml(err.to_string()))?;
    let mut out = String::new();
    for (index, document) in documents.into_iter().enumerate().filter(|(_, d)| !d.is_null()) {
        if document["kind"] != "CatalogNode" {
            continue;
        }
        let mut node: CatalogNode =
            serde_path_to_error::deserialize(&document).map_err(|err| RenderError::Invalid {
                index: index + 1,
                kind: "CatalogNode".into(),
                name: document["metadata"]["name"].as_str().unwrap_or("?").to_owned(),
                path: err.path().to_string(),
                message: err.inner().to_string(),
            })?;
        if node.metadata.namespace.is_none() {
            node.metadata.namespace = Some("default".into());
        }
        let owner = Owner { reference: None, ..preview_owner(&node) };
        let build_error = |source| RenderError::Build { name: node.name_any(), source };
        let mut children = Vec::new();
        for secret in builders::generated_secrets(&node.spec, &owner) {
            let data = secret
                .keys
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        SecretValue::Literal(text) => text.clone(),
                        SecretValue::Random | SecretValue::Template(_) => GENERATED.to_owned(),
                    };
                    (key.clone(), text)
                })
                .collect();
            let preview = Secret {
                metadata: metadata(&owner, &secret.name, secret.component),
                string_data: Some(data),
                ..Default::default()
            };
            children.push(Child::new(&preview).map_err(build_error)?);
        }
        children.extend(
            builders::children(&node.spec, &owner, &builders::Release::desired(&node.spec)).map_err(build_error)?,
        );
        for child in children {
            out.push_str("---\n");
            out.push_str(&serde_saphyr::to_string(&child.object).map_err(|err| RenderError::Output(err.to_string()))?);
        }
    }
    Ok(out)
}

fn preview_owner(node: &CatalogNode) -> Owner {
    Owner {
        app: "catalognode".into(),
        instance: node.name_any(),
        namespace: node.namespace().unwrap_or_else(|| "default".into()),
        reference: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = "apiVersion: mediana.dev/v1alpha1\nkind: CatalogNode\nmetadata:\n  name: marche\n  namespace: opendata\nspec:\n  hostname: dati.regione.marche.it\n  publisher:\n    ipaCode: r_marche\n";

    #[test]
    fn renders_children_and_secret_placeholders() {
        let text = render(NODE).expect("renders");
        let documents: Vec<Value> = serde_saphyr::from_multiple(&text).expect("valid YAML");
        let kinds: Vec<String> = documents
            .iter()
            .map(|d| format!("{}/{}", d["kind"].as_str().unwrap_or(""), d["metadata"]["name"].as_str().unwrap_or("")))
            .collect();
        assert!(kinds.contains(&"Deployment/marche-ckan".to_owned()), "{kinds:?}");
        assert!(kinds.contains(&"Secret/marche-db".to_owned()), "{kinds:?}");
        let db = documents.iter().find(|d| d["metadata"]["name"] == "marche-db").expect("db secret");
        assert_eq!(db["stringData"]["PGPASSWORD"], GENERATED);
        assert_eq!(db["stringData"]["PGUSER"], "ckan");
        assert!(documents.iter().all(|d| d["metadata"]["namespace"] == "opendata"));
    }

    #[test]
    fn invalid_documents_are_named() {
        let err =
            render("kind: CatalogNode\nmetadata:\n  name: broken\nspec:\n  replicas: lots\n").expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("document 1 (CatalogNode broken): spec.replicas: invalid type"), "{text}");
        assert!(matches!(render("a: [unclosed"), Err(RenderError::Yaml(_))));
    }
}
