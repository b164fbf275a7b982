//! The one internal dataset model both sources map into and the sink maps out of: a
//! DCAT-AP_IT dataset reduced to the properties mediana validates, scores and writes.

use serde::{Deserialize, Serialize};

/// Base URI of the INSPIRE themes, which GeoDCAT-AP puts in `dcat:theme`.
pub const INSPIRE_THEME_BASE: &str = "http://inspire.ec.europa.eu/theme/";
/// URIs a dataset conforming to GeoDCAT-AP names in `dct:conformsTo`: the profile's
/// namespace (`geodcatap:`, which is also its identifier) and its specification pages.
pub const GEODCAT_PROFILES: &[&str] = &["http://data.europa.eu/930/", "https://semiceu.github.io/GeoDCAT-AP/"];

/// A text with its language tag (empty when the source gave none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// BCP 47 tag, lower case (`it`, `en`), or empty.
    pub lang: String,
    /// The text.
    pub value: String,
}

/// Picks the text to show: Italian first, then untagged, then English, then any.
pub fn best_text(texts: &[Text]) -> Option<&str> {
    ["it", "", "en"]
        .iter()
        .find_map(|lang| texts.iter().find(|t| t.lang == *lang && !t.value.trim().is_empty()))
        .or_else(|| texts.iter().find(|t| !t.value.trim().is_empty()))
        .map(|t| t.value.as_str())
}

/// A `dcatapit:Agent`: publisher, rights holder or creator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// `foaf:name`.
    pub name: Option<String>,
    /// `dct:identifier`: the IPA code of an administration, or a VAT number.
    pub identifier: Option<String>,
}

impl Agent {
    /// Whether both name and identifier are missing or blank.
    pub fn is_empty(&self) -> bool {
        blank(&self.name) && blank(&self.identifier)
    }
}

/// True when the option is missing or only whitespace.
pub fn blank(value: &Option<String>) -> bool {
    value.as_deref().is_none_or(|v| v.trim().is_empty())
}

/// A `dcat:contactPoint` (`vcard:Kind`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPoint {
    /// The contact's URI, if any.
    pub uri: Option<String>,
    /// `vcard:fn`.
    pub name: Option<String>,
    /// `vcard:hasEmail`, without `mailto:`.
    pub email: Option<String>,
    /// `vcard:hasTelephone`.
    pub telephone: Option<String>,
    /// `vcard:hasURL`.
    pub url: Option<String>,
}

/// A `dct:PeriodOfTime`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Start date (ISO 8601 as given).
    pub start: Option<String>,
    /// End date.
    pub end: Option<String>,
}

/// A `dct:Location`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The location URI (often GeoNames).
    pub uri: Option<String>,
    /// `dcatapit:geographicalIdentifier` (a GeoNames URL).
    pub geographical_identifier: Option<String>,
    /// `locn:geographicName`.
    pub name: Option<String>,
}

/// A `dct:Standard` the dataset conforms to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standard {
    /// The standard's URI.
    pub uri: Option<String>,
    /// `dct:identifier`.
    pub identifier: Option<String>,
    /// `dct:title`.
    pub title: Option<String>,
}

/// A `dct:LicenseDocument`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// The licence URI (AgID vocabulary or creativecommons.org), or a name when the
    /// source only had one.
    pub uri: Option<String>,
    /// `foaf:name`.
    pub name: Option<String>,
    /// `dct:type` (ADMS licence type).
    pub license_type: Option<String>,
}

/// A `dcat:Distribution`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// The distribution URI, if any.
    pub uri: Option<String>,
    /// `dct:title`.
    pub title: Vec<Text>,
    /// `dct:description`.
    pub description: Vec<Text>,
    /// `dcat:accessURL`.
    pub access_url: Option<String>,
    /// `dcat:downloadURL`.
    pub download_url: Option<String>,
    /// `dct:format`: an EU file-type URI, or a bare code (`CSV`) from CKAN sources.
    pub format: Option<String>,
    /// `dcat:mediaType`.
    pub media_type: Option<String>,
    /// `dct:license`.
    pub license: Option<License>,
    /// `dcat:byteSize`.
    pub byte_size: Option<u64>,
    /// `dct:issued`.
    pub issued: Option<String>,
    /// `dct:modified`.
    pub modified: Option<String>,
    /// `dct:rights`: the statement's IRI or text, empty for a statement node without one
    /// (the quality score counts its presence; DCAT-AP puts it on distributions, not datasets).
    pub rights: Option<String>,
    /// `dcatap:applicableLegislation`: ELI URIs of the legislation the distribution is
    /// published under (the HVD regulation, for a high-value dataset's distributions).
    pub applicable_legislation: Vec<String>,
}

