//! The connection to a client: plain TCP, or TLS after STARTTLS; and what a
//! session needs of any connection, so that one can also be driven over
//! bytes in memory (the fuzz target `smtp_session` does) without a socket.

use rustls::{ServerConfig, ServerConnection, StreamOwned};
use std::io::{self, Read, Write};
use std::net::{Shutdown as Close, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a session asks of its connection beyond reading and writing. The
/// defaults suit a connection that never blocks and cannot do TLS, such as
/// a client's bytes held in memory.
pub trait Connection: Read + Write + Sized {
    /// Bounds the next read: a read that waits longer fails with
    /// `WouldBlock` or `TimedOut`.
    fn set_read_timeout(&self, _timeout: Duration) -> io::Result<()> {
        Ok(())
    }

    /// Switches to TLS, completing the handshake before `deadline`.
    fn start_tls(self, _config: Arc<ServerConfig>, _deadline: Instant) -> io::Result<Self> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this connection cannot carry TLS",
        ))
    }

    /// Ends the connection in both directions, so that the client sees the
    /// end at once, after the last reply.
    fn close(&self) {}
}

pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => &tls.sock,
        }
    }
}

impl Connection for Stream {
    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.tcp()
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
    }

    fn close(&self) {
        let _ = self.tcp().shutdown(Close::Both);
    }

    fn start_tls(self, config: Arc<ServerConfig>, deadline: Instant) -> io::Result<Stream> {
        let Stream::Plain(mut tcp) = self else {
            return Err(io::Error::other("TLS is already active"));
        };
        let mut connection = ServerConnection::new(config).map_err(io::Error::other)?;
        while connection.is_handshaking() {
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "TLS handshake timed out",
                ));
            }
            tcp.set_read_timeout(Some(deadline - now))?;
            connection.complete_io(&mut tcp)?;
        }
        Ok(Stream::Tls(Box::new(StreamOwned::new(connection, tcp))))
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}
