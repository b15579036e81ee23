//! Import throughput and peak memory, next to the cost of each stage alone.
//!
//! Run: `cargo bench --bench ingest` (all sizes: 1,000, 100,000 and
//! 1,000,000 records) or `cargo bench --bench ingest -- 1000 100000`.
//!
//! For each size it writes a gzip report like the big reporters send, then
//! times, each on its own: gunzip; a bare quick-xml scan of the XML (no
//! processing); SQLite inserts of the same records through the store; and the
//! whole import (`ingest_file`, as `dmarc-sink import` does), which runs in a
//! child process so that its peak resident memory is its own.
//!
//! A second table holds the import against its floor: gunzip and a bare
//! scan of the same file streamed in one pass, with the quick-xml version
//! the project uses. The two are measured in turn, three rounds of each,
//! so that a machine whose speed drifts moves both alike; it prints each
//! one's median and spread, the ratio per round, and the import's CPU time
//! (user + system, all its threads).
//!
//! `cargo bench --bench ingest -- contention 1000000` measures what bounds
//! the import: gunzip plus a bare scan, timed alone and then while the
//! other core is kept busy, by a second scan or by SQLite inserts (two
//! cores that shared their hardware would slow each other there), and
//! dmarc-sink's own parser alone, gunzipping the report and discarding
//! its records: the half of the import that one core must do in
//! sequence, since one XML document is read from start to end.
//!
//! `cargo bench --bench ingest -- write-reports DIR 1000 100000` only writes
//! the reports, as `DIR/report-1000.xml.gz` and so on, and exits: the
//! comparison with parsedmarc (benches/compare_parsedmarc.sh) feeds both
//! tools these files.

use dmarc_sink::ingest::{PayloadOutcome, ingest_file};
use dmarc_sink::limits::Limits;
use dmarc_sink::parse::AggregateSink;
use dmarc_sink::report::{DkimResult, Feedback, Record, SpfResult};
use dmarc_sink::store::{MessageMeta, Source, Store};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const DEFAULT_SIZES: [u64; 3] = [1_000, 100_000, 1_000_000];

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("child-import") {
        let runs = args[3].parse().expect("a run count");
        child_import(Path::new(&args[1]), Path::new(&args[2]), runs);
        return;
    }
    if args.first().map(String::as_str) == Some("write-reports") {
        let dir = Path::new(args.get(1).expect("a directory to write into"));
        std::fs::create_dir_all(dir).expect("create the report directory");
        for records in parse_sizes(&args[2..]) {
            write_report(&dir.join(report_name(records)), records).expect("write report");
        }
        return;
    }
    if args.first().map(String::as_str) == Some("contention") {
        for records in parse_sizes(&args[1..]) {
            contention(records);
        }
        return;
    }
    let sizes = parse_sizes(&args);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut floors = Vec::new();
    println!(
        "| records | XML | gzip | gunzip | quick-xml scan | SQLite inserts | import end to end | records/s | e2e ÷ slowest stage | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for records in sizes {
        let gz = dir.path().join(report_name(records));
        let xml_bytes = write_report(&gz, records).expect("write report");
        let gz_bytes = std::fs::metadata(&gz).unwrap().len();

        // Small reports take milliseconds: time several runs, keep the median.
        let runs = (1_000_000 / records).clamp(1, 15) as usize;
        let xml_path = decompress(&gz, dir.path());
        let gunzip = median(runs, || time_gunzip(&gz));
        let scan = median(runs, || time_scan(&xml_path));
        std::fs::remove_file(&xml_path).unwrap();
        let inserts = median(runs, || {
            let db = dir.path().join("inserts.sqlite");
            let elapsed = time_inserts(&db, records);
            remove_store(&db);
            elapsed
        });
        let db = dir.path().join("import.sqlite");
        let first = import_in_child(&gz, &db, runs, records);
        let (e2e, peak_kib) = (first.elapsed, first.peak_kib);

        let slowest = gunzip.max(scan).max(inserts);
        println!(
            "| {records} | {} | {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.1} MiB |",
            mib(xml_bytes),
            mib(gz_bytes),
            secs(gunzip),
            secs(scan),
            secs(inserts),
            secs(e2e),
            records as f64 / e2e.as_secs_f64(),
            e2e.as_secs_f64() / slowest.as_secs_f64(),
            peak_kib as f64 / 1024.0,
        );
        floors.push(against_floor(&gz, &db, runs, records));
        std::fs::remove_file(&gz).ok();
    }
    println!();
    println!(
        "| records | gunzip + scan, streamed | import | import ÷ (gunzip + scan) | import CPU |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for floor in floors {
        println!("{floor}");
    }
}

