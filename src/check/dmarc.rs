//! `dmarc.record`, `dmarc.policy`, `dmarc.rua`: the DMARC record, found by
//! the RFC 9989 tree walk, read as DMARCbis reads it.

use super::tags::Tags;
use super::{Check, CheckId, Status};
use crate::auth::aligned;
use crate::dns::{Answer, Resolver};

/// The tags DMARCbis defines (RFC 9989 §4.7).
const KNOWN: [&str; 12] = [
    "v", "p", "sp", "np", "psd", "t", "adkim", "aspf", "rua", "ruf", "fo", "rf",
];
/// Tags RFC 7489 had that DMARCbis made historic.
const HISTORIC: [&str; 3] = ["pct", "rf", "ri"];
/// Names asked at most by the tree walk (RFC 9989 §4.10).
const WALK_NAMES: usize = 8;

/// A DMARC record found for a domain, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The name whose `_dmarc` holds it.
    pub at: String,
    pub tags: Tags,
}

/// What the tree walk found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Walk {
    Found(Found),
    /// More than one `v=DMARC1` record at one name: none applies.
    Several(String),
    None,
    Failed(String, String),
}

/// The names the tree walk asks, most specific first: the domain, then its
/// parents down to the top-level domain; a name of more than eight labels
/// jumps from itself to its last seven (RFC 9989 §4.10).
pub fn walk_names(domain: &str) -> Vec<String> {
    let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
    let mut names = vec![labels.join(".")];
    let start = if labels.len() > WALK_NAMES {
        labels.len() - (WALK_NAMES - 1)
    } else {
        1
    };
    for skip in start..labels.len() {
        names.push(labels[skip..].join("."));
    }
    names
}

/// Walks the tree for `domain`'s DMARC record.
pub fn discover(resolver: &Resolver, domain: &str) -> Walk {
    for name in walk_names(domain) {
        let query = format!("_dmarc.{name}");
        match resolver.txt(&query) {
            Answer::Failed(reason) => return Walk::Failed(query, reason),
            Answer::None => continue,
            Answer::Found(texts) => {
                let records: Vec<&String> = texts.iter().filter(|t| is_dmarc(t)).collect();
                match records.as_slice() {
                    [] => continue,
                    [one] => {
                        return match Tags::parse(one) {
                            Ok(tags) => Walk::Found(Found { at: name, tags }),
                            // Broken: reported by the record check.
                            Err(_) => Walk::Found(Found {
                                at: name,
                                tags: Tags(vec![
                                    ("v".into(), "DMARC1".into()),
                                    ("!".into(), (*one).clone()),
                                ]),
                            }),
                        };
                    }
                    _ => return Walk::Several(name),
                }
            }
        }
    }
    Walk::None
}

pub fn checks(resolver: &Resolver, domain: &str) -> Vec<Check> {
    match discover(resolver, domain) {
        Walk::Failed(name, reason) => vec![
            Check::dns_error(CheckId::DmarcRecord, &name, &reason),
            Check::dns_error(CheckId::DmarcPolicy, &name, &reason),
            Check::dns_error(CheckId::DmarcRua, &name, &reason),
        ],
        Walk::None => vec![
            Check::new(
                CheckId::DmarcRecord,
                Status::Fail,
                format!("no DMARC record at _dmarc.{domain} or any parent"),
            )
            .fix(format!(
                "publish TXT _dmarc.{domain} \"v=DMARC1; p=none; rua=mailto:dmarc@<your sink>\""
            )),
            Check::new(
                CheckId::DmarcPolicy,
                Status::Fail,
                "no policy: no DMARC record",
            ),
            Check::new(
                CheckId::DmarcRua,
                Status::Fail,
                "no rua: no DMARC record, so no reports",
            ),
        ],
        Walk::Several(name) => vec![
            Check::new(
                CheckId::DmarcRecord,
                Status::Fail,
                format!("_dmarc.{name} holds more than one v=DMARC1 record: none applies"),
            )
            .fix("keep exactly one"),
            Check::new(CheckId::DmarcPolicy, Status::Fail, "no policy applies"),
            Check::new(CheckId::DmarcRua, Status::Fail, "no rua applies"),
        ],
        Walk::Found(found) => vec![
            record(domain, &found),
            policy(domain, &found),
            rua(resolver, &found),
        ],
    }
}

