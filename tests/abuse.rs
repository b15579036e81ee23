//! The listener under abuse: idle crowds, endless lines, slow drips, one
//! peer hogging connections, and SIGKILL in the middle of deliveries.

use crate::util::mail::{Part, report_mail, report_xml};
use crate::util::server::{SmtpClient, TestServer};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
    let mut dir = tempfile::tempdir().unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    for round in 0..3 {
        let server = TestServer::start_in(dir, "");
        let stop = Arc::new(AtomicBool::new(false));
        let senders: Vec<_> = (0..8)
            .map(|sender| {
                let addr = server.addr;
                let stop = stop.clone();
                let acknowledged = acknowledged.clone();
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        let id = format!("kill-{round}-{sender}-{n}");
                        n += 1;
                        let result = std::panic::catch_unwind(|| {
                            let mut client = SmtpClient::connect(addr);
                            if client.reply().0 != 220 {
                                return 0;
                            }
                            client.command("EHLO reporter.example");
                            client.command("MAIL FROM:<noreply@google.com>");
                            client.command("RCPT TO:<dmarc@reports.example.com>");
                            if client.command("DATA").0 != 354 {
                                return 0;
                            }
                            client.send(&crate::util::server::dot_stuff(&report(&id)));
                            client.command(".").0
                        });
                        match result {
                            Ok(250) => acknowledged.lock().unwrap().push(id),
                            Ok(_) | Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        // Kill once some deliveries of this round have been acknowledged.
        loop {
            let done = acknowledged
                .lock()
                .unwrap()
                .iter()
                .filter(|id| id.starts_with(&format!("kill-{round}-")))
                .count();
            if done >= 20 {
                break;
            }
            std::thread::yield_now();
        }
        dir = server.kill();
        stop.store(true, Ordering::SeqCst);
        for sender in senders {
            let _ = sender.join();
        }
    }
    let server = TestServer::start_in(dir, "");
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let acknowledged = acknowledged.lock().unwrap();
    assert!(acknowledged.len() >= 60);
    let mut stmt = conn
        .prepare("SELECT count(*) FROM reports WHERE report_id = ?1")
        .unwrap();
    for id in acknowledged.iter() {
        let stored: i64 = stmt.query_row([id], |r| r.get(0)).unwrap();
        assert_eq!(stored, 1, "acknowledged report {id} is in the store");
    }
}
