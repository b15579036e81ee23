//! The parser for SMTP TLS reports (RFC 8460 section 4): one JSON document.
//!
//! A TLS report is small, so it is read whole (up to `max_json_bytes`),
//! deserialized into the lenient shapes of `tlsrpt_json` (serde_json bounds
//! the nesting depth at 128), then checked field by field, so that every
//! error names the field. Reporters' leniencies handled here: a UTF-8 byte
//! order mark and leading whitespace or NULs, counts given as strings, a
//! missing count (0), a `policy-string` or `mx-host` given as one string
//! rather than a list, keywords in any case, domains with a trailing dot.

use super::ParseError;
use super::tlsrpt_json::{self as json, Check, Count, Text};
use crate::limits::{LimitExceeded, Limits};
use crate::report::tls::{TlsFailure, TlsPolicy, TlsReport};
use std::io::{BufRead, Read};

/// Parses one TLS report from `input`.
pub fn parse_tls_report(input: &mut dyn BufRead, limits: &Limits) -> Result<TlsReport, ParseError> {
    let mut bytes = Vec::new();
    input
        .take(limits.max_json_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ParseError::from_read)?;
    if bytes.len() as u64 > limits.max_json_bytes {
        return Err(ParseError::Limit(LimitExceeded {
            key: "max_json_bytes",
            limit: limits.max_json_bytes,
        }));
    }
    let text = trim_leading(&bytes);
    if let Some(found) = not_an_object(text) {
        return Err(ParseError::NotTlsReport {
            found: found.into(),
        });
    }
    let report: json::Report = serde_json::from_slice(text).map_err(|error| ParseError::Json {
        message: error.to_string(),
    })?;
    check(report)
}

/// Skips what reporters put before the document: a UTF-8 byte order mark,
/// whitespace, NULs.
fn trim_leading(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// What the document is instead, when it is valid JSON of another kind
/// than an object (a report is one). Broken JSON is left to the parser,
/// which says where.
fn not_an_object(text: &[u8]) -> Option<&'static str> {
    match text.first() {
        Some(b'{') | None => None,
        Some(b'[') => Some("a JSON list"),
        Some(b'"') => Some("a JSON string"),
        Some(_) => serde_json::from_slice::<serde::de::IgnoredAny>(text)
            .is_ok()
            .then_some("a JSON value that is no object"),
    }
}

fn check(report: json::Report) -> Result<TlsReport, ParseError> {
    if report.organization_name.is_none() && report.policies.is_none() {
        return Err(ParseError::NotTlsReport {
            found: "a JSON object with neither organization-name nor policies".into(),
        });
    }
    let within = "the report";
    let range = report
        .date_range
        .ok_or_else(|| missing("date-range", within))?;
    let policies = report
        .policies
        .ok_or_else(|| missing("policies", within))?
        .0?;
    Ok(TlsReport {
        org_name: required(report.organization_name, "organization-name", within)?,
        report_id: required(report.report_id, "report-id", within)?,
        date_begin: datetime(range.start, "start-datetime")?,
        date_end: datetime(range.end, "end-datetime")?,
        contact_info: report.contact_info.and_then(Text::value),
        policies,
    })
}

impl Check for json::PolicyEntry {
    type Checked = TlsPolicy;
    fn check(self, index: usize) -> Result<TlsPolicy, ParseError> {
        policy(index, self)
    }
}

impl Check for json::FailureDetail {
    type Checked = TlsFailure;
    fn check(self, _index: usize) -> Result<TlsFailure, ParseError> {
        failure(self)
    }
}

fn policy(index: usize, entry: json::PolicyEntry) -> Result<TlsPolicy, ParseError> {
    let within = format!("policies[{index}]");
    let policy = entry.policy.ok_or_else(|| missing("policy", &within))?;
    let (successful, failed) = match entry.summary {
        Some(summary) => (summary.successful, summary.failed),
        None => (None, None),
    };
    Ok(TlsPolicy {
        policy_type: required(policy.policy_type, "policy-type", &within)?.to_ascii_lowercase(),
        policy_domain: domain_name(required(policy.policy_domain, "policy-domain", &within)?)?,
        policy_string: policy.policy_string.map(|s| s.0).unwrap_or_default(),
        mx_hosts: policy.mx_host.map(|s| s.0).unwrap_or_default(),
        successful_sessions: count(successful, "total-successful-session-count")?,
        failed_sessions: count(failed, "total-failure-session-count")?,
        failures: match entry.failure_details {
            Some(details) => details.0?,
            None => Vec::new(),
        },
    })
}

