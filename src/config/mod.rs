//! The configuration file: serde structs, named defaults, and a check step.
//!
//! Every key is optional; a missing file section means its defaults. Unknown
//! keys are errors (a typo must not silently mean "default"). Errors name the
//! file and the key, and `main` exits with status 78 (EX_CONFIG) on them.

mod digest;
mod dns;
mod export;
mod metrics;
mod trust;

pub use digest::{DigestConfig, Relay, default_digest_from, default_subject_prefix};
pub use dns::{DnsConfig, default_dns_timeout_ms};
pub use export::{
    ExportConfig, PostgresExportConfig, default_export_interval_secs, redact_password,
};
pub use metrics::MetricsConfig;
pub use trust::{TrustConfig, UnauthenticatedPolicy};

use crate::limits::Limits;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreConfig,
    pub smtp: SmtpConfig,
    pub log: LogConfig,
    pub limits: Limits,
    pub alerts: AlertsConfig,
    pub insight: InsightConfig,
    pub dns: DnsConfig,
    pub trust: TrustConfig,
    pub check_dns: CheckDnsConfig,
    pub digest: DigestConfig,
    pub metrics: MetricsConfig,
    pub export: ExportConfig,
}

/// `[check_dns]`: how `check-dns --fetch-mta-sts` fetches policy files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct CheckDnsConfig {
    /// A PEM file of CA certificates to trust instead of the public roots
    /// (a private PKI); unset: the public roots.
    pub https_roots: Option<PathBuf>,
}

/// `[store]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The SQLite file; created if missing.
    pub path: PathBuf,
    /// How long a write waits for a lock held by another process (a backup,
    /// an import) before the delivery is answered 451 and retried later.
    pub busy_timeout_secs: u64,
    /// Whether a failure report's copy of the failed message keeps its body
    /// in `failure_reports.original_body`. Off: bodies are personal data,
    /// and the headers tell what failed.
    pub keep_failure_bodies: bool,
    /// Days to keep messages and reports (0: forever). `serve` prunes once
    /// a day what is older, keeping its daily sums (`daily_rollups`).
    pub retention_days: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store_path(),
            busy_timeout_secs: default_busy_timeout_secs(),
            keep_failure_bodies: false,
            retention_days: 0,
        }
    }
}

pub fn default_busy_timeout_secs() -> u64 {
    10
}

/// `./dmarc-sink.sqlite`: a first run works from any directory.
pub fn default_store_path() -> PathBuf {
    PathBuf::from("dmarc-sink.sqlite")
}

/// `[smtp]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Address and port to listen on (ignored under socket activation).
    pub listen: String,
    /// The name in the greeting and EHLO reply.
    pub hostname: String,
    /// Recipients taken: full addresses or `@domain`; empty takes any.
    pub accept_recipients: Vec<String>,
    /// What to do with a message that holds nothing like a report.
    pub not_a_report: NotAReportPolicy,
    /// Connections open at once, all peers together.
    pub max_connections: usize,
    /// Connections open at once from one IP address.
    pub max_connections_per_ip: usize,
    /// Messages taken from one sender (an IPv4 address, an IPv6 /64) in an
    /// hour; past it, 451 4.7.0 until the hour is over.
    pub max_messages_per_ip_per_hour: u64,
    /// Longest command line, CRLF included.
    pub max_command_line_bytes: usize,
    /// Longest line inside DATA, CRLF included.
    pub max_data_line_bytes: usize,
    /// Message bytes buffered by all sessions together; past it a delivery
    /// is answered 452 (try again later) rather than exhausting memory.
    pub max_buffered_bytes: u64,
    /// Time allowed for one complete line (a command, or a line of data).
    pub line_timeout_secs: u64,
    /// Time allowed for a whole session.
    pub session_timeout_secs: u64,
    /// On SIGTERM, how long deliveries already in DATA may take to finish.
    pub shutdown_grace_secs: u64,
    /// PEM certificate chain for STARTTLS; STARTTLS is offered when both
    /// this and `tls_key` are set.
    pub tls_certificate: Option<PathBuf>,
    /// PEM private key for STARTTLS.
    pub tls_key: Option<PathBuf>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            listen: default_listen(),
            hostname: default_hostname(),
            accept_recipients: Vec::new(),
            not_a_report: NotAReportPolicy::default(),
            max_connections: default_max_connections(),
            max_connections_per_ip: default_max_connections_per_ip(),
            max_messages_per_ip_per_hour: default_max_messages_per_ip_per_hour(),
            max_command_line_bytes: default_max_command_line_bytes(),
            max_data_line_bytes: default_max_data_line_bytes(),
            max_buffered_bytes: default_max_buffered_bytes(),
            line_timeout_secs: default_line_timeout_secs(),
            session_timeout_secs: default_session_timeout_secs(),
            shutdown_grace_secs: default_shutdown_grace_secs(),
            tls_certificate: None,
            tls_key: None,
        }
    }
}

