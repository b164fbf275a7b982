//! Children of a mediana object: labelled, owned, applied by server-side apply and pruned
//! by label. One place for what every controller does with the objects it creates.
//!
//! Each child carries `app.kubernetes.io/{name,instance,managed-by,component}` and an owner
//! reference to its parent, so that it is found by label (never by memory) and garbage
//! collected with the parent. A hash of the desired object is kept in an annotation: when
//! the child already carries the hash of what this reconcile wants, nothing is written, so an
//! unchanged object costs reads only.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use futures::{StreamExt, TryStreamExt, stream};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, DynamicObject, ListParams, ObjectMeta, Patch, PatchParams};
use kube::core::ApiResource;
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde_json::Value;

use super::{Error, FIELD_MANAGER};

/// Label naming the kind of application (`catalognode`, `reusablesolution`, ...).
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Label naming the parent object.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// Label naming the component (web, database, search, ...).
pub const COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// Label naming who manages the object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Label on remote namespaces and workloads: the kind of the hub object.
pub const HUB_KIND_LABEL: &str = "mediana.dev/hub-kind";
/// Label on remote namespaces and workloads: the namespace of the hub object.
pub const HUB_NAMESPACE_LABEL: &str = "mediana.dev/hub-namespace";
/// Label on remote namespaces and workloads: the name of the hub object.
pub const HUB_NAME_LABEL: &str = "mediana.dev/hub-name";
/// Label on remote namespaces and workloads: the uid of the hub object, which tells it
/// apart from an object of the same name created later or on another hub.
pub const HUB_UID_LABEL: &str = "mediana.dev/hub-uid";
/// The value of the managed-by label.
pub const MANAGED_BY: &str = "mediana";
/// Annotation holding the hash of the desired state last applied.
pub const DESIRED_HASH_ANNOTATION: &str = "mediana.dev/desired-hash";

/// Who owns a set of children: enough to label them and to point back at the parent.
#[derive(Clone, Debug, PartialEq)]
pub struct Owner {
    /// Lower-case kind of the parent, the value of `app.kubernetes.io/name`.
    pub app: String,
    /// Name of the parent.
    pub instance: String,
    /// Namespace of the parent and of its children.
    pub namespace: String,
    /// Owner reference to put on every child (absent in `mediana render` and on remote
    /// clusters, where owner references cannot point).
    pub reference: Option<OwnerReference>,
    /// Labels naming the hub object, on children placed on a remote cluster.
    pub hub_labels: BTreeMap<String, String>,
}

impl Owner {
    /// The owner of the children of `parent`.
    pub fn of<K: Resource<DynamicType = ()>>(parent: &K) -> Result<Self, Error> {
        Ok(Self {
            app: K::kind(&()).to_lowercase(),
            instance: parent.meta().name.clone().ok_or(Error::MissingObjectKey(".metadata.name"))?,
            namespace: parent.meta().namespace.clone().ok_or(Error::MissingObjectKey(".metadata.namespace"))?,
            reference: parent.controller_owner_ref(&()),
            hub_labels: BTreeMap::new(),
        })
    }

    /// The labels every child of this owner carries, for `component`.
    pub fn labels(&self, component: &str) -> BTreeMap<String, String> {
        let mut labels = self.selector_labels(component);
        labels.insert(MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned());
        labels.extend(self.hub_labels.clone());
        labels
    }

    /// The labels that select the pods of `component` (stable across versions).
    pub fn selector_labels(&self, component: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (NAME_LABEL.to_owned(), self.app.clone()),
            (INSTANCE_LABEL.to_owned(), self.instance.clone()),
            (COMPONENT_LABEL.to_owned(), component.to_owned()),
        ])
    }

    /// The label selector that finds every child of this owner.
    pub fn children_selector(&self) -> String {
        format!("{NAME_LABEL}={},{INSTANCE_LABEL}={},{MANAGED_BY_LABEL}={MANAGED_BY}", self.app, self.instance)
    }

    /// A child name: `<instance>-<suffix>`.
    pub fn child_name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.instance)
    }
}

/// One desired child, of any kind, ready to be applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    /// The child's API type.
    pub resource: ApiResource,
    /// The full desired object, with apiVersion, kind, metadata (name, namespace, labels,
    /// owner reference and hash annotation).
    pub object: Value,
}

