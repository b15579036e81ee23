//! `dmarc-sink check-dns`: a domain's DNS records held against the traffic
//! its reports show, with DMARCbis (RFC 9989, RFC 9990) advice.
//!
//! The DNS says what a domain claims; the reports say what really sends as
//! it. Each check reads one of the records (through [`crate::dns`], as
//! `[dns]` configures it) and, where the store helps, the reports over the
//! period asked for, and gives one [`Check`]: a status, what was found,
//! and the fix. The check ids ([`CheckId`]) are a contract: scripts match
//! on them; they are never renamed.

mod dkim;
mod dmarc;
mod mail;
mod mta_sts_policy;
mod spf;
mod tags;

pub use mta_sts_policy::{Fetcher, Policy, PolicyError};

use crate::dns::Resolver;
use crate::i18n::{FluentValue, Messages};
use crate::store::{Store, StoreError};
use serde::Serialize;

/// How a check came out, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    /// The check could not be made: DNS did not answer.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

/// The checks, by their stable ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckId {
    DmarcRecord,
    DmarcPolicy,
    DmarcRua,
    SpfRecord,
    SpfLookups,
    SpfTraffic,
    SpfMailFrom,
    DkimSelectors,
    Mx,
    TlsrptRecord,
    MtaStsRecord,
}

impl CheckId {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::DmarcRecord => "dmarc.record",
            CheckId::DmarcPolicy => "dmarc.policy",
            CheckId::DmarcRua => "dmarc.rua",
            CheckId::SpfRecord => "spf.record",
            CheckId::SpfLookups => "spf.lookups",
            CheckId::SpfTraffic => "spf.traffic",
            CheckId::SpfMailFrom => "spf.mail_from",
            CheckId::DkimSelectors => "dkim.selectors",
            CheckId::Mx => "mx",
            CheckId::TlsrptRecord => "tlsrpt.record",
            CheckId::MtaStsRecord => "mta_sts.record",
        }
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One check of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub status: Status,
    /// What was found.
    pub message: String,
    /// What to do about it; null when nothing is to be done.
    pub fix: Option<String>,
}

impl Check {
    fn new(id: CheckId, status: Status, message: impl Into<String>) -> Check {
        Check {
            id,
            status,
            message: message.into(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    /// DNS did not answer `name`; `reason` is the resolver's, untranslated.
    fn dns_error(id: CheckId, name: &str, reason: &str, messages: &Messages) -> Check {
        let args = [("name", arg(name)), ("reason", arg(reason))];
        Check::new(id, Status::Error, messages.format("check-dns-error", &args))
            .fix(messages.text("check-dns-error-fix"))
    }
}

/// A text argument of a message: a DNS name, a record, a tag, a term.
/// Counts go in as numbers (`FluentValue::from(n)`), so that they are
/// grouped and can choose a plural.
fn arg(text: &str) -> FluentValue<'_> {
    FluentValue::from(text)
}

/// Items of a list as the language separates them: `pct, rf` / `pct、rf`.
fn list<S: AsRef<str>>(messages: &Messages, items: &[S]) -> String {
    join(items, &messages.text("check-list-separator"))
}

/// Notes or fixes one after the other: `a; b` in English, where each is a
/// clause; in Japanese each is a sentence ending in 。 and they follow on.
fn notes<S: AsRef<str>>(messages: &Messages, items: &[S]) -> String {
    join(items, &messages.text("check-notes-separator"))
}

fn join<S: AsRef<str>>(items: &[S], separator: &str) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(separator)
}

/// Every check of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainChecks {
    pub domain: String,
    pub checks: Vec<Check>,
}

/// What the checks read.
pub struct Context<'a> {
    pub resolver: &'a Resolver,
    /// The reports, for the checks held against traffic; `None` skips them.
    pub store: Option<&'a Store>,
    /// Reports whose range begins at or after (unix seconds).
    pub since: Option<i64>,
    /// Fetches MTA-STS policy files (`--fetch-mta-sts`); `None` reads the
    /// DNS record only.
    pub fetcher: Option<&'a Fetcher>,
    /// The language of the messages and fixes.
    pub messages: &'a Messages,
}

