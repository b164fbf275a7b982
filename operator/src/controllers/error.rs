//! Why a reconcile fails, the one mapping from an error to the reason conditions and Events
//! give, and how long a failed object waits: a transient fault is retried with a backoff
//! that grows per object, a permanent one waits for a change of the spec (the error policy
//! that applies this is the wiring's, `runtime`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::conditions::Reason;
use crate::api::cloud_target::KubeconfigSecretRef;

/// Why a reconcile failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the Kubernetes API failed. Shown in the API server's own words: kube's
    /// own text of an API error appends a debug dump of the whole Status.
    #[error("Kubernetes API request failed: {}", api_message(.0))]
    Kube(kube::Error),
    /// The object lacks a field the API server always sets.
    #[error("object has no {0}")]
    MissingObjectKey(&'static str),
    /// A desired object could not be serialized.
    #[error("cannot serialize a desired object: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The spec asks for something the operator cannot build; the message names the field.
    #[error("{0}")]
    InvalidSpec(String),
    /// The operating system's random number generator failed.
    #[error("no randomness for a generated secret: {0}")]
    Random(String),
    /// The client of a remote CloudTarget could not be built from its kubeconfig Secret.
    #[error("CloudTarget {target}: {source}")]
    Target {
        /// The CloudTarget.
        target: String,
        /// What is wrong with its kubeconfig Secret.
        #[source]
        source: Box<TargetError>,
    },
    /// The cluster of a remote CloudTarget could not be reached.
    #[error("CloudTarget {target} cannot be reached: {}", api_message(source))]
    TargetUnreachable {
        /// The CloudTarget.
        target: String,
        /// The failed request.
        source: Box<kube::Error>,
    },
    /// The namespace for an object's workloads on a remote cluster belongs to another object.
    #[error("namespace {namespace} on CloudTarget {target} belongs to {holder}")]
    NamespaceTaken {
        /// The CloudTarget.
        target: String,
        /// The namespace.
        namespace: String,
        /// The object it belongs to, from its labels.
        holder: String,
    },
    /// A cache of the operator's watches closed: the operator is stopping.
    #[error("the operator's cache of {0} is closed")]
    CacheClosed(&'static str),
}

impl From<kube::Error> for Error {
    fn from(error: kube::Error) -> Self {
        Self::Kube(error)
    }
}

/// A kube error in one line: an API server's answer as its message and code; anything else
/// (connection, TLS, timeout) with its causes.
fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => format!("{} ({} {})", status.message, status.code, status.reason),
        other => crate::with_causes(other),
    }
}

impl Error {
    /// The reason conditions, Events and metrics give for this error: the one mapping from
    /// errors to reasons, for every controller.
    pub fn reason(&self) -> Reason {
        match self {
            // A child refused as invalid is the spec's fault, in the API server's words.
            Self::Kube(_) if self.refusal().is_some() => Reason::InvalidSpec,
            Self::Kube(_) => Reason::KubeApiError,
            Self::MissingObjectKey(_) => Reason::InvalidObject,
            Self::Serialize(_) => Reason::SerializationFailed,
            Self::InvalidSpec(_) => Reason::InvalidSpec,
            Self::Random(_) => Reason::RandomnessUnavailable,
            Self::Target { .. } => Reason::KubeconfigInvalid,
            Self::TargetUnreachable { .. } => Reason::TargetUnreachable,
            Self::NamespaceTaken { .. } => Reason::NamespaceConflict,
            Self::CacheClosed(_) => Reason::KubeApiError,
        }
    }

