//! Name resolution, as `[dns]` configures it, for everything that looks
//! names up: report mail authentication (`auth`) and `check-dns`.
//!
//! The resolver is hickory's, which caches answers for their TTL. It is
//! asynchronous; [`Resolver`] runs it on a small tokio runtime of its own
//! and gives blocking lookups, for the commands, which are threads.

use crate::config::DnsConfig;
use mail_auth::hickory_resolver::TokioResolver;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::hickory_resolver::net::NetError;
use mail_auth::hickory_resolver::net::runtime::TokioRuntimeProvider;
use mail_auth::hickory_resolver::proto::rr::{RData, RecordType};
use mail_auth::hickory_resolver::system_conf::read_system_conf;
use std::time::Duration;

/// Answers kept: a few for each of the reporters' domains, selectors and
/// SPF includes.
const CACHE_ENTRIES: u64 = 4096;

/// Why no resolver could be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the DNS resolver: {0}")]
pub struct ResolverError(pub String);

/// The resolver's configuration from `[dns]`: its nameservers over UDP
/// with a fallback to TCP, or the system's; one attempt of `timeout_ms`.
pub fn resolver_parts(dns: &DnsConfig) -> Result<(ResolverConfig, ResolverOpts), ResolverError> {
    let servers = dns.nameserver_addrs().map_err(ResolverError)?;
    let (config, mut options) = if servers.is_empty() {
        read_system_conf().map_err(|e| ResolverError(format!("/etc/resolv.conf: {e}")))?
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
    // Names are always absolute: no search list.
    options.ndots = 0;
    Ok((config, options))
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer<T> {
    Found(T),
    /// The name does not exist, or has no record of the type.
    None,
    /// No answer: a timeout, SERVFAIL, a refused or broken query.
    Failed(String),
}

/// Blocking lookups through `[dns]`.
pub struct Resolver {
    runtime: tokio::runtime::Runtime,
    inner: TokioResolver,
}

impl Resolver {
    pub fn new(dns: &DnsConfig) -> Result<Resolver, ResolverError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ResolverError(e.to_string()))?;
        let (config, options) = resolver_parts(dns)?;
        let inner = {
            let _entered = runtime.enter();
            TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
                .with_options(options)
                .build()
                .map_err(|e| ResolverError(e.to_string()))?
        };
        Ok(Resolver { runtime, inner })
    }

    /// The TXT records of `name`, each its strings joined (RFC 7208 §3.3),
    /// CNAMEs followed.
    pub fn txt(&self, name: &str) -> Answer<Vec<String>> {
        self.records(name, RecordType::TXT, |data| match data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .map(|part| String::from_utf8_lossy(part))
                    .collect::<String>(),
            ),
            _ => None,
        })
    }

    /// The MX records of `name`: preference and exchange (without the
    /// final dot; `.` stays for a null MX).
    pub fn mx(&self, name: &str) -> Answer<Vec<(u16, String)>> {
        self.records(name, RecordType::MX, |data| match data {
            RData::MX(mx) => {
                let exchange = mx.exchange.to_ascii();
                let exchange = match exchange.trim_end_matches('.') {
                    "" => ".".to_owned(),
                    host => host.to_ascii_lowercase(),
                };
                Some((mx.preference, exchange))
            }
            _ => None,
        })
    }

    /// The addresses of `name`: A, then AAAA records.
    pub fn addresses(&self, name: &str) -> Answer<Vec<std::net::IpAddr>> {
        let v4 = self.records(name, RecordType::A, |data| match data {
            RData::A(a) => Some(std::net::IpAddr::V4(a.0)),
            _ => None,
        });
        let v6 = self.records(name, RecordType::AAAA, |data| match data {
            RData::AAAA(a) => Some(std::net::IpAddr::V6(a.0)),
            _ => None,
        });
        match (v4, v6) {
            (Answer::Failed(e), _) | (_, Answer::Failed(e)) => Answer::Failed(e),
            (Answer::None, Answer::None) => Answer::None,
            (a, b) => {
                let mut all = Vec::new();
                for answer in [a, b] {
                    if let Answer::Found(found) = answer {
                        all.extend(found);
                    }
                }
                Answer::Found(all)
            }
        }
    }

    /// Whether `name` has an address (A or AAAA): what an SPF `a` or `mx`
    /// target needs, and what a void lookup lacks.
    pub fn has_address(&self, name: &str) -> Answer<bool> {
        match self.records(name, RecordType::A, |_| Some(())) {
            Answer::Found(_) => Answer::Found(true),
            Answer::Failed(e) => Answer::Failed(e),
            Answer::None => match self.records(name, RecordType::AAAA, |_| Some(())) {
                Answer::Found(_) => Answer::Found(true),
                Answer::None => Answer::Found(false),
                Answer::Failed(e) => Answer::Failed(e),
            },
        }
    }

    fn records<T>(
        &self,
        name: &str,
        kind: RecordType,
        read: impl Fn(&RData) -> Option<T>,
    ) -> Answer<Vec<T>> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let lookup = self
            .runtime
            .block_on(self.inner.lookup(fqdn.as_str(), kind));
        match lookup {
            Ok(lookup) => {
                let found: Vec<T> = lookup
                    .answers()
                    .iter()
                    .filter_map(|r| read(&r.data))
                    .collect();
                if found.is_empty() {
                    Answer::None
                } else {
                    Answer::Found(found)
                }
            }
            Err(error) => failure(&error),
        }
    }
}

fn failure<T>(error: &NetError) -> Answer<T> {
    if error.is_no_records_found() {
        Answer::None
    } else {
        Answer::Failed(error.to_string())
    }
}
