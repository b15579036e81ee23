//! Failure reports (RFC 6591): an ARF report (RFC 5965), recognised by its
//! `message/feedback-report` part, whatever the top-level type says (some
//! reporters send `multipart/mixed` rather than `multipart/report`).
//!
//! A failure report is not a document to stream but a message of parts that
//! belong together: the feedback fields and the failed message, or its
//! headers. They are gathered here from the message's tree, as the bytes
//! were received (transfer encodings undone, nothing else); the fields are
//! read by `crate::parse::parse_failure_report`.

use super::mime::{MessageTree, Node, Shape, split_header_section};
use mail_parser::Message;

/// The parts of a failure report, as found in its message.
#[derive(Debug, Clone, Default)]
pub struct FailureMessage {
    /// The `message/feedback-report` part: its header section as received,
    /// a line break, then its decoded body. Some reporters end the part's
    /// header section with a whitespace-only line and put the fields there.
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

/// The index in `tree.nodes` of its `message/feedback-report` part, and the
/// report's parts, if the message is a failure report.
pub fn failure_report(tree: &MessageTree<'_>) -> Option<(usize, FailureMessage)> {
    let index = tree
        .nodes
        .iter()
        .position(|node| node.entity.has_type("message", "feedback-report"))?;
    let part = &tree.nodes[index].entity;
    let mut feedback = part.header_section.to_vec();
    feedback.extend_from_slice(b"\r\n");
    feedback.extend_from_slice(&part.decoded_body());
    let original = tree.nodes[index + 1..]
        .iter()
        .find(|node| node.shape == Shape::AttachedMessage || is_headers_only(node));
    let (original_headers, original_body) = match original {
        Some(node) => {
            let contents = node.entity.decoded_body();
            let (headers, body) = split_header_section(&contents);
            let body = (!is_headers_only(node) && !body.is_empty()).then(|| body.to_vec());
            (Some(headers.to_vec()), body)
        }
        None => (None, None),
    };
    let headers = tree.nodes[0].entity.headers();
    let report = FailureMessage {
        feedback,
        original_headers,
        original_body,
        from: headers.and_then(from_address),
        message_id: headers.and_then(Message::message_id).map(str::to_owned),
    };
    Some((index, report))
}

/// The address of a message's `From` field.
pub fn from_address(headers: &Message<'_>) -> Option<String> {
    headers
        .from()
        .and_then(|from| from.first())
        .and_then(|address| address.address())
        .map(str::to_owned)
}

/// `text/rfc822-headers` (RFC 6522), or `message/rfc822-headers` as some
/// send it: the failed message's headers alone.
fn is_headers_only(node: &Node<'_>) -> bool {
    node.entity.has_type("text", "rfc822-headers")
        || node.entity.has_type("message", "rfc822-headers")
}
