//! Why a source's mail passes or fails DMARC, and what to do about it.
//!
//! A diagnosis is a stable machine code (scripts match on it; it is part of
//! the JSON output) and a plain sentence with the fix. The rules read only
//! counts; they are tried in the order of [`diagnose`], the first that fits
//! wins, so a source gets the one fix that matters most.

use super::providers::Provider;
use crate::store::Counts;
use serde::Serialize;

/// What is known of one source for one policy domain.
#[derive(Debug, Clone, Default)]
pub struct Evidence<'a> {
    pub policy_domain: &'a str,
    pub messages: i64,
    pub dmarc_pass: i64,
    pub dkim_aligned_pass: i64,
    pub spf_aligned_pass: i64,
    pub spf_pass_unaligned: i64,
    pub dkim_pass_unaligned: i64,
    pub own_dkim_fail: i64,
    /// Over every report stored, not only the period asked for.
    pub lifetime: Counts,
    pub provider: Option<&'static Provider>,
    /// The envelope (SPF) domain that passed without aligning, most messages first.
    pub spf_domain: Option<&'a str>,
    /// The DKIM domain that passed without aligning.
    pub dkim_domain: Option<&'a str>,
    /// The selector of the domain's own DKIM signature that failed.
    pub failing_selector: Option<&'a str>,
}

/// The diagnoses, by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// DKIM and SPF both pass and align.
    Aligned,
    /// Neither passes and the source never passed: not yours.
    Unauthorised,
    /// DKIM passes only for the provider's domain.
    DkimNotAligned,
    /// SPF passes only for the provider's envelope domain.
    SpfNotAligned,
    /// The domain's own DKIM signature fails from a source that usually passes.
    DkimFailing,
    /// DKIM passes aligned, SPF fails: forwarded or a mailing list.
    Forwarded,
    /// A source of yours that fails often.
    OftenFails,
    /// DMARC passes on SPF alone: no aligned DKIM.
    DkimMissing,
    /// DMARC passes for almost all; a few failures.
    MostlyAligned,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Aligned => "aligned",
            Code::Unauthorised => "unauthorised",
            Code::DkimNotAligned => "dkim_not_aligned",
            Code::SpfNotAligned => "spf_not_aligned",
            Code::DkimFailing => "dkim_failing",
            Code::Forwarded => "forwarded",
            Code::OftenFails => "often_fails",
            Code::DkimMissing => "dkim_missing",
            Code::MostlyAligned => "mostly_aligned",
        }
    }

    /// Mail from sources with this code is the domain owner's own (or
    /// relayed for them): quarantining it would hurt.
    pub fn is_legitimate(self) -> bool {
        self != Code::Unauthorised
    }
}

/// A code with its sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub code: Code,
    pub message: String,
}

/// Share of failing messages from which a source of yours "fails often".
const OFTEN_FAILS_SHARE: f64 = 0.10;
/// Share of aligned DKIM passes from which DKIM "passes" for a source.
const DKIM_MOSTLY_PASSES_SHARE: f64 = 0.90;

