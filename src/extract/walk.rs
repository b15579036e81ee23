//! The walk over one input: message parts, then the layers of each payload
//! (gzip, zip, a message inside), every limit checked on the way.

use super::decompress::{Bounded, Budget, GzipMembers};
use super::mime::{self, Entity, MessageTree, Shape};
use super::sniff::{self, Sniffed, report_like_name, report_like_type, sniff};
use super::{ExtractError, FailureMessage, PayloadInfo, PayloadVisitor, arf};
use crate::limits::{LimitExceeded, Limits};
use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::Arc;

pub(super) struct Walk<'a, V> {
    pub(super) limits: &'a Limits,
    pub(super) visitor: &'a mut V,
    pub(super) found: usize,
    /// `max_decompressed_bytes`, for the whole input, every layer drawing on it.
    pub(super) budget: Arc<Budget>,
    /// Bytes of the archives and messages being opened, read into memory
    /// from decompressed streams; at most `max_message_bytes` together.
    pub(super) held: u64,
}

impl<'a, V> Walk<'a, V> {
    pub(super) fn new(limits: &'a Limits, visitor: &'a mut V) -> Self {
        Walk {
            limits,
            visitor,
            found: 0,
            budget: Budget::new(limits.max_decompressed_bytes),
            held: 0,
        }
    }
}

/// A payload on its way through the layers: where it is, what carried it.
#[derive(Clone, Copy)]
pub(super) struct Payload<'p> {
    pub(super) member: &'p str,
    /// The decoded MIME part it came in, if it came in one.
    pub(super) carrier: Option<&'p [u8]>,
    /// That part's `charset` parameter, for a document that names none.
    pub(super) charset: Option<&'p str>,
    /// What its bytes are read out of: named in a read error.
    pub(super) within: Layer,
}

impl<'p> Payload<'p> {
    pub(super) fn bare(member: &'p str) -> Self {
        Payload {
            member,
            carrier: None,
            charset: None,
            within: Layer::Plain,
        }
    }

    fn info(&self) -> PayloadInfo<'p> {
        PayloadInfo {
            member: self.member,
            carrier: self.carrier,
            charset: self.charset,
        }
    }

    /// The same payload one layer in: a compressed layer's bytes are no
    /// longer in the part's charset.
    fn inside(&self, member: &'p str, within: Layer) -> Payload<'p> {
        Payload {
            member,
            carrier: self.carrier,
            charset: None,
            within,
        }
    }
}

/// The layer a stream is read out of, for the label of a read error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layer {
    /// A message part, or a file: bytes in memory or on disk.
    Plain,
    Gzip,
    Zip,
}

impl Layer {
    fn format(self) -> &'static str {
        match self {
            Layer::Plain => "input",
            Layer::Gzip => "gzip",
            Layer::Zip => "zip",
        }
    }
}

