//! Bombs, built in the tests: compressed streams that inflate far past what
//! they weigh, archives that multiply or hide their entries, MIME and XML
//! nested or split past reason. Everything is written here from the formats'
//! facts (deflate and gzip, RFC 1951 and 1952; the ZIP application note;
//! MIME, RFC 2046; XML 1.0), nothing read from disk.
//!
//! Each builder takes the limits the server runs with and returns a
//! [`Bomb`]: a whole mail, ready for DATA, and what the sink must make of it.
//! The tests deliver them to a real server (tests/bombs.rs); the bomb
//! benchmark times them at the default limits (benches/bombs.rs).

use super::mail::{Part, report_mail, report_xml, single_part_mail, zip};
use super::server::TestServer;
use dmarc_sink::limits::{LimitExceeded, Limits};
use flate2::Compression;
use flate2::write::DeflateEncoder;
use std::io::Write;
use std::time::{Duration, Instant};

pub const MIB: u64 = 1024 * 1024;

/// A hostile mail and what the sink must make of it.
pub struct Bomb {
    /// Short name, for the benchmark's table and the tests' messages.
    pub name: &'static str,
    /// The whole mail, ready for DATA (not yet dot-stuffed).
    pub mail: Vec<u8>,
    /// Bytes of the hostile payload as carried: the decoded attachment, or
    /// the mail itself when the MIME structure is the bomb.
    pub payload_bytes: usize,
    /// What the sink must make of it.
    pub expect: Expect,
}

