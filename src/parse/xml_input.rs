//! Prepares a payload stream for the XML reader: one character encoding
//! (UTF-8) and a cap on the size of any single token.
//!
//! quick-xml reads UTF-8 only. Reporters also send a UTF-8 byte order mark,
//! UTF-16 with a BOM, and ISO-8859-1 or windows-1252 declared in the XML
//! declaration; those are transcoded here, streaming, before the reader sees
//! them. UTF-8 input passes through untouched. This is the one place a
//! report's text is decoded: the document's own BOM or declaration decides,
//! and the charset its carrier named (a MIME `charset` parameter) only when
//! the document names none.

use crate::limits::LimitExceeded;
use encoding_rs::Encoding;
use encoding_rs_io::DecodeReaderBytesBuilder;
use std::io::{self, BufRead, BufReader, Cursor, Read};

/// How many bytes are examined for a BOM and an XML declaration.
const PROLOG_PEEK: usize = 1024;

/// Returns the payload as a UTF-8 byte stream. `fallback` is the label of
/// the encoding to assume when the document has no BOM and its XML
/// declaration names no encoding.
///
/// The buffer is outside the box: the XML reader asks for the buffered
/// bytes several times per token, and each of those is then a plain call
/// rather than one through the box's vtable, which is taken only to refill.
pub fn utf8_stream<'a>(
    mut input: impl BufRead + 'a,
    fallback: Option<&str>,
) -> io::Result<BufReader<Box<dyn Read + 'a>>> {
    let mut prolog = Vec::with_capacity(PROLOG_PEEK);
    (&mut input)
        .take(PROLOG_PEEK as u64)
        .read_to_end(&mut prolog)?;
    let encoding = detect_encoding(&prolog, fallback);
    let whole = Cursor::new(prolog).chain(input);
    let utf8: Box<dyn Read + 'a> = match encoding {
        None => Box::new(whole),
        Some(encoding) => Box::new(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .bom_override(true)
                .build(whole),
        ),
    };
    Ok(BufReader::with_capacity(64 * 1024, utf8))
}

/// The encoding to transcode from, or `None` when the bytes are UTF-8 already
/// (a UTF-8 BOM is dropped by the transcoder in that case too).
fn detect_encoding(prolog: &[u8], fallback: Option<&str>) -> Option<&'static Encoding> {
    if let Some((encoding, _)) = Encoding::for_bom(prolog) {
        return Some(encoding);
    }
    let declared = declared_encoding(prolog).and_then(Encoding::for_label);
    let encoding = declared.or_else(|| carrier_encoding(fallback?))?;
    (encoding != encoding_rs::UTF_8).then_some(encoding)
}

/// The encoding a carrier's charset label names, for a document that
/// declares none. ASCII names none: ASCII is UTF-8 too, and a document so
/// labelled with 8-bit bytes in it is UTF-8 mislabelled far more often than
/// anything else (the WHATWG table would read it as windows-1252).
fn carrier_encoding(label: &str) -> Option<&'static Encoding> {
    let label = label.trim();
    let ascii = ["us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us"];
    if ascii.iter().any(|name| label.eq_ignore_ascii_case(name)) {
        return None;
    }
    Encoding::for_label(label.as_bytes())
}

