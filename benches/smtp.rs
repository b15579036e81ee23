//! SMTP delivery under load: a real `dmarc-sink serve` process on loopback.
//!
//! Run: `cargo bench --bench smtp` (all rows: 1, 8 and 64 senders, then the
//! idle crowd) or choose rows, e.g. `cargo bench --bench smtp -- 1 8 idle`.
//!
//! Each row starts a fresh server over a fresh store. A report mail is a
//! MIME message whose base64 attachment is a gzip of a 10-record aggregate
//! report, each with its own report id.
//!
//! - `N` (a number): N sender threads, each on its own connection, which it
//!   reuses for successive MAIL/RCPT/DATA transactions, deliver 300 reports
//!   (1 sender) or 2,000 (more). Reported: reports per second over the
//!   whole run, and the p50/p99/max latency from sending the final `.` to
//!   reading the reply, which comes only once the report is committed to
//!   SQLite.
//! - `auth-N`: the same with authentication that finds the reporter
//!   authenticated, as Google's mail is: each report signed with RSA-2048
//!   DKIM (a key of the bench's own, `benches/data`), google.com's SPF,
//!   DKIM key and DMARC record served by the tests' DNS server on
//!   loopback. The `N` rows authenticate too, against a resolver that fails
//!   every query at once (every message `unchecked`), the tests' default.
//! - `idle`: 1,000 connections held open and idle (50 loopback peers,
//!   127.0.1.1 to 127.0.1.50, 20 each, every greeting read); then 20 times
//!   a new client connects and delivers one report. Its latency runs from
//!   connect to the 250 reply; the target is under one second.
//!
//! Every row asserts that no reply to the end of DATA was other than 250,
//! that the store holds every report, and that the server logged no WARN
//! or ERROR line.

use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{DkimSigner, Done};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[path = "../tests/util/dot_stuff.rs"]
mod dot_stuff;
// The tests' server harness: a real `dmarc-sink serve` child on port 0,
// ready once it logs `listening`. The bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/util/dns.rs"]
mod dns;
#[allow(dead_code)]
#[path = "../tests/util/server.rs"]
mod server;
use dot_stuff::dot_stuff;
use server::TestServer;

const DEFAULT_ROWS: [&str; 7] = ["1", "8", "64", "auth-1", "auth-8", "auth-64", "idle"];
/// The bench's own DKIM key for google.com, selector `bench`, and its
/// public half as published (base64 of the DER SubjectPublicKeyInfo).
const DKIM_KEY: &str = include_str!("data/dkim-rsa-2048.pem");
const DKIM_PUBLIC: &str = include_str!("data/dkim-rsa-2048.pub.b64");
const RECORDS_PER_REPORT: usize = 10;
const IDLE_PEERS: u8 = 50;
const IDLE_PER_PEER: usize = 20;
const IDLE_DELIVERIES: usize = 20;
const MAIL_FROM: &str = "a@google.com";
const RCPT_TO: &str = "dmarc@reports.example.com";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rows: Vec<String> = if args.is_empty() {
        DEFAULT_ROWS.iter().map(|r| r.to_string()).collect()
    } else {
        args
    };
    println!("| scenario | reports | wall time | reports/s | p50 | p99 | max | non-250 |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let result = if row == "idle" {
            idle_row()
        } else {
            let (authenticated, count) = match row.strip_prefix("auth-") {
                Some(count) => (true, count),
                None => (false, row.as_str()),
            };
            let senders: usize = count
                .parse()
                .expect("rows are sender counts, auth-COUNT or `idle`");
            assert!(senders > 0, "at least one sender");
            let messages = if senders == 1 { 300 } else { 2000 };
            senders_row(senders, messages, authenticated)
        };
        result.print();
        result.check();
    }
    println!();
    println!(
        "Latency: senders rows, from sending the final `.` to the reply; idle row, from connect to the reply."
    );
}

/// One line of the table, and what the checks need.
struct RowResult {
    scenario: String,
    delivered: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    failures: Vec<String>,
    stored: i64,
    /// Messages the server found authenticated, for the `auth-N` rows.
    authenticated: Option<i64>,
    problems: Vec<String>,
}

