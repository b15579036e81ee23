//! The DMARC aggregate report as plain data (RFC 7489 appendix C, RFC 9990).
//!
//! These types do no I/O and know nothing of XML or SQL: the parser fills them,
//! the store reads them. A report is split in two on purpose: [`Feedback`] is
//! everything before the records (metadata and the published policy), small and
//! known before the first record; [`Record`] is one row, streamed one at a time
//! so that a million-record report never sits in memory whole.

/// `report_metadata` and `policy_published`: the part of a report that comes
/// before its records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feedback {
    /// `version`, present in RFC 9990 reports ("1.0") and some RFC 7489 ones.
    pub version: Option<String>,
    pub metadata: ReportMetadata,
    pub policy: PolicyPublished,
}

impl Feedback {
    /// The key a reporter's retry repeats: `org_name`, `report_id` and the
    /// policy domain. Two reports with the same key are the same report.
    pub fn key(&self) -> (&str, &str, &str) {
        (
            &self.metadata.org_name,
            &self.metadata.report_id,
            &self.policy.domain,
        )
    }
}

/// `report_metadata`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportMetadata {
    pub org_name: String,
    pub email: Option<String>,
    pub extra_contact_info: Option<String>,
    pub report_id: String,
    /// `date_range/begin`, unix seconds.
    pub date_begin: i64,
    /// `date_range/end`, unix seconds.
    pub date_end: i64,
    /// Every `error` element, in order.
    pub errors: Vec<String>,
    /// `generator` (RFC 9990): the software that wrote the report.
    pub generator: Option<String>,
}

/// `policy_published`: the DMARC record the reporter found in DNS.
///
/// Keyword values are stored lower-cased, as reporters disagree on case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyPublished {
    pub domain: String,
    pub adkim: Option<String>,
    pub aspf: Option<String>,
    pub p: Option<String>,
    pub sp: Option<String>,
    pub pct: Option<i64>,
    pub fo: Option<String>,
    /// `np` (RFC 9990): policy for non-existent subdomains.
    pub np: Option<String>,
    /// `testing` (RFC 9990): `y` or `n`, the successor of `pct`.
    pub testing: Option<String>,
    /// `discovery_method` (RFC 9990): `psl` or `treewalk`.
    pub discovery_method: Option<String>,
}

/// One `record`: a sending IP and what happened to the mail it sent.
///
/// The parser reuses its `Record`s for row after row, so their vectors and
/// strings keep their capacity from one record to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub source_ip: String,
    pub count: i64,
    /// `policy_evaluated/disposition`: none, quarantine, reject (or pass in RFC 9990 drafts).
    pub disposition: Option<String>,
    /// `policy_evaluated/dkim`: the aligned DKIM verdict, pass or fail.
    pub dkim: Option<String>,
    /// `policy_evaluated/spf`: the aligned SPF verdict, pass or fail.
    pub spf: Option<String>,
    pub reasons: Vec<PolicyOverrideReason>,
    pub header_from: Option<String>,
    pub envelope_from: Option<String>,
    pub envelope_to: Option<String>,
    pub dkim_results: Vec<DkimResult>,
    pub spf_results: Vec<SpfResult>,
}

/// `policy_evaluated/reason`: why the receiver did not apply the policy as published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyOverrideReason {
    /// forwarded, sampled_out, trusted_forwarder, mailing_list, local_policy, other.
    pub kind: Option<String>,
    pub comment: Option<String>,
}

/// `auth_results/dkim`: one DKIM signature as verified, aligned or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DkimResult {
    pub domain: Option<String>,
    pub selector: Option<String>,
    pub result: Option<String>,
    pub human_result: Option<String>,
}

/// `auth_results/spf`: the SPF check, aligned or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpfResult {
    pub domain: Option<String>,
    /// helo or mfrom.
    pub scope: Option<String>,
    pub result: Option<String>,
    pub human_result: Option<String>,
}