/// Rounds of the import against gunzip + scan.
const ROUNDS: usize = 3;

/// What one import child measured.
struct ChildImport {
    /// Median wall time of its timed imports.
    elapsed: Duration,
    /// Its CPU time (user + system, every thread) per import.
    cpu: Duration,
    peak_kib: u64,
}

/// Runs [`child_import`] in a process of its own and reads what it printed.
fn import_in_child(gz: &Path, db: &Path, runs: usize, records: u64) -> ChildImport {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "child-import",
            gz.to_str().unwrap(),
            db.to_str().unwrap(),
            &runs.to_string(),
        ])
        .output()
        .expect("run the import child");
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8(output.stdout).unwrap();
    let fields: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect();
    assert_eq!(fields[2], records, "every record stored");
    ChildImport {
        elapsed: Duration::from_micros(fields[0]),
        cpu: Duration::from_micros(fields[3]),
        peak_kib: fields[1],
    }
}

/// One size's import against gunzip + scan streamed, measured in turn.
struct Floor {
    records: u64,
    floor: Vec<Duration>,
    import: Vec<Duration>,
    cpu: Vec<Duration>,
}

fn against_floor(gz: &Path, db: &Path, runs: usize, records: u64) -> Floor {
    let mut floor = Floor {
        records,
        floor: Vec::new(),
        import: Vec::new(),
        cpu: Vec::new(),
    };
    for _ in 0..ROUNDS {
        floor.floor.push(median(runs, || time_gunzip_scan(gz)));
        let child = import_in_child(gz, db, runs, records);
        floor.import.push(child.elapsed);
        floor.cpu.push(child.cpu);
    }
    floor
}

impl std::fmt::Display for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ratios: Vec<f64> = self
            .import
            .iter()
            .zip(&self.floor)
            .map(|(import, floor)| import.as_secs_f64() / floor.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        write!(
            f,
            "| {} | {} | {} | {:.2} ({:.2}–{:.2}) | {} |",
            self.records,
            spread(&self.floor),
            spread(&self.import),
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1],
            spread(&self.cpu),
        )
    }
}

/// Record counts from the command line; all the default sizes if none.
fn parse_sizes(args: &[String]) -> Vec<u64> {
    if args.is_empty() {
        return DEFAULT_SIZES.to_vec();
    }
    args.iter()
        .map(|a| a.parse().expect("sizes are record counts"))
        .collect()
}

