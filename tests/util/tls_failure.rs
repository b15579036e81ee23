//! SMTP TLS reports (RFC 8460) and DMARC failure reports (RFC 6591) written
//! in the tests, and the mails that carry them as reporters send them: a TLS
//! report's JSON gzip-compressed as `application/tlsrpt+gzip` in a
//! `multipart/report; report-type=tlsrpt` mail with the `TLS-Report-Domain`
//! and `TLS-Report-Submitter` fields, a failure report as an ARF
//! `multipart/report; report-type=feedback-report` mail.

use super::mail::{Part, gzip, multipart_body};
use super::rfc3339;
use serde_json::{Value, json};

/// A report's range: one day, as big reporters send them.
const REPORT_RANGE_SECS: i64 = 86_399;
/// The sending MTA of [`TlsFailure::new`]: one of Google's.
const GOOGLE_MTA_IP: &str = "209.85.220.41";

/// One SMTP TLS report over the day that begins at `begin`.
pub struct TlsReport<'a> {
    /// `organization-name`.
    pub org_name: &'a str,
    /// The reporter's domain: `contact-info` is an address there, and so is
    /// the sender of its mail.
    pub submitter: &'a str,
    pub report_id: &'a str,
    /// Unix seconds; the range is one day.
    pub begin: i64,
    pub policies: Vec<TlsPolicy<'a>>,
}

/// One entry of a report's `policies`, with an MTA-STS policy string whose
/// only MX host is `mx1.` the domain.
pub struct TlsPolicy<'a> {
    /// `sts`, `tlsa` or `no-policy-found`.
    pub policy_type: &'a str,
    pub policy_domain: &'a str,
    pub successful_sessions: u32,
    /// `failure-details`, left out when empty; the policy's failed sessions
    /// are theirs summed, as RFC 8460 has it.
    pub failures: Vec<TlsFailure<'a>>,
}

/// One entry of a policy's `failure-details`.
pub struct TlsFailure<'a> {
    pub result_type: &'a str,
    pub sending_mta_ip: &'a str,
    /// `receiving-mx-hostname`; `None` leaves it out.
    pub receiving_mx: Option<&'a str>,
    /// `receiving-ip`; `None` leaves it out.
    pub receiving_ip: Option<&'a str>,
    pub failed_sessions: u32,
}

impl<'a> TlsReport<'a> {
    /// A report by `submitter`, which gives its domain as its organisation
    /// name.
    pub fn new(
        submitter: &'a str,
        report_id: &'a str,
        begin: i64,
        policies: Vec<TlsPolicy<'a>>,
    ) -> Self {
        TlsReport {
            org_name: submitter,
            submitter,
            report_id,
            begin,
            policies,
        }
    }

    pub fn json(&self) -> String {
        let policies: Vec<Value> = self.policies.iter().map(TlsPolicy::json).collect();
        let report = json!({
            "organization-name": self.org_name,
            "date-range": {
                "start-datetime": rfc3339(self.begin),
                "end-datetime": rfc3339(self.begin + REPORT_RANGE_SECS),
            },
            "contact-info": format!("smtp-tls-reporting@{}", self.submitter),
            "report-id": self.report_id,
            "policies": policies,
        });
        serde_json::to_string_pretty(&report).unwrap()
    }

    /// The name the submitter gives the report gzip-compressed, after the
    /// domain of its first policy.
    pub fn file_name(&self) -> String {
        tls_report_file_name(
            self.submitter,
            self.policies[0].policy_domain,
            self.begin,
            self.report_id,
        )
    }

    /// The report as its submitter mails it, about the domain of its first
    /// policy.
    pub fn mail(&self) -> Vec<u8> {
        tls_report_mail(
            self.submitter,
            self.policies[0].policy_domain,
            self.report_id,
            self.begin,
            &self.json(),
        )
    }
}

