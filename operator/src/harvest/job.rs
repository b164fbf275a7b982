//! One run of a HarvestJob, as its pod performs it (`mediana harvest-job`): the run's
//! configuration from the HarvestJob's spec, a "Running" report at the start, heartbeats
//! with the counts so far, and the final report, all into the HarvestJob's status.

use std::sync::{Arc, Mutex};

use kube::{Api, Client};
use tracing::{info, warn};

use super::model::Agent;
use super::report::{self as runs, HEARTBEAT_INTERVAL};
use super::run::Progress;
use super::{ProgressHook, RunConfig, RunReport, SourceConfig, TargetConfig};
use crate::api::HarvestJob;
use crate::api::harvest_job::{HarvestJobSpec, HarvestRun, RunResult};

/// Why a HarvestJob's run could not be carried out or reported.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Reading the HarvestJob or writing its status failed.
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[from] kube::Error),
    /// The harvest itself failed (it was reported as Failed).
    #[error(transparent)]
    Run(#[from] super::RunError),
    /// The target's API token could not be read.
    #[error("cannot read the target's API token from {path}: {source}")]
    Token {
        /// The token file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Where the run writes and with what credentials; the rest comes from the spec.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// The target node's CKAN base URL.
    pub target_url: String,
    /// Its API token.
    pub target_token: Option<String>,
    /// The source's API token, if the spec names one.
    pub source_token: Option<String>,
    /// Whether the target's token was issued for this run alone (the pod's token step issues
    /// one per run) and is revoked when the run ends, so runs do not pile tokens up.
    pub revoke_target_token: bool,
}

/// The run configuration a HarvestJob's spec asks for.
pub fn config_from_spec(spec: &HarvestJobSpec, job_identity: String, endpoints: Endpoints) -> RunConfig {
    let source = SourceConfig {
        url: spec.source.url.clone(),
        kind: spec.source.type_,
        format: spec.source.format,
        organization: spec.source.organization.clone(),
        query: spec.source.query.clone(),
        token: endpoints.source_token,
    };
    let administration = &spec.publisher.administration;
    let target = TargetConfig {
        url: endpoints.target_url,
        token: endpoints.target_token,
        organization: spec.publisher.organization.clone(),
        organization_title: administration.name.clone(),
    };
    let mut config = RunConfig::new(source, target, job_identity);
    config.default_agent =
        Some(Agent { identifier: Some(administration.ipa_code.clone()), name: administration.name.clone() });
    config.validation = spec.validation.mode;
    config.removed_datasets = spec.removed_datasets;
    config.geodata = spec.geodata;
    config.max_delete_percent = u32::try_from(spec.max_delete_percent).unwrap_or(0);
    config.dry_run = spec.dry_run;
    config.concurrency = usize::try_from(spec.concurrency).unwrap_or(1).max(1);
    config.net.allow_private_networks = spec.allow_private_networks;
    config
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Runs the HarvestJob `namespace/name` once as the Job `run_job`, reporting into its
/// status from start to end. A failed run is reported too, then returned as the error.
pub async fn run_harvest_job(
    client: Client,
    namespace: &str,
    name: &str,
    run_job: Option<String>,
    endpoints: Endpoints,
) -> Result<RunReport, JobError> {
    let api: Api<HarvestJob> = Api::namespaced(client, namespace);
    let job = api.get(name).await?;
    let spec = job.spec.clone();
    let mut status = job.status.clone().unwrap_or_default();
    let started = now();
    let running = HarvestRun {
        job: run_job.clone(),
        start_time: Some(started.clone()),
        heartbeat_time: Some(started.clone()),
        result: RunResult::Running,
        dry_run: spec.dry_run,
        ..Default::default()
    };
    runs::record(&mut status, running.clone(), &spec);
    runs::apply_report(&api, name, &status).await?;
    info!(namespace, name, job = ?run_job, "run started");

    // The hook is synchronous and called often: it keeps the latest progress, and a task
    // reports it every heartbeat interval.
    let latest: Arc<Mutex<Progress>> = Arc::default();
    let hook_progress = latest.clone();
    let hook: ProgressHook = Arc::new(move |progress: &Progress| {
        if let Ok(mut slot) = hook_progress.lock() {
            *slot = progress.clone();
        }
    });
    let beats =
        Heartbeats { api: api.clone(), name: name.to_owned(), spec: spec.clone(), status: status.clone(), running };
    let heartbeat = tokio::spawn(beats.send(latest, HEARTBEAT_INTERVAL));

    let identity = format!("{namespace}/{name}");
    let revoke = endpoints.revoke_target_token;
    let config = config_from_spec(&spec, identity, endpoints);
    // A target the client cannot be built for fails the run itself, which reports it.
    let revoker = if revoke { super::target_client(&config).ok() } else { None };
    let outcome = super::run(config, Some(hook)).await;
    heartbeat.abort();
    if let Some(target) = revoker {
        match target.revoke_own_token().await {
            Ok(()) => info!("the run's API token is revoked"),
            Err(err) => warn!(error = %err, "the run's API token is not revoked: the next run's token step revokes it"),
        }
    }
    let peak_memory_bytes = peak_memory_bytes();
    let finished = match &outcome {
        Ok(report) => HarvestRun { start_time: Some(started), peak_memory_bytes, ..report.to_harvest_run(run_job) },
        Err(err) => HarvestRun {
            job: run_job,
            start_time: Some(started),
            completion_time: Some(now()),
            result: RunResult::Failed,
            dry_run: spec.dry_run,
            message: Some(format!("{err}; nothing was deleted")),
            peak_memory_bytes,
            ..Default::default()
        },
    };
    info!(result = ?finished.result, counts = ?finished.counts, peak_memory_bytes, "run finished");
    runs::record(&mut status, finished, &spec);
    runs::apply_report(&api, name, &status).await?;
    Ok(outcome?)
}

/// What a running harvester reports its heartbeats into: the HarvestJob, its status at the
/// start of the run, and the run as reported then.
pub struct Heartbeats {
    /// The HarvestJobs of the run's namespace.
    pub api: Api<HarvestJob>,
    /// The HarvestJob's name.
    pub name: String,
    /// Its spec (the history limits).
    pub spec: HarvestJobSpec,
    /// Its status as the run found it.
    pub status: crate::api::HarvestJobStatus,
    /// The run, as reported at its start.
    pub running: HarvestRun,
}

impl Heartbeats {
    /// Every `interval`, until the task is aborted, reports the run with the counts of the
    /// latest progress and the time: the controller takes a run silent for longer than
    /// [`runs::HEARTBEAT_TIMEOUT`] for stuck. A failed report is logged, and the next one
    /// tries again.
    pub async fn send(self, latest: Arc<Mutex<Progress>>, interval: std::time::Duration) {
        let Self { api, name, spec, mut status, running } = self;
        loop {
            tokio::time::sleep(interval).await;
            let counts = latest.lock().map(|p| p.counts.clone()).unwrap_or_default();
            let beat = HarvestRun { heartbeat_time: Some(now()), counts, ..running.clone() };
            runs::record(&mut status, beat, &spec);
            if let Err(err) = runs::apply_report(&api, &name, &status).await {
                warn!(error = %err, "heartbeat not reported");
            }
        }
    }
}

/// This process's peak resident memory so far, from the kernel's high-water mark (`VmHWM` in
/// `/proc/self/status`); none where the kernel does not report it.
fn peak_memory_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    high_water_mark(&status)
}

/// The `VmHWM` line of a `/proc/<pid>/status` text, in bytes (the kernel writes kB).
fn high_water_mark(status: &str) -> Option<i64> {
    let kib = status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?.trim().strip_suffix("kB")?;
    kib.trim().parse::<i64>().ok().map(|kib| kib * 1024)
}

/// Reads the target's API token from the file the pod's first container wrote.
pub fn read_token(path: &std::path::Path) -> Result<String, JobError> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_owned())
        .map_err(|source| JobError::Token { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_high_water_mark_is_read_in_bytes_from_the_kernels_status() {
        let status = "Name:\tmediana\nVmPeak:\t  900000 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n";
        assert_eq!(high_water_mark(status), Some(23456 * 1024));
        assert_eq!(high_water_mark("Name:\tmediana\n"), None);
        assert_eq!(high_water_mark("VmHWM:\t lots\n"), None);
    }

    #[test]
    fn this_process_reports_a_peak_of_at_least_what_it_holds() {
        let held = vec![1u8; 16 << 20];
        let peak = peak_memory_bytes().expect("Linux reports VmHWM");
        assert!(peak >= 16 << 20, "peak {peak} below the 16 MiB held");
        assert_eq!(held.iter().map(|&b| usize::from(b)).sum::<usize>(), 16 << 20);
    }
}
