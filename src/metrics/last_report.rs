//! `dmarc_sink_last_report_timestamp_seconds`: when the newest report of
//! each kind arrived, overall and for each domain of `metrics.domains`.
//!
//! Policy domains are chosen by whoever sends a report, so a label per
//! domain seen would let a stranger create series without end; only the
//! domains the operator lists get one. Each series exists from the start,
//! 0 until a report arrives, so that an alert on its age also fires for a
//! listed domain that never got one. The values are read from the store at
//! startup, so a restart does not reset them. Reports from unauthenticated
//! messages do not count (see [`Store::last_report_received`]).

use super::labels::REPORT_KINDS;
use crate::auth::Trust;
use crate::ingest::ReportSummary;
use crate::report::ReportKind;
use crate::store::{Store, StoreError};
use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::atomic::Ordering;

/// `{kind}` for any domain, `{kind, policy_domain}` for a listed one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LastReportLabels {
    kind: ReportKind,
    /// One of `metrics.domains`, lowercased; `None` for any domain.
    policy_domain: Option<String>,
}

impl EncodeLabelSet for LastReportLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> std::fmt::Result {
        ("kind", self.kind).encode(encoder.encode_label())?;
        if let Some(domain) = &self.policy_domain {
            ("policy_domain", domain.as_str()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// The gauges, and the domains that have their own.
#[derive(Debug)]
pub struct LastReports {
    /// `metrics.domains`, lowercased.
    domains: Vec<String>,
    gauges: Family<LastReportLabels, Gauge>,
}

impl LastReports {
    /// Every series, at 0.
    pub fn new(domains: &[String]) -> LastReports {
        let last = LastReports {
            domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            gauges: Family::default(),
        };
        for labels in last.every_series() {
            let _ = last.gauges.get_or_create(&labels);
        }
        last
    }

    pub fn family(&self) -> Family<LastReportLabels, Gauge> {
        self.gauges.clone()
    }

    /// Sets every series from what the store holds.
    pub fn load(&self, store: &Store) -> Result<(), StoreError> {
        for labels in self.every_series() {
            let received =
                store.last_report_received(labels.kind, labels.policy_domain.as_deref())?;
            if let Some(at) = received {
                self.gauges.get_or_create(&labels).set(at);
            }
        }
        Ok(())
    }

    /// A report stored `at` (unix seconds) from a message of `trust`.
    pub fn note(&self, report: &ReportSummary, trust: Trust, at: i64) {
        if trust == Trust::Unauthenticated {
            return;
        }
        self.advance(report.kind, None, at);
        // A TLS report's summary joins its policy domains with commas.
        let tls = report.kind == ReportKind::Tls;
        for domain in report.policy_domain.split(|c| tls && c == ',') {
            if let Some(listed) = self
                .domains
                .iter()
                .find(|listed| listed.eq_ignore_ascii_case(domain))
            {
                self.advance(report.kind, Some(listed.clone()), at);
            }
        }
    }

    fn advance(&self, kind: ReportKind, policy_domain: Option<String>, at: i64) {
        let labels = LastReportLabels {
            kind,
            policy_domain,
        };
        self.gauges
            .get_or_create(&labels)
            .inner()
            .fetch_max(at, Ordering::Relaxed);
    }

    fn every_series(&self) -> impl Iterator<Item = LastReportLabels> + '_ {
        REPORT_KINDS.into_iter().flat_map(|kind| {
            std::iter::once(None)
                .chain(self.domains.iter().cloned().map(Some))
                .map(move |policy_domain| LastReportLabels {
                    kind,
                    policy_domain,
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(kind: ReportKind, policy_domain: &str) -> ReportSummary {
        ReportSummary {
            kind,
            org_name: "google.com".into(),
            report_id: "1".into(),
            policy_domain: policy_domain.into(),
            date_begin: 0,
            date_end: 0,
            records: 1,
            messages: 1,
        }
    }

    fn at(last: &LastReports, kind: ReportKind, policy_domain: Option<&str>) -> Option<i64> {
        let labels = LastReportLabels {
            kind,
            policy_domain: policy_domain.map(str::to_owned),
        };
        last.gauges.get(&labels).map(|gauge| gauge.get())
    }

    #[test]
    fn only_listed_domains_get_a_series_and_strangers_move_none() {
        let last = LastReports::new(&["Example.COM".to_owned()]);
        assert_eq!(at(&last, ReportKind::Failure, Some("example.com")), Some(0));

        last.note(
            &report(ReportKind::Tls, "other.example,EXAMPLE.com"),
            Trust::Unchecked,
            100,
        );
        assert_eq!(at(&last, ReportKind::Tls, Some("example.com")), Some(100));
        assert_eq!(at(&last, ReportKind::Tls, None), Some(100));
        assert_eq!(at(&last, ReportKind::Tls, Some("other.example")), None);

        // Only a TLS summary lists domains: an aggregate report's policy
        // domain is one string, commas and all.
        last.note(
            &report(ReportKind::Aggregate, "x,example.com"),
            Trust::Authenticated,
            200,
        );
        assert_eq!(
            at(&last, ReportKind::Aggregate, Some("example.com")),
            Some(0)
        );
        assert_eq!(at(&last, ReportKind::Aggregate, None), Some(200));

        last.note(
            &report(ReportKind::Aggregate, "example.com"),
            Trust::Unauthenticated,
            300,
        );
        assert_eq!(
            at(&last, ReportKind::Aggregate, Some("example.com")),
            Some(0)
        );
        assert_eq!(at(&last, ReportKind::Aggregate, None), Some(200));

        // Never backwards: a batch answered late does not undo a later one.
        last.note(
            &report(ReportKind::Tls, "example.com"),
            Trust::Unchecked,
            50,
        );
        assert_eq!(at(&last, ReportKind::Tls, Some("example.com")), Some(100));
    }
}
