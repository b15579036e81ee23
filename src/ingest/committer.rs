//! One writer for many concurrent deliveries, with group commit.
//!
//! SMTP sessions hand their messages to a single thread that owns the
//! store. It takes every message waiting in its queue, reads them all into
//! one transaction (each in its own savepoint) and commits once, so a burst
//! of deliveries costs one fsync rather than one each. Each session waits
//! for its answer, and answers its client only then: 250 means committed.
//!
//! The alerts its reports raise are recorded in the same transaction, and
//! made known (logged, posted) only once it is committed; so are the
//! metrics counted, once each message is answered.
//!
//! A message whose reading panics (a bug, in this code or a library) must
//! neither take the writer down with it, which would refuse every later
//! delivery, nor be refused forever as the reporter retries: the panic is
//! caught, what was written for the message is rolled back, and the
//! message is kept unread in quarantine (see [`super::keep_whole`]).

use super::{Envelope, MessageOutcome, PendingMessage, keep_whole, now, read_message_in};
use crate::alert::{Alert, Alerter};
use crate::auth::Trust;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::report::QuarantineKind;
use crate::store::{Batch, Source, Store, StoreError};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Reads one delivered message into the batch: [`read_message_in`], or a
/// stand-in that panics in the tests.
type Reader =
    for<'b> fn(&'b Batch<'_>, &[u8], &Envelope, &Limits) -> Result<PendingMessage<'b>, StoreError>;

fn read_delivery<'b>(
    batch: &'b Batch<'_>,
    raw: &[u8],
    envelope: &Envelope,
    limits: &Limits,
) -> Result<PendingMessage<'b>, StoreError> {
    read_message_in(batch, raw, Source::Smtp, None, envelope, limits)
}

/// Messages read into one transaction at most.
const MAX_BATCH: usize = 64;
/// Messages that may wait for the writer; senders block beyond it.
const QUEUE_DEPTH: usize = 256;

/// What became of a submitted message.
#[derive(Debug)]
pub enum Committed {
    /// Durable in the store.
    Stored(MessageOutcome),
    /// Held no report and was not kept (the `reject` policy).
    NotAReport,
    /// The store failed; nothing of the message was kept.
    Failed(String),
}

struct Job {
    raw: Vec<u8>,
    envelope: Envelope,
    /// Kept whole in quarantine, unread, of this kind and for this reason.
    hold: Option<(QuarantineKind, String)>,
    answer: SyncSender<Committed>,
}

/// The writer thread. Stops once every [`Submitter`] is dropped and its
/// queue is empty; [`Committer::finish`] waits for that and closes the store.
pub struct Committer {
    submitter: Submitter,
    thread: JoinHandle<()>,
}

/// A handle to submit messages; cheap to clone, one per session.
#[derive(Clone)]
pub struct Submitter {
    queue: SyncSender<Job>,
}

