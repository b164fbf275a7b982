//! The DCAT source: DCAT(-AP_IT) catalogues in RDF/XML, Turtle, JSON-LD or N-Triples,
//! parsed by oxrdfio and assembled into [`Dataset`]s as the triples stream by.
//!
//! No graph of the whole catalogue is built. Only the properties mediana maps are kept,
//! grouped by subject, and a dataset is handed on (and its nodes dropped) as soon as the
//! parser has moved past it and past the blank nodes and distributions it links to. The
//! usual serializers (rdflib, which ckanext-dcat uses, and most others) write each subject's
//! triples together, so memory stays bounded by a window of datasets. A document that
//! scatters a dataset's triples (possible in N-Triples) is still read whole but may lose
//! the late triples; they are counted and reported instead of silently ignored.
//!
//! Over HTTP the body is parsed as it arrives (see [`gather`]): no page is held in memory
//! whole, whatever its size.
//!
//! Paged catalogues (`hydra:nextPage`, as ckanext-dcat serves `/catalog.ttl?page=N`) are
//! followed up to a page cap, on the origin the HarvestJob names (see [`on_source_origin`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read as _;

use oxrdf::{NamedOrBlankNode, Term};
use oxrdfio::{RdfFormat, RdfParser};
use tokio::sync::mpsc;
use tokio_util::io::SyncIoBridge;

use super::model::{Agent, ContactPoint, Dataset, Distribution, License, Location, Period, Standard, Text};
use crate::api::harvest_job::RdfFormat as SpecFormat;
use crate::netguard::{NetError, NetGuard};

