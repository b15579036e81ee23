//! Writing one message and what was found in it, in one transaction.

use super::raw::{already_compressed, store_raw};
use super::records::RecordInserts;
use super::supersede::{Standing, Superseding, replaced, standing};
use super::{MessageMeta, READER_VERSION, StoreError};
use crate::auth::Trust;
use crate::parse::AggregateSink;
use crate::report::{Feedback, QuarantineKind, Record};
use flate2::Compression;
use flate2::write::GzEncoder;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::cell::{Cell, RefCell};
use std::io::{Read, Write};

/// One SQLite transaction holding one or more messages: a group commit.
/// Each message inside has its own savepoint ([`MessageTx`]), so it is
/// stored whole or not at all; the batch makes them durable together with
/// one fsync. Dropping it without [`Batch::commit`] rolls everything back.
pub struct Batch<'c> {
    pub(super) tx: Transaction<'c>,
    /// `store.keep_failure_bodies` (see [`super::Store::keep_failure_bodies`]).
    keep_failure_bodies: bool,
}

impl<'c> Batch<'c> {
    pub(super) fn begin(
        conn: &'c mut Connection,
        keep_failure_bodies: bool,
    ) -> Result<Self, StoreError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(Batch {
            tx,
            keep_failure_bodies,
        })
    }

    /// Starts taking in one message: writes its row inside a savepoint.
    pub fn begin_message(&self, meta: &MessageMeta) -> Result<MessageTx<'_>, StoreError> {
        self.tx.execute_batch("SAVEPOINT message")?;
        let mut message = MessageTx {
            conn: &self.tx,
            message: 0,
            open: true,
            keep_failure_bodies: self.keep_failure_bodies,
            trust: Cell::new(meta.trust),
            sender: sender_domain(meta.from_header.as_deref()),
            rereading: false,
            written: RefCell::new(Vec::new()),
        };
        self.tx
            .prepare_cached(
                "INSERT INTO messages (received_at, source, origin, remote_addr, helo, mail_from,
                                       rcpt_to, message_id, subject, from_header, size, raw_encoding,
                                       auth, auth_results)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'identity', ?12, ?13)",
            )?
            .execute(rusqlite::params![
                meta.received_at,
                meta.source.as_str(),
                meta.origin,
                meta.remote_addr,
                meta.helo,
                meta.mail_from,
                (!meta.rcpt_to.is_empty()).then(|| meta.rcpt_to.join("\n")),
                meta.message_id,
                meta.subject,
                meta.from_header,
                meta.size as i64,
                meta.trust.as_str(),
                meta.auth_results,
            ])?;
        message.message = self.tx.last_insert_rowid();
        Ok(message)
    }

    /// Reopens a stored message, to read it again (`reparse`).
    pub fn reopen_message(&self, message: i64) -> Result<MessageTx<'_>, StoreError> {
        let (auth, from): (String, Option<String>) = self
            .tx
            .prepare_cached("SELECT auth, from_header FROM messages WHERE id = ?1")?
            .query_row([message], |row| Ok((row.get(0)?, row.get(1)?)))?;
        self.tx.execute_batch("SAVEPOINT message")?;
        // Whatever is rewritten, an export replaces this message's rows
        // (rolled back with the message if it fails).
        self.tx
            .prepare_cached("INSERT INTO export_rewrites (message) VALUES (?1)")?
            .execute([message])?;
        Ok(MessageTx {
            conn: &self.tx,
            message,
            open: true,
            keep_failure_bodies: self.keep_failure_bodies,
            trust: Cell::new(Trust::from_stored(&auth).unwrap_or(Trust::Unchecked)),
            sender: sender_domain(from.as_deref()),
            rereading: true,
            written: RefCell::new(Vec::new()),
        })
    }

    /// How many reports of any kind are stored from `message`.
    pub fn stored_reports(&self, message: i64) -> Result<usize, StoreError> {
        reports_from(&self.tx, message)
    }

    /// Makes every message kept in the batch durable (`synchronous=FULL`).
    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}

