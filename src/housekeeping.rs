//! What `serve` does on a clock rather than on a delivery: the alerts no
//! single report raises (silences, pass-rate drops, policy changes: see
//! `crate::alert::watch`) every hour, and prune once a day
//! (`store.retention_days`); both on a connection of their own, so that
//! the committer's writes wait at most one short transaction.
//!
//! The thread wakes for its next task or for [`Housekeeping::finish`],
//! whichever comes first, and never delays shutdown by more than the
//! task it is in.

use crate::alert::{self, Alerter};
use crate::config::{AlertsConfig, Config};
use crate::store::{PruneControl, Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often retention runs.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);
/// How often the alerts of the store as a whole are looked for.
const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// The housekeeping thread.
pub struct Housekeeping {
    stop: Sender<()>,
    /// Tells a prune under way to end before its next transaction.
    stopping: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// The tasks and what they need.
struct Tasks {
    store_path: PathBuf,
    busy_timeout: Duration,
    retention_days: u32,
    alerts: AlertsConfig,
    alerter: Arc<Alerter>,
    stopping: Arc<AtomicBool>,
}

impl Housekeeping {
    /// Starts the thread; its first round runs at once. `alerter` makes
    /// the alerts of the hourly check known.
    pub fn start(config: &Config, alerter: Arc<Alerter>) -> std::io::Result<Housekeeping> {
        let tasks = Tasks {
            store_path: config.store.path.clone(),
            busy_timeout: Duration::from_secs(config.store.busy_timeout_secs),
            retention_days: config.store.retention_days,
            alerts: config.alerts.clone(),
            alerter,
            stopping: Arc::new(AtomicBool::new(false)),
        };
        let stopping = tasks.stopping.clone();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("housekeeping".into())
            .spawn(move || {
                let mut next_prune = Instant::now();
                let mut next_check = Instant::now();
                loop {
                    let wait = next_prune
                        .min(next_check)
                        .saturating_duration_since(Instant::now());
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                    if Instant::now() >= next_prune {
                        tasks.prune_logged(now());
                        next_prune = Instant::now() + PRUNE_EVERY;
                    }
                    if Instant::now() >= next_check {
                        tasks.check_logged(now());
                        next_check = Instant::now() + CHECK_EVERY;
                    }
                }
                tasks.alerter.release();
            })?;
        Ok(Housekeeping {
            stop,
            stopping,
            thread,
        })
    }

    /// Stops the thread: a prune under way ends after its transaction at
    /// hand (the next prune finishes it), any other task once done.
    pub fn finish(self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

impl Tasks {
    fn open(&self) -> Result<Store, StoreError> {
        let store = Store::open(&self.store_path)?;
        store.set_busy_timeout(self.busy_timeout)?;
        Ok(store)
    }

    /// Prunes what is older than `store.retention_days` before `now`, if
    /// retention is on, and logs what went.
    fn prune_logged(&self, now: i64) {
        if self.retention_days == 0 {
            return;
        }
        let cut = now - i64::from(self.retention_days) * 86_400;
        let result = self.open().and_then(|mut store| {
            if !store.is_incremental_vacuum()? {
                tracing::warn!(
                    "the store predates incremental auto-vacuum: pruned space is reused but \
                     not given back to the file system until `dmarc-sink prune` converts it once"
                );
            }
            store.prune(
                cut,
                &PruneControl {
                    stop: Some(self.stopping.clone()),
                    ..PruneControl::default()
                },
            )
        });
        match result {
            Ok(progress) => tracing::info!(
                retention_days = self.retention_days,
                messages = progress.deleted.messages,
                reports = progress.deleted.reports,
                records = progress.deleted.records,
                tls_reports = progress.deleted.tls_reports,
                failure_reports = progress.deleted.failure_reports,
                quarantined = progress.deleted.quarantined,
                transactions = progress.transactions,
                longest_transaction_ms = progress.longest_transaction.as_millis() as u64,
                pages_freed = progress.pages_freed,
                stopped_by_shutdown = progress.stopped,
                "pruned"
            ),
            Err(error) => tracing::error!(%error, "pruning failed; retrying tomorrow"),
        }
    }
}

impl Tasks {
    /// Looks for the alerts of the store as a whole at `now`, and makes
    /// those not raised before known.
    fn check_logged(&self, now: i64) {
        match self
            .open()
            .and_then(|store| alert::check(&store, &self.alerts, now))
        {
            Ok(raised) => {
                for alert in &raised {
                    self.alerter.notify(alert);
                }
            }
            Err(error) => tracing::error!(%error, "the hourly alert check failed"),
        }
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