/// Errors of the DCAT source.
#[derive(Debug, thiserror::Error)]
pub enum DcatError {
    /// The document could not be fetched.
    #[error(transparent)]
    Fetch(#[from] NetError),
    /// The RDF does not parse.
    #[error("{document}: invalid {format}: {source}")]
    Parse {
        /// URL or file name.
        document: String,
        /// The serialization tried.
        format: RdfFormat,
        /// The parser's message, with the position.
        #[source]
        source: oxrdfio::RdfSyntaxError,
    },
    /// The document could not be read (a local file).
    #[error("{document}: {source}")]
    Read {
        /// File name.
        document: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Neither the spec, the Content-Type nor the URL say which serialization it is.
    #[error("{document}: cannot tell the RDF serialization (Content-Type {content_type:?}); set source.format")]
    UnknownFormat {
        /// URL or file name.
        document: String,
        /// The Content-Type received.
        content_type: Option<String>,
    },
    /// An RDF/XML document declares entities that would expand beyond the limit
    /// ("billion laughs"): oxrdfxml expands entities eagerly, so it is refused before parsing.
    #[error("{document}: refused XML entity declarations: {reason}")]
    XmlEntities {
        /// URL or file name.
        document: String,
        /// What exceeded which limit.
        reason: String,
    },
    /// `hydra:nextPage` pointed back to a page already read.
    #[error("{0}: paging loops back to a page already read")]
    PageLoop(String),
    /// More pages than the cap.
    #[error("{url}: more than {limit} pages; raise the page cap or narrow the source")]
    TooManyPages {
        /// The page not read.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// The consumer of the datasets went away (the run was stopped).
    #[error("the harvest stopped reading datasets")]
    Stopped,
}

impl DcatError {
    /// A stable category, for metrics and reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Fetch(e) => e.category(),
            Self::Parse { .. } => "InvalidRdf",
            Self::Read { .. } => "Read",
            Self::UnknownFormat { .. } => "UnknownFormat",
            Self::XmlEntities { .. } => "XmlEntities",
            Self::PageLoop(_) | Self::TooManyPages { .. } => "Paging",
            Self::Stopped => "Stopped",
        }
    }
}

/// Maps the HarvestJob's format names to oxrdfio's.
pub fn spec_format(format: SpecFormat) -> RdfFormat {
    match format {
        SpecFormat::RdfXml => RdfFormat::RdfXml,
        SpecFormat::Turtle => RdfFormat::Turtle,
        SpecFormat::JsonLd => RdfFormat::JsonLd { profile: oxrdfio::JsonLdProfileSet::empty() },
        SpecFormat::NTriples => RdfFormat::NTriples,
    }
}

/// The serialization of a document: the one configured, else the Content-Type's, else the
/// URL's (or file's) extension. `text/xml` and `application/xml` count as RDF/XML, as
/// ckanext-dcat's `/catalog.xml` is.
pub fn detect_format(
    configured: Option<RdfFormat>,
    content_type: Option<&str>,
    document: &str,
) -> Result<RdfFormat, DcatError> {
    if let Some(format) = configured {
        return Ok(format);
    }
    if let Some(content_type) = content_type {
        let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        // text/plain is N-Triples' old media type, but servers send it for anything.
        if let Some(format) = RdfFormat::from_media_type(&media).filter(|_| media != "text/plain") {
            return Ok(format);
        }
        if matches!(media.as_str(), "text/xml" | "application/xml") {
            return Ok(RdfFormat::RdfXml);
        }
    }
    let path = url::Url::parse(document).map(|u| u.path().to_owned()).unwrap_or_else(|_| document.to_owned());
    let extension = path.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    let by_extension = match extension.as_str() {
        "xml" | "rdf" | "owl" => Some(RdfFormat::RdfXml),
        "json" => Some(RdfFormat::JsonLd { profile: oxrdfio::JsonLdProfileSet::empty() }),
        other => RdfFormat::from_extension(other),
    };
    by_extension.ok_or_else(|| DcatError::UnknownFormat {
        document: document.to_owned(),
        content_type: content_type.map(str::to_owned),
    })
}

/// Largest expansion of one XML entity, in bytes. Namespace shortcuts (the legitimate use,
/// as in the AgID examples) are well under 200.
const MAX_ENTITY_BYTES: usize = 64 * 1024;
/// How much of an XML document is searched for the DOCTYPE.
const PROLOG_BYTES: usize = 1024 * 1024;
/// Largest sum of all entity expansions.
const MAX_ENTITIES_TOTAL: usize = 1024 * 1024;

/// Refuses DOCTYPE entity declarations whose expansion would exceed the limits, and
/// external entities. oxrdfxml expands each entity when it is declared, so a billion-laughs
/// DOCTYPE would allocate gigabytes before the first triple; sizes are computed here
/// without expanding anything.
pub fn check_xml_entities(bytes: &[u8], document: &str) -> Result<(), DcatError> {
    let refuse = |reason: String| DcatError::XmlEntities { document: document.to_owned(), reason };
    // The DOCTYPE sits in the prolog, before the root element: look only there.
    let head = &bytes[..bytes.len().min(PROLOG_BYTES)];
    let text = String::from_utf8_lossy(head);
    let Some(start) = text.find("<!DOCTYPE") else { return Ok(()) };
    let Some(subset_start) = text[start..].find('[').map(|i| start + i + 1) else { return Ok(()) };
    let Some(subset_end) = text[subset_start..].find("]>").map(|i| subset_start + i) else {
        return Err(refuse("unterminated DOCTYPE internal subset".into()));
    };
    let subset = &text[subset_start..subset_end];
    let mut sizes: HashMap<&str, usize> = HashMap::new();
    let mut total = 0usize;
    for declaration in subset.split("<!ENTITY").skip(1) {
        let declaration = declaration.trim_start();
        let (name, rest) = declaration.split_once(char::is_whitespace).unwrap_or((declaration, ""));
        let rest = rest.trim_start();
        if rest.starts_with("SYSTEM") || rest.starts_with("PUBLIC") || name == "%" {
            return Err(refuse(format!("external or parameter entity {name:?}")));
        }
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
        let Some(quote) = quote else { continue };
        let value = rest[1..].split(quote).next().unwrap_or_default();
        // Size of the expansion: literal text plus the sizes of referenced entities.
        let mut size = 0usize;
        let mut remaining = value;
        while let Some(amp) = remaining.find('&') {
            size += amp;
            let after = &remaining[amp + 1..];
            let Some(semi) = after.find(';') else {
                size += after.len() + 1;
                break;
            };
            size = size.saturating_add(sizes.get(&after[..semi]).copied().unwrap_or(semi + 2));
            remaining = &after[semi + 1..];
        }
        size = size.saturating_add(remaining.len());
        if size > MAX_ENTITY_BYTES {
            return Err(refuse(format!("entity {name:?} expands to {size} bytes (limit {MAX_ENTITY_BYTES})")));
        }
        total = total.saturating_add(size);
        if total > MAX_ENTITIES_TOTAL {
            return Err(refuse(format!("entities expand to more than {MAX_ENTITIES_TOTAL} bytes")));
        }
        sizes.insert(name, size);
    }
    Ok(())
}

/// What parsing a document found, besides the datasets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageStats {
    /// Datasets assembled.
    pub datasets: usize,
    /// Triples read.
    pub triples: u64,
    /// Triples about a dataset that came after it had been handed on (not grouped by
    /// subject); they were ignored.
    pub late_triples: u64,
    /// Distributions (nodes with `dcat:accessURL`) no dataset linked to, or that came
    /// too late for their dataset.
    pub orphan_distributions: usize,
    /// `hydra:nextPage` (or `hydra:next`), resolved against the document.
    pub next_page: Option<String>,
}

