//! `spf.record`, `spf.lookups`, `spf.traffic`, `spf.mail_from`: the SPF
//! record (RFC 7208), what evaluating it costs in DNS lookups, and how it
//! fits the sources the reports show.

use super::{Check, CheckId, Context, Status};
use crate::dns::{Answer, Resolver};
use crate::insight::count;
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

/// What walking a record and its includes found.
#[derive(Default)]
struct Walk {
    lookups: u32,
    void: u32,
    /// DNS queries made, against [`MAX_QUERIES`].
    queries: u32,
    /// What makes evaluation a permanent error (RFC 7208): one sentence each.
    errors: Vec<String>,
    /// What is allowed but unwise.
    problems: Vec<String>,
    /// A DNS failure that stopped the walk.
    failed: Option<String>,
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
            self.errors.push(format!(
                "evaluation needs more than {MAX_QUERIES} DNS queries; stopped there"
            ));
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
                        Answer::Failed(reason) => walk.failed = Some(format!("{target}: {reason}")),
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
                        Answer::Failed(reason) => walk.failed = Some(format!("{target}: {reason}")),
                        Answer::Found(_) => {}
                    }
                }
                None
            }
            Mechanism::Ptr { .. } => {
                walk.lookups += 1;
                walk.unknown_ranges = true;
                walk.problems
                    .push(format!("{domain} uses ptr, which RFC 7208 says not to"));
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
    if walk.path.iter().any(|name| name == target) {
        walk.errors
            .push(format!("{how}:{target} loops back on itself"));
        return Vec::new();
    }
    if depth >= MAX_DEPTH {
        walk.errors
            .push(format!("{how}:{target} nests more than {MAX_DEPTH} deep"));
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
            walk.errors
                .push(format!("{how}:{target} has no SPF record"));
            Vec::new()
        }
        Record::NoSpf => {
            walk.errors
                .push(format!("{how}:{target} has no SPF record"));
            Vec::new()
        }
        Record::Several => {
            walk.errors
                .push(format!("{how}:{target} has more than one SPF record"));
            Vec::new()
        }
        Record::Broken(text) => {
            walk.errors
                .push(format!("{how}:{target} has a broken SPF record: {text:?}"));
            Vec::new()
        }
        Record::Failed(reason) => {
            walk.failed = Some(format!("{target}: {reason}"));
            Vec::new()
        }
    }
}

pub fn checks(context: &Context<'_>, domain: &str) -> Result<Vec<Check>, StoreError> {
    let resolver = context.resolver;
    let mut checks = Vec::new();
    let found = match fetch(resolver, domain) {
        Record::Failed(reason) => {
            for id in [CheckId::SpfRecord, CheckId::SpfLookups, CheckId::SpfTraffic] {
                checks.push(Check::dns_error(id, domain, &reason));
            }
            checks.push(mail_from(context, domain)?);
            return Ok(checks);
        }
        Record::None | Record::NoSpf => {
            checks.push(
                Check::new(CheckId::SpfRecord, Status::Fail, format!("no v=spf1 record at {domain}"))
                    .fix(format!("publish TXT {domain} \"v=spf1 <your senders> -all\", or \"v=spf1 -all\" if it sends no mail")),
            );
            checks.push(Check::new(
                CheckId::SpfLookups,
                Status::Ok,
                "no record: no lookups",
            ));
            None
        }
        Record::Several => {
            checks.push(
                Check::new(
                    CheckId::SpfRecord,
                    Status::Fail,
                    format!(
                        "{domain} has more than one v=spf1 record: SPF fails with a permanent error"
                    ),
                )
                .fix("merge them into one record"),
            );
            checks.push(Check::new(
                CheckId::SpfLookups,
                Status::Fail,
                "not counted: no single record",
            ));
            None
        }
        Record::Broken(text) => {
            checks.push(
                Check::new(
                    CheckId::SpfRecord,
                    Status::Fail,
                    format!("{domain}: {text:?} does not parse as SPF (RFC 7208)"),
                )
                .fix("correct its syntax"),
            );
            checks.push(Check::new(
                CheckId::SpfLookups,
                Status::Fail,
                "not counted: the record does not parse",
            ));
            None
        }
        Record::Found(text, spf) => {
            checks.push(Check::new(
                CheckId::SpfRecord,
                Status::Ok,
                format!("{domain}: {text}"),
            ));
            let mut state = Walk {
                path: vec![domain.to_owned()],
                ..Walk::default()
            };
            walk(resolver, domain, &spf, &mut state, 0);
            checks.push(lookups(&state));
            Some(state)
        }
    };
    match (found, context.store) {
        (Some(state), Some(store)) => checks.push(traffic(context, store, domain, &state)?),
        (None, Some(store)) => {
            let missing = store.dkim_only_sources(domain, context.since)?;
            let mut check = Check::new(
                CheckId::SpfTraffic,
                Status::Ok,
                "no record to hold against the reports",
            );
            if !missing.is_empty() {
                check.message = format!(
                    "no record; sources passing DKIM but not SPF: {}",
                    named(&missing)
                );
            }
            checks.push(check);
        }
        (_, None) => checks.push(Check::new(
            CheckId::SpfTraffic,
            Status::Ok,
            "no store: traffic not checked",
        )),
    }
    checks.push(mail_from(context, domain)?);
    Ok(checks)
}

