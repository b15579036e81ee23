//! `spf.record`, `spf.lookups`, `spf.traffic`, `spf.mail_from`: the SPF
//! record (RFC 7208), what evaluating it costs in DNS lookups, and how it
//! fits the sources the reports show.

use super::{Check, CheckId, Context, Status, arg, list, notes};
use crate::dns::{Answer, Resolver};
use crate::i18n::{FluentValue, Messages};
use crate::store::StoreError;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::{Macro, Mechanism, Spf};
use std::net::IpAddr;

/// DNS-querying terms one evaluation may use (RFC 7208 §4.6.4).
const MAX_LOOKUPS: u32 = 10;
/// From this many on, a record is near the limit.
const NEAR_LOOKUPS: u32 = 8;
/// Lookups that may find nothing (void lookups, RFC 7208 §4.6.4).
const MAX_VOID: u32 = 2;
/// Includes followed at most, deep: a loop or a very long chain stops here.
const MAX_DEPTH: usize = 10;
/// Sources named at most in a message.
const NAMED: usize = 5;

/// The SPF record of a name, as found.
enum Record {
    Found(String, Spf),
    /// No TXT record at all: a void lookup.
    None,
    /// TXT records, none of them SPF.
    NoSpf,
    Several,
    Broken(String),
    Failed(String),
}

/// The lookups SPF evaluation makes: the resolver, or a table in the
/// unit tests.
trait SpfDns {
    fn txt(&self, name: &str) -> Answer<Vec<String>>;
    fn has_address(&self, name: &str) -> Answer<bool>;
    fn mx(&self, name: &str) -> Answer<Vec<(u16, String)>>;
}

impl SpfDns for Resolver {
    fn txt(&self, name: &str) -> Answer<Vec<String>> {
        Resolver::txt(self, name)
    }

    fn has_address(&self, name: &str) -> Answer<bool> {
        Resolver::has_address(self, name)
    }

    fn mx(&self, name: &str) -> Answer<Vec<(u16, String)>> {
        Resolver::mx(self, name)
    }
}

fn fetch(resolver: &impl SpfDns, name: &str) -> Record {
    match resolver.txt(name) {
        Answer::Failed(reason) => Record::Failed(reason),
        Answer::None => Record::None,
        Answer::Found(texts) => {
            let records: Vec<&String> = texts.iter().filter(|t| is_spf(t)).collect();
            match records.as_slice() {
                [] => Record::NoSpf,
                [one] => match Spf::parse(one.as_bytes()) {
                    Ok(spf) => Record::Found((*one).clone(), spf),
                    Err(_) => Record::Broken((*one).clone()),
                },
                _ => Record::Several,
            }
        }
    }
}

fn is_spf(text: &str) -> bool {
    let lower = text.trim_start().to_ascii_lowercase();
    lower == "v=spf1" || lower.starts_with("v=spf1 ")
}

/// An address range a record authorises.
#[derive(Debug, Clone, Copy)]
enum Range {
    V4(u32, u32),
    V6(u128, u128),
}

impl Range {
    fn contains(self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Range::V4(addr, mask), IpAddr::V4(ip)) => u32::from(ip) & mask == addr & mask,
            (Range::V6(addr, mask), IpAddr::V6(ip)) => u128::from(ip) & mask == addr & mask,
            _ => false,
        }
    }
}

/// What makes evaluation a permanent error (RFC 7208), or is allowed but
/// unwise: found while walking, put in words by [`Finding::describe`] once
/// the check is written, in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Finding {
    /// More DNS queries than [`MAX_QUERIES`]: the walk stopped.
    TooManyQueries,
    /// `include:x` or `redirect=x` met again on its own path.
    Loop(String),
    /// An include deeper than [`MAX_DEPTH`].
    TooDeep(String),
    /// The term's target has no SPF record.
    NoRecord(String),
    Several(String),
    /// The term, and the record that does not parse (quoted).
    Broken(String, String),
    /// The domain whose record uses `ptr`.
    Ptr(String),
}

