//! `mediana validate dcat FILE`: validates and scores every dataset of a local catalogue
//! file, and prints a report a person can act on.

use std::fmt;

use oxrdfio::RdfFormat;

use super::dcat::{self, DcatError, PageStats};
use super::quality;
use super::validate::{self, Finding, Severity};

/// The findings of one dataset.
#[derive(Debug, Clone)]
pub struct DatasetCheck {
    /// Identifier or URI.
    pub dataset: String,
    /// Findings, errors first.
    pub findings: Vec<Finding>,
    /// MQA points.
    pub quality: f64,
}

/// The report on a file.
#[derive(Debug, Clone, Default)]
pub struct FileCheck {
    /// What was read.
    pub stats: PageStats,
    /// Per dataset, in document order.
    pub datasets: Vec<DatasetCheck>,
}

impl FileCheck {
    /// Datasets with at least one error.
    pub fn invalid(&self) -> usize {
        self.datasets.iter().filter(|d| validate::has_errors(&d.findings)).count()
    }

    /// Mean MQA score.
    pub fn mean_quality(&self) -> Option<f64> {
        (!self.datasets.is_empty())
            .then(|| self.datasets.iter().map(|d| d.quality).sum::<f64>() / self.datasets.len() as f64)
    }

    /// Valid when it holds datasets and none has an error.
    pub fn is_valid(&self) -> bool {
        !self.datasets.is_empty() && self.invalid() == 0
    }
}

/// Parses, validates and scores a catalogue document.
pub fn check(reader: impl std::io::Read, format: Option<RdfFormat>, document: &str) -> Result<FileCheck, DcatError> {
    let format = dcat::detect_format(format, None, document)?;
    let mut datasets = Vec::new();
    let stats = dcat::parse_reader(reader, format, document, &mut |dataset| {
        let mut findings = validate::validate(&dataset);
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        let score = quality::score(&dataset, !validate::has_errors(&findings)).total();
        datasets.push(DatasetCheck { dataset: dataset.label(), findings, quality: score });
        Ok(())
    })?;
    Ok(FileCheck { stats, datasets })
}

impl fmt::Display for FileCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let warnings: usize =
            self.datasets.iter().map(|d| d.findings.iter().filter(|x| x.severity == Severity::Warning).count()).sum();
        writeln!(
            f,
            "{} datasets ({} triples): {} valid, {} invalid, {} warnings",
            self.datasets.len(),
            self.stats.triples,
            self.datasets.len() - self.invalid(),
            self.invalid(),
            warnings
        )?;
        if let Some(mean) = self.mean_quality() {
            let rating = quality::rating_of(mean);
            writeln!(f, "mean quality: {mean:.1} / {} ({rating}, data.europa.eu MQA points)", quality::MAX_SCORE)?;
        }
        if self.stats.late_triples > 0 || self.stats.orphan_distributions > 0 {
            writeln!(
                f,
                "note: {} triples came after their dataset and {} distributions were not linked in time \
                 (the document does not group triples by subject)",
                self.stats.late_triples, self.stats.orphan_distributions
            )?;
        }
        for dataset in self.datasets.iter().filter(|d| !d.findings.is_empty()) {
            writeln!(f, "\n{} (quality {:.0})", dataset.dataset, dataset.quality)?;
            for finding in &dataset.findings {
                writeln!(f, "  {finding}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harvest::dcat::tests::fixture;

    #[test]
    fn the_prato_report_names_the_empty_creator() {
        let report =
            check(fixture("dcat-ap-it/examples/dataset_identifier.rdf").as_slice(), None, "dataset_identifier.rdf")
                .expect("parses");
        assert!(!report.is_valid());
        let text = report.to_string();
        assert!(text.starts_with("1 datasets (34 triples): 0 valid, 1 invalid"), "{text}");
        assert!(text.contains("error: dct:creator[1]: the agent has neither foaf:name nor dct:identifier"), "{text}");
        assert!(text.contains("mean quality: 70.0 / 405 (Bad"), "{text}");
    }

    #[test]
    fn the_unibo_catalogue_is_valid() {
        let report =
            check(fixture("dcat-ap-it/examples/catalog_dati_unibo.rdf").as_slice(), None, "catalog_dati_unibo.rdf")
                .expect("parses");
        assert!(report.is_valid(), "{report}");
        assert_eq!(report.datasets.len(), 12);
    }
}
