use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::builders::{self, HARVEST_JOB_LABEL, TargetNode};
use super::runs::{self, JobObservation, JobOutcome};
use super::*;
use crate::api::harvest_job::{HarvestRun, RunResult};
use crate::controllers::Settings;
use crate::controllers::children::Child;

fn harvest_job(name: &str, namespace: &str, spec: Value) -> HarvestJob {
    let mut base = json!({
        "target": {"catalogNode": "marche"},
        "source": {"type": "ckan", "url": "https://dati.comune.macerata.it"},
        "publisher": {"organization": "comune-di-macerata", "ipaCode": "c_e783"}
    });
    if let (Value::Object(base), Value::Object(patch)) = (&mut base, spec) {
        base.extend(patch);
    }
    let mut job = HarvestJob::new(name, serde_json::from_value(base).expect("valid HarvestJob spec"));
    job.metadata.namespace = Some(namespace.into());
    // Created in the order of the calls, as the loop check compares ages.
    static CREATED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    let second = CREATED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    job.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::from_second(1_700_000_000 + second).expect("a time"),
    ));
    job.metadata.uid = Some(format!("uid-{name}"));
    job
}

fn node(name: &str, namespace: &str, hostname: &str) -> CatalogNode {
    let spec = json!({"hostname": hostname, "publisher": {"ipaCode": "r_marche"}});
    let mut node = CatalogNode::new(name, serde_json::from_value(spec).expect("valid CatalogNode spec"));
    node.metadata.namespace = Some(namespace.into());
    node.metadata.uid = Some(format!("uid-{name}"));
    node
}

fn children_of(job: &HarvestJob, run_now: Option<&str>) -> Vec<Child> {
    let target = node("marche", "opendata", "dati.regione.marche.it");
    let owner = Owner::of(job).expect("owner");
    let target = TargetNode::of(&target).expect("target");
    builders::children(&job.spec, &owner, &target, &Settings::default(), run_now).expect("children build")
}

fn kinds_and_names(children: &[Child]) -> Vec<String> {
    children.iter().map(|c| format!("{}/{}", c.resource.kind, c.name())).collect()
}

#[test]
fn a_scheduled_job_gets_an_identity_and_a_cron_job() {
    let job = harvest_job("macerata", "opendata", json!({"schedule": "0 3 * * *", "timeZone": "Europe/Rome"}));
    let built = children_of(&job, None);
    assert_eq!(
        kinds_and_names(&built),
        [
            "ServiceAccount/macerata-harvester",
            "Role/macerata-harvester",
            "RoleBinding/macerata-harvester",
            "CronJob/macerata"
        ]
    );
    let cron = &built[3].object["spec"];
    assert_eq!(cron["schedule"], "0 3 * * *");
    assert_eq!(cron["timeZone"], "Europe/Rome");
    assert_eq!(cron["concurrencyPolicy"], "Forbid", "two runs never race on the same datasets");
    let job_labels = &cron["jobTemplate"]["metadata"]["labels"];
    assert_eq!(job_labels[HARVEST_JOB_LABEL], "macerata");
    assert!(job_labels.get("app.kubernetes.io/managed-by").is_none(), "pruning must never select scheduled runs");
}

#[test]
fn without_a_schedule_one_job_per_spec_and_one_per_run_now() {
    let job = harvest_job("macerata", "opendata", json!({}));
    let once = children_of(&job, None);
    let names = kinds_and_names(&once);
    assert_eq!(names.len(), 4);
    assert!(names[3].starts_with("Job/macerata-once-"), "{names:?}");
    assert_eq!(once[3].object["metadata"]["labels"][HARVEST_JOB_LABEL], "macerata");

    let changed = harvest_job("macerata", "opendata", json!({"dryRun": true, "concurrency": 8, "retries": 5}));
    assert_ne!(kinds_and_names(&children_of(&changed, None))[3], names[3], "a new spec is a new run");

    let with_now = kinds_and_names(&children_of(&job, Some("2026-11-23T10:00:00Z")));
    assert_eq!(with_now[..4], names[..]);
    assert!(with_now[4].starts_with("Job/macerata-now-"));
    let again = kinds_and_names(&children_of(&job, Some("2026-11-23T11:00:00Z")));
    assert_ne!(with_now[4], again[4], "each new run-now value is a new run");
}

