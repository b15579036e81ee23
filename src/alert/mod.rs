//! Alerts: what a stored report shows that was never seen before, or more
//! than should be. An aggregate report shows a source failing DMARC for a
//! domain where it was never seen failing, or more of its messages failing
//! than `alerts.failure_share` allows (`aggregate.rs`); a TLS report shows
//! a TLS failure type never seen for its policy domain (`tls.rs`).
//!
//! Only `serve` raises alerts. For each message, the committer has
//! [`Alerter::raise`] weigh its stored reports and record their alerts in
//! the message's transaction (`alerts` table), so a crash or a retry cannot
//! raise one twice and the threshold alert fires once per domain and day;
//! once the commit is durable, [`Alerter::notify`] writes the WARN line and
//! hands the JSON document to the webhook thread (`webhook.rs`). `import`
//! and `reparse` only teach the store which sources fail and which TLS
//! failure types were seen (a year of history imported must not flood the
//! logs). This module writes no SQL, and nothing here waits on the network
//! on the caller's thread.

/// Writes an alert's WARN line (its message starts with `alert:`): the
/// alert's `kind`, the fields of the [`AlertedReport`] it is `about`, then
/// the alert's own fields and its message.
macro_rules! warn_alert {
    ($kind:expr, $about:expr, $($fields_and_message:tt)+) => {
        tracing::warn!(
            target: $crate::alert::LOG_TARGET,
            kind = $kind.as_str(),
            policy_domain = $about.policy_domain,
            org_name = $about.org_name,
            report_id = $about.report_id,
            $($fields_and_message)+
        )
    };
}

mod aggregate;
mod tls;
mod watch;
mod webhook;

pub use aggregate::AggregateAlert;
pub use tls::TlsAlert;
pub use watch::{WatchAlert, check};

use crate::config::AlertsConfig;
use crate::ingest::{MessageOutcome, PayloadOutcome, ReportSummary};
use crate::insight::period::rfc3339;
use crate::report::ReportKind;
use crate::store::{Batch, StoreError};
use aggregate::Threshold;
use serde::Serialize;
use std::time::Duration;
use webhook::Webhook;

/// The target of every alert's WARN line, whichever file writes it: the
/// docs/operations.md shows it, and log filters name it.
const LOG_TARGET: &str = module_path!();

/// What an alert is about; its name is the `kind` in the store and the
/// JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// Sources seen failing DMARC for the domain for the first time.
    NewFailingSource,
    /// A report's share of failing messages at or above the threshold.
    FailureThreshold,
    /// TLS failure types seen for the domain for the first time.
    NewTlsFailure,
    /// A regular reporter of the domain sent nothing for a while.
    ReporterSilent,
    /// No report for a regularly reported domain for a while.
    DomainSilent,
    /// An approved source's DMARC pass share fell.
    PassRateDrop,
    /// Reports show the domain's published policy changed.
    PolicyChanged,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewFailingSource => "new_failing_source",
            AlertKind::FailureThreshold => "failure_threshold",
            AlertKind::NewTlsFailure => "new_tls_failure",
            AlertKind::ReporterSilent => "reporter_silent",
            AlertKind::DomainSilent => "domain_silent",
            AlertKind::PassRateDrop => "pass_rate_drop",
            AlertKind::PolicyChanged => "policy_changed",
        }
    }
}

/// The report an alert is about, as every alert's document and WARN line
/// name it; for a TLS report, with the one policy domain the alert is for.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertedReport {
    pub policy_domain: String,
    /// The reporter's organisation name and its id for the report.
    pub org_name: String,
    pub report_id: String,
    /// The report's range, unix seconds.
    pub date_begin: i64,
    pub date_end: i64,
}

impl AlertedReport {
    /// Stored report `report`, for `policy_domain`.
    fn new(report: &ReportSummary, policy_domain: &str) -> AlertedReport {
        AlertedReport {
            policy_domain: policy_domain.to_owned(),
            org_name: report.org_name.clone(),
            report_id: report.report_id.clone(),
            date_begin: report.date_begin,
            date_end: report.date_end,
        }
    }

    /// The fields an alert of `kind` about it opens its JSON document with.
    fn document_head(&self, kind: AlertKind) -> DocumentHead<'_> {
        DocumentHead {
            kind: kind.as_str(),
            policy_domain: &self.policy_domain,
            org_name: &self.org_name,
            report_id: &self.report_id,
            date_begin: rfc3339(self.date_begin),
            date_end: rfc3339(self.date_end),
        }
    }
}

/// The fields every alert's JSON document opens with (see docs/operations.md, Alerts).
#[derive(Serialize)]
struct DocumentHead<'a> {
    kind: &'static str,
    policy_domain: &'a str,
    org_name: &'a str,
    report_id: &'a str,
    date_begin: String,
    date_end: String,
}

