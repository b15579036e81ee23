//! The raw bytes of messages, kept so that any report can be parsed again.
//!
//! Bytes are written as a stream in chunks of up to [`CHUNK_BYTES`], so that a
//! large imported file never has to sit in memory whole. Bytes that are not
//! compressed already are gzip-compressed on the way in.

use super::StoreError;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use rusqlite::Connection;
use std::io::{self, Read, Write};

/// Size of one stored chunk.
const CHUNK_BYTES: usize = 1024 * 1024;

/// Writes a stream of bytes as numbered chunks of one message.
pub(super) struct ChunkWriter<'c> {
    conn: &'c Connection,
    message: i64,
    seq: i64,
    buf: Vec<u8>,
}

impl<'c> ChunkWriter<'c> {
    pub(super) fn new(conn: &'c Connection, message: i64) -> Self {
        ChunkWriter {
            conn,
            message,
            seq: 0,
            buf: Vec::new(),
        }
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO message_raw (message, seq, data) VALUES (?1, ?2, ?3)")
            .map_err(io::Error::other)?;
        stmt.execute((self.message, self.seq, &self.buf))
            .map_err(io::Error::other)?;
        self.seq += 1;
        self.buf.clear();
        Ok(())
    }

    pub(super) fn finish(mut self) -> io::Result<()> {
        self.flush_chunk()
    }
}

impl Write for ChunkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(CHUNK_BYTES);
        }
        let room = CHUNK_BYTES - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK_BYTES {
            self.flush_chunk()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether bytes starting so are compressed already (gzip or zip): storing
/// them as they are costs nothing and compressing again gains nothing.
pub(super) fn already_compressed(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b]) || head.starts_with(b"PK\x03\x04")
}

/// Copies `input` into the message's chunks; returns the encoding used.
pub(super) fn store_raw(
    conn: &Connection,
    message: i64,
    head: &[u8],
    input: &mut dyn Read,
) -> Result<&'static str, StoreError> {
    let mut chunks = ChunkWriter::new(conn, message);
    if already_compressed(head) {
        io::copy(input, &mut chunks)?;
        chunks.finish()?;
        Ok("identity")
    } else {
        let mut gzip = GzEncoder::new(chunks, Compression::fast());
        io::copy(input, &mut gzip)?;
        gzip.finish()?.finish()?;
        Ok("gzip")
    }
}

/// Reads a message's chunks back in order, one at a time.
pub struct RawReader<'c> {
    conn: &'c Connection,
    message: i64,
    next_seq: i64,
    chunk: Vec<u8>,
    pos: usize,
}

impl<'c> RawReader<'c> {
    /// A reader over the message's original bytes (decompressed if stored so).
    pub(super) fn open(
        conn: &'c Connection,
        message: i64,
    ) -> Result<Box<dyn Read + 'c>, StoreError> {
        let encoding: String = conn.query_row(
            "SELECT raw_encoding FROM messages WHERE id = ?1",
            [message],
            |row| row.get(0),
        )?;
        let chunks = RawReader {
            conn,
            message,
            next_seq: 0,
            chunk: Vec::new(),
            pos: 0,
        };
        Ok(if encoding == "gzip" {
            Box::new(MultiGzDecoder::new(chunks))
        } else {
            Box::new(chunks)
        })
    }
}

impl Read for RawReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.chunk.len() {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT data FROM message_raw WHERE message = ?1 AND seq = ?2")
                .map_err(io::Error::other)?;
            let next: Option<Vec<u8>> = stmt
                .query_row((self.message, self.next_seq), |row| row.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    other => Err(other),
                })
                .map_err(io::Error::other)?;
            match next {
                Some(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                    self.next_seq += 1;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