/// A dataset, as harvested.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// The dataset URI (RDF sources) or the source's package id (CKAN sources).
    pub uri: Option<String>,
    /// `dct:identifier` (`<ipa>:<local id>` in DCAT-AP_IT).
    pub identifier: Option<String>,
    /// `dct:title`.
    pub title: Vec<Text>,
    /// `dct:description`.
    pub description: Vec<Text>,
    /// `dct:issued`.
    pub issued: Option<String>,
    /// `dct:modified`.
    pub modified: Option<String>,
    /// `dcat:theme`: EU data-theme URIs.
    pub themes: Vec<String>,
    /// `dct:subject`: EuroVoc sub-theme URIs.
    pub subthemes: Vec<String>,
    /// `dcat:keyword`.
    pub keywords: Vec<String>,
    /// `dct:publisher`.
    pub publisher: Option<Agent>,
    /// `dct:rightsHolder` (the "titolare").
    pub rights_holder: Option<Agent>,
    /// `dct:creator`.
    pub creators: Vec<Agent>,
    /// `dct:accrualPeriodicity`: an EU frequency URI.
    pub frequency: Option<String>,
    /// `dct:language`: EU language URIs.
    pub languages: Vec<String>,
    /// `dcat:landingPage`.
    pub landing_page: Option<String>,
    /// `dct:temporal`.
    pub temporal: Vec<Period>,
    /// `dct:spatial`.
    pub spatial: Vec<Location>,
    /// `dct:conformsTo`.
    pub conforms_to: Vec<Standard>,
    /// `dcat:contactPoint`.
    pub contact_point: Option<ContactPoint>,
    /// `adms:identifier` (`skos:notation` or literal).
    pub alternate_identifiers: Vec<String>,
    /// `owl:versionInfo`.
    pub version: Option<String>,
    /// `dct:accessRights` (counted by the quality score).
    pub access_rights: Option<String>,
    /// `dcatap:applicableLegislation`: ELI URIs of the legislation that mandates the dataset.
    pub applicable_legislation: Vec<String>,
    /// `dcatap:hvdCategory`: HVD category URIs (`http://data.europa.eu/bna/c_…`).
    pub hvd_categories: Vec<String>,
    /// Whether the source gave GeoDCAT-AP-only metadata: a `geodcatap:` property or
    /// `adms:representationTechnique` on the dataset or a distribution, an INSPIRE resource
    /// type in `dct:type` (RDF sources), or a record of ckanext-spatial's ISO harvesters
    /// (`spatial_harvester`, CKAN sources). See [`Dataset::is_geodata`].
    pub geodcat: bool,
    /// `dcat:distribution`.
    pub distributions: Vec<Distribution>,
}

impl Dataset {
    /// The key that identifies the dataset across runs: `dct:identifier`, else the URI.
    pub fn key(&self) -> Option<&str> {
        self.identifier.as_deref().filter(|s| !s.trim().is_empty()).or(self.uri.as_deref()).map(str::trim)
    }

    /// Whether it is a high-value dataset: it names the HVD implementing regulation, as
    /// DCAT-AP 3's HVD profile has high-value datasets do.
    pub fn is_high_value(&self) -> bool {
        self.applicable_legislation.iter().any(|l| super::vocab::is_hvd_regulation(l))
    }

    /// Whether it is a geographic dataset described with GeoDCAT-AP: GeoDCAT-AP-only
    /// metadata ([`Dataset::geodcat`]), an INSPIRE theme in `dcat:theme`, or `dct:conformsTo`
    /// the GeoDCAT-AP profile.
    pub fn is_geodata(&self) -> bool {
        self.geodcat
            || self.themes.iter().any(|t| t.starts_with(INSPIRE_THEME_BASE))
            || self
                .conforms_to
                .iter()
                .filter_map(|s| s.uri.as_deref())
                .any(|u| GEODCAT_PROFILES.iter().any(|p| u.starts_with(p)))
    }

    /// A label for messages: the key, else the title, else a placeholder.
    pub fn label(&self) -> String {
        self.key().or_else(|| best_text(&self.title)).unwrap_or("(dataset without identifier)").to_owned()
    }
}
