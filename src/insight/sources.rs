//! `dmarc-sink sources`: who sends as each domain, how it fares, and why.

use super::Figures;
use super::approved::{ApprovedList, SourceStanding};
use super::diagnosis::{Diagnosis, Evidence, diagnose};
use super::providers::{Provider, domain_of, identify};
use super::rdns::ReverseDns;
use crate::i18n::Messages;
use crate::store::{DomainSeen, Scope, SourceDomain, SourceTotals, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;

/// One sending IP for one policy domain. Its JSON is documented in docs/insight.md.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub policy_domain: String,
    pub source_ip: String,
    /// The service (from the domains seen, else reverse DNS), or the
    /// reverse DNS name itself; null when nothing tells.
    pub name: Option<String>,
    /// The known service, when one matched.
    pub provider: Option<&'static str>,
    /// The PTR name, when `insight.reverse_dns` is on and one was found.
    pub reverse_dns: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
    pub reporters: i64,
    /// How many of `reporters` sent report mail that authenticated (the
    /// others' reports are counted only with `--include-unauthenticated`,
    /// or were read by `import` or before authentication).
    pub authenticated_reporters: i64,
    pub first_seen: String,
    pub last_seen: String,
    /// DKIM domains that signed, most messages first.
    pub dkim_domains: Vec<String>,
    /// SPF (envelope) domains checked, most messages first.
    pub spf_domains: Vec<String>,
    pub diagnosis: Diagnosis,
    /// What the approved-sender list says of it (`sources approve`).
    pub standing: SourceStanding,
    /// The name the operator gave the list entry that decided it.
    pub approved_as: Option<String>,
    /// That entry's source (an address, a block, a domain).
    #[serde(skip)]
    pub list_entry: Option<String>,
}

impl Source {
    /// Whether its mail is the domain's own: approved, or not on the list
    /// and not diagnosed unauthorised. Denied sources never are.
    pub fn is_own(&self) -> bool {
        match self.standing {
            SourceStanding::Approved => true,
            SourceStanding::Denied => false,
            SourceStanding::Unknown => self.diagnosis.code.is_legitimate(),
        }
    }
}

/// The domains seen for one source, ranked by messages.
#[derive(Default)]
struct Seen<'a> {
    rows: Vec<&'a SourceDomain>,
}

impl<'a> Seen<'a> {
    fn ranked(&self, seen: DomainSeen, passed: Option<bool>) -> Vec<&'a SourceDomain> {
        let mut rows: Vec<&SourceDomain> = self
            .rows
            .iter()
            .copied()
            .filter(|r| r.seen == seen && passed.is_none_or(|p| r.passed == p))
            .collect();
        rows.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.domain.cmp(&b.domain)));
        rows
    }

    fn names(&self, seen: DomainSeen) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for row in self.ranked(seen, None) {
            let name = domain_of(&row.domain).to_owned();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The DKIM and SPF domains that passed: what may match the list.
    fn passing(&self) -> impl Iterator<Item = &'a str> + Clone + '_ {
        self.rows
            .iter()
            .filter(|r| r.passed && matches!(r.seen, DomainSeen::Dkim | DomainSeen::Spf))
            .map(|r| r.domain.as_str())
    }

    /// The first domain, by messages, that passed without aligning.
    fn foreign_pass(&self, seen: DomainSeen, policy_domain: &str) -> Option<&'a str> {
        self.ranked(seen, Some(true))
            .into_iter()
            .map(|r| domain_of(&r.domain))
            .find(|d| !aligns(d, policy_domain))
    }

    /// The selector of the domain's own DKIM signature that failed most.
    fn failing_own_selector(&self, policy_domain: &str) -> Option<&'a str> {
        self.ranked(DomainSeen::Dkim, Some(false))
            .into_iter()
            .find(|r| aligns(&r.domain, policy_domain))
            .and_then(|r| r.selector.as_deref())
    }

    /// The service named by the domains seen: passing DKIM first, then
    /// SPF, then the envelope, then anything.
    fn provider(&self) -> Option<&'static Provider> {
        let order = [
            (DomainSeen::Dkim, Some(true)),
            (DomainSeen::Spf, Some(true)),
            (DomainSeen::Envelope, None),
            (DomainSeen::Dkim, None),
            (DomainSeen::Spf, None),
        ];
        order.into_iter().find_map(|(seen, passed)| {
            self.ranked(seen, passed)
                .into_iter()
                .find_map(|r| identify(domain_of(&r.domain)))
        })
    }
}

