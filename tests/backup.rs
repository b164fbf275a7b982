//! `mediana backup` against a real S3-compatible server (SeaweedFS, tests/objectstore/s3.sh)
//! and a real PostgreSQL (the CKAN peers' of tests/ckan/ckan.sh), both started by `make
//! test`: a backup that round-trips byte for byte, a corrupted part refused, retention,
//! failed runs that leave the earlier backups alone, and credentials that never show.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mediana::backup::{Credentials, SecretSource, Store, StoreConfig};
use object_store::path::Path as Key;
use object_store::{ObjectStoreExt as _, PutPayload};

/// The object store and the PostgreSQL of the harness; `None` (the test skips) without them.
struct Env {
    endpoint: String,
    tls_endpoint: String,
    ca_bundle: PathBuf,
    bucket: String,
    key_id_file: PathBuf,
    secret_file: PathBuf,
    pg_host: String,
    pg_port: String,
}

fn env() -> Option<Env> {
    let var = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some(Env {
            endpoint: var("MEDIANA_S3_ENDPOINT")?,
            tls_endpoint: var("MEDIANA_S3_TLS_ENDPOINT")?,
            ca_bundle: var("MEDIANA_S3_CA_BUNDLE")?.into(),
            bucket: var("MEDIANA_S3_BUCKET")?,
            key_id_file: var("MEDIANA_S3_ACCESS_KEY_ID_FILE")?.into(),
            secret_file: var("MEDIANA_S3_SECRET_ACCESS_KEY_FILE")?.into(),
            pg_host: var("MEDIANA_PG_HOST")?,
            pg_port: var("MEDIANA_PG_PORT")?,
        })
    })();
    if found.is_none() {
        eprintln!(
            "skipped: no object store or PostgreSQL: run the tests with `make test`, or \
             `tests/objectstore/s3.sh up DIR` and `tests/ckan/ckan.sh up DIR2 1` and export DIR/env and DIR2/env"
        );
    }
    found
}

/// One test's place in the store and its database: every test has its own prefix, node and
/// database, so the tests run in parallel and a rerun never sees an earlier run's backups.
struct Case {
    env: Env,
    /// The endpoint `mediana` is given (plain HTTP unless a test says otherwise).
    endpoint: String,
    /// The CA bundle `mediana` is given, if any.
    ca_bundle: Option<PathBuf>,
    /// `MEDIANA_BACKUP_DATABASE_URL`, as a backup pod sets it, if any.
    database_url: Option<String>,
    prefix: String,
    node: String,
    database: String,
    work: PathBuf,
}

impl Case {
    fn new(env: Env, name: &str) -> Case {
        let run = format!("{}-{}", std::process::id(), chrono::Utc::now().timestamp_millis());
        let database = format!("backup_{}_{}", name.replace('-', "_"), std::process::id());
        let work = std::env::temp_dir().join(format!("mediana-backup-{name}-{run}"));
        std::fs::create_dir_all(work.join("files/2026/12")).expect("work dir");
        let endpoint = env.endpoint.clone();
        let case = Case {
            env,
            endpoint,
            ca_bundle: None,
            database_url: None,
            prefix: format!("tests/{run}"),
            node: format!("node-{name}"),
            database,
            work,
        };
        case.psql("postgres", &format!("DROP DATABASE IF EXISTS {}", case.database));
        case.psql("postgres", &format!("CREATE DATABASE {}", case.database));
        case.psql(
            &case.database,
            "CREATE TABLE package (id text PRIMARY KEY, title text);
             INSERT INTO package SELECT 'ds-' || i, 'Dataset ' || i FROM generate_series(1, 2000) i",
        );
        case
    }

