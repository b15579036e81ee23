//! What a payload is, from its first bytes.
//!
//! Content types and file names lie (a gzip labelled as zip, XML labelled
//! octet-stream); the bytes do not. Labels only decide whether an unknown
//! payload was meant to be a report.

/// The kinds of payload the extractor tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Gzip,
    Zip,
    Xml,
    /// JSON: an SMTP TLS report (RFC 8460) when it comes to a report sink.
    Json,
    /// An e-mail message: headers, a blank line, a body.
    Email,
    Unknown,
}

/// How many leading bytes [`sniff`] wants to see.
pub const SNIFF_BYTES: usize = 4096;

/// Classifies a payload by its first bytes (up to [`SNIFF_BYTES`]).
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Sniffed::Gzip;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Sniffed::Zip;
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        // UTF-16 with a byte order mark: only XML reports come so.
        return Sniffed::Xml;
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = trim_start(text);
    match text.first() {
        Some(b'<') => Sniffed::Xml,
        Some(b'{') | Some(b'[') => Sniffed::Json,
        Some(_) if looks_like_email(text) => Sniffed::Email,
        _ => Sniffed::Unknown,
    }
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// An mbox `From ` line or a header field first, and one of the fields every
/// mail has somewhere in the head.
fn looks_like_email(text: &[u8]) -> bool {
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let header_like = first_line.starts_with(b"From ") || is_header_field(first_line);
    header_like
        && text.split(|&b| b == b'\n').any(|line| {
            let lower = line.to_ascii_lowercase();
            [
                &b"content-type:"[..],
                b"mime-version:",
                b"from:",
                b"subject:",
                b"received:",
                b"date:",
            ]
            .iter()
            .any(|field| lower.starts_with(field))
        })
}

fn is_header_field(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => line[..colon].iter().all(|&b| b.is_ascii_graphic()),
        _ => false,
    }
}

/// A file or attachment name that promises a report.
pub fn report_like_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xml", ".gz", ".gzip", ".zip", ".json"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// A MIME type that promises a report (or its compressed wrapping).
pub fn report_like_type(content_type: &str) -> bool {
    matches!(
        content_type,
        "application/gzip"
            | "application/x-gzip"
            | "application/gzip-compressed"
            | "application/x-gzip-compressed"
            | "application/zip"
            | "application/x-zip"
            | "application/x-zip-compressed"
            | "application/xml"
            | "text/xml"
            | "application/octet-stream"
            | "application/json"
            | "application/tlsrpt+json"
            | "application/tlsrpt+gzip"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic_bytes() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Sniffed::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(b"\xef\xbb\xbf  <?xml version='1.0'?>"), Sniffed::Xml);
        assert_eq!(sniff(b"\n\n<feedback>"), Sniffed::Xml);
        assert_eq!(sniff(b"{\"organization-name\": 1}"), Sniffed::Json);
        assert_eq!(sniff(b"%PDF-1.4"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
    }

    #[test]
    fn sniffs_email() {
        assert_eq!(
            sniff(b"Return-Path: <a@b>\r\nSubject: Report\r\n\r\nbody"),
            Sniffed::Email
        );
        assert_eq!(
            sniff(b"From a@b Mon Jan 1 00:00:00 2024\nFrom: a@b\n\n"),
            Sniffed::Email
        );
        assert_eq!(sniff(b"just some words: here\n"), Sniffed::Unknown);
    }

    #[test]
    fn report_like_labels() {
        assert!(report_like_name("google.com!example.com!1!2.xml.GZ"));
        assert!(report_like_name("report.zip"));
        assert!(!report_like_name("logo.png"));
        assert!(report_like_type("application/x-zip-compressed"));
        assert!(!report_like_type("text/plain"));
    }
}