impl RowResult {
    /// The row's result, with what the server stored and logged.
    fn new(
        scenario: String,
        wall: Duration,
        latencies: Vec<Duration>,
        failures: Vec<String>,
        server: &TestServer,
    ) -> RowResult {
        let problems = server
            .log()
            .lines()
            .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
            .map(str::to_owned)
            .collect();
        RowResult {
            scenario,
            delivered: latencies.len(),
            wall,
            latencies,
            failures,
            stored: server.count("SELECT count(*) FROM reports"),
            authenticated: None,
            problems,
        }
    }

    fn print(&self) {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        println!(
            "| {} | {} | {:.2} s | {:.0} | {} | {} | {} | {} |",
            self.scenario,
            self.delivered,
            self.wall.as_secs_f64(),
            self.delivered as f64 / self.wall.as_secs_f64(),
            ms(percentile(&sorted, 0.50)),
            ms(percentile(&sorted, 0.99)),
            ms(sorted.last().copied().unwrap_or_default()),
            self.failures.len(),
        );
    }

    fn check(&self) {
        assert!(
            self.failures.is_empty(),
            "{}: {} replies other than 250, e.g. {:?}",
            self.scenario,
            self.failures.len(),
            &self.failures[..self.failures.len().min(5)]
        );
        assert_eq!(
            self.stored, self.delivered as i64,
            "{}: reports in the store",
            self.scenario
        );
        if let Some(authenticated) = self.authenticated {
            assert_eq!(
                authenticated, self.delivered as i64,
                "{}: messages authenticated",
                self.scenario
            );
        }
        assert!(
            self.problems.is_empty(),
            "{}: the server logged problems: {:#?}",
            self.scenario,
            self.problems
        );
    }
}

/// `senders` threads share `messages` reports, each thread on one
/// connection; `authenticated`: signed, and google.com's DNS served.
fn senders_row(senders: usize, messages: usize, authenticated: bool) -> RowResult {
    let dns = authenticated.then(|| {
        let dns = dns::DnsServer::start();
        dns.txt(
            "bench._domainkey.google.com",
            &format!("v=DKIM1; k=rsa; p={}", DKIM_PUBLIC.trim()),
        )
        .txt("google.com", "v=spf1 ip4:127.0.0.1 -all")
        .txt("_dmarc.google.com", "v=DMARC1; p=reject");
        dns
    });
    let dns_config = dns.as_ref().map(|d| d.config(2000)).unwrap_or_default();
    let server = TestServer::start(&format!(
        "[smtp]\nmax_connections_per_ip = 5000\n{dns_config}"
    ));
    let tag = format!("{}s{senders}", if authenticated { "a" } else { "" });
    let signer = authenticated.then(signer);
    // Build every mail before the clock starts: the row times the server.
    let mails: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..messages)
            .map(|i| {
                let mail = report_mail(&format!("{tag}-{i}"));
                dot_stuff(&match &signer {
                    Some(signer) => sign(signer, &mail),
                    None => mail,
                })
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(senders + 1));
    let threads: Vec<_> = (0..senders)
        .map(|_| {
            let (mails, next, start) = (mails.clone(), next.clone(), start.clone());
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut client = Client::open(addr, None);
                start.wait();
                let mut latencies = Vec::new();
                let mut failures = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(mail) = mails.get(i) else { break };
                    match client.transaction(mail) {
                        Ok((latency, _)) => latencies.push(latency),
                        Err(failure) => {
                            failures.push(failure);
                            client = client.recover(addr);
                        }
                    }
                }
                client.command("QUIT");
                (latencies, failures)
            })
        })
        .collect();
    start.wait();
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for thread in threads {
        let (l, f) = thread.join().expect("a sender thread");
        latencies.extend(l);
        failures.extend(f);
    }
    let wall = started.elapsed();
    let scenario = format!(
        "{senders} sender{}{}",
        if senders == 1 { "" } else { "s" },
        if authenticated {
            ", authenticated (RSA-2048 DKIM, SPF, DMARC)"
        } else {
            ""
        }
    );
    let mut result = RowResult::new(scenario, wall, latencies, failures, &server);
    if authenticated {
        result.authenticated =
            Some(server.count("SELECT count(*) FROM messages WHERE auth = 'authenticated'"));
    }
    result
}