/// Parses one document and calls `on_dataset` for each dataset, in document order,
/// reading from `reader` as it goes, so a large file or download is never held in memory
/// whole (the prolog is read first for the entity check). `document` is the base IRI (URL
/// or `file:` path) used in messages and for relative IRIs.
pub fn parse_reader(
    mut reader: impl std::io::Read,
    format: RdfFormat,
    document: &str,
    on_dataset: &mut dyn FnMut(Dataset) -> Result<(), DcatError>,
) -> Result<PageStats, DcatError> {
    let io_error = |source: std::io::Error| read_error(document, source);
    let mut head = Vec::new();
    if format == RdfFormat::RdfXml {
        reader.by_ref().take(PROLOG_BYTES as u64).read_to_end(&mut head).map_err(io_error)?;
        check_xml_entities(&head, document)?;
    }
    // Lenient: real catalogues carry invalid IRIs (the AgID example declares the dcatapit
    // namespace with a stray quote) and one bad IRI must not reject a whole catalogue;
    // syntax errors are still errors.
    let mut parser = RdfParser::from_format(format).lenient();
    if let Ok(with_base) = parser.clone().with_base_iri(document) {
        parser = with_base;
    }
    let mut assembler = Assembler::default();
    for quad in parser.for_reader(std::io::Read::chain(head.as_slice(), reader)) {
        let quad = quad.map_err(|e| match e {
            oxrdfio::RdfParseError::Syntax(source) => {
                DcatError::Parse { document: document.to_owned(), format, source }
            }
            oxrdfio::RdfParseError::Io(e) => io_error(e),
        })?;
        assembler.stats.triples += 1;
        assembler.push(quad.subject, quad.predicate.as_str(), quad.object, on_dataset)?;
    }
    assembler.finish(on_dataset)
}

/// A failure of the reader. A downloaded body's own failures (size cap, timeouts, transport)
/// come through it as I/O errors carrying the [`NetError`]: they are given back their kind,
/// which names the URL and the limit.
fn read_error(document: &str, source: std::io::Error) -> DcatError {
    match source.downcast::<NetError>() {
        Ok(net) => DcatError::Fetch(net),
        Err(source) => DcatError::Read { document: document.to_owned(), source },
    }
}

/// Statistics of a whole gather.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GatherStats {
    /// Pages read.
    pub pages: usize,
    /// Datasets found.
    pub datasets: usize,
    /// Triples read.
    pub triples: u64,
    /// Late triples ignored (see [`PageStats::late_triples`]).
    pub late_triples: u64,
    /// Distributions no dataset claimed (see [`PageStats::orphan_distributions`]).
    pub orphan_distributions: usize,
}

/// Fetches a catalogue, following `hydra:nextPage` up to `max_pages`, and sends each
/// dataset down `datasets`. Parsing runs on a blocking thread, pulling the body from the
/// network as it needs bytes, so memory stays flat whatever the page's size and the writes
/// downstream keep going; the bounded channel gives back-pressure, down to the socket.
pub async fn gather(
    net: &NetGuard,
    url: &str,
    format: Option<RdfFormat>,
    max_pages: usize,
    datasets: mpsc::Sender<Dataset>,
) -> Result<GatherStats, DcatError> {
    let mut stats = GatherStats::default();
    let mut seen = HashSet::new();
    let mut next = Some(url.to_owned());
    while let Some(page) = next.take() {
        if !seen.insert(page.clone()) {
            return Err(DcatError::PageLoop(page));
        }
        if stats.pages >= max_pages {
            return Err(DcatError::TooManyPages { url: page, limit: max_pages });
        }
        let download = net.download(&page).await?;
        let document = download.final_url.to_string();
        let format = detect_format(format, download.content_type.as_deref(), &document)?;
        let sender = datasets.clone();
        let body = SyncIoBridge::new(download.body.into_reader());
        let page_stats = tokio::task::spawn_blocking(move || {
            parse_reader(body, format, &document, &mut |dataset| {
                sender.blocking_send(dataset).map_err(|_| DcatError::Stopped)
            })
        })
        .await
        .map_err(|_| DcatError::Stopped)??;
        stats.pages += 1;
        stats.datasets += page_stats.datasets;
        stats.triples += page_stats.triples;
        stats.late_triples += page_stats.late_triples;
        stats.orphan_distributions += page_stats.orphan_distributions;
        // An empty page ends the catalogue even if it names a next one (ckanext-dcat
        // pages past the end are empty).
        if page_stats.datasets > 0 {
            next = page_stats.next_page.map(|page| on_source_origin(url, &page));
        }
    }
    Ok(stats)
}

