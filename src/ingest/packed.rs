//! Records packed end to end, for the hand-over from the parser's thread
//! to the store's.
//!
//! Handing over `Record`s themselves sent the store a few hundred small
//! strings per batch, scattered over the heap, and sent them back to be
//! filled again: every batch crossed between the two cores twice, a cache
//! line at a time. A packed batch is one string of text and two arrays of
//! numbers, written in order by the parser and read in order by the
//! store, which unpacks each record into one `Record` of its own. The
//! parser keeps filling its own record, as it does with no store at all.

use crate::report::Record;

/// The length that stands for an absent value: no value is that long.
const ABSENT: usize = usize::MAX;

/// Text capacity a cleared batch keeps for its next use.
const KEPT_TEXT_BYTES: usize = 256 * 1024;
/// Lengths a cleared batch keeps room for: those of 128 records with a
/// few dozen values each.
const KEPT_LENGTHS: usize = 16 * 1024;

/// Capacity a string of the store's reused record keeps when it is given
/// a shorter value: enough for any domain or verdict. A longer one is let
/// go, or the record would keep, slot by slot, the longest value each
/// ever held: a report whose k-th record has k results, the last with a
/// 250 KiB human result, would have it hold k × 250 KiB.
const KEPT_VALUE_BYTES: usize = 128;

/// Reasons and results a list of the store's reused record keeps room for
/// once a record with more has been stored.
const KEPT_ENTRIES: usize = 64;

/// Records written one after another: their text in one string, the length
/// of each value and of each list in `lengths`, their counts in `counts`.
#[derive(Debug, Default)]
pub(super) struct PackedBatch {
    text: String,
    lengths: Vec<usize>,
    counts: Vec<i64>,
}

impl PackedBatch {
    /// Records in the batch.
    pub(super) fn len(&self) -> usize {
        self.counts.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Bytes the batch holds: its text, and its lengths and counts,
    /// which outweigh the text for a record of many empty results.
    pub(super) fn bytes(&self) -> usize {
        self.text.len() + (self.lengths.len() + self.counts.len()) * size_of::<usize>()
    }

    /// Empties the batch, keeping its allocations for the next one, except
    /// buffers grown past [`KEPT_TEXT_BYTES`] or [`KEPT_LENGTHS`] by a
    /// record of long values or many results: the batches going round
    /// would otherwise each keep the largest record they ever carried.
    pub(super) fn clear(&mut self) {
        if self.text.capacity() > KEPT_TEXT_BYTES {
            self.text = String::new();
        }
        if self.lengths.capacity() > KEPT_LENGTHS {
            self.lengths = Vec::new();
        }
        self.text.clear();
        self.lengths.clear();
        self.counts.clear();
    }

    /// Where the batch ends now, to [`PackedBatch::truncate`] back to.
    pub(super) fn mark(&self) -> Mark {
        Mark {
            text: self.text.len(),
            lengths: self.lengths.len(),
            records: self.counts.len(),
        }
    }

    /// Drops what was pushed since `mark`.
    /// The room it grew by past [`KEPT_TEXT_BYTES`] or [`KEPT_LENGTHS`] is
    /// given back, so that the batch, sent on and handed back to wait for
    /// reuse, does not keep the size of a record that went whole.
    pub(super) fn truncate(&mut self, mark: Mark) {
        self.text.truncate(mark.text);
        self.lengths.truncate(mark.lengths);
        self.counts.truncate(mark.records);
        self.text.shrink_to(KEPT_TEXT_BYTES);
        self.lengths.shrink_to(KEPT_LENGTHS);
    }

    /// Appends `record`.
    pub(super) fn push(&mut self, record: &Record) {
        self.counts.push(record.count);
        self.value(&record.source_ip);
        self.optionals([
            &record.disposition,
            &record.dkim,
            &record.spf,
            &record.header_from,
            &record.envelope_from,
            &record.envelope_to,
        ]);
        self.list_length(record.reasons.len());
        for reason in &record.reasons {
            self.optional(&reason.kind);
            self.optional(&reason.comment);
        }
        self.list_length(record.dkim_results.len());
        for dkim in &record.dkim_results {
            self.optionals([
                &dkim.domain,
                &dkim.selector,
                &dkim.result,
                &dkim.human_result,
            ]);
        }
        self.list_length(record.spf_results.len());
        for spf in &record.spf_results {
            self.optionals([&spf.domain, &spf.scope, &spf.result, &spf.human_result]);
        }
    }

    /// Reads the records back in order.
    pub(super) fn unpack(&self) -> Unpacker<'_> {
        Unpacker {
            batch: self,
            text_at: 0,
            length_at: 0,
            record_at: 0,
        }
    }

    fn value(&mut self, value: &str) {
        self.lengths.push(value.len());
        self.text.push_str(value);
    }

    fn optional(&mut self, value: &Option<String>) {
        match value {
            Some(value) => self.value(value),
            None => self.lengths.push(ABSENT),
        }
    }

