//! Alerts: a stored report shows a source failing DMARC for a domain where
//! it was never seen failing, or more of its messages failing than
//! `alerts.failure_share` allows.
//!
//! Only `serve` raises alerts. For each message, the committer has
//! [`Alerter::raise`] weigh its stored reports and record their alerts in
//! the message's transaction (`alerts` table), so a crash or a retry cannot
//! raise one twice and the threshold alert fires once per domain and day;
//! once the commit is durable, [`Alerter::notify`] writes the WARN line and
//! hands the JSON document to the webhook thread (`webhook.rs`). `import`
//! and `reparse` only teach the store which sources fail (a year of history
//! imported must not flood the logs). This module writes no SQL, and nothing
//! here waits on the network on the caller's thread.

mod webhook;

use crate::config::AlertsConfig;
use crate::ingest::{MessageOutcome, PayloadOutcome};
use crate::insight::period::rfc3339;
use crate::store::{Batch, FailingSource, NewAlert, StoreError};
use serde::Serialize;
use std::time::Duration;
use webhook::Webhook;

/// New failing sources listed in one alert: a big reporter's first report
/// can name thousands. The rest are counted in `sources_total`.
const MAX_LISTED_SOURCES: usize = 50;
/// New failing sources named in the WARN line.
const LOGGED_SOURCES: usize = 5;

/// What an alert is about; its name is the `kind` in the store and the
/// JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// Sources seen failing DMARC for the domain for the first time.
    NewFailingSource,
    /// A report's share of failing messages at or above the threshold.
    FailureThreshold,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewFailingSource => "new_failing_source",
            AlertKind::FailureThreshold => "failure_threshold",
        }
    }
}

/// One alert raised by one stored report.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    /// The report that raised it (`reports.id`).
    pub report: i64,
    pub policy_domain: String,
    pub org_name: String,
    pub report_id: String,
    /// The report's range, unix seconds.
    pub date_begin: i64,
    pub date_end: i64,
    /// The UTC day `date_begin` falls on (`YYYY-MM-DD`).
    pub day: String,
    /// Messages in the report, and those that failed DMARC.
    pub messages: i64,
    pub failing_messages: i64,
    /// New failing sources (`NewFailingSource` only), at most
    /// [`MAX_LISTED_SOURCES`], and how many there are in all.
    pub sources: Vec<FailingSource>,
    pub sources_total: u64,
    /// When it was raised, unix seconds.
    pub created_at: i64,
}

/// The JSON document of an alert: stored in `alerts.details`, posted to
/// `alerts.webhook`, documented field by field in README.md.
#[derive(Serialize)]
struct Document<'a> {
    kind: &'static str,
    policy_domain: &'a str,
    org_name: &'a str,
    report_id: &'a str,
    date_begin: String,
    date_end: String,
    day: &'a str,
    messages: i64,
    failing_messages: i64,
    failure_share: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<Vec<SourceDocument<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources_total: Option<u64>,
    created_at: String,
}

#[derive(Serialize)]
struct SourceDocument<'a> {
    source_ip: &'a str,
    failing_messages: i64,
}

impl Alert {
    /// The share of the report's messages that failed DMARC (0 for a report
    /// of no messages).
    pub fn failure_share(&self) -> f64 {
        share(self.failing_messages, self.messages)
    }

    /// The JSON document describing it.
    pub fn document(&self) -> String {
        let listed = self.kind == AlertKind::NewFailingSource;
        let document = Document {
            kind: self.kind.as_str(),
            policy_domain: &self.policy_domain,
            org_name: &self.org_name,
            report_id: &self.report_id,
            date_begin: rfc3339(self.date_begin),
            date_end: rfc3339(self.date_end),
            day: &self.day,
            messages: self.messages,
            failing_messages: self.failing_messages,
            failure_share: crate::insight::share(self.failing_messages, self.messages),
            sources: listed.then(|| {
                self.sources
                    .iter()
                    .map(|s| SourceDocument {
                        source_ip: &s.source_ip,
                        failing_messages: s.failing_messages,
                    })
                    .collect()
            }),
            sources_total: listed.then_some(self.sources_total),
            created_at: rfc3339(self.created_at),
        };
        serde_json::to_string(&document).expect("an alert document serialises")
    }