impl Finding {
    fn describe(&self, messages: &Messages) -> String {
        let (id, term, extra) = match self {
            Finding::TooManyQueries => ("check-spf-too-many-queries", "", ""),
            Finding::Loop(term) => ("check-spf-loop", term.as_str(), ""),
            Finding::TooDeep(term) => ("check-spf-too-deep", term.as_str(), ""),
            Finding::NoRecord(term) => ("check-spf-target-no-record", term.as_str(), ""),
            Finding::Several(term) => ("check-spf-target-several", term.as_str(), ""),
            Finding::Broken(term, record) => {
                ("check-spf-target-broken", term.as_str(), record.as_str())
            }
            Finding::Ptr(domain) => ("check-spf-ptr", domain.as_str(), ""),
        };
        let max = match self {
            Finding::TooDeep(_) => MAX_DEPTH as i64,
            _ => i64::from(MAX_QUERIES),
        };
        let args = [
            ("term", arg(term)),
            ("record", arg(extra)),
            ("max", FluentValue::from(max)),
        ];
        messages.format(id, &args)
    }
}

/// What walking a record and its includes found.
#[derive(Default)]
struct Walk {
    lookups: u32,
    void: u32,
    /// DNS queries made, against [`MAX_QUERIES`].
    queries: u32,
    /// What makes evaluation a permanent error (RFC 7208).
    errors: Vec<Finding>,
    /// What is allowed but unwise.
    problems: Vec<Finding>,
    /// A DNS failure that stopped the walk: the name, and the resolver's
    /// reason.
    failed: Option<(String, String)>,
    /// The names being evaluated, outermost first: a loop is a name met
    /// again on its own path (the same include on two paths counts twice,
    /// as receivers count it).
    path: Vec<String>,
    /// Whether the terms walked so far authorise addresses the walk cannot
    /// know (`a`, `mx`, `ptr`, `exists`, macros).
    unknown_ranges: bool,
    /// The record's own top-level `ip4`, `ip6` and `include` terms: a label,
    /// their ranges, and whether all of them are known.
    terms: Vec<(String, Vec<Range>, bool)>,
}

impl Walk {
    /// Whether evaluation has stopped: a DNS failure, or past the limits.
    fn stopped(&self) -> bool {
        self.failed.is_some() || self.lookups > MAX_LOOKUPS || self.queries > MAX_QUERIES
    }

    /// Counts a query; false (and evaluation stops) past the budget.
    fn query(&mut self) -> bool {
        self.queries += 1;
        if self.queries > MAX_QUERIES {
            self.errors.push(Finding::TooManyQueries);
            return false;
        }
        true
    }
}

/// DNS queries one walk makes at most, whatever the records say: a
/// hostile zone (the domain's own, or one it includes) cannot make it work
/// without end.
const MAX_QUERIES: u32 = 40;

/// The literal domain of a macro, `default` for none; `None` for one that
/// needs the message to expand (its lookups are counted, its ranges unknown).
fn literal(macro_string: &Macro, default: &str) -> Option<String> {
    match macro_string {
        Macro::None => Some(default.to_owned()),
        Macro::Literal(bytes) => Some(String::from_utf8_lossy(bytes).to_ascii_lowercase()),
        _ => None,
    }
}

