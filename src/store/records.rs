//! The inserts of one report's records, prepared once for the report.
//!
//! A large report has hundreds of thousands of records, each written with
//! up to four statements. Taking each statement from the connection's cache
//! for every record (a lookup by SQL text, and clearing its bindings when
//! handed back) cost about a tenth of the store thread's time; holding them
//! for the life of the report costs nothing per record.
//!
//! The sources a report shows failing DMARC are added to `failing_sources`
//! here too, as the records come, rather than by a query over the report's
//! records once they are all written: that query ran after the parse, alone
//! on the import's critical path, while this runs beside the parser. They
//! are held back and added in runs sorted by address, duplicates dropped:
//! added one by one in the records' order, each went to a random place in
//! the table's unique index, whose pages outgrew SQLite's cache; every
//! addition then read a page back and wrote it out again, which was a
//! fifth of the store thread's time on a report of a million records.

use super::StoreError;
use crate::report::{Feedback, Record};
use rusqlite::{CachedStatement, Connection};

/// Failing sources held before they are added: a run of this many
/// addresses takes a few MiB, and sorted, reaches the index's pages in
/// order.
const FAILING_HELD_MAX: usize = 1 << 16;

/// Bytes of failing sources held before they are added, whatever their
/// number: a `source_ip` is what the reporter wrote, and nothing but
/// `max_record_bytes` bounds its length, so 65,536 of them could have
/// held gigabytes.
const FAILING_HELD_MAX_BYTES: usize = 4 << 20;

pub(super) struct RecordInserts<'c> {
    /// The report the records belong to (`reports.id`).
    report: i64,
    policy_domain: String,
    /// The report's `date_begin`: when its failing sources were first seen.
    date_begin: i64,
    /// Sources this report was the first to show failing for the domain.
    new_failing_sources: u64,
    /// Addresses of failing sources not yet added to `failing_sources`.
    failing_held: Vec<String>,
    /// Their bytes.
    failing_held_bytes: usize,
    record: CachedStatement<'c>,
    reason: CachedStatement<'c>,
    dkim: CachedStatement<'c>,
    spf: CachedStatement<'c>,
    failing: CachedStatement<'c>,
    /// Whether failing sources are noted: not from an unauthenticated
    /// message, which must not pre-empt the alert a real report raises.
    note_failing: bool,
}

impl<'c> RecordInserts<'c> {
    pub(super) fn prepare(
        conn: &'c Connection,
        report: i64,
        feedback: &Feedback,
        note_failing: bool,
    ) -> Result<Self, StoreError> {
        Ok(RecordInserts {
            report,
            policy_domain: feedback.policy.domain.clone(),
            date_begin: feedback.metadata.date_begin,
            new_failing_sources: 0,
            failing_held: Vec::new(),
            failing_held_bytes: 0,
            record: conn.prepare_cached(
                "INSERT INTO records (report, source_ip, count, disposition, dkim, spf,
                     header_from, envelope_from, envelope_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            reason: conn.prepare_cached(
                "INSERT INTO record_reasons (record, type, comment) VALUES (?1, ?2, ?3)",
            )?,
            dkim: conn.prepare_cached(
                "INSERT INTO dkim_results (record, domain, selector, result, human_result)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            spf: conn.prepare_cached(
                "INSERT INTO spf_results (record, domain, scope, result, human_result)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            failing: conn.prepare_cached(
                "INSERT OR IGNORE INTO failing_sources
                     (policy_domain, source_ip, first_report, first_seen)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
            note_failing,
        })
    }

    /// Sources the records written so far were the first to show failing
    /// DMARC for the domain, as [`super::MessageTx::note_failing_sources`]
    /// counts them; adds those still held first.
    pub(super) fn new_failing_sources(&mut self) -> Result<u64, StoreError> {
        self.add_failing_held()?;
        Ok(self.new_failing_sources)
    }

    /// Adds the failing sources held to `failing_sources`, in address
    /// order, each once.
    pub(super) fn add_failing_held(&mut self) -> Result<(), StoreError> {
        self.failing_held.sort_unstable();
        self.failing_held.dedup();
        self.failing_held_bytes = 0;
        for source_ip in self.failing_held.drain(..) {
            let added = self.failing.execute((
                &self.policy_domain,
                &source_ip,
                self.report,
                self.date_begin,
            ))?;
            self.new_failing_sources += added as u64;
        }
        Ok(())
    }

    /// Writes one record with its reasons and DKIM and SPF results, and
    /// holds its source, to be added, if it failed DMARC (neither aligned DKIM nor aligned
    /// SPF passed, as in `failing_sources`).
    pub(super) fn insert(&mut self, record: &Record) -> Result<(), StoreError> {
        let id = self.record.insert(rusqlite::params![
            self.report,
            record.source_ip,
            record.count,
            record.disposition,
            record.dkim,
            record.spf,
            record.header_from,
            record.envelope_from,
            record.envelope_to,
        ])?;
        for reason in &record.reasons {
            self.reason.execute((id, &reason.kind, &reason.comment))?;
        }
        for dkim in &record.dkim_results {
            self.dkim.execute((
                id,
                &dkim.domain,
                &dkim.selector,
                &dkim.result,
                &dkim.human_result,
            ))?;
        }
        for spf in &record.spf_results {
            self.spf
                .execute((id, &spf.domain, &spf.scope, &spf.result, &spf.human_result))?;
        }
        let pass = Some("pass");
        if self.note_failing && record.dkim.as_deref() != pass && record.spf.as_deref() != pass {
            self.failing_held.push(record.source_ip.clone());
            self.failing_held_bytes += record.source_ip.len();
            if self.failing_held.len() == FAILING_HELD_MAX
                || self.failing_held_bytes >= FAILING_HELD_MAX_BYTES
            {
                self.add_failing_held()?;
            }
        }
        Ok(())
    }
}
