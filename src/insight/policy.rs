//! `dmarc-sink policy`: is a domain ready for the next step of its DMARC
//! policy (none → quarantine → reject, as DMARCbis has it: no `pct`), and
//! what would the step catch today?
//!
//! A step is advised when the reports cover enough days and messages and
//! the mail of the domain's own sources that fails DMARC is a small enough
//! share of all its mail: that is the mail the step would quarantine or
//! reject by mistake. A source is the domain's own when the operator
//! approved it (`sources approve`); one denied never is; for the rest the
//! diagnoses decide (every source not diagnosed `unauthorised`).

use super::approved::SourceStanding;
use super::diagnosis::Code;
use super::share;
use super::sources::Source;
use super::summary::Policy;
use crate::config::InsightConfig;
use crate::i18n::{FluentValue, Messages};
use crate::report::PolicyPublished;
use crate::store::{Scope, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;

/// One domain's readiness. Its JSON is documented in docs/insight.md.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub policy_domain: String,
    /// The record as the latest report saw it.
    pub current: Option<Policy>,
    pub messages: i64,
    /// Days with at least one report.
    pub days_covered: i64,
    pub failing_messages: i64,
    /// Failing mail from the domain's own sources: approved, or not on the
    /// list and not diagnosed `unauthorised`.
    pub legitimate_failing_messages: i64,
    pub legitimate_failure_share: f64,
    /// Failing mail from the other sources: what the step is for.
    pub unauthorised_messages: i64,
    pub ready: bool,
    /// Why it is ready or not, one sentence each.
    pub reasons: Vec<String>,
    /// The next step; null once at p=reject.
    pub next: Option<Step>,
    /// Your own sources whose failing mail the next step would catch,
    /// most failing messages first.
    pub affected_sources: Vec<AffectedSource>,
}

/// A policy to publish next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub p: String,
    /// Always null: DMARCbis (RFC 9989) has no `pct`. Kept so that
    /// scripts that read it keep working.
    pub pct: Option<i64>,
    /// The whole TXT record for `_dmarc.<domain>`.
    pub record: String,
    /// The same record with `t=y`: a cautious step before enforcing, in
    /// which receivers apply one step less while the reports are watched.
    pub testing_record: String,
}

/// A legitimate source that fails DMARC.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedSource {
    pub source_ip: String,
    pub name: Option<String>,
    pub failing_messages: i64,
    pub diagnosis: Code,
    /// `approved` when the operator said it is the domain's, else `unknown`.
    pub standing: SourceStanding,
}

/// Readiness of every domain in scope; `sources` are those of the scope.
pub fn readiness(
    store: &Store,
    scope: &Scope,
    sources: &[Source],
    config: &InsightConfig,
    messages: &Messages,
) -> Result<Vec<Readiness>, StoreError> {
    readiness_with(store, scope, sources, config, &HashMap::new(), messages)
}

