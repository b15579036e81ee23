//! The shipping thread of `serve`: a round every `export.postgres.interval_secs`
//! ships what was stored since the watermarks, on a store connection of its
//! own that only reads (and moves the watermarks), so that an SMTP reply
//! never waits for it.
//!
//! PostgreSQL down or failing is an outage: the thread logs one WARN when
//! it begins, retries with a backoff that doubles up to
//! [`MAX_BACKOFF`], and logs one INFO with the rows caught up when a round
//! succeeds again. Shutdown stops it before its next batch.

use super::postgres::Shipper;
use super::postgres::ship::Flow;
use super::{ExportError, Shipped, Target};
use crate::config::Config;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest wait between two attempts while PostgreSQL is down.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The running thread.
pub struct Shipping {
    stop: Sender<()>,
    stopping: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// What a round needs, and what it keeps between rounds.
struct Rounds {
    target: Target,
    store_path: PathBuf,
    busy_timeout: Duration,
    stopping: Arc<AtomicBool>,
    /// Kept while it works; dropped on any failure, reconnected next round.
    shipper: Option<Shipper>,
    store: Option<Store>,
}

impl Shipping {
    /// Starts the thread when `[export.postgres]` names a database; its
    /// first round runs at once. Fails only on what no retry mends: the
    /// password file cannot be read.
    pub fn start(config: &Config) -> Result<Option<Shipping>, ExportError> {
        let Some(target) = Target::from_config(&config.export.postgres)? else {
            return Ok(None);
        };
        let interval = Duration::from_secs(config.export.postgres.interval_secs);
        let stopping = Arc::new(AtomicBool::new(false));
        let mut rounds = Rounds {
            target,
            store_path: config.store.path.clone(),
            busy_timeout: Duration::from_secs(config.store.busy_timeout_secs),
            stopping: stopping.clone(),
            shipper: None,
            store: None,
        };
        tracing::info!(
            target = rounds.target.shown(),
            instance = rounds.target.instance,
            "shipping to PostgreSQL"
        );
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("export".into())
            .spawn(move || {
                let mut wait = Duration::ZERO;
                let mut backoff = interval;
                // When the current outage began, if one is under way.
                let mut outage: Option<Instant> = None;
                // A message, or the sender gone, is the signal to stop.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    match rounds.run() {
                        Ok(shipped) => {
                            if let Some(began) = outage.take() {
                                tracing::info!(
                                    rows = shipped.total(),
                                    outage_secs = began.elapsed().as_secs(),
                                    "PostgreSQL is reachable again; shipping caught up"
                                );
                            } else if shipped.total() > 0 {
                                tracing::debug!(rows = shipped.total(), "shipped");
                            }
                            backoff = interval;
                            wait = interval;
                        }
                        Err(error) => {
                            rounds.shipper = None;
                            if outage.is_none() {
                                tracing::warn!(
                                    %error,
                                    "cannot ship to PostgreSQL; retrying with backoff, \
                                     the store keeps everything meanwhile"
                                );
                                outage = Some(Instant::now());
                            }
                            wait = backoff;
                            backoff = (backoff * 2).min(MAX_BACKOFF);
                        }
                    }
                }
            })
            .map_err(ExportError::Thread)?;
        Ok(Some(Shipping {
            stop,
            stopping,
            thread,
        }))
    }

    /// Stops the thread once its batch at hand is shipped.
    pub fn finish(self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

impl Rounds {
    /// Ships everything above the watermarks.
    fn run(&mut self) -> Result<Shipped, ExportError> {
        if self.store.is_none() {
            let store = Store::open(&self.store_path)?;
            store.set_busy_timeout(self.busy_timeout)?;
            self.store = Some(store);
        }
        if self.shipper.is_none() {
            self.shipper = Some(Shipper::connect(&self.target)?);
        }
        let (Some(store), Some(shipper)) = (&self.store, &mut self.shipper) else {
            unreachable!("both set above");
        };
        let stopping = &self.stopping;
        let result = shipper.ship(store, &mut |_, _| {
            if stopping.load(Ordering::SeqCst) {
                Flow::Stop
            } else {
                Flow::Continue
            }
        });
        if let Err(ExportError::Store(_)) = &result {
            self.store = None;
        }
        result
    }
}
