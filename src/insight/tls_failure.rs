//! What SMTP TLS reports (RFC 8460) and DMARC failure reports (RFC 6591)
//! add to the aggregate view: per domain, how many TLS sessions failed and
//! how many failure reports came (for `summary`), and where: TLS failures
//! per receiving MX host and failure reports per source IP (for `sources`
//! and `html`).
//!
//! A domain may publish a TLSRPT record before any DMARC aggregate report
//! arrives for it (or receive failure reports only): these figures stand on
//! their own, not only beside the aggregate ones.

use super::period::rfc3339;
use super::share;
use super::summary::Period;
use crate::store::{
    FailureDomainTotals, FailureSourceTotals, Scope, Store, StoreError, TlsDomainTotals,
    TlsMxFailures,
};
use serde::Serialize;
use std::collections::HashMap;

/// TLS sessions towards one policy domain over the scope, as `summary`
/// gives them. Its JSON is documented in docs/insight.md.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsSessions {
    /// TLS reports with a policy for the domain.
    pub reports: i64,
    /// Distinct reporting organisations.
    pub reporters: i64,
    pub successful_sessions: i64,
    pub failed_sessions: i64,
    /// `failed / (successful + failed)`.
    pub failed_share: f64,
    /// First report range begin to last report range end.
    pub period: Period,
}

impl From<&TlsDomainTotals> for TlsSessions {
    fn from(t: &TlsDomainTotals) -> Self {
        TlsSessions {
            reports: t.reports,
            reporters: t.reporters,
            successful_sessions: t.successful_sessions,
            failed_sessions: t.failed_sessions,
            failed_share: share(t.failed_sessions, t.successful_sessions + t.failed_sessions),
            period: Period {
                begin: rfc3339(t.first_seen),
                end: rfc3339(t.last_seen),
            },
        }
    }
}

/// The failure reports of one domain over the scope, as `summary` gives
/// them. Its JSON is documented in docs/insight.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureReports {
    pub reports: i64,
    /// The failed messages the reports stand for (`Incidents`, 1 each
    /// when absent).
    pub incidents: i64,
    /// Distinct reporters (the domains the reports came from).
    pub reporters: i64,
    /// Reports per `Auth-Failure` kind, most first.
    pub auth_failures: Vec<AuthFailure>,
    /// `Arrival-Date` of the earliest and latest failed message (when the
    /// report was received, for a report without one).
    pub first_arrival: String,
    pub last_arrival: String,
}

/// Failure reports of one `Auth-Failure` kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthFailure {
    /// `dmarc`, `dkim`, `spf`, ...; null when the reports named none.
    pub auth_failure: Option<String>,
    pub reports: i64,
    pub incidents: i64,
}

impl From<&FailureDomainTotals> for FailureReports {
    fn from(t: &FailureDomainTotals) -> Self {
        FailureReports {
            reports: t.reports,
            incidents: t.incidents,
            reporters: t.reporters,
            auth_failures: t
                .auth_failures
                .iter()
                .map(|k| AuthFailure {
                    auth_failure: k.auth_failure.clone(),
                    reports: k.reports,
                    incidents: k.incidents,
                })
                .collect(),
            first_arrival: rfc3339(t.first_arrival),
            last_arrival: rfc3339(t.last_arrival),
        }
    }
}

/// TLS sessions and failure reports per domain, for [`super::summary`]:
/// each domain's entry is taken out as it is placed.
#[derive(Debug, Default)]
pub struct PerDomain {
    pub tls: HashMap<String, TlsSessions>,
    pub failure_reports: HashMap<String, FailureReports>,
}

/// The TLS sessions and failure reports of every domain in scope.
pub fn per_domain(store: &Store, scope: &Scope) -> Result<PerDomain, StoreError> {
    Ok(PerDomain {
        tls: store
            .tls_domain_totals(scope)?
            .iter()
            .map(|t| (t.policy_domain.clone(), TlsSessions::from(t)))
            .collect(),
        failure_reports: store
            .failure_domain_totals(scope)?
            .iter()
            .map(|t| (t.reported_domain.clone(), FailureReports::from(t)))
            .collect(),
    })
}

/// The TLS failures towards one receiving MX host of a policy domain. Its
/// JSON is documented in docs/insight.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MxFailures {
    pub policy_domain: String,
    /// `receiving-mx-hostname`; null for failures that name no MX (a
    /// policy that could not be fetched fails before one is tried).
    pub receiving_mx: Option<String>,
    pub failed_sessions: i64,
    /// Failed sessions per `result-type`, most first.
    pub result_types: Vec<ResultType>,
    /// Distinct sending MTA IPs that failed to reach it.
    pub sending_mta_ips: i64,
    pub reporters: i64,
    pub first_seen: String,
    pub last_seen: String,
}

