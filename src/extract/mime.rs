//! MIME entities (RFC 2045, RFC 2046), read over the bytes as received.
//!
//! An entity is a header section and a body. The header section is handed to
//! mail-parser's `parse_headers` for its fields; the body is left as it came
//! but to find the boundaries of a multipart and to undo a transfer encoding
//! (base64, quoted-printable; 7bit, 8bit and binary are taken as they are).
//! No charset is ever decoded here: a payload's text encoding is its own to
//! declare (an XML declaration or BOM), and the MIME `charset` parameter is
//! only passed on, as a fallback for a payload that says nothing.
//!
//! One message is read as a flat list of its entities in pre-order
//! ([`MessageTree`]): multiparts are opened, attached messages are not (the
//! walk opens each as a message of its own, one level deeper, so that no
//! depth of nesting costs more than `max_nesting_depth` levels of work).

use mail_parser::parsers::MessageStream;
use mail_parser::{Message, MessageParser, MimeHeaders};
use std::borrow::Cow;

/// One MIME entity: a message or a body part.
pub struct Entity<'a> {
    /// The header section as received, up to the line that ends it.
    pub header_section: &'a [u8],
    /// The body as received, still transfer-encoded.
    pub body: &'a [u8],
    /// The header fields, parsed from `header_section` alone.
    headers: Option<Message<'a>>,
}

/// How an entity's body is transfer-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// 7bit, 8bit, binary, or a value no one knows: the bytes as they are.
    Identity,
    Base64,
    QuotedPrintable,
}

impl<'a> Entity<'a> {
    /// Reads a message. Blank and whitespace-only lines before its first
    /// header field are skipped (some mailers and some saved files begin so).
    pub fn message(bytes: &'a [u8]) -> Entity<'a> {
        Entity::part(skip_blank_lines(bytes))
    }

    /// Reads a body part of a multipart: one that begins with a blank line
    /// has no header fields (RFC 2046 §5.1).
    pub fn part(bytes: &'a [u8]) -> Entity<'a> {
        let (header_section, body) = split_header_section(bytes);
        let headers = MessageParser::new().parse_headers(header_section);
        Entity {
            header_section,
            body,
            headers,
        }
    }

    /// The parsed header fields (From, Message-ID, Subject...), if any.
    pub fn headers(&self) -> Option<&Message<'a>> {
        self.headers.as_ref()
    }

    /// Whether the entity's media type is `main/sub` (in any case).
    pub fn has_type(&self, main: &str, sub: &str) -> bool {
        self.content_type().is_some_and(|(m, s)| {
            m.eq_ignore_ascii_case(main) && s.is_some_and(|s| s.eq_ignore_ascii_case(sub))
        })
    }

    /// Whether a Content-Type field is present at all: an untyped part of
    /// a `multipart/digest` is a message (RFC 2046 §5.1.5).
    pub fn is_typed(&self) -> bool {
        self.content_type().is_some()
    }

    /// The media type, lower-cased, as `main/sub` (empty when untyped).
    pub fn media_type(&self) -> String {
        match self.content_type() {
            Some((main, Some(sub))) => format!("{main}/{sub}").to_ascii_lowercase(),
            Some((main, None)) => main.to_ascii_lowercase(),
            None => String::new(),
        }
    }

    /// The boundary of a multipart, if the entity is one and names it.
    pub fn boundary(&self) -> Option<&str> {
        let (main, _) = self.content_type()?;
        if !main.eq_ignore_ascii_case("multipart") {
            return None;
        }
        self.parameter("boundary").filter(|b| !b.is_empty())
    }

    /// The `charset` parameter of the Content-Type field.
    pub fn charset(&self) -> Option<&str> {
        self.parameter("charset")
    }

    /// The file name, from Content-Disposition or the Content-Type `name`.
    pub fn attachment_name(&self) -> Option<&str> {
        self.headers.as_ref()?.attachment_name()
    }

    pub fn transfer_encoding(&self) -> TransferEncoding {
        let declared = self
            .headers
            .as_ref()
            .and_then(|h| h.content_transfer_encoding())
            .map(str::trim);
        match declared {
            Some(cte) if cte.eq_ignore_ascii_case("base64") => TransferEncoding::Base64,
            Some(cte) if cte.eq_ignore_ascii_case("quoted-printable") => {
                TransferEncoding::QuotedPrintable
            }
            _ => TransferEncoding::Identity,
        }
    }

    /// The body with its transfer encoding undone, and nothing else. Base64
    /// that a truncated mail cut off is decoded to where it ends.
    pub fn decoded_body(&self) -> Cow<'a, [u8]> {
        let mut stream = MessageStream::new(self.body);
        match self.transfer_encoding() {
            TransferEncoding::Identity => Cow::Borrowed(self.body),
            TransferEncoding::Base64 => stream.decode_base64_mime(b"").1,
            TransferEncoding::QuotedPrintable => stream.decode_quoted_printable_mime(b"").1,
        }
    }

    fn content_type(&self) -> Option<(&str, Option<&str>)> {
        let ct = self.headers.as_ref()?.content_type()?;
        Some((ct.c_type.as_ref(), ct.c_subtype.as_deref()))
    }

    fn parameter(&self, name: &str) -> Option<&str> {
        self.headers.as_ref()?.content_type()?.attribute(name)
    }
}

