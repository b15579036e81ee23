//! `[dns]`: how everything that resolves names reaches DNS.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// `[dns]`: the resolvers to ask, shared by everything that looks names up
/// (report mail authentication now; other checks later).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct DnsConfig {
    /// Recursive resolvers as `IP:PORT`, asked over UDP with a fallback to
    /// TCP; empty means the system's (`/etc/resolv.conf`).
    pub nameservers: Vec<String>,
    /// Time allowed for one query before it counts as a temporary error.
    pub timeout_ms: u64,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            nameservers: Vec::new(),
            timeout_ms: default_dns_timeout_ms(),
        }
    }
}

/// 2 s: a resolver that takes longer is not going to answer this time.
pub fn default_dns_timeout_ms() -> u64 {
    2000
}

impl DnsConfig {
    /// The nameservers as addresses; the error names the one that is not.
    pub fn nameserver_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        self.nameservers
            .iter()
            .map(|server| {
                server
                    .parse::<SocketAddr>()
                    .map_err(|e| format!("{server:?} is not an IP:PORT ({e})"))
            })
            .collect()
    }
}