/// What the sink must make of a bomb.
pub enum Expect {
    /// Refused: quarantined with this `kind` and `error`, nothing stored.
    Refused { kind: &'static str, error: String },
    /// Stored: a legal report of a hostile shape, which must be read within
    /// the memory budget all the same; it holds this many records.
    Stored { records: i64 },
}

/// The error text of a crossed limit, as the sink stores it.
pub fn limit_error(key: &'static str, limit: u64) -> String {
    LimitExceeded { key, limit }.to_string()
}

/// The start of an aggregate report that never gets to its records.
const XML_PROLOG: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n";

/// 1 MiB of XML comments, 64 KiB each: well-formed, skipped by the parser,
/// no single token near `max_xml_token_bytes`. What a report-shaped bomb
/// inflates to, so that only the decompression budget can stop it.
fn comment_padding() -> Vec<u8> {
    const COMMENT: usize = 64 * 1024;
    let mut padding = Vec::with_capacity(MIB as usize);
    while padding.len() < MIB as usize {
        padding.extend_from_slice(b"<!--");
        padding.resize(padding.len() + COMMENT - 7, b' ');
        padding.extend_from_slice(b"-->");
    }
    padding
}

/// A raw deflate stream, with the CRC-32 and length of what it inflates to.
pub struct Deflated {
    pub data: Vec<u8>,
    pub crc32: u32,
    pub inflated: u64,
}

/// Deflates `runs` in order, each `(bytes, times)`: `bytes` repeated
/// `times`. Each run's bytes are deflated once, by a fresh encoder ended
/// with a sync flush, so the blocks refer to nothing before them and end on
/// a byte boundary: repeating the compressed blocks repeats what they
/// inflate to. A bomb so reaches ratios near deflate's maximum (about
/// 1000:1) without the builder deflating gigabytes; the CRC-32 of the whole
/// is combined from the CRC of one copy.
pub fn deflate_runs(runs: &[(&[u8], u64)]) -> Deflated {
    let pieces: Vec<&[u8]> = runs.iter().map(|&(bytes, _)| bytes).collect();
    let sequence: Vec<(usize, u64)> = runs
        .iter()
        .enumerate()
        .map(|(piece, &(_, times))| (piece, times))
        .collect();
    deflate_sequence(&pieces, &sequence)
}

/// [`deflate_runs`] for a document that repeats a few pieces in many runs:
/// each piece is deflated once, and `sequence` says which piece comes next
/// (its index in `pieces`) and how many times.
pub fn deflate_sequence(pieces: &[&[u8]], sequence: &[(usize, u64)]) -> Deflated {
    let blocks: Vec<Vec<u8>> = pieces
        .iter()
        .map(|bytes| {
            let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
            encoder.write_all(bytes).unwrap();
            encoder.flush().unwrap();
            std::mem::take(encoder.get_mut())
        })
        .collect();
    let mut data = Vec::new();
    let mut crc = crc32fast::Hasher::new();
    let mut inflated = 0;
    for &(piece, times) in sequence {
        let bytes = pieces[piece];
        data.reserve(blocks[piece].len() * times as usize);
        for _ in 0..times {
            data.extend_from_slice(&blocks[piece]);
        }
        crc.combine(&repeated_crc(bytes, times));
        inflated += bytes.len() as u64 * times;
    }
    // The final block: fixed Huffman codes, nothing but end-of-block.
    data.extend_from_slice(&[0x03, 0x00]);
    Deflated {
        data,
        crc32: crc.finalize(),
        inflated,
    }
}

/// The CRC-32 state of `bytes` repeated `times`, by doubling.
fn repeated_crc(bytes: &[u8], mut times: u64) -> crc32fast::Hasher {
    let mut total = crc32fast::Hasher::new();
    let mut power = crc32fast::Hasher::new();
    power.update(bytes);
    while times > 0 {
        if times & 1 == 1 {
            total.combine(&power);
        }
        let copy = power.clone();
        power.combine(&copy);
        times >>= 1;
    }
    total
}

/// A one-member gzip file (RFC 1952) around a deflate stream.
pub fn gzip_member(deflated: &Deflated) -> Vec<u8> {
    // Magic, deflate, no flags, no time, maximum compression, Unix.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3];
    out.extend_from_slice(&deflated.data);
    out.extend_from_slice(&deflated.crc32.to_le_bytes());
    out.extend_from_slice(&(deflated.inflated as u32).to_le_bytes());
    out
}

/// A zip archive written field by field (APPNOTE 4.3), for what the zip
/// crate will not write: entries deflated by [`deflate_runs`], and central
/// directory entries that share one local file's data.
#[derive(Default)]
pub struct RawZip {
    bytes: Vec<u8>,
    central: Vec<u8>,
    entries: u64,
}

/// A local file in a [`RawZip`], for central directory entries to point at.
#[derive(Debug, Clone, Copy)]
pub struct LocalFile {
    offset: u32,
    crc32: u32,
    compressed: u32,
    inflated: u32,
}

/// Deflate, as the zip method number.
const DEFLATED: u16 = 8;
/// "Version needed to extract": 2.0, deflate.
const VERSION_DEFLATE: u16 = 20;
/// 1980-01-01, the first day a zip timestamp can say, in MS-DOS form.
const DOS_DATE: u16 = (1 << 5) | 1;

impl RawZip {
    /// Writes a local file header and the deflated data after it.
    pub fn local_file(&mut self, name: &str, deflated: &Deflated) -> LocalFile {
        let file = LocalFile {
            offset: u32::try_from(self.bytes.len()).expect("no zip64 offsets here"),
            crc32: deflated.crc32,
            compressed: u32::try_from(deflated.data.len()).expect("under 4 GiB compressed"),
            inflated: u32::try_from(deflated.inflated).expect("under 4 GiB inflated"),
        };
        let out = &mut self.bytes;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&VERSION_DEFLATE.to_le_bytes());
        file_fields(out, &file, name.len());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&deflated.data);
        file
    }

    /// Adds a central directory entry named `name` for `file`'s data.
    pub fn central_entry(&mut self, name: &[u8], file: LocalFile) {
        let out = &mut self.central;
        out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        out.extend_from_slice(&VERSION_DEFLATE.to_le_bytes()); // made by: MS-DOS, 2.0
        out.extend_from_slice(&VERSION_DEFLATE.to_le_bytes());
        file_fields(out, &file, name.len());
        out.extend_from_slice(&0u16.to_le_bytes()); // comment length
        out.extend_from_slice(&0u16.to_le_bytes()); // disk number start
        out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        out.extend_from_slice(&file.offset.to_le_bytes());
        out.extend_from_slice(name);
        self.entries += 1;
    }

    /// The archive: local files, central directory, and its end record
    /// (with the zip64 end record and locator when the entries do not fit
    /// in 16 bits).
    pub fn finish(self) -> Vec<u8> {
        let (mut head, tail) = self.finish_after_gap(0);
        head.extend_from_slice(&tail);
        head
    }

    /// The archive in two pieces, the local files and what follows them,
    /// to be joined by `gap` bytes the caller supplies (zip readers find
    /// the central directory by its offset, whatever lies before it).
    pub fn finish_after_gap(self, gap: u64) -> (Vec<u8>, Vec<u8>) {
        let RawZip {
            bytes: head,
            central,
            entries,
        } = self;
        let mut bytes = Vec::new();
        let directory_offset = head.len() as u64 + gap;
        let directory_size = central.len() as u64;
        bytes.extend_from_slice(&central);
        let short_entries = match u16::try_from(entries) {
            Ok(n) if n < u16::MAX => n,
            _ => {
                let record_offset = directory_offset + bytes.len() as u64;
                bytes.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
                bytes.extend_from_slice(&44u64.to_le_bytes()); // size of what follows
                bytes.extend_from_slice(&45u16.to_le_bytes()); // made by: 4.5, zip64
                bytes.extend_from_slice(&45u16.to_le_bytes()); // needed
                bytes.extend_from_slice(&0u32.to_le_bytes()); // this disk
                bytes.extend_from_slice(&0u32.to_le_bytes()); // disk of the directory
                bytes.extend_from_slice(&entries.to_le_bytes()); // on this disk
                bytes.extend_from_slice(&entries.to_le_bytes()); // in all
                bytes.extend_from_slice(&directory_size.to_le_bytes());
                bytes.extend_from_slice(&directory_offset.to_le_bytes());
                bytes.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
                bytes.extend_from_slice(&0u32.to_le_bytes()); // disk of the zip64 record
                bytes.extend_from_slice(&record_offset.to_le_bytes());
                bytes.extend_from_slice(&1u32.to_le_bytes()); // disks in all
                u16::MAX
            }
        };
        bytes.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes()); // this disk
        bytes.extend_from_slice(&0u16.to_le_bytes()); // disk of the directory
        bytes.extend_from_slice(&short_entries.to_le_bytes());
        bytes.extend_from_slice(&short_entries.to_le_bytes());
        bytes.extend_from_slice(&(directory_size as u32).to_le_bytes());
        bytes.extend_from_slice(&(directory_offset as u32).to_le_bytes());
        bytes.extend_from_slice(&0u16.to_le_bytes()); // comment length
        (head, bytes)
    }
}

