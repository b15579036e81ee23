//! The alert about a TLS report (`new_tls_failure`): it is the first to
//! show a failure result type for a policy domain (`certificate-expired`,
//! `starttls-not-supported`, `validation-failure`, ...). Something changed
//! on the receiving side — a certificate let lapse, an MX that lost
//! STARTTLS, an MTA-STS policy that no longer matches the MX names — and
//! senders now deliver to the domain without TLS, or not at all.
//!
//! One alert per report and policy domain, naming the new types; a type
//! already seen for the domain never alerts again, so a certificate left
//! expired does not raise one a day.

use super::{Alert, AlertKind, AlertedReport, DocumentHead};
use crate::ingest::ReportSummary;
use crate::insight::period::rfc3339;
use crate::store::{Batch, NewAlert, NewTlsFailure, StoreError};
use serde::Serialize;

/// New failure types listed in one alert. RFC 8460 defines eleven result
/// types, so only a reporter inventing its own reaches this; the rest are
/// counted in `failure_types_total`.
const MAX_LISTED_TYPES: usize = 20;
/// Receiving MX hosts listed per failure type. A domain has a few MX
/// hosts; a report naming more is counted in `receiving_mx_total`.
const MAX_LISTED_MX: usize = 10;

/// One `new_tls_failure` alert: what one stored TLS report showed first
/// for one policy domain.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsAlert {
    /// The report that raised it (`tls_reports.id`).
    pub tls_report: i64,
    /// That report (`organization-name`, `report-id`), for the policy
    /// domain with new failure types.
    pub about: AlertedReport,
    /// The sessions the report counts for the domain, over all its
    /// policies for it, as their summaries give them.
    pub successful_sessions: i64,
    pub failed_sessions: i64,
    /// The new failure types, most failed sessions first, at most
    /// [`MAX_LISTED_TYPES`], and how many there are in all.
    pub failures: Vec<NewTlsFailure>,
    pub failures_total: usize,
    /// When it was raised, unix seconds.
    pub created_at: i64,
}

/// The JSON document of a `new_tls_failure` alert (see docs/operations.md, Alerts).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    head: DocumentHead<'a>,
    successful_sessions: i64,
    failed_sessions: i64,
    failure_types: Vec<FailureTypeDocument<'a>>,
    failure_types_total: usize,
    created_at: String,
}

#[derive(Serialize)]
struct FailureTypeDocument<'a> {
    result_type: &'a str,
    failed_sessions: i64,
    receiving_mx: &'a [String],
    receiving_mx_total: usize,
}

impl TlsAlert {
    /// The JSON document describing it.
    pub fn document(&self) -> String {
        let document = Document {
            head: self.about.document_head(AlertKind::NewTlsFailure),
            successful_sessions: self.successful_sessions,
            failed_sessions: self.failed_sessions,
            failure_types: self
                .failures
                .iter()
                .map(|failure| FailureTypeDocument {
                    result_type: &failure.result_type,
                    failed_sessions: failure.failed_sessions,
                    receiving_mx: &failure.receiving_mx
                        [..failure.receiving_mx.len().min(MAX_LISTED_MX)],
                    receiving_mx_total: failure.receiving_mx.len(),
                })
                .collect(),
            failure_types_total: self.failures_total,
            created_at: rfc3339(self.created_at),
        };
        serde_json::to_string(&document).expect("an alert document serialises")
    }

    /// Writes the WARN line; its message starts with `alert:`.
    pub(super) fn log(&self) {
        let result_types: Vec<&str> = self
            .failures
            .iter()
            .map(|failure| failure.result_type.as_str())
            .collect();
        warn_alert!(
            AlertKind::NewTlsFailure,
            self.about,
            result_types = %result_types.join(","),
            failed_sessions = self.failed_sessions,
            successful_sessions = self.successful_sessions,
            "alert: new TLS failure type"
        );
    }

    /// Records it in the `alerts` table, naming its TLS report.
    fn record(&self, batch: &Batch<'_>) -> Result<bool, StoreError> {
        let details = self.document();
        batch.record_alert(&NewAlert {
            created_at: self.created_at,
            kind: AlertKind::NewTlsFailure.as_str(),
            policy_domain: &self.about.policy_domain,
            report: None,
            tls_report: Some(self.tls_report),
            day: None,
            details: &details,
        })
    }
}

/// Records in `batch` the alerts stored TLS report `id` (`report`) raises,
/// each stamped `created_at`: one per policy domain it was the first to
/// show a failure type for. Returns those recorded.
pub(super) fn raise(
    batch: &Batch<'_>,
    id: i64,
    report: &ReportSummary,
    created_at: i64,
) -> Result<Vec<Alert>, StoreError> {
    let mut new = batch.new_tls_failures(id)?;
    // Per domain, keeping the order of most failed sessions first.
    new.sort_by(|a, b| a.policy_domain.cmp(&b.policy_domain));
    let mut raised = Vec::new();
    for failures in new.chunk_by(|a, b| a.policy_domain == b.policy_domain) {
        let policy_domain = &failures[0].policy_domain;
        let (successful_sessions, failed_sessions) = batch.tls_sessions(id, policy_domain)?;
        let alert = TlsAlert {
            tls_report: id,
            about: AlertedReport::new(report, policy_domain),
            successful_sessions,
            failed_sessions,
            failures: failures.iter().take(MAX_LISTED_TYPES).cloned().collect(),
            failures_total: failures.len(),
            created_at,
        };
        if alert.record(batch)? {
            raised.push(Alert::Tls(alert));
        }
    }
    Ok(raised)
}
