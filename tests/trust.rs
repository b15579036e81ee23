//! Trust: report mail signed in the tests with DKIM keys made here, SPF and
//! DMARC records served by the tests' own DNS server, and deliveries from
//! distinct 127.x addresses. A stranger's report must neither pre-empt a
//! real one, nor move a verdict, nor get past `reject`.

use crate::util::dns::{Behaviour, DnsServer};
use crate::util::mail::{Dmarc, dmarc_report_xml, gzip};
use crate::util::server::{SmtpClient, TestServer};
use crate::util::{insight_json, text};
use base64::Engine;
use lettre::address::Envelope;
use lettre::transport::smtp::extension::ClientId;
use lettre::{SmtpTransport, Transport};
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use rusqlite::Connection;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// The reporter's own sending address: in its SPF record.
const GENUINE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// A stranger's: in nobody's SPF record.
const FORGER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
/// 2023-11-15 UTC, the day the reports cover.
const DAY: i64 = 1_700_006_400;

/// A reporter with its DNS: a DKIM key, SPF for [`GENUINE`], DMARC p=reject.
struct World {
    dns: DnsServer,
    key: Vec<u8>,
}

impl World {
    fn new() -> World {
        let dns = DnsServer::start();
        let key = Ed25519Key::generate_pkcs8().unwrap();
        let public = Ed25519Key::from_pkcs8_der(&key).unwrap().public_key();
        let public = base64::engine::general_purpose::STANDARD.encode(public);
        dns.txt(
            "s1._domainkey.reporter.test",
            &format!("v=DKIM1; k=ed25519; p={public}"),
        )
        .txt("reporter.test", "v=spf1 ip4:127.0.0.1 -all")
        .txt("_dmarc.reporter.test", "v=DMARC1; p=reject");
        World { dns, key }
    }

    fn server(&self, extra: &str) -> TestServer {
        TestServer::start(&format!("{extra}\n{}", self.dns.config(400)))
    }

    /// Signed with the reporter's key, as it sends.
    fn signed(&self, raw: &[u8]) -> Vec<u8> {
        sign(&self.key, raw)
    }
}

/// Signed as reporter.test with `pkcs8`, selector s1.
fn sign(pkcs8: &[u8], raw: &[u8]) -> Vec<u8> {
    sign_as(pkcs8, "reporter.test", raw)
}

/// A report mail from the reporter about example.com.
fn report_mail(report_id: &str, records: &[(&str, u32, Dmarc)]) -> Vec<u8> {
    let xml = dmarc_report_xml("reporter.test", report_id, "example.com", DAY, records);
    let attachment = base64::engine::general_purpose::STANDARD.encode(gzip(xml.as_bytes()));
    format!(
        "From: DMARC reports <dmarc@reporter.test>\r\nTo: dmarc@sink.test\r\n\
         Subject: Report Domain: example.com Submitter: reporter.test Report-ID: {report_id}\r\n\
         Date: Thu, 16 Nov 2023 03:00:00 +0000\r\nMessage-ID: <{report_id}@reporter.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: application/gzip; name=\"report.xml.gz\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n"
    )
    .into_bytes()
}

/// `import --authenticate` of `mails` (file name, bytes) into a fresh
/// store that resolves through the world's DNS; the folder and the store.
fn import_authenticated(world: &World, mails: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, world.dns.config(400)).unwrap();
    let db = dir.path().join("store.sqlite");
    let mut args = vec![
        "--config".to_owned(),
        config.display().to_string(),
        "--db".to_owned(),
        db.display().to_string(),
        "import".to_owned(),
        "--authenticate".to_owned(),
    ];
    for (name, bytes) in mails {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        args.push(path.display().to_string());
    }
    let output = crate::util::dmarc_sink(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    (dir, db)
}

/// Delivered with lettre, from the reporter's address.
fn deliver_genuine(server: &TestServer, raw: &[u8]) -> u16 {
    let mailer = SmtpTransport::builder_dangerous(GENUINE.to_string())
        .port(server.addr.port())
        .hello_name(ClientId::Domain("mail.reporter.test".into()))
        .build();
    let envelope = Envelope::new(
        Some("bounce@reporter.test".parse().unwrap()),
        vec!["dmarc@sink.test".parse().unwrap()],
    )
    .unwrap();
    match mailer.send_raw(&envelope, raw) {
        Ok(response) => response.code().into(),
        Err(error) => error.status().map_or(0, u16::from),
    }
}

