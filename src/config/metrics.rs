//! `[metrics]`: the Prometheus endpoint of `serve`.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// `[metrics]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Where `serve` answers `GET /metrics` and `GET /healthz`; unset: no
    /// endpoint. Bound by `serve` itself, also under socket activation.
    pub listen: Option<SocketAddr>,
    /// Policy domains that get a `policy_domain` label on the last-report
    /// gauge. Report senders choose policy domains, so only those the
    /// operator names here become label values.
    pub domains: Vec<String>,
}

impl MetricsConfig {
    /// Why `metrics.domains` cannot be used, if it cannot: an entry that is
    /// not a domain name, or one named twice (in any case).
    pub(super) fn check_domains(&self) -> Result<(), String> {
        let mut seen: Vec<String> = Vec::with_capacity(self.domains.len());
        for domain in &self.domains {
            let valid = !domain.is_empty()
                && domain.len() <= 253
                && domain
                    .split('.')
                    .all(|label| !label.is_empty() && label.bytes().all(is_domain_byte));
            if !valid {
                return Err(format!("{domain:?} is not a domain name"));
            }
            let lower = domain.to_ascii_lowercase();
            if seen.contains(&lower) {
                return Err(format!("{domain:?} is named twice"));
            }
            seen.push(lower);
        }
        Ok(())
    }
}

/// Letters, digits, `-` and `_` (as in `_smtp._tls` names).
fn is_domain_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}
