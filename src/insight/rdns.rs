//! Reverse DNS for source names, when `insight.reverse_dns` asks for it.
//!
//! Off by default: it hands every source address to the resolver, and a
//! slow resolver must not hold a report hostage. Each lookup has the
//! configured timeout, lookups run a few at a time, and each address is
//! asked once per run (the cache). A lookup that times out is left to
//! finish on its own thread and counts as "no name".

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Lookups in flight at once.
const PARALLEL_LOOKUPS: usize = 16;

/// Names of addresses, looked up once each.
pub struct ReverseDns {
    timeout: Duration,
    cache: HashMap<IpAddr, Option<String>>,
}

impl ReverseDns {
    pub fn new(timeout: Duration) -> Self {
        ReverseDns {
            timeout,
            cache: HashMap::new(),
        }
    }

    /// Looks up every address not asked before; returns when all have
    /// answered or timed out.
    pub fn resolve_all<'a>(&mut self, addresses: impl IntoIterator<Item = &'a str>) {
        let mut pending: Vec<IpAddr> = addresses
            .into_iter()
            .filter_map(|text| text.parse().ok())
            .filter(|ip| !self.cache.contains_key(ip))
            .collect();
        pending.sort_unstable();
        pending.dedup();
        for chunk in pending.chunks(PARALLEL_LOOKUPS) {
            let (answers, receive) = mpsc::channel();
            for &ip in chunk {
                let answers = answers.clone();
                let spawned = std::thread::Builder::new()
                    .name("reverse-dns".into())
                    .spawn(move || {
                        let name = dns_lookup::lookup_addr(&ip).ok();
                        let _ = answers.send((ip, name));
                    });
                if spawned.is_err() {
                    self.cache.insert(ip, None);
                }
            }
            drop(answers);
            let deadline = Instant::now() + self.timeout;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                match receive.recv_timeout(left) {
                    Ok((ip, name)) => {
                        let name = name.filter(|name| name.parse::<IpAddr>().is_err());
                        self.cache
                            .insert(ip, name.map(|n| n.trim_end_matches('.').to_owned()));
                    }
                    Err(_) => break,
                }
            }
            for ip in chunk {
                self.cache.entry(*ip).or_insert(None);
            }
        }
    }

    /// The name of `address`, if it was looked up and has one.
    pub fn name(&self, address: &str) -> Option<&str> {
        let ip: IpAddr = address.parse().ok()?;
        self.cache.get(&ip)?.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_a_name_and_garbage_has_none() {
        let mut rdns = ReverseDns::new(Duration::from_secs(5));
        rdns.resolve_all(["127.0.0.1", "not an address"]);
        let name = rdns
            .name("127.0.0.1")
            .expect("127.0.0.1 resolves through /etc/hosts");
        assert!(!name.is_empty());
        assert_eq!(rdns.name("not an address"), None);
    }
}
