//! The listener under abuse: idle crowds, endless lines, slow drips, one
//! peer hogging connections, and SIGKILL at random moments of concurrent
//! deliveries (`DMARC_SINK_KILLS` times, 10 unless set).

use crate::util::mail::{Part, report_mail, report_xml};
use crate::util::server::{SmtpClient, TestServer, dot_stuff};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

fn report(report_id: &str) -> Vec<u8> {
    let xml = report_xml("google.com", report_id, "example.com", &[("192.0.2.1", 1)]);
    report_mail(
        report_id,
        &format!("{report_id}@google.com"),
        vec![Part::attachment("text/xml", "r.xml", xml.as_bytes())],
    )
}

/// Delivers one report on a fresh connection; the final reply code.
fn deliver(server: &TestServer, report_id: &str) -> u16 {
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    client.command("EHLO reporter.example");
    let code = client
        .deliver(
            "noreply@google.com",
            "dmarc@reports.example.com",
            &report(report_id),
        )
        .0;
    client.command("QUIT");
    code
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_thousand_idle_connections_do_not_block_a_delivery() {
    let server = TestServer::start("");
    // 50 peers (127.0.1.1 to 127.0.1.50) with 20 connections each: the
    // per-IP cap's default.
    let mut idle = Vec::new();
    for peer in 1..=50u8 {
        for _ in 0..20 {
            let mut client =
                SmtpClient::connect_from(server.addr, Some(Ipv4Addr::new(127, 0, 1, peer)));
            assert_eq!(
                client.reply().0,
                220,
                "idle connection {} greeted",
                idle.len()
            );
            idle.push(client);
        }
    }
    assert_eq!(idle.len(), 1000);
    assert_eq!(deliver(&server, "crowd-1"), 250);
    assert_eq!(
        server.count("SELECT count(*) FROM reports WHERE report_id = 'crowd-1'"),
        1
    );
    // The idle ones are still served too.
    assert_eq!(idle[999].command("NOOP").0, 250);
}

#[test]
fn an_endless_line_ends_the_session_with_bounded_memory() {
    let server = TestServer::start("");
    let pid = server.pid();
    let before = rss_kib(pid);
    let mut client = server.connect();
    client.reply();
    let chunk = vec![b'A'; 1024 * 1024];
    let mut sent = 0;
    let mut refused = false;
    for _ in 0..300 {
        if std::io::Write::write_all(&mut client.stream, &chunk).is_err() {
            refused = true;
            break;
        }
        sent += chunk.len();
    }
    let (code, text) = client.reply();
    assert!(refused || sent > 0);
    assert_eq!(code, 500, "{text}");
    assert!(text.contains("smtp.max_command_line_bytes"), "{text}");
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(grown < 16 * 1024, "resident memory grew by {grown} KiB");

    // Inside DATA the data line limit applies.
    let mut client = server.connect();
    client.reply();
    client.command("EHLO reporter.example");
    client.command("MAIL FROM:<a@google.com>");
    client.command("RCPT TO:<dmarc@reports.example.com>");
    assert_eq!(client.command("DATA").0, 354);
    for _ in 0..8 {
        if std::io::Write::write_all(&mut client.stream, &chunk).is_err() {
            break;
        }
    }
    let (code, text) = client.reply();
    assert_eq!(code, 500, "{text}");
    assert!(text.contains("smtp.max_data_line_bytes"), "{text}");
    assert_eq!(deliver(&server, "after-endless"), 250);
}

#[test]
fn a_slow_drip_is_cut_off_while_others_deliver() {
    let server = TestServer::start("[smtp]\nline_timeout_secs = 2\n");
    let mut drip = server.connect();
    drip.reply();
    let stop = Arc::new(AtomicBool::new(false));
    let dripping = {
        let mut stream = drip.stream.try_clone().unwrap();
        let stop = stop.clone();
        std::thread::spawn(move || {
            // One byte every 200 ms, never a newline: each byte comes well
            // within any idle timeout, the line never completes.
            let mut sent = 0;
            while !stop.load(Ordering::SeqCst) && sent < 200 {
                if std::io::Write::write_all(&mut stream, b"E").is_err() {
                    break;
                }
                sent += 1;
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        })
    };
    assert_eq!(deliver(&server, "beside-drip"), 250);
    let (code, text) = drip.reply();
    stop.store(true, Ordering::SeqCst);
    dripping.join().unwrap();
    assert_eq!(code, 421, "{text}");
    assert!(text.contains("Timeout"), "{text}");
}

#[test]
fn per_ip_cap_turns_away_one_peer_not_others() {
    let server = TestServer::start("[smtp]\nmax_connections_per_ip = 3\n");
    let hog = Ipv4Addr::new(127, 0, 2, 1);
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut client = SmtpClient::connect_from(server.addr, Some(hog));
        assert_eq!(client.reply().0, 220);
        held.push(client);
    }
    let mut fourth = SmtpClient::connect_from(server.addr, Some(hog));
    let (code, text) = fourth.reply();
    assert_eq!(code, 421, "{text}");
    assert!(text.contains("4.7.0"), "{text}");
    let mut other = SmtpClient::connect_from(server.addr, Some(Ipv4Addr::new(127, 0, 2, 2)));
    assert_eq!(other.reply().0, 220);
    // A closed connection frees its place.
    drop(held.pop());
    // The old session ends as soon as it sees the close; until then the
    // cap still counts it, so a few attempts may be turned away.
    let freed =
        (0..1000).any(|_| SmtpClient::connect_from(server.addr, Some(hog)).reply().0 == 220);
    assert!(freed, "the closed connection's place was never freed");
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_report() {
    let kills: u64 = env_number("DMARC_SINK_KILLS").unwrap_or(10);
    let seed = env_number("DMARC_SINK_KILL_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
    });
    eprintln!("{kills} kills, seed {seed} (replay with DMARC_SINK_KILL_SEED={seed})");
    let mut random = SplitMix64(seed);
    let started = Instant::now();
    let mut dir = tempfile::tempdir().unwrap();
    let mut seen = Seen::default();
    for round in 0..kills {
        let server = TestServer::start_in(dir, "");
        let lead = Duration::from_millis(random.below(150));
        let moment = Moment::draw(&mut random);
        seen.check(&server.db, &format!("seed {seed}, after {round} kills"));
        let stop = Arc::new(AtomicBool::new(false));
        let senders: Vec<_> = (0..SENDERS)
            .map(|sender| {
                let (addr, stop) = (server.addr, stop.clone());
                std::thread::spawn(move || {
                    keep_sending(addr, &format!("kill-{round}-{sender}"), &stop)
                })
            })
            .collect();
        // Let the load build up first.
        std::thread::sleep(lead);
        let probe = match moment {
            Moment::Anytime => None,
            Moment::MidData | Moment::AfterDot(_) => {
                let (at_moment, reached) = mpsc::channel();
                let (killed, on_kill) = mpsc::channel();
                let id = format!("kill-{round}-probe");
                let addr = server.addr;
                let cut_in_data = matches!(moment, Moment::MidData);
                let probe = std::thread::spawn(move || {
                    probe(addr, &id, cut_in_data, &at_moment, &on_kill).map(|code| (id, code))
                });
                // The probe may fail before its moment (a slow start): the
                // kill comes all the same.
                let _ = reached.recv();
                if let Moment::AfterDot(delay) = moment {
                    std::thread::sleep(delay);
                }
                Some((probe, killed))
            }
        };
        dir = server.kill();
        stop.store(true, Ordering::SeqCst);
        let before = seen.acknowledged.len();
        for sender in senders {
            let (acknowledged, refused) = sender.join().unwrap();
            seen.acknowledged.extend(acknowledged);
            seen.refused.extend(refused);
        }
        let probed = match probe {
            None => "",
            Some((probe, killed)) => {
                let _ = killed.send(());
                match (moment, probe.join().unwrap()) {
                    (_, Ok((id, 250))) => {
                        seen.acknowledged.push(id);
                        ", the probe answered 250"
                    }
                    (Moment::MidData, Ok((id, _))) => {
                        seen.cut_in_data.push(id);
                        ", the probe cut in its data"
                    }
                    (_, Ok((id, _))) => {
                        seen.unanswered.push(id);
                        ", the probe unanswered"
                    }
                    (_, Err(_)) => ", the probe never reached its moment",
                }
            }
        };
        eprintln!(
            "round {round}: killed {lead:?} in, {moment:?}: {} acknowledged{probed}",
            seen.acknowledged.len() - before
        );
    }
    let server = TestServer::start_in(dir, "");
    let unanswered_kept = seen.check(&server.db, &format!("seed {seed}, after {kills} kills"));
    assert!(
        !seen.acknowledged.is_empty(),
        "seed {seed}: no delivery was acknowledged; the load never ran"
    );
    assert!(
        seen.refused.is_empty(),
        "seed {seed}: deliveries refused under load: {:?}",
        seen.refused
    );
    eprintln!(
        "{kills} kills in {:.1} s: {} reports acknowledged, all stored once; {} cut in DATA, none kept; \
         {} unanswered at the kill, {unanswered_kept} of them committed",
        started.elapsed().as_secs_f64(),
        seen.acknowledged.len(),
        seen.cut_in_data.len(),
        seen.unanswered.len(),
    );
}

/// Concurrent senders in each round of the SIGKILL test.
const SENDERS: usize = 8;

/// When a round's SIGKILL comes, once the senders have been at it for a
/// while (a random lead).
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// Right then: anywhere in a session, a message or a commit.
    Anytime,
    /// While a message's data is half sent.
    MidData,
    /// This long after a message's final "." went out, before its reply
    /// came: while it is parsed, written or committed.
    AfterDot(Duration),
}

