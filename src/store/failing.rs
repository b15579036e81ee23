//! What the store remembers of DMARC failures: the sources seen failing for
//! each domain (`failing_sources`); and the alerts raised (`alerts`), about
//! those and about TLS reports (see `tls.rs`).
//!
//! Everything here is set-based, a few statements per report. Every way in
//! notes the failing sources of each report it stores, as its records are
//! written (`store/records.rs`), or with
//! [`MessageTx::note_failing_sources`] for a report whose records were
//! stored before; only `serve` asks for the rest, to decide on alerts (see
//! `crate::alert`).

use super::{Batch, MessageTx, StoreError};

/// A source seen failing DMARC for a domain for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingSource {
    pub source_ip: String,
    /// Messages from it that failed DMARC in the report that showed it.
    pub failing_messages: i64,
}

/// What one stored report showed of DMARC failures, for alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFailures {
    /// The UTC day (`YYYY-MM-DD`) the report's range begins on, as in the
    /// `daily_totals` view.
    pub day: String,
    /// Messages of the report that failed DMARC (neither aligned DKIM nor
    /// aligned SPF passed).
    pub failing_messages: i64,
    /// Sources the report was the first to show failing for the domain
    /// (see [`MessageTx::note_failing_sources`]): most failing messages
    /// first, as many as asked for.
    pub new_sources: Vec<FailingSource>,
}

/// An alert to remember in the `alerts` table.
#[derive(Debug, Clone, Copy)]
pub struct NewAlert<'a> {
    pub created_at: i64,
    pub kind: &'a str,
    pub policy_domain: &'a str,
    /// The report that raised it: exactly one of `report` (`reports.id`,
    /// an aggregate report) and `tls_report` (`tls_reports.id`) is set, as
    /// each column may only name a row of its own table.
    pub report: Option<i64>,
    pub tls_report: Option<i64>,
    /// Set for the alerts that are raised once per domain and day.
    pub day: Option<&'a str>,
    /// The JSON document describing it.
    pub details: &'a str,
}

impl MessageTx<'_> {
    /// Adds the sources that stored report `report` shows failing DMARC to
    /// `failing_sources`, the report as the first to show those not there
    /// yet; returns how many it added. Storing the same report again adds
    /// none. One statement, whatever the number of records. A report written
    /// through a [`super::ReportWriter`] has its sources noted already
    /// ([`super::ReportWriter::new_failing_sources`]).
    /// Nothing is noted from an unauthenticated message.
    pub fn note_failing_sources(&self, report: i64) -> Result<u64, StoreError> {
        if self.trust() == crate::auth::Trust::Unauthenticated {
            return Ok(0);
        }
        // Grouping feeds the sources to the primary key in order, which
        // costs less than one by one as they come.
        let added = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO failing_sources
                     (policy_domain, source_ip, first_report, first_seen)
                 SELECT rep.policy_domain, rec.source_ip, rep.id, rep.date_begin
                 FROM reports rep JOIN records rec ON rec.report = rep.id
                 WHERE rep.id = ?1 AND rec.dkim IS NOT 'pass' AND rec.spf IS NOT 'pass'
                 GROUP BY rec.source_ip",
            )?
            .execute([report])?;
        Ok(added as u64)
    }
}

impl Batch<'_> {
    /// What stored report `report` showed of DMARC failures: its day, its
    /// failing messages and, when `max_sources` is not 0, up to that many of
    /// the sources it was the first to show failing.
    pub fn report_failures(
        &self,
        report: i64,
        max_sources: usize,
    ) -> Result<ReportFailures, StoreError> {
        let (day, failing_messages) = self
            .tx
            .prepare_cached(
                "SELECT date(date_begin, 'unixepoch'),
                        (SELECT coalesce(sum(count), 0) FROM records
                         WHERE report = ?1 AND dkim IS NOT 'pass' AND spf IS NOT 'pass')
                 FROM reports WHERE id = ?1",
            )?
            .query_row([report], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let new_sources = if max_sources == 0 {
            Vec::new()
        } else {
            self.tx
                .prepare_cached(
                    "SELECT rec.source_ip, sum(rec.count) AS failing
                     FROM reports rep
                     JOIN records rec ON rec.report = rep.id
                     JOIN failing_sources fs ON fs.policy_domain = rep.policy_domain
                                            AND fs.source_ip = rec.source_ip
                     WHERE rep.id = ?1 AND fs.first_report = ?1
                       AND rec.dkim IS NOT 'pass' AND rec.spf IS NOT 'pass'
                     GROUP BY rec.source_ip
                     ORDER BY failing DESC, rec.source_ip
                     LIMIT ?2",
                )?
                .query_map((report, max_sources as i64), |row| {
                    Ok(FailingSource {
                        source_ip: row.get(0)?,
                        failing_messages: row.get(1)?,
                    })
                })?
                .collect::<Result<_, _>>()?
        };
        Ok(ReportFailures {
            day,
            failing_messages,
            new_sources,
        })
    }

    /// Remembers an alert, durable with the batch. Returns false when an
    /// alert raised once per domain and day was raised already: it must not
    /// be raised again.
    pub fn record_alert(&self, alert: &NewAlert<'_>) -> Result<bool, StoreError> {
        debug_assert!(
            alert.report.is_some() != alert.tls_report.is_some(),
            "an alert names one report: {alert:?}"
        );
        let added = self
            .tx
            .prepare_cached(
                "INSERT OR IGNORE INTO alerts
                     (created_at, kind, policy_domain, report, tls_report, day, details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute((
                alert.created_at,
                alert.kind,
                alert.policy_domain,
                alert.report,
                alert.tls_report,
                alert.day,
                alert.details,
            ))?;
        Ok(added == 1)
    }
}
