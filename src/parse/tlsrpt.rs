//! The parser for SMTP TLS reports (RFC 8460 section 4): one JSON document.
//!
//! A TLS report is small, so it is read whole (up to `max_json_bytes`) and
//! parsed into a `serde_json::Value` (whose nesting depth serde_json bounds
//! at 128), then checked field by field, so that every error names the
//! field. Reporters' leniencies handled here: a UTF-8 byte order mark and
//! leading whitespace or NULs, counts given as strings, a missing count (0),
//! a `policy-string` or `mx-host` given as one string rather than a list,
//! keywords in any case, domains with a trailing dot.

use super::ParseError;
use crate::limits::{LimitExceeded, Limits};
use crate::report::tls::{TlsFailure, TlsPolicy, TlsReport};
use serde_json::{Map, Value};
use std::io::{BufRead, Read};

type Object = Map<String, Value>;

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
    let value: Value = serde_json::from_slice(text).map_err(|error| ParseError::Json {
        message: error.to_string(),
    })?;
    let Some(root) = value.as_object() else {
        return Err(ParseError::NotTlsReport {
            found: kind_of(&value),
        });
    };
    report(root)
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

fn report(root: &Object) -> Result<TlsReport, ParseError> {
    if !root.contains_key("organization-name") && !root.contains_key("policies") {
        return Err(ParseError::NotTlsReport {
            found: "a JSON object with neither organization-name nor policies".into(),
        });
    }
    let within = "the report";
    let range = root
        .get("date-range")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("date-range", within))?;
    let policies = root
        .get("policies")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("policies", within))?;
    Ok(TlsReport {
        org_name: required(root, "organization-name", within)?,
        report_id: required(root, "report-id", within)?,
        date_begin: datetime(range, "start-datetime")?,
        date_end: datetime(range, "end-datetime")?,
        contact_info: text(root, "contact-info"),
        policies: policies
            .iter()
            .enumerate()
            .map(|(index, entry)| policy(index, entry))
            .collect::<Result<_, _>>()?,
    })
}

fn policy(index: usize, entry: &Value) -> Result<TlsPolicy, ParseError> {
    let within = format!("policies[{index}]");
    let entry = entry
        .as_object()
        .ok_or_else(|| invalid("policies", kind_of(entry), "an object per policy"))?;
    let policy = entry
        .get("policy")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("policy", &within))?;
    let summary = entry.get("summary").and_then(Value::as_object);
    let failures = match entry.get("failure-details") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(details)) => details.iter().map(failure).collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid("failure-details", kind_of(other), "a list"));
        }
    };
    Ok(TlsPolicy {
        policy_type: required(policy, "policy-type", &within)?.to_ascii_lowercase(),
        policy_domain: domain(&required(policy, "policy-domain", &within)?),
        policy_string: strings(policy, "policy-string"),
        mx_hosts: strings(policy, "mx-host"),
        successful_sessions: count(summary, "total-successful-session-count")?,
        failed_sessions: count(summary, "total-failure-session-count")?,
        failures,
    })
}

fn failure(detail: &Value) -> Result<TlsFailure, ParseError> {
    let detail = detail
        .as_object()
        .ok_or_else(|| invalid("failure-details", kind_of(detail), "an object per failure"))?;
    Ok(TlsFailure {
        result_type: required(detail, "result-type", "failure-details")?.to_ascii_lowercase(),
        sending_mta_ip: text(detail, "sending-mta-ip"),
        receiving_mx_hostname: text(detail, "receiving-mx-hostname").map(|mx| domain(&mx)),
        receiving_mx_helo: text(detail, "receiving-mx-helo"),
        receiving_ip: text(detail, "receiving-ip"),
        failed_sessions: count(Some(detail), "failed-session-count")?,
        additional_information: text(detail, "additional-information"),
        failure_reason_code: text(detail, "failure-reason-code"),
    })
}

/// A string field, trimmed; a number is taken as its digits (some reporters
/// write a numeric `report-id`). Absent, empty or of another type: `None`.
fn text(object: &Object, key: &str) -> Option<String> {
    let value = match object.get(key)? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!value.is_empty()).then_some(value)
}

fn required(object: &Object, key: &'static str, within: &str) -> Result<String, ParseError> {
    text(object, key).ok_or_else(|| missing(key, within))
}

/// A list of strings, or one string taken as a list of one.
fn strings(object: &Object, key: &str) -> Vec<String> {
    match object.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_owned()],
        _ => Vec::new(),
    }
}

/// A session count: a non-negative integer, or one written as a string.
/// Absent: 0 (RFC 8460 makes both summary counts required, yet reporters
/// leave out a zero failure count).
fn count(object: Option<&Object>, key: &'static str) -> Result<i64, ParseError> {
    let Some(value) = object.and_then(|o| o.get(key)) else {
        return Ok(0);
    };
    let parsed = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Null => Some(0),
        _ => None,
    };
    parsed
        .filter(|n| *n >= 0)
        .ok_or_else(|| invalid(key, value.to_string(), "a non-negative integer"))
}

/// An RFC 3339 date-time of `date-range`, as unix seconds. One without an
/// offset is taken as UTC.
fn datetime(range: &Object, key: &'static str) -> Result<i64, ParseError> {
    let value = text(range, key).ok_or_else(|| missing(key, "date-range"))?;
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

fn kind_of(value: &Value) -> String {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
    .into()
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
        assert_eq!(error.kind(), "missing_element");
        assert!(error.to_string().contains("policy-domain"), "{error}");

        let negative = MINIMAL.replace(r#""7""#, "-3");
        assert_eq!(parse(&negative).unwrap_err().kind(), "invalid_value");

        let bad_date = MINIMAL.replace("2024-01-09T00:00:00Z", "yesterday");
        assert!(
            parse(&bad_date)
                .unwrap_err()
                .to_string()
                .contains("RFC 3339")
        );

        assert_eq!(parse("{\"a\": [1,").unwrap_err().kind(), "json");
        assert_eq!(parse("[1, 2]").unwrap_err().kind(), "not_tlsrpt");
        assert_eq!(parse("{\"x\": 1}").unwrap_err().kind(), "not_tlsrpt");
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
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&deep).unwrap_err().kind(), "json");
    }
}