    fn optionals<const N: usize>(&mut self, values: [&Option<String>; N]) {
        for value in values {
            self.optional(value);
        }
    }

    fn list_length(&mut self, n: usize) {
        self.lengths.push(n);
    }
}

/// The end of a batch at one moment (see [`PackedBatch::mark`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    text: usize,
    lengths: usize,
    records: usize,
}

/// Reads a [`PackedBatch`]'s records into a `Record` the caller reuses.
pub(super) struct Unpacker<'b> {
    batch: &'b PackedBatch,
    text_at: usize,
    length_at: usize,
    record_at: usize,
}

impl Unpacker<'_> {
    /// Overwrites `record` with the next record; false after the last.
    /// The record's strings and lists keep their allocations.
    pub(super) fn next_into(&mut self, record: &mut Record) -> bool {
        let Some(&count) = self.batch.counts.get(self.record_at) else {
            return false;
        };
        self.record_at += 1;
        record.count = count;
        let source_ip = self.take();
        set(&mut record.source_ip, source_ip.unwrap_or_default());
        self.optionals_into([
            &mut record.disposition,
            &mut record.dkim,
            &mut record.spf,
            &mut record.header_from,
            &mut record.envelope_from,
            &mut record.envelope_to,
        ]);
        self.list_into(&mut record.reasons, |unpacker, reason| {
            unpacker.optionals_into([&mut reason.kind, &mut reason.comment]);
        });
        self.list_into(&mut record.dkim_results, |unpacker, dkim| {
            unpacker.optionals_into([
                &mut dkim.domain,
                &mut dkim.selector,
                &mut dkim.result,
                &mut dkim.human_result,
            ]);
        });
        self.list_into(&mut record.spf_results, |unpacker, spf| {
            unpacker.optionals_into([
                &mut spf.domain,
                &mut spf.scope,
                &mut spf.result,
                &mut spf.human_result,
            ]);
        });
        true
    }

    /// Reads a list's length, makes `list` that long and fills each entry.
    fn list_into<T: Default>(
        &mut self,
        list: &mut Vec<T>,
        mut fill: impl FnMut(&mut Self, &mut T),
    ) {
        let n = self.list_length();
        resize(list, n);
        for entry in list.iter_mut() {
            fill(self, entry);
        }
    }

    /// The next value, `None` if it was absent.
    fn take(&mut self) -> Option<&str> {
        let length = self.batch.lengths[self.length_at];
        self.length_at += 1;
        if length == ABSENT {
            return None;
        }
        let start = self.text_at;
        self.text_at += length;
        Some(&self.batch.text[start..self.text_at])
    }

    fn optional_into(&mut self, slot: &mut Option<String>) {
        match self.take() {
            Some(value) => set(slot.get_or_insert_with(String::new), value),
            None => *slot = None,
        }
    }

    fn optionals_into<const N: usize>(&mut self, slots: [&mut Option<String>; N]) {
        for slot in slots {
            self.optional_into(slot);
        }
    }

    fn list_length(&mut self) -> usize {
        let n = self.batch.lengths[self.length_at];
        self.length_at += 1;
        n
    }
}

/// Assigns `value` to `target`, reusing its allocation unless that is
/// longer than [`KEPT_VALUE_BYTES`] and than `value`.
fn set(target: &mut String, value: &str) {
    if target.capacity() > KEPT_VALUE_BYTES.max(value.len()) {
        *target = String::with_capacity(value.len());
    }
    target.clear();
    target.push_str(value);
}

