//! The alerts no single report raises, found by `serve`'s hourly check
//! ([`check`]) over what the store holds at `now`:
//!
//! - `reporter_silent`: a reporter that reported a domain on at least
//!   `alerts.silence_min_days` of the last 30 days has sent nothing for
//!   `alerts.silence_after_hours`. Once per reporter, domain and silence
//!   (the silence is known by the end of the last report before it).
//! - `domain_silent`: a domain reported that regularly gets no report at
//!   all for `alerts.silence_after_hours`. Once per domain and silence.
//! - `pass_rate_drop`: an approved source (a list entry, every address it
//!   covers together) whose DMARC pass share over the last 2 days is at
//!   least `alerts.pass_rate_drop` below that of the 14 days before, with
//!   at least `alerts.min_failing_messages` failing. Once per entry and
//!   2-day window.
//! - `policy_changed`: a reporter's reports show the domain's published
//!   policy (p, sp, np, adkim, aspf, t) changed. Once per domain and
//!   change (from, to).
//!
//! All read what the insight commands count: never a superseded report,
//! never one from an unauthenticated message. Each is recorded in
//! `alerts` once (`subject`, `occasion`) and only then made known.

use super::{Alert, AlertKind, LOG_TARGET};
use crate::config::{AlertsConfig, SILENCE_WINDOW_DAYS};
use crate::insight::approved::SourceStanding;
use crate::insight::period::{day, rfc3339};
use crate::insight::sources::sources;
use crate::insight::summary::Policy;
use crate::report::PolicyPublished;
use crate::store::{OnceAlert, Scope, Store, StoreError};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashSet};

const DAY: i64 = 86_400;
const HOUR: i64 = 3600;
/// The recent window of `pass_rate_drop`, and the baseline before it.
const RECENT_DAYS: i64 = 2;
const BASELINE_DAYS: i64 = 14;

/// One alert of the hourly check.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchAlert {
    pub kind: AlertKind,
    pub policy_domain: String,
    /// The reporter or the list entry it is about; None for the domain.
    pub subject: Option<String>,
    /// What tells this occurrence from the next (see the module docs).
    pub occasion: String,
    /// The fields of its document after `kind` and `policy_domain`.
    pub fields: Map<String, Value>,
    /// The WARN line's message, after `alert: `.
    pub message: &'static str,
    pub created_at: i64,
}

impl WatchAlert {
    /// The JSON document: `kind`, `policy_domain`, its own fields,
    /// `created_at` (docs/operations.md, Alerts).
    pub fn document(&self) -> String {
        let mut document = Map::new();
        document.insert("kind".into(), json!(self.kind.as_str()));
        document.insert("policy_domain".into(), json!(self.policy_domain));
        document.extend(self.fields.clone());
        document.insert("created_at".into(), json!(rfc3339(self.created_at)));
        Value::Object(document).to_string()
    }

    pub(super) fn log(&self) {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(name, value)| match value {
                Value::String(text) => format!("{name}={text}"),
                other => format!("{name}={other}"),
            })
            .collect();
        tracing::warn!(
            target: LOG_TARGET,
            kind = self.kind.as_str(),
            policy_domain = self.policy_domain,
            details = %fields.join(" "),
            "alert: {}",
            self.message
        );
    }
}

/// Runs every check at `now` (unix seconds), records the alerts not raised
/// before, and returns them to be made known.
pub fn check(store: &Store, config: &AlertsConfig, now: i64) -> Result<Vec<Alert>, StoreError> {
    let mut found = Vec::new();
    silences(store, config, now, &mut found)?;
    pass_rate_drops(store, config, now, &mut found)?;
    policy_changes(store, now, &mut found)?;
    let mut raised = Vec::new();
    for alert in found {
        let details = alert.document();
        let recorded = store.record_once(&OnceAlert {
            created_at: alert.created_at,
            kind: alert.kind.as_str(),
            policy_domain: &alert.policy_domain,
            subject: alert.subject.as_deref(),
            occasion: &alert.occasion,
            details: &details,
        })?;
        if recorded {
            raised.push(Alert::Watch(alert));
        }
    }
    Ok(raised)
}

