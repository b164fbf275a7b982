//! The ReusableSolution builders, policies and status logic, without a cluster.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::{Value, json};

use super::*;
use crate::api::cloud_target::Qualification;
use crate::controllers::children::{Child, DESIRED_HASH_ANNOTATION};
use crate::controllers::testing::{find, kinds_and_names};

/// A valid publiccode.yml; tests change it one key at a time with `publiccode_with`.
const PUBLICCODE: &str = include_str!("../../../../tests/fixtures/publiccode-design-comuni.yml");

fn publiccode_with(from: &str, to: &str) -> String {
    assert!(PUBLICCODE.contains(from), "{from} is in the sample");
    PUBLICCODE.replace(from, to)
}

fn spec(patch: Value) -> ReusableSolutionSpec {
    let mut base = json!({
        "publiccode": {"inline": PUBLICCODE},
        "administration": {"ipaCode": "c_h211"},
        "dataClassification": "Ordinary",
        "components": [
            {"name": "web", "image": "wordpress:6.8", "replicas": 2,
             "ports": [{"name": "http", "containerPort": 8080}],
             "probe": {"path": "/wp-login.php", "port": "http"},
             "envFrom": [{"secretRef": {"name": "sito-db"}}],
             "volumes": [{"name": "uploads", "size": "20Gi", "mountPath": "/var/www/html/wp-content/uploads"}]},
            {"name": "worker", "image": "wordpress:6.8-cli", "command": ["wp", "cron", "event", "run", "--due-now"]}
        ],
        "database": {"version": 15},
        "exposure": {"component": "web", "port": "http", "host": "www.comune.recanati.mc.it",
                     "tls": {"certManager": {"issuer": "letsencrypt"}}}
    });
    if let (Value::Object(base), Value::Object(patch)) = (&mut base, patch) {
        base.extend(patch);
    }
    serde_json::from_value(base).expect("valid spec")
}

fn owner() -> Owner {
    Owner {
        app: "reusablesolution".into(),
        instance: "sito".into(),
        namespace: "recanati".into(),
        reference: Some(OwnerReference {
            api_version: "mediana.dev/v1alpha1".into(),
            kind: "ReusableSolution".into(),
            name: "sito".into(),
            uid: "0000-2222".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }),
        hub_labels: Default::default(),
    }
}

fn children(spec: &ReusableSolutionSpec) -> Vec<Child> {
    builders::children(spec, &owner()).expect("children build")
}

#[test]
fn a_multi_component_solution_builds_every_child() {
    assert_eq!(
        kinds_and_names(&children(&spec(json!({})))),
        [
            "Deployment/sito-web",
            "Deployment/sito-worker",
            "Ingress/sito",
            "NetworkPolicy/sito-postgres",
            "NetworkPolicy/sito-web",
            "NetworkPolicy/sito-worker",
            "PersistentVolumeClaim/sito-web-uploads",
            "PodDisruptionBudget/sito-web",
            "Service/sito-postgres",
            "Service/sito-web",
            "StatefulSet/sito-postgres",
        ]
    );
    let bare = spec(json!({"database": null, "exposure": null}));
    let names = kinds_and_names(&children(&bare));
    assert!(!names.iter().any(|n| n.contains("postgres") || n.starts_with("Ingress/")), "{names:?}");
}