impl Child {
    /// Wraps a typed object (whose metadata the builder filled in) and stamps the hash of
    /// its desired state.
    pub fn new<K: Resource<DynamicType = ()> + Serialize>(object: &K) -> Result<Self, Error> {
        let resource = ApiResource::erase::<K>(&());
        let mut value = serde_json::to_value(object).map_err(Error::Serialize)?;
        value["apiVersion"] = Value::String(resource.api_version.clone());
        value["kind"] = Value::String(resource.kind.clone());
        let hash = desired_hash(&value);
        let annotations = value["metadata"]
            .as_object_mut()
            .ok_or(Error::MissingObjectKey(".metadata"))?
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        annotations[DESIRED_HASH_ANNOTATION] = Value::String(hash);
        Ok(Self { resource, object: value })
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// The hash stamped on the child.
    pub fn hash(&self) -> &str {
        self.object["metadata"]["annotations"][DESIRED_HASH_ANNOTATION].as_str().unwrap_or_default()
    }
}

/// A stable hash of an object's desired state. Serialized JSON of `serde_json::Value` has
/// sorted keys, so equal objects hash equally; the hasher is fixed (SipHash with zero keys),
/// so the hash is the same in every process of one build.
fn desired_hash(value: &Value) -> String {
    fingerprint(&value.to_string())
}

/// A 16-hex-digit fingerprint of a text, the same in every process of one build.
pub fn fingerprint(text: &str) -> String {
    #[allow(deprecated)] // SipHasher: deprecated for HashMaps, fine for a content fingerprint
    let mut hasher = std::hash::SipHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Whether a child in the cluster still is what was last applied: it carries the hash of
/// the desired state (so the desire did not change), and every field the desired object
/// sets still has the desired value (so nobody changed it since). Fields the API server or
/// other controllers add are ignored.
pub fn up_to_date(child: &Child, current: &DynamicObject) -> bool {
    let hash = current.annotations().get(DESIRED_HASH_ANNOTATION).map(String::as_str);
    if hash != Some(child.hash()) {
        return false;
    }
    match serde_json::to_value(current) {
        Ok(current) => is_subset(&child.object, &current),
        Err(_) => false,
    }
}

/// Whether every value in `desired` is present and equal in `current`. Objects may have
/// more keys in `current`; lists must have the same length, element by element.
pub fn is_subset(desired: &Value, current: &Value) -> bool {
    match (desired, current) {
        (Value::Object(want), Value::Object(have)) => {
            want.iter().all(|(key, value)| have.get(key).is_some_and(|found| is_subset(value, found)))
        }
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| is_subset(w, h))
        }
        (want, have) => want == have,
    }
}

/// What applying a set of children did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// Children written because they were missing or different.
    pub applied: Vec<String>,
    /// Children deleted because they are no longer desired.
    pub pruned: Vec<String>,
}

impl ApplyReport {
    /// Whether the reconcile wrote anything.
    pub fn wrote(&self) -> bool {
        !self.applied.is_empty() || !self.pruned.is_empty()
    }
}

/// Applies every desired child that is missing or differs from its last applied state, then
/// deletes the children of `prunable` kinds that carry the owner's labels but are no longer
/// desired. Kinds not listed in `prunable` (PersistentVolumeClaims, generated Secrets) are
/// never deleted here.
pub async fn apply_and_prune(
    client: &Client,
    owner: &Owner,
    desired: &[Child],
    prunable: &[ApiResource],
) -> Result<ApplyReport, Error> {
    // Children are independent objects: reading and applying them side by side takes one
    // round trip's time instead of one per child (a reconcile is otherwise a chain of ~20).
    let applies: Vec<_> = desired.iter().map(|child| apply_one(client, owner, child)).collect();
    let applied: Vec<Option<String>> = stream::iter(applies).buffered(PARALLEL_REQUESTS).try_collect().await?;
    let selector = ListParams::default().labels(&owner.children_selector());
    let prunes: Vec<_> =
        prunable.iter().map(|resource| prune_kind(client, owner, desired, resource, &selector)).collect();
    let pruned: Vec<Vec<String>> = stream::iter(prunes).buffered(PARALLEL_REQUESTS).try_collect().await?;
    Ok(ApplyReport { applied: applied.into_iter().flatten().collect(), pruned: pruned.into_iter().flatten().collect() })
}

/// Applies one child unless it already carries what is desired; its `Kind/name` if written.
async fn apply_one(client: &Client, owner: &Owner, child: &Child) -> Result<Option<String>, Error> {
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &owner.namespace, &child.resource);
    let current = api.get_opt(child.name()).await?;
    if current.as_ref().is_some_and(|current| up_to_date(child, current)) {
        return Ok(None);
    }
    api.patch(child.name(), &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&child.object)).await?;
    Ok(Some(format!("{}/{}", child.resource.kind, child.name())))
}