fn lookups(walk: &Walk) -> Check {
    let id = CheckId::SpfLookups;
    if let Some(reason) = &walk.failed {
        return Check::dns_error(id, reason, "while counting lookups");
    }
    let mut status = Status::Ok;
    let mut notes = walk.errors.clone();
    notes.extend(walk.problems.iter().cloned());
    if walk.lookups > MAX_LOOKUPS {
        status = Status::Fail;
        notes.push("receivers stop there with a permanent error".to_owned());
    } else if walk.lookups >= NEAR_LOOKUPS {
        status = Status::Warn;
    }
    if !walk.errors.is_empty() {
        status = Status::Fail;
    }
    if walk.void > MAX_VOID {
        status = Status::Fail;
        notes.push(format!(
            "{} void lookups, more than the {MAX_VOID} allowed",
            walk.void
        ));
    }
    if !walk.problems.is_empty() {
        status = status.max(Status::Warn);
    }
    if walk.queries > MAX_QUERIES {
        status = Status::Fail;
    }
    let mut message = format!(
        "{} of {MAX_LOOKUPS} DNS lookups, {} void",
        walk.lookups, walk.void
    );
    if !notes.is_empty() {
        message.push_str(&format!(" ({})", notes.join("; ")));
    }
    let check = Check::new(id, status, message);
    match status {
        Status::Fail | Status::Warn if walk.lookups >= NEAR_LOOKUPS => check.fix(
            "replace includes no reported source uses (see spf.traffic), or name the senders' \
             ranges with ip4:/ip6: instead of include:",
        ),
        Status::Fail | Status::Warn => check.fix("fix or remove the terms named"),
        _ => check,
    }
}

fn traffic(
    context: &Context<'_>,
    store: &crate::store::Store,
    domain: &str,
    walk: &Walk,
) -> Result<Check, StoreError> {
    let id = CheckId::SpfTraffic;
    let sources = store.domain_sources(domain, context.since)?;
    if sources.is_empty() {
        return Ok(Check::new(
            id,
            Status::Ok,
            "no reports in the period to hold the record against",
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
    let mut parts = vec![format!(
        "{} messages reported from {}",
        count(sources.iter().map(|s| s.messages).sum()),
        crate::insight::plural(sources.len() as i64, "source")
    )];
    let mut fixes = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("passing DKIM but not SPF: {}", named(&missing)));
        fixes.push("add those that are yours (their provider's include: or ranges)".to_owned());
    }
    if complete && !unused.is_empty() {
        parts.push(format!("no reported source matched {}", unused.join(", ")));
        fixes.push(format!(
            "consider removing {} if no mail of yours goes through them",
            unused.join(", ")
        ));
    }
    let status = if fixes.is_empty() {
        Status::Ok
    } else {
        Status::Warn
    };
    let mut check = Check::new(id, status, parts.join("; "));
    if !fixes.is_empty() {
        check = check.fix(fixes.join("; "));
    }
    Ok(check)
}

fn mail_from(context: &Context<'_>, domain: &str) -> Result<Check, StoreError> {
    let id = CheckId::SpfMailFrom;
    let Some(store) = context.store else {
        return Ok(Check::new(id, Status::Ok, "no store: traffic not checked"));
    };
    let foreign = store.foreign_spf_passes(domain, context.since)?;
    if foreign.is_empty() {
        return Ok(Check::new(
            id,
            Status::Ok,
            "SPF passes for no other envelope domain in the reports",
        ));
    }
    let named: Vec<String> = foreign
        .iter()
        .take(NAMED)
        .map(|f| {
            format!(
                "{} ({} from {})",
                f.domain,
                count(f.messages),
                crate::insight::plural(f.sources, "source")
            )
        })
        .collect();
    Ok(Check::new(
        id,
        Status::Warn,
        format!("SPF passes only for another domain's envelope: {}; it cannot align with {domain}", named.join(", ")),
    )
    .fix(format!(
        "give those senders a custom MAIL FROM domain under {domain} (Amazon SES: a \"custom MAIL FROM domain\" such as bounce.{domain}, with its MX and SPF records)"
    )))
}

/// The first few sources, with their messages.
fn named(sources: &[crate::store::SourceSeen]) -> String {
    let mut text: Vec<String> = sources
        .iter()
        .take(NAMED)
        .map(|s| format!("{} ({})", s.source_ip, count(s.messages)))
        .collect();
    if sources.len() > NAMED {
        text.push(format!("{} more", sources.len() - NAMED));
    }
    text.join(", ")
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
        assert_eq!(looped.errors, ["include:loop.example loops back on itself"]);
        // With all, the redirect is never reached: no lookup.
        assert_eq!(walked(&zone, "all.example").lookups, 0);
        let missing = walked(&zone, "missing.example");
        assert_eq!(
            missing.errors,
            ["include:nowhere.example has no SPF record"]
        );
        assert_eq!(lookups(&missing).status, Status::Fail);
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
        assert_eq!(lookups(&state).status, Status::Fail);
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
