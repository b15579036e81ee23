//! Writing SMTP TLS reports (`tls_reports`, `tls_policies`, `tls_failures`)
//! and remembering the failure types seen per domain (`tls_failure_types`).
//!
//! A TLS report is small and parsed whole before it is written, so it is
//! written in one go, inside the message's savepoint.

use super::supersede::{Standing, Superseding, replaced, standing};
use super::write::{MessageTx, Written};
use super::{Batch, StoreError};
use crate::auth::Trust;
use crate::report::tls::TlsReport;
use rusqlite::OptionalExtension;

/// A TLS failure type seen for a policy domain for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTlsFailure {
    pub policy_domain: String,
    pub result_type: String,
    /// Sessions the report that showed it counts as failed so.
    pub failed_sessions: i64,
    /// The receiving MX host names it names for that type, sorted.
    pub receiving_mx: Vec<String>,
}

impl MessageTx<'_> {
    /// Stores a TLS report found at `member`, unless a report with the same
    /// identity (org_name, report_id) came in another message: then returns
    /// that one as [`Written::Duplicate`]. One stored from this very message
    /// before (read again by `reparse`) is rewritten in place, keeping its id.
    pub fn tls_report(&self, member: &str, report: &TlsReport) -> Result<Written, StoreError> {
        let stored_elsewhere: Option<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT rep.id, m.auth FROM tls_reports rep JOIN messages m ON m.id = rep.message
                 WHERE rep.org_name = ?1 AND rep.report_id = ?2 AND rep.message != ?3
                     AND rep.superseded_by IS NULL",
            )?
            .query_row(
                (&report.org_name, &report.report_id, self.message_id()),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let reporter = [
            report.contact_info.as_deref().unwrap_or_default(),
            report.org_name.as_str(),
        ];
        let trust = self.report_trust(&reporter);
        let standing = standing(self.conn, Superseding::Tls, stored_elsewhere, trust)?;
        if let Standing::Duplicate(id) = standing {
            return Ok(Written::Duplicate(id));
        }
        let candidates = self
            .conn
            .prepare_cached(
                "SELECT id, (org_name = ?3 AND report_id = ?4) FROM tls_reports
                 WHERE message = ?1 AND superseded_by IS NULL
                     AND (member = ?2 OR (org_name = ?3 AND report_id = ?4))
                 ORDER BY 2 DESC, id",
            )?
            .query_map(
                (
                    self.message_id(),
                    member,
                    &report.org_name,
                    &report.report_id,
                ),
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?
            .collect::<Result<Vec<(i64, bool)>, _>>()?;
        let own = self.own_row(candidates);
        self.conn
            .prepare_cached(
                "INSERT INTO tls_reports (id, message, member, org_name, report_id, date_begin,
                     date_end, contact_info)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET member = excluded.member,
                     org_name = excluded.org_name, report_id = excluded.report_id,
                     date_begin = excluded.date_begin, date_end = excluded.date_end,
                     contact_info = excluded.contact_info",
            )?
            .execute(rusqlite::params![
                own,
                self.message_id(),
                member,
                report.org_name,
                report.report_id,
                report.date_begin,
                report.date_end,
                report.contact_info,
            ])?;
        let id = match own {
            Some(id) => {
                // Its policies and failures are written again, as read now.
                self.conn
                    .prepare_cached("DELETE FROM tls_policies WHERE report = ?1")?
                    .execute([id])?;
                id
            }
            None => self.conn.last_insert_rowid(),
        };
        replaced(self.conn, Superseding::Tls, standing, id)?;
        self.wrote(id);
        let mut insert_policy = self.conn.prepare_cached(
            "INSERT INTO tls_policies (report, policy_type, policy_domain, policy_string, mx_host,
                 successful_sessions, failed_sessions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut insert_failure = self.conn.prepare_cached(
            "INSERT INTO tls_failures (policy, result_type, sending_mta_ip, receiving_mx_hostname,
                 receiving_mx_helo, receiving_ip, failed_sessions, additional_information,
                 failure_reason_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for policy in &report.policies {
            insert_policy.execute(rusqlite::params![
                id,
                policy.policy_type,
                policy.policy_domain,
                joined(&policy.policy_string),
                joined(&policy.mx_hosts),
                policy.successful_sessions,
                policy.failed_sessions,
            ])?;
            let policy_id = self.conn.last_insert_rowid();
            for failure in &policy.failures {
                insert_failure.execute(rusqlite::params![
                    policy_id,
                    failure.result_type,
                    failure.sending_mta_ip,
                    failure.receiving_mx_hostname,
                    failure.receiving_mx_helo,
                    failure.receiving_ip,
                    failure.failed_sessions,
                    failure.additional_information,
                    failure.failure_reason_code,
                ])?;
            }
        }
        Ok(Written::Stored(id))
    }

    /// Adds the failure types stored TLS report `report` shows to
    /// `tls_failure_types`, the report as the first to show those not there
    /// yet; returns how many it added. Storing the same report again adds none.
    /// Nothing is noted from an unauthenticated message: it must not
    /// pre-empt the alert a real report raises.
    pub fn note_tls_failure_types(&self, report: i64) -> Result<u64, StoreError> {
        if self.trust() == Trust::Unauthenticated {
            return Ok(0);
        }
        let added = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO tls_failure_types
                     (policy_domain, result_type, first_report, first_seen)
                 SELECT pol.policy_domain, f.result_type, rep.id, rep.date_begin
                 FROM tls_reports rep
                 JOIN tls_policies pol ON pol.report = rep.id
                 JOIN tls_failures f ON f.policy = pol.id
                 WHERE rep.id = ?1
                 GROUP BY pol.policy_domain, f.result_type",
            )?
            .execute([report])?;
        Ok(added as u64)
    }
}

