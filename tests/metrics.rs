//! `metrics.listen`: the real daemon scraped over HTTP while reports come in
//! over SMTP, each scrape parsed as Prometheus would parse it, and the
//! counters checked against what was delivered.

use crate::util::mail::{Part, gzip, report_mail, report_xml};
use crate::util::server::{SmtpClient, TestServer};
use crate::util::tls_failure::{TlsFailure, TlsPolicy, TlsReport};
use crate::util::{dmarc_sink, text};
use prometheus_parse::{Sample, Scrape, Value};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The metrics section every test here starts the server with: a port the
/// kernel picks (the log says which), and one listed policy domain.
const METRICS: &str = "[metrics]\nlisten = \"127.0.0.1:0\"\ndomains = [\"example.com\"]\n";

/// How long a condition polled here may take to become true.
const POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// Who reports, in the aggregate reports delivered: none of them may
/// become a label value.
const ORGS: [&str; 4] = ["google.com", "Yahoo! Inc.", "Mail.Ru", "Enterprise Outlook"];
/// A policy domain not in `metrics.domains`.
const UNLISTED: &str = "other.example";
/// Sending IPs in the records.
const SOURCES: [&str; 3] = ["192.0.2.1", "198.51.100.7", "203.0.113.9"];

/// Where the server serves metrics, from its log.
fn metrics_addr(server: &TestServer) -> SocketAddr {
    let line = server.wait_for_log("serving metrics", 1).remove(0);
    line.split("listen=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// `GET path`: the status and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut response = agent().get(format!("http://{addr}{path}")).call().unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    (response.status().as_u16(), body)
}

/// A scrape of `/metrics`, parsed; its content type checked.
fn scrape(addr: SocketAddr) -> Scrape {
    let mut response = agent()
        .get(format!("http://{addr}/metrics"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let body = response.body_mut().read_to_string().unwrap();
    Scrape::parse(body.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// The value of the sample `metric` whose labels are exactly `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && has_exactly(s, labels))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{metric}{labels:?} in {:#?}",
        scrape.samples
    );
    match &found[0].value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{metric}: {other:?}"),
    }
}

fn has_exactly(sample: &Sample, labels: &[(&str, &str)]) -> bool {
    let mut all: Vec<(String, String)> = sample
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    all.sort();
    let mut wanted: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    wanted.sort();
    all == wanted
}

/// Every counter and histogram count of a scrape, by name and labels.
fn counters(scrape: &Scrape) -> BTreeMap<String, f64> {
    scrape
        .samples
        .iter()
        .filter_map(|s| {
            let v = match &s.value {
                Value::Counter(v) => *v,
                Value::Untyped(v) if s.metric.ends_with("_count") => *v,
                _ => return None,
            };
            let mut labels: Vec<String> =
                s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            Some((format!("{}{{{}}}", s.metric, labels.join(",")), v))
        })
        .collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A session that says EHLO, delivers `message`, and quits: seven replies
/// (220, 250 EHLO, 250 MAIL, 250 RCPT, 354, the answer, 221). Returns the
/// answer's code.
fn deliver_alone(server: &TestServer, message: &[u8]) -> u16 {
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO reporter.example").0, 250);
    let (code, text) = client.deliver(
        "noreply-dmarc-support@google.com",
        "dmarc@reports.example.com",
        message,
    );
    assert_eq!(client.command("QUIT").0, 221, "after {code} {text}");
    code
}

/// An aggregate report mail from `org` about `domain`, gzip-attached.
fn aggregate_mail(org: &str, id: &str, domain: &str, records: &[(&str, u32)]) -> Vec<u8> {
    let xml = report_xml(org, id, domain, records);
    report_mail(
        &format!("Report domain: {domain} Submitter: {org} Report-ID: {id}"),
        &format!("{id}@reports.test"),
        vec![Part::attachment(
            "application/gzip",
            &format!("{org}!{domain}!{id}.xml.gz"),
            &gzip(xml.as_bytes()),
        )],
    )
}

#[test]
fn scraped_while_reports_come_in_the_counters_match_what_was_delivered() {
    let started = unix_now();
    let server = TestServer::start(METRICS);
    let addr = metrics_addr(&server);

    // What is delivered, and what each is expected to count.
    let mut mails: Vec<(Vec<u8>, u16)> = Vec::new();
    let mut aggregate_records = 0;
    for (i, org) in ORGS.iter().enumerate() {
        for n in 0..3 {
            let domain = if n == 2 { UNLISTED } else { "example.com" };
            let records: Vec<(&str, u32)> = SOURCES[..=n].iter().map(|ip| (*ip, 5)).collect();
            aggregate_records += records.len();
            mails.push((
                aggregate_mail(org, &format!("agg-{i}-{n}"), domain, &records),
                250,
            ));
        }
    }
    let aggregate_reports = mails.len();
    let tls = TlsReport::new(
        "google.com",
        "tls-1",
        1_700_006_400,
        vec![
            TlsPolicy::sts("example.com", 10, vec![]),
            TlsPolicy::sts(
                UNLISTED,
                3,
                vec![TlsFailure::new(
                    "sts-policy-invalid",
                    "mx1.other.example",
                    2,
                )],
            ),
        ],
    );
    mails.push((tls.mail(), 250));
    // An attachment that says it is a report and is not: quarantined.
    mails.push((
        report_mail(
            "Report domain: example.com Submitter: google.com Report-ID: broken",
            "broken@reports.test",
            vec![Part::attachment(
                "application/gzip",
                "google.com!example.com!broken.xml.gz",
                &gzip(b"<?xml version=\"1.0\"?><feedback><report_metadata><org_name>"),
            )],
        ),
        250,
    ));
    // No report at all: 550 5.6.0 (smtp.not_a_report = "reject").
    mails.push((
        b"From: someone@example.net\r\nSubject: hello\r\n\r\nJust saying hello.\r\n".to_vec(),
        550,
    ));
    let messages = mails.len();

    // A scraper that runs while the deliveries do: every scrape parses and
    // no counter ever goes down.
    let delivering = Arc::new(AtomicBool::new(true));
    let scrapes = Arc::new(Mutex::new(0usize));
    let scraper = {
        let delivering = delivering.clone();
        let scrapes = scrapes.clone();
        std::thread::spawn(move || {
            let mut last = counters(&scrape(addr));
            while delivering.load(Ordering::SeqCst) {
                let now = counters(&scrape(addr));
                for (series, value) in &last {
                    let later = now.get(series).copied().unwrap_or(0.0);
                    assert!(later >= *value, "{series} went from {value} to {later}");
                }
                last = now;
                *scrapes.lock().unwrap() += 1;
            }
        })
    };
    let mails = Arc::new(Mutex::new(mails));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let mails = mails.clone();
            let server = &server;
            scope.spawn(move || {
                loop {
                    let Some((mail, expected)) = mails.lock().unwrap().pop() else {
                        break;
                    };
                    assert_eq!(deliver_alone(server, &mail), expected);
                }
            });
        }
    });
    delivering.store(false, Ordering::SeqCst);
    scraper.join().expect("the concurrent scrapes");
    assert!(
        *scrapes.lock().unwrap() > 0,
        "no scrape ran during delivery"
    );

    // Every reply has been read by its client, so each is counted; the
    // connections close just after their last reply.
    let deadline = Instant::now() + POLL_TIMEOUT;
    let done = loop {
        let done = scrape(addr);
        if value(&done, "dmarc_sink_smtp_open_connections", &[]) == 0.0 {
            break done;
        }
        assert!(Instant::now() < deadline, "connections stay open");
        std::thread::sleep(Duration::from_millis(20));
    };
    let count = |metric: &str, labels: &[(&str, &str)]| value(&done, metric, labels);
    let outcome = |o: &str| count("dmarc_sink_messages_total", &[("outcome", o)]);
    assert_eq!(outcome("stored"), (aggregate_reports + 1) as f64);
    assert_eq!(outcome("quarantined"), 1.0);
    assert_eq!(outcome("rejected_not_a_report"), 1.0);
    for other in ["duplicate", "partial", "not_a_report", "store_failed"] {
        assert_eq!(outcome(other), 0.0, "{other}");
    }
    // The test's resolver fails every lookup: each message is unchecked.
    let reports = |kind: &str, trust: &str| {
        count(
            "dmarc_sink_reports_total",
            &[("kind", kind), ("trust", trust)],
        )
    };
    assert_eq!(reports("aggregate", "unchecked"), aggregate_reports as f64);
    assert_eq!(reports("tlsrpt", "unchecked"), 1.0);
    assert_eq!(reports("failure", "unchecked"), 0.0);
    assert_eq!(reports("aggregate", "authenticated"), 0.0);
    assert_eq!(
        count("dmarc_sink_records_total", &[("kind", "aggregate")]),
        aggregate_records as f64
    );
    assert_eq!(
        count("dmarc_sink_records_total", &[("kind", "tlsrpt")]),
        2.0
    );
    let stored_aggregate_records = server.count("SELECT count(*) FROM records");
    assert_eq!(stored_aggregate_records, aggregate_records as i64);
    let quarantine_kind: String = rusqlite::Connection::open(&server.db)
        .unwrap()
        .query_row("SELECT kind FROM quarantine", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        count(
            "dmarc_sink_quarantined_payloads_total",
            &[("kind", &quarantine_kind)]
        ),
        1.0
    );

    // One session per message, seven replies each: 220, 250 EHLO, 250 MAIL,
    // 250 RCPT, 354, the answer, 221.
    let replies = |class: &str| count("dmarc_sink_smtp_replies_total", &[("class", class)]);
    assert_eq!(
        count("dmarc_sink_smtp_sessions_total", &[]),
        messages as f64
    );
    assert_eq!(replies("2xx"), (messages * 6 - 1) as f64);
    assert_eq!(replies("3xx"), messages as f64);
    assert_eq!(replies("4xx"), 0.0);
    assert_eq!(replies("5xx"), 1.0);
    assert_eq!(
        count("dmarc_sink_smtp_data_reply_duration_seconds_count", &[]),
        messages as f64
    );
    assert!(count("dmarc_sink_smtp_data_reply_duration_seconds_sum", &[]) > 0.0);
    let histogram = done
        .samples
        .iter()
        .find(|s| s.metric == "dmarc_sink_smtp_data_reply_duration_seconds")
        .expect("the latency histogram");
    let Value::Histogram(buckets) = &histogram.value else {
        panic!("{histogram:?}");
    };
    let infinite = buckets
        .iter()
        .find(|b| b.less_than.is_infinite())
        .expect("a +Inf bucket");
    assert_eq!(infinite.count, messages as f64);

    // The store on disk, now.
    let on_disk: u64 = ["store.sqlite", "store.sqlite-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(server.dir.path().join(name)).ok())
        .map(|meta| meta.len())
        .sum();
    let reported = count("dmarc_sink_store_size_bytes", &[]);
    assert!(
        reported > 0.0 && reported <= on_disk as f64 * 2.0,
        "{reported} bytes reported, {on_disk} on disk"
    );

    // The last report: for any domain, and for the listed one; never for
    // the unlisted one, and 0 for a kind that never came.
    let last = |labels: &[(&str, &str)]| count("dmarc_sink_last_report_timestamp_seconds", labels);
    let now = unix_now();
    for labels in [
        &[("kind", "aggregate")][..],
        &[("kind", "aggregate"), ("policy_domain", "example.com")],
        &[("kind", "tlsrpt"), ("policy_domain", "example.com")],
    ] {
        let at = last(labels) as i64;
        assert!((started..=now).contains(&at), "{labels:?}: {at}");
    }
    assert_eq!(
        last(&[("kind", "failure"), ("policy_domain", "example.com")]),
        0.0
    );

    // No label value a stranger chose: label names from a closed list,
    // values from closed enums, the one domain the operator listed.
    let forbidden: Vec<&str> = ORGS
        .iter()
        .chain(&SOURCES)
        .chain(&[
            UNLISTED,
            "127.0.0.1",
            "mx1.other.example",
            "sts-policy-invalid",
        ])
        .copied()
        .collect();
    for sample in &done.samples {
        for (name, label) in sample.labels.iter() {
            assert!(
                ["outcome", "kind", "trust", "class", "policy_domain"].contains(&name.as_str()),
                "{}: label {name}",
                sample.metric
            );
            assert!(
                !forbidden
                    .iter()
                    .any(|f| label.eq_ignore_ascii_case(f) || label.contains(f)),
                "{}: {name}={label}",
                sample.metric
            );
            if name == "policy_domain" {
                assert_eq!(label, "example.com");
            }
        }
    }

    // A connection open now is counted as open.
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    let open = scrape(addr);
    assert_eq!(value(&open, "dmarc_sink_smtp_open_connections", &[]), 1.0);
    assert_eq!(client.command("QUIT").0, 221);

    // After a restart the last-report times come from the store.
    let listed = last(&[("kind", "aggregate"), ("policy_domain", "example.com")]);
    let dir = server.kill();
    let server = TestServer::start_in(dir, METRICS);
    let addr = metrics_addr(&server);
    let stored_at = server.count(
        "SELECT max(m.received_at) FROM reports r JOIN messages m ON m.id = r.message
         WHERE r.policy_domain = 'example.com'",
    );
    let after = scrape(addr);
    let restarted =
        |labels: &[(&str, &str)]| value(&after, "dmarc_sink_last_report_timestamp_seconds", labels);
    assert_eq!(
        restarted(&[("kind", "aggregate"), ("policy_domain", "example.com")]),
        stored_at as f64
    );
    assert!(
        (listed - stored_at as f64).abs() <= 1.0,
        "{listed} {stored_at}"
    );
    assert!(restarted(&[("kind", "aggregate")]) >= stored_at as f64);
    assert!(restarted(&[("kind", "tlsrpt"), ("policy_domain", "example.com")]) > 0.0);
    // Counters start again from zero, as Prometheus expects of a restart.
    assert_eq!(
        value(
            &after,
            "dmarc_sink_messages_total",
            &[("outcome", "stored")]
        ),
        0.0
    );
}

#[test]
fn healthz_is_ok_while_serving_and_503_once_shutdown_begins() {
    let mut server = TestServer::start(METRICS);
    let addr = metrics_addr(&server);
    assert_eq!(get(addr, "/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(get(addr, "/").0, 404);
    assert_eq!(get(addr, "/metrics/extra").0, 404);
    let post = agent()
        .post(format!("http://{addr}/metrics"))
        .send_empty()
        .unwrap();
    assert_eq!(post.status().as_u16(), 405);

    // A delivery in DATA holds shutdown open (smtp.shutdown_grace_secs):
    // meanwhile the endpoint says the daemon is going.
    let mut client: SmtpClient = server.connect();
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO reporter.example").0, 250);
    assert_eq!(client.command("MAIL FROM:<noreply@google.com>").0, 250);
    assert_eq!(client.command("RCPT TO:<dmarc@reports.example.com>").0, 250);
    assert_eq!(client.command("DATA").0, 354);
    server.signal("TERM");
    let deadline = Instant::now() + POLL_TIMEOUT;
    loop {
        let (status, body) = get(addr, "/healthz");
        if status == 503 {
            assert_eq!(body, "shutting down\n");
            break;
        }
        assert_eq!(status, 200);
        assert!(Instant::now() < deadline, "/healthz never said 503");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mail = aggregate_mail("google.com", "late-1", "example.com", &[("192.0.2.1", 1)]);
    let mut data = crate::util::server::dot_stuff(&mail);
    data.extend_from_slice(b".\r\n");
    client.send(&data);
    assert_eq!(client.reply().0, 250);
    assert!(server.wait().success());
    assert_eq!(server.count("SELECT count(*) FROM reports"), 1);
}

#[test]
fn a_metrics_address_that_cannot_be_bound_fails_startup() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\npath = {:?}\n[smtp]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"{address}\"\n",
            dir.path().join("store.sqlite").display().to_string()
        ),
    )
    .unwrap();
    let output = dmarc_sink(&["--config", config.to_str().unwrap(), "serve"]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot listen for metrics on {address} (metrics.listen)"
        )),
        "{stderr}"
    );
}
