//! `dmarc-sink reparse`: stored messages read again with this version.

use super::message::message_meta;
use super::visitor::StoreVisitor;
use super::{Envelope, finish};
use crate::extract::{MessageHeader, SNIFF_BYTES, Sniffed, extract_message, extract_stream, sniff};
use crate::limits::Limits;
use crate::report::QuarantineKind;
use crate::store::{MessageMeta, Source, Store, StoreError};
use std::io::{self, BufReader, Read, Seek};
use std::path::Path;

/// What `reparse` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReparseSummary {
    /// Messages read again.
    pub messages: usize,
    /// Reports read that were not before: out of quarantine, or found in a
    /// message an older reader found none in.
    pub recovered: usize,
    /// Payloads still unreadable.
    pub still_quarantined: usize,
}

/// Reads stored messages again with this version's reader: those with
/// quarantined payloads or no report, those an older reader read (or all
/// with `all`). Reports that now read are stored and their quarantine rows
/// removed; reports and header fields stored from a message before are
/// rewritten in place as read now, keeping their ids.
pub fn reparse(
    store: &mut Store,
    all: bool,
    limits: &Limits,
) -> Result<ReparseSummary, StoreError> {
    let mut summary = ReparseSummary::default();
    for message in store.messages_to_reparse(all)? {
        let batch = store.begin_batch()?;
        let tx = batch.reopen_message(message.id)?;
        let stored_before = tx.stored_reports()?;
        // Kept unread after a panic: read now, or the panic comes again.
        let was_unread = tx.release_quarantine_of_kind(QuarantineKind::InternalError)?;
        let mut visitor = StoreVisitor::new(&tx, limits);
        match message.source {
            Source::Smtp => {
                let mut bytes = Vec::new();
                tx.raw()?.read_to_end(&mut bytes)?;
                tx.rewrite_header(&reread_meta(&bytes))?;
                extract_message(&bytes, limits, &mut visitor)?;
            }
            Source::Import => {
                // An imported file may be large: spool it to disk rather
                // than memory, and read it back as a stream.
                let mut spool = tempfile::tempfile()?;
                io::copy(&mut tx.raw()?, &mut spool)?;
                spool.rewind()?;
                let mut head = Vec::new();
                (&mut spool)
                    .take(SNIFF_BYTES as u64)
                    .read_to_end(&mut head)?;
                spool.rewind()?;
                if sniff(&head) == Sniffed::Email {
                    // `import` takes in no message over `max_message_bytes`.
                    let mut bytes = Vec::new();
                    (&mut spool)
                        .take(limits.max_message_bytes)
                        .read_to_end(&mut bytes)?;
                    spool.rewind()?;
                    tx.rewrite_header(&reread_meta(&bytes))?;
                }
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
        let released = visitor.released + usize::from(was_unread && !results.is_empty());
        let outcome = finish(tx, results)?;
        let stored_after = batch.stored_reports(message.id)?;
        batch.commit()?;
        summary.messages += 1;
        // Out of quarantine, or found in a message an older reader saw
        // nothing in (counted once either way).
        summary.recovered += released.max(stored_after.saturating_sub(stored_before));
        summary.still_quarantined += outcome.quarantined();
    }
    Ok(summary)
}

/// The header fields of a stored message, read again (the rest of the
/// row is the envelope's, which reading cannot change).
fn reread_meta(raw: &[u8]) -> MessageMeta {
    let header = MessageHeader::read(raw);
    message_meta(
        Source::Smtp,
        None,
        &Envelope::default(),
        header,
        raw.len() as u64,
    )
}