/// A report mail carrying `data` as its one attachment.
fn attached(subject: &str, content_type: &str, filename: &str, data: &[u8]) -> Vec<u8> {
    report_mail(
        subject,
        &format!("{}@bombs.test", subject.replace(' ', "-")),
        vec![Part::attachment(content_type, filename, data)],
    )
}

/// How many MiB of padding take a payload past `limit` bytes: a quarter more.
fn past(limit: u64) -> u64 {
    (limit + limit / 4).div_ceil(MIB)
}

/// The classic gzip bomb: zeros, 4 GiB of them or four times the limit,
/// whichever is more. The first bytes already show it is no report.
pub fn gzip_zeros(limits: &Limits) -> Bomb {
    let mib = (4 * 1024).max(4 * limits.max_decompressed_bytes.div_ceil(MIB));
    let zeros = vec![0u8; MIB as usize];
    let gz = gzip_member(&deflate_runs(&[(&zeros, mib)]));
    Bomb {
        name: "gzip bomb: zeros",
        mail: attached("gzip zeros", "application/gzip", "bomb.xml.gz", &gz),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "not_recognised",
            error: "payload labelled as a report is not XML, JSON, gzip, zip or MIME".into(),
        },
    }
}

/// A gzip bomb shaped like a report: an XML prolog, then comments without
/// end, so that nothing but the decompression budget stops it.
pub fn gzip_report_shaped(limits: &Limits) -> Bomb {
    let padding = comment_padding();
    let deflated = deflate_runs(&[
        (XML_PROLOG, 1),
        (&padding, past(limits.max_decompressed_bytes)),
    ]);
    let gz = gzip_member(&deflated);
    Bomb {
        name: "gzip bomb: report-shaped",
        mail: attached("gzip report", "application/gzip", "bomb.xml.gz", &gz),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_decompressed_bytes", limits.max_decompressed_bytes),
        },
    }
}

/// A zip with one report-shaped entry that inflates past the limit.
pub fn zip_high_ratio(limits: &Limits) -> Bomb {
    let zip = high_ratio_archive(limits);
    Bomb {
        name: "zip bomb: high ratio",
        mail: attached("zip ratio", "application/zip", "bomb.zip", &zip),
        payload_bytes: zip.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_decompressed_bytes", limits.max_decompressed_bytes),
        },
    }
}

/// A zip with one entry more than the limit, written by the zip crate.
pub fn zip_many_entries(limits: &Limits) -> Bomb {
    let xml = report_xml("google.com", "many", "example.com", &[("192.0.2.1", 1)]);
    let names: Vec<String> = (0..=limits.max_zip_entries)
        .map(|i| format!("report-{i}.xml"))
        .collect();
    let entries: Vec<(&str, &[u8])> = names
        .iter()
        .map(|name| (name.as_str(), xml.as_bytes()))
        .collect();
    let zip = zip(&entries);
    Bomb {
        name: "zip bomb: many entries",
        mail: attached("zip many", "application/zip", "bomb.zip", &zip),
        payload_bytes: zip.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_zip_entries", limits.max_zip_entries as u64),
        },
    }
}

/// A zip whose central directory lists a million entries (zip64), gzipped
/// so that it passes the message size limit: a directory that would cost
/// far more memory parsed than it weighs.
pub fn zip_million_entries(limits: &Limits) -> Bomb {
    const ENTRIES: u32 = 1_000_000;
    let empty = deflate_runs(&[]);
    let mut archive = RawZip::default();
    let file = archive.local_file("r", &empty);
    for i in 0..ENTRIES {
        // Distinct names, or the directory would collapse them into one.
        archive.central_entry(&i.to_be_bytes()[1..], file);
    }
    let zip = archive.finish();
    // The fastest level: the tests build it unoptimised.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&zip).unwrap();
    let gz = gz.finish().unwrap();
    Bomb {
        name: "zip bomb: a million entries, gzipped",
        mail: attached("zip million", "application/gzip", "bomb.zip.gz", &gz),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_zip_entries", limits.max_zip_entries as u64),
        },
    }
}

/// The non-recursive zip bomb: as many central directory entries as the
/// entry limit allows, all pointing at the same local file, whose data
/// inflates to a share of the limit; together they go past it.
pub fn zip_overlapping(limits: &Limits) -> Bomb {
    let entries = limits.max_zip_entries as u64;
    let padding = comment_padding();
    let each = past(limits.max_decompressed_bytes).div_ceil(entries);
    let deflated = deflate_runs(&[(XML_PROLOG, 1), (&padding, each)]);
    let mut archive = RawZip::default();
    let file = archive.local_file("report.xml", &deflated);
    for i in 0..entries {
        archive.central_entry(format!("report-{i}.xml").as_bytes(), file);
    }
    let zip = archive.finish();
    Bomb {
        name: "zip bomb: overlapping entries",
        mail: attached("zip overlap", "application/zip", "bomb.zip", &zip),
        payload_bytes: zip.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_decompressed_bytes", limits.max_decompressed_bytes),
        },
    }
}

