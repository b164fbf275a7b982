//! Status writes by server-side apply and Events, the same for every kind.

use std::fmt::Debug;

use kube::api::{Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::warn;

use super::FIELD_MANAGER;
use super::conditions::{self, ConditionType, DesiredCondition};
use super::context::Context;
use super::error::Error;
use crate::api::shared::CommonStatus;
use crate::api::{CatalogNode, CloudTarget, HarvestJob, ReusableSolution};

/// A mediana kind whose status carries [`CommonStatus`].
pub trait Reconciled:
    Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize + Send + Sync + 'static
{
    /// The kind's status type.
    type Status: Serialize + PartialEq + Default + Clone;
    /// The current status, if any.
    fn status(&self) -> Option<&Self::Status>;
    /// The shared part of a status.
    fn common(status: &mut Self::Status) -> &mut CommonStatus;
    /// The status without the fields another field manager writes (the harvester's run
    /// reports): the controller's apply must not claim them, or a stale copy it read would
    /// overwrite a newer report.
    fn controller_fields(status: Self::Status) -> Self::Status;
}

macro_rules! reconciled {
    ($kind:ty, $status:ty) => {
        reconciled!($kind, $status, |status| status);
    };
    ($kind:ty, $status:ty, $controller_fields:expr) => {
        impl Reconciled for $kind {
            type Status = $status;
            fn status(&self) -> Option<&$status> {
                self.status.as_ref()
            }
            fn common(status: &mut $status) -> &mut CommonStatus {
                &mut status.common
            }
            fn controller_fields(status: $status) -> $status {
                let strip: fn($status) -> $status = $controller_fields;
                strip(status)
            }
        }
    };
}
// `status.sites` has its own field manager (sites::write_sites).
reconciled!(CatalogNode, crate::api::CatalogNodeStatus, |status| crate::api::CatalogNodeStatus {
    sites: Vec::new(),
    ..status
});
reconciled!(HarvestJob, crate::api::HarvestJobStatus, |status| crate::api::HarvestJobStatus {
    last_run: None,
    history: Vec::new(),
    ..status
});
reconciled!(ReusableSolution, crate::api::ReusableSolutionStatus, |status| crate::api::ReusableSolutionStatus {
    sites: Vec::new(),
    ..status
});
reconciled!(CloudTarget, crate::api::CloudTargetStatus);

/// Sets conditions and `observedGeneration` on a copy of the object's status, announces a
/// flip of `Ready` with an Event, and writes the status only when it changed, by
/// server-side apply on `/status` with the fields this controller owns.
pub async fn write_status<K: Reconciled>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    mut status: K::Status,
    desired: &[DesiredCondition],
) -> Result<(), Error> {
    let generation = obj.meta().generation;
    let previous = obj.status().cloned().unwrap_or_default();
    let mut previous_for_merge = previous.clone();
    let existing = std::mem::take(&mut K::common(&mut previous_for_merge).conditions);
    let common = K::common(&mut status);
    common.observed_generation = generation;
    common.conditions = conditions::merge(&existing, desired, generation, k8s_openapi::jiff::Timestamp::now());
    if obj.status() == Some(&status) {
        return Ok(());
    }
    let ready_before = conditions::find(&existing, ConditionType::Ready).map(|c| c.status.clone());
    if let Some(ready) = desired.iter().find(|d| d.type_ == ConditionType::Ready) {
        let now = if ready.status { "True" } else { "False" };
        if ready_before.as_deref() != Some(now) {
            let type_ = if ready.status { EventType::Normal } else { EventType::Warning };
            publish(ctx, obj, type_, ready.reason.as_str(), &ready.message).await;
        }
    }
    let name = obj.meta().name.as_deref().ok_or(Error::MissingObjectKey(".metadata.name"))?;
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": K::controller_fields(status),
    });
    api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch)).await?;
    ctx.metrics.wrote(&K::kind(&()), 1);
    Ok(())
}

/// Publishes an Event about `obj`. A failure to publish is logged, never fatal: Events are
/// for people, and the status already carries the truth.
pub async fn publish<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    type_: EventType,
    reason: &str,
    note: &str,
) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(truncate(note, 1000)),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    ctx.metrics.wrote(&K::kind(&()), 1);
    if let Err(err) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        warn!(error = %err, reason, "could not publish event");
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