    /// A stable category for metrics labels and Event reasons: the reason's name.
    pub fn category(&self) -> &'static str {
        self.reason().as_str()
    }

    /// Whether a retry cannot help until something a person changes (the spec, a Secret,
    /// a namespace on a remote cluster): such errors wait, the others are retried soon.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self.reason(),
            Reason::InvalidSpec
                | Reason::InvalidObject
                | Reason::SerializationFailed
                | Reason::KubeconfigInvalid
                | Reason::NamespaceConflict
        )
    }

    /// The API server's message when it refused a child as invalid (422): what a retry
    /// cannot fix until the spec it was built from changes.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            Self::Kube(kube::Error::Api(status)) if status.is_invalid() => Some(&status.message),
            _ => None,
        }
    }
}

/// Why a target's client could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The kubeconfig Secret does not exist.
    #[error("kubeconfig Secret {}/{} does not exist", .0.namespace, .0.name)]
    SecretNotFound(KubeconfigSecretRef),
    /// The Secret exists without the key.
    #[error("kubeconfig Secret {}/{} has no key {}", .0.namespace, .0.name, .0.key)]
    KeyNotFound(KubeconfigSecretRef),
    /// The key's value is not a usable kubeconfig.
    #[error("kubeconfig in Secret {}/{} key {} is not usable: {reason}", .secret.namespace, .secret.name, .secret.key)]
    InvalidKubeconfig {
        /// Where the kubeconfig is.
        secret: KubeconfigSecretRef,
        /// What is wrong with it.
        reason: String,
    },
    /// The hub's API server could not be asked for the Secret.
    #[error("reading the kubeconfig Secret failed: {0}")]
    Hub(#[source] kube::Error),
}

/// The first retry of a transient failure, doubled at each further failure of the object.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest wait between retries, and the wait after a permanent failure: a change of
/// the object wakes it sooner.
pub const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// Consecutive failures per object, so that retries back off per object and a success
/// starts over.
#[derive(Default)]
pub struct Failures(Mutex<HashMap<String, u32>>);

impl Failures {
    /// Counts one more failure of `key` and returns the wait before its retry.
    pub fn next_retry(&self, key: String) -> Duration {
        let mut failures = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let count = failures.entry(key).or_default();
        *count = count.saturating_add(1);
        FIRST_RETRY.saturating_mul(2u32.saturating_pow(*count - 1)).min(LONGEST_RETRY)
    }

    /// Forgets the failures of `key` after a reconcile succeeded.
    pub fn succeeded(&self, key: &str) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u16, reason: &str, message: &str) -> Error {
        let status = kube::core::Status { code, ..kube::core::Status::failure(message, reason) };
        Error::Kube(kube::Error::Api(status.boxed()))
    }

    #[test]
    fn an_api_error_is_told_in_the_servers_words_without_a_debug_dump() {
        let err =
            refused(422, "Invalid", r#"CronJob.batch "x" is invalid: spec.timeZone: Invalid value: "Mars/Olympus""#);
        let text = crate::with_causes(&err);
        assert!(text.contains(r#"spec.timeZone: Invalid value: "Mars/Olympus" (422 Invalid)"#), "{text}");
        assert!(!text.contains("Status {") && !text.contains("ApiError"), "{text}");
    }

    #[test]
    fn a_refused_child_is_a_permanent_invalid_spec_and_a_conflict_is_transient() {
        let invalid = refused(422, "Invalid", "spec.timeZone: Invalid value");
        assert_eq!((invalid.reason(), invalid.is_permanent()), (Reason::InvalidSpec, true));
        let conflict = refused(409, "Conflict", "the object has been modified");
        assert_eq!((conflict.reason(), conflict.is_permanent()), (Reason::KubeApiError, false));
        assert!(Error::InvalidSpec("x".into()).is_permanent());
    }

    #[test]
    fn transient_retries_double_per_object_up_to_five_minutes_and_start_over_after_a_success() {
        let failures = Failures::default();
        let waits: Vec<u64> = (0..8).map(|_| failures.next_retry("ns/a".into()).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(failures.next_retry("ns/b".into()).as_secs(), 5, "another object has its own count");
        failures.succeeded("ns/a");
        assert_eq!(failures.next_retry("ns/a".into()).as_secs(), 5);
    }
}
