//! The rules of the standard, key by key, in the order of the standard's schema. Messages
//! follow publiccode-parser-go (v5.4.3) so that an author sees the same words from mediana
//! as from the Developers Italia tools.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::Findings;
use super::checks::{self, IpaCodes};
use super::files::{self, LocalFile};
use super::findings::KeyPath;
use super::model::*;
use super::reader::Fields;

/// The message of every deprecated key the standard says can simply be dropped.
const DROP_IT: &str = "This key is DEPRECATED and will be removed in the future. It's safe to drop it";
const CATEGORIES_LIST: &str =
    "https://github.com/publiccodeyml/publiccode.yml/blob/main/docs/standard/categories-list.rst";
const SCOPE_LIST: &str = "https://github.com/publiccodeyml/publiccode.yml/blob/main/docs/standard/scope-list.rst";
const ALIASES_LIST: &str = "https://github.com/publiccodeyml/publiccode.yml/blob/main/docs/standard/aliases-list.rst";
const IPA_VOCABULARY: &str = "https://github.com/publiccodeyml/italian-organizations-ipa-vocabulary";

/// `categories` values (standard 0.7, `docs/standard/categories-list.rst`).
const CATEGORIES: &[&str] = &[
    "accounting",
    "agile-project-management",
    "applicant-tracking",
    "application-development",
    "appointment-scheduling",
    "backup",
    "billing-and-invoicing",
    "blog",
    "budgeting",
    "business-intelligence",
    "business-process-management",
    "cad",
    "call-center-management",
    "cloud-management",
    "collaboration",
    "communications",
    "compliance-management",
    "contact-management",
    "content-management",
    "crm",
    "customer-service-and-support",
    "data-analytics",
    "data-collection",
    "data-visualization",
    "design",
    "design-system",
    "digital-asset-management",
    "digital-citizenship",
    "document-management",
    "donor-management",
    "e-commerce",
    "e-signature",
    "educational-content",
    "email-management",
    "email-marketing",
    "employee-management",
    "enterprise-project-management",
    "enterprise-social-networking",
    "erp",
    "event-management",
    "facility-management",
    "feedback-and-reviews-management",
    "financial-reporting",
    "fleet-management",
    "fundraising",
    "gamification",
    "geographic-information-systems",
    "grant-management",
    "graphic-design",
    "help-desk",
    "hr",
    "ide",
    "identity-management",
    "instant-messaging",
    "integrated-library-system",
    "inventory-management",
    "it-asset-management",
    "it-development",
    "it-management",
    "it-security",
    "it-service-management",
    "knowledge-management",
    "learning-management-system",
    "marketing",
    "mind-mapping",
    "mobile-marketing",
    "mobile-payment",
    "network-management",
    "office",
    "online-booking",
    "online-community",
    "other",
    "payment-gateway",
    "payroll",
    "predictive-analysis",
    "procurement",
    "productivity-suite",
    "project-collaboration",
    "project-management",
    "property-management",
    "real-estate-management",
    "regulations-and-directives",
    "remote-support",
    "resource-management",
    "sales-management",
    "seo",
    "service-desk",
    "social-media-management",
    "survey",
    "talent-management",
    "task-management",
    "taxes-management",
    "test-management",
    "time-management",
    "time-tracking",
    "translation",
    "video-conferencing",
    "video-editing",
    "visitor-management",
    "voip",
    "warehouse-management",
    "web-collaboration",
    "web-conferencing",
    "whistleblowing",
    "website-builder",
    "workflow-management",
];

/// `intendedAudience.scope` values (`docs/standard/scope-list.rst`).
const SCOPES: &[&str] = &[
    "agriculture",
    "culture",
    "defence",
    "education",
    "emergency-services",
    "employment",
    "energy",
    "environment",
    "finance-and-economic-development",
    "foreign-affairs",
    "government",
    "healthcare",
    "infrastructures",
    "justice",
    "local-authorities",
    "manufacturing",
    "research",
    "science-and-technology",
    "security",
    "society",
    "sport",
    "tourism",
    "transportation",
    "welfare",
];

