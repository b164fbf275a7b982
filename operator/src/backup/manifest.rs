//! A backup's manifest and names.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::BackupError;

/// What a complete backup holds, written as `manifest.json` after every part is uploaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Version of this layout, so that a later mediana can read older backups.
    pub format: u32,
    /// The object backed up (a CatalogNode, or a ReusableSolution's database).
    pub node: String,
    /// The backup's name (its folder under the node's).
    pub name: String,
    /// CKAN's version on a CatalogNode: a restore needs a CKAN that reads this schema. None
    /// for a backup of another software's database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ckan_version: Option<String>,
    /// CKAN's database schema revision (alembic), when the caller knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_revision: Option<String>,
    /// When the backup started.
    pub started_at: DateTime<Utc>,
    /// When its last part was uploaded.
    pub finished_at: DateTime<Utc>,
    /// Each part, with its size and digest computed while it streamed.
    pub parts: Vec<PartRecord>,
}

/// One part of a backup: its object name, size and SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// The object's name in the backup's folder (`database.dump`, `files.tar`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

impl Manifest {
    /// The layout version this mediana writes.
    pub const FORMAT: u32 = 1;

    /// The sum of the parts' sizes.
    pub fn size(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }

    /// Reads a manifest, naming its key in the error.
    pub fn from_json(key: &str, bytes: &[u8]) -> Result<Self, BackupError> {
        serde_json::from_slice(bytes).map_err(|source| BackupError::Manifest { key: key.to_owned(), source })
    }

    /// The manifest as (pretty, so that people can read it in a bucket browser) JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings, numbers and times always serializes.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// The name of a backup started at `started`: a UTC timestamp with milliseconds, so that
/// names sort in time order and two backups of one node in the same second do not collide.
pub fn backup_name(started: DateTime<Utc>) -> String {
    started.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// Checks that a node or backup name is one safe segment of an object key: no `/`, no `.`
/// or `..` (which some stores and every file system treat as paths), only characters that
/// Kubernetes names and [`backup_name`] use.
pub fn check_segment(kind: &'static str, value: &str) -> Result<(), BackupError> {
    let invalid = |reason| Err(BackupError::InvalidName { kind, value: value.to_owned(), reason });
    if value.is_empty() {
        return invalid("empty");
    }
    if value.starts_with('.') {
        return invalid("starts with a dot");
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
        return invalid("only letters, digits, '-', '.' and '_' are allowed");
    }
    Ok(())
}

/// One backup in a listing, complete (with its manifest) or not.
#[derive(Clone, Debug)]
pub struct BackupInfo {
    /// The node.
    pub node: String,
    /// The backup's name.
    pub name: String,
    /// Its start (from the manifest) or, for an incomplete one, its last object's time.
    pub time: DateTime<Utc>,
    /// The bytes stored under its folder.
    pub size: u64,
    /// Its manifest, present only when the backup is complete.
    pub manifest: Option<Manifest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: Manifest::FORMAT,
            node: "dati-comune".into(),
            name: "20261207T101500.042Z".into(),
            ckan_version: Some("2.12.0".into()),
            schema_revision: None,
            started_at: "2026-12-07T10:15:00.042Z".parse().expect("time"),
            finished_at: "2026-12-07T10:15:09Z".parse().expect("time"),
            parts: vec![
                PartRecord { name: "database.dump".into(), size: 1000, sha256: "ab".repeat(32) },
                PartRecord { name: "files.tar".into(), size: 24, sha256: "cd".repeat(32) },
            ],
        }
    }

    #[test]
    fn manifest_round_trips_in_camel_case_without_an_absent_revision() {
        let m = manifest();
        let text = String::from_utf8(m.to_json()).expect("utf-8");
        assert!(text.contains("\"ckanVersion\": \"2.12.0\""), "{text}");
        assert!(text.contains("\"startedAt\""), "{text}");
        assert!(!text.contains("schemaRevision"), "{text}");
        assert_eq!(Manifest::from_json("k", text.as_bytes()).expect("parses"), m);
        assert_eq!(m.size(), 1024);
    }

    #[test]
    fn a_broken_manifest_names_its_key() {
        let err = Manifest::from_json("p/n/b/manifest.json", b"{\"format\": 1").expect_err("truncated");
        assert!(err.to_string().starts_with("manifest p/n/b/manifest.json: "), "{err}");
    }

    #[test]
    fn names_sort_in_time_order_with_milliseconds() {
        let a = backup_name("2026-12-07T10:15:00.042Z".parse().expect("time"));
        let b = backup_name("2026-12-07T10:15:00.100Z".parse().expect("time"));
        let c = backup_name("2026-12-07T10:15:01Z".parse().expect("time"));
        assert_eq!(a, "20261207T101500.042Z");
        assert_eq!(c, "20261207T101501.000Z");
        assert!(a < b && b < c);
        check_segment("backup", &a).expect("a generated name is a valid segment");
    }

    #[test]
    fn segments_refuse_paths_and_dots() {
        for bad in ["", ".", "..", "a/b", ".hidden", "nodo con spazi", "x\\y"] {
            assert!(check_segment("node", bad).is_err(), "{bad:?} accepted");
        }
        for good in ["dati-comune", "node.example", "n_1"] {
            check_segment("node", good).expect(good);
        }
    }
}