impl<'a> TlsPolicy<'a> {
    /// An MTA-STS policy.
    pub fn sts(
        policy_domain: &'a str,
        successful_sessions: u32,
        failures: Vec<TlsFailure<'a>>,
    ) -> Self {
        TlsPolicy {
            policy_type: "sts",
            policy_domain,
            successful_sessions,
            failures,
        }
    }

    fn json(&self) -> Value {
        let mx_host = format!("mx1.{}", self.policy_domain);
        let failed: u32 = self.failures.iter().map(|f| f.failed_sessions).sum();
        let mut entry = json!({
            "policy": {
                "policy-type": self.policy_type,
                "policy-string": [
                    "version: STSv1",
                    "mode: enforce",
                    format!("mx: {mx_host}"),
                    "max_age: 86400",
                ],
                "policy-domain": self.policy_domain,
                "mx-host": [mx_host],
            },
            "summary": {
                "total-successful-session-count": self.successful_sessions,
                "total-failure-session-count": failed,
            },
        });
        if !self.failures.is_empty() {
            let details = self.failures.iter().map(TlsFailure::json).collect();
            entry["failure-details"] = Value::Array(details);
        }
        entry
    }
}

impl<'a> TlsFailure<'a> {
    /// `failed_sessions` sessions from Google's MTA to `receiving_mx` that
    /// failed with `result_type`.
    pub fn new(result_type: &'a str, receiving_mx: &'a str, failed_sessions: u32) -> Self {
        TlsFailure {
            result_type,
            sending_mta_ip: GOOGLE_MTA_IP,
            receiving_mx: Some(receiving_mx),
            receiving_ip: None,
            failed_sessions,
        }
    }

    fn json(&self) -> Value {
        let mut detail = json!({
            "result-type": self.result_type,
            "sending-mta-ip": self.sending_mta_ip,
            "failed-session-count": self.failed_sessions,
        });
        if let Some(mx) = self.receiving_mx {
            detail["receiving-mx-hostname"] = mx.into();
        }
        if let Some(ip) = self.receiving_ip {
            detail["receiving-ip"] = ip.into();
        }
        detail
    }
}

/// The name reporters give a gzip TLS report:
/// `submitter!domain!begin!end!id.json.gz`.
fn tls_report_file_name(submitter: &str, domain: &str, begin: i64, report_id: &str) -> String {
    format!(
        "{submitter}!{domain}!{begin}!{}!{report_id}.json.gz",
        begin + REPORT_RANGE_SECS
    )
}

/// A TLS report mail from `submitter` about `domain` carrying `json`
/// gzip-compressed, whatever it holds; `report_id` names it in the subject,
/// the Message-ID and the file name.
pub fn tls_report_mail(
    submitter: &str,
    domain: &str,
    report_id: &str,
    begin: i64,
    json: &str,
) -> Vec<u8> {
    let parts = [
        Part::text(
            "text/plain",
            &format!("This is an aggregate TLS report from {submitter}"),
        ),
        Part::attachment(
            "application/tlsrpt+gzip",
            &tls_report_file_name(submitter, domain, begin, report_id),
            &gzip(json.as_bytes()),
        ),
    ];
    let boundary = "=_tlsrpt_boundary";
    format!(
        "Return-Path: <noreply-smtp-tls-reporting@{submitter}>\r\n\
         From: noreply-smtp-tls-reporting@{submitter}\r\n\
         To: tlsrpt@reports.example.com\r\n\
         Subject: Report Domain: {domain} Submitter: {submitter} Report-ID: <{report_id}@{submitter}>\r\n\
         TLS-Report-Domain: {domain}\r\n\
         TLS-Report-Submitter: {submitter}\r\n\
         Message-ID: <tls-{report_id}@{submitter}>\r\n\
         Date: Thu, 16 Nov 2023 03:53:20 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=tlsrpt; boundary=\"{boundary}\"\r\n\
         \r\n\
         {}",
        multipart_body(boundary, &parts)
    )
    .into_bytes()
}

