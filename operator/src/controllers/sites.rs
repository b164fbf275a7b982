//! Where an object's workloads run: the cluster of its CloudTarget, and a namespace there.
//!
//! On the local cluster that is the object's own namespace, and owner references tie the
//! workloads to the object. A remote cluster cannot point back at the hub, so there the
//! workloads live in a namespace of their own, named after the hub object
//! (`<namespace>-<short kind>-<name>`) and labelled with its identity; `status.sites` lists
//! every cluster where workloads exist, and a finalizer removes them from each remote one
//! when the object is deleted. A target that cannot be reached keeps the finalizer: remote
//! workloads are never orphaned silently.
//!
//! A move (`spec.placement.target` changed) first rolls out on the new site; only once
//! the object is Ready there are the workloads of the previous site removed. Data volumes
//! (claims) and generated Secrets stay where they were: data is not moved.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::core::ApiResource;
use kube::runtime::events::EventType;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, Client, CustomResourceExt, ResourceExt};

use super::children::{HUB_KIND_LABEL, HUB_NAME_LABEL, HUB_NAMESPACE_LABEL, HUB_UID_LABEL, Owner, apply_and_prune};
use super::conditions::{ConditionType, DesiredCondition, Progress, Reason, kstatus};
use super::{Context, Error, FIELD_MANAGER, Reconciled, targets};
use crate::api::CloudTarget;
use crate::api::shared::PlacedSite;

/// The finalizer that removes an object's workloads from remote clusters.
pub const REMOTE_FINALIZER: &str = "mediana.dev/remote-workloads";

/// A mediana kind whose workloads are placed on a CloudTarget.
pub trait Placed: Reconciled + CustomResourceExt + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope> {
    /// The CloudTarget named in `spec.placement.target`.
    fn requested_target(&self) -> Option<&str>;
    /// `status.sites`.
    fn sites(&self) -> &[PlacedSite];
}

/// The cluster and namespace where an object's workloads are applied.
#[derive(Clone)]
pub struct Site {
    /// The CloudTarget's name.
    pub target: String,
    /// A client of its cluster.
    pub client: Client,
    /// The owner of the workloads there: namespace, labels, owner reference (local only).
    pub owner: Owner,
    /// Whether the cluster is remote.
    pub remote: bool,
}

impl Site {
    /// The record of this site in `status.sites`.
    pub fn record(&self) -> PlacedSite {
        PlacedSite { target: self.target.clone(), namespace: self.owner.namespace.clone(), remote: self.remote }
    }

    /// A failed request to this site, as the error that says what happened: a remote
    /// cluster that could not be reached becomes [`Error::TargetUnreachable`].
    pub fn classify(&self, error: Error) -> Error {
        classify(&self.target, self.remote, error)
    }
}

fn classify(target: &str, remote: bool, error: Error) -> Error {
    if let Some(refusal) = error.refusal() {
        // A value the CRD cannot check (a time zone the API server does not know, say): no
        // retry fixes it, so it is the spec's problem, in the API server's own words.
        return Error::InvalidSpec(format!("the API server refused a child: {refusal}"));
    }
    match error {
        Error::Kube(source) if remote && targets::unreachable(&source) => {
            Error::TargetUnreachable { target: target.to_owned(), source: Box::new(source) }
        }
        other => other,
    }
}

/// The namespace of a hub object's workloads on a remote cluster:
/// `<namespace>-<short kind>-<name>`, cut to 63 characters with a hash of the full name
/// when longer (a namespace is a DNS label).
pub fn remote_namespace(namespace: &str, short_kind: &str, name: &str) -> String {
    const MAX: usize = 63;
    let full = format!("{namespace}-{short_kind}-{name}");
    if full.len() <= MAX {
        return full;
    }
    let hash = &super::children::fingerprint(&full)[..8];
    let kept = full[..MAX - hash.len() - 1].trim_end_matches('-');
    format!("{kept}-{hash}")
}

