//! Report → SQLite. The only code that knows SQL.
//!
//! One [`Store`] owns one connection. Messages are written in a [`Batch`] (one
//! SQLite transaction, committed with one fsync) in which each message is a
//! savepoint ([`MessageTx`]): its row, its raw bytes, every report found in it
//! and every quarantined payload, or none of them. Within a message each
//! payload has a savepoint of its own, so a report that fails half-way leaves
//! no records behind while the message's other reports still land. Each
//! stored aggregate report also updates what is known of the sources
//! failing DMARC (`failing_sources`), each TLS report the failure types seen
//! (`tls_failure_types`). The store knows no MIME, XML or JSON.

mod approved;
mod failing;
mod failure_report;
mod last_report;
mod prune;
mod raw;
mod read;
mod read_tls_failure;
mod read_traffic;
mod records;
mod rollups;
mod silence;
mod supersede;
mod tls;
mod watch;
mod watermark;
mod write;

pub use approved::{ApprovedSource, ChangedBy, ListChange, Standing};
pub use failing::{FailingSource, NewAlert, ReportFailures};
pub use prune::{PruneBudget, PruneControl, PruneCounts, PruneProgress};
pub use raw::RawReader;
pub use read::{
    Counts, DailyTotals, DomainSeen, DomainTotals, LeftOut, Scope, SourceDomain, SourceTotals,
};
pub use read_tls_failure::{
    AuthFailureCount, FailureDomainTotals, FailureSourceTotals, TlsDomainTotals, TlsMxFailures,
    TlsResultCount,
};
pub use read_traffic::{ForeignSpf, SelectorSeen, SourceSeen};
pub use silence::{SilentDomain, SilentReporter};
pub use tls::NewTlsFailure;
pub use watch::{OnceAlert, PolicySeen};
pub use write::{Batch, MessageTx, ReportWriter, Written};

use crate::auth::Trust;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::Duration;

/// Schema migrations, applied in order; `PRAGMA user_version` counts those done.
const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("migrate_2_alerts.sql"),
    include_str!("migrate_3_tls_failure.sql"),
    include_str!("migrate_4_reader.sql"),
    include_str!("migrate_5_trust.sql"),
    include_str!("migrate_6_years.sql"),
    include_str!("migrate_7_export.sql"),
];

/// The version of the reader (extraction and parsing) that stores what it
/// reads now, kept in `messages.reader`. Raised when a change means that
/// messages read before may have been stored differently; `reparse` reads
/// every message of an older reader again.
pub const READER_VERSION: i64 = 2;

/// How long a writer waits for another process holding the database.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A failure of the store itself: the message could not be kept.
///
/// The cause is part of the message and not also given as its `source`:
/// an error chain printed whole (`dmarc-sink: {error:#}`) names it once.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("cannot read or write raw message bytes: {0}")]
    Io(std::io::Error),
    #[error(
        "the store's schema version {found} is newer than this dmarc-sink understands ({supported})"
    )]
    SchemaTooNew { found: i64, supported: i64 },
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(error)
    }
}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> Self {
        StoreError::Io(error)
    }
}

/// How a message reached the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Smtp,
    Import,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Smtp => "smtp",
            Source::Import => "import",
        }
    }
}

/// What is known of a message besides its bytes.
#[derive(Debug, Clone)]
pub struct MessageMeta {
    pub received_at: i64,
    pub source: Source,
    pub origin: Option<String>,
    pub remote_addr: Option<String>,
    pub helo: Option<String>,
    pub mail_from: Option<String>,
    pub rcpt_to: Vec<String>,
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub from_header: Option<String>,
    pub size: u64,
    /// The verdict on its sender (`messages.auth`).
    pub trust: Trust,
    /// The checks behind it, RFC 8601 syntax (`messages.auth_results`).
    pub auth_results: Option<String>,
}

/// A stored message, as `reparse` needs it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: i64,
    pub source: Source,
    pub origin: Option<String>,
}

/// The SQL functions the queries use: `dmarc_aligned(a, b)`, relaxed DMARC
/// alignment of two domain names by the public suffix list. It is
/// [`crate::auth::aligned`] itself, so that SQL and Rust cannot disagree.
fn register_functions(conn: &Connection) -> Result<(), StoreError> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "dmarc_aligned",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let a: Option<String> = ctx.get(0)?;
            let b: Option<String> = ctx.get(1)?;
            Ok(match (a, b) {
                (Some(a), Some(b)) => crate::auth::aligned(&a, &b),
                _ => false,
            })
        },
    )?;
    Ok(())
}

/// The SQLite store.
pub struct Store {
    conn: Connection,
    /// See [`Store::keep_failure_bodies`].
    keep_failure_bodies: bool,
}

