//! Controlled vocabularies DCAT-AP_IT names (domain research §1.3), embedded as code lists
//! so the binary needs no files at run time. A test checks each list against the copies in
//! `ckanext-mediana/ckanext/mediana/vocabularies/` (sources in `operator/data/SOURCES.md`),
//! the files mediana's CKAN extension reads, so portal and harvester agree: the EU
//! data-theme, frequency and file-type tables as ckanext-dcatapit loads them, and the AgID
//! licence vocabulary.

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

/// Data themes (13 plus ckanext-dcatapit's placeholder `OP_DATPRO`).
pub const THEMES: &[&str] = &[
    "AGRI",
    "ECON",
    "EDUC",
    "ENER",
    "ENVI",
    "GOVE",
    "HEAL",
    "INTR",
    "JUST",
    "OP_DATPRO",
    "REGI",
    "SOCI",
    "TECH",
    "TRAN",
];

/// Update frequencies.
pub const FREQUENCIES: &[&str] = &[
    "ANNUAL",
    "ANNUAL_2",
    "ANNUAL_3",
    "BIDECENNIAL",
    "BIENNIAL",
    "BIHOURLY",
    "BIMONTHLY",
    "BIWEEKLY",
    "CONT",
    "DAILY",
    "DAILY_2",
    "DECENNIAL",
    "HOURLY",
    "IRREG",
    "MONTHLY",
    "MONTHLY_2",
    "MONTHLY_3",
    "NEVER",
    "OP_DATPRO",
    "OTHER",
    "QUADRENNIAL",
    "QUARTERLY",
    "QUINQUENNIAL",
    "TRIDECENNIAL",
    "TRIENNIAL",
    "TRIHOURLY",
    "UNKNOWN",
    "UPDATE_CONT",
    "WEEKLY",
    "WEEKLY_2",
    "WEEKLY_3",
];

