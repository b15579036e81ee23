//! The parser for the feedback fields of a DMARC failure report (RFC 6591,
//! the `message/feedback-report` part of an ARF report, RFC 5965 section 3).
//!
//! The part is a block of `Name: value` fields, folded like mail headers.
//! Reporters' leniencies handled here: names in any case, CRLF or LF, a
//! whitespace-only line where a blank one belongs (which makes a MIME parser
//! take the fields for part headers: the extractor therefore hands over the
//! part's header section and its body, and both are read; `Content-*`
//! fields are the part's own and skipped), values wrapped in `<>`.

use super::{MAX_COUNT, ParseError};
use crate::report::failure::FailureReport;

/// Reads the feedback fields in `text`. `Feedback-Type` and
/// `Reported-Domain` are required (RFC 5965, RFC 6591); everything else is
/// taken as found. The original message and the report message's sender are
/// not in these fields: the caller fills them in.
pub fn parse_failure_report(text: &[u8]) -> Result<FailureReport, ParseError> {
    let text = String::from_utf8_lossy(text);
    let fields = feedback_fields(&text);
    let first = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let within = "the message/feedback-report part";
    let feedback_type = first("Feedback-Type").ok_or(ParseError::Missing {
        element: "Feedback-Type",
        within: within.into(),
    })?;
    let reported_domain = first("Reported-Domain")
        .map(|value| domain(&value))
        .filter(|name| !name.is_empty())
        .ok_or(ParseError::Missing {
            element: "Reported-Domain",
            within: within.into(),
        })?;
    let incidents = match first("Incidents") {
        None => 1,
        Some(value) => value
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_COUNT).contains(n))
            .ok_or(ParseError::Invalid {
                element: "Incidents",
                value,
                expected: "a positive whole number, at most 4294967295",
            })?,
    };
    let keyword = |name: &str| first(name).map(|v| v.to_ascii_lowercase());
    Ok(FailureReport {
        feedback_type: feedback_type.to_ascii_lowercase(),
        auth_failure: keyword("Auth-Failure"),
        source_ip: first("Source-IP").map(|v| ip_address(&v)),
        reported_domain,
        original_mail_from: first("Original-Mail-From").map(|v| unbracket(&v)),
        original_rcpt_to: fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Original-Rcpt-To"))
            .map(|(_, v)| unbracket(v))
            .filter(|v| !v.is_empty())
            .collect(),
        arrival_date: first("Arrival-Date")
            .and_then(|date| mail_parser::DateTime::parse_rfc822(&date))
            .filter(|date| date.is_valid())
            .map(|date| date.to_timestamp()),
        delivery_result: keyword("Delivery-Result"),
        dkim_domain: first("DKIM-Domain")
            .map(|v| domain(&v))
            .filter(|name| !name.is_empty()),
        dkim_selector: first("DKIM-Selector"),
        spf_dns: first("SPF-DNS"),
        incidents,
        fields,
        ..FailureReport::default()
    })
}

/// The `Name: value` fields of `text`, unfolded, in order, values trimmed;
/// the `Content-*` fields of the MIME part itself left out.
fn feedback_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            // A continuation (or a whitespace-only line): part of the field before.
            if let Some((_, value)) = fields.last_mut() {
                let more = line.trim();
                if !more.is_empty() {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(more);
                }
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
        if is_name {
            fields.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    fields.retain(|(name, _)| {
        !name
            .get(..8)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("content-"))
    });
    fields
}

/// The address of `Source-IP`, without the host name some reporters add
/// after it (`192.0.2.1 (mail.example.com)`); kept whole if it is no address.
fn ip_address(value: &str) -> String {
    let first = value.split_whitespace().next().unwrap_or(value);
    match first.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => value.to_owned(),
    }
}

/// An address as written in a feedback field, without `<>`.
fn unbracket(value: &str) -> String {
    value
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

/// A domain name: lower-cased, without the root's dot.
fn domain(value: &str) -> String {
    value.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Content-Type: message/feedback-report\r\n \r\n\
Feedback-Type: Auth-Failure\r\nUser-Agent: Example/1.0\r\nVersion: 1\r\n\
Original-Mail-From: <bounce@mail.Example.com>\r\nOriginal-Rcpt-To: <a@example.net>\r\n\
Original-Rcpt-To: b@example.net\r\nArrival-Date: Mon, 01 Oct 2018 11:20:27 +0200\r\n\
Source-IP: 192.0.2.1 (mail.example.com)\r\nReported-Domain: Example.COM\r\nAuth-Failure: DMARC\r\n\
Authentication-Results: mx.example.net; dkim=fail\r\n  header.d=example.com\r\n\
Delivery-Result: Reject\r\nDKIM-Domain: Example.com\r\nDKIM-Selector: s1\r\n \r\n";

    #[test]
    fn reads_the_rfc_6591_fields() {
        let report = parse_failure_report(REPORT.as_bytes()).unwrap();
        assert_eq!(report.feedback_type, "auth-failure");
        assert_eq!(report.auth_failure.as_deref(), Some("dmarc"));
        assert_eq!(report.reported_domain, "example.com");
        assert_eq!(report.source_ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(
            report.original_mail_from.as_deref(),
            Some("bounce@mail.Example.com")
        );
        assert_eq!(report.original_rcpt_to, ["a@example.net", "b@example.net"]);
        assert_eq!(report.arrival_date, Some(1_538_385_627));
        assert_eq!(report.delivery_result.as_deref(), Some("reject"));
        assert_eq!(report.dkim_domain.as_deref(), Some("example.com"));
        assert_eq!(report.dkim_selector.as_deref(), Some("s1"));
        assert_eq!(report.incidents, 1);
        let folded = report
            .fields
            .iter()
            .find(|(name, _)| name == "Authentication-Results")
            .unwrap();
        assert_eq!(folded.1, "mx.example.net; dkim=fail header.d=example.com");
        assert!(report.fields.iter().all(|(name, _)| name != "Content-Type"));
    }

    #[test]
    fn requires_feedback_type_and_reported_domain() {
        let error = parse_failure_report(b"Reported-Domain: example.com\n").unwrap_err();
        assert!(error.to_string().contains("Feedback-Type"), "{error}");
        let error = parse_failure_report(b"Feedback-Type: auth-failure\n").unwrap_err();
        assert!(error.to_string().contains("Reported-Domain"), "{error}");
        let dots = b"Feedback-Type: auth-failure\nReported-Domain: ..\n";
        let error = parse_failure_report(dots).unwrap_err();
        assert!(error.to_string().contains("Reported-Domain"), "{error}");
    }

    #[test]
    fn counts_incidents() {
        let text = "Feedback-Type: auth-failure\nReported-Domain: example.com\nIncidents: 12\n";
        assert_eq!(parse_failure_report(text.as_bytes()).unwrap().incidents, 12);
        let huge = text.replace("12", "4294967296");
        assert_eq!(
            parse_failure_report(huge.as_bytes())
                .unwrap_err()
                .kind()
                .as_str(),
            "invalid_value"
        );
        let bad = text.replace("12", "many");
        assert_eq!(
            parse_failure_report(bad.as_bytes())
                .unwrap_err()
                .kind()
                .as_str(),
            "invalid_value"
        );
    }
}
