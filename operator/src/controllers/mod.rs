//! Controllers, one module per kind, and the layer they share: the context
//! ([`context`]), the error type and its policy ([`error`]), status writes and Events
//! ([`status`]), the CRD check ([`crds`]) and the wiring of the controllers ([`runtime`]).

pub mod backup_jobs;
pub mod catalog_node;
pub mod children;
mod cloud_target;
pub mod conditions;
pub mod context;
pub mod crds;
pub mod error;
pub mod harvest_job;
pub mod kinds;
pub mod rbac;
pub mod reusable_solution;
pub mod runtime;
pub mod secrets;
pub mod sites;
pub mod status;
pub mod targets;
#[cfg(test)]
pub mod testing;
pub mod workloads;

pub use context::{Context, OPERATOR_IMAGE, Settings};
pub use crds::{CrdsMissing, check_crds_served};
pub use error::Error;
pub use runtime::run;
pub use status::{Reconciled, publish, write_status};

/// The field manager of every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "mediana";
