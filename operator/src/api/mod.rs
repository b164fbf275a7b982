//! The mediana API, group `mediana.dev`, version `v1alpha1`: one module per kind, plus the
//! types and patterns they share.

// kube's `printcolumn(type_ = "string", ...)` repeats a key-value pair across columns, which
// clippy mistakes for a duplicated attribute.
#![allow(clippy::duplicated_attributes)]

pub mod catalog_node;
pub mod cloud_target;
pub mod harvest_job;
pub mod patterns;
pub mod reusable_solution;
pub mod shared;

pub use catalog_node::{CatalogNode, CatalogNodeSpec, CatalogNodeStatus};
pub use cloud_target::{CloudTarget, CloudTargetSpec, CloudTargetStatus};
pub use harvest_job::{HarvestJob, HarvestJobSpec, HarvestJobStatus};
pub use reusable_solution::{ReusableSolution, ReusableSolutionSpec, ReusableSolutionStatus};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The API group of every mediana kind.
pub const GROUP: &str = "mediana.dev";

/// Every CRD mediana serves, in the order `mediana crds` prints them.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![CatalogNode::crd(), HarvestJob::crd(), ReusableSolution::crd(), CloudTarget::crd()]
}

/// Every CRD as a YAML document with the file name it has in `crds/`
/// (`<plural>.<group>.yaml`), in the order `mediana crds` prints them.
pub fn crd_documents() -> Result<Vec<(String, String)>, serde_saphyr::ser::Error> {
    crds()
        .into_iter()
        .map(|crd| {
            // Each file starts a YAML document, so the files can be concatenated as they are.
            let yaml = format!("---\n{}", serde_saphyr::to_string(&crd)?);
            Ok((format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or(GROUP)), yaml))
        })
        .collect()
}

/// Every CRD as one multi-document YAML stream, as `mediana crds` prints it.
pub fn crds_yaml() -> Result<String, serde_saphyr::ser::Error> {
    Ok(crd_documents()?.into_iter().map(|(_, yaml)| yaml).collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::Value;

    /// Collects the paths of schema properties that have no description; returns how many
    /// properties it looked at.
    fn undocumented(schema: &Value, path: &str, found: &mut Vec<String>) -> usize {
        let mut seen = 0;
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                seen += 1;
                let here = format!("{path}.{name}");
                let described =
                    property.get("description").and_then(Value::as_str).is_some_and(|d| !d.trim().is_empty());
                // apiVersion, kind and metadata are documented by Kubernetes itself.
                if !described && !matches!(here.as_str(), ".apiVersion" | ".kind" | ".metadata") {
                    found.push(here.clone());
                }
                seen += undocumented(property, &here, found);
            }
        }
        if let Some(items) = schema.get("items") {
            seen += undocumented(items, &format!("{path}[]"), found);
        }
        seen
    }

    /// `kubectl explain` shows these descriptions: every field a user can set or read has one.
    #[test]
    fn every_field_is_documented_for_kubectl_explain() {
        for crd in super::crds() {
            let name = crd.metadata.name.clone().unwrap_or_default();
            let version = &crd.spec.versions[0];
            let schema = serde_json::to_value(version.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref()))
                .expect("schema serializes");
            let mut missing = Vec::new();
            let seen = undocumented(&schema, "", &mut missing);
            assert!(seen > 15, "{name}: only {seen} properties found: is the schema walked?");
            assert!(missing.is_empty(), "{name}: fields without a description: {missing:?}");
        }
    }

    /// crds/ is generated: this fails when a type changed and `make crds` was not run.
    #[test]
    fn checked_in_crds_match_the_types() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crds");
        let documents = super::crd_documents().expect("CRDs serialize");
        for (file, generated) in &documents {
            let checked_in = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            assert!(
                checked_in == *generated,
                "crds/{file} differs from the Rust types: run `make crds` and commit the result"
            );
        }
        let on_disk = std::fs::read_dir(&dir).map(|entries| entries.count()).unwrap_or(0);
        assert_eq!(on_disk, documents.len(), "crds/ holds files that are not generated: remove them");
    }
}
