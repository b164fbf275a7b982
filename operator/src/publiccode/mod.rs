//! publiccode.yml parsing and validation: the metadata file of the software in the
//! Developers Italia catalogue, which a ReusableSolution runs.
//!
//! [`validate`] reads a file into a [`Publiccode`] and a list of [`Finding`]s, each with a
//! severity, the key path (`maintenance.contractors[0].until`) and a message worded as
//! Developers Italia's reference parser (publiccode-parser-go) words it. Deprecated keys
//! are warnings, never errors: they are still valid and widely published. The reuse policy
//! a ReusableSolution applies (obsolete software, expired maintenance contracts, licence
//! allowlists) is in [`summary`].

mod checks;
mod files;
mod findings;
mod model;
mod reader;
pub mod source;
pub mod summary;
mod validate;
mod yaml;

use std::path::Path;

pub use checks::IpaCodes;
pub(crate) use findings::Findings;
pub use findings::{Finding, Severity};
pub use model::*;
pub use summary::Summary;

/// Why a file could not be validated at all: nothing past these can be read meaningfully.
#[derive(Debug, thiserror::Error)]
pub enum PubliccodeError {
    /// The text is not YAML.
    #[error("not valid YAML: {}", first_line(source))]
    Yaml {
        /// The YAML parser's error, with its position.
        #[source]
        source: serde_saphyr::Error,
    },
    /// The YAML is not a mapping of keys.
    #[error("a publiccode.yml is a mapping of keys, this file is not")]
    NotAMapping,
    /// `publiccodeYmlVersion` is missing.
    #[error("publiccodeYmlVersion is a required field")]
    MissingVersion,
    /// `publiccodeYmlVersion` is not a string (e.g. `0.4` unquoted, which YAML reads as a number).
    #[error("wrong type for this field: write the version as a string, e.g. \"0\"")]
    VersionNotAString,
    /// `publiccodeYmlVersion` names a version this parser does not know.
    #[error("unsupported version: '{found}'. Supported versions: {}", StandardVersion::SUPPORTED.join(", "))]
    UnsupportedVersion {
        /// The version written.
        found: String,
    },
}

/// The first line of the YAML parser's message: the rest is a source excerpt, too long for
/// a one-line finding or a condition message.
fn first_line(err: &serde_saphyr::Error) -> String {
    err.to_string().lines().next().unwrap_or_default().to_owned()
}

impl PubliccodeError {
    /// The key at fault: empty when it is the whole file.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Yaml { .. } | Self::NotAMapping => "",
            Self::MissingVersion | Self::VersionNotAString | Self::UnsupportedVersion { .. } => "publiccodeYmlVersion",
        }
    }

    /// The error as a finding, so that a report shows it like the others.
    pub fn to_finding(&self) -> Finding {
        Finding::error(self.key(), self.to_string())
    }
}

/// What the validator knows besides the file.
#[derive(Clone, Copy, Debug, Default)]
pub struct ValidateOptions<'a> {
    /// The list of existing IPA codes; without it, the list mediana ships
    /// ([`IpaCodes::shipped`]), as the reference parser embeds its own.
    pub ipa_codes: Option<&'a IpaCodes>,
    /// The directory the file's relative paths start from (the repository's root, for a
    /// publiccode.yml at the root). With it, the files the publiccode.yml names are checked
    /// as the reference parser checks local files (extension, existence, a PNG logo's
    /// width); without it, as the reference parser's `DisableExternalChecks` mode, only
    /// their form. Remote files are never fetched.
    pub repository: Option<&'a Path>,
}

/// A file read and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    /// What could be read, even from an invalid file.
    pub publiccode: Publiccode,
    /// Errors and warnings, errors first, each group in the order of the file's keys.
    pub findings: Vec<Finding>,
}

impl Validation {
    /// Whether the file breaks the standard (warnings alone do not).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// The findings of one severity.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }
}

/// Reads and checks a publiccode.yml.
pub fn validate(text: &str, options: ValidateOptions) -> Result<Validation, PubliccodeError> {
    let root = yaml::read(text).map_err(|source| PubliccodeError::Yaml { source })?;
    if !matches!(root.value, yaml::Node::Map(_)) {
        return Err(PubliccodeError::NotAMapping);
    }
    let version = version(&root.value)?;
    let serde_json::Value::Object(root) = yaml::to_json(root, text) else { return Err(PubliccodeError::NotAMapping) };
    let mut findings = Findings::default();
    if let StandardVersion::Explicit { written } = version
        && !version.is_current()
    {
        findings.0.push(Finding::warning(
            "publiccodeYmlVersion",
            format!("v{written} is not the latest version, use '0'. Parsing this file as v{}.", StandardVersion::RULES),
        ));
    }
    let ipa_codes = match options.ipa_codes {
        Some(list) => list,
        None => IpaCodes::shipped(),
    };
    let context = validate::Context { ipa_codes, repository: options.repository };
    let publiccode = validate::document(&root, version, &context, &mut findings);
    let mut findings = findings.0;
    // Errors first: they decide; a stable sort keeps each group in the file's order.
    findings.sort_by_key(|f| f.severity);
    Ok(Validation { publiccode, findings })
}

/// `publiccodeYmlVersion`, which must be a YAML string: unlike other string keys, an
/// unquoted number (`0.4`) is refused, as the reference parser refuses it.
fn version(root: &yaml::Node) -> Result<StandardVersion, PubliccodeError> {
    match root.get("publiccodeYmlVersion") {
        None | Some(yaml::Node::Null) => Err(PubliccodeError::MissingVersion),
        Some(yaml::Node::String(written)) => StandardVersion::parse(written)
            .ok_or_else(|| PubliccodeError::UnsupportedVersion { found: written.clone() }),
        Some(_) => Err(PubliccodeError::VersionNotAString),
    }
}

/// The readable report `mediana validate publiccode` prints: one line per finding, then the
/// summary of the file.
pub fn report(result: &Result<Validation, PubliccodeError>) -> String {
    match result {
        Err(err) => format!("{}\n", err.to_finding()),
        Ok(validation) => {
            let mut out: String = validation.findings.iter().map(|f| format!("{f}\n")).collect();
            let errors = validation.with_severity(Severity::Error).count();
            let warnings = validation.with_severity(Severity::Warning).count();
            out.push_str(&format!("{errors} error(s), {warnings} warning(s)\n\n"));
            out.push_str(&Summary::of(&validation.publiccode).to_string());
            out
        }
    }
}

#[cfg(test)]
mod tests;
