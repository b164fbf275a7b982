//! Checks of single values: dates, URLs, e-mail addresses, SPDX expressions, BCP 47
//! language tags, MIME types, country codes, IPA codes, organisation URIs, oEmbed video
//! URLs. Each answers yes or no; the messages are written by the caller, which knows the key.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::NaiveDate;
use language_tags::LanguageTag;
use regex::{Regex, RegexSet};

use crate::api::patterns;

/// A regular expression compiled once. The patterns are constants, so one that does not
/// compile is a bug the tests catch; until fixed it matches nothing rather than panicking.
type Pattern = LazyLock<Option<Regex>>;

fn matches(pattern: &Pattern, text: &str) -> bool {
    pattern.as_ref().is_some_and(|re| re.is_match(text))
}

static HTTP_URL: Pattern = LazyLock::new(|| Regex::new(patterns::HTTP_URL).ok());
/// An absolute URI (RFC 3986): a scheme, a colon, no spaces. `url` may be `git://`,
/// `ssh://` or an `urn:`, so it is not limited to HTTP.
static URI: Pattern = LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$").ok());
static EMAIL: Pattern = LazyLock::new(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").ok());
/// `type/subtype`, the reference parser's `is_mime_type` (after jshttp/media-typer): spaces
/// around it are allowed, parameters (`; charset=utf-8`) are not.
static MIME_TYPE: Pattern = LazyLock::new(|| {
    Regex::new(r"^ *([A-Za-z0-9][A-Za-z0-9!#$&^_-]{0,126})/([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}) *$").ok()
});
/// An URN as RFC 2141 writes it (go-playground's `urn_rfc2141`, which the reference parser
/// applies to URN organisation URIs): `urn:<NID>:<NSS>`.
static URN: Pattern = LazyLock::new(|| {
    Regex::new(r"^(?i:urn):[A-Za-z0-9][A-Za-z0-9-]{0,31}:([A-Za-z0-9()+,\-.:=@;$_!*'/?#]|%[0-9A-Fa-f]{2})+$").ok()
});

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

/// A MIME type, `type/subtype` (`inputTypes`, `outputTypes`).
pub(crate) fn mime_type(text: &str) -> bool {
    matches(&MIME_TYPE, text)
}

/// The officially assigned ISO 3166-1 alpha-2 codes and `XK`: the list of go-playground's
/// `iso3166_1_alpha2`, which the reference parser uses (`operator/data/SOURCES.md`). Not the
/// IANA language subtag registry, which also holds reserved and private-use codes (`EU`,
/// `UN`, `QM`-`QZ`, `XA`-`XZ`, `ZZ`) and codes withdrawn from ISO 3166-1 (`YU`, `CS`).
static COUNTRIES: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../../data/iso3166/alpha2.txt").lines().map(str::trim).collect());

/// An ISO 3166-1 alpha-2 country code, all upper case or all lower case (`Fr` is neither,
/// and the reference parser refuses it).
pub(crate) fn country(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    (text == upper || text == text.to_ascii_lowercase()) && COUNTRIES.contains(upper.as_str())
}

/// IPA codes (Indice delle Pubbliche Amministrazioni): a code is valid when the list holds
/// it, and nothing else is checked, as the reference parser does. The list changes every
/// week; mediana ships the reference parser's snapshot ([`IpaCodes::shipped`]) and takes a
/// newer one at run time.
#[derive(Clone, Debug, Default)]
pub struct IpaCodes {
    known: HashSet<String>,
}

/// The snapshot in `operator/data/ipa/` (see `operator/data/SOURCES.md`), read once.
static SHIPPED: LazyLock<IpaCodes> =
    LazyLock::new(|| IpaCodes::from_lines(include_str!("../../data/ipa/ipa_codes.txt")));

impl IpaCodes {
    /// Reads a list with one code per line; blank lines are skipped, case is ignored (the
    /// reference parser compares without case, as the IndicePA guidelines say).
    pub fn from_lines(text: &str) -> Self {
        Self { known: text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_lowercase).collect() }
    }

    /// The list mediana is built with: publiccode-parser-go's at v5.4.3.
    pub fn shipped() -> &'static Self {
        &SHIPPED
    }

    /// How many codes the list holds.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Whether `code` names an administration of the list, in any case.
    pub(crate) fn contains(&self, code: &str) -> bool {
        self.known.contains(&code.to_lowercase())
    }
}

/// `organisation.uri` and `fundedBy[].uri`, as the reference parser's `organisation_uri`
/// checks them: an URN must follow RFC 2141 and, when it is `urn:x-italian-pa:<code>` (in
/// any case), name a listed IPA code; any other URI needs a scheme and a host, so
/// `mailto:` and `tel:` URIs are refused.
pub(crate) fn organisation_uri(text: &str, ipa_codes: &IpaCodes) -> bool {
    if !uri(text) {
        return false;
    }
    let (scheme, rest) = text.split_once(':').unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("urn") {
        return has_host(rest);
    }
    // RFC 2141 reserves the namespace `urn` itself, and go-urn refuses it.
    let nid = rest.split(':').next().unwrap_or_default();
    if !matches(&URN, text) || nid.eq_ignore_ascii_case("urn") {
        return false;
    }
    super::model::italian_pa_code(text).is_none_or(|code| ipa_codes.contains(code))
}

/// Whether what follows `scheme:` starts with an authority that names a host
/// (`//user@host:port/...`), as Go's `url.ParseRequestURI` fills `Host`.
fn has_host(after_scheme: &str) -> bool {
    let Some(authority) = after_scheme.strip_prefix("//") else { return false };
    let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    !host.is_empty()
}