/// `supports[].id` aliases (standard 0.7, `docs/standard/aliases-list.rst`).
const SUPPORT_ALIASES: &[&str] = &["gdpr", "eidas", "nis2", "cra", "spid", "cie", "anpr", "pagopa", "io"];

/// The values `IT.countryExtensionVersion` may take.
const COUNTRY_EXTENSION_VERSIONS: &[&str] = &["0.2", "1.0"];

/// Length limits of the description texts, in characters.
const SHORT_DESCRIPTION_MAX: usize = 150;
const LONG_DESCRIPTION_MIN: usize = 150;
const LONG_DESCRIPTION_MAX: usize = 10_000;
const GENERIC_NAME_MAX: usize = 35;

/// What a missing section reads as: a mapping with no keys, so that its mandatory keys are
/// reported one by one, as the reference parser does.
static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// What the rules check values against, besides the file.
pub(crate) struct Context<'a> {
    /// The IPA codes that exist.
    pub(crate) ipa_codes: &'a IpaCodes,
    /// Where the file's relative paths start, when the repository is at hand.
    pub(crate) repository: Option<&'a Path>,
}

/// Reads every key of the document (whose version was already checked) into the typed form.
pub(crate) fn document(
    root: &Map<String, Value>,
    version: StandardVersion,
    context: &Context,
    out: &mut Findings,
) -> Publiccode {
    let Context { ipa_codes, repository } = *context;
    let mut f = Fields::from_map(KeyPath::default(), root);
    f.value("publiccodeYmlVersion");
    let name = f.required_string("name", out);
    let application_suite = f.string("applicationSuite", out);
    let url =
        f.required_string("url", out).filter(|url| check(checks::uri(url), &f.path("url"), "must be a valid URL", out));
    let landing_url = http_url(&mut f, "landingURL", out);
    let is_based_on = is_based_on(&mut f, out);
    let software_version = f.string("softwareVersion", out);
    let release_date = date(&mut f, "releaseDate", out);
    let logo = file_key(&mut f, "logo", repository, logo_check, out);
    if f.has("monochromeLogo") {
        out.warning(
            &f.path("monochromeLogo"),
            "This key is DEPRECATED and will be removed in the future. Use 'logo' instead",
        );
    }
    file_key(&mut f, "monochromeLogo", repository, logo_check, out);
    let organisation = f.object("organisation", out).map(|o| organisation_of(o, ipa_codes, out));
    let funded_by = f.objects("fundedBy", out).into_iter().map(|o| organisation_of(o, ipa_codes, out)).collect();
    // Deprecated, but their values are still checked, as the reference parser checks them.
    for key in ["inputTypes", "outputTypes"] {
        if f.has(key) {
            out.warning(&f.path(key), DROP_IT);
        }
        for (path, mime) in f.strings(key, out) {
            check(checks::mime_type(&mime), &path, "is not a valid MIME type", out);
        }
    }
    let platforms = strings(f.strings("platforms", out));
    if platforms.is_empty() {
        out.error(&f.path("platforms"), "platforms must contain more than 0 items");
    }
    let categories = listed(f.strings("categories", out), CATEGORIES, "must be a valid category", CATEGORIES_LIST, out);
    let used_by = strings(f.strings("usedBy", out));
    let roadmap = http_url(&mut f, "roadmap", out);
    let development_status = f.choice("developmentStatus", out);
    let software_type = f.choice("softwareType", out);
    let intended_audience = f.object("intendedAudience", out).map(|a| intended_audience(a, out)).unwrap_or_default();
    let description = description(required_object(&mut f, "description", out), repository, out);
    let legal = legal(required_object(&mut f, "legal", out), repository, out);
    let maintenance = maintenance(required_object(&mut f, "maintenance", out), out);
    let localisation = localisation(required_object(&mut f, "localisation", out), out);
    let depends_on = f.object("dependsOn", out).map(|d| depends_on(d, out)).unwrap_or_default();
    let supports = f.objects("supports", out).into_iter().filter_map(|s| support(s, out)).collect();
    let italian = italian(&mut f, ipa_codes, out);
    f.finish(out);
    Publiccode {
        version,
        name,
        application_suite,
        url,
        landing_url,
        is_based_on,
        software_version,
        release_date,
        logo,
        organisation,
        funded_by,
        platforms,
        categories,
        used_by,
        roadmap,
        development_status,
        software_type,
        intended_audience,
        description,
        legal,
        maintenance,
        localisation,
        depends_on,
        supports,
        italian,
    }
}

