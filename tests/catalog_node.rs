//! A CatalogNode end to end on the local control plane (kwok makes its pods Ready and binds
//! its volumes, but runs no CKAN): every child, rolled out and Ready=False NotServing since
//! no CKAN answers (tests/real_node.rs has the Ready=True of a serving node), idempotence, pruning that keeps data, and
//! garbage collection.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use mediana::api::CatalogNode;
use serde_json::json;

/// The namespace of this run: unique, so that a rerun against a kept cluster starts clean.
fn ns() -> &'static str {
    static NS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NS.get_or_init(|| common::unique_name("catalog-e2e"))
}
const SELECTOR: &str = "app.kubernetes.io/instance=marche,app.kubernetes.io/managed-by=mediana";

fn node() -> serde_json::Value {
    json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": "marche", "namespace": ns()},
        "spec": {
            "hostname": "dati.regione.marche.it",
            "title": "Open data Regione Marche",
            "publisher": {"ipaCode": "r_marche", "name": "Regione Marche"},
            "replicas": 2,
            "sysadmin": {"email": "opendata@regione.marche.it"},
            "config": {"ckan.datasets_per_page": "50"},
            "ingress": {"className": "nginx", "tls": {"certManager": {"issuer": "letsencrypt"}}},
            "backup": {"schedule": "30 2 * * *", "timeZone": "Europe/Rome", "retention": 14}
        }
    })
}

/// Names of the objects of one kind that carry the node's labels.
async fn names<K>(client: &Client) -> Vec<String>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns());
    let mut names: Vec<String> = api
        .list(&ListParams::default().labels(SELECTOR))
        .await
        .expect("list")
        .items
        .iter()
        .map(|o| o.name_any())
        .collect();
    names.sort();
    names
}

async fn resource_versions(client: &Client) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    macro_rules! collect {
        ($($kind:ty),*) => {$(
            let api: Api<$kind> = Api::namespaced(client.clone(), ns());
            for o in api.list(&ListParams::default().labels(SELECTOR)).await.expect("list").items {
                versions.insert(format!("{}/{}", stringify!($kind), o.name_any()), o.resource_version().unwrap_or_default());
            }
        )*};
    }
    collect!(
        Deployment,
        StatefulSet,
        Service,
        Ingress,
        NetworkPolicy,
        PodDisruptionBudget,
        CronJob,
        Secret,
        PersistentVolumeClaim
    );
    versions
}

fn condition(node: &CatalogNode, type_: &str) -> Option<(String, String)> {
    node.status
        .as_ref()?
        .common
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone()))
}

/// Rolled out as far as kwok goes: PostgreSQL and Solr ready, the web's pods ready, and the
/// node not Ready because no CKAN answers its status (kwok's pods run nothing).
fn rolled_out_unanswered(node: &CatalogNode) -> bool {
    condition(node, "WebReady") == Some(("False".into(), "NotServing".into()))
        && condition(node, "Ready") == Some(("False".into(), "NotServing".into()))
        && ["DatabaseReady", "SearchReady"].iter().all(|t| condition(node, t).is_some_and(|c| c.0 == "True"))
}

