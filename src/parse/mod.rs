//! Payload → report: turns the bytes of one report document into typed values.
//!
//! The parsers do no I/O of their own beyond reading what they are given, and
//! know nothing of MIME, archives or SQL. One per kind of report:
//!
//! - `aggregate`: DMARC aggregate reports (XML). It streams: records are
//!   handed to an [`AggregateSink`] one at a time, so memory stays flat
//!   whatever the size of the report.
//! - `tlsrpt`: SMTP TLS reports (JSON), small, read whole.
//! - `failure`: the feedback fields of DMARC failure reports.

mod aggregate;
mod failure;
mod strings;
mod tlsrpt;
mod tlsrpt_json;
mod xml_input;

pub use aggregate::{
    AggregateSink, ParseFailure, ParsedReport, parse_aggregate, parse_aggregate_labelled,
};
pub use failure::parse_failure_report;
pub use tlsrpt::parse_tls_report;

use crate::limits::LimitExceeded;
use crate::report::QuarantineKind;
use std::fmt;
use std::io;

/// The largest count a report may give (of messages in an aggregate
/// record, of TLS sessions, of failure-report incidents): 4,294,967,295,
/// far above what any reporter counts for one source in a day. A count
/// above it is an invalid value: the store sums counts over every report it
/// holds, and SQLite's `sum()` fails rather than wraps past 2^63, so a few
/// hostile reports of huge counts could otherwise break every query that
/// sums them.
pub const MAX_COUNT: i64 = u32::MAX as i64;

/// Why a payload could not be read as a report.
#[derive(Debug)]
pub enum ParseError {
    /// Well-formed enough to read, but the document is not a DMARC aggregate
    /// report (its root element is named here).
    NotAggregate { root: String },
    /// Valid JSON, but not an SMTP TLS report (what it is instead is named).
    NotTlsReport { found: String },
    /// The JSON itself is broken (serde_json's message, which names the
    /// line and column).
    Json { message: String },
    /// The XML itself is broken: a mismatched tag, an unclosed element, bad syntax.
    Xml { position: u64, message: String },
    /// A document type declaration: refused outright, entities are never expanded.
    DocType,
    /// A reference to an entity that XML does not predefine.
    UndefinedEntity { name: String, position: u64 },
    /// A required element is absent or empty.
    Missing {
        element: &'static str,
        within: String,
    },
    /// An element holds a value that cannot mean what it must (a count that is
    /// not a number, say).
    Invalid {
        element: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A configured limit was crossed while reading.
    Limit(LimitExceeded),
    /// The payload stream failed: corrupt compression, a truncated archive.
    Read(io::Error),
}

impl ParseError {
    /// The class of error, stored beside the payload it kept from the store.
    pub fn kind(&self) -> QuarantineKind {
        match self {
            ParseError::NotAggregate { .. } => QuarantineKind::NotAggregate,
            ParseError::NotTlsReport { .. } => QuarantineKind::NotTlsReport,
            ParseError::Json { .. } => QuarantineKind::Json,
            ParseError::Xml { .. } | ParseError::UndefinedEntity { .. } => QuarantineKind::Xml,
            ParseError::DocType => QuarantineKind::DocType,
            ParseError::Missing { .. } => QuarantineKind::MissingElement,
            ParseError::Invalid { .. } => QuarantineKind::InvalidValue,
            ParseError::Limit(_) => QuarantineKind::Limit,
            ParseError::Read(_) => QuarantineKind::CorruptPayload,
        }
    }

    /// Sorts an I/O error from the payload stream: a limit enforced inside a
    /// reader stays a limit error.
    pub(crate) fn from_read(error: io::Error) -> ParseError {
        match LimitExceeded::from_io(&error) {
            Some(limit) => ParseError::Limit(limit),
            None => ParseError::Read(error),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotAggregate { root } => {
                write!(f, "not a DMARC aggregate report: root element is <{root}>")
            }
            ParseError::NotTlsReport { found } => {
                write!(f, "not an SMTP TLS report: {found}")
            }
            ParseError::Json { message } => write!(f, "malformed JSON: {message}"),
            ParseError::Xml { position, message } => {
                write!(f, "malformed XML at byte {position}: {message}")
            }
            ParseError::DocType => write!(
                f,
                "document type declarations are refused (no DTD processing, entities are never expanded)"
            ),
            ParseError::UndefinedEntity { name, position } => write!(
                f,
                "malformed XML at byte {position}: undefined entity &{name}; (entities are never expanded)"
            ),
            ParseError::Missing { element, within } => {
                write!(
                    f,
                    "required element <{element}> missing or empty in {within}"
                )
            }
            ParseError::Invalid {
                element,
                value,
                expected,
            } => {
                let shown: String = value.chars().take(40).collect();
                write!(f, "<{element}> is {shown:?}, expected {expected}")
            }
            ParseError::Limit(limit) => limit.fmt(f),
            ParseError::Read(error) => write!(f, "cannot read payload: {error}"),
        }
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ParseError::Read(error) => Some(error),
            ParseError::Limit(limit) => Some(limit),
            _ => None,
        }
    }
}
