//! mediana: a Kubernetes operator for the Italian public administration's interregional
//! cloud. The crate is a library; `main.rs` parses the command line and calls into it.

pub mod api;
pub mod controllers;
pub mod harvest;
pub mod leader;
pub mod netguard;
pub mod placement;
pub mod publiccode;
pub mod render;
pub mod telemetry;

/// One line naming this build and the API it serves.
pub fn version_line() -> String {
    format!("mediana {} (API {}/v1alpha1)", env!("CARGO_PKG_VERSION"), api::GROUP)
}