/// The labels that identify a hub object on a remote cluster.
pub fn hub_labels<K: Placed>(obj: &K) -> BTreeMap<String, String> {
    BTreeMap::from([
        (HUB_KIND_LABEL.to_owned(), K::kind(&()).to_lowercase()),
        (HUB_NAMESPACE_LABEL.to_owned(), obj.namespace().unwrap_or_default()),
        (HUB_NAME_LABEL.to_owned(), obj.name_any()),
        (HUB_UID_LABEL.to_owned(), obj.uid().unwrap_or_default()),
    ])
}

/// The owner of an object's workloads at a recorded site.
fn owner_at<K: Placed>(obj: &K, site: &PlacedSite) -> Result<Owner, Error> {
    let local = Owner::of(obj)?;
    if !site.remote {
        return Ok(local);
    }
    Ok(Owner { namespace: site.namespace.clone(), reference: None, hub_labels: hub_labels(obj), ..local })
}

/// The site of `obj` on `target`: a client of its cluster and the owner of the workloads
/// there. On a remote cluster, the namespace is created when missing and refused when it
/// belongs to another object.
pub async fn open<K: Placed>(ctx: &Context, obj: &K, target: &CloudTarget) -> Result<Site, Error> {
    let name = target.name_any();
    let remote = target.spec.kubeconfig_secret_ref.is_some();
    let client = ctx
        .targets
        .client(&ctx.client, target)
        .await
        .map_err(|source| Error::Target { target: name.clone(), source: Box::new(source) })?;
    let record = if remote {
        let short = K::shortnames().first().copied().unwrap_or("obj");
        PlacedSite {
            target: name.clone(),
            namespace: remote_namespace(&obj.namespace().unwrap_or_default(), short, &obj.name_any()),
            remote: true,
        }
    } else {
        PlacedSite { target: name.clone(), namespace: obj.namespace().unwrap_or_default(), remote: false }
    };
    let site = Site { target: name, client, owner: owner_at(obj, &record)?, remote };
    if remote {
        ensure_namespace(&site).await.map_err(|err| site.classify(err))?;
    }
    Ok(site)
}

/// Creates the remote namespace, labelled with the hub object's identity, unless it
/// exists; refuses one that belongs to another object.
async fn ensure_namespace(site: &Site) -> Result<(), Error> {
    let api: Api<Namespace> = Api::all(site.client.clone());
    let name = &site.owner.namespace;
    if let Some(existing) = api.get_opt(name).await? {
        let labels = existing.labels();
        if labels.get(HUB_UID_LABEL) == site.owner.hub_labels.get(HUB_UID_LABEL) {
            return Ok(());
        }
        let holder = match (labels.get(HUB_KIND_LABEL), labels.get(HUB_NAMESPACE_LABEL), labels.get(HUB_NAME_LABEL)) {
            (Some(kind), Some(namespace), Some(hub_name)) => {
                format!("{kind} {namespace}/{hub_name} (uid {})", labels.get(HUB_UID_LABEL).map_or("?", |u| u))
            }
            _ => "something other than mediana (it carries no hub labels)".to_owned(),
        };
        return Err(Error::NamespaceTaken { target: site.target.clone(), namespace: name.clone(), holder });
    }
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            labels: Some(site.owner.hub_labels.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut object = serde_json::to_value(&namespace).map_err(Error::Serialize)?;
    object["apiVersion"] = "v1".into();
    object["kind"] = "Namespace".into();
    api.patch(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&object)).await?;
    Ok(())
}

/// Records `site` in `status.sites` before anything is applied there, so that a crash
/// after the apply cannot leave workloads nobody knows of; first sets the finalizers: the
/// remote one while any site is remote, and the controller's own `others`.
pub async fn record<K: Placed>(
    api: &Api<K>,
    obj: &K,
    site: &Site,
    others: &[(&str, bool)],
) -> Result<Vec<PlacedSite>, Error> {
    let mut sites = obj.sites().to_vec();
    let mut wanted = vec![(REMOTE_FINALIZER, site.remote || sites.iter().any(|s| s.remote))];
    wanted.extend_from_slice(others);
    set_finalizers(api, obj, &wanted).await?;
    let record = site.record();
    if sites.contains(&record) {
        return Ok(sites);
    }
    sites.retain(|s| s.target != record.target);
    sites.push(record);
    write_sites(api, obj, &sites).await?;
    Ok(sites)
}

