//! `dmarc-sink serve` over loopback with a real SMTP client (lettre) and a
//! hand-driven one where a library would not misbehave on purpose.

use crate::util::mail::{Part, gzip, report_mail, report_xml};
use crate::util::server::TestServer;
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};

fn mailer(server: &TestServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .hello_name(ClientId::Domain("mail-sor-f41.google.com".into()))
        .build()
}

fn report_message(report_id: &str, records: &[(&str, u32)]) -> Message {
    let xml = report_xml("google.com", report_id, "example.com", records);
    Message::builder()
        .from("noreply-dmarc-support@google.com".parse().unwrap())
        .to("dmarc@reports.example.com".parse().unwrap())
        .subject(format!(
            "Report domain: example.com Submitter: google.com Report-ID: {report_id}"
        ))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(
                    "This is an aggregate report from google.com.".to_owned(),
                ))
                .singlepart(
                    Attachment::new(format!("google.com!example.com!{report_id}.xml.gz")).body(
                        gzip(xml.as_bytes()),
                        ContentType::parse("application/gzip").unwrap(),
                    ),
                ),
        )
        .unwrap()
}

/// The reply code of a refused delivery.
fn refused_code(error: lettre::transport::smtp::Error) -> String {
    error
        .status()
        .map(|code| code.to_string())
        .unwrap_or_else(|| format!("no status: {error}"))
}

#[test]
fn report_is_stored_before_250() {
    let server = TestServer::start("");
    let response = mailer(&server)
        .send(&report_message(
            "smtp-1",
            &[("192.0.2.1", 3), ("192.0.2.2", 4)],
        ))
        .unwrap();
    assert_eq!(response.code().to_string(), "250");
    // 250 came after the commit: the rows are there now.
    assert_eq!(
        server.count("SELECT count(*) FROM reports WHERE report_id = 'smtp-1'"),
        1
    );
    assert_eq!(server.count("SELECT sum(count) FROM records"), 7);
    assert_eq!(server.count("SELECT count(*) FROM messages WHERE source = 'smtp' AND remote_addr = '127.0.0.1' AND helo = 'mail-sor-f41.google.com' AND mail_from = 'noreply-dmarc-support@google.com' AND rcpt_to = 'dmarc@reports.example.com'"), 1);
    // The log is read on a thread of its own: wait for the line.
    server.wait_for_log("outcome=\"stored\"", 1);
    let log = server.log();
    assert!(
        log.contains("message")
            && log.contains("outcome=\"stored\"")
            && log.contains("google.com smtp-1 example.com records=2 messages=7"),
        "{log}"
    );
}

#[test]
fn null_sender_and_ehlo_extensions() {
    let server = TestServer::start("");
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    client.send(b"EHLO reporter.example\r\n");
    let (code, lines) = client.reply_lines();
    assert_eq!(code, 250);
    let ehlo = lines.join("\n");
    for extension in [
        "250-sink.test",
        "SIZE 67108864",
        "8BITMIME",
        "PIPELINING",
        "SMTPUTF8",
    ] {
        assert!(ehlo.contains(extension), "{ehlo}");
    }
    assert!(
        !ehlo.contains("STARTTLS"),
        "no certificate, no STARTTLS: {ehlo}"
    );
    let raw = report_mail(
        "null",
        "null@google.com",
        vec![Part::attachment(
            "text/xml",
            "r.xml",
            report_xml("google.com", "null-1", "example.com", &[("192.0.2.1", 1)]).as_bytes(),
        )],
    );
    let mut client = server.connect();
    client.reply();
    client.command("EHLO reporter.example");
    assert_eq!(
        client.command("MAIL FROM:<> SIZE=1000 BODY=8BITMIME").0,
        250
    );
    assert_eq!(
        client
            .command("RCPT TO:<dmarc@reports.example.com> NOTIFY=NEVER")
            .0,
        250
    );
    assert_eq!(client.command("DATA").0, 354);
    client.send(&crate::util::server::dot_stuff(&raw));
    let (code, text) = client.command(".");
    assert_eq!(code, 250, "{text}");
    assert_eq!(
        server.count("SELECT count(*) FROM messages WHERE mail_from = ''"),
        1
    );
    assert_eq!(client.command("QUIT").0, 221);
}

#[test]
fn message_without_a_report_is_refused_and_not_kept() {
    let server = TestServer::start("");
    let spam = Message::builder()
        .from("winner@lottery.example".parse().unwrap())
        .to("dmarc@reports.example.com".parse().unwrap())
        .subject("You won")
        .body("Claim your prize".to_owned())
        .unwrap();
    let error = mailer(&server).send(&spam).unwrap_err();
    assert_eq!(refused_code(error), "550");
    assert_eq!(server.count("SELECT count(*) FROM messages"), 0);
}

