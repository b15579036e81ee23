//! Store → a fleet's PostgreSQL: every row this sink stored, shipped to the
//! database that a fleet of sinks shares, each row tagged with the sink's
//! `instance`.
//!
//! SQLite stays where the durable 250 happens; the export reads it and
//! never writes its rows. It ships each table in rowid order from a
//! watermark kept in the store (`export_watermarks`), in batches: a batch
//! is committed in PostgreSQL first, its watermark saved after, and a
//! batch shipped twice (a crash between the two) adds nothing the second
//! time, as PostgreSQL keeps rows by (instance, id).
//!
//! - [`tables`]: what is shipped, table by table and column by column.
//! - [`postgres`]: the target: its schema and migrations, the shipper.
//! - [`background`]: the thread of `serve` that ships on a clock and rides
//!   out PostgreSQL's outages.
//!
//! Rows are shipped once: a row that SQLite changes after it was shipped
//! (a report superseded later, one `reparse` rewrote) keeps its first form
//! in PostgreSQL.

pub mod background;
pub mod postgres;
pub mod tables;

use crate::config::{PostgresExportConfig, redact_password};
use crate::store::StoreError;
use std::path::PathBuf;
use std::time::Duration;

/// How long connecting to PostgreSQL may take before the round fails (and
/// is retried later).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a round of shipping failed. The cause is part of the message.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// PostgreSQL could not be reached or logged into: an outage, retried.
    #[error("cannot connect to PostgreSQL at {target}: {}", with_causes(cause))]
    Connect {
        target: String,
        cause: ::postgres::Error,
    },
    /// PostgreSQL refused or lost a statement.
    #[error("PostgreSQL failed: {0}")]
    Postgres(::postgres::Error),
    /// The COPY stream broke (the connection did).
    #[error("cannot send rows to PostgreSQL: {0}")]
    Copy(std::io::Error),
    /// The store could not be read, or its watermark saved.
    #[error("the store failed: {0}")]
    Store(StoreError),
    #[error("cannot read the PostgreSQL password from {path}: {cause}")]
    Password {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{0:?} is not a PostgreSQL URL: {1}")]
    Url(String, ::postgres::Error),
    #[error("cannot start the shipping thread: {0}")]
    Thread(std::io::Error),
    #[error("export.postgres.ca_file {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("cannot set up TLS for PostgreSQL: {0}")]
    Tls(String),
}

/// `error` and each error under it (a TLS handshake that failed says why:
/// the certificate, the name), one after the other.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let said = inner.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = inner.source();
    }
    text
}

impl From<::postgres::Error> for ExportError {
    fn from(error: ::postgres::Error) -> Self {
        ExportError::Postgres(error)
    }
}

impl From<StoreError> for ExportError {
    fn from(error: StoreError) -> Self {
        ExportError::Store(error)
    }
}

impl From<rusqlite::Error> for ExportError {
    fn from(error: rusqlite::Error) -> Self {
        ExportError::Store(StoreError::Sqlite(error))
    }
}

/// Where rows go: a PostgreSQL database, and this sink's name in it.
#[derive(Clone)]
pub struct Target {
    pub connection: ::postgres::Config,
    /// The `instance` column of every row shipped.
    pub instance: String,
    /// Whether `message_raw` is shipped.
    pub raw: bool,
    /// TLS, as the URL's `sslmode` asks for it.
    pub tls: tokio_postgres_rustls::MakeRustlsConnect,
    /// The database without its password, for logs.
    shown: String,
}

impl Target {
    /// The target `url` names, logging in with the password of
    /// `password_file` if one is given.
    pub fn new(
        url: &str,
        password_file: Option<&std::path::Path>,
        ca_file: Option<&std::path::Path>,
        instance: &str,
        raw: bool,
    ) -> Result<Target, ExportError> {
        let shown = redact_password(url);
        let mut connection: ::postgres::Config = url
            .parse()
            .map_err(|e| ExportError::Url(shown.clone(), e))?;
        if let Some(path) = password_file {
            let password =
                std::fs::read_to_string(path).map_err(|cause| ExportError::Password {
                    path: path.to_owned(),
                    cause,
                })?;
            connection.password(password.trim());
        }
        connection.connect_timeout(CONNECT_TIMEOUT);
        connection.keepalives_idle(Duration::from_secs(30));
        connection.application_name("dmarc-sink");
        // The watermark moves once PostgreSQL said the batch committed: that
        // must mean durable, whatever the server's default (a commit that
        // a crash of PostgreSQL took back would never be shipped again).
        // Its NOTICEs ("schema already exists, skipping") are not news.
        connection.options("-c synchronous_commit=on -c client_min_messages=warning");
        Ok(Target {
            connection,
            instance: instance.to_owned(),
            raw,
            tls: postgres::tls::connector(ca_file)?,
            shown,
        })
    }

    /// The target of `[export.postgres]`, or None when no URL is set.
    pub fn from_config(config: &PostgresExportConfig) -> Result<Option<Target>, ExportError> {
        let Some(url) = &config.url else {
            return Ok(None);
        };
        Target::new(
            url,
            config.password_file.as_deref(),
            config.ca_file.as_deref(),
            &config.instance,
            config.raw,
        )
        .map(Some)
    }

    /// Its key in `export_watermarks`: the database (user, hosts, ports,
    /// name: no password) and the instance. Another database, or another
    /// instance name, starts from the beginning.
    pub fn watermark_key(&self) -> String {
        let c = &self.connection;
        let hosts: Vec<String> = c
            .get_hosts()
            .iter()
            .map(|host| match host {
                ::postgres::config::Host::Tcp(name) => name.clone(),
                ::postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let ports: Vec<String> = c.get_ports().iter().map(u16::to_string).collect();
        format!(
            "postgres://{}@{}:{}/{} instance={}",
            c.get_user().unwrap_or_default(),
            hosts.join(","),
            ports.join(","),
            c.get_dbname().unwrap_or_default(),
            self.instance
        )
    }

    /// The URL as given, its password redacted.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// Rows shipped per table, in shipping order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shipped {
    pub tables: Vec<(&'static str, u64)>,
}

impl Shipped {
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }

    /// Adds `rows` to `table`'s count.
    fn add(&mut self, table: &'static str, rows: u64) {
        match self.tables.iter_mut().find(|(name, _)| *name == table) {
            Some((_, count)) => *count += rows,
            None => self.tables.push((table, rows)),
        }
    }
}