/// The field manager of `status.sites`: written on its own, before a rollout and after a
/// previous site is removed, so the controller's status apply never drops a site.
pub const SITES_FIELD_MANAGER: &str = "mediana-sites";

/// Writes `status.sites` by server-side apply with its own field manager, so that a site
/// left out is removed from the list.
pub async fn write_sites<K: Placed>(api: &Api<K>, obj: &K, sites: &[PlacedSite]) -> Result<(), Error> {
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": {"sites": sites},
    });
    let params = PatchParams::apply(SITES_FIELD_MANAGER).force();
    api.patch_status(&obj.name_any(), &params, &Patch::Apply(&patch)).await?;
    Ok(())
}

/// The site of an object that names no CloudTarget when no default target exists: the
/// operator's own cluster, in the object's namespace (catalogue nodes worked so before
/// placement existed).
pub fn local<K: Placed>(ctx: &Context, obj: &K) -> Result<Site, Error> {
    Ok(Site {
        target: crate::api::cloud_target::LOCAL_TARGET.to_owned(),
        client: ctx.client.clone(),
        owner: Owner::of(obj)?,
        remote: false,
    })
}

/// Adds or removes finalizers in one patch, guarded by the resourceVersion so that a
/// concurrent change of the list by someone else is not overwritten.
pub async fn set_finalizers<K: Reconciled>(api: &Api<K>, obj: &K, wanted: &[(&str, bool)]) -> Result<bool, Error> {
    let mut finalizers: Vec<String> = obj.finalizers().to_vec();
    for (finalizer, present) in wanted {
        let has = finalizers.iter().any(|f| f == finalizer);
        if *present && !has {
            finalizers.push((*finalizer).to_owned());
        } else if !present && has {
            finalizers.retain(|f| f != finalizer);
        }
    }
    if finalizers == obj.finalizers() {
        return Ok(false);
    }
    let patch = serde_json::json!({
        "metadata": {"finalizers": finalizers, "resourceVersion": obj.resource_version()}
    });
    api.patch(&obj.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await?;
    Ok(true)
}

/// What removing an object's workloads from a site takes away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Workloads only (the `prunable` kinds): claims and generated Secrets stay, so the data
    /// can be reattached or copied. Used for the previous site of a move, and for a
    /// CatalogNode whose `deletionPolicy` is `Retain`.
    KeepData,
    /// The whole remote namespace, data included.
    Everything,
}

/// Removes the workloads of `obj` from the sites other than `current` (a move), once the
/// object is Ready on `current`; the sites still listed afterwards (unreachable) and, per
/// site that failed, why.
async fn retire_previous<K: Placed>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    targets: &[CloudTarget],
    sites: Vec<PlacedSite>,
    current: &PlacedSite,
    prunable: &[ApiResource],
) -> Result<(Vec<PlacedSite>, Vec<String>), Error> {
    let mut kept = Vec::new();
    let mut failures = Vec::new();
    let before = sites.clone();
    for site in sites {
        if site == *current {
            kept.push(site);
            continue;
        }
        // Two local targets are one cluster and one namespace: the workloads already are
        // the current ones.
        if !site.remote && !current.remote {
            continue;
        }
        let Some(target) = targets.iter().find(|t| t.name_any() == site.target) else {
            // Nobody can reach a deleted target's cluster: say so once, and forget the site.
            failures.push(format!(
                "CloudTarget {} was deleted; the workloads of the previous placement in namespace {} on its cluster were left there",
                site.target, site.namespace
            ));
            continue;
        };
        match remove(ctx, obj, target, &site, Removal::KeepData, prunable).await {
            Ok(()) => {
                tracing::info!(target = site.target, namespace = site.namespace, "removed the previous placement")
            }
            Err(err @ (Error::TargetUnreachable { .. } | Error::Target { .. })) => {
                failures.push(err.to_string());
                kept.push(site);
            }
            // The namespace belongs to another object now: nothing of this one is left there.
            Err(err @ Error::NamespaceTaken { .. }) => failures.push(err.to_string()),
            Err(other) => return Err(other),
        }
    }
    if kept != before {
        write_sites(api, obj, &kept).await?;
    }
    Ok((kept, failures))
}

