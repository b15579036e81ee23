//! Conformance over the shared corpus of real reports (`DMARC_CORPUS`).
//!
//! Every well-formed report must import with exactly the record count and
//! message total in `expected.tsv` (for TLS and failure reports also the
//! reporter, report id and policy domains); every malformed one must land in
//! quarantine with its error; nothing may panic. One test per kind of report,
//! each over its folder of the corpus.

use crate::util::{TempStore, corpus, files_below};
use dmarc_sink::ingest::{PayloadOutcome, ReportSummary, ingest_file};
use dmarc_sink::limits::Limits;
use dmarc_sink::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

struct Expected {
    well_formed: bool,
    org_name: String,
    report_id: String,
    policy_domain: String,
    records: String,
    messages: String,
}

/// The rows of `expected.tsv` for the files below `folder`, by (path, member).
fn expected_rows(tsv: &str, folder: &str) -> BTreeMap<(String, String), Expected> {
    let mut rows = BTreeMap::new();
    for line in tsv.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 10, "expected.tsv line has 10 columns: {line}");
        if fields[0].starts_with(&format!("{folder}/")) {
            let member = if fields[1] == "-" { "" } else { fields[1] };
            rows.insert(
                (fields[0].to_owned(), member.to_owned()),
                Expected {
                    well_formed: fields[3] == "yes",
                    org_name: fields[4].to_owned(),
                    report_id: fields[5].to_owned(),
                    policy_domain: fields[6].to_owned(),
                    records: fields[7].to_owned(),
                    messages: fields[8].to_owned(),
                },
            );
        }
    }
    rows
}

/// How one kind of report is checked.
struct Kind {
    /// Its folder in the corpus.
    folder: &'static str,
    /// Fewer rows than this in `expected.tsv` means the corpus is not the one
    /// the test was written for.
    at_least: usize,
    /// Whether the reporter, report id and policy domain are compared too.
    identity: bool,
    /// Records and messages of stored report `id`, read back from the store.
    stored: fn(&Store, i64) -> (i64, i64),
}

fn check_corpus(kind: &Kind) {
    let Some(corpus) = corpus() else {
        eprintln!("DMARC_CORPUS not set: corpus conformance not run");
        return;
    };
    let tsv = std::fs::read_to_string(corpus.join("expected.tsv")).unwrap();
    let expected = expected_rows(&tsv, kind.folder);
    assert!(
        expected.len() >= kind.at_least,
        "expected.tsv lists {} {} reports",
        expected.len(),
        kind.folder
    );

    let mut temp = TempStore::new();
    let limits = Limits::default();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let (mut stored, mut duplicates, mut quarantined) = (0, 0, 0);
    let mut no_report = BTreeSet::new();
    for file in files_below(&corpus.join(kind.folder)) {
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
        if outcome.payloads.is_empty() {
            no_report.insert(relative.clone());
        }
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
            let at = format!("{relative} [{}]", payload.member);
            match (&payload.outcome, want.well_formed) {
                (PayloadOutcome::Stored { id, report, .. }, true) => {
                    stored += 1;
                    compare(kind, &at, report, want, &mut problems);
                    let (records, messages) = (kind.stored)(&temp.store, *id);
                    if records.to_string() != want.records || messages.to_string() != want.messages
                    {
                        problems.push(format!(
                            "{at}: stored {records} / {messages}, expected {} / {}",
                            want.records, want.messages
                        ));
                    }
                }
                (PayloadOutcome::Duplicate { report, .. }, true) => {
                    duplicates += 1;
                    compare(kind, &at, report, want, &mut problems);
                }
                (PayloadOutcome::Quarantined { error, .. }, false) => {
                    quarantined += 1;
                    if !quarantine_row(&temp.store, outcome.message, &payload.member, error) {
                        problems.push(format!("{at}: quarantine row missing"));
                    }
                }
                (other, well_formed) => problems.push(format!(
                    "{at}: expected well_formed={well_formed}, got {other:?}"
                )),
            }
        }
    }
    // A malformed report that holds nothing like a report (a failure
    // report in words, with no feedback part) is a message like any other.
    let missing: Vec<String> = expected
        .iter()
        .filter(|(key, want)| {
            !seen.contains(*key) && (want.well_formed || !no_report.contains(&key.0))
        })
        .map(|((path, member), _)| format!("{path} [{member}]: not found"))
        .collect();
    eprintln!(
        "corpus {}: {stored} stored, {duplicates} duplicates, {quarantined} quarantined, \
         {} not a report, {} of {} expected seen",
        kind.folder,
        no_report.len(),
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

/// Compares what was parsed with the line of `expected.tsv`.
fn compare(
    kind: &Kind,
    at: &str,
    report: &ReportSummary,
    want: &Expected,
    problems: &mut Vec<String>,
) {
    let or_dash = |value: &str| {
        if value.is_empty() {
            "-".to_owned()
        } else {
            value.to_owned()
        }
    };
    let mut got = vec![report.records.to_string(), report.messages.to_string()];
    let mut expected = vec![want.records.clone(), want.messages.clone()];
    if kind.identity {
        got.extend([
            or_dash(&report.org_name),
            or_dash(&report.report_id),
            or_dash(&report.policy_domain),
        ]);
        expected.extend([
            want.org_name.clone(),
            want.report_id.clone(),
            want.policy_domain.clone(),
        ]);
    }
    if got != expected {
        problems.push(format!("{at}: parsed {got:?}, expected {expected:?}"));
    }
}

fn quarantine_row(store: &Store, message: i64, member: &str, error: &str) -> bool {
    let kept: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM quarantine WHERE message = ?1 AND member = ?2 AND error = ?3",
            (message, member, error),
            |row| row.get(0),
        )
        .unwrap();
    kept == 1 && !error.is_empty()
}

