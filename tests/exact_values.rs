//! Every stored value is what the reporter sent: report mails of the shapes
//! that an earlier reader got wrong (`tests/data/mime/`, each named for its
//! quirk), through `import`, over SMTP with lettre, and through `reparse`
//! of a store that the earlier reader wrote, all read back and compared
//! with the values that went in.

use crate::util::server::TestServer;
use crate::util::{dmarc_sink, text};
use lettre::address::Envelope;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mime");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

/// The values the fixtures carry, as their senders wrote them.
fn expected() -> Stored {
    Stored {
        aggregate: vec![
            ("Forwarded Reports Ltd".into(), "forwarded-5".into()),
            ("Leading Blank Line Inc.".into(), "leading-blank-4".into()),
            ("Post Müller GmbH".into(), "latin1-undeclared-1".into()),
            ("Réseau “Mail”".into(), "cp1252-labelled-3".into()),
            (
                "Société Générale des Postes".into(),
                "latin1-labelled-2".into(),
            ),
        ],
        comments: vec!["forwarded € list".into()],
        tls: vec![(
            "Flügel Mail AG".into(),
            "tls-7ü".into(),
            "Zertifikat abgelaufen – äöü".into(),
        )],
        failure: vec![(
            "global-digest.example".into(),
            "rfc822.digest.global-6@global-digest.example".into(),
        )],
        message_ids: vec![
            "cp1252-labelled-3@reseau.example".into(),
            "fwd-5@example.com".into(),
            "latin1-labelled-2@sgp.example".into(),
            "latin1-undeclared-1@post-mueller.example".into(),
            "leading-blank-4@blank.example".into(),
            "rfc822.digest.global-6@global-digest.example".into(),
            "tls-7@fluegel.example".into(),
        ],
    }
}

/// What a store holds of those values, sorted.
#[derive(Debug, PartialEq, Eq)]
struct Stored {
    aggregate: Vec<(String, String)>,
    comments: Vec<String>,
    tls: Vec<(String, String, String)>,
    failure: Vec<(String, String)>,
    message_ids: Vec<String>,
}

impl Stored {
    fn read(db: &Path) -> Stored {
        let conn = Connection::open(db).unwrap();
        let pairs = |sql: &str| -> Vec<(String, String)> {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let singles = |sql: &str| -> Vec<String> {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |row| row.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let mut stmt = conn
            .prepare(
                "SELECT r.org_name, r.report_id, f.additional_information
                 FROM tls_reports r JOIN tls_policies p ON p.report = r.id
                 JOIN tls_failures f ON f.policy = p.id ORDER BY r.org_name",
            )
            .unwrap();
        let tls = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        Stored {
            aggregate: pairs("SELECT org_name, report_id FROM reports ORDER BY org_name"),
            comments: singles("SELECT comment FROM record_reasons WHERE comment IS NOT NULL"),
            tls,
            failure: pairs("SELECT reporter, report_message_id FROM failure_reports"),
            message_ids: singles(
                "SELECT message_id FROM messages WHERE message_id IS NOT NULL ORDER BY message_id",
            ),
        }
    }
}

#[test]
fn import_stores_every_value_as_sent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let mut args: Vec<String> = vec!["--db".into(), db.display().to_string(), "import".into()];
    args.extend(fixtures().iter().map(|p| p.display().to_string()));
    let output = dmarc_sink(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("0 quarantined, 0 not a report, 0 failed"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(Stored::read(&db), expected());
}

fn mailer(server: &TestServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .hello_name(ClientId::Domain("mail.reporter.example".into()))
        .build()
}

#[test]
fn smtp_stores_every_value_as_sent() {
    let server = TestServer::start("");
    let mailer = mailer(&server);
    let envelope = Envelope::new(
        Some("bounce@reporter.example".parse().unwrap()),
        vec!["dmarc@sink.test".parse().unwrap()],
    )
    .unwrap();
    for path in fixtures() {
        let raw = std::fs::read(&path).unwrap();
        let reply = mailer.send_raw(&envelope, &raw);
        assert!(
            reply.as_ref().is_ok_and(|r| r.code().to_string() == "250"),
            "{}: {reply:?}",
            path.display()
        );
    }
    assert_eq!(Stored::read(&server.db), expected());
}

/// lettre's own MIME: a Latin-1 report it base64-encodes, labelled with
/// its charset, and the XML declaring the same.
#[test]
fn a_latin1_attachment_built_by_lettre_is_decoded_once() {
    let server = TestServer::start("");
    let xml =
        crate::util::mail::report_xml("Grüße Mail", "lettre-1", "example.com", &[("192.0.2.8", 2)])
            .replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
    let latin1: Vec<u8> = xml
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    let message = Message::builder()
        .from("Grüße <dmarc@gruesse.example>".parse().unwrap())
        .to("dmarc@sink.test".parse().unwrap())
        .subject("Report Domain: example.com Submitter: gruesse.example")
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain("Report attached.".to_owned()))
                .singlepart(Attachment::new("report.xml".into()).body(
                    latin1,
                    ContentType::parse("text/xml; charset=iso-8859-1").unwrap(),
                )),
        )
        .unwrap();
    mailer(&server).send(&message).unwrap();
    let conn = Connection::open(&server.db).unwrap();
    let org: String = conn
        .query_row("SELECT org_name FROM reports", [], |row| row.get(0))
        .unwrap();
    assert_eq!(org, "Grüße Mail");
}

#[test]
fn reparse_rewrites_what_an_earlier_reader_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    // Written by `dmarc-sink import` of the fixtures, before the walker.
    let before =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/store-before-mime-walker.sqlite");
    std::fs::copy(before, &db).unwrap();
    let wrong = Stored::read(&db);
    assert_ne!(
        wrong,
        expected(),
        "the fixture holds the earlier reader's values"
    );
    let ids = |db: &Path| -> Vec<i64> {
        let conn = Connection::open(db).unwrap();
        let mut stmt = conn.prepare("SELECT id FROM reports ORDER BY id").unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let ids_before = ids(&db);

    let output = dmarc_sink(&["--db", db.to_str().unwrap(), "reparse"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).trim(),
        "reparsed 7 messages: 2 reports recovered, 0 payloads still quarantined"
    );
    assert_eq!(Stored::read(&db), expected());
    let ids_after = ids(&db);
    assert_eq!(
        ids_after[..ids_before.len()],
        ids_before[..],
        "rewritten in place"
    );

    // Read by this reader now: a second reparse has nothing to do.
    let again = dmarc_sink(&["--db", db.to_str().unwrap(), "reparse"]);
    assert!(
        text(&again.stdout).starts_with("reparsed 0 messages"),
        "{}",
        text(&again.stdout)
    );
}