/// The end of a reconcile on `current`: once the object is Ready there, removes its
/// workloads from the previous sites of a move (each failure a Warning Event, the site kept
/// for the next try); the sites still listed, and `Reconciling` while some wait.
pub async fn settle<K: Placed>(
    ctx: &Context,
    obj: &K,
    targets: &[CloudTarget],
    sites: Vec<PlacedSite>,
    current: &Site,
    ready: bool,
    prunable: &[ApiResource],
) -> Result<(Vec<PlacedSite>, Option<DesiredCondition>), Error> {
    let sites = if ready {
        let api: Api<K> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
        let (kept, failures) = retire_previous(ctx, &api, obj, targets, sites, &current.record(), prunable).await?;
        for failure in &failures {
            super::publish(ctx, obj, EventType::Warning, Reason::RetiringPreviousPlacement.as_str(), failure).await;
        }
        kept
    } else {
        sites
    };
    let moving = (sites.len() > 1).then(|| {
        let previous: Vec<&str> =
            sites.iter().filter(|s| s.target != current.target).map(|s| s.target.as_str()).collect();
        DesiredCondition::true_(
            ConditionType::Reconciling,
            Reason::RetiringPreviousPlacement,
            format!(
                "moving to CloudTarget {}: the workloads on {} are removed once it is Ready there",
                current.target,
                previous.join(", ")
            ),
        )
    });
    Ok((sites, moving))
}

/// Replaces the conditions in `desired` of the types `overrides` has.
pub fn override_conditions(desired: &mut Vec<DesiredCondition>, overrides: impl IntoIterator<Item = DesiredCondition>) {
    for condition in overrides {
        desired.retain(|c| c.type_ != condition.type_);
        desired.push(condition);
    }
}

/// Removes the workloads of `obj` from every remote site, for its deletion. `Ok(None)`
/// when all are gone (the finalizer may go); otherwise the condition that says what the
/// deletion waits for.
async fn remove_remote_sites<K: Placed>(
    ctx: &Context,
    obj: &K,
    targets: &[CloudTarget],
    removal: Removal,
    prunable: &[ApiResource],
) -> Result<Option<DesiredCondition>, Error> {
    let mut waiting = Vec::new();
    let mut reason = Reason::Deleting;
    for site in obj.sites().iter().filter(|s| s.remote) {
        let Some(target) = targets.iter().find(|t| t.name_any() == site.target) else {
            reason = Reason::TargetDeleted;
            waiting.push(format!(
                "CloudTarget {} was deleted while namespace {} on its cluster holds this object's workloads: delete that namespace by hand, then remove the finalizer {REMOTE_FINALIZER}",
                site.target, site.namespace
            ));
            continue;
        };
        let Err(err) = remove(ctx, obj, target, site, removal, prunable).await else { continue };
        match site_reason(&err) {
            // Not ours (any more): nothing of this object to remove there.
            Some(Reason::NamespaceConflict) => tracing::warn!(error = %err, "remote namespace left alone"),
            Some(why) => {
                reason = why;
                waiting.push(err.to_string());
            }
            None => return Err(err),
        }
    }
    if waiting.is_empty() {
        return Ok(None);
    }
    let message = format!("deletion waits to remove the remote workloads: {}; retrying", waiting.join("; "));
    Ok(Some(DesiredCondition::false_(ConditionType::Ready, reason, message)))
}

