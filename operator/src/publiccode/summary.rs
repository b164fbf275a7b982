//! What a ReusableSolution's status shows of its publiccode.yml, and the reuse policy an
//! administration applies before running reused software: not obsolete, still maintained,
//! under a licence it accepts.

use std::fmt;

use chrono::NaiveDate;

use super::checks;
use super::model::{Choice, DevelopmentStatus, MaintenanceType, Publiccode};
use crate::api::reusable_solution::PubliccodeSummary;

/// The facts of a publiccode.yml a reviewer looks for first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// `name`.
    pub name: Option<String>,
    /// `softwareVersion`.
    pub version: Option<String>,
    /// `legal.license` (SPDX expression).
    pub license: Option<String>,
    /// `maintenance.type`.
    pub maintenance_type: Option<String>,
    /// `softwareType`.
    pub software_type: Option<String>,
    /// `developmentStatus`.
    pub development_status: Option<String>,
    /// The IPA code of the administration owning the software: `organisation.uri`
    /// (`urn:x-italian-pa:<code>`), else the deprecated `IT.riuso.codiceIPA`. Reuse under
    /// CAD art. 69 is between administrations, so this is who to ask.
    pub owner_ipa_code: Option<String>,
}

impl Summary {
    /// The summary of a file.
    pub fn of(publiccode: &Publiccode) -> Self {
        let owner_ipa_code = publiccode
            .organisation
            .as_ref()
            .and_then(|o| o.ipa_code())
            .or_else(|| publiccode.italian.as_ref()?.codice_ipa.as_deref())
            .map(str::to_owned);
        Self {
            name: publiccode.name.clone(),
            version: publiccode.software_version.clone(),
            license: publiccode.legal.license.clone(),
            maintenance_type: publiccode.maintenance.kind.map(|k| k.as_str().to_owned()),
            software_type: publiccode.software_type.map(|t| t.as_str().to_owned()),
            development_status: publiccode.development_status.map(|s| s.as_str().to_owned()),
            owner_ipa_code,
        }
    }

    /// The status block of a ReusableSolution run for the administration `reused_by` (its
    /// IPA code, from the spec).
    pub fn into_status(self, reused_by: Option<String>) -> PubliccodeSummary {
        PubliccodeSummary {
            name: self.name,
            version: self.version,
            license: self.license,
            maintenance_type: self.maintenance_type,
            software_type: self.software_type,
            development_status: self.development_status,
            reused_by,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = [
            ("name", &self.name),
            ("version", &self.version),
            ("licence", &self.license),
            ("maintenance", &self.maintenance_type),
            ("software type", &self.software_type),
            ("development status", &self.development_status),
            ("owner IPA code", &self.owner_ipa_code),
        ];
        for (label, value) in rows {
            writeln!(f, "{label:<20}{}", value.as_deref().unwrap_or("-"))?;
        }
        Ok(())
    }
}

impl Publiccode {
    /// Whether the software is declared obsolete: not to be taken up for reuse.
    pub fn is_obsolete(&self) -> bool {
        self.development_status == Some(DevelopmentStatus::Obsolete)
    }

    /// Whether the software is maintained under contract and every contract ended before
    /// `today` (`until` is the contract's last day). False when it is not maintained under
    /// contract, when no contractor is listed, or when a contract has no readable end:
    /// the policy flags only what the file proves.
    pub fn all_contracts_expired(&self, today: NaiveDate) -> bool {
        let contractors = &self.maintenance.contractors;
        self.maintenance.kind == Some(MaintenanceType::Contract)
            && !contractors.is_empty()
            && contractors.iter().all(|c| c.until.is_some_and(|until| until < today))
    }

    /// Whether `legal.license` is acceptable under `allowlist` (SPDX licence identifiers,
    /// e.g. `EUPL-1.2`, `AGPL-3.0-or-later`), with the SPDX semantics of the expression:
    /// one alternative of an `OR` must be allowed, and every part of an `AND`. A licence
    /// `WITH` an exception needs an entry naming that exception too. Identifiers are
    /// compared as SPDX compares them: `GPL-2.0+` is satisfied by an entry `GPL-3.0-only`,
    /// but `AGPL-3.0-or-later` needs that very identifier. Entries that are not SPDX
    /// identifiers allow nothing; a missing or invalid licence is never allowed.
    pub fn licence_allowed(&self, allowlist: &[String]) -> bool {
        let Some(expression) = self.legal.license.as_deref().and_then(checks::spdx_expression) else {
            return false;
        };
        let allowed: Vec<spdx::Licensee> =
            allowlist.iter().filter_map(|entry| spdx::Licensee::parse_mode(entry, checks::SPDX_MODE).ok()).collect();
        expression.evaluate(|requirement| allowed.iter().any(|licensee| licensee.satisfies(requirement)))
    }
}
