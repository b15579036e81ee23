//! The label sets of the series. Every label value comes from a closed enum
//! of this crate, written by its `as_str` (the same word as in the store and
//! the logs), so no value a sender chooses can become a label. The one
//! exception, the last-report gauge's `policy_domain`, takes only the
//! domains the operator lists (see [`super::last_report`]).

use crate::auth::Trust;
use crate::ingest::Verdict;
use crate::report::{QuarantineKind, ReportKind};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use std::fmt::Write;

/// What became of a message handed to the store: the words of the
/// `message` log line's `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Kept, with this verdict (`messages.outcome`).
    Kept(Verdict),
    /// Held no report and was refused (`smtp.not_a_report = "reject"`).
    RejectedNotAReport,
    /// The store failed; answered 451.
    StoreFailed,
}

impl Outcome {
    /// Every value, to show each series from the start.
    pub const ALL: [Outcome; 7] = [
        Outcome::Kept(Verdict::Stored),
        Outcome::Kept(Verdict::Duplicate),
        Outcome::Kept(Verdict::Quarantined),
        Outcome::Kept(Verdict::Partial),
        Outcome::Kept(Verdict::NotAReport),
        Outcome::RejectedNotAReport,
        Outcome::StoreFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Kept(verdict) => verdict.as_str(),
            Outcome::RejectedNotAReport => "rejected_not_a_report",
            Outcome::StoreFailed => "store_failed",
        }
    }
}

/// The class of an SMTP reply code: its first digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyClass {
    /// 2xx: done.
    Success,
    /// 3xx: go on (354 after DATA).
    Intermediate,
    /// 4xx: try again later.
    Transient,
    /// 5xx: refused.
    Permanent,
}

impl ReplyClass {
    pub const ALL: [ReplyClass; 4] = [
        ReplyClass::Success,
        ReplyClass::Intermediate,
        ReplyClass::Transient,
        ReplyClass::Permanent,
    ];

    /// The class of `code`; `None` for what is no reply code (mailin's 0
    /// for "say nothing").
    pub fn of(code: u16) -> Option<ReplyClass> {
        match code {
            200..=299 => Some(ReplyClass::Success),
            300..=399 => Some(ReplyClass::Intermediate),
            400..=499 => Some(ReplyClass::Transient),
            500..=599 => Some(ReplyClass::Permanent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReplyClass::Success => "2xx",
            ReplyClass::Intermediate => "3xx",
            ReplyClass::Transient => "4xx",
            ReplyClass::Permanent => "5xx",
        }
    }
}

/// The kinds of report, to show each series from the start.
pub const REPORT_KINDS: [ReportKind; 3] =
    [ReportKind::Aggregate, ReportKind::Tls, ReportKind::Failure];

/// The trust levels of a message, to show each series from the start.
pub const TRUSTS: [Trust; 3] = [
    Trust::Authenticated,
    Trust::Unauthenticated,
    Trust::Unchecked,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ReportLabels {
    pub kind: ReportKind,
    pub trust: Trust,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: ReportKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct QuarantineLabels {
    pub kind: QuarantineKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ReplyLabels {
    pub class: ReplyClass,
}

/// Implements `EncodeLabelValue` by the type's `as_str`.
macro_rules! label_value_by_as_str {
    ($($type:ty),*) => {$(
        impl EncodeLabelValue for $type {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
                encoder.write_str(self.as_str())
            }
        }
    )*};
}

label_value_by_as_str!(Outcome, ReplyClass, ReportKind, Trust, QuarantineKind);
