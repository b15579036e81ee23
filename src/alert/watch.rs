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
use crate::i18n::{Lang, Messages};
use crate::insight::approved::SourceStanding;
use crate::insight::period::{day, rfc3339};
use crate::insight::render::printable;
use crate::insight::sources::sources;
use crate::insight::summary::Policy;
use crate::report::PolicyPublished;
use crate::store::{OnceAlert, Scope, Store, StoreError};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

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
                // Reporters choose these (org names): no control
                // character reaches a terminal tailing the log.
                Value::String(text) => format!("{name}={}", printable(text)),
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
        // At most one policy change a domain and day: the next waits for
        // tomorrow's check rather than flooding the webhook.
        if alert.kind == AlertKind::PolicyChanged
            && store.alerted_since(alert.kind.as_str(), &alert.policy_domain, now - DAY)?
        {
            continue;
        }
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

/// The list entry that approved each (domain, address) of a window.
type Approvals = HashMap<(String, String), (String, Option<String>)>;

/// [`Tallies`] over `scope`: each source the list approves now, and each
/// that `earlier` approved, by the same entry, whatever its results now: a
/// source approved by a domain whose signatures or SPF stopped passing
/// altogether no longer matches it, and is the worst drop of all.
fn approved_tallies(
    store: &Store,
    scope: &Scope,
    earlier: &Approvals,
) -> Result<(Tallies, Approvals), StoreError> {
    let mut tallies = Tallies::new();
    let mut approvals = Approvals::new();
    // Only the standings are read here, never the diagnoses' sentences.
    let messages = Messages::new(Lang::En);
    for source in sources(store, scope, None, &messages)? {
        let key = (source.policy_domain.clone(), source.source_ip.clone());
        let entry = match (source.standing, source.list_entry) {
            (SourceStanding::Approved, Some(entry)) => Some((entry, source.approved_as)),
            (SourceStanding::Denied, _) => None,
            _ => earlier.get(&key).cloned(),
        };
        let Some((entry, name)) = entry else { continue };
        approvals.insert(key, (entry.clone(), name.clone()));
        let (tally, _) = tallies
            .entry((source.policy_domain, entry))
            .or_insert((Tally::default(), name));
        tally.messages += source.figures.messages;
        tally.dmarc_pass += source.figures.dmarc_pass;
    }
    Ok((tallies, approvals))
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
    let (before, approved_before) = approved_tallies(store, &baseline, &Approvals::new())?;
    let (recent, _) = approved_tallies(store, &recent, &approved_before)?;
    for ((policy_domain, entry), (now_tally, name)) in recent {
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
/// write them in agree. None when a tag holds a value no DMARC record can
/// have: such a report says nothing about the policy (and a stranger
/// cannot mint endless "changes" of made-up values).
fn effective(policy: &PolicyPublished) -> Option<PolicyPublished> {
    fn tag(value: &Option<String>, allowed: &[&str]) -> Result<Option<String>, ()> {
        match value.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v)),
            Some(_) => Err(()),
        }
    }
    const POLICIES: &[&str] = &["none", "quarantine", "reject"];
    const MODES: &[&str] = &["r", "s"];
    let p = tag(&policy.p, POLICIES).ok()??;
    let sp = tag(&policy.sp, POLICIES).ok()?.unwrap_or_else(|| p.clone());
    let np = tag(&policy.np, POLICIES)
        .ok()?
        .unwrap_or_else(|| sp.clone());
    Some(PolicyPublished {
        domain: policy.domain.clone(),
        adkim: Some(
            tag(&policy.adkim, MODES)
                .ok()?
                .unwrap_or_else(|| "r".into()),
        ),
        aspf: Some(tag(&policy.aspf, MODES).ok()?.unwrap_or_else(|| "r".into())),
        p: Some(p),
        sp: Some(sp),
        pct: None,
        fo: None,
        np: Some(np),
        testing: Some(
            tag(&policy.testing, &["y", "n"])
                .ok()?
                .unwrap_or_else(|| "n".into()),
        ),
        discovery_method: None,
    })
}

