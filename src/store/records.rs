//! The inserts of one report's records, prepared once for the report.
//!
//! A large report has hundreds of thousands of records, each written with
//! up to four statements. Taking each statement from the connection's cache
//! for every record (a lookup by SQL text, and clearing its bindings when
//! handed back) cost about a tenth of the store thread's time; holding them
//! for the life of the report costs nothing per record.

use super::StoreError;
use crate::report::Record;
use rusqlite::{CachedStatement, Connection};

pub(super) struct RecordInserts<'c> {
    /// The report the records belong to (`reports.id`).
    report: i64,
    record: CachedStatement<'c>,
    reason: CachedStatement<'c>,
    dkim: CachedStatement<'c>,
    spf: CachedStatement<'c>,
}

impl<'c> RecordInserts<'c> {
    pub(super) fn prepare(conn: &'c Connection, report: i64) -> Result<Self, StoreError> {
        Ok(RecordInserts {
            report,
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
        })
    }

    /// Writes one record with its reasons and DKIM and SPF results.
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
        Ok(())
    }
}