impl Committer {
    /// Starts the writer thread over `store`. `keep_non_reports`: whether a
    /// message with no report-like payload is stored (else it is refused).
    /// `alerter` decides which stored reports raise alerts, and is released
    /// (its webhook drained, when no one else holds it) as the writer stops.
    /// `metrics` counts what became of each message.
    pub fn start(
        store: Store,
        limits: Limits,
        keep_non_reports: bool,
        alerter: Arc<Alerter>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Committer> {
        Self::start_reading(
            store,
            limits,
            keep_non_reports,
            alerter,
            metrics,
            read_delivery,
        )
    }

    fn start_reading(
        store: Store,
        limits: Limits,
        keep_non_reports: bool,
        alerter: Arc<Alerter>,
        metrics: Arc<Metrics>,
        read: Reader,
    ) -> std::io::Result<Committer> {
        let (queue, jobs) = sync_channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("committer".into())
            .spawn(move || {
                let writer = Writer {
                    limits: &limits,
                    keep_non_reports,
                    alerter: &alerter,
                    metrics: &metrics,
                    read,
                };
                run(store, jobs, &writer);
                alerter.release();
            })?;
        Ok(Committer {
            submitter: Submitter { queue },
            thread,
        })
    }

    pub fn submitter(&self) -> Submitter {
        self.submitter.clone()
    }

    /// Waits until every submitted message is answered, then closes the
    /// store. Other submitters must be dropped first.
    pub fn finish(self) {
        drop(self.submitter);
        if let Err(panic) = self.thread.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Submitter {
    /// Stores a message and waits until it is durable (or failed).
    pub fn submit(&self, raw: Vec<u8>, envelope: Envelope) -> Committed {
        self.send(raw, envelope, None)
    }

    /// Stores a message whole in quarantine, unread (see [`keep_whole`]),
    /// and waits until it is durable (or failed).
    pub fn submit_held(
        &self,
        raw: Vec<u8>,
        envelope: Envelope,
        kind: QuarantineKind,
        reason: String,
    ) -> Committed {
        self.send(raw, envelope, Some((kind, reason)))
    }

    fn send(
        &self,
        raw: Vec<u8>,
        envelope: Envelope,
        hold: Option<(QuarantineKind, String)>,
    ) -> Committed {
        let (answer, receive) = sync_channel(1);
        let job = Job {
            raw,
            envelope,
            hold,
            answer,
        };
        if self.queue.send(job).is_err() {
            return Committed::Failed("the store is closed".into());
        }
        receive
            .recv()
            .unwrap_or_else(|_| Committed::Failed("the writer stopped".into()))
    }

    /// A submitter with no store behind it: `answer` decides what became of
    /// each message, on a thread of its own that stops once every clone is
    /// dropped. Lets SMTP sessions be driven without SQLite (the fuzz target
    /// `smtp_session` does).
    pub fn answering<F>(mut answer: F) -> std::io::Result<Submitter>
    where
        F: FnMut(Vec<u8>, Envelope) -> Committed + Send + 'static,
    {
        let (queue, jobs) = sync_channel::<Job>(QUEUE_DEPTH);
        std::thread::Builder::new()
            .name("answering".into())
            .spawn(move || {
                for job in jobs {
                    let _ = job.answer.send(answer(job.raw, job.envelope));
                }
            })?;
        Ok(Submitter { queue })
    }
}

/// What the writer thread reads messages with, and what it does with them.
struct Writer<'a> {
    limits: &'a Limits,
    /// Whether a message with no report-like payload is stored.
    keep_non_reports: bool,
    alerter: &'a Alerter,
    metrics: &'a Metrics,
    read: Reader,
}

fn run(mut store: Store, jobs: Receiver<Job>, writer: &Writer<'_>) {
    let alerter = writer.alerter;
    let mut outage = Outage::default();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match commit(&mut store, &batch, writer) {
            Ok((answers, alerts)) => {
                outage.over();
                for (job, answer) in batch.into_iter().zip(answers) {
                    writer.answer(job, answer);
                }
                notify(alerter, &alerts);
            }
            Err(error) if batch.len() > 1 => {
                // One message may be to blame: retry each alone, so the
                // others are not refused with it.
                let error = failure(&store, &error);
                tracing::warn!(%error, messages = batch.len(), "group commit failed, committing one by one");
                for job in batch {
                    let (answer, alerts) =
                        match commit(&mut store, std::slice::from_ref(&job), writer) {
                            Ok((mut answers, alerts)) => {
                                outage.over();
                                (answers.remove(0), alerts)
                            }
                            Err(error) => {
                                outage.failed(1);
                                (Committed::Failed(failure(&store, &error)), Vec::new())
                            }
                        };
                    writer.answer(job, answer);
                    notify(alerter, &alerts);
                }
            }
            Err(error) => {
                let error = failure(&store, &error);
                outage.failed(batch.len());
                for job in batch {
                    writer.answer(job, Committed::Failed(error.clone()));
                }
            }
        }
    }
}

impl Writer<'_> {
    /// Counts what became of the job's message, and tells its session.
    fn answer(&self, job: Job, answer: Committed) {
        self.metrics.committed(&answer, now());
        let _ = job.answer.send(answer);
    }
}