/// Keeps the verdict of a check as a finding: `<key> <message>` when it failed.
fn check(ok: bool, path: &KeyPath, message: &str, out: &mut Findings) -> bool {
    if !ok {
        out.error(path, format!("{} {message}", path.last()));
    }
    ok
}

fn strings(items: Vec<(KeyPath, String)>) -> Vec<String> {
    items.into_iter().map(|(_, s)| s).collect()
}

/// Items that must come from a fixed list (categories, scopes).
fn listed(items: Vec<(KeyPath, String)>, list: &[&str], message: &str, see: &str, out: &mut Findings) -> Vec<String> {
    let message = format!("{message} (see {see})");
    items
        .into_iter()
        .filter(|(path, item)| check(list.contains(&item.as_str()), path, &message, out))
        .map(|(_, s)| s)
        .collect()
}

/// A mandatory section: when absent, its mandatory keys are reported as missing.
fn required_object<'a>(f: &mut Fields<'a>, key: &'static str, out: &mut Findings) -> Fields<'a> {
    let path = f.path(key);
    match f.value(key) {
        Some(Value::Object(map)) => Fields::from_map(path, map),
        Some(_) => {
            out.wrong_type(&path);
            Fields::from_map(path, &EMPTY)
        }
        None => Fields::from_map(path, &EMPTY),
    }
}

fn http_url(f: &mut Fields, key: &'static str, out: &mut Findings) -> Option<String> {
    let path = f.path(key);
    f.string(key, out).filter(|url| check(checks::http_url(url), &path, "must be an HTTP URL", out))
}

fn date(f: &mut Fields, key: &'static str, out: &mut Findings) -> Option<chrono::NaiveDate> {
    let path = f.path(key);
    let text = f.string(key, out)?;
    let date = checks::date(&text);
    check(date.is_some(), &path, "must be a date with format 'YYYY-MM-DD'", out);
    date
}

/// A key naming a file of the repository (`logo`, `legal.authorsFile`): see [`file_value`].
fn file_key(
    f: &mut Fields,
    key: &'static str,
    repository: Option<&Path>,
    file_check: impl Fn(&str, &LocalFile) -> Result<(), String>,
    out: &mut Findings,
) -> Option<String> {
    let path = f.path(key);
    let value = f.string(key, out)?;
    file_value(&path, &value, repository, file_check, out);
    Some(value)
}

/// A file of the repository: a relative path or an HTTP URL and, when the repository is
/// at hand, a file that passes `file_check` (given the value and the file), whose error is
/// the message. Without the repository, only the form is checked, as the reference parser
/// does with `DisableExternalChecks`.
fn file_value(
    path: &KeyPath,
    value: &str,
    repository: Option<&Path>,
    file_check: impl Fn(&str, &LocalFile) -> Result<(), String>,
    out: &mut Findings,
) {
    let acceptable = relative_path_or_url_value(path, value, out);
    let file = repository.filter(|_| acceptable).and_then(|repository| LocalFile::of(repository, value));
    if let Some(Err(message)) = file.map(|file| file_check(value, &file)) {
        out.error(path, message);
    }
}