/// Picks the diagnosis that fits `e` first.
pub fn diagnose(e: &Evidence<'_>) -> Diagnosis {
    let domain = e.policy_domain;
    let messages = e.messages.max(1) as f64;
    let fail = e.messages - e.dmarc_pass;
    let provider_name = e.provider.map(|p| p.name);
    let (code, message) = if e.dkim_aligned_pass == e.messages && e.spf_aligned_pass == e.messages {
        (
            Code::Aligned,
            "DKIM and SPF both pass and align. Nothing to do.".to_owned(),
        )
    } else if e.lifetime.dmarc_pass == 0
        && (e.provider.is_none() || (e.spf_pass_unaligned == 0 && e.dkim_pass_unaligned == 0))
    {
        (
            Code::Unauthorised,
            format!(
                "Neither DKIM nor SPF passes aligned and this source has never passed DMARC: \
                 it is not yours, someone else sends mail as {domain}. \
                 p=quarantine or p=reject is what stops it."
            ),
        )
    } else if e.dkim_pass_unaligned > 0 && (e.dkim_aligned_pass as f64) < messages / 2.0 {
        let signer = e.dkim_domain.unwrap_or("another domain");
        let service = provider_name.unwrap_or("the sending service");
        let how = aside(e.provider.and_then(|p| p.dkim_setup));
        let mut message = format!(
            "DKIM passes only for {signer}, {service}'s domain, not for {domain}. \
             Enable {service}'s DKIM signing for {domain}{how}."
        );
        if e.spf_pass_unaligned > 0 {
            let envelope = e.spf_domain.unwrap_or("its own domain");
            message.push_str(&format!(
                " SPF passes for {envelope} only: a custom MAIL FROM subdomain of {domain} aligns it too."
            ));
        }
        (Code::DkimNotAligned, message)
    } else if e.spf_pass_unaligned > 0
        && 2 * e.spf_pass_unaligned >= e.messages - e.spf_aligned_pass
    {
        let envelope = e.spf_domain.unwrap_or("another domain");
        let service = provider_name.unwrap_or("the sending service");
        let how = aside(e.provider.and_then(|p| p.mail_from_setup));
        (
            Code::SpfNotAligned,
            format!(
                "SPF passes for {envelope}, {service}'s envelope (MAIL FROM) domain, \
                 not for {domain}, so it does not align. Set up a custom MAIL FROM \
                 subdomain of {domain} (such as bounce.{domain}) with the MX and SPF \
                 records {service} asks for{how}."
            ),
        )
    } else if e.own_dkim_fail > 0
        && 2 * e.lifetime.dkim_aligned_pass >= e.lifetime.messages
        && e.dkim_aligned_pass < e.messages
    {
        let record = match e.failing_selector {
            Some(selector) => format!("{selector}._domainkey.{domain}"),
            None => format!("the selector's _domainkey.{domain} record"),
        };
        (
            Code::DkimFailing,
            format!(
                "DKIM fails for {domain} on {} of {} messages from a source that usually \
                 passes: a key rotation or a changed message. Check that {record} holds \
                 the key the sender signs with.",
                e.messages - e.dkim_aligned_pass,
                e.messages
            ),
        )
    } else if e.dkim_aligned_pass as f64 >= DKIM_MOSTLY_PASSES_SHARE * messages
        && (e.spf_aligned_pass as f64) < messages / 2.0
    {
        (
            Code::Forwarded,
            "DKIM passes and aligns but SPF fails: forwarding or a mailing list relays \
             this mail. Usually benign: DMARC passes on DKIM."
                .to_owned(),
        )
    } else if fail as f64 >= OFTEN_FAILS_SHARE * messages {
        (
            Code::OftenFails,
            format!(
                "This source is yours (it passes sometimes) but {fail} of its {} messages \
                 fail DMARC. Add it to the SPF record of {domain} or have it sign with \
                 DKIM for {domain}.",
                e.messages
            ),
        )
    } else if e.dkim_aligned_pass == 0 {
        (
            Code::DkimMissing,
            format!(
                "DMARC passes on SPF alone, without an aligned DKIM signature. Sign this \
                 mail with DKIM for {domain}: SPF breaks when mail is forwarded."
            ),
        )
    } else if fail == 0 {
        (
            Code::MostlyAligned,
            format!(
                "DMARC passes for all {} messages; aligned DKIM or SPF alone fails for a \
                 few, as forwarding does. Nothing to do.",
                e.messages
            ),
        )
    } else {
        (
            Code::MostlyAligned,
            format!(
                "DMARC passes for {} of {} messages; the few failures are most likely \
                 forwarding. Nothing urgent.",
                e.dmarc_pass, e.messages
            ),
        )
    };
    Diagnosis { code, message }
}

/// A service's own setup step, in parentheses, or nothing.
fn aside(how: Option<&str>) -> String {
    how.map(|how| format!(" ({how})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insight::providers::identify;

    /// `messages`, of which `passed` passed DMARC over all time.
    fn evidence(messages: i64, passed: i64) -> Evidence<'static> {
        Evidence {
            policy_domain: "example.com",
            messages,
            lifetime: Counts {
                messages,
                dmarc_pass: passed,
                dkim_aligned_pass: passed,
                ..Counts::default()
            },
            ..Evidence::default()
        }
    }

    #[test]
    fn ses_without_custom_mail_from_is_spf_not_aligned_and_named() {
        let e = Evidence {
            dmarc_pass: 10,
            dkim_aligned_pass: 10,
            spf_pass_unaligned: 10,
            provider: identify("us-east-1.amazonses.com"),
            spf_domain: Some("us-east-1.amazonses.com"),
            ..evidence(10, 10)
        };
        let d = diagnose(&e);
        assert_eq!(d.code, Code::SpfNotAligned);
        assert!(d.message.contains("Amazon SES"), "{}", d.message);
        assert!(
            d.message.contains("us-east-1.amazonses.com"),
            "{}",
            d.message
        );
    }

    #[test]
    fn never_passing_unknown_source_is_unauthorised() {
        let e = Evidence {
            spf_pass_unaligned: 5,
            ..evidence(5, 0)
        };
        assert_eq!(diagnose(&e).code, Code::Unauthorised);
    }

    #[test]
    fn rules_are_tried_in_order() {
        let aligned = Evidence {
            dmarc_pass: 3,
            dkim_aligned_pass: 3,
            spf_aligned_pass: 3,
            ..evidence(3, 3)
        };
        assert_eq!(diagnose(&aligned).code, Code::Aligned);
        let spf_only = Evidence {
            dmarc_pass: 3,
            spf_aligned_pass: 3,
            ..evidence(3, 3)
        };
        assert_eq!(diagnose(&spf_only).code, Code::DkimMissing);
    }
}
