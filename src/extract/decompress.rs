//! Decompression that cannot run away: gzip with every member read, and a
//! byte budget on what any decompressor may produce.

use crate::limits::LimitExceeded;
use flate2::bufread::GzDecoder;
use std::io::{self, BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Decompressed bytes left for one message (or imported file). Shared by
/// every decompressor that reads it, at every layer: all the entries of a
/// zip archive, a gzip inside a zip, a zip inside that, and the report-like
/// parts beside them. So many entries, entries overlapping in the archive,
/// archives of bombs or parts full of bombs cannot multiply the limit.
#[derive(Debug)]
pub struct Budget {
    remaining: AtomicU64,
    limit: u64,
}

impl Budget {
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            remaining: AtomicU64::new(limit),
            limit,
        })
    }
}

/// A reader that fails with [`LimitExceeded`] (`max_decompressed_bytes`) once
/// its budget is spent.
pub struct Bounded<R> {
    inner: R,
    budget: Arc<Budget>,
}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, budget: Arc<Budget>) -> Self {
        Bounded { inner, budget }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.budget.remaining.load(Ordering::Relaxed);
        // Ask for one byte more than allowed, so crossing the limit is seen.
        let want = buf.len().min(
            usize::try_from(remaining)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
        );
        let n = self.inner.read(&mut buf[..want])?;
        // The inner reader may have drawn on the same budget (a gzip inside
        // a zip entry), so take the bytes from what is left now.
        let taken =
            self.budget
                .remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                    left.checked_sub(n as u64)
                });
        if taken.is_err() {
            self.budget.remaining.store(0, Ordering::Relaxed);
            return Err(LimitExceeded {
                key: "max_decompressed_bytes",
                limit: self.budget.limit,
            }
            .into_io());
        }
        Ok(n)
    }
}

/// Reads every member of a gzip stream, one after another (RFC 1952 allows
/// several). Bytes after the last member that do not start another member are
/// ignored: some reporters pad the file or append garbage.
pub struct GzipMembers<R: BufRead> {
    decoder: Option<GzDecoder<R>>,
}

impl<R: BufRead> GzipMembers<R> {
    pub fn new(input: R) -> Self {
        GzipMembers {
            decoder: Some(GzDecoder::new(input)),
        }
    }
}

impl<R: BufRead> Read for GzipMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            let mut rest = self
                .decoder
                .take()
                .map(GzDecoder::into_inner)
                .expect("decoder present");
            if rest.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
                self.decoder = Some(GzDecoder::new(rest));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn reads_concatenated_members() {
        let mut stream = gzip(b"first ");
        stream.extend(gzip(b"second"));
        let mut out = String::new();
        GzipMembers::new(&stream[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "first second");
    }

    #[test]
    fn ignores_trailing_garbage() {
        let mut stream = gzip(b"report");
        stream.extend_from_slice(b"\r\n");
        let mut out = String::new();
        GzipMembers::new(&stream[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "report");
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let stream = gzip(&[b'x'; 5000]);
        let cut = &stream[..stream.len() - 12];
        let mut out = Vec::new();
        assert!(GzipMembers::new(cut).read_to_end(&mut out).is_err());
    }

    #[test]
    fn budget_stops_a_bomb() {
        let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
        let mut reader = Bounded::new(GzipMembers::new(&bomb[..]), Budget::new(1024 * 1024));
        let error = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        let limit = LimitExceeded::from_io(&error).expect("a limit error");
        assert_eq!(limit.key, "max_decompressed_bytes");
        assert_eq!(limit.limit, 1024 * 1024);
    }

    #[test]
    fn nested_readers_draw_on_one_budget() {
        // A gzip inside a gzip: the outer stream's bytes and the inner's
        // both count.
        let inner = gzip(&[b'x'; 6000]);
        let outer = gzip(&inner);
        let budget = Budget::new(6000 + inner.len() as u64 - 1);
        let unwrapped =
            io::BufReader::new(Bounded::new(GzipMembers::new(&outer[..]), budget.clone()));
        let mut reader = Bounded::new(GzipMembers::new(unwrapped), budget);
        let error = io::copy(&mut reader, &mut io::sink()).unwrap_err();
        assert!(LimitExceeded::from_io(&error).is_some(), "{error}");
    }

    #[test]
    fn budget_is_shared() {
        let budget = Budget::new(10);
        let mut first = Bounded::new(&b"123456"[..], budget.clone());
        io::copy(&mut first, &mut io::sink()).unwrap();
        let mut second = Bounded::new(&b"123456"[..], budget);
        assert!(io::copy(&mut second, &mut io::sink()).is_err());
    }
}