#[test]
fn message_without_a_report_is_kept_when_configured() {
    let server = TestServer::start("[smtp]\nnot_a_report = \"keep\"\n");
    let spam = Message::builder()
        .from("winner@lottery.example".parse().unwrap())
        .to("dmarc@reports.example.com".parse().unwrap())
        .subject("You won")
        .body("Claim your prize".to_owned())
        .unwrap();
    mailer(&server).send(&spam).unwrap();
    assert_eq!(
        server.count("SELECT count(*) FROM messages WHERE outcome = 'not_a_report'"),
        1
    );
}

#[test]
fn unreadable_report_is_accepted_into_quarantine() {
    let server = TestServer::start("");
    let message = Message::builder()
        .from("noreply-dmarc-support@google.com".parse().unwrap())
        .to("dmarc@reports.example.com".parse().unwrap())
        .subject("Report")
        .singlepart(Attachment::new("broken.xml.gz".into()).body(
            gzip(b"<feedback><report_metadata><org_name>x"),
            ContentType::parse("application/gzip").unwrap(),
        ))
        .unwrap();
    let response = mailer(&server).send(&message).unwrap();
    assert_eq!(response.code().to_string(), "250");
    assert_eq!(
        server.count("SELECT count(*) FROM quarantine WHERE kind = 'xml'"),
        1
    );
    // The log is read on a thread of its own: wait for the line.
    let quarantined = server.wait_for_log("payload quarantined", 1);
    assert!(quarantined[0].contains("WARN"), "{}", quarantined[0]);
}

#[test]
fn duplicate_delivery_is_acknowledged_and_stored_once() {
    let server = TestServer::start("");
    let message = report_message("dup-1", &[("192.0.2.1", 5)]);
    let mailer = mailer(&server);
    mailer.send(&message).unwrap();
    mailer.send(&message).unwrap();
    assert_eq!(server.count("SELECT count(*) FROM messages"), 2);
    assert_eq!(server.count("SELECT count(*) FROM reports"), 1);
    server.wait_for_log("outcome=\"duplicate\"", 1);
}

#[test]
fn oversized_message_gets_552_after_its_data() {
    let server = TestServer::start("[limits]\nmax_message_bytes = 20000\n");
    let mut client = server.connect();
    client.reply();
    client.command("EHLO reporter.example");
    let big = format!(
        "Subject: big\r\n\r\n{}",
        "x".repeat(70)
            .repeat(1000)
            .chars()
            .collect::<Vec<_>>()
            .chunks(70)
            .map(|c| c.iter().collect::<String>() + "\r\n")
            .collect::<String>()
    );
    let (code, text) = client.deliver("a@google.com", "dmarc@reports.example.com", big.as_bytes());
    assert_eq!(code, 552, "{text}");
    assert!(text.contains("limits.max_message_bytes"), "{text}");
    // The session goes on: a declared SIZE over the limit is refused at MAIL.
    assert_eq!(
        client.command("MAIL FROM:<a@google.com> SIZE=999999").0,
        552
    );
    assert_eq!(client.command("QUIT").0, 221);
    assert_eq!(server.count("SELECT count(*) FROM messages"), 0);
}

#[test]
fn unknown_recipient_gets_550_at_rcpt() {
    let server = TestServer::start(
        "[smtp]\naccept_recipients = [\"dmarc@reports.example.com\", \"@reports.example.org\"]\n",
    );
    let mailer = mailer(&server);
    let raw = report_mail(
        "r",
        "r@google.com",
        vec![Part::attachment(
            "text/xml",
            "r.xml",
            report_xml("google.com", "rcpt-1", "example.com", &[("192.0.2.1", 1)]).as_bytes(),
        )],
    );
    let refused = Envelope::new(
        Some("noreply@google.com".parse().unwrap()),
        vec!["postmaster@reports.example.com".parse().unwrap()],
    )
    .unwrap();
    assert_eq!(
        refused_code(mailer.send_raw(&refused, &raw).unwrap_err()),
        "550"
    );
    let by_domain = Envelope::new(
        Some("noreply@google.com".parse().unwrap()),
        vec!["anything@REPORTS.example.org".parse().unwrap()],
    )
    .unwrap();
    mailer.send_raw(&by_domain, &raw).unwrap();
    assert_eq!(server.count("SELECT count(*) FROM reports"), 1);
}