fn record(domain: &str, found: &Found) -> Check {
    let id = CheckId::DmarcRecord;
    let location = if found.at == domain {
        format!("_dmarc.{domain}")
    } else {
        format!(
            "_dmarc.{} (a parent: the tree walk found no record at _dmarc.{domain})",
            found.at
        )
    };
    if let Some(broken) = found.tags.get("!") {
        return Check::new(
            id,
            Status::Fail,
            format!("{location}: not a tag list: {broken:?}"),
        )
        .fix("write it as tag=value pairs separated by ';', v=DMARC1 first");
    }
    if found.tags.first().map(|(n, _)| n) != Some("v") {
        return Check::new(
            id,
            Status::Fail,
            format!("{location}: v=DMARC1 is not the first tag"),
        )
        .fix("put v=DMARC1 first");
    }
    let mut notes = Vec::new();
    let mut status = Status::Ok;
    let p = found.tags.get("p");
    match p.map(str::to_ascii_lowercase).as_deref() {
        None => {
            status = Status::Warn;
            notes.push("no p= tag: read as p=none".to_owned());
        }
        Some("none" | "quarantine" | "reject") => {}
        Some(other) => {
            return Check::new(
                id,
                Status::Fail,
                format!("{location}: p={other} is no policy"),
            )
            .fix("p=none, p=quarantine or p=reject");
        }
    }
    let historic: Vec<&str> = HISTORIC
        .into_iter()
        .filter(|tag| found.tags.get(tag).is_some())
        .collect();
    if !historic.is_empty() {
        status = status.max(Status::Warn);
        notes.push(format!(
            "{} historic in DMARCbis (RFC 9989), and ignored by receivers that follow it",
            historic.join(", ")
        ));
    }
    let unknown: Vec<&str> = found
        .tags
        .0
        .iter()
        .map(|(tag, _)| tag.as_str())
        .filter(|tag| !KNOWN.contains(tag) && !HISTORIC.contains(tag))
        .collect();
    if !unknown.is_empty() {
        status = status.max(Status::Warn);
        notes.push(format!("unknown tags: {}", unknown.join(", ")));
    }
    let text = record_text(&found.tags);
    let mut check = Check::new(id, status, format!("{location}: {text}"));
    if !notes.is_empty() {
        check.message.push_str(&format!(" ({})", notes.join("; ")));
        check = check.fix(match p {
            None => {
                "add p=none (or the policy you mean) explicitly; drop historic and unknown tags"
            }
            Some(_) => "drop the historic and unknown tags",
        });
    }
    check
}

fn policy(domain: &str, found: &Found) -> Check {
    let id = CheckId::DmarcPolicy;
    let tag = |name: &str| found.tags.get(name).map(str::to_ascii_lowercase);
    // A record found at a parent applies its sp= to this existing name.
    let (p, applies) = if found.at == domain {
        (tag("p").unwrap_or_else(|| "none".into()), "p")
    } else {
        match tag("sp") {
            Some(sp) => (sp, "sp"),
            None => (tag("p").unwrap_or_else(|| "none".into()), "p"),
        }
    };
    // Non-existent subdomains: np, else sp, else p (RFC 9989).
    let np = tag("np").or_else(|| tag("sp")).or_else(|| tag("p"));
    let testing = found
        .tags
        .get("t")
        .is_some_and(|t| t.eq_ignore_ascii_case("y"));
    if testing {
        return Check::new(
            id,
            Status::Warn,
            format!(
                "{applies}={p} with t=y: test mode, receivers apply one step less; not enforcement"
            ),
        )
        .fix("drop t=y once `dmarc-sink policy` says the domain is ready");
    }
    match p.as_str() {
        "none" => Check::new(
            id,
            Status::Warn,
            format!("{applies}=none: monitoring only, nothing is enforced"),
        )
        .fix("see `dmarc-sink policy` for when p=quarantine is safe, and the record to publish"),
        _ if np.as_deref() == Some("none") => Check::new(
            id,
            Status::Warn,
            format!("{applies}={p}, but subdomains that do not exist fall to none"),
        )
        .fix("add np=reject: no mail comes from a name that does not exist"),
        _ => Check::new(
            id,
            Status::Ok,
            format!("{applies}={p}, np={}", np.unwrap_or_default()),
        ),
    }
}