/// One message being taken in, inside a [`Batch`]. Dropping it without
/// [`MessageTx::commit`] undoes everything written for it.
pub struct MessageTx<'b> {
    pub(super) conn: &'b Connection,
    message: i64,
    /// The savepoint is still open: dropping rolls it back.
    open: bool,
    keep_failure_bodies: bool,
    /// The verdict on the message's sender: decides which of two copies of
    /// a report counts, and whether it may raise alerts. Lowered when the
    /// message carries a report its sender is not the reporter of.
    trust: Cell<Trust>,
    /// The domain of the message's From address.
    sender: Option<String>,
    /// Read again by `reparse`: a report stored from it before at the same
    /// member is the same report, its identity perhaps read wrong before.
    rereading: bool,
    /// Rows of `reports` and `tls_reports` written in this reading, which
    /// no other report of it may take for its own.
    written: RefCell<Vec<i64>>,
}

/// The domain of a From address.
fn sender_domain(from: Option<&str>) -> Option<String> {
    from.and_then(|from| from.rsplit_once('@'))
        .map(|(_, domain)| domain.trim_end_matches('.').to_ascii_lowercase())
}

/// What became of one report written through a [`ReportWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored as a new report with this id.
    Stored(i64),
    /// The same report (org_name, report_id, policy domain) is stored already.
    Duplicate(i64),
    /// The same aggregate report was stored, and retention has deleted it
    /// since (`pruned_reports`): its records are in `daily_rollups`.
    Pruned,
}

impl Written {
    /// The stored row a duplicate is of; None for a new report, and for a
    /// duplicate of one retention deleted.
    pub fn existing(self) -> Option<i64> {
        match self {
            Written::Duplicate(id) => Some(id),
            Written::Stored(_) | Written::Pruned => None,
        }
    }
}