/// The URL of a next page, read on the source's scheme, host and port. CKAN writes its pages'
/// links on its public site URL (`ckan.site_url`), which a harvester inside the cluster, given
/// the node's Service as its source, may not resolve or may not be allowed to reach; and a
/// catalogue must not send its harvester to another host either. Path and query are kept.
pub fn on_source_origin(source: &str, next: &str) -> String {
    let (Ok(source), Ok(mut page)) = (url::Url::parse(source), url::Url::parse(next)) else {
        return next.to_owned();
    };
    if page.origin() == source.origin() {
        return page.into();
    }
    // Setting scheme, host and port of a parsed http(s) URL from another one cannot fail.
    let moved = page.set_scheme(source.scheme()).is_ok()
        && page.set_host(source.host_str()).is_ok()
        && page.set_port(source.port()).is_ok();
    if moved { page.into() } else { next.to_owned() }
}

/// The predicates mediana maps; all others are dropped as they are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum P {
    Type,
    Title,
    Description,
    Identifier,
    Issued,
    Modified,
    Theme,
    Subject,
    Keyword,
    Publisher,
    RightsHolder,
    Creator,
    Frequency,
    Language,
    LandingPage,
    Temporal,
    Spatial,
    ConformsTo,
    ContactPoint,
    AdmsIdentifier,
    VersionInfo,
    AccessRights,
    Rights,
    Distribution,
    AccessUrl,
    DownloadUrl,
    Format,
    MediaType,
    License,
    ByteSize,
    Name,
    DctType,
    StartDate,
    EndDate,
    HasBeginning,
    HasEnd,
    XsdDate,
    VcardFn,
    VcardEmail,
    VcardTelephone,
    VcardUrl,
    VcardValue,
    GeographicName,
    GeographicalIdentifier,
    Notation,
    RdfValue,
    NextPage,
    ApplicableLegislation,
    HvdCategory,
    /// A property only GeoDCAT-AP writes (`geodcatap:*`, `adms:representationTechnique`).
    GeoDcat,
}

const DCT: &str = "http://purl.org/dc/terms/";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const TIME: &str = "http://www.w3.org/2006/time#";
/// GeoDCAT-AP's namespace (`geodcatap:`).
const GEODCATAP: &str = "http://data.europa.eu/930/";
/// INSPIRE's resource types, which GeoDCAT-AP writes in `dct:type`.
const INSPIRE_RESOURCE_TYPE: &str = "http://inspire.ec.europa.eu/metadata-codelist/ResourceType/";

