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
//! whole input) and `max_message_bytes` on what is read into memory. The
//! MIME parser never nests attached messages itself (see `mime`).
//!
//! Each payload is named by a *member* path: the index of its MIME part in a
//! depth-first walk of the message (0 is the message itself), then zip entry
//! names, joined with `/` (`2/google.com!example.com!1549929600!1549929600.xml`).
//! Gzip adds no level. A bare file has the empty member.

mod arf;
mod decompress;
mod mime;
mod sniff;

pub use arf::FailureMessage;
pub use decompress::{Bounded, Budget, GzipMembers};
pub use mime::split_header_section;
pub use sniff::{SNIFF_BYTES, Sniffed, report_like_name, report_like_type, sniff};

use crate::limits::{LimitExceeded, Limits};
use mail_parser::{Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use mime::Defused;
use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::Arc;

/// A payload found in the input, and where.
#[derive(Debug, Clone, Copy)]
pub struct PayloadInfo<'a> {
    /// Where the payload sits (see the module documentation).
    pub member: &'a str,
    /// The decoded bytes of the MIME part that carried it, when it came in a
    /// message part; kept with a quarantined payload so it can be read again.
    pub carrier: Option<&'a [u8]>,
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
    /// A short, stable name for the class of error, stored beside the message.
    pub fn kind(&self) -> &'static str {
        match self {
            ExtractError::Limit(_) => "limit",
            ExtractError::Corrupt { .. } => "corrupt_payload",
            ExtractError::NotRecognised => "not_recognised",
            ExtractError::EmptyArchive => "empty_archive",
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

/// Extracts the payloads of an e-mail message. Returns how many report-like
/// payloads were found (read or not): zero means the message is not a report.
pub fn extract_message<V: PayloadVisitor>(
    raw: &[u8],
    limits: &Limits,
    visitor: &mut V,
) -> Result<usize, V::Error> {
    let mut walk = Walk {
        limits,
        visitor,
        found: 0,
        budget: Budget::new(limits.max_decompressed_bytes),
        held: 0,
    };
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
    let mut walk = Walk {
        limits,
        visitor,
        found: 0,
        budget: Budget::new(limits.max_decompressed_bytes),
        held: 0,
    };
    let declared = name.is_some_and(report_like_name);
    walk.stream(input, "", None, declared, 0)?;
    Ok(walk.found)
}

struct Walk<'a, V> {
    limits: &'a Limits,
    visitor: &'a mut V,
    found: usize,
    /// `max_decompressed_bytes`, for the whole input, every layer drawing on it.
    budget: Arc<Budget>,
    /// Bytes of the archives and messages being opened, read into memory
    /// from decompressed streams; at most `max_message_bytes` together.
    held: u64,
}

impl<V: PayloadVisitor> Walk<'_, V> {
    fn unreadable(
        &mut self,
        member: &str,
        carrier: Option<&[u8]>,
        error: ExtractError,
    ) -> Result<(), V::Error> {
        self.found += 1;
        self.visitor
            .unreadable(&PayloadInfo { member, carrier }, error)
    }

    fn too_deep(&mut self, member: &str, carrier: Option<&[u8]>) -> Result<(), V::Error> {
        let limit = LimitExceeded {
            key: "max_nesting_depth",
            limit: self.limits.max_nesting_depth as u64,
        };
        self.unreadable(member, carrier, ExtractError::Limit(limit))
    }

    /// A payload as a stream: sniff it, then open it layer by layer.
    /// `declared`: its label promised a report, so unknown bytes are quarantined
    /// rather than ignored.
    fn stream(
        &mut self,
        input: &mut (dyn BufRead + Send),
        member: &str,
        carrier: Option<&[u8]>,
        declared: bool,
        depth: usize,
    ) -> Result<(), V::Error> {
        if depth > self.limits.max_nesting_depth {
            return self.too_deep(member, carrier);
        }
        let mut head = Vec::with_capacity(sniff::SNIFF_BYTES);
        if let Err(error) = input.take(sniff::SNIFF_BYTES as u64).read_to_end(&mut head) {
            return self.unreadable(member, carrier, ExtractError::from_io("compressed", error));
        }
        let kind = sniff(&head);
        let mut whole = BufReader::with_capacity(64 * 1024, Cursor::new(head).chain(input));
        match kind {
            Sniffed::Xml => {
                self.found += 1;
                self.visitor
                    .report(&PayloadInfo { member, carrier }, &mut whole)
            }
            Sniffed::Gzip => {
                let inflated = Bounded::new(GzipMembers::new(whole), self.budget.clone());
                let mut inflated = BufReader::with_capacity(64 * 1024, inflated);
                self.stream(&mut inflated, member, carrier, true, depth + 1)
            }
            Sniffed::Zip | Sniffed::Email => {
                let mut bytes = Vec::new();
                // The archives and messages around this one are held in
                // memory too: together they get `max_message_bytes`.
                let cap = self.limits.max_message_bytes.saturating_sub(self.held);
                if let Err(error) = whole.take(cap + 1).read_to_end(&mut bytes) {
                    return self.unreadable(member, carrier, ExtractError::from_io("gzip", error));
                }
                if bytes.len() as u64 > cap {
                    let limit = LimitExceeded {
                        key: "max_message_bytes",
                        limit: self.limits.max_message_bytes,
                    };
                    return self.unreadable(member, carrier, ExtractError::Limit(limit));
                }
                self.held += bytes.len() as u64;
                let opened = if kind == Sniffed::Zip {
                    self.zip(&bytes, member, carrier, depth + 1)
                } else {
                    self.message(&bytes, member, depth + 1)
                };
                self.held -= bytes.len() as u64;
                opened
            }
            Sniffed::Json => {
                self.found += 1;
                self.visitor
                    .tls_report(&PayloadInfo { member, carrier }, &mut whole)
            }
            Sniffed::Unknown if declared => {
                self.unreadable(member, carrier, ExtractError::NotRecognised)
            }
            Sniffed::Unknown => Ok(()),
        }
    }

    /// Every entry of a zip archive that may be a report.
    fn zip(
        &mut self,
        bytes: &[u8],
        member: &str,
        carrier: Option<&[u8]>,
        depth: usize,
    ) -> Result<(), V::Error> {
        if depth > self.limits.max_nesting_depth {
            return self.too_deep(member, carrier);
        }
        // Counted before the archive is opened: opening reads the whole
        // central directory into memory, a few hundred bytes an entry, and
        // every entry it reads there begins with this signature.
        let entries =
            central_directory_headers(bytes, self.limits.max_zip_entries.saturating_add(1));
        if entries > self.limits.max_zip_entries {
            let limit = LimitExceeded {
                key: "max_zip_entries",
                limit: self.limits.max_zip_entries as u64,
            };
            return self.unreadable(member, carrier, ExtractError::Limit(limit));
        }
        let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(archive) => archive,
            Err(error) => {
                let error = ExtractError::Corrupt {
                    format: "zip",
                    reason: error.to_string(),
                };
                return self.unreadable(member, carrier, error);
            }
        };
        let found_before = self.found;
        for index in 0..archive.len() {
            let entry = archive.by_index(index);
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = format!(
                        "{member}{}#{index}",
                        if member.is_empty() { "" } else { "/" }
                    );
                    let error = ExtractError::Corrupt {
                        format: "zip",
                        reason: error.to_string(),
                    };
                    self.unreadable(&path, carrier, error)?;
                    continue;
                }
            };
            let name = match entry.name() {
                Ok(name) => name.into_owned(),
                Err(_) => format!("#{index}"),
            };
            if entry.is_dir() || is_macos_metadata(&name) {
                continue;
            }
            let path = join_member(member, &name);
            let declared = report_like_name(&name);
            let inflated = Bounded::new(&mut entry, self.budget.clone());
            let mut inflated = BufReader::with_capacity(64 * 1024, inflated);
            self.stream(&mut inflated, &path, carrier, declared, depth + 1)?;
        }
        if self.found == found_before {
            self.unreadable(member, carrier, ExtractError::EmptyArchive)?;
        }
        Ok(())
    }

    /// An e-mail message: every MIME part, depth first.
    fn message(&mut self, raw: &[u8], member: &str, depth: usize) -> Result<(), V::Error> {
        let bytes = Defused::new(raw);
        let message = match self.parse_mime(&bytes) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(()),
            Err(limit) => {
                let whole = join_member(member, "0");
                return self.unreadable(&whole, None, ExtractError::Limit(limit));
            }
        };
        if let Some((index, report)) = arf::failure_report(&message, &bytes) {
            return self.failure_report(&join_member(member, &index.to_string()), &report);
        }
        let mut counter = 0;
        self.part(&message, &bytes, 0, member, &mut counter, depth, false)
    }

    fn failure_report(&mut self, member: &str, report: &FailureMessage) -> Result<(), V::Error> {
        self.found += 1;
        let payload = PayloadInfo {
            member,
            carrier: None,
        };
        self.visitor.failure_report(&payload, report)
    }

    /// Parses defused bytes (see [`mime`]), if they hold no more parts than
    /// `max_mime_parts`.
    fn parse_mime<'b>(&self, bytes: &'b Defused<'_>) -> Result<Option<Message<'b>>, LimitExceeded> {
        let limit = self.limits.max_mime_parts;
        if mime::part_bound(bytes.shown(), limit.saturating_add(1)) > limit {
            return Err(LimitExceeded {
                key: "max_mime_parts",
                limit: limit as u64,
            });
        }
        Ok(MessageParser::default().parse(bytes.shown()))
    }

    /// One part of `message` (parsed from `bytes`) and what is inside it.
    /// `in_digest`: its parent is a `multipart/digest`.
    #[allow(clippy::too_many_arguments)]
    fn part(
        &mut self,
        message: &Message<'_>,
        bytes: &Defused<'_>,
        id: u32,
        prefix: &str,
        counter: &mut usize,
        depth: usize,
        in_digest: bool,
    ) -> Result<(), V::Error> {
        let index = *counter;
        *counter += 1;
        let Some(part) = message.parts.get(id as usize) else {
            return Ok(());
        };
        let member = join_member(prefix, &index.to_string());
        if depth > self.limits.max_nesting_depth {
            return self.too_deep(&member, None);
        }
        match &part.body {
            PartType::Multipart(children) => {
                let digest = mime::is_digest(part);
                for &child in children {
                    self.part(message, bytes, child, prefix, counter, depth + 1, digest)?;
                }
                Ok(())
            }
            // The parser is shown no type it would nest (see `mime`).
            PartType::Message(_) => Ok(()),
            _ if mime::is_attached_message(part, in_digest) => {
                let attached = match part.encoding {
                    Encoding::None => {
                        self.attached(&bytes.body(part), &member, prefix, counter, depth)
                    }
                    Encoding::Base64 | Encoding::QuotedPrintable => {
                        let decoded = bytes.contents(part);
                        self.attached(&Defused::new(&decoded), &member, prefix, counter, depth)
                    }
                };
                match attached? {
                    true => Ok(()),
                    // Not a message after all: a payload like any other.
                    false => self.leaf(part, &bytes.contents(part), &member, depth),
                }
            }
            _ => self.leaf(part, &bytes.contents(part), &member, depth),
        }
    }

    /// The message attached in the part at `member`, walked as the parser
    /// would have walked it nested: its parts numbered on from `counter`,
    /// one level deeper. False when the bytes hold no message.
    fn attached(
        &mut self,
        bytes: &Defused<'_>,
        member: &str,
        prefix: &str,
        counter: &mut usize,
        depth: usize,
    ) -> Result<bool, V::Error> {
        match self.parse_mime(bytes) {
            Ok(Some(message)) => {
                // A failure report forwarded as an attachment: its parts
                // are numbered on as if walked.
                if let Some((index, report)) = arf::failure_report(&message, bytes) {
                    let path = join_member(prefix, &(*counter + index).to_string());
                    *counter += message.parts.len();
                    self.failure_report(&path, &report)?;
                    return Ok(true);
                }
                self.part(&message, bytes, 0, prefix, counter, depth + 1, false)?;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(limit) => {
                self.unreadable(member, None, ExtractError::Limit(limit))?;
                Ok(true)
            }
        }
    }

    /// A part with no parts inside: a report candidate by its label or its
    /// first bytes.
    fn leaf(
        &mut self,
        part: &MessagePart<'_>,
        bytes: &[u8],
        member: &str,
        depth: usize,
    ) -> Result<(), V::Error> {
        let content_type = part
            .content_type()
            .map(|ct| match &ct.c_subtype {
                Some(sub) => format!("{}/{}", ct.c_type, sub),
                None => ct.c_type.to_string(),
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        let name = part.attachment_name();
        let declared = name.is_some_and(report_like_name)
            || (report_like_type(&content_type) && content_type != "application/octet-stream")
            || (content_type == "application/octet-stream" && name.is_some());
        let kind = sniff(&bytes[..bytes.len().min(sniff::SNIFF_BYTES)]);
        let wanted = match kind {
            Sniffed::Gzip | Sniffed::Zip => true,
            Sniffed::Xml => declared || opens_feedback_element(bytes),
            Sniffed::Json => declared || mentions(bytes, b"organization-name"),
            // Attached messages are walked as parts already.
            Sniffed::Email => false,
            Sniffed::Unknown => declared,
        };
        if !wanted {
            return Ok(());
        }
        self.stream(&mut &bytes[..], member, Some(bytes), declared, depth + 1)
    }
}

/// Whether the first bytes hold a `<feedback` start tag (with any prefix):
/// tells a report pasted into a text part from an HTML body.
fn opens_feedback_element(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(sniff::SNIFF_BYTES)];
    head.split(|&b| b == b'<').skip(1).any(|tag| {
        let name_end = tag
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
            .unwrap_or(tag.len());
        let name = &tag[..name_end];
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        local == b"feedback" && name_end < tag.len()
    })
}

/// Whether `needle` occurs in the first bytes of `bytes`.
fn mentions(bytes: &[u8], needle: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(sniff::SNIFF_BYTES)];
    head.windows(needle.len()).any(|window| window == needle)
}

/// How many zip central directory headers `bytes` may hold, counting their
/// signatures, up to `enough`.
fn central_directory_headers(bytes: &[u8], enough: usize) -> usize {
    bytes
        .windows(4)
        .filter(|window| *window == b"PK\x01\x02")
        .take(enough)
        .count()
}

fn is_macos_metadata(name: &str) -> bool {
    name.starts_with("__MACOSX/")
        || name
            .rsplit('/')
            .next()
            .is_some_and(|base| base.starts_with("._"))
}

fn join_member(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}
