//! `dmarc-sink serve`: the daemon.
//!
//! Opens the store, starts the committer with the alerter (`[alerts]`),
//! binds the listening sockets (or takes them from systemd socket
//! activation) and the metrics endpoint (`metrics.listen`, always bound
//! here), tells systemd it is ready, and serves until SIGTERM or SIGINT;
//! then it stops accepting, lets deliveries already in DATA finish within
//! `smtp.shutdown_grace_secs`, answers 421 to the rest, gives alert
//! webhooks still pending `alerts.webhook_timeout_secs`, and closes the
//! store cleanly. `/healthz` answers 503 from the moment shutdown begins.
//! With `[export.postgres]`, a thread ships what was stored to PostgreSQL
//! (`crate::export::background`).

use crate::alert::Alerter;
use crate::auth::Authenticator;
use crate::config::{Config, NotAReportPolicy};
use crate::export::background::Shipping;
use crate::housekeeping::Housekeeping;
use crate::ingest::Committer;
use crate::metrics::Metrics;
use crate::metrics::http::Endpoint;
use crate::smtp::{Shared, Shutdown, accept_all, tls};
use crate::store::Store;
use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs the daemon until it is told to stop.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let tls = match (&config.smtp.tls_certificate, &config.smtp.tls_key) {
        (Some(certificate), Some(key)) => Some(tls::load(certificate, key)?),
        _ => None,
    };
    let mut store = Store::open(&config.store.path)
        .with_context(|| format!("cannot open the store {}", config.store.path.display()))?;
    store.keep_failure_bodies(config.store.keep_failure_bodies);
    store.set_busy_timeout(Duration::from_secs(config.store.busy_timeout_secs))?;
    let listeners = listeners(config)?;
    let addresses: Vec<String> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.to_string())
        .collect();
    let shutdown = Shutdown::new();
    let metrics = Metrics::new(&config.metrics.domains).with_store_size(&config.store.path);
    metrics
        .load_last_reports(&store)
        .context("cannot read the time of the last reports from the store")?;
    let metrics = Arc::new(metrics);
    let endpoint = match config.metrics.listen {
        Some(address) => {
            let stopping = shutdown.clone();
            let endpoint =
                Endpoint::start(address, metrics.clone(), move || !stopping.is_stopping())?;
            tracing::info!(listen = %endpoint.local_addr(), "serving metrics");
            Some(endpoint)
        }
        None => None,
    };
    let keep_non_reports = config.smtp.not_a_report == NotAReportPolicy::Keep;
    let alerter = Arc::new(Alerter::start(&config.alerts)?);
    let committer = Committer::start(
        store,
        config.limits.clone(),
        keep_non_reports,
        alerter.clone(),
        metrics.clone(),
    )?;
    let authenticator = Authenticator::new(&config.dns, &config.smtp.hostname)
        .context("cannot authenticate report mail")?;
    let shared = Arc::new(
        Shared::new(
            config.smtp.clone(),
            config.limits.max_message_bytes,
            tls.clone(),
            committer.submitter(),
            shutdown.clone(),
        )
        .with_authentication(Arc::new(authenticator), config.trust.unauthenticated)
        .with_stored_bytes_per_day(config.limits.max_stored_bytes_per_ip_per_day)
        .with_metrics(metrics),
    );

    let mut signals = Signals::new([SIGTERM, SIGINT]).context("cannot install signal handlers")?;
    let signal_handle = signals.handle();
    let on_signal = shutdown.clone();
    let signal_thread = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                tracing::info!(signal, "shutting down");
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
                on_signal.begin();
            }
        })?;

    tracing::info!(
        listen = %addresses.join(","),
        store = %config.store.path.display(),
        starttls = tls.is_some(),
        unauthenticated = config.trust.unauthenticated.as_str(),
        "listening"
    );
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    let housekeeping = Housekeeping::start(config, alerter).context("cannot start housekeeping")?;
    let shipping = Shipping::start(config).context("cannot ship to PostgreSQL")?;

    accept_all(listeners, shared.clone())?;
    let grace = Instant::now() + Duration::from_secs(config.smtp.shutdown_grace_secs);
    let cut = shutdown.drain(grace);
    if cut > 0 {
        tracing::warn!(
            sessions = cut,
            "sessions still open after the grace period were closed"
        );
        shutdown.drain(Instant::now() + Duration::from_secs(5));
    }
    drop(shared);
    housekeeping.finish();
    if let Some(shipping) = shipping {
        shipping.finish();
    }
    committer.finish();
    if let Some(endpoint) = endpoint {
        endpoint.stop();
    }
    signal_handle.close();
    let _ = signal_thread.join();
    tracing::info!("stopped; the store is closed");
    Ok(())
}

/// The sockets to accept on: those systemd passed (LISTEN_FDS), else
/// `smtp.listen` bound here.
fn listeners(config: &Config) -> anyhow::Result<Vec<TcpListener>> {
    let mut passed = listenfd::ListenFd::from_env();
    let mut listeners = Vec::new();
    for index in 0..passed.len() {
        if let Some(listener) = passed
            .take_tcp_listener(index)
            .context("a socket passed by systemd is not a TCP listener")?
        {
            listener.set_nonblocking(false)?;
            listeners.push(listener);
        }
    }
    if listeners.is_empty() {
        let listener = TcpListener::bind(&config.smtp.listen)
            .with_context(|| format!("cannot listen on {}", config.smtp.listen))?;
        listeners.push(listener);
    }
    Ok(listeners)
}