#[tokio::test]
async fn catalog_node_end_to_end() {
    let client = common::client().await;
    common::namespace(&client, ns()).await;
    let operator = common::Operator::start(client.clone());
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), ns());
    let apply = PatchParams::apply(common::TEST_MANAGER).force();
    nodes.patch("marche", &apply, &Patch::Apply(node())).await.expect("create the CatalogNode");

    // 1. The whole stack rolls out; the node is not Ready, and says why: no CKAN answers.
    let ready = common::eventually("the CatalogNode rolled out, CKAN not answering", 90, || async {
        let node = nodes.get("marche").await.ok()?;
        rolled_out_unanswered(&node).then_some(node)
    })
    .await;
    let web = ready.status.as_ref().and_then(|s| s.common.conditions.iter().find(|c| c.type_ == "WebReady")).cloned();
    let why = web.map(|c| c.message).unwrap_or_default();
    assert!(why.contains("its pods are ready, but mediana_status_show gets no answer"), "{why}");
    let status = ready.status.clone().expect("status");
    assert_eq!(status.common.observed_generation, ready.metadata.generation);
    assert_eq!(status.url.as_deref(), Some("https://dati.regione.marche.it"));
    assert_eq!(
        status.endpoints.as_ref().and_then(|e| e.catalog_turtle.as_deref()),
        Some("https://dati.regione.marche.it/catalog.ttl")
    );
    assert_eq!(
        status.versions.as_ref().and_then(|v| v.ckan.as_deref()),
        Some(mediana::api::catalog_node::DEFAULT_CKAN_VERSION)
    );
    assert_eq!(condition(&ready, "Stalled").map(|c| c.0), Some("False".into()));

    assert_eq!(names::<Deployment>(&client).await, ["marche-ckan", "marche-ckan-worker", "marche-redis"]);
    assert_eq!(names::<StatefulSet>(&client).await, ["marche-postgres", "marche-solr"]);
    assert_eq!(names::<Service>(&client).await, ["marche-ckan", "marche-postgres", "marche-redis", "marche-solr"]);
    assert_eq!(names::<Ingress>(&client).await, ["marche"]);
    assert_eq!(names::<NetworkPolicy>(&client).await, ["marche-database", "marche-redis", "marche-search"]);
    assert_eq!(names::<PodDisruptionBudget>(&client).await, ["marche-ckan"]);
    assert_eq!(names::<CronJob>(&client).await, ["marche-backup"]);
    assert_eq!(names::<Secret>(&client).await, ["marche-ckan-secrets", "marche-db"]);
    let claims = names::<PersistentVolumeClaim>(&client).await;
    assert!(claims.contains(&"data-marche-postgres-0".to_owned()), "{claims:?}");
    assert!(
        claims.contains(&"marche-uploads".to_owned()) && claims.contains(&"marche-backup".to_owned()),
        "{claims:?}"
    );

    // The generated password is random, and appears in no status or event.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns());
    let db = secrets.get("marche-db").await.expect("database secret");
    let password = String::from_utf8(db.data.as_ref().expect("data")["PGPASSWORD"].0.clone()).expect("UTF-8");
    assert_eq!(password.len(), 64);
    let status_text = serde_json::to_string(&ready.status).expect("status serializes");
    assert!(!status_text.contains(&password), "a secret leaked into the status");
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), ns());
    let events_text =
        serde_json::to_string(&events.list(&Default::default()).await.expect("events").items).expect("json");
    assert!(!events_text.contains(&password), "a secret leaked into an event");

    // 2. Idempotence: a reconcile of an unchanged node writes nothing (a label change
    // triggers one without changing the spec).
    // First let the rollout settle: status may still move as the last pods report ready.
    let mut settled = nodes.get("marche").await.expect("get").resource_version();
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let now = nodes.get("marche").await.expect("get").resource_version();
        if now == settled {
            break;
        }
        settled = now;
    }
    let before = resource_versions(&client).await;
    let touched = json!({"metadata": {"labels": {"touched": "1"}}});
    let labelled = operator
        .assert_idle_after("CatalogNode", async {
            nodes.patch("marche", &PatchParams::default(), &Patch::Merge(touched)).await.expect("label")
        })
        .await;
    assert_eq!(resource_versions(&client).await, before, "children were rewritten by an idle reconcile");
    assert_eq!(
        nodes.get("marche").await.expect("get").resource_version(),
        labelled.resource_version(),
        "status rewritten"
    );

    // 3. Someone edits a child: the operator puts it back.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns());
    deployments
        .patch(
            "marche-ckan",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 5}
            })),
        )
        .await
        .expect("edit the web Deployment");
    common::eventually("the web Deployment restored to 2 replicas", 30, || async {
        let d = deployments.get("marche-ckan").await.ok()?;
        (d.spec?.replicas == Some(2)).then_some(())
    })
    .await;

    // 4. Switching to an external database prunes the managed PostgreSQL but keeps its data.
    secrets
        .patch(
            "external-pg",
            &apply,
            &Patch::Apply(json!({
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "external-pg"},
                "stringData": {"url": "postgresql://ckan:pw@pg.example.internal:5432/ckan"}
            })),
        )
        .await
        .expect("external database secret");
    let mut external = node();
    external["spec"]["database"] = json!({"external": {"urlSecretRef": {"name": "external-pg", "key": "url"}}});
    nodes.patch("marche", &apply, &Patch::Apply(external)).await.expect("switch to an external database");
    common::eventually("the managed PostgreSQL pruned", 30, || async {
        let sts = names::<StatefulSet>(&client).await;
        let np = names::<NetworkPolicy>(&client).await;
        (sts == ["marche-solr"] && !np.contains(&"marche-database".to_owned())).then_some(())
    })
    .await;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns());
    assert!(
        claims.get_opt("data-marche-postgres-0").await.expect("get claim").is_some(),
        "the database volume was deleted"
    );
    let web = deployments.get("marche-ckan").await.expect("web");
    let env =
        serde_json::to_value(&web.spec.expect("spec").template.spec.expect("pod").containers[0].env).expect("json");
    assert!(env.to_string().contains("external-pg"), "CKAN now reads the external database URL");
    let switched = common::eventually("DatabaseReady reports the external database", 30, || async {
        let node = nodes.get("marche").await.ok()?;
        (condition(&node, "DatabaseReady") == Some(("True".into(), "External".into()))).then_some(node)
    })
    .await;
    assert_eq!(switched.status.and_then(|s| s.versions).and_then(|v| v.postgres), None);

    // 5. Deleting the node removes its children (garbage collection) but keeps the volumes
    // (deletionPolicy Retain).
    nodes.delete("marche", &DeleteParams::foreground()).await.expect("delete the node");
    common::eventually("the children garbage-collected", 60, || async {
        let gone = names::<Deployment>(&client).await.is_empty()
            && names::<StatefulSet>(&client).await.is_empty()
            && names::<Service>(&client).await.is_empty();
        gone.then_some(())
    })
    .await;
    let remaining = names::<PersistentVolumeClaim>(&client).await;
    assert!(
        remaining.contains(&"marche-uploads".to_owned()) && remaining.contains(&"data-marche-solr-0".to_owned()),
        "{remaining:?}"
    );
    // And the Secrets that open them, once the node is gone with every dependent it owns:
    // CKAN's key (which signed the API tokens in the kept database) and the credentials of
    // the database it ran before switching to an external one.
    common::eventually("the node gone", 60, || async { nodes.get_opt("marche").await.ok()?.is_none().then_some(()) })
        .await;
    let secrets = names::<k8s_openapi::api::core::v1::Secret>(&client).await;
    assert!(
        secrets.contains(&"marche-ckan-secrets".to_owned()) && secrets.contains(&"marche-db".to_owned()),
        "{secrets:?}"
    );
    operator.stop().await;
}

