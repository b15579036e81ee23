//! `dmarc-sink import`: feeds files, directories (recursively), Maildir
//! folders and mbox files through the ingest pipeline, one message at a time.

use crate::auth::Authenticator;
use crate::ingest::{
    Envelope, IngestError, MessageOutcome, PayloadOutcome, ingest_file_checked, ingest_message,
};
use crate::limits::Limits;
use crate::report::ReportKind;
use crate::store::{Source, Store, StoreError};
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// One thing to import: a file holding one message or report, or an mbox
/// holding many messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Mbox(PathBuf),
}

/// Expands the paths given on the command line into inputs, sorted within
/// each directory. Hidden files and Maildir `tmp/` folders (mail still being
/// written) are skipped. Paths that cannot be read are returned as failures.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<Input>, Vec<Failure>) {
    let mut inputs = Vec::new();
    let mut failed = Vec::new();
    for path in paths {
        let walk = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_skipped(entry.path()));
        for entry in walk {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    inputs.push(classify(entry.into_path()));
                }
                Ok(_) => {}
                Err(error) => failed.push(Failure {
                    what: error.path().unwrap_or(path).display().to_string(),
                    reason: error.to_string(),
                }),
            }
        }
    }
    (inputs, failed)
}

fn is_skipped(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') {
        return true;
    }
    name == "tmp"
        && path
            .parent()
            .is_some_and(|maildir| maildir.join("cur").is_dir() && maildir.join("new").is_dir())
}

/// An mbox starts with a `From ` line; anything else is one message or report.
fn classify(path: PathBuf) -> Input {
    let mut head = [0u8; 5];
    let is_mbox = File::open(&path)
        .and_then(|mut file| file.read_exact(&mut head))
        .is_ok()
        && &head == b"From ";
    if is_mbox {
        Input::Mbox(path)
    } else {
        Input::File(path)
    }
}

/// Something that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file, mbox message or payload concerned.
    pub what: String,
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

/// Totals of an import run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Messages (or bare report files) taken into the store.
    pub messages: u64,
    /// Aggregate reports stored, and their records.
    pub reports: u64,
    pub records: u64,
    /// SMTP TLS reports stored.
    pub tls_reports: u64,
    /// DMARC failure reports stored.
    pub failure_reports: u64,
    pub duplicates: u64,
    pub not_a_report: u64,
    /// Payloads kept in quarantine, with their errors.
    pub quarantined: Vec<Failure>,
    /// Files (or mbox messages) that could not be taken in at all.
    pub failed: Vec<Failure>,
}

impl ImportSummary {
    fn add(&mut self, what: &str, outcome: &MessageOutcome) {
        self.messages += 1;
        if outcome.is_not_a_report() {
            self.not_a_report += 1;
        }
        for payload in &outcome.payloads {
            match &payload.outcome {
                PayloadOutcome::Stored { report, .. } => match report.kind {
                    ReportKind::Aggregate => {
                        self.reports += 1;
                        self.records += report.records;
                    }
                    ReportKind::Tls => self.tls_reports += 1,
                    ReportKind::Failure => self.failure_reports += 1,
                },
                PayloadOutcome::Duplicate { .. } => self.duplicates += 1,
                PayloadOutcome::Quarantined { error, .. } => {
                    let what = if payload.member.is_empty() {
                        what.to_owned()
                    } else {
                        format!("{what} [{}]", payload.member)
                    };
                    self.quarantined.push(Failure {
                        what,
                        reason: error.clone(),
                    });
                }
            }
        }
    }
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} messages, {} reports ({} records), {} TLS reports, {} failure reports, {} duplicates, {} quarantined, {} not a report, {} failed",
            self.messages,
            self.reports,
            self.records,
            self.tls_reports,
            self.failure_reports,
            self.duplicates,
            self.quarantined.len(),
            self.not_a_report,
            self.failed.len(),
        )
    }
}

/// Imports one input, adding to `summary`. Only a store failure stops the
/// run (the store is unusable); unreadable files are recorded and skipped.
/// `authenticator`: authenticate e-mail messages (`--authenticate`).
pub fn import_input(
    store: &mut Store,
    input: &Input,
    limits: &Limits,
    authenticator: Option<&Authenticator>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    match input {
        Input::File(path) => {
            let shown = path.display().to_string();
            match ingest_file_checked(store, path, limits, authenticator) {
                Ok(outcome) => summary.add(&shown, &outcome),
                Err(IngestError::Store(error)) => return Err(error),
                Err(error) => summary.failed.push(Failure {
                    what: shown,
                    reason: error.to_string(),
                }),
            }
        }
        Input::Mbox(path) => import_mbox(store, path, limits, authenticator, summary)?,
    }
    Ok(())
}

fn import_mbox(
    store: &mut Store,
    path: &Path,
    limits: &Limits,
    authenticator: Option<&Authenticator>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    let shown = path.display().to_string();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) => {
            summary.failed.push(Failure {
                what: shown,
                reason: error.to_string(),
            });
            return Ok(());
        }
    };
    let messages = mail_parser::mailbox::mbox::MessageIterator::new(BufReader::new(file));
    for (index, message) in messages.enumerate() {
        let what = format!("{shown} message {}", index + 1);
        let message = match message {
            Ok(message) => message,
            Err(_) => {
                summary.failed.push(Failure {
                    what,
                    reason: "cannot read the mbox past this point".into(),
                });
                break;
            }
        };
        let raw = message.unwrap_contents();
        if raw.len() as u64 > limits.max_message_bytes {
            summary.failed.push(Failure {
                what,
                reason: crate::limits::LimitExceeded {
                    key: "max_message_bytes",
                    limit: limits.max_message_bytes,
                }
                .to_string(),
            });
            continue;
        }
        let envelope = Envelope {
            auth: authenticator.map(|a| a.authenticate(&raw, None)),
            ..Envelope::default()
        };
        let outcome = ingest_message(
            store,
            &raw,
            Source::Import,
            Some(what.clone()),
            &envelope,
            limits,
        )?;
        summary.add(&what, &outcome);
    }
    Ok(())
}