async fn remove<K: Placed>(
    ctx: &Context,
    obj: &K,
    target: &CloudTarget,
    site: &PlacedSite,
    removal: Removal,
    prunable: &[ApiResource],
) -> Result<(), Error> {
    let client = ctx
        .targets
        .client(&ctx.client, target)
        .await
        .map_err(|source| Error::Target { target: site.target.clone(), source: Box::new(source) })?;
    let owner = owner_at(obj, site)?;
    let outcome = async {
        if site.remote {
            // Only a namespace of this very object is touched.
            let api: Api<Namespace> = Api::all(client.clone());
            match api.get_opt(&site.namespace).await? {
                None => return Ok(()),
                Some(ns) if ns.labels().get(HUB_UID_LABEL) != owner.hub_labels.get(HUB_UID_LABEL) => {
                    return Err(Error::NamespaceTaken {
                        target: site.target.clone(),
                        namespace: site.namespace.clone(),
                        holder: "another object".into(),
                    });
                }
                Some(_) if removal == Removal::Everything => {
                    api.delete(&site.namespace, &DeleteParams::background()).await?;
                    return Ok(());
                }
                Some(_) => {}
            }
        }
        apply_and_prune(&client, &owner, &[], prunable).await.map(|_| ())
    };
    outcome.await.map_err(|err| classify(&site.target, site.remote, err))
}

/// The end of an object's deletion: removes its workloads from every remote site, then
/// its finalizers (the remote one and `also_remove`). While a site cannot be reached, the
/// finalizers stay, the `Ready` condition says what the deletion waits for, and it is
/// retried with backoff.
pub async fn finish_deletion<K: Placed>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    targets: &[CloudTarget],
    removal: Removal,
    prunable: &[ApiResource],
    also_remove: &[&str],
) -> Result<kube::runtime::controller::Action, Error> {
    use kube::runtime::controller::Action;
    if obj.finalizers().iter().any(|f| f == REMOTE_FINALIZER)
        && let Some(waiting) = remove_remote_sites(ctx, obj, targets, removal, prunable).await?
    {
        let status = obj.status().cloned().unwrap_or_default();
        let conditions = obj.status().cloned().map(|mut s| K::common(&mut s).conditions.clone()).unwrap_or_default();
        super::write_status(ctx, api, obj, status, &[waiting]).await?;
        return Ok(Action::requeue(unreachable_backoff(&conditions, k8s_openapi::jiff::Timestamp::now())));
    }
    let mut wanted = vec![(REMOTE_FINALIZER, false)];
    wanted.extend(also_remove.iter().map(|f| (*f, false)));
    if set_finalizers(api, obj, &wanted).await? {
        ctx.metrics.wrote(&K::kind(&()), 1);
    }
    Ok(Action::await_change())
}

