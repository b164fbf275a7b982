//! Controlled vocabularies DCAT-AP_IT names (domain research §1.3). The EU authority tables
//! (data theme, frequency, file type, language, licence) and the HVD categories are code-list
//! files in `ckanext-mediana/ckanext/mediana/vocabularies/` (`eu-*.txt`, each naming its
//! source and version; `operator/data/SOURCES.md`), embedded with `include_str!` so the binary
//! needs no files at run time, and read by mediana's CKAN extension too: portal and harvester
//! accept the same codes. The AgID licence vocabulary is a code list here, checked by a test
//! against the extension's `licences.ttl`.
//!
//! The tables only the quality score needs (the EU access-right table, the AgID → EU
//! licence mapping) have no copy there; their sources are named on each.

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Base URI of the EU data-theme table.
pub const THEME_BASE: &str = "http://publications.europa.eu/resource/authority/data-theme/";
/// Base URI of the EU frequency table.
pub const FREQUENCY_BASE: &str = "http://publications.europa.eu/resource/authority/frequency/";
/// Base URI of the EU file-type table.
pub const FILE_TYPE_BASE: &str = "http://publications.europa.eu/resource/authority/file-type/";
/// Base URI of the AgID licence vocabulary.
pub const LICENCE_BASE: &str = "https://w3id.org/italia/controlled-vocabulary/licences/";
/// Base URI of the EU language table.
pub const LANGUAGE_BASE: &str = "http://publications.europa.eu/resource/authority/language/";
/// Base URI of the EU licence table, the one data.europa.eu's MQA checks licences against.
pub const EU_LICENCE_BASE: &str = "http://publications.europa.eu/resource/authority/licence/";
/// Base URI of the EU access-right table.
pub const ACCESS_RIGHT_BASE: &str = "http://publications.europa.eu/resource/authority/access-right/";
/// Base URI of the HVD category table.
pub const HVD_CATEGORY_BASE: &str = "http://data.europa.eu/bna/";
/// ELI of Commission Implementing Regulation (EU) 2023/138, the high-value datasets
/// regulation, which DCAT-AP 3's HVD profile has HVD datasets name in
/// `dcatap:applicableLegislation`.
pub const HVD_REGULATION: &str = "http://data.europa.eu/eli/reg_impl/2023/138/oj";
/// Base of IANA media type URIs, as DCAT-AP writes `dcat:mediaType`.
pub const MEDIA_TYPE_BASE: &str = "http://www.iana.org/assignments/media-types/";

/// One controlled vocabulary: the codes of a table of `operator/data/SOURCES.md`, read once
/// from its code-list file (one code a line, `#` lines name the source and version), so the
/// file ckanext-mediana reads is the one the harvester checks against.
pub struct Table {
    base: &'static str,
    text: &'static str,
    codes: OnceLock<BTreeSet<&'static str>>,
}

impl Table {
    const fn new(base: &'static str, text: &'static str) -> Self {
        Self { base, text, codes: OnceLock::new() }
    }

    /// The base URI its codes follow (`…/frequency/`).
    pub fn base(&self) -> &'static str {
        self.base
    }

    /// Every code of the table.
    pub fn codes(&self) -> &BTreeSet<&'static str> {
        self.codes
            .get_or_init(|| self.text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect())
    }

    /// The table's own copy of `code`, if it holds it.
    pub fn get(&self, code: &str) -> Option<&'static str> {
        self.codes().get(code).copied()
    }

    /// Whether the table holds `code`.
    pub fn contains(&self, code: &str) -> bool {
        self.codes().contains(code)
    }

    /// Whether `value` is the URI of one of the table's codes.
    pub fn has_uri(&self, value: &str) -> bool {
        value.strip_prefix(self.base).is_some_and(|c| self.contains(c))
    }
}