    /// Writes the WARN line; its message starts with `alert:`.
    fn log(&self) {
        match self.kind {
            AlertKind::NewFailingSource => {
                let first: Vec<&str> = self
                    .sources
                    .iter()
                    .take(LOGGED_SOURCES)
                    .map(|s| s.source_ip.as_str())
                    .collect();
                tracing::warn!(
                    kind = self.kind.as_str(),
                    policy_domain = self.policy_domain,
                    org_name = self.org_name,
                    report_id = self.report_id,
                    sources = self.sources_total,
                    first = %first.join(","),
                    "alert: new source failing DMARC"
                );
            }
            AlertKind::FailureThreshold => {
                tracing::warn!(
                    kind = self.kind.as_str(),
                    policy_domain = self.policy_domain,
                    org_name = self.org_name,
                    report_id = self.report_id,
                    day = self.day,
                    messages = self.messages,
                    failing_messages = self.failing_messages,
                    failure_share = %format!("{:.3}", self.failure_share()),
                    "alert: DMARC failures above the threshold"
                );
            }
        }
    }
}

/// Records `alert` in the `alerts` table; `once_per_day`: the day it may be
/// raised once for, per domain. False when it was raised already.
fn record(
    batch: &Batch<'_>,
    alert: &Alert,
    once_per_day: Option<&str>,
) -> Result<bool, StoreError> {
    let details = alert.document();
    batch.record_alert(&NewAlert {
        created_at: alert.created_at,
        kind: alert.kind.as_str(),
        policy_domain: &alert.policy_domain,
        report: alert.report,
        day: once_per_day,
        details: &details,
    })
}

/// `failing` out of `messages`; 0 when there are none.
fn share(failing: i64, messages: i64) -> f64 {
    if messages > 0 {
        failing as f64 / messages as f64
    } else {
        0.0
    }
}

/// When a stored report raises an alert, and where alerts go: the rules of
/// `[alerts]` and, when `alerts.webhook` is set, the webhook thread.
pub struct Alerter {
    failure_share: f64,
    min_failing_messages: u64,
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
            failure_share: config.failure_share,
            min_failing_messages: config.min_failing_messages,
            webhook,
        })
    }

    /// Weighs the reports stored from one message and records the alerts
    /// they raise in `batch`, each stamped `created_at`: one
    /// `new_failing_source` per report that is the first to show sources
    /// failing, one `failure_threshold` per report over the threshold
    /// unless the domain had one for that day. Returns those recorded, to
    /// [`Alerter::notify`] once the batch is committed.
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
                ..
            } = &payload.outcome
            else {
                continue;
            };
            if report.kind != crate::report::ReportKind::Aggregate {
                continue;
            }
            let listed = if *new_failing_sources > 0 {
                MAX_LISTED_SOURCES
            } else {
                0
            };
            let failures = batch.report_failures(*id, listed)?;
            let alert = |kind, sources: Vec<FailingSource>, sources_total| Alert {
                kind,
                report: *id,
                policy_domain: report.policy_domain.clone(),
                org_name: report.org_name.clone(),
                report_id: report.report_id.clone(),
                date_begin: report.date_begin,
                date_end: report.date_end,
                day: failures.day.clone(),
                messages: report.messages,
                failing_messages: failures.failing_messages,
                sources,
                sources_total,
                created_at,
            };
            if *new_failing_sources > 0 {
                let new = alert(
                    AlertKind::NewFailingSource,
                    failures.new_sources.clone(),
                    *new_failing_sources,
                );
                record(batch, &new, None)?;
                raised.push(new);
            }
            let failing = failures.failing_messages;
            let over_threshold = u64::try_from(failing)
                .is_ok_and(|failing| failing >= self.min_failing_messages)
                && share(failing, report.messages) >= self.failure_share;
            if over_threshold {
                let threshold = alert(AlertKind::FailureThreshold, Vec::new(), 0);
                if record(batch, &threshold, Some(&failures.day))? {
                    raised.push(threshold);
                }
            }
        }
        Ok(raised)
    }

    /// Makes a recorded alert known: the WARN line, and the webhook's queue
    /// (never waiting for it).
    pub fn notify(&self, alert: &Alert) {
        alert.log();
        if let Some(webhook) = &self.webhook {
            webhook.send(alert.kind.as_str(), &alert.policy_domain, alert.document());
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