fn report_name(records: u64) -> String {
    format!("report-{records}.xml.gz")
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The median of `times` and their range, as the tables print them.
fn spread(times: &[Duration]) -> String {
    let mut sorted = times.to_vec();
    sorted.sort();
    format!(
        "{} ({:.3}–{:.3})",
        secs(sorted[sorted.len() / 2]),
        sorted[0].as_secs_f64(),
        sorted[sorted.len() - 1].as_secs_f64()
    )
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// The child: a warm-up import, then `runs` imports, each into a fresh
/// store; prints the median elapsed µs, the peak RSS in KiB and the records
/// stored by one import. One process for all runs keeps it warm, as a
/// running daemon is: code paged in, allocator and threads ready.
fn child_import(gz: &Path, db: &Path, runs: usize) {
    let import = || {
        let mut store = Store::open(db).expect("open store");
        let started = Instant::now();
        let outcome = ingest_file(&mut store, gz, &Limits::default()).expect("import");
        let elapsed = started.elapsed();
        drop(store);
        remove_store(db);
        let records: u64 = outcome
            .payloads
            .iter()
            .map(|p| match &p.outcome {
                PayloadOutcome::Stored { report, .. } => report.records,
                other => panic!("not stored: {other:?}"),
            })
            .sum();
        (elapsed, records)
    };
    let (_, records) = import();
    let cpu_before = cpu_time();
    let elapsed = median(runs, || import().0);
    let cpu = (cpu_time() - cpu_before) / runs as u32;
    println!(
        "{} {} {records} {}",
        elapsed.as_micros(),
        peak_rss_kib(),
        cpu.as_micros()
    );
}

/// CPU time of this process so far, every thread, user and system: fields
/// 14 and 15 of `/proc/self/stat`, in clock ticks of 1/100 s (Linux's
/// USER_HZ on every architecture it runs this on).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name, field 2, is in parentheses and may hold spaces.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// VmHWM: the peak resident set of this process.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Writes a report shaped like a big reporter's, gzip-compressed; returns
/// the size of the XML.
fn write_report(path: &Path, records: u64) -> io::Result<u64> {
    let file = BufWriter::new(File::create(path)?);
    let mut out = CountingWriter {
        inner: GzEncoder::new(file, Compression::default()),
        written: 0,
    };
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<feedback>\n  <report_metadata>\n    \
         <org_name>google.com</org_name>\n    <email>noreply-dmarc-support@google.com</email>\n    \
         <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>\n    \
         <report_id>bench-{records}</report_id>\n    <date_range>\n      <begin>1700006400</begin>\n      \
         <end>1700092799</end>\n    </date_range>\n  </report_metadata>\n  <policy_published>\n    \
         <domain>example.com</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>none</p>\n    \
         <sp>none</sp>\n    <pct>100</pct>\n  </policy_published>\n"
    )?;
    // Varied values (sources, counts, domains, selectors), so the file
    // compresses like a real one rather than like a template.
    let mut values = Values::new(records);
    for _ in 0..records {
        let v = values.next();
        let (dkim, spf, envelope) = (v.dkim, v.spf, &v.envelope);
        write!(
            out,
            "  <record>\n    <row>\n      <source_ip>{}</source_ip>\n      <count>{}</count>\n      \
             <policy_evaluated>\n        <disposition>none</disposition>\n        <dkim>{dkim}</dkim>\n        \
             <spf>{spf}</spf>\n      </policy_evaluated>\n    </row>\n    <identifiers>\n      \
             <header_from>example.com</header_from>\n      <envelope_from>{envelope}</envelope_from>\n    \
             </identifiers>\n    <auth_results>\n      <dkim>\n        <domain>{}</domain>\n        \
             <selector>{}</selector>\n        <result>{dkim}</result>\n      </dkim>\n{}      <spf>\n        \
             <domain>{envelope}</domain>\n        <scope>mfrom</scope>\n        <result>{spf}</result>\n      \
             </spf>\n    </auth_results>\n  </record>\n",
            v.source_ip,
            v.count,
            v.dkim_domain,
            v.selector,
            v.esp_signature.as_ref().map_or(String::new(), |esp| format!(
                "      <dkim>\n        <domain>{esp}</domain>\n        <selector>esp</selector>\n        \
                 <result>pass</result>\n      </dkim>\n"
            )),
        )?;
    }
    writeln!(out, "</feedback>")?;
    let written = out.written;
    out.inner.finish()?.flush()?;
    Ok(written)
}

/// The values of one generated record.
struct RecordValues {
    source_ip: String,
    count: u64,
    dkim: &'static str,
    spf: &'static str,
    envelope: String,
    dkim_domain: String,
    selector: String,
    /// A second signature, by the sending service's own domain, as half
    /// the records of a big reporter's report carry (mail through an ESP).
    esp_signature: Option<String>,
}

/// A deterministic stream of record values: the same report every run, and
/// the same records for the insert stage as for the import.
struct Values(u64);

impl Values {
    fn new(seed: u64) -> Values {
        Values(0x9e37_79b9_7f4a_7c15 ^ seed)
    }

    fn random(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn next(&mut self) -> RecordValues {
        let [a, b, c, d] = (self.random() as u32 | 0x0100_0000).to_be_bytes();
        let verdict = self.random();
        let sender = self.random() % 5000;
        RecordValues {
            source_ip: format!("{a}.{b}.{c}.{d}"),
            count: 1 + self.random() % 200,
            dkim: if verdict & 1 == 0 { "pass" } else { "fail" },
            spf: if verdict & 2 == 0 { "pass" } else { "fail" },
            envelope: format!("bounce{}.sender{sender}.example", sender % 17),
            dkim_domain: format!("sender{sender}.example"),
            selector: format!("s{}", self.random() % 100_000),
            esp_signature: (verdict & 4 == 0).then(|| format!("mail{}.esp.example", sender % 7)),
        }
    }
}

struct CountingWriter<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn median(runs: usize, mut run: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| run()).collect();
    times.sort();
    times[times.len() / 2]
}

fn remove_store(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        std::fs::remove_file(path).ok();
    }
}

