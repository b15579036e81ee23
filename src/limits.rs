//! The limits that keep hostile or broken input from exhausting memory or time.
//!
//! Every limit has a name, a default chosen for real reporters, and a config
//! key under `[limits]`. Each is enforced in exactly one place, and when it is
//! hit the error says which key and what value, so an operator can tell a bomb
//! from a limit set too low.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Configurable limits for extraction and parsing, the `[limits]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct Limits {
    /// Largest message (or imported file) read into memory, in bytes; also
    /// what the archives and messages unpacked into memory from it may hold
    /// together.
    pub max_message_bytes: u64,
    /// Decompressed bytes per message (or imported file): every gzip stream
    /// and zip entry in it, at every layer, together. Admits a
    /// 1,000,000-record report (~700 MB of XML).
    pub max_decompressed_bytes: u64,
    /// Entries in one zip archive, counted by their central directory
    /// headers before it is opened.
    pub max_zip_entries: usize,
    /// Layers of MIME multiparts, attached messages and archives inside each other.
    pub max_nesting_depth: usize,
    /// MIME parts in one message (an attached message is a message of its
    /// own), counted before it is parsed by the `--` that open boundary
    /// delimiters: an upper bound on the parts the walker would make.
    pub max_mime_parts: usize,
    /// Bytes in any single XML token: a text node, comment, tag or CDATA section.
    pub max_xml_token_bytes: usize,
    /// Depth of nested XML elements.
    pub max_xml_depth: usize,
    /// Bytes the parser may hold for one record of an aggregate report:
    /// the text of every value it is given, and 128 for each reason and
    /// DKIM or SPF result. The same holds for the report's metadata and
    /// policy together (each error listed counted as an entry). Without it, one record of a thousand 512 KiB
    /// comments, 563 KiB gzipped, was held whole in memory.
    pub max_record_bytes: usize,
    /// Bytes of one JSON report (an SMTP TLS report), which is read into
    /// memory whole to be parsed.
    pub max_json_bytes: u64,
    /// Message bytes stored from one sender (an IPv4 address, an IPv6 /64)
    /// in a day, over SMTP; past it, 451 4.7.0 until the day is over, so
    /// that a flood cannot fill the disk.
    pub max_stored_bytes_per_ip_per_day: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: default_max_message_bytes(),
            max_decompressed_bytes: default_max_decompressed_bytes(),
            max_zip_entries: default_max_zip_entries(),
            max_nesting_depth: default_max_nesting_depth(),
            max_mime_parts: default_max_mime_parts(),
            max_xml_token_bytes: default_max_xml_token_bytes(),
            max_xml_depth: default_max_xml_depth(),
            max_record_bytes: default_max_record_bytes(),
            max_json_bytes: default_max_json_bytes(),
            max_stored_bytes_per_ip_per_day: default_max_stored_bytes_per_ip_per_day(),
        }
    }
}

/// 64 MiB: the largest aggregate reports seen in the wild are a few MiB compressed.
pub fn default_max_message_bytes() -> u64 {
    64 * 1024 * 1024
}

/// 1 GiB: above a 1,000,000-record report (~700 MB), below a 2 GiB bomb.
pub fn default_max_decompressed_bytes() -> u64 {
    1024 * 1024 * 1024
}

/// 100: reporters send one entry; some archives add macOS metadata.
pub fn default_max_zip_entries() -> usize {
    100
}

/// 10: a forwarded report mail in a multipart with a zip holding a gzip is 5.
pub fn default_max_nesting_depth() -> usize {
    10
}

/// 1000: a report mail has two to five parts; each part costs the parser
/// a few hundred bytes before anything is read, and a report-like one a
/// parse and perhaps a quarantine row after.
pub fn default_max_mime_parts() -> usize {
    1000
}

/// 1 MiB: no field of a report comes close.
pub fn default_max_xml_token_bytes() -> usize {
    1024 * 1024
}

/// 32: a report is 6 levels deep; extensions add a few.
pub fn default_max_xml_depth() -> usize {
    32
}

/// 4 MiB: a record is a few hundred bytes, a few KiB with many DKIM
/// results; this admits three values at `max_xml_token_bytes`.
pub fn default_max_record_bytes() -> usize {
    4 * 1024 * 1024
}

/// 4 MiB: a TLS report is a few KiB, one failure detail per sending IP,
/// receiving MX and result type; a big reporter's reaches a few hundred
/// KiB. Parsed, a report takes up to about 15 times its text (a list of
/// minimal failure details: 4 MiB of them import in 66 MiB), so this also
/// keeps a hostile one well under the daemon's memory budget.
pub fn default_max_json_bytes() -> u64 {
    4 * 1024 * 1024
}

/// Which limit was crossed, with its configured value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitExceeded {
    /// The config key, e.g. `max_decompressed_bytes`.
    pub key: &'static str,
    /// The configured value that was crossed.
    pub limit: u64,
}

impl fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.key {
            "max_message_bytes" => "message exceeds",
            "max_decompressed_bytes" => "decompressed payload exceeds",
            "max_zip_entries" => "zip archive has more entries than",
            "max_nesting_depth" => "MIME or archive nesting is deeper than",
            "max_mime_parts" => "MIME message has more parts than",
            "max_xml_token_bytes" => "an XML text, comment or tag exceeds",
            "max_xml_depth" => "XML elements are nested deeper than",
            "max_record_bytes" => {
                "a record of an aggregate report (or its metadata and policy) holds more than"
            }
            "max_json_bytes" => "a JSON report exceeds",
            _ => "input exceeds",
        };
        write!(
            f,
            "{what} the limit of {} (limits.{})",
            self.limit, self.key
        )
    }
}

impl std::error::Error for LimitExceeded {}

impl LimitExceeded {
    /// Wraps the error in an `io::Error`, for limits enforced inside a reader.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::other(self)
    }

    /// Finds a limit error carried inside an `io::Error`.
    pub fn from_io(error: &std::io::Error) -> Option<LimitExceeded> {
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
            .copied()
    }
}

/// 1 GiB: hundreds of days of the largest reporter's reports, a day's.
pub fn default_max_stored_bytes_per_ip_per_day() -> u64 {
    1024 * 1024 * 1024
}
