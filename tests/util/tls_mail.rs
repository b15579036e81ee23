//! Builds SMTP TLS reports (RFC 8460) and the mails that carry them, as
//! Google sends them: a JSON report, gzip-compressed, attached as
//! `application/tlsrpt+gzip` to a `multipart/report; report-type="tlsrpt"`
//! mail with the `TLS-Report-Domain` and `TLS-Report-Submitter` fields.

use super::mail::{Part, gzip};
use serde_json::{Value, json};

/// A report's range: one day, as big reporters send them.
const REPORT_RANGE_SECS: i64 = 86_399;
/// The sending MTA every failure detail names (one of Google's).
const SENDING_MTA_IP: &str = "209.85.220.41";

/// One entry of a report's `policies`: an MTA-STS policy for a domain whose
/// MX hosts are `mx1.` and `mx2.` the domain.
pub struct TlsPolicy<'a> {
    pub policy_domain: &'a str,
    pub successful_sessions: u32,
    pub failures: Vec<TlsFailure<'a>>,
}

/// One entry of a policy's `failure-details`.
pub struct TlsFailure<'a> {
    pub result_type: &'a str,
    pub receiving_mx: &'a str,
    pub failed_sessions: u32,
}

impl<'a> TlsFailure<'a> {
    pub fn new(result_type: &'a str, receiving_mx: &'a str, failed_sessions: u32) -> Self {
        TlsFailure {
            result_type,
            receiving_mx,
            failed_sessions,
        }
    }
}

/// A TLS report by `org_name` over the day that begins at `begin` (unix
/// seconds). A policy with no failures has no `failure-details`.
pub fn tls_report_json(
    org_name: &str,
    report_id: &str,
    begin: i64,
    policies: &[TlsPolicy<'_>],
) -> String {
    let policies: Vec<Value> = policies.iter().map(policy_json).collect();
    let report = json!({
        "organization-name": org_name,
        "date-range": {
            "start-datetime": rfc3339(begin),
            "end-datetime": rfc3339(begin + REPORT_RANGE_SECS),
        },
        "contact-info": format!("smtp-tls-reporting@{org_name}"),
        "report-id": report_id,
        "policies": policies,
    });
    serde_json::to_string_pretty(&report).unwrap()
}

fn policy_json(policy: &TlsPolicy<'_>) -> Value {
    let domain = policy.policy_domain;
    let mx_hosts = [format!("mx1.{domain}"), format!("mx2.{domain}")];
    let failed: u32 = policy.failures.iter().map(|f| f.failed_sessions).sum();
    let mut entry = json!({
        "policy": {
            "policy-type": "sts",
            "policy-string": [
                "version: STSv1",
                "mode: enforce",
                format!("mx: {}", mx_hosts[0]),
                format!("mx: {}", mx_hosts[1]),
                "max_age: 604800",
            ],
            "policy-domain": domain,
            "mx-host": mx_hosts,
        },
        "summary": {
            "total-successful-session-count": policy.successful_sessions,
            "total-failure-session-count": failed,
        },
    });
    if !policy.failures.is_empty() {
        let details: Vec<Value> = policy
            .failures
            .iter()
            .map(|failure| {
                json!({
                    "result-type": failure.result_type,
                    "sending-mta-ip": SENDING_MTA_IP,
                    "receiving-mx-hostname": failure.receiving_mx,
                    "failed-session-count": failure.failed_sessions,
                })
            })
            .collect();
        entry["failure-details"] = Value::Array(details);
    }
    entry
}

/// The file name reporters give a gzip TLS report:
/// `submitter!domain!begin!end!id.json.gz`.
pub fn tls_report_file_name(submitter: &str, domain: &str, begin: i64, id: &str) -> String {
    format!(
        "{submitter}!{domain}!{begin}!{}!{id}.json.gz",
        begin + REPORT_RANGE_SECS
    )
}

/// A TLS report mail from `submitter` about `domain` carrying `json`
/// gzip-compressed; `report_id` names it in the subject and file name.
pub fn tls_report_mail(
    submitter: &str,
    domain: &str,
    report_id: &str,
    begin: i64,
    json: &str,
) -> Vec<u8> {
    let text = Part::text(
        "text/plain",
        &format!("This is an aggregate TLS report from {submitter}"),
    );
    let attachment = Part::attachment(
        "application/tlsrpt+gzip",
        &tls_report_file_name(submitter, domain, begin, report_id),
        &gzip(json.as_bytes()),
    );
    let boundary = "=_tlsrpt_boundary";
    let mut mail = format!(
        "Return-Path: <noreply-smtp-tls-reporting@{submitter}>\r\n\
         From: noreply-smtp-tls-reporting@{submitter}\r\n\
         To: tlsrpt@reports.example.com\r\n\
         Subject: Report Domain: {domain} Submitter: {submitter} Report-ID: <{report_id}@{submitter}>\r\n\
         TLS-Report-Domain: {domain}\r\n\
         TLS-Report-Submitter: {submitter}\r\n\
         Message-ID: <{report_id}.tls@{submitter}>\r\n\
         Date: Thu, 16 Nov 2023 03:53:20 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; boundary=\"{boundary}\"; report-type=tlsrpt\r\n\r\n"
    );
    for part in [text, attachment] {
        mail.push_str(&format!(
            "--{boundary}\r\n{}\r\n{}\r\n",
            part.headers, part.body
        ));
    }
    mail.push_str(&format!("--{boundary}--\r\n"));
    mail.into_bytes()
}

fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}