/// The XML, decompressed once to a file for the scan stage.
fn decompress(gz: &Path, dir: &Path) -> std::path::PathBuf {
    let xml = dir.join("scan.xml");
    let mut input = MultiGzDecoder::new(BufReader::new(File::open(gz).unwrap()));
    io::copy(&mut input, &mut BufWriter::new(File::create(&xml).unwrap())).unwrap();
    xml
}

/// Stage 1 alone: decompress, discarding the output.
fn time_gunzip(gz: &Path) -> Duration {
    let started = Instant::now();
    let mut input = MultiGzDecoder::new(BufReader::new(File::open(gz).unwrap()));
    io::copy(&mut input, &mut io::sink()).unwrap();
    started.elapsed()
}

/// The floor of an import: decompress and read every quick-xml event, in
/// one pass over the compressed file, doing nothing with them.
fn time_gunzip_scan(gz: &Path) -> Duration {
    let started = Instant::now();
    let input = MultiGzDecoder::new(BufReader::new(File::open(gz).unwrap()));
    assert!(scan_events(BufReader::with_capacity(64 * 1024, input)) > 0);
    started.elapsed()
}

/// Reads every quick-xml event of `xml`, doing nothing with them; returns
/// how many there were.
fn scan_events(xml: impl io::BufRead) -> u64 {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut events = 0u64;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf).unwrap() {
            quick_xml::events::Event::Eof => return events,
            _ => events += 1,
        }
    }
}

/// Gunzip + scan of one report, alone and beside a busy second core: three
/// rounds of each, interleaved, so that a drift in the machine's speed
/// moves all three alike.
fn contention(records: u64) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().expect("temporary directory");
    let gz = dir.path().join(report_name(records));
    write_report(&gz, records).expect("write report");
    // Keeps the other core busy with `work` until the scan is timed.
    let beside = |work: &(dyn Fn() + Sync)| {
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    work();
                }
            });
            let elapsed = time_gunzip_scan(&gz);
            stop.store(true, Ordering::Relaxed);
            elapsed
        })
    };
    let db = dir.path().join("busy.sqlite");
    let (mut alone, mut scans, mut inserts, mut parses) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        alone.push(time_gunzip_scan(&gz));
        parses.push(time_parse(&gz, records));
        scans.push(beside(&|| {
            time_gunzip_scan(&gz);
        }));
        inserts.push(beside(&|| {
            time_inserts(&db, 100_000);
            remove_store(&db);
        }));
    }
    println!(
        "| records | gunzip + scan alone | beside a second scan | beside SQLite inserts | gunzip + dmarc-sink's parse, records discarded |"
    );
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {records} | {} | {} | {} | {} |",
        spread(&alone),
        spread(&scans),
        spread(&inserts),
        spread(&parses)
    );
}