/// `logo` and `monochromeLogo`.
fn logo_check(_: &str, file: &LocalFile) -> Result<(), String> {
    files::logo(file).map_err(|e| e.to_string())
}

/// Whether `value` is a relative path or a URL, as a file of the repository must be.
fn relative_path_or_url_value(path: &KeyPath, value: &str, out: &mut Findings) -> bool {
    if value.starts_with('/') {
        out.error(path, "is an absolute path. Only relative paths or HTTP(s) URLs allowed");
    } else if value.starts_with("file:") {
        out.error(path, "is a file:// URL. Only relative paths or HTTP(s) URLs allowed");
    } else {
        return true;
    }
    false
}

/// `isBasedOn`: one URL or a list of URLs.
fn is_based_on(f: &mut Fields, out: &mut Findings) -> Vec<String> {
    let path = f.path("isBasedOn");
    let urls = match f.value("isBasedOn") {
        Some(Value::String(url)) => vec![(path.index(0), url.clone())],
        Some(Value::Array(_)) => f.strings("isBasedOn", out),
        Some(_) => {
            out.wrong_type(&path);
            Vec::new()
        }
        None => Vec::new(),
    };
    urls.into_iter()
        .filter(|(path, url)| check(checks::uri(url), path, "must be a valid URL", out))
        .map(|(_, u)| u)
        .collect()
}

fn organisation_of(mut f: Fields, ipa_codes: &IpaCodes, out: &mut Findings) -> Organisation {
    let name = f.string("name", out);
    let path = f.path("uri");
    let uri = f.required_string("uri", out).filter(|uri| {
        // The reference parser words the error by the prefix as written, in lower case only:
        // `URN:X-Italian-PA:<unknown>` is "not a valid URI".
        let message = if uri.starts_with(ITALIAN_PA_URN) {
            format!(
                "must be a valid Italian Public Administration Code (iPA) with format '{ITALIAN_PA_URN}[codiceIPA]' (see {IPA_VOCABULARY})"
            )
        } else {
            "is not a valid URI".to_owned()
        };
        check(checks::organisation_uri(uri, ipa_codes), &path, &message, out)
    });
    f.finish(out);
    Organisation { name, uri }
}

fn intended_audience(mut f: Fields, out: &mut Findings) -> IntendedAudience {
    let scope = listed(f.strings("scope", out), SCOPES, "must be a valid scope", SCOPE_LIST, out);
    let countries = countries_of(f.strings("countries", out), out);
    let unsupported_countries = countries_of(f.strings("unsupportedCountries", out), out);
    f.finish(out);
    IntendedAudience { scope, countries, unsupported_countries }
}

/// Country codes: ISO 3166-1 alpha-2; lower case is deprecated since 0.5.
fn countries_of(items: Vec<(KeyPath, String)>, out: &mut Findings) -> Vec<String> {
    let message = "must be a valid ISO 3166-1 alpha-2 two-letter country code";
    let valid: Vec<_> = items.into_iter().filter(|(path, c)| check(checks::country(c), path, message, out)).collect();
    for (path, code) in valid.iter().filter(|(_, c)| c.chars().all(|c| c.is_ascii_lowercase())) {
        let upper = code.to_ascii_uppercase();
        out.warning(path, format!("Lowercase country codes are DEPRECATED. Use uppercase instead ('{upper}')"));
    }
    strings(valid)
}

fn description(f: Fields, repository: Option<&Path>, out: &mut Findings) -> BTreeMap<String, Description> {
    let path = KeyPath::default().key("description");
    let entries = f.into_entries();
    if entries.is_empty() {
        out.error(&path, "description must contain more than 0 items");
    }
    let mut descriptions = BTreeMap::new();
    for (language, value) in entries {
        let at = path.key(language);
        if !checks::language_tag(language) {
            out.error(&at, "description must be a valid BCP 47 language");
            continue;
        }
        if let Some(fields) = Fields::new(at, value, out) {
            descriptions.insert(language.clone(), description_in(fields, repository, out));
        }
    }
    descriptions
}

