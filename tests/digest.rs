//! `dmarc-sink digest` as a user runs it: reports with dates chosen here
//! imported by the binary (one forged mail through `import --authenticate`
//! against the tests' own DNS), the digest delivered over real SMTP to a
//! loopback relay ([`Relay`]), parsed back with mail-parser, and its HTML
//! opened in Chromium. The silence queries, whose answer depends on the
//! clock, are tested through the library with the clock set here.

/// The digest in Japanese.
mod japanese;

use crate::html::browser::Chromium;
use crate::util::dns::DnsServer;
use crate::util::mail::{Part, gzip, report_mail};
use crate::util::relay::Relay;
use crate::util::report::{Report, Row};
use crate::util::tls_failure::{TlsFailure, TlsPolicy, TlsReport};
use crate::util::{dmarc_sink, text};
use dmarc_sink::store::{SilentDomain, SilentReporter, Store};
use mail_parser::{MessageParser, MimeHeaders};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const DAY: i64 = 86_400;
const HOUR: i64 = 3600;
/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200;
/// The digest's clock: Monday 2026-11-16T00:00:00Z. Its week is Nov 9 to
/// Nov 15, the week before Nov 2 to Nov 8.
const NOW: i64 = NOV_1 + 15 * DAY;
const NOW_ARG: &str = "2026-11-16T00:00:00Z";
/// Nov `n` 00:00 UTC.
const fn nov(n: i64) -> i64 {
    NOV_1 + (n - 1) * DAY
}
/// A policy domain that is markup, as the XML of a hostile report spells it.
const HOSTILE_DOMAIN_XML: &str = "&lt;script&gt;alert(1)&lt;/script&gt;.example";
const HOSTILE_DOMAIN: &str = "<script>alert(1)</script>.example";
/// A TLS report's policy domain that would drive a terminal: OSC 8.
const ESCAPE_DOMAIN: &str = "\u{1b}]8;;https://evil.example\u{7}tls.example";
const PASSWORD: &str = "s3cret";

/// A store whose week to [`NOW`] has something for every section:
/// - example.com: google.com reports every day from Nov 2 to Nov 15, 100
///   aligned messages a day, and on Nov 12 a new source, 203.0.113.7,
///   failing 50; Yahoo every day from Nov 2 to Nov 10 (20 aligned), then
///   silence; Mail.ru on Nov 2 to 4 only (10 aligned), too few days to be
///   missed. The week before: 870 messages, all pass; this week: 790, 740
///   pass (93.7%, -6.3 points).
/// - shop.example.net (p=reject): Yahoo from Oct 28 to Nov 3, then nothing
///   at all: a silent reporter and a silent domain.
/// - a domain that is markup, one report on Nov 13 with a failing source.
/// - SMTP TLS: on Nov 11, 907 sessions towards example.com, 6 failed at
///   mx1.example.com (certificate-expired), 1 at mx2 (starttls); on Nov 14
///   a domain that holds terminal escapes, all 10 sessions fine.
/// - a forged report mail claiming google.com, unsigned (google.com
///   publishes p=reject in the tests' DNS): Yahoo's report for example.com
///   on Nov 14 with 5000 failing messages. It must be left out: neither
///   counted nor keeping Yahoo alive.
fn fixture() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let mut reports = Vec::new();
    for n in 2..=15 {
        let mut rows = vec![Row::aligned("192.0.2.10", 100, "example.com")];
        if n == 12 {
            rows.push(Row::failing("203.0.113.7", 50, "spoofer.example"));
        }
        reports.push(report("google.com", "example.com", n, "none", rows));
    }
    for n in 2..=10 {
        let rows = vec![Row::aligned("192.0.2.10", 20, "example.com")];
        reports.push(report("Yahoo", "example.com", n, "none", rows));
    }
    for n in 2..=4 {
        let rows = vec![Row::aligned("192.0.2.10", 10, "example.com")];
        reports.push(report("Mail.ru", "example.com", n, "none", rows));
    }
    for n in -3..=3 {
        let rows = vec![Row::aligned("192.0.2.20", 80, "shop.example.net")];
        reports.push(report("Yahoo", "shop.example.net", n, "reject", rows));
    }
    let hostile = vec![Row::failing("198.51.100.5", 3, "evil.example")];
    reports.push(report(
        "evil.example",
        HOSTILE_DOMAIN_XML,
        13,
        "none",
        hostile,
    ));
    for (n, r) in reports.iter().enumerate() {
        std::fs::write(inputs.join(format!("report-{n}.xml")), r.xml()).unwrap();
    }
    let tls = [
        TlsReport::new(
            "google.com",
            "tls-1",
            nov(11),
            vec![TlsPolicy::sts(
                "example.com",
                900,
                vec![
                    TlsFailure::new("certificate-expired", "mx1.example.com", 6),
                    TlsFailure::new("starttls-not-supported", "mx2.example.com", 1),
                ],
            )],
        ),
        TlsReport::new(
            "google.com",
            "tls-2",
            nov(14),
            vec![TlsPolicy::sts(ESCAPE_DOMAIN, 10, vec![])],
        ),
    ];
    for report in &tls {
        let file = inputs.join(format!("{}.json.gz", report.report_id));
        std::fs::write(file, gzip(report.json().as_bytes())).unwrap();
    }
    let db = dir.path().join("store.sqlite");
    let out = dmarc_sink(&["--db", path(&db), "import", path(&inputs)]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    import_forgery(dir.path(), &db);
    (dir, db)
}

