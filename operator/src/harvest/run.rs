//! One harvest run: gather → map → validate → score → write → delete guard, streaming
//! datasets from the source to the sink with bounded concurrency.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use tokio::sync::mpsc;

use super::ckan::{self, CkanClient, CkanError};
use super::dcat::{self, DcatError};
use super::model::{Agent, Dataset};
use super::package::{self, Provenance};
use super::quality;
use super::sink::{CkanSink, Write};
use super::validate::{self, Finding, Severity};
use crate::api::harvest_job::{
    DatasetError, GeodataPolicy, HarvestRun, RdfFormat, RemovedDatasetPolicy, RunCounts, RunPreview, RunResult,
    SourceType, ValidationMode,
};
use crate::netguard::{NetConfig, NetError, NetGuard};

/// Errors that stop a run before or while gathering. Per-dataset failures are not errors
/// of the run: they are counted and listed in the report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The CKAN source or target failed.
    #[error(transparent)]
    Ckan(#[from] CkanError),
    /// The DCAT source failed.
    #[error(transparent)]
    Dcat(#[from] DcatError),
}

impl RunError {
    /// A stable category, for metrics and reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Net(e) => e.category(),
            Self::Ckan(e) => e.category(),
            Self::Dcat(e) => e.category(),
        }
    }
}

/// The source of a run.
#[derive(Clone, Debug)]
pub struct SourceConfig {
    /// CKAN base URL, or the DCAT document URL.
    pub url: String,
    /// CKAN or DCAT.
    pub kind: SourceType,
    /// RDF serialization of a DCAT source, when it should not be detected.
    pub format: Option<RdfFormat>,
    /// CKAN organization filter.
    pub organization: Option<String>,
    /// Extra CKAN `fq`.
    pub query: Option<String>,
    /// API token for the source.
    pub token: Option<String>,
}

/// The CKAN target of a run.
#[derive(Clone, Debug)]
pub struct TargetConfig {
    /// CKAN base URL.
    pub url: String,
    /// API token (needed unless dry run).
    pub token: Option<String>,
    /// Organization (CKAN name) the datasets go to; created when missing.
    pub organization: String,
    /// Its title, when it has to be created.
    pub organization_title: Option<String>,
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Where from.
    pub source: SourceConfig,
    /// Where to.
    pub target: TargetConfig,
    /// The job identity, `namespace/name`, recorded on every dataset written.
    pub job: String,
    /// Publisher and holder when the source names none.
    pub default_agent: Option<Agent>,
    /// Enforce, Warn or Off.
    pub validation: ValidationMode,
    /// Keep or Delete datasets gone from the source.
    pub removed_datasets: RemovedDatasetPolicy,
    /// Include or Skip geographic (GeoDCAT-AP) datasets.
    pub geodata: GeodataPolicy,
    /// Deletion guard, in percent of this job's datasets.
    pub max_delete_percent: u32,
    /// Compute without writing.
    pub dry_run: bool,
    /// Parallel writes.
    pub concurrency: usize,
    /// Network guard settings (private networks, timeouts, size cap).
    pub net: NetConfig,
    /// Cap on hydra pages of a DCAT source.
    pub max_pages: usize,
    /// CKAN `rows` per page of a CKAN source.
    pub page_rows: usize,
    /// Errors listed in the report (all are counted).
    pub max_errors: usize,
}

impl RunConfig {
    /// A configuration with the defaults of the HarvestJob CRD.
    pub fn new(source: SourceConfig, target: TargetConfig, job: String) -> Self {
        Self {
            source,
            target,
            job,
            default_agent: None,
            validation: ValidationMode::Enforce,
            removed_datasets: RemovedDatasetPolicy::Keep,
            geodata: GeodataPolicy::Include,
            max_delete_percent: 20,
            dry_run: false,
            concurrency: 4,
            net: NetConfig::default(),
            max_pages: 10_000,
            page_rows: 100,
            max_errors: 20,
        }
    }
}

/// Progress so far, given to the heartbeat hook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Counts so far.
    pub counts: RunCounts,
    /// The phase: `gathering`, `deleting` or `done`.
    pub phase: &'static str,
}

/// Called with progress at most every couple of seconds, and at each phase change (the
/// HarvestJob pod patches its status heartbeat from it; the CLI prints to stderr).
pub type ProgressHook = Arc<dyn Fn(&Progress) + Send + Sync>;