fn description_in(mut f: Fields, repository: Option<&Path>, out: &mut Findings) -> Description {
    let localised_name = f.string("localisedName", out);
    let generic_name = f.string("genericName", out);
    if let Some(generic) = &generic_name {
        let path = f.path("genericName");
        at_most(generic, GENERIC_NAME_MAX, &path, out);
        out.warning(&path, DROP_IT);
    }
    let short_description = f.required_string("shortDescription", out);
    if let Some(short) = &short_description {
        at_most(short, SHORT_DESCRIPTION_MAX, &f.path("shortDescription"), out);
    }
    let long_description = f.required_string("longDescription", out);
    if let Some(long) = &long_description {
        let path = f.path("longDescription");
        if long.chars().count() < LONG_DESCRIPTION_MIN {
            out.error(&path, format!("longDescription must be at least {LONG_DESCRIPTION_MIN} characters in length"));
        }
        at_most(long, LONG_DESCRIPTION_MAX, &path, out);
    }
    let documentation = http_url(&mut f, "documentation", out);
    let api_documentation = http_url(&mut f, "apiDocumentation", out);
    let features = strings(f.strings("features", out));
    if features.is_empty() {
        out.error(&f.path("features"), "features must contain more than 0 items");
    }
    let screenshots = f.strings("screenshots", out);
    for (path, screenshot) in &screenshots {
        file_value(path, screenshot, repository, screenshot_check, out);
    }
    let videos = f.strings("videos", out);
    let videos = strings(videos.into_iter().filter(|(path, v)| video(path, v, out)).collect());
    let awards = strings(f.strings("awards", out));
    f.finish(out);
    Description {
        localised_name,
        generic_name,
        short_description,
        long_description,
        documentation,
        api_documentation,
        features,
        screenshots: strings(screenshots),
        videos,
        awards,
    }
}

fn screenshot_check(value: &str, file: &LocalFile) -> Result<(), String> {
    files::screenshot(file).map_err(|e| format!("'{value}' is not an image: {e}"))
}

/// A video: an HTTP URL that an oEmbed provider serves. Both checks run, as upstream runs
/// them, so `youtube` gets two errors.
fn video(path: &KeyPath, url: &str, out: &mut Findings) -> bool {
    let http = check(checks::http_url(url), path, "must be an HTTP URL", out);
    let oembed = checks::oembed_url(url);
    if !oembed {
        out.error(path, format!("'{url}' is not a valid video URL supporting oEmbed: invalid oEmbed link: {url}"));
    }
    http && oembed
}

/// Lengths count characters (Unicode scalar values), not bytes: Italian text has accents.
fn at_most(text: &str, max: usize, path: &KeyPath, out: &mut Findings) {
    if text.chars().count() > max {
        out.error(path, format!("{} must be a maximum of {max} characters in length", path.last()));
    }
}

fn legal(mut f: Fields, repository: Option<&Path>, out: &mut Findings) -> Legal {
    let path = f.path("license");
    let license = f.required_string("license", out).filter(|license| {
        check(
            checks::spdx_expression(license).is_some(),
            &path,
            "must be a valid license (see https://spdx.org/licenses)",
            out,
        )
    });
    let main_copyright_owner = f.string("mainCopyrightOwner", out);
    let repo_owner = f.string("repoOwner", out);
    if f.has("repoOwner") {
        out.warning(
            &f.path("repoOwner"),
            "This key is DEPRECATED and will be removed in the future. Use 'organisation.name' instead",
        );
    }
    if f.has("authorsFile") {
        out.warning(&f.path("authorsFile"), DROP_IT);
    }
    let authors_file = file_key(&mut f, "authorsFile", repository, authors_file_check, out);
    f.finish(out);
    Legal { license, main_copyright_owner, repo_owner, authors_file }
}