/// A report in a zip in a zip ..., more zips deep than the nesting limit
/// counts layers.
pub fn zip_nested(limits: &Limits) -> Bomb {
    let xml = report_xml("google.com", "nested", "example.com", &[("192.0.2.1", 1)]);
    let mut inner = zip(&[("report.xml", xml.as_bytes())]);
    for level in 0..limits.max_nesting_depth + 2 {
        inner = zip(&[(&format!("level-{level}.zip"), &inner)]);
    }
    Bomb {
        name: "zip bomb: zip in a zip, nested",
        mail: attached("zip nested", "application/zip", "bomb.zip", &inner),
        payload_bytes: inner.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_nesting_depth", limits.max_nesting_depth as u64),
        },
    }
}

/// [`zip_high_ratio`]'s archive, alone.
fn high_ratio_archive(limits: &Limits) -> Vec<u8> {
    let padding = comment_padding();
    let deflated = deflate_runs(&[
        (XML_PROLOG, 1),
        (&padding, past(limits.max_decompressed_bytes)),
    ]);
    let mut archive = RawZip::default();
    let file = archive.local_file("report.xml", &deflated);
    archive.central_entry(b"report.xml", file);
    archive.finish()
}

/// A zip (written by the zip crate) whose one entry is a zip bomb.
pub fn zip_holding_a_bomb(limits: &Limits) -> Bomb {
    let outer = zip(&[("inner.zip", &high_ratio_archive(limits))]);
    Bomb {
        name: "zip bomb: a zip holding a zip bomb",
        mail: attached("zip in zip", "application/zip", "bomb.zip", &outer),
        payload_bytes: outer.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_decompressed_bytes", limits.max_decompressed_bytes),
        },
    }
}

/// Zips in zips, each padded with zeros (between its entry and its central
/// directory) to just under the message size limit: small deflated in the
/// zip around it, all of it in memory once opened, each level inside the
/// last.
pub fn zip_nested_in_memory(limits: &Limits) -> Bomb {
    let padding = limits.max_message_bytes / MIB - 4;
    let zeros = vec![0u8; MIB as usize];
    let xml = report_xml("google.com", "padded", "example.com", &[("192.0.2.1", 1)]);
    let mut inner = deflate_runs(&[(xml.as_bytes(), 1)]);
    let mut name = "report.xml".to_owned();
    for level in 0..limits.max_nesting_depth {
        let mut archive = RawZip::default();
        let file = archive.local_file(&name, &inner);
        archive.central_entry(name.as_bytes(), file);
        let (head, tail) = archive.finish_after_gap(padding * MIB);
        inner = deflate_runs(&[(&head, 1), (&zeros, padding), (&tail, 1)]);
        name = format!("level-{level}.zip");
    }
    let mut archive = RawZip::default();
    let file = archive.local_file(&name, &inner);
    archive.central_entry(name.as_bytes(), file);
    let zip = archive.finish();
    Bomb {
        name: "zip bomb: zips in zips, each as big as a message",
        mail: attached("zip memory", "application/zip", "bomb.zip", &zip),
        payload_bytes: zip.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_message_bytes", limits.max_message_bytes),
        },
    }
}

/// A zip holding zip bombs, as many as the entry limit allows (its entries
/// sharing one local file), each inflating past the limit by itself: the
/// work multiplies unless every layer draws on one budget.
pub fn zip_of_zip_bombs(limits: &Limits) -> Bomb {
    let inner = deflate_runs(&[(&high_ratio_archive(limits), 1)]);
    let mut outer = RawZip::default();
    let file = outer.local_file("inner.zip", &inner);
    for i in 0..limits.max_zip_entries {
        outer.central_entry(format!("inner-{i}.zip").as_bytes(), file);
    }
    let outer = outer.finish();
    Bomb {
        name: "zip bomb: a zip of zip bombs",
        mail: attached("zip of bombs", "application/zip", "bomb.zip", &outer),
        payload_bytes: outer.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_decompressed_bytes", limits.max_decompressed_bytes),
        },
    }
}

/// A report attachment in multiparts nested `depth` deep.
fn nested_multiparts(depth: usize) -> Vec<u8> {
    let xml = report_xml("google.com", "deep", "example.com", &[("192.0.2.1", 1)]);
    let report = Part::attachment("text/xml", "report.xml", xml.as_bytes());
    let mut body = String::new();
    for level in 0..depth {
        body.push_str(&format!(
            "--b{level}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n",
            level + 1
        ));
    }
    body.push_str(&format!(
        "--b{depth}\r\n{}\r\n{}\r\n--b{depth}--\r\n",
        report.headers, report.body
    ));
    for level in (0..depth).rev() {
        body.push_str(&format!("--b{level}--\r\n"));
    }
    let top = Part {
        headers: "Content-Type: multipart/mixed; boundary=\"b0\"\r\n".into(),
        body,
    };
    single_part_mail("nested multiparts", "multiparts@bombs.test", top)
}

/// Multiparts nested a few times deeper than the limit: few parts, too deep.
pub fn mime_nested_multiparts(limits: &Limits) -> Bomb {
    let mail = nested_multiparts(limits.max_nesting_depth + 5);
    Bomb {
        name: "MIME: multiparts nested past the limit",
        payload_bytes: mail.len(),
        mail,
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_nesting_depth", limits.max_nesting_depth as u64),
        },
    }
}

