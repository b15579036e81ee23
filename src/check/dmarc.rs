//! `dmarc.record`, `dmarc.policy`, `dmarc.rua`: the DMARC record, found by
//! the RFC 9989 tree walk, read as DMARCbis reads it.

use super::tags::Tags;
use super::{Check, CheckId, Context, Status, arg, list};
use crate::auth::aligned;
use crate::dns::{Answer, Resolver};
use crate::i18n::Messages;

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

pub fn checks(context: &Context<'_>, domain: &str) -> Vec<Check> {
    let messages = context.messages;
    let fail = |id, message: &str| {
        Check::new(
            id,
            Status::Fail,
            messages.format(message, &[("domain", arg(domain))]),
        )
    };
    match discover(context.resolver, domain) {
        Walk::Failed(name, reason) => [
            CheckId::DmarcRecord,
            CheckId::DmarcPolicy,
            CheckId::DmarcRua,
        ]
        .into_iter()
        .map(|id| Check::dns_error(id, &name, &reason, messages))
        .collect(),
        Walk::None => vec![
            fail(CheckId::DmarcRecord, "check-dmarc-no-record")
                .fix(messages.format("check-dmarc-no-record-fix", &[("domain", arg(domain))])),
            fail(CheckId::DmarcPolicy, "check-dmarc-no-record-policy"),
            fail(CheckId::DmarcRua, "check-dmarc-no-record-rua"),
        ],
        Walk::Several(name) => vec![
            Check::new(
                CheckId::DmarcRecord,
                Status::Fail,
                messages.format("check-dmarc-several", &[("name", arg(&name))]),
            )
            .fix(messages.text("check-keep-one")),
            fail(CheckId::DmarcPolicy, "check-dmarc-several-policy"),
            fail(CheckId::DmarcRua, "check-dmarc-several-rua"),
        ],
        Walk::Found(found) => vec![
            record(messages, domain, &found),
            policy(messages, domain, &found),
            rua(context, &found),
        ],
    }
}

fn record(messages: &Messages, domain: &str, found: &Found) -> Check {
    let id = CheckId::DmarcRecord;
    let location = if found.at == domain {
        format!("_dmarc.{domain}")
    } else {
        messages.format(
            "check-dmarc-at-parent",
            &[("parent", arg(&found.at)), ("domain", arg(domain))],
        )
    };
    let fail = |message: &str, value: &str, fix: &str| {
        let args = [("location", arg(&location)), ("value", arg(value))];
        Check::new(id, Status::Fail, messages.format(message, &args)).fix(messages.text(fix))
    };
    if let Some(broken) = found.tags.get("!") {
        return fail(
            "check-dmarc-not-tag-list",
            &format!("{broken:?}"),
            "check-dmarc-not-tag-list-fix",
        );
    }
    if found.tags.first().map(|(n, _)| n) != Some("v") {
        return fail("check-dmarc-v-not-first", "", "check-dmarc-v-not-first-fix");
    }
    let mut notes = Vec::new();
    let mut status = Status::Ok;
    let p = found.tags.get("p");
    match p.map(str::to_ascii_lowercase).as_deref() {
        None => {
            status = Status::Warn;
            notes.push(messages.text("check-dmarc-no-p"));
        }
        Some("none" | "quarantine" | "reject") => {}
        Some(other) => return fail("check-dmarc-bad-p", other, "check-dmarc-bad-p-fix"),
    }
    let historic: Vec<&str> = HISTORIC
        .into_iter()
        .filter(|tag| found.tags.get(tag).is_some())
        .collect();
    if !historic.is_empty() {
        status = status.max(Status::Warn);
        notes.push(messages.format(
            "check-dmarc-historic",
            &[("tags", arg(&list(messages, &historic)))],
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
        notes.push(messages.format(
            "check-dmarc-unknown-tags",
            &[("tags", arg(&list(messages, &unknown)))],
        ));
    }
    let text = record_text(&found.tags);
    let mut args = vec![("location", arg(&location)), ("record", arg(&text))];
    if notes.is_empty() {
        return Check::new(id, status, messages.format("check-dmarc-record", &args));
    }
    let notes = super::notes(messages, &notes);
    args.push(("notes", arg(&notes)));
    Check::new(
        id,
        status,
        messages.format("check-dmarc-record-notes", &args),
    )
    .fix(messages.text(match p {
        None => "check-dmarc-record-fix-no-p",
        Some(_) => "check-dmarc-record-fix-tags",
    }))
}

fn policy(messages: &Messages, domain: &str, found: &Found) -> Check {
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
    let np = np.unwrap_or_default();
    let args = [("tag", arg(applies)), ("policy", arg(&p)), ("np", arg(&np))];
    let check = |status, message: &str| Check::new(id, status, messages.format(message, &args));
    if testing {
        return check(Status::Warn, "check-dmarc-test-mode")
            .fix(messages.text("check-dmarc-test-mode-fix"));
    }
    match p.as_str() {
        "none" => {
            check(Status::Warn, "check-dmarc-none").fix(messages.text("check-dmarc-none-fix"))
        }
        _ if np == "none" => {
            check(Status::Warn, "check-dmarc-np-none").fix(messages.text("check-dmarc-np-none-fix"))
        }
        _ => check(Status::Ok, "check-dmarc-enforced"),
    }
}

fn rua(context: &Context<'_>, found: &Found) -> Check {
    let (resolver, messages) = (context.resolver, context.messages);
    let id = CheckId::DmarcRua;
    // Consent is asked for the domain the record was found at (RFC 9990).
    let domain = found.at.as_str();
    let Some(rua) = found.tags.get("rua") else {
        return Check::new(id, Status::Fail, messages.text("check-dmarc-rua-missing"))
            .fix(messages.format("check-dmarc-rua-missing-fix", &[("domain", arg(domain))]));
    };
    let mut outside = Vec::new();
    let mut unauthorised = Vec::new();
    for uri in rua.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let address = uri.strip_prefix("mailto:").unwrap_or(uri);
        let address = address.split('!').next().unwrap_or(address);
        let Some((_, host)) = address.rsplit_once('@') else {
            let uri = format!("{uri:?}");
            return Check::new(
                id,
                Status::Fail,
                messages.format("check-dmarc-rua-not-mailto", &[("uri", arg(&uri))]),
            )
            .fix(messages.text("check-dmarc-rua-not-mailto-fix"));
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
            Answer::Failed(reason) => return Check::dns_error(id, &name, &reason, messages),
            _ => unauthorised.push((host, name)),
        }
    }
    if let Some((host, name)) = unauthorised.first() {
        let args = [
            ("rua", arg(rua)),
            ("host", arg(host)),
            ("domain", arg(domain)),
            ("name", arg(name)),
        ];
        return Check::new(
            id,
            Status::Fail,
            messages.format("check-dmarc-rua-no-consent", &args),
        )
        .fix(messages.format("check-dmarc-rua-no-consent-fix", &args));
    }
    if outside.is_empty() {
        return Check::new(
            id,
            Status::Ok,
            messages.format("check-dmarc-rua", &[("rua", arg(rua))]),
        );
    }
    let hosts = list(messages, &outside);
    let args = [("rua", arg(rua)), ("hosts", arg(&hosts))];
    Check::new(
        id,
        Status::Ok,
        messages.format("check-dmarc-rua-authorised", &args),
    )
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