/// dmarc-sink's parser over the gzip report, on this thread, into a sink
/// that keeps nothing: the parse half of an import without the store.
fn time_parse(gz: &Path, records: u64) -> Duration {
    /// Counts the records and drops them.
    struct Discard(u64);
    impl AggregateSink for Discard {
        type Error = std::convert::Infallible;
        fn begin(&mut self, _: &Feedback) -> Result<(), Self::Error> {
            Ok(())
        }
        fn record(&mut self, _: &mut Record) -> Result<(), Self::Error> {
            self.0 += 1;
            Ok(())
        }
    }
    let started = Instant::now();
    let input = BufReader::new(MultiGzDecoder::new(BufReader::new(File::open(gz).unwrap())));
    let mut sink = Discard(0);
    dmarc_sink::parse::parse_aggregate(input, &Limits::default(), &mut sink).expect("parse");
    let elapsed = started.elapsed();
    assert_eq!(sink.0, records, "every record parsed");
    elapsed
}

/// Stage 2 alone: read every quick-xml event of the decompressed XML.
fn time_scan(xml: &Path) -> Duration {
    // Warm the page cache, so the scan is not timing the disk.
    io::copy(&mut File::open(xml).unwrap(), &mut io::sink()).unwrap();
    let started = Instant::now();
    let xml = BufReader::with_capacity(64 * 1024, File::open(xml).unwrap());
    assert!(scan_events(xml) > 0);
    started.elapsed()
}

/// Stage 3 alone: the same records, already parsed, inserted through the store.
fn time_inserts(db: &Path, records: u64) -> Duration {
    let mut store = Store::open(db).unwrap();
    let mut feedback = Feedback::default();
    feedback.metadata.org_name = "google.com".into();
    feedback.metadata.report_id = format!("inserts-{records}");
    feedback.policy.domain = "example.com".into();
    let meta = MessageMeta {
        received_at: 0,
        source: Source::Import,
        origin: None,
        remote_addr: None,
        helo: None,
        mail_from: None,
        rcpt_to: Vec::new(),
        message_id: None,
        subject: None,
        from_header: None,
        size: 0,
        trust: dmarc_sink::auth::Trust::Unchecked,
        auth_results: None,
    };
    // Build every record before the clock starts: this stage is the inserts alone.
    let mut values = Values::new(records);
    let mut prepared: Vec<Record> = (0..records)
        .map(|_| {
            let v = values.next();
            Record {
                source_ip: v.source_ip,
                count: v.count as i64,
                disposition: Some("none".into()),
                dkim: Some(v.dkim.into()),
                spf: Some(v.spf.into()),
                header_from: Some("example.com".into()),
                envelope_from: Some(v.envelope.clone()),
                dkim_results: std::iter::once(DkimResult {
                    domain: Some(v.dkim_domain),
                    selector: Some(v.selector),
                    result: Some(v.dkim.into()),
                    human_result: None,
                })
                .chain(v.esp_signature.map(|esp| DkimResult {
                    domain: Some(esp),
                    selector: Some("esp".into()),
                    result: Some("pass".into()),
                    human_result: None,
                }))
                .collect(),
                spf_results: vec![SpfResult {
                    domain: Some(v.envelope),
                    scope: Some("mfrom".into()),
                    result: Some(v.spf.into()),
                    human_result: None,
                }],
                ..Record::default()
            }
        })
        .collect();
    let started = Instant::now();
    let batch = store.begin_batch().unwrap();
    let tx = batch.begin_message(&meta).unwrap();
    let mut writer = tx.report("").unwrap();
    writer.begin(&feedback).unwrap();
    for record in &mut prepared {
        writer.record(record).unwrap();
    }
    writer.keep().unwrap();
    tx.commit("stored").unwrap();
    batch.commit().unwrap();
    started.elapsed()
}