/// A change of one domain's policy, as the reports show it.
#[derive(Debug, Default)]
struct Change {
    /// The first report that showed the new policy after the old.
    first_seen: i64,
    /// Reporters whose reports showed it.
    reporters: HashSet<String>,
}

fn policy_changes(store: &Store, now: i64, found: &mut Vec<WatchAlert>) -> Result<(), StoreError> {
    let window = Scope {
        since: Some(now - i64::from(SILENCE_WINDOW_DAYS) * DAY),
        until: Some(now),
        ..Scope::default()
    };
    let reports = store.policies_seen(&window)?;
    let records: Vec<Option<String>> = reports
        .iter()
        .map(|r| effective(&r.published).map(|p| Policy::from_published(&p).record))
        .collect();
    // Reporters per domain, and per domain the reporters that showed each
    // policy.
    let mut reporters: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut showed: HashMap<(&str, &str), HashSet<String>> = HashMap::new();
    for (report, record) in reports.iter().zip(&records) {
        let Some(record) = record else { continue };
        reporters
            .entry(&report.policy_domain)
            .or_default()
            .insert(&report.org_name);
        showed
            .entry((&report.policy_domain, record))
            .or_default()
            .insert(report.org_name.clone());
    }
    // Changes per domain, (from, to), each reporter's reports read in
    // order: reporters that disagree (one with a stale cache) do not look
    // like a change back and forth.
    let mut changes: BTreeMap<(String, String, String), Change> = BTreeMap::new();
    let mut last: Option<(&str, &str, &str)> = None;
    for (report, record) in reports.iter().zip(&records) {
        let Some(record) = record.as_deref() else {
            continue;
        };
        let current = (
            report.policy_domain.as_str(),
            report.org_name.as_str(),
            record,
        );
        if let Some((domain, org, before)) = last
            && domain == current.0
            && org == current.1
            && before != record
        {
            let change = changes
                .entry((domain.to_owned(), before.to_owned(), record.to_owned()))
                .or_insert(Change {
                    first_seen: report.date_begin,
                    ..Change::default()
                });
            change.first_seen = change.first_seen.min(report.date_begin);
        }
        last = Some(current);
    }
    for ((policy_domain, from, to), mut change) in changes {
        // Believed once two reporters show the new policy, or every one
        // when the domain has a single reporter: one stranger among real
        // reporters cannot make a change up.
        let all = reporters
            .get(policy_domain.as_str())
            .map_or(0, HashSet::len);
        change.reporters = showed
            .get(&(policy_domain.as_str(), to.as_str()))
            .cloned()
            .unwrap_or_default();
        if change.reporters.len() < all.min(2) {
            continue;
        }
        let mut fields = Map::new();
        fields.insert("before".into(), json!(from));
        fields.insert("after".into(), json!(to));
        fields.insert("first_seen".into(), json!(rfc3339(change.first_seen)));
        fields.insert("reporters".into(), json!(change.reporters.len()));
        found.push(WatchAlert {
            kind: AlertKind::PolicyChanged,
            subject: None,
            occasion: format!("{from} -> {to} since {}", day(change.first_seen)),
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
        let terse = effective(&published(&[("p", "reject")])).unwrap();
        let full = effective(&published(&[
            ("p", "REJECT"),
            ("sp", "reject"),
            ("np", "reject"),
            ("adkim", "r"),
            ("aspf", "r"),
            ("t", "n"),
        ]))
        .unwrap();
        assert_eq!(terse, full);
        let other = |tags: &[(&str, &str)]| effective(&published(tags)).unwrap();
        assert_ne!(terse, other(&[("p", "reject"), ("sp", "none")]));
        assert_ne!(terse, other(&[("p", "reject"), ("t", "y")]));
    }

    #[test]
    fn values_no_record_can_have_say_nothing() {
        for tags in [
            vec![("p", "x1")],
            vec![],
            vec![("p", "reject"), ("sp", "maybe")],
            vec![("p", "reject"), ("adkim", "q")],
            vec![("p", "reject"), ("t", "yes")],
        ] {
            assert_eq!(effective(&published(&tags)), None, "{tags:?}");
        }
    }
}
