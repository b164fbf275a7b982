//! Reconcile for the kinds this operator version accepts but does not act on yet
//! (HarvestJob): it records the generation it saw and says
//! plainly, in `Ready` and `Stalled`, that nothing will be deployed.

use std::sync::Arc;

use k8s_openapi::NamespaceResourceScope;
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use tracing::instrument;

use super::conditions::{ConditionType, DesiredCondition, Reason};
use super::{Context, Error, Reconciled, write_status};

/// Accepts the object and reports that its kind is not yet acted on.
#[instrument(skip_all, fields(kind = %K::kind(&()), object = %obj.name_any(), namespace = obj.namespace()))]
pub async fn reconcile<K>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error>
where
    K: Reconciled + Resource<Scope = NamespaceResourceScope>,
{
    let namespace = obj.namespace().ok_or(Error::MissingObjectKey(".metadata.namespace"))?;
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &namespace);
    let status = obj.status().cloned().unwrap_or_default();
    write_status(&ctx, &api, obj.as_ref(), status, &desired_conditions::<K>()).await?;
    Ok(Action::await_change())
}

fn desired_conditions<K: Reconciled>() -> [DesiredCondition; 3] {
    let message = format!(
        "mediana {} validates and stores {} objects but does not deploy them yet",
        env!("CARGO_PKG_VERSION"),
        K::kind(&())
    );
    [
        DesiredCondition::false_(ConditionType::Ready, Reason::NotYetSupported, message.clone()),
        DesiredCondition::false_(ConditionType::Reconciling, Reason::NotYetSupported, message.clone()),
        DesiredCondition::true_(ConditionType::Stalled, Reason::NotYetSupported, message),
    ]
}