impl Moment {
    fn draw(random: &mut SplitMix64) -> Moment {
        match random.below(4) {
            0 | 1 => Moment::Anytime,
            2 => Moment::MidData,
            _ => Moment::AfterDot(Duration::from_micros(random.below(8000))),
        }
    }
}

/// What the senders learnt across the kills.
#[derive(Default)]
struct Seen {
    /// Answered 250: must be in the store, once.
    acknowledged: Vec<String>,
    /// Killed in the middle of their data: nothing of them may be kept.
    cut_in_data: Vec<String>,
    /// Sent whole, but the daemon died before answering: kept once or not
    /// at all, and the reporter would send them again.
    unanswered: Vec<String>,
    /// Answered something else than 250 by a live daemon: none expected.
    refused: Vec<(String, u16)>,
}

impl Seen {
    /// Checks the store after a restart: `PRAGMA integrity_check` and the
    /// foreign keys pass, every acknowledged report is there, no report or
    /// message is there twice, and nothing of a message cut in its data.
    /// Returns how many of the unanswered messages were kept.
    fn check(&self, db: &std::path::Path, context: &str) -> usize {
        let conn = rusqlite::Connection::open(db).unwrap();
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok", "{context}");
        let orphans = conn
            .prepare("PRAGMA foreign_key_check")
            .unwrap()
            .query_map([], |_| Ok(()))
            .unwrap()
            .count();
        assert_eq!(orphans, 0, "rows whose parent is missing; {context}");
        let counts = |sql: &str| -> HashMap<String, i64> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let reports = counts("SELECT report_id, count(*) FROM reports GROUP BY report_id");
        let messages = counts("SELECT subject, count(*) FROM messages GROUP BY subject");
        for (id, n) in reports.iter().chain(&messages) {
            assert_eq!(*n, 1, "{id} is in the store {n} times; {context}");
        }
        for id in &self.acknowledged {
            assert!(
                reports.contains_key(id),
                "acknowledged report {id} is not in the store; {context}"
            );
        }
        for id in &self.cut_in_data {
            assert!(
                !messages.contains_key(id),
                "{id}, cut in its data, was kept; {context}"
            );
        }
        self.unanswered
            .iter()
            .filter(|id| reports.contains_key(*id))
            .count()
    }
}