/// What the run did (or would do, in a dry run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunReport {
    /// Outcome.
    pub result: RunResult,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Dataset counts.
    pub counts: RunCounts,
    /// Mean MQA score of the datasets found (0–405).
    pub mean_quality: Option<f64>,
    /// The first errors, per dataset.
    pub errors: Vec<DatasetError>,
    /// Warnings found by validation (not blocking).
    pub warnings: i64,
    /// Names created, updated and deleted (or to be, in a dry run).
    pub created: Vec<String>,
    /// See `created`.
    pub updated: Vec<String>,
    /// See `created`.
    pub deleted: Vec<String>,
    /// Why the run ended as it did.
    pub message: String,
    /// When it started and how long it took.
    pub started: Option<chrono::DateTime<chrono::Utc>>,
    /// Duration.
    pub duration: Duration,
}

impl RunReport {
    fn error(&mut self, max: usize, dataset: String, reason: String) {
        if self.errors.len() < max {
            self.errors.push(DatasetError { dataset, reason });
        }
    }

    /// The CRD's view of the run.
    pub fn to_harvest_run(&self, job: Option<String>) -> HarvestRun {
        let started = self.started;
        let completed = started.map(|s| s + chrono::Duration::from_std(self.duration).unwrap_or_default());
        HarvestRun {
            job,
            start_time: started.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            completion_time: completed.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            heartbeat_time: None,
            result: self.result,
            dry_run: self.dry_run,
            counts: self.counts.clone(),
            mean_quality_score: self.mean_quality.map(|q| (q * 10.0).round() / 10.0),
            message: Some(self.message.clone()),
            errors: self.errors.clone(),
            preview: self.dry_run.then(|| RunPreview {
                create: first(&self.created),
                update: first(&self.updated),
                delete: first(&self.deleted),
            }),
            peak_memory_bytes: None,
        }
    }
}

/// The first names of a preview list (the CRD keeps 20 of each).
fn first(names: &[String]) -> Vec<String> {
    names.iter().take(20).cloned().collect()
}

/// Which of this job's datasets to delete: those not seen in a complete gather, unless
/// that is more than `max_percent` of them, in which case none, and why.
pub fn plan_deletions(
    existing: &HashMap<String, super::sink::Existing>,
    seen: &HashSet<String>,
    max_percent: u32,
) -> Result<Vec<String>, String> {
    let mut gone: Vec<String> = existing.keys().filter(|name| !seen.contains(*name)).cloned().collect();
    gone.sort();
    if gone.is_empty() {
        return Ok(gone);
    }
    let limit = existing.len() as u64 * u64::from(max_percent) / 100;
    if gone.len() as u64 > limit {
        return Err(format!(
            "{} of this job's {} datasets are gone from the source, more than maxDeletePercent={max_percent}%: deleted none",
            gone.len(),
            existing.len()
        ));
    }
    Ok(gone)
}

/// One dataset, ready to write.
struct Prepared {
    label: String,
    name: String,
    package: serde_json::Value,
}

/// The client of the run's target, with its token. The target is the CatalogNode's
/// in-cluster Service (or what the CLI user named), not a URL from a HarvestJob's author:
/// private addresses are expected there. Metadata addresses stay refused.
pub fn target_client(config: &RunConfig) -> Result<CkanClient, RunError> {
    let target_net = NetGuard::new(NetConfig { allow_private_networks: true, ..config.net.clone() })?;
    Ok(CkanClient::new(target_net, &config.target.url, config.target.token.clone())?)
}

