//! Running a backup, listing a store's backups, and fetching one back for a restore.

use std::collections::BTreeMap;
use std::path::{Path as LocalPath, PathBuf};
use std::process::Stdio;

use bytes::BytesMut;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore as _, ObjectStoreExt as _, PutPayload};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::{
    BackupError, BackupInfo, DATABASE_PART, FILES_PART, MANIFEST, Manifest, PartRecord, Retention, Store, backup_name,
    check_segment, pg_environment, plan,
};

/// Parts are uploaded in pieces of this size (S3's minimum is 5 MiB), [`PIECES_IN_FLIGHT`]
/// at a time: memory use stays near their product whatever the size of the database.
const PART_PIECE: usize = 8 * 1024 * 1024;
/// Pieces uploaded at once: two keep the link busy while the next piece fills, without the
/// 8 (64 MiB) object_store allows by default in a backup pod's small memory limit.
const PIECES_IN_FLIGHT: usize = 2;
/// Read size from the producing process.
const READ_CHUNK: usize = 256 * 1024;
/// How much of a failed program's standard error goes into the error.
const STDERR_TAIL: usize = 2048;

/// What to back up.
#[derive(Clone, Debug)]
pub struct BackupRequest {
    /// The CatalogNode's name (its folder in the store).
    pub node: String,
    /// CKAN's version, recorded in the manifest when given.
    pub ckan_version: Option<String>,
    /// CKAN's schema revision, recorded when known.
    pub schema_revision: Option<String>,
    /// CKAN's storage directory (uploaded files), archived whole; without it the backup is the
    /// database alone.
    pub files_dir: Option<PathBuf>,
    /// Retention, applied once the backup is complete.
    pub retention: Retention,
    /// The database as a libpq URL; without it `pg_dump` reads the standard `PG*` variables.
    /// Its parts reach `pg_dump` as those variables, never on its command line.
    pub database_url: Option<String>,
}

/// A completed backup, and what retention did after it.
#[derive(Debug)]
pub struct BackupOutcome {
    /// The manifest written.
    pub manifest: Manifest,
    /// The names of the backups retention removed, or why it failed (the backup itself is
    /// complete either way: a failed retention leaves backups behind, never removes one).
    pub retention: Result<Vec<String>, BackupError>,
}

/// Backs up a node: `pg_dump --format=custom` (connected through the standard `PG*`
/// environment variables: host, port, user, database, password or passfile) and, when one is
/// given, a tar of the files directory, each streamed into its object, then the manifest, then retention. Any
/// failure stops the run before the manifest, so the backup stays incomplete and the earlier
/// ones are untouched.
pub async fn run(store: &Store, request: &BackupRequest) -> Result<BackupOutcome, BackupError> {
    check_segment("node", &request.node)?;
    let started_at = Utc::now();
    let name = backup_name(started_at);
    let folder = store.folder(&request.node, Some(&name));

    let mut pg_dump = Command::new("pg_dump");
    // --no-password: a missing password fails at once instead of waiting on a prompt.
    pg_dump.args(["--format=custom", "--no-password"]);
    if let Some(url) = &request.database_url {
        pg_dump.envs(pg_environment(url)?);
    }
    let database = stream_part(store, &folder, DATABASE_PART, "pg_dump", pg_dump).await?;

    let mut parts = vec![database];
    if let Some(files_dir) = &request.files_dir {
        let mut tar = Command::new("tar");
        // Owners as numbers: the restoring pod's user names need not match the backed up one's.
        tar.args(["--create", "--file=-", "--numeric-owner", "--directory"]).arg(files_dir);
        // The directory's entries, not the directory itself: its owner and mode are its
        // volume's, which a restore into another volume may not set (tar then fails).
        let entries = entries_of(files_dir)?;
        if entries.is_empty() {
            tar.arg("--files-from=/dev/null");
        } else {
            tar.arg("--").args(entries);
        }
        parts.push(stream_part(store, &folder, FILES_PART, "tar", tar).await?);
    }

    let manifest = Manifest {
        format: Manifest::FORMAT,
        node: request.node.clone(),
        name,
        ckan_version: request.ckan_version.clone(),
        schema_revision: request.schema_revision.clone(),
        started_at,
        finished_at: Utc::now(),
        parts,
    };
    let key = folder.clone().join(MANIFEST);
    store
        .inner
        .put(&key, PutPayload::from(manifest.to_json()))
        .await
        .map_err(|e| store.error(format!("writing {key}"), e))?;
    let retention = apply_retention(store, &request.node, &request.retention).await;
    Ok(BackupOutcome { manifest, retention })
}

