//! The one place that knows the order of the steps for one message:
//! keep the raw bytes → extract payloads → parse each → store it or
//! quarantine it → commit, all in one transaction.
//!
//! Both the SMTP listener and `dmarc-sink import` come through here, and so
//! does `dmarc-sink reparse`, which runs the same steps over stored messages.

mod committer;
mod pipeline;
mod read_ahead;

pub use committer::{Committed, Committer, Submitter};

use crate::extract::{
    ExtractError, FailureMessage, PayloadInfo, PayloadVisitor, Sniffed, extract_message,
    extract_stream, sniff, split_header_section,
};
use crate::limits::{LimitExceeded, Limits};
use crate::parse::{ParseError, parse_failure_report, parse_tls_report};
use crate::report::ReportKind;
use crate::report::failure::FailureReport;
use crate::report::tls::TlsReport;
use crate::store::{Batch, MessageMeta, MessageTx, Source, Store, StoreError, Written};
use mail_parser::MessageParser;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The SMTP envelope of a message, when it came by SMTP.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    pub remote_addr: Option<String>,
    pub helo: Option<String>,
    pub mail_from: Option<String>,
    pub rcpt_to: Vec<String>,
}

/// The identity and size of a report that was read, in the same terms for
/// each kind of report (those of the corpus's `expected.tsv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    pub kind: ReportKind,
    /// Who reported: `org_name` (aggregate), `organization-name` (TLS), the
    /// domain of the report message's `From` address (failure; empty if none).
    pub org_name: String,
    /// `report_id`, `report-id`, or the report message's `Message-ID`
    /// (failure; empty if none).
    pub report_id: String,
    /// The policy domain; for a TLS report every distinct `policy-domain`,
    /// joined with `,`; for a failure report the `Reported-Domain`.
    pub policy_domain: String,
    /// The range the report covers, unix seconds; a failure report's
    /// `Arrival-Date` (0 if it has none) for both.
    pub date_begin: i64,
    pub date_end: i64,
    /// Records (aggregate), policies (TLS), 1 (failure).
    pub records: u64,
    /// Messages the records count (aggregate), TLS sessions successful and
    /// failed (TLS), `Incidents` (failure).
    pub messages: i64,
}

impl ReportSummary {
    fn of_tls(report: &TlsReport) -> ReportSummary {
        ReportSummary {
            kind: ReportKind::Tls,
            org_name: report.org_name.clone(),
            report_id: report.report_id.clone(),
            policy_domain: report.policy_domains().join(","),
            date_begin: report.date_begin,
            date_end: report.date_end,
            records: report.policies.len() as u64,
            messages: report.sessions(),
        }
    }

    fn of_failure(report: &FailureReport) -> ReportSummary {
        let arrival = report.arrival_date.unwrap_or(0);
        ReportSummary {
            kind: ReportKind::Failure,
            org_name: report.reporter.clone().unwrap_or_default(),
            report_id: report.report_message_id.clone().unwrap_or_default(),
            policy_domain: report.reported_domain.clone(),
            date_begin: arrival,
            date_end: arrival,
            records: 1,
            messages: report.incidents,
        }
    }
}

/// What became of one payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadOutcome {
    /// Stored; `id` is its row in `reports`, `tls_reports` or
    /// `failure_reports` (by `report.kind`). `new_failing_sources`: the
    /// sources an aggregate report is the first to show failing DMARC for
    /// the domain; `new_tls_failure_types`: the failure types a TLS report
    /// is the first to show for its domains (what `serve` alerts on).
    Stored {
        id: i64,
        report: ReportSummary,
        new_failing_sources: u64,
        new_tls_failure_types: u64,
    },
    /// Stored before (a reporter's retry); `existing` is the stored row.
    Duplicate {
        existing: i64,
        report: ReportSummary,
    },
    /// Kept in `quarantine`, unreadable for the reason given.
    Quarantined { kind: &'static str, error: String },
}

/// One payload found in a message, and its fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadResult {
    pub member: String,
    pub outcome: PayloadOutcome,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageOutcome {
    /// Its row in `messages`.
    pub message: i64,
    pub payloads: Vec<PayloadResult>,
}