/// One alert raised by one stored report.
#[derive(Debug, Clone, PartialEq)]
pub enum Alert {
    /// About an aggregate report's DMARC failures.
    Aggregate(AggregateAlert),
    /// About a TLS report's new failure types.
    Tls(TlsAlert),
    /// Found by the hourly check, about no one report.
    Watch(WatchAlert),
}

impl Alert {
    pub fn kind(&self) -> AlertKind {
        match self {
            Alert::Aggregate(alert) => alert.kind,
            Alert::Tls(_) => AlertKind::NewTlsFailure,
            Alert::Watch(alert) => alert.kind,
        }
    }

    pub fn policy_domain(&self) -> &str {
        match self {
            Alert::Aggregate(alert) => &alert.about.policy_domain,
            Alert::Tls(alert) => &alert.about.policy_domain,
            Alert::Watch(alert) => &alert.policy_domain,
        }
    }

    /// The JSON document describing it: stored in `alerts.details`, posted
    /// to `alerts.webhook`, documented field by field in docs/operations.md.
    pub fn document(&self) -> String {
        match self {
            Alert::Aggregate(alert) => alert.document(),
            Alert::Tls(alert) => alert.document(),
            Alert::Watch(alert) => alert.document(),
        }
    }

    /// Writes the WARN line; its message starts with `alert:`.
    fn log(&self) {
        match self {
            Alert::Aggregate(alert) => alert.log(),
            Alert::Tls(alert) => alert.log(),
            Alert::Watch(alert) => alert.log(),
        }
    }
}

/// When a stored report raises an alert, and where alerts go: the rules of
/// `[alerts]` and, when `alerts.webhook` is set, the webhook thread.
pub struct Alerter {
    threshold: Threshold,
    webhook: Option<Webhook>,
}

impl Alerter {
    /// Takes the rules of `config`, and starts the webhook thread if one is
    /// configured.
    pub fn start(config: &AlertsConfig) -> std::io::Result<Alerter> {
        let webhook = match &config.webhook {
            Some(url) => Some(Webhook::start(
                url.clone(),
                Duration::from_secs(config.webhook_timeout_secs),
            )?),
            None => None,
        };
        Ok(Alerter {
            threshold: Threshold {
                failure_share: config.failure_share,
                min_failing_messages: config.min_failing_messages,
            },
            webhook,
        })
    }

    /// Weighs the reports stored from one message and records the alerts
    /// they raise in `batch`, each stamped `created_at`: per aggregate
    /// report, one `new_failing_source` if it is the first to show sources
    /// failing and one `failure_threshold` if over the threshold, unless
    /// the domain had one for that day; per TLS report, one
    /// `new_tls_failure` for each policy domain it is the first to show a
    /// failure type for. Returns those recorded, to [`Alerter::notify`]
    /// once the batch is committed.
    pub fn raise(
        &self,
        batch: &Batch<'_>,
        outcome: &MessageOutcome,
        created_at: i64,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut raised = Vec::new();
        for payload in &outcome.payloads {
            let PayloadOutcome::Stored {
                id,
                report,
                new_failing_sources,
                new_tls_failure_types,
            } = &payload.outcome
            else {
                continue;
            };
            match report.kind {
                ReportKind::Aggregate => raised.extend(aggregate::raise(
                    batch,
                    &self.threshold,
                    *id,
                    report,
                    *new_failing_sources,
                    created_at,
                )?),
                ReportKind::Tls if *new_tls_failure_types > 0 => {
                    raised.extend(tls::raise(batch, *id, report, created_at)?)
                }
                ReportKind::Tls | ReportKind::Failure => {}
            }
        }
        Ok(raised)
    }

    /// Makes a recorded alert known: the WARN line, and the webhook's queue
    /// (never waiting for it).
    pub fn notify(&self, alert: &Alert) {
        alert.log();
        if let Some(webhook) = &self.webhook {
            webhook.send(
                alert.kind().as_str(),
                alert.policy_domain(),
                alert.document(),
            );
        }
    }

    /// [`Alerter::finish`] when this is the last handle of a shared
    /// alerter (the committer's and the hourly check's); otherwise only
    /// lets go of it.
    pub fn release(self: std::sync::Arc<Self>) {
        if let Ok(alerter) = std::sync::Arc::try_unwrap(self) {
            alerter.finish();
        }
    }

    /// Gives the webhook deliveries still pending at most the webhook
    /// timeout to go out.
    pub fn finish(self) {
        if let Some(webhook) = self.webhook {
            webhook.finish();
        }
    }
}
