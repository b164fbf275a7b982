//! Metadata quality after the data.europa.eu Metadata Quality Assessment (MQA): five
//! dimensions, 405 points. The point table and what mediana measures differently are in
//! `docs/harvesting.md`.

use serde::Serialize;

use super::model::{Dataset, Distribution, blank};
use super::vocab;

/// Highest score.
pub const MAX_SCORE: u32 = 405;

/// Points of one dataset, per dimension.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Quality {
    /// Keywords, themes, spatial and temporal coverage (max 100).
    pub findability: f64,
    /// Access and download URLs (max 100; reachability is not probed, see the docs).
    pub accessibility: f64,
    /// Formats and media types of the best distribution, and DCAT-AP compliance (max 110).
    pub interoperability: f64,
    /// Licence, access rights, contact point, publisher (max 75).
    pub reusability: f64,
    /// Rights, byte size, issue and modification dates (max 20).
    pub contextuality: f64,
}

impl Quality {
    /// Sum of the dimensions.
    pub fn total(&self) -> f64 {
        self.findability + self.accessibility + self.interoperability + self.reusability + self.contextuality
    }

    /// data.europa.eu's rating of the score.
    pub fn rating(&self) -> &'static str {
        rating_of(self.total())
    }
}

/// data.europa.eu's rating of a score, also of a mean of scores.
pub fn rating_of(total: f64) -> &'static str {
    match total {
        t if t > 350.0 => "Excellent",
        t if t > 220.0 => "Good",
        t if t > 120.0 => "Sufficient",
        _ => "Bad",
    }
}

fn points(condition: bool, weight: f64) -> f64 {
    if condition { weight } else { 0.0 }
}

/// What one distribution earns. The MQA keeps a single distribution per dataset, the one
/// with the most points over all these dimensions (piveau's `scoreMetrics`: "Find the
/// best scored distribution"), not a share of the distributions that pass each indicator.
#[derive(Clone, Copy, Debug, Default)]
struct DistributionPoints {
    accessibility: f64,
    interoperability: f64,
    reusability: f64,
    contextuality: f64,
    /// Whether `dct:issued` was counted here, so the dataset's is not counted again.
    issued: bool,
    /// Likewise for `dct:modified`.
    modified: bool,
}

impl DistributionPoints {
    fn of(d: &Distribution) -> Self {
        let issued = d.issued.is_some();
        let modified = d.modified.is_some();
        let licence = d.license.as_ref().and_then(|l| l.uri.as_deref());
        Self {
            // The two "reachable" indicators (50 + 30) would need a request to every
            // third-party URL; not awarded (a lower bound, documented).
            accessibility: points(!blank(&d.download_url), 20.0),
            interoperability: interoperability(d),
            reusability: points(d.license.is_some(), 20.0)
                + points(licence.and_then(vocab::eu_licence).is_some(), 10.0),
            contextuality: points(d.rights.is_some(), 5.0)
                + points(d.byte_size.is_some(), 5.0)
                + points(issued, 5.0)
                + points(modified, 5.0),
            issued,
            modified,
        }
    }

    fn total(&self) -> f64 {
        self.accessibility + self.interoperability + self.reusability + self.contextuality
    }

    /// The best of the distributions; the first one on a tie (piveau keeps the earlier on
    /// `>=`); nothing earned without distributions.
    fn best(distributions: &[Distribution]) -> Self {
        distributions.iter().map(Self::of).reduce(|a, b| if a.total() >= b.total() { a } else { b }).unwrap_or_default()
    }
}

