//! Restoring a backup into a node's database and files directory. The backup is fetched and
//! checked whole before anything is written: a part that does not match its manifest stops
//! the restore while the database and the files are still untouched.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::Command;

use super::ops::tail;
use super::{BackupError, DATABASE_PART, FILES_PART, Manifest, Store, fetch, pg_environment};

/// What to restore, and where to.
#[derive(Clone, Debug)]
pub struct RestoreRequest {
    /// The node whose backup it is (its folder in the store).
    pub node: String,
    /// The backup's name, or `latest`.
    pub backup: String,
    /// Where the parts are downloaded (room for the whole backup); emptied of them after.
    pub work_dir: PathBuf,
    /// CKAN's storage directory, which the files part is extracted into.
    pub files_dir: PathBuf,
    /// The database as a libpq URL; without it `pg_restore` reads the standard `PG*` variables.
    pub database_url: Option<String>,
}

/// Restores a backup: fetched with every part checked against the manifest, then the database
/// by `pg_restore` in one transaction (a failure leaves the database as it was), then the
/// files by `tar`. Objects are owned by the restoring role (`--no-owner`): a node restored
/// elsewhere has roles of its own. Returns the manifest of the backup restored.
pub async fn restore(store: &Store, request: &RestoreRequest) -> Result<Manifest, BackupError> {
    let manifest = fetch(store, &request.node, &request.backup, &request.work_dir).await?;
    for part in [DATABASE_PART, FILES_PART] {
        if !manifest.parts.iter().any(|p| p.name == part) {
            return Err(BackupError::MissingPart { name: manifest.name.clone(), part });
        }
    }
    let vars = match &request.database_url {
        Some(url) => pg_environment(url)?,
        None => Vec::new(),
    };
    // pg_restore writes SQL to stdout unless it is given a database to connect to.
    let database = vars
        .iter()
        .find(|(name, _)| *name == "PGDATABASE")
        .map(|(_, value)| value.clone())
        .or_else(|| std::env::var("PGDATABASE").ok())
        .ok_or_else(|| BackupError::Config("the database URL names no database to restore into".into()))?;
    let mut pg_restore = Command::new("pg_restore");
    pg_restore
        .args(["--no-owner", "--no-privileges", "--clean", "--if-exists", "--single-transaction"])
        .args(["--exit-on-error", "--no-password"])
        .arg(format!("--dbname={database}"))
        .arg(request.work_dir.join(DATABASE_PART))
        .envs(vars);
    run_to_end("pg_restore", pg_restore).await?;

    let mut tar = Command::new("tar");
    // --no-overwrite-dir: directories that exist keep their owner and mode (the archive holds
    // the directory's entries, never the volume's root itself).
    tar.args(["--extract", "--no-same-owner", "--no-overwrite-dir", "--file"])
        .arg(request.work_dir.join(FILES_PART))
        .arg("--directory")
        .arg(&request.files_dir);
    run_to_end("tar", tar).await?;

    for part in &manifest.parts {
        let path = request.work_dir.join(&part.name);
        tokio::fs::remove_file(&path).await.map_err(|source| BackupError::Local { path, source })?;
    }
    Ok(manifest)
}

/// Runs a program to its end; its failure is an error quoting the end of its standard error.
async fn run_to_end(program: &'static str, mut command: Command) -> Result<(), BackupError> {
    let output = command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| BackupError::Process { program, source })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(BackupError::ProcessFailed { program, status: output.status, stderr: tail(&output.stderr) })
    }
}