fn rua(resolver: &Resolver, found: &Found) -> Check {
    let id = CheckId::DmarcRua;
    // Consent is asked for the domain the record was found at (RFC 9990).
    let domain = found.at.as_str();
    let Some(rua) = found.tags.get("rua") else {
        return Check::new(
            id,
            Status::Fail,
            "no rua=: no aggregate reports are sent anywhere",
        )
        .fix(format!(
            "add rua=mailto:dmarc@<your sink> to _dmarc.{}",
            found.at
        ));
    };
    let mut outside = Vec::new();
    let mut unauthorised = Vec::new();
    for uri in rua.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let address = uri.strip_prefix("mailto:").unwrap_or(uri);
        let address = address.split('!').next().unwrap_or(address);
        let Some((_, host)) = address.rsplit_once('@') else {
            return Check::new(
                id,
                Status::Fail,
                format!("{uri:?} is not a mailto: address"),
            )
            .fix("rua=mailto:dmarc@<your sink>");
        };
        let host = host.to_ascii_lowercase();
        if aligned(&host, domain) {
            continue;
        }
        // RFC 9990: the destination consents at <domain>._report._dmarc.<host>.
        let name = format!("{domain}._report._dmarc.{host}");
        match resolver.txt(&name) {
            // Exactly one consenting record: several mean none (RFC 9990).
            Answer::Found(texts) if texts.iter().filter(|t| is_dmarc(t)).count() == 1 => {
                outside.push(host)
            }
            Answer::Failed(reason) => return Check::dns_error(id, &name, &reason),
            _ => unauthorised.push((host, name)),
        }
    }
    if let Some((host, name)) = unauthorised.first() {
        return Check::new(
            id,
            Status::Fail,
            format!("rua={rua}: {host} has not consented to receive reports for {domain}, so it receives none"),
        )
        .fix(format!("on {host}'s side, publish TXT {name} \"v=DMARC1\""));
    }
    let mut message = format!("rua={rua}");
    if !outside.is_empty() {
        message.push_str(&format!(
            " ({} authorised by _report._dmarc)",
            outside.join(", ")
        ));
    }
    Check::new(id, Status::Ok, message)
}

/// Whether a TXT record is a DMARC one: its first tag is `v=DMARC1`.
fn is_dmarc(text: &str) -> bool {
    text.split(';').next().is_some_and(|first| {
        first
            .split_once('=')
            .is_some_and(|(n, v)| n.trim() == "v" && v.trim() == "DMARC1")
    })
}

/// The record as text, tags in order.
fn record_text(tags: &Tags) -> String {
    tags.0
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_walk_asks_these_names() {
        assert_eq!(
            walk_names("mail.example.com"),
            ["mail.example.com", "example.com", "com"]
        );
        // Nine labels: the name, then its last seven, and on down.
        let deep = walk_names("a.b.c.d.e.f.g.example.com");
        assert_eq!(deep[0], "a.b.c.d.e.f.g.example.com");
        assert_eq!(deep[1], "c.d.e.f.g.example.com");
        assert_eq!(deep.last().map(String::as_str), Some("com"));
        assert_eq!(deep.len(), 8);
    }
}
