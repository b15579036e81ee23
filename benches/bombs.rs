//! Hostile input against a real `dmarc-sink serve`, at the default limits.
//!
//! Run: `cargo bench --bench bombs` (every bomb), or name some by a word of
//! their name: `cargo bench --bench bombs -- gzip nested`.
//!
//! The bombs are the tests' (tests/util/bombs.rs), built for the default
//! limits. Each gets a fresh server over a fresh store; the mail goes over
//! SMTP, timed from the final `.` to the reply; then a normal report is
//! delivered on a new connection. Printed per bomb: the hostile payload's
//! size as sent, the reply, the quarantine row that names the refusal (or,
//! for a legal report of a hostile shape, the records stored), the seconds
//! to the reply and the daemon's peak resident memory (VmHWM, from startup
//! through both deliveries).
//!
//! Exits with status 1 if any bomb took 5 s or more, the daemon's peak
//! memory reached 128 MiB, the bomb was not handled as expected (250 with
//! the payload quarantined under the limit's name and value and nothing
//! stored, or the report stored whole), or the report after it was not
//! answered 250 and stored.

use dmarc_sink::limits::Limits;
use std::time::{Duration, Instant};

#[path = "../tests/util/dot_stuff.rs"]
mod dot_stuff;
// The tests' helpers; the bench uses only part of each.
#[allow(dead_code)]
#[path = "../tests/util/bombs.rs"]
mod bombs;
#[allow(dead_code)]
#[path = "../tests/util/dns.rs"]
mod dns;
#[allow(dead_code)]
#[path = "../tests/util/mail.rs"]
mod mail;
#[allow(dead_code)]
#[path = "../tests/util/server.rs"]
mod server;

use bombs::{Bomb, Expect, PEAK_RSS_LIMIT_KIB};
use server::TestServer;

/// The time target: every bomb refused within it.
const TIME_LIMIT: Duration = Duration::from_secs(5);

type Builder = fn(&Limits) -> Bomb;

const BOMBS: &[Builder] = &[
    bombs::gzip_zeros,
    bombs::gzip_report_shaped,
    bombs::zip_high_ratio,
    bombs::zip_many_entries,
    bombs::zip_million_entries,
    bombs::zip_overlapping,
    bombs::zip_nested,
    bombs::zip_nested_in_memory,
    bombs::zip_holding_a_bomb,
    bombs::zip_of_zip_bombs,
    bombs::mime_nested_multiparts,
    bombs::mime_deep_multiparts,
    bombs::mime_nested_messages,
    bombs::mime_encoded_nested_messages,
    bombs::mime_many_parts,
    |_| bombs::entity_bomb(),
    bombs::xml_huge_text,
    bombs::xml_deep_nesting,
    bombs::xml_record_of_long_comments,
    bombs::xml_record_of_empty_reasons,
    bombs::xml_records_reusing_long_strings,
    bombs::xml_records_of_long_source_addresses,
    records_of_many_empty_results,
    bombs::json_huge_tls_report,
    bombs::json_empty_failure_details,
    bombs::json_deep_nesting,
];

fn main() {
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let limits = Limits::default();
    println!(
        "| bomb | payload | reply | refused as, or stored | seconds to the reply | daemon peak RSS |"
    );
    println!("|---|---:|---|---|---:|---:|");
    let mut failures = Vec::new();
    for build in BOMBS {
        let built = Instant::now();
        let bomb = build(&limits);
        if !words.is_empty() && !words.iter().any(|w| bomb.name.contains(w.as_str())) {
            continue;
        }
        let build_time = built.elapsed();
        let server = TestServer::start("");
        let delivery = bombs::deliver(&server, &bomb);
        let refusal = match &bomb.expect {
            Expect::Stored { .. } if delivery.quarantined.is_empty() => {
                format!("stored, {} records", delivery.records)
            }
            Expect::Refused { kind: wanted, .. } => delivery
                .quarantined
                .iter()
                .find(|(kind, _)| kind == wanted)
                .or(delivery.quarantined.first())
                .map(|(kind, error)| format!("`{kind}`: {error}"))
                .unwrap_or_else(|| "nothing quarantined".into()),
            Expect::Stored { .. } => {
                let (kind, error) = &delivery.quarantined[0];
                format!("`{kind}`: {error}")
            }
        };
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.1} MiB |",
            bomb.name,
            size(bomb.payload_bytes),
            delivery.code,
            refusal,
            delivery.elapsed.as_secs_f64(),
            delivery.peak_kib.unwrap_or(0) as f64 / 1024.0,
        );
        let mut problems = delivery.problems(&bomb);
        if delivery.elapsed >= TIME_LIMIT {
            problems.push(format!(
                "took {:.2} s, the target is under {} s",
                delivery.elapsed.as_secs_f64(),
                TIME_LIMIT.as_secs()
            ));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", bomb.name, problems.join("; ")));
            let log = server.log();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            eprintln!("{}: the server's last lines:", bomb.name);
            for line in tail.iter().rev() {
                eprintln!("  {}", &line[..line.len().min(300)]);
            }
        }
        eprintln!(
            "{}: built in {:.2} s, mail {}, {} quarantine row(s)",
            bomb.name,
            build_time.as_secs_f64(),
            size(bomb.mail.len()),
            delivery.quarantined.len()
        );
    }
    println!();
    println!(
        "Default limits; seconds from the final `.` to the reply; peak RSS is the daemon's VmHWM \
         (limit {} MiB), a normal report delivered after each bomb.",
        PEAK_RSS_LIMIT_KIB / 1024
    );
    if !failures.is_empty() {
        eprintln!("\nFAILED:");
        for failure in &failures {
            eprintln!("- {failure}");
        }
        std::process::exit(1);
    }
}

/// A hundred and fifty records of 32,000 empty DKIM results each, gzipped:
/// a legal report, each record just under `max_record_bytes`, that packs
/// into far more lengths than text. Handed over in batches bounded by
/// their text alone, a batch of 128 such records held 128 MiB, and sixteen
/// could be in flight at once; its 4.8 million rows make it too slow for the
/// debug build of the tests, where a unit test in `ingest/pipeline.rs`
/// holds the batches to their size instead.
fn records_of_many_empty_results(limits: &Limits) -> Bomb {
    let results = 32_000;
    let record: Vec<u8> = [
        bombs::RECORD_OPEN,
        b"</policy_evaluated></row><identifiers><header_from>example.com</header_from>\
</identifiers><auth_results>",
        &b"<dkim/>".repeat(results),
        b"</auth_results></record>",
    ]
    .concat();
    let records = 150;
    assert!(
        results * 128 < limits.max_record_bytes,
        "each record is legal"
    );
    bombs::gzipped_report(
        "XML: records of 32,000 empty DKIM results, gzipped",
        &bombs::deflate_runs(&[
            (bombs::REPORT_HEAD, 1),
            (&record, records),
            (bombs::REPORT_TAIL, 1),
        ]),
        limits,
        Expect::Stored {
            records: records as i64,
        },
    )
}

fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
