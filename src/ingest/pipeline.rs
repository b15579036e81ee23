//! Parsing and storing one report at the same time.
//!
//! Decompressing and parsing cost about as much as the SQLite inserts, so
//! the parser runs on a helper thread and hands records over in batches
//! through a bounded channel, while the caller's thread, which owns the
//! transaction, stores them. On two cores a large report imports in about
//! the time of the slower half instead of the sum of both. The bounded
//! channel keeps memory flat: the parser waits when the store falls behind.
//!
//! The parser decompresses its own input (a tenth of its work). A third
//! thread that decompressed ahead of it, in 64 KiB chunks, cost more CPU
//! than it saved on the 2-vCPU machines this runs on: without it the
//! million-record import took 5.5 s instead of 6.1 s on 7.4 s of user CPU
//! instead of 8.3 s while the machine was busy (one build, a switch
//! between the two); no change at 100,000 records. On a quiet machine,
//! together with a faster parse, 4.3 s against 4.2 s on less CPU
//! (BENCHMARKS.md, Speed, profiled).
//!
//! Records cross as packed batches (`packed`): the text of up to 128
//! records in one string, their lengths and counts in two arrays (a
//! batch goes once it holds 64 KiB in all, so past that by one record at
//! most). The
//! parser keeps filling its own record and the store unpacks into one of
//! its own, so no string is allocated on one thread and freed on the
//! other (glibc's allocator contends on a lock then), and each batch
//! crosses between the cores as a few contiguous runs rather than
//! hundreds of small strings. Stored batches go back to the parser over a
//! second channel and are filled again. A record that packs into more
//! than 256 KiB (long values, or thousands of results) goes whole instead,
//! moved rather than copied, one at a time.
//!
//! Handing over the records themselves, and sending them back to be
//! filled again, cost up to 50 % more CPU in the windows when this 2-vCPU
//! machine ran slow (a million-record import: 5.1–6.5 s on 6.7–8.8 s of
//! user CPU; packed, 4.5 s on 5.9 s; BENCHMARKS.md).

use super::packed::PackedBatch;
use crate::limits::Limits;
use crate::parse::{
    AggregateSink, ParseError, ParseFailure, ParsedReport, parse_aggregate_labelled,
};
use crate::report::{Feedback, Record};
use crate::store::{ReportWriter, StoreError};
use std::io::BufRead;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Records per hand-over: large enough to make the channel cheap, small
/// enough to keep memory in flight bounded. A batch holds at most
/// [`BATCH_BYTES`] and one record more (which packs into at most
/// [`WHOLE_RECORD_BYTES`]), so the batches in flight, waiting to be
/// filled again and being filled (36 at most) hold 12 MiB at worst (up
/// to twice that in allocated room), a few MiB for ordinary records.
const BATCH_RECORDS: usize = 128;
/// Bytes per hand-over (text, lengths and counts) past which a batch goes
/// before it is full, so that records with long values (comments, human
/// results) or many results keep memory in flight bounded too.
const BATCH_BYTES: usize = 64 * 1024;
/// Batches the parser may run ahead of the store.
const BATCHES_IN_FLIGHT: usize = 16;
/// A record that packs into more bytes than this goes over whole, moved
/// rather than copied: packing it would hold it twice, unpacking three
/// times. Such records are rare (a reason's comment or a human result
/// near `max_xml_token_bytes`, thousands of results), so the moves cost
/// nothing that shows. One such record at a time is in flight (see
/// [`BatchSender::whole_turn`]): each may hold up to `max_record_bytes`.
const WHOLE_RECORD_BYTES: usize = 256 * 1024;

enum Handover {
    Begin(Box<Feedback>),
    Records(PackedBatch),
    /// One record of long values, after the batch before it.
    Whole(Box<Record>),
}

/// The store's side has hung up (after a store error).
#[derive(Debug)]
struct StoreGone;