impl MessageOutcome {
    /// No payload looked like a report.
    pub fn is_not_a_report(&self) -> bool {
        self.payloads.is_empty()
    }

    pub fn stored(&self) -> impl Iterator<Item = &ReportSummary> {
        self.payloads.iter().filter_map(|p| match &p.outcome {
            PayloadOutcome::Stored { report, .. } => Some(report),
            _ => None,
        })
    }

    pub fn duplicates(&self) -> usize {
        self.count(|o| matches!(o, PayloadOutcome::Duplicate { .. }))
    }

    pub fn quarantined(&self) -> usize {
        self.count(|o| matches!(o, PayloadOutcome::Quarantined { .. }))
    }

    fn count(&self, test: impl Fn(&PayloadOutcome) -> bool) -> usize {
        self.payloads.iter().filter(|p| test(&p.outcome)).count()
    }

    /// The value of `messages.outcome`.
    pub fn verdict(&self) -> &'static str {
        let stored = self.stored().count();
        let duplicates = self.duplicates();
        let quarantined = self.quarantined();
        match (stored + duplicates, quarantined) {
            (0, 0) => "not_a_report",
            (0, _) => "quarantined",
            (_, 0) if stored > 0 => "stored",
            (_, 0) => "duplicate",
            _ => "partial",
        }
    }
}

/// A file given to `import` could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{path}: {limit}")]
    TooLarge { path: String, limit: LimitExceeded },
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
    // The header section alone: where a whitespace-only line ends it (see
    // `split_header_section`), the parser would read on into the body.
    let (header_section, _) = split_header_section(raw);
    let headers = MessageParser::new().parse_headers(header_section);
    let meta = MessageMeta {
        received_at: now(),
        source,
        origin,
        remote_addr: envelope.remote_addr.clone(),
        helo: envelope.helo.clone(),
        mail_from: envelope.mail_from.clone(),
        rcpt_to: envelope.rcpt_to.clone(),
        message_id: headers
            .as_ref()
            .and_then(|m| m.message_id())
            .map(str::to_owned),
        subject: headers
            .as_ref()
            .and_then(|m| m.subject())
            .map(str::to_owned),
        from_header: headers
            .as_ref()
            .and_then(|m| m.from())
            .and_then(|from| from.first())
            .and_then(|addr| addr.address())
            .map(str::to_owned),
        size: raw.len() as u64,
    };
    let tx = batch.begin_message(&meta)?;
    tx.write_raw(raw, &mut &raw[..])?;
    let mut visitor = StoreVisitor::new(&tx, limits);
    extract_message(raw, limits, &mut visitor)?;
    let payloads = visitor.results;
    Ok(PendingMessage { tx, payloads })
}

/// The `quarantine.kind` of a message whose reading failed unexpectedly (a
/// panic: a bug in this version or a library), kept whole as member `0`.
pub const INTERNAL_ERROR: &str = "internal_error";

/// Keeps a message that could not be read because reading it panicked: its
/// row, its raw bytes and a quarantine row for the whole message (member
/// `0`, kind [`INTERNAL_ERROR`]) with `reason`, so that it is acknowledged
/// rather than refused forever, and `reparse` reads it once fixed. Nothing
/// of it is parsed here, not even its header fields: the parsers are what
/// failed.
pub fn keep_unread(
    batch: &Batch<'_>,
    raw: &[u8],
    source: Source,
    envelope: &Envelope,
    reason: &str,
) -> Result<MessageOutcome, StoreError> {
    let meta = MessageMeta {
        received_at: now(),
        source,
        origin: None,
        remote_addr: envelope.remote_addr.clone(),
        helo: envelope.helo.clone(),
        mail_from: envelope.mail_from.clone(),
        rcpt_to: envelope.rcpt_to.clone(),
        message_id: None,
        subject: None,
        from_header: None,
        size: raw.len() as u64,
    };
    let tx = batch.begin_message(&meta)?;
    tx.write_raw(raw, &mut &raw[..])?;
    let member = "0";
    tx.quarantine(member, INTERNAL_ERROR, reason, None)?;
    let payload = PayloadResult {
        member: member.to_owned(),
        outcome: PayloadOutcome::Quarantined {
            kind: INTERNAL_ERROR,
            error: reason.to_owned(),
        },
    };
    finish(tx, vec![payload])
}

