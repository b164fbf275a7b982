//! Test helpers every controller's builder tests share.

use serde_json::{Value, json};

use super::children::Child;

/// Asserts that a pod spec (as JSON) meets the "restricted" Pod Security Standard, init
/// containers included; `name` says which pod failed.
pub fn assert_restricted(pod: &Value, name: &str) {
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault", "{name}");
    let containers = pod["initContainers"].as_array().into_iter().chain(pod["containers"].as_array()).flatten();
    let mut checked = 0;
    for container in containers {
        let security = &container["securityContext"];
        assert_eq!(security["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(security["capabilities"]["drop"], json!(["ALL"]), "{name}");
        assert_eq!(security["readOnlyRootFilesystem"], true, "{name}");
        checked += 1;
    }
    assert!(checked > 0, "{name} has no containers");
}

/// `Kind/name` of every child, sorted.
pub fn kinds_and_names(children: &[Child]) -> Vec<String> {
    let mut list: Vec<String> = children.iter().map(|c| format!("{}/{}", c.resource.kind, c.name())).collect();
    list.sort();
    list
}

/// The object of the child `kind/name`; fails the test when it is not built.
pub fn find<'a>(children: &'a [Child], kind: &str, name: &str) -> &'a Value {
    &children
        .iter()
        .find(|c| c.resource.kind == kind && c.name() == name)
        .unwrap_or_else(|| panic!("{kind}/{name} is built"))
        .object
}