/// The names in a directory, sorted (so that archives of the same files are the same).
fn entries_of(dir: &LocalPath) -> Result<Vec<std::ffi::OsString>, BackupError> {
    let local = |source| BackupError::Local { path: dir.to_owned(), source };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(local)? {
        names.push(entry.map_err(local)?.file_name());
    }
    names.sort();
    Ok(names)
}

/// Streams a program's standard output into the object `folder/part`, hashing it on the way.
/// The upload is finished only when the program exited successfully: a failed `pg_dump`
/// leaves no object (or an aborted multipart upload), never a truncated dump that looks whole.
async fn stream_part(
    store: &Store,
    folder: &Path,
    part: &str,
    program: &'static str,
    mut command: Command,
) -> Result<PartRecord, BackupError> {
    let key = folder.clone().join(part);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let mut child = command.spawn().map_err(|source| BackupError::Process { program, source })?;
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(BackupError::Process { program, source: std::io::Error::other("no pipes") });
    };
    // Read beside stdout: a program blocked on a full stderr pipe would never finish stdout.
    let stderr = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text).await;
        text
    });
    let mut upload =
        BufWriter::with_capacity(store.inner.clone(), key.clone(), PART_PIECE).with_max_concurrency(PIECES_IN_FLIGHT);
    let streamed = copy_hashing(stdout, &mut upload, program, store, &key).await;
    if streamed.is_err() {
        // The upload failed: stop the program rather than wait for it to fill a dead pipe.
        let _ = child.start_kill();
    }
    let status = child.wait().await.map_err(|source| BackupError::Process { program, source });
    let stderr = stderr.await.unwrap_or_default();
    let outcome = match (streamed, status) {
        (Ok(record), Ok(status)) if status.success() => Ok(record),
        (Ok(_), Ok(status)) => Err(BackupError::ProcessFailed { program, status, stderr: tail(&stderr) }),
        (Ok(_), Err(e)) | (Err(e), _) => Err(e),
    };
    match outcome {
        Ok((size, sha256)) => {
            upload.shutdown().await.map_err(|e| store.error(format!("uploading {key}"), e))?;
            Ok(PartRecord { name: part.to_owned(), size, sha256 })
        }
        Err(e) => {
            // Best effort: the error that matters is the one that stopped the part.
            let _ = upload.abort().await;
            Err(e)
        }
    }
}

/// Copies a reader into the upload; returns the size and the SHA-256 (hex) of what went.
async fn copy_hashing(
    mut reader: impl AsyncRead + Unpin,
    upload: &mut BufWriter,
    program: &'static str,
    store: &Store,
    key: &Path,
) -> Result<(u64, String), BackupError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let mut chunk = BytesMut::with_capacity(READ_CHUNK);
        let read = reader.read_buf(&mut chunk).await.map_err(|source| BackupError::Process { program, source })?;
        if read == 0 {
            return Ok((size, crate::hex(&hasher.finalize())));
        }
        hasher.update(&chunk);
        size += read as u64;
        upload.put(chunk.freeze()).await.map_err(|e| store.error(format!("uploading {key}"), e))?;
    }
}

/// The last bytes of a program's standard error, as text.
pub(super) fn tail(stderr: &[u8]) -> String {
    let start = stderr.len().saturating_sub(STDERR_TAIL);
    String::from_utf8_lossy(&stderr[start..]).trim().to_owned()
}

/// Applies retention to a node's backups; returns the names removed.
async fn apply_retention(store: &Store, node: &str, retention: &Retention) -> Result<Vec<String>, BackupError> {
    let backups = list(store, Some(node)).await?;
    let mut removed = Vec::new();
    for backup in plan(retention, &backups, Utc::now()) {
        remove(store, backup).await?;
        removed.push(backup.name.clone());
    }
    Ok(removed)
}

