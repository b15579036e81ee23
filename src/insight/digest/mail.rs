//! The digest as an RFC 5322 message: `multipart/alternative` with the
//! plain text first and the HTML second (clients show the last they can),
//! both UTF-8; lettre picks each part's transfer encoding.

use super::{Digest, DigestError, html, text};
use crate::i18n::{FluentValue, Messages};
use crate::insight::share;
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

/// RFC 3834: the mail is made by a program, so no vacation responder
/// answers it.
const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");

/// The recipients: `to` (from `--to`) when given, else `configured`
/// (`digest.to`). Empty when neither names any.
pub fn recipients(to: &[String], configured: &[String]) -> Result<Vec<Mailbox>, DigestError> {
    let (key, addresses) = if to.is_empty() {
        ("digest.to", configured)
    } else {
        ("--to", to)
    };
    addresses
        .iter()
        .map(|value| {
            value.parse::<Mailbox>().map_err(|_| DigestError::Address {
                key,
                value: value.clone(),
            })
        })
        .collect()
}

/// The mail of `digest` from `from` to `to`, its subject after
/// `subject_prefix`, in the language the digest was asked in. Without
/// recipients (`--stdout` only) it has no `To`. lettre writes a subject
/// that is not ASCII as RFC 2047 encoded words.
pub fn message(
    digest: &Digest,
    from: &str,
    to: &[Mailbox],
    subject_prefix: &str,
) -> Result<Message, DigestError> {
    let from: Mailbox = from.parse().map_err(|_| DigestError::Address {
        key: "digest.from",
        value: from.to_owned(),
    })?;
    let messages = Messages::new(digest.request.lang);
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject(digest, subject_prefix, &messages))
        .message_id(Some(message_id(digest, &from)))
        .raw_header(HeaderValue::new(AUTO_SUBMITTED, "auto-generated".into()));
    for recipient in to {
        builder = builder.to(recipient.clone());
    }
    if to.is_empty() {
        let envelope =
            lettre::address::Envelope::new(Some(from.email.clone()), vec![from.email.clone()])?;
        builder = builder.envelope(envelope);
    }
    let body = MultiPart::alternative_plain_html(text(digest, &messages), html(digest, &messages));
    Ok(builder.multipart(body)?)
}

/// `[dmarc-sink] DMARC digest 2026-11-02 to 2026-11-08: 3,220 messages,
/// 95.3% DMARC pass`, or `…: nothing arrived`.
pub fn subject(digest: &Digest, prefix: &str, messages: &Messages) -> String {
    let period = digest.request.period;
    let mut figures = if digest.is_quiet() {
        messages.text("digest-subject-quiet")
    } else {
        let mail: i64 = digest.domains.iter().map(|d| d.figures.messages).sum();
        let passed: i64 = digest.domains.iter().map(|d| d.figures.dmarc_pass).sum();
        messages.format(
            "digest-subject-figures",
            &[
                ("messages", FluentValue::from(mail)),
                (
                    "share",
                    FluentValue::from(messages.percent(share(passed, mail))),
                ),
            ],
        )
    };
    let silent = digest.silent_reporters.len() + digest.silent_domains.len();
    if silent > 0 {
        figures = messages.format(
            "digest-subject-silent",
            &[
                ("figures", FluentValue::from(figures)),
                ("silent", FluentValue::from(silent)),
            ],
        );
    }
    let subject = messages.format(
        "digest-subject",
        &[
            ("since", FluentValue::from(messages.day(period.since))),
            ("until", FluentValue::from(messages.day(period.until - 1))),
            ("figures", FluentValue::from(figures)),
        ],
    );
    if prefix.is_empty() {
        subject
    } else {
        format!("{prefix} {subject}")
    }
}

/// Unique per digest sent: the period's end, the clock and the process,
/// at the sender's domain.
fn message_id(digest: &Digest, from: &Mailbox) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "<digest.{}.{nanos}.{}@{}>",
        digest.request.period.until,
        std::process::id(),
        from.email.domain()
    )
}