/// Stored batches on their way back to the parser: room for every batch
/// that can be in flight, so the store never waits to hand one back.
const BATCHES_RETURNED: usize = BATCHES_IN_FLIGHT + 2;

/// The parser's sink: packs records into batches and sends them over.
struct BatchSender {
    channel: SyncSender<Handover>,
    batch: PackedBatch,
    /// Batches the store is done with, to be filled again.
    returned: Receiver<PackedBatch>,
    /// The turn to send a whole record: one, taken to send one and given
    /// back by the store once it has stored it. Sixteen records of up to
    /// `max_record_bytes` in the channel at once would be 64 MiB at the
    /// defaults, half the daemon's memory budget.
    whole_turn: Receiver<()>,
}

impl BatchSender {
    fn flush(&mut self) -> Result<(), StoreGone> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut next = self.returned.try_recv().unwrap_or_default();
        next.clear();
        let batch = std::mem::replace(&mut self.batch, next);
        self.channel
            .send(Handover::Records(batch))
            .map_err(|_| StoreGone)
    }
}

impl AggregateSink for BatchSender {
    type Error = StoreGone;

    fn begin(&mut self, feedback: &Feedback) -> Result<(), StoreGone> {
        self.channel
            .send(Handover::Begin(Box::new(feedback.clone())))
            .map_err(|_| StoreGone)
    }

    /// Packs the record; the parser keeps the record itself and fills it
    /// again for the next one. A record of long values is sent whole
    /// instead, after the records packed before it.
    fn record(&mut self, record: &mut Record) -> Result<(), StoreGone> {
        let mark = self.batch.mark();
        let before = self.batch.bytes();
        self.batch.push(record);
        if self.batch.bytes() - before > WHOLE_RECORD_BYTES {
            self.batch.truncate(mark);
            self.flush()?;
            self.whole_turn.recv().map_err(|_| StoreGone)?;
            let whole = Box::new(std::mem::take(record));
            return self
                .channel
                .send(Handover::Whole(whole))
                .map_err(|_| StoreGone);
        }
        if self.batch.len() == BATCH_RECORDS || self.batch.bytes() >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }
}

/// Payloads that came in a MIME part of up to this size (compressed) are
/// parsed on the caller's thread. Such a report holds a few thousand
/// records at most, parsed in a few milliseconds; under SMTP load, when
/// the cores are busy, the two threads started for it and their hand-over
/// cost more than they save (64 senders: 2,709 → 3,844 reports/s, see
/// BENCHMARKS.md). A file keeps its threads: on an idle machine they still
/// pay off for a 1,000-record report.
pub const INLINE_MAX_BYTES: usize = 64 * 1024;