/// Checks `domain`, every check in the documented order.
pub fn check_domain(context: &Context<'_>, domain: &str) -> Result<DomainChecks, StoreError> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut checks = Vec::new();
    checks.extend(dmarc::checks(context, &domain));
    checks.extend(spf::checks(context, &domain)?);
    checks.push(dkim::selectors(context, &domain)?);
    checks.push(mail::mx(context, &domain));
    checks.push(mail::tlsrpt(context, &domain));
    checks.push(mail::mta_sts(context, &domain)?);
    Ok(DomainChecks { domain, checks })
}

/// The `rua` and `ruf` of `domain`'s published DMARC record (found by the
/// tree walk), for `policy` to keep in the record it advises; `None` when
/// no record answers.
pub fn published_addresses(
    resolver: &Resolver,
    domain: &str,
) -> Option<(Option<String>, Option<String>)> {
    match dmarc::discover(resolver, domain) {
        dmarc::Walk::Found(found) => Some((
            found.tags.get("rua").map(str::to_owned),
            found.tags.get("ruf").map(str::to_owned),
        )),
        _ => None,
    }
}

/// The exit status of a run: 2 when a check could not run (DNS did not
/// answer it: the run is incomplete), else 1 when a check failed, else 0.
pub fn exit_status(domains: &[DomainChecks]) -> u8 {
    let all = || domains.iter().flat_map(|d| &d.checks);
    if all().any(|c| c.status == Status::Error) {
        2
    } else if all().any(|c| c.status == Status::Fail) {
        1
    } else {
        0
    }
}

/// The text form: per domain, one line per check (status, id, what was
/// found) and its fix beneath, under what was found. The status words and
/// the ids stay ASCII in every language: people and scripts grep them, and
/// they keep the columns aligned.
pub fn render_text(domains: &[DomainChecks], messages: &Messages) -> String {
    let mut out = String::new();
    for (n, domain) in domains.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{}\n", printable(&domain.domain)));
        for check in &domain.checks {
            out.push_str(&format!(
                "  {:<5} {:<15} {}\n",
                check.status.as_str(),
                check.id.as_str(),
                printable(&check.message)
            ));
            if let Some(fix) = &check.fix {
                let fix = messages.format("check-fix-line", &[("fix", arg(&printable(fix)))]);
                out.push_str(&format!("  {:<5} {:<15} {fix}\n", "", ""));
            }
        }
    }
    out
}

/// Whether `name` is a host name DNS can be asked about: labels of 1 to
/// 63 letters, digits, `-` and `_`, 253 characters at most. Names that come
/// from reports (a policy domain, a selector) are checked before any query.
pub fn is_host_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Text from DNS as the terminal may show it: control characters (an
/// escape sequence in a TXT record) become U+FFFD.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_from_reports_are_checked() {
        assert!(is_host_name("s1._domainkey.example.com"));
        assert!(is_host_name("example.com."));
        assert!(!is_host_name("x@evil.example:6379"));
        assert!(!is_host_name(&format!("{}.example.com", "a".repeat(64))));
        assert!(!is_host_name("a..b"));
        assert!(!is_host_name(""));
    }

    #[test]
    fn control_characters_do_not_reach_the_terminal() {
        let domains = [DomainChecks {
            domain: "evil\r\n  ok    forged".into(),
            checks: vec![Check::new(CheckId::Mx, Status::Ok, "a\u{1b}]0;title\u{9b}")],
        }];
        let text = render_text(&domains, &Messages::new(crate::i18n::Lang::En));
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{9b}'),
            "{text:?}"
        );
        assert_eq!(text.lines().count(), 2, "{text:?}");
    }

    #[test]
    fn the_exit_status() {
        let with = |statuses: &[Status]| {
            exit_status(&[DomainChecks {
                domain: "d".into(),
                checks: statuses
                    .iter()
                    .map(|&s| Check::new(CheckId::Mx, s, ""))
                    .collect(),
            }])
        };
        assert_eq!(with(&[Status::Ok, Status::Warn]), 0);
        assert_eq!(with(&[Status::Ok, Status::Fail]), 1);
        assert_eq!(with(&[Status::Fail, Status::Error]), 2);
    }
}
