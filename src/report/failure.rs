//! The DMARC failure report (RFC 6591, an ARF report of RFC 5965) as plain
//! data.
//!
//! A receiver that saw one message fail DMARC sends a `multipart/report`:
//! a human-readable part, a `message/feedback-report` part of `Name: value`
//! fields, and the failed message itself or only its headers. Its fields say
//! which authentication failed, from which IP, for which domain.

/// One failure report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureReport {
    /// `Feedback-Type`, lower-cased: `auth-failure` for DMARC failure
    /// reports (`abuse`, `fraud`, ... for other ARF reports).
    pub feedback_type: String,
    /// `Auth-Failure`, lower-cased: `dmarc`, `dkim`, `spf`, `adsp`, ...
    pub auth_failure: Option<String>,
    /// `Source-IP`: the address that sent the failed message.
    pub source_ip: Option<String>,
    /// The first `Reported-Domain`, lower-cased.
    pub reported_domain: String,
    /// `Original-Mail-From`, without `<>`.
    pub original_mail_from: Option<String>,
    /// Every `Original-Rcpt-To`, without `<>`.
    pub original_rcpt_to: Vec<String>,
    /// `Arrival-Date`, unix seconds, when it parses as an RFC 5322 date.
    pub arrival_date: Option<i64>,
    /// `Delivery-Result`, lower-cased: `delivered`, `spam`, `policy`, `reject`, `other`.
    pub delivery_result: Option<String>,
    /// `DKIM-Domain`, lower-cased.
    pub dkim_domain: Option<String>,
    /// `DKIM-Selector`.
    pub dkim_selector: Option<String>,
    /// `SPF-DNS`: the SPF record(s) the receiver evaluated.
    pub spf_dns: Option<String>,
    /// `Incidents`: how many messages this report stands for (1 if absent).
    pub incidents: i64,
    /// Every feedback field as sent, in order, names as written: what the
    /// columns above do not hold (`Authentication-Results`, `User-Agent`,
    /// `DKIM-Identity`, `Reported-URI`, ...).
    pub fields: Vec<(String, String)>,
    /// The header section of the failed message.
    pub original_headers: Option<String>,
    /// The body of the failed message, kept only when the configuration
    /// asks for it (`store.keep_failure_bodies`): it may hold personal data.
    pub original_body: Option<Vec<u8>>,
    /// The domain of the report message's `From` address: who reported.
    pub reporter: Option<String>,
    /// The report message's `Message-ID`, without `<>`.
    pub report_message_id: Option<String>,
}
