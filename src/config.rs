//! The configuration file: serde structs, named defaults, and a check step.
//!
//! Every key is optional; a missing file section means its defaults. Unknown
//! keys are errors (a typo must not silently mean "default"). Errors name the
//! file and the key, and `main` exits with status 78 (EX_CONFIG) on them.

use crate::limits::Limits;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreConfig,
    pub smtp: SmtpConfig,
    pub log: LogConfig,
    pub limits: Limits,
}

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The SQLite file; created if missing.
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store_path(),
        }
    }
}

/// `./dmarc-sink.sqlite`: a first run works from any directory.
pub fn default_store_path() -> PathBuf {
    PathBuf::from("dmarc-sink.sqlite")
}

/// `[smtp]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Address and port to listen on.
    pub listen: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            listen: default_listen(),
        }
    }
}

/// Loopback on an unprivileged port: safe for a first run. Production sets
/// `0.0.0.0:25` (or `[::]:25`).
pub fn default_listen() -> String {
    "127.0.0.1:2525".to_owned()
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter (`info`, `dmarc_sink=debug`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::default(),
            level: default_log_level(),
        }
    }
}

pub fn default_log_level() -> String {
    "info".to_owned()
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines (journald adds the timestamp).
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: key {key}: {reason}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        reason: String,
    },
}

impl Config {
    /// Reads, parses and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and checks config text; `path` is named in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Fails on what parses but cannot work.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key, reason: String| ConfigError::Invalid {
            path: path.to_owned(),
            key,
            reason,
        };
        if self.store.path.as_os_str().is_empty() {
            return Err(invalid("store.path", "must not be empty".into()));
        }
        if let Err(e) = self.smtp.listen.parse::<SocketAddr>() {
            return Err(invalid(
                "smtp.listen",
                format!("{:?} is not an address:port ({e})", self.smtp.listen),
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&self.log.level) {
            return Err(invalid("log.level", format!("{:?}: {e}", self.log.level)));
        }
        let limits = &self.limits;
        let positive: [(&'static str, u64); 6] = [
            ("limits.max_message_bytes", limits.max_message_bytes),
            (
                "limits.max_decompressed_bytes",
                limits.max_decompressed_bytes,
            ),
            ("limits.max_zip_entries", limits.max_zip_entries as u64),
            ("limits.max_nesting_depth", limits.max_nesting_depth as u64),
            (
                "limits.max_xml_token_bytes",
                limits.max_xml_token_bytes as u64,
            ),
            ("limits.max_xml_depth", limits.max_xml_depth as u64),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0".into()));
            }
        }
        if limits.max_xml_depth < 8 {
            return Err(invalid(
                "limits.max_xml_depth",
                format!(
                    "{} is below the depth of a report (6) plus room for a wrapper",
                    limits.max_xml_depth
                ),
            ));
        }
        Ok(())
    }

    /// The effective configuration as TOML, for `check-config`.
    pub fn to_toml(&self) -> String {
        let l = &self.limits;
        format!(
            "[store]\npath = {:?}\n\n[smtp]\nlisten = {:?}\n\n[log]\nformat = \"{}\"\nlevel = {:?}\n\n\
             [limits]\nmax_message_bytes = {}\nmax_decompressed_bytes = {}\nmax_zip_entries = {}\n\
             max_nesting_depth = {}\nmax_xml_token_bytes = {}\nmax_xml_depth = {}\n",
            self.store.path.display().to_string(),
            self.smtp.listen,
            match self.log.format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            },
            self.log.level,
            l.max_message_bytes,
            l.max_decompressed_bytes,
            l.max_zip_entries,
            l.max_nesting_depth,
            l.max_xml_token_bytes,
            l.max_xml_depth,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn empty_file_means_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let error = parse("[limits]\nmax_zip_entrys = 3\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("test.toml"), "{error}");
        assert!(error.contains("max_zip_entrys"), "{error}");
    }

    #[test]
    fn bad_listen_address_is_rejected() {
        let error = parse("[smtp]\nlisten = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("smtp.listen"), "{error}");
    }

    #[test]
    fn zero_limit_is_rejected() {
        let error = parse("[limits]\nmax_zip_entries = 0\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("limits.max_zip_entries"), "{error}");
    }

    #[test]
    fn effective_config_round_trips() {
        let config = parse("[log]\nformat = \"json\"\n[limits]\nmax_zip_entries = 7\n").unwrap();
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
    }
}