/// Changing `spec.version` runs backup, migration, rollout and index rebuild in order; a
/// failed migration leaves the old release running and the node Stalled.
#[tokio::test]
async fn upgrades_are_orchestrated_and_a_failed_migration_keeps_the_old_release() {
    let (client, upgrade_ns) = common::fresh_namespace("catalog-upgrade").await;
    let operator = common::Operator::start(client.clone());
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), &upgrade_ns);
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &upgrade_ns);
    let jobs: Api<k8s_openapi::api::batch::v1::Job> = Api::namespaced(client.clone(), &upgrade_ns);
    let apply = PatchParams::apply(common::TEST_MANAGER).force();
    let manifest = |version: &str, image: Option<&str>| {
        let mut spec = json!({
            "hostname": "dati.comune.macerata.it",
            "publisher": {"ipaCode": "c_e783"},
            "version": version,
            "backup": {"schedule": "0 1 * * *"}
        });
        if let Some(image) = image {
            spec["image"] = json!(image);
        }
        json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode", "metadata": {"name": "up", "namespace": upgrade_ns.clone()}, "spec": spec})
    };
    let serving = |version: &'static str| {
        let nodes = nodes.clone();
        move || {
            let nodes = nodes.clone();
            async move {
                let node = nodes.get("up").await.ok()?;
                let status = node.status.clone()?;
                (status.versions?.ckan.as_deref() == Some(version)).then_some(node)
            }
        }
    };

    nodes.patch("up", &apply, &Patch::Apply(manifest("2.11.3", None))).await.expect("create");
    common::eventually("2.11.3 serving", 90, serving("2.11.3")).await;
    let sysadmin_jobs = || async {
        let all = jobs.list(&ListParams::default().labels("app.kubernetes.io/instance=up")).await.expect("jobs").items;
        all.into_iter().map(|j| j.name_any()).filter(|n| n.starts_with("up-sysadmin-")).collect::<Vec<_>>()
    };
    assert_eq!(sysadmin_jobs().await, Vec::<String>::new(), "the install set up the account: no sysadmin Job");
    // A changed account is set up by a sysadmin Job of the release that serves.
    let account = json!({"spec": {"sysadmin": {"email": "opendata@comune.macerata.it"}}});
    nodes.patch("up", &PatchParams::default(), &Patch::Merge(account)).await.expect("change the account");
    common::eventually("a sysadmin Job for the changed account", 90, || async {
        (sysadmin_jobs().await.len() == 1).then_some(())
    })
    .await;

    // A successful upgrade.
    nodes.patch("up", &apply, &Patch::Apply(manifest("2.11.4", None))).await.expect("upgrade");
    let upgraded = common::eventually("the upgrade to 2.11.4 completed", 90, || async {
        let node = nodes.get("up").await.ok()?;
        let status = node.status.clone()?;
        let upgrade = status.upgrade?;
        (upgrade.phase == mediana::api::catalog_node::UpgradePhase::Completed
            && status.versions?.ckan.as_deref() == Some("2.11.4"))
        .then_some(upgrade)
    })
    .await;
    assert_eq!((upgraded.from_version.as_str(), upgraded.to_version.as_str()), ("2.11.3", "2.11.4"));
    let web = deployments.get("up-ckan").await.expect("web");
    let image = web
        .spec
        .and_then(|s| s.template.spec)
        .map(|p| p.containers[0].image.clone().unwrap_or_default())
        .unwrap_or_default();
    assert!(image.ends_with(":2.11.4"), "{image}");
    let node = nodes.get("up").await.expect("node");
    let backup = node.status.and_then(|s| s.last_backup).expect("the pre-upgrade backup is recorded");
    assert!(backup.job.starts_with("up-upgrade-backup-"), "{}", backup.job);
    let mut steps: Vec<(String, String)> = jobs
        .list(&ListParams::default().labels("app.kubernetes.io/instance=up"))
        .await
        .expect("jobs")
        .items
        .into_iter()
        .filter(|j| !j.name_any().starts_with("up-backup-"))
        .map(|j| {
            let created = j.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_default();
            (created, j.name_any())
        })
        .collect();
    steps.sort();
    let order: Vec<String> = steps
        .iter()
        .map(|(_, name)| name.rsplit_once('-').map(|(kind, _)| kind.to_owned()).unwrap_or_default())
        .collect();
    assert_eq!(
        order,
        ["up-migrate", "up-sysadmin", "up-upgrade-backup", "up-migrate", "up-reindex"],
        "install (database and account in one Job), the changed account, then the upgrade: backup, migration, index rebuild"
    );

    // A failing migration (kwok fails Job pods whose image tag ends in "-failing").
    let failing = "registry.example.it/ckan:2.12.0-failing";
    nodes
        .patch("up", &apply, &Patch::Apply(manifest("2.12.0", Some(failing))))
        .await
        .expect("upgrade to a failing release");
    let stalled = common::eventually("Stalled=True reason MigrationFailed", 90, || async {
        let node = nodes.get("up").await.ok()?;
        (condition(&node, "Stalled") == Some(("True".into(), "MigrationFailed".into()))).then_some(node)
    })
    .await;
    let status = stalled.status.expect("status");
    assert_eq!(status.versions.and_then(|v| v.ckan).as_deref(), Some("2.11.4"));
    assert_eq!(status.upgrade.map(|u| u.phase), Some(mediana::api::catalog_node::UpgradePhase::Failed));
    let web = deployments.get("up-ckan").await.expect("web");
    let image = web
        .spec
        .and_then(|s| s.template.spec)
        .map(|p| p.containers[0].image.clone().unwrap_or_default())
        .unwrap_or_default();
    assert!(image.ends_with(":2.11.4"), "the web never ran the unmigrated release: {image}");

    nodes.delete("up", &DeleteParams::default()).await.expect("delete");
    operator.stop().await;
}

