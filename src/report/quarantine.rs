//! Why a payload that looked like a report was kept in quarantine.

use std::fmt;

/// The class of reason a payload was quarantined: what `quarantine.kind`
/// holds. Code decides on the variant; the string is for the store and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuarantineKind {
    /// A configured limit was crossed (the reason names the key).
    Limit,
    /// Corrupt or truncated compressed data, or a stream that failed.
    CorruptPayload,
    /// Labelled as a report, but none of XML, JSON, gzip, zip or MIME.
    NotRecognised,
    /// A zip archive with no report in it.
    EmptyArchive,
    /// XML, but not a DMARC aggregate report.
    NotAggregate,
    /// JSON, but not an SMTP TLS report.
    NotTlsReport,
    /// Broken JSON.
    Json,
    /// Broken XML, or an entity XML does not predefine.
    Xml,
    /// A document type declaration, refused outright.
    DocType,
    /// A required element or field is missing.
    MissingElement,
    /// A value that cannot mean what it must.
    InvalidValue,
    /// Reading the message panicked: kept whole for a later version.
    InternalError,
    /// The sender did not authenticate (`trust.unauthenticated =
    /// "quarantine"`): kept whole, unread.
    Unauthenticated,
}

impl QuarantineKind {
    /// Its name in `quarantine.kind` and in logs: stable, documented.
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineKind::Limit => "limit",
            QuarantineKind::CorruptPayload => "corrupt_payload",
            QuarantineKind::NotRecognised => "not_recognised",
            QuarantineKind::EmptyArchive => "empty_archive",
            QuarantineKind::NotAggregate => "not_aggregate",
            QuarantineKind::NotTlsReport => "not_tlsrpt",
            QuarantineKind::Json => "json",
            QuarantineKind::Xml => "xml",
            QuarantineKind::DocType => "doctype",
            QuarantineKind::MissingElement => "missing_element",
            QuarantineKind::InvalidValue => "invalid_value",
            QuarantineKind::InternalError => "internal_error",
            QuarantineKind::Unauthenticated => "unauthenticated",
        }
    }
}

impl fmt::Display for QuarantineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
