//! DCAT-AP_IT validation of one dataset: the mandatory classes and properties of the AgID
//! guide (domain research §1.2) and its controlled vocabularies (§1.3). No official
//! DCAT-AP_IT SHACL exists, so these are mediana's own rules, each finding naming the
//! property at fault.

use serde::Serialize;

use super::model::{Agent, Dataset, best_text, blank};
use super::vocab;
use crate::publiccode::IpaCodes;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    /// A recommended property is missing or a value is doubtful: reported, not blocking.
    Warning,
    /// A mandatory property is missing or invalid: the dataset is not DCAT-AP_IT.
    Error,
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Where: the property path, e.g. `dct:rightsHolder` or `dcat:distribution[1]/dct:license`.
    pub property: String,
    /// How bad.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}: {}", self.property, self.message)
    }
}

/// Whether a list of findings holds an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

struct Collector(Vec<Finding>);

impl Collector {
    fn error(&mut self, property: impl Into<String>, message: impl Into<String>) {
        self.0.push(Finding { property: property.into(), severity: Severity::Error, message: message.into() });
    }
    fn warning(&mut self, property: impl Into<String>, message: impl Into<String>) {
        self.0.push(Finding { property: property.into(), severity: Severity::Warning, message: message.into() });
    }
}

/// Validates a dataset against DCAT-AP_IT.
pub fn validate(dataset: &Dataset) -> Vec<Finding> {
    let mut c = Collector(Vec::new());
    match dataset.identifier.as_deref().map(str::trim) {
        None | Some("") => c.error("dct:identifier", "missing (mandatory, 1)"),
        Some(id) if !id.contains(':') => c.warning(
            "dct:identifier",
            format!("{id:?} does not follow the form <IPA code>:<local identifier> (e.g. agid:D.1)"),
        ),
        Some(_) => {}
    }
    if best_text(&dataset.title).is_none() {
        c.error("dct:title", "missing (mandatory, 1..n)");
    }
    if best_text(&dataset.description).is_none() {
        c.error("dct:description", "missing (mandatory, 1..n)");
    }
    match &dataset.modified {
        None => c.error("dct:modified", "missing (mandatory, 1)"),
        Some(date) if !is_date(date) => c.error("dct:modified", format!("{date:?} is not an ISO 8601 date")),
        Some(_) => {}
    }
    if let Some(date) = dataset.issued.as_ref().filter(|d| !is_date(d)) {
        c.error("dct:issued", format!("{date:?} is not an ISO 8601 date"));
    }
    if dataset.themes.is_empty() {
        c.error("dcat:theme", "missing (mandatory, 1..n; an EU data-theme URI)");
    }
    for theme in &dataset.themes {
        if !theme.starts_with("http") {
            c.error("dcat:theme", format!("{theme:?} is a literal; use a data-theme URI ({}…)", vocab::THEME_BASE));
        } else if !vocab::THEMES.has_uri(theme) {
            c.error("dcat:theme", format!("{theme} is not in the EU data-theme vocabulary"));
        }
    }
    match &dataset.rights_holder {
        None => c.error("dct:rightsHolder", "missing (mandatory, 1; the administration holding the data)"),
        Some(agent) => {
            check_agent(&mut c, "dct:rightsHolder", agent);
            check_ipa_code(&mut c, "dct:rightsHolder/dct:identifier", agent);
        }
    }
    match &dataset.publisher {
        None => c.warning("dct:publisher", "missing (recommended)"),
        Some(agent) => check_agent(&mut c, "dct:publisher", agent),
    }
    for (i, creator) in dataset.creators.iter().enumerate() {
        check_agent(&mut c, &format!("dct:creator[{}]", i + 1), creator);
    }
    match &dataset.frequency {
        None => c.error("dct:accrualPeriodicity", "missing (mandatory, 1; …/frequency/UNKNOWN is allowed)"),
        Some(f) if !vocab::FREQUENCIES.has_uri(f) => {
            c.error("dct:accrualPeriodicity", format!("{f} is not in the EU frequency vocabulary"))
        }
        Some(_) => {}
    }
    // Recommended, not mandatory, in DCAT-AP_IT: a bad language is a warning.
    for language in &dataset.languages {
        if !language.starts_with(vocab::LANGUAGE_BASE) {
            c.warning("dct:language", format!("{language:?} is not an EU language URI ({}ITA)", vocab::LANGUAGE_BASE));
        } else if !vocab::LANGUAGES.has_uri(language) {
            let code = vocab::code(language, vocab::LANGUAGE_BASE);
            c.warning("dct:language", format!("{code:?} ({language}) is not in the EU language vocabulary"));
        }
    }
    match &dataset.contact_point {
        None => c.warning("dcat:contactPoint", "missing (recommended)"),
        Some(cp) if blank(&cp.name) || blank(&cp.email) => {
            c.warning("dcat:contactPoint", "vcard:fn and vcard:hasEmail are mandatory in a contact point")
        }
        Some(_) => {}
    }
    for alt in dataset.alternate_identifiers.iter().filter(|a| a.trim().is_empty() || a.trim() == "N/A") {
        c.warning("adms:identifier", format!("{alt:?} is not an identifier"));
    }
    for (i, period) in dataset.temporal.iter().enumerate() {
        let property = format!("dct:temporal[{}]", i + 1);
        match &period.start {
            None => c.error(&property, "the period has no start date (mandatory)"),
            Some(d) if !is_date(d) => c.error(&property, format!("start {d:?} is not an ISO 8601 date")),
            Some(_) => {}
        }
    }
    if dataset.distributions.is_empty() {
        c.warning("dcat:distribution", "none (mandatory when the data are open)");
    }
    for (i, distribution) in dataset.distributions.iter().enumerate() {
        let at = |p: &str| format!("dcat:distribution[{}]/{p}", i + 1);
        match &distribution.format {
            None => c.error(at("dct:format"), "missing (mandatory, 1; an EU file-type URI)"),
            Some(f) if !vocab::FILE_TYPES.has_uri(f) => {
                c.error(at("dct:format"), format!("{f:?} is not an EU file-type URI"))
            }
            Some(_) => {}
        }
        if blank(&distribution.access_url) {
            c.error(at("dcat:accessURL"), "missing (mandatory, 1)");
        }
        match distribution.license.as_ref().and_then(|l| l.uri.clone().or_else(|| l.name.clone())) {
            None => c.error(at("dct:license"), "missing (mandatory, 1)"),
            Some(uri) if !vocab::known_licence(&uri) => c.warning(
                at("dct:license"),
                format!("{uri:?} is in neither the AgID nor the EU licence vocabulary, nor a Creative Commons URI"),
            ),
            Some(_) => {}
        }
    }
    check_high_value(&mut c, dataset);
    c.0
}