/// Takes in one file: a bare report (XML, gzip, zip) streamed from disk, or
/// an e-mail message, in a transaction of its own.
pub fn ingest_file(
    store: &mut Store,
    path: &Path,
    limits: &Limits,
) -> Result<MessageOutcome, IngestError> {
    let batch = store.begin_batch()?;
    let outcome = ingest_file_in(&batch, path, limits)?;
    batch.commit()?;
    Ok(outcome)
}

/// Takes in one file as part of `batch`.
pub fn ingest_file_in(
    batch: &Batch<'_>,
    path: &Path,
    limits: &Limits,
) -> Result<MessageOutcome, IngestError> {
    let shown = path.display().to_string();
    let read_error = |source| IngestError::Read {
        path: shown.clone(),
        source,
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
        let envelope = Envelope::default();
        return Ok(ingest_message_in(
            batch,
            &raw,
            Source::Import,
            Some(shown),
            &envelope,
            limits,
        )?);
    }
    let meta = MessageMeta {
        received_at: now(),
        source: Source::Import,
        origin: Some(shown.clone()),
        remote_addr: None,
        helo: None,
        mail_from: None,
        rcpt_to: Vec::new(),
        message_id: None,
        subject: None,
        from_header: None,
        size,
    };
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
        let was_unread = tx.release_quarantine_of_kind(INTERNAL_ERROR)?;
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

fn finish(tx: MessageTx<'_>, payloads: Vec<PayloadResult>) -> Result<MessageOutcome, StoreError> {
    let outcome = MessageOutcome {
        message: tx.message_id(),
        payloads,
    };
    tx.commit(outcome.verdict())?;
    Ok(outcome)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Parses each payload into the message's transaction, or quarantines it.
struct StoreVisitor<'t, 'c> {
    tx: &'t MessageTx<'c>,
    limits: &'t Limits,
    results: Vec<PayloadResult>,
    /// Reports stored from payloads that had been quarantined (reparse).
    recovered: usize,
}

impl<'t, 'c> StoreVisitor<'t, 'c> {
    fn new(tx: &'t MessageTx<'c>, limits: &'t Limits) -> Self {
        StoreVisitor {
            tx,
            limits,
            results: Vec::new(),
            recovered: 0,
        }
    }

    fn unparsed(
        &mut self,
        payload: &PayloadInfo<'_>,
        error: &ParseError,
    ) -> Result<(), StoreError> {
        self.quarantine(payload, error.kind(), error.to_string())
    }

    /// Records what became of a report stored whole by one call (a TLS or
    /// failure report), releasing its quarantine row if it had one.
    fn kept(
        &mut self,
        payload: &PayloadInfo<'_>,
        written: Written,
        report: ReportSummary,
        new_failing_sources: u64,
        new_tls_failure_types: u64,
    ) -> Result<(), StoreError> {
        if self.tx.release_quarantine(payload.member)? {
            self.recovered += 1;
        }
        let outcome = match written {
            Written::Stored(id) => {
                tracing::debug!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    kind = report.kind.as_str(),
                    org_name = report.org_name,
                    report_id = report.report_id,
                    policy_domain = report.policy_domain,
                    "report read into the transaction"
                );
                PayloadOutcome::Stored {
                    id,
                    report,
                    new_failing_sources,
                    new_tls_failure_types,
                }
            }
            Written::Duplicate(existing) => {
                tracing::info!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    kind = report.kind.as_str(),
                    org_name = report.org_name,
                    report_id = report.report_id,
                    policy_domain = report.policy_domain,
                    existing,
                    "duplicate report, stored before"
                );
                PayloadOutcome::Duplicate { existing, report }
            }
        };
        self.results.push(PayloadResult {
            member: payload.member.to_owned(),
            outcome,
        });
        Ok(())
    }

    fn quarantine(
        &mut self,
        payload: &PayloadInfo<'_>,
        kind: &'static str,
        error: String,
    ) -> Result<(), StoreError> {
        self.tx
            .quarantine(payload.member, kind, &error, payload.carrier)?;
        tracing::warn!(
            message = self.tx.message_id(),
            member = payload.member,
            kind,
            %error,
            "payload quarantined"
        );
        self.results.push(PayloadResult {
            member: payload.member.to_owned(),
            outcome: PayloadOutcome::Quarantined { kind, error },
        });
        Ok(())
    }
}