/// `deletionPolicy: Delete` removes the data volumes with the node, through a finalizer.
#[tokio::test]
async fn delete_policy_removes_the_data_volumes() {
    let (client, ns) = common::fresh_namespace("catalog-delete").await;
    let operator = common::Operator::start(client.clone());
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), &ns);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
    let node = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": "gone", "namespace": ns},
        "spec": {"hostname": "dati.test.example.it", "publisher": {"ipaCode": "agid"}, "deletionPolicy": "Delete"}
    });
    nodes.patch("gone", &PatchParams::apply(common::TEST_MANAGER).force(), &Patch::Apply(node)).await.expect("create");
    let ready = common::eventually("the node rolled out with its finalizer", 90, || async {
        let node = nodes.get("gone").await.ok()?;
        rolled_out_unanswered(&node).then_some(node)
    })
    .await;
    assert!(ready.finalizers().iter().any(|f| f == mediana::controllers::catalog_node::FINALIZER));
    let before = claims.list(&ListParams::default()).await.expect("claims").items.len();
    assert!(before >= 3, "uploads, database and index volumes exist ({before})");

    nodes.delete("gone", &DeleteParams::default()).await.expect("delete");
    common::eventually("the node and every data volume gone", 60, || async {
        let node_gone = nodes.get_opt("gone").await.ok()?.is_none();
        let claims_left = claims
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .iter()
            .filter(|c| c.metadata.deletion_timestamp.is_none())
            .count();
        (node_gone && claims_left == 0).then_some(())
    })
    .await;
    // The generated Secrets (the database's password, CKAN's key) go with the data they open.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(client.clone(), &ns);
    common::eventually("the node's generated Secrets gone", 60, || async {
        let left = secrets.list(&ListParams::default().labels("app.kubernetes.io/instance=gone")).await.ok()?.items;
        left.iter().all(|s| s.metadata.deletion_timestamp.is_some()).then_some(())
    })
    .await;
    operator.stop().await;
}

