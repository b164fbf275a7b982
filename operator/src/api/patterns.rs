//! Regular expressions the API server enforces on mediana's fields (OpenAPI `pattern`).
//!
//! They live in one place because several kinds share them, and because the API server
//! evaluates them with Go's RE2: no look-around, no back-references.

/// A calendar date, `YYYY-MM-DD`.
pub const DATE: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// An IPA code (Indice delle Pubbliche Amministrazioni), e.g. `r_marche`, `c_e783`,
/// `agid`, `istsc_AGIC82200R`: letters, digits and underscores, as in the IndicePA list.
pub const IPA_CODE: &str = r"^[A-Za-z0-9_]{1,32}$";

/// A DNS name (RFC 1123) with at least two labels, lower case: what an Ingress host accepts.
pub const HOSTNAME: &str = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

/// A Kubernetes object name that must also be a DNS label (Services, containers, ports).
pub const DNS_LABEL: &str = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$";

/// A Kubernetes object name (RFC 1123 subdomain): Secrets, ConfigMaps, CatalogNodes.
pub const OBJECT_NAME: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// A key in a Secret or ConfigMap.
pub const CONFIG_KEY: &str = r"^[-._a-zA-Z0-9]+$";

/// An OCI image reference: `[registry[:port]/]path[:tag][@sha256:digest]`.
pub const IMAGE: &str = concat!(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?/)?",
    r"[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*",
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$"
);

/// A resource quantity as Kubernetes writes it (`10Gi`, `500M`, `1.5`).
pub const QUANTITY: &str = r"^([+]?[0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$";

/// A port name as Kubernetes requires it (IANA service name): lower-case letters, digits
/// and single hyphens inside, at least one letter. Length (at most 15) is set on the field.
pub const PORT_NAME: &str = r"^([a-z0-9]-?)*[a-z](-?[a-z0-9])*$";

/// A CKAN locale: ISO 639-1, optionally with a country (`it`, `pt_BR`).
pub const LOCALE: &str = r"^[a-z]{2}(_[A-Z]{2})?$";

/// A CKAN or software version such as `2.11`, `2.11.3` or `2.11.3-focal`.
pub const VERSION: &str = r"^[0-9]+\.[0-9]+(\.[0-9]+)?([-+][0-9A-Za-z.-]+)?$";

/// An `http(s)://` URL without spaces.
pub const HTTP_URL: &str = r"^https?://[^\s/?#]+([/?#]\S*)?$";

/// A CKAN name (organizations, datasets): lower-case letters, digits, `-` and `_`.
pub const CKAN_NAME: &str = r"^[a-z0-9_-]{2,100}$";

/// An IANA time zone such as `Europe/Rome` or `UTC`.
pub const TIME_ZONE: &str = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$";

/// A five-field cron schedule as CronJob reads it (minute hour day-of-month month
/// day-of-week, with lists, ranges, steps and names), or one of the `@` macros.
pub const CRON_SCHEDULE: &str = concat!(
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every ([0-9]+(ms|s|m|h))+|",
    // minute 0-59
    r"(\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/[0-9]{1,2})?(,(\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/[0-9]{1,2})?)*",
    r" +",
    // hour 0-23
    r"(\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/[0-9]{1,2})?(,(\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/[0-9]{1,2})?)*",
    r" +",
    // day of month 1-31
    r"(\*|\?|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/[0-9]{1,2})?(,(\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/[0-9]{1,2})?)*",
    r" +",
    // month 1-12 or JAN-DEC
    r"(\*|(0?[1-9]|1[0-2]|[A-Za-z]{3})(-(0?[1-9]|1[0-2]|[A-Za-z]{3}))?)(/[0-9]{1,2})?(,(\*|(0?[1-9]|1[0-2]|[A-Za-z]{3})(-(0?[1-9]|1[0-2]|[A-Za-z]{3}))?)(/[0-9]{1,2})?)*",
    r" +",
    // day of week 0-7 or SUN-SAT
    r"(\*|\?|([0-7]|[A-Za-z]{3})(-([0-7]|[A-Za-z]{3}))?)(/[0-9]{1,2})?(,(\*|([0-7]|[A-Za-z]{3})(-([0-7]|[A-Za-z]{3}))?)(/[0-9]{1,2})?)*",
    r")$"
);

/// Where backups go in an S3-compatible store: `s3://BUCKET[/PREFIX]`, the bucket named as S3
/// names them (3–63 lower-case letters, digits, `.` and `-`), the prefix a path of letters,
/// digits, `.`, `_`, `-` and `/`.
pub const S3_DESTINATION: &str = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9._/-]*)?$";

