//! `dmarc-sink reparse`: stored messages read again with this version.

use super::finish;
use super::visitor::StoreVisitor;
use crate::extract::{extract_message, extract_stream};
use crate::limits::Limits;
use crate::report::QuarantineKind;
use crate::store::{Source, Store, StoreError};
use std::io::{self, BufReader, Read, Seek};
use std::path::Path;

/// What `reparse` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReparseSummary {
    /// Messages read again.
    pub messages: usize,
    /// Reports stored that were not before.
    pub recovered: usize,
    /// Payloads still unreadable.
    pub still_quarantined: usize,
}

/// Reads stored messages again with this version's extractor and parser:
/// those with quarantined payloads or no report (or all with `all`). Reports
/// that now read are stored and their quarantine rows removed.
pub fn reparse(
    store: &mut Store,
    all: bool,
    limits: &Limits,
) -> Result<ReparseSummary, StoreError> {
    let mut summary = ReparseSummary::default();
    for message in store.messages_to_reparse(all)? {
        let batch = store.begin_batch()?;
        let tx = batch.reopen_message(message.id)?;
        // Kept unread after a panic: read now, or the panic comes again.
        let was_unread = tx.release_quarantine_of_kind(QuarantineKind::InternalError)?;
        let mut visitor = StoreVisitor::new(&tx, limits);
        match message.source {
            Source::Smtp => {
                let mut bytes = Vec::new();
                tx.raw()?.read_to_end(&mut bytes)?;
                extract_message(&bytes, limits, &mut visitor)?;
            }
            Source::Import => {
                // An imported file may be large: spool it to disk rather
                // than memory, and read it back as a stream.
                let mut spool = tempfile::tempfile()?;
                io::copy(&mut tx.raw()?, &mut spool)?;
                spool.rewind()?;
                let name = message
                    .origin
                    .as_deref()
                    .and_then(|o| Path::new(o).file_name())
                    .and_then(|n| n.to_str());
                let mut input = BufReader::with_capacity(64 * 1024, spool);
                extract_stream(&mut input, name, limits, &mut visitor)?;
            }
        }
        let results = visitor.results;
        let recovered = visitor.recovered + usize::from(was_unread && !results.is_empty());
        let outcome = finish(tx, results)?;
        batch.commit()?;
        summary.messages += 1;
        summary.recovered += recovered;
        summary.still_quarantined += outcome.quarantined();
    }
    Ok(summary)
}
