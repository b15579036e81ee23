//! `dmarc-sink policy`: is a domain ready for the next step of its DMARC
//! policy (none → quarantine → reject, and pct up to 100 where it is still
//! used), and what would the step catch today?
//!
//! A step is advised when the reports cover enough days and messages and
//! the mail of the domain's own sources (every source not diagnosed
//! `unauthorised`) that fails DMARC is a small enough share of all its mail:
//! that is the mail the step would quarantine or reject by mistake.

use super::diagnosis::Code;
use super::sources::Source;
use super::summary::Policy;
use super::{percent, share};
use crate::config::InsightConfig;
use crate::report::PolicyPublished;
use crate::store::{Scope, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;

/// One domain's readiness. Its JSON is documented in README.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub policy_domain: String,
    /// The record as the latest report saw it.
    pub current: Option<Policy>,
    pub messages: i64,
    /// Days with at least one report.
    pub days_covered: i64,
    pub failing_messages: i64,
    /// Failing mail from sources that are not diagnosed `unauthorised`.
    pub legitimate_failing_messages: i64,
    pub legitimate_failure_share: f64,
    /// Failing mail from unauthorised sources: what the step is for.
    pub unauthorised_messages: i64,
    pub ready: bool,
    /// Why it is ready or not, one sentence each.
    pub reasons: Vec<String>,
    /// The next step; null once at p=reject with pct 100.
    pub next: Option<Step>,
    /// Your own sources whose failing mail the next step would catch,
    /// most failing messages first.
    pub affected_sources: Vec<AffectedSource>,
}

/// A policy to publish next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub p: String,
    /// Set while rolling out with `pct` below 100.
    pub pct: Option<i64>,
    /// The whole TXT record for `_dmarc.<domain>`.
    pub record: String,
}

/// A legitimate source that fails DMARC.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedSource {
    pub source_ip: String,
    pub name: Option<String>,
    pub failing_messages: i64,
    pub diagnosis: Code,
}

/// Readiness of every domain in scope; `sources` are those of the scope.
pub fn readiness(
    store: &Store,
    scope: &Scope,
    sources: &[Source],
    config: &InsightConfig,
) -> Result<Vec<Readiness>, StoreError> {
    // daily_totals has one row per domain and day: its rows are the days.
    let mut days: HashMap<String, i64> = HashMap::new();
    for row in store.daily_totals(scope)? {
        *days.entry(row.policy_domain).or_default() += 1;
    }
    let policies = store.latest_policies(scope)?;
    let addresses = store.report_addresses()?;
    let mut result = Vec::new();
    for totals in store.domain_totals(scope)? {
        let domain = totals.policy_domain.clone();
        let days_covered = days.get(&domain).copied().unwrap_or(0);
        let mut affected: Vec<AffectedSource> = sources
            .iter()
            .filter(|s| s.policy_domain == domain)
            .filter(|s| {
                s.diagnosis.code.is_legitimate() && s.figures.messages > s.figures.dmarc_pass
            })
            .map(|s| AffectedSource {
                source_ip: s.source_ip.clone(),
                name: s.name.clone(),
                failing_messages: s.figures.messages - s.figures.dmarc_pass,
                diagnosis: s.diagnosis.code,
            })
            .collect();
        affected.sort_by(|a, b| {
            b.failing_messages
                .cmp(&a.failing_messages)
                .then(a.source_ip.cmp(&b.source_ip))
        });
        let legitimate_failing: i64 = affected.iter().map(|a| a.failing_messages).sum();
        let failing = totals.counts.messages - totals.counts.dmarc_pass;
        let legitimate_share = share(legitimate_failing, totals.counts.messages);
        let published = policies.get(&domain);
        let mut reasons = Vec::new();
        if (totals.counts.messages as u64) < config.ready_min_messages {
            reasons.push(format!(
                "only {} messages reported; at least {} are needed (insight.ready_min_messages)",
                totals.counts.messages, config.ready_min_messages
            ));
        }
        if (days_covered as u64) < config.ready_min_days {
            reasons.push(format!(
                "reports cover {days_covered} day(s); at least {} are needed (insight.ready_min_days)",
                config.ready_min_days
            ));
        }
        let allowed = config.ready_max_failure_share;
        if legitimate_share > allowed {
            reasons.push(format!(
                "{} of mail from your own sources fails DMARC ({legitimate_failing} messages \
                 from {} source(s)); at most {} may (insight.ready_max_failure_share): fix the \
                 sources listed first",
                percent(legitimate_share),
                affected.len(),
                percent(allowed)
            ));
        }
        let ready = reasons.is_empty();
        if ready {
            reasons.push(format!(
                "{} of mail from your own sources fails DMARC, within the {} allowed, over \
                 {days_covered} days and {} messages",
                percent(legitimate_share),
                percent(allowed),
                totals.counts.messages
            ));
        }
        let rua = addresses.get(&domain).map(String::as_str);
        let unknown = PolicyPublished::default();
        let next = next_step(published.unwrap_or(&unknown), rua);
        if next.is_none() {
            reasons.push("p=reject applies to all mail: nothing further to publish".into());
        }
        result.push(Readiness {
            current: published.map(Policy::from_published),
            messages: totals.counts.messages,
            days_covered,
            failing_messages: failing,
            legitimate_failing_messages: legitimate_failing,
            legitimate_failure_share: legitimate_share,
            unauthorised_messages: failing - legitimate_failing,
            ready: ready && next.is_some(),
            reasons,
            next,
            affected_sources: affected,
            policy_domain: domain,
        });
    }
    Ok(result)
}

