//! Per-sender rate limits, so that a flood cannot fill the disk: messages
//! an hour (`smtp.max_messages_per_ip_per_hour`) and bytes stored a day
//! (`limits.max_stored_bytes_per_ip_per_day`).
//!
//! A sender is an IPv4 address or an IPv6 /64 (one host holds a whole /64).
//! The counts live in memory: a restart forgives, which costs a flood one
//! more window at most. Each window is fixed, from the sender's first
//! message in it, and each limit is logged at WARN once a window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);
/// Senders remembered before those whose windows are over are forgotten.
const PRUNE_ABOVE: usize = 10_000;
/// How often at most the forgetting runs: it walks every sender under the
/// lock, so a crowd of senders must not make every message pay for it.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Which limit a sender reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    MessagesPerHour,
    StoredBytesPerDay,
}

pub struct RateLimits {
    messages_per_hour: u64,
    bytes_per_day: u64,
    senders: Mutex<Senders>,
}

struct Senders {
    by_address: HashMap<IpAddr, Sender>,
    pruned: Instant,
}

impl Senders {
    /// The sender's entry, made if new; senders whose windows are over are
    /// forgotten first when there are many, at most every [`PRUNE_EVERY`].
    fn entry(&mut self, ip: IpAddr, now: Instant) -> &mut Sender {
        if self.by_address.len() > PRUNE_ABOVE && now.duration_since(self.pruned) >= PRUNE_EVERY {
            self.pruned = now;
            self.by_address.retain(|_, s| {
                now.duration_since(s.hour.started) < HOUR || now.duration_since(s.day.started) < DAY
            });
        }
        self.by_address
            .entry(sender_of(ip))
            .or_insert_with(|| Sender {
                hour: Window::new(now),
                day: Window::new(now),
            })
    }
}

struct Sender {
    hour: Window,
    day: Window,
}

struct Window {
    started: Instant,
    used: u64,
    warned: bool,
}

impl Window {
    fn new(now: Instant) -> Window {
        Window {
            started: now,
            used: 0,
            warned: false,
        }
    }

    /// The window as of `now`: a new one when `length` has passed.
    fn current(&mut self, now: Instant, length: Duration) -> &mut Window {
        if now.duration_since(self.started) >= length {
            *self = Window::new(now);
        }
        self
    }
}

impl RateLimits {
    pub fn new(messages_per_hour: u64, bytes_per_day: u64) -> RateLimits {
        RateLimits {
            messages_per_hour,
            bytes_per_day,
            senders: Mutex::new(Senders {
                by_address: HashMap::new(),
                pruned: Instant::now(),
            }),
        }
    }

    /// Whether `ip` may send another message (`size` bytes, 0 before DATA).
    pub fn admit(&self, ip: IpAddr, size: u64) -> Result<(), Exceeded> {
        let now = Instant::now();
        let mut senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        let sender = senders.entry(ip, now);
        let hour = sender.hour.current(now, HOUR);
        if hour.used >= self.messages_per_hour {
            if !std::mem::replace(&mut hour.warned, true) {
                tracing::warn!(remote = %ip, limit = self.messages_per_hour,
                    "sender over smtp.max_messages_per_ip_per_hour; answering 451 for the rest of the hour");
            }
            return Err(Exceeded::MessagesPerHour);
        }
        let day = sender.day.current(now, DAY);
        if day.used.saturating_add(size) > self.bytes_per_day {
            if !std::mem::replace(&mut day.warned, true) {
                tracing::warn!(remote = %ip, limit = self.bytes_per_day,
                    "sender over limits.max_stored_bytes_per_ip_per_day; answering 451 for the rest of the day");
            }
            return Err(Exceeded::StoredBytesPerDay);
        }
        Ok(())
    }

    /// Counts a message received from `ip`, and `stored` bytes of it kept.
    pub fn count(&self, ip: IpAddr, stored: u64) {
        let now = Instant::now();
        let mut senders = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        let sender = senders.entry(ip, now);
        sender.hour.current(now, HOUR).used += 1;
        let day = sender.day.current(now, DAY);
        day.used = day.used.saturating_add(stored);
    }
}

/// The sender an address counts as: itself for IPv4 (and IPv4 mapped in
/// IPv6), its /64 for IPv6.
fn sender_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_per_hour_per_sender() {
        let limits = RateLimits::new(3, u64::MAX);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limits.admit(a, 0), Ok(()));
            limits.count(a, 10);
        }
        assert_eq!(limits.admit(a, 0), Err(Exceeded::MessagesPerHour));
        assert_eq!(limits.admit(b, 0), Ok(()));
    }

    #[test]
    fn bytes_per_day_and_ipv6_by_64() {
        let limits = RateLimits::new(100, 1000);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let other_host: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        limits.count(one, 900);
        assert_eq!(
            limits.admit(other_host, 101),
            Err(Exceeded::StoredBytesPerDay)
        );
        assert_eq!(limits.admit(other_host, 100), Ok(()));
        assert_eq!(limits.admit(other_net, 1000), Ok(()));
    }
}