/// Deletes the owner's children of one kind that are not desired; their `Kind/name`s.
async fn prune_kind(
    client: &Client,
    owner: &Owner,
    desired: &[Child],
    resource: &ApiResource,
    selector: &ListParams,
) -> Result<Vec<String>, Error> {
    let wanted: BTreeSet<&str> = desired.iter().filter(|c| c.resource.kind == resource.kind).map(Child::name).collect();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &owner.namespace, resource);
    let mut pruned = Vec::new();
    for existing in api.list_metadata(selector).await?.items {
        let name = existing.name_any();
        if !wanted.contains(name.as_str()) {
            api.delete(&name, &DeleteParams::background()).await?;
            pruned.push(format!("{}/{name}", resource.kind));
        }
    }
    Ok(pruned)
}

/// Requests one reconcile sends at once: enough to overlap round trips, few enough that 16
/// concurrent reconciles stay well under the API server's 400 requests in flight.
const PARALLEL_REQUESTS: usize = 8;

/// The API type of a kind, for the `prunable` list.
pub fn api_resource<K: Resource<DynamicType = ()>>() -> ApiResource {
    ApiResource::erase::<K>(&())
}

/// Metadata of a child named `name` for `component`, labelled and owned.
pub fn metadata(owner: &Owner, name: &str, component: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(owner.namespace.clone()),
        labels: Some(owner.labels(component)),
        owner_references: owner.reference.clone().map(|r| vec![r]),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    use super::*;

    fn owner() -> Owner {
        Owner {
            app: "catalognode".into(),
            instance: "marche".into(),
            namespace: "opendata".into(),
            reference: None,
            hub_labels: BTreeMap::new(),
        }
    }

    fn config_map(data: &str) -> ConfigMap {
        let owner = owner();
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(owner.child_name("config")),
                namespace: Some(owner.namespace.clone()),
                labels: Some(owner.labels("web")),
                ..Default::default()
            },
            data: Some(BTreeMap::from([("k".to_owned(), data.to_owned())])),
            ..Default::default()
        }
    }

    #[test]
    fn subset_tolerates_additions_but_not_changes() {
        let desired = serde_json::json!({"spec": {"replicas": 2, "containers": [{"name": "a", "image": "x"}]}});
        let defaulted = serde_json::json!({
            "spec": {"replicas": 2, "strategy": {}, "containers": [{"name": "a", "image": "x", "imagePullPolicy": "Always"}]},
            "status": {}
        });
        assert!(is_subset(&desired, &defaulted));
        let scaled = serde_json::json!({"spec": {"replicas": 5, "containers": [{"name": "a", "image": "x"}]}});
        assert!(!is_subset(&desired, &scaled));
        let extra_container =
            serde_json::json!({"spec": {"replicas": 2, "containers": [{"name": "a", "image": "x"}, {"name": "b"}]}});
        assert!(!is_subset(&desired, &extra_container));
    }

    #[test]
    fn labels_identify_owner_component_and_manager() {
        let labels = owner().labels("database");
        assert_eq!(labels[NAME_LABEL], "catalognode");
        assert_eq!(labels[INSTANCE_LABEL], "marche");
        assert_eq!(labels[COMPONENT_LABEL], "database");
        assert_eq!(labels[MANAGED_BY_LABEL], "mediana");
        assert!(!owner().selector_labels("web").contains_key(MANAGED_BY_LABEL));
        assert_eq!(
            owner().children_selector(),
            "app.kubernetes.io/name=catalognode,app.kubernetes.io/instance=marche,app.kubernetes.io/managed-by=mediana"
        );
    }

    #[test]
    fn child_carries_type_and_a_hash_that_follows_its_content() {
        let a = Child::new(&config_map("one")).expect("child");
        let same = Child::new(&config_map("one")).expect("child");
        let other = Child::new(&config_map("two")).expect("child");
        assert_eq!(a.object["apiVersion"], "v1");
        assert_eq!(a.object["kind"], "ConfigMap");
        assert_eq!(a.name(), "marche-config");
        assert_eq!(a.hash().len(), 16);
        assert_eq!(a.hash(), same.hash(), "equal content, equal hash");
        assert_ne!(a.hash(), other.hash(), "different content, different hash");
    }
}