/// The machine's host name, as the kernel knows it: gethostname(2), which
/// works where `/proc/sys/kernel/hostname` is hidden (the shipped unit's
/// `ProcSubset=pid`).
pub fn default_hostname() -> String {
    dns_lookup::get_hostname()
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "dmarc-sink".to_owned())
}

/// 2000: a thousand idle scanners leave room for reporters.
pub fn default_max_connections() -> usize {
    2000
}

/// 20: big reporters open a few connections in parallel, a scanner many.
pub fn default_max_connections_per_ip() -> usize {
    20
}

/// 600: ten a minute for an hour, far more than any reporter sends one
/// sink, far fewer than a flood.
pub fn default_max_messages_per_ip_per_hour() -> u64 {
    600
}

/// 2048: RFC 5321 allows 512; extensions make real ones longer.
pub fn default_max_command_line_bytes() -> usize {
    2048
}

/// 64 KiB: RFC 5321 allows 1000, but some reporters send longer lines.
pub fn default_max_data_line_bytes() -> usize {
    64 * 1024
}

/// 512 MiB: eight messages at the largest allowed size.
pub fn default_max_buffered_bytes() -> u64 {
    512 * 1024 * 1024
}

/// 60 s for one line: idle clients and slow drips are cut off.
pub fn default_line_timeout_secs() -> u64 {
    60
}

/// 10 minutes for a whole session.
pub fn default_session_timeout_secs() -> u64 {
    600
}

/// 30 s for deliveries in progress at shutdown.
pub fn default_shutdown_grace_secs() -> u64 {
    30
}

/// The answer to a message with no report-like payload at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotAReportPolicy {
    /// 550 5.6.0, and nothing is stored: spam and probes stay out.
    #[default]
    Reject,
    /// 250, and the message is stored with outcome `not_a_report`.
    Keep,
}

/// Loopback on an unprivileged port: safe for a first run. Production sets
/// `0.0.0.0:25` (or `[::]:25`).
pub fn default_listen() -> String {
    "127.0.0.1:2525".to_owned()
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines (journald adds the timestamp).
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// `[insight]`: how `summary`, `sources`, `policy` and `html` read the store.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct InsightConfig {
    /// Name sources by reverse DNS too. Off by default: it sends the
    /// sources' addresses to the resolver and can be slow.
    pub reverse_dns: bool,
    /// Time allowed for one reverse lookup.
    pub reverse_dns_timeout_ms: u64,
    /// `policy`: days of reports needed before a step is advised.
    pub ready_min_days: u64,
    /// `policy`: messages needed before a step is advised.
    pub ready_min_messages: u64,
    /// `policy`: largest share of all messages, sent by your own sources and
    /// failing DMARC, that the next step may quarantine or reject.
    pub ready_max_failure_share: f64,
    /// The language of what the insight commands, the page and the digest
    /// say (`en`, `ja`); unset follows `LC_ALL`, `LC_MESSAGES` and `LANG`.
    /// `--lang` overrides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<crate::i18n::Lang>,
}

