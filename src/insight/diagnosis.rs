//! Why a source's mail passes or fails DMARC, and what to do about it.
//!
//! A diagnosis is a stable machine code (scripts match on it; it is part of
//! the JSON output) and a plain sentence with the fix, in the language of
//! the [`Messages`] given (`locales/*/diagnosis.ftl`; the code is never
//! translated). The rules read only
//! counts; they are tried in the order of [`diagnose`], the first that fits
//! wins, so a source gets the one fix that matters most.

use super::providers::Provider;
use crate::i18n::Messages;
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

/// Picks the diagnosis that fits `e` first, its sentence in the language
/// of `messages`.
pub fn diagnose(e: &Evidence<'_>, messages: &Messages) -> Diagnosis {
    let domain = e.policy_domain;
    let total = e.messages.max(1) as f64;
    let fail = e.messages - e.dmarc_pass;
    let service = || match e.provider {
        Some(provider) => provider.name.to_owned(),
        None => messages.text("diagnosis-sending-service"),
    };
    let (code, message) = if e.dkim_aligned_pass == e.messages && e.spf_aligned_pass == e.messages {
        (Code::Aligned, messages.text("diagnosis-aligned"))
    } else if e.lifetime.dmarc_pass == 0
        && (e.provider.is_none() || (e.spf_pass_unaligned == 0 && e.dkim_pass_unaligned == 0))
    {
        (
            Code::Unauthorised,
            messages.format("diagnosis-unauthorised", &[("domain", domain.into())]),
        )
    } else if e.dkim_pass_unaligned > 0 && (e.dkim_aligned_pass as f64) < total / 2.0 {
        let signer = or_stand_in(e.dkim_domain, messages, "diagnosis-another-domain");
        let spf_note = if e.spf_pass_unaligned > 0 {
            let envelope = or_stand_in(e.spf_domain, messages, "diagnosis-its-own-domain");
            messages.format(
                "diagnosis-spf-note",
                &[("envelope", envelope.into()), ("domain", domain.into())],
            )
        } else {
            String::new()
        };
        let how = aside(e.provider.and_then(|p| p.dkim_setup), messages);
        (
            Code::DkimNotAligned,
            messages.format(
                "diagnosis-dkim-not-aligned",
                &[
                    ("signer", signer.into()),
                    ("service", service().into()),
                    ("domain", domain.into()),
                    ("how", how.into()),
                    ("spf_note", spf_note.into()),
                ],
            ),
        )
    } else if e.spf_pass_unaligned > 0
        && 2 * e.spf_pass_unaligned >= e.messages - e.spf_aligned_pass
    {
        let envelope = or_stand_in(e.spf_domain, messages, "diagnosis-another-domain");
        let how = aside(e.provider.and_then(|p| p.mail_from_setup), messages);
        (
            Code::SpfNotAligned,
            messages.format(
                "diagnosis-spf-not-aligned",
                &[
                    ("envelope", envelope.into()),
                    ("service", service().into()),
                    ("domain", domain.into()),
                    ("how", how.into()),
                ],
            ),
        )
    } else if e.own_dkim_fail > 0
        && 2 * e.lifetime.dkim_aligned_pass >= e.lifetime.messages
        && e.dkim_aligned_pass < e.messages
    {
        let record = match e.failing_selector {
            Some(selector) => format!("{selector}._domainkey.{domain}"),
            None => messages.format(
                "diagnosis-dkim-record-unknown",
                &[("domain", domain.into())],
            ),
        };
        (
            Code::DkimFailing,
            messages.format(
                "diagnosis-dkim-failing",
                &[
                    ("domain", domain.into()),
                    ("failing", (e.messages - e.dkim_aligned_pass).into()),
                    ("messages", e.messages.into()),
                    ("record", record.into()),
                ],
            ),
        )
    } else if e.dkim_aligned_pass as f64 >= DKIM_MOSTLY_PASSES_SHARE * total
        && (e.spf_aligned_pass as f64) < total / 2.0
    {
        (Code::Forwarded, messages.text("diagnosis-forwarded"))
    } else if fail as f64 >= OFTEN_FAILS_SHARE * total {
        (
            Code::OftenFails,
            messages.format(
                "diagnosis-often-fails",
                &[
                    ("fail", fail.into()),
                    ("messages", e.messages.into()),
                    ("domain", domain.into()),
                ],
            ),
        )
    } else if e.dkim_aligned_pass == 0 {
        (
            Code::DkimMissing,
            messages.format("diagnosis-dkim-missing", &[("domain", domain.into())]),
        )
    } else if fail == 0 {
        (
            Code::MostlyAligned,
            messages.format(
                "diagnosis-mostly-aligned-all",
                &[("messages", e.messages.into())],
            ),
        )
    } else {
        (
            Code::MostlyAligned,
            messages.format(
                "diagnosis-mostly-aligned",
                &[
                    ("passed", e.dmarc_pass.into()),
                    ("messages", e.messages.into()),
                ],
            ),
        )
    };
    Diagnosis { code, message }
}