/// The CloudTarget an object runs on: the one it names; else the operator's default
/// target; else the only target without a kubeconfig (the local cluster). A refusal carries
/// its reason and message.
pub fn choose_target<'a>(
    requested: Option<&str>,
    default: &str,
    targets: &'a [CloudTarget],
) -> Result<&'a CloudTarget, (Reason, String)> {
    let named = |name: &str| targets.iter().find(|t| t.metadata.name.as_deref() == Some(name));
    if let Some(name) = requested {
        return named(name).ok_or_else(|| (Reason::TargetNotFound, format!("CloudTarget {name} does not exist")));
    }
    if let Some(target) = named(default) {
        return Ok(target);
    }
    let local: Vec<&CloudTarget> = targets.iter().filter(|t| t.spec.kubeconfig_secret_ref.is_none()).collect();
    match local.as_slice() {
        [only] => Ok(only),
        [] => Err((
            Reason::TargetNotFound,
            format!(
                "spec.placement.target is not set, and neither the default CloudTarget {default} nor any CloudTarget of the local cluster (without kubeconfigSecretRef) exists"
            ),
        )),
        several => Err((
            Reason::TargetAmbiguous,
            format!(
                "spec.placement.target is not set, the default CloudTarget {default} does not exist, and several CloudTargets stand for the local cluster ({}): name one in spec.placement.target",
                several.iter().map(|t| t.name_any()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// How long until the next reconcile, as a safety net: changes of the workloads, here or on
/// a remote cluster, wake the object at once.
pub fn requeue_after(ready: bool, moving: bool) -> Duration {
    if ready && !moving { Duration::from_secs(600) } else { Duration::from_secs(30) }
}

/// Whether a change of the CloudTarget `target` may change where `obj` runs: it names the
/// target, or runs on it, or names none (the default resolution depends on which targets
/// exist).
pub fn may_be_placed_on<K: Placed>(obj: &K, target: &str) -> bool {
    obj.sites().iter().any(|s| s.target == target) || obj.requested_target().is_none_or(|named| named == target)
}

/// The objects to reconcile when `target` changes.
pub fn placed_on<K: Placed>(store: &Store<K>, target: &CloudTarget) -> Vec<ObjectRef<K>> {
    let name = target.name_any();
    store
        .state()
        .iter()
        .filter(|o| may_be_placed_on(o.as_ref(), &name))
        .map(|o| ObjectRef::from_obj(o.as_ref()))
        .collect()
}

/// Remembers what of each CloudTarget matters to the objects placed on it (its spec, whether
/// it is reachable, whether its qualification is in force), so that a probe that only
/// refreshes `lastProbeTime` does not wake every object on the target, while the day its
/// qualification expires does.
#[derive(Default)]
pub struct TargetChanges(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl TargetChanges {
    /// Whether `target` changed in a way that matters since it was last seen.
    pub fn changed(&self, target: &CloudTarget) -> bool {
        let status_of = |type_: ConditionType| {
            target
                .status
                .as_ref()
                .and_then(|s| super::conditions::find(&s.common.conditions, type_))
                .map(|c| c.status.clone())
        };
        let (reachable, qualified) =
            (status_of(ConditionType::Reachable), status_of(ConditionType::QualificationValid));
        let facts = format!("{:?}|{:?}|{reachable:?}|{qualified:?}", target.uid(), target.metadata.generation);
        let mut seen = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.insert(target.name_any(), facts.clone()).as_ref() != Some(&facts)
    }
}

/// The reason of an error that is about a site: the cluster unreachable, its kubeconfig
/// unusable, or its namespace taken.
fn site_reason(error: &Error) -> Option<Reason> {
    let reason = error.reason();
    matches!(
        reason,
        Reason::TargetUnreachable | Reason::KubeconfigInvalid | Reason::NamespaceConflict | Reason::InvalidSpec
    )
    .then_some(reason)
}

/// How long to wait before trying an unreachable cluster again: half the time it has been
/// unreachable (the `Ready` condition's last transition), between 5 s and 5 min, so a
/// short outage is retried quickly and a long one does not cost a request every few
/// seconds per object.
pub fn unreachable_backoff(conditions: &[Condition], now: k8s_openapi::jiff::Timestamp) -> Duration {
    let since = super::conditions::find(conditions, ConditionType::Ready)
        .filter(|c| c.reason == Reason::TargetUnreachable.as_str())
        .map(|c| now.duration_since(c.last_transition_time.0).as_secs_f64().max(0.0))
        .unwrap_or(0.0);
    Duration::from_secs_f64((since / 2.0).clamp(5.0, 300.0))
}

/// The Ready condition (and `Reconciling`, `Stalled`) for an error of a site: the cluster
/// unreachable, its kubeconfig unusable, or its namespace taken. Other errors are not
/// about the site and go to the error policy.
pub fn site_conditions(error: &Error) -> Option<Vec<DesiredCondition>> {
    let reason = site_reason(error)?;
    let message = error.to_string();
    let ready = DesiredCondition::false_(ConditionType::Ready, reason, format!("{message}; retrying"));
    let progress = if reason == Reason::TargetUnreachable {
        Progress::Retrying(reason, message)
    } else {
        Progress::Stalled(reason, message)
    };
    Some(kstatus(ready, progress).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_namespaces_are_predictable_and_fit_a_dns_label() {
        assert_eq!(remote_namespace("comune-ancona", "rsol", "sito"), "comune-ancona-rsol-sito");
        let long = remote_namespace("regione-emilia-romagna-servizi", "cn", &"portale-".repeat(6));
        assert_eq!(long.len(), 63);
        assert!(long.starts_with("regione-emilia-romagna-servizi-cn-portale-"));
        assert_ne!(long, remote_namespace("regione-emilia-romagna-servizi", "cn", &"portale-".repeat(7)));
        assert!(!long.contains("--"));
    }

    #[test]
    fn unreachable_targets_are_retried_sooner_at_first_then_less_often() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
        let start = k8s_openapi::jiff::Timestamp::from_second(1_000_000).expect("time");
        let condition = |reason: Reason| Condition {
            type_: "Ready".into(),
            status: "False".into(),
            reason: reason.as_str().into(),
            message: String::new(),
            last_transition_time: Time(start),
            observed_generation: None,
        };
        let after = |secs: i64| start + k8s_openapi::jiff::SignedDuration::from_secs(secs);
        let down = [condition(Reason::TargetUnreachable)];
        assert_eq!(unreachable_backoff(&down, after(1)), Duration::from_secs(5));
        assert_eq!(unreachable_backoff(&down, after(60)), Duration::from_secs(30));
        assert_eq!(unreachable_backoff(&down, after(86_400)), Duration::from_secs(300));
        assert_eq!(unreachable_backoff(&[condition(Reason::Progressing)], after(600)), Duration::from_secs(5));
    }

    #[test]
    fn a_probe_that_changes_nothing_that_matters_wakes_nobody() {
        use crate::api::{CloudTargetSpec, CloudTargetStatus};
        let spec: CloudTargetSpec =
            serde_json::from_value(serde_json::json!({"provider": "p", "qualification": "QC2"})).expect("spec");
        let probed = |reachable: &str, time: &str| {
            let mut target = CloudTarget::new("spoke", spec.clone());
            target.metadata.generation = Some(1);
            let condition = Condition {
                type_: "Reachable".into(),
                status: reachable.into(),
                reason: "ProbeSucceeded".into(),
                message: String::new(),
                last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
                ),
                observed_generation: Some(1),
            };
            let common = crate::api::shared::CommonStatus { observed_generation: Some(1), conditions: vec![condition] };
            target.status =
                Some(CloudTargetStatus { common, last_probe_time: Some(time.into()), ..Default::default() });
            target
        };
        let changes = TargetChanges::default();
        assert!(changes.changed(&probed("True", "10:00")), "first sight");
        assert!(!changes.changed(&probed("True", "10:01")), "only the probe time moved");
        assert!(changes.changed(&probed("False", "10:02")), "became unreachable");
        assert!(changes.changed(&probed("True", "10:03")), "reachable again");
        let mut edited = probed("True", "10:04");
        edited.metadata.generation = Some(2);
        assert!(changes.changed(&edited), "the spec changed");
        // The day its qualification expires, the objects on it must be decided again.
        let mut expired = edited.clone();
        if let Some(status) = expired.status.as_mut() {
            let mut condition = status.common.conditions[0].clone();
            condition.type_ = "QualificationValid".into();
            condition.status = "False".into();
            status.common.conditions.push(condition);
        }
        assert!(changes.changed(&expired), "the qualification expired");
    }

    #[test]
    fn only_connection_failures_of_remote_sites_are_unreachable() {
        let refused = || Error::Kube(kube::Error::TlsRequired);
        assert!(matches!(classify("spoke", true, refused()), Error::TargetUnreachable { .. }));
        assert!(matches!(classify("local", false, refused()), Error::Kube(_)));
        let forbidden =
            kube::Error::Api(Box::new(kube::core::Status::failure("forbidden", "Forbidden").with_code(403)));
        assert!(matches!(classify("spoke", true, Error::Kube(forbidden)), Error::Kube(_)));
        let conditions = site_conditions(&classify("spoke", true, refused())).expect("a site condition");
        assert_eq!(conditions[0].reason, Reason::TargetUnreachable);
        assert!(!conditions[0].status);
        assert!(conditions[0].message.starts_with("CloudTarget spoke cannot be reached"), "{}", conditions[0].message);
        assert!(site_conditions(&Error::MissingObjectKey("x")).is_none());
    }
}
