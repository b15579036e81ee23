//! Reading a report's bytes on a thread of their own, ahead of the parser.
//!
//! The parser is the slower half of an import (see `pipeline`), and the
//! bytes it reads come out of a decompressor, whose work it did too. A
//! reader thread now decompresses into chunks that the parser takes from a
//! bounded channel, so the two overlap; the chunks go back to be filled
//! again. The bytes, and any error reading them, reach the parser exactly
//! as the source gave them.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::Scope;

/// Bytes per chunk.
const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks the reader may run ahead of the parser: memory stays a few
/// hundred KiB whatever the size of the report.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The parser's end: a [`BufRead`] over the chunks the reader sends.
pub(super) struct ReadAhead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    give_back: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    /// Bytes of `current` already consumed.
    pos: usize,
}

/// Starts reading `source` on a thread of `scope`. The thread ends at the
/// end of `source`, at its first error, or once the [`ReadAhead`] is dropped.
pub(super) fn read_ahead<'scope>(
    scope: &'scope Scope<'scope, '_>,
    source: &'scope mut (dyn BufRead + Send),
) -> ReadAhead {
    let (chunk_sender, chunks) = sync_channel(CHUNKS_IN_FLIGHT);
    // Room for every chunk there is, so giving one back never waits.
    let (give_back, returned) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT + 2);
    scope.spawn(move || {
        loop {
            let mut chunk = returned
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES));
            chunk.clear();
            let error = fill_chunk(source, &mut chunk).err();
            if chunk.is_empty() && error.is_none() {
                // The end of the source: hanging up tells the parser so.
                return;
            }
            if !chunk.is_empty() && chunk_sender.send(Ok(chunk)).is_err() {
                // The parser is gone.
                return;
            }
            if let Some(error) = error {
                // After the bytes read before it, as the source gave them.
                let _ = chunk_sender.send(Err(error));
                return;
            }
        }
    });
    ReadAhead {
        chunks,
        give_back,
        current: Vec::new(),
        pos: 0,
    }
}

/// Reads from `source` until `chunk` is full, the source ends or fails;
/// what was read before a failure stays in `chunk`.
fn fill_chunk(source: &mut dyn BufRead, chunk: &mut Vec<u8>) -> io::Result<()> {
    while chunk.len() < CHUNK_BYTES {
        let available = match source.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            break;
        }
        let n = available.len().min(CHUNK_BYTES - chunk.len());
        chunk.extend_from_slice(&available[..n]);
        source.consume(n);
    }
    Ok(())
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.current, chunk);
                    // Dropped if the reader has ended: nothing to refill.
                    let _ = self.give_back.try_send(used);
                    self.pos = 0;
                }
                Ok(Err(error)) => return Err(error),
                // The reader hung up: the end of the source.
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.current.len());
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    #[test]
    fn passes_every_byte_across_chunks() {
        let data: Vec<u8> = (0..CHUNK_BYTES * 3 + 123)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut source = BufReader::with_capacity(1000, &data[..]);
        let mut read = Vec::new();
        std::thread::scope(|scope| {
            read_ahead(scope, &mut source)
                .read_to_end(&mut read)
                .unwrap();
        });
        assert_eq!(read, data);
    }

    /// Gives some bytes, then fails.
    struct Failing(usize);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt"));
            }
            let n = self.0.min(buf.len());
            buf[..n].fill(b'x');
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn passes_the_error_after_the_bytes_before_it() {
        let mut source = BufReader::new(Failing(CHUNK_BYTES + 10));
        let mut read = Vec::new();
        let error = std::thread::scope(|scope| {
            read_ahead(scope, &mut source)
                .read_to_end(&mut read)
                .unwrap_err()
        });
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(error.to_string(), "corrupt");
        assert_eq!(read.len(), CHUNK_BYTES + 10);
    }

    #[test]
    fn stops_when_the_parser_hangs_up() {
        let data = vec![b'y'; CHUNK_BYTES * (CHUNKS_IN_FLIGHT + 4)];
        let mut source = &data[..];
        std::thread::scope(|scope| {
            let mut ahead = read_ahead(scope, &mut source);
            let mut first = [0; 10];
            ahead.read_exact(&mut first).unwrap();
            // Dropping it must let the reader thread end, or the scope
            // would never return.
        });
    }
}
