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
    /// Formats and media types of the best distribution, and DCAT-AP_IT conformance (max 110).
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

    /// data.europa.eu's rating of a score.
    pub fn rating(&self) -> &'static str {
        match self.total() {
            t if t > 350.0 => "Excellent",
            t if t > 220.0 => "Good",
            t if t > 120.0 => "Sufficient",
            _ => "Bad",
        }
    }
}

fn points(condition: bool, weight: f64) -> f64 {
    if condition { weight } else { 0.0 }
}

/// Weight × share of distributions that pass (MQA scores distribution indicators by share).
fn share(distributions: &[Distribution], weight: f64, pass: impl Fn(&Distribution) -> bool) -> f64 {
    if distributions.is_empty() {
        return 0.0;
    }
    let passing = distributions.iter().filter(|d| pass(d)).count();
    weight * passing as f64 / distributions.len() as f64
}

const ACCESS_RIGHT_BASE: &str = "http://publications.europa.eu/resource/authority/access-right/";
const MEDIA_TYPE_BASE: &str = "http://www.iana.org/assignments/media-types/";

/// Scores a dataset. `conformant` is whether DCAT-AP_IT validation found no errors (MQA
/// gives 30 points for conformance to the application profile).
pub fn score(dataset: &Dataset, conformant: bool) -> Quality {
    let dists = &dataset.distributions;
    let findability = points(!dataset.keywords.is_empty(), 30.0)
        + points(!dataset.themes.is_empty(), 30.0)
        + points(!dataset.spatial.is_empty(), 20.0)
        + points(!dataset.temporal.is_empty(), 20.0);
    // The two "reachable" indicators (50 + 30) would need a request to every third-party
    // URL; not awarded (a lower bound, documented).
    let accessibility = share(dists, 20.0, |d| !blank(&d.download_url));
    // Interoperability: only the best distribution counts (same content, several formats).
    let best = dists.iter().map(interoperability).fold(0.0, f64::max);
    let interoperability = best + points(conformant, 30.0);
    let reusability = share(dists, 20.0, |d| d.license.is_some())
        + share(dists, 10.0, |d| d.license.as_ref().and_then(|l| l.uri.as_deref()).is_some_and(vocab::known_licence))
        + points(dataset.access_rights.is_some(), 10.0)
        + points(dataset.access_rights.as_deref().is_some_and(|a| a.starts_with(ACCESS_RIGHT_BASE)), 5.0)
        + points(dataset.contact_point.is_some(), 20.0)
        + points(dataset.publisher.as_ref().is_some_and(|p| !p.is_empty()), 10.0);
    let contextuality = points(dataset.rights.is_some(), 5.0)
        + share(dists, 5.0, |d| d.byte_size.is_some())
        + points(dataset.issued.is_some(), 5.0)
        + points(dataset.modified.is_some() || dists.iter().any(|d| d.modified.is_some()), 5.0);
    Quality { findability, accessibility, interoperability, reusability, contextuality }
}

fn interoperability(d: &Distribution) -> f64 {
    let code = d.format.as_deref().and_then(vocab::file_type_code);
    let format_uri = d.format.as_deref().is_some_and(|f| vocab::in_table(f, vocab::FILE_TYPE_BASE, vocab::FILE_TYPES));
    let media_uri = d.media_type.as_deref().is_some_and(|m| m.starts_with(MEDIA_TYPE_BASE));
    points(d.format.is_some(), 20.0)
        + points(d.media_type.is_some(), 10.0)
        + points(format_uri || media_uri, 10.0)
        + points(code.as_deref().is_some_and(|c| vocab::NON_PROPRIETARY.contains(&c)), 20.0)
        + points(code.as_deref().is_some_and(|c| vocab::MACHINE_READABLE.contains(&c)), 20.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::dcat::tests::{fixture, parse};
    use crate::harvest::model::{ContactPoint, License, Text};
    use oxrdfio::RdfFormat;

    #[test]
    fn a_complete_dataset_scores_all_but_the_reachability_points() {
        let dataset = Dataset {
            keywords: vec!["k".into()],
            themes: vec![format!("{}ECON", vocab::THEME_BASE)],
            spatial: vec![Default::default()],
            temporal: vec![Default::default()],
            access_rights: Some(format!("{ACCESS_RIGHT_BASE}PUBLIC")),
            rights: Some("r".into()),
            contact_point: Some(ContactPoint::default()),
            publisher: Some(crate::harvest::model::Agent { name: Some("A".into()), identifier: Some("a".into()) }),
            issued: Some("2020-01-01".into()),
            modified: Some("2020-01-02".into()),
            title: vec![Text { lang: String::new(), value: "t".into() }],
            distributions: vec![Distribution {
                download_url: Some("https://x/y.csv".into()),
                format: Some(format!("{}CSV", vocab::FILE_TYPE_BASE)),
                media_type: Some(format!("{MEDIA_TYPE_BASE}text/csv")),
                license: Some(License {
                    uri: Some(format!("{}A21_CCBY40", vocab::LICENCE_BASE)),
                    ..Default::default()
                }),
                byte_size: Some(10),
                ..Default::default()
            }],
            ..Default::default()
        };
        let q = score(&dataset, true);
        assert_eq!(q.total(), f64::from(MAX_SCORE) - 80.0);
        assert_eq!(q.rating(), "Good");
        assert_eq!(score(&Dataset::default(), false).total(), 0.0);
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
}