/// Scores a dataset. `conformant` is whether the dataset was validated and found without
/// errors (MQA gives 30 points for passing DCAT-AP validation; mediana validates against
/// DCAT-AP_IT, see the docs).
pub fn score(dataset: &Dataset, conformant: bool) -> Quality {
    let best = DistributionPoints::best(&dataset.distributions);
    let access_rights = dataset.access_rights.as_deref();
    Quality {
        findability: points(!dataset.keywords.is_empty(), 30.0)
            + points(!dataset.themes.is_empty(), 30.0)
            + points(!dataset.spatial.is_empty(), 20.0)
            + points(!dataset.temporal.is_empty(), 20.0),
        accessibility: best.accessibility,
        interoperability: best.interoperability + points(conformant, 30.0),
        reusability: best.reusability
            + points(access_rights.is_some(), 10.0)
            + points(
                access_rights
                    .is_some_and(|a| vocab::in_table(a.trim(), vocab::ACCESS_RIGHT_BASE, vocab::ACCESS_RIGHTS)),
                5.0,
            )
            + points(dataset.contact_point.is_some(), 20.0)
            + points(dataset.publisher.as_ref().is_some_and(|p| !p.is_empty()), 10.0),
        // Issue and modification dates count once, on the distribution or the dataset.
        contextuality: best.contextuality
            + points(!best.issued && dataset.issued.is_some(), 5.0)
            + points(!best.modified && dataset.modified.is_some(), 5.0),
    }
}

/// A distribution's interoperability points, without the dataset's compliance.
fn interoperability(d: &Distribution) -> f64 {
    let code = d.format.as_deref().and_then(vocab::file_type_code);
    let format_aligned = d.format.as_deref().is_some_and(|f| vocab::FILE_TYPES.has_uri(f));
    let media_aligned = d.media_type.as_deref().is_some_and(vocab::iana_media_type);
    points(d.format.is_some(), 20.0)
        + points(d.media_type.is_some(), 10.0)
        // Both must come from their vocabulary (MQA `formatMediaTypeVocabularyAlignment`).
        + points(format_aligned && media_aligned, 10.0)
        + points(code.as_deref().is_some_and(|c| vocab::NON_PROPRIETARY.contains(&c)), 20.0)
        + points(code.as_deref().is_some_and(|c| vocab::MACHINE_READABLE.contains(&c)), 20.0)
}

#[cfg(test)]
mod tests {
    //! The worked cases of issue 14's MQA research (cases 1 to 10 there), each computed
    //! from piveau's metric table (piveau-data/piveau-vocabularies@7b29f2a
    //! `src/main/resources/piveau-dqv-vocabulary.ttl`: points and what each indicator is
    //! computed on) and its scoring code (`io.piveau.metrics` `scoreMetrics`: the best
    //! distribution supplies every distribution indicator). Reachability is not probed and
    //! no negative points are given, in both. Case 8 (a record valid for DCAT-AP but not for
    //! DCAT-AP_IT) is about the validator the caller runs, not this module: not covered.
    use super::*;
    use crate::harvest::dcat::tests::{fixture, parse};
    use crate::harvest::model::{Agent, ContactPoint, License, Text};
    use oxrdfio::RdfFormat;

    fn file_type(code: &str) -> Option<String> {
        Some(format!("{}{code}", vocab::FILE_TYPE_BASE))
    }

    fn media_type(name: &str) -> Option<String> {
        Some(format!("{}{name}", vocab::MEDIA_TYPE_BASE))
    }

    fn licence(uri: String) -> Option<License> {
        Some(License { uri: Some(uri), ..Default::default() })
    }

    fn eu_licence(code: &str) -> Option<License> {
        licence(format!("{}{code}", vocab::EU_LICENCE_BASE))
    }

    fn agid_licence(code: &str) -> Option<License> {
        licence(format!("{}{code}", vocab::LICENCE_BASE))
    }

    fn publisher() -> Option<Agent> {
        Some(Agent { name: Some("A".into()), identifier: Some("a".into()) })
    }

    fn with(distributions: Vec<Distribution>) -> Dataset {
        Dataset { distributions, ..Default::default() }
    }

