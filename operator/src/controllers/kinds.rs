//! The registry of what each controller works with: the kinds of children it applies, prunes
//! and watches, and the kinds it only reads, lists or asks through the API server's proxy.
//! The operator's RBAC, the spokes' role and the watches on remote clusters are all derived
//! from it, so a kind a controller starts to use cannot be forgotten in one of them.

use kube::core::ApiResource;

use super::{catalog_node, harvest_job, reusable_solution};

/// What one controller works with.
pub struct Kinds {
    /// Kinds of children it creates and updates by server-side apply.
    pub applied: Vec<ApiResource>,
    /// Kinds of children it deletes when they are no longer desired.
    pub prunable: Vec<ApiResource>,
    /// Kinds of children whose changes wake it.
    pub watched: Vec<ApiResource>,
    /// Kinds it reads one object at a time, by name.
    pub read: Vec<ApiResource>,
    /// Kinds it lists by its objects' labels, never writes.
    pub listed: Vec<ApiResource>,
    /// Kinds whose objects it asks through the API server's proxy.
    pub proxied: Vec<ApiResource>,
    /// Whether its workloads may run on a remote CloudTarget (a spoke), where the same
    /// kinds are applied, pruned, watched, listed and proxied.
    pub placed: bool,
}

/// Every controller's kinds.
pub fn controllers() -> [Kinds; 3] {
    [
        Kinds {
            applied: catalog_node::applied(),
            prunable: catalog_node::prunable(),
            watched: catalog_node::watched(),
            read: Vec::new(),
            listed: catalog_node::listed(),
            proxied: catalog_node::proxied(),
            placed: true,
        },
        Kinds {
            applied: harvest_job::applied(),
            prunable: harvest_job::prunable(),
            watched: harvest_job::watched(),
            read: Vec::new(),
            listed: Vec::new(),
            proxied: Vec::new(),
            placed: false,
        },
        Kinds {
            applied: reusable_solution::applied(),
            prunable: reusable_solution::prunable(),
            watched: reusable_solution::watched(),
            read: reusable_solution::read(),
            listed: reusable_solution::listed(),
            proxied: Vec::new(),
            placed: true,
        },
    ]
}

/// The controllers whose workloads may run on remote clusters.
pub fn placed() -> impl Iterator<Item = Kinds> {
    controllers().into_iter().filter(|kinds| kinds.placed)
}

/// The kinds of workloads watched on remote clusters, whose changes wake their hub objects:
/// those the placed controllers watch locally, each once.
pub fn remote_watched() -> Vec<ApiResource> {
    let mut kinds: Vec<ApiResource> = Vec::new();
    for kind in placed().flat_map(|k| k.watched) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}
