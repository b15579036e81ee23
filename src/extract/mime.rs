//! What the MIME parser is shown of a message, and how many parts it may
//! make of it.
//!
//! mail-parser reads a `message/rfc822` or `message/global` part, and each
//! untyped part of a `multipart/digest`, as a message nested in the one it
//! parses, however deep they go; when such a part is base64 or
//! quoted-printable it decodes it and parses that again, copying every
//! message it finds inside. Its memory grows with every part and level, its
//! copies with the square of the depth, and copying or dropping the result
//! recurses once a level: a few megabytes of nesting exhaust the memory or
//! the stack (the bombs in tests/bombs.rs). So it never sees those types.
//! Before it parses, the last letter of `rfc822`, `global` and `digest` is
//! replaced wherever they occur (in a copy, at the same offsets): attached
//! messages come out as plain parts, and the walk parses each itself, one
//! level at a time under `max_nesting_depth`, as a message of its own.
//!
//! With no nesting left, every part but the message itself begins at a
//! boundary delimiter, which begins with `--`: counting those before the
//! parser runs bounds its parts and its memory (`max_mime_parts`).

use mail_parser::parsers::MessageStream;
use mail_parser::{Encoding, MessagePart, MimeHeaders};
use std::borrow::Cow;
use std::ops::Range;

/// The words mail-parser nests messages on, each 6 bytes, in any case.
const NESTING_WORDS: [&[u8]; 3] = [b"rfc822", b"global", b"digest"];
/// What their last letter becomes: a letter still, so that base64 and
/// quoted-printable bodies that spell one by chance still decode (their
/// contents are taken from the original, see [`Defused::contents`]).
const DEFUSED: u8 = b'x';

/// A message's bytes as received and as the parser is shown them: the same
/// length, so the parser's offsets hold in both.
pub struct Defused<'a> {
    original: &'a [u8],
    shown: Cow<'a, [u8]>,
}