fn predicate(iri: &str) -> Option<P> {
    if let Some(local) = iri.strip_prefix(DCT) {
        return Some(match local {
            "title" => P::Title,
            "description" => P::Description,
            "identifier" => P::Identifier,
            "issued" => P::Issued,
            "modified" => P::Modified,
            "subject" => P::Subject,
            "publisher" => P::Publisher,
            "rightsHolder" => P::RightsHolder,
            "creator" => P::Creator,
            "accrualPeriodicity" => P::Frequency,
            "language" => P::Language,
            "temporal" => P::Temporal,
            "spatial" => P::Spatial,
            "conformsTo" => P::ConformsTo,
            "accessRights" => P::AccessRights,
            "rights" => P::Rights,
            "format" => P::Format,
            "license" => P::License,
            "type" => P::DctType,
            _ => return None,
        });
    }
    if let Some(local) = iri.strip_prefix(DCAT) {
        return Some(match local {
            "theme" => P::Theme,
            "keyword" => P::Keyword,
            "landingPage" => P::LandingPage,
            "contactPoint" => P::ContactPoint,
            "distribution" => P::Distribution,
            "accessURL" => P::AccessUrl,
            "downloadURL" => P::DownloadUrl,
            "mediaType" => P::MediaType,
            "byteSize" => P::ByteSize,
            "startDate" => P::StartDate,
            "endDate" => P::EndDate,
            _ => return None,
        });
    }
    if let Some(local) = iri.strip_prefix(VCARD) {
        return Some(match local {
            "fn" => P::VcardFn,
            "hasEmail" => P::VcardEmail,
            "hasTelephone" => P::VcardTelephone,
            "hasURL" => P::VcardUrl,
            "value" => P::VcardValue,
            _ => return None,
        });
    }
    if let Some(local) = iri.strip_prefix(TIME) {
        return Some(match local {
            "hasBeginning" => P::HasBeginning,
            "hasEnd" => P::HasEnd,
            "inXSDDate" | "inXSDDateTime" | "inXSDDateTimeStamp" => P::XsdDate,
            _ => return None,
        });
    }
    Some(match iri {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" => P::Type,
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#value" => P::RdfValue,
        "http://xmlns.com/foaf/0.1/name" => P::Name,
        "http://www.w3.org/ns/adms#identifier" => P::AdmsIdentifier,
        "http://www.w3.org/2002/07/owl#versionInfo" => P::VersionInfo,
        "http://www.w3.org/2004/02/skos/core#notation" => P::Notation,
        "http://www.w3.org/ns/locn#geographicName" => P::GeographicName,
        "http://dati.gov.it/onto/dcatapit#geographicalIdentifier" => P::GeographicalIdentifier,
        // The AgID guide's property, schema.org's (what ckanext-dcatapit writes), and DCAT 2's.
        "http://dati.gov.it/onto/dcatapit#startDate" | "http://schema.org/startDate" => P::StartDate,
        "http://dati.gov.it/onto/dcatapit#endDate" | "http://schema.org/endDate" => P::EndDate,
        "http://www.w3.org/ns/hydra/core#nextPage" | "http://www.w3.org/ns/hydra/core#next" => P::NextPage,
        // DCAT-AP 3's namespace (dcatap:), where the HVD profile's two properties live.
        "http://data.europa.eu/r5r/applicableLegislation" => P::ApplicableLegislation,
        "http://data.europa.eu/r5r/hvdCategory" => P::HvdCategory,
        "http://www.w3.org/ns/adms#representationTechnique" => P::GeoDcat,
        _ if iri.starts_with(GEODCATAP) => P::GeoDcat,
        _ => return None,
    })
}

fn is_dataset_class(iri: &str) -> bool {
    matches!(iri, "http://www.w3.org/ns/dcat#Dataset" | "http://dati.gov.it/onto/dcatapit#Dataset")
}

/// An object, as kept.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Obj {
    Iri(String),
    Blank(String),
    Literal { value: String, lang: String },
}

#[derive(Debug, Default)]
struct Node {
    props: Vec<(P, Obj)>,
    /// Times the node was the object of a kept triple: shared blank nodes are not dropped
    /// with the first dataset that uses them.
    references: u32,
}

impl Node {
    fn objects(&self, p: P) -> impl Iterator<Item = &Obj> {
        self.props.iter().filter(move |(q, _)| *q == p).map(|(_, o)| o)
    }
}

/// Datasets waiting for their linked nodes before being handed on; past this many the
/// oldest is handed on with what it has, which bounds memory on badly ordered documents.
const WINDOW: usize = 512;

#[derive(Default)]
struct Assembler {
    nodes: HashMap<String, Node>,
    current: String,
    pending: VecDeque<String>,
    queued: HashSet<String>,
    emitted: HashSet<String>,
    current_emitted: bool,
    stats: PageStats,
}

fn subject_key(subject: &NamedOrBlankNode) -> std::borrow::Cow<'_, str> {
    match subject {
        NamedOrBlankNode::NamedNode(n) => std::borrow::Cow::Borrowed(n.as_str()),
        NamedOrBlankNode::BlankNode(b) => std::borrow::Cow::Owned(format!("_:{}", b.as_str())),
    }
}

impl Assembler {
    fn push(
        &mut self,
        subject: NamedOrBlankNode,
        predicate_iri: &str,
        object: Term,
        out: &mut dyn FnMut(Dataset) -> Result<(), DcatError>,
    ) -> Result<(), DcatError> {
        let Some(p) = predicate(predicate_iri) else { return Ok(()) };
        let key = subject_key(&subject);
        if key != self.current {
            self.current = key.into_owned();
            self.current_emitted = self.emitted.contains(&self.current);
        }
        if self.current_emitted {
            self.stats.late_triples += 1;
            return Ok(());
        }
        let object = match object {
            Term::NamedNode(n) => Obj::Iri(n.into_string()),
            Term::BlankNode(b) => Obj::Blank(format!("_:{}", b.as_str())),
            Term::Literal(l) => {
                let (value, _, lang) = l.destruct();
                Obj::Literal { value, lang: lang.unwrap_or_default().to_ascii_lowercase() }
            }
        };
        match (&p, &object) {
            // ckanext-dcat writes the next page as a literal, hydra as an IRI.
            (P::NextPage, Obj::Iri(next) | Obj::Literal { value: next, .. }) => {
                self.stats.next_page = Some(next.clone());
                return Ok(());
            }
            (P::Type, Obj::Iri(class)) if is_dataset_class(class) => {
                if self.queued.insert(self.current.clone()) {
                    // A new dataset begins: the earlier ones are as complete as they will
                    // get if the document groups by subject. (Not on every subject switch:
                    // RDF/XML emits a nested node's triples before the parent's link to it.)
                    self.emit_ready(out)?;
                    self.pending.push_back(self.current.clone());
                }
                return Ok(());
            }
            (P::Type, _) => return Ok(()),
            (_, Obj::Blank(b)) if p.is_link() => {
                self.nodes.entry(b.clone()).or_default().references += 1;
            }
            _ => {}
        }
        self.nodes.entry(self.current.clone()).or_default().props.push((p, object));
        Ok(())
    }