impl Default for InsightConfig {
    fn default() -> Self {
        InsightConfig {
            reverse_dns: false,
            reverse_dns_timeout_ms: default_reverse_dns_timeout_ms(),
            ready_min_days: default_ready_min_days(),
            ready_min_messages: default_ready_min_messages(),
            ready_max_failure_share: default_ready_max_failure_share(),
            lang: None,
        }
    }
}

/// 1 s: a resolver that takes longer is not going to answer.
pub fn default_reverse_dns_timeout_ms() -> u64 {
    1000
}

/// 14 days: two weeks show weekly senders (newsletters, payroll) too.
pub fn default_ready_min_days() -> u64 {
    14
}

/// 100 messages: fewer say little about who sends as the domain.
pub fn default_ready_min_messages() -> u64 {
    100
}

/// 1 %: about what forwarding and mailing lists break on a domain whose
/// own senders are all fixed.
pub fn default_ready_max_failure_share() -> f64 {
    0.01
}

/// `[alerts]`: when `serve` warns of DMARC failures, and where it posts them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// An http:// or https:// URL that each alert is POSTed to as JSON;
    /// unset, alerts are only logged.
    pub webhook: Option<String>,
    /// Time allowed for one POST, and for those still pending at shutdown.
    pub webhook_timeout_secs: u64,
    /// Share of a report's messages failing DMARC at or above which it
    /// raises a `failure_threshold` alert, in (0, 1].
    pub failure_share: f64,
    /// Failing messages a report needs before the share counts.
    pub min_failing_messages: u64,
    /// A reporter counts as regular for a domain once it reported on at
    /// least this many of the last 30 days; only then is its silence news.
    pub silence_min_days: u32,
    /// Hours without a report after which a regular reporter, or a domain
    /// that had reports, is silent.
    pub silence_after_hours: u32,
    /// How far an approved source's DMARC pass share over the last 2 days
    /// may fall below that of the 14 days before before it alerts
    /// (`pass_rate_drop`), in (0, 1].
    pub pass_rate_drop: f64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            webhook: None,
            webhook_timeout_secs: default_webhook_timeout_secs(),
            failure_share: default_failure_share(),
            min_failing_messages: default_min_failing_messages(),
            silence_min_days: default_silence_min_days(),
            silence_after_hours: default_silence_after_hours(),
            pass_rate_drop: default_pass_rate_drop(),
        }
    }
}

/// 5 s: a webhook that takes longer is down; ingestion never waits for it.
pub fn default_webhook_timeout_secs() -> u64 {
    5
}

/// 20 %: well above what forwarding and mailing lists break, well below a
/// sender that was never set up.
pub fn default_failure_share() -> f64 {
    0.2
}

/// 20 messages: a small report failing a few forwarded messages is noise.
pub fn default_min_failing_messages() -> u64 {
    20
}

/// 5 days: a reporter seen on fewer of the last 30 may simply send
/// weekly, or have had one visitor; its silence says nothing.
pub fn default_silence_min_days() -> u32 {
    5
}

/// 72 hours: a daily reporter's report arrives up to a day after its range
/// ends, and a weekend's delay is common; three days without one is not.
pub fn default_silence_after_hours() -> u32 {
    72
}

/// 0.2: a source of yours that went from 98 % passing to 78 % broke
/// something (a rotated key, a changed SPF include); day-to-day noise is
/// far smaller.
pub fn default_pass_rate_drop() -> f64 {
    0.2
}