fn failure(detail: json::FailureDetail) -> Result<TlsFailure, ParseError> {
    let text = |field: Option<Text>| field.and_then(Text::value);
    Ok(TlsFailure {
        result_type: required(detail.result_type, "result-type", "failure-details")?
            .to_ascii_lowercase(),
        sending_mta_ip: text(detail.sending_mta_ip),
        receiving_mx_hostname: text(detail.receiving_mx_hostname)
            .map(|mx| domain(&mx))
            .filter(|mx| !mx.is_empty()),
        receiving_mx_helo: text(detail.receiving_mx_helo),
        receiving_ip: text(detail.receiving_ip),
        failed_sessions: count(detail.failed_sessions, "failed-session-count")?,
        additional_information: text(detail.additional_information),
        failure_reason_code: text(detail.failure_reason_code),
    })
}

fn required(field: Option<Text>, key: &'static str, within: &str) -> Result<String, ParseError> {
    field
        .and_then(Text::value)
        .ok_or_else(|| missing(key, within))
}

/// A session count. Absent: 0 (RFC 8460 makes both summary counts
/// required, yet reporters leave out a zero failure count).
fn count(field: Option<Count>, key: &'static str) -> Result<i64, ParseError> {
    match field {
        None => Ok(0),
        Some(count) => count
            .value()
            .map_err(|shown| invalid(key, shown, "a whole number, at most 4294967295")),
    }
}

/// An RFC 3339 date-time of `date-range`, as unix seconds. One without an
/// offset is taken as UTC.
fn datetime(field: Option<Text>, key: &'static str) -> Result<i64, ParseError> {
    let value = field
        .and_then(Text::value)
        .ok_or_else(|| missing(key, "date-range"))?;
    if let Ok(timestamp) = value.parse::<jiff::Timestamp>() {
        return Ok(timestamp.as_second());
    }
    format!("{value}Z")
        .parse::<jiff::Timestamp>()
        .map(|timestamp| timestamp.as_second())
        .map_err(|_| invalid(key, value, "an RFC 3339 date-time"))
}

/// A domain name: lower-cased (DNS is case-blind), without the root's dot.
fn domain(value: &str) -> String {
    value.trim_end_matches('.').to_ascii_lowercase()
}

/// A `policy-domain` as [`domain`] makes it, which must leave a name (a
/// value of dots alone does not: the fuzzer found it).
fn domain_name(value: String) -> Result<String, ParseError> {
    let name = domain(&value);
    if name.is_empty() {
        return Err(invalid("policy-domain", value, "a domain name"));
    }
    Ok(name)
}

fn missing(element: &'static str, within: &str) -> ParseError {
    ParseError::Missing {
        element,
        within: within.to_owned(),
    }
}