/// Runs a harvest.
pub async fn run(config: RunConfig, progress: Option<ProgressHook>) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let report = RunReport { dry_run: config.dry_run, started: Some(chrono::Utc::now()), ..RunReport::default() };
    let net = NetGuard::new(config.net.clone())?;
    let target = target_client(&config)?;
    let mut sink = CkanSink::new(target, config.target.organization.clone(), config.job.clone(), config.dry_run);
    sink.detect_schema().await?;
    sink.ensure_organization(config.target.organization_title.as_deref()).await?;
    let existing = sink.existing().await?;

    let (tx, rx) = mpsc::channel::<Dataset>(256);
    let gather = tokio::spawn(gather(net, config.source.clone(), config.max_pages, config.page_rows, tx));
    let provenance = Provenance {
        source: config.source.url.clone(),
        job: config.job.clone(),
        organization: config.target.organization.clone(),
        default_agent: config.default_agent.clone(),
    };

    let mut seen = HashSet::new();
    let mut quality_sum = 0.0;
    let mut last_beat = Instant::now();
    let beat = |report: &RunReport, phase: &'static str| {
        if let Some(hook) = &progress {
            hook(&Progress { counts: report.counts.clone(), phase });
        }
    };
    beat(&report, "gathering");
    // Map, validate and score as datasets arrive; only the writes run concurrently.
    let datasets = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|d| (d, rx)) });
    // The tally is shared by the preparing closure and the loop below; they never run at
    // the same time (one task), so the RefCell borrows never overlap.
    let tally = std::cell::RefCell::new(report);
    {
        let writes = datasets
            .filter_map(|dataset| {
                let mut report = tally.borrow_mut();
                report.counts.found += 1;
                if skipped_as_geodata(&dataset, config.geodata) {
                    report.counts.skipped_geodata += 1;
                    return futures::future::ready(None);
                }
                report.counts.high_value += i64::from(dataset.is_high_value());
                let label = dataset.label();
                let Assessment { findings, valid, quality } = assess(&dataset, config.validation);
                quality_sum += quality;
                report.warnings += findings.iter().filter(|f| f.severity == Severity::Warning).count() as i64;
                let package = package::to_package(&dataset, &provenance);
                let name = package["name"].as_str().unwrap_or_default().to_owned();
                let duplicate = !seen.insert(name.clone());
                if !valid {
                    report.counts.invalid += 1;
                    let reasons: Vec<String> =
                        findings.iter().filter(|f| f.severity == Severity::Error).map(ToString::to_string).collect();
                    report.error(config.max_errors, label.clone(), reasons.join("; "));
                }
                let skip = !written(valid, duplicate, config.validation);
                if duplicate {
                    report.counts.failed += 1;
                    report.error(
                        config.max_errors,
                        label.clone(),
                        "duplicate identifier at the source: skipped".into(),
                    );
                }
                futures::future::ready((!skip).then_some(Prepared { label, name, package }))
            })
            .map(|item| {
                let existing = existing.get(&item.name);
                let sink = &sink;
                async move { (sink.write(&item.package, existing).await, item) }
            })
            .buffer_unordered(config.concurrency.max(1));
        let mut writes = std::pin::pin!(writes);
        while let Some((outcome, item)) = writes.next().await {
            let mut report = tally.borrow_mut();
            match outcome {
                Ok(Write::Created) => {
                    report.counts.created += 1;
                    report.created.push(item.name);
                }
                Ok(Write::Updated) => {
                    report.counts.updated += 1;
                    report.updated.push(item.name);
                }
                Ok(Write::Unchanged) => report.counts.unchanged += 1,
                Err(e) => {
                    report.counts.failed += 1;
                    report.error(config.max_errors, item.label, e.to_string());
                }
            }
            if last_beat.elapsed() >= Duration::from_secs(2) {
                last_beat = Instant::now();
                beat(&report, "gathering");
            }
        }
    }
    let mut report = tally.into_inner();
    report.mean_quality = (report.counts.found > 0).then(|| quality_sum / report.counts.found as f64);

    let gathered = match gather.await {
        Ok(result) => result,
        Err(join) => {
            report.result = RunResult::Failed;
            report.message = format!("the gather task failed: {join}; nothing was deleted");
            report.duration = started.elapsed();
            return Ok(report);
        }
    };
    if let Err(e) = gathered {
        report.result = RunResult::Failed;
        report.message = format!("gather failed ({}): {e}; nothing was deleted", e.category());
        report.duration = started.elapsed();
        beat(&report, "done");
        return Ok(report);
    }

    let mut notes = Vec::new();
    if config.removed_datasets == RemovedDatasetPolicy::Delete {
        beat(&report, "deleting");
        match plan_deletions(&existing, &seen, config.max_delete_percent) {
            Ok(names) => {
                for name in names {
                    match sink.delete(&name).await {
                        Ok(()) => {
                            report.counts.deleted += 1;
                            report.deleted.push(name);
                        }
                        Err(e) => {
                            report.counts.failed += 1;
                            report.error(config.max_errors, name, e.to_string());
                        }
                    }
                }
            }
            Err(why) => notes.push(why),
        }
    }
    let c = &report.counts;
    report.result = if c.failed > 0 { RunResult::PartiallySucceeded } else { RunResult::Succeeded };
    let verb = if config.dry_run { "would create" } else { "created" };
    notes.insert(
        0,
        format!(
            "{} found, {verb} {}, updated {}, unchanged {}, deleted {}, invalid {}, failed {}",
            c.found, c.created, c.updated, c.unchanged, c.deleted, c.invalid, c.failed
        ),
    );
    report.message = notes.join("; ");
    report.duration = started.elapsed();
    beat(&report, "done");
    Ok(report)
}