impl<'a> Defused<'a> {
    pub fn new(original: &'a [u8]) -> Defused<'a> {
        let mut shown = Cow::Borrowed(original);
        let mut from = 0;
        while let Some(at) = find_nesting_word(&original[from..]) {
            let last = from + at + 5;
            shown.to_mut()[last] = DEFUSED;
            from = last + 1;
        }
        blank_whitespace_lines(original, &mut shown);
        Defused { original, shown }
    }

    /// The bytes for the parser.
    pub fn shown(&self) -> &[u8] {
        &self.shown
    }

    /// The body of `part` (parsed from [`Self::shown`]) as a message of its
    /// own: an attached message that is not encoded.
    pub fn body(&self, part: &MessagePart<'_>) -> Defused<'_> {
        let range = self.body_range(part);
        Defused {
            original: &self.original[range.clone()],
            shown: Cow::Borrowed(&self.shown[range]),
        }
    }

    /// The decoded body of `part`, as the parser would have decoded the
    /// bytes as received. What it decoded itself when no defused word lies
    /// in the body (nearly always); else decoded again from the original,
    /// without the parser's charset conversion of text parts.
    ///
    /// A base64 part that runs to the end of a message which lacks its
    /// closing boundary (a truncated mail) is one the parser gives up on and
    /// leaves encoded; it is decoded here to the end of the bytes.
    pub fn contents<'p>(&self, part: &'p MessagePart<'_>) -> Cow<'p, [u8]> {
        let range = self.body_range(part);
        let unterminated_base64 = part.is_encoding_problem
            && part
                .content_transfer_encoding()
                .is_some_and(|cte| cte.trim().eq_ignore_ascii_case("base64"));
        if self.original[range.clone()] == self.shown[range.clone()] && !unterminated_base64 {
            return Cow::Borrowed(part.contents());
        }
        let original = &self.original[range];
        let mut stream = MessageStream::new(original);
        let encoding = if unterminated_base64 {
            Encoding::Base64
        } else {
            part.encoding
        };
        let decoded = match encoding {
            Encoding::Base64 => stream.decode_base64_mime(b"").1,
            Encoding::QuotedPrintable => stream.decode_quoted_printable_mime(b"").1,
            Encoding::None => Cow::Borrowed(original),
        };
        Cow::Owned(decoded.into_owned())
    }

    /// The header section of `part` as received: where a failure report's
    /// feedback fields land when a whitespace-only line stood for the blank
    /// one (see `crate::parse::parse_failure_report`).
    pub fn header_section(&self, part: &MessagePart<'_>) -> &[u8] {
        let end = (part.offset_body as usize).min(self.original.len());
        let start = (part.offset_header as usize).min(end);
        &self.original[start..end]
    }

    fn body_range(&self, part: &MessagePart<'_>) -> Range<usize> {
        let end = (part.offset_end as usize).min(self.original.len());
        let start = (part.offset_body as usize).min(end);
        start..end
    }
}

/// Shows each line of only spaces and tabs as empty lines (each blank
/// becoming a line feed): some reporters (the corpus has failure reports so
/// made) end a header section with such a line, which the parser would take
/// for a folded header, reading the body, boundaries and all, as headers.
/// A body that holds such a line is decoded from the original (see
/// [`Defused::contents`]), so its text is unchanged.
fn blank_whitespace_lines(original: &[u8], shown: &mut Cow<'_, [u8]>) {
    let mut at = 0;
    while let Some(found) = original[at..].iter().position(|&b| b == b'\n') {
        let start = at + found + 1;
        let blanks = original[start..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let end = start + blanks;
        let line_ends = original[end..].starts_with(b"\n") || original[end..].starts_with(b"\r\n");
        if blanks > 0 && line_ends {
            shown.to_mut()[start..end].fill(b'\n');
        }
        at = start;
    }
}

/// A message's header section and body: split at the first line that is
/// empty or holds only whitespace (which some reporters write for it, see
/// [`blank_whitespace_lines`]).
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

fn find_nesting_word(bytes: &[u8]) -> Option<usize> {
    bytes.windows(6).position(|window| {
        matches!(window[0] | 0x20, b'r' | b'g' | b'd')
            && NESTING_WORDS
                .iter()
                .any(|word| window.eq_ignore_ascii_case(word))
    })
}

/// Whether `part` (parsed from defused bytes) is an attached message: typed
/// `message/rfc822` or `message/global`, or untyped in a `multipart/digest`.
pub fn is_attached_message(part: &MessagePart<'_>, in_digest: bool) -> bool {
    match part.content_type() {
        Some(ct) => {
            ct.c_type.eq_ignore_ascii_case("message")
                && ct.c_subtype.as_deref().is_some_and(|sub| {
                    sub.eq_ignore_ascii_case("rfc82x") || sub.eq_ignore_ascii_case("globax")
                })
        }
        None => in_digest,
    }
}

/// Whether `part` (parsed from defused bytes) is a `multipart/digest`.
pub fn is_digest(part: &MessagePart<'_>) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.c_type.eq_ignore_ascii_case("multipart")
            && ct
                .c_subtype
                .as_deref()
                .is_some_and(|sub| sub.eq_ignore_ascii_case("digesx"))
    })
}

/// An upper bound on the parts the parser makes of defused bytes: the
/// message itself and one per `--` (not overlapping), counted up to `enough`.
pub fn part_bound(shown: &[u8], enough: usize) -> usize {
    let mut parts = 1;
    let mut at = 0;
    while parts < enough {
        let Some(found) = shown[at..].windows(2).position(|pair| pair == b"--") else {
            break;
        };
        parts += 1;
        at += found + 2;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{MessageParser, PartType};

    #[test]
    fn nesting_types_are_defused_at_the_same_offsets() {
        let raw = b"Content-Type: Message/RFC822\r\n\r\nSubject: global digest\r\n\r\nx";
        let defused = Defused::new(raw);
        assert_eq!(
            defused.shown(),
            &b"Content-Type: Message/RFC82x\r\n\r\nSubject: globax digesx\r\n\r\nx"[..]
        );
        let message = MessageParser::default().parse(defused.shown()).unwrap();
        assert_eq!(message.parts.len(), 1, "nothing nested");
        assert!(is_attached_message(&message.parts[0], false));
        let inner = defused.body(&message.parts[0]);
        assert_eq!(inner.original, b"Subject: global digest\r\n\r\nx");
    }

    #[test]
    fn contents_come_from_the_bytes_as_received() {
        // "global" spelled in base64 letters inside an attachment, and in words.
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n\
xGLOBALx\r\n--b\r\nContent-Type: text/plain\r\n\r\nglobal warming\r\n--b--\r\n";
        let defused = Defused::new(raw);
        let message = MessageParser::default().parse(defused.shown()).unwrap();
        let contents: Vec<Vec<u8>> = message
            .parts
            .iter()
            .filter(|p| !matches!(p.body, PartType::Multipart(_)))
            .map(|p| defused.contents(p).into_owned())
            .collect();
        assert_eq!(
            contents,
            [vec![196, 98, 206, 4, 2, 241], b"global warming".to_vec()]
        );
    }

    #[test]
    fn whitespace_only_lines_end_a_header_section() {
        let raw = b"Subject: x\r\nContent-Type: multipart/report; boundary=b\r\n \r\n\
--b\r\nContent-Type: message/feedback-report\r\n\t\r\nFeedback-Type: auth-failure\r\n--b--\r\n";
        let defused = Defused::new(raw);
        assert_eq!(defused.shown().len(), raw.len());
        let message = MessageParser::default().parse(defused.shown()).unwrap();
        assert_eq!(message.subject(), Some("x"));
        let feedback = &message.parts[1];
        assert_eq!(
            feedback
                .content_type()
                .and_then(|ct| ct.c_subtype.as_deref()),
            Some("feedback-report")
        );
        // The blank line's extra line feed begins the body.
        assert!(
            defused
                .contents(feedback)
                .trim_ascii_start()
                .starts_with(b"Feedback-Type: auth-failure")
        );
    }

    #[test]
    fn splits_at_a_blank_or_whitespace_only_line() {
        assert_eq!(
            split_header_section(b"A: 1\r\nB: 2\r\n\r\nbody\r\n"),
            (&b"A: 1\r\nB: 2\r\n"[..], &b"body\r\n"[..])
        );
        assert_eq!(
            split_header_section(b"A: 1\n \nbody"),
            (&b"A: 1\n"[..], &b"body"[..])
        );
        assert_eq!(
            split_header_section(b"A: 1\r\n"),
            (&b"A: 1\r\n"[..], &b""[..])
        );
    }

    #[test]
    fn parts_are_bounded_by_dashes() {
        assert_eq!(part_bound(b"no parts", 100), 1);
        assert_eq!(part_bound(b"--b\r\n--b\r\n--b--", 100), 5);
        assert_eq!(part_bound(b"-----", 100), 3);
        assert_eq!(part_bound(&b"--".repeat(1000), 10), 10);
    }
}