impl Batch<'_> {
    /// The failure types stored TLS report `report` was the first to show
    /// for their policy domains, most failed sessions first.
    ///
    /// Reads one row per failure detail and sums in Rust, saturating: the
    /// counts are the reporter's, and an SQL `sum()` that overflowed would
    /// fail the whole batch. Host names are compared whole, never split
    /// out of a joined string, since a reporter may put anything in them.
    pub fn new_tls_failures(&self, report: i64) -> Result<Vec<NewTlsFailure>, StoreError> {
        let mut statement = self.tx.prepare_cached(
            "SELECT pol.policy_domain, f.result_type, f.receiving_mx_hostname, f.failed_sessions
             FROM tls_policies pol
             JOIN tls_failures f ON f.policy = pol.id
             JOIN tls_failure_types t ON t.policy_domain = pol.policy_domain
                                     AND t.result_type = f.result_type
             WHERE pol.report = ?1 AND t.first_report = ?1
             ORDER BY 1, 2, 3",
        )?;
        let mut rows = statement.query([report])?;
        let mut failures: Vec<NewTlsFailure> = Vec::new();
        while let Some(row) = rows.next()? {
            let policy_domain: String = row.get(0)?;
            let result_type: String = row.get(1)?;
            let receiving_mx: Option<String> = row.get(2)?;
            let failed_sessions: i64 = row.get(3)?;
            let same_type = failures.last().is_some_and(|last| {
                last.policy_domain == policy_domain && last.result_type == result_type
            });
            if !same_type {
                failures.push(NewTlsFailure {
                    policy_domain,
                    result_type,
                    failed_sessions: 0,
                    receiving_mx: Vec::new(),
                });
            }
            let failure = failures.last_mut().expect("pushed above");
            failure.failed_sessions = failure.failed_sessions.saturating_add(failed_sessions);
            // Sorted by the query, so a repeat is the last one added.
            if let Some(mx) = receiving_mx
                && failure.receiving_mx.last() != Some(&mx)
            {
                failure.receiving_mx.push(mx);
            }
        }
        failures.sort_by(|a, b| {
            b.failed_sessions
                .cmp(&a.failed_sessions)
                .then_with(|| a.policy_domain.cmp(&b.policy_domain))
                .then_with(|| a.result_type.cmp(&b.result_type))
        });
        Ok(failures)
    }

    /// The sessions stored TLS report `report` counts for `policy_domain`,
    /// over all its policies for it: (successful, failed), as its summaries
    /// give them, summed saturating.
    pub fn tls_sessions(&self, report: i64, policy_domain: &str) -> Result<(i64, i64), StoreError> {
        let mut statement = self.tx.prepare_cached(
            "SELECT successful_sessions, failed_sessions FROM tls_policies
             WHERE report = ?1 AND policy_domain = ?2",
        )?;
        let mut rows = statement.query((report, policy_domain))?;
        let (mut successful, mut failed) = (0i64, 0i64);
        while let Some(row) = rows.next()? {
            successful = successful.saturating_add(row.get(0)?);
            failed = failed.saturating_add(row.get(1)?);
        }
        Ok((successful, failed))
    }
}

/// A list stored in one column, one item per line; `None` when empty.
fn joined(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| items.join("\n"))
}