/// Counts the lookups of `spf` (the record of `domain`) and its includes,
/// and returns the ranges it authorises, as far as they are known. Stops,
/// as evaluation does, past ten lookups.
fn walk(
    resolver: &impl SpfDns,
    domain: &str,
    spf: &Spf,
    walk: &mut Walk,
    depth: usize,
) -> Vec<Range> {
    let mut ranges = Vec::new();
    let mut has_all = false;
    for directive in spf.directives.iter() {
        if walk.stopped() {
            return ranges;
        }
        let unknown_before = walk.unknown_ranges;
        let term = match &directive.mechanism {
            Mechanism::Ip4 { addr, mask } => {
                let range = Range::V4(u32::from(*addr), *mask);
                ranges.push(range);
                Some((format!("ip4:{addr}/{}", mask.count_ones()), vec![range]))
            }
            Mechanism::Ip6 { addr, mask } => {
                let range = Range::V6(u128::from(*addr), *mask);
                ranges.push(range);
                Some((format!("ip6:{addr}/{}", mask.count_ones()), vec![range]))
            }
            Mechanism::All => {
                has_all = true;
                None
            }
            Mechanism::Include { macro_string } => {
                walk.lookups += 1;
                match literal(macro_string, domain) {
                    Some(target) => {
                        walk.unknown_ranges = false;
                        let found = follow(resolver, &target, walk, depth, "include");
                        ranges.extend(found.iter().copied());
                        Some((format!("include:{target}"), found))
                    }
                    None => {
                        walk.unknown_ranges = true;
                        None
                    }
                }
            }
            Mechanism::A { macro_string, .. } => {
                walk.lookups += 1;
                walk.unknown_ranges = true;
                if let Some(target) = literal(macro_string, domain)
                    && walk.query()
                {
                    match resolver.has_address(&target) {
                        Answer::Found(false) | Answer::None => walk.void += 1,
                        Answer::Failed(reason) => walk.failed = Some((target.to_owned(), reason)),
                        Answer::Found(true) => {}
                    }
                }
                None
            }
            Mechanism::Mx { macro_string, .. } => {
                walk.lookups += 1;
                walk.unknown_ranges = true;
                if let Some(target) = literal(macro_string, domain)
                    && walk.query()
                {
                    match resolver.mx(&target) {
                        Answer::None => walk.void += 1,
                        Answer::Failed(reason) => walk.failed = Some((target.to_owned(), reason)),
                        Answer::Found(_) => {}
                    }
                }
                None
            }
            Mechanism::Ptr { .. } => {
                walk.lookups += 1;
                walk.unknown_ranges = true;
                walk.problems.push(Finding::Ptr(domain.to_owned()));
                None
            }
            Mechanism::Exists { .. } => {
                walk.lookups += 1;
                walk.unknown_ranges = true;
                None
            }
        };
        if depth == 0
            && let Some((label, term_ranges)) = term
        {
            // An include's own unknown terms leave its ranges unjudged.
            let known = !walk.unknown_ranges || label.starts_with("ip");
            walk.terms.push((label, term_ranges, known));
        }
        walk.unknown_ranges |= unknown_before;
    }
    // With `all`, a redirect is never reached (RFC 7208 §6.1).
    if let Some(redirect) = &spf.redirect
        && !has_all
        && !walk.stopped()
    {
        walk.lookups += 1;
        match literal(redirect, domain) {
            Some(target) => ranges.extend(follow(resolver, &target, walk, depth, "redirect")),
            None => walk.unknown_ranges = true,
        }
    }
    ranges
}

fn follow(
    resolver: &impl SpfDns,
    target: &str,
    walk: &mut Walk,
    depth: usize,
    how: &str,
) -> Vec<Range> {
    let term = format!("{how}:{target}");
    if walk.path.iter().any(|name| name == target) {
        walk.errors.push(Finding::Loop(term));
        return Vec::new();
    }
    if depth >= MAX_DEPTH {
        walk.errors.push(Finding::TooDeep(term));
        return Vec::new();
    }
    if walk.stopped() || !walk.query() {
        return Vec::new();
    }
    match fetch(resolver, target) {
        Record::Found(_, spf) => {
            walk.path.push(target.to_owned());
            let ranges = self::walk(resolver, target, &spf, walk, depth + 1);
            walk.path.pop();
            ranges
        }
        Record::None => {
            walk.void += 1;
            walk.errors.push(Finding::NoRecord(term));
            Vec::new()
        }
        Record::NoSpf => {
            walk.errors.push(Finding::NoRecord(term));
            Vec::new()
        }
        Record::Several => {
            walk.errors.push(Finding::Several(term));
            Vec::new()
        }
        Record::Broken(text) => {
            walk.errors.push(Finding::Broken(term, format!("{text:?}")));
            Vec::new()
        }
        Record::Failed(reason) => {
            walk.failed = Some((target.to_owned(), reason));
            Vec::new()
        }
    }
}

