//! The accept loop: connection caps, a thread per session, and shutdown.
//!
//! Sessions are threads: a report sink sees few deliveries, and blocking
//! reads with deadlines keep each session simple. A thousand idle
//! connections are a thousand sleeping threads with small stacks; the caps
//! (`smtp.max_connections`, `smtp.max_connections_per_ip`) bound them.

use super::{Shared, session};
use crate::metrics::OpenConnection;
use mailin::Response;
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Shutdown as Close, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Stack for a session thread: sessions hold their data on the heap.
const SESSION_STACK_BYTES: usize = 256 * 1024;

/// Shutdown, as a first-class state: stop accepting, let deliveries in DATA
/// finish, send everyone else 421.
pub struct Shutdown {
    stopping: AtomicBool,
    connections: Mutex<Connections>,
    changed: Condvar,
    next_id: AtomicU64,
    /// Addresses the acceptors listen on, to wake them.
    wake: Mutex<Vec<SocketAddr>>,
}

#[derive(Default)]
struct Connections {
    open: HashMap<u64, Registered>,
    per_ip: HashMap<IpAddr, usize>,
}

struct Registered {
    stream: TcpStream,
    in_data: Arc<AtomicBool>,
    ip: IpAddr,
}

impl Shutdown {
    pub fn new() -> Arc<Shutdown> {
        Arc::new(Shutdown {
            stopping: AtomicBool::new(false),
            connections: Mutex::new(Connections::default()),
            changed: Condvar::new(),
            next_id: AtomicU64::new(0),
            wake: Mutex::new(Vec::new()),
        })
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Begins shutdown: acceptors stop, idle sessions are woken to say 421.
    pub fn begin(&self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        for address in self.wake.lock().expect("wake list").iter() {
            let target = match address.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => {
                    SocketAddr::from(([127, 0, 0, 1], address.port()))
                }
                IpAddr::V6(ip) if ip.is_unspecified() => {
                    SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, address.port()))
                }
                _ => *address,
            };
            let _ = TcpStream::connect_timeout(&target, Duration::from_secs(1));
        }
        let connections = self.connections.lock().expect("connections");
        for registered in connections.open.values() {
            if !registered.in_data.load(Ordering::SeqCst) {
                let _ = registered.stream.shutdown(Close::Read);
            }
        }
    }

    /// Waits until every session has ended, or `deadline`; then closes the
    /// rest. Returns how many had to be cut off.
    pub fn drain(&self, deadline: Instant) -> usize {
        let mut connections = self.connections.lock().expect("connections");
        while !connections.open.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                for registered in connections.open.values() {
                    let _ = registered.stream.shutdown(Close::Both);
                }
                return connections.open.len();
            }
            connections = self
                .changed
                .wait_timeout(connections, deadline - now)
                .expect("connections")
                .0;
        }
        0
    }

    /// Registers a connection under the caps; the reply to send when over
    /// one of them.
    fn register(
        self: &Arc<Self>,
        stream: &TcpStream,
        ip: IpAddr,
        shared: &Shared,
    ) -> Result<Registration, Response> {
        let mut connections = self.connections.lock().expect("connections");
        if connections.open.len() >= shared.config.max_connections {
            return Err(Response::custom(
                421,
                "4.3.2 Too many connections, try again later".into(),
            ));
        }
        let from_ip = connections.per_ip.get(&ip).copied().unwrap_or(0);
        if from_ip >= shared.config.max_connections_per_ip {
            return Err(Response::custom(
                421,
                "4.7.0 Too many connections from your address, try again later".into(),
            ));
        }
        let closer = stream
            .try_clone()
            .map_err(|_| Response::custom(421, "4.3.2 Out of resources".into()))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let in_data = Arc::new(AtomicBool::new(false));
        connections.open.insert(
            id,
            Registered {
                stream: closer,
                in_data: in_data.clone(),
                ip,
            },
        );
        *connections.per_ip.entry(ip).or_insert(0) += 1;
        Ok(Registration {
            shutdown: self.clone(),
            id,
            in_data,
            _open: shared.metrics.session_opened(),
        })
    }
}

/// A connection counted under the caps; uncounted when dropped.
struct Registration {
    shutdown: Arc<Shutdown>,
    id: u64,
    in_data: Arc<AtomicBool>,
    /// Counted as open while registered.
    _open: OpenConnection,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut connections = self.shutdown.connections.lock().expect("connections");
        if let Some(registered) = connections.open.remove(&self.id)
            && let Some(count) = connections.per_ip.get_mut(&registered.ip)
        {
            *count -= 1;
            if *count == 0 {
                connections.per_ip.remove(&registered.ip);
            }
        }
        self.shutdown.changed.notify_all();
    }
}

/// Accepts on every listener until shutdown begins.
pub fn accept_all(listeners: Vec<TcpListener>, shared: Arc<Shared>) -> std::io::Result<()> {
    {
        let mut wake = shared.shutdown.wake.lock().expect("wake list");
        for listener in &listeners {
            wake.push(listener.local_addr()?);
        }
    }
    std::thread::scope(|scope| {
        for listener in listeners {
            let shared = shared.clone();
            scope.spawn(move || accept_loop(listener, shared));
        }
    });
    Ok(())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutdown.is_stopping() {
            break;
        }
        let mut stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                // Out of file descriptors, say: let some sessions end.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let Ok(remote) = stream.peer_addr() else {
            continue;
        };
        let registration = match shared.shutdown.register(&stream, remote.ip(), &shared) {
            Ok(registration) => registration,
            Err(reply) => {
                shared.metrics.reply(reply.code);
                let mut text = Vec::new();
                let _ = reply.write_to(&mut text);
                tracing::info!(%remote, reply = %String::from_utf8_lossy(&text).trim_end(),
                    "connection refused at the cap");
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = stream.write_all(&text);
                continue;
            }
        };
        let session_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("smtp-session".into())
            .stack_size(SESSION_STACK_BYTES)
            .spawn(move || {
                let in_data = registration.in_data.clone();
                session::run(stream, remote, session_shared, in_data);
                drop(registration);
            });
        if let Err(error) = spawned {
            tracing::error!(%remote, %error, "cannot start a session thread");
        }
    }
}
