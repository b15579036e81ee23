//! What became of a message and of each payload in it.

use crate::auth::Trust;
use crate::report::failure::FailureReport;
use crate::report::tls::TlsReport;
use crate::report::{QuarantineKind, ReportKind};

/// The identity and size of a report that was read, in the same terms for
/// each kind of report (those of the corpus's `expected.tsv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    pub kind: ReportKind,
    /// Who reported: `org_name` (aggregate), `organization-name` (TLS), the
    /// domain of the report message's `From` address (failure; empty if none).
    pub org_name: String,
    /// `report_id`, `report-id`, or the report message's `Message-ID`
    /// (failure; empty if none).
    pub report_id: String,
    /// The policy domain; for a TLS report every distinct `policy-domain`,
    /// joined with `,`; for a failure report the `Reported-Domain`.
    pub policy_domain: String,
    /// The range the report covers, unix seconds; a failure report's
    /// `Arrival-Date` (0 if it has none) for both.
    pub date_begin: i64,
    pub date_end: i64,
    /// Records (aggregate), policies (TLS), 1 (failure).
    pub records: u64,
    /// Messages the records count (aggregate), TLS sessions successful and
    /// failed (TLS), `Incidents` (failure).
    pub messages: i64,
}

impl ReportSummary {
    pub(super) fn of_tls(report: &TlsReport) -> ReportSummary {
        ReportSummary {
            kind: ReportKind::Tls,
            org_name: report.org_name.clone(),
            report_id: report.report_id.clone(),
            policy_domain: report.policy_domains().join(","),
            date_begin: report.date_begin,
            date_end: report.date_end,
            records: report.policies.len() as u64,
            messages: report.sessions(),
        }
    }

    pub(super) fn of_failure(report: &FailureReport) -> ReportSummary {
        let arrival = report.arrival_date.unwrap_or(0);
        ReportSummary {
            kind: ReportKind::Failure,
            org_name: report.reporter.clone().unwrap_or_default(),
            report_id: report.report_message_id.clone().unwrap_or_default(),
            policy_domain: report.reported_domain.clone(),
            date_begin: arrival,
            date_end: arrival,
            records: 1,
            messages: report.incidents,
        }
    }
}

/// What became of one payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadOutcome {
    /// Stored; `id` is its row in `reports`, `tls_reports` or
    /// `failure_reports` (by `report.kind`). `new_failing_sources`: the
    /// sources an aggregate report is the first to show failing DMARC for
    /// the domain; `new_tls_failure_types`: the failure types a TLS report
    /// is the first to show for its domains (what `serve` alerts on).
    Stored {
        id: i64,
        report: ReportSummary,
        new_failing_sources: u64,
        new_tls_failure_types: u64,
    },
    /// Stored before (a reporter's retry); `existing` is the stored row,
    /// None when retention has deleted it since (its records are counted
    /// in `daily_rollups`).
    Duplicate {
        existing: Option<i64>,
        report: ReportSummary,
    },
    /// Kept in `quarantine`, unreadable for the reason given.
    Quarantined { kind: QuarantineKind, error: String },
}

/// One payload found in a message, and its fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadResult {
    pub member: String,
    pub outcome: PayloadOutcome,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageOutcome {
    /// Its row in `messages`.
    pub message: i64,
    pub payloads: Vec<PayloadResult>,
    /// The verdict on its sender as stored (`messages.auth`): lowered from
    /// what authentication found when it carried a report its sender is not
    /// the reporter of.
    pub trust: Trust,
}

impl MessageOutcome {
    /// No payload looked like a report.
    pub fn is_not_a_report(&self) -> bool {
        self.payloads.is_empty()
    }

    pub fn stored(&self) -> impl Iterator<Item = &ReportSummary> {
        self.payloads.iter().filter_map(|p| match &p.outcome {
            PayloadOutcome::Stored { report, .. } => Some(report),
            _ => None,
        })
    }

    pub fn duplicates(&self) -> usize {
        self.count(|o| matches!(o, PayloadOutcome::Duplicate { .. }))
    }

    pub fn quarantined(&self) -> usize {
        self.count(|o| matches!(o, PayloadOutcome::Quarantined { .. }))
    }

    fn count(&self, test: impl Fn(&PayloadOutcome) -> bool) -> usize {
        self.payloads.iter().filter(|p| test(&p.outcome)).count()
    }

    /// What became of the message as a whole (`messages.outcome`).
    pub fn verdict(&self) -> Verdict {
        let stored = self.stored().count();
        let duplicates = self.duplicates();
        let quarantined = self.quarantined();
        match (stored + duplicates, quarantined) {
            (0, 0) => Verdict::NotAReport,
            (0, _) => Verdict::Quarantined,
            (_, 0) if stored > 0 => Verdict::Stored,
            (_, 0) => Verdict::Duplicate,
            _ => Verdict::Partial,
        }
    }
}

/// What became of a message as a whole, from what became of its payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// At least one report stored, nothing quarantined.
    Stored,
    /// Every report in it was stored before.
    Duplicate,
    /// Nothing read; what looked like a report is in quarantine.
    Quarantined,
    /// Some reports read, some quarantined.
    Partial,
    /// Nothing in it looked like a report.
    NotAReport,
}

impl Verdict {
    /// Its name in `messages.outcome` and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Stored => "stored",
            Verdict::Duplicate => "duplicate",
            Verdict::Quarantined => "quarantined",
            Verdict::Partial => "partial",
            Verdict::NotAReport => "not_a_report",
        }
    }
}
