//! Spare `String`s for the values the parser stores, so that a report's
//! records reuse the same allocations instead of making and freeing a
//! handful per record.
//!
//! A large report holds millions of small values (verdicts, domains,
//! selectors). Allocating each and freeing it once stored was a good part
//! of the parse, and worse when the store frees on another thread than the
//! parser allocated on (the allocator's arena lock is then contended). The
//! parser takes a record's strings back here when it starts the next record
//! ([`StringPool::reclaim`]), whether the sink left them or handed back a
//! record it stored earlier, and fills values from here.

use crate::report::Record;

/// Spare strings kept: a record holds a dozen or two values.
const SPARE_MAX: usize = 256;

/// Capacity a spare string may have: enough for any domain or verdict.
/// A longer one is let go. Kept, strings that once held long values
/// (comments, human results) would pile up, since each is handed to the
/// next value whatever its length: a report whose k-th record gave k − 1
/// short values then one long one would have the pool keep k long
/// strings, each record well under `max_record_bytes`.
const SPARE_CAPACITY_MAX: usize = 128;

/// Reasons and results a list of the parser's record keeps room for once
/// a record with more has been parsed.
const KEPT_ENTRIES: usize = 64;

/// What kind of value is stored, which says how it is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value {
    /// pass, fail, none, ...: lower-cased, since reporters send `Pass` and
    /// `PASS` too.
    Keyword,
    /// Lower-cased: DNS is case-blind.
    Domain,
    /// Free text, as it is.
    Text,
}

#[derive(Debug, Default)]
pub(super) struct StringPool {
    spare: Vec<String>,
}

impl StringPool {
    /// Sets an optional value: empty means absent. Keywords and domains
    /// have their ASCII letters lowered. Reuses the slot's own string, else
    /// a spare one.
    pub(super) fn fill(&mut self, slot: &mut Option<String>, value: &str, kind: Value) {
        if value.is_empty() {
            self.take(slot);
            return;
        }
        let target = slot.get_or_insert_with(|| self.spare.pop().unwrap_or_default());
        target.clear();
        target.push_str(value);
        if kind != Value::Text {
            target.make_ascii_lowercase();
        }
    }

    /// Empties `record` for the next row: its strings become spares, its
    /// vectors keep their capacity.
    pub(super) fn reclaim(&mut self, record: &mut Record) {
        if record.source_ip.capacity() > SPARE_CAPACITY_MAX {
            record.source_ip = String::new();
        }
        record.source_ip.clear();
        record.count = 0;
        self.take(&mut record.disposition);
        self.take(&mut record.dkim);
        self.take(&mut record.spf);
        self.take(&mut record.header_from);
        self.take(&mut record.envelope_from);
        self.take(&mut record.envelope_to);
        for reason in &mut record.reasons {
            self.take(&mut reason.kind);
            self.take(&mut reason.comment);
        }
        clear(&mut record.reasons);
        for dkim in &mut record.dkim_results {
            self.take(&mut dkim.domain);
            self.take(&mut dkim.selector);
            self.take(&mut dkim.result);
            self.take(&mut dkim.human_result);
        }
        clear(&mut record.dkim_results);
        for spf in &mut record.spf_results {
            self.take(&mut spf.domain);
            self.take(&mut spf.scope);
            self.take(&mut spf.result);
            self.take(&mut spf.human_result);
        }
        clear(&mut record.spf_results);
    }

    /// Empties `slot`, keeping its string as a spare if it is short and
    /// the pool not full.
    fn take(&mut self, slot: &mut Option<String>) {
        if let Some(old) = slot.take()
            && old.capacity() <= SPARE_CAPACITY_MAX
            && self.spare.len() < SPARE_MAX
        {
            self.spare.push(old);
        }
    }
}

/// Empties a list of the record, giving back the room past
/// [`KEPT_ENTRIES`].
fn clear<T>(list: &mut Vec<T>) {
    list.clear();
    list.shrink_to(KEPT_ENTRIES);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::DkimResult;

    #[test]
    fn fill_lowercases_and_treats_empty_as_absent() {
        let mut pool = StringPool::default();
        let mut slot = None;
        pool.fill(&mut slot, "PaSS", Value::Keyword);
        assert_eq!(slot.as_deref(), Some("pass"));
        pool.fill(&mut slot, "Mixed Case", Value::Text);
        assert_eq!(slot.as_deref(), Some("Mixed Case"));
        pool.fill(&mut slot, "", Value::Domain);
        assert_eq!(slot, None);
        assert_eq!(pool.spare.len(), 1);
    }

    #[test]
    fn reclaimed_strings_are_reused() {
        let mut pool = StringPool::default();
        let mut record = Record {
            source_ip: "192.0.2.1".into(),
            count: 3,
            dkim: Some("pass".into()),
            dkim_results: vec![DkimResult {
                domain: Some("example.com".into()),
                selector: Some("s1".into()),
                ..DkimResult::default()
            }],
            ..Record::default()
        };
        pool.reclaim(&mut record);
        assert_eq!(record, Record::default());
        assert!(record.dkim_results.capacity() > 0);
        assert_eq!(pool.spare.len(), 3);
        let mut slot = None;
        pool.fill(&mut slot, "fail", Value::Keyword);
        assert_eq!(slot.as_deref(), Some("fail"));
        assert_eq!(pool.spare.len(), 2);
    }

    #[test]
    fn the_pool_keeps_only_a_few_short_strings() {
        let mut pool = StringPool::default();
        let mut record = Record {
            dkim_results: (0..1000)
                .map(|i| DkimResult {
                    domain: Some(format!("d{i}.example")),
                    human_result: Some("h".repeat(10_000)),
                    ..DkimResult::default()
                })
                .collect(),
            ..Record::default()
        };
        pool.reclaim(&mut record);
        assert_eq!(pool.spare.len(), SPARE_MAX, "short strings, up to the cap");
        assert!(
            pool.spare
                .iter()
                .all(|s| s.capacity() <= SPARE_CAPACITY_MAX)
        );
        assert!(record.dkim_results.capacity() <= KEPT_ENTRIES);
    }
}
