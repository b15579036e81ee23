//! `mx`, `tlsrpt.record`, `mta_sts.record`: how the domain receives mail,
//! and the records that ask for SMTP TLS reports and protect delivery.

use super::mta_sts_policy::Fetcher;
use super::tags::Tags;
use super::{Check, CheckId, Context, Status, arg, list};
use crate::dns::{Answer, Resolver};
use crate::store::StoreError;

pub fn mx(context: &Context<'_>, domain: &str) -> Check {
    let messages = context.messages;
    let id = CheckId::Mx;
    let args = [("domain", arg(domain))];
    match context.resolver.mx(domain) {
        Answer::Failed(reason) => Check::dns_error(id, domain, &reason, messages),
        Answer::None => Check::new(id, Status::Warn, messages.format("check-mx-none", &args))
            .fix(messages.format("check-mx-none-fix", &args)),
        Answer::Found(mut hosts) => {
            hosts.sort();
            if hosts.iter().any(|(_, host)| host == ".") {
                return Check::new(id, Status::Ok, messages.text("check-mx-null"));
            }
            // The records themselves (preference and host): data, not prose.
            let list: Vec<String> = hosts.iter().map(|(p, h)| format!("{p} {h}")).collect();
            Check::new(id, Status::Ok, list.join(", "))
        }
    }
}

/// How a version-tagged record (TLS-RPT, MTA-STS) came out: the messages
/// of its cases, by id. Each may take `$name` (where the record is),
/// `$domain` and `$record` (the record, quoted where it is wrong).
struct RecordMessages {
    none: &'static str,
    none_fix: &'static str,
    invalid: &'static str,
    invalid_fix: &'static str,
    several: &'static str,
}

/// The one record of `domain` at `name` beginning with `version`, judged
/// by `valid`.
fn versioned_record(
    context: &Context<'_>,
    (id, domain, name): (CheckId, &str, &str),
    version: &str,
    valid: impl Fn(&Tags) -> bool,
    texts: &RecordMessages,
) -> Check {
    let messages = context.messages;
    let records = match tagged(context.resolver, name, version) {
        Ok(records) => records,
        Err(reason) => return Check::dns_error(id, name, &reason, messages),
    };
    let say = |message: &str, record: &str| {
        let args = [
            ("name", arg(name)),
            ("record", arg(record)),
            ("domain", arg(domain)),
        ];
        messages.format(message, &args)
    };
    match records.as_slice() {
        [] => Check::new(id, Status::Warn, say(texts.none, "")).fix(say(texts.none_fix, "")),
        [one] => match Tags::parse(one) {
            Ok(tags) if valid(&tags) => Check::new(id, Status::Ok, say("check-record-at", one)),
            _ => Check::new(id, Status::Fail, say(texts.invalid, &format!("{one:?}")))
                .fix(say(texts.invalid_fix, "")),
        },
        _ => Check::new(id, Status::Fail, say(texts.several, ""))
            .fix(messages.text("check-keep-one")),
    }
}

pub fn tlsrpt(context: &Context<'_>, domain: &str) -> Check {
    let name = format!("_smtp._tls.{domain}");
    let texts = RecordMessages {
        none: "check-tlsrpt-none",
        none_fix: "check-tlsrpt-none-fix",
        invalid: "check-tlsrpt-no-rua",
        invalid_fix: "check-tlsrpt-no-rua-fix",
        several: "check-tlsrpt-several",
    };
    let has_rua = |tags: &Tags| tags.get("rua").is_some_and(|r| !r.is_empty());
    versioned_record(
        context,
        (CheckId::TlsrptRecord, domain, &name),
        "v=tlsrptv1",
        has_rua,
        &texts,
    )
}

pub fn mta_sts(context: &Context<'_>, domain: &str) -> Result<Check, StoreError> {
    let check = mta_sts_record(context, domain);
    match context.fetcher {
        Some(fetcher) if check.status == Status::Ok => policy(context, fetcher, domain, check),
        _ => Ok(check),
    }
}