#[test]
fn the_harvester_may_only_read_its_job_and_report_into_its_status() {
    let job = harvest_job("macerata", "opendata", json!({}));
    let role = builders::role(&Owner::of(&job).expect("owner"));
    let rules = serde_json::to_value(role.rules).expect("rules serialize");
    assert_eq!(
        rules,
        json!([
            {"apiGroups": ["mediana.dev"], "resources": ["harvestjobs"], "resourceNames": ["macerata"], "verbs": ["get"]},
            {"apiGroups": ["mediana.dev"], "resources": ["harvestjobs/status"], "resourceNames": ["macerata"], "verbs": ["patch"]}
        ])
    );
}

#[test]
fn the_harvester_pod_is_restricted_and_gets_its_token_from_the_node() {
    let job = harvest_job(
        "macerata",
        "opendata",
        json!({"schedule": "@daily", "source": {"type": "dcat", "url": "https://dati.comune.macerata.it/catalog.ttl",
               "apiTokenSecretRef": {"name": "macerata-token", "key": "token"}}, "activeDeadlineSeconds": 600, "retries": 1}),
    );
    let built = children_of(&job, None);
    let job_spec = &built[3].object["spec"]["jobTemplate"]["spec"];
    assert_eq!(job_spec["activeDeadlineSeconds"], 600);
    assert_eq!(job_spec["backoffLimit"], 1);
    let pod = &job_spec["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "macerata-harvester");
    crate::controllers::testing::assert_restricted(pod, "harvester");
    let containers: Vec<&Value> =
        pod["initContainers"].as_array().into_iter().chain(pod["containers"].as_array()).flatten().collect();
    assert_eq!(containers.len(), 2);
    let token_step = containers[0];
    assert!(token_step["image"].as_str().is_some_and(|i| i.starts_with("ghcr.io/mediana-dev/ckan:")));
    // One token per HarvestJob, named after it: the command revokes earlier ones of that name.
    assert_eq!(
        token_step["command"][2],
        format!(
            "ckan mediana harvest-token \"$CKAN_SYSADMIN_NAME\" mediana-harvest-macerata > {}",
            builders::TOKEN_FILE
        )
    );
    // The node's ckan.ini, read-only; never the node's uploads, which its web pods hold.
    let mounts: Vec<&str> =
        token_step["volumeMounts"].as_array().into_iter().flatten().filter_map(|m| m["mountPath"].as_str()).collect();
    assert_eq!(mounts, ["/etc/ckan", "/tmp", "/run/mediana"]);
    let volumes = pod["volumes"].as_array().expect("volumes");
    assert!(volumes.iter().any(|v| v["configMap"]["name"] == "marche-ckan-config"), "{volumes:?}");
    let harvester = containers[1];
    assert_eq!(harvester["image"], Settings::default().operator_image);
    let args: Vec<&str> = harvester["args"].as_array().expect("args").iter().filter_map(Value::as_str).collect();
    assert_eq!(
        args,
        [
            "harvest-job",
            "--namespace",
            "opendata",
            "--name",
            "macerata",
            "--target-url",
            "http://marche-ckan.opendata.svc",
            "--target-token-file",
            builders::TOKEN_FILE,
            "--revoke-target-token",
            "--source-token-env",
            "MEDIANA_SOURCE_TOKEN"
        ]
    );
    let env = serde_json::to_string(&harvester["env"]).expect("env");
    assert!(env.contains("macerata-token"), "the source token comes from its Secret: {env}");
    // The node's NetworkPolicy admits its maintenance pods to the database.
    assert_eq!(job_spec["template"]["metadata"]["labels"]["app.kubernetes.io/instance"], "marche");
    assert_eq!(job_spec["template"]["metadata"]["labels"]["app.kubernetes.io/component"], "maintenance");
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a time")
}

fn observed(name: &str, created: &str, outcome: Option<JobOutcome>) -> JobObservation {
    JobObservation {
        name: name.into(),
        created: Some(at(created)),
        started: Some(created.into()),
        active: outcome.is_none(),
        outcome,
    }
}

fn reported(job: &str, result: RunResult, heartbeat: &str) -> HarvestRun {
    HarvestRun {
        job: Some(job.into()),
        start_time: Some("2026-11-23T03:00:00Z".into()),
        heartbeat_time: Some(heartbeat.into()),
        result,
        ..Default::default()
    }
}

#[test]
fn a_finished_report_of_the_harvester_stands() {
    let jobs = [observed("j1", "2026-11-23T03:00:00Z", Some(JobOutcome::Complete))];
    let report = reported("j1", RunResult::Succeeded, "2026-11-23T03:05:00Z");
    assert_eq!(runs::supervise(Some(&report), &jobs, at("2026-11-23T04:00:00Z")), None);
}

#[test]
fn a_new_job_is_pending_until_the_harvester_reports() {
    let jobs = [
        observed("j1", "2026-11-22T03:00:00Z", Some(JobOutcome::Complete)),
        observed("j2", "2026-11-23T03:00:00Z", None),
    ];
    let previous = reported("j1", RunResult::Succeeded, "2026-11-22T03:05:00Z");
    let run = runs::supervise(Some(&previous), &jobs, at("2026-11-23T03:00:10Z")).expect("a run to record");
    assert_eq!((run.job.as_deref(), run.result), (Some("j2"), RunResult::Pending));
    assert!(run.message.as_deref().is_some_and(|m| m.contains("waiting for its pod")), "{run:?}");
    // Once reported as running with a fresh heartbeat, the controller leaves it alone.
    let fresh = reported("j2", RunResult::Running, "2026-11-23T03:02:00Z");
    assert_eq!(runs::supervise(Some(&fresh), &jobs, at("2026-11-23T03:03:00Z")), None);
}

#[test]
fn a_queued_run_is_not_stuck_however_long_it_waits_but_its_job_deadline_ends_it() {
    // 54 municipalities due at once on a small cluster: most pods wait for room for longer
    // than the heartbeat timeout, and must not be reported stuck (the chain benchmark did).
    let active = [observed("j2", "2026-11-23T03:00:00Z", None)];
    let pending = runs::supervise(None, &active, at("2026-11-23T03:00:01Z")).expect("a pending run");
    assert_eq!(runs::supervise(Some(&pending), &active, at("2026-11-23T03:30:00Z")), None);
    let deadline = [observed(
        "j2",
        "2026-11-23T03:00:00Z",
        Some(JobOutcome::Failed { reason: "DeadlineExceeded".into(), message: "Job was active longer".into() }),
    )];
    let ended = runs::supervise(Some(&pending), &deadline, at("2026-11-23T04:00:00Z")).expect("ended run");
    assert_eq!(ended.result, RunResult::DeadlineExceeded);
    assert!(RunResult::DeadlineExceeded.is_over() && !RunResult::Pending.is_over() && !RunResult::Running.is_over());
}

#[test]
fn a_stuck_run_has_its_job_stopped_and_only_that_one() {
    let active = [observed("j1", "2026-11-22T03:00:00Z", None), observed("j2", "2026-11-23T03:00:00Z", None)];
    let silent = reported("j2", RunResult::Running, "2026-11-23T03:01:00Z");
    let stuck = runs::supervise(Some(&silent), &active, at("2026-11-23T03:10:00Z")).expect("stuck run");
    assert_eq!(runs::to_stop(&stuck, &active), Some("j2"));
    assert!(stuck.message.as_deref().is_some_and(|m| m.contains("its Job j2 is deleted")), "{stuck:?}");
    // A run that ended otherwise, or whose Job is over, stops nothing.
    assert_eq!(runs::to_stop(&reported("j2", RunResult::Failed, "2026-11-23T03:01:00Z"), &active), None);
    let ended = [observed("j2", "2026-11-23T03:00:00Z", Some(JobOutcome::Complete))];
    assert_eq!(runs::to_stop(&stuck, &ended), None);
}

#[test]
fn a_silent_or_failed_run_does_not_stay_running() {
    let active = [observed("j2", "2026-11-23T03:00:00Z", None)];
    let silent = reported("j2", RunResult::Running, "2026-11-23T03:01:00Z");
    let stuck = runs::supervise(Some(&silent), &active, at("2026-11-23T03:10:00Z")).expect("stuck run");
    assert_eq!(stuck.result, RunResult::DeadlineExceeded);
    assert!(stuck.message.as_deref().is_some_and(|m| m.contains("no heartbeat")));

    let deadline = [observed(
        "j2",
        "2026-11-23T03:00:00Z",
        Some(JobOutcome::Failed { reason: "DeadlineExceeded".into(), message: "Job was active longer".into() }),
    )];
    let ended = runs::supervise(Some(&silent), &deadline, at("2026-11-23T04:00:00Z")).expect("ended run");
    assert_eq!(ended.result, RunResult::DeadlineExceeded);
    assert!(ended.message.as_deref().is_some_and(|m| m.contains("nothing was deleted")));

    let crashed = [observed(
        "j3",
        "2026-11-23T05:00:00Z",
        Some(JobOutcome::Failed { reason: "BackoffLimitExceeded".into(), message: "reached the limit".into() }),
    )];
    let failed = runs::supervise(Some(&silent), &crashed, at("2026-11-23T05:10:00Z")).expect("failed run");
    assert_eq!((failed.job.as_deref(), failed.result), (Some("j3"), RunResult::Failed));

    let mute = [observed("j4", "2026-11-23T06:00:00Z", Some(JobOutcome::Complete))];
    let unreported = runs::supervise(None, &mute, at("2026-11-23T06:10:00Z")).expect("unreported run");
    assert_eq!(unreported.result, RunResult::Failed);
}

#[test]
fn history_keeps_the_newest_runs_within_the_limits() {
    let spec = harvest_job("m", "ns", json!({"successfulRunsHistoryLimit": 2, "failedRunsHistoryLimit": 1})).spec;
    let mut status = HarvestJobStatus::default();
    let results =
        [RunResult::Succeeded, RunResult::Failed, RunResult::Succeeded, RunResult::Failed, RunResult::Succeeded];
    for (i, result) in results.into_iter().enumerate() {
        crate::harvest::report::record(
            &mut status,
            HarvestRun { job: Some(format!("j{i}")), result, ..Default::default() },
            &spec,
        );
    }
    assert_eq!(status.last_run.as_ref().and_then(|r| r.job.as_deref()), Some("j4"));
    let kept: Vec<&str> = status.history.iter().filter_map(|r| r.job.as_deref()).collect();
    assert_eq!(kept, ["j3", "j2", "j0"], "newest first: 2 successful, 1 failed");
    // A report about the same run replaces it instead of pushing it into the history.
    crate::harvest::report::record(
        &mut status,
        HarvestRun { job: Some("j4".into()), result: RunResult::Failed, ..Default::default() },
        &spec,
    );
    assert_eq!(status.history.len(), 3);
}

#[test]
fn harvest_loops_are_found_across_namespaces() {
    let nodes = [
        node("marche", "regione", "dati.regione.marche.it"),
        node("nazionale", "agid", "www.dati.gov.it"),
        node("macerata", "comune", "dati.comune.macerata.it"),
    ];
    let region_from_town = harvest_job(
        "from-macerata",
        "regione",
        json!({"source": {"type": "ckan", "url": "https://dati.comune.macerata.it"}}),
    );
    let mut national_from_region = harvest_job(
        "from-marche",
        "agid",
        json!({"source": {"type": "dcat", "url": "https://dati.regione.marche.it/catalog.ttl"}}),
    );
    national_from_region.spec.target.catalog_node = "nazionale".into();
    let mut town_from_national =
        harvest_job("from-national", "comune", json!({"source": {"type": "ckan", "url": "https://WWW.dati.gov.it/"}}));
    town_from_national.spec.target.catalog_node = "macerata".into();

    let chain = [region_from_town.clone(), national_from_region.clone()];
    assert_eq!(runs::harvest_loop(&national_from_region, &chain, &nodes), None, "a chain is no loop");
    let all = [region_from_town.clone(), national_from_region, town_from_national.clone()];
    let path = runs::harvest_loop(&town_from_national, &all, &nodes).expect("the loop is found");
    assert_eq!(runs::harvest_loop(&region_from_town, &all, &nodes), None, "the older jobs of the loop keep running");
    assert_eq!(
        path,
        ["www.dati.gov.it", "dati.comune.macerata.it", "dati.regione.marche.it", "www.dati.gov.it"],
        "the path names every hop"
    );

    let mut from_itself =
        harvest_job("self", "regione", json!({"source": {"type": "ckan", "url": "https://dati.regione.marche.it"}}));
    from_itself.spec.target.catalog_node = "marche".into();
    assert!(runs::harvest_loop::<HarvestJob, _>(&from_itself, &[], &nodes).is_some(), "a node cannot harvest itself");
}

#[test]
fn a_loop_through_a_nodes_service_is_found() {
    let nodes = [node("marche", "regione", "dati.regione.marche.it"), node("nazionale", "agid", "www.dati.gov.it")];
    let mut national_from_region = harvest_job(
        "from-marche",
        "agid",
        json!({"source": {"type": "dcat", "url": "http://marche-ckan.regione.svc.cluster.local/catalog.ttl"}}),
    );
    national_from_region.spec.target.catalog_node = "nazionale".into();
    let older = [national_from_region];
    for url in [
        "http://nazionale-ckan.agid.svc.cluster.local/catalog.ttl",
        "http://nazionale-ckan.agid.svc/catalog.ttl",
        "http://nazionale-ckan.agid/catalog.ttl",
    ] {
        let mut region_from_national = harvest_job("back", "regione", json!({"source": {"type": "dcat", "url": url}}));
        region_from_national.spec.target.catalog_node = "marche".into();
        let path = runs::harvest_loop(&region_from_national, &older, &nodes);
        assert_eq!(
            path.as_deref(),
            Some(["www.dati.gov.it", "dati.regione.marche.it", "www.dati.gov.it"].map(str::to_owned).as_slice()),
            "{url}"
        );
    }
    // `nazionale-ckan` alone names a Service of the job's own namespace, not the national one.
    let mut elsewhere =
        harvest_job("back", "regione", json!({"source": {"type": "dcat", "url": "http://nazionale-ckan/catalog.ttl"}}));
    elsewhere.spec.target.catalog_node = "marche".into();
    assert_eq!(runs::harvest_loop(&elsewhere, &older, &nodes), None);
}

#[test]
fn conditions_say_how_runs_start_and_how_the_last_ended() {
    let scheduled = harvest_job("m", "ns", json!({"schedule": "0 3 * * *"})).spec;
    let mut status = HarvestJobStatus::default();
    let found = conditions(&scheduled, &status);
    assert_eq!((found[0].type_, found[0].status, found[0].reason), (ConditionType::Ready, true, Reason::Scheduled));
    assert_eq!(
        (found[3].type_, found[3].status, found[3].reason),
        (ConditionType::LastRunSucceeded, false, Reason::NoRunYet)
    );
    status.last_run = Some(HarvestRun { result: RunResult::Succeeded, ..Default::default() });
    assert!(conditions(&scheduled, &status)[3].status);
    status.last_run = Some(HarvestRun { result: RunResult::PartiallySucceeded, ..Default::default() });
    assert_eq!(conditions(&scheduled, &status)[3].reason, Reason::PartiallySucceeded);
    let suspended = harvest_job("m", "ns", json!({"schedule": "0 3 * * *", "suspend": true})).spec;
    assert_eq!(conditions(&suspended, &status)[0].reason, Reason::Suspended);
}