fn invalid(element: &'static str, value: String, expected: &'static str) -> ParseError {
    ParseError::Invalid {
        element,
        value,
        expected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<TlsReport, ParseError> {
        parse_tls_report(&mut json.as_bytes(), &Limits::default())
    }

    const MINIMAL: &str = r#"{"organization-name": "Org", "report-id": "r1",
        "date-range": {"start-datetime": "2024-01-09T00:00:00Z", "end-datetime": "2024-01-09T23:59:59Z"},
        "policies": [{"policy": {"policy-type": "STS", "policy-domain": "Example.COM."},
                      "summary": {"total-successful-session-count": "7"},
                      "failure-details": [{"result-type": "Certificate-Expired",
                          "receiving-mx-hostname": "MX1.Example.com.", "failed-session-count": 2}]}]}"#;

    #[test]
    fn reads_a_report_with_leniencies() {
        let report = parse(&format!("\u{feff}\n {MINIMAL}")).unwrap();
        assert_eq!(report.date_begin, 1_704_758_400);
        assert_eq!(report.date_end, 1_704_758_400 + 86_399);
        let policy = &report.policies[0];
        assert_eq!(policy.policy_type, "sts");
        assert_eq!(policy.policy_domain, "example.com");
        assert_eq!((policy.successful_sessions, policy.failed_sessions), (7, 0));
        let failure = &policy.failures[0];
        assert_eq!(failure.result_type, "certificate-expired");
        assert_eq!(
            failure.receiving_mx_hostname.as_deref(),
            Some("mx1.example.com")
        );
        assert_eq!(report.sessions(), 7);
    }

    #[test]
    fn names_what_is_missing_or_wrong() {
        let no_domain = MINIMAL.replace(r#", "policy-domain": "Example.COM.""#, "");
        let error = parse(&no_domain).unwrap_err();
        assert_eq!(error.kind().as_str(), "missing_element");
        assert!(error.to_string().contains("policy-domain"), "{error}");

        let negative = MINIMAL.replace(r#""7""#, "-3");
        assert_eq!(
            parse(&negative).unwrap_err().kind().as_str(),
            "invalid_value"
        );
        let huge = MINIMAL.replace(r#""7""#, "4294967296");
        assert_eq!(parse(&huge).unwrap_err().kind().as_str(), "invalid_value");

        let bad_date = MINIMAL.replace("2024-01-09T00:00:00Z", "yesterday");
        assert!(
            parse(&bad_date)
                .unwrap_err()
                .to_string()
                .contains("RFC 3339")
        );

        assert_eq!(parse("{\"a\": [1,").unwrap_err().kind().as_str(), "json");
        assert_eq!(parse("[1, 2]").unwrap_err().kind().as_str(), "not_tlsrpt");
        assert_eq!(
            parse("{\"x\": 1}").unwrap_err().kind().as_str(),
            "not_tlsrpt"
        );
    }

    #[test]
    fn a_domain_of_dots_is_no_domain() {
        let dots = MINIMAL.replace("Example.COM.", "...");
        let error = parse(&dots).unwrap_err();
        assert_eq!(error.kind().as_str(), "invalid_value");
        assert!(error.to_string().contains("policy-domain"), "{error}");
        let mx_dots = MINIMAL.replace("MX1.Example.com.", "..");
        let report = parse(&mx_dots).unwrap();
        assert_eq!(report.policies[0].failures[0].receiving_mx_hostname, None);
    }

    #[test]
    fn refuses_a_document_over_the_limit() {
        let limits = Limits {
            max_json_bytes: 64,
            ..Limits::default()
        };
        let error = parse_tls_report(&mut MINIMAL.as_bytes(), &limits).unwrap_err();
        assert!(
            error.to_string().contains("limits.max_json_bytes"),
            "{error}"
        );
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        // Where a value is read, serde_json stops at 128 levels; where it
        // is skipped (an unknown member), it skips without recursing.
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            for (field, kind) in [("policies", "json"), ("unknown", "not_tlsrpt")] {
                let deep = format!(
                    "{{\"{field}\": {}1{}}}",
                    open.repeat(100_000),
                    close.repeat(100_000)
                );
                assert_eq!(
                    parse(&deep).unwrap_err().kind().as_str(),
                    kind,
                    "{field} {open}"
                );
            }
        }
    }

    #[test]
    fn skips_unknown_members_and_odd_list_items() {
        let extended = MINIMAL.replace(
            r#""report-id": "r1","#,
            r#""report-id": 42, "x-vendor": {"a": [1, {"b": null}]},"#,
        );
        let extended = extended.replace(
            r#""policy-type": "STS","#,
            r#""policy-type": "STS", "mx-host": ["mx.example.com", 7, null, ""],"#,
        );
        let report = parse(&extended).unwrap();
        assert_eq!(report.report_id, "42");
        assert_eq!(report.policies[0].mx_hosts, ["mx.example.com"]);
    }
}