/// The policy file, held against the MX records and the receiving MX hosts
/// that TLS failures named.
fn policy(
    context: &Context<'_>,
    fetcher: &Fetcher,
    domain: &str,
    record: Check,
) -> Result<Check, StoreError> {
    let messages = context.messages;
    let id = CheckId::MtaStsRecord;
    let policy = match fetcher.fetch(domain, messages) {
        Ok(policy) => policy,
        Err(reason) => {
            let args = [
                ("record", arg(&record.message)),
                ("reason", arg(&reason)),
                ("domain", arg(domain)),
            ];
            return Ok(Check::new(
                id,
                Status::Fail,
                messages.format("check-mta-sts-fetch-failed", &args),
            )
            .fix(messages.format("check-mta-sts-fetch-failed-fix", &args)));
        }
    };
    let mx_hosts: Vec<String> = match context.resolver.mx(domain) {
        Answer::Found(hosts) => hosts
            .into_iter()
            .map(|(_, h)| h)
            .filter(|h| h != ".")
            .collect(),
        Answer::None => Vec::new(),
        Answer::Failed(reason) => return Ok(Check::dns_error(id, domain, &reason, messages)),
    };
    let unlisted: Vec<&str> = mx_hosts
        .iter()
        .filter(|h| !policy.allows(h))
        .map(String::as_str)
        .collect();
    let failing = match context.store {
        Some(store) => store.tls_failure_mx_hosts(domain, context.since)?,
        None => Vec::new(),
    };
    let failing_unlisted: Vec<&str> = failing
        .iter()
        .filter(|h| !policy.allows(h))
        .map(String::as_str)
        .collect();
    let message = |id: &str, hosts: &[&str]| {
        let (mx, hosts) = (list(messages, &policy.mx), list(messages, hosts));
        let args = [
            ("record", arg(&record.message)),
            ("mode", arg(&policy.mode)),
            ("mx", arg(&mx)),
            ("hosts", arg(&hosts)),
        ];
        messages.format(id, &args)
    };
    if !unlisted.is_empty() {
        let status = if policy.mode == "enforce" {
            Status::Fail
        } else {
            Status::Warn
        };
        return Ok(
            Check::new(id, status, message("check-mta-sts-unlisted", &unlisted))
                .fix(messages.text("check-mta-sts-unlisted-fix")),
        );
    }
    if !failing_unlisted.is_empty() {
        let text = message("check-mta-sts-failing-unlisted", &failing_unlisted);
        return Ok(Check::new(id, Status::Warn, text)
            .fix(messages.text("check-mta-sts-failing-unlisted-fix")));
    }
    Ok(Check::new(
        id,
        Status::Ok,
        message("check-mta-sts-policy", &[]),
    ))
}

fn mta_sts_record(context: &Context<'_>, domain: &str) -> Check {
    let name = format!("_mta-sts.{domain}");
    let texts = RecordMessages {
        none: "check-mta-sts-none",
        none_fix: "check-mta-sts-none-fix",
        invalid: "check-mta-sts-bad-id",
        invalid_fix: "check-mta-sts-bad-id-fix",
        several: "check-mta-sts-several",
    };
    let valid_id = |tags: &Tags| {
        tags.get("id").is_some_and(|i| {
            !i.is_empty() && i.len() <= 32 && i.chars().all(|c| c.is_ascii_alphanumeric())
        })
    };
    versioned_record(
        context,
        (CheckId::MtaStsRecord, domain, &name),
        "v=stsv1",
        valid_id,
        &texts,
    )
}

/// The TXT records at `name` that begin with `version` (any case).
fn tagged(resolver: &Resolver, name: &str, version: &str) -> Result<Vec<String>, String> {
    match resolver.txt(name) {
        Answer::Failed(reason) => Err(reason),
        Answer::None => Ok(Vec::new()),
        Answer::Found(texts) => Ok(texts
            .into_iter()
            .filter(|t| {
                let lower = t.trim_start().to_ascii_lowercase();
                lower.starts_with(version)
                    && lower[version.len()..].trim_start().is_empty_or_separator()
            })
            .collect()),
    }
}

trait Separator {
    fn is_empty_or_separator(&self) -> bool;
}

impl Separator for str {
    /// What may follow a version tag's value: nothing, or `;`.
    fn is_empty_or_separator(&self) -> bool {
        self.is_empty() || self.starts_with(';')
    }
}