/// File types.
pub const FILE_TYPES: &[&str] = &[
    "7Z",
    "AAC",
    "AKN4EU",
    "AKN4EU_ZIP",
    "APK",
    "APPX",
    "ARC",
    "ARC_GZ",
    "ARJ",
    "ATOM",
    "AZW",
    "BIN",
    "BITS",
    "BMP",
    "BWF",
    "BZIP2",
    "CSS",
    "CSV",
    "DBF",
    "DCR",
    "DEB",
    "DGN",
    "DMG",
    "DMP",
    "DOC",
    "DOCX",
    "DTD_SGML",
    "DTD_XML",
    "DWG",
    "DXF",
    "E00",
    "EAR",
    "ECW",
    "EPS",
    "EPUB",
    "ETSI_XML",
    "EXE",
    "FMX2",
    "FMX3",
    "FMX4",
    "FMX4_ZIP",
    "GDB",
    "GEOJSON",
    "GIF",
    "GML",
    "GMZ",
    "GPKG",
    "GRID",
    "GRID_ASCII",
    "GZIP",
    "HDF",
    "HDT",
    "HTML",
    "HTML5",
    "HTML_SIMPL",
    "ICS",
    "IMMC_XML",
    "INDD",
    "IPA",
    "ISO",
    "ISO_ZIP",
    "JAR",
    "JATS",
    "JPEG",
    "JPEG2000",
    "JS",
    "JSON",
    "JSON_LD",
    "KML",
    "KMZ",
    "LAS",
    "LAZ",
    "LEG",
    "LHA",
    "LZIP",
    "LZMA",
    "LZO",
    "MAP_PRVW",
    "MAP_SRVC",
    "MBOX",
    "MDB",
    "METS",
    "METS_ZIP",
    "MHTML",
    "MOBI",
    "MOP",
    "MPEG2",
    "MPEG4",
    "MPEG4_AVC",
    "MRSID",
    "MSG_HTTP",
    "MSI",
    "MXD",
    "N3",
    "NETCDF",
    "OCTET",
    "ODB",
    "ODC",
    "ODF",
    "ODG",
    "ODP",
    "ODS",
    "ODT",
    "OP_DATPRO",
    "OVF",
    "OWL",
    "PDF",
    "PDF1X",
    "PDFA1A",
    "PDFA1B",
    "PDFA2A",
    "PDFA2B",
    "PDFA3",
    "PDFUA",
    "PDFX",
    "PDFX1A",
    "PDFX2A",
    "PDFX4",
    "PL",
    "PNG",
    "PPS",
    "PPSX",
    "PPT",
    "PPTX",
    "PS",
    "PSD",
    "PWP",
    "QGS",
    "RAR",
    "RDF",
    "RDFA",
    "RDF_N_QUADS",
    "RDF_N_TRIPLES",
    "RDF_TRIG",
    "RDF_TRIX",
    "RDF_TURTLE",
    "RDF_XML",
    "REST",
    "RPM",
    "RSS",
    "RTF",
    "SB3",
    "SCHEMA_XML",
    "SDMX",
    "SGML",
    "SHP",
    "SKOS_XML",
    "SPARQLQ",
    "SPARQLQRES",
    "SQL",
    "SVG",
    "SWM",
    "TAB",
    "TAB_RSTR",
    "TAR",
    "TAR_GZ",
    "TAR_XZ",
    "TIFF",
    "TIFF_FX",
    "TMX",
    "TSV",
    "TXT",
    "WAR",
    "WARC",
    "WARC_GZ",
    "WCS_SRVC",
    "WFS_SRVC",
    "WIM",
    "WMS_SRVC",
    "WORLD",
    "XHTML",
    "XHTML_SIMPL",
    "XLIFF",
    "XLS",
    "XLSB",
    "XLSM",
    "XLSX",
    "XML",
    "XSLFO",
    "XSLT",
    "XYZ",
    "XZ",
    "Z",
    "ZIP",
];

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
    FILE_TYPES.contains(&normalized.as_str()).then_some(normalized)
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
/// what the AgID guide accepts).
pub fn known_licence(value: &str) -> bool {
    in_table(value, LICENCE_BASE, LICENCES)
        || value.starts_with("https://creativecommons.org/")
        || value.starts_with("http://creativecommons.org/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The vocabularies the lists come from, embedded in the test binary.
    const THEME_TABLE: &str =
        include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/data-theme-filtered.rdf");
    const FREQUENCY_TABLE: &str =
        include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies/frequencies-filtered.rdf");
    const FILE_TYPE_TABLE: &str =
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

    #[test]
    fn embedded_lists_match_the_fixture_vocabularies() {
        assert_eq!(set(THEMES), codes_in(THEME_TABLE, THEME_BASE));
        assert_eq!(set(FREQUENCIES), codes_in(FREQUENCY_TABLE, FREQUENCY_BASE));
        assert_eq!(set(FILE_TYPES), codes_in(FILE_TYPE_TABLE, FILE_TYPE_BASE));
        assert_eq!(set(LICENCES), codes_in(LICENCE_TABLE, LICENCE_BASE));
    }

    #[test]
    fn ckan_licences_are_mapped_as_the_extension_maps_them() {
        let python = include_str!("../../../ckanext-mediana/ckanext/mediana/vocabularies.py");
        let table = python.split("CKAN_LICENCES = {").nth(1).and_then(|t| t.split('}').next()).expect("the table");
        let theirs: BTreeSet<(String, String)> = table
            .lines()
            .filter_map(|line| {
                let mut quoted = line.split('"').skip(1).step_by(2);
                Some((quoted.next()?.to_owned(), quoted.next()?.to_owned()))
            })
            .collect();
        let ours: BTreeSet<(String, String)> =
            CKAN_LICENCES.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
        assert_eq!(ours, theirs);
        for (_, code) in CKAN_LICENCES {
            assert!(LICENCES.contains(code), "{code} is an AgID licence");
        }
        assert_eq!(licence_of_ckan_id("CC-BY").as_deref(), Some(format!("{LICENCE_BASE}A21_CCBY40").as_str()));
        assert_eq!(licence_of_ckan_id("notspecified"), None);
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