/// Removes one backup's objects, the manifest first: a removal cut short leaves an
/// incomplete backup (removed by the next retention), never a complete-looking one with a
/// part missing.
async fn remove(store: &Store, backup: &BackupInfo) -> Result<(), BackupError> {
    let folder = store.folder(&backup.node, Some(&backup.name));
    let manifest = folder.clone().join(MANIFEST);
    if backup.manifest.is_some() {
        store.inner.delete(&manifest).await.map_err(|e| store.error(format!("removing {manifest}"), e))?;
    }
    let keys: Vec<Path> = store
        .inner
        .list(Some(&folder))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .map_err(|e| store.error(format!("listing {folder}"), e))?;
    for key in keys {
        store.inner.delete(&key).await.map_err(|e| store.error(format!("removing {key}"), e))?;
    }
    Ok(())
}

/// The backups in a store, of every node or of one, sorted by node then time, each with its
/// manifest when complete. Keys that are not `<node>/<backup>/<part>` under the prefix are
/// not backups and are left out.
pub async fn list(store: &Store, node: Option<&str>) -> Result<Vec<BackupInfo>, BackupError> {
    let under = match node {
        Some(node) => {
            check_segment("node", node)?;
            store.folder(node, None)
        }
        None => store.root().clone(),
    };
    let objects: Vec<object_store::ObjectMeta> =
        store.inner.list(Some(&under)).try_collect().await.map_err(|e| store.error(format!("listing {under}"), e))?;
    // (node, name) -> (bytes, newest object time, has a manifest)
    let mut folders: BTreeMap<(String, String), (u64, DateTime<Utc>, bool)> = BTreeMap::new();
    for object in &objects {
        let Some(parts) = object.location.prefix_match(store.root()) else { continue };
        let parts: Vec<String> = parts.map(|p| p.as_ref().to_owned()).collect();
        let [node, name, part] = parts.as_slice() else { continue };
        let entry = folders.entry((node.clone(), name.clone())).or_insert((0, object.last_modified, false));
        entry.0 += object.size;
        entry.1 = entry.1.max(object.last_modified);
        entry.2 |= part == MANIFEST;
    }
    let mut backups = Vec::with_capacity(folders.len());
    for ((node, name), (size, time, complete)) in folders {
        let manifest = if complete { Some(read_manifest(store, &node, &name).await?) } else { None };
        let time = manifest.as_ref().map_or(time, |m| m.started_at);
        backups.push(BackupInfo { node, name, time, size, manifest });
    }
    Ok(backups)
}

async fn read_manifest(store: &Store, node: &str, name: &str) -> Result<Manifest, BackupError> {
    let key = store.folder(node, Some(name)).join(MANIFEST);
    let bytes = async { store.inner.get(&key).await?.bytes().await }
        .await
        .map_err(|e| store.error(format!("reading {key}"), e))?;
    Manifest::from_json(key.as_ref(), &bytes)
}

/// Downloads a complete backup's parts and manifest into `into` (created if missing),
/// checking each part's size and SHA-256 against the manifest while it downloads. `name`
/// may be `latest`, the node's newest complete backup. A part that does not match is
/// removed from `into` and refused with an error naming it: a restore never starts from a
/// corrupted backup.
pub async fn fetch(store: &Store, node: &str, name: &str, into: &LocalPath) -> Result<Manifest, BackupError> {
    check_segment("node", node)?;
    let manifest = if name == "latest" {
        let newest = list(store, Some(node)).await?.into_iter().filter_map(|b| b.manifest).max_by_key(|m| m.started_at);
        newest.ok_or_else(|| BackupError::NoBackup(node.to_owned()))?
    } else {
        check_segment("backup", name)?;
        let key = store.folder(node, Some(name)).join(MANIFEST);
        match store.inner.head(&key).await {
            Ok(_) => read_manifest(store, node, name).await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(BackupError::Incomplete { node: node.to_owned(), name: name.to_owned() });
            }
            Err(e) => return Err(store.error(format!("reading {key}"), e)),
        }
    };
    tokio::fs::create_dir_all(into).await.map_err(|source| BackupError::Local { path: into.to_owned(), source })?;
    let folder = store.folder(node, Some(&manifest.name));
    for part in &manifest.parts {
        check_segment("part", &part.name)?;
        download_part(store, &folder.clone().join(part.name.as_str()), part, into).await?;
    }
    let path = into.join(MANIFEST);
    tokio::fs::write(&path, manifest.to_json()).await.map_err(|source| BackupError::Local { path, source })?;
    Ok(manifest)
}