/// Multiparts nested a hundred thousand deep: too many parts to parse.
pub fn mime_deep_multiparts(limits: &Limits) -> Bomb {
    let mail = nested_multiparts(100_000);
    Bomb {
        name: "MIME: multiparts nested 100,000 deep",
        payload_bytes: mail.len(),
        mail,
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_mime_parts", limits.max_mime_parts as u64),
        },
    }
}

/// A report mail attached in messages (message/rfc822) attached in
/// messages, `depth` of them.
fn nested_messages(depth: usize) -> Vec<u8> {
    let xml = report_xml("google.com", "deep", "example.com", &[("192.0.2.1", 1)]);
    let core = report_mail(
        "innermost",
        "innermost@bombs.test",
        vec![Part::attachment("text/xml", "report.xml", xml.as_bytes())],
    );
    let level = b"Content-Type: message/rfc822\r\n\r\n";
    let mut mail = Vec::with_capacity(depth * level.len() + core.len());
    for _ in 0..depth {
        mail.extend_from_slice(level);
    }
    mail.extend_from_slice(&core);
    mail
}

/// Messages attached in messages a hundred thousand deep, each level one
/// header line: few parts at any level, far too deep.
pub fn mime_nested_messages(limits: &Limits) -> Bomb {
    let mut mail = b"From: noreply-dmarc-support@google.com\r\nSubject: nested messages\r\n\
        Message-ID: <messages@bombs.test>\r\nMIME-Version: 1.0\r\n"
        .to_vec();
    mail.extend_from_slice(&nested_messages(100_000));
    Bomb {
        name: "MIME: messages attached 100,000 deep",
        payload_bytes: mail.len(),
        mail,
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_nesting_depth", limits.max_nesting_depth as u64),
        },
    }
}

/// The same, base64-encoded in one attached message: the parser would
/// decode it and parse it nested, out of sight of any count of the bytes
/// received.
pub fn mime_encoded_nested_messages(limits: &Limits) -> Bomb {
    let nested = nested_messages(100_000);
    let attached = Part {
        headers: "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n".into(),
        body: Part::attachment("message/rfc822", "fwd.eml", &nested).body,
    };
    let mail = report_mail("encoded messages", "encoded@bombs.test", vec![attached]);
    Bomb {
        name: "MIME: messages 100,000 deep, base64 in an attachment",
        payload_bytes: mail.len(),
        mail,
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_nesting_depth", limits.max_nesting_depth as u64),
        },
    }
}

/// A multipart of a hundred thousand parts, each a small XML attachment
/// that is no report: each would cost a parse and a quarantine row.
pub fn mime_many_parts(limits: &Limits) -> Bomb {
    const PARTS: usize = 100_000;
    let mut body = String::with_capacity(PARTS * 64);
    for i in 0..PARTS {
        body.push_str(&format!(
            "--p\r\nContent-Type: text/xml; name=\"{i}.xml\"\r\n\r\n<feedback/>\r\n"
        ));
    }
    body.push_str("--p--\r\n");
    let top = Part {
        headers: "Content-Type: multipart/mixed; boundary=\"p\"\r\n".into(),
        body,
    };
    let mail = single_part_mail("many parts", "parts@bombs.test", top);
    Bomb {
        name: "MIME: a hundred thousand parts",
        payload_bytes: mail.len(),
        mail,
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_mime_parts", limits.max_mime_parts as u64),
        },
    }
}

/// The billion laughs: ten entities of ten references each, nine deep.
pub fn entity_bomb() -> Bomb {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n<!ENTITY lol0 \"lol\">\n");
    for level in 1..10 {
        let refs = format!("&lol{};", level - 1).repeat(10);
        xml.push_str(&format!("<!ENTITY lol{level} \"{refs}\">\n"));
    }
    xml.push_str(
        "]>\n<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>\n",
    );
    Bomb {
        name: "XML: entity bomb",
        mail: attached("entities", "text/xml", "report.xml", xml.as_bytes()),
        payload_bytes: xml.len(),
        expect: Expect::Refused {
            kind: "doctype",
            error: "document type declarations are refused (no DTD processing, entities are never expanded)".into(),
        },
    }
}

/// One text node of 100 MiB, in a report's `<org_name>`, gzipped.
pub fn xml_huge_text(limits: &Limits) -> Bomb {
    let text = vec![b'a'; MIB as usize];
    let deflated = deflate_runs(&[
        (
            b"<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>",
            1,
        ),
        (&text, 100),
        (b"</org_name></report_metadata></feedback>\n", 1),
    ]);
    let gz = gzip_member(&deflated);
    Bomb {
        name: "XML: 100 MiB text node, gzipped",
        mail: attached("huge text", "application/gzip", "report.xml.gz", &gz),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_xml_token_bytes", limits.max_xml_token_bytes as u64),
        },
    }
}

/// A million elements nested in `<feedback>`, gzipped.
pub fn xml_deep_nesting(limits: &Limits) -> Bomb {
    let open = b"<a>".repeat(1000);
    let close = b"</a>".repeat(1000);
    let deflated = deflate_runs(&[
        (b"<?xml version=\"1.0\"?>\n<feedback>", 1),
        (&open, 1000),
        (&close, 1000),
        (b"</feedback>\n", 1),
    ]);
    let gz = gzip_member(&deflated);
    Bomb {
        name: "XML: a million nested elements, gzipped",
        mail: attached("deep xml", "application/gzip", "report.xml.gz", &gz),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_xml_depth", limits.max_xml_depth as u64),
        },
    }
}

