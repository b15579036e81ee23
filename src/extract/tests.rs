//! The walker on messages built here, one shape at a time: what each
//! payload is handed over as, under which member, with which bytes.

use super::*;

/// What the walker handed over, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    /// An XML or JSON document: member, charset, the bytes read.
    Document {
        member: String,
        charset: Option<String>,
        bytes: Vec<u8>,
    },
    Failure {
        member: String,
        report: (Vec<u8>, Option<Vec<u8>>, Option<String>, Option<String>),
    },
    Unreadable {
        member: String,
        error: String,
    },
}

#[derive(Default)]
struct Collect(Vec<Found>);

impl Collect {
    fn document(&mut self, payload: &PayloadInfo<'_>, document: &mut (dyn BufRead + Send)) {
        let mut bytes = Vec::new();
        document.read_to_end(&mut bytes).unwrap();
        self.0.push(Found::Document {
            member: payload.member.to_owned(),
            charset: payload.charset.map(str::to_owned),
            bytes,
        });
    }
}

impl PayloadVisitor for Collect {
    type Error = std::convert::Infallible;

    fn report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Self::Error> {
        self.document(payload, document);
        Ok(())
    }

    fn tls_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Self::Error> {
        self.document(payload, document);
        Ok(())
    }

    fn failure_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        report: &FailureMessage,
    ) -> Result<(), Self::Error> {
        self.0.push(Found::Failure {
            member: payload.member.to_owned(),
            report: (
                report.feedback.clone(),
                report.original_headers.clone(),
                report.from.clone(),
                report.message_id.clone(),
            ),
        });
        Ok(())
    }

    fn unreadable(
        &mut self,
        payload: &PayloadInfo<'_>,
        error: ExtractError,
    ) -> Result<(), Self::Error> {
        self.0.push(Found::Unreadable {
            member: payload.member.to_owned(),
            error: error.to_string(),
        });
        Ok(())
    }
}

fn walk(raw: &[u8]) -> Vec<Found> {
    walk_with(raw, &Limits::default())
}

fn walk_with(raw: &[u8], limits: &Limits) -> Vec<Found> {
    let mut collect = Collect::default();
    let Ok(found) = extract_message(raw, limits, &mut collect);
    assert_eq!(
        found,
        collect.0.len(),
        "every payload counted is handed over"
    );
    collect.0
}

fn document(member: &str, charset: Option<&str>, bytes: &[u8]) -> Found {
    Found::Document {
        member: member.into(),
        charset: charset.map(Into::into),
        bytes: bytes.to_vec(),
    }
}

/// A report, with bytes outside ASCII in Latin-1.
const LATIN1_XML: &[u8] =
    b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<feedback><org_name>M\xfcller</org_name></feedback>";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn base64(bytes: &[u8]) -> Vec<u8> {
    // A small encoder of our own: the crate is a dev-dependency of the
    // integration tests only.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for (i, chunk) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.extend_from_slice(b"\r\n");
        }
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

#[test]
fn latin1_xml_without_a_mime_charset_is_handed_over_untouched() {
    let mut raw = b"From: a@reporter.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/xml\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(LATIN1_XML);
    raw.extend_from_slice(b"\r\n--b--\r\n");
    assert_eq!(walk(&raw), [document("2", None, LATIN1_XML)]);
}

#[test]
fn a_mime_charset_is_passed_on_never_applied() {
    let mut raw = b"Content-Type: text/xml; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n<feedback>=E9=\r\n</feedback>",
    );
    assert_eq!(
        walk(&raw),
        [document(
            "0",
            Some("iso-8859-1"),
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n<feedback>\xe9</feedback>"
        )]
    );
}

#[test]
fn leading_whitespace_lines_are_skipped_at_every_message_level() {
    let inner = b"\r\n \t\r\nSubject: inner\r\nContent-Type: text/xml\r\n\r\n<feedback/>";
    let mut raw = b" \r\n\r\nSubject: outer\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
--o\r\nContent-Type: message/rfc822\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(inner);
    raw.extend_from_slice(
        b"\r\n--o\r\nContent-Type: application/gzip; name=x.eml.gz\r\n\
Content-Transfer-Encoding: base64\r\n\r\n",
    );
    raw.extend_from_slice(&base64(&gzip(inner)));
    raw.extend_from_slice(b"\r\n--o--\r\n");
    assert_eq!(
        walk(&raw),
        [
            // 0 the multipart, 1 the rfc822 part, 2 the message in it.
            document("2", None, b"<feedback/>"),
            // 3 the gzip part, a message of its own inside.
            document("3/0", None, b"<feedback/>"),
        ]
    );
}