/// One DMARC failure report about one failed message, with just the
/// feedback fields the insight commands read.
pub struct FailureReport {
    /// The domain the report comes from (its From address's).
    pub reporter: &'static str,
    /// Unique per report: a repeated Message-ID is taken for a retry.
    pub message_id: String,
    pub reported_domain: &'static str,
    pub source_ip: &'static str,
    pub auth_failure: &'static str,
    /// `Incidents`; `None` leaves it out (1 is meant).
    pub incidents: Option<i64>,
    /// `Arrival-Date`, unix seconds; `None` leaves it out.
    pub arrival: Option<i64>,
}

impl FailureReport {
    /// The report as an ARF mail carrying the failed message's header.
    pub fn eml(&self) -> Vec<u8> {
        let (domain, reporter) = (self.reported_domain, self.reporter);
        let mut fields = format!(
            "Feedback-Type: auth-failure\r\nUser-Agent: TestReporter/1.0\r\nVersion: 1\r\n\
             Original-Mail-From: <bounce@{domain}>\r\nOriginal-Rcpt-To: <someone@{reporter}>\r\n\
             Source-IP: {ip}\r\nReported-Domain: {domain}\r\nAuth-Failure: {kind}\r\n\
             Authentication-Results: mx.{reporter}; dmarc=fail header.from={domain}\r\n",
            ip = self.source_ip,
            kind = self.auth_failure,
        );
        if let Some(incidents) = self.incidents {
            fields.push_str(&format!("Incidents: {incidents}\r\n"));
        }
        if let Some(arrival) = self.arrival {
            fields.push_str(&format!("Arrival-Date: {}\r\n", rfc2822(arrival)));
        }
        let header =
            format!("From: someone@{domain}\r\nTo: someone@{reporter}\r\nSubject: an invoice\r\n");
        failure_report_mail(
            reporter,
            &self.message_id,
            domain,
            &fields,
            FailedMessage::Header(&header),
        )
    }
}

/// What a failure report carries of the message that failed.
pub enum FailedMessage<'a> {
    /// Its header alone, as `text/rfc822-headers`.
    Header(&'a str),
    /// All of it, as `message/rfc822`.
    Whole(&'a str),
}

/// A DMARC failure report (RFC 6591) from `reporter` (a domain) about a
/// message claiming to be from `reported_domain`: a human part, `fields` as
/// the `message/feedback-report` part, whatever they hold, and the failed
/// message.
pub fn failure_report_mail(
    reporter: &str,
    message_id: &str,
    reported_domain: &str,
    fields: &str,
    failed_message: FailedMessage<'_>,
) -> Vec<u8> {
    let (content_type, failed_message) = match failed_message {
        FailedMessage::Header(header) => ("text/rfc822-headers", header),
        FailedMessage::Whole(message) => ("message/rfc822", message),
    };
    let parts = [
        Part::text(
            "text/plain",
            &format!("A message claiming to be from {reported_domain} failed DMARC."),
        ),
        Part::verbatim("message/feedback-report", fields),
        Part::verbatim(content_type, failed_message),
    ];
    let boundary = "=_arf_boundary";
    format!(
        "From: DMARC failure reports <noreply@{reporter}>\r\n\
         To: ruf@reports.example.com\r\n\
         Subject: DMARC failure report for {reported_domain}\r\n\
         Date: Tue, 03 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"{boundary}\"\r\n\
         \r\n\
         {}",
        multipart_body(boundary, &parts)
    )
    .into_bytes()
}

/// `Tue, 3 Nov 2026 10:00:00 +0000` (RFC 5322).
fn rfc2822(seconds: i64) -> String {
    let timestamp = jiff::Timestamp::from_second(seconds).unwrap();
    jiff::tz::TimeZone::UTC
        .to_datetime(timestamp)
        .strftime("%a, %-d %b %Y %H:%M:%S +0000")
        .to_string()
}
