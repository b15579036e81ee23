//! Reading SMTP lines with a length cap and a deadline.
//!
//! A client that sends one endless line, or drips a byte every few seconds,
//! must cost bounded memory and bounded time: a line longer than the cap is
//! an error as soon as the cap is crossed, and a line not complete by its
//! deadline is a timeout, however slowly its bytes arrive.

use super::stream::Connection;
use std::io;
use std::time::Instant;

/// Bytes read from the socket at a time, and the buffer's starting size.
const CHUNK: usize = 8 * 1024;

#[derive(Debug)]
pub enum LineError {
    /// The line is longer than the limit, which is given.
    TooLong(usize),
    /// The deadline passed before the line was complete.
    TimedOut,
    /// The client closed the connection.
    Closed,
    Io(io::Error),
}

/// Buffers what the client sends and hands it out a line at a time.
pub struct LineReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl LineReader {
    pub fn new() -> Self {
        LineReader {
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
        }
    }

    /// A complete line is already buffered (the client pipelines commands):
    /// answers may be held back and sent together.
    pub fn has_line(&self) -> bool {
        self.buf[self.start..self.end].contains(&b'\n')
    }

    /// Forgets buffered input; after STARTTLS, plaintext sent ahead of the
    /// handshake must not be taken as if it came over TLS (RFC 3207).
    pub fn discard_buffered(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    /// The next line, its line ending included, at most `max` bytes long.
    pub fn read_line(
        &mut self,
        stream: &mut impl Connection,
        max: usize,
        deadline: Instant,
    ) -> Result<&[u8], LineError> {
        loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(newline) = pending.iter().position(|&b| b == b'\n') {
                if newline + 1 > max {
                    return Err(LineError::TooLong(max));
                }
                let line = self.start..self.start + newline + 1;
                self.start = line.end;
                return Ok(&self.buf[line]);
            }
            if pending.len() >= max {
                return Err(LineError::TooLong(max));
            }
            self.make_room(max);
            let now = Instant::now();
            if now >= deadline {
                return Err(LineError::TimedOut);
            }
            stream
                .set_read_timeout(deadline - now)
                .map_err(LineError::Io)?;
            match stream.read(&mut self.buf[self.end..]) {
                Ok(0) => return Err(LineError::Closed),
                Ok(n) => self.end += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(LineError::TimedOut);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LineError::Io(e)),
            }
        }
    }

    /// Moves pending bytes to the front and grows the buffer, never past
    /// what a line of `max` bytes needs.
    fn make_room(&mut self, max: usize) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(max + 1).max(self.buf.len() + 1);
            self.buf.resize(grown, 0);
        }
    }
}
