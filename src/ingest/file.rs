//! Taking in one file given to `import`: a bare report (XML, JSON, gzip,
//! zip) streamed from disk, or an e-mail message.

use super::message::{ingest_message_in, message_meta};
use super::outcome::MessageOutcome;
use super::visitor::StoreVisitor;
use super::{Envelope, IngestError, finish};
use crate::auth::Authenticator;
use crate::extract::{MessageHeader, Sniffed, extract_stream, sniff};
use crate::limits::{LimitExceeded, Limits};
use crate::store::{Batch, Source, Store, StoreError};
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// Takes in one file: a bare report (XML, gzip, zip) streamed from disk, or
/// an e-mail message, in a transaction of its own.
pub fn ingest_file(
    store: &mut Store,
    path: &Path,
    limits: &Limits,
) -> Result<MessageOutcome, IngestError> {
    ingest_file_checked(store, path, limits, None)
}

/// [`ingest_file`], an e-mail message authenticated by `authenticator`
/// when there is one (`import --authenticate`: DKIM, and DMARC by DKIM
/// alone, as a file has no SMTP client). A bare report is `unchecked`.
pub fn ingest_file_checked(
    store: &mut Store,
    path: &Path,
    limits: &Limits,
    authenticator: Option<&Authenticator>,
) -> Result<MessageOutcome, IngestError> {
    let batch = store.begin_batch()?;
    let outcome = ingest_file_in(&batch, path, limits, authenticator)?;
    batch.commit()?;
    Ok(outcome)
}

/// Takes in one file as part of `batch`.
pub fn ingest_file_in(
    batch: &Batch<'_>,
    path: &Path,
    limits: &Limits,
    authenticator: Option<&Authenticator>,
) -> Result<MessageOutcome, IngestError> {
    let shown = path.display().to_string();
    let read_error = |cause| IngestError::Read {
        path: shown.clone(),
        cause,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    let mut head = Vec::new();
    (&mut file)
        .take(crate::extract::SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(read_error)?;
    file.rewind().map_err(read_error)?;
    if sniff(&head) == Sniffed::Email {
        if size > limits.max_message_bytes {
            let limit = LimitExceeded {
                key: "max_message_bytes",
                limit: limits.max_message_bytes,
            };
            return Err(IngestError::TooLarge { path: shown, limit });
        }
        let mut raw = Vec::with_capacity(size as usize);
        file.read_to_end(&mut raw).map_err(read_error)?;
        let envelope = Envelope {
            auth: authenticator.map(|a| a.authenticate(&raw, None)),
            ..Envelope::default()
        };
        return Ok(ingest_message_in(
            batch,
            &raw,
            Source::Import,
            Some(shown),
            &envelope,
            limits,
        )?);
    }
    let meta = message_meta(
        Source::Import,
        Some(shown.clone()),
        &Envelope::default(),
        MessageHeader::default(),
        size,
    );
    let tx = batch.begin_message(&meta)?;
    tx.write_raw(&head, &mut BufReader::new(&mut file))
        .map_err(|e| match e {
            StoreError::Io(source) => read_error(source),
            other => other.into(),
        })?;
    file.rewind().map_err(read_error)?;
    let mut visitor = StoreVisitor::new(&tx, limits);
    let name = path.file_name().and_then(|n| n.to_str());
    let mut input = BufReader::with_capacity(64 * 1024, file);
    extract_stream(&mut input, name, limits, &mut visitor)?;
    let results = visitor.results;
    Ok(finish(tx, results)?)
}
