//! The CKAN install and upgrade as a pure plan: given what serves, what is desired and the
//! state of the Jobs, which release the web runs, which Job to start, and what to report.
//!
//! Install: the migration Job (`ckan db upgrade`, CKAN's `db init`) initialises the database;
//! the web starts only once it succeeded. Upgrade: backup (when backups are configured and
//! `beforeUpgrade`), migration with the new release, web rollout, search-index rebuild. The
//! web moves to the new release only after the migration succeeded; a failed step leaves the
//! old release serving.
//!
//! A new node with `spec.restore` starts with the restore Job (the database and the files),
//! then the install's migration, the web, and the search-index rebuild; each step is a phase
//! of `status.restore`, and a failed one starts nothing after it.

use crate::api::catalog_node::{RestorePhase, RestoreStatus, UpgradePhase, UpgradeStatus};
use crate::backup::Report;
use crate::controllers::conditions::Reason;

use super::builders::{Release, UpgradeJob};

/// The state of an upgrade Job in the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Not created.
    Missing,
    /// Created, not finished.
    Running,
    /// Completed successfully.
    Succeeded,
    /// Failed, with the Job's message.
    Failed(String),
}

/// The states of the Jobs of an install or upgrade to the desired release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStates {
    /// The restore of a new node from a backup.
    pub restore: JobState,
    /// The pre-upgrade backup.
    pub backup: JobState,
    /// The migration.
    pub migrate: JobState,
    /// The index rebuild.
    pub reindex: JobState,
}

/// What the reconcile does about upgrades this time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The release the web Deployment runs; none while the database is first initialised.
    pub web: Option<Release>,
    /// A Job to create now.
    pub start: Option<UpgradeJob>,
    /// What `status.upgrade` says.
    pub status: Option<UpgradeStatus>,
    /// A failure that needs a person (`Stalled=True`).
    pub failure: Option<(Reason, String)>,
    /// What `status.restore` says, while a restore is planned or done.
    pub restore: Option<RestoreStatus>,
}

/// A restore the node starts from, until it completed.
#[derive(Clone, Copy, Debug)]
pub struct Restore<'a> {
    /// The backup `spec.restore` names (`latest` or a name).
    pub backup: &'a str,
    /// What the status records of it.
    pub recorded: Option<&'a RestoreStatus>,
    /// What the restore Job reported, once it succeeded: the backup's name and location.
    pub report: Option<&'a Report>,
}

/// What the plan is made from: the releases, the Jobs, and the node's state.
pub struct Situation<'a> {
    /// The release the status records as serving (it moves to the desired one when the web
    /// rollout completes); none before the first.
    pub serving: Option<&'a Release>,
    /// The release the spec asks for.
    pub desired: &'a Release,
    /// Whether an upgrade starts with a backup.
    pub backup_first: bool,
    /// The Jobs of the desired release.
    pub jobs: &'a JobStates,
    /// The upgrade the status records.
    pub previous: Option<&'a UpgradeStatus>,
    /// Whether the database accepts connections (the first migration waits for it).
    pub database_ready: bool,
    /// Whether Solr is rolled out and ready (the index rebuild waits for it: an upgrade
    /// rolls Solr too, to the new release's schema).
    pub search_ready: bool,
    /// The restore to do before the first install, or to finish after it.
    pub restore: Option<Restore<'a>>,
    /// The time to record when an upgrade or a restore step starts or ends.
    pub now: &'a str,
}

