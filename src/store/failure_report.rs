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
    /// A reporter's retry is the same report message again: a report at the
    /// same member of a message with the same `Message-ID` is returned as
    /// [`Written::Duplicate`]; one from this very message (`reparse`) as
    /// [`Written::Stored`], not written twice.
    pub fn failure_report(
        &self,
        member: &str,
        report: &FailureReport,
    ) -> Result<Written, StoreError> {
        let existing: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT fr.id, fr.message FROM failure_reports fr
                 WHERE fr.member = ?2
                   AND (fr.message = ?1
                        OR fr.message IN (SELECT other.id FROM messages other
                                          JOIN messages this ON this.id = ?1
                                          WHERE other.message_id = this.message_id))
                 ORDER BY fr.message = ?1 DESC
                 LIMIT 1",
            )?
            .query_row((self.message_id(), member), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        match existing {
            Some((id, message)) if message == self.message_id() => return Ok(Written::Stored(id)),
            Some((id, _)) => return Ok(Written::Duplicate(id)),
            None => {}
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
        self.conn
            .prepare_cached(
                "INSERT INTO failure_reports (message, member, reporter, feedback_type,
                     auth_failure, source_ip, reported_domain, original_mail_from,
                     original_rcpt_to, arrival_date, delivery_result, dkim_domain,
                     dkim_selector, spf_dns, incidents, fields, original_headers, original_body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18)",
            )?
            .execute(rusqlite::params![
                self.message_id(),
                member,
                report.reporter,
                report.feedback_type,
                report.auth_failure,
                report.source_ip,
                report.reported_domain,
                report.original_mail_from,
                (!report.original_rcpt_to.is_empty()).then(|| report.original_rcpt_to.join("\n")),
                report.arrival_date,
                report.delivery_result,
                report.dkim_domain,
                report.dkim_selector,
                report.spf_dns,
                report.incidents,
                fields,
                report.original_headers,
                body,
            ])?;
        Ok(Written::Stored(self.conn.last_insert_rowid()))
    }
}