/// What validating and scoring one dataset gave.
#[derive(Debug)]
struct Assessment {
    /// Validation findings (none when validation is off).
    findings: Vec<Finding>,
    /// No error found, or not validated: the dataset is not counted invalid.
    valid: bool,
    /// MQA points.
    quality: f64,
}

/// Validates a dataset as the job's mode asks and scores it. Only a dataset validated and
/// found without errors earns the MQA compliance points: with validation `Off` nothing was
/// checked, so nothing is known to comply.
fn assess(dataset: &Dataset, mode: ValidationMode) -> Assessment {
    let validated = mode != ValidationMode::Off;
    let findings = if validated { validate::validate(dataset) } else { Vec::new() };
    let valid = !validate::has_errors(&findings);
    let quality = quality::score(dataset, validated && valid).total();
    Assessment { findings, valid, quality }
}

/// Whether a dataset is left out as geographic: the job skips GeoDCAT-AP datasets, which
/// reach the national catalogue through RNDT. It is not written nor counted as seen, so
/// under `removedDatasets: Delete` a copy an earlier run wrote is deleted.
fn skipped_as_geodata(dataset: &Dataset, policy: GeodataPolicy) -> bool {
    policy == GeodataPolicy::Skip && dataset.is_geodata()
}

/// Whether a dataset is written: not when its identifier was already seen in this run, nor
/// when it is invalid and the job enforces validation.
fn written(valid: bool, duplicate: bool, mode: ValidationMode) -> bool {
    !duplicate && (valid || mode != ValidationMode::Enforce)
}