pub fn checks(context: &Context<'_>, domain: &str) -> Result<Vec<Check>, StoreError> {
    let (resolver, messages) = (context.resolver, context.messages);
    let mut checks = Vec::new();
    let text = |id: &str| messages.text(id);
    let with_domain = |id: &str| messages.format(id, &[("domain", arg(domain))]);
    let found = match fetch(resolver, domain) {
        Record::Failed(reason) => {
            for id in [CheckId::SpfRecord, CheckId::SpfLookups, CheckId::SpfTraffic] {
                checks.push(Check::dns_error(id, domain, &reason, messages));
            }
            checks.push(mail_from(context, domain)?);
            return Ok(checks);
        }
        Record::None | Record::NoSpf => {
            checks.push(
                Check::new(
                    CheckId::SpfRecord,
                    Status::Fail,
                    with_domain("check-spf-no-record"),
                )
                .fix(with_domain("check-spf-no-record-fix")),
            );
            checks.push(Check::new(
                CheckId::SpfLookups,
                Status::Ok,
                text("check-spf-no-record-lookups"),
            ));
            None
        }
        Record::Several => {
            checks.push(
                Check::new(
                    CheckId::SpfRecord,
                    Status::Fail,
                    with_domain("check-spf-several"),
                )
                .fix(text("check-spf-several-fix")),
            );
            checks.push(Check::new(
                CheckId::SpfLookups,
                Status::Fail,
                text("check-spf-several-lookups"),
            ));
            None
        }
        Record::Broken(record) => {
            let record = format!("{record:?}");
            let args = [("domain", arg(domain)), ("record", arg(&record))];
            checks.push(
                Check::new(
                    CheckId::SpfRecord,
                    Status::Fail,
                    messages.format("check-spf-broken", &args),
                )
                .fix(text("check-spf-broken-fix")),
            );
            checks.push(Check::new(
                CheckId::SpfLookups,
                Status::Fail,
                text("check-spf-broken-lookups"),
            ));
            None
        }
        Record::Found(record, spf) => {
            let args = [("domain", arg(domain)), ("record", arg(&record))];
            checks.push(Check::new(
                CheckId::SpfRecord,
                Status::Ok,
                messages.format("check-spf-record", &args),
            ));
            let mut state = Walk {
                path: vec![domain.to_owned()],
                ..Walk::default()
            };
            walk(resolver, domain, &spf, &mut state, 0);
            checks.push(lookups(&state, messages));
            Some(state)
        }
    };
    match (found, context.store) {
        (Some(state), Some(store)) => checks.push(traffic(context, store, domain, &state)?),
        (None, Some(store)) => {
            let missing = store.dkim_only_sources(domain, context.since)?;
            let message = if missing.is_empty() {
                text("check-spf-traffic-no-record")
            } else {
                let sources = named(messages, &missing);
                messages.format(
                    "check-spf-traffic-no-record-missing",
                    &[("sources", arg(&sources))],
                )
            };
            checks.push(Check::new(CheckId::SpfTraffic, Status::Ok, message));
        }
        (_, None) => checks.push(Check::new(
            CheckId::SpfTraffic,
            Status::Ok,
            text("check-no-store"),
        )),
    }
    checks.push(mail_from(context, domain)?);
    Ok(checks)
}