/// A backup's name as `mediana backup` makes it (its start time in UTC, with milliseconds),
/// or `latest`: the newest complete backup.
pub const BACKUP_NAME: &str = r"^(latest|[0-9]{8}T[0-9]{6}\.[0-9]{3}Z)$";

#[cfg(test)]
mod tests {
    use regex::Regex;

    fn matcher(pattern: &str) -> impl Fn(&str) -> bool {
        let re = Regex::new(pattern).expect("pattern compiles (Rust's regex and Go's RE2 share this syntax)");
        move |s| re.is_match(s)
    }

    #[test]
    fn every_ipa_code_of_indice_pa_is_accepted() {
        let codes = include_str!("../../data/ipa/ipa_codes.txt");
        let ok = matcher(super::IPA_CODE);
        let refused: Vec<&str> = codes.lines().filter(|c| !c.is_empty() && !ok(c)).collect();
        assert!(codes.lines().count() > 20_000, "the list holds the whole IndicePA");
        assert!(refused.is_empty(), "IPA codes refused: {refused:?}");
        for bad in ["r-marche", "c e783", "", "r_marche!", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] {
            assert!(!ok(bad), "{bad:?} accepted as an IPA code");
        }
    }

    #[test]
    fn backup_names_are_those_mediana_makes_or_latest() {
        let ok = matcher(super::BACKUP_NAME);
        let made = crate::backup::backup_name(chrono::Utc::now());
        for good in ["latest", made.as_str(), "20261207T101500.000Z"] {
            assert!(ok(good), "{good:?} refused");
        }
        for bad in ["newest", "20261207T101500Z", "2026-12-07T10:15:00.000Z", "../20261207T101500.000Z", ""] {
            assert!(!ok(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn cron_schedules_as_cronjob_reads_them() {
        let ok = matcher(super::CRON_SCHEDULE);
        for good in [
            "0 3 * * *",
            "*/15 * * * *",
            "30 2 * * MON-FRI",
            "0 0 1,15 * *",
            "5 4 * JAN-MAR 0",
            "@daily",
            "0 22 * * 1-5",
            "0-59/5 0-23 1-31 1-12 0-7",
        ] {
            assert!(ok(good), "{good:?} refused");
        }
        for bad in [
            "every night",
            "61 * * * *",
            "* 24 * * *",
            "0 0 0 * *",
            "0 0 * 13 *",
            "0 0 * * 8",
            "0 0 3 * * *",
            "@sometimes",
            "TZ=Europe/Rome 0 3 * * *",
            "",
        ] {
            assert!(!ok(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn image_references() {
        let ok = matcher(super::IMAGE);
        for good in [
            "ckan/ckan-base:2.11",
            "postgres:16",
            "registry.example.it:5000/pa/app-web:1.2.3",
            "ghcr.io/mediana-dev/mediana@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "redis",
            "registry.example.it/foo__bar/b--c:1",
        ] {
            assert!(ok(good), "{good:?} refused");
        }
        for bad in ["Ckan/Ckan", "ckan ckan:2.11", "ckan:", "ckan:tag with space", "http://registry/app:1"] {
            assert!(!ok(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn port_names_and_locales() {
        let port = matcher(super::PORT_NAME);
        for good in ["http", "https", "h2c", "metrics-8080", "a"] {
            assert!(port(good), "{good:?} refused");
        }
        for bad in ["8080", "-http", "http-", "ht--tp", "HTTP", ""] {
            assert!(!port(bad), "{bad:?} accepted");
        }
        let locale = matcher(super::LOCALE);
        assert!(locale("it") && locale("pt_BR") && !locale("ita") && !locale("pt-br"));
    }

    #[test]
    fn host_names_urls_and_quantities() {
        let host = matcher(super::HOSTNAME);
        assert!(host("dati.regione.marche.it") && host("ckan.local"));
        assert!(!host("localhost") && !host("Dati.Regione.it") && !host("dati..it") && !host("-dati.it"));
        let url = matcher(super::HTTP_URL);
        assert!(url("https://dati.comune.macerata.it") && url("http://10.0.0.1:5000/catalog.ttl?page=2"));
        assert!(!url("ftp://dati.it") && !url("https://") && !url("https://a b.it"));
        let quantity = matcher(super::QUANTITY);
        assert!(quantity("10Gi") && quantity("500M") && quantity("1.5") && quantity("250m"));
        assert!(!quantity("lots") && !quantity("10 Gi") && !quantity("-1Gi"));
    }
}
