//! The CatalogNode builders and status logic, without a cluster.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::{Value, json};

use super::builders;
use super::*;
use crate::api::shared::BackupStatus;
use crate::controllers::backup_jobs;
use crate::controllers::children::{Child, DESIRED_HASH_ANNOTATION};
use crate::controllers::secrets::{GeneratedSecret, SecretValue};
use crate::controllers::testing::{find, kinds_and_names};

fn spec(patch: Value) -> CatalogNodeSpec {
    let mut base = json!({"hostname": "dati.regione.marche.it", "publisher": {"ipaCode": "r_marche"}});
    json_patch(&mut base, patch);
    serde_json::from_value(base).expect("valid spec")
}

fn json_patch(base: &mut Value, patch: Value) {
    if let (Value::Object(base), Value::Object(patch)) = (base, patch) {
        for (key, value) in patch {
            match base.get_mut(&key) {
                Some(existing) if existing.is_object() && value.is_object() => json_patch(existing, value),
                _ => {
                    base.insert(key, value);
                }
            }
        }
    }
}

fn owner() -> Owner {
    Owner {
        app: "catalognode".into(),
        instance: "marche".into(),
        namespace: "opendata".into(),
        reference: Some(OwnerReference {
            api_version: "mediana.dev/v1alpha1".into(),
            kind: "CatalogNode".into(),
            name: "marche".into(),
            uid: "0000-1111".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }),
        hub_labels: Default::default(),
    }
}

/// The backup pods' image and version, as the controller passes them.
fn backup_context() -> backups::BackupContext<'static> {
    backups::BackupContext { operator_image: "ghcr.io/mediana-dev/mediana:0.1.0", ckan_version: "2.12.0" }
}

fn children(spec: &CatalogNodeSpec) -> Vec<Child> {
    builders::children(spec, &owner(), Some(&builders::Release::desired(spec)), backup_context())
        .expect("children build")
}

fn env_of(container: &Value) -> Vec<(String, Value)> {
    container["env"]
        .as_array()
        .map(|vars| vars.iter().map(|v| (v["name"].as_str().unwrap_or_default().to_owned(), v.clone())).collect())
        .unwrap_or_default()
}

#[test]
fn default_node_builds_the_whole_stack() {
    let built = children(&spec(json!({})));
    assert_eq!(
        kinds_and_names(&built),
        [
            "ConfigMap/marche-ckan-config",
            "Deployment/marche-ckan",
            "Deployment/marche-ckan-worker",
            "Deployment/marche-redis",
            "Ingress/marche",
            "NetworkPolicy/marche-database",
            "NetworkPolicy/marche-redis",
            "NetworkPolicy/marche-search",
            "PersistentVolumeClaim/marche-uploads",
            "Service/marche-ckan",
            "Service/marche-postgres",
            "Service/marche-redis",
            "Service/marche-solr",
            "StatefulSet/marche-postgres",
            "StatefulSet/marche-solr",
        ]
    );
    let web = find(&built, "Deployment", "marche-ckan");
    let container = &web["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        format!("{}:{}", builders::CKAN_IMAGE, crate::api::catalog_node::DEFAULT_CKAN_VERSION)
    );
    let vars = env_of(container);
    let value = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    assert_eq!(value("CKAN_INI")["value"], "/etc/ckan/ckan.ini");
    assert_eq!(value("CKAN_SQLALCHEMY_URL")["valueFrom"]["secretKeyRef"], json!({"name": "marche-db", "key": "url"}));
    assert_eq!(value("CKAN_SOLR_URL")["value"], "http://marche-solr:8983/solr/ckan");
    assert_eq!(value("CKAN_REDIS_URL")["value"], "redis://marche-redis:6379/0");
    assert_eq!(
        value("CKAN_SECRET_KEY")["valueFrom"]["secretKeyRef"],
        json!({"name": "marche-ckan-secrets", "key": "secret-key"})
    );
    let ini =
        find(&built, "ConfigMap", "marche-ckan-config")["data"]["ckan.ini"].as_str().unwrap_or_default().to_owned();
    for line in [
        "ckan.site_url = http://dati.regione.marche.it",
        "ckan.site_id = marche",
        "SECRET_KEY = %(CKAN_SECRET_KEY)s",
        "api_token.jwt.encode.secret = string:%(CKAN_SECRET_KEY)s",
        "ckan.plugins = activity dcat dcat_json_interface structured_data scheming_datasets mediana_dcatapit mediana_status",
        "ckan.storage_path = /var/lib/ckan",
        "ckanext.dcat.rdf.profiles = it_dcat_ap",
        "scheming.dataset_schemas = ckanext.mediana:schemas/dcatapit.yaml",
        "ckanext.mediana.publisher_identifier = r_marche",
    ] {
        assert!(ini.lines().any(|l| l == line), "ckan.ini has {line:?}:\n{ini}");
    }
    assert!(!ini.contains("sqlalchemy.url"), "the database URL stays in the Secret:\n{ini}");
    let template = &web["spec"]["template"];
    assert_eq!(
        template["metadata"]["annotations"][builders::CONFIG_HASH_ANNOTATION],
        crate::controllers::children::fingerprint(&ini),
        "a change of ckan.ini rolls the pods"
    );
}

/// The recipe images/solr builds: Solr's version from its pom, the CKAN line from its schema.
fn solr_image_the_recipe_builds() -> String {
    let pom = include_str!("../../../../images/solr/pom.xml");
    let schema = include_str!("../../../../images/solr/core/schema.xml");
    let between = |text: &'static str, start: &str, end: &str| -> &'static str {
        let from = text.find(start).map(|i| i + start.len()).expect("start marker");
        text[from..].split(end).next().expect("end marker")
    };
    let solr = between(pom, "<solr.version>", "</solr.version>");
    let ckan = between(schema, "<schema name=\"ckan-", "\"");
    format!("ghcr.io/mediana-dev/solr:{solr}-ckan{ckan}")
}

