//! Prometheus metrics of the controllers, served on `/metrics` in the text format.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of per-controller metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    /// The kind the controller reconciles.
    pub controller: String,
}

/// Labels of reconcile failures.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// The kind the controller reconciles.
    pub controller: String,
    /// The error's stable category (also the Event reason).
    pub category: String,
}

/// Labels of per-CloudTarget metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    /// The CloudTarget's name.
    pub target: String,
}

/// Every metric the operator exports.
pub struct Metrics {
    registry: Registry,
    reconciliations: Family<ControllerLabels, Counter>,
    failures: Family<ErrorLabels, Counter>,
    duration: Family<ControllerLabels, Histogram>,
    in_flight: Family<ControllerLabels, Gauge>,
    queue_depth: Family<ControllerLabels, Gauge>,
    writes: Family<ControllerLabels, Counter>,
    leader: Gauge,
    target_reachable: Family<TargetLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("mediana");
        let reconciliations = Family::<ControllerLabels, Counter>::default();
        let failures = Family::<ErrorLabels, Counter>::default();
        let duration = Family::<ControllerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 14))
        });
        let in_flight = Family::<ControllerLabels, Gauge>::default();
        let queue_depth = Family::<ControllerLabels, Gauge>::default();
        let writes = Family::<ControllerLabels, Counter>::default();
        let leader = Gauge::default();
        let target_reachable = Family::<TargetLabels, Gauge>::default();
        registry.register("reconciliations", "Reconciles run, by controller", reconciliations.clone());
        registry.register(
            "reconcile_failures",
            "Reconciles that failed, by controller and error category",
            failures.clone(),
        );
        registry.register("reconcile_duration_seconds", "Time a reconcile takes, by controller", duration.clone());
        registry.register(
            "reconciles_in_flight",
            "Reconciles running now, by controller (queue pressure)",
            in_flight.clone(),
        );
        registry.register(
            "reconcile_queue_depth",
            "Objects whose latest change has not been reconciled yet, by controller (sampled every 2 s)",
            queue_depth.clone(),
        );
        registry.register(
            "api_writes",
            "Write requests to the API server (apply, create, delete, status, events), by controller",
            writes.clone(),
        );
        registry.register(
            "leader",
            "Whether this instance leads and runs the controllers (1) or waits (0)",
            leader.clone(),
        );
        registry.register(
            "cloud_target_reachable",
            "Whether the last probe of a CloudTarget's cluster answered (1) or not (0), by target",
            target_reachable.clone(),
        );
        Self { registry, reconciliations, failures, duration, in_flight, queue_depth, writes, leader, target_reachable }
    }
}

impl Metrics {
    /// Marks the start of a reconcile; call [`Metrics::finished`] at its end.
    pub fn started(&self, controller: &str) {
        self.in_flight.get_or_create(&labels(controller)).inc();
    }

    /// Records a finished reconcile and how long it took.
    pub fn finished(&self, controller: &str, elapsed: Duration) {
        let labels = labels(controller);
        self.in_flight.get_or_create(&labels).dec();
        self.reconciliations.get_or_create(&labels).inc();
        self.duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// Records how many objects wait for a reconcile of their latest change.
    pub fn set_queue_depth(&self, controller: &str, depth: usize) {
        self.queue_depth.get_or_create(&labels(controller)).set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    /// Records a failed reconcile.
    pub fn failed(&self, controller: &str, category: &str) {
        self.failures
            .get_or_create(&ErrorLabels { controller: controller.to_owned(), category: category.to_owned() })
            .inc();
    }

    /// Records `count` write requests to the API server.
    pub fn wrote(&self, controller: &str, count: usize) {
        if count > 0 {
            self.writes.get_or_create(&labels(controller)).inc_by(count as u64);
        }
    }

    /// Reconciles `controller` has finished so far: tests read it to know that a reconcile
    /// ran before they check that it wrote nothing.
    pub fn reconciles(&self, controller: &str) -> u64 {
        self.reconciliations.get_or_create(&labels(controller)).get()
    }

    /// Write requests `controller` has made so far.
    pub fn writes(&self, controller: &str) -> u64 {
        self.writes.get_or_create(&labels(controller)).get()
    }

    /// Records whether this instance leads.
    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// Records whether the last probe of a CloudTarget's cluster answered.
    pub fn set_target_reachable(&self, target: &str, reachable: bool) {
        self.target_reachable.get_or_create(&TargetLabels { target: target.to_owned() }).set(i64::from(reachable));
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn labels(controller: &str) -> ControllerLabels {
    ControllerLabels { controller: controller.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconciles_failures_and_leadership_are_exported() {
        let metrics = Metrics::default();
        metrics.started("CatalogNode");
        metrics.finished("CatalogNode", Duration::from_millis(12));
        metrics.failed("CatalogNode", "KubeApiError");
        metrics.set_leader(true);
        metrics.wrote("CatalogNode", 3);
        metrics.wrote("CatalogNode", 0);
        let text = metrics.encode();
        assert!(text.contains("mediana_api_writes_total{controller=\"CatalogNode\"} 3"), "{text}");
        assert!(text.contains("mediana_reconciliations_total{controller=\"CatalogNode\"} 1"), "{text}");
        assert!(
            text.contains("mediana_reconcile_failures_total{controller=\"CatalogNode\",category=\"KubeApiError\"} 1"),
            "{text}"
        );
        assert!(text.contains("mediana_reconcile_duration_seconds_count{controller=\"CatalogNode\"} 1"), "{text}");
        assert!(text.contains("mediana_reconciles_in_flight{controller=\"CatalogNode\"} 0"), "{text}");
        metrics.set_queue_depth("CatalogNode", 3);
        assert!(metrics.encode().contains("mediana_reconcile_queue_depth{controller=\"CatalogNode\"} 3"));
        assert!(text.contains("mediana_leader 1"), "{text}");
        metrics.set_target_reachable("psn-nord", true);
        metrics.set_target_reachable("aruba-qc2", false);
        let text = metrics.encode();
        assert!(text.contains("mediana_cloud_target_reachable{target=\"psn-nord\"} 1"), "{text}");
        assert!(text.contains("mediana_cloud_target_reachable{target=\"aruba-qc2\"} 0"), "{text}");
    }
}