    /// Hands on the datasets at the front of the queue whose nodes are complete.
    fn emit_ready(&mut self, out: &mut dyn FnMut(Dataset) -> Result<(), DcatError>) -> Result<(), DcatError> {
        while let Some(front) = self.pending.front() {
            if !(self.pending.len() > WINDOW || self.is_complete(front)) {
                break;
            }
            if let Some(key) = self.pending.pop_front() {
                self.emit(&key, out)?;
            }
        }
        Ok(())
    }

    /// A dataset is complete when the parser is past it, past its blank nodes (nested
    /// agents, periods...) and past its distributions.
    fn is_complete(&self, key: &str) -> bool {
        if key == self.current {
            return false;
        }
        let Some(node) = self.nodes.get(key) else { return false };
        node.props.iter().all(|(p, o)| match o {
            Obj::Blank(b) => self.blank_complete(b, 0),
            Obj::Iri(d) if *p == P::Distribution => {
                *d != self.current && self.nodes.get(d).is_some_and(|n| !n.props.is_empty())
            }
            _ => true,
        })
    }

    fn blank_complete(&self, key: &str, depth: usize) -> bool {
        if key == self.current || depth > 4 {
            return key != self.current;
        }
        match self.nodes.get(key) {
            Some(node) if !node.props.is_empty() => node.props.iter().all(|(_, o)| match o {
                Obj::Blank(b) => self.blank_complete(b, depth + 1),
                _ => true,
            }),
            _ => false,
        }
    }

    fn emit(&mut self, key: &str, out: &mut dyn FnMut(Dataset) -> Result<(), DcatError>) -> Result<(), DcatError> {
        let dataset = self.build(key);
        // Drop what only this dataset used: its own node, its distributions and the blank
        // nodes referenced once. Shared nodes (an agent or licence described once and
        // linked from many datasets) stay.
        let mut drop = vec![key.to_owned()];
        let mut index = 0;
        while index < drop.len() {
            if let Some(node) = self.nodes.get(&drop[index]) {
                for (p, o) in &node.props {
                    match o {
                        Obj::Blank(b) if self.nodes.get(b).is_some_and(|n| n.references <= 1) => drop.push(b.clone()),
                        Obj::Iri(d) if *p == P::Distribution => drop.push(d.clone()),
                        _ => {}
                    }
                }
            }
            index += 1;
            if drop.len() > 4096 {
                break;
            }
        }
        for k in drop {
            self.nodes.remove(&k);
        }
        self.queued.remove(key);
        self.emitted.insert(key.to_owned());
        self.stats.datasets += 1;
        out(dataset)
    }

    fn finish(mut self, out: &mut dyn FnMut(Dataset) -> Result<(), DcatError>) -> Result<PageStats, DcatError> {
        self.current.clear();
        while let Some(key) = self.pending.pop_front() {
            self.emit(&key, out)?;
        }
        // Distributions no dataset claimed: linked from a dataset handed on by the window
        // before they came, or from none at all.
        self.stats.orphan_distributions =
            self.nodes.values().filter(|n| n.objects(P::AccessUrl).next().is_some()).count();
        Ok(self.stats)
    }

    fn node(&self, obj: &Obj) -> Option<&Node> {
        match obj {
            Obj::Iri(k) | Obj::Blank(k) => self.nodes.get(k),
            Obj::Literal { .. } => None,
        }
    }

    /// The first literal of `p` on the node, or the first IRI when `iris` is set.
    fn first(&self, node: &Node, p: P) -> Option<String> {
        node.objects(p).find_map(|o| match o {
            Obj::Literal { value, .. } => Some(value.trim().to_owned()),
            Obj::Iri(iri) => Some(iri.clone()),
            Obj::Blank(_) => None,
        })
    }