impl PayloadVisitor for StoreVisitor<'_, '_> {
    type Error = StoreError;

    fn report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), StoreError> {
        let mut writer = self.tx.report(payload.member)?;
        let parsed = match pipeline::parse_and_store(document, self.limits, &mut writer)? {
            Ok(parsed) => parsed,
            Err(error) => {
                writer.discard()?;
                return self.quarantine(payload, error.kind(), error.to_string());
            }
        };
        let noted_failing_sources = writer.new_failing_sources();
        let written = writer.keep()?;
        let (org_name, report_id, policy_domain) = parsed.feedback.key();
        let report = ReportSummary {
            kind: ReportKind::Aggregate,
            org_name: org_name.to_owned(),
            report_id: report_id.to_owned(),
            policy_domain: policy_domain.to_owned(),
            date_begin: parsed.feedback.metadata.date_begin,
            date_end: parsed.feedback.metadata.date_end,
            records: parsed.records,
            messages: parsed.messages,
        };
        if self.tx.release_quarantine(payload.member)? {
            self.recovered += 1;
        }
        let outcome = match written {
            Some(Written::Stored(id)) => {
                // Every way in keeps `failing_sources` up to date; only
                // `serve` turns what is new into alerts (see the committer).
                // The writer notes them as it writes the records; a report
                // whose records were stored before is looked at here.
                let new_failing_sources = match noted_failing_sources {
                    Some(noted) => noted,
                    None => self.tx.note_failing_sources(id)?,
                };
                tracing::debug!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    org_name,
                    report_id,
                    policy_domain,
                    records = parsed.records,
                    messages = parsed.messages,
                    "report read into the transaction"
                );
                PayloadOutcome::Stored {
                    id,
                    report,
                    new_failing_sources,
                    new_tls_failure_types: 0,
                }
            }
            Some(Written::Duplicate(existing)) => {
                tracing::info!(
                    message = self.tx.message_id(),
                    member = payload.member,
                    org_name,
                    report_id,
                    policy_domain,
                    existing,
                    "duplicate report, stored before"
                );
                PayloadOutcome::Duplicate { existing, report }
            }
            None => unreachable!("a successful parse always begins the report"),
        };
        self.results.push(PayloadResult {
            member: payload.member.to_owned(),
            outcome,
        });
        Ok(())
    }

    fn tls_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), StoreError> {
        let report = match parse_tls_report(document, self.limits) {
            Ok(report) => report,
            Err(error) => return self.unparsed(payload, &error),
        };
        let written = self.tx.tls_report(payload.member, &report)?;
        let new_tls_failure_types = match written {
            Written::Stored(id) => self.tx.note_tls_failure_types(id)?,
            Written::Duplicate(_) => 0,
        };
        self.kept(
            payload,
            written,
            ReportSummary::of_tls(&report),
            0,
            new_tls_failure_types,
        )
    }

    fn failure_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        found: &FailureMessage,
    ) -> Result<(), StoreError> {
        let mut report = match parse_failure_report(&found.feedback) {
            Ok(report) => report,
            Err(error) => return self.unparsed(payload, &error),
        };
        report.original_headers = found
            .original_headers
            .as_deref()
            .map(|headers| String::from_utf8_lossy(headers).into_owned());
        report.original_body = found.original_body.clone();
        report.reporter = found
            .from
            .as_deref()
            .and_then(|from| from.rsplit_once('@'))
            .map(|(_, domain)| domain.trim_end_matches('.').to_ascii_lowercase());
        report.report_message_id = found.message_id.clone();
        let written = self.tx.failure_report(payload.member, &report)?;
        self.kept(payload, written, ReportSummary::of_failure(&report), 0, 0)
    }

    fn unreadable(
        &mut self,
        payload: &PayloadInfo<'_>,
        error: ExtractError,
    ) -> Result<(), StoreError> {
        self.quarantine(payload, error.kind(), error.to_string())
    }
}