impl Store {
    /// Opens (creating if need be) the store at `path` and brings its schema
    /// up to date. WAL mode, `synchronous=FULL`: a committed message survives
    /// a crash or power loss.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Only a database without tables takes a new auto_vacuum mode; older
        // stores are converted by `prune` (see `Store::vacuum_mode`).
        let fresh: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if fresh == 0 {
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Plans that never depend on the values bound: without it SQLite
        // prepared the statements that look a report up again each time
        // new values were bound (weighing a partial index against them), a
        // seventh of the writer's time under SMTP load. The store keeps no
        // statistics (no ANALYZE), so no plan gets worse for it.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.set_prepared_statement_cache_capacity(32);
        register_functions(&conn)?;
        let mut store = Store {
            conn,
            keep_failure_bodies: false,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// How long a write waits for a lock held by another connection before
    /// failing (and the delivery being answered 451).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        self.conn.busy_timeout(timeout)?;
        Ok(())
    }

    /// The operating system's reason for `error`, when it is an I/O error
    /// (or a file that would not open) met on this connection: SQLite says
    /// only `disk I/O error`, which does not tell a failing disk from a file
    /// system the kernel turned read-only. Ask right after the failure: the
    /// connection remembers only its latest one.
    pub fn os_cause(&self, error: &StoreError) -> Option<std::io::Error> {
        let sqlite = match error {
            StoreError::Sqlite(error) => Some(error),
            // Raw message bytes are written through `io::Write`.
            StoreError::Io(error) => error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rusqlite::Error>()),
            StoreError::SchemaTooNew { .. } => None,
        };
        let code = sqlite.and_then(rusqlite::Error::sqlite_error_code)?;
        if !matches!(code, ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) {
            return None;
        }
        // SAFETY: the handle is this store's open connection, and `&self`
        // keeps it open; sqlite3_system_errno only reads a field of it.
        let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(self.conn.handle()) };
        (errno != 0).then(|| std::io::Error::from_raw_os_error(errno))
    }

    /// Whether failure reports stored from now on keep the failed message's
    /// body (`store.keep_failure_bodies`); off when the store is opened, as
    /// bodies may hold personal data. The headers are always kept.
    pub fn keep_failure_bodies(&mut self, keep: bool) {
        self.keep_failure_bodies = keep;
    }

    /// The schema version in use (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// Starts a transaction for one or more messages (see [`Batch`]).
    pub fn begin_batch(&mut self) -> Result<Batch<'_>, StoreError> {
        Batch::begin(&mut self.conn, self.keep_failure_bodies)
    }

    /// The raw bytes of a stored message, decompressed, as a stream.
    pub fn raw_message(&self, message: i64) -> Result<Box<dyn std::io::Read + '_>, StoreError> {
        RawReader::open(&self.conn, message)
    }

    /// Messages that `reparse` should look at again: those with open
    /// quarantine rows or no report found, those an older reader read (see
    /// [`READER_VERSION`]), or every message with `all`.
    pub fn messages_to_reparse(&self, all: bool) -> Result<Vec<StoredMessage>, StoreError> {
        // A message kept whole for its unauthenticated sender stays unread:
        // that is the operator's policy, not a reading that failed.
        let sql = if all {
            "SELECT id, source, origin FROM messages
             WHERE id NOT IN (SELECT message FROM quarantine WHERE kind = 'unauthenticated')
             ORDER BY id"
        } else {
            "SELECT id, source, origin FROM messages
             WHERE (outcome IN ('not_a_report', 'quarantined', 'partial')
                    OR id IN (SELECT message FROM quarantine)
                    OR reader < ?1)
               AND id NOT IN (SELECT message FROM quarantine WHERE kind = 'unauthenticated')
             ORDER BY id"
        };
        let params: &[&dyn rusqlite::ToSql] = if all { &[] } else { &[&READER_VERSION] };
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params, |row| {
            let source: String = row.get(1)?;
            Ok(StoredMessage {
                id: row.get(0)?,
                source: if source == "smtp" {
                    Source::Smtp
                } else {
                    Source::Import
                },
                origin: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The id of the report with this identity, if stored.
    pub fn find_report(
        &self,
        org_name: &str,
        report_id: &str,
        policy_domain: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM reports WHERE org_name = ?1 AND report_id = ?2 AND policy_domain = ?3",
                (org_name, report_id, policy_domain),
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Direct access for read-only queries (tests, insight commands).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_chain_names_its_cause_once() {
        let sqlite = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
            None,
        );
        let chain = format!("{:#}", anyhow::Error::from(StoreError::from(sqlite)));
        assert_eq!(chain, "database error: Error code 10: disk I/O error");
        let io = std::io::Error::other("No space left on device");
        let chain = format!("{:#}", anyhow::Error::from(StoreError::from(io)));
        assert_eq!(
            chain,
            "cannot read or write raw message bytes: No space left on device"
        );
    }
}