fn lookups(walk: &Walk, messages: &Messages) -> Check {
    let id = CheckId::SpfLookups;
    if let Some((name, reason)) = &walk.failed {
        let args = [("name", arg(name)), ("reason", arg(reason))];
        return Check::new(
            id,
            Status::Error,
            messages.format("check-spf-lookups-no-answer", &args),
        )
        .fix(messages.text("check-dns-error-fix"));
    }
    let mut status = Status::Ok;
    let mut notes: Vec<String> = walk
        .errors
        .iter()
        .chain(&walk.problems)
        .map(|finding| finding.describe(messages))
        .collect();
    if walk.lookups > MAX_LOOKUPS {
        status = Status::Fail;
        notes.push(messages.text("check-spf-lookups-permanent-error"));
    } else if walk.lookups >= NEAR_LOOKUPS {
        status = Status::Warn;
    }
    if !walk.errors.is_empty() {
        status = Status::Fail;
    }
    if walk.void > MAX_VOID {
        status = Status::Fail;
        let args = [
            ("void", FluentValue::from(walk.void)),
            ("max", FluentValue::from(MAX_VOID)),
        ];
        notes.push(messages.format("check-spf-lookups-too-many-void", &args));
    }
    if !walk.problems.is_empty() {
        status = status.max(Status::Warn);
    }
    if walk.queries > MAX_QUERIES {
        status = Status::Fail;
    }
    let notes = self::notes(messages, &notes);
    let args = [
        ("lookups", FluentValue::from(walk.lookups)),
        ("max", FluentValue::from(MAX_LOOKUPS)),
        ("void", FluentValue::from(walk.void)),
        ("notes", arg(&notes)),
    ];
    let message = if notes.is_empty() {
        "check-spf-lookups"
    } else {
        "check-spf-lookups-notes"
    };
    let check = Check::new(id, status, messages.format(message, &args));
    match status {
        Status::Fail | Status::Warn if walk.lookups >= NEAR_LOOKUPS => {
            check.fix(messages.text("check-spf-lookups-fix-many"))
        }
        Status::Fail | Status::Warn => check.fix(messages.text("check-spf-lookups-fix-terms")),
        _ => check,
    }
}

fn traffic(
    context: &Context<'_>,
    store: &crate::store::Store,
    domain: &str,
    walk: &Walk,
) -> Result<Check, StoreError> {
    let messages = context.messages;
    let id = CheckId::SpfTraffic;
    let sources = store.domain_sources(domain, context.since)?;
    if sources.is_empty() {
        return Ok(Check::new(
            id,
            Status::Ok,
            messages.text("check-spf-traffic-no-reports"),
        ));
    }
    let ips: Vec<IpAddr> = sources
        .iter()
        .filter_map(|s| s.source_ip.parse().ok())
        .collect();
    // Add: sources that pass aligned DKIM but fail SPF.
    let missing = store.dkim_only_sources(domain, context.since)?;
    // Remove: top-level ranges and includes no reported source falls in,
    // judged only where all their ranges are known.
    let complete = !walk.stopped() && walk.errors.is_empty();
    let unused: Vec<&str> = walk
        .terms
        .iter()
        .filter(|(_, ranges, known)| *known && !ranges.is_empty())
        .filter(|(_, ranges, _)| !ips.iter().any(|ip| ranges.iter().any(|r| r.contains(*ip))))
        .map(|(label, _, _)| label.as_str())
        .collect();
    let total: i64 = sources.iter().map(|s| s.messages).sum();
    let args = [
        ("messages", FluentValue::from(total)),
        ("sources", FluentValue::from(sources.len() as i64)),
    ];
    let mut parts = vec![messages.format("check-spf-traffic-reported", &args)];
    let mut fixes = Vec::new();
    if !missing.is_empty() {
        let sources = named(messages, &missing);
        let args = [("sources", arg(&sources))];
        parts.push(messages.format("check-spf-traffic-missing", &args));
        fixes.push(messages.text("check-spf-traffic-missing-fix"));
    }
    if complete && !unused.is_empty() {
        let terms = list(messages, &unused);
        let args = [("terms", arg(&terms))];
        parts.push(messages.format("check-spf-traffic-unused", &args));
        fixes.push(messages.format("check-spf-traffic-unused-fix", &args));
    }
    let status = if fixes.is_empty() {
        Status::Ok
    } else {
        Status::Warn
    };
    let mut check = Check::new(id, status, notes(messages, &parts));
    if !fixes.is_empty() {
        check = check.fix(notes(messages, &fixes));
    }
    Ok(check)
}