/// The rollout ladder for `pct`, where a record still uses it.
const PCT_STEPS: [i64; 3] = [25, 50, 100];

/// The step after `current`: none → quarantine → reject; a `pct` below 100
/// is raised first. `None` at p=reject with pct 100.
pub fn next_step(current: &PolicyPublished, rua: Option<&str>) -> Option<Step> {
    let p = current.p.as_deref().unwrap_or("none");
    let pct = current.pct.unwrap_or(100);
    let (next_p, next_pct) = match p {
        "quarantine" | "reject" if pct < 100 => {
            let raised = PCT_STEPS.into_iter().find(|&s| s > pct).unwrap_or(100);
            (p, (raised < 100).then_some(raised))
        }
        "quarantine" => ("reject", None),
        "reject" => return None,
        _ => ("quarantine", None),
    };
    let mut tags = vec!["v=DMARC1".to_owned(), format!("p={next_p}")];
    if let Some(pct) = next_pct {
        tags.push(format!("pct={pct}"));
    }
    if let Some(sp) = &current.sp {
        tags.push(format!("sp={sp}"));
    }
    if let Some(np) = &current.np {
        tags.push(format!("np={np}"));
    }
    for (tag, value) in [("adkim", &current.adkim), ("aspf", &current.aspf)] {
        if value.as_deref() == Some("s") {
            tags.push(format!("{tag}=s"));
        }
    }
    let rua = rua.unwrap_or("dmarc@your-report-host.example");
    tags.push(format!("rua=mailto:{}", rua.trim_start_matches("mailto:")));
    Some(Step {
        p: next_p.to_owned(),
        pct: next_pct,
        record: tags.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(p: &str, pct: Option<i64>) -> PolicyPublished {
        PolicyPublished {
            domain: "example.com".into(),
            p: Some(p.into()),
            pct,
            ..PolicyPublished::default()
        }
    }

    #[test]
    fn the_ladder_goes_none_quarantine_reject() {
        let rua = Some("dmarc@reports.example.net");
        let step = next_step(&published("none", Some(100)), rua).unwrap();
        assert_eq!(
            step.record,
            "v=DMARC1; p=quarantine; rua=mailto:dmarc@reports.example.net"
        );
        assert_eq!(
            next_step(&published("quarantine", None), rua).unwrap().p,
            "reject"
        );
        assert_eq!(next_step(&published("reject", Some(100)), rua), None);
    }

    #[test]
    fn a_pct_below_100_is_raised_before_the_next_policy() {
        let step = next_step(&published("quarantine", Some(25)), None).unwrap();
        assert_eq!((step.p.as_str(), step.pct), ("quarantine", Some(50)));
        let step = next_step(&published("quarantine", Some(50)), None).unwrap();
        assert_eq!((step.p.as_str(), step.pct), ("quarantine", None));
        let step = next_step(&published("reject", Some(10)), None).unwrap();
        assert_eq!((step.p.as_str(), step.pct), ("reject", Some(25)));
    }
}