/// An aggregate report up to its records.
pub const REPORT_HEAD: &[u8] = b"<?xml version=\"1.0\"?>\n<feedback><report_metadata>\
<org_name>bomb.example</org_name><report_id>record-bomb</report_id>\
<date_range><begin>1704758400</begin><end>1704844799</end></date_range></report_metadata>\
<policy_published><domain>example.com</domain><p>none</p></policy_published>";

/// A record up to the inside of its `<policy_evaluated>`, where reasons go.
pub const RECORD_OPEN: &[u8] = b"<record><row><source_ip>192.0.2.1</source_ip><count>1</count>\
<policy_evaluated><disposition>none</disposition>";

/// The rest of that record.
pub const RECORD_CLOSE: &[u8] = b"</policy_evaluated></row>\
<identifiers><header_from>example.com</header_from></identifiers></record>";

/// The end of the report.
pub const REPORT_TAIL: &[u8] = b"</feedback>\n";

/// A mail carrying `deflated` as a gzipped aggregate report. It must fit
/// `max_decompressed_bytes`, so that only what the bomb aims at stops it.
pub fn gzipped_report(
    name: &'static str,
    deflated: &Deflated,
    limits: &Limits,
    expect: Expect,
) -> Bomb {
    assert!(
        deflated.inflated < limits.max_decompressed_bytes,
        "{name}: it fits the decompression budget"
    );
    let gz = gzip_member(deflated);
    Bomb {
        name,
        mail: attached(name, "application/gzip", "report.xml.gz", &gz),
        payload_bytes: gz.len(),
        expect,
    }
}

/// A `<reason>` whose comment is `letters` letters, a legal token.
fn reason_with_comment(letters: usize, limits: &Limits) -> Vec<u8> {
    assert!(letters < limits.max_xml_token_bytes, "a legal token");
    let mut reason = b"<reason><type>other</type><comment>".to_vec();
    reason.resize(reason.len() + letters, b'a');
    reason.extend_from_slice(b"</comment></reason>");
    reason
}

/// Refused by `max_record_bytes`.
fn refused_by_the_record_limit(limits: &Limits) -> Expect {
    Expect::Refused {
        kind: "limit",
        error: limit_error("max_record_bytes", limits.max_record_bytes as u64),
    }
}

/// One record given a thousand reasons, each with a comment of 512 KiB
/// (under `max_xml_token_bytes`), gzipped: half a gigabyte of text, under
/// `max_decompressed_bytes`, that would all be held for the one record.
pub fn xml_record_of_long_comments(limits: &Limits) -> Bomb {
    let reason = reason_with_comment(512 * 1024, limits);
    let deflated = deflate_runs(&[
        (REPORT_HEAD, 1),
        (RECORD_OPEN, 1),
        (&reason, 1000),
        (RECORD_CLOSE, 1),
        (REPORT_TAIL, 1),
    ]);
    gzipped_report(
        "XML: one record of 500 MiB of comments, gzipped",
        &deflated,
        limits,
        refused_by_the_record_limit(limits),
    )
}

/// One record given ten million empty `<reason/>`s, gzipped: no text, but
/// each reason takes memory once parsed.
pub fn xml_record_of_empty_reasons(limits: &Limits) -> Bomb {
    let thousand = b"<reason/>".repeat(1000);
    let deflated = deflate_runs(&[
        (REPORT_HEAD, 1),
        (RECORD_OPEN, 1),
        (&thousand, 10_000),
        (RECORD_CLOSE, 1),
        (REPORT_TAIL, 1),
    ]);
    gzipped_report(
        "XML: one record of ten million empty reasons, gzipped",
        &deflated,
        limits,
        refused_by_the_record_limit(limits),
    )
}

/// Seven hundred records, the k-th given k − 1 reasons with a one-letter
/// comment and then one with a 200 KiB comment, gzipped: a legal report,
/// each record far under `max_record_bytes` and small enough to be packed
/// for the store. A parser, or a store, that kept the strings of earlier
/// values to fill the next ones, whatever their length, handed the long
/// ones to the short comments and made a new one for each record: 137 MiB
/// held by the end, by each.
pub fn xml_records_reusing_long_strings(limits: &Limits) -> Bomb {
    let long_reason = reason_with_comment(200 * 1024, limits);
    let pieces: [&[u8]; 6] = [
        REPORT_HEAD,
        RECORD_OPEN,
        &reason_with_comment(1, limits),
        &long_reason,
        RECORD_CLOSE,
        REPORT_TAIL,
    ];
    let records = 700;
    let mut sequence = vec![(0, 1)];
    for k in 1..=records {
        sequence.extend([(1, 1), (2, k - 1), (3, 1), (4, 1)]);
    }
    sequence.push((5, 1));
    gzipped_report(
        "XML: records that would keep long strings, gzipped",
        &deflate_sequence(&pieces, &sequence),
        limits,
        Expect::Stored {
            records: records as i64,
        },
    )
}

