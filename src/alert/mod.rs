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

mod aggregate;
mod tls;
mod webhook;

pub use aggregate::AggregateAlert;
pub use tls::TlsAlert;

use crate::config::AlertsConfig;
use crate::ingest::{MessageOutcome, PayloadOutcome};
use crate::report::ReportKind;
use crate::store::{Batch, StoreError};
use aggregate::Threshold;
use std::time::Duration;
use webhook::Webhook;

/// The target of every alert's WARN line, whichever file writes it: the
/// README shows it, and log filters name it.
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
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewFailingSource => "new_failing_source",
            AlertKind::FailureThreshold => "failure_threshold",
            AlertKind::NewTlsFailure => "new_tls_failure",
        }
    }
}

/// One alert raised by one stored report.
#[derive(Debug, Clone, PartialEq)]
pub enum Alert {
    /// About an aggregate report's DMARC failures.
    Aggregate(AggregateAlert),
    /// About a TLS report's new failure types.
    Tls(TlsAlert),
}

impl Alert {
    pub fn kind(&self) -> AlertKind {
        match self {
            Alert::Aggregate(alert) => alert.kind,
            Alert::Tls(_) => AlertKind::NewTlsFailure,
        }
    }

    pub fn policy_domain(&self) -> &str {
        match self {
            Alert::Aggregate(alert) => &alert.policy_domain,
            Alert::Tls(alert) => &alert.policy_domain,
        }
    }

    /// The JSON document describing it: stored in `alerts.details`, posted
    /// to `alerts.webhook`, documented field by field in README.md.
    pub fn document(&self) -> String {
        match self {
            Alert::Aggregate(alert) => alert.document(),
            Alert::Tls(alert) => alert.document(),
        }
    }

    /// Writes the WARN line; its message starts with `alert:`.
    fn log(&self) {
        match self {
            Alert::Aggregate(alert) => alert.log(),
            Alert::Tls(alert) => alert.log(),
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

    /// Gives the webhook deliveries still pending at most the webhook
    /// timeout to go out.
    pub fn finish(self) {
        if let Some(webhook) = self.webhook {
            webhook.finish();
        }
    }
}
