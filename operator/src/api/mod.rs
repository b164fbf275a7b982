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
            Ok((format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or(GROUP)), serde_saphyr::to_string(&crd)?))
        })
        .collect()
}

/// Every CRD as one multi-document YAML stream, as `mediana crds` prints it.
pub fn crds_yaml() -> Result<String, serde_saphyr::ser::Error> {
    Ok(crd_documents()?.into_iter().map(|(_, yaml)| format!("---\n{yaml}")).collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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