    fn texts(&self, node: &Node, p: P) -> Vec<Text> {
        node.objects(p)
            .filter_map(|o| match o {
                Obj::Literal { value, lang } => Some(Text { lang: lang.clone(), value: value.trim().to_owned() }),
                _ => None,
            })
            .collect()
    }

    fn iris_or_literals(&self, node: &Node, p: P) -> Vec<String> {
        node.objects(p)
            .filter_map(|o| match o {
                Obj::Iri(v) | Obj::Literal { value: v, .. } => Some(v.trim().to_owned()),
                Obj::Blank(_) => None,
            })
            .collect()
    }

    /// An IRI object, or a value hidden in a node (`rdf:value`, `skos:notation`,
    /// `vcard:value`), or a literal.
    fn value(&self, obj: &Obj) -> Option<String> {
        match obj {
            Obj::Iri(v) => Some(v.clone()),
            Obj::Literal { value, .. } => Some(value.trim().to_owned()),
            Obj::Blank(_) => self.node(obj).and_then(|n| {
                [P::RdfValue, P::Notation, P::VcardValue, P::XsdDate].into_iter().find_map(|p| self.first(n, p))
            }),
        }
    }

    /// A statement property (`dct:accessRights`, `dct:rights`): its value, or empty when it
    /// is a node without one (`[ a dct:RightsStatement ]`), which still says it is there.
    fn statement(&self, node: &Node, p: P) -> Option<String> {
        node.objects(p).next().map(|o| self.value(o).unwrap_or_default())
    }

    fn agent(&self, obj: &Obj) -> Agent {
        match (obj, self.node(obj)) {
            (Obj::Literal { value, .. }, _) => Agent { name: Some(value.trim().to_owned()), identifier: None },
            (_, Some(node)) => Agent {
                name: super::model::best_text(&self.texts(node, P::Name)).map(str::to_owned),
                identifier: self.first(node, P::Identifier),
            },
            (Obj::Iri(iri), None) => Agent { name: None, identifier: Some(iri.clone()) },
            _ => Agent::default(),
        }
    }

    fn build(&self, key: &str) -> Dataset {
        let Some(node) = self.nodes.get(key) else { return Dataset::default() };
        let mut dataset = Dataset {
            uri: (!key.starts_with("_:")).then(|| key.to_owned()),
            identifier: self.first(node, P::Identifier),
            title: self.texts(node, P::Title),
            description: self.texts(node, P::Description),
            issued: self.first(node, P::Issued),
            modified: self.first(node, P::Modified),
            themes: self.iris_or_literals(node, P::Theme),
            subthemes: self.iris_or_literals(node, P::Subject),
            keywords: self.texts(node, P::Keyword).into_iter().map(|t| t.value).collect(),
            frequency: node.objects(P::Frequency).find_map(|o| self.value(o)),
            languages: node.objects(P::Language).filter_map(|o| self.value(o)).collect(),
            landing_page: self.first(node, P::LandingPage),
            version: self.first(node, P::VersionInfo),
            access_rights: self.statement(node, P::AccessRights),
            applicable_legislation: self.iris_or_literals(node, P::ApplicableLegislation),
            hvd_categories: self.iris_or_literals(node, P::HvdCategory),
            ..Dataset::default()
        };
        dataset.publisher = node.objects(P::Publisher).next().map(|o| self.agent(o));
        dataset.rights_holder = node.objects(P::RightsHolder).next().map(|o| self.agent(o));
        dataset.creators = node.objects(P::Creator).map(|o| self.agent(o)).collect();
        dataset.alternate_identifiers = node.objects(P::AdmsIdentifier).filter_map(|o| self.value(o)).collect();
        dataset.temporal = node.objects(P::Temporal).filter_map(|o| self.node(o)).map(|n| self.period(n)).collect();
        dataset.spatial = node
            .objects(P::Spatial)
            .map(|o| {
                let uri = matches!(o, Obj::Iri(_)).then(|| self.value(o)).flatten();
                let n = self.node(o);
                Location {
                    uri,
                    name: n.and_then(|n| self.first(n, P::GeographicName)),
                    geographical_identifier: n.and_then(|n| self.first(n, P::GeographicalIdentifier)),
                }
            })
            .collect();
        dataset.conforms_to = node
            .objects(P::ConformsTo)
            .map(|o| {
                let n = self.node(o);
                Standard {
                    uri: matches!(o, Obj::Iri(_)).then(|| self.value(o)).flatten(),
                    identifier: n.and_then(|n| self.first(n, P::Identifier)),
                    title: n.and_then(|n| super::model::best_text(&self.texts(n, P::Title)).map(str::to_owned)),
                }
            })
            .collect();
        dataset.contact_point = node.objects(P::ContactPoint).next().map(|o| {
            let n = self.node(o);
            let field = |p| n.and_then(|n| n.objects(p).find_map(|v| self.value(v)));
            ContactPoint {
                uri: matches!(o, Obj::Iri(_)).then(|| self.value(o)).flatten(),
                name: n.and_then(|n| self.first(n, P::VcardFn)),
                email: field(P::VcardEmail).and_then(|e| email_address(&e)),
                telephone: field(P::VcardTelephone).map(|t| t.trim_start_matches("tel:").to_owned()),
                url: field(P::VcardUrl),
            }
        });
        dataset.distributions =
            node.objects(P::Distribution).filter_map(|o| self.node(o).map(|n| self.distribution(o, n))).collect();
        dataset.geodcat = is_geodcat(node)
            || node.objects(P::Distribution).filter_map(|o| self.node(o)).any(is_geodcat)
            || node.objects(P::DctType).any(|t| matches!(t, Obj::Iri(iri) if iri.starts_with(INSPIRE_RESOURCE_TYPE)));
        dataset
    }