type Signer = DkimSigner<RsaKey<Sha256>, Done>;

/// google.com's signer, as Google signs its reports: RSA-2048, relaxed.
fn signer() -> Signer {
    let der = PrivateKeyDer::from_pem_slice(DKIM_KEY.as_bytes()).expect("the bench's DKIM key");
    let key = RsaKey::<Sha256>::from_key_der(der).expect("an RSA key");
    DkimSigner::from_key(key)
        .domain("google.com")
        .selector("bench")
        .headers(["From", "To", "Subject", "Message-ID", "Date"])
}

/// `mail` with its DKIM-Signature field first.
fn sign(signer: &Signer, mail: &[u8]) -> Vec<u8> {
    let signature = signer.sign(mail).expect("signed");
    let mut signed = signature.to_header().into_bytes();
    signed.extend_from_slice(mail);
    signed
}

/// 1,000 idle connections, then new clients deliver one report each.
fn idle_row() -> RowResult {
    let server = TestServer::start("[smtp]\nmax_connections_per_ip = 5000\n");
    let mut idle = Vec::with_capacity(usize::from(IDLE_PEERS) * IDLE_PER_PEER);
    for peer in 1..=IDLE_PEERS {
        for _ in 0..IDLE_PER_PEER {
            let source = Ipv4Addr::new(127, 0, 1, peer);
            let mut client = Client::connect(server.addr, Some(source));
            let (code, text) = client.reply();
            assert_eq!(code, 220, "idle connection {} greeted: {text}", idle.len());
            idle.push(client);
        }
    }
    let mails: Vec<Vec<u8>> = (0..IDLE_DELIVERIES)
        .map(|i| dot_stuff(&report_mail(&format!("idle-{i}"))))
        .collect();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    let started = Instant::now();
    for mail in &mails {
        let connecting = Instant::now();
        let mut client = Client::open(server.addr, None);
        match client.transaction(mail) {
            Ok(_) => latencies.push(connecting.elapsed()),
            Err(failure) => failures.push(failure),
        }
        client.command("QUIT");
    }
    let wall = started.elapsed();
    // The crowd is still served.
    let (code, text) = idle.last_mut().unwrap().command("NOOP");
    assert_eq!(code, 250, "an idle connection answered NOOP: {text}");
    let scenario = format!("1 sender beside {} idle connections", idle.len());
    RowResult::new(scenario, wall, latencies, failures, &server)
}

/// A hand-driven SMTP client.
struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Connects, optionally from a chosen loopback source address.
    fn connect(addr: SocketAddr, source: Option<Ipv4Addr>) -> Client {
        let stream = match source {
            None => TcpStream::connect(addr).expect("connect"),
            Some(ip) => {
                let socket =
                    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                        .expect("a socket");
                socket
                    .bind(&SocketAddr::from((ip, 0)).into())
                    .expect("bind the source address");
                socket.connect(&addr.into()).expect("connect");
                socket.into()
            }
        };
        // The final `.` is a small write after the body: no Nagle delay.
        stream.set_nodelay(true).expect("TCP_NODELAY");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("read timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone the stream"));
        Client { stream, reader }
    }

    /// Connects, reads the greeting and says EHLO.
    fn open(addr: SocketAddr, source: Option<Ipv4Addr>) -> Client {
        let mut client = Client::connect(addr, source);
        let (code, text) = client.reply();
        assert_eq!(code, 220, "greeting: {text}");
        let (code, text) = client.command("EHLO reporter.example");
        assert_eq!(code, 250, "EHLO: {text}");
        client
    }

    /// After a failed transaction: RSET, or a new connection if this one
    /// is gone.
    fn recover(mut self, addr: SocketAddr) -> Client {
        if self.command("RSET").0 == 250 {
            self
        } else {
            Client::open(addr, None)
        }
    }

    /// Reads one reply (all its lines): the code and the last line; code 0
    /// when the connection is closed.
    fn reply(&mut self) -> (u16, String) {
        let mut last = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
                return (0, last);
            }
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let done = line.as_bytes().get(3) != Some(&b'-');
            last = line.trim_end().to_owned();
            if done {
                return (code, last);
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    fn command(&mut self, line: &str) -> (u16, String) {
        if !self.send(format!("{line}\r\n").as_bytes()) {
            return (0, String::new());
        }
        self.reply()
    }

    /// MAIL, RCPT, DATA and the (dot-stuffed) mail; the latency from the
    /// final `.` to the 250, or what went wrong.
    fn transaction(&mut self, stuffed: &[u8]) -> Result<(Duration, String), String> {
        for (line, want) in [
            (format!("MAIL FROM:<{MAIL_FROM}>"), 250),
            (format!("RCPT TO:<{RCPT_TO}>"), 250),
            ("DATA".to_owned(), 354),
        ] {
            let (code, text) = self.command(&line);
            if code != want {
                return Err(format!("{line}: {code} {text}"));
            }
        }
        if !self.send(stuffed) {
            return Err("the connection closed during DATA".into());
        }
        let sent = Instant::now();
        if !self.send(b".\r\n") {
            return Err("the connection closed before the final dot".into());
        }
        let (code, text) = self.reply();
        let latency = sent.elapsed();
        if code == 250 {
            Ok((latency, text))
        } else {
            Err(format!("end of DATA: {code} {text}"))
        }
    }
}

