//! `mx`, `tlsrpt.record`, `mta_sts.record`: how the domain receives mail,
//! and the records that ask for SMTP TLS reports and protect delivery.

use super::mta_sts_policy::Fetcher;
use super::tags::Tags;
use super::{Check, CheckId, Context, Status};
use crate::dns::{Answer, Resolver};
use crate::store::StoreError;

pub fn mx(resolver: &Resolver, domain: &str) -> Check {
    let id = CheckId::Mx;
    match resolver.mx(domain) {
        Answer::Failed(reason) => Check::dns_error(id, domain, &reason),
        Answer::None => Check::new(
            id,
            Status::Warn,
            format!("{domain} has no MX record: mail to it goes to its address, if any"),
        )
        .fix(format!(
            "publish its MX records, or a null MX (\"MX 0 .\", RFC 7505) if {domain} takes no mail"
        )),
        Answer::Found(mut hosts) => {
            hosts.sort();
            if hosts.iter().any(|(_, host)| host == ".") {
                return Check::new(id, Status::Ok, "null MX: the domain takes no mail");
            }
            let list: Vec<String> = hosts.iter().map(|(p, h)| format!("{p} {h}")).collect();
            Check::new(id, Status::Ok, list.join(", "))
        }
    }
}

pub fn tlsrpt(resolver: &Resolver, domain: &str) -> Check {
    let id = CheckId::TlsrptRecord;
    let name = format!("_smtp._tls.{domain}");
    let records = match tagged(resolver, &name, "v=tlsrptv1") {
        Ok(records) => records,
        Err(reason) => return Check::dns_error(id, &name, &reason),
    };
    match records.as_slice() {
        [] => Check::new(
            id,
            Status::Warn,
            format!("no v=TLSRPTv1 record at {name}: no SMTP TLS reports come"),
        )
        .fix(format!(
            "publish TXT {name} \"v=TLSRPTv1; rua=mailto:tlsrpt@<your sink>\""
        )),
        [one] => match Tags::parse(one) {
            Ok(tags) if tags.get("rua").is_some_and(|r| !r.is_empty()) => {
                Check::new(id, Status::Ok, format!("{name}: {one}"))
            }
            _ => Check::new(id, Status::Fail, format!("{name}: {one:?} has no rua"))
                .fix("add rua=mailto:tlsrpt@<your sink>"),
        },
        _ => Check::new(
            id,
            Status::Fail,
            format!("{name} holds more than one v=TLSRPTv1 record"),
        )
        .fix("keep exactly one"),
    }
}

pub fn mta_sts(context: &Context<'_>, domain: &str) -> Result<Check, StoreError> {
    let check = mta_sts_record(context.resolver, domain);
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
    let id = CheckId::MtaStsRecord;
    let policy = match fetcher.fetch(domain) {
        Ok(policy) => policy,
        Err(reason) => {
            return Ok(Check::new(id, Status::Fail, format!("{}; its policy file: {reason}", record.message))
                .fix(format!("serve the policy at https://mta-sts.{domain}/.well-known/mta-sts.txt with a valid certificate")));
        }
    };
    let mx_hosts: Vec<String> = match context.resolver.mx(domain) {
        Answer::Found(hosts) => hosts
            .into_iter()
            .map(|(_, h)| h)
            .filter(|h| h != ".")
            .collect(),
        Answer::None => Vec::new(),
        Answer::Failed(reason) => return Ok(Check::dns_error(id, domain, &reason)),
    };
    let unlisted: Vec<&String> = mx_hosts.iter().filter(|h| !policy.allows(h)).collect();
    let failing = match context.store {
        Some(store) => store.tls_failure_mx_hosts(domain, context.since)?,
        None => Vec::new(),
    };
    let failing_unlisted: Vec<&String> = failing.iter().filter(|h| !policy.allows(h)).collect();
    let mut message = format!(
        "{}; policy mode {}, mx {}",
        record.message,
        policy.mode,
        policy.mx.join(", ")
    );
    if !unlisted.is_empty() {
        let names: Vec<&str> = unlisted.iter().map(|h| h.as_str()).collect();
        message.push_str(&format!(
            "; MX hosts the policy does not list: {}",
            names.join(", ")
        ));
        let check = Check::new(
            id,
            if policy.mode == "enforce" {
                Status::Fail
            } else {
                Status::Warn
            },
            message,
        );
        return Ok(
            check.fix("list every MX host in the policy's mx lines (and change the record's id)")
        );
    }
    if !failing_unlisted.is_empty() {
        let names: Vec<&str> = failing_unlisted.iter().map(|h| h.as_str()).collect();
        message.push_str(&format!(
            "; TLS failures name receiving MX hosts it does not list: {}",
            names.join(", ")
        ));
        return Ok(Check::new(id, Status::Warn, message)
            .fix("list those hosts in the policy, or stop publishing them as MX"));
    }
    Ok(Check::new(id, Status::Ok, message))
}

fn mta_sts_record(resolver: &Resolver, domain: &str) -> Check {
    let id = CheckId::MtaStsRecord;
    let name = format!("_mta-sts.{domain}");
    let records = match tagged(resolver, &name, "v=stsv1") {
        Ok(records) => records,
        Err(reason) => return Check::dns_error(id, &name, &reason),
    };
    match records.as_slice() {
        [] => Check::new(id, Status::Warn, format!("no v=STSv1 record at {name}: senders may deliver without TLS"))
            .fix(format!(
                "serve a policy at https://mta-sts.{domain}/.well-known/mta-sts.txt and publish TXT {name} \"v=STSv1; id=<a new id per change>\""
            )),
        [one] => match Tags::parse(one) {
            Ok(tags) if tags.get("id").is_some_and(|i| !i.is_empty() && i.len() <= 32 && i.chars().all(|c| c.is_ascii_alphanumeric())) => {
                Check::new(id, Status::Ok, format!("{name}: {one}"))
            }
            _ => Check::new(id, Status::Fail, format!("{name}: {one:?} has no valid id (1 to 32 letters and digits)"))
                .fix("give it id=<letters and digits>, changed with every policy change"),
        },
        _ => Check::new(id, Status::Fail, format!("{name} holds more than one v=STSv1 record"))
            .fix("keep exactly one"),
    }
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