/// Downloads one part to `into/<part>` through a temporary name, so that a refused or cut
/// download never leaves a file with the part's name.
async fn download_part(store: &Store, key: &Path, part: &PartRecord, into: &LocalPath) -> Result<(), BackupError> {
    let partial = into.join(format!("{}.partial", part.name));
    let local = |source| BackupError::Local { path: partial.clone(), source };
    let mut file = tokio::fs::File::create(&partial).await.map_err(local)?;
    let mut stream = store.inner.get(key).await.map_err(|e| store.error(format!("reading {key}"), e))?.into_stream();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.try_next().await.map_err(|e| store.error(format!("reading {key}"), e))? {
        hasher.update(&chunk);
        size += chunk.len() as u64;
        file.write_all(&chunk).await.map_err(local)?;
    }
    file.sync_all().await.map_err(local)?;
    drop(file);
    let actual = crate::hex(&hasher.finalize());
    let refusal = if size != part.size {
        Some(BackupError::SizeMismatch { part: part.name.clone(), expected: part.size, actual: size })
    } else if actual != part.sha256 {
        Some(BackupError::DigestMismatch { part: part.name.clone(), expected: part.sha256.clone(), actual })
    } else {
        None
    };
    if let Some(refusal) = refusal {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(refusal);
    }
    let path = into.join(&part.name);
    tokio::fs::rename(&partial, &path).await.map_err(|source| BackupError::Local { path, source })
}

/// A listing as a table: node, name, time, size, complete.
pub fn table(backups: &[BackupInfo]) -> String {
    let mut rows = vec![["NODE".to_owned(), "NAME".into(), "TIME".into(), "SIZE".into(), "COMPLETE".into()]];
    for b in backups {
        let time = b.time.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let complete = if b.manifest.is_some() { "yes" } else { "no" };
        rows.push([b.node.clone(), b.name.clone(), time, b.size.to_string(), complete.into()]);
    }
    let widths: Vec<usize> = (0..5).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            format!("{}\n", cells.join("  ").trim_end())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_aligns_columns_and_tells_complete_from_incomplete() {
        let time: DateTime<Utc> = "2026-12-07T10:15:00Z".parse().expect("time");
        let manifest = Manifest {
            format: Manifest::FORMAT,
            node: "dati".into(),
            name: "20261207T101500.000Z".into(),
            ckan_version: Some("2.12.0".into()),
            schema_revision: None,
            started_at: time,
            finished_at: time,
            parts: Vec::new(),
        };
        let backups = [
            BackupInfo { node: "dati".into(), name: manifest.name.clone(), time, size: 1234, manifest: Some(manifest) },
            BackupInfo { node: "dati".into(), name: "20261208T000000.000Z".into(), time, size: 5, manifest: None },
        ];
        assert_eq!(
            table(&backups),
            "NODE  NAME                  TIME                     SIZE  COMPLETE\n\
             dati  20261207T101500.000Z  2026-12-07 10:15:00 UTC  1234  yes\n\
             dati  20261208T000000.000Z  2026-12-07 10:15:00 UTC  5     no\n"
        );
    }

    #[test]
    fn a_failed_programs_error_keeps_the_end_of_its_stderr() {
        let long = format!("{}the reason", "x".repeat(STDERR_TAIL * 2));
        assert!(tail(long.as_bytes()).ends_with("the reason"));
        assert_eq!(tail(long.as_bytes()).len(), STDERR_TAIL);
        assert_eq!(crate::hex(&[0, 15, 255]), "000fff");
    }
}
