//! The SMTP TLS report (RFC 8460 section 4) as plain data.
//!
//! A sending MTA that delivered (or failed to deliver) mail to a domain
//! publishing MTA-STS or DANE tells, per policy it applied, how many TLS
//! sessions succeeded and which failed, and why. Reports are small (one per
//! reporter and day), so one is held whole.

/// One TLS report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsReport {
    /// `organization-name`.
    pub org_name: String,
    /// `report-id`: unique per reporter, so (org_name, report_id) is the
    /// report's identity, what a reporter's retry repeats.
    pub report_id: String,
    /// `date-range`, unix seconds.
    pub date_begin: i64,
    pub date_end: i64,
    /// `contact-info`.
    pub contact_info: Option<String>,
    pub policies: Vec<TlsPolicy>,
}

impl TlsReport {
    /// Sessions counted in the report, successful and failed.
    pub fn sessions(&self) -> i64 {
        self.policies
            .iter()
            .map(|p| p.successful_sessions.saturating_add(p.failed_sessions))
            .fold(0, i64::saturating_add)
    }

    /// The distinct policy domains, in the order they first appear.
    pub fn policy_domains(&self) -> Vec<&str> {
        let mut domains: Vec<&str> = Vec::new();
        for policy in &self.policies {
            if !domains.contains(&policy.policy_domain.as_str()) {
                domains.push(&policy.policy_domain);
            }
        }
        domains
    }
}

/// One entry of `policies`: the policy applied, its summary and failures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsPolicy {
    /// `policy-type`, lower-cased: `sts`, `tlsa` or `no-policy-found`.
    pub policy_type: String,
    /// `policy-domain`, lower-cased.
    pub policy_domain: String,
    /// `policy-string`: the lines of the MTA-STS policy or the TLSA records.
    pub policy_string: Vec<String>,
    /// `mx-host`: the MX patterns of an MTA-STS policy.
    pub mx_hosts: Vec<String>,
    /// `summary/total-successful-session-count`.
    pub successful_sessions: i64,
    /// `summary/total-failure-session-count`.
    pub failed_sessions: i64,
    pub failures: Vec<TlsFailure>,
}

/// One entry of `failure-details`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFailure {
    /// `result-type`, lower-cased: `starttls-not-supported`,
    /// `certificate-expired`, `validation-failure`, ...
    pub result_type: String,
    pub sending_mta_ip: Option<String>,
    /// Lower-cased, without a trailing dot.
    pub receiving_mx_hostname: Option<String>,
    pub receiving_mx_helo: Option<String>,
    pub receiving_ip: Option<String>,
    pub failed_sessions: i64,
    pub additional_information: Option<String>,
    pub failure_reason_code: Option<String>,
}
