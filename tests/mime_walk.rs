//! The MIME walker as a property: for generated trees of multiparts and
//! attached messages, with random payloads, transfer encodings and
//! charsets, every leaf comes out as the bytes that went in, in order, with
//! its charset parameter, and nothing else.

use base64::Engine;
use dmarc_sink::extract::{
    ExtractError, FailureMessage, PayloadInfo, PayloadVisitor, extract_message,
};
use dmarc_sink::limits::Limits;
use proptest::prelude::*;
use std::io::BufRead;

#[derive(Debug, Clone, Copy)]
enum Encoding {
    /// 8bit: the bytes as they are.
    Identity,
    Base64,
    QuotedPrintable,
}

#[derive(Debug, Clone)]
enum Tree {
    Leaf {
        payload: Vec<u8>,
        charset: Option<&'static str>,
        encoding: Encoding,
    },
    Multipart(Vec<Tree>),
    /// A `message/rfc822` part holding this message.
    Message(Box<Tree>),
}

const CHARSETS: [Option<&str>; 5] = [
    None,
    Some("utf-8"),
    Some("iso-8859-1"),
    Some("windows-1252"),
    Some("Shift_JIS"),
];

fn leaf() -> impl Strategy<Value = Tree> {
    (
        // Any bytes; a payload sent as it is holds no `-`, so that it cannot
        // spell a boundary delimiter, as a real sender ensures.
        proptest::collection::vec(any::<u8>(), 0..300),
        0..CHARSETS.len(),
        0..3u8,
    )
        .prop_map(|(mut bytes, charset, encoding)| {
            let encoding = match encoding {
                0 => Encoding::Identity,
                1 => Encoding::Base64,
                _ => Encoding::QuotedPrintable,
            };
            if let Encoding::Identity = encoding {
                bytes.retain(|&b| b != b'-');
            }
            // A report the walker hands over: XML, by its first bytes.
            let mut payload = b"<feedback>".to_vec();
            payload.extend_from_slice(&bytes);
            Tree::Leaf {
                payload,
                charset: CHARSETS[charset],
                encoding,
            }
        })
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Tree::Multipart),
            inner.prop_map(|t| Tree::Message(Box::new(t))),
        ]
    })
}

/// Renders `tree` as an entity: header fields, a blank line, a body.
fn render(tree: &Tree, boundaries: &mut usize) -> Vec<u8> {
    match tree {
        Tree::Leaf {
            payload,
            charset,
            encoding,
        } => {
            let mut out = b"Content-Type: text/xml".to_vec();
            if let Some(charset) = charset {
                out.extend_from_slice(format!("; charset={charset}").as_bytes());
            }
            let (name, body) = match encoding {
                Encoding::Identity => ("8bit", payload.clone()),
                Encoding::Base64 => ("base64", base64_lines(payload)),
                Encoding::QuotedPrintable => ("quoted-printable", quoted_printable(payload)),
            };
            out.extend_from_slice(
                format!("\r\nContent-Transfer-Encoding: {name}\r\n\r\n").as_bytes(),
            );
            out.extend_from_slice(&body);
            out
        }
        Tree::Multipart(parts) => {
            *boundaries += 1;
            // Mentions the words and characters a boundary may hold.
            let boundary = format!("=_rfc822.global.digest_{boundaries}");
            let mut out = format!(
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\npreamble\r\n"
            )
            .into_bytes();
            for part in parts {
                out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                out.extend_from_slice(&render(part, boundaries));
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(format!("--{boundary}--\r\nepilogue\r\n").as_bytes());
            out
        }
        Tree::Message(inner) => {
            let mut out = b"Content-Type: message/rfc822\r\n\r\nSubject: attached\r\n".to_vec();
            out.extend_from_slice(&render(inner, boundaries));
            out
        }
    }
}

fn base64_lines(bytes: &[u8]) -> Vec<u8> {
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = Vec::new();
    for line in text.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn quoted_printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut line = 0;
    for &b in bytes {
        let encoded = if (33..=126).contains(&b) && b != b'=' {
            vec![b]
        } else {
            format!("={b:02X}").into_bytes()
        };
        if line + encoded.len() > 72 {
            out.extend_from_slice(b"=\r\n");
            line = 0;
        }
        line += encoded.len();
        out.extend_from_slice(&encoded);
    }
    out
}

/// The leaves of `tree`, in the order of a depth-first walk.
fn leaves(tree: &Tree, out: &mut Vec<(Vec<u8>, Option<String>)>) {
    match tree {
        Tree::Leaf {
            payload, charset, ..
        } => out.push((payload.clone(), charset.map(str::to_owned))),
        Tree::Multipart(parts) => parts.iter().for_each(|p| leaves(p, out)),
        Tree::Message(inner) => leaves(inner, out),
    }
}

#[derive(Default)]
struct Documents(Vec<(Vec<u8>, Option<String>)>, usize);

impl PayloadVisitor for Documents {
    type Error = std::convert::Infallible;

    fn report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Self::Error> {
        let mut bytes = Vec::new();
        document.read_to_end(&mut bytes).unwrap();
        self.0.push((bytes, payload.charset.map(str::to_owned)));
        Ok(())
    }

    fn tls_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Self::Error> {
        self.report(payload, document)
    }

    fn failure_report(
        &mut self,
        _: &PayloadInfo<'_>,
        _: &FailureMessage,
    ) -> Result<(), Self::Error> {
        self.1 += 1;
        Ok(())
    }

    fn unreadable(&mut self, _: &PayloadInfo<'_>, _: ExtractError) -> Result<(), Self::Error> {
        self.1 += 1;
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_leaf_comes_out_as_it_went_in(tree in tree(), bare_lf in any::<bool>()) {
        let mut raw = b"From: dmarc@reporter.example\r\nSubject: generated\r\n".to_vec();
        raw.extend_from_slice(&render(&tree, &mut 0));
        let mut expected = Vec::new();
        leaves(&tree, &mut expected);
        if bare_lf {
            // The same message with bare line feeds: only the payloads sent
            // as they are change, and exactly so.
            raw = raw.iter().copied().filter(|&b| b != b'\r').collect();
            let encodings = encodings(&tree);
            for ((payload, _), encoding) in expected.iter_mut().zip(encodings) {
                if let Encoding::Identity = encoding {
                    payload.retain(|&b| b != b'\r');
                }
            }
        }
        let mut documents = Documents::default();
        let Ok(found) = extract_message(&raw, &Limits::default(), &mut documents);
        prop_assert_eq!(documents.1, 0, "nothing unreadable or taken for a failure report");
        prop_assert_eq!(found, expected.len());
        prop_assert_eq!(documents.0, expected);
    }
}

fn encodings(tree: &Tree) -> Vec<Encoding> {
    match tree {
        Tree::Leaf { encoding, .. } => vec![*encoding],
        Tree::Multipart(parts) => parts.iter().flat_map(encodings).collect(),
        Tree::Message(inner) => encodings(inner),
    }
}