fn silences(
    store: &Store,
    config: &AlertsConfig,
    now: i64,
    found: &mut Vec<WatchAlert>,
) -> Result<(), StoreError> {
    let reporters =
        store.silent_reporters(now, config.silence_min_days, config.silence_after_hours)?;
    // A domain's silence is news only if someone reported it regularly:
    // then every regular reporter of it is silent too.
    let regular: HashSet<&str> = reporters.iter().map(|r| r.policy_domain.as_str()).collect();
    for domain in store.silent_domains(now, config.silence_after_hours)? {
        if !regular.contains(domain.policy_domain.as_str()) {
            continue;
        }
        let mut fields = Map::new();
        fields.insert("last_report".into(), json!(rfc3339(domain.last_report)));
        fields.insert(
            "silent_hours".into(),
            json!((now - domain.last_report) / HOUR),
        );
        found.push(WatchAlert {
            kind: AlertKind::DomainSilent,
            subject: None,
            occasion: rfc3339(domain.last_report),
            fields,
            message: "no reports for the domain",
            created_at: now,
            policy_domain: domain.policy_domain,
        });
    }
    for reporter in reporters {
        let mut fields = Map::new();
        fields.insert("org_name".into(), json!(reporter.org_name));
        fields.insert("last_report".into(), json!(rfc3339(reporter.last_report)));
        fields.insert("days_reported".into(), json!(reporter.days_reported));
        fields.insert(
            "silent_hours".into(),
            json!((now - reporter.last_report) / HOUR),
        );
        found.push(WatchAlert {
            kind: AlertKind::ReporterSilent,
            subject: Some(reporter.org_name),
            occasion: rfc3339(reporter.last_report),
            fields,
            message: "a regular reporter went silent",
            created_at: now,
            policy_domain: reporter.policy_domain,
        });
    }
    Ok(())
}

/// Messages and passes of one approved list entry over a window.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    messages: i64,
    dmarc_pass: i64,
}

impl Tally {
    fn share(self) -> f64 {
        crate::insight::share(self.dmarc_pass, self.messages)
    }
}

/// Per (domain, list entry): what the approved sources it covers sent, and
/// the entry's name.
type Tallies = BTreeMap<(String, String), (Tally, Option<String>)>;

/// [`Tallies`] over `scope`.
fn approved_tallies(store: &Store, scope: &Scope) -> Result<Tallies, StoreError> {
    let mut tallies = Tallies::new();
    for source in sources(store, scope, None)? {
        let (SourceStanding::Approved, Some(entry)) = (source.standing, source.list_entry) else {
            continue;
        };
        let (tally, _) = tallies
            .entry((source.policy_domain, entry))
            .or_insert((Tally::default(), source.approved_as));
        tally.messages += source.figures.messages;
        tally.dmarc_pass += source.figures.dmarc_pass;
    }
    Ok(tallies)
}

fn pass_rate_drops(
    store: &Store,
    config: &AlertsConfig,
    now: i64,
    found: &mut Vec<WatchAlert>,
) -> Result<(), StoreError> {
    if store.approved_sources()?.is_empty() {
        return Ok(());
    }
    let bucket = now.div_euclid(RECENT_DAYS * DAY) * RECENT_DAYS * DAY;
    let recent = Scope {
        since: Some(now - RECENT_DAYS * DAY),
        until: Some(now),
        ..Scope::default()
    };
    let baseline = Scope {
        since: Some(now - (RECENT_DAYS + BASELINE_DAYS) * DAY),
        until: Some(now - RECENT_DAYS * DAY),
        ..Scope::default()
    };
    let before = approved_tallies(store, &baseline)?;
    for ((policy_domain, entry), (now_tally, name)) in approved_tallies(store, &recent)? {
        let Some((then_tally, _)) = before.get(&(policy_domain.clone(), entry.clone())) else {
            continue;
        };
        let failing = now_tally.messages - now_tally.dmarc_pass;
        let drop = then_tally.share() - now_tally.share();
        if then_tally.messages == 0
            || u64::try_from(failing).unwrap_or(0) < config.min_failing_messages
            || drop < config.pass_rate_drop
        {
            continue;
        }
        let mut fields = Map::new();
        fields.insert("source".into(), json!(entry));
        fields.insert("name".into(), json!(name));
        fields.insert("before_share".into(), json!(round(then_tally.share())));
        fields.insert("recent_share".into(), json!(round(now_tally.share())));
        fields.insert("drop".into(), json!(round(drop)));
        fields.insert("recent_messages".into(), json!(now_tally.messages));
        fields.insert("recent_failing".into(), json!(failing));
        found.push(WatchAlert {
            kind: AlertKind::PassRateDrop,
            subject: Some(entry),
            // Once per entry and 2-day bucket of the calendar, however
            // often the check runs while the drop lasts.
            occasion: day(bucket),
            fields,
            message: "an approved source's DMARC pass share fell",
            created_at: now,
            policy_domain,
        });
    }
    Ok(())
}