#[test]
fn the_default_solr_for_ckan_2_12_is_the_image_the_recipe_builds() {
    let built = children(&spec(json!({"version": "2.12.0"})));
    let solr = find(&built, "StatefulSet", "marche-solr");
    let pod = &solr["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["image"], solr_image_the_recipe_builds());
    assert_eq!(pod["securityContext"]["runAsUser"], crate::controllers::workloads::IMAGE_UID);
}

#[test]
fn every_child_is_labelled_owned_and_hashed_but_claims_outlive_the_node() {
    for child in children(&spec(json!({"replicas": 2, "backup": {"schedule": "0 2 * * *"}}))) {
        let labels = builders::labels_of(&child);
        assert_eq!(labels.get("app.kubernetes.io/instance").map(String::as_str), Some("marche"), "{}", child.name());
        assert_eq!(labels.get("app.kubernetes.io/managed-by").map(String::as_str), Some("mediana"));
        assert!(labels.contains_key("app.kubernetes.io/component"));
        assert!(child.object["metadata"]["annotations"][DESIRED_HASH_ANNOTATION].is_string());
        let owned = child.object["metadata"]["ownerReferences"].is_array();
        if child.resource.kind == "PersistentVolumeClaim" {
            assert!(!owned, "{} would be garbage-collected with the node", child.name());
        } else {
            assert!(owned, "{} has no owner reference", child.name());
        }
    }
}

/// The RBAC derived from `applied()` covers every kind the builders produce (the chart's
/// rules are compared with that derivation in the Helm test).
#[test]
fn every_built_kind_is_declared_as_applied() {
    let declared: Vec<String> = super::applied().into_iter().map(|r| r.kind).collect();
    let full =
        spec(json!({"replicas": 2, "backup": {"schedule": "0 2 * * *"}, "ingress": {"tls": {"secretName": "tls"}}}));
    let mut built = children(&full);
    for kind in [UpgradeJob::Backup, UpgradeJob::Migrate, UpgradeJob::Reindex] {
        let job = builders::upgrade_job(&full, &owner(), kind, &Release::desired(&full), false, backup_context())
            .expect("upgrade job");
        built.push(Child::new(&job).expect("child"));
    }
    for child in &built {
        assert!(declared.contains(&child.resource.kind), "{} is built but not in applied()", child.resource.kind);
    }
    for watched in super::watched() {
        assert!(declared.contains(&watched.kind), "{} is watched but never applied", watched.kind);
    }
}

/// Every pod the node runs meets the "restricted" Pod Security Standard.
#[test]
fn every_pod_is_restricted() {
    let built = children(&spec(json!({"replicas": 2, "backup": {"schedule": "0 2 * * *"}})));
    let mut pods = 0;
    for child in &built {
        let template = match child.resource.kind.as_str() {
            "Deployment" | "StatefulSet" => &child.object["spec"]["template"]["spec"],
            "CronJob" => &child.object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => continue,
        };
        pods += 1;
        let name = child.name();
        crate::controllers::testing::assert_restricted(template, name);
    }
    assert_eq!(pods, 6, "web, worker, redis, postgres, solr and backup pods were checked");
}

#[test]
fn only_ckan_its_worker_and_its_jobs_reach_the_database() {
    let built = children(&spec(json!({})));
    let policy = find(&built, "NetworkPolicy", "marche-database");
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"], "database");
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress"]));
    let peer = &policy["spec"]["ingress"][0]["from"][0]["podSelector"];
    assert_eq!(peer["matchLabels"]["app.kubernetes.io/instance"], "marche");
    assert_eq!(peer["matchExpressions"][0]["values"], json!(["web", "worker", "maintenance", "backup"]));
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], 5432);
}

#[test]
fn external_services_replace_the_managed_ones() {
    let external = spec(json!({
        "database": {"external": {"urlSecretRef": {"name": "pg", "key": "dsn"}}},
        "search": {"external": {"url": "http://solr.search:8983/solr/ckan"}},
        "redis": {"external": {"urlSecretRef": {"name": "redis", "key": "url"}}}
    }));
    let built = children(&external);
    let names = kinds_and_names(&built);
    assert!(!names.iter().any(|n| n.contains("postgres") || n.contains("solr") || n.contains("redis")), "{names:?}");
    let vars = env_of(&find(&built, "Deployment", "marche-ckan")["spec"]["template"]["spec"]["containers"][0]);
    let value = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    assert_eq!(value("CKAN_SQLALCHEMY_URL")["valueFrom"]["secretKeyRef"], json!({"name": "pg", "key": "dsn"}));
    assert_eq!(value("CKAN_SOLR_URL")["value"], "http://solr.search:8983/solr/ckan");
    assert_eq!(value("CKAN_REDIS_URL")["valueFrom"]["secretKeyRef"], json!({"name": "redis", "key": "url"}));
    let secrets: Vec<String> = builders::generated_secrets(&external, &owner()).into_iter().map(|s| s.name).collect();
    assert_eq!(secrets, ["marche-ckan-secrets"], "no database credentials are generated for an external database");
}

/// CKAN dies at start when its database does not answer; the operator sees a managed
/// PostgreSQL become ready, not an external one: then every CKAN pod waits for it first.
#[test]
fn every_ckan_pod_waits_for_an_external_database_and_none_for_a_managed_one() {
    let first_steps = |node: &CatalogNodeSpec| -> Vec<Value> {
        let release = builders::Release::desired(node);
        let migration = builders::upgrade_job(node, &owner(), UpgradeJob::Migrate, &release, true, backup_context())
            .expect("a Job");
        children(node)
            .iter()
            .filter(|c| c.resource.kind == "Deployment" && c.name().starts_with("marche-ckan"))
            .map(|c| c.object["spec"]["template"]["spec"].clone())
            .chain([serde_json::to_value(migration).expect("json")["spec"]["template"]["spec"].clone()])
            .map(|pod| pod["initContainers"][0].clone())
            .collect()
    };
    let external = spec(json!({"database": {"external": {"urlSecretRef": {"name": "pg", "key": "dsn"}}}}));
    let steps = first_steps(&external);
    assert_eq!(steps.len(), 3, "web, worker and the migration");
    for step in &steps {
        assert_eq!(step["name"], "wait-for-database");
        assert_eq!(step["command"], json!(["python3", "-m", "ckanext.mediana.database"]));
        let url = env_of(step).into_iter().find(|(n, _)| n == "CKAN_SQLALCHEMY_URL").map(|(_, v)| v);
        assert_eq!(url.expect("the URL")["valueFrom"]["secretKeyRef"], json!({"name": "pg", "key": "dsn"}));
    }
    assert!(first_steps(&spec(json!({}))).iter().all(Value::is_null), "the operator waits for its own PostgreSQL");
}

#[test]
fn generated_secrets_hold_random_credentials() {
    let secrets = builders::generated_secrets(&spec(json!({})), &owner());
    let database: &GeneratedSecret = secrets.iter().find(|s| s.name == "marche-db").expect("database secret");
    let key = |k: &str| database.keys.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone());
    assert_eq!(key("PGPASSWORD"), Some(SecretValue::Random));
    assert_eq!(key("PGHOST"), Some(SecretValue::Literal("marche-postgres".into())));
    assert_eq!(
        key("url"),
        Some(SecretValue::Template("postgresql://ckan:{random:PGPASSWORD}@marche-postgres:5432/ckan".into()))
    );
}

#[test]
fn replicas_bring_a_disruption_budget_and_shared_uploads() {
    let built = children(&spec(json!({"replicas": 3})));
    let pdb = find(&built, "PodDisruptionBudget", "marche-ckan");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(
        find(&built, "PersistentVolumeClaim", "marche-uploads")["spec"]["accessModes"],
        json!(["ReadWriteMany"])
    );
    assert_eq!(find(&built, "Deployment", "marche-ckan")["spec"]["replicas"], 3);
}

