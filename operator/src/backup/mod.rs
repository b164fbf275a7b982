//! Backups of a catalogue node to S3-compatible object storage: the database (a `pg_dump`
//! custom-format archive) and the uploaded files (a tar archive), each streamed from its
//! producing process into a multipart upload (never through local disk, which a backup pod
//! may not have room for), then a manifest written last. See docs/backup.md.
//!
//! The layout under the store's prefix, one folder per backup:
//!
//! ```text
//! <prefix>/<node>/<backup-name>/database.dump
//! <prefix>/<node>/<backup-name>/files.tar
//! <prefix>/<node>/<backup-name>/manifest.json
//! ```
//!
//! A backup is complete only when its manifest exists: a run that fails halfway leaves parts
//! without one, which listings show as incomplete and retention removes later.

mod database;
mod error;
mod manifest;
mod ops;
mod report;
mod restore;
mod retention;
mod store;

pub use database::pg_environment;
pub use error::BackupError;
pub use manifest::{BackupInfo, Manifest, PartRecord, backup_name, check_segment};
pub use ops::{BackupOutcome, BackupRequest, fetch, list, run, table};
pub use report::Report;
pub use restore::{RestoreRequest, restore};
pub use retention::{Retention, plan};
pub use store::{Credentials, DEFAULT_REGION, SecretSource, Store, StoreConfig};

/// The database part: `pg_dump --format=custom` output, what `pg_restore` reads.
pub const DATABASE_PART: &str = "database.dump";
/// The uploaded files part: a tar archive of CKAN's storage directory.
pub const FILES_PART: &str = "files.tar";
/// The manifest, written last: its presence is what makes a backup complete.
pub const MANIFEST: &str = "manifest.json";
