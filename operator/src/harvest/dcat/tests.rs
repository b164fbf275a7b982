use super::*;

/// A test input of `tests/fixtures/` (sources in its `SOURCES.md`), by its path there.
pub(crate) fn fixture(path: &str) -> Vec<u8> {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

pub(crate) fn parse(bytes: &[u8], format: RdfFormat) -> Result<(Vec<Dataset>, PageStats), DcatError> {
    let mut datasets = Vec::new();
    let stats = parse_reader(bytes, format, "http://example.org/catalog", &mut |d| {
        datasets.push(d);
        Ok(())
    })?;
    Ok((datasets, stats))
}

fn example(file: &str) -> Vec<Dataset> {
    let (datasets, stats) = parse(&fixture(&format!("dcat-ap-it/examples/{file}")), RdfFormat::RdfXml).expect("parses");
    assert_eq!(stats.late_triples, 0, "{file}");
    datasets
}

#[test]
fn every_example_fixture_is_assembled() {
    let agid = example("dataset_it_esempio_6.rdf");
    assert_eq!(
        agid.iter().map(|d| d.identifier.as_deref().unwrap_or_default()).collect::<Vec<_>>(),
        ["r_liguri:D.658", "r_liguri:D.659"]
    );
    assert_eq!(agid[0].rights_holder.as_ref().and_then(|a| a.identifier.as_deref()), Some("r_liguri"));
    assert_eq!(agid[0].distributions.len(), 1);

    let ckanext = example("dataset.rdf");
    assert_eq!(ckanext.len(), 1);
    let d = &ckanext[0];
    assert_eq!(d.distributions.len(), 3);
    assert_eq!(d.distributions.iter().filter(|x| x.byte_size == Some(12323)).count(), 1);
    assert!(d.title.iter().any(|t| t.lang == "de"), "multilingual titles: {:?}", d.title);
    assert!(!d.conforms_to.is_empty() && !d.temporal.is_empty() && !d.creators.is_empty(), "{d:#?}");

    let prato = example("dataset_identifier.rdf");
    assert_eq!(prato.len(), 1);
    let p = &prato[0];
    assert_eq!(p.identifier.as_deref(), Some("bilancio-2011-previsione"));
    assert_eq!(p.creators, [crate::harvest::model::Agent { name: None, identifier: Some(String::new()) }]);
    assert_eq!(p.alternate_identifiers, ["N/A", "alt id STR ID", "ISBN:alt id 123"]);
    assert_eq!(p.frequency.as_deref(), Some("http://publications.europa.eu/resource/authority/frequency/NEVER"));
    assert_eq!(
        p.contact_point.as_ref().and_then(|c| c.uri.as_deref()),
        Some("http://odn.comune.prato.it/organization/5939f57e-b4e6-4fd9-b439-da5b10360d28")
    );
    // The three distributions are only referenced, not described, in this file.
    assert!(p.distributions.is_empty());

    let unibo = example("catalog_dati_unibo.rdf");
    assert_eq!(unibo.len(), 12);
    assert_eq!(unibo.iter().map(|d| d.distributions.len()).sum::<usize>(), 50);
    assert!(unibo.iter().all(|d| d.distributions.iter().all(|x| x.access_url.is_some() && x.license.is_some())));
}

/// Serializes a fixture's triples to another format with oxrdfio.
fn convert(file: &str, to: RdfFormat) -> Vec<u8> {
    let bytes = fixture(&format!("dcat-ap-it/examples/{file}"));
    let mut writer = oxrdfio::RdfSerializer::from_format(to).for_writer(Vec::new());
    for quad in RdfParser::from_format(RdfFormat::RdfXml).lenient().for_slice(&bytes) {
        writer.serialize_quad(&quad.expect("quad")).expect("serialize");
    }
    writer.finish().expect("finish")
}

#[test]
fn turtle_ntriples_and_jsonld_give_the_same_datasets() {
    let expected = example("catalog_dati_unibo.rdf");
    let jsonld = RdfFormat::JsonLd { profile: oxrdfio::JsonLdProfileSet::empty() };
    for format in [RdfFormat::Turtle, RdfFormat::NTriples, jsonld] {
        let (mut datasets, _) = parse(&convert("catalog_dati_unibo.rdf", format), format).expect("parses");
        let mut want = expected.clone();
        let key = |d: &Dataset| d.uri.clone();
        datasets.sort_by_key(key);
        want.sort_by_key(key);
        for d in datasets.iter_mut().chain(want.iter_mut()) {
            d.distributions.sort_by_key(|x| x.uri.clone());
            d.keywords.sort();
            d.title.sort_by_key(|t| t.lang.clone());
        }
        assert_eq!(datasets, want, "{format}");
    }
}

#[test]
fn hydra_next_page_is_reported() {
    let page = br#"@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<http://x/catalog.ttl?page=1> a hydra:PagedCollection ; hydra:nextPage "http://x/catalog.ttl?page=2" ; hydra:totalItems 3 .
<http://x/d1> a dcat:Dataset ; dct:identifier "a:1" .
"#;
    let (datasets, stats) = parse(page, RdfFormat::Turtle).expect("parses");
    assert_eq!(datasets.len(), 1);
    assert_eq!(stats.next_page.as_deref(), Some("http://x/catalog.ttl?page=2"));
}

#[test]
fn next_pages_are_read_on_the_origin_the_job_names() {
    let source = "http://dati-regione-marche-ckan.opendata-marche.svc:80/catalog.ttl";
    // CKAN's link, on its public site URL: moved to the Service, path and query kept.
    assert_eq!(
        on_source_origin(source, "https://dati.regione.marche.it/catalog.ttl?page=2"),
        "http://dati-regione-marche-ckan.opendata-marche.svc/catalog.ttl?page=2"
    );
    assert_eq!(
        on_source_origin("http://127.0.0.1:8080/catalog.ttl", "http://x/catalog.ttl?page=3&q=a"),
        "http://127.0.0.1:8080/catalog.ttl?page=3&q=a"
    );
    // On the source's own origin, a link is followed as written.
    assert_eq!(
        on_source_origin(
            "https://dati.regione.marche.it/catalog.ttl",
            "https://dati.regione.marche.it/catalog.ttl?page=2"
        ),
        "https://dati.regione.marche.it/catalog.ttl?page=2"
    );
}

#[test]
fn billion_laughs_is_refused_before_parsing() {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rdf:RDF [\n<!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let prev = if i == 1 { "lol".to_owned() } else { format!("lol{}", i - 1) };
        doc.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
    }
    doc.push_str("]>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:dct=\"http://purl.org/dc/terms/\"><rdf:Description rdf:about=\"http://x\"><dct:title>&lol9;</dct:title></rdf:Description></rdf:RDF>");
    let started = std::time::Instant::now();
    let err = parse(doc.as_bytes(), RdfFormat::RdfXml).expect_err("refused");
    assert!(matches!(err, DcatError::XmlEntities { .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let external = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r/>";
    assert!(matches!(parse(external.as_bytes(), RdfFormat::RdfXml), Err(DcatError::XmlEntities { .. })));
    // The AgID example's namespace entities are fine.
    assert!(check_xml_entities(&fixture("dcat-ap-it/examples/dataset_it_esempio_6.rdf"), "x").is_ok());
}

#[test]
fn malformed_documents_give_a_clear_error() {
    let err = parse(
        b"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description",
        RdfFormat::RdfXml,
    )
    .expect_err("broken XML");
    assert!(err.to_string().contains("invalid RDF/XML"), "{err}");
    let err = parse(b"<http://x> <http://y> .", RdfFormat::Turtle).expect_err("broken Turtle");
    assert!(err.to_string().starts_with("http://example.org/catalog: invalid Turtle"), "{err}");
    let jsonld = RdfFormat::JsonLd { profile: oxrdfio::JsonLdProfileSet::empty() };
    assert!(parse(b"{\"@id\": ", jsonld).is_err());
}

#[test]
fn formats_are_detected_from_spec_content_type_and_extension() {
    assert_eq!(
        detect_format(Some(RdfFormat::Turtle), Some("application/rdf+xml"), "x.rdf").ok(),
        Some(RdfFormat::Turtle)
    );
    assert_eq!(detect_format(None, Some("text/turtle; charset=utf-8"), "x").ok(), Some(RdfFormat::Turtle));
    assert_eq!(detect_format(None, Some("application/xml"), "x").ok(), Some(RdfFormat::RdfXml));
    assert_eq!(detect_format(None, Some("text/plain"), "https://x/catalog.rdf?page=2").ok(), Some(RdfFormat::RdfXml));
    assert_eq!(detect_format(None, None, "https://x/catalog.nt").ok(), Some(RdfFormat::NTriples));
    assert!(matches!(detect_format(None, Some("text/html"), "https://x/"), Err(DcatError::UnknownFormat { .. })));
}

#[test]
fn emails_come_from_mailto_or_a_resolved_relative_iri_and_nothing_else() {
    use super::email_address;
    assert_eq!(email_address("mailto:opendata@comune.macerata.it").as_deref(), Some("opendata@comune.macerata.it"));
    assert_eq!(
        email_address("http://127.0.0.1:8080/geosolutions@geo-solutions.it").as_deref(),
        Some("geosolutions@geo-solutions.it")
    );
    assert_eq!(email_address("https://www.comune.macerata.it/contatti"), None);
    assert_eq!(email_address("mailto:not an address"), None);
}

/// One dataset with two distributions: `dct:rights` as a statement node and as an IRI, and
/// `dct:issued` on a distribution (DCAT-AP puts both there; the MQA scores them there).
const DISTRIBUTION_RIGHTS_TURTLE: &str = r#"@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://x/d> a dcat:Dataset ; dct:identifier "a:1" ; dcat:distribution <http://x/d1>, <http://x/d2> .
<http://x/d1> a dcat:Distribution ; dcat:accessURL <http://x/a> ;
    dct:rights [ a dct:RightsStatement ; rdfs:label "Riuso libero"@it ] ;
    dct:issued "2024-01-10" .
<http://x/d2> a dcat:Distribution ; dcat:accessURL <http://x/b> ; dct:rights <http://x/rights> .
"#;

const DISTRIBUTION_RIGHTS_RDFXML: &str = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/"
    xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <dcat:Dataset rdf:about="http://x/d">
    <dct:identifier>a:1</dct:identifier>
    <dcat:distribution>
      <dcat:Distribution rdf:about="http://x/d1">
        <dcat:accessURL rdf:resource="http://x/a"/>
        <dct:rights><dct:RightsStatement><rdfs:label xml:lang="it">Riuso libero</rdfs:label></dct:RightsStatement></dct:rights>
        <dct:issued>2024-01-10</dct:issued>
      </dcat:Distribution>
    </dcat:distribution>
    <dcat:distribution>
      <dcat:Distribution rdf:about="http://x/d2">
        <dcat:accessURL rdf:resource="http://x/b"/>
        <dct:rights rdf:resource="http://x/rights"/>
      </dcat:Distribution>
    </dcat:distribution>
  </dcat:Dataset>
</rdf:RDF>"#;

#[test]
fn distribution_rights_and_issued_are_read_in_turtle_and_rdfxml() {
    for (text, format) in
        [(DISTRIBUTION_RIGHTS_TURTLE, RdfFormat::Turtle), (DISTRIBUTION_RIGHTS_RDFXML, RdfFormat::RdfXml)]
    {
        let (datasets, _) = parse(text.as_bytes(), format).expect("parses");
        let mut distributions = datasets[0].distributions.clone();
        distributions.sort_by_key(|d| d.uri.clone());
        let rights: Vec<_> = distributions.iter().map(|d| d.rights.as_deref()).collect();
        assert_eq!(rights, [Some(""), Some("http://x/rights")], "{format}");
        assert_eq!(distributions[0].issued.as_deref(), Some("2024-01-10"), "{format}");
    }
}

/// A catalogue of `n` small datasets in Turtle; `next` names a following page.
fn turtle_catalogue(ids: std::ops::Range<usize>, next: Option<&str>) -> String {
    let mut ttl = String::from(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n\
         @prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n",
    );
    if let Some(next) = next {
        ttl.push_str(&format!("<http://x/catalog> a hydra:PagedCollection ; hydra:nextPage \"{next}\" .\n"));
    }
    for id in ids {
        ttl.push_str(&format!(
            "<http://example.it/dataset/{id}> a dcat:Dataset ; dct:identifier \"c_e783:{id}\" ;\n  \
             dct:title \"Dataset {id}\"@it ; dct:description \"Descrizione del dataset {id}\"@it .\n"
        ));
    }
    ttl
}

/// Runs [`gather`] on `url` with the test guard's settings; the identifiers received, in order.
async fn gather_ids(url: &str) -> Result<(Vec<String>, GatherStats), DcatError> {
    let net = NetGuard::new(crate::netguard::tests::fast(true)).expect("client");
    let (tx, mut rx) = mpsc::channel::<Dataset>(16);
    let collect = tokio::spawn(async move {
        let mut ids = Vec::new();
        while let Some(dataset) = rx.recv().await {
            ids.push(dataset.identifier.unwrap_or_default());
        }
        ids
    });
    let stats = gather(&net, url, None, 10, tx).await;
    let ids = collect.await.expect("collector");
    stats.map(|stats| (ids, stats))
}

#[tokio::test]
async fn a_gzipped_catalogue_larger_than_the_in_memory_cap_is_parsed_as_it_streams() {
    use crate::netguard::tests::{Reply, gzipped, serve};
    // About 1 MB of Turtle: sixteen times the test guard's cap on bodies held in memory
    // (the whole-body path refused it), under its cap on streamed ones. The URL has no
    // extension: the serialization comes from the Content-Type.
    let n = 8000;
    let ttl = turtle_catalogue(0..n, None);
    assert!(ttl.len() as u64 > 16 * crate::netguard::tests::fast(true).max_body_bytes, "{}", ttl.len());
    let raw = gzipped("text/turtle; charset=utf-8", ttl.as_bytes());
    let (addr, _) = serve(move |_, _| Reply::Raw(raw.clone())).await;
    let (ids, stats) = gather_ids(&format!("http://{addr}/catalog")).await.expect("harvested");
    assert_eq!((ids.len(), stats.datasets, stats.pages), (n, n, 1));
    assert_eq!(ids.last().map(String::as_str), Some("c_e783:7999"));
}

#[tokio::test]
async fn paged_catalogues_are_streamed_page_by_page() {
    use crate::netguard::tests::{Reply, gzipped, serve};
    let first = gzipped(
        "text/turtle",
        turtle_catalogue(0..3000, Some("http://elsewhere.example/catalog.ttl?page=2")).as_bytes(),
    );
    let second = gzipped("text/turtle", turtle_catalogue(3000..6000, None).as_bytes());
    let (addr, _) =
        serve(move |line, _| Reply::Raw(if line.contains("page=2") { second.clone() } else { first.clone() })).await;
    let (ids, stats) = gather_ids(&format!("http://{addr}/catalog.ttl")).await.expect("harvested");
    assert_eq!((ids.len(), stats.pages), (6000, 2));
}

#[tokio::test]
async fn a_gzip_bomb_is_stopped_at_the_stream_cap_with_the_guards_error() {
    use crate::netguard::tests::{Reply, gzipped, serve};
    // 16 MiB of blanks (valid Turtle, so only the cap can stop it) in a few KiB of gzip.
    let raw = gzipped("text/turtle", &vec![b' '; 16 * 1024 * 1024]);
    let (addr, _) = serve(move |_, _| Reply::Raw(raw.clone())).await;
    let url = format!("http://{addr}/bomb.ttl");
    let err = gather_ids(&url).await.expect_err("cut off");
    assert!(matches!(err, DcatError::Fetch(NetError::TooLarge { limit: 4194304, .. })), "{err}");
    assert_eq!(err.category(), "TooLarge");
    assert!(err.to_string().contains(&url), "{err}");
}

#[tokio::test]
async fn a_source_that_stalls_mid_body_times_out() {
    use crate::netguard::tests::{Reply, serve};
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Type: text/turtle\r\nContent-Length: 1000000\r\n\r\n".to_vec();
    head.extend_from_slice(turtle_catalogue(0..100, None).as_bytes());
    let (addr, _) = serve(move |_, _| Reply::Stall(head.clone())).await;
    let started = std::time::Instant::now();
    let err = gather_ids(&format!("http://{addr}/catalog.ttl")).await.expect_err("stalled");
    assert!(matches!(err, DcatError::Fetch(NetError::Timeout { .. })), "{err}");
    assert!(err.to_string().contains("reading the body"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
}