#[test]
fn tls_from_cert_manager_or_a_secret() {
    let issued = children(&spec(json!({"ingress": {"tls": {"certManager": {"issuer": "letsencrypt"}}}})));
    let ingress = find(&issued, "Ingress", "marche");
    assert_eq!(ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"], "letsencrypt");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "marche-tls");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "dati.regione.marche.it");
    let given = children(&spec(json!({"ingress": {"tls": {"secretName": "wildcard"}}})));
    assert_eq!(find(&given, "Ingress", "marche")["spec"]["tls"][0]["secretName"], "wildcard");
    let url = builders::site_url(&spec(json!({"ingress": {"tls": {"secretName": "wildcard"}}})));
    assert_eq!(url, "https://dati.regione.marche.it");
    let none = children(&spec(json!({"ingress": {"enabled": false}})));
    assert!(!kinds_and_names(&none).iter().any(|n| n.starts_with("Ingress/")));
}

#[test]
fn backups_dump_on_schedule_and_keep_the_newest() {
    let node = spec(json!({"backup": {"schedule": "30 2 * * *", "timeZone": "Europe/Rome", "retention": 5}}));
    let built = children(&node);
    let cron = find(&built, "CronJob", "marche-backup");
    assert_eq!(cron["spec"]["schedule"], "30 2 * * *");
    assert_eq!(cron["spec"]["timeZone"], "Europe/Rome");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let script = pod["containers"][0]["command"][2].as_str().unwrap_or_default();
    assert!(script.contains("pg_dump --format=custom"), "{script}");
    assert!(script.contains("tail -n +6"), "keeps 5 dumps: {script}");
    assert!(script.contains(">/dev/termination-log"), "reports its dump: {script}");
    assert_eq!(pod["containers"][0]["terminationMessagePolicy"], "FallbackToLogsOnError");
    find(&built, "PersistentVolumeClaim", "marche-backup");
}

/// A node backed up to an object store, with a private CA.
fn backed_up_to_a_store() -> CatalogNodeSpec {
    spec(json!({"backup": {"schedule": "@daily", "retention": 4, "maxAgeDays": 30, "objectStore": {
        "destinationPath": "s3://backups/ckan",
        "endpointURL": "https://s3.regione.marche.it",
        "s3Credentials": {
            "accessKeyId": {"name": "s3-keys", "key": "id"},
            "secretAccessKey": {"name": "s3-keys", "key": "secret"}
        },
        "endpointCA": {"name": "s3-ca", "key": "ca.crt"}
    }}}))
}

#[test]
fn backups_to_an_object_store_run_mediana_in_the_postgres_image_with_keys_as_files() {
    let built = children(&backed_up_to_a_store());
    assert!(
        !kinds_and_names(&built).contains(&"PersistentVolumeClaim/marche-backup".to_owned()),
        "no backup volume when the backups leave the cluster"
    );
    let cron = find(&built, "CronJob", "marche-backup");
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let init = &pod["initContainers"][0];
    assert_eq!(init["image"], "ghcr.io/mediana-dev/mediana:0.1.0");
    assert_eq!(init["command"], json!(["/usr/local/bin/mediana", "copy-to", "/mediana"]));
    let backup = &pod["containers"][0];
    assert_eq!(backup["image"], "ghcr.io/mediana-dev/postgres:15");
    assert_eq!(backup["command"], json!(["/mediana/mediana", "backup", "run"]));
    let env: std::collections::BTreeMap<String, Value> = env_of(backup).into_iter().collect();
    for (name, value) in [
        ("MEDIANA_BACKUP_STORE", "s3://backups/ckan"),
        ("MEDIANA_BACKUP_ENDPOINT", "https://s3.regione.marche.it"),
        ("MEDIANA_BACKUP_REGION", "us-east-1"),
        ("MEDIANA_BACKUP_NODE", "marche"),
        ("MEDIANA_BACKUP_CKAN_VERSION", "2.12.0"),
        ("MEDIANA_BACKUP_FILES_DIR", "/var/lib/ckan"),
        ("MEDIANA_BACKUP_KEEP", "4"),
        ("MEDIANA_BACKUP_MAX_AGE_DAYS", "30"),
        ("MEDIANA_BACKUP_ACCESS_KEY_ID_FILE", "/etc/mediana/store/access-key-id"),
        ("MEDIANA_BACKUP_CA_BUNDLE", "/etc/mediana/store/ca.pem"),
        ("MEDIANA_BACKUP_REPORT", "/dev/termination-log"),
    ] {
        assert_eq!(env.get(name).map(|v| &v["value"]), Some(&json!(value)), "{name}");
    }
    assert_eq!(
        env["MEDIANA_BACKUP_DATABASE_URL"]["valueFrom"]["secretKeyRef"],
        json!({"name": "marche-db", "key": "url"}),
        "the database URL from its Secret, never written into the pod"
    );
    // Neither key is in the environment or the command line: only the projected files.
    let text = backup.to_string();
    assert!(!text.contains("s3-keys"), "{text}");
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    let store = volumes.iter().find(|v| v["name"] == "store").expect("the store's volume");
    assert_eq!(
        store["projected"]["sources"],
        json!([
            {"secret": {"name": "s3-keys", "items": [{"key": "id", "path": "access-key-id"}]}},
            {"secret": {"name": "s3-keys", "items": [{"key": "secret", "path": "secret-access-key"}]}},
            {"secret": {"name": "s3-ca", "items": [{"key": "ca.crt", "path": "ca.pem"}]}}
        ])
    );
    let uploads = volumes.iter().find(|v| v["name"] == "uploads").expect("the uploads");
    assert_eq!(uploads["persistentVolumeClaim"], json!({"claimName": "marche-uploads", "readOnly": true}));
    // One web replica: its ReadWriteOnce uploads are mounted beside it.
    let term = &pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(term["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(term["labelSelector"]["matchLabels"]["app.kubernetes.io/component"], "web");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
}

#[test]
fn each_backup_now_value_is_one_job_like_the_scheduled_one() {
    let node = backed_up_to_a_store();
    let job = |value| {
        backups::now_job(&node, &owner(), backup_context(), value).expect("builds").expect("backups configured")
    };
    let (first, again, other) = (job("2026-12-07T10:00"), job("2026-12-07T10:00"), job("2026-12-07T11:00"));
    let name = |j: &k8s_openapi::api::batch::v1::Job| j.metadata.name.clone().unwrap_or_default();
    assert!(name(&first).starts_with("marche-backup-now-"), "{}", name(&first));
    assert_eq!(name(&first), name(&again), "the same value is the same Job");
    assert_ne!(name(&first), name(&other), "a new value is a new backup");
    let built = children(&node);
    let cron = find(&built, "CronJob", "marche-backup");
    let template = serde_json::to_value(&first.spec).expect("JSON");
    assert_eq!(template, cron["spec"]["jobTemplate"]["spec"], "what runs now is what runs on schedule");
    let without = spec(json!({}));
    assert!(backups::now_job(&without, &owner(), backup_context(), "x").expect("builds").is_none());
}

#[test]
fn the_last_backup_is_the_newest_success_and_a_later_failure_is_reported() {
    let report = r#"{"name":"20261207T023000.120Z","location":"s3://backups/ckan/marche/20261207T023000.120Z/","sizeBytes":1048576,"seconds":12.44}"#;
    let job = |job: &str, time: &str, succeeded, message: Option<&str>| backup_jobs::Finished {
        job: job.into(),
        time: time.into(),
        message: message.map(str::to_owned),
        succeeded,
    };
    let ok = backup_jobs::summarize(vec![job("marche-backup-1", "2026-12-07T02:30:13Z", true, Some(report))], None);
    let last = ok.last.clone().expect("a backup");
    assert_eq!(last.name.as_deref(), Some("20261207T023000.120Z"));
    assert_eq!((last.size_bytes, last.duration.as_deref()), (Some(1_048_576), Some("12.4s")));
    assert_eq!(ok.failure, None);
    let condition = backup_jobs::condition(&ok).expect("a condition");
    assert!(condition.status && condition.reason == Reason::BackupCompleted, "{condition:?}");

    let failed = backup_jobs::summarize(
        vec![
            job("marche-backup-1", "2026-12-07T02:30:13Z", true, Some(report)),
            job("marche-backup-2", "2026-12-08T02:31:05Z", false, Some("object store: connection refused")),
        ],
        None,
    );
    assert_eq!(failed.last, ok.last, "the previous good backup stays the last one");
    let condition = backup_jobs::condition(&failed).expect("a condition");
    assert!(!condition.status && condition.reason == Reason::BackupFailed, "{condition:?}");
    assert!(condition.message.contains("marche-backup-2 failed: object store: connection refused"), "{condition:?}");
    assert!(condition.message.contains("the last good backup: backup 20261207T023000.120Z"), "{condition:?}");

    // A failure older than the recorded backup (its Job gone) is history, not news.
    let recorded =
        BackupStatus { time: "2026-12-09T02:30:00Z".into(), job: "marche-backup-3".into(), ..Default::default() };
    let later =
        backup_jobs::summarize(vec![job("marche-backup-2", "2026-12-08T02:31:05Z", false, None)], Some(&recorded));
    assert_eq!((later.last, later.failure), (Some(recorded), None));
    assert_eq!(backup_jobs::condition(&backup_jobs::Summary::default()), None, "no condition before any backup");
}

#[test]
fn extra_configuration_goes_into_ckan_ini_escaped() {
    let node = spec(json!({"config": {"ckan.datasets_per_page": "50", "ckan.display_timezone": "100%"}}));
    let ini = builders::ckan_ini(&node, &owner()).expect("valid");
    assert!(ini.lines().any(|l| l == "ckan.datasets_per_page = 50"), "{ini}");
    assert!(ini.lines().any(|l| l == "ckan.display_timezone = 100%%"), "a % is doubled for interpolation: {ini}");
}

#[test]
fn options_the_operator_owns_are_refused_naming_the_key() {
    for (config, message) in [
        (
            json!({"ckan.plugins": "nothing"}),
            "spec.config sets ckan.plugins, which the operator sets from spec.extraPlugins",
        ),
        (
            json!({"API_TOKEN.jwt.encode.secret": "x"}),
            "spec.config sets API_TOKEN.jwt.encode.secret, which the operator sets from the generated Secret",
        ),
        (
            json!({"ckan.site_title": "a\nb"}),
            "spec.config sets ckan.site_title, which the operator sets from spec.title",
        ),
        (json!({"ckan.about": "line\nbreak"}), "spec.config.ckan.about spans several lines; a CKAN option is one line"),
        (
            json!({"[app:main]": "x"}),
            "spec.config key \"[app:main]\" is not a CKAN option name (letters, digits, '.', '_' and '-')",
        ),
    ] {
        let node = spec(json!({ "config": config }));
        let err = builders::ckan_ini(&node, &owner()).expect_err("refused");
        assert_eq!(err.to_string(), message);
        let built = builders::children(&node, &owner(), Some(&builders::Release::desired(&node)), backup_context());
        assert!(built.is_err(), "nothing is built from {config}");
    }
}

#[test]
fn builders_are_deterministic() {
    let node = spec(json!({"replicas": 2, "backup": {"schedule": "0 2 * * *"}}));
    assert_eq!(children(&node), children(&node));
}

fn deployment(replicas: i32, ready: i32, updated: i32, generation: i64, observed: i64) -> Deployment {
    let mut d: Deployment = serde_json::from_value(
        json!({"metadata": {"generation": generation}, "spec": {"replicas": replicas, "selector": {}, "template": {}}}),
    )
    .expect("deployment");
    d.status = Some(DeploymentStatus {
        ready_replicas: Some(ready),
        updated_replicas: Some(updated),
        observed_generation: Some(observed),
        ..Default::default()
    });
    d
}

#[test]
fn deployment_is_ready_only_when_rolled_out() {
    assert_eq!(deployment_readiness(Some(&deployment(2, 2, 2, 3, 3))), Observed::Ready);
    assert!(matches!(deployment_readiness(Some(&deployment(2, 1, 2, 3, 3))), Observed::Pending(_)));
    assert!(matches!(deployment_readiness(Some(&deployment(2, 2, 1, 3, 3))), Observed::Pending(_)), "old replicas");
    assert!(matches!(deployment_readiness(Some(&deployment(2, 2, 2, 4, 3))), Observed::Pending(_)), "new generation");
    assert!(matches!(deployment_readiness(None), Observed::Pending(_)));
}

#[test]
fn ready_summarises_the_components() {
    let all = Observation {
        web: Observed::Ready,
        database: Observed::Ready,
        search: Observed::External,
        redis: Observed::Ready,
        worker: Observed::Ready,
        sysadmin: Some(("marche-sysadmin-0123abcd".into(), JobState::Succeeded)),
        ckan: None,
    };
    let idle = Plan {
        web: Some(builders::Release::desired(&spec(json!({})))),
        start: None,
        status: None,
        failure: None,
        restore: None,
    };
    let ready = conditions(&all, &idle);
    let get =
        |list: &[DesiredCondition], t: ConditionType| list.iter().find(|c| c.type_ == t).cloned().expect("condition");
    assert!(get(&ready, ConditionType::Ready).status);
    assert!(!get(&ready, ConditionType::Reconciling).status);
    assert_eq!(get(&ready, ConditionType::SearchReady).reason, Reason::External);

    let waiting = Observation { database: Observed::Pending("0/1 replicas ready".into()), ..all.clone() };
    let pending = conditions(&waiting, &idle);
    let summary = get(&pending, ConditionType::Ready);
    assert!(!summary.status);
    assert!(summary.message.contains("PostgreSQL: 0/1 replicas ready"), "{}", summary.message);
    assert!(get(&pending, ConditionType::Reconciling).status);
    assert!(!get(&pending, ConditionType::Stalled).status);

    // Serving, but the sysadmin account is not set up: not Ready, and the message says why.
    let no_admin = Observation {
        sysadmin: Some(("marche-sysadmin-0123abcd".into(), JobState::Failed("BackoffLimitExceeded".into()))),
        ..all.clone()
    };
    let summary = get(&conditions(&no_admin, &idle), ConditionType::Ready);
    assert!(!summary.status);
    assert!(
        summary.message.contains("Job marche-sysadmin-0123abcd failed: BackoffLimitExceeded"),
        "{}",
        summary.message
    );

    // A failed migration: the old release serves (Ready), the node is Stalled.
    let failed = Plan { failure: Some((Reason::MigrationFailed, "the database migration failed".into())), ..idle };
    let stalled = conditions(&all, &failed);
    assert!(get(&stalled, ConditionType::Ready).status);
    assert_eq!(get(&stalled, ConditionType::Stalled).reason, Reason::MigrationFailed);
    assert!(get(&stalled, ConditionType::Stalled).status);
    assert!(!get(&stalled, ConditionType::Reconciling).status);
}

#[test]
fn serving_version_moves_only_after_the_rollout() {
    let node = spec(json!({"version": "2.11.4"}));
    let previous = CatalogNodeStatus {
        versions: Some(ComponentVersions { ckan: Some("2.11.3".into()), ..Default::default() }),
        ..Default::default()
    };
    let rolling = Observation {
        web: Observed::Pending("1/2".into()),
        database: Observed::Ready,
        search: Observed::Ready,
        redis: Observed::Ready,
        worker: Observed::Ready,
        sysadmin: None,
        ckan: None,
    };
    let new = builders::Release::desired(&node);
    let during = status(&node, &rolling, Some(&new), Some(&previous));
    assert_eq!(during.versions.and_then(|v| v.ckan).as_deref(), Some("2.11.3"));
    let done = Observation { web: Observed::Ready, ..rolling };
    let after = status(&node, &done, Some(&new), Some(&previous));
    assert_eq!(after.versions.as_ref().and_then(|v| v.ckan.as_deref()), Some("2.11.4"));
    assert_eq!(
        after.endpoints.and_then(|e| e.catalog_turtle).as_deref(),
        Some("http://dati.regione.marche.it/catalog.ttl")
    );
}

#[test]
fn the_worker_runs_ckans_jobs_with_the_webs_release_and_reaches_what_they_need() {
    let built = children(&spec(json!({})));
    let worker = find(&built, "Deployment", "marche-ckan-worker");
    let web = find(&built, "Deployment", "marche-ckan");
    let pod = |d: &Value| d["spec"]["template"]["spec"].clone();
    let (worker_pod, web_pod) = (pod(worker), pod(web));
    assert_eq!(worker_pod["containers"][0]["command"], json!(["ckan", "jobs", "worker"]));
    assert_eq!(worker_pod["containers"][0]["image"], web_pod["containers"][0]["image"]);
    assert_eq!(worker_pod["containers"][0]["env"], web_pod["containers"][0]["env"]);
    let claims: Vec<&Value> = worker_pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.get("persistentVolumeClaim").is_some())
        .collect();
    assert!(claims.is_empty(), "the worker does not hold the uploads claim: {claims:?}");
    for policy in ["marche-search", "marche-redis"] {
        let allowed = find(&built, "NetworkPolicy", policy)["spec"]["ingress"].to_string();
        assert!(allowed.contains("\"worker\""), "{policy} admits the worker: {allowed}");
    }
}

#[test]
fn before_its_database_is_initialised_a_node_runs_no_ckan_web_pod() {
    let node = spec(json!({"replicas": 2}));
    let built = builders::children(&node, &owner(), None, backup_context()).expect("children build");
    let kinds = kinds_and_names(&built);
    let ckan = |k: &String| k.starts_with("Deployment/marche-ckan") || k.starts_with("PodDisruptionBudget/");
    assert!(!kinds.iter().any(ckan), "neither web nor worker: {kinds:?}");
    assert!(kinds.iter().any(|k| k == "StatefulSet/marche-postgres"), "the database starts: {kinds:?}");
}

#[test]
fn the_sysadmin_job_sets_up_the_account_with_the_generated_password() {
    let node = spec(json!({"sysadmin": {"name": "admin-marche"}}));
    let release = builders::Release::desired(&node);
    let job = serde_json::to_value(builders::sysadmin_job(&node, &owner(), &release)).expect("json");
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let script = builders::account_script(&node, "sysadmin");
    assert_eq!(container["command"][2], script.as_str());
    // ckanext-mediana's one command, which CKAN 2.11 and 2.12 both run.
    assert!(
        script.contains("exec ckan mediana sysadmin \"$CKAN_SYSADMIN_NAME\" --email \"$CKAN_SYSADMIN_EMAIL\""),
        "{script}"
    );
    assert!(!script.contains("xloader-token"), "no DataStore, no XLoader token: {script}");
    let vars = env_of(container);
    let value = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    assert_eq!(value("CKAN_SYSADMIN_EMAIL")["value"], "admin-marche@dati.regione.marche.it", "CKAN needs an e-mail");
    assert_eq!(
        value("CKAN_SYSADMIN_PASSWORD")["valueFrom"]["secretKeyRef"],
        json!({"name": "marche-ckan-secrets", "key": "sysadmin-password"})
    );
    let claims: Vec<&Value> =
        pod["volumes"].as_array().into_iter().flatten().filter(|v| v.get("persistentVolumeClaim").is_some()).collect();
    assert!(claims.is_empty(), "a Job never holds the uploads claim: {claims:?}");
    // Another account, another Job: it runs again.
    let renamed = spec(json!({"sysadmin": {"name": "admin-marche", "email": "opendata@regione.marche.it"}}));
    assert_ne!(builders::sysadmin_job_name(&node, &owner()), builders::sysadmin_job_name(&renamed, &owner()));
    assert_ne!(builders::account_selector(&node, &owner()), builders::account_selector(&renamed, &owner()));
}

/// The first install makes the database and the account in one CKAN process, and says so in
/// the label the controller reads to skip the sysadmin Job; a later migration only migrates.
#[test]
fn the_first_install_sets_up_the_account_in_the_migrations_process() {
    let node = spec(json!({"sysadmin": {"name": "admin-marche"}}));
    let release = builders::Release::desired(&node);
    let migration = |first_install| {
        let job =
            builders::upgrade_job(&node, &owner(), UpgradeJob::Migrate, &release, first_install, backup_context())
                .expect("a Job");
        serde_json::to_value(job).expect("json")
    };
    let selector = builders::account_selector(&node, &owner());
    let (label, fingerprint) =
        selector.rsplit_once(',').and_then(|(_, l)| l.split_once('=')).expect("the account's label");
    assert_eq!(label, builders::ACCOUNT_LABEL);

    let install = migration(true);
    let container = &install["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"][2], builders::account_script(&node, "install").as_str());
    assert!(
        container["command"][2]
            .as_str()
            .is_some_and(|c| c.contains("exec ckan mediana install \"$CKAN_SYSADMIN_NAME\""))
    );
    let names = env_names(container);
    for name in ["CKAN_SYSADMIN_NAME", "CKAN_SYSADMIN_EMAIL", "CKAN_SYSADMIN_PASSWORD"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert_eq!(install["metadata"]["labels"][label], fingerprint);
    let sysadmin = serde_json::to_value(builders::sysadmin_job(&node, &owner(), &release)).expect("json");
    assert_eq!(sysadmin["metadata"]["labels"][label], fingerprint, "both Jobs name the same account");

    let upgrade = migration(false);
    let container = &upgrade["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], json!(["ckan", "db", "upgrade"]));
    assert!(!env_names(container).iter().any(|n| n.starts_with("CKAN_SYSADMIN")), "{container}");
    assert!(upgrade["metadata"]["labels"].get(label).is_none(), "an upgrade sets up no account");
}

#[test]
fn a_pending_shared_uploads_claim_is_named_as_the_reason_the_web_waits() {
    let claim = |modes: &[&str], phase: &str| -> PersistentVolumeClaim {
        serde_json::from_value(json!({"metadata": {"name": "marche-uploads"},
            "spec": {"accessModes": modes}, "status": {"phase": phase}}))
        .expect("claim")
    };
    let why = super::unbound_shared_claim(Some(&claim(&["ReadWriteMany"], "Pending"))).expect("named");
    assert!(why.contains("marche-uploads is Pending") && why.contains("ReadWriteMany"), "{why}");
    assert!(why.contains("the default StorageClass"), "{why}");
    assert_eq!(super::unbound_shared_claim(Some(&claim(&["ReadWriteMany"], "Bound"))), None);
    assert_eq!(
        super::unbound_shared_claim(Some(&claim(&["ReadWriteOnce"], "Pending"))),
        None,
        "one replica waits for its own reasons"
    );
    assert_eq!(super::unbound_shared_claim(None), None);
}

/// An answer of `mediana_status_show`, as ckanext-mediana on CKAN 2.12.0 gave it (a test
/// peer of tests/ckan without Redis, 2026-12-03).
const STATUS_ANSWER: &str = r#"{"help": "http://127.0.0.1:39509/api/3/action/help_show?name=mediana_status_show", "success": true, "result": {"site_title": "mediana test CKAN 1", "site_description": "", "site_url": "http://127.0.0.1:39509", "error_emails_to": null, "locale_default": "en", "extensions": ["activity", "dcat", "scheming_datasets", "mediana_dcatapit", "mediana_status"], "ckan_version": "2.12.0", "components": {"database": {"ok": true, "version": "15.18", "migrations": {"ckan": {"current": ["9445ce34fc23"], "head": ["9445ce34fc23"], "at_head": true}, "activity": {"current": ["fab3bfdcf830"], "head": ["fab3bfdcf830"], "at_head": true}}}, "search": {"ok": true, "version": "9.10.1", "schema": "ckan-2.12"}, "redis": {"ok": false, "error": "ConnectionError: Error 111 connecting to 127.0.0.1:1. Connection refused."}}}}"#;

/// The recorded answer, with Redis answering too.
fn serving_answer() -> serving::CkanStatus {
    let mut answer = serving::parse(STATUS_ANSWER).expect("the recorded answer parses");
    answer.components.redis = serving::Component { ok: true, version: Some("7.0.15".into()), ..Default::default() };
    answer
}

#[test]
fn ckans_answer_is_read_and_a_failed_or_foreign_answer_named() {
    let answer = serving::parse(STATUS_ANSWER).expect("parses");
    assert_eq!(answer.ckan_version.as_deref(), Some("2.12.0"));
    assert!(answer.components.database.migrations["activity"].at_head);
    assert_eq!(answer.components.search.version.as_deref(), Some("9.10.1"));
    assert!(!answer.components.redis.ok);

    let refused =
        serving::parse(r#"{"success": false, "error": {"message": "Access denied", "__type": "Authorization Error"}}"#);
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("mediana_status_show failed") && e.contains("Access denied")),
        "{refused:?}"
    );
    let html = serving::parse("<html>502 Bad Gateway</html>");
    assert!(html.as_ref().is_err_and(|e| e.contains("answered something else")), "{html:?}");
}

#[test]
fn proxy_errors_say_the_same_whichever_pod_was_tried() {
    let said = |address: &str| {
        serving::without_pod_address(&format!(
            "error trying to reach service: dial tcp {address}: connect: network is unreachable"
        ))
    };
    assert_eq!(
        said("10.0.0.13:5000"),
        "error trying to reach service: dial tcp a pod: connect: network is unreachable"
    );
    assert_eq!(said("10.0.0.14:5000"), said("10.0.0.13:5000"));
    assert_eq!(said("[fd00::1a]:5000"), said("10.0.0.13:5000"));
}

#[test]
fn the_web_serves_only_when_ckan_answers_as_the_release_should() {
    let release = builders::Release::desired(&spec(json!({"version": "2.12.0"})));
    let plugins = ["activity", "dcat", "mediana_status"];
    let web = |answer: &Result<serving::CkanStatus, String>| serving::web(Observed::Ready, answer, &release, &plugins);
    assert_eq!(web(&Ok(serving_answer())), Observed::Ready);

    let rolling = Observed::Pending("0/1 replicas ready".into());
    assert_eq!(serving::web(rolling.clone(), &Ok(serving_answer()), &release, &plugins), rolling);
    let not_serving = |observed: Observed| match observed {
        Observed::NotServing(why) => why,
        other => panic!("not NotServing: {other:?}"),
    };
    let silent = not_serving(web(&Err("no answer within 20 s".into())));
    assert!(silent.contains("mediana_status_show gets no answer: no answer within 20 s"), "{silent}");
    let older = builders::Release::desired(&spec(json!({"version": "2.11.3"})));
    let mismatch = not_serving(serving::web(Observed::Ready, &Ok(serving_answer()), &older, &plugins));
    assert!(mismatch.contains("runs CKAN 2.12.0, not 2.11.3"), "{mismatch}");
    let missing = not_serving(serving::web(Observed::Ready, &Ok(serving_answer()), &release, &["dcat", "xloader"]));
    assert_eq!(missing, "the plugins xloader do not run");
    let no_redis = not_serving(web(&serving::parse(STATUS_ANSWER)));
    assert!(no_redis.contains("cannot reach Redis: ConnectionError"), "{no_redis}");
}

#[test]
fn the_database_and_search_are_judged_by_what_ckan_finds() {
    let mut behind = serving_answer();
    let activity = behind.components.database.migrations.get_mut("activity").expect("activity");
    activity.current.clear();
    activity.at_head = false;
    behind.components.database.ok = false;
    match serving::database(Observed::Ready, &Ok(behind)) {
        Observed::NotServing(why) => assert_eq!(why, "migrations not applied: activity at none (head fab3bfdcf830)"),
        other => panic!("{other:?}"),
    }
    assert_eq!(serving::database(Observed::External, &Ok(serving_answer())), Observed::External);
    // Without an answer, the rollout (the kubelet's probes) is all there is.
    assert_eq!(serving::database(Observed::Ready, &Err("not asked".into())), Observed::Ready);

    let mut no_core = serving_answer();
    no_core.components.search =
        serving::Component { ok: false, error: Some("HTTPError: 404".into()), ..Default::default() };
    assert_eq!(
        serving::search(Observed::Ready, &Ok(no_core)),
        Observed::NotServing("CKAN's core does not answer a ping: HTTPError: 404".into())
    );
}

#[test]
fn versions_are_those_ckan_reports_and_a_node_that_does_not_answer_is_not_ready() {
    let node = spec(json!({"version": "2.12.0"}));
    let release = builders::Release::desired(&node);
    let answered = Observation {
        web: Observed::Ready,
        database: Observed::Ready,
        search: Observed::Ready,
        redis: Observed::Ready,
        worker: Observed::Ready,
        sysadmin: Some(("marche-sysadmin-0123abcd".into(), JobState::Succeeded)),
        ckan: Some(serving_answer()),
    };
    let versions = status(&node, &answered, Some(&release), None).versions.expect("versions");
    assert_eq!(
        (versions.ckan.as_deref(), versions.postgres.as_deref(), versions.solr.as_deref(), versions.redis.as_deref()),
        (Some("2.12.0"), Some("15.18"), Some("9.10.1"), Some("7.0.15"))
    );
    // CKAN silent: the versions it reported last stay, and the node is not Ready.
    let silent = Observation { web: Observed::NotServing("no answer".into()), ckan: None, ..answered };
    let previous = CatalogNodeStatus { versions: Some(versions.clone()), ..Default::default() };
    assert_eq!(status(&node, &silent, Some(&release), Some(&previous)).versions, Some(versions));
    let idle = Plan { web: Some(release), start: None, status: None, failure: None, restore: None };
    let listed = conditions(&silent, &idle);
    let ready = listed.iter().find(|c| c.type_ == ConditionType::Ready).expect("Ready");
    assert_eq!((ready.status, ready.reason), (false, Reason::NotServing));
    assert!(ready.message.contains("CKAN: no answer"), "{}", ready.message);
}

#[test]
fn a_workload_the_scheduler_cannot_place_says_so_in_the_schedulers_words() {
    let pod = |component: &str| -> k8s_openapi::api::core::v1::Pod {
        serde_json::from_value(json!({
            "metadata": {"name": format!("marche-{component}-0"), "labels": {"app.kubernetes.io/component": component}},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient cpu."}]}
        }))
        .expect("a pod")
    };
    let pods = [pod("database")];
    let waiting = Observed::Pending("0/1 replicas ready".into());
    assert_eq!(
        waiting.clone().explained("database", &pods),
        Observed::Pending(
            "0/1 replicas ready; its pod cannot be scheduled: 0/1 nodes are available: 1 Insufficient cpu.".into()
        )
    );
    assert_eq!(waiting.clone().explained("search", &pods), waiting, "another component's pod says nothing");
    assert_eq!(Observed::Ready.explained("database", &pods), Observed::Ready);
}

#[test]
fn generated_secrets_outlive_the_node_like_its_volumes() {
    let secrets = builders::generated_secrets(&spec(json!({})), &owner());
    assert_eq!(secrets.len(), 2, "CKAN's keys and the managed database's credentials");
    assert!(secrets.iter().all(|s| s.kept_with_data), "{secrets:?}");
}

fn env_names(container: &Value) -> Vec<String> {
    env_of(container).into_iter().map(|(name, _)| name).collect()
}

#[test]
fn a_managed_datastore_is_set_up_before_ckan_starts_in_every_ckan_pod() {
    let node = spec(json!({"datastore": {}}));
    let release = builders::Release::desired(&node);
    let secrets = builders::generated_secrets(&node, &owner());
    let datastore = secrets.iter().find(|s| s.name == "marche-datastore").expect("the DataStore's Secret");
    assert!(datastore.kept_with_data, "its roles' passwords live as long as the database they open");
    let keys: Vec<&str> = datastore.keys.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["write-password", "read-password", "write-url", "read-url"]);

    let pods: Vec<Value> = children(&node)
        .iter()
        .filter(|c| c.resource.kind == "Deployment" && c.name().starts_with("marche-ckan"))
        .map(|c| c.object["spec"]["template"]["spec"].clone())
        .chain([
            serde_json::to_value(builders::sysadmin_job(&node, &owner(), &release)).expect("json")["spec"]["template"]
                ["spec"]
                .clone(),
        ])
        .collect();
    assert_eq!(pods.len(), 3, "web, worker and a Job");
    for pod in &pods {
        let setup = &pod["initContainers"][0];
        assert_eq!(setup["command"], json!(["python3", "-m", "ckanext.mediana.datastore"]), "{pod}");
        assert_eq!(setup["image"], pod["containers"][0]["image"], "the release's own image");
        for container in [setup, &pod["containers"][0]] {
            let names = env_names(container);
            assert!(
                names.iter().any(|n| n == "CKAN_DATASTORE_WRITE_URL")
                    && names.iter().any(|n| n == "CKAN_DATASTORE_READ_URL"),
                "{names:?}"
            );
        }
    }
    let web = &pods[0]["containers"][0];
    let write = env_of(web).into_iter().find(|(n, _)| n == "CKAN_DATASTORE_WRITE_URL").map(|(_, v)| v).expect("set");
    assert_eq!(write["valueFrom"]["secretKeyRef"], json!({"name": "marche-datastore", "key": "write-url"}));

    let ini = builders::ckan_ini(&node, &owner()).expect("renders");
    let plugins = ini.lines().find_map(|l| l.strip_prefix("ckan.plugins = ")).expect("plugins");
    assert!(plugins.ends_with("mediana_status datastore xloader datatables_view mediana_xloader"), "{plugins}");
    assert!(ini.contains("ckanext.xloader.site_url = http://marche-ckan.opendata.svc\n"), "{ini}");
    assert!(!ini.contains("postgresql://"), "no URL, no password in the ConfigMap: {ini}");
    assert!(builders::account_script(&node, "sysadmin").ends_with(" --xloader-token\n"));
    assert!(builders::account_script(&node, "install").ends_with(" --xloader-token\n"));
}

#[test]
fn an_external_datastore_is_reached_with_its_secrets_and_never_set_up() {
    let node = spec(json!({"datastore": {"external": {
        "writeUrlSecretRef": {"name": "marche-ds", "key": "write"},
        "readUrlSecretRef": {"name": "marche-ds", "key": "read"}}}}));
    assert!(!builders::generated_secrets(&node, &owner()).iter().any(|s| s.name == "marche-datastore"));
    let built = children(&node);
    let web = built.iter().find(|c| c.resource.kind == "Deployment" && c.name() == "marche-ckan").expect("web");
    let pod = &web.object["spec"]["template"]["spec"];
    assert!(pod.get("initContainers").is_none(), "the provider's roles are not ours to change: {pod}");
    let read = env_of(&pod["containers"][0]).into_iter().find(|(n, _)| n == "CKAN_DATASTORE_READ_URL").map(|(_, v)| v);
    assert_eq!(read.expect("set")["valueFrom"]["secretKeyRef"], json!({"name": "marche-ds", "key": "read"}));
}

#[test]
fn a_datastore_on_an_external_database_without_its_urls_is_refused_by_name() {
    let node = spec(json!({"datastore": {},
        "database": {"external": {"urlSecretRef": {"name": "marche-db", "key": "url"}}}}));
    let err = builders::children(&node, &owner(), None, backup_context()).expect_err("refused");
    assert!(err.to_string().contains("datastore.external"), "{err}");
    for key in ["ckan.datastore.write_url", "ckanext.xloader.api_token", "ckanext.xloader.site_url"] {
        let node = spec(json!({"config": {key: "x"}}));
        let err = builders::children(&node, &owner(), None, backup_context()).expect_err("an owned option");
        assert!(err.to_string().contains(key), "{err}");
    }
}

#[test]
fn urls_ckan_could_not_read_are_refused_naming_their_secret_not_their_value() {
    let node = spec(json!({
        "database": {"external": {"urlSecretRef": {"name": "bologna-db", "key": "sqlalchemy-url"}}},
        "search": {"external": {"url": "http://solr.search:8983/solr/ckan"}},
        "redis": {"external": {"urlSecretRef": {"name": "bologna-redis", "key": "url"}}}}));
    let urls = builders::external_urls(&node);
    let fields: Vec<&str> = urls.iter().map(|(field, _)| *field).collect();
    assert_eq!(fields, ["spec.database.external", "spec.search.external", "spec.redis.external"]);
    assert_eq!(urls[1].1, builders::UrlSource::Literal("http://solr.search:8983/solr/ckan"));
    assert!(builders::external_urls(&spec(json!({}))).is_empty(), "a managed node reads only URLs it made");

    let err = config::check_url(
        "spec.database.external",
        "Secret bologna-db key sqlalchemy-url".into(),
        "postgresql://ckan:s3cr%40t@db/ckan",
    )
    .expect_err("CKAN would not start");
    let message = err.to_string();
    assert!(message.starts_with("spec.database.external: the URL in Secret bologna-db key sqlalchemy-url holds '%'"));
    assert!(!message.contains("s3cr"), "never the password: {message}");
    assert!(config::check_url("spec.database.external", String::new(), "postgresql://ckan:bo'logna@db/ckan").is_ok());
}

/// The first migration, which runs before any web pod exists, mounts the uploads claim at
/// CKAN's storage path, so that its volume is bound while the database is made; later ones
/// (the web pods hold the ReadWriteOnce claim then) and the index rebuild do not.
#[test]
fn only_the_first_migration_holds_the_uploads_claim() {
    let node = spec(json!({}));
    let release = builders::Release::desired(&node);
    let claims_of = |kind, first_install| {
        let job =
            builders::upgrade_job(&node, &owner(), kind, &release, first_install, backup_context()).expect("a Job");
        let pod = serde_json::to_value(job).expect("json")["spec"]["template"]["spec"].clone();
        let storage = pod["volumes"].as_array().into_iter().flatten().find(|v| v["name"] == "storage").cloned();
        let mounted = pod["containers"][0]["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| m["name"] == "storage" && m["mountPath"] == super::config::STORAGE_PATH);
        assert!(mounted, "CKAN's storage path is a volume of the pod: {pod}");
        storage.and_then(|v| v["persistentVolumeClaim"]["claimName"].as_str().map(str::to_owned))
    };
    assert_eq!(claims_of(UpgradeJob::Migrate, true).as_deref(), Some("marche-uploads"));
    assert_eq!(claims_of(UpgradeJob::Migrate, false), None);
    assert_eq!(claims_of(UpgradeJob::Reindex, true), None);
}

/// A CKAN busy with writes answers status_show late: only readiness asks it, patiently;
/// liveness asks whether gunicorn still listens, so a harvest never gets CKAN restarted.
#[test]
fn a_busy_ckan_is_not_restarted_by_its_probes() {
    let built = children(&spec(json!({})));
    let web = built.iter().find(|c| c.resource.kind == "Deployment" && c.name() == "marche-ckan").expect("web");
    let container = &web.object["spec"]["template"]["spec"]["containers"][0];
    let liveness = &container["livenessProbe"];
    assert_eq!(liveness["tcpSocket"]["port"], "http", "{liveness}");
    assert!(liveness.get("httpGet").is_none(), "{liveness}");
    let readiness = &container["readinessProbe"];
    assert_eq!(readiness["httpGet"]["path"], "/api/3/action/status_show");
    let patience = readiness["timeoutSeconds"].as_i64().unwrap_or(0)
        + readiness["periodSeconds"].as_i64().unwrap_or(0) * readiness["failureThreshold"].as_i64().unwrap_or(0);
    assert!(patience >= 60, "out of the Service only after a minute without answers: {readiness}");
}

/// A new node restored from the Marche node's latest backup in its store.
fn restored_from_a_store() -> CatalogNodeSpec {
    let store = json!({
        "destinationPath": "s3://backups/ckan",
        "endpointURL": "https://s3.regione.marche.it",
        "s3Credentials": {
            "accessKeyId": {"name": "s3-keys", "key": "id"},
            "secretAccessKey": {"name": "s3-keys", "key": "secret"}
        }
    });
    spec(json!({"restore": {"objectStore": store, "node": "marche-old"}}))
}

#[test]
fn a_restore_runs_mediana_in_the_postgres_image_into_the_uploads_with_keys_as_files() {
    let node = restored_from_a_store();
    let release = builders::Release::desired(&node);
    let job = builders::upgrade_job(&node, &owner(), builders::UpgradeJob::Restore, &release, true, backup_context())
        .expect("builds");
    let job = serde_json::to_value(&job).expect("JSON");
    let name = job["metadata"]["name"].as_str().expect("a name").to_owned();
    assert!(name.starts_with("marche-restore-"), "{name}");
    assert_eq!(job["metadata"]["labels"]["app.kubernetes.io/component"], "restore", "not counted as a backup");
    assert_eq!(job["spec"]["backoffLimit"], 0, "a failed restore is reported, not run again on its own");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["initContainers"][0]["command"], json!(["/usr/local/bin/mediana", "copy-to", "/mediana"]));
    let restore = &pod["containers"][0];
    assert_eq!(restore["image"], "ghcr.io/mediana-dev/postgres:15");
    assert_eq!(restore["command"], json!(["/mediana/mediana", "backup", "restore"]));
    let env: std::collections::BTreeMap<String, Value> = env_of(restore).into_iter().collect();
    for (name, value) in [
        ("MEDIANA_BACKUP_STORE", "s3://backups/ckan"),
        ("MEDIANA_BACKUP_NODE", "marche-old"),
        ("MEDIANA_BACKUP_NAME", "latest"),
        ("MEDIANA_BACKUP_FILES_DIR", "/var/lib/ckan"),
        ("MEDIANA_BACKUP_SECRET_ACCESS_KEY_FILE", "/etc/mediana/store/secret-access-key"),
        ("MEDIANA_BACKUP_REPORT", "/dev/termination-log"),
    ] {
        assert_eq!(env.get(name).map(|v| &v["value"]), Some(&json!(value)), "{name}");
    }
    assert_eq!(
        env["MEDIANA_BACKUP_DATABASE_URL"]["valueFrom"]["secretKeyRef"],
        json!({"name": "marche-db", "key": "url"})
    );
    assert!(!restore.to_string().contains("s3-keys"), "the keys only as files: {restore}");
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    let uploads = volumes.iter().find(|v| v["name"] == "uploads").expect("the uploads");
    assert_eq!(uploads["persistentVolumeClaim"], json!({"claimName": "marche-uploads"}), "writable");
    assert!(volumes.iter().any(|v| v["name"] == "work" && v.get("emptyDir").is_some()), "{volumes:?}");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);

    // Pointed at another backup after a failure, the restore is a new Job.
    let mut other = node.clone();
    other.restore.as_mut().expect("a restore").backup = "20261207T101500.000Z".into();
    let renamed =
        builders::upgrade_job(&other, &owner(), builders::UpgradeJob::Restore, &release, true, backup_context())
            .expect("builds");
    assert_ne!(renamed.metadata.name.as_deref(), Some(name.as_str()));
}

