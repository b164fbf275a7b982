//! The HarvestJob controller end to end on the local control plane: the harvester's
//! identity and runs, run-now, supervision of a run that never reported, a missing target
//! and a harvest loop. kwok completes the harvester pods without running them, which is
//! exactly a harvester that ended without reporting.

mod common;

use common::condition;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use mediana::api::HarvestJob;
use mediana::api::harvest_job::RunResult;
use serde_json::{Value, json};

fn node(ns: &str, name: &str, hostname: &str) -> Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"hostname": hostname, "publisher": {"ipaCode": "r_marche"}}
    })
}

fn harvest_job(ns: &str, name: &str, target: &str, source: &str, extra: Value) -> Value {
    let mut spec = json!({
        "target": {"catalogNode": target},
        "source": {"type": "ckan", "url": source},
        "publisher": {"organization": "comune-di-macerata", "ipaCode": "c_e783"}
    });
    if let (Some(spec), Value::Object(extra)) = (spec.as_object_mut(), extra) {
        spec.extend(extra);
    }
    json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "HarvestJob", "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

async fn apply(client: &Client, manifest: &Value) {
    let discovery = common::discovery(client).await;
    common::apply(client, &discovery, manifest).await.expect("apply");
}

async fn wait_for_condition(api: &Api<HarvestJob>, name: &str, type_: &str, status: &str, reason: &str) -> HarvestJob {
    common::eventually(&format!("{name}: {type_}={status} ({reason})"), 60, || async {
        let job = api.get(name).await.ok()?;
        let (s, r, _) = condition(&job, type_)?;
        (s == status && r == reason).then_some(job)
    })
    .await
}

async fn job_names(client: &Client, ns: &str, name: &str) -> Vec<String> {
    let selector = ListParams::default().labels(&format!("mediana.dev/harvest-job={name}"));
    let mut names: Vec<String> = Api::<Job>::namespaced(client.clone(), ns)
        .list(&selector)
        .await
        .expect("list Jobs")
        .items
        .iter()
        .map(|j| j.name_any())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn harvest_job_end_to_end() {
    let (client, ns) = common::fresh_namespace("harvest-e2e").await;
    let operator = common::Operator::start(client.clone());
    let jobs: Api<HarvestJob> = Api::namespaced(client.clone(), &ns);
    apply(&client, &node(&ns, "marche", "dati.regione.marche.it")).await;

    // Scheduled: an identity and a CronJob, Ready with the schedule, no run yet.
    apply(
        &client,
        &harvest_job(
            &ns,
            "nightly",
            "marche",
            "https://dati.comune.macerata.it",
            json!({"schedule": "0 3 * * *", "timeZone": "Europe/Rome"}),
        ),
    )
    .await;
    let scheduled = wait_for_condition(&jobs, "nightly", "Ready", "True", "Scheduled").await;
    assert!(
        condition(&scheduled, "Ready").is_some_and(|(_, _, m)| m.contains("0 3 * * *") && m.contains("Europe/Rome"))
    );
    assert_eq!(condition(&scheduled, "LastRunSucceeded").map(|c| c.1), Some("NoRunYet".into()));
    assert_eq!(condition(&scheduled, "Stalled").map(|c| c.0), Some("False".into()));
    let cron = Api::<CronJob>::namespaced(client.clone(), &ns).get("nightly").await.expect("the CronJob exists");
    let cron_spec = cron.spec.expect("CronJob spec");
    assert_eq!((cron_spec.schedule.as_str(), cron_spec.time_zone.as_deref()), ("0 3 * * *", Some("Europe/Rome")));
    let account =
        Api::<ServiceAccount>::namespaced(client.clone(), &ns).get("nightly-harvester").await.expect("ServiceAccount");
    assert!(account.owner_references().iter().any(|o| o.kind == "HarvestJob" && o.name == "nightly"));
    let role = Api::<Role>::namespaced(client.clone(), &ns).get("nightly-harvester").await.expect("Role");
    let rules = role.rules.unwrap_or_default();
    assert!(
        rules.iter().all(|r| r.resource_names.as_deref() == Some(&["nightly".to_owned()][..])),
        "only its own HarvestJob"
    );
    Api::<RoleBinding>::namespaced(client.clone(), &ns).get("nightly-harvester").await.expect("RoleBinding");
    assert!(job_names(&client, &ns, "nightly").await.is_empty(), "nothing runs before the schedule");

    // Run now: a Job outside the schedule. kwok completes its pod without running the
    // harvester, so the run ends without a report and the controller says so.
    let annotate = |value: &str| json!({"metadata": {"annotations": {"mediana.dev/run-now": value}}});
    jobs.patch("nightly", &PatchParams::default(), &Patch::Merge(annotate("first"))).await.expect("annotate");
    let ended = wait_for_condition(&jobs, "nightly", "LastRunSucceeded", "False", "RunFailed").await;
    let last_run = ended.status.as_ref().and_then(|s| s.last_run.clone()).expect("a last run");
    assert_eq!(last_run.result, RunResult::Failed);
    assert!(last_run.message.as_deref().is_some_and(|m| m.contains("without reporting")), "{last_run:?}");
    let first = job_names(&client, &ns, "nightly").await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].starts_with("nightly-now-"));
    assert_eq!(last_run.job.as_deref(), Some(first[0].as_str()));

    // A new value is a new run; the previous one moves into the history.
    jobs.patch("nightly", &PatchParams::default(), &Patch::Merge(annotate("second"))).await.expect("annotate again");
    let again = common::eventually("the second run recorded", 60, || async {
        let job = jobs.get("nightly").await.ok()?;
        let status = job.status?;
        (status.last_run?.job? != first[0] && !status.history.is_empty()).then_some(status.history)
    })
    .await;
    assert_eq!(again[0].job.as_deref(), Some(first[0].as_str()));
    common::eventually("the superseded run-now Job pruned", 60, || async {
        let names = job_names(&client, &ns, "nightly").await;
        (names.len() == 1 && names[0] != first[0]).then_some(())
    })
    .await;

    // Without a schedule: one run for the spec, right away.
    apply(&client, &harvest_job(&ns, "once", "marche", "https://dati.comune.recanati.mc.it", json!({}))).await;
    wait_for_condition(&jobs, "once", "Ready", "True", "OnDemand").await;
    common::eventually("the one-off run", 60, || async {
        let names = job_names(&client, &ns, "once").await;
        (names.len() == 1 && names[0].starts_with("once-once-")).then_some(())
    })
    .await;
    assert!(Api::<CronJob>::namespaced(client.clone(), &ns).get_opt("once").await.expect("get").is_none());

    // A missing target: nothing runs, and the condition says which node is missing.
    apply(
        &client,
        &harvest_job(&ns, "orphan", "nowhere", "https://dati.comune.macerata.it", json!({"schedule": "@daily"})),
    )
    .await;
    let orphan = wait_for_condition(&jobs, "orphan", "Stalled", "True", "TargetNotFound").await;
    assert!(condition(&orphan, "Ready").is_some_and(|(s, _, m)| s == "False" && m.contains("nowhere")));
    assert!(Api::<CronJob>::namespaced(client.clone(), &ns).get_opt("orphan").await.expect("get").is_none());
    // Its node arrives (GitOps applies in any order): the node's creation wakes the job, well
    // before the 30 s retry of a missing target.
    apply(&client, &node(&ns, "nowhere", "dati.nowhere.example.it")).await;
    common::eventually("the orphan woken by its node's creation", 20, || async {
        let job = jobs.get("orphan").await.ok()?;
        (condition(&job, "Ready")?.1 == "Scheduled").then_some(())
    })
    .await;

    // A loop: the national node harvests the region, and the region the national node.
    apply(&client, &node(&ns, "nazionale", "www.dati.gov.it")).await;
    apply(
        &client,
        &harvest_job(
            &ns,
            "national-from-region",
            "nazionale",
            "https://dati.regione.marche.it/catalog.ttl",
            json!({"schedule": "@daily"}),
        ),
    )
    .await;
    wait_for_condition(&jobs, "national-from-region", "Ready", "True", "Scheduled").await;
    apply(
        &client,
        &harvest_job(&ns, "region-from-national", "marche", "https://www.dati.gov.it", json!({"schedule": "@daily"})),
    )
    .await;
    let looping = wait_for_condition(&jobs, "region-from-national", "Stalled", "True", "HarvestLoop").await;
    let message = condition(&looping, "Ready").map(|c| c.2).unwrap_or_default();
    assert!(message.contains("www.dati.gov.it → dati.regione.marche.it → www.dati.gov.it"), "{message}");
    assert!(
        Api::<CronJob>::namespaced(client.clone(), &ns).get_opt("region-from-national").await.expect("get").is_none()
    );

    operator.stop().await;
}

