//! The typed form of a publiccode.yml, as the standard defines it (core keys up to 0.7 and
//! the Italian extension). Every key is optional here, so that a file with errors still
//! yields what could be read: a ReusableSolution deployed with `enforce: false` still shows
//! its summary. Whether a key was mandatory is the validator's business, not the type's.

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// A closed set of values of a publiccode.yml key, spelled as the standard spells them.
pub trait Choice: Sized + Copy + 'static {
    /// Every value, in the standard's order (the order error messages list them in).
    const ALL: &'static [Self];
    /// The value as written in publiccode.yml.
    fn as_str(self) -> &'static str;
    /// The value written `text`, if it is one of [`Self::ALL`] (case-sensitive, as the
    /// reference parser compares).
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.as_str() == text)
    }
}

/// Declares an enum of publiccode.yml values and its [`Choice`] impl from one list, so the
/// spelling of each value is written once.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl Choice for $name {
            const ALL: &'static [Self] = &[$(Self::$variant,)+];
            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

choice! {
    /// `developmentStatus`.
    DevelopmentStatus {
        /// The software is an idea or a prototype.
        Concept = "concept",
        /// Under development, not yet usable.
        Development = "development",
        /// Usable, in testing.
        Beta = "beta",
        /// Ready for production.
        Stable = "stable",
        /// No longer maintained or superseded: not to be reused.
        Obsolete = "obsolete",
    }
}

choice! {
    /// `softwareType`.
    SoftwareType {
        /// A mobile application.
        StandaloneMobile = "standalone/mobile",
        /// Software for the Internet of Things.
        StandaloneIot = "standalone/iot",
        /// A desktop application.
        StandaloneDesktop = "standalone/desktop",
        /// A web application.
        StandaloneWeb = "standalone/web",
        /// A back-end service.
        StandaloneBackend = "standalone/backend",
        /// Any other standalone software.
        StandaloneOther = "standalone/other",
        /// An add-on to other software.
        Addon = "addon",
        /// A library.
        Library = "library",
        /// Configuration files for other software.
        ConfigurationFiles = "configurationFiles",
    }
}

choice! {
    /// `maintenance.type`.
    MaintenanceType {
        /// Maintained by the owner's own staff.
        Internal = "internal",
        /// Maintained by contractors (`maintenance.contractors`).
        Contract = "contract",
        /// Maintained by a community.
        Community = "community",
        /// Not maintained.
        None = "none",
    }
}

/// The publiccode.yml standard versions the parser reads. All are read with the rules of
/// the latest one, as the reference parser (publiccode-parser-go v5) does; `"0"` means
/// "the latest 0.x".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandardVersion {
    /// `"0"`: always the latest 0.x, what the standard recommends writing.
    Latest,
    /// An explicit older or current version, e.g. `0.4`.
    Explicit {
        /// The version as written (e.g. `"0.4.0"`).
        written: &'static str,
    },
}

impl StandardVersion {
    /// Every value of `publiccodeYmlVersion` accepted, in the reference parser's order.
    pub const SUPPORTED: &'static [&'static str] =
        &["0", "0.2", "0.2.0", "0.2.1", "0.2.2", "0.3", "0.3.0", "0.4", "0.4.0", "0.5.0", "0.5", "0.7.0", "0.7"];

    /// The version the rules come from.
    pub const RULES: &'static str = "0.7";

    /// The version written `text`, if supported.
    pub fn parse(text: &str) -> Option<Self> {
        let written = Self::SUPPORTED.iter().copied().find(|v| *v == text)?;
        Some(if written == "0" { Self::Latest } else { Self::Explicit { written } })
    }

    /// Whether the file names the current version (`"0"` or 0.7.x), so no upgrade is due.
    pub fn is_current(self) -> bool {
        match self {
            Self::Latest => true,
            Self::Explicit { written } => written.starts_with("0.7"),
        }
    }
}

/// A publiccode.yml as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Publiccode {
    /// `publiccodeYmlVersion`.
    pub version: StandardVersion,
    /// `name`.
    pub name: Option<String>,
    /// `applicationSuite`.
    pub application_suite: Option<String>,
    /// `url`: the source repository, the software's identity.
    pub url: Option<String>,
    /// `landingURL`.
    pub landing_url: Option<String>,
    /// `isBasedOn` (a string or a list in the file).
    pub is_based_on: Vec<String>,
    /// `softwareVersion`.
    pub software_version: Option<String>,
    /// `releaseDate`.
    pub release_date: Option<NaiveDate>,
    /// `logo` (a relative path or a URL).
    pub logo: Option<String>,
    /// `organisation` (0.5).
    pub organisation: Option<Organisation>,
    /// `fundedBy` (0.5).
    pub funded_by: Vec<Organisation>,
    /// `platforms`.
    pub platforms: Vec<String>,
    /// `categories`.
    pub categories: Vec<String>,
    /// `usedBy`.
    pub used_by: Vec<String>,
    /// `roadmap`.
    pub roadmap: Option<String>,
    /// `developmentStatus`.
    pub development_status: Option<DevelopmentStatus>,
    /// `softwareType`.
    pub software_type: Option<SoftwareType>,
    /// `intendedAudience`.
    pub intended_audience: IntendedAudience,
    /// `description`, by BCP 47 language tag.
    pub description: BTreeMap<String, Description>,
    /// `legal`.
    pub legal: Legal,
    /// `maintenance`.
    pub maintenance: Maintenance,
    /// `localisation`.
    pub localisation: Localisation,
    /// `dependsOn`.
    pub depends_on: DependsOn,
    /// `supports` (0.7): the laws, regulations and platforms the software supports.
    pub supports: Vec<String>,
    /// The Italian extension (`IT`, or the deprecated `it`).
    pub italian: Option<ItalianExtension>,
}

