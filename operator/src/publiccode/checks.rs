//! Checks of single values: dates, URLs, e-mail addresses, SPDX expressions, BCP 47
//! language tags, country codes, IPA codes. Each answers yes or no; the messages are
//! written by the caller, which knows the key.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::NaiveDate;
use language_tags::LanguageTag;
use regex::Regex;

use crate::api::patterns;

/// A regular expression compiled once. The patterns are constants, so one that does not
/// compile is a bug the tests catch; until fixed it matches nothing rather than panicking.
type Pattern = LazyLock<Option<Regex>>;

fn matches(pattern: &Pattern, text: &str) -> bool {
    pattern.as_ref().is_some_and(|re| re.is_match(text))
}

static HTTP_URL: Pattern = LazyLock::new(|| Regex::new(patterns::HTTP_URL).ok());
static IPA_CODE: Pattern = LazyLock::new(|| Regex::new(patterns::IPA_CODE).ok());
/// An absolute URI (RFC 3986): a scheme, a colon, no spaces. `url` may be `git://`,
/// `ssh://` or an `urn:`, so it is not limited to HTTP.
static URI: Pattern = LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$").ok());
static EMAIL: Pattern = LazyLock::new(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").ok());

/// A calendar date written `YYYY-MM-DD`, and nothing else (no time, no short months).
pub(crate) fn date(text: &str) -> Option<NaiveDate> {
    let shaped = text.len() == 10 && text.as_bytes().get(4) == Some(&b'-') && text.as_bytes().get(7) == Some(&b'-');
    shaped.then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten()
}

/// An `http://` or `https://` URL, as the CRDs accept them.
pub(crate) fn http_url(text: &str) -> bool {
    matches(&HTTP_URL, text)
}

/// An absolute URI of any scheme.
pub(crate) fn uri(text: &str) -> bool {
    matches(&URI, text)
}

/// An e-mail address, loosely: the standard asks for one, not for RFC 5322 in full.
pub(crate) fn email(text: &str) -> bool {
    matches(&EMAIL, text)
}

/// How licence expressions are read: the SPDX syntax and licence list, strictly, except
/// that deprecated identifiers (`GPL-3.0`) are accepted, as the reference parser accepts
/// them and many published files still use them.
pub(crate) const SPDX_MODE: spdx::ParseMode = spdx::ParseMode { allow_deprecated: true, ..spdx::ParseMode::STRICT };

/// An SPDX licence expression (`AGPL-3.0-or-later OR MIT`).
pub(crate) fn spdx_expression(text: &str) -> Option<spdx::Expression> {
    spdx::Expression::parse_mode(text, SPDX_MODE).ok()
}

/// A BCP 47 language tag whose subtags are in the IANA registry (`it`, `en-GB`,
/// `sl-IT-nedis`); `en_GB` is not one.
pub(crate) fn language_tag(text: &str) -> bool {
    LanguageTag::parse(text).is_ok_and(|tag| tag.is_valid())
}

/// An ISO 3166-1 alpha-2 country code, in either case. The IANA language subtag registry
/// lists every ISO 3166-1 region, so it serves as the country list.
pub(crate) fn country(text: &str) -> bool {
    text.len() == 2 && text.chars().all(|c| c.is_ascii_alphabetic()) && language_tag(&format!("und-{text}"))
}

/// IPA codes (Indice delle Pubbliche Amministrazioni) known to be valid. The shape of a code
/// is always checked (the pattern the CRDs use); whether it names a real administration can
/// only be told with the IndicePA list, which changes every week, so it is given at run time
/// (e.g. the reference parser's `data/it/ipa_codes.txt`) rather than frozen into the binary.
#[derive(Clone, Debug, Default)]
pub struct IpaCodes {
    known: HashSet<String>,
}

impl IpaCodes {
    /// Reads a list with one code per line; blank lines are skipped, case is ignored (the
    /// reference parser compares without case).
    pub fn from_lines(text: &str) -> Self {
        Self { known: text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_lowercase).collect() }
    }

    /// How many codes the list holds.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    fn contains(&self, code: &str) -> bool {
        self.known.contains(&code.to_lowercase())
    }
}

/// Whether `code` is an IPA code: of the right shape and, when a list is given, in it.
pub(crate) fn ipa_code(code: &str, known: Option<&IpaCodes>) -> bool {
    matches(&IPA_CODE, code) && known.is_none_or(|list| list.contains(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for pattern in [&HTTP_URL, &IPA_CODE, &URI, &EMAIL] {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn dates_are_calendar_days_written_in_full() {
        assert_eq!(date("2040-01-01"), NaiveDate::from_ymd_opt(2040, 1, 1));
        for bad in ["2019-02-30", "2019-1-01", "2019-01-01T00:00:00Z", "01/01/2019", "", "2019-01-1x"] {
            assert_eq!(date(bad), None, "{bad:?} accepted");
        }
    }

    #[test]
    fn urls_and_addresses() {
        assert!(http_url("https://developers.italia.it") && !http_url("ftp://x.it") && !http_url("foobar"));
        assert!(uri("git://example.org/a.git") && uri("urn:x-italian-pa:pcm") && !uri("foobar") && !uri("a b:c"));
        assert!(email("francesco.rossi@example.org") && !email("francesco") && !email("a@b"));
    }

    #[test]
    fn licences_languages_and_countries() {
        for good in ["AGPL-3.0-or-later", "MIT OR Apache-2.0", "GPL-3.0", "EUPL-1.2 AND (MIT OR BSD-3-Clause)"] {
            assert!(spdx_expression(good).is_some(), "{good:?} refused");
        }
        for bad in ["Invalid License", "MIT OR", "mit or apache", ""] {
            assert!(spdx_expression(bad).is_none(), "{bad:?} accepted");
        }
        assert!(language_tag("it") && language_tag("en-GB") && language_tag("sl-IT-nedis"));
        assert!(!language_tag("en_GB") && !language_tag("english") && !language_tag("xx-YY-zzzzzzzzz"));
        assert!(country("IT") && country("de") && !country("JJ") && !country("ITA") && !country("1T"));
    }

    #[test]
    fn ipa_codes_by_shape_and_by_list() {
        let list = IpaCodes::from_lines("pcm\nc_h501\n\n");
        assert_eq!(list.len(), 2);
        assert!(ipa_code("no_such_pa", None), "without a list only the shape is checked");
        assert!(!ipa_code("no-such-pa", None));
        assert!(ipa_code("PCM", Some(&list)) && !ipa_code("no_such_pa", Some(&list)));
    }
}
