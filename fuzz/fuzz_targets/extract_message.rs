//! Raw message bytes → `extract_message` with the default limits.
//!
//! Every payload handed over is read to its end, as the parser would, so
//! that sniffing, gzip members, zip entries and nested messages are all
//! opened, not just found. Besides panics, hangs and unbounded memory, the
//! target checks that the count `extract_message` returns is the number of
//! payloads the visitor was given: that count decides whether a message is
//! "not a report", and so whether it is refused.

#![no_main]

use dmarc_sink::extract::{
    ExtractError, FailureMessage, PayloadInfo, PayloadVisitor, extract_message,
};
use dmarc_sink::limits::Limits;
use libfuzzer_sys::fuzz_target;
use std::convert::Infallible;
use std::io::{self, BufRead};

/// Reads each payload and drops it, counting what it was given.
#[derive(Default)]
struct Drain {
    payloads: usize,
}

impl PayloadVisitor for Drain {
    type Error = Infallible;

    fn report(
        &mut self,
        _payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Infallible> {
        self.payloads += 1;
        // Corrupt data or a limit ends the read, as it would end a parse.
        let _ = io::copy(document, &mut io::sink());
        Ok(())
    }

    fn tls_report(
        &mut self,
        payload: &PayloadInfo<'_>,
        document: &mut (dyn BufRead + Send),
    ) -> Result<(), Infallible> {
        self.report(payload, document)
    }

    fn failure_report(
        &mut self,
        _payload: &PayloadInfo<'_>,
        report: &FailureMessage,
    ) -> Result<(), Infallible> {
        self.payloads += 1;
        // What the parser reads of it: it must not panic either.
        let _ = dmarc_sink::parse::parse_failure_report(&report.feedback);
        Ok(())
    }

    fn unreadable(
        &mut self,
        _payload: &PayloadInfo<'_>,
        error: ExtractError,
    ) -> Result<(), Infallible> {
        self.payloads += 1;
        // The reason is stored with the payload: it must render.
        assert!(!error.to_string().is_empty());
        Ok(())
    }
}

fuzz_target!(|raw: &[u8]| {
    let mut drain = Drain::default();
    let Ok(found) = extract_message(raw, &Limits::default(), &mut drain);
    assert_eq!(
        found, drain.payloads,
        "payloads counted but not handed over"
    );
});