/// Delivered from `source`, an address outside the reporter's SPF record.
fn deliver_from(server: &TestServer, source: Ipv4Addr, raw: &[u8]) -> u16 {
    let mut client = SmtpClient::connect_from(server.addr, Some(source));
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO mail.reporter.test").0, 250);
    client
        .deliver("bounce@reporter.test", "dmarc@sink.test", raw)
        .0
}

fn auth_of(server: &TestServer, message_id: &str) -> (String, Option<String>) {
    let conn = Connection::open(&server.db).unwrap();
    conn.query_row(
        "SELECT auth, auth_results FROM messages WHERE message_id = ?1",
        [message_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .unwrap()
}

/// Messages counted by `summary` for example.com, and what it left out.
fn summary_of(server: &TestServer) -> (i64, serde_json::Value) {
    let json = insight_json(&server.db, &["summary"]);
    let messages = json["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["policy_domain"] == "example.com")
        .map_or(0, |d| d["messages"].as_i64().unwrap());
    (messages, json["left_out"].clone())
}

const PASSING: &[(&str, u32, Dmarc)] = &[("192.0.2.10", 100, Dmarc::Pass)];
/// What a forger would have the sink believe: a flood of failures.
const FORGED: &[(&str, u32, Dmarc)] = &[("198.51.100.66", 5000, Dmarc::Fail)];

#[test]
fn a_genuine_report_is_authenticated_and_counted() {
    let world = World::new();
    let server = world.server("");
    let code = deliver_genuine(&server, &world.signed(&report_mail("genuine-1", PASSING)));
    assert_eq!(code, 250, "{}", server.log());
    let (auth, results) = auth_of(&server, "genuine-1@reporter.test");
    assert_eq!(auth, "authenticated");
    let results = results.unwrap();
    for part in [
        "spf=pass smtp.mailfrom=bounce@reporter.test",
        "dkim=pass header.d=reporter.test header.s=s1",
        "dmarc=pass header.from=reporter.test",
    ] {
        assert!(results.contains(part), "{results}");
    }
    assert_eq!(summary_of(&server), (100, serde_json::json!([])));
    let logged = server.wait_for_log("auth=authenticated dkim=reporter.test", 1);
    assert!(logged[0].contains("outcome=\"stored\""), "{}", logged[0]);
}

#[test]
fn a_forged_report_is_unauthenticated_left_out_and_raises_nothing() {
    let world = World::new();
    let server = world.server("");
    // Unsigned, from outside SPF; then signed with a key not in DNS.
    assert_eq!(
        deliver_from(&server, FORGER, &report_mail("forged-1", FORGED)),
        250
    );
    let other_key = Ed25519Key::generate_pkcs8().unwrap();
    let raw = sign(&other_key, &report_mail("forged-2", FORGED));
    assert_eq!(deliver_from(&server, FORGER, &raw), 250);
    for id in ["forged-1@reporter.test", "forged-2@reporter.test"] {
        let (auth, results) = auth_of(&server, id);
        assert_eq!(auth, "unauthenticated", "{id}");
        let results = results.unwrap();
        assert!(results.contains("dmarc=fail"), "{id}: {results}");
    }
    let (messages, left_out) = summary_of(&server);
    assert_eq!(messages, 0);
    assert_eq!(
        left_out,
        serde_json::json!([{"policy_domain": "example.com", "reports": 2, "messages": 2}])
    );
    assert_eq!(
        server.count("SELECT count(*) FROM failing_sources"),
        0,
        "no failing source noted from a stranger"
    );
    assert_eq!(server.count("SELECT count(*) FROM alerts"), 0);
    let included = insight_json(&server.db, &["summary", "--include-unauthenticated"]);
    assert_eq!(included["domains"][0]["messages"], 10_000);
    assert_eq!(included["left_out"], serde_json::json!([]));
}

#[test]
fn a_forgery_first_is_superseded_by_the_genuine_report() {
    let world = World::new();
    let server = world.server("");
    assert_eq!(
        deliver_from(&server, FORGER, &report_mail("same-1", FORGED)),
        250
    );
    assert_eq!(
        deliver_genuine(&server, &world.signed(&report_mail("same-1", PASSING))),
        250
    );
    let conn = Connection::open(&server.db).unwrap();
    let rows: Vec<(i64, Option<i64>, String)> = conn
        .prepare(
            "SELECT rep.id, rep.superseded_by, m.auth FROM reports rep
             JOIN messages m ON m.id = rep.message ORDER BY rep.id",
        )
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            (1, Some(2), "unauthenticated".to_owned()),
            (2, None, "authenticated".to_owned())
        ]
    );
    // Only the genuine report's records count, even with the forgery asked for.
    assert_eq!(summary_of(&server).0, 100);
    let included = insight_json(&server.db, &["summary", "--include-unauthenticated"]);
    assert_eq!(included["domains"][0]["messages"], 100);
    let daily: i64 = conn
        .query_row("SELECT sum(messages) FROM daily_totals", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(daily, 100);
}

#[test]
fn a_forgery_after_the_genuine_report_is_a_duplicate() {
    let world = World::new();
    let server = world.server("");
    assert_eq!(
        deliver_genuine(&server, &world.signed(&report_mail("same-2", PASSING))),
        250
    );
    assert_eq!(
        deliver_from(&server, FORGER, &report_mail("same-2", FORGED)),
        250
    );
    let outcomes: Vec<String> = Connection::open(&server.db)
        .unwrap()
        .prepare("SELECT outcome FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(outcomes, ["stored", "duplicate"]);
    assert_eq!(server.count("SELECT count(*) FROM reports"), 1);
    assert_eq!(summary_of(&server).0, 100);
}

#[test]
fn reject_refuses_a_forgery_and_defers_what_dns_left_unchecked() {
    let world = World::new();
    // A reporter whose DMARC record the resolver cannot get in time.
    world
        .dns
        .behave("_dmarc.slow.test", Behaviour::Silent)
        .behave("slow.test", Behaviour::Silent);
    let server = world.server("[trust]\nunauthenticated = \"reject\"\n");
    assert_eq!(
        deliver_from(&server, FORGER, &report_mail("forged-3", FORGED)),
        550
    );
    let slow = String::from_utf8(report_mail("slow-1", PASSING))
        .unwrap()
        .replace("dmarc@reporter.test", "dmarc@slow.test");
    assert_eq!(deliver_from(&server, FORGER, slow.as_bytes()), 451);
    assert_eq!(server.count("SELECT count(*) FROM messages"), 0);
    // The genuine reporter is unaffected.
    assert_eq!(
        deliver_genuine(&server, &world.signed(&report_mail("genuine-3", PASSING))),
        250
    );
    assert_eq!(summary_of(&server).0, 100);
    server.wait_for_log("outcome=\"refused_unauthenticated\"", 2);
}

#[test]
fn quarantine_keeps_a_forgery_whole_and_unread() {
    let world = World::new();
    let server = world.server("[trust]\nunauthenticated = \"quarantine\"\n");
    assert_eq!(
        deliver_from(&server, FORGER, &report_mail("forged-4", FORGED)),
        250
    );
    let conn = Connection::open(&server.db).unwrap();
    let (member, kind): (String, String) = conn
        .query_row("SELECT member, kind FROM quarantine", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!((member.as_str(), kind.as_str()), ("0", "unauthenticated"));
    assert_eq!(server.count("SELECT count(*) FROM reports"), 0);
    let (auth, _) = auth_of(&server, "forged-4@reporter.test");
    assert_eq!(auth, "unauthenticated");
    // `reparse` leaves it unread: that was the operator's choice.
    let output =
        crate::util::dmarc_sink(&["--db", server.db.to_str().unwrap(), "reparse", "--all"]);
    assert!(
        text(&output.stdout).starts_with("reparsed 0 messages"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn forgeries_move_no_verdict_and_are_counted_as_left_out() {
    let world = World::new();
    let server = world.server("");
    // Two weeks of genuine reports: example.com's own mail passes.
    for day in 0..14 {
        let xml_day = format!("genuine-day-{day}");
        let raw = report_mail(&xml_day, &[("192.0.2.10", 200, Dmarc::Pass)]);
        assert_eq!(deliver_genuine(&server, &world.signed(&raw)), 250);
    }
    let policy_before = insight_json(&server.db, &["policy"]);
    let sources_before = insight_json(&server.db, &["sources"]);
    assert_eq!(policy_before["left_out"], serde_json::json!([]));
    // A forger reports a large sender failing, to hold the domain back.
    for n in 0..3 {
        let raw = report_mail(&format!("forged-day-{n}"), FORGED);
        assert_eq!(deliver_from(&server, FORGER, &raw), 250);
    }
    let policy_after = insight_json(&server.db, &["policy"]);
    let sources_after = insight_json(&server.db, &["sources"]);
    assert_eq!(policy_after["domains"], policy_before["domains"]);
    assert_eq!(sources_after["sources"], sources_before["sources"]);
    let left_out =
        serde_json::json!([{"policy_domain": "example.com", "reports": 3, "messages": 3}]);
    assert_eq!(policy_after["left_out"], left_out);
    assert_eq!(sources_after["left_out"], left_out);
    assert_eq!(sources_after["sources"][0]["authenticated_reporters"], 1);
    // The tables and the page say so too.
    let table = crate::util::insight_command(&server.db, &["policy"]);
    assert!(
        table.contains("example.com: 3 reports in 3 messages"),
        "{table}"
    );
    let page = server.dir.path().join("report.html");
    crate::util::insight_command(&server.db, &["html", "--out", page.to_str().unwrap()]);
    let page = std::fs::read_to_string(page).unwrap();
    assert!(
        page.contains("<li><b>example.com</b>: 3 reports in 3 messages</li>"),
        "{page}"
    );
}

#[test]
fn the_601st_message_in_an_hour_from_one_address_is_deferred() {
    let world = World::new();
    // The default, which the tests' harness otherwise lifts.
    let server = world.server("[smtp]\nmax_messages_per_ip_per_hour = 600\n");
    let flooder = Ipv4Addr::new(127, 0, 0, 4);
    let mut client = SmtpClient::connect_from(server.addr, Some(flooder));
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO flood.test").0, 250);
    let junk = b"From: a@flood.test\r\nSubject: hello\r\n\r\nnot a report\r\n";
    for n in 0..600 {
        let (code, reply) = client.deliver("a@flood.test", "dmarc@sink.test", junk);
        assert_eq!(code, 550, "message {n}: {reply}");
    }
    let (code, reply) = client.command("MAIL FROM:<a@flood.test>");
    assert_eq!((code, reply.contains("4.7.0")), (451, true), "{reply}");
    server.wait_for_log("smtp.max_messages_per_ip_per_hour", 1);
    // Another address is unaffected.
    let mut other = SmtpClient::connect_from(server.addr, Some(Ipv4Addr::new(127, 0, 0, 5)));
    assert_eq!(other.reply().0, 220);
    assert_eq!(other.command("EHLO other.test").0, 250);
    assert_eq!(other.command("MAIL FROM:<b@other.test>").0, 250);
}

#[test]
fn import_authenticate_checks_dkim_and_dmarc_by_dkim_alone() {
    let world = World::new();
    let (dir, db) = import_authenticated(
        &world,
        &[
            (
                "genuine.eml",
                world.signed(&report_mail("imported-1", PASSING)),
            ),
            ("forged.eml", report_mail("imported-2", FORGED)),
        ],
    );
    let conn = Connection::open(&db).unwrap();
    let auth: Vec<(String, String)> = conn
        .prepare("SELECT message_id, auth FROM messages ORDER BY message_id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        auth,
        [
            (
                "imported-1@reporter.test".to_owned(),
                "authenticated".to_owned()
            ),
            (
                "imported-2@reporter.test".to_owned(),
                "unauthenticated".to_owned()
            )
        ]
    );
    // Without --authenticate, an import checks nothing and counts all.
    let plain = dir.path().join("plain.sqlite");
    let forged = dir.path().join("forged.eml");
    let output = crate::util::dmarc_sink(&[
        "--db",
        plain.to_str().unwrap(),
        "import",
        forged.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    let auth: String = Connection::open(&plain)
        .unwrap()
        .query_row("SELECT auth FROM messages", [], |row| row.get(0))
        .unwrap();
    assert_eq!(auth, "unchecked");
}

#[test]
fn dns_answers_are_cached_and_slow_ones_still_count() {
    let world = World::new();
    // The DMARC record comes late, but within [dns] timeout_ms.
    world.dns.behave(
        "_dmarc.reporter.test",
        Behaviour::Slow(Duration::from_millis(150)),
    );
    let server = world.server("");
    let first = world.signed(&report_mail("cached-1", PASSING));
    assert_eq!(deliver_genuine(&server, &first), 250);
    assert_eq!(
        auth_of(&server, "cached-1@reporter.test").0,
        "authenticated"
    );
    let asked = world.dns.queries();
    let second = world.signed(&report_mail("cached-2", PASSING));
    assert_eq!(deliver_genuine(&server, &second), 250);
    assert_eq!(
        auth_of(&server, "cached-2@reporter.test").0,
        "authenticated"
    );
    assert_eq!(
        world.dns.queries(),
        asked,
        "the second message asked DNS nothing"
    );
}

#[test]
fn a_tls_report_forged_first_is_superseded_too() {
    use crate::util::tls_failure::{TlsFailure, TlsPolicy, TlsReport};
    let world = World::new();
    let server = world.server("");
    let forged = TlsReport::new(
        "reporter.test",
        "tls-same-1",
        DAY,
        vec![TlsPolicy::sts(
            "example.com",
            0,
            vec![TlsFailure::new(
                "certificate-expired",
                "mx1.example.com",
                900,
            )],
        )],
    );
    let genuine = TlsReport::new(
        "reporter.test",
        "tls-same-1",
        DAY,
        vec![TlsPolicy::sts("example.com", 1000, vec![])],
    );
    assert_eq!(deliver_from(&server, FORGER, &forged.mail()), 250);
    assert_eq!(
        deliver_genuine(&server, &world.signed(&genuine.mail())),
        250
    );
    let conn = Connection::open(&server.db).unwrap();
    let rows: Vec<(i64, Option<i64>)> = conn
        .prepare("SELECT id, superseded_by FROM tls_reports ORDER BY id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, [(1, Some(2)), (2, None)]);
    let summary = insight_json(&server.db, &["summary", "--include-unauthenticated"]);
    let tls = &summary["domains"][0]["tls"];
    assert_eq!(
        (
            tls["successful_sessions"].as_i64(),
            tls["failed_sessions"].as_i64()
        ),
        (Some(1000), Some(0)),
        "{summary}"
    );
    assert_eq!(
        server.count("SELECT count(*) FROM tls_failure_types"),
        0,
        "the forgery noted no failure type"
    );
}

/// A stranger with a domain of its own that authenticates: attacker.test,
/// with its own key, SPF for [`FORGER`] and DMARC.
fn add_attacker(world: &World) -> Vec<u8> {
    let key = Ed25519Key::generate_pkcs8().unwrap();
    let public = Ed25519Key::from_pkcs8_der(&key).unwrap().public_key();
    let public = base64::engine::general_purpose::STANDARD.encode(public);
    world
        .dns
        .txt(
            "s1._domainkey.attacker.test",
            &format!("v=DKIM1; k=ed25519; p={public}"),
        )
        .txt("attacker.test", "v=spf1 ip4:127.0.0.3 -all")
        .txt("_dmarc.attacker.test", "v=DMARC1; p=reject");
    key
}

fn sign_as(pkcs8: &[u8], domain: &str, raw: &[u8]) -> Vec<u8> {
    let key = Ed25519Key::from_pkcs8_der(pkcs8).unwrap();
    let signature = DkimSigner::from_key(key)
        .domain(domain)
        .selector("s1")
        .headers(["From", "To", "Subject", "Date", "Message-ID"])
        .sign(raw)
        .unwrap();
    let mut signed = signature.to_header().into_bytes();
    signed.extend_from_slice(raw);
    signed
}

#[test]
fn an_authenticated_stranger_cannot_vouch_for_another_reporters_report() {
    let world = World::new();
    let attacker_key = add_attacker(&world);
    let server = world.server("");
    // The stranger's own mail authenticates, but the report inside claims
    // to be reporter.test's.
    let raw = String::from_utf8(report_mail("same-5", FORGED))
        .unwrap()
        .replace(
            "From: DMARC reports <dmarc@reporter.test>",
            "From: <dmarc@attacker.test>",
        );
    let signed = sign_as(&attacker_key, "attacker.test", raw.as_bytes());
    let mut client = SmtpClient::connect_from(server.addr, Some(FORGER));
    assert_eq!(client.reply().0, 220);
    assert_eq!(client.command("EHLO mail.attacker.test").0, 250);
    let (code, _) = client.deliver("bounce@attacker.test", "dmarc@sink.test", &signed);
    assert_eq!(code, 250);
    let (auth, results) = auth_of(&server, "same-5@reporter.test");
    assert!(
        results
            .unwrap()
            .contains("dmarc=pass header.from=attacker.test")
    );
    assert_eq!(
        auth, "unauthenticated",
        "the message does not vouch for its report"
    );
    // The real report arrives: it replaces the stranger's.
    assert_eq!(
        deliver_genuine(&server, &world.signed(&report_mail("same-5", PASSING))),
        250
    );
    assert_eq!(
        server.count("SELECT count(*) FROM reports WHERE superseded_by IS NOT NULL"),
        1
    );
    assert_eq!(summary_of(&server).0, 100);
    assert_eq!(server.count("SELECT count(*) FROM alerts"), 0);
}

#[test]
fn a_header_section_read_two_ways_does_not_authenticate() {
    let world = World::new();
    // A genuine signed mail with a multipart prepended, with bare line
    // feeds: for the walker its header section ends at a whitespace-only
    // line, and so does its part's, which holds a forged report on one
    // line; for DKIM those lines fold, and the genuine headers and body are
    // what it checks. (Over SMTP the line ends become CRLF and DKIM no
    // longer finds the From; a file keeps them, hence `import`.)
    let genuine = world.signed(&report_mail("genuine-6", PASSING));
    let fake = dmarc_report_xml("reporter.test", "same-6", "example.com", DAY, FORGED);
    let fake = fake[fake.find("<feedback>").unwrap()..].replace('\n', "");
    let mut raw = format!(
        "Content-Type: multipart/mixed; boundary=Z\r\n \r\n--Z\nContent-Type: text/xml\n \n\
         {fake}\n--Z--\n"
    )
    .into_bytes();
    raw.extend_from_slice(&genuine);
    let (_dir, db) = import_authenticated(&world, &[("two-ways.eml", raw)]);
    let (auth, results, org): (String, Option<String>, String) = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT m.auth, m.auth_results, r.report_id FROM messages m
             JOIN reports r ON r.message = m.id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!(org, "same-6", "the walker read the forged report");
    assert_eq!(auth, "unauthenticated", "{results:?}");
    assert!(
        results
            .unwrap()
            .contains("the header section reads two ways"),
        "refused for that reason"
    );
}

#[test]
fn two_from_addresses_do_not_authenticate() {
    let world = World::new();
    let server = world.server("");
    let raw = String::from_utf8(report_mail("two-from-7", PASSING))
        .unwrap()
        .replace(
            "From: DMARC reports <dmarc@reporter.test>",
            "From: <x@attacker.test>\r\nFrom: DMARC reports <dmarc@reporter.test>",
        );
    assert_eq!(deliver_genuine(&server, &world.signed(raw.as_bytes())), 250);
    let (auth, results) = auth_of(&server, "two-from-7@reporter.test");
    assert_eq!(auth, "unauthenticated", "{results:?}");
}