/// The tags a change of which is news, with what an absent one means
/// (RFC 9989), so that reporters that leave defaults out and those that
/// write them in agree.
fn effective(policy: &PolicyPublished) -> PolicyPublished {
    let lower = |v: &Option<String>| v.as_ref().map(|v| v.trim().to_ascii_lowercase());
    let p = lower(&policy.p);
    let sp = lower(&policy.sp).or_else(|| p.clone());
    let np = lower(&policy.np).or_else(|| sp.clone());
    PolicyPublished {
        domain: policy.domain.clone(),
        adkim: lower(&policy.adkim).or_else(|| Some("r".into())),
        aspf: lower(&policy.aspf).or_else(|| Some("r".into())),
        p,
        sp,
        pct: None,
        fo: None,
        np,
        testing: lower(&policy.testing).or_else(|| Some("n".into())),
        discovery_method: None,
    }
}

fn policy_changes(store: &Store, now: i64, found: &mut Vec<WatchAlert>) -> Result<(), StoreError> {
    let window = Scope {
        since: Some(now - i64::from(SILENCE_WINDOW_DAYS) * DAY),
        until: Some(now),
        ..Scope::default()
    };
    let seen = store.policies_seen(&window)?;
    // Changes per domain, (from, to) → first seen, each reporter's reports
    // read in order: reporters that disagree (one with a stale cache) do
    // not look like a change back and forth.
    let mut changes: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for pair in seen.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.policy_domain != b.policy_domain || a.org_name != b.org_name {
            continue;
        }
        let (from, to) = (effective(&a.published), effective(&b.published));
        if from == to {
            continue;
        }
        let from = Policy::from_published(&from).record;
        let to = Policy::from_published(&to).record;
        let first = changes
            .entry((b.policy_domain.clone(), from, to))
            .or_insert(b.date_begin);
        *first = (*first).min(b.date_begin);
    }
    for ((policy_domain, from, to), since) in changes {
        let mut fields = Map::new();
        fields.insert("before".into(), json!(from));
        fields.insert("after".into(), json!(to));
        fields.insert("first_seen".into(), json!(rfc3339(since)));
        found.push(WatchAlert {
            kind: AlertKind::PolicyChanged,
            subject: None,
            occasion: format!("{from} -> {to}"),
            fields,
            message: "the published DMARC policy changed",
            created_at: now,
            policy_domain,
        });
    }
    Ok(())
}

fn round(share: f64) -> f64 {
    (share * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(tags: &[(&str, &str)]) -> PolicyPublished {
        let get = |name: &str| {
            tags.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        PolicyPublished {
            domain: "example.com".into(),
            adkim: get("adkim"),
            aspf: get("aspf"),
            p: get("p"),
            sp: get("sp"),
            pct: None,
            fo: None,
            np: get("np"),
            testing: get("t"),
            discovery_method: None,
        }
    }

    #[test]
    fn reporters_that_leave_defaults_out_agree_with_those_that_write_them() {
        let terse = effective(&published(&[("p", "reject")]));
        let full = effective(&published(&[
            ("p", "REJECT"),
            ("sp", "reject"),
            ("np", "reject"),
            ("adkim", "r"),
            ("aspf", "r"),
            ("t", "n"),
        ]));
        assert_eq!(terse, full);
        assert_ne!(
            terse,
            effective(&published(&[("p", "reject"), ("sp", "none")]))
        );
        assert_ne!(terse, effective(&published(&[("p", "reject"), ("t", "y")])));
    }
}