#[test]
fn a_message_is_walked_whatever_its_label() {
    let forwarded = b"From: dmarc@reporter.example\r\nSubject: Report\r\n\
Content-Type: multipart/mixed; boundary=in\r\n\r\n--in\r\nContent-Type: application/xml\r\n\r\n\
<feedback/>\r\n--in--\r\n";
    for label in [
        "application/octet-stream; name=\"report.eml\"",
        "text/plain",
        "application/x-unknown; name=\"forward\"",
    ] {
        let mut raw = format!(
            "Subject: Fwd\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n\
--out\r\nContent-Type: text/plain\r\n\r\nsee below\r\n--out\r\nContent-Type: {label}\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        )
        .into_bytes();
        raw.extend_from_slice(&base64(forwarded));
        raw.extend_from_slice(b"\r\n--out--\r\n");
        assert_eq!(
            walk(&raw),
            [document("2/1", None, b"<feedback/>")],
            "{label}"
        );
    }
}

#[test]
fn header_values_are_read_as_received() {
    let raw = b"From: =?UTF-8?Q?Rapports_=C3=A9?= <dmarc-ruf@global-digest.example>\r\n\
Message-ID: <rfc822.digest.global@global-digest.example>\r\n\
Subject: message/rfc822 multipart/digest boundary=\"x\"\r\n\
Content-Type: multipart/report; report-type=feedback-report; boundary=\"rfc822-digest\"\r\n\r\n\
--rfc822-digest\r\nContent-Type: text/plain\r\n\r\nglobal digest rfc822\r\n\
--rfc822-digest\r\nContent-Type: message/feedback-report\r\n\r\n\
Feedback-Type: auth-failure\r\nReported-Domain: global-digest.example\r\n\r\n\
--rfc822-digest\r\nContent-Type: text/rfc822-headers\r\n\r\n\
From: x@global-digest.example\r\nSubject: rfc822\r\n\r\n--rfc822-digest--\r\n";
    assert_eq!(
        walk(raw),
        [Found::Failure {
            member: "2".into(),
            report: (
                b"Content-Type: message/feedback-report\r\n\r\n\
Feedback-Type: auth-failure\r\nReported-Domain: global-digest.example\r\n"
                    .to_vec(),
                Some(b"From: x@global-digest.example\r\nSubject: rfc822\r\n".to_vec()),
                Some("dmarc-ruf@global-digest.example".into()),
                Some("rfc822.digest.global@global-digest.example".into()),
            ),
        }]
    );
}

#[test]
fn nested_multiparts_are_numbered_in_pre_order() {
    let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\npreamble\r\n\
--a\r\nContent-Type: multipart/alternative; boundary=a1\r\n\r\n\
--a1\r\nContent-Type: text/plain\r\n\r\nx\r\n--a1\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--a1--\r\n\
--a\r\nContent-Type: application/xml\r\n\r\n<feedback>1</feedback>\r\n\
--a\r\nContent-Type: application/json\r\n\r\n{\"organization-name\": \"o\"}\r\n--a--\r\nepilogue\r\n";
    assert_eq!(
        walk(raw),
        [
            document("4", None, b"<feedback>1</feedback>"),
            document("5", None, b"{\"organization-name\": \"o\"}"),
        ]
    );
}

#[test]
fn untyped_parts_of_a_digest_are_messages() {
    let raw = b"Content-Type: multipart/digest; boundary=d\r\n\r\n\
--d\r\n\r\nSubject: first\r\nContent-Type: text/xml\r\n\r\n<feedback>a</feedback>\r\n\
--d\r\nContent-Type: text/plain\r\n\r\nFrom: not@a.message\r\nSubject: words\r\n\r\nhi\r\n\
--d\r\n\r\nSubject: second\r\nContent-Type: application/xml\r\n\r\n<feedback>b</feedback>\r\n--d--\r\n";
    let found = walk(raw);
    // 0 digest, 1 first part, 2 its message, 3 the typed text part, whose
    // bytes are a message (3/0), 4 the third part, 5 its message.
    assert_eq!(
        found,
        [
            document("2", None, b"<feedback>a</feedback>"),
            document("5", None, b"<feedback>b</feedback>"),
        ]
    );
}

#[test]
fn message_global_is_an_attached_message() {
    let raw = "Content-Type: multipart/mixed; boundary=g\r\n\r\n\
--g\r\nContent-Type: message/global\r\n\r\nSubject: Bericht über\r\nContent-Type: text/xml\r\n\r\n\
<feedback>ü</feedback>\r\n--g--\r\n";
    assert_eq!(
        walk(raw.as_bytes()),
        [document("2", None, "<feedback>ü</feedback>".as_bytes())]
    );
}

#[test]
fn a_base64_part_cut_off_is_decoded_to_where_it_ends() {
    let xml = b"<feedback><org_name>cut</org_name></feedback>";
    let mut raw = b"Content-Type: multipart/mixed; boundary=t\r\n\r\n--t\r\n\
Content-Type: application/gzip; name=r.xml.gz\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(&base64(&gzip(xml)));
    raw.extend_from_slice(b"\r\n");
    // No close delimiter: the mail was truncated after the attachment.
    assert_eq!(walk(&raw), [document("1", None, xml)]);
}

#[test]
fn bare_lf_and_crlf_give_the_same_payloads() {
    let crlf = b"Subject: s\r\nContent-Type: multipart/mixed; boundary=\"q\"\r\n\r\n--q\r\n\
Content-Type: text/xml\r\n\r\n<feedback>\r\n  <x/>\r\n</feedback>\r\n--q--\r\n";
    let lf: Vec<u8> = crlf.iter().copied().filter(|&b| b != b'\r').collect();
    assert_eq!(
        walk(crlf),
        [document("1", None, b"<feedback>\r\n  <x/>\r\n</feedback>")]
    );
    assert_eq!(
        walk(&lf),
        [document("1", None, b"<feedback>\n  <x/>\n</feedback>")]
    );
}

#[test]
fn a_boundary_is_matched_whole() {
    // "b" is a prefix of the inner boundary and of a line in the payload.
    let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: multipart/mixed; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/xml\r\n\r\n\
<feedback>\r\n--bx not a delimiter\r\n</feedback>\r\n--b2--\r\n--b--\r\n";
    assert_eq!(
        walk(raw),
        [document(
            "2",
            None,
            b"<feedback>\r\n--bx not a delimiter\r\n</feedback>"
        )]
    );
}

#[test]
fn nesting_past_the_limit_is_refused_not_walked() {
    let limits = Limits {
        max_nesting_depth: 2,
        ..Limits::default()
    };
    let raw = b"Content-Type: multipart/mixed; boundary=1\r\n\r\n--1\r\n\
Content-Type: multipart/mixed; boundary=2\r\n\r\n--2\r\n\
Content-Type: multipart/mixed; boundary=3\r\n\r\n--3\r\nContent-Type: text/xml\r\n\r\n<feedback/>\r\n\
--3--\r\n--2--\r\n--1--\r\n";
    assert_eq!(
        walk_with(raw, &limits),
        [Found::Unreadable {
            member: "3".into(),
            error:
                "MIME or archive nesting is deeper than the limit of 2 (limits.max_nesting_depth)"
                    .into(),
        }]
    );
}

#[test]
fn parts_are_counted_before_anything_is_parsed() {
    let limits = Limits {
        max_mime_parts: 3,
        ..Limits::default()
    };
    let raw = b"Content-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\n\r\na\r\n--p\r\n\r\nb\r\n--p--\r\n";
    assert_eq!(
        walk_with(raw, &limits),
        [Found::Unreadable {
            member: "0".into(),
            error: "MIME message has more parts than the limit of 3 (limits.max_mime_parts)".into(),
        }]
    );
}

#[test]
fn a_corrupt_zip_inside_gzip_is_labelled_gzip() {
    // A gzip stream cut off inside a zip archive's bytes.
    let mut zip_like = b"PK\x03\x04".to_vec();
    zip_like.extend(std::iter::repeat_n(7u8, 5000));
    let gz = gzip(&zip_like);
    let mut raw = b"Content-Type: application/gzip; name=r.zip.gz\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    raw.extend_from_slice(&base64(&gz[..gz.len() - 12]));
    let found = walk(&raw);
    let [Found::Unreadable { member, error }] = &found[..] else {
        panic!("{found:?}");
    };
    assert_eq!(member, "0");
    assert!(error.starts_with("corrupt gzip data: "), "{error}");
}
