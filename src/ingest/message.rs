//! Taking in one e-mail message held in memory: from SMTP (through the
//! committer), an `.eml` file or an mbox.

use super::outcome::{MessageOutcome, PayloadOutcome, PayloadResult};
use super::visitor::StoreVisitor;
use super::{Envelope, finish, now};
use crate::auth::Trust;
use crate::extract::{MessageHeader, extract_message};
use crate::limits::Limits;
use crate::report::QuarantineKind;
use crate::store::{Batch, MessageMeta, MessageTx, Source, Store, StoreError};

/// Takes in one e-mail message held in memory (from SMTP, an .eml file or an
/// mbox), storing its raw bytes and everything found in it in a transaction
/// of its own, committed before it returns.
pub fn ingest_message(
    store: &mut Store,
    raw: &[u8],
    source: Source,
    origin: Option<String>,
    envelope: &Envelope,
    limits: &Limits,
) -> Result<MessageOutcome, StoreError> {
    let batch = store.begin_batch()?;
    let outcome = ingest_message_in(&batch, raw, source, origin, envelope, limits)?;
    batch.commit()?;
    Ok(outcome)
}

/// Takes in one message as part of `batch`: stored whole or not at all,
/// durable when the batch commits.
pub fn ingest_message_in(
    batch: &Batch<'_>,
    raw: &[u8],
    source: Source,
    origin: Option<String>,
    envelope: &Envelope,
    limits: &Limits,
) -> Result<MessageOutcome, StoreError> {
    read_message_in(batch, raw, source, origin, envelope, limits)?.keep()
}

/// A message read into its batch, not yet kept: the caller may still drop
/// it (a message with no report, refused at the SMTP door), which undoes
/// everything written for it.
pub struct PendingMessage<'b> {
    tx: MessageTx<'b>,
    payloads: Vec<PayloadResult>,
}

impl PendingMessage<'_> {
    /// No payload looked like a report.
    pub fn is_not_a_report(&self) -> bool {
        self.payloads.is_empty()
    }

    /// Keeps the message in its batch.
    pub fn keep(self) -> Result<MessageOutcome, StoreError> {
        finish(self.tx, self.payloads)
    }
}

/// Reads one message into `batch` and leaves the decision to keep it to the
/// caller (see [`PendingMessage`]).
pub fn read_message_in<'b>(
    batch: &'b Batch<'_>,
    raw: &[u8],
    source: Source,
    origin: Option<String>,
    envelope: &Envelope,
    limits: &Limits,
) -> Result<PendingMessage<'b>, StoreError> {
    let header = MessageHeader::read(raw);
    let meta = message_meta(source, origin, envelope, header, raw.len() as u64);
    let tx = batch.begin_message(&meta)?;
    tx.write_raw(raw, &mut &raw[..])?;
    let mut visitor = StoreVisitor::new(&tx, limits);
    extract_message(raw, limits, &mut visitor)?;
    let payloads = visitor.results;
    Ok(PendingMessage { tx, payloads })
}

/// Keeps a message whole and unread: its row, its raw bytes and one
/// quarantine row for the whole message (member `0`) of `kind`, with
/// `reason`, acknowledged rather than refused. Two kinds come here: a
/// message whose reading panicked ([`QuarantineKind::InternalError`], read
/// by `reparse` once a version is fixed; nothing of it is parsed here, not
/// even its header fields, as the parsers are what failed), and one whose
/// sender did not authenticate ([`QuarantineKind::Unauthenticated`]).
pub fn keep_whole(
    batch: &Batch<'_>,
    raw: &[u8],
    source: Source,
    envelope: &Envelope,
    kind: QuarantineKind,
    reason: &str,
) -> Result<MessageOutcome, StoreError> {
    // After a panic, nothing is parsed: the parsers are what failed.
    let header = match kind {
        QuarantineKind::InternalError => MessageHeader::default(),
        _ => MessageHeader::read(raw),
    };
    let meta = message_meta(source, None, envelope, header, raw.len() as u64);
    let tx = batch.begin_message(&meta)?;
    tx.write_raw(raw, &mut &raw[..])?;
    let member = "0";
    tx.quarantine(member, kind, reason, None)?;
    let payload = PayloadResult {
        member: member.to_owned(),
        outcome: PayloadOutcome::Quarantined {
            kind,
            error: reason.to_owned(),
        },
    };
    finish(tx, vec![payload])
}

/// The row of `messages` for a message taken in now: the one place its
/// fields are gathered, whichever way it came.
pub(super) fn message_meta(
    source: Source,
    origin: Option<String>,
    envelope: &Envelope,
    header: MessageHeader,
    size: u64,
) -> MessageMeta {
    MessageMeta {
        received_at: now(),
        source,
        origin,
        remote_addr: envelope.remote_addr.clone(),
        helo: envelope.helo.clone(),
        mail_from: envelope.mail_from.clone(),
        rcpt_to: envelope.rcpt_to.clone(),
        message_id: header.message_id,
        subject: header.subject,
        from_header: header.from,
        size,
        trust: envelope
            .auth
            .as_ref()
            .map_or(Trust::Unchecked, |auth| auth.trust),
        auth_results: envelope.auth.as_ref().map(|auth| auth.results.clone()),
    }
}
