//! What a check of a publiccode.yml finds: each problem with its severity, key path and
//! message, as every part of the validation reports it.

use std::fmt;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file does not follow the standard.
    Error,
    /// The file is valid, but uses something deprecated or outdated.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, not `write_str`: the report aligns severities with `{:<8}`.
        f.pad(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// One problem found in a publiccode.yml.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// The key at fault, e.g. `description.it.shortDescription`; empty for the whole file.
    pub key: String,
    /// What is wrong, e.g. `shortDescription must be a maximum of 150 characters in length`.
    pub message: String,
}

impl Finding {
    /// An error at `key`.
    pub fn error(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Error, key: key.into(), message: message.into() }
    }

    /// A warning at `key`.
    pub fn warning(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, key: key.into(), message: message.into() }
    }
}

/// `error  key.path: message`, one line, as the CLI and the `PubliccodeValid` condition show it.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() { "(file)" } else { &self.key };
        write!(f, "{:<8} {key}: {}", self.severity, self.message)
    }
}

/// The findings gathered while reading one file.
#[derive(Debug, Default)]
pub(crate) struct Findings(pub(crate) Vec<Finding>);

/// A path to a key, as the reference parser writes it: `maintenance.contractors[0].until`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(String);

impl KeyPath {
    /// The path of `key` inside this one.
    pub(crate) fn key(&self, key: &str) -> Self {
        if self.0.is_empty() { Self(key.to_owned()) } else { Self(format!("{}.{key}", self.0)) }
    }

    /// The path of item `index` of the list at this path.
    pub(crate) fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    /// The last key of the path, without indices: what messages start with
    /// (`until is a required field`).
    /// An index stays (`countries[2] must be ...`), as the reference parser writes it.
    pub(crate) fn last(&self) -> &str {
        self.0.rsplit('.').next().unwrap_or_default()
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Findings {
    /// `<key> is a required field`.
    pub(crate) fn required(&mut self, path: &KeyPath) {
        self.error(path, format!("{} is a required field", path.last()));
    }

    /// `wrong type for this field`.
    pub(crate) fn wrong_type(&mut self, path: &KeyPath) {
        self.error(path, "wrong type for this field");
    }

    /// An error at `path`.
    pub(crate) fn error(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.0.push(Finding::error(path.as_str(), message));
    }

    /// A warning at `path`.
    pub(crate) fn warning(&mut self, path: &KeyPath, message: impl Into<String>) {
        self.0.push(Finding::warning(path.as_str(), message));
    }
}
