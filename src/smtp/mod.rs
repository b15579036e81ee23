//! The SMTP listener: where report mail comes in.
//!
//! [`server`] accepts connections under the caps and runs a thread per
//! session; [`session`] reads lines under length and time limits and feeds
//! them to mailin's state machine; the handler decides on recipients, holds
//! the message within its size limit and, at the end of DATA, hands it to
//! the committer (`ingest::Committer`) and answers with what the store
//! says: 250 only once the message is durable. This module parses no report
//! and writes no SQL.

mod admission;
mod command;
mod handler;
mod line;
mod rate;
mod server;
mod session;
mod stream;
pub mod tls;

pub use server::{Shutdown, accept_all};
pub use session::serve_connection;
pub use stream::Connection;

use crate::auth::Authenticator;
use crate::config::{SmtpConfig, UnauthenticatedPolicy};
use crate::ingest::Submitter;
use crate::metrics::Metrics;
use rate::RateLimits;
use rustls::ServerConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What every session shares.
pub struct Shared {
    pub config: SmtpConfig,
    /// `limits.max_message_bytes`: advertised as SIZE, enforced on DATA.
    pub max_message_bytes: u64,
    /// Offered as STARTTLS when set.
    pub tls: Option<Arc<ServerConfig>>,
    pub submitter: Submitter,
    pub shutdown: Arc<Shutdown>,
    /// Authenticates each message's sender; none: every message unchecked.
    authenticator: Option<Arc<Authenticator>>,
    /// `trust.unauthenticated`.
    unauthenticated: UnauthenticatedPolicy,
    /// Per-sender messages an hour and stored bytes a day.
    rates: RateLimits,
    /// Message bytes held by all sessions (`smtp.max_buffered_bytes`).
    buffered: AtomicU64,
    /// Sessions, open connections, replies and end-of-DATA latency.
    metrics: Arc<Metrics>,
}

impl Shared {
    pub fn new(
        config: SmtpConfig,
        max_message_bytes: u64,
        tls: Option<Arc<ServerConfig>>,
        submitter: Submitter,
        shutdown: Arc<Shutdown>,
    ) -> Shared {
        let rates = RateLimits::new(config.max_messages_per_ip_per_hour, u64::MAX);
        Shared {
            config,
            max_message_bytes,
            tls,
            submitter,
            shutdown,
            authenticator: None,
            unauthenticated: UnauthenticatedPolicy::default(),
            rates,
            buffered: AtomicU64::new(0),
            metrics: Arc::default(),
        }
    }

    /// Counts into `metrics` (`serve`'s, which it serves on
    /// `metrics.listen`) rather than into a registry nobody reads.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Shared {
        self.metrics = metrics;
        self
    }

    /// Authenticates every message with `authenticator`, and treats those
    /// that do not authenticate by `policy` (`trust.unauthenticated`).
    pub fn with_authentication(
        mut self,
        authenticator: Arc<Authenticator>,
        policy: UnauthenticatedPolicy,
    ) -> Shared {
        self.authenticator = Some(authenticator);
        self.unauthenticated = policy;
        self
    }

    /// Stores at most `bytes` a day from one sender
    /// (`limits.max_stored_bytes_per_ip_per_day`).
    pub fn with_stored_bytes_per_day(mut self, bytes: u64) -> Shared {
        self.rates = RateLimits::new(self.config.max_messages_per_ip_per_hour, bytes);
        self
    }

    /// Counts `bytes` more against the budget; false when it would overflow.
    fn reserve_buffered(&self, bytes: u64) -> bool {
        let limit = self.config.max_buffered_bytes;
        self.buffered
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| {
                held.checked_add(bytes).filter(|total| *total <= limit)
            })
            .is_ok()
    }

    /// Message bytes held by all sessions now: zero once every session has
    /// ended, whatever its clients sent (the fuzz target checks this).
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered.load(Ordering::SeqCst)
    }

    fn release_buffered(&self, bytes: u64) {
        if bytes > 0 {
            self.buffered.fetch_sub(bytes, Ordering::SeqCst);
        }
    }
}