/// Relaxed alignment: the one rule, by the public suffix list.
fn aligns(domain: &str, policy_domain: &str) -> bool {
    crate::auth::aligned(domain, policy_domain)
}

/// Every source in scope, most messages first, named and diagnosed, the
/// diagnoses in the language of `messages`. `rdns` names sources by reverse
/// DNS when given.
pub fn sources(
    store: &Store,
    scope: &Scope,
    rdns: Option<&mut ReverseDns>,
    messages: &Messages,
) -> Result<Vec<Source>, StoreError> {
    let totals = store.source_totals(scope)?;
    // A source's history is read separately only when the scope is a
    // window; over all time it is `totals` itself (the lookup below falls
    // back to it).
    let lifetime: HashMap<(String, String), SourceTotals> =
        if scope.since.is_none() && scope.until.is_none() {
            HashMap::new()
        } else {
            store
                .source_totals(&scope.all_time())?
                .into_iter()
                .map(|t| ((t.policy_domain.clone(), t.source_ip.clone()), t))
                .collect()
        };
    let domains = store.source_domains(scope)?;
    let mut seen: HashMap<(&str, &str), Seen<'_>> = HashMap::new();
    for row in &domains {
        seen.entry((row.policy_domain.as_str(), row.source_ip.as_str()))
            .or_default()
            .rows
            .push(row);
    }
    let rdns = rdns.map(|rdns| {
        rdns.resolve_all(totals.iter().map(|t| t.source_ip.as_str()));
        &*rdns
    });
    let approved = ApprovedList::new(store.approved_sources()?);
    let empty = Seen::default();
    let mut sources = Vec::with_capacity(totals.len());
    for t in &totals {
        let seen = seen
            .get(&(t.policy_domain.as_str(), t.source_ip.as_str()))
            .unwrap_or(&empty);
        let reverse_dns = rdns.and_then(|r| r.name(&t.source_ip)).map(str::to_owned);
        let provider = seen
            .provider()
            .or_else(|| reverse_dns.as_deref().and_then(identify));
        let life = lifetime.get(&(t.policy_domain.clone(), t.source_ip.clone()));
        let evidence = Evidence {
            policy_domain: &t.policy_domain,
            messages: t.counts.messages,
            dmarc_pass: t.counts.dmarc_pass,
            dkim_aligned_pass: t.counts.dkim_aligned_pass,
            spf_aligned_pass: t.counts.spf_aligned_pass,
            spf_pass_unaligned: t.spf_pass_unaligned,
            dkim_pass_unaligned: t.dkim_pass_unaligned,
            own_dkim_fail: t.own_dkim_fail,
            lifetime: life.map_or(t.counts, |l| l.counts),
            provider,
            spf_domain: seen.foreign_pass(DomainSeen::Spf, &t.policy_domain),
            dkim_domain: seen.foreign_pass(DomainSeen::Dkim, &t.policy_domain),
            failing_selector: seen.failing_own_selector(&t.policy_domain),
        };
        let diagnosis = diagnose(&evidence, messages);
        let verdict = approved.verdict(&t.policy_domain, &t.source_ip, seen.passing());
        sources.push(Source {
            policy_domain: t.policy_domain.clone(),
            source_ip: t.source_ip.clone(),
            name: provider
                .map(|p| p.name.to_owned())
                .or_else(|| reverse_dns.clone()),
            provider: provider.map(|p| p.name),
            reverse_dns,
            figures: Figures::from(&t.counts),
            reporters: t.reporters,
            authenticated_reporters: t.authenticated_reporters,
            first_seen: super::period::rfc3339(t.first_seen),
            last_seen: super::period::rfc3339(t.last_seen),
            dkim_domains: seen.names(DomainSeen::Dkim),
            spf_domains: seen.names(DomainSeen::Spf),
            diagnosis,
            standing: verdict.standing,
            approved_as: verdict.name,
            list_entry: verdict.entry,
        });
    }
    Ok(sources)
}