impl<V: PayloadVisitor> Walk<'_, V> {
    fn unreadable(
        &mut self,
        member: &str,
        carrier: Option<&[u8]>,
        error: ExtractError,
    ) -> Result<(), V::Error> {
        self.found += 1;
        let info = PayloadInfo {
            member,
            carrier,
            charset: None,
        };
        self.visitor.unreadable(&info, error)
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
    pub(super) fn stream(
        &mut self,
        input: &mut (dyn BufRead + Send),
        payload: &Payload<'_>,
        declared: bool,
        depth: usize,
    ) -> Result<(), V::Error> {
        let (member, carrier) = (payload.member, payload.carrier);
        if depth > self.limits.max_nesting_depth {
            return self.too_deep(member, carrier);
        }
        let read_error = |error| ExtractError::from_io(payload.within.format(), error);
        let mut head = Vec::with_capacity(sniff::SNIFF_BYTES);
        if let Err(error) = input.take(sniff::SNIFF_BYTES as u64).read_to_end(&mut head) {
            return self.unreadable(member, carrier, read_error(error));
        }
        let kind = sniff(&head);
        let mut whole = BufReader::with_capacity(64 * 1024, Cursor::new(head).chain(input));
        match kind {
            Sniffed::Xml => {
                self.found += 1;
                self.visitor.report(&payload.info(), &mut whole)
            }
            Sniffed::Json => {
                self.found += 1;
                self.visitor.tls_report(&payload.info(), &mut whole)
            }
            Sniffed::Gzip => {
                let inflated = Bounded::new(GzipMembers::new(whole), self.budget.clone());
                let mut inflated = BufReader::with_capacity(64 * 1024, inflated);
                let inner = payload.inside(member, Layer::Gzip);
                self.stream(&mut inflated, &inner, true, depth + 1)
            }
            Sniffed::Zip | Sniffed::Email => {
                let mut bytes = Vec::new();
                // The archives and messages around this one are held in
                // memory too: together they get `max_message_bytes`.
                let cap = self.limits.max_message_bytes.saturating_sub(self.held);
                if let Err(error) = whole.take(cap + 1).read_to_end(&mut bytes) {
                    return self.unreadable(member, carrier, read_error(error));
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
                    let path = join_member(member, &format!("#{index}"));
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
            let inner = Payload {
                member: &path,
                carrier,
                charset: None,
                within: Layer::Zip,
            };
            self.stream(&mut inflated, &inner, declared, depth + 1)?;
        }
        if self.found == found_before {
            self.unreadable(member, carrier, ExtractError::EmptyArchive)?;
        }
        Ok(())
    }

    /// A message opened as a payload (the input itself, or an `.eml` found
    /// in a part, a gzip or a zip): its entities are numbered afresh under
    /// `member`, the message itself `0`.
    pub(super) fn message(
        &mut self,
        raw: &[u8],
        member: &str,
        depth: usize,
    ) -> Result<(), V::Error> {
        let mut counter = 0;
        let whole = join_member(member, "0");
        self.entities(raw, member, &mut counter, depth, &whole)
    }

    /// The entities of the message in `raw`, numbered on from `counter`
    /// under `prefix` in pre-order: an attached message's entities come
    /// right after the part that holds it, so the numbers are those of one
    /// depth-first walk over everything. `at` names the message for a limit
    /// it crosses. A failure report is handed over whole, as its feedback
    /// part; nothing else in its message is walked.
    fn entities(
        &mut self,
        raw: &[u8],
        prefix: &str,
        counter: &mut usize,
        depth: usize,
        at: &str,
    ) -> Result<(), V::Error> {
        let limit = self.limits.max_mime_parts;
        if mime::part_bound(raw, limit.saturating_add(1)) > limit {
            let limit = LimitExceeded {
                key: "max_mime_parts",
                limit: limit as u64,
            };
            return self.unreadable(at, None, ExtractError::Limit(limit));
        }
        let tree = MessageTree::parse(raw, depth, self.limits.max_nesting_depth);
        if let Some((index, report)) = arf::failure_report(&tree) {
            let member = join_member(prefix, &(*counter + index).to_string());
            *counter += tree.nodes.len();
            return self.failure_report(&member, &report);
        }
        for node in &tree.nodes {
            let member = join_member(prefix, &counter.to_string());
            *counter += 1;
            match node.shape {
                Shape::Multipart => {}
                Shape::TooDeep => self.too_deep(&member, None)?,
                Shape::AttachedMessage => {
                    let inner = node.entity.decoded_body();
                    if sniff(&inner[..inner.len().min(sniff::SNIFF_BYTES)]) == Sniffed::Email {
                        self.entities(&inner, prefix, counter, node.depth + 1, &member)?;
                    } else {
                        // Not a message after all: a payload like any other.
                        self.leaf(&node.entity, &member, node.depth)?;
                    }
                }
                Shape::Leaf => self.leaf(&node.entity, &member, node.depth)?,
            }
        }
        Ok(())
    }

    fn failure_report(&mut self, member: &str, report: &FailureMessage) -> Result<(), V::Error> {
        self.found += 1;
        let payload = PayloadInfo {
            member,
            carrier: None,
            charset: None,
        };
        self.visitor.failure_report(&payload, report)
    }

    /// A part with no parts inside: a report candidate by its label or its
    /// first bytes. A message found in it by its bytes (a forwarded `.eml`,
    /// whatever its label) is opened as a payload, a level of its own.
    fn leaf(&mut self, entity: &Entity<'_>, member: &str, depth: usize) -> Result<(), V::Error> {
        let content_type = entity.media_type();
        let name = entity.attachment_name();
        let declared = name.is_some_and(report_like_name)
            || (report_like_type(&content_type) && content_type != "application/octet-stream")
            || (content_type == "application/octet-stream" && name.is_some());
        let bytes = entity.decoded_body();
        let kind = sniff(&bytes[..bytes.len().min(sniff::SNIFF_BYTES)]);
        let wanted = match kind {
            Sniffed::Gzip | Sniffed::Zip | Sniffed::Email => true,
            Sniffed::Xml => declared || opens_feedback_element(&bytes),
            Sniffed::Json => declared || mentions(&bytes, b"organization-name"),
            Sniffed::Unknown => declared,
        };
        if !wanted {
            return Ok(());
        }
        let payload = Payload {
            member,
            carrier: Some(&bytes),
            charset: entity.charset(),
            within: Layer::Plain,
        };
        self.stream(&mut &bytes[..], &payload, declared, depth + 1)
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

pub(super) fn join_member(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}
