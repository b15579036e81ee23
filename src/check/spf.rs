//! `spf.record`, `spf.lookups`, `spf.traffic`, `spf.mail_from`: the SPF
//! record (RFC 7208), what evaluating it costs in DNS lookups, and how it
//! fits the sources the reports show.

use super::{Check, CheckId, Context, Status};
use crate::dns::{Answer, Resolver};
use crate::insight::count;
use crate::store::StoreError;
use mail_auth::common::parse::TxtRecordParser;
use mail_auth::spf::{Macro, Mechanism, Spf};
use std::collections::HashSet;
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
    None,
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
                [] => Record::None,
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
    /// Problems met on the way, one sentence each.
    problems: Vec<String>,
    /// A DNS failure that stopped the walk.
    failed: Option<String>,
    visited: HashSet<String>,
}

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
/// and returns the ranges it authorises, as far as they are known.
fn walk(
    resolver: &impl SpfDns,
    domain: &str,
    spf: &Spf,
    walk: &mut Walk,
    depth: usize,
) -> Vec<Range> {
    let mut ranges = Vec::new();
    for directive in spf.directives.iter() {
        if walk.failed.is_some() {
            break;
        }
        match &directive.mechanism {
            Mechanism::Ip4 { addr, mask } => ranges.push(Range::V4(u32::from(*addr), *mask)),
            Mechanism::Ip6 { addr, mask } => ranges.push(Range::V6(u128::from(*addr), *mask)),
            Mechanism::All => {}
            Mechanism::Include { macro_string } => {
                walk.lookups += 1;
                if let Some(target) = literal(macro_string, domain) {
                    ranges.extend(follow(resolver, &target, walk, depth, "include"));
                }
            }
            Mechanism::A { macro_string, .. } => {
                walk.lookups += 1;
                if let Some(target) = literal(macro_string, domain) {
                    match resolver.has_address(&target) {
                        Answer::Found(false) | Answer::None => walk.void += 1,
                        Answer::Failed(reason) => walk.failed = Some(format!("{target}: {reason}")),
                        Answer::Found(true) => {}
                    }
                }
            }
            Mechanism::Mx { macro_string, .. } => {
                walk.lookups += 1;
                if let Some(target) = literal(macro_string, domain) {
                    match resolver.mx(&target) {
                        Answer::None => walk.void += 1,
                        Answer::Failed(reason) => walk.failed = Some(format!("{target}: {reason}")),
                        Answer::Found(_) => {}
                    }
                }
            }
            Mechanism::Ptr { .. } => {
                walk.lookups += 1;
                walk.problems
                    .push(format!("{domain} uses ptr, which RFC 7208 says not to"));
            }
            Mechanism::Exists { .. } => walk.lookups += 1,
        }
    }
    if let Some(redirect) = &spf.redirect {
        walk.lookups += 1;
        if let Some(target) = literal(redirect, domain) {
            ranges.extend(follow(resolver, &target, walk, depth, "redirect"));
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
    if depth >= MAX_DEPTH || !walk.visited.insert(target.to_owned()) {
        walk.problems
            .push(format!("{how}:{target} loops or nests too deep"));
        return Vec::new();
    }
    match fetch(resolver, target) {
        Record::Found(_, spf) => self::walk(resolver, target, &spf, walk, depth + 1),
        Record::None => {
            walk.void += 1;
            walk.problems.push(format!(
                "{how}:{target} has no SPF record (a permanent error)"
            ));
            Vec::new()
        }
        Record::Several => {
            walk.problems
                .push(format!("{how}:{target} has more than one SPF record"));
            Vec::new()
        }
        Record::Broken(text) => {
            walk.problems
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
        Record::None => {
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
            let mut state = Walk::default();
            state.visited.insert(domain.to_owned());
            walk(resolver, domain, &spf, &mut state, 0);
            checks.push(lookups(&state));
            Some((spf, state.failed.is_none()))
        }
    };
    match (found, context.store) {
        (Some((spf, complete)), Some(store)) => {
            checks.push(traffic(context, store, domain, &spf, complete)?)
        }
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
    let mut notes = walk.problems.clone();
    if walk.lookups > MAX_LOOKUPS {
        status = Status::Fail;
    } else if walk.lookups >= NEAR_LOOKUPS {
        status = Status::Warn;
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
    spf: &Spf,
    complete: bool,
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
    // Remove: top-level ranges and includes no reported source falls in.
    let mut unused = Vec::new();
    for directive in spf.directives.iter() {
        let (label, term_ranges) = match &directive.mechanism {
            Mechanism::Ip4 { addr, mask } => (
                format!("ip4:{addr}/{}", mask.count_ones()),
                vec![Range::V4(u32::from(*addr), *mask)],
            ),
            Mechanism::Ip6 { addr, mask } => (
                format!("ip6:{addr}/{}", mask.count_ones()),
                vec![Range::V6(u128::from(*addr), *mask)],
            ),
            Mechanism::Include { macro_string } => {
                let Some(target) = literal(macro_string, domain) else {
                    continue;
                };
                let mut state = Walk::default();
                let term_ranges = follow(context.resolver, &target, &mut state, 0, "include");
                // Ranges not all known (a, mx, exists inside): not judged.
                if state.failed.is_some() || term_ranges.is_empty() {
                    continue;
                }
                (format!("include:{target}"), term_ranges)
            }
            _ => continue,
        };
        if !ips
            .iter()
            .any(|ip| term_ranges.iter().any(|r| r.contains(*ip)))
        {
            unused.push(label);
        }
    }
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