/// Gathers from the configured source into the channel.
async fn gather(
    net: NetGuard,
    source: SourceConfig,
    max_pages: usize,
    rows: usize,
    tx: mpsc::Sender<Dataset>,
) -> Result<(), RunError> {
    match source.kind {
        SourceType::Dcat => {
            let format = source.format.map(dcat::spec_format);
            let stats = dcat::gather(&net, &source.url, format, max_pages, tx).await?;
            if stats.late_triples > 0 || stats.orphan_distributions > 0 {
                tracing::warn!(
                    late_triples = stats.late_triples,
                    orphan_distributions = stats.orphan_distributions,
                    "the catalogue does not group triples by subject; some were not attached to their dataset"
                );
            }
        }
        SourceType::Ckan => {
            let client = CkanClient::new(net, &source.url, source.token)?;
            ckan::gather(&client, source.organization.as_deref(), source.query.as_deref(), rows, tx).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::sink::Existing;

    fn existing(n: usize) -> HashMap<String, Existing> {
        (0..n).map(|i| (format!("d{i}"), Existing { key: format!("k{i}"), hash: String::new() })).collect()
    }

    #[test]
    fn deletions_respect_the_percentage_guard() {
        let all = existing(10);
        let seen: HashSet<String> = (0..8).map(|i| format!("d{i}")).collect();
        assert_eq!(plan_deletions(&all, &seen, 20), Ok(vec!["d8".to_owned(), "d9".to_owned()]));
        let err = plan_deletions(&all, &seen, 10).expect_err("over the guard");
        assert!(err.contains("2 of this job's 10") && err.contains("deleted none"), "{err}");
        // An empty gather would delete everything: refused.
        assert!(plan_deletions(&all, &HashSet::new(), 20).is_err());
        assert_eq!(plan_deletions(&all, &all.keys().cloned().collect(), 0), Ok(vec![]));
    }

    #[test]
    fn validation_off_earns_no_compliance_points() {
        let (datasets, _) = crate::harvest::dcat::tests::parse(
            &crate::harvest::dcat::tests::fixture("dcat-ap-it/examples/catalog_dati_unibo.rdf"),
            oxrdfio::RdfFormat::RdfXml,
        )
        .expect("parses");
        let dataset = &datasets[0];
        let checked = assess(dataset, ValidationMode::Warn);
        assert!(checked.valid && checked.findings.iter().all(|f| f.severity != Severity::Error), "{checked:?}");
        let off = assess(dataset, ValidationMode::Off);
        assert!(off.valid && off.findings.is_empty());
        assert_eq!(off.quality, checked.quality - 30.0);
        assert_eq!(assess(dataset, ValidationMode::Enforce).quality, checked.quality);
    }

    #[test]
    fn enforce_writes_a_real_time_dataset() {
        // The old hand list lacked the sub-hourly frequencies: Enforce dropped these datasets.
        let (mut datasets, _) = crate::harvest::dcat::tests::parse(
            &crate::harvest::dcat::tests::fixture("dcat-ap-it/examples/catalog_dati_unibo.rdf"),
            oxrdfio::RdfFormat::RdfXml,
        )
        .expect("parses");
        let mut dataset = datasets.swap_remove(0);
        dataset.frequency = Some(format!("{}1MIN", crate::harvest::vocab::FREQUENCY_BASE));
        let assessed = assess(&dataset, ValidationMode::Enforce);
        assert!(written(assessed.valid, false, ValidationMode::Enforce), "{:?}", assessed.findings);
        assert!(!written(false, false, ValidationMode::Enforce));
        assert!(written(false, false, ValidationMode::Warn));
        assert!(!written(true, true, ValidationMode::Warn));
    }

    #[test]
    fn skip_leaves_out_geodcat_datasets_only() {
        let (datasets, _) = crate::harvest::dcat::tests::parse(
            br#"@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
                @prefix adms: <http://www.w3.org/ns/adms#> . @prefix geodcatap: <http://data.europa.eu/930/> .
                <http://x/geo> a dcat:Dataset ; dct:identifier "geo" ;
                    adms:representationTechnique <http://inspire.ec.europa.eu/metadata-codelist/SpatialRepresentationType/vector> .
                <http://x/res> a dcat:Dataset ; dct:identifier "res" ; geodcatap:spatialResolutionAsText "1:5000" .
                <http://x/type> a dcat:Dataset ; dct:identifier "type" ;
                    dct:type <http://inspire.ec.europa.eu/metadata-codelist/ResourceType/dataset> .
                <http://x/theme> a dcat:Dataset ; dct:identifier "theme" ; dcat:theme <http://inspire.ec.europa.eu/theme/hy> .
                <http://x/plain> a dcat:Dataset ; dct:identifier "plain" ;
                    dcat:theme <http://publications.europa.eu/resource/authority/data-theme/ENVI> ."#,
            oxrdfio::RdfFormat::Turtle,
        )
        .expect("parses");
        let skipped: Vec<&str> = datasets
            .iter()
            .filter(|d| skipped_as_geodata(d, GeodataPolicy::Skip))
            .filter_map(|d| d.identifier.as_deref())
            .collect();
        assert_eq!(skipped, ["geo", "res", "type", "theme"]);
        assert!(datasets.iter().all(|d| !skipped_as_geodata(d, GeodataPolicy::Include)));
        let rndt = serde_json::json!({ "name": "x", "extras": [{ "key": "spatial_harvester", "value": "true" }] });
        assert!(skipped_as_geodata(&crate::harvest::ckan::from_package(&rndt), GeodataPolicy::Skip));
    }

    #[test]
    fn reports_convert_to_the_crd_run() {
        let report = RunReport {
            result: RunResult::PartiallySucceeded,
            counts: RunCounts { found: 3, created: 1, failed: 1, ..RunCounts::default() },
            mean_quality: Some(123.456),
            errors: vec![DatasetError { dataset: "a:1".into(), reason: "dct:title: missing".into() }],
            message: "m".into(),
            started: chrono::DateTime::from_timestamp(1_700_000_000, 0),
            duration: Duration::from_secs(90),
            ..RunReport::default()
        };
        let run = report.to_harvest_run(Some("job-1".into()));
        assert_eq!(run.result, RunResult::PartiallySucceeded);
        assert_eq!(run.counts.found, 3);
        assert_eq!(run.mean_quality_score, Some(123.5));
        assert_eq!(run.start_time.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(run.completion_time.as_deref(), Some("2023-11-14T22:14:50Z"));
        assert_eq!(run.errors[0].dataset, "a:1");
    }
}
