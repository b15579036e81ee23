//! The alerts about an aggregate report's DMARC failures: a source failing
//! for a domain where it was never seen failing (`new_failing_source`), or
//! more of the report's messages failing than `alerts.failure_share` allows
//! (`failure_threshold`).

use super::{Alert, AlertKind, AlertedReport, DocumentHead};
use crate::ingest::ReportSummary;
use crate::insight::approved::{ApprovedList, SourceStanding};
use crate::insight::period::rfc3339;
use crate::store::{Batch, FailingSource, NewAlert, StoreError};
use serde::Serialize;
use std::collections::HashSet;

/// New failing sources listed in one alert: a big reporter's first report
/// can name thousands. The rest are counted in `sources_total`.
const MAX_LISTED_SOURCES: usize = 50;
/// New failing sources named in the WARN line.
const LOGGED_SOURCES: usize = 5;

/// One alert raised by one stored aggregate report.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateAlert {
    /// `NewFailingSource` or `FailureThreshold`.
    pub kind: AlertKind,
    /// The report that raised it (`reports.id`).
    pub report: i64,
    pub about: AlertedReport,
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

/// The JSON document of an aggregate report's alert (see docs/operations.md, Alerts).
#[derive(Serialize)]
struct Document<'a> {
    #[serde(flatten)]
    head: DocumentHead<'a>,
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

impl AggregateAlert {
    /// The share of the report's messages that failed DMARC (0 for a report
    /// of no messages).
    pub fn failure_share(&self) -> f64 {
        share(self.failing_messages, self.messages)
    }

    /// The JSON document describing it.
    pub fn document(&self) -> String {
        let listed = self.kind == AlertKind::NewFailingSource;
        let document = Document {
            head: self.about.document_head(self.kind),
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
    pub(super) fn log(&self) {
        if self.kind == AlertKind::NewFailingSource {
            let first: Vec<&str> = self
                .sources
                .iter()
                .take(LOGGED_SOURCES)
                .map(|s| s.source_ip.as_str())
                .collect();
            warn_alert!(
                self.kind,
                self.about,
                sources = self.sources_total,
                first = %first.join(","),
                "alert: new source failing DMARC"
            );
        } else {
            warn_alert!(
                self.kind,
                self.about,
                day = self.day,
                messages = self.messages,
                failing_messages = self.failing_messages,
                failure_share = %format!("{:.3}", self.failure_share()),
                "alert: DMARC failures above the threshold"
            );
        }
    }

    /// Records it in the `alerts` table; `once_per_day`: the day it may be
    /// raised once for, per domain. False when it was raised already.
    fn record(&self, batch: &Batch<'_>, once_per_day: Option<&str>) -> Result<bool, StoreError> {
        let details = self.document();
        batch.record_alert(&NewAlert {
            created_at: self.created_at,
            kind: self.kind.as_str(),
            policy_domain: &self.about.policy_domain,
            report: Some(self.report),
            tls_report: None,
            day: once_per_day,
            details: &details,
        })
    }
}

/// When a report's failures are too many: `alerts.failure_share` and
/// `alerts.min_failing_messages`.
pub(super) struct Threshold {
    pub failure_share: f64,
    pub min_failing_messages: u64,
}

impl Threshold {
    fn exceeded_by(&self, failing_messages: i64, messages: i64) -> bool {
        u64::try_from(failing_messages).is_ok_and(|failing| failing >= self.min_failing_messages)
            && share(failing_messages, messages) >= self.failure_share
    }
}

/// Weighs stored aggregate report `id` (`report`), which was the first to
/// show `new_failing_sources` sources failing, and records in `batch` the
/// alerts it raises, each stamped `created_at`: `new_failing_source` if it
/// showed any, `failure_threshold` if over `threshold` and the domain had
/// none that day. Returns those recorded.
pub(super) fn raise(
    batch: &Batch<'_>,
    threshold: &Threshold,
    id: i64,
    report: &ReportSummary,
    new_failing_sources: u64,
    created_at: i64,
) -> Result<Vec<Alert>, StoreError> {
    let mut raised = Vec::new();
    let approved = approved_among_new(batch, id, &report.policy_domain, new_failing_sources)?;
    let listed = if new_failing_sources > 0 {
        MAX_LISTED_SOURCES + approved.len()
    } else {
        0
    };
    let mut failures = batch.report_failures(id, listed)?;
    failures
        .new_sources
        .retain(|s| !approved.contains(&s.source_ip));
    failures.new_sources.truncate(MAX_LISTED_SOURCES);
    let new_failing_sources = new_failing_sources.saturating_sub(approved.len() as u64);
    let alert = |kind, sources: Vec<FailingSource>, sources_total| AggregateAlert {
        kind,
        report: id,
        about: AlertedReport::new(report, &report.policy_domain),
        day: failures.day.clone(),
        messages: report.messages,
        failing_messages: failures.failing_messages,
        sources,
        sources_total,
        created_at,
    };
    if new_failing_sources > 0 {
        let new = alert(
            AlertKind::NewFailingSource,
            failures.new_sources.clone(),
            new_failing_sources,
        );
        new.record(batch, None)?;
        raised.push(Alert::Aggregate(new));
    }
    if threshold.exceeded_by(failures.failing_messages, report.messages) {
        let over = alert(AlertKind::FailureThreshold, Vec::new(), 0);
        if over.record(batch, Some(&failures.day))? {
            raised.push(Alert::Aggregate(over));
        }
    }
    Ok(raised)
}

/// The new failing sources of report `id` that the operator approved for
/// `policy_domain` (`sources approve`): they raise no alert.
fn approved_among_new(
    batch: &Batch<'_>,
    id: i64,
    policy_domain: &str,
    new_failing_sources: u64,
) -> Result<HashSet<String>, StoreError> {
    if new_failing_sources == 0 {
        return Ok(HashSet::new());
    }
    let list = ApprovedList::new(batch.approved_sources()?);
    if list.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(batch
        .new_failing_sources_passing(id)?
        .into_iter()
        .filter(|(ip, passing)| {
            list.verdict(policy_domain, ip, passing.iter().map(String::as_str))
                .standing
                == SourceStanding::Approved
        })
        .map(|(ip, _)| ip)
        .collect())
}

/// `failing` out of `messages`; 0 when there are none.
fn share(failing: i64, messages: i64) -> f64 {
    if messages > 0 {
        failing as f64 / messages as f64
    } else {
        0.0
    }
}
