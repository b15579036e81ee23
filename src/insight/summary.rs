//! `dmarc-sink summary`: one line of figures per policy domain: the
//! aggregate reports' messages, and the TLS sessions and failure reports
//! that came for it.

use super::Figures;
use super::period::rfc3339;
use super::tls_failure::{FailureReports, PerDomain, TlsSessions, per_domain};
use crate::report::PolicyPublished;
use crate::store::{Scope, Store, StoreError};
use serde::Serialize;

/// One policy domain over the scope. Its JSON is documented in docs/insight.md.
#[derive(Debug, Clone, Serialize)]
pub struct DomainSummary {
    pub policy_domain: String,
    pub reports: i64,
    #[serde(flatten)]
    pub figures: Figures,
    /// Distinct reporting organisations.
    pub reporters: i64,
    /// The aggregate reports' period; `None` for a domain with TLS or
    /// failure reports only.
    pub period: Option<Period>,
    /// The DMARC record as the latest report saw it.
    pub policy: Option<Policy>,
    /// The SMTP TLS reports' sessions; `None` when none came.
    pub tls: Option<TlsSessions>,
    /// The failure reports; `None` when none came.
    pub failure_reports: Option<FailureReports>,
}

impl DomainSummary {
    /// Whether any aggregate report is in scope for the domain.
    pub fn has_aggregate(&self) -> bool {
        self.reports > 0
    }
}

/// First report range begin to last report range end, RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub begin: String,
    pub end: String,
}

/// A published DMARC policy, as reports give it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub p: Option<String>,
    pub sp: Option<String>,
    pub pct: Option<i64>,
    pub adkim: Option<String>,
    pub aspf: Option<String>,
    pub np: Option<String>,
    pub testing: Option<String>,
    /// The tags above as a DMARC record (without `rua`).
    pub record: String,
}

impl Policy {
    pub fn from_published(published: &PolicyPublished) -> Policy {
        let mut tags = vec!["v=DMARC1".to_owned()];
        let mut tag = |name: &str, value: &Option<String>| {
            if let Some(value) = value {
                tags.push(format!("{name}={value}"));
            }
        };
        tag("p", &published.p);
        tag("sp", &published.sp);
        tag("np", &published.np);
        tag("adkim", &published.adkim);
        tag("aspf", &published.aspf);
        tag("t", &published.testing);
        if let Some(pct) = published.pct {
            tags.push(format!("pct={pct}"));
        }
        Policy {
            p: published.p.clone(),
            sp: published.sp.clone(),
            pct: published.pct,
            adkim: published.adkim.clone(),
            aspf: published.aspf.clone(),
            np: published.np.clone(),
            testing: published.testing.clone(),
            record: tags.join("; "),
        }
    }
}

/// Every policy domain in scope: those with aggregate reports first, most
/// messages first, then those with only TLS or failure reports, by name.
pub fn summary(store: &Store, scope: &Scope) -> Result<Vec<DomainSummary>, StoreError> {
    let mut domains = Vec::new();
    let policies = store.latest_policies(scope)?;
    let PerDomain {
        mut tls,
        failure_reports: mut failures,
    } = per_domain(store, scope)?;
    for t in store.domain_totals(scope)? {
        let policy = policies.get(&t.policy_domain).map(Policy::from_published);
        domains.push(DomainSummary {
            reports: t.reports,
            figures: Figures::from(&t.counts),
            reporters: t.reporters,
            period: Some(Period {
                begin: rfc3339(t.first_seen),
                end: rfc3339(t.last_seen),
            }),
            policy,
            tls: tls.remove(&t.policy_domain),
            failure_reports: failures.remove(&t.policy_domain),
            policy_domain: t.policy_domain,
        });
    }
    let mut others: Vec<String> = tls.keys().chain(failures.keys()).cloned().collect();
    others.sort_unstable();
    others.dedup();
    for domain in others {
        domains.push(DomainSummary {
            reports: 0,
            figures: Figures::default(),
            reporters: 0,
            period: None,
            policy: None,
            tls: tls.remove(&domain),
            failure_reports: failures.remove(&domain),
            policy_domain: domain,
        });
    }
    Ok(domains)
}