/// An operator killed in the middle of creating a node's children, then restarted,
/// converges: every child exists once, none is orphaned, and the node rolls out.
#[tokio::test]
async fn a_killed_operator_converges_after_restart() {
    let (client, ns) = common::fresh_namespace("catalog-restart").await;
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), &ns);
    let node = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": "restart", "namespace": ns},
        "spec": {"hostname": "dati.restart.example.it", "publisher": {"ipaCode": "agid"}, "replicas": 2,
                 "backup": {"schedule": "0 4 * * *"}}
    });
    nodes
        .patch("restart", &PatchParams::apply(common::TEST_MANAGER).force(), &Patch::Apply(node))
        .await
        .expect("create");

    // Kill the operator as soon as it has written some, but not all, children.
    let operator = common::Operator::start(client.clone());
    let services: Api<Service> = Api::namespaced(client.clone(), &ns);
    common::eventually("the first children written", 30, || async {
        (!services.list(&ListParams::default()).await.ok()?.items.is_empty()).then_some(())
    })
    .await;
    operator.kill().await;

    let operator = common::Operator::start(client.clone());
    common::eventually("the node rolled out after the restart", 90, || async {
        let node = nodes.get("restart").await.ok()?;
        rolled_out_unanswered(&node).then_some(())
    })
    .await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let lp = ListParams::default();
    assert_eq!(deployments.list(&lp).await.expect("list").items.len(), 3, "web, worker and Redis, once each");
    assert_eq!(statefulsets.list(&lp).await.expect("list").items.len(), 2, "PostgreSQL and Solr, once each");
    assert_eq!(services.list(&lp).await.expect("list").items.len(), 4, "four Services, once each");
    let generated =
        secrets.list(&lp).await.expect("list").items.iter().filter(|s| s.type_.as_deref() == Some("Opaque")).count();
    assert_eq!(generated, 2, "the generated secrets exist once");
    for deployment in deployments.list(&ListParams::default()).await.expect("list").items {
        assert!(deployment.metadata.owner_references.is_some(), "{} is orphaned", deployment.name_any());
    }
    operator.stop().await;
}