fn read_pair(store: &Store, sql: &str, id: i64) -> (i64, i64) {
    store
        .connection()
        .query_row(sql, [id], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
}

#[test]
fn aggregate_corpus_imports_as_expected() {
    check_corpus(&Kind {
        folder: "aggregate",
        at_least: 1000,
        identity: false,
        stored: |store, id| {
            read_pair(
                store,
                "SELECT count(*), coalesce(sum(count), 0) FROM records WHERE report = ?1",
                id,
            )
        },
    });
}

#[test]
fn tls_report_corpus_imports_as_expected() {
    check_corpus(&Kind {
        folder: "tlsrpt",
        at_least: 20,
        identity: true,
        stored: |store, id| {
            read_pair(
                store,
                "SELECT count(*), coalesce(sum(successful_sessions + failed_sessions), 0)
                 FROM tls_policies WHERE report = ?1",
                id,
            )
        },
    });
}

#[test]
fn failure_report_corpus_imports_as_expected() {
    check_corpus(&Kind {
        folder: "failure",
        at_least: 8,
        identity: true,
        stored: |store, id| {
            read_pair(
                store,
                "SELECT count(*), sum(incidents) FROM failure_reports WHERE id = ?1",
                id,
            )
        },
    });
}

/// The corpus's TLS reports, imported, are all in the TLS tables with their
/// failure details; an imported failure report keeps its original headers.
#[test]
fn corpus_reports_fill_the_documented_tables() {
    let Some(corpus) = corpus() else {
        return;
    };
    let mut temp = TempStore::new();
    let limits = Limits::default();
    let rfc = corpus.join("tlsrpt/domainaware__parsedmarc/rfc8460.json");
    ingest_file(&mut temp.store, Path::new(&rfc), &limits).unwrap();
    let failures: Vec<[String; 5]> = temp
        .store
        .connection()
        .prepare(
            "SELECT result_type, coalesce(receiving_mx_hostname, '-'), coalesce(receiving_ip, '-'),
                    failed_sessions, coalesce(failure_reason_code, '-')
             FROM tls_failures ORDER BY failed_sessions",
        )
        .unwrap()
        .query_map([], |r| {
            let failed: i64 = r.get(3)?;
            Ok([
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                failed.to_string(),
                r.get(4)?,
            ])
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        failures,
        [
            [
                "validation-failure",
                "mx-backup.mail.company-y.example",
                "203.0.113.58",
                "3",
                "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"
            ],
            [
                "certificate-expired",
                "mx1.mail.company-y.example",
                "-",
                "100",
                "-"
            ],
            [
                "starttls-not-supported",
                "mx2.mail.company-y.example",
                "203.0.113.56",
                "200",
                "-"
            ],
        ]
        .map(|row| row.map(str::to_owned))
    );

    let linkedin = corpus.join("failure/domainaware__parsedmarc/dmarc_ruf_report_linkedin.eml");
    ingest_file(&mut temp.store, &linkedin, &limits).unwrap();
    let (feedback_type, headers, body): (String, String, Option<Vec<u8>>) = temp
        .store
        .connection()
        .query_row(
            "SELECT feedback_type, original_headers, original_body FROM failure_reports",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(feedback_type, "auth-failure");
    assert!(headers.contains("Subject:"), "{headers}");
    assert_eq!(body, None, "bodies are kept only when configured");
}
