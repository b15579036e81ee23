//! `dmarc-sink serve`: the daemon skeleton.
//!
//! It opens the store and binds the listening socket, so configuration,
//! permissions and the port are checked end to end, then answers every SMTP
//! client with `421` (service not available, try again later): reporters keep
//! their reports and retry, nothing is lost. The SMTP session itself (mailin,
//! limits, STARTTLS, group commit) is the next step.

use crate::config::Config;
use crate::store::Store;
use anyhow::Context;
use std::io::Write;
use std::net::TcpListener;

/// Runs until the process is stopped.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let store = Store::open(&config.store.path)
        .with_context(|| format!("cannot open the store {}", config.store.path.display()))?;
    let listener = TcpListener::bind(&config.smtp.listen)
        .with_context(|| format!("cannot listen on {}", config.smtp.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        store = %config.store.path.display(),
        schema_version = store.schema_version()?,
        "listening (skeleton: answering 421 until the SMTP session lands)"
    );
    for stream in listener.incoming() {
        match stream {
            Ok(mut stream) => {
                let peer = stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                let _ = stream.write_all(
                    b"421 4.3.2 dmarc-sink is not accepting mail yet, try again later\r\n",
                );
                tracing::info!(remote = %peer, "connection answered 421");
            }
            Err(error) => tracing::warn!(%error, "accept failed"),
        }
    }
    Ok(())
}