/// What is said of a failure: SQLite's words, and the operating system's
/// when there are some (see [`Store::os_cause`]).
fn failure(store: &Store, error: &StoreError) -> String {
    match store.os_cause(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// Messages the store failed to keep since it last kept one. The store is
/// not reopened after a failure: SQLite rolls the transaction back and the
/// connection stays usable (tests/storage_failures.rs fills a disk under
/// load), so once space returns or the lock is released the next message
/// is kept, and [`Outage::over`] says so.
#[derive(Default)]
struct Outage {
    failed: usize,
}

impl Outage {
    fn failed(&mut self, messages: usize) {
        self.failed += messages;
    }

    fn over(&mut self) {
        if self.failed > 0 {
            tracing::info!(
                failed_messages = self.failed,
                "the store is keeping messages again"
            );
            self.failed = 0;
        }
    }
}

/// Reads every job into one transaction, with the alerts its reports
/// raise, and commits it. Returns the answers and the alerts recorded.
fn commit(
    store: &mut Store,
    jobs: &[Job],
    writer: &Writer<'_>,
) -> Result<(Vec<Committed>, Vec<Alert>), StoreError> {
    let batch = store.begin_batch()?;
    let created_at = now();
    let mut answers = Vec::with_capacity(jobs.len());
    let mut recorded = Vec::new();
    for job in jobs {
        if let Some((kind, reason)) = &job.hold {
            let outcome = keep_whole(&batch, &job.raw, Source::Smtp, &job.envelope, *kind, reason)?;
            answers.push(Committed::Stored(outcome));
            continue;
        }
        // Unwinding drops the message's savepoint, which rolls back what
        // was written for it; the batch and its other messages stay.
        let read = catch_unwind(AssertUnwindSafe(|| {
            (writer.read)(&batch, &job.raw, &job.envelope, writer.limits)
        }));
        let pending = match read {
            Ok(pending) => pending?,
            Err(panic) => {
                let reason = format!(
                    "reading the message failed unexpectedly ({}); kept unread for reparse",
                    panic_text(panic.as_ref())
                );
                tracing::error!(
                    remote = job.envelope.remote_addr.as_deref().unwrap_or(""),
                    %reason,
                    "message kept in quarantine"
                );
                let outcome = keep_whole(
                    &batch,
                    &job.raw,
                    Source::Smtp,
                    &job.envelope,
                    QuarantineKind::InternalError,
                    &reason,
                )?;
                answers.push(Committed::Stored(outcome));
                continue;
            }
        };
        if pending.is_not_a_report() && !writer.keep_non_reports {
            drop(pending);
            answers.push(Committed::NotAReport);
            continue;
        }
        let outcome = pending.keep()?;
        // A stranger's reports raise no alerts.
        if outcome.trust != Trust::Unauthenticated {
            recorded.extend(writer.alerter.raise(&batch, &outcome, created_at)?);
        } else if outcome.stored().next().is_some() {
            tracing::info!(
                message = outcome.message,
                remote = job.envelope.remote_addr.as_deref().unwrap_or(""),
                "reports from a sender that did not authenticate: stored, raising no alert"
            );
        }
        answers.push(Committed::Stored(outcome));
    }
    batch.commit()?;
    Ok((answers, recorded))
}

/// The message a panic was raised with, when it is text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}

/// Makes committed alerts known; never waits on the network.
fn notify(alerter: &Alerter, alerts: &[Alert]) {
    for alert in alerts {
        alerter.notify(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AlertsConfig;
    use crate::report::QuarantineKind;

    /// Panics on messages that say so, as a bug in a parser would.
    fn panicking_reader<'b>(
        batch: &'b Batch<'_>,
        raw: &[u8],
        envelope: &Envelope,
        limits: &Limits,
    ) -> Result<PendingMessage<'b>, StoreError> {
        let pending = read_delivery(batch, raw, envelope, limits)?;
        if raw.windows(5).any(|w| w == b"PANIC") {
            panic!("a parser bug");
        }
        Ok(pending)
    }

    const REPORT: &[u8] = b"Subject: report\r\nContent-Type: text/xml\r\n\r\n\
<feedback><report_metadata><org_name>o</org_name><report_id>r1</report_id>\
<date_range><begin>1</begin><end>2</end></date_range></report_metadata>\
<policy_published><domain>example.com</domain></policy_published>\
<record><row><source_ip>192.0.2.1</source_ip><count>3</count></row></record></feedback>";

    #[test]
    fn a_panic_keeps_the_message_unread_and_the_writer_alive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let store = Store::open(&path).unwrap();
        let alerter = Arc::new(Alerter::start(&AlertsConfig::default()).unwrap());
        let committer = Committer::start_reading(
            store,
            Limits::default(),
            false,
            alerter,
            Arc::default(),
            panicking_reader,
        )
        .unwrap();
        let submitter = committer.submitter();
        let poisoned = [REPORT, b"PANIC"].concat();
        let Committed::Stored(outcome) = submitter.submit(poisoned, Envelope::default()) else {
            panic!("the message was not kept");
        };
        assert_eq!(outcome.verdict().as_str(), "quarantined");
        let Committed::Stored(outcome) = submitter.submit(REPORT.to_vec(), Envelope::default())
        else {
            panic!("the writer stopped after a panic");
        };
        assert_eq!(outcome.verdict().as_str(), "stored");
        drop(submitter);
        committer.finish();

        let mut store = Store::open(&path).unwrap();
        let rows: Vec<(String, String)> = store
            .connection()
            .prepare("SELECT member, kind FROM quarantine")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [(
                "0".to_owned(),
                QuarantineKind::InternalError.as_str().to_owned()
            )]
        );
        // Nothing the panicking read wrote is left: one report, the second's.
        let reports: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM records", [], |row| row.get(0))
            .unwrap();
        assert_eq!(reports, 1);

        // A fixed version reads it: here the one that does not panic. It is
        // the same report as the second message's, so a duplicate.
        let summary = crate::ingest::reparse(&mut store, false, &Limits::default()).unwrap();
        assert_eq!((summary.messages, summary.recovered), (1, 1));
        let left: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM quarantine", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