/// `name`, or the message `stand_in` when the reports do not give it.
fn or_stand_in(name: Option<&str>, messages: &Messages, stand_in: &str) -> String {
    name.map_or_else(|| messages.text(stand_in), str::to_owned)
}

/// A service's own setup step (a `setup-*` message), in parentheses, or
/// nothing.
fn aside(setup: Option<&str>, messages: &Messages) -> String {
    setup
        .map(|id| {
            messages.format(
                "diagnosis-setup-aside",
                &[("how", messages.text(id).into())],
            )
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::insight::providers::identify;

    fn english() -> Messages {
        Messages::new(Lang::En)
    }

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
        let d = diagnose(&e, &english());
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
        assert_eq!(diagnose(&e, &english()).code, Code::Unauthorised);
    }

    #[test]
    fn rules_are_tried_in_order() {
        let aligned = Evidence {
            dmarc_pass: 3,
            dkim_aligned_pass: 3,
            spf_aligned_pass: 3,
            ..evidence(3, 3)
        };
        assert_eq!(diagnose(&aligned, &english()).code, Code::Aligned);
        let spf_only = Evidence {
            dmarc_pass: 3,
            spf_aligned_pass: 3,
            ..evidence(3, 3)
        };
        assert_eq!(diagnose(&spf_only, &english()).code, Code::DkimMissing);
    }

    /// SES signing with its own domain and sending from its own envelope.
    fn ses_unaligned() -> Evidence<'static> {
        Evidence {
            dkim_pass_unaligned: 10,
            spf_pass_unaligned: 10,
            provider: identify("amazonses.com"),
            dkim_domain: Some("amazonses.com"),
            spf_domain: Some("us-east-1.amazonses.com"),
            ..evidence(10, 0)
        }
    }

    #[test]
    fn dkim_not_aligned_with_its_spf_note_reads_as_before_in_english() {
        let d = diagnose(&ses_unaligned(), &english());
        assert_eq!(d.code, Code::DkimNotAligned);
        assert_eq!(
            d.message,
            "DKIM passes only for amazonses.com, Amazon SES's domain, not for example.com. \
             Enable Amazon SES's DKIM signing for example.com (Easy DKIM on SES: verify \
             the domain and publish its three CNAME records). SPF passes for \
             us-east-1.amazonses.com only: a custom MAIL FROM subdomain of example.com \
             aligns it too."
        );
    }

    #[test]
    fn japanese_diagnosis_names_the_ses_setup_steps() {
        let d = diagnose(&ses_unaligned(), &Messages::new(Lang::Ja));
        assert_eq!(d.code, Code::DkimNotAligned);
        assert_eq!(
            d.message,
            "DKIMはamazonses.com（Amazon SESのドメイン）でのみ成功しており、example.comでは\
             成功していません。Amazon SESでexample.comのDKIM署名を有効にしてください（SESの\
             Easy DKIMでドメインを検証し、3件のCNAMEレコードをDNSに公開します）。SPFも\
             us-east-1.amazonses.comでのみ成功しています。example.comのサブドメインを\
             カスタムMAIL FROMドメインに設定すると、SPFも整合します。"
        );
    }

    #[test]
    fn japanese_stand_ins_when_the_reports_name_no_service() {
        let e = Evidence {
            dmarc_pass: 9,
            dkim_aligned_pass: 10,
            spf_pass_unaligned: 10,
            ..evidence(10, 10)
        };
        let d = diagnose(&e, &Messages::new(Lang::Ja));
        assert_eq!(d.code, Code::SpfNotAligned);
        assert!(
            d.message
                .starts_with("SPFは別のドメインで成功していますが、これは送信サービスの"),
            "{}",
            d.message
        );
    }
}