fn mail_from(context: &Context<'_>, domain: &str) -> Result<Check, StoreError> {
    let messages = context.messages;
    let id = CheckId::SpfMailFrom;
    let Some(store) = context.store else {
        return Ok(Check::new(id, Status::Ok, messages.text("check-no-store")));
    };
    let foreign = store.foreign_spf_passes(domain, context.since)?;
    if foreign.is_empty() {
        return Ok(Check::new(
            id,
            Status::Ok,
            messages.text("check-spf-mail-from-none"),
        ));
    }
    let named: Vec<String> = foreign
        .iter()
        .take(NAMED)
        .map(|f| {
            let args = [
                ("envelope", arg(&f.domain)),
                ("messages", FluentValue::from(f.messages)),
                ("sources", FluentValue::from(f.sources)),
            ];
            messages.format("check-spf-mail-from-envelope", &args)
        })
        .collect();
    let envelopes = list(messages, &named);
    let args = [("envelopes", arg(&envelopes)), ("domain", arg(domain))];
    Ok(Check::new(
        id,
        Status::Warn,
        messages.format("check-spf-mail-from", &args),
    )
    .fix(messages.format("check-spf-mail-from-fix", &args)))
}

/// The first few sources, with their messages.
fn named(messages: &Messages, sources: &[crate::store::SourceSeen]) -> String {
    let mut text: Vec<String> = sources
        .iter()
        .take(NAMED)
        .map(|s| {
            let args = [
                ("ip", arg(&s.source_ip)),
                ("messages", FluentValue::from(s.messages)),
            ];
            messages.format("check-source-messages", &args)
        })
        .collect();
    if sources.len() > NAMED {
        let more = (sources.len() - NAMED) as i64;
        text.push(messages.format("check-more", &[("count", FluentValue::from(more))]));
    }
    list(messages, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A zone in a table: TXT records, names with addresses, MX hosts.
    #[derive(Default)]
    struct Zone {
        txt: HashMap<&'static str, &'static str>,
        addresses: Vec<&'static str>,
        mx: Vec<&'static str>,
    }

    impl SpfDns for Zone {
        fn txt(&self, name: &str) -> Answer<Vec<String>> {
            match self.txt.get(name) {
                Some(text) => Answer::Found(vec![(*text).to_owned()]),
                None => Answer::None,
            }
        }

        fn has_address(&self, name: &str) -> Answer<bool> {
            Answer::Found(self.addresses.contains(&name))
        }

        fn mx(&self, name: &str) -> Answer<Vec<(u16, String)>> {
            if self.mx.contains(&name) {
                Answer::Found(vec![(10, format!("mx.{name}"))])
            } else {
                Answer::None
            }
        }
    }

    fn count(zone: &Zone, domain: &str) -> (u32, u32) {
        let Record::Found(_, spf) = fetch(zone, domain) else {
            panic!("no record at {domain}");
        };
        let mut state = Walk::default();
        walk(zone, domain, &spf, &mut state, 0);
        (state.lookups, state.void)
    }

    #[test]
    fn lookups_are_counted_as_rfc_7208_counts_them() {
        // The shapes of RFC 7208's appendix A, in our own zone: addresses
        // cost nothing; a, mx, include, exists, ptr and redirect one each,
        // and what an include or redirect does counts on.
        let zone = Zone {
            txt: HashMap::from([
                ("example.com", "v=spf1 +mx a:colo.example.com/28 -all"),
                (
                    "ranges.example",
                    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all",
                ),
                (
                    "outer.example",
                    "v=spf1 include:example.com include:ranges.example -all",
                ),
                ("moved.example", "v=spf1 redirect=example.com"),
                (
                    "macro.example",
                    "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
                ),
                (
                    "void.example",
                    "v=spf1 a:nx.void.example mx:nx.void.example -all",
                ),
            ]),
            addresses: vec!["colo.example.com"],
            mx: vec!["example.com"],
        };
        assert_eq!(count(&zone, "example.com"), (2, 0));
        assert_eq!(count(&zone, "ranges.example"), (0, 0));
        assert_eq!(count(&zone, "outer.example"), (4, 0));
        assert_eq!(count(&zone, "moved.example"), (3, 0));
        assert_eq!(count(&zone, "macro.example"), (1, 0));
        assert_eq!(count(&zone, "void.example"), (2, 2));
    }

    fn walked(zone: &Zone, domain: &str) -> Walk {
        let Record::Found(_, spf) = fetch(zone, domain) else {
            panic!("no record at {domain}");
        };
        let mut state = Walk {
            path: vec![domain.to_owned()],
            ..Walk::default()
        };
        walk(zone, domain, &spf, &mut state, 0);
        state
    }

    #[test]
    fn an_include_on_two_paths_counts_twice_and_errors_are_errors() {
        let zone = Zone {
            txt: HashMap::from([
                (
                    "twice.example",
                    "v=spf1 include:a.example include:b.example -all",
                ),
                ("a.example", "v=spf1 include:c.example -all"),
                ("b.example", "v=spf1 include:c.example -all"),
                ("c.example", "v=spf1 ip4:192.0.2.1 -all"),
                ("loop.example", "v=spf1 include:loop.example -all"),
                ("all.example", "v=spf1 -all redirect=c.example"),
                ("missing.example", "v=spf1 include:nowhere.example -all"),
            ]),
            ..Zone::default()
        };
        let twice = walked(&zone, "twice.example");
        assert_eq!(
            (twice.lookups, twice.errors.len()),
            (4, 0),
            "{:?}",
            twice.errors
        );
        let looped = walked(&zone, "loop.example");
        assert_eq!(
            looped.errors,
            [Finding::Loop("include:loop.example".into())]
        );
        // With all, the redirect is never reached: no lookup.
        assert_eq!(walked(&zone, "all.example").lookups, 0);
        let missing = walked(&zone, "missing.example");
        assert_eq!(
            missing.errors,
            [Finding::NoRecord("include:nowhere.example".into())]
        );
        let english = Messages::new(crate::i18n::Lang::En);
        let check = lookups(&missing, &english);
        assert_eq!(check.status, Status::Fail);
        assert_eq!(
            check.message,
            "1 of 10 DNS lookups, 1 void (include:nowhere.example has no SPF record)"
        );
    }

    #[test]
    fn a_hostile_zone_cannot_make_the_walk_endless() {
        // Every include names two more: the walk stops at its budgets.
        struct Endless;
        impl SpfDns for Endless {
            fn txt(&self, name: &str) -> Answer<Vec<String>> {
                Answer::Found(vec![format!(
                    "v=spf1 include:l.{name} include:r.{name} -all"
                )])
            }
            fn has_address(&self, _: &str) -> Answer<bool> {
                Answer::Found(true)
            }
            fn mx(&self, _: &str) -> Answer<Vec<(u16, String)>> {
                Answer::None
            }
        }
        let Record::Found(_, spf) = fetch(&Endless, "x.example") else {
            panic!()
        };
        let mut state = Walk::default();
        walk(&Endless, "x.example", &spf, &mut state, 0);
        assert!(state.queries <= MAX_QUERIES + 1, "{}", state.queries);
        assert!(state.lookups <= MAX_LOOKUPS + 2, "{}", state.lookups);
        let check = lookups(&state, &Messages::new(crate::i18n::Lang::Ja));
        assert_eq!(check.status, Status::Fail);
        // In Japanese too: the count against the limit, and why it stopped.
        assert!(
            check
                .message
                .starts_with("DNSルックアップは11回（上限10回）")
                && check.message.contains("恒久的エラー（permerror）"),
            "{}",
            check.message
        );
    }

    #[test]
    fn ranges_hold_addresses() {
        let v4 = Range::V4(
            u32::from(std::net::Ipv4Addr::new(192, 0, 2, 0)),
            u32::MAX << 8,
        );
        assert!(v4.contains("192.0.2.77".parse().unwrap()));
        assert!(!v4.contains("192.0.3.1".parse().unwrap()));
        assert!(!v4.contains("2001:db8::1".parse().unwrap()));
    }
}
