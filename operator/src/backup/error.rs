//! The errors of backups, listings and fetches.

use std::path::PathBuf;

/// Why a backup, a listing or a fetch failed. Messages never hold credentials: errors of the
/// object store are redacted by [`crate::backup::Store`] before they become one of these.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store's location, endpoint or CA bundle is not usable.
    #[error("object store configuration: {0}")]
    Config(String),
    /// A credential could not be read from its file or environment variable.
    #[error("reading the {what} from {from}: {reason}")]
    Credential {
        /// Which credential (access key id or secret access key).
        what: &'static str,
        /// Where it was read from (a file's path or a variable's name, never the value).
        from: String,
        /// Why reading it failed.
        reason: String,
    },
    /// A node or backup name that cannot be one segment of an object key.
    #[error("invalid {kind} {value:?}: {reason}")]
    InvalidName {
        /// What the name names (node or backup).
        kind: &'static str,
        /// The name given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A request to the object store failed.
    #[error("object store: {context}: {message}")]
    Store {
        /// What was being done (with the object's key).
        context: String,
        /// The store's error, credentials redacted.
        message: String,
    },
    /// A program producing a part could not be started or read.
    #[error("{program}: {source}")]
    Process {
        /// The program (pg_dump or tar).
        program: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A program producing a part exited with an error: the part is not uploaded.
    #[error("{program} failed ({status}): {stderr}")]
    ProcessFailed {
        /// The program (pg_dump or tar).
        program: &'static str,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// The end of its standard error.
        stderr: String,
    },
    /// A manifest that is not valid JSON of the expected shape.
    #[error("manifest {key}: {source}")]
    Manifest {
        /// The manifest's object key.
        key: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The backup asked for has no manifest (it does not exist or never completed).
    #[error("backup {node}/{name} is not complete (no {manifest}): it cannot be restored", manifest = super::MANIFEST)]
    Incomplete {
        /// The node.
        node: String,
        /// The backup's name.
        name: String,
    },
    /// `latest` was asked for and the node has no complete backup.
    #[error("node {0} has no complete backup")]
    NoBackup(String),
    /// A complete backup whose manifest lacks a part a restore needs.
    #[error("backup {name} has no {part}: it cannot be restored")]
    MissingPart {
        /// The backup's name.
        name: String,
        /// The part missing.
        part: &'static str,
    },
    /// A fetched part whose size differs from the manifest's.
    #[error("{part}: {actual} bytes, the manifest says {expected}: refusing it")]
    SizeMismatch {
        /// The part's name.
        part: String,
        /// The size in the manifest.
        expected: u64,
        /// The size downloaded.
        actual: u64,
    },
    /// A fetched part whose SHA-256 differs from the manifest's.
    #[error("{part}: SHA-256 {actual} does not match the manifest's {expected}: refusing it")]
    DigestMismatch {
        /// The part's name.
        part: String,
        /// The digest in the manifest.
        expected: String,
        /// The digest of what was downloaded.
        actual: String,
    },
    /// A local file or directory could not be written or read.
    #[error("{}: {source}", path.display())]
    Local {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}