/// Delivers report after report on one connection until `stop` or the
/// daemon dies; returns the ids answered 250, and those answered otherwise
/// with their code.
fn keep_sending(
    addr: SocketAddr,
    prefix: &str,
    stop: &AtomicBool,
) -> (Vec<String>, Vec<(String, u16)>) {
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    let Ok(mut client) = Reporter::connect(addr) else {
        return (acknowledged, refused);
    };
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let id = format!("{prefix}-{n}");
        match client.deliver(&id) {
            Ok(250) => acknowledged.push(id),
            Ok(code) => refused.push((id, code)),
            Err(_) => break,
        }
    }
    (acknowledged, refused)
}

/// One delivery with its kill placed in it: half the data is sent, or all
/// of it and the final ".", then `at_moment` is told. Mid-data, the rest is
/// sent only once `on_kill` says the daemon is dead. The reply code, 0 if
/// the daemon died first; an error if the moment was never reached.
fn probe(
    addr: SocketAddr,
    id: &str,
    cut_in_data: bool,
    at_moment: &mpsc::Sender<()>,
    on_kill: &mpsc::Receiver<()>,
) -> std::io::Result<u16> {
    let mut client = Reporter::connect(addr)?;
    if client.begin_data()? != 354 {
        return Err(std::io::Error::other("DATA refused"));
    }
    let data = dot_stuff(&report(id));
    let (first, rest) = data.split_at(data.len() / 2);
    client.stream.write_all(first)?;
    if cut_in_data {
        let _ = at_moment.send(());
        let _ = on_kill.recv();
        // The daemon is dead: these fail, or go nowhere.
        let _ = client.stream.write_all(rest);
        let _ = client.stream.write_all(b".\r\n");
    } else {
        client.stream.write_all(rest)?;
        client.stream.write_all(b".\r\n")?;
        let _ = at_moment.send(());
    }
    Ok(client.reply().unwrap_or(0))
}

