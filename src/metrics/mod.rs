//! What `serve` counts, for Prometheus: the series, and the endpoint that
//! serves them ([`http`], when `metrics.listen` is set).
//!
//! One [`Metrics`] is made by `serve` and handed, as an `Arc`, to the SMTP
//! sessions (sessions, connections, replies, latency) and to the committer
//! (what became of each message once it is committed or refused). Recording
//! is a few atomic additions: no lock is held across I/O and nothing here
//! waits on a scrape, so the endpoint can never hold up a delivery. `import`
//! and `reparse` count nothing.
//!
//! Labels take values only from closed enums (`labels.rs`), and the one
//! label a sender could choose, the policy domain, only for domains the
//! operator lists (`last_report.rs`). docs/operations.md lists every series.

pub mod http;
mod labels;
mod last_report;
mod store_size;

use crate::ingest::{Committed, PayloadOutcome};
use crate::store::{Store, StoreError};
use labels::{
    KindLabels, Outcome, OutcomeLabels, QuarantineLabels, REPORT_KINDS, ReplyClass, ReplyLabels,
    ReportLabels, TRUSTS,
};
use last_report::LastReports;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store_size::StoreSize;

/// Every series is named `dmarc_sink_...`.
const PREFIX: &str = "dmarc_sink";

/// Buckets of the end-of-DATA latency, in seconds: a report is committed in
/// milliseconds; authenticating its sender (DNS, `dns.timeout_ms`) or a
/// store held by another process (`store.busy_timeout_secs`) takes seconds.
const REPLY_SECONDS_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The registry and a handle on each series.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    messages: Family<OutcomeLabels, Counter>,
    reports: Family<ReportLabels, Counter>,
    records: Family<KindLabels, Counter>,
    quarantined: Family<QuarantineLabels, Counter>,
    sessions: Counter,
    open_connections: Gauge,
    replies: Family<ReplyLabels, Counter>,
    reply_seconds: Histogram,
    last_reports: LastReports,
}

impl Default for Metrics {
    /// Counted and never served: what sessions and the committer record
    /// into when no `serve` gave them its own (tests, the fuzz target).
    fn default() -> Self {
        Metrics::new(&[])
    }
}

impl Metrics {
    /// Every series; `domains` (`metrics.domains`) get their own
    /// last-report gauge.
    pub fn new(domains: &[String]) -> Metrics {
        let metrics = Metrics {
            registry: Registry::with_prefix(PREFIX),
            messages: Family::default(),
            reports: Family::default(),
            records: Family::default(),
            quarantined: Family::default(),
            sessions: Counter::default(),
            open_connections: Gauge::default(),
            replies: Family::default(),
            reply_seconds: Histogram::new(REPLY_SECONDS_BUCKETS),
            last_reports: LastReports::new(domains),
        };
        metrics.register()
    }

    fn register(mut self) -> Metrics {
        // Series of closed label sets start at 0, so that a rate over them
        // is defined from the first scrape on (quarantine kinds, many and
        // rare, appear when first counted).
        for outcome in Outcome::ALL {
            let _ = self.messages.get_or_create(&OutcomeLabels { outcome });
        }
        for kind in REPORT_KINDS {
            let _ = self.records.get_or_create(&KindLabels { kind });
            for trust in TRUSTS {
                let _ = self.reports.get_or_create(&ReportLabels { kind, trust });
            }
        }
        for class in ReplyClass::ALL {
            let _ = self.replies.get_or_create(&ReplyLabels { class });
        }
        let registry = &mut self.registry;
        registry.register(
            "messages",
            "Messages handed to the store after DATA, by what became of them",
            self.messages.clone(),
        );
        registry.register(
            "reports",
            "Reports stored (not duplicates), by kind and by the trust of the message they came in",
            self.reports.clone(),
        );
        registry.register(
            "records",
            "Records of the reports stored: aggregate records, TLS policies, 1 per failure report",
            self.records.clone(),
        );
        registry.register(
            "quarantined_payloads",
            "Payloads kept in quarantine, by kind (quarantine.kind)",
            self.quarantined.clone(),
        );
        registry.register(
            "smtp_sessions",
            "SMTP sessions accepted under the connection caps",
            self.sessions.clone(),
        );
        registry.register(
            "smtp_open_connections",
            "SMTP connections open now",
            self.open_connections.clone(),
        );
        registry.register(
            "smtp_replies",
            "SMTP replies sent, by the class of their code",
            self.replies.clone(),
        );
        registry.register(
            "smtp_data_reply_duration_seconds",
            "Time from the end of a message's DATA to its reply: checks, parsing and the commit",
            self.reply_seconds.clone(),
        );
        registry.register(
            "last_report_timestamp_seconds",
            "When the newest report of a kind arrived (unix seconds; 0: none yet), for any policy domain or one of metrics.domains; unauthenticated reports do not count",
            self.last_reports.family(),
        );
        self
    }

    /// Reports the size of the store at `path` (and its `-wal`) at each
    /// scrape.
    pub fn with_store_size(mut self, path: &Path) -> Metrics {
        self.registry
            .register_collector(Box::new(StoreSize::new(path)));
        self
    }

    /// Sets the last-report gauges from the store (at startup).
    pub fn load_last_reports(&self, store: &Store) -> Result<(), StoreError> {
        self.last_reports.load(store)
    }

    /// Every series in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }

    /// What became of a message the committer answered, at `at` (unix
    /// seconds): counted only once its transaction is committed.
    pub fn committed(&self, committed: &Committed, at: i64) {
        let outcome = match committed {
            Committed::Stored(message) => {
                for payload in &message.payloads {
                    match &payload.outcome {
                        PayloadOutcome::Stored { report, .. } => {
                            let kind = report.kind;
                            self.reports
                                .get_or_create(&ReportLabels {
                                    kind,
                                    trust: message.trust,
                                })
                                .inc();
                            self.records
                                .get_or_create(&KindLabels { kind })
                                .inc_by(report.records);
                            self.last_reports.note(report, message.trust, at);
                        }
                        PayloadOutcome::Duplicate { .. } => {}
                        PayloadOutcome::Quarantined { kind, .. } => {
                            self.quarantined
                                .get_or_create(&QuarantineLabels { kind: *kind })
                                .inc();
                        }
                    }
                }
                Outcome::Kept(message.verdict())
            }
            Committed::NotAReport => Outcome::RejectedNotAReport,
            Committed::Failed(_) => Outcome::StoreFailed,
        };
        self.messages
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A session accepted: counted, and open until the guard is dropped.
    pub fn session_opened(self: &Arc<Self>) -> OpenConnection {
        self.sessions.inc();
        self.open_connections.inc();
        OpenConnection {
            metrics: self.clone(),
        }
    }

    /// An SMTP reply with `code` sent (or about to be).
    pub fn reply(&self, code: u16) {
        if let Some(class) = ReplyClass::of(code) {
            self.replies.get_or_create(&ReplyLabels { class }).inc();
        }
    }

    /// The time from the end of a message's DATA to its reply.
    pub fn data_replied(&self, elapsed: Duration) {
        self.reply_seconds.observe(elapsed.as_secs_f64());
    }
}

/// An open SMTP connection, counted in `dmarc_sink_smtp_open_connections`
/// until dropped.
#[derive(Debug)]
pub struct OpenConnection {
    metrics: Arc<Metrics>,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.metrics.open_connections.dec();
    }
}