/// Plans the next step.
pub fn plan(situation: &Situation<'_>) -> Plan {
    let Situation { serving, desired, backup_first, jobs, previous, database_ready, search_ready, restore, now } =
        *situation;
    let Some(serving) = serving else { return install(desired, jobs, database_ready, restore, now) };
    if let Some(restore) = restore.filter(|_| serving == desired) {
        return reindex_restored(desired, &jobs.reindex, search_ready, restore, previous, now);
    }
    let ongoing = previous.filter(|p| p.to_version == desired.version && p.phase != UpgradePhase::Completed);
    let status = |phase: UpgradePhase, message: Option<String>| {
        Some(UpgradeStatus {
            from_version: ongoing.map(|p| p.from_version.clone()).unwrap_or_else(|| serving.version.clone()),
            to_version: desired.version.clone(),
            phase,
            message,
            started_at: Some(ongoing.and_then(|p| p.started_at.clone()).unwrap_or_else(|| now.to_owned())),
        })
    };
    let keep = |start: Option<UpgradeJob>, phase: UpgradePhase, web: &Release| Plan {
        web: Some(web.clone()),
        start,
        status: status(phase, None),
        failure: None,
        restore: None,
    };
    let fail = |reason: Reason, what: &str, message: &str| Plan {
        web: Some(serving.clone()),
        start: None,
        status: status(UpgradePhase::Failed, Some(format!("{what}: {message}"))),
        failure: Some((
            reason,
            format!("{what} for CKAN {} failed, {} keeps serving: {message}", desired.version, serving.version),
        )),
        restore: None,
    };

    if serving == desired {
        // Rolled out: only the index rebuild may remain, for an upgrade that got this far.
        if !ongoing.is_some_and(|p| matches!(p.phase, UpgradePhase::RollingOut | UpgradePhase::Reindexing)) {
            return Plan {
                web: Some(desired.clone()),
                start: None,
                status: previous.cloned(),
                failure: None,
                restore: None,
            };
        }
        return match &jobs.reindex {
            JobState::Missing if !search_ready => keep(None, UpgradePhase::Reindexing, desired),
            JobState::Missing => keep(Some(UpgradeJob::Reindex), UpgradePhase::Reindexing, desired),
            JobState::Running => keep(None, UpgradePhase::Reindexing, desired),
            JobState::Succeeded => keep(None, UpgradePhase::Completed, desired),
            JobState::Failed(message) => Plan {
                web: Some(desired.clone()),
                start: None,
                status: status(UpgradePhase::Failed, Some(format!("index rebuild: {message}"))),
                failure: Some((Reason::ReindexFailed, format!("the search-index rebuild failed: {message}"))),
                restore: None,
            },
        };
    }

    if backup_first {
        match &jobs.backup {
            JobState::Missing => return keep(Some(UpgradeJob::Backup), UpgradePhase::BackingUp, serving),
            JobState::Running => return keep(None, UpgradePhase::BackingUp, serving),
            JobState::Failed(message) => return fail(Reason::BackupFailed, "the pre-upgrade backup", message),
            JobState::Succeeded => {}
        }
    }
    match &jobs.migrate {
        JobState::Missing => keep(Some(UpgradeJob::Migrate), UpgradePhase::Migrating, serving),
        JobState::Running => keep(None, UpgradePhase::Migrating, serving),
        JobState::Failed(message) => fail(Reason::MigrationFailed, "the database migration", message),
        // The migration is done: the web moves to the new release. When the rollout is
        // complete the status records the new release as serving, and the index rebuild
        // follows on the next reconcile.
        JobState::Succeeded => keep(None, UpgradePhase::RollingOut, desired),
    }
}

/// The first install: once the database accepts connections, the restore when there is one,
/// then the migration initialises (or, restored, migrates) the database; then the web starts.
fn install(desired: &Release, jobs: &JobStates, database_ready: bool, restore: Option<Restore<'_>>, now: &str) -> Plan {
    let restoring = |phase, message| restore.map(|r| restore_status(r, phase, message, now));
    let waiting =
        |start, phase| Plan { web: None, start, status: None, failure: None, restore: restoring(phase, None) };
    if let Some(restore) = restore {
        match &jobs.restore {
            JobState::Missing if !database_ready => return waiting(None, RestorePhase::Restoring),
            JobState::Missing => return waiting(Some(UpgradeJob::Restore), RestorePhase::Restoring),
            JobState::Running => return waiting(None, RestorePhase::Restoring),
            JobState::Failed(message) => {
                let what = format!(
                    "the restore of backup {}",
                    restore_status(restore, RestorePhase::Failed, None, now).backup
                );
                return Plan {
                    failure: Some((
                        Reason::RestoreFailed,
                        format!(
                            "{what} failed, CKAN is not started: {message}; fix spec.restore, or delete the failed Job to try again"
                        ),
                    )),
                    restore: restoring(RestorePhase::Failed, Some(message.clone())),
                    ..waiting(None, RestorePhase::Failed)
                };
            }
            JobState::Succeeded => {}
        }
    }
    match &jobs.migrate {
        JobState::Missing if !database_ready => waiting(None, RestorePhase::Migrating),
        JobState::Missing => waiting(Some(UpgradeJob::Migrate), RestorePhase::Migrating),
        JobState::Running => waiting(None, RestorePhase::Migrating),
        JobState::Failed(message) => Plan {
            failure: Some((
                Reason::MigrationFailed,
                format!("the database initialisation for CKAN {} failed: {message}", desired.version),
            )),
            restore: restoring(RestorePhase::Failed, Some(format!("the migration failed: {message}"))),
            ..waiting(None, RestorePhase::Failed)
        },
        JobState::Succeeded => Plan {
            web: Some(desired.clone()),
            start: None,
            status: None,
            failure: None,
            restore: restoring(RestorePhase::Starting, None),
        },
    }
}