    fn period(&self, node: &Node) -> Period {
        let date = |direct: P, via: P| {
            self.first(node, direct).or_else(|| {
                node.objects(via).find_map(|o| self.node(o).and_then(|instant| self.first(instant, P::XsdDate)))
            })
        };
        Period { start: date(P::StartDate, P::HasBeginning), end: date(P::EndDate, P::HasEnd) }
    }

    fn distribution(&self, obj: &Obj, node: &Node) -> Distribution {
        Distribution {
            uri: matches!(obj, Obj::Iri(_)).then(|| self.value(obj)).flatten(),
            title: self.texts(node, P::Title),
            description: self.texts(node, P::Description),
            access_url: self.first(node, P::AccessUrl),
            download_url: self.first(node, P::DownloadUrl),
            format: node.objects(P::Format).find_map(|o| self.value(o)),
            media_type: node.objects(P::MediaType).find_map(|o| self.value(o)),
            license: node.objects(P::License).next().map(|o| {
                let n = self.node(o);
                License {
                    uri: self.value(o).filter(|_| !matches!(o, Obj::Blank(_))),
                    name: n.and_then(|n| super::model::best_text(&self.texts(n, P::Name)).map(str::to_owned)),
                    license_type: n.and_then(|n| n.objects(P::DctType).find_map(|t| self.value(t))),
                }
            }),
            byte_size: self.first(node, P::ByteSize).and_then(|s| parse_size(&s)),
            issued: self.first(node, P::Issued),
            modified: self.first(node, P::Modified),
            rights: self.statement(node, P::Rights),
            applicable_legislation: self.iris_or_literals(node, P::ApplicableLegislation),
        }
    }
}

impl P {
    /// Predicates whose object is another node the dataset needs.
    fn is_link(self) -> bool {
        matches!(
            self,
            P::Publisher
                | P::RightsHolder
                | P::Creator
                | P::Temporal
                | P::Spatial
                | P::ConformsTo
                | P::ContactPoint
                | P::AdmsIdentifier
                | P::Distribution
                | P::License
                | P::Format
                | P::HasBeginning
                | P::HasEnd
                | P::VcardEmail
                | P::VcardTelephone
        )
    }
}

/// Whether a node has a property only GeoDCAT-AP writes.
fn is_geodcat(node: &Node) -> bool {
    node.objects(P::GeoDcat).next().is_some()
}

/// `dcat:byteSize` is an xsd:decimal, often written `1234.0`.
fn parse_size(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().or_else(|| {
        let float = text.parse::<f64>().ok()?;
        (float.is_finite() && float >= 0.0).then_some(float as u64)
    })
}

/// The address of a `vcard:hasEmail` value: `mailto:` IRIs and plain addresses. A value
/// written without `mailto:` in RDF/XML resolves against the document's URL
/// (`http://host/dir/name@example.it`): its last segment is the address. Anything else is
/// not an address (CKAN refuses the whole dataset for a malformed email).
fn email_address(value: &str) -> Option<String> {
    let candidate = value.strip_prefix("mailto:").unwrap_or_else(|| value.rsplit('/').next().unwrap_or(value)).trim();
    let (local, domain) = candidate.split_once('@')?;
    let plausible = !local.is_empty() && domain.contains('.') && !candidate.contains(char::is_whitespace);
    plausible.then(|| candidate.to_owned())
}

#[cfg(test)]
pub(crate) mod tests;