/// The EU data themes (13 and the table's placeholder `OP_DATPRO`).
pub static THEMES: Table =
    Table::new(THEME_BASE, include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/eu-data-theme.txt"));

/// The EU update frequencies, the sub-hourly ones (`1MIN` …) included.
pub static FREQUENCIES: Table =
    Table::new(FREQUENCY_BASE, include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/eu-frequency.txt"));

/// The EU file types.
pub static FILE_TYPES: Table =
    Table::new(FILE_TYPE_BASE, include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/eu-file-type.txt"));

/// The EU languages: the 2021 table (sign languages, language families, `MUL`, `UND`, `ZXX`,
/// `OP_DATPRO` included) and the later codes the file's header names.
pub static LANGUAGES: Table =
    Table::new(LANGUAGE_BASE, include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/eu-language.txt"));

/// ISO 639-1 codes of the EU's official languages, which CKAN names its locales by, and
/// their codes in the EU language table, as ckanext-mediana maps them (`LANGUAGES` in
/// vocabularies.py, checked by a test): CKAN sources write `it` where DCAT-AP_IT asks for
/// `…/language/ITA`.
pub const OFFICIAL_LANGUAGES: &[(&str, &str)] = &[
    ("bg", "BUL"),
    ("cs", "CES"),
    ("da", "DAN"),
    ("de", "DEU"),
    ("el", "ELL"),
    ("en", "ENG"),
    ("es", "SPA"),
    ("et", "EST"),
    ("fi", "FIN"),
    ("fr", "FRA"),
    ("ga", "GLE"),
    ("hr", "HRV"),
    ("hu", "HUN"),
    ("it", "ITA"),
    ("lt", "LIT"),
    ("lv", "LAV"),
    ("mt", "MLT"),
    ("nl", "NLD"),
    ("pl", "POL"),
    ("pt", "POR"),
    ("ro", "RON"),
    ("sk", "SLK"),
    ("sl", "SLV"),
    ("sv", "SWE"),
];

/// The EU language code a source means: a URI or code of the table (`…/language/ITA`, `ita`),
/// or a CKAN locale of an official language (`it`, `it_IT`), read as ckanext-mediana's
/// `language()` reads it, so the harvester writes only what the portal accepts.
pub fn language_code(value: &str) -> Option<&'static str> {
    let value = code(value.trim(), LANGUAGE_BASE);
    LANGUAGES.get(&value.to_ascii_uppercase()).or_else(|| {
        let locale = value.split('_').next().unwrap_or_default().to_ascii_lowercase();
        OFFICIAL_LANGUAGES.iter().find(|(iso, _)| *iso == locale).map(|(_, eu)| *eu)
    })
}

/// The EU licence table, the one data.europa.eu's MQA checks licences against.
pub static EU_LICENCES: Table =
    Table::new(EU_LICENCE_BASE, include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/eu-licence.txt"));

/// The high-value dataset categories of Regulation 2023/138 (6 categories and their
/// sub-categories).
pub static HVD_CATEGORIES: Table = Table::new(
    HVD_CATEGORY_BASE,
    include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/eu-hvd-category.txt"),
);

/// Whether a legislation URI is the HVD regulation's ELI (`https` and a trailing `/`, as
/// sources write it too, included).
pub fn is_hvd_regulation(uri: &str) -> bool {
    let uri = uri.trim().trim_end_matches('/');
    uri.strip_prefix("https://")
        .map_or(uri == HVD_REGULATION, |rest| HVD_REGULATION.strip_prefix("http://") == Some(rest))
}

/// AgID licences (A = open, B = not open, C = unknown).
pub const LICENCES: &[&str] = &[
    "A11_CCO10",
    "A12_PDDL",
    "A1_PublicDomain",
    "A210_ODCBY",
    "A21_CCBY40",
    "A22_CCBY30",
    "A23_CCBY30IT",
    "A24_CCBY25",
    "A25_CCBY25IT",
    "A26_CCBY20",
    "A27_CCBY20IT",
    "A28_CCBY10",
    "A29_IODL20",
    "A2_Attribution",
    "A310_ODBL",
    "A311_GFDL13",
    "A31_CCBYSA40",
    "A32_CCBYSA30",
    "A33_CCBYSA30IT",
    "A34_CCBYSA25",
    "A35_CCBYSA25IT",
    "A36_CCBYSA20",
    "A37_CCBYSA20IT",
    "A38_CCBYSA10",
    "A39_IODL10",
    "A3_ShareAlike",
    "A41_ADRM",
    "A4_ShareAlikeCopyleftNonComp",
    "A_OpenLicense",
    "B110_CCBYNCSA30",
    "B111_CCBYNCSA30IT",
    "B112_CCBYNCSA25",
    "B113_CCBYNCSA25IT",
    "B114_CCBYNCSA20",
    "B115_CCBYNCSA20IT",
    "B116_CCBYNCSA10",
    "B11_CCBYNC40",
    "B12_CCBYNC30",
    "B13_CCBYNC30IT",
    "B14_CCBYNC25",
    "B15_CCBYNC25IT",
    "B16_CCBYNC20",
    "B17_CCBYNC20IT",
    "B18_CCBYNC10",
    "B19_CCBYNCSA40",
    "B1_NonCommercial",
    "B21_CCBYND40",
    "B22_CCBYND30",
    "B23_CCBYND30IT",
    "B24_CCBYND25",
    "B25_CCBYND25IT",
    "B26_CCBYND20",
    "B27_CCBYND20IT",
    "B28_CCBYND10",
    "B29_CCBYNDNC10",
    "B2_NoDerivs",
    "B_NonOpenLicense",
    "C11_Unknown",
    "C1_Unknown",
    "C_Unknown",
];

/// AgID licences and the EU licence concept each one is scored as (mediana's own table:
/// AgID publishes no `skos:exactMatch` from a licence to the EU table). Derived by matching
/// each AgID licence's `dcatapit:referenceDoc` with the EU concept's `skos:exactMatch`,
/// both read as `http` and with a trailing `/` (a test repeats the match), except the
/// three rows marked "by name": AgID points to another page of the same licence (ODbL's
/// summary, ODC-By's category page, GNU's `fdl.html`), and name and version identify it
/// (ODbL and ODC-By exist only as 1.0; `A311_GFDL13` is GFDL 1.3). Licences without a row (the Italian ports `…IT`, `A41_ADRM`, the
/// categories such as `A2_Attribution`) have no EU concept.
pub const AGID_EU_LICENCES: &[(&str, &str)] = &[
    ("A11_CCO10", "CC0"),
    ("A12_PDDL", "ODC_PDDL"),
    ("A21_CCBY40", "CC_BY_4_0"),
    ("A22_CCBY30", "CC_BY_3_0"),
    ("A24_CCBY25", "CC_BY_2_5"),
    ("A26_CCBY20", "CC_BY_2_0"),
    ("A28_CCBY10", "CC_BY_1_0"),
    ("A29_IODL20", "IODL_2_0"),
    ("A210_ODCBY", "ODC_BY"), // by name
    ("A31_CCBYSA40", "CC_BYSA_4_0"),
    ("A32_CCBYSA30", "CC_BYSA_3_0"),
    ("A34_CCBYSA25", "CC_BYSA_2_5"),
    ("A36_CCBYSA20", "CC_BYSA_2_0"),
    ("A38_CCBYSA10", "CC_BYSA_1_0"),
    ("A39_IODL10", "IODL_1_0"),
    ("A310_ODBL", "ODC_BL"),        // by name
    ("A311_GFDL13", "GNU_FDL_1_3"), // by name
    ("B11_CCBYNC40", "CC_BYNC_4_0"),
    ("B12_CCBYNC30", "CC_BYNC_3_0"),
    ("B14_CCBYNC25", "CC_BYNC_2_5"),
    ("B16_CCBYNC20", "CC_BYNC_2_0"),
    ("B18_CCBYNC10", "CC_BYNC_1_0"),
    ("B19_CCBYNCSA40", "CC_BYNCSA_4_0"),
    ("B110_CCBYNCSA30", "CC_BYNCSA_3_0"),
    ("B112_CCBYNCSA25", "CC_BYNCSA_2_5"),
    ("B114_CCBYNCSA20", "CC_BYNCSA_2_0"),
    ("B116_CCBYNCSA10", "CC_BYNCSA_1_0"),
    ("B21_CCBYND40", "CC_BYND_4_0"),
    ("B22_CCBYND30", "CC_BYND_3_0"),
    ("B24_CCBYND25", "CC_BYND_2_5"),
    ("B26_CCBYND20", "CC_BYND_2_0"),
    ("B28_CCBYND10", "CC_BYND_1_0"),
    ("B29_CCBYNDNC10", "CC_BYNCND_1_0"),
];

/// The EU access-right table's concepts (as mjanez/ckan-mqa@b165811
/// `ckan2mqa/assets/vocabs/access-right.csv` loads it for the MQA).
pub const ACCESS_RIGHTS: &[&str] =
    &["CONFIDENTIAL", "NON_PUBLIC", "NORMAL", "OP_DATPRO", "PUBLIC", "RESTRICTED", "SENSITIVE"];

/// IANA's top-level media types (RFC 6838 §4.2 and the registry's later additions, `font`
/// by RFC 8081 and `haptics` by RFC 9695). mediana does not embed the registry's subtypes.
pub const MEDIA_TOP_LEVEL_TYPES: &[&str] =
    &["application", "audio", "example", "font", "haptics", "image", "message", "model", "multipart", "text", "video"];

/// File types the EU counts as machine-readable (MQA; data.europa.eu's list, as shipped
/// by mjanez/ckan-mqa `assets/vocabs`), restricted to codes of the table above.
pub const MACHINE_READABLE: &[&str] = &[
    "CSV",
    "DBF",
    "GEOJSON",
    "GML",
    "GPKG",
    "ICS",
    "JSON",
    "JSON_LD",
    "KML",
    "KMZ",
    "MDB",
    "N3",
    "NETCDF",
    "ODS",
    "RDF",
    "RDF_N_QUADS",
    "RDF_N_TRIPLES",
    "RDF_TURTLE",
    "RDF_XML",
    "SHP",
    "SPARQLQ",
    "TSV",
    "TXT",
    "XLS",
    "XLSX",
    "XML",
];

/// File types the EU counts as non-proprietary (MQA), restricted likewise.
pub const NON_PROPRIETARY: &[&str] = &[
    "CSV",
    "GEOJSON",
    "GML",
    "GPKG",
    "HTML",
    "ICS",
    "JSON",
    "JSON_LD",
    "KML",
    "N3",
    "NETCDF",
    "ODS",
    "ODT",
    "PNG",
    "RDF",
    "RDF_N_QUADS",
    "RDF_N_TRIPLES",
    "RDF_TURTLE",
    "RDF_XML",
    "TSV",
    "TXT",
    "XML",
    "ZIP",
];

/// The code of a URI in a table (`…/file-type/CSV` → `CSV`), or a bare code as CKAN
/// sources give it, upper-cased.
pub fn code<'a>(value: &'a str, base: &str) -> &'a str {
    value.strip_prefix(base).unwrap_or(value).trim_end_matches('/')
}

/// Whether `value` is a URI of the table at `base` with a known code.
pub fn in_table(value: &str, base: &str, codes: &[&str]) -> bool {
    value.strip_prefix(base).is_some_and(|c| codes.contains(&c))
}

/// A file type's code from a URI or a bare name (`csv`, `text/csv` is not a file type).
pub fn file_type_code(value: &str) -> Option<String> {
    let upper = code(value.trim(), FILE_TYPE_BASE).to_ascii_uppercase();
    let normalized = match upper.as_str() {
        "JSONLD" | "JSON-LD" => "JSON_LD".to_owned(),
        "TTL" | "TURTLE" => "RDF_TURTLE".to_owned(),
        "GEO+JSON" => "GEOJSON".to_owned(),
        other => other.replace([' ', '-'], "_"),
    };
    FILE_TYPES.contains(&normalized).then_some(normalized)
}

/// CKAN's own licence register (ckan/model/license.py) to AgID's licence codes, as
/// ckanext-mediana maps them (`CKAN_LICENCES` in vocabularies.py, checked by a test).
pub const CKAN_LICENCES: &[(&str, &str)] = &[
    ("cc-by", "A21_CCBY40"),
    ("cc-by-sa", "A31_CCBYSA40"),
    ("cc-zero", "A11_CCO10"),
    ("cc-nc", "B11_CCBYNC40"),
    ("odc-by", "A210_ODCBY"),
    ("odc-odbl", "A310_ODBL"),
    ("odc-pddl", "A12_PDDL"),
    ("gfdl", "A311_GFDL13"),
];

/// The AgID licence URI of a CKAN licence id (`cc-by` → `…/licences/A21_CCBY40`).
pub fn licence_of_ckan_id(id: &str) -> Option<String> {
    let id = id.trim().to_ascii_lowercase();
    CKAN_LICENCES.iter().find(|(ckan, _)| *ckan == id).map(|(_, code)| format!("{LICENCE_BASE}{code}"))
}

/// Whether a licence is in the AgID vocabulary or is a Creative Commons URI (both are
/// what the AgID guide accepts), or a concept of the EU licence table (what DCAT-AP
/// sources name, and what the MQA scores: [`eu_licence`]).
pub fn known_licence(value: &str) -> bool {
    in_table(value, LICENCE_BASE, LICENCES)
        || EU_LICENCES.has_uri(value)
        || value.starts_with("https://creativecommons.org/")
        || value.starts_with("http://creativecommons.org/")
}

/// The EU licence concept a licence URI stands for: its own code when it is one of the EU
/// table, the mapped one when it is an AgID licence of [`AGID_EU_LICENCES`], else none.
pub fn eu_licence(value: &str) -> Option<&'static str> {
    let value = value.trim();
    if let Some(code) = value.strip_prefix(EU_LICENCE_BASE) {
        return EU_LICENCES.get(code);
    }
    let agid = value.strip_prefix(LICENCE_BASE)?;
    AGID_EU_LICENCES.iter().find(|(a, _)| *a == agid).map(|(_, eu)| *eu)
}

/// Whether a value is an IANA media type URI (`…/media-types/text/csv`) of a registered
/// top-level type with a subtype. Only the top-level type is checked against the registry.
pub fn iana_media_type(value: &str) -> bool {
    let Some((top, subtype)) = value.trim().strip_prefix(MEDIA_TYPE_BASE).and_then(|t| t.split_once('/')) else {
        return false;
    };
    MEDIA_TOP_LEVEL_TYPES.contains(&top) && !subtype.is_empty() && !subtype.contains(['/', ' '])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The EU tables as ckanext-dcatapit trims them, which the CKAN extension reads for
    /// their labels only: older versions of the tables.
    const THEME_LABELS: &str =
        include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/data-theme-filtered.rdf");
    const FREQUENCY_LABELS: &str =
        include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/frequencies-filtered.rdf");
    const FILE_TYPE_LABELS: &str =
        include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/filetypes-filtered.rdf");
    const LICENCE_TABLE: &str = include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/licences.ttl");

    /// The codes of `base` that the file describes (`rdf:about` or `<…>` in Turtle).
    fn codes_in(text: &str, base: &str) -> BTreeSet<String> {
        text.split(base)
            .skip(1)
            .filter_map(|rest| {
                let end = rest.find(['"', '>'])?;
                let code = &rest[..end];
                (!code.is_empty() && !code.contains(['/', ' '])).then(|| code.to_owned())
            })
            .collect()
    }

    fn set(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn table(table: &Table) -> BTreeSet<String> {
        table.codes().iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn shipped_tables_are_read_whole_from_their_files() {
        assert_eq!(THEMES.codes().len(), 14);
        assert_eq!(FREQUENCIES.codes().len(), 41);
        assert_eq!(FILE_TYPES.codes().len(), 203);
        assert_eq!(EU_LICENCES.codes().len(), 160);
        assert_eq!(LANGUAGES.codes().len(), 407);
        // The header names the source; it is no code.
        assert!(FREQUENCIES.codes().iter().all(|c| !c.starts_with('#') && !c.contains(' ')));
        // The codes the issue found missing from the old hand list.
        for code in ["1MIN", "5MIN", "10MIN", "15MIN", "30MIN", "12HRS", "AS_NEEDED", "NOT_PLANNED"] {
            assert!(FREQUENCIES.has_uri(&format!("{FREQUENCY_BASE}{code}")), "{code}");
        }
        assert!(!FREQUENCIES.has_uri("1MIN"), "a bare code is no URI");
        // The special codes, those that are no ISO 639 code and the deprecated ones included.
        for code in ["ITA", "MUL", "UND", "ZXX", "MIS", "OP_DATPRO", "0D0", "HBS", "CNR", "PES"] {
            assert!(LANGUAGES.has_uri(&format!("{LANGUAGE_BASE}{code}")), "{code}");
        }
    }

    #[test]
    fn languages_are_read_as_the_extension_reads_them() {
        assert_eq!(pairs(OFFICIAL_LANGUAGES), python_dict("LANGUAGES"));
        for (_, code) in OFFICIAL_LANGUAGES {
            assert!(LANGUAGES.contains(code), "{code} is in the EU table");
        }
        assert_eq!(language_code(&format!("{LANGUAGE_BASE}SLV")), Some("SLV"));
        assert_eq!(language_code(" ita "), Some("ITA"));
        assert_eq!(language_code("it_IT"), Some("ITA"));
        assert_eq!(language_code("op_datpro"), Some("OP_DATPRO"));
        assert_eq!(language_code(&format!("{LANGUAGE_BASE}XYZ")), None);
        assert_eq!(language_code("xx"), None);
        assert_eq!(language_code("http://lexvo.org/id/iso639-3/ita"), None);
    }

    #[test]
    fn the_label_files_describe_no_code_the_tables_lack() {
        // Same 13 themes; the label files of the other tables are older versions.
        assert_eq!(table(&THEMES), codes_in(THEME_LABELS, THEME_BASE));
        assert!(codes_in(FREQUENCY_LABELS, FREQUENCY_BASE).is_subset(&table(&FREQUENCIES)));
        assert!(codes_in(FILE_TYPE_LABELS, FILE_TYPE_BASE).is_subset(&table(&FILE_TYPES)));
        assert_eq!(set(LICENCES), codes_in(LICENCE_TABLE, LICENCE_BASE));
    }

    /// The `"key": "value"` pairs of a dict of vocabularies.py, as the extension maps them.
    fn python_dict(name: &str) -> BTreeSet<(String, String)> {
        let python = include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies.py");
        let table = python.split(&format!("{name} = {{")).nth(1).and_then(|t| t.split('}').next()).expect("the dict");
        let quoted: Vec<&str> = table.split('"').skip(1).step_by(2).collect();
        quoted.chunks_exact(2).map(|pair| (pair[0].to_owned(), pair[1].to_owned())).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
        list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn ckan_licences_are_mapped_as_the_extension_maps_them() {
        assert_eq!(pairs(CKAN_LICENCES), python_dict("CKAN_LICENCES"));
        for (_, code) in CKAN_LICENCES {
            assert!(LICENCES.contains(code), "{code} is an AgID licence");
        }
        assert_eq!(licence_of_ckan_id("CC-BY").as_deref(), Some(format!("{LICENCE_BASE}A21_CCBY40").as_str()));
        assert_eq!(licence_of_ckan_id("notspecified"), None);
    }

    /// `skos:exactMatch` of the EU concepts the AgID table maps to (the EU licence table, as
    /// mjanez/ckan-mqa@978e65b `ckan2mqa/assets/vocabs/licenses.csv` reproduces it), for
    /// the rows derived by matching URLs.
    const EU_EXACT_MATCH: &[(&str, &str)] = &[
        ("CC0", "http://creativecommons.org/publicdomain/zero/1.0/"),
        ("ODC_PDDL", "http://opendatacommons.org/licenses/pddl/1.0/"),
        ("CC_BY_4_0", "http://creativecommons.org/licenses/by/4.0/"),
        ("CC_BY_3_0", "http://creativecommons.org/licenses/by/3.0/"),
        ("CC_BY_2_5", "http://creativecommons.org/licenses/by/2.5/"),
        ("CC_BY_2_0", "http://creativecommons.org/licenses/by/2.0/"),
        ("CC_BY_1_0", "http://creativecommons.org/licenses/by/1.0/"),
        ("IODL_2_0", "https://www.dati.gov.it/content/italian-open-data-license-v20"),
        ("CC_BYSA_4_0", "http://creativecommons.org/licenses/by-sa/4.0/"),
        ("CC_BYSA_3_0", "http://creativecommons.org/licenses/by-sa/3.0/"),
        ("CC_BYSA_2_5", "http://creativecommons.org/licenses/by-sa/2.5/"),
        ("CC_BYSA_2_0", "http://creativecommons.org/licenses/by-sa/2.0/"),
        ("CC_BYSA_1_0", "http://creativecommons.org/licenses/by-sa/1.0/"),
        ("IODL_1_0", "http://www.formez.it/iodl/"),
        ("CC_BYNC_4_0", "http://creativecommons.org/licenses/by-nc/4.0/"),
        ("CC_BYNC_3_0", "http://creativecommons.org/licenses/by-nc/3.0/"),
        ("CC_BYNC_2_5", "http://creativecommons.org/licenses/by-nc/2.5/"),
        ("CC_BYNC_2_0", "http://creativecommons.org/licenses/by-nc/2.0/"),
        ("CC_BYNC_1_0", "http://creativecommons.org/licenses/by-nc/1.0/"),
        ("CC_BYNCSA_4_0", "http://creativecommons.org/licenses/by-nc-sa/4.0/"),
        ("CC_BYNCSA_3_0", "http://creativecommons.org/licenses/by-nc-sa/3.0/"),
        ("CC_BYNCSA_2_5", "http://creativecommons.org/licenses/by-nc-sa/2.5/"),
        ("CC_BYNCSA_2_0", "http://creativecommons.org/licenses/by-nc-sa/2.0/"),
        ("CC_BYNCSA_1_0", "http://creativecommons.org/licenses/by-nc-sa/1.0/"),
        ("CC_BYND_4_0", "http://creativecommons.org/licenses/by-nd/4.0/"),
        ("CC_BYND_3_0", "http://creativecommons.org/licenses/by-nd/3.0/"),
        ("CC_BYND_2_5", "http://creativecommons.org/licenses/by-nd/2.5/"),
        ("CC_BYND_2_0", "http://creativecommons.org/licenses/by-nd/2.0/"),
        ("CC_BYND_1_0", "http://creativecommons.org/licenses/by-nd/1.0/"),
        ("CC_BYNCND_1_0", "http://creativecommons.org/licenses/by-nd-nc/1.0/"),
    ];

    /// The rows of [`AGID_EU_LICENCES`] matched by name, not by URL.
    const BY_NAME: &[&str] = &["A210_ODCBY", "A310_ODBL", "A311_GFDL13"];

    /// A URL as the derivation compares it: `http`, with a trailing `/`.
    fn normalized(url: &str) -> String {
        let http = url.strip_prefix("https://").map_or_else(|| url.to_owned(), |rest| format!("http://{rest}"));
        if http.ends_with('/') { http } else { format!("{http}/") }
    }

    /// The `dcatapit:referenceDoc` of an AgID licence in the vocabulary file.
    fn reference_doc(code: &str) -> Option<&'static str> {
        let block = LICENCE_TABLE.split(&format!("\n<{LICENCE_BASE}{code}>")).nth(1)?;
        let block = block.split("\n<").next()?;
        block.split("dcatapit:referenceDoc \"").nth(1)?.split('"').next()
    }

    #[test]
    fn agid_licences_map_to_the_eu_concept_their_reference_page_matches() {
        for (agid, eu) in AGID_EU_LICENCES {
            assert!(LICENCES.contains(agid), "{agid} is an AgID licence");
            assert!(EU_LICENCES.contains(eu), "{eu} is an EU licence");
            if BY_NAME.contains(agid) {
                continue;
            }
            let theirs = reference_doc(agid).unwrap_or_else(|| panic!("{agid} has a referenceDoc"));
            let exact = EU_EXACT_MATCH.iter().find(|(c, _)| c == eu).map(|(_, u)| *u).expect("exactMatch listed");
            assert_eq!(normalized(theirs), normalized(exact), "{agid} → {eu}");
        }
    }

    #[test]
    fn licences_are_eu_concepts_directly_or_through_the_agid_table() {
        assert_eq!(eu_licence(&format!("{EU_LICENCE_BASE}CC_BY_4_0")), Some("CC_BY_4_0"));
        assert_eq!(eu_licence(&format!("{LICENCE_BASE}A21_CCBY40")), Some("CC_BY_4_0"));
        assert_eq!(eu_licence(&format!("{LICENCE_BASE}A23_CCBY30IT")), None);
        assert_eq!(eu_licence(&format!("{EU_LICENCE_BASE}CC_BY_9_9")), None);
        // The licence's page is not the concept (whether the MQA accepts it is not known).
        assert_eq!(eu_licence("http://creativecommons.org/licenses/by/4.0/"), None);
    }

    #[test]
    fn media_types_need_an_iana_uri_of_a_registered_top_level_type() {
        assert!(iana_media_type(&format!("{MEDIA_TYPE_BASE}text/csv")));
        assert!(!iana_media_type(&format!("{MEDIA_TYPE_BASE}foo/bar")));
        assert!(!iana_media_type(&format!("{MEDIA_TYPE_BASE}text/")));
        assert!(!iana_media_type("text/csv"));
    }

    #[test]
    fn quality_lists_are_file_types() {
        for code in MACHINE_READABLE.iter().chain(NON_PROPRIETARY) {
            assert!(FILE_TYPES.contains(code), "{code}");
        }
    }

    #[test]
    fn file_types_are_recognized_in_uri_and_bare_form() {
        assert_eq!(
            file_type_code("http://publications.europa.eu/resource/authority/file-type/CSV").as_deref(),
            Some("CSV")
        );
        assert_eq!(file_type_code("csv").as_deref(), Some("CSV"));
        assert_eq!(file_type_code("JSON-LD").as_deref(), Some("JSON_LD"));
        assert_eq!(file_type_code("text/weird"), None);
        assert!(known_licence("https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"));
        assert!(!known_licence("https://w3id.org/italia/controlled-vocabulary/licences/Z9"));
    }
}