/// Three hundred failing records whose source address is 500 KiB long,
/// gzipped: a legal shape (nothing checks that a reporter's `source_ip`
/// is an address), each record under `max_record_bytes`. A store that held
/// a report's failing sources by number alone, up to 65,536 before adding
/// them to `failing_sources`, would have held all 150 MiB of them.
pub fn xml_records_of_long_source_addresses(limits: &Limits) -> Bomb {
    let long = 500 * 1024;
    assert!(long < limits.max_xml_token_bytes, "a legal token");
    let mut record = b"<record><row><source_ip>".to_vec();
    record.resize(record.len() + long, b'a');
    record.extend_from_slice(
        b"</source_ip><count>1</count><policy_evaluated><disposition>none</disposition>\
<dkim>fail</dkim><spf>fail</spf>",
    );
    record.extend_from_slice(RECORD_CLOSE);
    let records = 300;
    gzipped_report(
        "XML: failing records of 500 KiB source addresses, gzipped",
        &deflate_runs(&[(REPORT_HEAD, 1), (&record, records), (REPORT_TAIL, 1)]),
        limits,
        Expect::Stored {
            records: records as i64,
        },
    )
}

/// The start of a TLS report, up to its first failure detail.
const TLS_REPORT_HEAD: &[u8] = br#"{"organization-name":"Bomb Inc.","report-id":"bomb",
"date-range":{"start-datetime":"2024-01-09T00:00:00Z","end-datetime":"2024-01-09T23:59:59Z"},
"policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com"},
"summary":{"total-successful-session-count":1,"total-failure-session-count":1},
"failure-details":["#;

/// A TLS report of 100 MiB of failure details (or a quarter more than
/// `max_json_bytes`, whichever is more), gzipped: refused once it passes
/// the limit, before it is parsed.
pub fn json_huge_tls_report(limits: &Limits) -> Bomb {
    let detail = br#"{"result-type":"certificate-expired","failed-session-count":1},"#;
    let block = detail.repeat(MIB as usize / detail.len());
    let deflated = deflate_runs(&[
        (TLS_REPORT_HEAD, 1),
        (&block, past(limits.max_json_bytes).max(100)),
        (br#"{"result-type":"validation-failure"}]}]}"#, 1),
    ]);
    let gz = gzip_member(&deflated);
    Bomb {
        name: "JSON: 100 MiB TLS report, gzipped",
        mail: attached("huge tls", "application/tlsrpt+gzip", "report.json.gz", &gz),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "limit",
            error: limit_error("max_json_bytes", limits.max_json_bytes),
        },
    }
}

/// A TLS report of `max_json_bytes` of empty failure details (`{},`),
/// gzipped: 3 bytes each as text, a couple of hundred once read, so read
/// whole before they are checked they would take 66 times the limit. They
/// are checked as they are read, and the first one is refused.
pub fn json_empty_failure_details(limits: &Limits) -> Bomb {
    let block = b"{},".repeat(MIB as usize / 3);
    let mib = (limits.max_json_bytes / MIB).saturating_sub(1).max(1);
    let deflated = deflate_runs(&[(TLS_REPORT_HEAD, 1), (&block, mib), (b"{}]}]}", 1)]);
    let gz = gzip_member(&deflated);
    Bomb {
        name: "JSON: a TLS report of empty failure details, gzipped",
        mail: attached(
            "empty tls",
            "application/tlsrpt+gzip",
            "report.json.gz",
            &gz,
        ),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "missing_element",
            error: "required element <result-type> missing or empty in failure-details".into(),
        },
    }
}

/// A TLS report whose `report-id` is lists nested a million deep, gzipped.
/// Read as a string, it is refused at its first bracket; skipped (an
/// unknown member), it would be stepped over without recursion.
pub fn json_deep_nesting(_limits: &Limits) -> Bomb {
    let head = br#"{"organization-name":"Bomb Inc.","report-id":"#;
    let deflated = deflate_runs(&[
        (head, 1),
        (&[b'['; 1000], 1000),
        (&[b']'; 1000], 1000),
        (b"}", 1),
    ]);
    let gz = gzip_member(&deflated);
    Bomb {
        name: "JSON: a million nested lists, gzipped",
        mail: attached(
            "deep json",
            "application/tlsrpt+gzip",
            "report.json.gz",
            &gz,
        ),
        payload_bytes: gz.len(),
        expect: Expect::Refused {
            kind: "json",
            error: format!(
                "malformed JSON: invalid type: sequence, expected a string at line 1 column {}",
                head.len() + 1
            ),
        },
    }
}

/// The most resident memory the daemon may reach: startup, a bomb and a
/// report after it.
pub const PEAK_RSS_LIMIT_KIB: u64 = 128 * 1024;

/// What became of a bomb delivered over SMTP, and of a report after it.
pub struct Delivery {
    /// The reply to the end of DATA (code 0: none, the connection closed or
    /// the read timed out).
    pub code: u16,
    pub reply: String,
    /// From sending the final `.` to reading the reply.
    pub elapsed: Duration,
    /// The bomb message's `messages.outcome`.
    pub outcome: Option<String>,
    /// Its quarantine rows: (kind, error).
    pub quarantined: Vec<(String, String)>,
    /// Reports stored from it.
    pub reports: i64,
    /// Records stored from it.
    pub records: i64,
    /// The daemon's peak resident memory (VmHWM) after both deliveries, KiB;
    /// `None` when it is no longer running.
    pub peak_kib: Option<u64>,
    /// The reply to a report delivered right after, on a new connection.
    pub after: (u16, String),
    /// Whether that report is in the store.
    pub after_stored: bool,
}