/// A restored node serving: its search index rebuilt from the restored database, once.
fn reindex_restored(
    desired: &Release,
    reindex: &JobState,
    search_ready: bool,
    restore: Restore<'_>,
    previous: Option<&UpgradeStatus>,
    now: &str,
) -> Plan {
    let step = |start, phase, message| Plan {
        web: Some(desired.clone()),
        start,
        status: previous.cloned(),
        failure: None,
        restore: Some(restore_status(restore, phase, message, now)),
    };
    match reindex {
        JobState::Missing if !search_ready => step(None, RestorePhase::Reindexing, None),
        JobState::Missing => step(Some(UpgradeJob::Reindex), RestorePhase::Reindexing, None),
        JobState::Running => step(None, RestorePhase::Reindexing, None),
        JobState::Succeeded => step(None, RestorePhase::Completed, None),
        JobState::Failed(message) => Plan {
            failure: Some((
                Reason::ReindexFailed,
                format!("the search-index rebuild after the restore failed: {message}"),
            )),
            ..step(None, RestorePhase::Failed, Some(format!("the search-index rebuild failed: {message}")))
        },
    }
}

/// The restore's status in `phase`: the backup as reported (else as recorded, else as named),
/// its start kept from the record, its end set when it completes.
fn restore_status(restore: Restore<'_>, phase: RestorePhase, message: Option<String>, now: &str) -> RestoreStatus {
    let recorded = restore.recorded;
    let started_at = recorded.and_then(|r| r.started_at.clone()).unwrap_or_else(|| now.to_owned());
    let completed_at = (phase == RestorePhase::Completed).then(|| {
        recorded.filter(|r| r.phase == phase).and_then(|r| r.completed_at.clone()).unwrap_or_else(|| now.to_owned())
    });
    let backup = restore
        .report
        .map(|r| r.name.clone())
        .or_else(|| recorded.map(|r| r.backup.clone()))
        .unwrap_or_else(|| restore.backup.to_owned());
    let location = restore.report.map(|r| r.location.clone()).or_else(|| recorded.and_then(|r| r.location.clone()));
    RestoreStatus { phase, backup, location, message, started_at: Some(started_at), completed_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: &str) -> Release {
        Release { version: version.into(), image: format!("ckan:{version}") }
    }

    fn jobs(backup: JobState, migrate: JobState, reindex: JobState) -> JobStates {
        JobStates { restore: JobState::Missing, backup, migrate, reindex }
    }

    const NOW: &str = "2026-11-23T13:00:00Z";

    /// The plan with the database up.
    fn planned(
        serving: Option<&Release>,
        desired: &Release,
        backup_first: bool,
        jobs: &JobStates,
        previous: Option<&UpgradeStatus>,
    ) -> Plan {
        plan(&Situation {
            serving,
            desired,
            backup_first,
            jobs,
            previous,
            database_ready: true,
            search_ready: true,
            restore: None,
            now: NOW,
        })
    }

    #[test]
    fn nothing_to_do_when_serving_the_desired_release() {
        let plan = planned(
            Some(&release("2.11.3")),
            &release("2.11.3"),
            true,
            &jobs(JobState::Missing, JobState::Missing, JobState::Missing),
            None,
        );
        assert_eq!(
            plan,
            Plan { web: Some(release("2.11.3")), start: None, status: None, failure: None, restore: None }
        );
    }

    #[test]
    fn a_new_node_initialises_its_database_before_the_web_starts() {
        use JobState::*;
        let new = release("2.12.0");
        let step = |migrate: JobState| planned(None, &new, true, &jobs(Missing, migrate, Missing), None);
        let before_the_database = plan(&Situation {
            serving: None,
            desired: &new,
            backup_first: true,
            jobs: &jobs(Missing, Missing, Missing),
            previous: None,
            database_ready: false,
            search_ready: true,
            restore: None,
            now: NOW,
        });
        assert_eq!(before_the_database.start, None, "the migration waits for PostgreSQL to accept connections");
        let p = step(Missing);
        assert_eq!((p.start, p.web), (Some(UpgradeJob::Migrate), None), "no backup of an empty database");
        assert_eq!(step(Running), Plan { web: None, start: None, status: None, failure: None, restore: None });
        let failed = step(Failed("could not connect to server".into()));
        assert_eq!(failed.web, None);
        let (reason, message) = failed.failure.expect("reported");
        assert_eq!(reason, Reason::MigrationFailed);
        assert!(message.contains("initialisation for CKAN 2.12.0 failed: could not connect"), "{message}");
        assert_eq!(
            step(Succeeded),
            Plan { web: Some(new.clone()), start: None, status: None, failure: None, restore: None }
        );
    }

    /// An upgrade rolls Solr to the new release's schema too: the rebuild waits for it, since
    /// one sent to a Solr still starting fails (seen on the real node, under load).
    #[test]
    fn the_index_rebuild_waits_for_solr() {
        use JobState::*;
        let new = release("2.12.0");
        let rolling_out = UpgradeStatus {
            from_version: "2.11.6".into(),
            to_version: "2.12.0".into(),
            phase: UpgradePhase::RollingOut,
            message: None,
            started_at: Some(NOW.into()),
        };
        let with_solr = |search_ready| {
            plan(&Situation {
                serving: Some(&new),
                desired: &new,
                backup_first: false,
                jobs: &jobs(Missing, Succeeded, Missing),
                previous: Some(&rolling_out),
                database_ready: true,
                search_ready,
                restore: None,
                now: NOW,
            })
        };
        let waiting = with_solr(false);
        assert_eq!((waiting.start, waiting.status.map(|s| s.phase)), (None, Some(UpgradePhase::Reindexing)));
        assert_eq!(waiting.failure, None);
        assert_eq!(with_solr(true).start, Some(UpgradeJob::Reindex));
    }

    #[test]
    fn backup_then_migration_then_rollout_then_reindex() {
        let (old, new) = (release("2.11.3"), release("2.11.4"));
        use JobState::*;
        let step = |j: JobStates, serving: &Release, previous: Option<&UpgradeStatus>| {
            planned(Some(serving), &new, true, &j, previous)
        };

        let p = step(jobs(Missing, Missing, Missing), &old, None);
        assert_eq!((p.start, p.web.clone()), (Some(UpgradeJob::Backup), Some(old.clone())));
        let status = p.status.clone().expect("status");
        assert_eq!(
            (status.phase, status.from_version.as_str(), status.to_version.as_str()),
            (UpgradePhase::BackingUp, "2.11.3", "2.11.4")
        );

        let p = step(jobs(Succeeded, Missing, Missing), &old, p.status.as_ref());
        assert_eq!(
            (p.start, p.web.clone()),
            (Some(UpgradeJob::Migrate), Some(old.clone())),
            "the web waits for the migration"
        );
        let p = step(jobs(Succeeded, Running, Missing), &old, p.status.as_ref());
        assert_eq!((p.start, p.status.as_ref().map(|s| s.phase)), (None, Some(UpgradePhase::Migrating)));
        assert_eq!(p.web, Some(old.clone()));

        let p = step(jobs(Succeeded, Succeeded, Missing), &old, p.status.as_ref());
        assert_eq!(
            (p.web.clone(), p.status.as_ref().map(|s| s.phase)),
            (Some(new.clone()), Some(UpgradePhase::RollingOut))
        );

        // Rolled out: the status now says the new release serves.
        let p = step(jobs(Succeeded, Succeeded, Missing), &new, p.status.as_ref());
        assert_eq!(
            (p.start, p.status.as_ref().map(|s| s.phase)),
            (Some(UpgradeJob::Reindex), Some(UpgradePhase::Reindexing))
        );
        let p = step(jobs(Succeeded, Succeeded, Succeeded), &new, p.status.as_ref());
        let done = p.status.expect("status");
        assert_eq!(done.phase, UpgradePhase::Completed);
        assert_eq!(done.started_at.as_deref(), Some(NOW), "the start time is kept through the steps");
        assert_eq!(done.from_version, "2.11.3", "the origin is kept after the rollout");
    }

    #[test]
    fn a_failed_migration_keeps_the_old_release_serving() {
        let (old, new) = (release("2.11.3"), release("2.12.0"));
        let p = planned(
            Some(&old),
            &new,
            false,
            &jobs(JobState::Missing, JobState::Failed("alembic: duplicate column".into()), JobState::Missing),
            None,
        );
        assert_eq!(p.web, Some(old));
        assert_eq!(p.start, None, "a failed migration is not retried blindly");
        let (reason, message) = p.failure.expect("failure reported");
        assert_eq!(reason, Reason::MigrationFailed);
        assert!(message.contains("alembic: duplicate column") && message.contains("2.11.3 keeps serving"), "{message}");
        assert_eq!(p.status.map(|s| s.phase), Some(UpgradePhase::Failed));
    }

    #[test]
    fn without_backups_the_migration_comes_first() {
        let p = planned(
            Some(&release("2.11.3")),
            &release("2.11.4"),
            false,
            &jobs(JobState::Missing, JobState::Missing, JobState::Missing),
            None,
        );
        assert_eq!(p.start, Some(UpgradeJob::Migrate));
    }

    #[test]
    fn a_failed_backup_stops_the_upgrade() {
        let p = planned(
            Some(&release("2.11.3")),
            &release("2.11.4"),
            true,
            &jobs(JobState::Failed("disk full".into()), JobState::Missing, JobState::Missing),
            None,
        );
        assert_eq!(p.failure.map(|f| f.0), Some(Reason::BackupFailed));
        assert_eq!(p.start, None);
        assert_eq!(p.web, Some(release("2.11.3")));
    }

    fn restoring(
        serving: Option<&Release>,
        jobs: &JobStates,
        database_ready: bool,
        recorded: Option<&RestoreStatus>,
        report: Option<&Report>,
    ) -> Plan {
        plan(&Situation {
            serving,
            desired: &release("2.12.0"),
            backup_first: false,
            jobs,
            previous: None,
            database_ready,
            search_ready: true,
            restore: Some(Restore { backup: "latest", recorded, report }),
            now: NOW,
        })
    }

    fn restore_jobs(restore: JobState, migrate: JobState, reindex: JobState) -> JobStates {
        JobStates { restore, backup: JobState::Missing, migrate, reindex }
    }

    #[test]
    fn a_restore_comes_before_the_install_and_each_step_is_a_phase() {
        let phase = |p: &Plan| p.restore.as_ref().map(|r| r.phase);
        let missing = restore_jobs(JobState::Missing, JobState::Missing, JobState::Missing);
        let p = restoring(None, &missing, false, None, None);
        assert_eq!(
            (p.start, p.web.as_ref(), phase(&p)),
            (None, None, Some(RestorePhase::Restoring)),
            "waits for the database"
        );
        let p = restoring(None, &missing, true, None, None);
        assert_eq!(p.start, Some(UpgradeJob::Restore), "the restore first, not the migration");
        assert_eq!(p.restore.as_ref().and_then(|r| r.started_at.as_deref()), Some(NOW));

        let report = Report {
            name: "20261207T101500.000Z".into(),
            location: "s3://backups/ckan/marche/20261207T101500.000Z/".into(),
            size_bytes: 10,
            seconds: 1.0,
        };
        let restored = restore_jobs(JobState::Succeeded, JobState::Missing, JobState::Missing);
        let p = restoring(None, &restored, true, None, Some(&report));
        assert_eq!((p.start, phase(&p)), (Some(UpgradeJob::Migrate), Some(RestorePhase::Migrating)));
        assert_eq!(p.restore.as_ref().map(|r| r.backup.as_str()), Some("20261207T101500.000Z"), "latest, resolved");
        let recorded = p.restore.clone();

        let migrated = restore_jobs(JobState::Succeeded, JobState::Succeeded, JobState::Missing);
        let p = restoring(None, &migrated, true, recorded.as_ref(), None);
        assert_eq!((p.web.clone(), phase(&p)), (Some(release("2.12.0")), Some(RestorePhase::Starting)));
        assert_eq!(p.restore.as_ref().and_then(|r| r.location.as_deref()), Some(report.location.as_str()), "kept");

        let serving = release("2.12.0");
        let p = restoring(Some(&serving), &migrated, true, recorded.as_ref(), None);
        assert_eq!((p.start, phase(&p)), (Some(UpgradeJob::Reindex), Some(RestorePhase::Reindexing)));
        let indexed = restore_jobs(JobState::Succeeded, JobState::Succeeded, JobState::Succeeded);
        let p = restoring(Some(&serving), &indexed, true, recorded.as_ref(), None);
        assert_eq!((p.start, phase(&p)), (None, Some(RestorePhase::Completed)));
        assert_eq!(p.restore.as_ref().and_then(|r| r.completed_at.as_deref()), Some(NOW));
    }

    #[test]
    fn a_failed_restore_starts_nothing_and_says_why() {
        let refused = "database.dump: SHA-256 ab does not match the manifest's cd: refusing it";
        let jobs = restore_jobs(JobState::Failed(refused.into()), JobState::Missing, JobState::Missing);
        let p = restoring(None, &jobs, true, None, None);
        assert_eq!((p.start, p.web.as_ref()), (None, None), "no migration, no CKAN");
        let (reason, message) = p.failure.expect("a failure");
        assert_eq!(reason, Reason::RestoreFailed);
        assert!(message.contains("the restore of backup latest failed") && message.contains(refused), "{message}");
        assert_eq!(p.restore.map(|r| (r.phase, r.message)), Some((RestorePhase::Failed, Some(refused.to_owned()))));
    }
}
