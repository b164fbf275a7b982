//! Leader election through a `coordination.k8s.io` Lease, so that two or more replicas are
//! safe: one runs the controllers, the others wait and take over when it stops.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

/// How leadership is claimed.
#[derive(Clone, Debug)]
pub struct LeaderElection {
    /// Namespace of the Lease (the operator's own).
    pub namespace: String,
    /// Name of the Lease.
    pub lease: String,
    /// This instance's identity, written into the Lease (the pod name).
    pub identity: String,
}

/// A claim on leadership: a channel that says whether this instance leads, and the task
/// that keeps the Lease renewed. Dropping the channel releases the Lease, which lets
/// another replica take over at once instead of after the Lease expires.
pub struct Campaign {
    /// True while this instance leads.
    pub leading: watch::Receiver<bool>,
    /// The task renewing the Lease; it ends (releasing the Lease) when `leading` is dropped.
    pub task: JoinHandle<Result<kube_lease_manager::LeaseManager, LeaseManagerError>>,
}

/// Seconds a Lease stays valid without renewal: how long a crashed leader blocks others.
pub const LEASE_DURATION_SECONDS: u64 = 15;

/// The verbs kube-lease-manager uses on the Lease: read it, create it the first time, and
/// patch it to acquire, renew and release.
pub const LEASE_VERBS: &[&str] = &["get", "create", "patch"];

/// Starts campaigning for leadership.
pub async fn campaign(client: Client, election: &LeaderElection) -> Result<Campaign, LeaseManagerError> {
    let manager = LeaseManagerBuilder::new(client, &election.lease)
        .with_namespace(&election.namespace)
        .with_identity(&election.identity)
        .with_duration(LEASE_DURATION_SECONDS)
        .with_grace(5)
        // One field manager per identity: server-side apply detects the conflict between
        // two candidates only when their managers differ.
        .with_field_manager(format!("mediana-leader-{}", election.identity))
        .build()
        .await?;
    let (leading, task) = manager.watch().await;
    info!(
        lease = election.lease,
        namespace = election.namespace,
        identity = election.identity,
        "campaigning for leadership"
    );
    Ok(Campaign { leading, task })
}

/// Waits until `leading` says this instance leads; `false` when `shutdown` came first or
/// the campaign ended.
pub async fn wait_for_leadership(leading: &mut watch::Receiver<bool>, shutdown: &mut watch::Receiver<bool>) -> bool {
    loop {
        if *leading.borrow_and_update() {
            return true;
        }
        tokio::select! {
            changed = leading.changed() => if changed.is_err() { return false },
            _ = shutdown.wait_for(|stop| *stop) => return false,
            // Re-check now and then: a missed notification must not leave a replica idle.
            _ = tokio::time::sleep(Duration::from_secs(LEASE_DURATION_SECONDS)) => {}
        }
    }
}