/// DCAT-AP 3's HVD rules (SEMICeu/DCAT-AP `releases/3.0.0-hvd/shacl/hvd-SHACL.ttl`): a
/// high-value dataset has at least one `dcatap:hvdCategory` and each of its distributions
/// at least one `dcatap:applicableLegislation` (`sh:minCount 1`, violations: errors). The
/// shapes check only that a category is a `skos:Concept`; one outside the category table
/// mediana ships is a warning, since the table may have grown since. A category on a dataset
/// that does not name the regulation makes it no HVD dataset: a warning too.
fn check_high_value(c: &mut Collector, dataset: &Dataset) {
    if !dataset.is_high_value() {
        if !dataset.hvd_categories.is_empty() {
            c.warning(
                "dcatap:applicableLegislation",
                format!(
                    "an HVD category without the HVD regulation ({}): not a high-value dataset",
                    vocab::HVD_REGULATION
                ),
            );
        }
        return;
    }
    if dataset.hvd_categories.is_empty() {
        c.error("dcatap:hvdCategory", "missing (mandatory, 1..n, for a high-value dataset)");
    }
    for category in dataset.hvd_categories.iter().filter(|k| !vocab::HVD_CATEGORIES.has_uri(k)) {
        c.warning("dcatap:hvdCategory", format!("{category:?} is not in the HVD category vocabulary"));
    }
    for (i, distribution) in dataset.distributions.iter().enumerate() {
        if !distribution.applicable_legislation.iter().any(|l| vocab::is_hvd_regulation(l)) {
            c.error(
                format!("dcat:distribution[{}]/dcatap:applicableLegislation", i + 1),
                format!(
                    "the distribution of a high-value dataset does not name the HVD regulation ({})",
                    vocab::HVD_REGULATION
                ),
            );
        }
    }
}

fn check_agent(c: &mut Collector, property: &str, agent: &Agent) {
    if agent.is_empty() {
        c.error(property, "the agent has neither foaf:name nor dct:identifier (both mandatory)");
        return;
    }
    if blank(&agent.identifier) {
        c.error(format!("{property}/dct:identifier"), "missing (mandatory; the IPA code of an administration)");
    }
    if blank(&agent.name) {
        c.error(format!("{property}/foaf:name"), "missing (mandatory; the official name)");
    }
}