/// Yahoo's report for example.com on Nov `n`, as `org` sends it.
fn report(
    org: &'static str,
    domain: &'static str,
    n: i64,
    p: &'static str,
    rows: Vec<Row>,
) -> Report {
    Report {
        org,
        id: format!("{org}-{n}-{}", domain.len()),
        domain,
        begin: nov(n),
        p,
        pct: 100,
        rows,
    }
}

/// The forged mail of [`fixture`], through `import --authenticate`.
fn import_forgery(dir: &Path, db: &Path) {
    let dns = DnsServer::start();
    dns.txt("_dmarc.google.com", "v=DMARC1; p=reject");
    let config = dir.join("dns.toml");
    std::fs::write(&config, dns.config(2000)).unwrap();
    let forged = Report {
        id: "forged-1".into(),
        begin: nov(14),
        ..report(
            "Yahoo",
            "example.com",
            14,
            "none",
            vec![Row::failing("198.51.100.66", 5000, "spoofer.example")],
        )
    };
    let mail = report_mail(
        "Report domain: example.com Submitter: yahoo.com",
        "forged-1@google.com",
        vec![Part::attachment(
            "application/gzip",
            "forged.xml.gz",
            &gzip(forged.xml().as_bytes()),
        )],
    );
    let eml = dir.join("forged.eml");
    std::fs::write(&eml, mail).unwrap();
    let out = dmarc_sink(&[
        "--config",
        path(&config),
        "--db",
        path(db),
        "import",
        "--authenticate",
        path(&eml),
    ]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A config in `dir` sending through `relay` with AUTH as `digest`.
fn config(dir: &Path, relay: &str, extra: &str) -> PathBuf {
    let password = dir.join("password");
    std::fs::write(&password, format!("{PASSWORD}\n")).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[digest]\nrelay = \"{relay}\"\nfrom = \"dmarc-sink@sink.example.com\"\n\
             username = \"digest\"\npassword_file = \"{}\"\n{extra}",
            password.display()
        ),
    )
    .unwrap();
    config
}

/// `dmarc-sink --config CONFIG --db DB digest ARGS…`.
fn digest(config: &Path, db: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--config", path(config), "--db", path(db), "digest"];
    all.extend_from_slice(args);
    dmarc_sink(&all)
}