/// `legal.authorsFile`: any file that exists.
fn authors_file_check(_: &str, file: &LocalFile) -> Result<(), String> {
    file.exists().map_err(|e| format!("'{}' does not exist: {e}", file.display()))
}

fn maintenance(mut f: Fields, out: &mut Findings) -> Maintenance {
    let kind: Option<MaintenanceType> = f.choice("type", out);
    let contractors_written = f.has("contractors");
    let contractors: Vec<Contractor> = f.objects("contractors", out).into_iter().map(|c| contractor(c, out)).collect();
    let contacts: Vec<Contact> = f.objects("contacts", out).into_iter().map(|c| contact(c, out)).collect();
    // Which of contractors and contacts a maintenance type asks for, as the standard says.
    if let Some(kind) = kind {
        let contract = kind == MaintenanceType::Contract;
        if contract && contractors.is_empty() {
            out.error(&f.path("contractors"), "contractors is a required field when \"type\" is \"contract\"");
        }
        if !contract && contractors_written {
            out.error(&f.path("contractors"), "contractors must not be present unless \"type\" is \"contract\"");
        }
        if matches!(kind, MaintenanceType::Internal | MaintenanceType::Community) && contacts.is_empty() {
            out.error(&f.path("contacts"), format!("contacts is a required field when \"type\" is \"{kind}\""));
        }
    }
    f.finish(out);
    Maintenance { kind, contractors, contacts }
}

fn contractor(mut f: Fields, out: &mut Findings) -> Contractor {
    let name = f.required_string("name", out);
    if !f.has("until") {
        out.required(&f.path("until"));
    }
    let until = date(&mut f, "until", out);
    let email = email(&mut f, out);
    let website = http_url(&mut f, "website", out);
    f.finish(out);
    Contractor { name, until, email, website }
}

fn contact(mut f: Fields, out: &mut Findings) -> Contact {
    let name = f.required_string("name", out);
    let email = email(&mut f, out);
    let phone = f.string("phone", out);
    let affiliation = f.string("affiliation", out);
    f.finish(out);
    Contact { name, email, phone, affiliation }
}

fn email(f: &mut Fields, out: &mut Findings) -> Option<String> {
    let path = f.path("email");
    f.string("email", out).filter(|email| check(checks::email(email), &path, "must be a valid email address", out))
}

fn localisation(mut f: Fields, out: &mut Findings) -> Localisation {
    let localisation_ready = f.bool("localisationReady", out);
    if localisation_ready.is_none() {
        out.required(&f.path("localisationReady"));
    }
    let path = f.path("availableLanguages");
    let written = f.has("availableLanguages");
    let languages = f.strings("availableLanguages", out);
    match (written, languages.is_empty()) {
        (false, _) => out.required(&path),
        (true, true) => out.error(&path, "availableLanguages must contain more than 0 items"),
        (true, false) => {}
    }
    let message = "must be a valid BCP 47 language";
    let available_languages =
        languages.into_iter().filter(|(path, l)| check(checks::language_tag(l), path, message, out));
    let available_languages = strings(available_languages.collect());
    f.finish(out);
    Localisation { localisation_ready, available_languages }
}

fn depends_on(mut f: Fields, out: &mut Findings) -> DependsOn {
    let mut list = |key| f.objects(key, out).into_iter().map(|d| dependency(d, out)).collect::<Vec<_>>();
    let (open, proprietary, hardware) = (list("open"), list("proprietary"), list("hardware"));
    f.finish(out);
    DependsOn { open, proprietary, hardware }
}

fn dependency(mut f: Fields, out: &mut Findings) -> Dependency {
    let dependency = Dependency {
        name: f.required_string("name", out),
        version_min: f.string("versionMin", out),
        version_max: f.string("versionMax", out),
        version: f.string("version", out),
        optional: f.bool("optional", out),
    };
    f.finish(out);
    dependency
}