/// `organisation` or an entry of `fundedBy`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Organisation {
    /// `name`.
    pub name: Option<String>,
    /// `uri`, e.g. `urn:x-italian-pa:c_h501`.
    pub uri: Option<String>,
}

/// `intendedAudience`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntendedAudience {
    /// `scope`.
    pub scope: Vec<String>,
    /// `countries` (ISO 3166-1 alpha-2).
    pub countries: Vec<String>,
    /// `unsupportedCountries`.
    pub unsupported_countries: Vec<String>,
}

/// `description.<language>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Description {
    /// `localisedName`.
    pub localised_name: Option<String>,
    /// `genericName` (deprecated).
    pub generic_name: Option<String>,
    /// `shortDescription` (at most 150 characters).
    pub short_description: Option<String>,
    /// `longDescription` (150 to 10,000 characters).
    pub long_description: Option<String>,
    /// `documentation`.
    pub documentation: Option<String>,
    /// `apiDocumentation`.
    pub api_documentation: Option<String>,
    /// `features`.
    pub features: Vec<String>,
    /// `screenshots`.
    pub screenshots: Vec<String>,
    /// `videos`.
    pub videos: Vec<String>,
    /// `awards`.
    pub awards: Vec<String>,
}

/// `legal`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Legal {
    /// `license`: an SPDX licence expression.
    pub license: Option<String>,
    /// `mainCopyrightOwner`.
    pub main_copyright_owner: Option<String>,
    /// `repoOwner` (deprecated in 0.5 for `organisation.name`).
    pub repo_owner: Option<String>,
    /// `authorsFile` (deprecated).
    pub authors_file: Option<String>,
}

/// `maintenance`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Maintenance {
    /// `type`.
    pub kind: Option<MaintenanceType>,
    /// `contractors` (only with `type: contract`).
    pub contractors: Vec<Contractor>,
    /// `contacts`.
    pub contacts: Vec<Contact>,
}

/// An entry of `maintenance.contractors`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contractor {
    /// `name`.
    pub name: Option<String>,
    /// `until`: the last day of the contract.
    pub until: Option<NaiveDate>,
    /// `email`.
    pub email: Option<String>,
    /// `website`.
    pub website: Option<String>,
}

/// An entry of `maintenance.contacts`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contact {
    /// `name`.
    pub name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `phone`.
    pub phone: Option<String>,
    /// `affiliation`.
    pub affiliation: Option<String>,
}

/// `localisation`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Localisation {
    /// `localisationReady`.
    pub localisation_ready: Option<bool>,
    /// `availableLanguages` (BCP 47).
    pub available_languages: Vec<String>,
}

/// `dependsOn`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DependsOn {
    /// `open`.
    pub open: Vec<Dependency>,
    /// `proprietary`.
    pub proprietary: Vec<Dependency>,
    /// `hardware`.
    pub hardware: Vec<Dependency>,
}

/// An entry of `dependsOn.*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dependency {
    /// `name`.
    pub name: Option<String>,
    /// `versionMin`.
    pub version_min: Option<String>,
    /// `versionMax`.
    pub version_max: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `optional`.
    pub optional: Option<bool>,
}

/// The Italian country extension (`IT`), deprecated as a whole by the standard 0.7 and
/// kept for the files that still carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItalianExtension {
    /// `countryExtensionVersion` (`0.2` or `1.0`).
    pub country_extension_version: Option<String>,
    /// `conforme` (deprecated): declared conformance to AgID guidelines.
    pub conforme: Option<Conforme>,
    /// `piattaforme`: the national platforms the software integrates.
    pub piattaforme: Piattaforme,
    /// `riuso.codiceIPA` (deprecated in 0.5 for `organisation.uri`).
    pub codice_ipa: Option<String>,
}

/// `IT.conforme`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conforme {
    /// `lineeGuidaDesign`.
    pub linee_guida_design: Option<bool>,
    /// `modelloInteroperabilita`.
    pub modello_interoperabilita: Option<bool>,
    /// `misureMinimeSicurezza`.
    pub misure_minime_sicurezza: Option<bool>,
    /// `gdpr`.
    pub gdpr: Option<bool>,
}

/// `IT.piattaforme`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Piattaforme {
    /// `spid`: SPID login.
    pub spid: Option<bool>,
    /// `cie`: login with the electronic identity card.
    pub cie: Option<bool>,
    /// `anpr`: the national registry of residents.
    pub anpr: Option<bool>,
    /// `pagopa`: payments through pagoPA.
    pub pagopa: Option<bool>,
    /// `io`: the IO app.
    pub io: Option<bool>,
}

/// The prefix of an `organisation.uri` naming an Italian administration by its IPA code.
pub const ITALIAN_PA_URN: &str = "urn:x-italian-pa:";

impl Organisation {
    /// The IPA code of an `urn:x-italian-pa:<code>` URI.
    pub fn ipa_code(&self) -> Option<&str> {
        italian_pa_code(self.uri.as_deref()?)
    }
}

/// The code of an `urn:x-italian-pa:<code>` URI. The prefix is matched in any case, as the
/// reference parser matches it (`URN:X-Italian-PA:pcm` names `pcm`).
pub fn italian_pa_code(uri: &str) -> Option<&str> {
    let n = ITALIAN_PA_URN.len();
    let (prefix, code) = (uri.get(..n)?, uri.get(n..)?);
    prefix.eq_ignore_ascii_case(ITALIAN_PA_URN).then_some(code)
}