/// The received mail's text and HTML parts, after checking its shape:
/// multipart/alternative of text/plain then text/html, both UTF-8.
fn parts(raw: &[u8]) -> (String, String, String) {
    let message = MessageParser::default().parse(raw).expect("a message");
    let root = message.content_type().expect("a Content-Type");
    assert_eq!(
        (root.ctype(), root.subtype()),
        ("multipart", Some("alternative"))
    );
    let kinds: Vec<(String, Option<String>)> = message.parts[1..]
        .iter()
        .map(|part| {
            let kind = part.content_type().expect("a part's Content-Type");
            (
                format!("{}/{}", kind.ctype(), kind.subtype().unwrap_or("")),
                kind.attribute("charset").map(str::to_ascii_lowercase),
            )
        })
        .collect();
    let utf8 = Some("utf-8".to_owned());
    assert_eq!(
        kinds,
        [
            ("text/plain".to_owned(), utf8.clone()),
            ("text/html".to_owned(), utf8)
        ]
    );
    let subject = message.subject().expect("a Subject").to_owned();
    let text = message
        .body_text(0)
        .expect("a text part")
        .replace("\r\n", "\n");
    let html = message.body_html(0).expect("an HTML part").into_owned();
    (subject, text, html)
}

/// The lines of `text` from the one that is `title` to the next blank one.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != title)
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// The text of an HTML fragment, tags dropped and entities of markup undone.
fn without_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_digest_reaches_the_relay_with_every_section_in_both_parts() {
    let (dir, db) = fixture();
    let relay = Relay::start();
    let config = config(
        dir.path(),
        &relay.addr.to_string(),
        "to = [\"ops@example.com\"]\n",
    );
    let out = digest(
        &config,
        &db,
        &[
            "--until",
            NOW_ARG,
            "--to",
            "dmarc@example.com",
            "--to",
            "ops@example.org",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("sent the digest to dmarc@example.com, ops@example.org"),
        "{}",
        text(&out.stdout)
    );
    let delivery = relay.next();
    // --to replaces digest.to; AUTH with the file's password, trimmed.
    assert_eq!(
        delivery.rcpt_to,
        ["<dmarc@example.com>", "<ops@example.org>"]
    );
    assert_eq!(delivery.mail_from, "<dmarc-sink@sink.example.com>");
    assert_eq!(
        delivery.auth,
        Some(("digest".to_owned(), PASSWORD.to_owned()))
    );
    let (subject, text, html) = parts(&delivery.data);
    assert_eq!(
        subject,
        "[dmarc-sink] DMARC digest 2026-11-09 to 2026-11-15: 793 messages, 93.3% DMARC pass, 3 silent"
    );
    assert!(
        text.starts_with("DMARC digest for 2026-11-09 to 2026-11-15 (UTC)\n"),
        "{text}"
    );
    assert!(
        !text.contains(['\u{1b}', '\u{7}']),
        "a control character:\n{text}"
    );

    let shares = section(&text, "DMARC pass per domain, against the period before");
    assert_eq!(shares.len(), 3, "{text}");
    assert_eq!(
        shares[1].split_whitespace().collect::<Vec<_>>(),
        ["example.com", "790", "93.7%", "100.0%", "-6.3", "pts"]
    );
    assert!(
        shares[2].contains("alert(1)") && shares[2].ends_with("new"),
        "{text}"
    );

    let new = section(&text, "New sources (first seen in the period)");
    let failing = section(&text, "Failing sources not approved (mail failing DMARC)");
    for (list, what) in [(&new, "new"), (&failing, "failing")] {
        let joined = list.join("\n");
        assert!(
            list.iter().any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["203.0.113.7", "-", "50", "50", "0.0%", "unauthorised"]),
            "{what}: {joined}"
        );
        assert!(joined.contains("198.51.100.5"), "{what}: {joined}");
        assert!(
            !joined.contains("198.51.100.66"),
            "the forgery counts: {joined}"
        );
    }
    assert!(
        !new.join("\n").contains("192.0.2.10"),
        "an old source is new: {text}"
    );

    assert_eq!(
        section(&text, "Left out as unauthenticated")[2..],
        ["  example.com: 1 report in 1 message"],
        "{text}"
    );
    let silent = section(&text, "Silent reporters and domains").join(" ");
    for expected in [
        "example.com: Yahoo reported on 9 of the last 30 days and has sent nothing since its report up to 2026-11-10",
        "shop.example.net: Yahoo reported on 7 of the last 30 days",
        "shop.example.net: no report at all since the one up to 2026-11-03",
    ] {
        let flat = silent.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(expected), "{expected:?} in {flat}");
    }
    assert!(!silent.contains("Mail.ru"), "{silent}");

    let tls = section(&text, "TLS failures by receiving MX");
    assert_eq!(
        tls[0], "example.com: 7 of 907 TLS sessions failed (0.8%)",
        "{text}"
    );
    assert_eq!(
        tls[2].split_whitespace().collect::<Vec<_>>(),
        ["mx1.example.com", "6", "certificate-expired", "6"]
    );
    assert_eq!(
        tls[3].split_whitespace().collect::<Vec<_>>(),
        ["mx2.example.com", "1", "starttls-not-supported", "1"]
    );
    assert!(
        tls[4].ends_with("tls.example: 0 of 10 TLS sessions failed (0.0%)"),
        "{text}"
    );

    assert!(
        text.contains("\nexample.com: ready for p=quarantine\n"),
        "{text}"
    );
    assert!(
        text.contains("\nshop.example.net: at p=reject: the end of the road\n"),
        "{text}"
    );

    // The HTML part says the same, every reporter's string escaped.
    assert!(
        !html.contains("<script>"),
        "markup from a report became an element"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.example"));
    let shown = without_tags(&html);
    for expected in [
        "example.com79093.7%100.0%-6.3 pts",
        "example.com203.0.113.7–50500.0%unauthorised",
        "example.com: 1 report in 1 message",
        "example.com: Yahoo reported on 9 of the last 30 days",
        "shop.example.net: no report at all since the one up to 2026-11-03",
        "example.com: 7 of 907 TLS sessions failed (0.8%)",
        "mx1.example.com6certificate-expired 6",
        "example.com: ready for p=quarantine",
        "Publish: v=DMARC1; p=quarantine",
        HOSTILE_DOMAIN,
    ] {
        assert!(
            shown.replace('\n', "").contains(expected),
            "{expected:?} in {shown}"
        );
    }
}

