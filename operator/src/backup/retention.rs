//! Which backups retention removes: planned from a listing, without the store, so that the
//! rules are tested on their own.

use chrono::{DateTime, Duration, Utc};

use super::BackupInfo;

/// How many complete backups of a node to keep and for how long. Both rules apply: a backup
/// goes when it is past the count or past the age. Neither rule ever removes the newest
/// complete backup, so a node whose backups stopped working keeps its last good one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep the newest N complete backups (at least one is always kept).
    pub keep: Option<u32>,
    /// Remove complete backups that started more than this many days ago.
    pub max_age_days: Option<u32>,
}

/// The backups of one node that retention removes at `now`: complete ones past the count or
/// the age (never the newest), and incomplete ones (failed runs' leftovers) older than the
/// newest complete backup. An incomplete backup newer than that may be a run in progress and
/// is left alone; with no complete backup at all, nothing is removed.
pub fn plan<'a>(retention: &Retention, backups: &'a [BackupInfo], now: DateTime<Utc>) -> Vec<&'a BackupInfo> {
    let mut complete: Vec<&BackupInfo> = backups.iter().filter(|b| b.manifest.is_some()).collect();
    complete.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| b.name.cmp(&a.name)));
    let Some(newest) = complete.first() else {
        return Vec::new();
    };
    let oldest_allowed = retention.max_age_days.map(|days| now - Duration::days(i64::from(days)));
    let keep = retention.keep.map_or(usize::MAX, |n| usize::try_from(n.max(1)).unwrap_or(usize::MAX));
    let mut remove: Vec<&BackupInfo> = complete
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(i, b)| *i >= keep || oldest_allowed.is_some_and(|limit| b.time < limit))
        .map(|(_, b)| *b)
        .collect();
    remove.extend(backups.iter().filter(|b| b.manifest.is_none() && b.time < newest.time));
    remove
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::Manifest;

    fn at(day: u32) -> DateTime<Utc> {
        format!("2026-12-{day:02}T03:00:00Z").parse().expect("time")
    }

    fn backup(day: u32, complete: bool) -> BackupInfo {
        let name = crate::backup::backup_name(at(day));
        let manifest = complete.then(|| Manifest {
            format: Manifest::FORMAT,
            node: "n".into(),
            name: name.clone(),
            ckan_version: Some("2.12.0".into()),
            schema_revision: None,
            started_at: at(day),
            finished_at: at(day),
            parts: Vec::new(),
        });
        BackupInfo { node: "n".into(), name, time: at(day), size: 0, manifest }
    }

    fn removed(retention: Retention, backups: &[BackupInfo], now: u32) -> Vec<String> {
        let mut names: Vec<String> = plan(&retention, backups, at(now)).into_iter().map(|b| b.name.clone()).collect();
        names.sort();
        names
    }

    fn names(days: &[u32]) -> Vec<String> {
        days.iter().map(|d| crate::backup::backup_name(at(*d))).collect()
    }

    #[test]
    fn count_keeps_the_newest_n_whatever_the_listing_order() {
        let backups = [backup(3, true), backup(1, true), backup(5, true), backup(2, true), backup(4, true)];
        assert_eq!(removed(Retention { keep: Some(2), max_age_days: None }, &backups, 6), names(&[1, 2, 3]));
    }

    #[test]
    fn age_removes_the_old_but_never_the_newest_complete() {
        let backups = [backup(1, true), backup(2, true), backup(9, true)];
        let retention = Retention { keep: None, max_age_days: Some(3) };
        assert_eq!(removed(retention, &backups, 10), names(&[1, 2]));
        // Backups stopped months ago: the last good one stays.
        let stale = [backup(1, true), backup(2, true)];
        assert_eq!(removed(retention, &stale, 30), names(&[1]));
    }

    #[test]
    fn a_count_of_zero_still_keeps_one() {
        let backups = [backup(1, true), backup(2, true)];
        assert_eq!(removed(Retention { keep: Some(0), max_age_days: None }, &backups, 3), names(&[1]));
    }

    #[test]
    fn both_rules_apply() {
        let backups = [backup(1, true), backup(6, true), backup(7, true), backup(8, true)];
        let retention = Retention { keep: Some(3), max_age_days: Some(2) };
        assert_eq!(removed(retention, &backups, 9), names(&[1, 6]));
    }

    #[test]
    fn incomplete_leftovers_go_only_when_older_than_the_newest_complete() {
        let backups = [backup(1, false), backup(2, true), backup(3, false)];
        // Day 3's may be a run in progress; day 1's failed before day 2's completed.
        assert_eq!(removed(Retention::default(), &backups, 4), names(&[1]));
    }

    #[test]
    fn nothing_goes_without_a_complete_backup() {
        let backups = [backup(1, false), backup(2, false)];
        assert!(removed(Retention { keep: Some(1), max_age_days: Some(1) }, &backups, 30).is_empty());
    }
}