/// An SMTP client that takes a dead daemon as an error, not a panic: the
/// SIGKILL test's senders see it die every round.
struct Reporter {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Reporter {
    /// Connects, reads the greeting and says EHLO.
    fn connect(addr: SocketAddr) -> std::io::Result<Reporter> {
        let stream = TcpStream::connect(addr)?;
        // The final "." must leave at once, not wait out a delayed ACK.
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let reader = BufReader::new(stream.try_clone()?);
        let mut client = Reporter { stream, reader };
        client.expect(220)?;
        client.stream.write_all(b"EHLO reporter.example\r\n")?;
        client.expect(250)?;
        Ok(client)
    }

    /// The code of the next reply, all its lines read.
    fn reply(&mut self) -> std::io::Result<u16> {
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0));
            }
        }
    }

    fn expect(&mut self, code: u16) -> std::io::Result<()> {
        match self.reply()? {
            c if c == code => Ok(()),
            c => Err(std::io::Error::other(format!("{c} where {code} was due"))),
        }
    }

    /// MAIL, RCPT and DATA; the reply to DATA, or the first other than
    /// 250 before it.
    fn begin_data(&mut self) -> std::io::Result<u16> {
        for command in [
            &b"MAIL FROM:<noreply@google.com>\r\n"[..],
            b"RCPT TO:<dmarc@reports.example.com>\r\n",
        ] {
            self.stream.write_all(command)?;
            match self.reply()? {
                250 => {}
                code => return Ok(code),
            }
        }
        self.stream.write_all(b"DATA\r\n")?;
        self.reply()
    }

    /// One whole transaction; the reply to its final ".".
    fn deliver(&mut self, id: &str) -> std::io::Result<u16> {
        let code = self.begin_data()?;
        if code != 354 {
            return Ok(code);
        }
        self.stream.write_all(&dot_stuff(&report(id)))?;
        self.stream.write_all(b".\r\n")?;
        self.reply()
    }
}

/// A whole number from the environment, if set.
fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
    )
}

/// SplitMix64: a few lines of seeded randomness, enough to place kills.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