/// Parses `document` into `writer`: on a helper thread beside this one,
/// unless `size` (of the payload as it came, compressed) says it is small
/// enough to parse here ([`INLINE_MAX_BYTES`]).
///
/// Returns the store's error if storing failed (the report must then be
/// abandoned with the whole message), else the parse result: the report, or
/// why it could not be read (the caller quarantines it).
pub fn parse_and_store(
    document: &mut (dyn BufRead + Send),
    size: Option<usize>,
    charset: Option<&str>,
    limits: &Limits,
    writer: &mut ReportWriter<'_>,
) -> Result<Result<ParsedReport, ParseError>, StoreError> {
    if size.is_some_and(|size| size <= INLINE_MAX_BYTES) {
        return match parse_aggregate_labelled(document, charset, limits, writer) {
            Ok(report) => Ok(Ok(report)),
            Err(ParseFailure::Report(error)) => Ok(Err(error)),
            Err(ParseFailure::Sink(error)) => Err(error),
        };
    }
    std::thread::scope(|scope| {
        let (channel, handovers) = sync_channel(BATCHES_IN_FLIGHT);
        let (give_back, returned) = sync_channel(BATCHES_RETURNED);
        let (give_turn, whole_turn) = sync_channel(1);
        give_turn.send(()).expect("the receiver is here");
        let parser = scope.spawn(move || {
            let mut sender = BatchSender {
                channel,
                batch: PackedBatch::default(),
                returned,
                whole_turn,
            };
            let parsed = parse_aggregate_labelled(document, charset, limits, &mut sender)?;
            sender.flush().map_err(ParseFailure::Sink)?;
            Ok(parsed)
        });
        let mut stored = Ok(());
        // Each record is unpacked into this one, whose strings are reused.
        let mut record = Record::default();
        for handover in handovers.iter() {
            stored = match handover {
                Handover::Begin(feedback) => writer.begin(&feedback),
                Handover::Whole(mut whole) => {
                    let stored = writer.record(&mut whole);
                    drop(whole);
                    // The parser holds the one turn until this returns it.
                    let _ = give_turn.try_send(());
                    stored
                }
                Handover::Records(batch) => {
                    let mut unpacker = batch.unpack();
                    let mut stored = Ok(());
                    while stored.is_ok() && unpacker.next_into(&mut record) {
                        stored = writer.record(&mut record);
                    }
                    // Dropped if the parser has finished: nothing to reuse.
                    let _ = give_back.try_send(batch);
                    stored
                }
            };
            if stored.is_err() {
                break;
            }
        }
        // Hanging up makes the parser's next send, or its wait for the
        // turn to send a whole record, fail, so it stops early.
        drop(handovers);
        drop(give_turn);
        let parsed = parser
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        stored?;
        match parsed {
            Ok(report) => Ok(Ok(report)),
            Err(ParseFailure::Report(error)) => Ok(Err(error)),
            Err(ParseFailure::Sink(StoreGone)) => {
                unreachable!("the store hangs up only after an error, returned above")
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::DkimResult;

    /// A sender, the channel it sends on and the end that gives turns back,
    /// with one turn given.
    fn sender() -> (BatchSender, Receiver<Handover>, SyncSender<()>) {
        let (channel, handovers) = sync_channel(64);
        let (_, returned) = sync_channel(1);
        let (give_turn, whole_turn) = sync_channel(1);
        give_turn.send(()).unwrap();
        let sender = BatchSender {
            channel,
            batch: PackedBatch::default(),
            returned,
            whole_turn,
        };
        (sender, handovers, give_turn)
    }

    /// A record of `n` DKIM results without a value: lengths, no text.
    fn wide(n: usize) -> Record {
        Record {
            source_ip: "192.0.2.1".into(),
            count: 1,
            dkim_results: vec![DkimResult::default(); n],
            ..Record::default()
        }
    }

    #[test]
    fn batches_of_records_of_empty_results_stay_small() {
        let (mut sender, handovers, _turn) = sender();
        for _ in 0..20 {
            sender.record(&mut wide(2_000)).unwrap();
        }
        sender.flush().unwrap();
        drop(sender);
        let mut records = 0;
        for handover in handovers.iter() {
            let Handover::Records(batch) = handover else {
                panic!("only batches expected");
            };
            assert!(
                batch.bytes() <= BATCH_BYTES + WHOLE_RECORD_BYTES,
                "{}",
                batch.bytes()
            );
            records += batch.len();
        }
        assert_eq!(records, 20);
    }

    #[test]
    fn one_whole_record_is_in_flight_at_a_time() {
        let (mut sender, handovers, give_turn) = sender();
        // 10,000 results pack into more than WHOLE_RECORD_BYTES.
        sender.record(&mut wide(10_000)).unwrap();
        assert!(matches!(handovers.try_recv(), Ok(Handover::Whole(_))));
        // The turn is taken: a second would wait until the store gives it back.
        assert!(sender.whole_turn.try_recv().is_err());
        give_turn.send(()).unwrap();
        sender.record(&mut wide(10_000)).unwrap();
        assert!(matches!(handovers.try_recv(), Ok(Handover::Whole(_))));
        // Once the store has hung up, waiting for the turn fails at once.
        drop(give_turn);
        assert!(sender.record(&mut wide(10_000)).is_err());
    }
}
