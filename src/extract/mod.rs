//! Message bytes → report payloads.
//!
//! Walks every MIME part (nested multiparts and attached messages included),
//! opens gzip (every member) and zip (every entry), and hands each report
//! document, decompressed and streaming, to a [`PayloadVisitor`]: XML as an
//! aggregate report, JSON as an SMTP TLS report. A message with a
//! `message/feedback-report` part is a failure report, handed over with its
//! parts gathered (see `arf`). The kind comes from the content, never from
//! the recipient: one address may get all three. What looks like a report
//! but cannot be opened is handed over as unreadable, with the reason, so
//! that it can be quarantined. This module parses no XML or JSON and knows
//! no SQL.
//!
//! The limits on what a message may unpack to are enforced here, each in one
//! place: `max_mime_parts` before a message is parsed, `max_nesting_depth`
//! at each layer, `max_zip_entries` before an archive is opened,
//! `max_decompressed_bytes` on every decompressed stream (one budget for the
//! whole input) and `max_message_bytes` on what is read into memory.
//!
//! The MIME walk is this module's own (`mime`, `walk`): it runs over the
//! bytes as received, one message level at a time, hands only header
//! sections to mail-parser, and undoes transfer encodings but never a
//! charset, so every value a parser reads is what the reporter sent.
//!
//! Each payload is named by a *member* path, a contract that quarantine rows
//! and `reparse` rely on:
//!
//! - The entities of a message are numbered in pre-order from 0 (the message
//!   itself): each multipart, then its parts in order. The entities of an
//!   attached message (`message/rfc822`, `message/global`, an untyped part
//!   of a `multipart/digest`) are numbered on right after the part that
//!   holds it, as if the message were part of the tree. So in a
//!   `multipart/mixed` (0) of a text part (1) and a forwarded report (2)
//!   whose message (3) is a `multipart/mixed` of text (4) and a gzip
//!   attachment (5), the report is `5`.
//! - A payload that must be opened adds a level named by what opened it:
//!   zip entries by their names (`2/google.com!example.com!1549929600!1549929600.xml`),
//!   a message found by its bytes (an `.eml` in a part of any type, a zip or
//!   a gzip) by its own entity numbers (`2/0`, `2/3`). Gzip adds no level.
//! - A bare file has the empty member; the entities of a message read as a
//!   file are numbered as those of a message received.

mod arf;
mod decompress;
mod header;
mod mime;
mod sniff;
mod walk;

pub use arf::FailureMessage;
pub use decompress::{Bounded, Budget, GzipMembers};
pub use header::MessageHeader;
use mime::Entity;
pub use sniff::{SNIFF_BYTES, Sniffed, report_like_name, report_like_type, sniff};

use crate::limits::{LimitExceeded, Limits};
use crate::report::QuarantineKind;
use std::fmt;
use std::io::{self, BufRead};
use walk::{Payload, Walk};

/// A payload found in the input, and where.
#[derive(Debug, Clone, Copy)]
pub struct PayloadInfo<'a> {
    /// Where the payload sits (see the module documentation).
    pub member: &'a str,
    /// The decoded bytes of the MIME part that carried it, when it came in a
    /// message part; kept with a quarantined payload so it can be read again.
    pub carrier: Option<&'a [u8]>,
    /// The `charset` parameter of that part, when the document is the part
    /// itself (not compressed inside it): the text encoding of a document
    /// that declares none of its own. Never applied to the bytes here.
    pub charset: Option<&'a str>,
}

/// Receives what the extractor finds. Documents are `Send` so that a visitor
/// may parse on one thread while it stores on another.
pub trait PayloadVisitor {
    type Error;
    /// An XML document, decompressed, to be parsed as an aggregate report.
    fn report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Self::Error>;
    /// A JSON document, decompressed, to be parsed as an SMTP TLS report.
    fn tls_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Self::Error>;
    /// A failure report; `payload.member` is its feedback part.
    fn failure_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        report: &FailureMessage,
    ) -> Result<(), Self::Error>;
    /// Something that looks like a report but cannot be opened.
    fn unreadable(
        &mut self,
        payload: &PayloadInfo<'_>,
        error: ExtractError,
    ) -> Result<(), Self::Error>;
}

/// Why a report-like payload could not be opened.
#[derive(Debug)]
pub enum ExtractError {
    Limit(LimitExceeded),
    /// Corrupt or truncated compressed data.
    Corrupt {
        format: &'static str,
        reason: String,
    },
    /// The bytes are none of XML, gzip, zip or MIME, though labelled as a report.
    NotRecognised,
    /// A zip archive with no report in it.
    EmptyArchive,
}

impl ExtractError {
    /// The class of error, stored beside the payload it kept from the store.
    pub fn kind(&self) -> QuarantineKind {
        match self {
            ExtractError::Limit(_) => QuarantineKind::Limit,
            ExtractError::Corrupt { .. } => QuarantineKind::CorruptPayload,
            ExtractError::NotRecognised => QuarantineKind::NotRecognised,
            ExtractError::EmptyArchive => QuarantineKind::EmptyArchive,
        }
    }

    fn from_io(format: &'static str, error: io::Error) -> ExtractError {
        match LimitExceeded::from_io(&error) {
            Some(limit) => ExtractError::Limit(limit),
            None => ExtractError::Corrupt {
                format,
                reason: error.to_string(),
            },
        }
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractError::Limit(limit) => limit.fmt(f),
            ExtractError::Corrupt { format, reason } => {
                write!(f, "corrupt {format} data: {reason}")
            }
            ExtractError::NotRecognised => {
                write!(
                    f,
                    "payload labelled as a report is not XML, JSON, gzip, zip or MIME"
                )
            }
            ExtractError::EmptyArchive => write!(f, "zip archive holds no report"),
        }
    }
}

impl std::error::Error for ExtractError {}

/// Where the body of the message in `raw` begins, as the walker reads it:
/// past any blank lines it begins with and its header section. What
/// authenticates a message must read the same header section (see `auth`).
pub fn body_offset(raw: &[u8]) -> usize {
    raw.len() - Entity::message(raw).body.len()
}

/// Extracts the payloads of an e-mail message. Returns how many report-like
/// payloads were found (read or not): zero means the message is not a report.
pub fn extract_message<V: PayloadVisitor>(
    raw: &[u8],
    limits: &Limits,
    visitor: &mut V,
) -> Result<usize, V::Error> {
    let mut walk = Walk::new(limits, visitor);
    walk.message(raw, "", 0)?;
    Ok(walk.found)
}

/// Extracts the payloads of a file or stream of unknown kind: a bare XML
/// report, gzip, zip, or a whole e-mail message. `name` (a file name) says
/// whether unrecognised bytes were meant to be a report.
pub fn extract_stream<V: PayloadVisitor>(
    input: &mut (dyn BufRead + Send),
    name: Option<&str>,
    limits: &Limits,
    visitor: &mut V,
) -> Result<usize, V::Error> {
    let mut walk = Walk::new(limits, visitor);
    let declared = name.is_some_and(report_like_name);
    walk.stream(input, &Payload::bare(""), declared, 0)?;
    Ok(walk.found)
}

#[cfg(test)]
mod tests;