impl MessageTx<'_> {
    /// The message's id in `messages`.
    pub fn message_id(&self) -> i64 {
        self.message
    }

    /// The row stored from this message before that a report of identity
    /// `by_key` (rows with its identity, ordered first) or at its member is:
    /// the one to rewrite. `candidates`: (id, has the identity).
    pub(super) fn own_row(&self, candidates: Vec<(i64, bool)>) -> Option<i64> {
        let written = self.written.borrow();
        candidates
            .into_iter()
            .find(|&(id, by_key)| by_key || (self.rereading && !written.contains(&id)))
            .map(|(id, _)| id)
    }

    /// Notes a row written in this reading (see [`Self::own_row`]).
    pub(super) fn wrote(&self, id: i64) {
        self.written.borrow_mut().push(id);
    }

    /// The verdict on the message's sender, as it stands.
    pub fn trust(&self) -> Trust {
        self.trust.get()
    }

    /// The standing of a report this message carries, which names its
    /// reporter as `reporter` (addresses, URLs, organisation names): see
    /// [`crate::auth::of_report`]. A report the sender is not the
    /// reporter of lowers the whole message, which is then stored as
    /// unauthenticated: what counts is decided by the message.
    pub fn report_trust(&self, reporter: &[&str]) -> Trust {
        let domains: Vec<&str> = reporter
            .iter()
            .filter_map(|named| crate::auth::reporter_domain(named))
            .collect();
        let trust = crate::auth::of_report(self.trust.get(), self.sender.as_deref(), &domains);
        if trust != self.trust.get() {
            tracing::warn!(
                message = self.message,
                sender = self.sender.as_deref().unwrap_or(""),
                reporter = %reporter.join(","),
                "an authenticated sender carries a report it is not the reporter of; the message counts as unauthenticated"
            );
            self.trust.set(trust);
        }
        trust
    }

    /// Whether failure reports keep the failed message's body.
    pub(super) fn keeps_failure_bodies(&self) -> bool {
        self.keep_failure_bodies
    }

    /// Stores the message's raw bytes, read from `input` whose first bytes
    /// are `head` (to tell whether they are compressed already).
    pub fn write_raw(&self, head: &[u8], input: &mut dyn Read) -> Result<(), StoreError> {
        let encoding = store_raw(self.conn, self.message, head, input)?;
        self.conn.execute(
            "UPDATE messages SET raw_encoding = ?1 WHERE id = ?2",
            (encoding, self.message),
        )?;
        Ok(())
    }

    /// The message's raw bytes, as stored, decompressed.
    pub fn raw(&self) -> Result<Box<dyn Read + '_>, StoreError> {
        super::RawReader::open(self.conn, self.message)
    }

    /// Opens a savepoint for one report payload.
    pub fn report(&self, member: &str) -> Result<ReportWriter<'_>, StoreError> {
        self.conn.execute_batch("SAVEPOINT payload")?;
        Ok(ReportWriter {
            conn: self.conn,
            message: self.message,
            tx: self,
            member: member.to_owned(),
            report: None,
            duplicate_of: None,
            pruned: false,
            inserts: None,
            open: true,
        })
    }

    /// Keeps a payload that could not be read, with the reason. `payload` is
    /// the carrying MIME part, if any. A second failure of the same member (on
    /// reparse) replaces the first.
    pub fn quarantine(
        &self,
        member: &str,
        kind: QuarantineKind,
        error: &str,
        payload: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let payload = payload.map(compress_payload).transpose()?;
        self.conn
            .prepare_cached(
                "INSERT INTO quarantine (message, member, kind, error, payload, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, unixepoch())
                 ON CONFLICT (message, member) DO UPDATE SET kind = excluded.kind,
                     error = excluded.error, payload = coalesce(excluded.payload, payload)",
            )?
            .execute((self.message, member, kind.as_str(), error, payload))?;
        Ok(())
    }

    /// Removes the quarantine row of a member that now reads as a report.
    /// Returns whether there was one.
    pub fn release_quarantine(&self, member: &str) -> Result<bool, StoreError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM quarantine WHERE message = ?1 AND member = ?2")?
            .execute((self.message, member))?;
        Ok(removed > 0)
    }

    /// Removes the message's quarantine rows of `kind`; returns whether
    /// there were any.
    pub fn release_quarantine_of_kind(&self, kind: QuarantineKind) -> Result<bool, StoreError> {
        let removed = self
            .conn
            .prepare_cached("DELETE FROM quarantine WHERE message = ?1 AND kind = ?2")?
            .execute((self.message, kind.as_str()))?;
        Ok(removed > 0)
    }

    /// How many reports of any kind are stored from this message.
    pub fn stored_reports(&self) -> Result<usize, StoreError> {
        reports_from(self.conn, self.message)
    }

    /// Replaces the header fields kept for the message (`message_id`,
    /// `subject`, `from_header`) with those of `meta`: `reparse` reads them
    /// again.
    pub fn rewrite_header(&self, meta: &MessageMeta) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE messages SET message_id = ?1, subject = ?2, from_header = ?3
                 WHERE id = ?4",
            )?
            .execute((
                &meta.message_id,
                &meta.subject,
                &meta.from_header,
                self.message,
            ))?;
        Ok(())
    }

    /// Keeps the message, with its outcome (see `messages.outcome`), in the
    /// batch, as read by this version's reader; it is durable once the
    /// batch commits.
    pub fn commit(mut self, outcome: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE messages SET outcome = ?1, reader = ?2, auth = ?3 WHERE id = ?4",
            )?
            .execute((
                outcome,
                READER_VERSION,
                self.trust.get().as_str(),
                self.message,
            ))?;
        self.open = false;
        self.conn.execute_batch("RELEASE message")?;
        Ok(())
    }
}