#[test]
fn chromium_shows_the_digest() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let (dir, db) = fixture();
    let config = config(dir.path(), "127.0.0.1:25", "");
    let out = digest(&config, &db, &["--until", NOW_ARG, "--stdout"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, _, html) = parts(&out.stdout);
    let page = dir.path().join("digest.html");
    std::fs::write(&page, &html).unwrap();
    let shown = chromium.render(&page);
    assert!(shown.console.is_empty(), "console: {:#?}", shown.console);
    assert!(
        !shown.screenshot.is_blank(),
        "blank: {:?}",
        shown.screenshot
    );
    for id in [
        "pass-shares",
        "new-sources",
        "failing-sources",
        "tls-failures",
    ] {
        assert!(shown.dom.contains(&format!("<table id=\"{id}\">")), "{id}");
    }
    assert!(shown.dom.contains("<td>203.0.113.7</td>"), "{}", shown.dom);
    assert!(shown.dom.contains("<td>mx1.example.com</td>"));
    assert!(shown.dom.contains("ready for p=quarantine"));
    assert!(
        !shown.dom.contains("<script"),
        "markup from a report became an element"
    );
}

#[test]
fn a_quiet_week_is_sent_too_and_says_so() {
    let (dir, db) = fixture();
    let relay = Relay::start();
    let config = config(
        dir.path(),
        &relay.addr.to_string(),
        "to = [\"ops@example.com\"]\n",
    );
    // Three weeks on, nothing has come since Nov 15.
    let out = digest(&config, &db, &["--until", "2026-12-06T00:00:00Z"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (subject, text, html) = parts(&relay.next().data);
    assert_eq!(
        subject,
        "[dmarc-sink] DMARC digest 2026-11-29 to 2026-12-05: nothing arrived, 6 silent"
    );
    let quiet = section(&text, "Nothing arrived").join(" ");
    assert!(
        quiet.starts_with(
            "No DMARC aggregate, SMTP TLS or failure report arrived between 2026-11-29 and"
        ),
        "{text}"
    );
    assert!(
        quiet.contains("its arrival shows that dmarc-sink"),
        "{text}"
    );
    assert!(!text.contains("Failing sources"), "{text}");
    // Every domain has gone quiet, and the reporters seen on 5 of the last
    // 30 days: google.com on Nov 6 to 15, Yahoo on Nov 6 to 10.
    let silent = section(&text, "Silent reporters and domains").join(" ");
    assert!(
        silent.contains("example.com: google.com reported on 10 of the last 30 days"),
        "{silent}"
    );
    assert!(
        silent.contains("example.com: Yahoo reported on 5 of the last 30 days"),
        "{silent}"
    );
    assert!(!silent.contains("shop.example.net: Yahoo"), "{silent}");
    assert!(
        silent.contains("example.com: no report at all since the one up to 2026-11-15"),
        "{silent}"
    );
    assert!(
        html.contains("<p id=\"quiet\">No DMARC aggregate"),
        "{html}"
    );
}

#[test]
fn stdout_prints_the_whole_message_without_a_relay() {
    let (dir, db) = fixture();
    let config = dir.path().join("empty.toml");
    std::fs::write(&config, "[digest]\nto = [\"ops@example.com\"]\n").unwrap();
    let out = digest(
        &config,
        &db,
        &[
            "--until",
            NOW_ARG,
            "--domain",
            "shop.example.net",
            "--stdout",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let message = MessageParser::default()
        .parse(&out.stdout)
        .expect("a message");
    assert!(message.date().is_some());
    assert!(
        message
            .message_id()
            .is_some_and(|id| id.starts_with("digest."))
    );
    assert_eq!(
        message.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    let to = message
        .to()
        .and_then(|to| to.first())
        .and_then(|a| a.address());
    assert_eq!(to, Some("ops@example.com"));
    let (_, text, _) = parts(&out.stdout);
    // Only the domain asked for: nothing arrived for it this week.
    assert!(text.contains("\nDomains: shop.example.net\n"), "{text}");
    assert!(text.contains("\nNothing arrived\n"), "{text}");
    assert!(!text.contains("example.com:"), "{text}");
}

#[test]
fn an_approved_source_is_new_but_not_failing() {
    let (dir, db) = fixture();
    let approve = crate::util::dmarc_sink(&[
        "--db",
        path(&db),
        "sources",
        "approve",
        "example.com",
        "203.0.113.7",
    ]);
    assert!(approve.status.success(), "{}", text(&approve.stderr));
    let config = dir.path().join("empty.toml");
    std::fs::write(&config, "[digest]\nto = [\"ops@example.com\"]\n").unwrap();
    let out = digest(&config, &db, &["--until", NOW_ARG, "--stdout"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, text, _) = parts(&out.stdout);
    let new = section(&text, "New sources (first seen in the period)").join("\n");
    let failing = section(&text, "Failing sources not approved (mail failing DMARC)").join("\n");
    assert!(new.contains("203.0.113.7"), "{text}");
    assert!(!failing.contains("203.0.113.7"), "{text}");
    assert!(failing.contains("198.51.100.5"), "{text}");
}

#[test]
fn what_cannot_be_sent_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    Store::open(&db).unwrap();
    let write = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        file
    };
    let relay = Relay::start();
    let cases = [
        (
            write("no-relay.toml", "[digest]\nto = [\"ops@example.com\"]\n"),
            vec![],
            78,
            "set digest.relay, or print it with --stdout",
        ),
        (
            write(
                "no-to.toml",
                &format!("[digest]\nrelay = \"{}\"\n", relay.addr),
            ),
            vec![],
            78,
            "set digest.to, or pass --to",
        ),
        (
            write(
                "bad-to.toml",
                &format!("[digest]\nrelay = \"{}\"\n", relay.addr),
            ),
            vec!["--to", "not an address"],
            78,
            "--to \"not an address\" is not an address",
        ),
        (
            write(
                "no-password.toml",
                &format!(
                    "[digest]\nrelay = \"{}\"\nto = [\"ops@example.com\"]\nusername = \"digest\"\n\
                     password_file = \"{}/missing\"\n",
                    relay.addr,
                    dir.path().display()
                ),
            ),
            vec![],
            78,
            "cannot read digest.password_file",
        ),
        (
            write(
                "refused.toml",
                &format!(
                    "[digest]\nrelay = \"{}\"\nto = [\"ops@example.com\"]\n",
                    refused()
                ),
            ),
            vec![],
            1,
            "did not take the digest",
        ),
    ];
    for (config, args, status, message) in cases {
        let out = digest(&config, &db, &args);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(status),
            "{}: {stderr}",
            config.display()
        );
        assert!(stderr.contains(message), "{message:?} in {stderr}");
        assert!(!stderr.contains(PASSWORD));
    }
    assert!(relay.received().is_empty());
}

/// An address on a loopback port where nothing listens.
fn refused() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// Yahoo's report for example.com covered Nov 10: its last second.
const YAHOO_LAST: i64 = NOV_1 + 10 * DAY - 1;

fn silent_reporters(store: &Store, now: i64, min_days: u32) -> Vec<(String, String, u32)> {
    store
        .silent_reporters(now, min_days, 72)
        .unwrap()
        .into_iter()
        .map(
            |SilentReporter {
                 policy_domain,
                 org_name,
                 days_reported,
                 last_report,
             }| {
                assert!(last_report < now - 72 * HOUR);
                (policy_domain, org_name, days_reported)
            },
        )
        .collect()
}

#[test]
fn silence_is_reckoned_from_the_clock_the_caller_gives() {
    let (_dir, db) = fixture();
    let store = Store::open(&db).unwrap();
    let yahoo = |days| ("example.com".to_owned(), "Yahoo".to_owned(), days);
    let shop = ("shop.example.net".to_owned(), "Yahoo".to_owned(), 7);
    // 72 hours after its last report Yahoo is not silent yet; a second later it is.
    assert!(!silent_reporters(&store, YAHOO_LAST + 72 * HOUR, 5).contains(&yahoo(9)));
    assert_eq!(
        silent_reporters(&store, YAHOO_LAST + 72 * HOUR + 1, 5),
        [yahoo(9), shop.clone()]
    );
    // The forged report of Nov 14 did not keep Yahoo alive, and Mail.ru's
    // three days are too few to miss it, unless fewer are asked.
    assert_eq!(silent_reporters(&store, NOW, 5), [yahoo(9), shop.clone()]);
    let mail_ru = ("example.com".to_owned(), "Mail.ru".to_owned(), 3);
    assert_eq!(
        silent_reporters(&store, NOW, 3),
        [mail_ru, yahoo(9), shop.clone()]
    );
    assert_eq!(silent_reporters(&store, NOW, 10), []);
    // Thirty days on, only Nov 10 is still in the window: no longer regular.
    assert!(!silent_reporters(&store, nov(10) + 30 * DAY, 5).contains(&yahoo(1)));
    // Before the reports began, nobody is silent.
    assert_eq!(silent_reporters(&store, nov(1), 1), []);

    let domains = store.silent_domains(NOW, 72).unwrap();
    assert_eq!(
        domains,
        [SilentDomain {
            policy_domain: "shop.example.net".into(),
            last_report: nov(4) - 1,
        }]
    );
    // A TLS report counts as much as an aggregate one: the escape domain's
    // last came on Nov 14.
    let later = store
        .silent_domains(nov(14) + DAY - 1 + 72 * HOUR + 1, 72)
        .unwrap();
    assert!(
        later
            .iter()
            .any(|d| d.policy_domain.ends_with("tls.example")),
        "{later:?}"
    );
    assert_eq!(store.silent_domains(nov(1), 72).unwrap(), []);
}
