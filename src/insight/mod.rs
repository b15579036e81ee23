//! What the reports say, for the people who must act on them: the commands
//! `summary`, `sources`, `policy`, `html` and `digest`.
//!
//! The aggregate reports carry most of it; the SMTP TLS reports and the
//! failure reports add, per domain, the TLS sessions that failed towards
//! each receiving MX and the failed messages reported one by one
//! ([`tls_failure`]).
//!
//! Everything here reads the store through the queries of
//! [`crate::store`] and knows no SQL; it adds the meaning: source names
//! ([`providers`], [`rdns`]), diagnoses ([`diagnosis`]), readiness for the
//! next policy step ([`policy`]), and the ways of showing them ([`render`],
//! [`html`], the weekly mail of [`digest`]).

pub mod approved;
pub mod diagnosis;
pub mod digest;
pub mod html;
pub mod period;
pub mod policy;
pub mod providers;
pub mod rdns;
pub mod render;
pub mod sources;
pub mod summary;
pub mod tls_failure;

use crate::store::{Counts, Scope};
use serde::Serialize;

/// How a set of messages fared, as the outputs give it: counts, shares
/// and dispositions. Flattened into the JSON of its owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Figures {
    pub messages: i64,
    pub dmarc_pass: i64,
    pub dmarc_pass_share: f64,
    pub dkim_aligned_pass: i64,
    pub dkim_aligned_share: f64,
    pub spf_aligned_pass: i64,
    pub spf_aligned_share: f64,
    pub dispositions: Dispositions,
}

impl From<&Counts> for Figures {
    fn from(c: &Counts) -> Self {
        Figures {
            messages: c.messages,
            dmarc_pass: c.dmarc_pass,
            dmarc_pass_share: share(c.dmarc_pass, c.messages),
            dkim_aligned_pass: c.dkim_aligned_pass,
            dkim_aligned_share: share(c.dkim_aligned_pass, c.messages),
            spf_aligned_pass: c.spf_aligned_pass,
            spf_aligned_share: share(c.spf_aligned_pass, c.messages),
            dispositions: Dispositions {
                none: c.delivered(),
                quarantine: c.quarantined,
                reject: c.rejected,
            },
        }
    }
}

/// What receivers did with the mail: delivered (`none`), quarantined,
/// rejected. Counts of messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dispositions {
    pub none: i64,
    pub quarantine: i64,
    pub reject: i64,
}

/// `part / whole` rounded to 4 decimals (0 when there is no whole), as
/// the JSON output gives shares.
pub fn share(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
}

/// A share as a percentage for people: `97.3%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// An integer with thousands separators: `12,345`.
pub fn count(n: i64) -> String {
    crate::i18n::group_thousands(n)
}

/// `count` followed by `noun`, with an `s` unless there is exactly one.
pub fn plural(n: i64, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", count(n))
}

/// The scope as the JSON output echoes it.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeJson {
    /// The domains asked for; empty means all.
    pub domains: Vec<String>,
    /// RFC 3339 UTC, or null when open.
    pub since: Option<String>,
    pub until: Option<String>,
    /// Whether reports from unauthenticated senders are counted.
    pub include_unauthenticated: bool,
}

impl From<&Scope> for ScopeJson {
    fn from(scope: &Scope) -> Self {
        ScopeJson {
            domains: scope
                .domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            since: scope.since.map(period::rfc3339),
            until: scope.until.map(period::rfc3339),
            include_unauthenticated: scope.include_unauthenticated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_plurals_read_well() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1_000), "-1,000");
        assert_eq!(count(0), "0");
        assert_eq!(plural(1, "report"), "1 report");
        assert_eq!(plural(2_000, "message"), "2,000 messages");
    }

    #[test]
    fn shares_round_to_four_decimals() {
        assert_eq!(share(1, 3), 0.3333);
        assert_eq!(share(5, 0), 0.0);
        assert_eq!(percent(0.1151), "11.5%");
    }
}