impl Drop for MessageTx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self
                .conn
                .execute_batch("ROLLBACK TO message; RELEASE message");
        }
    }
}

fn reports_from(conn: &Connection, message: i64) -> Result<usize, StoreError> {
    let count: i64 = conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM reports WHERE message = ?1)
                  + (SELECT count(*) FROM tls_reports WHERE message = ?1)
                  + (SELECT count(*) FROM failure_reports WHERE message = ?1)",
        )?
        .query_row([message], |row| row.get(0))?;
    Ok(count as usize)
}

/// Quarantined payloads are kept gzip-compressed unless they are compressed.
fn compress_payload(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    if already_compressed(bytes) {
        return Ok(bytes.to_vec());
    }
    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(bytes)?;
    Ok(gzip.finish()?)
}

/// Writes one report, record by record, inside a savepoint of the message's
/// transaction. Finish with [`ReportWriter::keep`] or [`ReportWriter::discard`];
/// dropping it discards.
pub struct ReportWriter<'t> {
    conn: &'t Connection,
    message: i64,
    /// The message it is written in, whose trust it may lower.
    tx: &'t MessageTx<'t>,
    member: String,
    report: Option<i64>,
    duplicate_of: Option<i64>,
    /// Its identity is among those retention deleted.
    pruned: bool,
    /// How the records are written; `None` when they are not: the report is
    /// a duplicate.
    inserts: Option<RecordInserts<'t>>,
    /// The savepoint is still open: dropping rolls it back.
    open: bool,
}

impl ReportWriter<'_> {
    /// The sources the report was the first to show failing DMARC, noted as
    /// its records were written (see [`MessageTx::note_failing_sources`]);
    /// `None` if this writer wrote no records: a duplicate.
    pub fn new_failing_sources(&mut self) -> Result<Option<u64>, StoreError> {
        self.inserts
            .as_mut()
            .map(RecordInserts::new_failing_sources)
            .transpose()
    }

    /// Keeps what was written. `None` if the report never began (which the
    /// parser prevents for a successful parse).
    pub fn keep(mut self) -> Result<Option<Written>, StoreError> {
        if let Some(inserts) = &mut self.inserts {
            inserts.add_failing_held()?;
        }
        let written = match (self.report, self.duplicate_of) {
            _ if self.pruned => Some(Written::Pruned),
            (_, Some(existing)) => Some(Written::Duplicate(existing)),
            (Some(id), None) => Some(Written::Stored(id)),
            (None, None) => None,
        };
        self.inserts = None;
        self.open = false;
        self.conn.execute_batch("RELEASE payload")?;
        Ok(written)
    }

    /// Undoes everything written for this report.
    pub fn discard(mut self) -> Result<(), StoreError> {
        self.inserts = None;
        self.open = false;
        self.conn
            .execute_batch("ROLLBACK TO payload; RELEASE payload")?;
        Ok(())
    }
}

impl Drop for ReportWriter<'_> {
    fn drop(&mut self) {
        self.inserts = None;
        if self.open {
            let _ = self
                .conn
                .execute_batch("ROLLBACK TO payload; RELEASE payload");
        }
    }
}

