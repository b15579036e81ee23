//! Failure reports (RFC 6591): an ARF report (RFC 5965), recognised by its
//! `message/feedback-report` part, whatever the top-level type says (some
//! reporters send `multipart/mixed` rather than `multipart/report`).
//!
//! A failure report is not a document to stream but a message of parts that
//! belong together: the feedback fields and the failed message, or its
//! headers. They are gathered here from the parsed message, as bytes; the
//! fields are read by `crate::parse::parse_failure_report`.

use super::mime::{self, Defused, split_header_section};
use mail_parser::{Message, MessagePart, MimeHeaders};

/// The parts of a failure report, as found in its message.
#[derive(Debug, Clone, Default)]
pub struct FailureMessage {
    /// The `message/feedback-report` part: its header section as received,
    /// then its decoded body (see [`Defused::header_section`] for why both).
    pub feedback: Vec<u8>,
    /// The failed message's header section, from the `message/rfc822` or
    /// `text/rfc822-headers` part after the feedback part.
    pub original_headers: Option<Vec<u8>>,
    /// The failed message's body, when the report includes it.
    pub original_body: Option<Vec<u8>>,
    /// The report message's `From` address.
    pub from: Option<String>,
    /// The report message's `Message-ID`, without `<>`.
    pub message_id: Option<String>,
}

/// The index in `message.parts` of its `message/feedback-report` part, and
/// the report's parts, if `message` (parsed from `bytes`) is a failure report.
pub fn failure_report(
    message: &Message<'_>,
    bytes: &Defused<'_>,
) -> Option<(usize, FailureMessage)> {
    let index = message
        .parts
        .iter()
        .position(|part| has_type(part, "message", "feedback-report"))?;
    let part = &message.parts[index];
    let mut feedback = bytes.header_section(part).to_vec();
    feedback.extend_from_slice(b"\r\n");
    feedback.extend_from_slice(&bytes.contents(part));
    let original = message.parts[index + 1..]
        .iter()
        .find(|part| mime::is_attached_message(part, false) || is_headers_only(part));
    let (original_headers, original_body) = match original {
        Some(part) => {
            let contents = bytes.contents(part);
            let (headers, body) = split_header_section(&contents);
            let body = (!is_headers_only(part) && !body.is_empty()).then(|| body.to_vec());
            (Some(headers.to_vec()), body)
        }
        None => (None, None),
    };
    let report = FailureMessage {
        feedback,
        original_headers,
        original_body,
        from: message
            .from()
            .and_then(|from| from.first())
            .and_then(|address| address.address())
            .map(str::to_owned),
        message_id: message.message_id().map(str::to_owned),
    };
    Some((index, report))
}

/// `text/rfc822-headers` (RFC 6522), or `message/rfc822-headers` as some
/// send it: the failed message's headers alone. Its `rfc822` is defused
/// (see `mime`), hence the spelling.
fn is_headers_only(part: &MessagePart<'_>) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.c_subtype
            .as_deref()
            .is_some_and(|sub| sub.eq_ignore_ascii_case("rfc82x-headers"))
    })
}

fn has_type(part: &MessagePart<'_>, main: &str, sub: &str) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.c_type.eq_ignore_ascii_case(main)
            && ct
                .c_subtype
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(sub))
    })
}
