//! Builds report mails and their attachments in the tests: real gzip, real
//! zip, real MIME, no fixtures copied from elsewhere.

use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;

/// The day every [`report_xml`] report covers: 2023-11-15 UTC.
const REPORT_DAY_BEGIN: i64 = 1_700_006_400;
/// A report's range: one day, as big reporters send them.
const REPORT_RANGE_SECS: i64 = 86_399;

/// A minimal aggregate report with the given records `(source_ip, count)`,
/// all passing DMARC, over 2023-11-15.
pub fn report_xml(
    org_name: &str,
    report_id: &str,
    domain: &str,
    records: &[(&str, u32)],
) -> String {
    let records: Vec<(&str, u32, Dmarc)> = records
        .iter()
        .map(|&(ip, count)| (ip, count, Dmarc::Pass))
        .collect();
    dmarc_report_xml(org_name, report_id, domain, REPORT_DAY_BEGIN, &records)
}

/// What DMARC made of a record's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dmarc {
    /// Aligned DKIM passed (aligned SPF did not: the envelope is Amazon SES's).
    Pass,
    /// Neither aligned DKIM nor aligned SPF passed.
    Fail,
}

/// An aggregate report over the day that begins at `begin` (unix seconds),
/// with records `(source_ip, count, verdict)`.
pub fn dmarc_report_xml(
    org_name: &str,
    report_id: &str,
    domain: &str,
    begin: i64,
    records: &[(&str, u32, Dmarc)],
) -> String {
    let end = begin + REPORT_RANGE_SECS;
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n  <report_metadata>\n    \
         <org_name>{org_name}</org_name>\n    <email>noreply@{org_name}</email>\n    \
         <report_id>{report_id}</report_id>\n    <date_range><begin>{begin}</begin>\
         <end>{end}</end></date_range>\n  </report_metadata>\n  <policy_published>\
         <domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp>\
         <pct>100</pct></policy_published>\n"
    );
    for (ip, count, verdict) in records {
        let dkim = match verdict {
            Dmarc::Pass => "pass",
            Dmarc::Fail => "fail",
        };
        xml.push_str(&format!(
            "  <record>\n    <row><source_ip>{ip}</source_ip><count>{count}</count>\
             <policy_evaluated><disposition>none</disposition><dkim>{dkim}</dkim><spf>fail</spf>\
             </policy_evaluated></row>\n    <identifiers><header_from>{domain}</header_from>\
             <envelope_from>amazonses.com</envelope_from></identifiers>\n    <auth_results>\
             <dkim><domain>{domain}</domain><selector>sel</selector><result>{dkim}</result></dkim>\
             <spf><domain>amazonses.com</domain><scope>mfrom</scope><result>pass</result></spf>\
             </auth_results>\n  </record>\n"
        ));
    }
    xml.push_str("</feedback>\n");
    xml
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A zip archive holding `(name, bytes)` entries, deflated.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// One MIME part of a message under construction.
pub struct Part {
    pub headers: String,
    pub body: String,
}

impl Part {
    /// A base64-encoded attachment.
    pub fn attachment(content_type: &str, filename: &str, data: &[u8]) -> Part {
        Part {
            headers: format!(
                "Content-Type: {content_type}; name=\"{filename}\"\r\n\
                 Content-Disposition: attachment; filename=\"{filename}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n"
            ),
            body: wrapped_base64(data),
        }
    }

    /// An attachment whose name is given only in RFC 2231 encoded form.
    pub fn attachment_rfc2231(content_type: &str, encoded_name: &str, data: &[u8]) -> Part {
        Part {
            headers: format!(
                "Content-Type: {content_type}\r\n\
                 Content-Disposition: attachment; filename*=UTF-8''{encoded_name}\r\n\
                 Content-Transfer-Encoding: base64\r\n"
            ),
            body: wrapped_base64(data),
        }
    }

    pub fn text(content_type: &str, text: &str) -> Part {
        Part {
            headers: format!("Content-Type: {content_type}; charset=utf-8\r\n"),
            body: text.replace('\n', "\r\n"),
        }
    }

    /// A part whose body is `body` as it stands.
    pub fn verbatim(content_type: &str, body: &str) -> Part {
        Part {
            headers: format!("Content-Type: {content_type}\r\n"),
            body: body.into(),
        }
    }

    /// A whole message attached as message/rfc822 (a forwarded report).
    pub fn message(raw: &[u8]) -> Part {
        Part {
            headers: "Content-Type: message/rfc822\r\n".into(),
            body: String::from_utf8(raw.to_vec()).unwrap(),
        }
    }

    /// A nested multipart.
    pub fn multipart(subtype: &str, boundary: &str, parts: Vec<Part>) -> Part {
        Part {
            headers: format!("Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\r\n"),
            body: multipart_body(boundary, &parts),
        }
    }
}

fn wrapped_base64(data: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::new();
    for line in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push_str("\r\n");
    }
    out
}

/// The body of a multipart entity: a preamble, then each part after a
/// `boundary` line.
pub fn multipart_body(boundary: &str, parts: &[Part]) -> String {
    let mut body = String::from("This is a multi-part message in MIME format.\r\n");
    for part in parts {
        body.push_str(&format!(
            "--{boundary}\r\n{}\r\n{}\r\n",
            part.headers, part.body
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

/// The headers every report mail carries.
fn headers(subject: &str, message_id: &str) -> String {
    format!(
        "Return-Path: <noreply-dmarc-support@google.com>\r\n\
         From: noreply-dmarc-support@google.com\r\n\
         To: dmarc@reports.example.com\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{message_id}>\r\n\
         Date: Wed, 15 Nov 2023 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n"
    )
}

/// A multipart/mixed report mail with a text part and the given parts.
pub fn report_mail(subject: &str, message_id: &str, parts: Vec<Part>) -> Vec<u8> {
    let mut all = vec![Part::text(
        "text/plain",
        "This is an aggregate report from google.com.",
    )];
    all.extend(parts);
    let boundary = "=_boundary_outer";
    format!(
        "{}Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n{}",
        headers(subject, message_id),
        multipart_body(boundary, &all)
    )
    .into_bytes()
}

/// A single-part mail whose body is the given part.
pub fn single_part_mail(subject: &str, message_id: &str, part: Part) -> Vec<u8> {
    format!(
        "{}{}\r\n{}",
        headers(subject, message_id),
        part.headers,
        part.body
    )
    .into_bytes()
}
