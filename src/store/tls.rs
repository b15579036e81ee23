//! Writing SMTP TLS reports (`tls_reports`, `tls_policies`, `tls_failures`)
//! and remembering the failure types seen per domain (`tls_failure_types`).
//!
//! A TLS report is small and parsed whole before it is written, so it is
//! written in one go, inside the message's savepoint.

use super::write::{MessageTx, Written};
use super::{Batch, StoreError};
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
    /// identity (org_name, report_id) is stored: then returns that one as
    /// [`Written::Duplicate`] (or as [`Written::Stored`] when it came in
    /// this very message, read again by `reparse`).
    pub fn tls_report(&self, member: &str, report: &TlsReport) -> Result<Written, StoreError> {
        let existing: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT id, message FROM tls_reports WHERE org_name = ?1 AND report_id = ?2",
            )?
            .query_row((&report.org_name, &report.report_id), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        match existing {
            Some((id, message)) if message == self.message_id() => return Ok(Written::Stored(id)),
            Some((id, _)) => return Ok(Written::Duplicate(id)),
            None => {}
        }
        self.conn
            .prepare_cached(
                "INSERT INTO tls_reports (message, member, org_name, report_id, date_begin,
                     date_end, contact_info)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(rusqlite::params![
                self.message_id(),
                member,
                report.org_name,
                report.report_id,
                report.date_begin,
                report.date_end,
                report.contact_info,
            ])?;
        let id = self.conn.last_insert_rowid();
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
    pub fn note_tls_failure_types(&self, report: i64) -> Result<u64, StoreError> {
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
    pub fn new_tls_failures(&self, report: i64) -> Result<Vec<NewTlsFailure>, StoreError> {
        let rows = self
            .tx
            .prepare_cached(
                "SELECT pol.policy_domain, f.result_type, sum(f.failed_sessions),
                        group_concat(DISTINCT f.receiving_mx_hostname)
                 FROM tls_policies pol
                 JOIN tls_failures f ON f.policy = pol.id
                 JOIN tls_failure_types t ON t.policy_domain = pol.policy_domain
                                         AND t.result_type = f.result_type
                 WHERE pol.report = ?1 AND t.first_report = ?1
                 GROUP BY pol.policy_domain, f.result_type
                 ORDER BY 3 DESC, 1, 2",
            )?
            .query_map([report], |row| {
                let mx: Option<String> = row.get(3)?;
                let mut receiving_mx: Vec<String> = mx
                    .map(|mx| mx.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                receiving_mx.sort();
                Ok(NewTlsFailure {
                    policy_domain: row.get(0)?,
                    result_type: row.get(1)?,
                    failed_sessions: row.get(2)?,
                    receiving_mx,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// A list stored in one column, one item per line; `None` when empty.
fn joined(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| items.join("\n"))
}
