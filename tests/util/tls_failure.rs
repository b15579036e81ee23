//! SMTP TLS reports (RFC 8460 JSON) and DMARC failure reports (RFC 6591
//! ARF mails) written in the tests, with just the fields the insight
//! commands read, so that each figure can be built on purpose.

use serde_json::json;

/// One `failure-details` entry.
pub struct TlsFailure {
    pub result_type: &'static str,
    pub sending_mta_ip: &'static str,
    /// `receiving-mx-hostname`; `None` leaves it out.
    pub receiving_mx: Option<&'static str>,
    pub failed_sessions: i64,
}

/// One entry of `policies`.
pub struct TlsPolicy {
    /// `sts`, `tlsa`, `no-policy-found`.
    pub policy_type: &'static str,
    pub domain: &'static str,
    pub successful_sessions: i64,
    /// `total-failure-session-count`; RFC 8460 has it equal the failure
    /// details' sum, which the tests keep.
    pub failed_sessions: i64,
    pub failures: Vec<TlsFailure>,
}

impl TlsPolicy {
    /// An MTA-STS policy whose failed sessions are those of `failures`.
    pub fn sts(domain: &'static str, successful: i64, failures: Vec<TlsFailure>) -> TlsPolicy {
        TlsPolicy {
            policy_type: "sts",
            domain,
            successful_sessions: successful,
            failed_sessions: failures.iter().map(|f| f.failed_sessions).sum(),
            failures,
        }
    }
}

/// One SMTP TLS report over the day that begins at `begin`.
pub struct TlsReport {
    pub org: &'static str,
    pub id: &'static str,
    /// Unix seconds; the range is one day.
    pub begin: i64,
    pub policies: Vec<TlsPolicy>,
}

impl TlsReport {
    pub fn json(&self) -> String {
        let policies: Vec<serde_json::Value> = self
            .policies
            .iter()
            .map(|p| {
                let details: Vec<serde_json::Value> = p
                    .failures
                    .iter()
                    .map(|f| {
                        let mut detail = json!({
                            "result-type": f.result_type,
                            "sending-mta-ip": f.sending_mta_ip,
                            "failed-session-count": f.failed_sessions,
                        });
                        if let Some(mx) = f.receiving_mx {
                            detail["receiving-mx-hostname"] = mx.into();
                        }
                        detail
                    })
                    .collect();
                json!({
                    "policy": {
                        "policy-type": p.policy_type,
                        "policy-string": ["version: STSv1", "mode: enforce"],
                        "policy-domain": p.domain,
                    },
                    "summary": {
                        "total-successful-session-count": p.successful_sessions,
                        "total-failure-session-count": p.failed_sessions,
                    },
                    "failure-details": details,
                })
            })
            .collect();
        let report = json!({
            "organization-name": self.org,
            "date-range": {
                "start-datetime": rfc3339(self.begin),
                "end-datetime": rfc3339(self.begin + 86_399),
            },
            "contact-info": format!("tlsrpt@{}", self.org),
            "report-id": self.id,
            "policies": policies,
        });
        serde_json::to_string_pretty(&report).unwrap()
    }
}

/// One DMARC failure report: an ARF mail about one failed message.
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
    /// The report as an RFC 5322 message with CRLF line ends.
    pub fn eml(&self) -> Vec<u8> {
        let mut fields = format!(
            "Feedback-Type: auth-failure\r\nUser-Agent: TestReporter/1.0\r\nVersion: 1\r\n\
             Original-Mail-From: <bounce@{domain}>\r\nOriginal-Rcpt-To: <someone@{reporter}>\r\n\
             Source-IP: {ip}\r\nReported-Domain: {domain}\r\nAuth-Failure: {kind}\r\n\
             Authentication-Results: mx.{reporter}; dmarc=fail header.from={domain}\r\n",
            domain = self.reported_domain,
            reporter = self.reporter,
            ip = self.source_ip,
            kind = self.auth_failure,
        );
        if let Some(incidents) = self.incidents {
            fields.push_str(&format!("Incidents: {incidents}\r\n"));
        }
        if let Some(arrival) = self.arrival {
            fields.push_str(&format!("Arrival-Date: {}\r\n", rfc2822(arrival)));
        }
        let boundary = "failure-report-boundary";
        format!(
            "From: DMARC failure reports <noreply@{reporter}>\r\n\
             To: ruf@reports.example.net\r\n\
             Subject: DMARC failure report for {domain}\r\n\
             Date: Tue, 03 Nov 2026 10:00:00 +0000\r\n\
             Message-ID: <{id}>\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=feedback-report;\r\n \
             boundary=\"{boundary}\"\r\n\
             \r\n\
             --{boundary}\r\n\
             Content-Type: text/plain; charset=us-ascii\r\n\
             \r\n\
             A message claiming to be from {domain} failed DMARC.\r\n\
             \r\n\
             --{boundary}\r\n\
             Content-Type: message/feedback-report\r\n\
             \r\n\
             {fields}\
             \r\n\
             --{boundary}\r\n\
             Content-Type: text/rfc822-headers\r\n\
             \r\n\
             From: someone@{domain}\r\n\
             To: someone@{reporter}\r\n\
             Subject: an invoice\r\n\
             \r\n\
             --{boundary}--\r\n",
            reporter = self.reporter,
            domain = self.reported_domain,
            id = self.message_id,
        )
        .into_bytes()
    }
}

fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

/// `Tue, 3 Nov 2026 10:00:00 +0000` (RFC 5322).
fn rfc2822(seconds: i64) -> String {
    let timestamp = jiff::Timestamp::from_second(seconds).unwrap();
    jiff::tz::TimeZone::UTC
        .to_datetime(timestamp)
        .strftime("%a, %-d %b %Y %H:%M:%S +0000")
        .to_string()
}