/// `supports[].id` (0.7): `alias:<name>` from the standard's list, or a URI.
fn support(mut f: Fields, out: &mut Findings) -> Option<String> {
    let path = f.path("id");
    let id = f.required_string("id", out);
    f.finish(out);
    let id = id?;
    let known = match id.strip_prefix("alias:") {
        Some(alias) => SUPPORT_ALIASES.contains(&alias),
        None => checks::uri(&id),
    };
    let message = format!("contains an unknown alias or is not a valid URI (see {ALIASES_LIST})");
    check(known, &path, &message, out).then_some(id)
}

/// The Italian extension: `IT`, or the deprecated lower-case `it`.
fn italian(f: &mut Fields, ipa_codes: &IpaCodes, out: &mut Findings) -> Option<ItalianExtension> {
    let upper = f.object("IT", out);
    let lower = f.object("it", out);
    if lower.is_some() {
        let path = f.path("it");
        if upper.is_some() {
            out.error(&path, "'IT' key already present. Remove this key");
        } else {
            out.warning(
                &path,
                "Lowercase country codes are DEPRECATED and will be removed in the future. Use 'IT' instead",
            );
        }
    }
    Some(italian_section(upper.or(lower)?, ipa_codes, out))
}

/// Where the deprecation warnings of the Italian extension are reported: always under `IT`,
/// even for a lower-case `it:` section, as the reference parser writes their keys.
fn deprecated_in_it(key: &str) -> KeyPath {
    KeyPath::default().key("IT").key(key)
}

fn italian_section(mut f: Fields, ipa_codes: &IpaCodes, out: &mut Findings) -> ItalianExtension {
    let path = f.path("countryExtensionVersion");
    let country_extension_version = f.string("countryExtensionVersion", out).filter(|v| {
        let allowed: Vec<String> = COUNTRY_EXTENSION_VERSIONS.iter().map(|v| format!("\"{v}\"")).collect();
        let message = format!("must be one of the following: {}", super::reader::or_list(&allowed));
        check(COUNTRY_EXTENSION_VERSIONS.contains(&v.as_str()), &path, &message, out)
    });
    let conforme = f.object("conforme", out).map(|mut c| {
        out.warning(&deprecated_in_it("conforme"), DROP_IT);
        let conforme = Conforme {
            linee_guida_design: c.bool("lineeGuidaDesign", out),
            modello_interoperabilita: c.bool("modelloInteroperabilita", out),
            misure_minime_sicurezza: c.bool("misureMinimeSicurezza", out),
            gdpr: c.bool("gdpr", out),
        };
        c.finish(out);
        conforme
    });
    let codice_ipa = f.object("riuso", out).and_then(|mut riuso| {
        let path = riuso.path("codiceIPA");
        // An empty code is no code (upstream's `omitempty`): neither checked nor warned about.
        let code = riuso.string("codiceIPA", out).filter(|code| !code.is_empty());
        riuso.finish(out);
        let code = code?;
        if ipa_codes.contains(&code) {
            let message = format!(
                "This key is DEPRECATED and will be removed in the future. Use 'organisation.uri' and set it to '{ITALIAN_PA_URN}{code}' instead"
            );
            out.warning(&deprecated_in_it("riuso.codiceIPA"), message);
            Some(code)
        } else {
            let message = format!("must be a valid Italian Public Administration Code (iPA) (see {IPA_VOCABULARY})");
            check(false, &path, &message, out);
            None
        }
    });
    let piattaforme = f.object("piattaforme", out).map(|mut p| {
        let piattaforme = Piattaforme {
            spid: p.bool("spid", out),
            cie: p.bool("cie", out),
            anpr: p.bool("anpr", out),
            pagopa: p.bool("pagopa", out),
            io: p.bool("io", out),
        };
        p.finish(out);
        piattaforme
    });
    f.finish(out);
    ItalianExtension { country_extension_version, conforme, piattaforme: piattaforme.unwrap_or_default(), codice_ipa }
}
