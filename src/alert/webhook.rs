//! `alerts.webhook`: alert documents POSTed as JSON by one background thread.
//!
//! The committer must never wait on HTTP: it hands each document to a
//! bounded queue and goes on. When the queue is full the alert is logged as
//! dropped (it is in the log and in the `alerts` table all the same). Each
//! POST has `alerts.webhook_timeout_secs`; a failure (no connection, a
//! timeout, an answer other than 2xx) is a WARN line with the cause and is
//! not retried. At shutdown the deliveries still queued get at most that
//! timeout, all together, to go out.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Alerts that may wait for the webhook; past it they are dropped. Alerts
/// are rare, so a full queue means the webhook is down, not busy.
const QUEUE_DEPTH: usize = 64;

/// One document to POST, and what to name it by in the log.
struct Delivery {
    kind: &'static str,
    policy_domain: String,
    document: String,
}

/// Why a POST failed.
#[derive(Debug, thiserror::Error)]
enum PostError {
    #[error("no answer within {0} s (alerts.webhook_timeout_secs)")]
    Timeout(u64),
    #[error("{0}")]
    Request(ureq::Error),
    #[error("the webhook answered HTTP {0}")]
    Status(u16),
}

/// The sending thread and its queue.
pub struct Webhook {
    queue: SyncSender<Delivery>,
    /// Deliveries queued or being sent.
    pending: Arc<AtomicUsize>,
    /// Hangs up when the thread has sent everything and ended. In a mutex
    /// only so that the alerter can be shared between threads; only
    /// `finish` reads it.
    ended: Mutex<Receiver<()>>,
    timeout: Duration,
}

impl Webhook {
    /// Starts the thread that POSTs to `url`, each POST within `timeout`.
    pub fn start(url: String, timeout: Duration) -> io::Result<Webhook> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("dmarc-sink/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let (queue, deliveries) = sync_channel(QUEUE_DEPTH);
        let (ending, ended) = sync_channel(1);
        let pending = Arc::new(AtomicUsize::new(0));
        let sent = pending.clone();
        std::thread::Builder::new()
            .name("webhook".into())
            .spawn(move || {
                run(&agent, &url, timeout, deliveries, &sent);
                drop(ending);
            })?;
        Ok(Webhook {
            queue,
            pending,
            ended: Mutex::new(ended),
            timeout,
        })
    }

    /// Queues a document for the thread; drops it, with a WARN line, when
    /// the queue is full.
    pub fn send(&self, kind: &'static str, policy_domain: &str, document: String) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let delivery = Delivery {
            kind,
            policy_domain: policy_domain.to_owned(),
            document,
        };
        let reason = match self.queue.try_send(delivery) {
            Ok(()) => return,
            Err(TrySendError::Full(_)) => "its queue is full",
            Err(TrySendError::Disconnected(_)) => "its thread has stopped",
        };
        self.pending.fetch_sub(1, Ordering::SeqCst);
        tracing::warn!(
            kind,
            policy_domain,
            queue = QUEUE_DEPTH,
            "alert not posted to the webhook: {reason}"
        );
    }

    /// Lets the queued deliveries go out within the timeout, then gives up
    /// on those left (naming how many).
    pub fn finish(self) {
        let Webhook {
            queue,
            pending,
            ended,
            timeout,
        } = self;
        drop(queue);
        let ended = ended
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(RecvTimeoutError::Timeout) = ended.recv_timeout(timeout) {
            tracing::warn!(
                abandoned = pending.load(Ordering::SeqCst),
                timeout_secs = timeout.as_secs(),
                "alerts not posted to the webhook before shutdown"
            );
        }
    }
}

fn run(
    agent: &ureq::Agent,
    url: &str,
    timeout: Duration,
    deliveries: Receiver<Delivery>,
    pending: &AtomicUsize,
) {
    let webhook = host_of(url);
    for delivery in deliveries {
        match post(agent, url, timeout, &delivery.document) {
            Ok(status) => tracing::info!(
                webhook,
                kind = delivery.kind,
                policy_domain = delivery.policy_domain,
                status,
                "alert posted to the webhook"
            ),
            Err(error) => tracing::warn!(
                webhook,
                kind = delivery.kind,
                policy_domain = delivery.policy_domain,
                %error,
                "alert webhook failed"
            ),
        }
        pending.fetch_sub(1, Ordering::SeqCst);
    }
}

fn post(
    agent: &ureq::Agent,
    url: &str,
    timeout: Duration,
    document: &str,
) -> Result<u16, PostError> {
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(document)
        .map_err(|error| match error {
            ureq::Error::Timeout(_) => PostError::Timeout(timeout.as_secs()),
            other => PostError::Request(other),
        })?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err(PostError::Status(status))
    }
}

/// The webhook's host and port, for the log: its path and user part often
/// hold a secret token.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}