/// The holder's `dct:identifier` is the IPA code of an administration (AgID guide): one the
/// IndicePA list mediana ships does not hold is reported, as a warning, since the list ages
/// (IndicePA changes every week) and a holder outside the public administration may name
/// another identifier. Only the administration's code is looked up: sources name an office
/// below it as `<code>/<office>…` (`uni_bo/CLE/AFORM`), and the list holds no offices.
fn check_ipa_code(c: &mut Collector, property: &str, agent: &Agent) {
    let Some(code) = agent.identifier.as_deref().map(str::trim).filter(|code| !code.is_empty()) else {
        return;
    };
    let administration = code.split('/').next().unwrap_or(code);
    if !IpaCodes::shipped().contains(administration) {
        c.warning(property, format!("{code:?} is not an IPA code of the IndicePA list mediana ships"));
    }
}

/// ISO 8601 date or date-time (`2017-08-21`, `2017-08-21T00:00:00`, with zone or not).
pub fn is_date(text: &str) -> bool {
    let text = text.trim();
    let date = text.get(..10).unwrap_or(text);
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok() && (text.len() == 10 || text[10..].starts_with('T'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::dcat::tests::{fixture, parse};
    use oxrdfio::RdfFormat;

    fn findings(file: &str) -> Vec<Vec<Finding>> {
        let (datasets, _) = parse(&fixture(&format!("dcat-ap-it/examples/{file}")), RdfFormat::RdfXml).expect("parses");
        datasets.iter().map(validate).collect()
    }

    fn has(findings: &[Finding], property: &str, severity: Severity) -> bool {
        findings.iter().any(|f| f.property == property && f.severity == severity)
    }

    #[test]
    fn prato_dataset_has_an_empty_creator_and_a_placeholder_identifier() {
        let all = findings("dataset_identifier.rdf");
        let f = &all[0];
        assert!(has(f, "dct:creator[1]", Severity::Error), "{f:#?}");
        assert!(has(f, "adms:identifier", Severity::Warning), "{f:#?}");
        assert!(has(f, "dct:identifier", Severity::Warning), "not <ipa>:<id>: {f:#?}");
        // Holder, publisher, theme and frequency are fine.
        assert!(!f.iter().any(|x| x.property.starts_with("dct:rightsHolder") || x.property == "dcat:theme"), "{f:#?}");
        assert!(!f.iter().any(|x| x.property == "dct:accrualPeriodicity"), "{f:#?}");
    }

    #[test]
    fn agid_example_is_valid_but_for_its_licence_vocabulary() {
        for f in findings("dataset_it_esempio_6.rdf") {
            assert!(!f.iter().any(|x| x.property == "dct:identifier" || x.property == "dct:rightsHolder"), "{f:#?}");
        }
    }

    #[test]
    fn unibo_catalogue_is_valid_with_identifier_form_warnings_only() {
        let all = findings("catalog_dati_unibo.rdf");
        assert_eq!(all.len(), 12);
        for f in &all {
            assert!(!has_errors(f), "{f:#?}");
            assert_eq!(f.len(), 1, "{f:#?}");
            assert!(has(f, "dct:identifier", Severity::Warning), "UUIDs, not <ipa>:<id>: {f:#?}");
        }
    }

    /// A dataset valid but for the form of its identifier (a warning), to vary one property.
    fn valid_dataset() -> Dataset {
        let (mut datasets, _) =
            parse(&fixture("dcat-ap-it/examples/catalog_dati_unibo.rdf"), RdfFormat::RdfXml).expect("parses");
        datasets.swap_remove(0)
    }

    fn findings_on(dataset: &Dataset, property: &str) -> Vec<Finding> {
        validate(dataset).into_iter().filter(|f| f.property.ends_with(property)).collect()
    }

    #[test]
    fn every_code_of_each_shipped_table_is_accepted() {
        let mut d = valid_dataset();
        for code in vocab::FREQUENCIES.codes() {
            d.frequency = Some(format!("{}{code}", vocab::FREQUENCY_BASE));
            assert_eq!(findings_on(&d, "dct:accrualPeriodicity"), [], "{code}");
        }
        for code in vocab::THEMES.codes() {
            d.themes = vec![format!("{}{code}", vocab::THEME_BASE)];
            assert_eq!(findings_on(&d, "dcat:theme"), [], "{code}");
        }
        for code in vocab::FILE_TYPES.codes() {
            d.distributions[0].format = Some(format!("{}{code}", vocab::FILE_TYPE_BASE));
            assert_eq!(findings_on(&d, "dct:format"), [], "{code}");
        }
        for code in vocab::EU_LICENCES.codes() {
            let uri = format!("{}{code}", vocab::EU_LICENCE_BASE);
            d.distributions[0].license = Some(crate::harvest::model::License { uri: Some(uri), ..Default::default() });
            assert_eq!(findings_on(&d, "dct:license"), [], "{code}");
        }
        for code in vocab::LANGUAGES.codes() {
            d.languages = vec![format!("{}{code}", vocab::LANGUAGE_BASE)];
            assert_eq!(findings_on(&d, "dct:language"), [], "{code}");
        }
        d.frequency = Some(format!("{}EVERY_FORTNIGHT", vocab::FREQUENCY_BASE));
        assert!(has(&findings_on(&d, "dct:accrualPeriodicity"), "dct:accrualPeriodicity", Severity::Error));
    }

    #[test]
    fn a_language_outside_the_eu_table_is_a_warning_naming_its_code() {
        let mut d = valid_dataset();
        d.languages = vec![format!("{}XYZ", vocab::LANGUAGE_BASE)];
        let found = findings_on(&d, "dct:language");
        assert!(has(&found, "dct:language", Severity::Warning), "{found:#?}");
        assert!(found[0].message.contains("\"XYZ\""), "{found:#?}");
        assert!(!has_errors(&validate(&d)), "recommended, not mandatory");
        d.languages = vec!["http://lexvo.org/id/iso639-3/ita".into()];
        let found = findings_on(&d, "dct:language");
        assert!(found.len() == 1 && found[0].message.contains("not an EU language URI"), "{found:#?}");
    }

    #[test]
    fn a_holder_outside_the_ipa_list_is_a_warning() {
        let mut d = valid_dataset();
        let holder = |code: &str| Some(Agent { name: Some("Comune".into()), identifier: Some(code.into()) });
        d.rights_holder = holder("c_e783");
        assert_eq!(findings_on(&d, "dct:rightsHolder/dct:identifier"), []);
        d.rights_holder = holder("C_E783");
        assert_eq!(findings_on(&d, "dct:rightsHolder/dct:identifier"), [], "IndicePA codes have no case");
        d.rights_holder = holder("uni_bo/CLE/AFORM");
        assert_eq!(findings_on(&d, "dct:rightsHolder/dct:identifier"), [], "an office of uni_bo");
        d.rights_holder = holder("c_zz99");
        let found = findings_on(&d, "dct:rightsHolder/dct:identifier");
        assert!(has(&found, "dct:rightsHolder/dct:identifier", Severity::Warning), "{found:#?}");
        assert!(!has_errors(&validate(&d)), "not blocking");
    }

    fn high_value(category: &str) -> Dataset {
        let mut d = valid_dataset();
        d.applicable_legislation = vec![vocab::HVD_REGULATION.into()];
        d.hvd_categories = vec![format!("{}{category}", vocab::HVD_CATEGORY_BASE)];
        for distribution in &mut d.distributions {
            distribution.applicable_legislation = vec![format!("{}/", vocab::HVD_REGULATION)];
        }
        d
    }

    #[test]
    fn high_value_datasets_follow_the_hvd_shapes() {
        // c_164e0bf5: Meteorological.
        let d = high_value("c_164e0bf5");
        assert!(d.is_high_value());
        assert_eq!(findings_on(&d, "dcatap:hvdCategory"), []);
        assert_eq!(findings_on(&d, "dcatap:applicableLegislation"), []);
        for code in vocab::HVD_CATEGORIES.codes() {
            assert_eq!(findings_on(&high_value(code), "dcatap:hvdCategory"), [], "{code}");
        }

        let mut none = d.clone();
        none.hvd_categories.clear();
        assert!(has(&validate(&none), "dcatap:hvdCategory", Severity::Error));

        let unknown = high_value("c_00000000");
        assert!(has(&validate(&unknown), "dcatap:hvdCategory", Severity::Warning));
        assert!(!has_errors(&validate(&unknown)));

        let mut bare = d.clone();
        bare.distributions[0].applicable_legislation.clear();
        assert!(has(&validate(&bare), "dcat:distribution[1]/dcatap:applicableLegislation", Severity::Error));

        let mut unnamed = d;
        unnamed.applicable_legislation.clear();
        assert!(!unnamed.is_high_value());
        assert!(has(&validate(&unnamed), "dcatap:applicableLegislation", Severity::Warning));
        assert!(!has_errors(&validate(&unnamed)));
    }

    #[test]
    fn dates_are_iso_8601() {
        assert!(is_date("2017-08-21"));
        assert!(is_date("2017-08-21T00:00:00"));
        assert!(is_date("2017-08-21T00:00:00+02:00"));
        assert!(!is_date("21/08/2017"));
        assert!(!is_date("2017-13-01"));
        assert!(!is_date("2017-08-21 garbage"));
    }
}
