//! Writing DMARC failure reports (`failure_reports`).

use super::StoreError;
use super::write::{MessageTx, Written};
use crate::report::failure::FailureReport;
use rusqlite::OptionalExtension;

impl MessageTx<'_> {
    /// Stores a failure report found at `member`. The failed message's body
    /// is written only when the store keeps failure bodies
    /// (`store.keep_failure_bodies`).
    ///
    /// A reporter's retry is the same report message again: a stored
    /// report with the same report `Message-ID`, reported domain, source IP
    /// and arrival date is returned as [`Written::Duplicate`] (the
    /// Message-ID alone is the sender's to choose: a stranger could send
    /// one first to have the real report dropped); one from this very
    /// message and member (`reparse`) is rewritten in place, keeping its id.
    /// A report without a Message-ID is never taken for a retry.
    /// Both lookups use an index, whatever the store holds.
    pub fn failure_report(
        &self,
        member: &str,
        report: &FailureReport,
    ) -> Result<Written, StoreError> {
        let existing: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT id, message FROM failure_reports
                 WHERE (message = ?1 AND member = ?2)
                    OR (report_message_id = ?3 AND reported_domain = ?4
                        AND source_ip IS ?5 AND arrival_date IS ?6)
                 ORDER BY message = ?1 DESC
                 LIMIT 1",
            )?
            .query_row(
                rusqlite::params![
                    self.message_id(),
                    member,
                    report.report_message_id,
                    report.reported_domain,
                    report.source_ip,
                    report.arrival_date,
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((id, message)) = existing
            && message != self.message_id()
        {
            return Ok(Written::Duplicate(id));
        }
        let fields: Vec<[&str; 2]> = report
            .fields
            .iter()
            .map(|(name, value)| [name.as_str(), value.as_str()])
            .collect();
        let fields = serde_json::to_string(&fields).expect("strings serialise");
        let body = report
            .original_body
            .as_deref()
            .filter(|_| self.keeps_failure_bodies());
        let id: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO failure_reports (message, member, reporter, report_message_id,
                     feedback_type, auth_failure, source_ip, reported_domain, original_mail_from,
                     original_rcpt_to, arrival_date, delivery_result, dkim_domain,
                     dkim_selector, spf_dns, incidents, fields, original_headers, original_body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19)
                 ON CONFLICT (message, member) DO UPDATE SET reporter = excluded.reporter,
                     report_message_id = excluded.report_message_id,
                     feedback_type = excluded.feedback_type, auth_failure = excluded.auth_failure,
                     source_ip = excluded.source_ip, reported_domain = excluded.reported_domain,
                     original_mail_from = excluded.original_mail_from,
                     original_rcpt_to = excluded.original_rcpt_to,
                     arrival_date = excluded.arrival_date,
                     delivery_result = excluded.delivery_result,
                     dkim_domain = excluded.dkim_domain, dkim_selector = excluded.dkim_selector,
                     spf_dns = excluded.spf_dns, incidents = excluded.incidents,
                     fields = excluded.fields, original_headers = excluded.original_headers,
                     original_body = coalesce(excluded.original_body, original_body)
                 RETURNING id",
            )?
            .query_row(
                rusqlite::params![
                    self.message_id(),
                    member,
                    report.reporter,
                    report.report_message_id,
                    report.feedback_type,
                    report.auth_failure,
                    report.source_ip,
                    report.reported_domain,
                    report.original_mail_from,
                    (!report.original_rcpt_to.is_empty())
                        .then(|| report.original_rcpt_to.join("\n")),
                    report.arrival_date,
                    report.delivery_result,
                    report.dkim_domain,
                    report.dkim_selector,
                    report.spf_dns,
                    report.incidents,
                    fields,
                    report.original_headers,
                    body,
                ],
                |row| row.get(0),
            )?;
        Ok(Written::Stored(id))
    }
}