/// A database URL that CKAN could not read (a percent-encoded password) in the Secret an
/// external database names: the node says so in its status, naming the Secret and key and
/// never the value, and rolls out once the Secret is fixed, though the operator does not
/// watch that Secret.
#[tokio::test]
async fn an_unreadable_database_url_is_reported_until_its_secret_is_fixed() {
    let (client, ns) = common::fresh_namespace("catalog-url").await;
    let operator = common::Operator::start(client.clone());
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let put_url = |url: &str| {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "city-db"},
            "stringData": {"sqlalchemy-url": url}});
        let secrets = secrets.clone();
        async move {
            let apply = PatchParams::apply(common::TEST_MANAGER).force();
            secrets.patch("city-db", &apply, &Patch::Apply(secret)).await.expect("the database Secret");
        }
    };
    put_url("postgresql://ckan:s3cr%40t@db.example.it/ckan").await;
    let nodes: Api<CatalogNode> = Api::namespaced(client.clone(), &ns);
    let node = json!({
        "apiVersion": "mediana.dev/v1alpha1", "kind": "CatalogNode",
        "metadata": {"name": "city", "namespace": ns},
        "spec": {"hostname": "dati.city.example.it", "publisher": {"ipaCode": "c_a944"},
            "database": {"external": {"urlSecretRef": {"name": "city-db", "key": "sqlalchemy-url"}}}}
    });
    nodes.patch("city", &PatchParams::apply(common::TEST_MANAGER).force(), &Patch::Apply(node)).await.expect("create");
    let refused = common::eventually("the node Stalled on the URL", 60, || async {
        let node = nodes.get("city").await.ok()?;
        (condition(&node, "Stalled")?.1 == "InvalidSpec").then_some(node)
    })
    .await;
    let (status, _, message) = common::condition(&refused, "Stalled").expect("Stalled");
    assert_eq!(status, "True");
    assert!(message.contains("Secret city-db key sqlalchemy-url holds '%'"), "{message}");
    assert!(!message.contains("s3cr"), "never the password: {message}");
    assert_eq!(condition(&refused, "Ready").map(|c| c.1), Some("InvalidSpec".into()));
    assert!(secrets.get_opt("city-ckan-secrets").await.expect("get").is_none(), "nothing made before the fix");

    put_url("postgresql://ckan:s3cr-t@db.example.it/ckan").await;
    common::eventually("the node rolling out with the fixed URL", 90, || async {
        let node = nodes.get("city").await.ok()?;
        let rolling = condition(&node, "Stalled")?.1 != "InvalidSpec";
        (rolling && secrets.get_opt("city-ckan-secrets").await.ok()?.is_some()).then_some(())
    })
    .await;
    operator.stop().await;
}
