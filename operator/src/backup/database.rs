//! A PostgreSQL connection URL turned into libpq's environment variables, so that `pg_dump`
//! and `pg_restore` connect without the URL (and its password) on their command line.

use super::BackupError;

/// Query parameters of a libpq URL that have an environment variable, and its name.
const PARAMETERS: [(&str, &str); 6] = [
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("sslcert", "PGSSLCERT"),
    ("sslkey", "PGSSLKEY"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("application_name", "PGAPPNAME"),
];

/// The `PG*` variables of a `postgresql://user:password@host:port/database?sslmode=…` URL
/// (also `postgres://`), user and password percent-decoded. A URL this cannot express
/// exactly (another scheme, a query parameter without a variable, several hosts) is refused,
/// naming the part and never the password.
pub fn pg_environment(url: &str) -> Result<Vec<(&'static str, String)>, BackupError> {
    let refuse = |why: String| BackupError::Config(format!("database URL: {why}"));
    let parsed = url::Url::parse(url).map_err(|e| refuse(format!("not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "postgresql" | "postgres") {
        return Err(refuse(format!("scheme {:?} is not postgresql://", parsed.scheme())));
    }
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|t| t.into_owned())
            .map_err(|_| refuse("a user, password or database name is not valid UTF-8".into()))
    };
    let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| refuse("no host".into()))?;
    let mut vars = vec![("PGHOST", host.trim_start_matches('[').trim_end_matches(']').to_owned())];
    if let Some(port) = parsed.port() {
        vars.push(("PGPORT", port.to_string()));
    }
    if !parsed.username().is_empty() {
        vars.push(("PGUSER", decode(parsed.username())?));
    }
    if let Some(password) = parsed.password() {
        vars.push(("PGPASSWORD", decode(password)?));
    }
    let database = parsed.path().trim_start_matches('/');
    if !database.is_empty() {
        vars.push(("PGDATABASE", decode(database)?));
    }
    for (key, value) in parsed.query_pairs() {
        let (_, var) = PARAMETERS
            .iter()
            .find(|(name, _)| *name == key)
            .ok_or_else(|| refuse(format!("query parameter {key:?} is not supported")))?;
        vars.push((var, value.into_owned()));
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_libpq_variables_with_its_user_and_password_decoded() {
        let vars = pg_environment("postgresql://ckan%40comune:p%25ss%2Fw@db.example.it:6432/ckan_it?sslmode=require")
            .expect("a valid URL");
        assert_eq!(
            vars,
            vec![
                ("PGHOST", "db.example.it".to_owned()),
                ("PGPORT", "6432".to_owned()),
                ("PGUSER", "ckan@comune".to_owned()),
                ("PGPASSWORD", "p%ss/w".to_owned()),
                ("PGDATABASE", "ckan_it".to_owned()),
                ("PGSSLMODE", "require".to_owned()),
            ]
        );
    }

    #[test]
    fn a_url_that_cannot_be_expressed_is_refused_without_its_password() {
        for (url, names) in [
            ("mysql://u:secret@h/d", "scheme"),
            ("postgresql://u:secret@h/d?target_session_attrs=any", "target_session_attrs"),
            ("postgresql:///d", "no host"),
        ] {
            let err = pg_environment(url).expect_err("refused").to_string();
            assert!(err.contains(names), "{err}");
            assert!(!err.contains("secret"), "the password is not shown: {err}");
        }
    }
}
