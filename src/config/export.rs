//! `[export.postgres]`: shipping the store's rows to a fleet's PostgreSQL.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[export]`: where `serve` ships what it stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct ExportConfig {
    pub postgres: PostgresExportConfig,
}

/// `[export.postgres]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct PostgresExportConfig {
    /// `postgres://user@host:port/database`; unset: nothing is shipped.
    pub url: Option<String>,
    /// A file holding the role's password (trimmed), so that the URL and
    /// the config file hold no secret.
    pub password_file: Option<PathBuf>,
    /// This sink's name in the fleet: the `instance` column of every row
    /// it ships.
    pub instance: String,
    /// Seconds between two rounds of shipping.
    pub interval_secs: u64,
    /// Ship the raw messages (`message_raw`) too: by far the largest table.
    pub raw: bool,
    /// A PEM file of CA certificates to trust for PostgreSQL's TLS instead
    /// of the public roots (a private PKI, a self-signed server).
    pub ca_file: Option<PathBuf>,
}

impl Default for PostgresExportConfig {
    fn default() -> Self {
        PostgresExportConfig {
            url: None,
            password_file: None,
            instance: super::default_hostname(),
            interval_secs: default_export_interval_secs(),
            raw: false,
            ca_file: None,
        }
    }
}

/// 10 s: the fleet's views lag a delivery by about that, and an idle
/// round costs one query per table.
pub fn default_export_interval_secs() -> u64 {
    10
}

impl PostgresExportConfig {
    /// What is wrong with these keys, if anything: the key and why.
    pub(super) fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(url) = &self.url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err((
                    "export.postgres.url",
                    format!("{:?} is not a postgres:// URL", redact_password(url)),
                ));
            }
            if let Err(error) = url.parse::<postgres::Config>() {
                return Err((
                    "export.postgres.url",
                    format!("{:?} cannot be used: {error}", redact_password(url)),
                ));
            }
        }
        if self.instance.is_empty() || self.instance.contains(char::is_whitespace) {
            return Err((
                "export.postgres.instance",
                format!("{:?} is not a name without spaces", self.instance),
            ));
        }
        if self.interval_secs == 0 {
            return Err((
                "export.postgres.interval_secs",
                "must be greater than 0".into(),
            ));
        }
        Ok(())
    }
}

/// A postgres:// URL with its password, if it holds one, replaced by
/// `REDACTED`; the user, host and database stay, as they tell the operator
/// which database is meant.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:REDACTED@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    // `?password=...` is a libpq parameter too.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some(("password", _)) => "password=REDACTED".to_owned(),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn the_password_is_never_shown() {
        assert_eq!(
            redact_password("postgres://sink:s3cret@db.example:5432/fleet"),
            "postgres://sink:REDACTED@db.example:5432/fleet"
        );
        assert_eq!(
            redact_password("postgres://sink@db.example/fleet?password=s3cret&sslmode=disable"),
            "postgres://sink@db.example/fleet?password=REDACTED&sslmode=disable"
        );
        assert_eq!(
            redact_password("postgres://db.example/fleet"),
            "postgres://db.example/fleet"
        );
    }
}