#[test]
fn a_restoring_node_is_not_ready_until_its_index_is_rebuilt() {
    let all = Observation {
        web: Observed::Ready,
        database: Observed::Ready,
        search: Observed::Ready,
        redis: Observed::Ready,
        worker: Observed::Ready,
        sysadmin: Some(("marche-sysadmin-0123abcd".into(), JobState::Succeeded)),
        ckan: None,
    };
    let reindexing = crate::api::catalog_node::RestoreStatus {
        phase: crate::api::catalog_node::RestorePhase::Reindexing,
        backup: "20261207T101500.000Z".into(),
        ..Default::default()
    };
    let plan = Plan {
        web: Some(builders::Release::desired(&spec(json!({})))),
        start: None,
        status: None,
        failure: None,
        restore: Some(reindexing.clone()),
    };
    let desired = conditions(&all, &plan);
    let get = |t: ConditionType| desired.iter().find(|c| c.type_ == t).cloned().expect("condition");
    assert!(!get(ConditionType::Ready).status);
    assert!(get(ConditionType::Ready).message.contains("the restore of backup 20261207T101500.000Z: Reindexing"));
    assert_eq!(get(ConditionType::Reconciling).reason, Reason::Restoring);
    let done = crate::api::catalog_node::RestoreStatus {
        phase: crate::api::catalog_node::RestorePhase::Completed,
        ..reindexing
    };
    let desired = conditions(&all, &Plan { restore: Some(done), ..plan });
    assert!(desired.iter().any(|c| c.type_ == ConditionType::Ready && c.status));
}
