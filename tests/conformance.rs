//! Conformance over the shared corpus of real reports (`DMARC_CORPUS`).
//!
//! Every well-formed aggregate report must import with exactly the record
//! count and message total in `expected.tsv`; every malformed one must land in
//! quarantine with its error; nothing may panic.

use crate::util::{TempStore, corpus, files_below};
use dmarc_sink::ingest::{PayloadOutcome, ingest_file};
use dmarc_sink::limits::Limits;
use std::collections::BTreeMap;

struct Expected {
    well_formed: bool,
    records: String,
    messages: String,
}

fn expected_aggregates(tsv: &str) -> BTreeMap<(String, String), Expected> {
    let mut rows = BTreeMap::new();
    for line in tsv.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 10, "expected.tsv line has 10 columns: {line}");
        if fields[0].starts_with("aggregate/") {
            let member = if fields[1] == "-" { "" } else { fields[1] };
            rows.insert(
                (fields[0].to_owned(), member.to_owned()),
                Expected {
                    well_formed: fields[3] == "yes",
                    records: fields[7].to_owned(),
                    messages: fields[8].to_owned(),
                },
            );
        }
    }
    rows
}

#[test]
fn aggregate_corpus_imports_as_expected() {
    let Some(corpus) = corpus() else {
        eprintln!("DMARC_CORPUS not set: corpus conformance not run");
        return;
    };
    let tsv = std::fs::read_to_string(corpus.join("expected.tsv")).unwrap();
    let expected = expected_aggregates(&tsv);
    assert!(
        expected.len() > 1000,
        "expected.tsv lists {} aggregate reports",
        expected.len()
    );

    let mut temp = TempStore::new();
    let limits = Limits::default();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let (mut stored, mut duplicates, mut quarantined) = (0, 0, 0);
    for file in files_below(&corpus.join("aggregate")) {
        let relative = file
            .strip_prefix(&corpus)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let outcome = match ingest_file(&mut temp.store, &file, &limits) {
            Ok(outcome) => outcome,
            Err(error) => {
                problems.push(format!("{relative}: import failed: {error}"));
                continue;
            }
        };
        for payload in &outcome.payloads {
            let key = (relative.clone(), payload.member.clone());
            let Some(want) = expected.get(&key) else {
                problems.push(format!(
                    "{relative} [{}]: not in expected.tsv: {:?}",
                    payload.member, payload.outcome
                ));
                continue;
            };
            seen.insert(key.clone());
            match (&payload.outcome, want.well_formed) {
                (PayloadOutcome::Stored { id, report, .. }, true) => {
                    stored += 1;
                    let (rows, total): (i64, i64) = temp
                        .store
                        .connection()
                        .query_row(
                            "SELECT count(*), coalesce(sum(count), 0) FROM records WHERE report = ?1",
                            [id],
                            |row| Ok((row.get(0)?, row.get(1)?)),
                        )
                        .unwrap();
                    if report.records.to_string() != want.records
                        || report.messages.to_string() != want.messages
                        || rows.to_string() != want.records
                        || total.to_string() != want.messages
                    {
                        problems.push(format!(
                            "{relative} [{}]: parsed {} records / {} messages, stored {rows} / {total}, expected {} / {}",
                            payload.member, report.records, report.messages, want.records, want.messages
                        ));
                    }
                }
                (PayloadOutcome::Duplicate { report, .. }, true) => {
                    duplicates += 1;
                    if report.records.to_string() != want.records
                        || report.messages.to_string() != want.messages
                    {
                        problems.push(format!(
                            "{relative} [{}]: duplicate parsed {} / {}, expected {} / {}",
                            payload.member,
                            report.records,
                            report.messages,
                            want.records,
                            want.messages
                        ));
                    }
                }
                (PayloadOutcome::Quarantined { error, .. }, false) => {
                    quarantined += 1;
                    let kept: i64 = temp
                        .store
                        .connection()
                        .query_row(
                            "SELECT count(*) FROM quarantine WHERE message = ?1 AND member = ?2 AND error = ?3",
                            (outcome.message, &payload.member, error),
                            |row| row.get(0),
                        )
                        .unwrap();
                    if kept != 1 || error.is_empty() {
                        problems.push(format!(
                            "{relative} [{}]: quarantine row missing",
                            payload.member
                        ));
                    }
                }
                (other, well_formed) => problems.push(format!(
                    "{relative} [{}]: expected well_formed={well_formed}, got {other:?}",
                    payload.member
                )),
            }
        }
    }
    let missing: Vec<String> = expected
        .keys()
        .filter(|key| !seen.contains(*key))
        .map(|(path, member)| format!("{path} [{member}]: not found"))
        .collect();
    eprintln!(
        "corpus: {stored} stored, {duplicates} duplicates, {quarantined} quarantined, {} of {} expected seen",
        seen.len(),
        expected.len()
    );
    problems.extend(missing);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