#[test]
fn a_component_runs_its_image_with_its_settings() {
    let built = children(&spec(json!({})));
    let web = find(&built, "Deployment", "sito-web");
    assert_eq!(web["spec"]["replicas"], 2);
    let pod = &web["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "wordpress:6.8");
    assert_eq!(container["ports"], json!([{"name": "http", "containerPort": 8080, "protocol": "TCP"}]));
    assert_eq!(container["envFrom"], json!([{"secretRef": {"name": "sito-db"}}]));
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/wp-login.php");
    assert_eq!(container["livenessProbe"]["initialDelaySeconds"], 40, "liveness starts after readiness");
    assert_eq!(
        container["volumeMounts"],
        json!([{"name": "uploads", "mountPath": "/var/www/html/wp-content/uploads"}, {"name": "tmp", "mountPath": "/tmp"}])
    );
    assert_eq!(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "sito-web-uploads");
    let claim = find(&built, "PersistentVolumeClaim", "sito-web-uploads");
    assert_eq!(claim["spec"]["accessModes"], json!(["ReadWriteMany"]), "two replicas share the volume");
    assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "20Gi");
    let worker = find(&built, "Deployment", "sito-worker");
    let container = &worker["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["command"], json!(["wp", "cron", "event", "run", "--due-now"]));
    assert!(container.get("ports").is_none() && container.get("readinessProbe").is_none());
    assert_eq!(find(&built, "Service", "sito-web")["spec"]["ports"][0]["targetPort"], "http");
}

#[test]
fn a_single_replica_with_a_volume_is_replaced_not_rolled() {
    let single = spec(json!({"components": [{"name": "web", "image": "nginx", "volumes": [
        {"name": "data", "size": "1Gi", "mountPath": "/data"}]}]}));
    let built = children(&single);
    assert_eq!(find(&built, "Deployment", "sito-web")["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(find(&built, "PersistentVolumeClaim", "sito-web-data")["spec"]["accessModes"], json!(["ReadWriteOnce"]));
    assert!(!kinds_and_names(&built).iter().any(|n| n.starts_with("PodDisruptionBudget/")), "one replica, no budget");
}

#[test]
fn every_child_is_labelled_owned_and_hashed_but_claims_outlive_the_solution() {
    for child in children(&spec(json!({}))) {
        let labels: std::collections::BTreeMap<String, String> =
            serde_json::from_value(child.object["metadata"]["labels"].clone()).expect("labels");
        assert_eq!(labels.get("app.kubernetes.io/name").map(String::as_str), Some("reusablesolution"));
        assert_eq!(labels.get("app.kubernetes.io/instance").map(String::as_str), Some("sito"), "{}", child.name());
        assert_eq!(labels.get("app.kubernetes.io/managed-by").map(String::as_str), Some("mediana"));
        assert!(child.object["metadata"]["annotations"][DESIRED_HASH_ANNOTATION].is_string());
        let owned = child.object["metadata"]["ownerReferences"].is_array();
        assert_eq!(owned, child.resource.kind != "PersistentVolumeClaim", "{}", child.name());
    }
}

/// The RBAC derived from `applied()` covers every kind the builders produce.
#[test]
fn every_built_kind_is_declared_as_applied() {
    let declared: Vec<String> = applied().into_iter().map(|r| r.kind).collect();
    for child in children(&spec(json!({}))) {
        assert!(declared.contains(&child.resource.kind), "{} is built but not in applied()", child.resource.kind);
    }
    for watched in watched() {
        assert!(declared.contains(&watched.kind), "{} is watched but never applied", watched.kind);
    }
}

/// The pods the controller lists to explain a component that is not ready are granted,
/// on the operator's cluster and on a remote one.
#[test]
fn the_listed_pods_are_granted_here_and_on_spokes() {
    use crate::controllers::rbac::{Grant, cluster_grants, spoke_grants};
    let list = Grant { group: String::new(), resource: "pods".into(), verb: "list".into() };
    assert_eq!(listed().into_iter().map(|r| r.plural).collect::<Vec<_>>(), ["pods"]);
    assert!(cluster_grants().contains(&list) && spoke_grants().contains(&list));
    let pod_verbs =
        |grants: std::collections::BTreeSet<Grant>| grants.into_iter().filter(|g| g.resource == "pods").count();
    assert_eq!((pod_verbs(cluster_grants()), pod_verbs(spoke_grants())), (1, 1), "pods are only listed");
}

/// Every pod the solution runs meets the "restricted" Pod Security Standard.
#[test]
fn every_pod_is_restricted() {
    let built = children(&spec(json!({})));
    let mut pods = 0;
    for child in &built {
        let template = match child.resource.kind.as_str() {
            "Deployment" | "StatefulSet" => &child.object["spec"]["template"]["spec"],
            _ => continue,
        };
        pods += 1;
        let name = child.name();
        crate::controllers::testing::assert_restricted(template, name);
        assert_eq!(template["automountServiceAccountToken"], false, "{name}");
    }
    assert_eq!(pods, 3, "web, worker and postgres pods were checked");
}

/// A solution whose only component is `web` with the fields of `fields` besides its name,
/// image and one volume at `/var/www/html/wp-content/uploads`.
fn web_with(fields: Value) -> ReusableSolutionSpec {
    let mut web = json!({"name": "web", "image": "wordpress:6.8",
        "volumes": [{"name": "uploads", "size": "1Gi", "mountPath": "/var/www/html/wp-content/uploads"}]});
    if let (Value::Object(web), Value::Object(fields)) = (&mut web, fields) {
        web.extend(fields);
    }
    spec(json!({"components": [web], "exposure": null}))
}

/// The pod spec of the `web` component's Deployment.
fn web_pod(solution: &ReusableSolutionSpec) -> Value {
    find(&children(solution), "Deployment", "sito-web")["spec"]["template"]["spec"].clone()
}

#[test]
fn a_component_runs_as_its_image_user_but_never_as_root() {
    let pod = web_pod(&web_with(json!({})));
    let security = &pod["securityContext"];
    assert_eq!(security["runAsNonRoot"], true, "the kubelet refuses an image that would run as root");
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    for id in ["runAsUser", "runAsGroup", "fsGroup"] {
        assert!(security.get(id).is_none(), "{id} is the image's: {security}");
    }
    let container = &pod["containers"][0]["securityContext"];
    assert_eq!(container["readOnlyRootFilesystem"], true, "read-only by default");
    assert_eq!(container["allowPrivilegeEscalation"], false);
    assert_eq!(container["capabilities"], json!({"drop": ["ALL"]}));
}

#[test]
fn the_ids_given_are_used_and_the_volumes_belong_to_the_group_else_the_user() {
    let ids = |fields: Value| {
        let security = web_pod(&web_with(fields))["securityContext"].clone();
        [&security["runAsUser"], &security["runAsGroup"], &security["fsGroup"]].map(|v| v.as_i64())
    };
    assert_eq!(ids(json!({"runAsUser": 33})), [Some(33), None, Some(33)]);
    assert_eq!(ids(json!({"runAsUser": 999, "runAsGroup": 998})), [Some(999), Some(998), Some(998)]);
    assert_eq!(ids(json!({"runAsGroup": 998})), [None, Some(998), Some(998)]);
    assert_eq!(ids(json!({"runAsUser": 33, "fsGroup": 1000})), [Some(33), None, Some(1000)]);
    let pod = web_pod(&web_with(json!({"runAsUser": 33})));
    crate::controllers::testing::assert_restricted(&pod, "web as www-data");
}

#[test]
fn writable_paths_are_scratch_directories_mounted_where_the_component_writes() {
    let pod = web_pod(&web_with(json!({"writablePaths": ["/run/apache2", "/var/lock/apache2"]})));
    assert_eq!(
        pod["containers"][0]["volumeMounts"],
        json!([
            {"name": "uploads", "mountPath": "/var/www/html/wp-content/uploads"},
            {"name": "writable-0", "mountPath": "/run/apache2"},
            {"name": "writable-1", "mountPath": "/var/lock/apache2"},
            {"name": "tmp", "mountPath": "/tmp"}
        ])
    );
    let volumes = pod["volumes"].as_array().expect("volumes");
    for name in ["writable-0", "writable-1", "tmp"] {
        let volume = volumes.iter().find(|v| v["name"] == name).unwrap_or_else(|| panic!("volume {name}"));
        assert_eq!(volume["emptyDir"], json!({}), "{name}");
    }
    assert_eq!(volumes.len(), 4);
    let own_tmp = web_pod(&web_with(json!({"writablePaths": ["/var/run/mysqld", "/tmp"]})));
    let mounts = &own_tmp["containers"][0]["volumeMounts"];
    assert_eq!(mounts[2], json!({"name": "writable-1", "mountPath": "/tmp"}));
    assert_eq!(mounts.as_array().map(Vec::len), Some(3), "/tmp is mounted once: {mounts}");
}

#[test]
fn a_writable_root_file_system_is_honoured_and_the_rest_stays_restricted() {
    let pod = web_pod(&web_with(json!({"readOnlyRootFilesystem": false})));
    let container = &pod["containers"][0]["securityContext"];
    assert_eq!(container["readOnlyRootFilesystem"], false);
    assert_eq!(container["allowPrivilegeEscalation"], false);
    assert_eq!(container["runAsNonRoot"], true);
    assert_eq!(container["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
}

/// Each bad setting is refused before anything is applied, the message naming the
/// component, the field and the value.
#[test]
fn bad_security_settings_are_refused_naming_the_component_and_the_field() {
    let cases = [
        (json!({"writablePaths": ["run/apache2"]}), "writablePaths: run/apache2 is not an absolute path"),
        (json!({"writablePaths": ["/var/../etc"]}), "writablePaths: /var/../etc contains `..`"),
        (json!({"writablePaths": ["/run/x", "/run/x/"]}), "writablePaths: /run/x/ is listed twice"),
        (
            json!({"writablePaths": ["/var/www/html/wp-content/uploads"]}),
            "writablePaths: /var/www/html/wp-content/uploads is the mountPath of volume uploads",
        ),
        (json!({"writablePaths": ["/"]}), "writablePaths: / is the root directory"),
        (json!({"runAsUser": 0}), "runAsUser: 0 is root"),
        (json!({"runAsGroup": 0}), "runAsGroup: 0 is root"),
        (json!({"fsGroup": -1}), "fsGroup: -1 is not an id"),
        (json!({"runAsUser": 4_294_967_296_i64}), "runAsUser: 4294967296 is not an id"),
        (
            json!({"volumes": [{"name": "tmp", "size": "1Gi", "mountPath": "/data"}]}),
            "volumes: the name tmp is taken by the scratch directory at /tmp",
        ),
    ];
    let local = target("local", Qualification::QC1, false, false);
    for (fields, expected) in cases {
        let solution = web_with(fields.clone());
        let error = builders::validate(&solution).expect_err(&fields.to_string());
        assert!(error.contains(&format!("spec.components[web].{expected}")), "{fields}: {error}");
        let assessment = assess_on(&solution, PUBLICCODE, &local, &Settings::default());
        assert_eq!(assessment.blocked.map(|b| b.0), Some(Reason::InvalidSpec), "{fields}");
    }
    let fine = web_with(json!({"runAsUser": 33, "runAsGroup": 33, "writablePaths": ["/run/apache2", "/tmp"]}));
    assert_eq!(builders::validate(&fine), Ok(()));
    assert_eq!(builders::validate(&spec(json!({}))), Ok(()));
}

/// A pod of `component` whose container is in `state`.
fn pod(component: &str, state: Value) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(json!({
        "metadata": {"name": format!("sito-{component}-5d8f7-abcde"), "labels": {
            "app.kubernetes.io/name": "reusablesolution", "app.kubernetes.io/instance": "sito",
            "app.kubernetes.io/component": component}},
        "status": {"phase": "Pending", "containerStatuses": [
            {"name": component, "image": "wordpress:6.8", "imageID": "", "ready": false, "restartCount": 0, "state": state}]}
    }))
    .expect("valid Pod")
}

fn waiting(reason: &str, message: &str) -> Value {
    json!({"waiting": {"reason": reason, "message": message}})
}

#[test]
fn a_pod_the_kubelet_refuses_as_root_stalls_the_solution_with_advice() {
    let assessment = rolled_out();
    let kubelet = [
        "container has runAsNonRoot and image will run as root (pod: \"sito-web-5d8f7-abcde_recanati(1234)\", container: web)",
        "container has runAsNonRoot and image has non-numeric user (www-data), cannot verify user is non-root (pod: \"sito-web-5d8f7-abcde_recanati(1234)\", container: web)",
    ];
    for message in kubelet {
        let pods = [pod("worker", json!({"running": {}})), pod("web", waiting("CreateContainerConfigError", message))];
        let refusal = root_refusal("web", &pods).expect("refused as root");
        assert!(refusal.contains("component web") && refusal.contains(message), "{refusal}");
        assert!(refusal.contains("spec.components[web].runAsUser"), "{refusal}");
        assert_eq!(root_refusal("worker", &pods), None, "only the refused component's pods count");

        let observed = [ObservedComponent {
            status: ComponentStatus { name: "web".into(), replicas: 1, ready_replicas: 0 },
            readiness: Observed::Pending("0/1 replicas ready, 1 up to date".into()),
            refusal: Some(refusal.clone()),
        }];
        let desired = solution_conditions(&assessment, &observed);
        let get = |t: ConditionType| desired.iter().find(|c| c.type_ == t).cloned().expect("condition");
        let ready = get(ConditionType::Ready);
        assert!(!ready.status);
        assert_eq!(ready.reason, Reason::ImageRunsAsRoot);
        assert_eq!(ready.message, refusal);
        assert!(get(ConditionType::Stalled).status, "a person must set runAsUser");
        assert!(!get(ConditionType::Reconciling).status);
    }
}

#[test]
fn healthy_and_otherwise_waiting_pods_are_no_root_refusal() {
    let others = [
        pod("web", json!({"running": {"startedAt": "2026-11-23T10:00:00Z"}})),
        pod("web", waiting("ContainerCreating", "")),
        pod("web", waiting("CreateContainerConfigError", "secret \"sito-db\" not found")),
        pod("web", json!({})),
    ];
    for one in &others {
        assert_eq!(root_refusal("web", std::slice::from_ref(one)), None, "{:?}", one.status);
    }
    assert_eq!(root_refusal("web", &[]), None);
}

#[test]
fn only_the_solution_reaches_its_components_and_anyone_the_exposed_port() {
    let built = children(&spec(json!({})));
    let web = find(&built, "NetworkPolicy", "sito-web");
    let rules = web["spec"]["ingress"].as_array().expect("rules");
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"], "sito");
    assert!(rules[0]["from"][0]["podSelector"].get("matchExpressions").is_none(), "any component of the solution");
    assert!(rules[1].get("from").is_none(), "the exposed port is open to the ingress controller");
    assert_eq!(rules[1]["ports"][0]["port"], 8080);
    let worker = find(&built, "NetworkPolicy", "sito-worker");
    assert!(worker["spec"].get("ingress").is_none(), "a component without ports accepts nothing");
    assert_eq!(worker["spec"]["policyTypes"], json!(["Ingress"]));
    let database = find(&built, "NetworkPolicy", "sito-postgres");
    assert_eq!(
        database["spec"]["ingress"][0]["from"][0]["podSelector"]["matchExpressions"][0]["values"],
        json!(["web", "worker"])
    );
}

#[test]
fn the_exposure_is_an_ingress_with_tls_and_a_url() {
    let solution = spec(json!({}));
    let built = children(&solution);
    let ingress = find(&built, "Ingress", "sito");
    assert_eq!(ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"], "letsencrypt");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "sito-tls");
    let path = &ingress["spec"]["rules"][0]["http"]["paths"][0];
    assert_eq!(path["backend"]["service"], json!({"name": "sito-web", "port": {"name": "http"}}));
    assert_eq!(builders::url(&solution).as_deref(), Some("https://www.comune.recanati.mc.it"));
    let sub =
        spec(json!({"exposure": {"component": "web", "port": "http", "host": "api.example.it", "path": "/govway"}}));
    assert_eq!(builders::url(&sub).as_deref(), Some("http://api.example.it/govway"));
}

#[test]
fn the_managed_database_is_the_shared_postgres_with_generated_credentials() {
    let built = children(&spec(json!({})));
    let database = find(&built, "StatefulSet", "sito-postgres");
    assert_eq!(database["spec"]["template"]["spec"]["containers"][0]["image"], "ghcr.io/mediana-dev/postgres:15");
    let secrets = builders::generated_secrets(&spec(json!({})), &owner());
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].name, "sito-db");
    assert!(
        secrets[0]
            .keys
            .iter()
            .any(|(k, v)| k == "PGHOST" && *v == secrets::SecretValue::Literal("sito-postgres".into()))
    );
    assert!(builders::generated_secrets(&spec(json!({"database": null})), &owner()).is_empty());
}

#[test]
fn builders_are_deterministic() {
    assert_eq!(children(&spec(json!({}))), children(&spec(json!({}))));
}

fn target(name: &str, qualification: Qualification, psn: bool, remote: bool) -> CloudTarget {
    // A qualified private cloud, where the level alone decides.
    let mut spec = json!({"provider": "test", "qualification": qualification, "psn": psn,
        "deploymentModel": "PrivateQualified"});
    if remote {
        spec["kubeconfigSecretRef"] = json!({"namespace": "mediana-system", "name": "kc"});
    }
    serde_json::from_value(json!({"apiVersion": "mediana.dev/v1alpha1", "kind": "CloudTarget",
        "metadata": {"name": name}, "spec": spec}))
    .expect("valid CloudTarget")
}

fn validate(text: &str) -> Read {
    publiccode::validate(text, ValidateOptions::default()).map_err(|e| (Reason::Invalid, e.to_string()))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
}

fn assess_on(solution: &ReusableSolutionSpec, text: &str, target: &CloudTarget, settings: &Settings) -> Assessment {
    assess(solution, &validate(text), Ok(target), settings, today())
}

#[test]
fn a_valid_solution_on_a_sufficient_target_is_rolled_out_and_recorded() {
    let local = target("local", Qualification::QC1, false, false);
    let assessment = assess_on(&spec(json!({})), PUBLICCODE, &local, &Settings::default());
    assert_eq!(assessment.blocked, None);
    assert_eq!(assessment.publiccode.reason, Reason::Valid);
    assert_eq!(assessment.placement.reason, Reason::QualificationSufficient);
    assert_eq!(assessment.decision.target, "local");
    assert_eq!(assessment.decision.qualification.as_deref(), Some("QC1"));
    assert_eq!(assessment.decision.classification.as_deref(), Some("Ordinary"));
    assert!(assessment.decision.allowed);
    assert!(assessment.decision.rule.as_deref().is_some_and(|r| r.starts_with("Ordinary requires QC1 or higher")));
    let summary = assessment.summary.expect("summary");
    assert_eq!(summary.name.as_deref(), Some("Design Comuni Italia (WordPress)"));
    assert_eq!(summary.reused_by.as_deref(), Some("c_h211"));
}

/// Each classification against each qualification, as the controller decides it.
#[test]
fn each_classification_against_each_qualification() {
    let levels = [Qualification::QC1, Qualification::QC2, Qualification::QC3, Qualification::QC4];
    let table = [("Ordinary", 0), ("Critical", 1), ("Strategic", 2)];
    for (classification, lowest_allowed) in table {
        let solution = spec(json!({"dataClassification": classification}));
        for (index, level) in levels.into_iter().enumerate() {
            let assessment = assess_on(&solution, PUBLICCODE, &target("t", level, false, false), &Settings::default());
            let allowed = index >= lowest_allowed;
            assert_eq!(assessment.placement.status, allowed, "{classification} on {level:?}");
            assert_eq!(assessment.blocked.is_none(), allowed, "{classification} on {level:?}");
            if !allowed {
                assert_eq!(assessment.placement.reason, Reason::QualificationInsufficient);
                assert_eq!(assessment.blocked.as_ref().map(|b| b.0), Some(Reason::QualificationInsufficient));
            }
        }
    }
}

#[test]
fn remote_targets_follow_the_same_policy_and_missing_ones_are_refused() {
    let solution = spec(json!({"dataClassification": "Critical"}));
    let remote =
        assess_on(&solution, PUBLICCODE, &target("aruba", Qualification::QC4, false, true), &Settings::default());
    assert_eq!(remote.placement.reason, Reason::QualificationSufficient);
    assert!(remote.blocked.is_none() && remote.decision.allowed);
    let low = assess_on(&solution, PUBLICCODE, &target("cheap", Qualification::QC1, false, true), &Settings::default());
    assert_eq!(low.placement.reason, Reason::QualificationInsufficient);
    assert!(low.blocked.is_some() && !low.decision.allowed);

    let missing = assess(
        &solution,
        &validate(PUBLICCODE),
        Err((Reason::TargetNotFound, "gone".into())),
        &Settings::default(),
        today(),
    );
    assert_eq!(missing.blocked, Some((Reason::TargetNotFound, "gone".into())));
    assert_eq!(missing.decision.target, "local", "the default target is recorded");
}

#[test]
fn the_default_target_is_the_named_one_or_the_only_local_one() {
    let local = target("local", Qualification::QC1, false, false);
    let psn = target("psn", Qualification::QC3, true, false);
    let remote = target("aruba", Qualification::QC2, false, true);
    let name = |r: Result<&CloudTarget, (Reason, String)>| r.map(|t| t.name_any()).map_err(|e| e.0);
    let all = [local.clone(), psn.clone(), remote.clone()];
    assert_eq!(name(choose_target(Some("psn"), "local", &all)), Ok("psn".into()));
    assert_eq!(name(choose_target(Some("nowhere"), "local", &all)), Err(Reason::TargetNotFound));
    assert_eq!(name(choose_target(None, "local", &all)), Ok("local".into()));
    assert_eq!(name(choose_target(None, "local", &[psn.clone(), remote.clone()])), Ok("psn".into()));
    assert_eq!(name(choose_target(None, "local", std::slice::from_ref(&remote))), Err(Reason::TargetNotFound));
    let two_local = [psn, target("inhouse", Qualification::QC2, false, false), remote];
    assert_eq!(name(choose_target(None, "local", &two_local)), Err(Reason::TargetAmbiguous));
}

#[test]
fn an_invalid_publiccode_blocks_unless_not_enforced() {
    let broken = publiccode_with("developmentStatus: stable", "developmentStatus: finished");
    let local = target("local", Qualification::QC1, false, false);
    let enforced = assess_on(&spec(json!({})), &broken, &local, &Settings::default());
    assert_eq!(enforced.publiccode.reason, Reason::Invalid);
    assert!(enforced.publiccode.message.contains("developmentStatus"), "{}", enforced.publiccode.message);
    assert_eq!(enforced.blocked.as_ref().map(|b| b.0), Some(Reason::Invalid));

    let relaxed = spec(json!({"publiccode": {"inline": broken, "enforce": false}}));
    let allowed = assess_on(&relaxed, &broken, &local, &Settings::default());
    assert_eq!(allowed.blocked, None);
    assert!(!allowed.publiccode.status && allowed.not_enforced);
    let ready = solution_conditions(&allowed, &[]);
    assert!(ready[0].status && ready[0].message.contains("enforce is false"), "{:?}", ready[0]);

    let unreadable: Read = Err((Reason::PubliccodeUnavailable, "not wired".into()));
    let assessment = assess(&spec(json!({})), &unreadable, Ok(&local), &Settings::default(), today());
    assert_eq!(assessment.blocked.as_ref().map(|b| b.0), Some(Reason::PubliccodeUnavailable));
    assert_eq!(assessment.summary, None);
}

#[test]
fn obsolete_software_is_refused_even_when_not_enforced() {
    let obsolete = publiccode_with("developmentStatus: stable", "developmentStatus: obsolete");
    let solution = spec(json!({"publiccode": {"inline": obsolete, "enforce": false}}));
    let assessment =
        assess_on(&solution, &obsolete, &target("local", Qualification::QC1, false, false), &Settings::default());
    assert_eq!(assessment.blocked.as_ref().map(|b| b.0), Some(Reason::Obsolete));
    assert!(assessment.publiccode.status, "obsolete software is still a valid publiccode.yml");
}

#[test]
fn expired_maintenance_contracts_warn_without_blocking() {
    let expired = publiccode_with(
        "  type: community\n  contacts:\n    - name: Designers Italia\n",
        "  type: contract\n  contractors:\n    - name: Link.it\n      until: \"2025-12-31\"\n",
    );
    let assessment =
        assess_on(&spec(json!({})), &expired, &target("local", Qualification::QC1, false, false), &Settings::default());
    assert_eq!(assessment.blocked, None);
    assert!(assessment.maintenance_expired);
    assert!(assessment.publiccode.status && assessment.publiccode.message.contains("has expired"));
}

#[test]
fn licences_must_pass_the_target_and_the_operator_allowlists() {
    let mut inhouse = target("inhouse", Qualification::QC2, false, false);
    inhouse.spec.allowed_licenses = vec!["EUPL-1.2".into(), "MIT".into()];
    let refused = assess_on(&spec(json!({})), PUBLICCODE, &inhouse, &Settings::default());
    let (reason, message) = refused.blocked.expect("refused");
    assert_eq!(reason, Reason::LicenceNotAllowed);
    assert!(message.contains("AGPL-3.0-only") && message.contains("CloudTarget inhouse"), "{message}");
    inhouse.spec.allowed_licenses.push("AGPL-3.0-only".into());
    assert_eq!(assess_on(&spec(json!({})), PUBLICCODE, &inhouse, &Settings::default()).blocked, None);
    let strict = Settings { allowed_licenses: vec!["EUPL-1.2".into()], ..Settings::default() };
    let by_operator = assess_on(&spec(json!({})), PUBLICCODE, &inhouse, &strict).blocked.expect("refused");
    assert!(by_operator.1.contains("the operator's allowed licences"), "{}", by_operator.1);
}

#[test]
fn a_blocked_solution_is_stalled_not_ready_and_keeps_its_url() {
    let assessment = assess_on(
        &spec(json!({"dataClassification": "Strategic"})),
        PUBLICCODE,
        &target("local", Qualification::QC1, false, false),
        &Settings::default(),
    );
    let desired = solution_conditions(&assessment, &[]);
    let get = |t: ConditionType| desired.iter().find(|c| c.type_ == t).cloned().expect("condition");
    assert!(!get(ConditionType::Ready).status);
    assert_eq!(get(ConditionType::Ready).reason, Reason::QualificationInsufficient);
    assert!(get(ConditionType::Stalled).status);
    assert!(!get(ConditionType::Reconciling).status);
    assert!(!get(ConditionType::PlacementAllowed).status);
    let previous = ReusableSolutionStatus { url: Some("https://old".into()), ..Default::default() };
    let status = status(&spec(json!({})), &assessment, &[], Some(&previous), "2026-11-23T10:00:00Z");
    assert_eq!(status.url.as_deref(), Some("https://old"), "it may still run the earlier rollout");
}

/// The assessment of the sample solution on the local QC1 target: nothing blocks it.
fn rolled_out() -> Assessment {
    assess_on(&spec(json!({})), PUBLICCODE, &target("local", Qualification::QC1, false, false), &Settings::default())
}

#[test]
fn ready_waits_for_every_component() {
    let assessment = rolled_out();
    let component = |name: &str, readiness: Observed| ObservedComponent {
        status: ComponentStatus {
            name: name.into(),
            replicas: 1,
            ready_replicas: i32::from(readiness == Observed::Ready),
        },
        readiness,
        refusal: None,
    };
    let pending =
        [component("web", Observed::Ready), component("postgres", Observed::Pending("0/1 replicas ready".into()))];
    let waiting = solution_conditions(&assessment, &pending);
    assert!(!waiting[0].status && waiting[0].message.contains("postgres: 0/1"), "{:?}", waiting[0]);
    assert!(waiting[1].status, "Reconciling while a rollout is in progress");
    let done = solution_conditions(&assessment, &[component("web", Observed::Ready)]);
    assert!(done[0].status && !done[1].status && !done[2].status);
}

#[test]
fn the_decision_keeps_its_time_while_it_stands() {
    let local = target("local", Qualification::QC1, false, false);
    let assessment = assess_on(&spec(json!({})), PUBLICCODE, &local, &Settings::default());
    let first = status(&spec(json!({})), &assessment, &[], None, "2026-11-23T10:00:00Z");
    let again = status(&spec(json!({})), &assessment, &[], Some(&first), "2026-11-23T11:00:00Z");
    assert_eq!(again.placement, first.placement, "an unchanged decision is not rewritten");
    let lowered = assess_on(&spec(json!({"dataClassification": "Critical"})), PUBLICCODE, &local, &Settings::default());
    let changed = status(&spec(json!({})), &lowered, &[], Some(&first), "2026-11-23T12:00:00Z");
    assert_eq!(changed.placement.and_then(|p| p.decided_at).as_deref(), Some("2026-11-23T12:00:00Z"));
}

#[test]
fn a_target_change_wakes_the_solutions_that_may_be_on_it() {
    let solution = |named: Option<&str>, placed: Option<&str>| {
        let mut s = ReusableSolution::new("s", spec(json!({"placement": {"target": named}})));
        s.status = placed.map(|t| ReusableSolutionStatus {
            sites: vec![PlacedSite { target: t.into(), namespace: "ns".into(), remote: false }],
            ..Default::default()
        });
        s
    };
    use crate::controllers::sites::may_be_placed_on;
    assert!(may_be_placed_on(&solution(Some("psn"), None), "psn"));
    assert!(!may_be_placed_on(&solution(Some("psn"), None), "local"));
    assert!(may_be_placed_on(&solution(None, None), "anything"), "the default depends on every target");
    assert!(may_be_placed_on(&solution(Some("psn"), Some("local")), "local"), "moving away from a target");
}

/// A `url` publiccode.yml comes through the shared network guard: fetched when the address
/// is allowed, refused on loopback by the settings the controller uses.
#[tokio::test]
async fn publiccode_urls_are_fetched_through_the_network_guard() {
    use crate::netguard::tests::{Reply, serve};
    let body = "publiccodeYmlVersion: \"0.4\"\nname: Test\n";
    let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    let (addr, _) = serve(move |_, _| Reply::Full(reply.clone())).await;
    let url = format!("http://{addr}/publiccode.yml");
    let allowed =
        crate::netguard::NetConfig { allow_private_networks: true, ..crate::publiccode::source::net_config() };
    assert_eq!(crate::publiccode::source::fetch(&url, allowed).await.expect("fetched"), body);
    let refused = crate::publiccode::source::fetch(&url, crate::publiccode::source::net_config())
        .await
        .expect_err("loopback refused");
    assert!(refused.to_string().contains("loopback"), "{refused}");
}

/// The solution's database backed up daily to the region's store.
fn backed_up() -> ReusableSolutionSpec {
    spec(json!({"backup": {"schedule": "15 1 * * *", "retention": 5, "objectStore": {
        "destinationPath": "s3://backups/soluzioni",
        "endpointURL": "https://s3.regione.marche.it",
        "s3Credentials": {"accessKeyId": {"name": "s3-keys", "key": "id"},
                          "secretAccessKey": {"name": "s3-keys", "key": "secret"}}}}}))
}

#[test]
fn the_managed_database_is_backed_up_to_the_store_by_mediana_in_the_postgres_image() {
    let solution = backed_up();
    let built = builders::backup_children(&solution, &owner(), "ghcr.io/mediana-dev/mediana:0.1.0", Some("now-1"))
        .expect("builds");
    let names = kinds_and_names(&built);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"CronJob/sito-backup".to_owned()), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("Job/sito-backup-now-")), "{names:?}");
    let cron = find(&built, "CronJob", "sito-backup");
    assert_eq!(cron["spec"]["schedule"], "15 1 * * *");
    let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["initContainers"][0]["image"], "ghcr.io/mediana-dev/mediana:0.1.0");
    let backup = &pod["containers"][0];
    assert_eq!(backup["image"], "ghcr.io/mediana-dev/postgres:15");
    assert_eq!(backup["command"], json!(["/mediana/mediana", "backup", "run"]));
    let env: std::collections::BTreeMap<String, Value> = backup["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (v["name"].as_str().unwrap_or_default().to_owned(), v.clone()))
        .collect();
    assert_eq!(env["MEDIANA_BACKUP_NODE"]["value"], "sito");
    assert_eq!(env["MEDIANA_BACKUP_KEEP"]["value"], "5");
    assert_eq!(
        env["MEDIANA_BACKUP_DATABASE_URL"]["valueFrom"]["secretKeyRef"],
        json!({"name": "sito-db", "key": "url"})
    );
    for absent in ["MEDIANA_BACKUP_FILES_DIR", "MEDIANA_BACKUP_CKAN_VERSION"] {
        assert!(!env.contains_key(absent), "a database alone: no {absent}");
    }
    assert!(!backup.to_string().contains("s3-keys"), "the keys only as files");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    // The database admits the backup pods.
    let all = children(&solution);
    let policy = find(&all, "NetworkPolicy", "sito-postgres");
    assert!(policy.to_string().contains("\"backup\""), "{policy}");
    let without = spec(json!({}));
    assert!(builders::backup_children(&without, &owner(), "x", Some("now-1")).expect("builds").is_empty());
    let all = children(&without);
    assert!(!find(&all, "NetworkPolicy", "sito-postgres").to_string().contains("\"backup\""));
}