impl AggregateSink for ReportWriter<'_> {
    type Error = StoreError;

    fn begin(&mut self, feedback: &Feedback) -> Result<(), StoreError> {
        let (org_name, report_id, domain) = feedback.key();
        let meta = &feedback.metadata;
        let reporter = [meta.email.as_deref().unwrap_or_default(), org_name];
        let trust = self.tx.report_trust(&reporter);
        let same_key = "org_name = ?1 AND report_id = ?2 AND policy_domain = ?3";
        let stored_elsewhere: Option<(i64, String)> = self
            .conn
            .prepare_cached(&format!(
                "SELECT rep.id, m.auth FROM reports rep JOIN messages m ON m.id = rep.message
                 WHERE {same_key} AND rep.message != ?4 AND rep.superseded_by IS NULL"
            ))?
            .query_row((org_name, report_id, domain, self.message), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        if stored_elsewhere.is_none() {
            let pruned: bool = self
                .conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM pruned_reports
                                    WHERE org_name = ?1 AND report_id = ?2 AND policy_domain = ?3)",
                )?
                .query_row((org_name, report_id, domain), |row| row.get(0))?;
            if pruned {
                self.pruned = true;
                return Ok(());
            }
        }
        let standing = standing(self.conn, Superseding::Aggregate, stored_elsewhere, trust)?;
        if let Standing::Duplicate(id) = standing {
            self.duplicate_of = Some(id);
            return Ok(());
        }
        // Stored from this very message before: `reparse` rewrites it in
        // place, keeping its id (alerts and failing sources refer to it).
        let candidates = self
            .conn
            .prepare_cached(&format!(
                "SELECT id, ({same_key}) FROM reports WHERE message = ?4 AND superseded_by IS NULL
                     AND (member = ?5 OR ({same_key}))
                 ORDER BY 2 DESC, id"
            ))?
            .query_map(
                (org_name, report_id, domain, self.message, &self.member),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?
            .collect::<Result<Vec<(i64, bool)>, _>>()?;
        let own = self.tx.own_row(candidates);
        let meta = &feedback.metadata;
        let policy = &feedback.policy;
        let errors = (!meta.errors.is_empty()).then(|| meta.errors.join("\n"));
        // One statement for both: a new row when `id` is NULL.
        self.conn
            .prepare_cached(
                "INSERT INTO reports (id, message, member, version, org_name, email,
                     extra_contact_info, report_id, date_begin, date_end, errors, generator,
                     policy_domain, adkim, aspf, p, sp, pct, fo, np, testing, discovery_method)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21, ?22)
                 ON CONFLICT (id) DO UPDATE SET member = excluded.member,
                     version = excluded.version, org_name = excluded.org_name,
                     email = excluded.email, extra_contact_info = excluded.extra_contact_info,
                     report_id = excluded.report_id, date_begin = excluded.date_begin,
                     date_end = excluded.date_end, errors = excluded.errors,
                     generator = excluded.generator, policy_domain = excluded.policy_domain,
                     adkim = excluded.adkim, aspf = excluded.aspf, p = excluded.p,
                     sp = excluded.sp, pct = excluded.pct, fo = excluded.fo, np = excluded.np,
                     testing = excluded.testing, discovery_method = excluded.discovery_method",
            )?
            .execute(rusqlite::params![
                own,
                self.message,
                self.member,
                feedback.version,
                meta.org_name,
                meta.email,
                meta.extra_contact_info,
                meta.report_id,
                meta.date_begin,
                meta.date_end,
                errors,
                meta.generator,
                policy.domain,
                policy.adkim,
                policy.aspf,
                policy.p,
                policy.sp,
                policy.pct,
                policy.fo,
                policy.np,
                policy.testing,
                policy.discovery_method,
            ])?;
        let id = match own {
            Some(id) => {
                // Its records are written again, as read now.
                self.conn
                    .prepare_cached("DELETE FROM records WHERE report = ?1")?
                    .execute([id])?;
                id
            }
            None => self.conn.last_insert_rowid(),
        };
        replaced(self.conn, Superseding::Aggregate, standing, id)?;
        self.tx.wrote(id);
        self.report = Some(id);
        let note_failing = trust != Trust::Unauthenticated;
        self.inserts = Some(RecordInserts::prepare(
            self.conn,
            id,
            feedback,
            note_failing,
        )?);
        Ok(())
    }

    fn record(&mut self, record: &mut Record) -> Result<(), StoreError> {
        match &mut self.inserts {
            Some(inserts) => inserts.insert(record),
            // A duplicate: the records are stored already.
            None => Ok(()),
        }
    }
}
