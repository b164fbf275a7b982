//! What a backup pod tells the controller: one line of JSON in its termination message
//! (`/dev/termination-log`), which the kubelet keeps in the pod's status, so the controller
//! learns a backup's name, place and size without credentials for the store.

use serde::{Deserialize, Serialize};

use super::Manifest;

/// A completed backup, as its pod reports it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The backup's name.
    pub name: String,
    /// Where it is (`s3://bucket/prefix/node/name/`, or a file's path on the backup volume).
    pub location: String,
    /// Bytes stored.
    pub size_bytes: u64,
    /// How long the backup took.
    pub seconds: f64,
}

impl Report {
    /// The report of a backup written to the store at `location` (`s3://bucket/prefix`).
    pub fn of(manifest: &Manifest, location: &str) -> Self {
        let seconds = (manifest.finished_at - manifest.started_at).num_milliseconds() as f64 / 1000.0;
        let folder = format!("{}/{}/{}/", location.trim_end_matches('/'), manifest.node, manifest.name);
        Self { name: manifest.name.clone(), location: folder, size_bytes: manifest.size(), seconds }
    }

    /// Reads a termination message; `None` for anything else (an older pod's free text).
    pub fn parse(message: &str) -> Option<Self> {
        serde_json::from_str(message.trim()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::PartRecord;

    #[test]
    fn a_report_names_the_backups_folder_and_reads_back() {
        let started = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:15:00.042Z").expect("time").to_utc();
        let manifest = Manifest {
            format: Manifest::FORMAT,
            node: "dati-comune".into(),
            name: "20261207T101500.042Z".into(),
            ckan_version: Some("2.12.0".into()),
            schema_revision: None,
            started_at: started,
            finished_at: started + chrono::Duration::milliseconds(9269),
            parts: vec![
                PartRecord { name: "database.dump".into(), size: 11_571, sha256: "a".into() },
                PartRecord { name: "files.tar".into(), size: 12_595_200, sha256: "b".into() },
            ],
        };
        let report = Report::of(&manifest, "s3://backups/ckan/");
        assert_eq!(report.location, "s3://backups/ckan/dati-comune/20261207T101500.042Z/");
        assert_eq!((report.size_bytes, report.seconds), (12_606_771, 9.269));
        let line = serde_json::to_string(&report).expect("JSON");
        assert_eq!(Report::parse(&format!("{line}\n")), Some(report));
        assert_eq!(Report::parse("backup written: /backups/x.dump"), None);
    }
}
