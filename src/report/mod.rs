//! The reports a sink receives, as plain data.
//!
//! These types do no I/O and know nothing of XML, JSON, MIME or SQL: the
//! parsers fill them, the store reads them. Three kinds come to the same
//! address, told apart by their content:
//!
//! - [`aggregate`]: DMARC aggregate reports (`rua=`, RFC 7489 appendix C and
//!   RFC 9990), the bulk of the traffic, streamed record by record;
//! - [`tls`]: SMTP TLS reports (`_smtp._tls` `rua=`, RFC 8460);
//! - [`failure`]: DMARC failure reports (`ruf=`, RFC 6591 over RFC 5965).

pub mod aggregate;
pub mod failure;
mod quarantine;
pub mod tls;

pub use aggregate::*;
pub use quarantine::QuarantineKind;

/// The kind of a report, as told from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// A DMARC aggregate report.
    Aggregate,
    /// An SMTP TLS report.
    Tls,
    /// A DMARC failure report.
    Failure,
}

impl ReportKind {
    /// Its name in logs and JSON: `aggregate`, `tlsrpt`, `failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Aggregate => "aggregate",
            ReportKind::Tls => "tlsrpt",
            ReportKind::Failure => "failure",
        }
    }
}
