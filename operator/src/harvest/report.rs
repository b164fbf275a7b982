//! A HarvestJob's run reports (`status.lastRun`, `status.history`): written by the harvester
//! pod as it runs, and by the controller for a run the pod could not report. Both sides
//! share this one writer and its field manager.

use std::time::Duration;

use kube::Api;
use kube::api::{Patch, PatchParams};

use crate::api::harvest_job::{HarvestJobSpec, HarvestRun, RunResult};
use crate::api::{HarvestJob, HarvestJobStatus};

/// The field manager of run reports (`status.lastRun`, `status.history`), whoever writes
/// them: the harvester pod, or the controller when the pod could not.
pub const RUN_REPORT_MANAGER: &str = "mediana-harvester";
/// How often a running harvester reports a heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
/// A running harvester silent for this long is reported as stuck (a pending one is not: it
/// has not started, and its Job's deadline bounds the wait).
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(180);

/// Makes `run` the last run: the previous one (if it was another run) moves into the
/// history, which keeps the newest successful and failed runs within the spec's limits.
pub fn record(status: &mut HarvestJobStatus, run: HarvestRun, spec: &HarvestJobSpec) {
    if let Some(previous) = status.last_run.take().filter(|previous| !same_run(previous, &run)) {
        status.history.insert(0, previous);
    }
    status.last_run = Some(run);
    let (mut succeeded, mut failed) = (0, 0);
    status.history.retain(|run| {
        if run.result == RunResult::Succeeded {
            succeeded += 1;
            succeeded <= spec.successful_runs_history_limit
        } else {
            failed += 1;
            failed <= spec.failed_runs_history_limit
        }
    });
}

/// Whether two reports are about the same run: the same Job, or (outside a Job, as
/// `mediana harvest-job` run by hand) the same start.
fn same_run(a: &HarvestRun, b: &HarvestRun) -> bool {
    match (&a.job, &b.job) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.start_time == b.start_time,
        _ => false,
    }
}

/// Writes the run report (`lastRun` and `history`) under [`RUN_REPORT_MANAGER`].
pub async fn apply_report(api: &Api<HarvestJob>, name: &str, status: &HarvestJobStatus) -> Result<(), kube::Error> {
    let patch = serde_json::json!({
        "apiVersion": <HarvestJob as kube::Resource>::api_version(&()),
        "kind": "HarvestJob",
        "status": {"lastRun": status.last_run, "history": status.history},
    });
    api.patch_status(name, &PatchParams::apply(RUN_REPORT_MANAGER).force(), &Patch::Apply(&patch)).await?;
    Ok(())
}