/// Failed sessions of one TLS `result-type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultType {
    pub result_type: String,
    pub failed_sessions: i64,
}

impl From<TlsMxFailures> for MxFailures {
    fn from(t: TlsMxFailures) -> Self {
        MxFailures {
            policy_domain: t.policy_domain,
            receiving_mx: t.receiving_mx,
            failed_sessions: t.failed_sessions,
            result_types: t
                .result_types
                .into_iter()
                .map(|r| ResultType {
                    result_type: r.result_type,
                    failed_sessions: r.failed_sessions,
                })
                .collect(),
            sending_mta_ips: t.sending_mta_ips,
            reporters: t.reporters,
            first_seen: rfc3339(t.first_seen),
            last_seen: rfc3339(t.last_seen),
        }
    }
}

/// The failure reports of one domain about one source IP. Its JSON is
/// documented in docs/insight.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureSource {
    /// The `Reported-Domain`: the policy domain whose check failed.
    pub policy_domain: String,
    /// `Source-IP`; null for reports that gave none.
    pub source_ip: Option<String>,
    pub reports: i64,
    pub incidents: i64,
    /// The `Auth-Failure` kinds reported, most reports first.
    pub auth_failures: Vec<String>,
    pub first_arrival: String,
    pub last_arrival: String,
}

impl From<FailureSourceTotals> for FailureSource {
    fn from(t: FailureSourceTotals) -> Self {
        FailureSource {
            policy_domain: t.reported_domain,
            source_ip: t.source_ip,
            reports: t.reports,
            incidents: t.incidents,
            auth_failures: t.auth_failures,
            first_arrival: rfc3339(t.first_arrival),
            last_arrival: rfc3339(t.last_arrival),
        }
    }
}

/// Where the TLS and failure reports say mail to or as each domain went
/// wrong: what `sources` and `html` show next to the aggregate sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportedFailures {
    /// By domain, then most failed sessions first.
    pub tls_failures: Vec<MxFailures>,
    /// By domain, then most reports first.
    pub failure_sources: Vec<FailureSource>,
}

impl ReportedFailures {
    /// Keeps the first `limit` receiving MX hosts and source IPs of each
    /// domain (as `--limit` does for the aggregate sources).
    pub fn keep_per_domain(&mut self, limit: usize) {
        keep_first(&mut self.tls_failures, limit, |m| &m.policy_domain);
        keep_first(&mut self.failure_sources, limit, |s| &s.policy_domain);
    }

    pub fn tls_failures_of<'a>(&'a self, domain: &'a str) -> impl Iterator<Item = &'a MxFailures> {
        self.tls_failures
            .iter()
            .filter(move |m| m.policy_domain == domain)
    }

    pub fn failure_sources_of<'a>(
        &'a self,
        domain: &'a str,
    ) -> impl Iterator<Item = &'a FailureSource> {
        self.failure_sources
            .iter()
            .filter(move |s| s.policy_domain == domain)
    }

    /// The domains with TLS failures or failure reports, in name order.
    pub fn domains(&self) -> Vec<&str> {
        let mut domains: Vec<&str> = self
            .tls_failures
            .iter()
            .map(|m| m.policy_domain.as_str())
            .chain(
                self.failure_sources
                    .iter()
                    .map(|s| s.policy_domain.as_str()),
            )
            .collect();
        domains.sort_unstable();
        domains.dedup();
        domains
    }
}

fn keep_first<T>(items: &mut Vec<T>, limit: usize, domain: impl Fn(&T) -> &String) {
    let mut per_domain = HashMap::<String, usize>::new();
    items.retain(|item| {
        let shown = per_domain.entry(domain(item).clone()).or_default();
        *shown += 1;
        *shown <= limit
    });
}

/// TLS failures per receiving MX and failure reports per source IP, for
/// every domain in scope.
pub fn reported_failures(store: &Store, scope: &Scope) -> Result<ReportedFailures, StoreError> {
    Ok(ReportedFailures {
        tls_failures: store
            .tls_failures_by_mx(scope)?
            .into_iter()
            .map(MxFailures::from)
            .collect(),
        failure_sources: store
            .failure_source_totals(scope)?
            .into_iter()
            .map(FailureSource::from)
            .collect(),
    })
}
