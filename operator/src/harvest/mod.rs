//! The harvester: gathers datasets from a CKAN or DCAT source, maps them to one model,
//! validates them against DCAT-AP_IT, scores their quality and writes them to a CKAN target.

pub mod check;
pub mod ckan;
pub mod dcat;
pub mod job;
pub mod model;
pub mod package;
pub mod quality;
pub mod report;
pub mod run;
pub mod sink;
pub mod validate;
pub mod vocab;

pub use run::{ProgressHook, RunConfig, RunError, RunReport, SourceConfig, TargetConfig, run, target_client};