/// The URL schemes of the oEmbed providers (oembed.com's list, as the reference parser
/// embeds it: `operator/data/oembed/`), each one pattern of a set.
static OEMBED: LazyLock<Option<RegexSet>> = LazyLock::new(|| {
    let schemes: Vec<String> = serde_json::from_str(include_str!("../../data/oembed/oembed_schemes.json")).ok()?;
    RegexSet::new(schemes.iter().map(|s| oembed_pattern(s))).ok()
});

/// A provider's URL scheme as a regular expression, matched as go-oembed (the reference
/// parser's matcher until v5.3) matched it: a `*` in the host is any run of characters but
/// `/` (so `https://*.youtube.com/...` needs a subdomain), a `*` elsewhere is anything, and
/// an `http://` scheme accepts `https://` too.
fn oembed_pattern(scheme: &str) -> String {
    let (scheme_part, rest) = scheme.split_once("://").map_or(("", scheme), |(s, r)| (s, r));
    let (host, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let glob = |text: &str, star: &str| text.split('*').map(regex::escape).collect::<Vec<_>>().join(star);
    let prefix = match scheme_part {
        "" => String::new(),
        "http" => "https?://".to_owned(),
        other => format!("{}://", regex::escape(other)),
    };
    // A scheme without `://` (`spotify:*`) has no host: all of it is matched as a path.
    let host_star = if scheme_part.is_empty() { ".*" } else { "[^/]*" };
    format!("^{prefix}{}{}$", glob(host, host_star), glob(path, ".*"))
}

/// A video URL that an oEmbed provider serves (`description.*.videos`). Nothing is
/// fetched: as the reference parser does, the URL is only matched against the schemes.
pub(crate) fn oembed_url(text: &str) -> bool {
    OEMBED.as_ref().is_some_and(|set| set.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for pattern in [&HTTP_URL, &URI, &EMAIL, &MIME_TYPE, &URN] {
            assert!(pattern.is_some());
        }
        assert!(OEMBED.is_some(), "the oEmbed schemes load and compile");
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
    fn licences_and_languages() {
        for good in ["AGPL-3.0-or-later", "MIT OR Apache-2.0", "GPL-3.0", "EUPL-1.2 AND (MIT OR BSD-3-Clause)"] {
            assert!(spdx_expression(good).is_some(), "{good:?} refused");
        }
        for bad in ["Invalid License", "MIT OR", "mit or apache", ""] {
            assert!(spdx_expression(bad).is_none(), "{bad:?} accepted");
        }
        assert!(language_tag("it") && language_tag("en-GB") && language_tag("sl-IT-nedis"));
        assert!(!language_tag("en_GB") && !language_tag("english") && !language_tag("xx-YY-zzzzzzzzz"));
    }

    #[test]
    fn countries_are_the_iso_list_in_one_case() {
        assert_eq!(COUNTRIES.len(), 250, "249 assigned codes and XK");
        for good in ["IT", "de", "XK", "GB", "ax"] {
            assert!(country(good), "{good:?} refused");
        }
        // Mixed case, and codes the IANA registry has but ISO 3166-1 does not assign.
        for bad in ["Fr", "iT", "EU", "UN", "UK", "ZZ", "QM", "XA", "YU", "eu", "JJ", "ITA", "1T", ""] {
            assert!(!country(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn mime_types_are_type_and_subtype() {
        for good in ["text/plain", "application/vnd.oasis.opendocument.text", " image/png ", "image/svg+xml"] {
            assert!(mime_type(good), "{good:?} refused");
        }
        for bad in ["foobar", "/plain", "text/csv; charset=utf-8", "text/", "text /plain"] {
            assert!(!mime_type(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn ipa_codes_are_looked_up_without_case() {
        let list = IpaCodes::from_lines("pcm\nc_h501\n\n");
        assert_eq!(list.len(), 2);
        assert!(list.contains("PCM") && list.contains("c_H501") && !list.contains("no_such_pa"));
        assert!(IpaCodes::shipped().contains("pcm") && IpaCodes::shipped().len() > 20_000);
    }

    #[test]
    fn organisation_uris() {
        let list = IpaCodes::from_lines("pcm\n");
        for good in
            ["urn:x-italian-pa:pcm", "URN:X-Italian-PA:PCM", "https://www.comune.example.it", "urn:isbn:0451450523"]
        {
            assert!(organisation_uri(good, &list), "{good:?} refused");
        }
        for bad in [
            "urn:x-italian-pa:no_such_pa",
            "URN:X-Italian-PA:no_such_pa",
            "mailto:urp@comune.example.it",
            "tel:+390612345678",
            "http:foo",
            "https://",
            "urn:pcm",
            "urn:urn:pcm",
            "urn:-x:pcm",
            "pcm",
            "1",
        ] {
            assert!(!organisation_uri(bad, &list), "{bad:?} accepted");
        }
    }

    #[test]
    fn videos_are_matched_against_the_oembed_schemes() {
        for good in [
            "https://www.youtube.com/watch?v=RaHmGbBOP84",
            "https://youtu.be/RaHmGbBOP84",
            "https://m.youtube.com/shorts/abc",
            "https://vimeo.com/76979871",
            "https://player.vimeo.com/video/76979871",
            "https://www.dailymotion.com/video/x7tgad0",
            "https://www.ted.com/talks/some_talk",
            "https://ted.com/talks/some_talk",
            "https://www.ifixit.com/Guide/View/1",
            "spotify:track:abc",
        ] {
            assert!(oembed_url(good), "{good:?} refused");
        }
        for bad in [
            "https://example.com/demo.mp4",
            "https://google.com",
            "youtube",
            "https://youtube.com/xxxxxxxx",
            "https://www.youtube.com.evil.example/watch?v=1",
            "ftp://vimeo.com/1",
        ] {
            assert!(!oembed_url(bad), "{bad:?} accepted");
        }
    }
}