/// The `encoding` pseudo-attribute of the XML declaration, if any.
fn declared_encoding(prolog: &[u8]) -> Option<&[u8]> {
    let start = prolog.iter().position(|&b| b == b'<')?;
    let rest = &prolog[start..];
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = rest.iter().position(|&b| b == b'>')?;
    let decl = &rest[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let after = decl[at + 8..].trim_ascii_start().strip_prefix(b"=")?;
    let after = after.trim_ascii_start();
    let quote = *after.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = &after[1..];
    let close = value.iter().position(|&b| b == quote)?;
    Some(value[..close].trim_ascii())
}

/// A reader that fails once more than `limit` bytes are consumed without a
/// call to [`TokenLimit::mark`]. The parser marks after every XML event, so no
/// single text node, comment or tag can grow the reader's buffer past the limit.
pub struct TokenLimit<R> {
    inner: R,
    since_mark: usize,
    limit: usize,
}

impl<R: BufRead> TokenLimit<R> {
    pub fn new(inner: R, limit: usize) -> Self {
        TokenLimit {
            inner,
            since_mark: 0,
            limit,
        }
    }

    /// An XML event ended: the next token starts counting from zero.
    pub fn mark(&mut self) {
        self.since_mark = 0;
    }
}

impl<R: BufRead> Read for TokenLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for TokenLimit<R> {
    // Called several times per token by the XML reader.
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_mark > self.limit {
            return Err(LimitExceeded {
                key: "max_xml_token_bytes",
                limit: self.limit as u64,
            }
            .into_io());
        }
        self.inner.fill_buf()
    }

    #[inline]
    fn consume(&mut self, amount: usize) {
        self.since_mark += amount;
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcoded(bytes: &[u8]) -> String {
        transcoded_with(bytes, None)
    }

    fn transcoded_with(bytes: &[u8], fallback: Option<&str>) -> String {
        let mut out = String::new();
        utf8_stream(bytes, fallback)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn utf8_passes_through() {
        assert_eq!(transcoded(b"<a>\xc3\xa9</a>"), "<a>é</a>");
    }

    #[test]
    fn latin1_declared_is_transcoded() {
        let doc = b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>";
        assert!(transcoded(doc).ends_with("<a>é</a>"));
    }

    #[test]
    fn windows_1252_declared_is_transcoded() {
        let doc = b"<?xml version=\"1.0\" encoding = \"windows-1252\" ?><a>\x80</a>";
        assert!(transcoded(doc).ends_with("<a>€</a>"));
    }

    #[test]
    fn the_carriers_charset_is_only_a_fallback() {
        // The document says nothing: the MIME charset parameter decides.
        assert_eq!(
            transcoded_with(b"<a>\xe9</a>", Some("iso-8859-1")),
            "<a>é</a>"
        );
        // The document declares its encoding: the parameter is not applied again.
        let doc = b"<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9</a>";
        assert!(transcoded_with(doc, Some("windows-1252")).ends_with("<a>é</a>"));
        let doc = "<?xml version='1.0' encoding='UTF-8'?><a>é</a>";
        assert!(transcoded_with(doc.as_bytes(), Some("iso-8859-1")).ends_with("<a>é</a>"));
        // A BOM wins over both.
        assert_eq!(
            transcoded_with(b"\xef\xbb\xbf<a>\xc3\xa9</a>", Some("latin1")),
            "<a>é</a>"
        );
        // A label no one knows is no label.
        assert_eq!(
            transcoded_with(b"<a>\xc3\xa9</a>", Some("x-unknown")),
            "<a>é</a>"
        );
    }

    #[test]
    fn utf16_with_bom_is_transcoded() {
        let mut doc = vec![0xff, 0xfe];
        for unit in "<a>é</a>".encode_utf16() {
            doc.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(transcoded(&doc), "<a>é</a>");
    }

    #[test]
    fn utf8_bom_is_dropped() {
        assert_eq!(transcoded(b"\xef\xbb\xbf<a/>"), "<a/>");
    }

    #[test]
    fn token_limit_fails_a_long_run_without_mark() {
        let data = vec![b'x'; 10_000];
        let mut limited = TokenLimit::new(BufReader::with_capacity(100, &data[..]), 1000);
        let mut sink = Vec::new();
        let error = limited.read_to_end(&mut sink).unwrap_err();
        assert_eq!(
            LimitExceeded::from_io(&error).map(|l| l.key),
            Some("max_xml_token_bytes")
        );
        assert!(
            sink.len() <= 1100,
            "read {} bytes past the limit",
            sink.len()
        );
    }
}
