//! The visitor that parses each payload `extract` finds into the message's
//! transaction, or keeps it in quarantine with the reason.

use super::outcome::{PayloadOutcome, PayloadResult, ReportSummary};
use super::pipeline;
use crate::extract::{ExtractError, FailureMessage, PayloadInfo, PayloadVisitor};
use crate::limits::Limits;
use crate::parse::{ParseError, parse_failure_report, parse_tls_report};
use crate::report::{QuarantineKind, ReportKind};
use crate::store::{MessageTx, StoreError, Written};
use std::io::BufRead;

/// Parses each payload into the message's transaction, or quarantines it.
pub(super) struct StoreVisitor<'t, 'c> {
    tx: &'t MessageTx<'c>,
    limits: &'t Limits,
    pub(super) results: Vec<PayloadResult>,
    /// Payloads read now that had been quarantined (`reparse`).
    pub(super) released: usize,
}

impl<'t, 'c> StoreVisitor<'t, 'c> {
    pub(super) fn new(tx: &'t MessageTx<'c>, limits: &'t Limits) -> Self {
        StoreVisitor {
            tx,
            limits,
            results: Vec::new(),
            released: 0,
        }
    }

    fn unparsed(
        &mut self,
        payload: &PayloadInfo<'_>,
        error: &ParseError,
    ) -> Result<(), StoreError> {
        self.quarantine(payload, error.kind(), error.to_string())
    }

    /// Records what became of a report stored whole by one call (a TLS or
    /// failure report), releasing its quarantine row if it had one.
    fn kept(
        &mut self,
        payload: &PayloadInfo<'_>,
        written: Written,
        report: ReportSummary,
        new_failing_sources: u64,
        new_tls_failure_types: u64,
    ) -> Result<(), StoreError> {
        if self.tx.release_quarantine(payload.member)? {
            self.released += 1;
        }
        let outcome = match written {
            Written::Stored(id) => {
                tracing::debug!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    kind = report.kind.as_str(),
                    org_name = report.org_name,
                    report_id = report.report_id,
                    policy_domain = report.policy_domain,
                    "report read into the transaction"
                );
                PayloadOutcome::Stored {
                    id,
                    report,
                    new_failing_sources,
                    new_tls_failure_types,
                }
            }
            Written::Duplicate(_) | Written::Pruned => {
                let existing = written.existing();
                tracing::info!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    kind = report.kind.as_str(),
                    org_name = report.org_name,
                    report_id = report.report_id,
                    policy_domain = report.policy_domain,
                    existing,
                    pruned = existing.is_none(),
                    "duplicate report, stored before"
                );
                PayloadOutcome::Duplicate { existing, report }
            }
        };
        self.results.push(PayloadResult {
            member: payload.member.to_owned(),
            outcome,
        });
        Ok(())
    }

    fn quarantine(
        &mut self,
        payload: &PayloadInfo<'_>,
        kind: QuarantineKind,
        error: String,
    ) -> Result<(), StoreError> {
        self.tx
            .quarantine(payload.member, kind, &error, payload.carrier)?;
        tracing::warn!(
            message = self.tx.message_id(),
            member = payload.member,
            kind = kind.as_str(),
            %error,
            "payload quarantined"
        );
        self.results.push(PayloadResult {
            member: payload.member.to_owned(),
            outcome: PayloadOutcome::Quarantined { kind, error },
        });
        Ok(())
    }
}

impl PayloadVisitor for StoreVisitor<'_, '_> {
    type Error = StoreError;

    fn report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), StoreError> {
        let mut writer = self.tx.report(payload.member)?;
        let parsed = match pipeline::parse_and_store(
            document,
            payload.carrier.map(<[u8]>::len),
            payload.charset,
            self.limits,
            &mut writer,
        )? {
            Ok(parsed) => parsed,
            Err(error) => {
                writer.discard()?;
                return self.quarantine(payload, error.kind(), error.to_string());
            }
        };
        let noted_failing_sources = writer.new_failing_sources()?;
        let written = writer.keep()?;
        let (org_name, report_id, policy_domain) = parsed.feedback.key();
        let report = ReportSummary {
            kind: ReportKind::Aggregate,
            org_name: org_name.to_owned(),
            report_id: report_id.to_owned(),
            policy_domain: policy_domain.to_owned(),
            date_begin: parsed.feedback.metadata.date_begin,
            date_end: parsed.feedback.metadata.date_end,
            records: parsed.records,
            messages: parsed.messages,
        };
        if self.tx.release_quarantine(payload.member)? {
            self.released += 1;
        }
        let outcome = match written {
            Some(Written::Stored(id)) => {
                // Every way in keeps `failing_sources` up to date; only
                // `serve` turns what is new into alerts (see the committer).
                // The writer notes them as it writes the records; a report
                // whose records were stored before is looked at here.
                let new_failing_sources = match noted_failing_sources {
                    Some(noted) => noted,
                    None => self.tx.note_failing_sources(id)?,
                };
                tracing::debug!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    org_name,
                    report_id,
                    policy_domain,
                    records = parsed.records,
                    messages = parsed.messages,
                    "report read into the transaction"
                );
                PayloadOutcome::Stored {
                    id,
                    report,
                    new_failing_sources,
                    new_tls_failure_types: 0,
                }
            }
            Some(written @ (Written::Duplicate(_) | Written::Pruned)) => {
                let existing = written.existing();
                tracing::info!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    org_name,
                    report_id,
                    policy_domain,
                    existing,
                    pruned = existing.is_none(),
                    "duplicate report, stored before"
                );
                PayloadOutcome::Duplicate { existing, report }
            }
            None => unreachable!("a successful parse always begins the report"),
        };
        self.results.push(PayloadResult {
            member: payload.member.to_owned(),
            outcome,
        });
        Ok(())
    }

    fn tls_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), StoreError> {
        let report = match parse_tls_report(document, self.limits) {
            Ok(report) => report,
            Err(error) => return self.unparsed(payload, &error),
        };
        let written = self.tx.tls_report(payload.member, &report)?;
        let new_tls_failure_types = match written {
            Written::Stored(id) => self.tx.note_tls_failure_types(id)?,
            Written::Duplicate(_) | Written::Pruned => 0,
        };
        self.kept(
            payload,
            written,
            ReportSummary::of_tls(&report),
            0,
            new_tls_failure_types,
        )
    }

    fn failure_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        found: &FailureMessage,
    ) -> Result<(), StoreError> {
        let mut report = match parse_failure_report(&found.feedback) {
            Ok(report) => report,
            Err(error) => return self.unparsed(payload, &error),
        };
        report.original_headers = found
            .original_headers
            .as_deref()
            .map(|headers| String::from_utf8_lossy(headers).into_owned());
        report.original_body = found.original_body.clone();
        report.reporter = found
            .from
            .as_deref()
            .and_then(|from| from.rsplit_once('@'))
            .map(|(_, domain)| domain.trim_end_matches('.').to_ascii_lowercase());
        report.report_message_id = found.message_id.clone();
        let written = self.tx.failure_report(payload.member, &report)?;
        self.kept(payload, written, ReportSummary::of_failure(&report), 0, 0)
    }

    fn unreadable(
        &mut self,
        payload: &PayloadInfo<'_>,
        error: ExtractError,
    ) -> Result<(), StoreError> {
        self.quarantine(payload, error.kind(), error.to_string())
    }
}