/// [`readiness`], the records it prints keeping the `rua` and `ruf` of
/// `published_addresses` (per domain, read from its published record).
pub fn readiness_with(
    store: &Store,
    scope: &Scope,
    sources: &[Source],
    config: &InsightConfig,
    published_addresses: &HashMap<String, ReportAddresses>,
    messages: &Messages,
) -> Result<Vec<Readiness>, StoreError> {
    // Only the reports that remain: the sources, held against these totals,
    // are theirs (retention keeps no per-source figures).
    // daily_totals has one row per domain and day: its rows are the days.
    let mut days: HashMap<String, i64> = HashMap::new();
    for row in store.live_daily_totals(scope)? {
        *days.entry(row.policy_domain).or_default() += 1;
    }
    let policies = store.latest_policies(scope)?;
    let addresses = store.report_addresses()?;
    let mut result = Vec::new();
    for totals in store.live_domain_totals(scope)? {
        let domain = totals.policy_domain.clone();
        let days_covered = days.get(&domain).copied().unwrap_or(0);
        let mut affected: Vec<AffectedSource> = sources
            .iter()
            .filter(|s| s.policy_domain == domain)
            .filter(|s| s.is_own() && s.figures.messages > s.figures.dmarc_pass)
            .map(|s| AffectedSource {
                source_ip: s.source_ip.clone(),
                name: s.name.clone(),
                failing_messages: s.figures.messages - s.figures.dmarc_pass,
                diagnosis: s.diagnosis.code,
                standing: s.standing,
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
        let figures = Figures {
            messages: totals.counts.messages,
            days_covered,
            legitimate_failing,
            legitimate_share,
            sources: affected.len(),
        };
        let mut reasons = blocking_reasons(&figures, config, messages);
        let ready = reasons.is_empty();
        if ready {
            reasons.push(messages.format(
                "policy-within-allowed",
                &[
                    ("share", messages.percent(legitimate_share).into()),
                    (
                        "allowed",
                        messages.percent(config.ready_max_failure_share).into(),
                    ),
                    ("days", as_printed(days_covered)),
                    ("messages", as_printed(totals.counts.messages)),
                ],
            ));
        }
        let keep = match published_addresses.get(&domain) {
            Some(found) => found.clone(),
            None => ReportAddresses {
                rua: addresses.get(&domain).map(|a| format!("mailto:{a}")),
                ruf: None,
            },
        };
        let unknown = PolicyPublished::default();
        let next = next_step(published.unwrap_or(&unknown), &keep);
        if next.is_none() {
            reasons.push(messages.text("policy-at-reject"));
        }
        if published.and_then(|p| p.pct).is_some_and(|pct| pct < 100) {
            reasons.push(messages.text("policy-pct-historic"));
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

/// What a domain's readiness is judged on.
struct Figures {
    messages: i64,
    days_covered: i64,
    /// Failing mail from the domain's own sources, and its share of all.
    legitimate_failing: i64,
    legitimate_share: f64,
    /// The own sources it comes from.
    sources: usize,
}

/// Why the next step is not advised yet, one sentence per threshold of
/// `config` the figures miss, in the language of `messages`; empty when
/// none is missed.
fn blocking_reasons(figures: &Figures, config: &InsightConfig, messages: &Messages) -> Vec<String> {
    let mut reasons = Vec::new();
    if (figures.messages as u64) < config.ready_min_messages {
        reasons.push(messages.format(
            "policy-too-few-messages",
            &[
                ("messages", as_printed(figures.messages)),
                ("min", as_printed(config.ready_min_messages)),
            ],
        ));
    }
    if (figures.days_covered as u64) < config.ready_min_days {
        reasons.push(messages.format(
            "policy-too-few-days",
            &[
                ("days", as_printed(figures.days_covered)),
                ("min", as_printed(config.ready_min_days)),
            ],
        ));
    }
    let allowed = config.ready_max_failure_share;
    if figures.legitimate_share > allowed {
        reasons.push(messages.format(
            "policy-own-sources-fail",
            &[
                ("share", messages.percent(figures.legitimate_share).into()),
                ("failing", as_printed(figures.legitimate_failing)),
                ("sources", as_printed(figures.sources)),
                ("allowed", messages.percent(allowed).into()),
            ],
        ));
    }
    reasons
}

/// A number as the English reasons have always printed it, ungrouped: as
/// text, so that Fluent does not group it.
fn as_printed(n: impl ToString) -> FluentValue<'static> {
    FluentValue::from(n.to_string())
}

/// The step after `current`: none → quarantine → reject, with `np=reject`
/// beside reject. A published `pct` is historic (RFC 9989) and plays no
/// part: p=quarantine is the step before p=reject whatever its pct. `None`
/// at p=reject. `addresses`: the `rua` and `ruf` to keep, as published
/// (read through `[dns]`) or as the reports were addressed.
pub fn next_step(current: &PolicyPublished, addresses: &ReportAddresses) -> Option<Step> {
    let published = current.p.as_deref().unwrap_or("none");
    // In test mode (t=y) the step is dropping it: the same policy, applied.
    let testing = current
        .testing
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("y"));
    let next_p = match published {
        "reject" | "quarantine" if testing => published,
        "reject" => return None,
        "quarantine" => "reject",
        _ => "quarantine",
    };
    let mut tags = vec!["v=DMARC1".to_owned(), format!("p={next_p}")];
    if let Some(sp) = &current.sp {
        tags.push(format!("sp={sp}"));
    }
    match (&current.np, next_p) {
        (_, "reject") => tags.push("np=reject".to_owned()),
        (Some(np), _) => tags.push(format!("np={np}")),
        (None, _) => {}
    }
    for (tag, value) in [("adkim", &current.adkim), ("aspf", &current.aspf)] {
        if value.as_deref() == Some("s") {
            tags.push(format!("{tag}=s"));
        }
    }
    let rua = addresses
        .rua
        .clone()
        .unwrap_or_else(|| "mailto:dmarc@your-report-host.example".to_owned());
    let rua = if rua.contains(':') {
        rua
    } else {
        format!("mailto:{rua}")
    };
    tags.push(format!("rua={rua}"));
    if let Some(ruf) = &addresses.ruf {
        tags.push(format!("ruf={ruf}"));
    }
    let record = tags.join("; ");
    let mut testing = tags.clone();
    testing.insert(2, "t=y".to_owned());
    Some(Step {
        p: next_p.to_owned(),
        pct: None,
        record,
        testing_record: testing.join("; "),
    })
}

/// The report addresses a new record keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportAddresses {
    /// The `rua` value, URIs joined with `,`.
    pub rua: Option<String>,
    pub ruf: Option<String>,
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

    fn rua(address: &str) -> ReportAddresses {
        ReportAddresses {
            rua: Some(format!("mailto:{address}")),
            ruf: None,
        }
    }

    #[test]
    fn the_ladder_goes_none_quarantine_reject() {
        let to = rua("dmarc@reports.example.net");
        let step = next_step(&published("none", Some(100)), &to).unwrap();
        assert_eq!(
            step.record,
            "v=DMARC1; p=quarantine; rua=mailto:dmarc@reports.example.net"
        );
        assert_eq!(
            step.testing_record,
            "v=DMARC1; p=quarantine; t=y; rua=mailto:dmarc@reports.example.net"
        );
        let step = next_step(&published("quarantine", None), &to).unwrap();
        assert_eq!(
            step.record,
            "v=DMARC1; p=reject; np=reject; rua=mailto:dmarc@reports.example.net"
        );
        assert_eq!(next_step(&published("reject", Some(100)), &to), None);
    }

    #[test]
    fn in_test_mode_the_step_is_to_drop_it() {
        let mut testing = published("reject", None);
        testing.testing = Some("y".into());
        let step = next_step(&testing, &ReportAddresses::default()).unwrap();
        assert_eq!(step.p, "reject");
        assert!(!step.record.contains("t=y"), "{}", step.record);
        let mut testing = published("quarantine", None);
        testing.testing = Some("y".into());
        assert_eq!(
            next_step(&testing, &ReportAddresses::default()).unwrap().p,
            "quarantine"
        );
    }

    #[test]
    fn pct_is_never_emitted_nor_climbed() {
        let step = next_step(
            &published("quarantine", Some(25)),
            &ReportAddresses::default(),
        )
        .unwrap();
        assert_eq!((step.p.as_str(), step.pct), ("reject", None));
        assert!(!step.record.contains("pct"), "{}", step.record);
        assert_eq!(
            next_step(&published("reject", Some(10)), &ReportAddresses::default()),
            None
        );
    }

    #[test]
    fn the_published_addresses_are_kept() {
        let keep = ReportAddresses {
            rua: Some("mailto:a@example.com,mailto:dmarc@sink.example".into()),
            ruf: Some("mailto:ruf@example.com".into()),
        };
        let step = next_step(&published("none", None), &keep).unwrap();
        assert_eq!(
            step.record,
            "v=DMARC1; p=quarantine; rua=mailto:a@example.com,mailto:dmarc@sink.example; \
             ruf=mailto:ruf@example.com"
        );
    }
}
