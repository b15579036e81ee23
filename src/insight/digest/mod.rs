//! `dmarc-sink digest`: a period's reports (a week by default) in one mail
//! for the people who look after the domains: how each domain's DMARC pass
//! share moved, the sources that are new or failing, what was left out as
//! unauthenticated, the reporters that went quiet, the TLS failures per
//! receiving MX, and whether each domain is ready for its next policy step.
//!
//! The mail goes out on a quiet week too and says so: its arrival is the
//! proof that the sink, its store and its timer are alive.
//!
//! Here the figures are gathered ([`gather`]) through the insight and store
//! functions the other commands use, and nothing else: no SQL, no new
//! meaning. [`text`] and [`html`] write the two forms of the mail,
//! [`mail`] builds the MIME message, [`send`] hands it to the relay.

mod error;
mod html;
mod mail;
mod send;
mod text;

pub use error::DigestError;
pub use html::html;
pub use mail::{message, recipients};
pub use send::send;
pub use text::text;

use super::Figures;
use super::approved::SourceStanding;
use super::policy::{Readiness, readiness};
use super::rdns::ReverseDns;
use super::sources::{Source, sources};
use super::summary::{DomainSummary, summary};
use super::tls_failure::{MxFailures, reported_failures};
use crate::config::Config;
use crate::i18n::{Lang, Messages};
use crate::store::{LeftOut, Scope, SilentDomain, SilentReporter, Store, StoreError};
use std::collections::{HashMap, HashSet};

const DAY: i64 = 86_400;
/// The readiness verdict reads at least this many days back from the
/// period's end: a week is too short for `insight.ready_min_days`, and
/// years-old mistakes should not hold a domain back.
pub const READINESS_DAYS: i64 = 30;
/// Rows shown per domain in each list of sources; `dmarc-sink sources`
/// lists the rest.
pub const SOURCES_SHOWN: usize = 10;

/// The period a digest covers: reports whose range begins in
/// `[since, until)`, unix seconds. `until` is the digest's "now": silence
/// is reckoned from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub since: i64,
    pub until: i64,
}

impl Period {
    /// The period of the same length that ends where this one begins.
    pub fn before(&self) -> Period {
        Period {
            since: self.since - (self.until - self.since),
            until: self.since,
        }
    }
}

/// What the digest is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub period: Period,
    /// Policy domains to cover; empty: all.
    pub domains: Vec<String>,
    /// Count reports from unauthenticated report mail too (the silence
    /// lists never do).
    pub include_unauthenticated: bool,
    /// The language the mail is written in.
    pub lang: Lang,
}

impl Request {
    fn scope(&self, period: Period) -> Scope {
        Scope {
            domains: self.domains.clone(),
            since: Some(period.since),
            until: Some(period.until),
            include_unauthenticated: self.include_unauthenticated,
        }
    }

    fn covers(&self, domain: &str) -> bool {
        self.domains.is_empty() || self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }
}

/// One domain's DMARC figures in the period and in the one before.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainChange {
    pub policy_domain: String,
    pub reports: i64,
    pub figures: Figures,
    /// `None` when no aggregate report came for it in the period before.
    pub before: Option<Figures>,
}

impl DomainChange {
    /// The DMARC pass share now minus before (0.02 is two points up).
    pub fn change(&self) -> Option<f64> {
        self.before
            .map(|before| self.figures.dmarc_pass_share - before.dmarc_pass_share)
    }
}

/// Everything one digest shows.
#[derive(Debug, Clone)]
pub struct Digest {
    pub request: Request,
    /// Every domain with reports of any kind in the period.
    pub summary: Vec<DomainSummary>,
    /// The domains with aggregate reports in the period, most messages first.
    pub domains: Vec<DomainChange>,
    /// Sources first seen in the period, most messages first.
    pub new_sources: Vec<Source>,
    /// See [`failing_sources`].
    pub failing_sources: Vec<Source>,
    pub left_out: Vec<LeftOut>,
    pub silent_reporters: Vec<SilentReporter>,
    pub silent_domains: Vec<SilentDomain>,
    /// By domain, then most failed sessions first.
    pub tls_failures: Vec<MxFailures>,
    /// Over the [`READINESS_DAYS`] before the period's end (or the period,
    /// when longer).
    pub readiness: Vec<Readiness>,
}

