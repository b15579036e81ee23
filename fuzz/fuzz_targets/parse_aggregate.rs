//! Payload bytes → the streaming aggregate-report parser, default limits.
//!
//! Besides panics, hangs and unbounded memory, the target checks what a
//! store relies on: `begin` comes once, before any record; a report that
//! parses has the metadata `begin` promises; and the totals returned match
//! the records handed over.

#![no_main]

use dmarc_sink::limits::Limits;
use dmarc_sink::parse::{AggregateSink, ParseFailure, parse_aggregate};
use dmarc_sink::report::{Feedback, Record};
use libfuzzer_sys::fuzz_target;
use std::convert::Infallible;

/// Discards records, keeping the counts to check the parser's against.
#[derive(Default)]
struct Tally {
    begun: usize,
    records: u64,
    messages: i64,
}

impl AggregateSink for Tally {
    type Error = Infallible;

    fn begin(&mut self, feedback: &Feedback) -> Result<(), Infallible> {
        assert_eq!(self.begun, 0, "begin called twice");
        assert!(!feedback.metadata.org_name.is_empty());
        assert!(!feedback.metadata.report_id.is_empty());
        assert!(!feedback.policy.domain.is_empty());
        self.begun += 1;
        Ok(())
    }

    fn record(&mut self, record: &mut Record) -> Result<(), Infallible> {
        assert_eq!(self.begun, 1, "record before begin");
        assert!(!record.source_ip.is_empty());
        assert!(record.count >= 0, "negative count {}", record.count);
        self.records += 1;
        self.messages = self.messages.saturating_add(record.count);
        Ok(())
    }
}

fuzz_target!(|xml: &[u8]| {
    let mut tally = Tally::default();
    match parse_aggregate(xml, &Limits::default(), &mut tally) {
        Ok(parsed) => {
            assert_eq!(tally.begun, 1, "a parsed report was never begun");
            assert_eq!(parsed.records, tally.records);
            assert_eq!(parsed.messages, tally.messages);
        }
        // The error is stored with the quarantined payload: it must render.
        Err(ParseFailure::Report(error)) => assert!(!error.to_string().is_empty()),
        Err(ParseFailure::Sink(never)) => match never {},
    }
});
