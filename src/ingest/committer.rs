//! One writer for many concurrent deliveries, with group commit.
//!
//! SMTP sessions hand their messages to a single thread that owns the
//! store. It takes every message waiting in its queue, reads them all into
//! one transaction (each in its own savepoint) and commits once, so a burst
//! of deliveries costs one fsync rather than one each. Each session waits
//! for its answer, and answers its client only then: 250 means committed.
//!
//! The alerts its reports raise are recorded in the same transaction, and
//! made known (logged, posted) only once it is committed.

use super::{Envelope, MessageOutcome, now, read_message_in};
use crate::alert::{Alert, Alerter};
use crate::limits::Limits;
use crate::store::{Source, Store, StoreError};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

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
    /// `alerter` decides which stored reports raise alerts, and is finished
    /// (its webhook drained) when the writer stops.
    pub fn start(
        store: Store,
        limits: Limits,
        keep_non_reports: bool,
        alerter: Alerter,
    ) -> std::io::Result<Committer> {
        let (queue, jobs) = sync_channel(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("committer".into())
            .spawn(move || {
                run(store, jobs, &limits, keep_non_reports, &alerter);
                alerter.finish();
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
        let (answer, receive) = sync_channel(1);
        let job = Job {
            raw,
            envelope,
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

fn run(
    mut store: Store,
    jobs: Receiver<Job>,
    limits: &Limits,
    keep_non_reports: bool,
    alerter: &Alerter,
) {
    let mut outage = Outage::default();
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        match commit(&mut store, &batch, limits, keep_non_reports, alerter) {
            Ok((answers, alerts)) => {
                outage.over();
                for (job, answer) in batch.into_iter().zip(answers) {
                    let _ = job.answer.send(answer);
                }
                notify(alerter, &alerts);
            }
            Err(error) if batch.len() > 1 => {
                // One message may be to blame: retry each alone, so the
                // others are not refused with it.
                let error = failure(&store, &error);
                tracing::warn!(%error, messages = batch.len(), "group commit failed, committing one by one");
                for job in batch {
                    let (answer, alerts) = match commit(
                        &mut store,
                        std::slice::from_ref(&job),
                        limits,
                        keep_non_reports,
                        alerter,
                    ) {
                        Ok((mut answers, alerts)) => {
                            outage.over();
                            (answers.remove(0), alerts)
                        }
                        Err(error) => {
                            outage.failed(1);
                            (Committed::Failed(failure(&store, &error)), Vec::new())
                        }
                    };
                    let _ = job.answer.send(answer);
                    notify(alerter, &alerts);
                }
            }
            Err(error) => {
                let error = failure(&store, &error);
                outage.failed(batch.len());
                for job in batch {
                    let _ = job.answer.send(Committed::Failed(error.clone()));
                }
            }
        }
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
    limits: &Limits,
    keep_non_reports: bool,
    alerter: &Alerter,
) -> Result<(Vec<Committed>, Vec<Alert>), StoreError> {
    let batch = store.begin_batch()?;
    let created_at = now();
    let mut answers = Vec::with_capacity(jobs.len());
    let mut recorded = Vec::new();
    for job in jobs {
        let pending = read_message_in(&batch, &job.raw, Source::Smtp, None, &job.envelope, limits)?;
        if pending.is_not_a_report() && !keep_non_reports {
            drop(pending);
            answers.push(Committed::NotAReport);
            continue;
        }
        let outcome = pending.keep()?;
        recorded.extend(alerter.raise(&batch, &outcome, created_at)?);
        answers.push(Committed::Stored(outcome));
    }
    batch.commit()?;
    Ok((answers, recorded))
}

/// Makes committed alerts known; never waits on the network.
fn notify(alerter: &Alerter, alerts: &[Alert]) {
    for alert in alerts {
        alerter.notify(alert);
    }
}