impl Digest {
    /// No report of any kind arrived in the period, counted or left out.
    pub fn is_quiet(&self) -> bool {
        self.summary.is_empty() && self.left_out.is_empty()
    }
}

/// Gathers the digest of `request` from the store. `rdns` names sources by
/// reverse DNS when given (`insight.reverse_dns`).
pub fn gather(
    store: &Store,
    request: &Request,
    config: &Config,
    mut rdns: Option<&mut ReverseDns>,
) -> Result<Digest, StoreError> {
    let period = request.period;
    let scope = request.scope(period);
    let messages = Messages::new(request.lang);
    let found = sources(store, &scope, rdns.as_deref_mut(), &messages)?;
    let now = summary(store, &scope)?;
    let before: HashMap<String, Figures> = summary(store, &request.scope(period.before()))?
        .into_iter()
        .filter(|d| d.has_aggregate())
        .map(|d| (d.policy_domain, d.figures))
        .collect();
    let domains = now
        .iter()
        .filter(|d| d.has_aggregate())
        .map(|d| DomainChange {
            policy_domain: d.policy_domain.clone(),
            reports: d.reports,
            figures: d.figures,
            before: before.get(&d.policy_domain).copied(),
        })
        .collect();
    let readiness_period = Period {
        since: period.since.min(period.until - READINESS_DAYS * DAY),
        until: period.until,
    };
    let readiness_scope = request.scope(readiness_period);
    let readiness_sources = sources(store, &readiness_scope, rdns, &messages)?;
    let alerts = &config.alerts;
    Ok(Digest {
        summary: now,
        domains,
        new_sources: new_sources(store, request, &found)?,
        failing_sources: failing_sources(&found),
        left_out: store.left_out(&scope)?,
        silent_reporters: store
            .silent_reporters(
                period.until,
                alerts.silence_min_days,
                alerts.silence_after_hours,
            )?
            .into_iter()
            .filter(|s| request.covers(&s.policy_domain))
            .collect(),
        silent_domains: store
            .silent_domains(period.until, alerts.silence_after_hours)?
            .into_iter()
            .filter(|s| request.covers(&s.policy_domain))
            .collect(),
        tls_failures: reported_failures(store, &scope)?.tls_failures,
        readiness: readiness(
            store,
            &readiness_scope,
            &readiness_sources,
            &config.insight,
            &messages,
        )?,
        request: request.clone(),
    })
}

/// The sources of the period (`found`) that no report before it showed.
fn new_sources(
    store: &Store,
    request: &Request,
    found: &[Source],
) -> Result<Vec<Source>, StoreError> {
    let until_end = Scope {
        since: None,
        ..request.scope(request.period)
    };
    let seen_before: HashSet<(String, String)> = store
        .source_totals(&until_end)?
        .into_iter()
        .filter(|t| t.first_seen < request.period.since)
        .map(|t| (t.policy_domain, t.source_ip))
        .collect();
    Ok(found
        .iter()
        .filter(|s| !seen_before.contains(&(s.policy_domain.clone(), s.source_ip.clone())))
        .cloned()
        .collect())
}

/// The sources of the period whose mail failed DMARC and that the
/// operator has not approved (`sources approve`), most failing messages
/// first: the ones that need a look.
pub fn failing_sources(found: &[Source]) -> Vec<Source> {
    let mut failing: Vec<Source> = found
        .iter()
        .filter(|s| s.figures.messages > s.figures.dmarc_pass)
        .filter(|s| s.standing != SourceStanding::Approved)
        .cloned()
        .collect();
    failing.sort_by(|a, b| {
        let failed = |s: &Source| s.figures.messages - s.figures.dmarc_pass;
        failed(b)
            .cmp(&failed(a))
            .then_with(|| a.policy_domain.cmp(&b.policy_domain))
            .then_with(|| a.source_ip.cmp(&b.source_ip))
    });
    failing
}

/// `all` grouped by policy domain, in the order the domains first appear,
/// each group in the order of `all`.
fn per_domain(all: &[Source]) -> Vec<(&str, Vec<&Source>)> {
    let mut groups: Vec<(&str, Vec<&Source>)> = Vec::new();
    for source in all {
        match groups
            .iter_mut()
            .find(|(domain, _)| *domain == source.policy_domain)
        {
            Some((_, group)) => group.push(source),
            None => groups.push((&source.policy_domain, vec![source])),
        }
    }
    groups
}
