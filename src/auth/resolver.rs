//! The resolver behind the checks, from `[dns]`.

use super::AuthError;
use crate::config::DnsConfig;
use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::hickory_resolver::system_conf::read_system_conf;
use std::time::Duration;

/// Answers kept (hickory honours each answer's TTL): a few for each of
/// the reporters' domains, selectors and SPF includes.
const CACHE_ENTRIES: u64 = 4096;

pub fn build(dns: &DnsConfig) -> Result<MessageAuthenticator, AuthError> {
    let servers = dns.nameserver_addrs().map_err(AuthError::Resolver)?;
    let (config, mut options) = if servers.is_empty() {
        read_system_conf().map_err(|e| AuthError::Resolver(format!("/etc/resolv.conf: {e}")))?
    } else {
        let name_servers = servers
            .iter()
            .map(|server| {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                NameServerConfig::new(server.ip(), true, vec![udp, tcp])
            })
            .collect();
        (
            ResolverConfig::from_parts(None, Vec::new(), name_servers),
            ResolverOpts::default(),
        )
    };
    options.timeout = Duration::from_millis(dns.timeout_ms);
    options.attempts = 1;
    options.cache_size = CACHE_ENTRIES;
    // Names are always absolute: no search list, no hosts file.
    options.ndots = 0;
    MessageAuthenticator::new(config, options).map_err(|e| AuthError::Resolver(e.to_string()))
}