/// A run reporting into the status, as the pod does: `mediana harvest-job` under the
/// HarvestJob's own ServiceAccount (the Role the controller made must be enough), reading a
/// DCAT-AP_IT catalogue over loopback and writing into a real CKAN with a token issued for
/// the run, which the run revokes as it ends.
#[tokio::test]
async fn a_harvester_run_reports_into_the_status_under_its_own_identity() {
    let (client, ns) = common::fresh_namespace("harvest-run").await;
    let operator = common::Operator::start(client.clone());
    let jobs: Api<HarvestJob> = Api::namespaced(client.clone(), &ns);
    let (ckan_url, ckan_token) = match (std::env::var("MEDIANA_CKAN_1_URL"), std::env::var("MEDIANA_CKAN_1_TOKEN")) {
        (Ok(url), Ok(token)) => (url, token),
        _ => panic!(
            "no CKAN test peer: run the tests with `make test`, or `tests/ckan/ckan.sh up DIR` and export DIR/env"
        ),
    };
    let files = common::Files::default();
    let catalog = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/dcat-ap-it/examples/catalog_dati_unibo.rdf");
    files.put("/catalog.rdf", "application/rdf+xml", std::fs::read(&catalog).expect("the fixture"));
    let source = format!("{}/catalog.rdf", files.serve());

    apply(&client, &node(&ns, "marche", "dati.regione.marche.it")).await;
    let organization = common::unique_name("unibo");
    let mut job = harvest_job(
        &ns,
        "unibo",
        "marche",
        &source,
        json!({"schedule": "@yearly", "allowPrivateNetworks": true, "validation": {"mode": "Warn"}}),
    );
    job["spec"]["source"]["type"] = json!("dcat");
    job["spec"]["publisher"]["organization"] = json!(organization);
    apply(&client, &job).await;
    wait_for_condition(&jobs, "unibo", "Ready", "True", "Scheduled").await;

    let kubeconfig = std::env::var("KUBECONFIG").expect("KUBECONFIG names the test cluster");
    let as_harvester =
        common::impersonating_kubeconfig(&kubeconfig, &format!("system:serviceaccount:{ns}:unibo-harvester"), &ns);
    let run_token =
        common::ckan_action(&ckan_url, &ckan_token, "api_token_create", json!({"user": "admin", "name": "unibo-run"}))
            .await
            .expect("a token for the run")["token"]
            .as_str()
            .expect("the token")
            .to_owned();
    let token_file = std::env::temp_dir().join(format!("mediana-token-{}", common::unique_name("t")));
    std::fs::write(&token_file, format!("{run_token}\n")).expect("write the token file");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mediana"))
        .args(["harvest-job", "--namespace", &ns, "--name", "unibo", "--target-url", &ckan_url])
        .arg("--target-token-file")
        .arg(&token_file)
        .arg("--revoke-target-token")
        .env("KUBECONFIG", &as_harvester)
        .env("MEDIANA_RUN_JOB", "unibo-manual-1")
        .output()
        .expect("run mediana harvest-job");
    let _ = std::fs::remove_file(&token_file);
    assert!(
        output.status.success(),
        "harvest-job failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let done = wait_for_condition(&jobs, "unibo", "LastRunSucceeded", "True", "Succeeded").await;
    let run = done.status.and_then(|s| s.last_run).expect("the run's report");
    assert_eq!(run.job.as_deref(), Some("unibo-manual-1"));
    assert_eq!((run.counts.found, run.counts.created), (12, 12), "{run:?}");
    assert!(run.mean_quality_score.is_some_and(|q| q > 0.0), "{run:?}");
    assert!(run.start_time.is_some() && run.completion_time.is_some());
    let revoked = common::ckan_action(&ckan_url, &run_token, "api_token_list", json!({"user": "admin"})).await;
    assert!(revoked.is_err(), "the run's token opens CKAN no more: {revoked:?}");
    common::ckan_action(&ckan_url, &ckan_token, "api_token_list", json!({"user": "admin"}))
        .await
        .expect("other tokens work");

    // The harvester's identity may not touch another HarvestJob.
    let denied = std::process::Command::new(env!("CARGO_BIN_EXE_mediana"))
        .args(["harvest-job", "--namespace", &ns, "--name", "someone-else", "--target-url", &ckan_url])
        .args(["--target-token-file", "/dev/null"])
        .env("KUBECONFIG", &as_harvester)
        .output()
        .expect("run mediana harvest-job");
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("forbidden"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    operator.stop().await;
}

/// A value the CRD cannot check: the API server refuses the CronJob of a time zone it does
/// not know. The HarvestJob says so in its status, in the API server's words, instead of
/// retrying with no status; a fixed spec recovers.
#[tokio::test]
async fn an_unknown_time_zone_is_reported_until_the_spec_is_fixed() {
    let (client, ns) = common::fresh_namespace("harvest-tz").await;
    let operator = common::Operator::start(client.clone());
    let jobs: Api<HarvestJob> = Api::namespaced(client.clone(), &ns);
    apply(&client, &node(&ns, "marche", "dati.regione.marche.it")).await;
    let source = "https://dati.comune.macerata.it";
    let on_mars = json!({"schedule": "0 3 * * *", "timeZone": "Mars/Olympus"});
    apply(&client, &harvest_job(&ns, "nightly", "marche", source, on_mars)).await;
    let stalled = wait_for_condition(&jobs, "nightly", "Stalled", "True", "InvalidSpec").await;
    let (_, _, message) = condition(&stalled, "Stalled").expect("the condition");
    assert!(message.contains("timeZone") && message.contains("Mars/Olympus"), "names the field and value: {message}");
    assert!(!message.contains("Status {"), "the API server's words, not a debug dump: {message}");
    let (ready, _, _) = condition(&stalled, "Ready").expect("Ready");
    assert_eq!(ready, "False", "kubectl wait --for=condition=Ready does not pass");

    let in_rome = json!({"schedule": "0 3 * * *", "timeZone": "Europe/Rome"});
    apply(&client, &harvest_job(&ns, "nightly", "marche", source, in_rome)).await;
    wait_for_condition(&jobs, "nightly", "Ready", "True", "Scheduled").await;
    operator.stop().await;
}

/// The harvester's heartbeat sender, against the API server: each beat carries the latest
/// counts, so a run that makes progress is never taken for stuck.
#[tokio::test]
async fn a_running_harvester_sends_heartbeats_with_its_counts() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use mediana::api::harvest_job::{HarvestRun, RunCounts};
    use mediana::harvest::job::Heartbeats;
    use mediana::harvest::run::Progress;

    let (client, ns) = common::fresh_namespace("harvest-beat").await;
    let jobs: Api<HarvestJob> = Api::namespaced(client.clone(), &ns);
    apply(&client, &harvest_job(&ns, "beat", "marche", "https://dati.comune.macerata.it", json!({}))).await;
    let spec = jobs.get("beat").await.expect("the HarvestJob").spec;
    let running = HarvestRun {
        job: Some("beat-1".into()),
        start_time: Some("2026-12-07T03:00:00Z".into()),
        heartbeat_time: Some("2026-12-07T03:00:00Z".into()),
        result: RunResult::Running,
        ..Default::default()
    };
    let counts = RunCounts { found: 7, created: 3, ..Default::default() };
    let latest = Arc::new(Mutex::new(Progress { counts, phase: "gathering" }));
    let beats = Heartbeats { api: jobs.clone(), name: "beat".into(), spec, status: Default::default(), running };
    let sender = tokio::spawn(beats.send(latest.clone(), Duration::from_millis(200)));
    let beat_with = |found: i64| {
        let jobs = jobs.clone();
        async move {
            common::eventually(&format!("a heartbeat with {found} found"), 30, || async {
                let run = jobs.get("beat").await.ok()?.status?.last_run?;
                let fresh = run.heartbeat_time.as_deref().is_some_and(|t| t > "2026-12-07T03:00:00Z");
                (run.result == RunResult::Running && run.counts.found == found && fresh).then_some(run)
            })
            .await
        }
    };
    let first = beat_with(7).await;
    assert_eq!((first.job.as_deref(), first.counts.created), (Some("beat-1"), 3));
    latest.lock().expect("the progress").counts.found = 9;
    beat_with(9).await;
    sender.abort();
}