    fn psql(&self, database: &str, sql: &str) {
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", &self.env.pg_host, "-p", &self.env.pg_port])
            .args(["-U", "postgres", "-d", database, "-c", sql])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// One value of a query, as psql prints it unaligned.
    fn query(&self, database: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", &self.env.pg_host, "-p", &self.env.pg_port])
            .args(["-U", "postgres", "-d", database, "-c", sql])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `backup restore` of `backup` into the database `into` (through its URL, as the
    /// restore pod connects) and the files directory `files`, reporting to `report`.
    fn restore(&mut self, backup: &str, into: &str, files: &Path, report: &Path) -> Output {
        self.psql("postgres", &format!("DROP DATABASE IF EXISTS {into}"));
        self.psql("postgres", &format!("CREATE DATABASE {into}"));
        std::fs::create_dir_all(files).expect("files dir");
        self.database_url = Some(format!("postgresql://postgres@{}:{}/{into}", self.env.pg_host, self.env.pg_port));
        let work = self.work.join("restore-work");
        let paths = [work.as_path(), files, report].map(|p| p.to_str().expect("utf-8 path").to_owned());
        let args = ["restore", "--node", &self.node, "--backup", backup, "--work-dir", &paths[0]];
        let out = self.mediana(&[&args[..], &["--files-dir", &paths[1], "--report", &paths[2]]].concat(), "postgres");
        self.database_url = None;
        out
    }

    fn files(&self) -> PathBuf {
        self.work.join("files")
    }

    fn secrets(&self) -> [String; 2] {
        let read = |p: &Path| std::fs::read_to_string(p).expect("read a key file").trim().to_owned();
        [read(&self.env.key_id_file), read(&self.env.secret_file)]
    }

    /// `mediana backup ARGS` with the store's options (and PG* for the database), its
    /// output checked for the credentials whatever the outcome.
    fn mediana(&self, args: &[&str], pg_database: &str) -> Output {
        let store = format!("s3://{}/{}", self.env.bucket, self.prefix);
        let mut command = Command::new(env!("CARGO_BIN_EXE_mediana"));
        if let Some(bundle) = &self.ca_bundle {
            command.env("MEDIANA_BACKUP_CA_BUNDLE", bundle);
        }
        if let Some(url) = &self.database_url {
            command.env("MEDIANA_BACKUP_DATABASE_URL", url);
        }
        let out = command
            .arg("backup")
            .args(args)
            .args(["--store", &store, "--endpoint", &self.endpoint])
            .env("MEDIANA_BACKUP_ACCESS_KEY_ID_FILE", &self.env.key_id_file)
            .env("MEDIANA_BACKUP_SECRET_ACCESS_KEY_FILE", &self.env.secret_file)
            .envs([("PGHOST", &self.env.pg_host), ("PGPORT", &self.env.pg_port)])
            .envs([("PGUSER", "postgres"), ("PGDATABASE", pg_database)])
            .output()
            .expect("run mediana");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        for secret in self.secrets() {
            assert!(!text.contains(&secret), "a credential in the output of {args:?}:\n{text}");
        }
        out
    }

    fn backup(&self, extra: &[&str]) -> Output {
        let files = self.files();
        let files = files.to_str().expect("utf-8 path");
        let mut args = vec!["run", "--node", &self.node, "--ckan-version", "2.12.0", "--files-dir", files];
        args.extend_from_slice(extra);
        self.mediana(&args, &self.database)
    }

    fn backup_ok(&self, extra: &[&str]) -> String {
        let out = self.backup(extra);
        assert!(out.status.success(), "backup failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The node's rows of `backup list`: (name, size, complete).
    fn listed(&self) -> Vec<(String, u64, bool)> {
        let out = self.mediana(&["list", "--node", &self.node], "postgres");
        assert!(out.status.success(), "list failed: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        assert!(lines.next().is_some_and(|h| h.starts_with("NODE")), "no header: {text}");
        lines
            .map(|line| {
                let cells: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(cells.len(), 7, "row {line:?}"); // the time is three cells
                assert_eq!(cells[0], self.node);
                (cells[1].to_owned(), cells[5].parse().expect("a size"), cells[6] == "yes")
            })
            .collect()
    }

    fn fetch(&self, backup: &str, into: &Path) -> Output {
        let into = into.to_str().expect("utf-8 path");
        self.mediana(&["fetch", "--node", &self.node, "--backup", backup, "--into", into], "postgres")
    }

    fn store(&self) -> Store {
        let credentials = Credentials::read(
            &SecretSource::File(self.env.key_id_file.clone()),
            &SecretSource::File(self.env.secret_file.clone()),
        )
        .expect("credentials");
        Store::connect(StoreConfig {
            endpoint: self.env.endpoint.clone(),
            bucket: self.env.bucket.clone(),
            prefix: self.prefix.clone(),
            region: mediana::backup::DEFAULT_REGION.into(),
            credentials,
            ca_bundle: None,
        })
        .expect("store")
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// Bytes that do not compress: `n` of them from a simple generator.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_backup_round_trips_byte_for_byte() {
    let Some(env) = env() else { return };
    let case = Case::new(env, "round-trip");
    // 12 MiB: more than one upload piece, so the part goes up as a multipart upload.
    let upload = noise(12 * 1024 * 1024, 7);
    std::fs::write(case.files().join("2026/12/resource.bin"), &upload).expect("write a file");
    std::fs::write(case.files().join("readme.txt"), "dati aperti\n").expect("write a file");

    let started = std::time::Instant::now();
    let report = case.backup_ok(&[]);
    let backup_secs = started.elapsed().as_secs_f64();
    assert!(report.contains(" complete in "), "{report}");

    let listed = case.listed();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let (name, size, complete) = &listed[0];
    assert!(complete, "{listed:?}");

    let into = case.work.join("fetched");
    let started = std::time::Instant::now();
    let out = case.fetch("latest", &into);
    let fetch_secs = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "fetch failed: {}", stderr(&out));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(into.join("manifest.json")).expect("manifest")).expect("JSON");
    assert_eq!(manifest["name"], name.as_str());
    assert_eq!(manifest["node"], case.node.as_str());
    assert_eq!(manifest["ckanVersion"], "2.12.0");
    let parts = manifest["parts"].as_array().expect("parts");
    let part_sizes: u64 = parts.iter().map(|p| p["size"].as_u64().expect("size")).sum();
    // The listing's size is every object's: the parts and the manifest.
    let manifest_size = std::fs::metadata(into.join("manifest.json")).expect("manifest").len();
    assert_eq!(*size, part_sizes + manifest_size);
    for part in parts {
        let file = into.join(part["name"].as_str().expect("name"));
        let bytes = std::fs::read(&file).expect("a fetched part");
        assert_eq!(bytes.len() as u64, part["size"].as_u64().expect("size"));
        let digest: String =
            <sha2::Sha256 as sha2::Digest>::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(part["sha256"], digest.as_str());
    }

    // The directory's entries, not the directory: a restore cannot set a volume root's mode.
    let members = Command::new("tar").arg("-tf").arg(into.join("files.tar")).output().expect("run tar");
    let members = String::from_utf8_lossy(&members.stdout).into_owned();
    assert!(members.lines().all(|m| m != "./" && m != "."), "{members}");
    assert!(members.lines().any(|m| m == "readme.txt"), "{members}");

    let restored = case.work.join("restored");
    std::fs::create_dir_all(&restored).expect("dir");
    let tar = Command::new("tar").arg("-xf").arg(into.join("files.tar")).arg("-C").arg(&restored).status();
    assert!(tar.expect("run tar").success());
    assert_eq!(std::fs::read(restored.join("2026/12/resource.bin")).expect("restored file"), upload);
    assert_eq!(std::fs::read_to_string(restored.join("readme.txt")).expect("restored file"), "dati aperti\n");

    let list = Command::new("pg_restore").arg("--list").arg(into.join("database.dump")).output().expect("pg_restore");
    assert!(list.status.success(), "pg_restore: {}", stderr(&list));
    assert!(String::from_utf8_lossy(&list.stdout).contains("TABLE DATA public package"));

    eprintln!(
        "figures: backup {backup_secs:.2} s, fetch and verify {fetch_secs:.2} s, {size} bytes stored \
         (database.dump {} bytes, files.tar {} bytes)",
        parts[0]["size"], parts[1]["size"]
    );
}

#[tokio::test]
async fn a_corrupted_part_is_refused_naming_it() {
    let Some(env) = env() else { return };
    let case = Case::new(env, "corrupt");
    std::fs::write(case.files().join("readme.txt"), "dati aperti\n").expect("write a file");
    case.backup_ok(&[]);
    let (name, _, _) = case.listed().remove(0);

    let key = Key::from(format!("{}/{}/{name}/files.tar", case.prefix, case.node));
    let store = case.store();
    let bytes = noise(10240, 3);
    store.client().put(&key, PutPayload::from(bytes)).await.expect("overwrite the part");

    let into = case.work.join("fetched");
    let out = case.fetch(&name, &into);
    assert!(!out.status.success(), "a corrupted backup was fetched");
    let err = stderr(&out);
    assert!(err.contains("files.tar: SHA-256 ") && err.contains("does not match the manifest's"), "{err}");
    assert!(!into.join("files.tar").exists() && !into.join("files.tar.partial").exists());
}

#[test]
fn retention_keeps_the_newest_n() {
    let Some(env) = env() else { return };
    let case = Case::new(env, "retention");
    for _ in 0..3 {
        case.backup_ok(&["--keep", "5"]);
    }
    let before: Vec<String> = case.listed().into_iter().map(|(name, _, _)| name).collect();
    assert_eq!(before.len(), 3);
    let report = case.backup_ok(&["--keep", "2"]);
    let after = case.listed();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.iter().all(|(_, _, complete)| *complete));
    // The two newest: the one just made and the last of the three before.
    assert_eq!(after[0].0, before[2]);
    for removed in &before[..2] {
        assert!(report.contains(&format!("retention removed {removed}")), "{report}");
    }
}

#[test]
fn a_failed_backup_leaves_the_previous_ones_intact() {
    let Some(env) = env() else { return };
    let case = Case::new(env, "failed");
    case.backup_ok(&[]);
    let first = case.listed();

    // pg_dump fails: no part is left at all, retention does not run.
    let out = case.mediana(
        &["run", "--node", &case.node, "--ckan-version", "2.12.0", "--keep", "1"]
            .into_iter()
            .chain(["--files-dir", case.files().to_str().expect("utf-8")])
            .collect::<Vec<_>>(),
        "no_such_database",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pg_dump failed"), "{}", stderr(&out));
    assert_eq!(case.listed(), first);

    // The files fail after the dump went up: an incomplete backup, with no manifest.
    let missing = case.work.join("missing");
    let out = case.mediana(
        &["run", "--node", &case.node, "--ckan-version", "2.12.0", "--files-dir", missing.to_str().expect("utf-8")],
        &case.database,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("missing: No such file or directory"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "each cause once: {err}");
    let listed = case.listed();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0], first[0]);
    assert!(!listed[1].2, "the failed backup looks complete: {listed:?}");
    let out = case.fetch(&listed[1].0, &case.work.join("fetched"));
    assert!(stderr(&out).contains("is not complete"), "{}", stderr(&out));

    // The next good run's retention removes the leftover, older than it, and keeps the rest.
    case.backup_ok(&["--keep", "5"]);
    let last = case.listed();
    assert_eq!(last.len(), 2, "{last:?}");
    assert!(last.iter().all(|(_, _, complete)| *complete));
    assert_eq!(last[0], first[0]);
}

#[test]
fn wrong_credentials_fail_without_showing_them() {
    let Some(env) = env() else { return };
    let mut case = Case::new(env, "credentials");
    let wrong = case.work.join("wrong-secret");
    std::fs::write(&wrong, "not-the-secret-0123456789").expect("write");
    let right = std::mem::replace(&mut case.env.secret_file, wrong);
    let out = case.mediana(&["list"], "postgres");
    assert!(!out.status.success(), "a wrong secret was accepted");
    assert!(!stderr(&out).contains("not-the-secret-0123456789"), "{}", stderr(&out));
    case.env.secret_file = right;
}

#[test]
fn a_store_that_is_down_fails_in_one_line_saying_why() {
    let Some(env) = env() else { return };
    let mut case = Case::new(env, "store-down");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("its address");
    case.endpoint = format!("http://{closed}");
    let out = case.backup(&[]);
    assert!(!out.status.success(), "a backup to nothing succeeded");
    // One line (a pod's termination message keeps the last line naming an error), with the
    // cause after what was being done.
    let err = stderr(&out);
    let line = err.lines().last().unwrap_or_default();
    assert!(line.starts_with("Error: backing up node-store-down to s3://"), "{err}");
    assert!(line.to_lowercase().contains("connection refused"), "the cause, on the same line: {err}");
}

#[tokio::test]
async fn a_database_alone_is_backed_up_without_a_files_directory() {
    let Some(env) = env() else { return };
    let case = Case::new(env, "database-only");
    // A ReusableSolution's database: no files, no CKAN version.
    let out = case.mediana(&["run", "--node", &case.node], &case.database);
    assert!(out.status.success(), "{}", stderr(&out));
    let into = case.work.join("fetched");
    let out = case.fetch("latest", &into);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(into.join("manifest.json")).expect("manifest")).expect("JSON");
    let parts: Vec<&str> =
        manifest["parts"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(parts, ["database.dump"], "{manifest}");
    assert!(manifest.get("ckanVersion").is_none(), "{manifest}");
    let list = Command::new("pg_restore").arg("--list").arg(into.join("database.dump")).output().expect("pg_restore");
    assert!(String::from_utf8_lossy(&list.stdout).contains("TABLE DATA public package"), "{}", stderr(&list));
}

#[test]
fn the_store_is_reached_over_tls_with_its_ca_bundle() {
    let Some(env) = env() else { return };
    let mut case = Case::new(env, "tls");
    case.endpoint = case.env.tls_endpoint.clone();
    // The test CA is in no system store: without the bundle the certificate is refused.
    let out = case.mediana(&["list"], "postgres");
    assert!(!out.status.success(), "a certificate of an unknown CA was accepted");
    case.ca_bundle = Some(case.env.ca_bundle.clone());
    case.backup_ok(&[]);
    let listed = case.listed();
    assert!(listed.len() == 1 && listed[0].2, "{listed:?}");
}

#[test]
fn a_backup_pod_connects_through_a_database_url_and_reports_in_json() {
    let Some(env) = env() else { return };
    let mut case = Case::new(env, "url-report");
    case.database_url =
        Some(format!("postgresql://postgres@{}:{}/{}", case.env.pg_host, case.env.pg_port, case.database));
    let report = case.work.join("termination-log");
    let report_arg = report.to_str().expect("utf-8 path").to_owned();
    // PGDATABASE names no database: only the URL's database makes the dump work, and the URL
    // is never on pg_dump's command line.
    let files = case.files();
    let args = ["run", "--node", &case.node, "--ckan-version", "2.12.0", "--files-dir", files.to_str().expect("utf-8")];
    let out = case.mediana(&[&args[..], &["--report", &report_arg]].concat(), "no_such_database");
    assert!(out.status.success(), "{}", stderr(&out));
    let written: mediana::backup::Report =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the report")).expect("JSON");
    let listed = case.listed();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(written.name, listed[0].0);
    assert_eq!(written.location, format!("s3://{}/{}/{}/{}/", case.env.bucket, case.prefix, case.node, written.name));
    assert!(written.size_bytes > 0 && written.seconds >= 0.0, "{written:?}");

    case.database_url =
        Some(format!("postgresql://postgres:hunter2@{}:{}/x?options=-c", case.env.pg_host, case.env.pg_port));
    let out = case.mediana(&args, &case.database);
    assert!(!out.status.success());
    let text = stderr(&out);
    assert!(text.contains("query parameter \"options\" is not supported"), "{text}");
    assert!(!text.contains("hunter2"), "the password is not shown: {text}");
}

#[test]
fn a_restore_brings_back_the_database_and_the_files_byte_for_byte() {
    let Some(env) = env() else { return };
    let mut case = Case::new(env, "restore");
    let upload = noise(3 * 1024 * 1024 + 17, 11);
    std::fs::write(case.files().join("2026/12/resource.bin"), &upload).expect("write a file");
    case.backup_ok(&[]);
    let (name, _, _) = case.listed().remove(0);

    let (into, files, report) =
        (format!("{}_restored", case.database), case.work.join("restored"), case.work.join("log"));
    let out = case.restore("latest", &into, &files, &report);
    assert!(out.status.success(), "restore failed: {}", stderr(&out));
    assert_eq!(case.query(&into, "SELECT count(*) FROM package"), "2000");
    assert_eq!(case.query(&into, "SELECT title FROM package WHERE id = 'ds-1999'"), "Dataset 1999");
    assert_eq!(std::fs::read(files.join("2026/12/resource.bin")).expect("the restored file"), upload);
    let written: mediana::backup::Report =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the report")).expect("JSON");
    assert_eq!(written.name, name, "latest is the one backup");
    // Only the restored files are left: the downloaded parts are removed.
    let left: Vec<_> = std::fs::read_dir(case.work.join("restore-work")).expect("work dir").flatten().collect();
    assert!(left.iter().all(|e| e.file_name() == "manifest.json"), "{left:?}");

    // Restored again over itself (a retried restore pod): the same rows, not twice as many.
    let out = case.restore(&name, &into, &files, &report);
    assert!(out.status.success(), "restore failed: {}", stderr(&out));
    assert_eq!(case.query(&into, "SELECT count(*) FROM package"), "2000");
}

#[tokio::test]
async fn a_corrupted_backup_restores_nothing() {
    let Some(env) = env() else { return };
    let mut case = Case::new(env, "restore-corrupt");
    std::fs::write(case.files().join("readme.txt"), "dati aperti\n").expect("write a file");
    case.backup_ok(&[]);
    let (name, _, _) = case.listed().remove(0);
    // The files part, checked after the database's: nothing may be restored before every
    // part is checked.
    let key = Key::from(format!("{}/{}/{name}/files.tar", case.prefix, case.node));
    case.store().client().put(&key, PutPayload::from(noise(10240, 5))).await.expect("overwrite the part");

    let (into, files, report) =
        (format!("{}_restored", case.database), case.work.join("restored"), case.work.join("log"));
    let out = case.restore(&name, &into, &files, &report);
    assert!(!out.status.success(), "a corrupted backup was restored");
    let err = stderr(&out);
    assert!(err.contains("files.tar: SHA-256 ") && err.contains("refusing it"), "{err}");
    assert_eq!(case.query(&into, "SELECT count(*) FROM pg_tables WHERE tablename = 'package'"), "0");
    assert_eq!(std::fs::read_dir(&files).expect("files dir").count(), 0, "no file restored");
    assert!(!report.exists(), "no report of a restore that did not happen");
}