/// Delivers `bomb` to a server that has taken nothing yet, then a report.
pub fn deliver(server: &TestServer, bomb: &Bomb) -> Delivery {
    let mut client = server.connect();
    let (code, text) = client.reply();
    assert_eq!(code, 220, "greeting: {text}");
    client.command("EHLO reporter.example");
    for (line, want) in [
        ("MAIL FROM:<noreply-dmarc-support@google.com>", 250),
        ("RCPT TO:<dmarc@reports.example.com>", 250),
        ("DATA", 354),
    ] {
        let (code, text) = client.command(line);
        assert_eq!(code, want, "{}: {line}: {text}", bomb.name);
    }
    client.send(&super::server::dot_stuff(&bomb.mail));
    let sent = Instant::now();
    client.send(b".\r\n");
    let (code, reply) = client.reply();
    let elapsed = sent.elapsed();
    drop(client);

    let conn = rusqlite::Connection::open(&server.db).unwrap();
    let first = "(SELECT min(id) FROM messages)";
    let outcome = conn
        .query_row(
            &format!("SELECT outcome FROM messages WHERE id = {first}"),
            [],
            |row| row.get(0),
        )
        .ok();
    let mut rows = conn
        .prepare(&format!(
            "SELECT kind, error FROM quarantine WHERE message = {first} ORDER BY id"
        ))
        .unwrap();
    let quarantined = rows
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let reports = conn
        .query_row(
            &format!("SELECT count(*) FROM reports WHERE message = {first}"),
            [],
            |row| row.get(0),
        )
        .unwrap();
    let records = conn
        .query_row(
            &format!(
                "SELECT count(*) FROM records WHERE report IN
                 (SELECT id FROM reports WHERE message = {first})"
            ),
            [],
            |row| row.get(0),
        )
        .unwrap();

    let xml = report_xml(
        "google.com",
        "after-the-bomb",
        "example.com",
        &[("192.0.2.1", 1)],
    );
    let report = report_mail(
        "after the bomb",
        "after-the-bomb@google.com",
        vec![Part::attachment("text/xml", "report.xml", xml.as_bytes())],
    );
    let after = if std::net::TcpStream::connect(server.addr).is_ok() {
        let mut client = server.connect();
        let greeting = client.reply();
        if greeting.0 == 220 {
            client.command("EHLO reporter.example");
            client.deliver(
                "noreply-dmarc-support@google.com",
                "dmarc@reports.example.com",
                &report,
            )
        } else {
            greeting
        }
    } else {
        (0, "connection refused".into())
    };
    let after_stored = conn
        .query_row(
            "SELECT count(*) FROM reports WHERE report_id = 'after-the-bomb'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .unwrap()
        == 1;
    Delivery {
        code,
        reply,
        elapsed,
        outcome,
        quarantined,
        reports,
        records,
        peak_kib: peak_rss_kib(server.pid()),
        after,
        after_stored,
    }
}

impl Delivery {
    /// What is wrong with the sink's handling of `bomb`, if anything (the
    /// time taken is the benchmark's to judge).
    pub fn problems(&self, bomb: &Bomb) -> Vec<String> {
        let mut problems = Vec::new();
        if self.code != 250 {
            problems.push(format!("reply {} {}", self.code, self.reply));
        }
        match &bomb.expect {
            Expect::Refused { kind, error } => {
                if self.outcome.as_deref() != Some("quarantined") {
                    problems.push(format!("message outcome {:?}", self.outcome));
                }
                if self.reports != 0 {
                    problems.push(format!("{} report(s) stored from it", self.reports));
                }
                let expected = ((*kind).to_owned(), error.clone());
                if !self.quarantined.contains(&expected) {
                    problems.push(format!(
                        "no quarantine row {expected:?}, rows: {:?}",
                        &self.quarantined[..self.quarantined.len().min(3)]
                    ));
                }
            }
            Expect::Stored { records } => {
                if self.outcome.as_deref() != Some("stored") || self.reports != 1 {
                    problems.push(format!(
                        "message outcome {:?} with {} report(s), quarantined: {:?}",
                        self.outcome,
                        self.reports,
                        &self.quarantined[..self.quarantined.len().min(3)]
                    ));
                }
                if self.records != *records {
                    problems.push(format!("{} of {records} records stored", self.records));
                }
            }
        }
        match self.peak_kib {
            None => problems.push("the daemon is no longer running".into()),
            Some(peak) if peak >= PEAK_RSS_LIMIT_KIB => {
                problems.push(format!("peak RSS {peak} KiB"));
            }
            Some(_) => {}
        }
        if self.after.0 != 250 || !self.after_stored {
            problems.push(format!(
                "the report after it: {} {} (stored: {})",
                self.after.0, self.after.1, self.after_stored
            ));
        }
        problems
    }
}

/// Peak resident memory (VmHWM) of a running process, in KiB; `None` once
/// it has exited.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The fields a local file header and its central directory entry share,
/// from the flags to the extra field length.
fn file_fields(out: &mut Vec<u8>, file: &LocalFile, name_len: usize) {
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&DEFLATED.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // time
    out.extend_from_slice(&DOS_DATE.to_le_bytes());
    out.extend_from_slice(&file.crc32.to_le_bytes());
    out.extend_from_slice(&file.compressed.to_le_bytes());
    out.extend_from_slice(&file.inflated.to_le_bytes());
    out.extend_from_slice(&(name_len as u16).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra field length
}