/// The days back over which [`AlertsConfig::silence_min_days`] counts.
pub const SILENCE_WINDOW_DAYS: u32 = 30;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause is in the message, so not also a `source` (printed once).
    #[error("cannot read config file {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
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
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_owned(),
            cause,
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
        let smtp = &self.smtp;
        if smtp.hostname.is_empty() || smtp.hostname.contains(char::is_whitespace) {
            return Err(invalid(
                "smtp.hostname",
                format!("{:?} is not a host name", smtp.hostname),
            ));
        }
        for recipient in &smtp.accept_recipients {
            let valid = match recipient.split_once('@') {
                Some((local, domain)) => {
                    !domain.is_empty()
                        && !domain.contains('@')
                        && (local.is_empty() || !local.contains(char::is_whitespace))
                }
                None => false,
            };
            if !valid {
                return Err(invalid(
                    "smtp.accept_recipients",
                    format!("{recipient:?} is neither an address nor @domain"),
                ));
            }
        }
        match (&smtp.tls_certificate, &smtp.tls_key) {
            (Some(_), None) => {
                return Err(invalid(
                    "smtp.tls_key",
                    "must be set with smtp.tls_certificate".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "smtp.tls_certificate",
                    "must be set with smtp.tls_key".into(),
                ));
            }
            _ => {}
        }
        if let Err(reason) = self.dns.nameserver_addrs() {
            return Err(invalid("dns.nameservers", reason));
        }
        if let Err(reason) = self.metrics.check_domains() {
            return Err(invalid("metrics.domains", reason));
        }
        let smtp_positive: [(&'static str, u64); 10] = [
            ("smtp.max_connections", smtp.max_connections as u64),
            (
                "smtp.max_connections_per_ip",
                smtp.max_connections_per_ip as u64,
            ),
            (
                "smtp.max_command_line_bytes",
                smtp.max_command_line_bytes as u64,
            ),
            ("smtp.max_data_line_bytes", smtp.max_data_line_bytes as u64),
            ("smtp.max_buffered_bytes", smtp.max_buffered_bytes),
            ("smtp.line_timeout_secs", smtp.line_timeout_secs),
            ("smtp.session_timeout_secs", smtp.session_timeout_secs),
            ("store.busy_timeout_secs", self.store.busy_timeout_secs),
            (
                "smtp.max_messages_per_ip_per_hour",
                smtp.max_messages_per_ip_per_hour,
            ),
            ("dns.timeout_ms", self.dns.timeout_ms),
        ];
        for (key, value) in smtp_positive {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0".into()));
            }
        }
        if smtp.max_command_line_bytes < 512 {
            return Err(invalid(
                "smtp.max_command_line_bytes",
                format!(
                    "{} is below the 512 bytes RFC 5321 requires",
                    smtp.max_command_line_bytes
                ),
            ));
        }
        if smtp.max_data_line_bytes < 1000 {
            return Err(invalid(
                "smtp.max_data_line_bytes",
                format!(
                    "{} is below the 1000 bytes RFC 5321 requires",
                    smtp.max_data_line_bytes
                ),
            ));
        }
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&self.log.level) {
            return Err(invalid("log.level", format!("{:?}: {e}", self.log.level)));
        }
        let insight = &self.insight;
        if insight.reverse_dns_timeout_ms == 0 {
            return Err(invalid(
                "insight.reverse_dns_timeout_ms",
                "must be greater than 0".into(),
            ));
        }
        if !(0.0..=1.0).contains(&insight.ready_max_failure_share) {
            return Err(invalid(
                "insight.ready_max_failure_share",
                format!(
                    "{} is not a share between 0 and 1",
                    insight.ready_max_failure_share
                ),
            ));
        }
        self.validate_alerts(&invalid)?;
        self.digest
            .check()
            .map_err(|(key, reason)| invalid(key, reason))?;
        self.export
            .postgres
            .check()
            .map_err(|(key, reason)| invalid(key, reason))?;
        let limits = &self.limits;
        let positive: [(&'static str, u64); 9] = [
            ("limits.max_message_bytes", limits.max_message_bytes),
            (
                "limits.max_decompressed_bytes",
                limits.max_decompressed_bytes,
            ),
            ("limits.max_zip_entries", limits.max_zip_entries as u64),
            ("limits.max_nesting_depth", limits.max_nesting_depth as u64),
            ("limits.max_mime_parts", limits.max_mime_parts as u64),
            (
                "limits.max_xml_token_bytes",
                limits.max_xml_token_bytes as u64,
            ),
            ("limits.max_xml_depth", limits.max_xml_depth as u64),
            ("limits.max_record_bytes", limits.max_record_bytes as u64),
            ("limits.max_json_bytes", limits.max_json_bytes),
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

    fn validate_alerts(
        &self,
        invalid: &dyn Fn(&'static str, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let alerts = &self.alerts;
        if let Some(webhook) = &alerts.webhook {
            let host = webhook
                .strip_prefix("https://")
                .or_else(|| webhook.strip_prefix("http://"));
            if host.is_none_or(|rest| rest.is_empty() || rest.starts_with('/')) {
                return Err(invalid(
                    "alerts.webhook",
                    format!("{webhook:?} is not an http:// or https:// URL"),
                ));
            }
        }
        if alerts.webhook_timeout_secs == 0 {
            return Err(invalid(
                "alerts.webhook_timeout_secs",
                "must be greater than 0".into(),
            ));
        }
        // Written so that NaN fails too.
        if !(alerts.failure_share > 0.0 && alerts.failure_share <= 1.0) {
            return Err(invalid(
                "alerts.failure_share",
                format!(
                    "{} is not a share above 0 and at most 1",
                    alerts.failure_share
                ),
            ));
        }
        if alerts.silence_min_days == 0 || alerts.silence_min_days > SILENCE_WINDOW_DAYS {
            return Err(invalid(
                "alerts.silence_min_days",
                format!(
                    "{} is not between 1 and {SILENCE_WINDOW_DAYS} (the days looked back)",
                    alerts.silence_min_days
                ),
            ));
        }
        if !(alerts.pass_rate_drop > 0.0 && alerts.pass_rate_drop <= 1.0) {
            return Err(invalid(
                "alerts.pass_rate_drop",
                format!(
                    "{} is not a share above 0 and at most 1",
                    alerts.pass_rate_drop
                ),
            ));
        }
        if alerts.silence_after_hours == 0 {
            return Err(invalid(
                "alerts.silence_after_hours",
                "must be greater than 0".into(),
            ));
        }
        Ok(())
    }

    /// The effective configuration as TOML, for `check-config`.
    /// The configuration as `check-config` shows it: the webhook's user
    /// part and query, which often hold a token, replaced by `REDACTED`.
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        if let Some(url) = &self.alerts.webhook {
            shown.alerts.webhook = Some(redact_url(url));
        }
        if let Some(url) = &self.export.postgres.url {
            shown.export.postgres.url = Some(redact_password(url));
        }
        shown
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("the configuration serialises")
    }
}

/// `url` without its secrets: userinfo and query become `REDACTED`.
fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("REDACTED@{host}"),
        None => authority.to_owned(),
    };
    let path = match path.split_once('?') {
        Some((before, _)) => format!("{before}?REDACTED"),
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_config_shows_no_webhook_secret() {
        assert_eq!(
            redact_url("https://user:s3cret@hooks.example:8443/dmarc?token=abc#x"),
            "https://REDACTED@hooks.example:8443/dmarc?REDACTED"
        );
        assert_eq!(
            redact_url("https://hooks.example/dmarc"),
            "https://hooks.example/dmarc"
        );
        let config = parse("[alerts]\nwebhook = \"https://hooks.example/x?key=s3cret\"\n").unwrap();
        assert!(!config.redacted().to_toml().contains("s3cret"));
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn export_keys_are_checked_and_the_password_is_redacted() {
        let config = parse(
            "[export.postgres]\nurl = \"postgres://sink:s3cret@db.example/fleet\"\ninstance = \"mx1\"\n",
        )
        .unwrap();
        let shown = config.redacted().to_toml();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://sink:REDACTED@db.example/fleet"),
            "{shown}"
        );
        for (text, key) in [
            ("url = \"mysql://db.example/fleet\"", "export.postgres.url"),
            ("instance = \"mx 1\"", "export.postgres.instance"),
            ("interval_secs = 0", "export.postgres.interval_secs"),
        ] {
            let error = parse(&format!("[export.postgres]\n{text}\n")).unwrap_err();
            assert!(error.to_string().contains(key), "{error}");
        }
    }

    #[test]
    fn the_default_host_name_is_the_kernels() {
        let uname = std::process::Command::new("uname")
            .arg("-n")
            .output()
            .expect("uname");
        let expected = String::from_utf8(uname.stdout).unwrap();
        assert_eq!(default_hostname(), expected.trim());
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
    fn metrics_keys_are_checked() {
        let config =
            parse("[metrics]\nlisten = \"127.0.0.1:9925\"\ndomains = [\"example.com\"]\n").unwrap();
        assert_eq!(
            config.metrics.listen,
            Some("127.0.0.1:9925".parse().unwrap())
        );
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
        // A typed address: serde's error points at the line.
        let error = parse("[metrics]\nlisten = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("listen = \"localhost\"") && error.contains("socket address"),
            "{error}"
        );
        for (text, key) in [
            ("domains = [\"\"]", "metrics.domains"),
            ("domains = [\"a b.example\"]", "metrics.domains"),
            ("domains = [\"example..com\"]", "metrics.domains"),
            (
                "domains = [\"example.com\", \"Example.COM\"]",
                "metrics.domains",
            ),
        ] {
            let error = parse(&format!("[metrics]\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
    }

    #[test]
    fn zero_limit_is_rejected() {
        for key in ["max_zip_entries", "max_record_bytes"] {
            let error = parse(&format!("[limits]\n{key} = 0\n"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("limits.{key}")), "{error}");
        }
        let config = parse("[limits]\nmax_record_bytes = 65536\n").unwrap();
        assert_eq!(config.limits.max_record_bytes, 65536);
    }

    #[test]
    fn alerts_keys_are_checked() {
        for (text, key) in [
            ("webhook = \"ftp://hooks.example\"", "alerts.webhook"),
            ("webhook = \"https://\"", "alerts.webhook"),
            ("webhook_timeout_secs = 0", "alerts.webhook_timeout_secs"),
            ("failure_share = 0.0", "alerts.failure_share"),
            ("failure_share = 1.5", "alerts.failure_share"),
            ("failure_share = nan", "alerts.failure_share"),
            ("silence_min_days = 0", "alerts.silence_min_days"),
            ("silence_min_days = 31", "alerts.silence_min_days"),
            ("silence_after_hours = 0", "alerts.silence_after_hours"),
            ("pass_rate_drop = 0.0", "alerts.pass_rate_drop"),
            ("pass_rate_drop = 2.0", "alerts.pass_rate_drop"),
        ] {
            let error = parse(&format!("[alerts]\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
        let config =
            parse("[alerts]\nwebhook = \"https://hooks.example/dmarc\"\nfailure_share = 0.5\n")
                .unwrap();
        assert_eq!(config.alerts.failure_share, 0.5);
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn digest_keys_are_checked() {
        for (text, key) in [
            ("relay = \"smtp.example.net\"", "digest.relay"),
            ("from = \"not an address\"", "digest.from"),
            ("to = [\"ops@example.com\", \"ops\"]", "digest.to"),
            ("username = \"digest\"", "digest.password_file"),
            ("password_file = \"/etc/pw\"", "digest.username"),
        ] {
            let error = parse(&format!("[digest]\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
        let config = parse(
            "[digest]\nrelay = \"smtp.example.net:587\"\nto = [\"ops@example.com\"]\n\
             username = \"digest\"\npassword_file = \"/etc/dmarc-sink/pw\"\n",
        )
        .unwrap();
        assert_eq!(config.digest.from, default_digest_from());
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
    }

    #[test]
    fn effective_config_round_trips() {
        let config = parse("[log]\nformat = \"json\"\n[limits]\nmax_zip_entries = 7\n").unwrap();
        assert_eq!(parse(&config.to_toml()).unwrap(), config);
    }
}