#[test]
fn starttls_with_a_certificate_made_in_the_test() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let server = TestServer::start(&format!(
        "[smtp]\ntls_certificate = {:?}\ntls_key = {:?}\n",
        cert.display().to_string(),
        key.display().to_string()
    ));
    let tls = TlsParameters::builder("localhost".to_owned())
        .add_root_certificate(Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .tls(Tls::Required(tls))
        .build();
    mailer
        .send(&report_message("tls-1", &[("192.0.2.1", 2)]))
        .unwrap();
    assert_eq!(
        server.count("SELECT count(*) FROM reports WHERE report_id = 'tls-1'"),
        1
    );
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let server = TestServer::start("");
    let mut client = server.connect();
    client.reply();
    let raw = report_mail(
        "p",
        "p@google.com",
        vec![Part::attachment(
            "text/xml",
            "r.xml",
            report_xml("google.com", "pipe-1", "example.com", &[("192.0.2.1", 1)]).as_bytes(),
        )],
    );
    let mut burst = b"EHLO pipeliner.example\r\nMAIL FROM:<a@google.com>\r\nRCPT TO:<dmarc@reports.example.com>\r\nDATA\r\n".to_vec();
    client.send(&burst);
    assert_eq!(client.reply().0, 250);
    assert_eq!(client.reply().0, 250);
    assert_eq!(client.reply().0, 250);
    assert_eq!(client.reply().0, 354);
    burst = crate::util::server::dot_stuff(&raw);
    burst.extend_from_slice(b".\r\nQUIT\r\n");
    client.send(&burst);
    assert_eq!(client.reply().0, 250);
    assert_eq!(client.reply().0, 221);
    assert_eq!(server.count("SELECT count(*) FROM reports"), 1);
}

#[test]
fn locked_store_answers_451_and_recovers() {
    let server = TestServer::start("[store]\nbusy_timeout_secs = 1\n");
    // Another process holds the write lock past the busy deadline.
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    conn.execute_batch("PRAGMA busy_timeout = 0; BEGIN IMMEDIATE")
        .unwrap();
    let started = std::time::Instant::now();
    let error = mailer(&server)
        .send(&report_message("busy-1", &[("192.0.2.1", 1)]))
        .unwrap_err();
    assert_eq!(refused_code(error), "451");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let failed = server.wait_for_log("answered 451", 1);
    assert!(failed[0].contains("ERROR"), "{}", failed[0]);
    conn.execute_batch("ROLLBACK").unwrap();
    mailer(&server)
        .send(&report_message("busy-1", &[("192.0.2.1", 1)]))
        .unwrap();
    assert_eq!(server.count("SELECT count(*) FROM reports"), 1);
    assert_eq!(
        server.count("SELECT count(*) FROM messages"),
        1,
        "the refused delivery left nothing"
    );
}

#[test]
fn sigterm_lets_data_finish_and_sends_421_to_idle_sessions() {
    let mut server = TestServer::start("");
    let mut idle = server.connect();
    assert_eq!(idle.reply().0, 220);
    assert_eq!(idle.command("EHLO idle.example").0, 250);
    let mut sending = server.connect();
    sending.reply();
    sending.command("EHLO busy.example");
    assert_eq!(sending.command("MAIL FROM:<a@google.com>").0, 250);
    assert_eq!(
        sending.command("RCPT TO:<dmarc@reports.example.com>").0,
        250
    );
    assert_eq!(sending.command("DATA").0, 354);
    let raw = report_mail(
        "t",
        "t@google.com",
        vec![Part::attachment(
            "text/xml",
            "r.xml",
            report_xml("google.com", "term-1", "example.com", &[("192.0.2.1", 1)]).as_bytes(),
        )],
    );
    let stuffed = crate::util::server::dot_stuff(&raw);
    let (first, rest) = stuffed.split_at(stuffed.len() / 2);
    sending.send(first);

    server.signal("TERM");
    // The idle session is told to come back later.
    let (code, text) = idle.reply();
    assert_eq!(code, 421, "{text}");
    // The delivery in progress finishes and is acknowledged.
    sending.send(rest);
    let (code, text) = sending.command(".");
    assert_eq!(code, 250, "{text}");
    let status = server.wait();
    assert!(status.success(), "{status:?}\n{}", server.log());
    assert_eq!(
        server.count("SELECT count(*) FROM reports WHERE report_id = 'term-1'"),
        1
    );
    assert!(
        server.log().contains("stopped; the store is closed"),
        "{}",
        server.log()
    );
}

#[test]
fn json_logs_carry_the_smtp_dialogue_and_the_message_line() {
    let server = TestServer::start("[log]\nformat = \"json\"\nlevel = \"info,mailin=trace\"\n");
    mailer(&server)
        .send(&report_message("json-1", &[("192.0.2.1", 2)]))
        .unwrap();
    server.wait_for_log("\"message\":\"message\"", 1);
    let log = server.log();
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines.iter().all(|l| l.starts_with('{') && l.ends_with('}')),
        "{log}"
    );
    let message = lines
        .iter()
        .find(|l| l.contains("\"message\":\"message\""))
        .unwrap_or_else(|| panic!("no message line:\n{log}"));
    for field in [
        "\"remote\":\"127.0.0.1:",
        "\"mail_from\":\"noreply-dmarc-support@google.com\"",
        "\"outcome\":\"stored\"",
        "\"duration_ms\":",
        "json-1",
    ] {
        assert!(message.contains(field), "{field} in {message}");
    }
    // mailin's own `log` records come through the same subscriber.
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"target\":\"mailin") && l.contains("EHLO")),
        "{log}"
    );
}