/// A report mail: multipart/mixed, a text part and the gzip attachment.
fn report_mail(report_id: &str) -> Vec<u8> {
    let gz = gzip(report_xml(report_id).as_bytes());
    let encoded = base64::engine::general_purpose::STANDARD.encode(gz);
    let mut attachment = String::new();
    for line in encoded.as_bytes().chunks(76) {
        attachment.push_str(std::str::from_utf8(line).unwrap());
        attachment.push_str("\r\n");
    }
    let boundary = "=_bench_boundary";
    let filename = format!("google.com!example.com!1700006400!1700092799!{report_id}.xml.gz");
    format!(
        "Return-Path: <noreply-dmarc-support@google.com>\r\n\
         From: noreply-dmarc-support@google.com\r\n\
         To: {RCPT_TO}\r\n\
         Subject: Report domain: example.com Submitter: google.com Report-ID: {report_id}\r\n\
         Message-ID: <{report_id}@google.com>\r\n\
         Date: Wed, 15 Nov 2023 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\
         \r\n\
         This is a multi-part message in MIME format.\r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         This is an aggregate report from google.com.\r\n\
         --{boundary}\r\n\
         Content-Type: application/gzip; name=\"{filename}\"\r\n\
         Content-Disposition: attachment; filename=\"{filename}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {attachment}\
         --{boundary}--\r\n"
    )
    .into_bytes()
}

/// An aggregate report of `RECORDS_PER_REPORT` records.
fn report_xml(report_id: &str) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n  <report_metadata>\n    \
         <org_name>google.com</org_name>\n    <email>noreply-dmarc-support@google.com</email>\n    \
         <report_id>{report_id}</report_id>\n    <date_range><begin>1700006400</begin>\
         <end>1700092799</end></date_range>\n  </report_metadata>\n  <policy_published>\
         <domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp>\
         <pct>100</pct></policy_published>\n"
    );
    for i in 0..RECORDS_PER_REPORT {
        let (dkim, spf) = if i % 3 == 0 {
            ("fail", "pass")
        } else {
            ("pass", "pass")
        };
        xml.push_str(&format!(
            "  <record>\n    <row><source_ip>192.0.2.{}</source_ip><count>{}</count>\
             <policy_evaluated><disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf>\
             </policy_evaluated></row>\n    <identifiers><header_from>example.com</header_from>\
             <envelope_from>bounce{i}.example.net</envelope_from></identifiers>\n    <auth_results>\
             <dkim><domain>example.com</domain><selector>s{i}</selector><result>{dkim}</result></dkim>\
             <spf><domain>bounce{i}.example.net</domain><scope>mfrom</scope><result>{spf}</result></spf>\
             </auth_results>\n  </record>\n",
            i + 1,
            1 + i * 7,
        ));
    }
    xml.push_str("</feedback>\n");
    xml
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
