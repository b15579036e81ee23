//! The one place that knows the order of the steps for one message:
//! keep the raw bytes → extract payloads → parse each → store it or
//! quarantine it → commit, all in one transaction.
//!
//! Both the SMTP listener and `dmarc-sink import` come through here, and so
//! does `dmarc-sink reparse`, which runs the same steps over stored messages.

mod committer;
mod file;
mod message;
mod outcome;
mod packed;
mod pipeline;
mod reparse;
mod visitor;

pub use committer::{Committed, Committer, Submitter};
pub use file::{ingest_file, ingest_file_checked, ingest_file_in};
pub use message::{PendingMessage, ingest_message, ingest_message_in, keep_whole, read_message_in};
pub use outcome::{MessageOutcome, PayloadOutcome, PayloadResult, ReportSummary, Verdict};
pub use pipeline::INLINE_MAX_BYTES;
pub use reparse::{ReparseSummary, reparse};

use crate::auth::Authentication;
use crate::limits::LimitExceeded;
use crate::store::{MessageTx, StoreError};
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

/// The SMTP envelope of a message, when it came by SMTP.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    pub remote_addr: Option<String>,
    pub helo: Option<String>,
    pub mail_from: Option<String>,
    pub rcpt_to: Vec<String>,
    /// What authenticating its sender found; `None`: not checked.
    pub auth: Option<Authentication>,
}

/// A file given to `import` could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    // The cause is in the message, so not also a `source` (printed once).
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: io::Error },
    #[error("{path}: {limit}")]
    TooLarge { path: String, limit: LimitExceeded },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn finish(tx: MessageTx<'_>, payloads: Vec<PayloadResult>) -> Result<MessageOutcome, StoreError> {
    let outcome = MessageOutcome {
        message: tx.message_id(),
        payloads,
        trust: tx.trust(),
    };
    tx.commit(outcome.verdict().as_str())?;
    Ok(outcome)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