    /// mediana's own complete record (case 1 of the report).
    fn complete(licence: Option<License>) -> Dataset {
        Dataset {
            keywords: vec!["k".into()],
            themes: vec![format!("{}ECON", vocab::THEME_BASE)],
            spatial: vec![Default::default()],
            temporal: vec![Default::default()],
            access_rights: Some(format!("{}PUBLIC", vocab::ACCESS_RIGHT_BASE)),
            contact_point: Some(ContactPoint::default()),
            publisher: publisher(),
            issued: Some("2020-01-01".into()),
            modified: Some("2020-01-02".into()),
            title: vec![Text { lang: String::new(), value: "t".into() }],
            distributions: vec![Distribution {
                download_url: Some("https://x/y.csv".into()),
                format: file_type("CSV"),
                media_type: media_type("text/csv"),
                license: licence,
                byte_size: Some(10),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_dataset_scores_all_but_the_reachability_and_rights_points() {
        // Case 1: 405 less the 80 reachability points and the 5 of dct:rights, which the
        // record has not on its distribution. A21_CCBY40 earns "licence from a vocabulary"
        // through mediana's AgID → EU table (CC_BY_4_0): 320.
        let q = score(&complete(agid_licence("A21_CCBY40")), true);
        assert_eq!(q.total(), 320.0, "{q:?}");
        assert_eq!(q.rating(), "Good");
        // The report's 310, for an AgID licence the EU table has no concept for.
        assert_eq!(score(&complete(agid_licence("A23_CCBY30IT")), true).total(), 310.0);
        assert_eq!(score(&Dataset::default(), false).total(), 0.0);
    }

    #[test]
    fn a_licence_scores_its_vocabulary_points_only_from_the_eu_table() {
        let only = |license| score(&with(vec![Distribution { license, ..Default::default() }]), false).total();
        // Case 2b: an EU licence concept: 20 + 10.
        assert_eq!(only(eu_licence("CC_BY_4_0")), 30.0);
        // Case 2a: an AgID licence with no EU concept is only "specified": 20.
        assert_eq!(only(agid_licence("A23_CCBY30IT")), 20.0);
        // Through the AgID → EU table.
        assert_eq!(only(agid_licence("A21_CCBY40")), 30.0);
        // A Creative Commons page is a licence, not the EU concept.
        assert_eq!(only(licence("http://creativecommons.org/licenses/by/4.0/".into())), 20.0);
    }

    #[test]
    fn the_vocabulary_point_needs_format_and_media_type_both_aligned() {
        // Case 3: 20 + 10 + 0 + 20 + 20.
        let literal =
            Distribution { format: file_type("CSV"), media_type: Some("text/csv".into()), ..Default::default() };
        assert_eq!(score(&with(vec![literal]), false).total(), 70.0);
        // Case 9: an IANA URI of no registered type does not align.
        let made_up =
            Distribution { format: file_type("CSV"), media_type: media_type("foo/bar"), ..Default::default() };
        assert_eq!(score(&with(vec![made_up]), false).total(), 70.0);
        let aligned =
            Distribution { format: file_type("CSV"), media_type: media_type("text/csv"), ..Default::default() };
        assert_eq!(score(&with(vec![aligned]), false).total(), 80.0);
    }

    #[test]
    fn rights_count_on_the_distribution() {
        // Case 4, the report's Turtle: 5 points (`rightsAvailability`, "specified in a
        // distribution").
        let turtle = br#"@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://x/d> a dcat:Dataset ; dcat:distribution <http://x/d1> .
<http://x/d1> a dcat:Distribution ; dct:rights [ a dct:RightsStatement ; rdfs:label "Riuso libero"@it ] .
"#;
        let (datasets, _) = parse(turtle, RdfFormat::Turtle).expect("parses");
        assert_eq!(score(&datasets[0], false).total(), 5.0);
    }

    #[test]
    fn dates_count_once_on_the_distribution_or_the_dataset() {
        // Case 5: the dates only on the distribution: 5 + 5.
        let dated = Distribution {
            issued: Some("2024-01-10".into()),
            modified: Some("2024-06-01".into()),
            ..Default::default()
        };
        assert_eq!(score(&with(vec![dated.clone()]), false).contextuality, 10.0);
        // On both: still 10.
        let both =
            Dataset { issued: Some("2024-01-10".into()), modified: Some("2024-06-01".into()), ..with(vec![dated]) };
        assert_eq!(score(&both, false).contextuality, 10.0);
    }

    #[test]
    fn the_best_distribution_counts_whole_not_a_share_of_distributions() {
        // Case 6: a CSV with all it can have beside a bare PDF. Best = the CSV: 20 + 80 +
        // 30 + 5 = 135, plus theme 30 and publisher 10.
        let csv = Distribution {
            download_url: Some("https://x/a.csv".into()),
            format: file_type("CSV"),
            media_type: media_type("text/csv"),
            license: eu_licence("CC_BY_4_0"),
            byte_size: Some(1024),
            ..Default::default()
        };
        let pdf = Distribution { format: file_type("PDF"), ..Default::default() };
        let dataset = Dataset {
            themes: vec![format!("{}AGRI", vocab::THEME_BASE)],
            publisher: publisher(),
            ..with(vec![csv, pdf])
        };
        assert_eq!(score(&dataset, false).total(), 175.0);
    }

    #[test]
    fn one_distribution_supplies_every_dimension() {
        // Case 7, the report's Turtle: the reusable distribution earns 60, the
        // interoperable one 80; only the latter counts (80), plus theme 30 and publisher 10.
        let turtle = br#"@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix dct: <http://purl.org/dc/terms/> .
<d> a dcat:Dataset ; dct:title "Aziende agricole"@it ; dct:description "..."@it ;
    dcat:theme <http://publications.europa.eu/resource/authority/data-theme/AGRI> ;
    dct:publisher <agid> ; dcat:distribution <d1>, <d2> .
<d1> a dcat:Distribution ; dcat:accessURL <https://example.it/a> ; dcat:downloadURL <https://example.it/a.zip> ;
     dct:license <http://publications.europa.eu/resource/authority/licence/CC_BY_4_0> ;
     dcat:byteSize "1024"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> ;
     dct:rights [ a dct:RightsStatement ] .
<d2> a dcat:Distribution ; dcat:accessURL <https://example.it/b> ;
     dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
     dcat:mediaType <http://www.iana.org/assignments/media-types/text/csv> .
"#;
        let (datasets, _) = parse(turtle, RdfFormat::Turtle).expect("parses");
        let q = score(&datasets[0], false);
        assert_eq!(q.total(), 120.0, "{q:?}");
        assert_eq!((q.accessibility, q.reusability, q.contextuality), (0.0, 10.0, 0.0));
        assert_eq!(q.rating(), "Bad");
    }

    #[test]
    fn access_rights_score_their_vocabulary_points_only_for_an_eu_concept() {
        // Case 10: `…/access-right/OPEN` is no concept of the table: 10 + 0.
        let open = Dataset { access_rights: Some(format!("{}OPEN", vocab::ACCESS_RIGHT_BASE)), ..Default::default() };
        assert_eq!(score(&open, false).total(), 10.0);
        let public =
            Dataset { access_rights: Some(format!("{}PUBLIC", vocab::ACCESS_RIGHT_BASE)), ..Default::default() };
        assert_eq!(score(&public, false).total(), 15.0);
    }

    #[test]
    fn fixture_scores_are_stable() {
        let (datasets, _) =
            parse(&fixture("dcat-ap-it/examples/dataset_identifier.rdf"), RdfFormat::RdfXml).expect("parse");
        let q = score(&datasets[0], false);
        // Theme (30), publisher (10), contact point (20), issued and modified (10): no
        // keywords, no distributions described in the file.
        assert_eq!(q.total(), 70.0, "{q:?}");
    }

    #[test]
    fn a_mean_is_rated_like_a_score() {
        assert_eq!(rating_of(120.5), "Sufficient");
        assert_eq!(rating_of(351.0), "Excellent");
        assert_eq!(rating_of(0.0), "Bad");
    }
}
