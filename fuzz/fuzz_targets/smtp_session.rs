//! Arbitrary client bytes → one whole SMTP session, in memory.
//!
//! The session is the one `serve` runs (line reader, command preparation,
//! mailin's state machine, the handler and its limits), driven through
//! `serve_connection` over bytes in memory: no socket, no SQLite. Messages
//! go to a stand-in for the store that gives each of its three answers.
//!
//! The first input byte sets the knobs a client cannot: how the bytes arrive
//! (a few at a time or all at once) and which limits are small enough to be
//! crossed by a short input. The rest is what the client sends.
//!
//! Besides panics and hangs, the target checks what any client may rely on:
//! every reply line is a well-formed SMTP reply (three digits, then a space
//! or a hyphen, at most 512 bytes, no stray CR or LF: client text must never
//! split a reply), and once the session has ended no message bytes are
//! still counted against `smtp.max_buffered_bytes`.

#![no_main]

use dmarc_sink::auth::Trust;
use dmarc_sink::config::SmtpConfig;
use dmarc_sink::ingest::{
    Committed, MessageOutcome, PayloadOutcome, PayloadResult, ReportSummary, Submitter,
};
use dmarc_sink::report::{QuarantineKind, ReportKind};
use dmarc_sink::smtp::{Connection, Shared, Shutdown, serve_connection};
use libfuzzer_sys::fuzz_target;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

/// Read sizes the client's bytes arrive in, chosen by the low three bits.
const CHUNKS: [usize; 8] = [1, 2, 7, 64, 512, 4096, 8192, usize::MAX];

/// A client's bytes held in memory, and the server's replies.
struct Memory<'a> {
    input: &'a [u8],
    chunk: usize,
    replies: &'a mut Vec<u8>,
}

impl Read for Memory<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Memory<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.replies.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Bytes in memory never block and carry no TLS: the defaults fit.
impl Connection for Memory<'_> {}

/// The store's three answers, chosen by the message's length so that a
/// mutation reaches each: stored (with one quarantined payload), refused as
/// not a report, failed.
fn store_stand_in(raw: Vec<u8>) -> Committed {
    match raw.len() % 3 {
        0 => Committed::Stored(MessageOutcome {
            message: 1,
            trust: Trust::Unchecked,
            payloads: vec![
                PayloadResult {
                    member: "1".into(),
                    outcome: PayloadOutcome::Stored {
                        id: 1,
                        report: ReportSummary {
                            kind: ReportKind::Aggregate,
                            org_name: "example.org".into(),
                            report_id: "1".into(),
                            policy_domain: "example.com".into(),
                            date_begin: 0,
                            date_end: 86_399,
                            records: 1,
                            messages: 1,
                        },
                        new_failing_sources: 0,
                        new_tls_failure_types: 0,
                    },
                },
                PayloadResult {
                    member: "2".into(),
                    outcome: PayloadOutcome::Quarantined {
                        kind: QuarantineKind::Xml,
                        error: "malformed XML".into(),
                    },
                },
            ],
        }),
        1 => Committed::NotAReport,
        _ => Committed::Failed("disk I/O error".into()),
    }
}

/// One stand-in for all runs: its thread lives as long as the process.
fn submitter() -> Submitter {
    static SUBMITTER: OnceLock<Submitter> = OnceLock::new();
    SUBMITTER
        .get_or_init(|| {
            Submitter::answering(|raw, _envelope| store_stand_in(raw)).expect("answering thread")
        })
        .clone()
}

/// Checks every reply line the server wrote.
fn check_replies(replies: &[u8]) {
    assert!(replies.starts_with(b"220 "), "no greeting: {replies:?}");
    for line in replies.split_inclusive(|&b| b == b'\n') {
        let shown = String::from_utf8_lossy(line);
        assert!(
            line.ends_with(b"\r\n"),
            "reply not ended by CRLF: {shown:?}"
        );
        assert!(line.len() <= 512, "reply line over 512 bytes: {shown:?}");
        let text = &line[..line.len() - 2];
        assert!(!text.contains(&b'\r'), "CR inside a reply: {shown:?}");
        assert!(
            text.len() >= 4
                && matches!(text[0], b'2'..=b'5')
                && text[1..3].iter().all(u8::is_ascii_digit)
                && matches!(text[3], b' ' | b'-'),
            "not an SMTP reply: {shown:?}"
        );
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, client)) = input.split_first() else {
        return;
    };
    let mut config = SmtpConfig {
        hostname: "sink.example.net".into(),
        ..SmtpConfig::default()
    };
    if knobs & 0x08 != 0 {
        config.accept_recipients = vec!["dmarc@example.net".into(), "@reports.example.net".into()];
    }
    if knobs & 0x10 != 0 {
        config.max_buffered_bytes = 256;
    }
    if knobs & 0x20 != 0 {
        config.max_command_line_bytes = 64;
        config.max_data_line_bytes = 128;
    }
    let max_message_bytes = if knobs & 0x40 != 0 { 512 } else { 64 << 20 };
    let shared = Arc::new(Shared::new(
        config,
        max_message_bytes,
        None,
        submitter(),
        Shutdown::new(),
    ));
    let mut replies = Vec::new();
    let connection = Memory {
        input: client,
        chunk: CHUNKS[usize::from(knobs & 0x07)],
        replies: &mut replies,
    };
    let remote = SocketAddr::from(([192, 0, 2, 25], 40_000));
    serve_connection(
        connection,
        remote,
        shared.clone(),
        Arc::new(AtomicBool::new(false)),
    );
    check_replies(&replies);
    assert_eq!(shared.buffered_bytes(), 0, "message bytes still counted");
});