/// Makes `list` `n` entries long, new ones empty; a list that held more
/// than [`KEPT_ENTRIES`] gives back the room it no longer needs.
fn resize<T: Default>(list: &mut Vec<T>, n: usize) {
    list.resize_with(n, T::default);
    if list.capacity() > KEPT_ENTRIES.max(n) {
        list.shrink_to(KEPT_ENTRIES.max(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DkimResult, PolicyOverrideReason, SpfResult};

    fn full_record(n: usize) -> Record {
        Record {
            source_ip: format!("192.0.2.{n}"),
            count: n as i64 * 7,
            disposition: Some("none".into()),
            dkim: Some("pass".into()),
            spf: None,
            reasons: vec![PolicyOverrideReason {
                kind: Some("forwarded".into()),
                comment: Some(format!("relayed {n} times, ünïcode")),
            }],
            header_from: Some("example.com".into()),
            envelope_from: Some(String::new()),
            envelope_to: None,
            dkim_results: (0..n % 3)
                .map(|i| DkimResult {
                    domain: Some(format!("d{i}.example")),
                    selector: (i % 2 == 0).then(|| format!("s{i}")),
                    result: Some("pass".into()),
                    human_result: None,
                })
                .collect(),
            spf_results: vec![SpfResult {
                domain: Some("bounce.example".into()),
                scope: Some("mfrom".into()),
                result: Some("softfail".into()),
                human_result: Some("日本語".into()),
            }],
        }
    }

    #[test]
    fn records_come_back_as_they_went_in() {
        let records: Vec<Record> = (0..10)
            .map(full_record)
            .chain([Record::default()])
            .collect();
        let mut batch = PackedBatch::default();
        for record in &records {
            batch.push(record);
        }
        assert_eq!(batch.len(), records.len());
        let mut unpacker = batch.unpack();
        // One record reused for all, as the store does: nothing of an
        // earlier record may be left in a later one.
        let mut record = full_record(2);
        let mut back = Vec::new();
        while unpacker.next_into(&mut record) {
            back.push(record.clone());
        }
        assert_eq!(back, records);
    }

    #[test]
    fn a_cleared_batch_lets_go_of_a_long_records_text() {
        let mut batch = PackedBatch::default();
        let long = Record {
            reasons: vec![PolicyOverrideReason {
                kind: Some("other".into()),
                comment: Some("x".repeat(KEPT_TEXT_BYTES + 1)),
            }],
            ..full_record(1)
        };
        batch.push(&long);
        let many = Record {
            dkim_results: vec![DkimResult::default(); KEPT_LENGTHS],
            ..full_record(1)
        };
        batch.push(&many);
        batch.clear();
        assert!(batch.text.capacity() <= KEPT_TEXT_BYTES);
        assert!(batch.lengths.capacity() <= KEPT_LENGTHS);
        batch.push(&full_record(1));
        let kept = batch.text.capacity();
        batch.clear();
        assert_eq!(
            batch.text.capacity(),
            kept,
            "a short batch keeps its buffer"
        );
    }

    #[test]
    fn truncating_gives_back_the_room_of_what_it_drops() {
        let mut batch = PackedBatch::default();
        batch.push(&full_record(1));
        let mark = batch.mark();
        let long = Record {
            reasons: vec![PolicyOverrideReason {
                kind: None,
                comment: Some("c".repeat(4 * KEPT_TEXT_BYTES)),
            }],
            dkim_results: vec![DkimResult::default(); KEPT_LENGTHS],
            ..full_record(2)
        };
        batch.push(&long);
        batch.truncate(mark);
        assert!(batch.text.capacity() <= KEPT_TEXT_BYTES);
        assert!(batch.lengths.capacity() <= KEPT_LENGTHS);
        let mut record = Record::default();
        assert!(batch.unpack().next_into(&mut record));
        assert_eq!(record, full_record(1));
    }

    #[test]
    fn truncating_to_a_mark_drops_only_what_came_after() {
        let mut batch = PackedBatch::default();
        batch.push(&full_record(1));
        let mark = batch.mark();
        batch.push(&full_record(2));
        batch.truncate(mark);
        batch.push(&full_record(3));
        let mut unpacker = batch.unpack();
        let mut record = Record::default();
        let mut back = Vec::new();
        while unpacker.next_into(&mut record) {
            back.push(record.clone());
        }
        assert_eq!(back, vec![full_record(1), full_record(3)]);
    }

    #[test]
    fn a_cleared_batch_is_empty_and_reusable() {
        let mut batch = PackedBatch::default();
        batch.push(&full_record(4));
        assert!(batch.bytes() > 0);
        batch.clear();
        assert_eq!((batch.len(), batch.bytes()), (0, 0));
        assert!(!batch.unpack().next_into(&mut Record::default()));
        batch.push(&full_record(5));
        let mut record = Record::default();
        assert!(batch.unpack().next_into(&mut record));
        assert_eq!(record, full_record(5));
    }

    #[test]
    fn bytes_count_the_lengths_of_results_without_text() {
        let empty = Record {
            dkim_results: vec![DkimResult::default(); 1000],
            ..Record::default()
        };
        let mut batch = PackedBatch::default();
        batch.push(&empty);
        // Four absent values per result, each a length of 8 bytes.
        assert!(batch.bytes() >= 4000 * 8, "{}", batch.bytes());
    }

    #[test]
    fn the_reused_record_lets_go_of_long_values_and_long_lists() {
        let long = Record {
            dkim_results: vec![
                DkimResult {
                    human_result: Some("h".repeat(10_000)),
                    ..DkimResult::default()
                };
                500
            ],
            ..full_record(1)
        };
        let mut short = full_record(2);
        for dkim in &mut short.dkim_results {
            dkim.human_result = Some("short".into());
        }
        let mut batch = PackedBatch::default();
        batch.push(&long);
        batch.push(&short);
        let mut unpacker = batch.unpack();
        let mut record = Record::default();
        assert!(unpacker.next_into(&mut record));
        assert_eq!(record, long);
        assert!(unpacker.next_into(&mut record));
        assert_eq!(record, short);
        assert_eq!(record.dkim_results.len(), 2);
        assert!(record.dkim_results.capacity() <= KEPT_ENTRIES);
        let kept = |value: &Option<String>| value.as_ref().map_or(0, String::capacity);
        for dkim in &record.dkim_results {
            assert!(kept(&dkim.human_result) <= KEPT_VALUE_BYTES);
        }
    }
}