/// What the walk does with an entity of a message's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A multipart: its parts follow it in the tree.
    Multipart,
    /// `message/rfc822`, `message/global`, or an untyped part of a
    /// `multipart/digest`: a message of its own, opened one level deeper.
    AttachedMessage,
    /// Anything else: a payload candidate.
    Leaf,
    /// Nested deeper than `max_nesting_depth`: not opened.
    TooDeep,
}

/// One entity of a message's tree, with where it sits.
pub struct Node<'a> {
    pub entity: Entity<'a>,
    pub shape: Shape,
    /// Nesting depth: the message's own, plus one per multipart around it.
    pub depth: usize,
}

/// One message's entities in pre-order (the message itself first), its
/// multiparts opened and its attached messages left closed.
pub struct MessageTree<'a> {
    pub nodes: Vec<Node<'a>>,
}

impl<'a> MessageTree<'a> {
    /// Reads the tree of the message in `bytes`, which sits at `depth`.
    /// The caller bounds its size first with [`part_bound`]; the work here
    /// is an explicit stack, never recursion.
    pub fn parse(bytes: &'a [u8], depth: usize, max_depth: usize) -> MessageTree<'a> {
        let mut nodes = Vec::new();
        // (bytes, depth, whether the parent is a multipart/digest)
        let mut pending = vec![(bytes, depth, false)];
        while let Some((bytes, depth, in_digest)) = pending.pop() {
            let entity = if nodes.is_empty() {
                Entity::message(bytes)
            } else {
                Entity::part(bytes)
            };
            let boundary = entity.boundary();
            let shape = if depth > max_depth {
                Shape::TooDeep
            } else if boundary.is_some() {
                Shape::Multipart
            } else if entity.has_type("message", "rfc822")
                || entity.has_type("message", "global")
                || (in_digest && !entity.is_typed())
            {
                Shape::AttachedMessage
            } else {
                Shape::Leaf
            };
            if let (Shape::Multipart, Some(boundary)) = (shape, boundary) {
                let digest = entity.has_type("multipart", "digest");
                let parts = split_multipart(entity.body, boundary.as_bytes());
                // Reversed onto the stack, so that they come off in order.
                pending.extend(parts.into_iter().rev().map(|p| (p, depth + 1, digest)));
            }
            nodes.push(Node {
                entity,
                shape,
                depth,
            });
        }
        MessageTree { nodes }
    }
}

/// The body parts of a multipart body: what lies between its boundary
/// delimiter lines, each without the line break that belongs to the next
/// delimiter. The preamble and epilogue are not parts. A body cut off
/// before its close delimiter ends its last part where it ends.
pub fn split_multipart<'a>(body: &'a [u8], boundary: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    let mut line_start = 0;
    while line_start < body.len() {
        let line_end = body[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(body.len(), |at| line_start + at + 1);
        if let Some(close) = delimiter(&body[line_start..line_end], boundary) {
            if let Some(start) = open {
                parts.push(&body[start..content_end(body, start, line_start)]);
            }
            if close {
                return parts;
            }
            open = Some(line_end);
        }
        line_start = line_end;
    }
    if let Some(start) = open {
        parts.push(&body[start.min(body.len())..]);
    }
    parts
}

/// Whether `line` is a delimiter of `boundary`: `Some(true)` for the close
/// delimiter. Only white space may follow it on the line (RFC 2046 §5.1.1).
fn delimiter(line: &[u8], boundary: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(b"--")?.strip_prefix(boundary)?;
    let (close, rest) = match rest.strip_prefix(b"--") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    rest.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .then_some(close)
}

/// Where a part that began at `start` ends, given that the next delimiter
/// line begins at `delimiter`: before the CRLF (or bare LF) that precedes it.
fn content_end(body: &[u8], start: usize, delimiter: usize) -> usize {
    let mut end = delimiter;
    if end > start && body[end - 1] == b'\n' {
        end -= 1;
        if end > start && body[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

/// The bytes from the first line that is not blank or whitespace-only.
pub fn skip_blank_lines(bytes: &[u8]) -> &[u8] {
    let mut start = 0;
    while start < bytes.len() {
        let Some(at) = bytes[start..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let line = &bytes[start..start + at];
        if !line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            break;
        }
        start += at + 1;
    }
    &bytes[start..]
}

/// A header section and body: split at the first line that is empty or holds
/// only whitespace (which some reporters write for the empty line; read as a
/// folded header, it would pull the body, boundaries and all, into it).
pub fn split_header_section(message: &[u8]) -> (&[u8], &[u8]) {
    let mut start = 0;
    while start < message.len() {
        let end = message[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(message.len(), |at| start + at + 1);
        let line = &message[start..end];
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return (&message[..start], &message[end..]);
        }
        start = end;
    }
    (message, &[])
}

/// An upper bound on the entities of a message: the message itself and one
/// per `--` (not overlapping), which every boundary delimiter begins with,
/// counted up to `enough` before anything is parsed.
pub fn part_bound(bytes: &[u8], enough: usize) -> usize {
    let mut parts = 1;
    let mut at = 0;
    while parts < enough {
        let Some(found) = bytes[at..].windows(2).position(|pair| pair == b"--") else {
            break;
        };
        parts += 1;
        at += found + 2;
    }
    parts
}
