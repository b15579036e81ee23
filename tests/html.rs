//! `dmarc-sink html` as a user runs it, over reports imported with the real
//! binary from gzip, zip and plain files built here; then the page as a
//! real headless browser shows it ([`browser`]).

/// Also the judge of the digest's HTML (tests/digest.rs).
pub mod browser;
/// The page in Japanese.
mod japanese;

use crate::util::mail::{gzip, zip};
use crate::util::report::{Report, Row};
use crate::util::tls_failure::{FailureReport, TlsFailure, TlsPolicy, TlsReport};
use crate::util::{dmarc_sink, text};
use browser::Chromium;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200;
const DAY: i64 = 86_400;
/// Days of example.com's reports; the sixth is missing.
const EXAMPLE_DAYS: i64 = 14;
const GAP_DAY: i64 = 5;
/// A policy domain and a source IP that are markup, as the XML of a
/// hostile report spells them (the parser unescapes them into the store).
const HOSTILE_DOMAIN_XML: &str = "&lt;script&gt;alert(1)&lt;/script&gt;.example";
const HOSTILE_IP_XML: &str = "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;";
/// A receiving MX host name, a failure report's Source-IP and its
/// Auth-Failure that are markup, as a TLS report and an ARF mail carry them.
const HOSTILE_MX: &str = "<script>alert(3)</script>.mx.example.com";
const HOSTILE_SOURCE_IP: &str = "<script>alert(4)</script>";
const HOSTILE_AUTH_FAILURE: &str = "\"><img src=x onerror=alert(5)>";
/// A domain that publishes TLSRPT but gets no aggregate reports.
const TLS_ONLY: &str = "tls-only.example.org";

/// A source that passes on SPF alone: `dkim_missing`.
fn spf_only(ip: &'static str, count: u32, domain: &'static str) -> Row {
    Row {
        dkim: "fail",
        dkim_auth: vec![],
        ..Row::aligned(ip, count, domain)
    }
}

/// A spoofer whose mail the receiver treated with `disposition`.
fn spoofer(ip: &'static str, count: u32, disposition: &'static str) -> Row {
    Row {
        disposition,
        ..Row::failing(ip, count, "spoofer.example")
    }
}

/// A store with three domains imported by the binary:
/// - example.com (p=quarantine): 13 days of reports as .xml.gz, one day
///   missing, a clean source, an SPF-only source, a spoofer quarantined
///   every other day, and on one day 22 one-message spoofers, so more
///   sources exist than the page shows;
/// - shop.example.net (p=reject): 3 days in one .zip, a spoofer rejected;
/// - a domain and a source IP that are markup, as a plain .xml;
/// - for example.com, two SMTP TLS reports as .json: 907 sessions, 7
///   failed towards mx1.example.com (6, two sending IPs, two reporters)
///   and towards an MX whose name is markup (1), and three failure
///   reports as .eml: two about 198.51.100.66 (5 incidents, dmarc, and 1,
///   spf), one whose Source-IP and Auth-Failure are markup;
/// - TLS_ONLY: TLS reports only, 2 of 32 sessions failed.
fn fixture() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    for day in (0..EXAMPLE_DAYS).filter(|&d| d != GAP_DAY) {
        let mut rows = vec![
            Row::aligned("192.0.2.10", 400 + 10 * day as u32, "example.com"),
            spf_only("192.0.2.70", 50, "example.com"),
        ];
        if day % 2 == 0 {
            rows.push(spoofer("198.51.100.66", 20, "quarantine"));
        }
        if day == 3 {
            for i in 1..=22 {
                let ip: &'static str = Box::leak(format!("203.0.113.{i}").into_boxed_str());
                rows.push(spoofer(ip, 1, "quarantine"));
            }
        }
        let report = Report {
            org: "google.com",
            id: format!("google-{day}"),
            domain: "example.com",
            begin: NOV_1 + day * DAY,
            p: "quarantine",
            pct: 100,
            rows,
        };
        let file = inputs.join(format!("google-{day}.xml.gz"));
        std::fs::write(file, gzip(report.xml().as_bytes())).unwrap();
    }
    let shop: Vec<(String, String)> = (0..3)
        .map(|day| {
            let report = Report {
                org: "Yahoo",
                id: format!("yahoo-{day}"),
                domain: "shop.example.net",
                begin: NOV_1 + (2 + day) * DAY,
                p: "reject",
                pct: 100,
                rows: vec![
                    Row::aligned("192.0.2.20", 80, "shop.example.net"),
                    spoofer("198.51.100.99", 7, "reject"),
                ],
            };
            (format!("yahoo-{day}.xml"), report.xml())
        })
        .collect();
    let entries: Vec<(&str, &[u8])> = shop
        .iter()
        .map(|(name, xml)| (name.as_str(), xml.as_bytes()))
        .collect();
    std::fs::write(inputs.join("yahoo.zip"), zip(&entries)).unwrap();
    let hostile = Report {
        org: "evil.example",
        id: "evil-1".into(),
        domain: HOSTILE_DOMAIN_XML,
        begin: NOV_1 + 4 * DAY,
        p: "none",
        pct: 100,
        rows: vec![Row::failing(HOSTILE_IP_XML, 3, "evil.example")],
    };
    std::fs::write(inputs.join("evil.xml"), hostile.xml()).unwrap();
    write_tls_and_failure_reports(&inputs);
    let db = dir.path().join("store.sqlite");
    let out = dmarc_sink(&["--db", path(&db), "import", path(&inputs)]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    (dir, db)
}

/// The SMTP TLS reports and failure reports of [`fixture`], into `inputs`.
fn write_tls_and_failure_reports(inputs: &Path) {
    let failure = |result_type, sending_mta_ip, receiving_mx, failed_sessions| TlsFailure {
        result_type,
        sending_mta_ip,
        receiving_mx: Some(receiving_mx),
        receiving_ip: None,
        failed_sessions,
    };
    let tls = [
        TlsReport::new(
            "google.com",
            "tls-google",
            NOV_1 + 2 * DAY,
            vec![
                TlsPolicy::sts(
                    "example.com",
                    600,
                    vec![
                        failure("certificate-expired", "198.51.100.1", "mx1.example.com", 5),
                        failure("validation-failure", HOSTILE_SOURCE_IP, HOSTILE_MX, 1),
                    ],
                ),
                TlsPolicy::sts(
                    TLS_ONLY,
                    30,
                    vec![failure(
                        "starttls-not-supported",
                        "198.51.100.3",
                        "mx.tls-only.example.org",
                        2,
                    )],
                ),
            ],
        ),
        TlsReport::new(
            "microsoft.com",
            "tls-microsoft",
            NOV_1 + 3 * DAY,
            vec![TlsPolicy::sts(
                "example.com",
                300,
                vec![failure(
                    "certificate-expired",
                    "198.51.100.2",
                    "mx1.example.com",
                    1,
                )],
            )],
        ),
    ];
    for report in &tls {
        let file = inputs.join(format!("{}.json", report.report_id));
        std::fs::write(file, report.json()).unwrap();
    }
    let reports = [
        ("198.51.100.66", "dmarc", Some(5), NOV_1 + 3 * DAY),
        ("198.51.100.66", "spf", None, NOV_1 + 4 * DAY),
        (
            HOSTILE_SOURCE_IP,
            HOSTILE_AUTH_FAILURE,
            None,
            NOV_1 + 4 * DAY,
        ),
    ];
    for (n, (source_ip, auth_failure, incidents, arrival)) in reports.into_iter().enumerate() {
        let report = FailureReport {
            reporter: "receiver.example",
            message_id: format!("failure-{n}@receiver.example"),
            reported_domain: "example.com",
            source_ip,
            auth_failure,
            incidents,
            arrival: Some(arrival),
        };
        std::fs::write(inputs.join(format!("failure-{n}.eml")), report.eml()).unwrap();
    }
}

/// The rows of the first `<table class="{class}">` in `html`, each cell's
/// text without its tags (entities left as they are).
fn table_rows(html: &str, class: &str) -> Vec<Vec<String>> {
    let table = html
        .split(&format!("<table class=\"{class}\">"))
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_else(|| panic!("no table {class}"));
    let body = table.split("<tbody>").nth(1).unwrap_or(table);
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = cell.split("</td>").next().unwrap();
                    let cell = &cell[cell.find('>').unwrap() + 1..];
                    without_tags(cell)
                })
                .collect()
        })
        .collect()
}

/// `html` without its tags: `<br>` as a space.
fn without_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.replace("<br>", " ").chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The section of the page for `domain` (as its heading spells it).
fn domain_section<'a>(html: &'a str, domain: &str) -> &'a str {
    html.split(&format!("<h2>{domain}</h2>"))
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap_or_else(|| panic!("no section {domain}"))
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `dmarc-sink --db DB html --out DIR/page.html ARGS…` and returns the
/// page's path and text.
fn write_page(db: &Path, dir: &Path, args: &[&str]) -> (PathBuf, String) {
    let page = dir.join("page.html");
    let mut all = vec!["--db", path(db), "html", "--out", path(&page)];
    all.extend_from_slice(args);
    let out = dmarc_sink(&all);
    assert!(out.status.success(), "html: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("wrote"), "{}", text(&out.stdout));
    let html = std::fs::read_to_string(&page).unwrap();
    (page, html)
}

/// Nothing in `html` can load anything from elsewhere.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    assert!(
        html.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; img-src data:\">"
        ),
        "no Content-Security-Policy"
    );
    for outside in [
        "src=\"http",
        "href=\"http",
        "<link",
        "url(",
        "@import",
        "<script",
        "<iframe",
    ] {
        assert!(!html.contains(outside), "the page holds {outside:?}");
    }
}

#[test]
fn the_page_shows_each_domain_with_chart_sources_and_dispositions() {
    let (dir, db) = fixture();
    let (_, html) = write_page(&db, dir.path(), &[]);
    assert_self_contained(&html);
    assert!(
        html.contains("<title>DMARC reports · 2026-11-01 – 2026-11-14</title>"),
        "title"
    );
    assert!(html.contains("generated <time"), "generation time");
    for domain in ["example.com", "shop.example.net"] {
        assert!(html.contains(&format!("<h2>{domain}</h2>")), "{domain}");
    }
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        3,
        "a chart per domain"
    );
    // example.com's lines break at the missing day: two runs of days.
    let example = html.split("<h2>example.com</h2>").nth(1).unwrap();
    let dmarc_line = example
        .split("<path class=\"line dmarc\" d=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert_eq!(dmarc_line.matches('M').count(), 2, "{dmarc_line}");
    assert!(
        example.contains("2026-11-03: 490 messages"),
        "a day's tooltip"
    );
    for ip in [
        "192.0.2.10",
        "192.0.2.70",
        "198.51.100.66",
        "192.0.2.20",
        "198.51.100.99",
    ] {
        assert!(
            html.contains(&format!("<span class=\"ip\">{ip}</span>")),
            "{ip}"
        );
    }
    for code in ["aligned", "dkim_missing", "unauthorised"] {
        assert!(html.contains(&format!("\">{code}</span>")), "{code}");
    }
    assert!(
        html.contains("<tr class=\"bad\">"),
        "failing sources stand out"
    );
    // 25 sources for example.com, 20 shown.
    assert!(
        example.contains("… and 5 more sources"),
        "the sources not shown are counted"
    );
    // Dispositions: example.com's spoofers quarantined (7 × 20 + 22),
    // shop's rejected (3 × 7).
    assert!(example.contains("quarantined <b>162</b>"), "quarantined");
    let shop = html.split("<h2>shop.example.net</h2>").nth(1).unwrap();
    assert!(shop.contains("rejected <b>21</b>"), "rejected");
    assert!(
        html.contains("Ready for") || html.contains("Not ready for"),
        "readiness"
    );
}

#[test]
fn markup_from_reports_comes_out_inert() {
    let (dir, db) = fixture();
    let (_, html) = write_page(&db, dir.path(), &[]);
    assert_self_contained(&html);
    assert!(html.contains("<h2>&lt;script&gt;alert(1)&lt;/script&gt;.example</h2>"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(!html.contains("<img"), "a source IP became an element");
    assert!(
        !html.contains("onerror=alert(2)>"),
        "a source IP became markup"
    );
}

#[test]
fn the_page_shows_tls_failures_per_mx_and_failure_reports_per_domain() {
    let (dir, db) = fixture();
    let (_, html) = write_page(&db, dir.path(), &[]);
    assert_self_contained(&html);

    let example = domain_section(&html, "example.com");
    assert!(
        example.contains("2 SMTP TLS reports from 2 organisations"),
        "TLS reports"
    );
    assert!(
        example.contains("7 of 907 sessions failed (0.8%)</span> · 900 successful"),
        "TLS sessions"
    );
    assert_eq!(
        table_rows(example, "tls-failures"),
        [
            [
                "mx1.example.com",
                "6",
                "certificate-expired 6",
                "2",
                "2",
                "2026-11-04"
            ],
            [
                "&lt;script&gt;alert(3)&lt;/script&gt;.mx.example.com",
                "1",
                "validation-failure 1",
                "1",
                "1",
                "2026-11-03"
            ],
        ]
    );
    assert!(
        example.contains(
            "3 failure reports for 7 failed messages from 1 reporter · latest arrival \
             2026-11-05 · by kind: dmarc 1, &quot;&gt;&lt;img src=x onerror=alert(5)&gt; 1, spf 1"
        ),
        "failure reports"
    );
    assert_eq!(
        table_rows(example, "failure-sources"),
        [
            [
                "198.51.100.66",
                "2",
                "6",
                "dmarc spf",
                "2026-11-04",
                "2026-11-05"
            ],
            [
                "&lt;script&gt;alert(4)&lt;/script&gt;",
                "1",
                "1",
                "&quot;&gt;&lt;img src=x onerror=alert(5)&gt;",
                "2026-11-05",
                "2026-11-05"
            ],
        ]
    );

    // A domain with TLS reports only has its section, without a chart.
    let tls_only = domain_section(&html, TLS_ONLY);
    assert!(
        tls_only.contains("No DMARC aggregate reports for this domain"),
        "{tls_only}"
    );
    assert!(!tls_only.contains("<svg"), "a chart without aggregate data");
    assert!(!tls_only.contains("Failure reports"), "{tls_only}");
    assert!(tls_only.contains("2 of 32 sessions failed"), "{tls_only}");
    assert_eq!(
        table_rows(tls_only, "tls-failures"),
        [[
            "mx.tls-only.example.org",
            "2",
            "starttls-not-supported 2",
            "1",
            "1",
            "2026-11-03"
        ]]
    );
    // A domain with aggregate reports only has neither card.
    let shop = domain_section(&html, "shop.example.net");
    assert!(!shop.contains("tls-failures"), "TLS card without reports");
    assert!(
        !shop.contains("failure-sources"),
        "failure card without reports"
    );

    let overview = table_rows(&html, "overview");
    let row = |domain: &str| {
        overview
            .iter()
            .find(|row| row[0] == domain)
            .unwrap_or_else(|| panic!("no overview row {domain}: {overview:?}"))
            .clone()
    };
    let example = row("example.com");
    assert_eq!(example[5..], ["7 of 907", "3"]);
    let tls_only = row(TLS_ONLY);
    assert_eq!(tls_only[1..3], ["–", "–"]);
    assert_eq!(tls_only[5..], ["2 of 32", "–"]);
    assert_eq!(row("shop.example.net")[5..], ["–", "–"]);
}

#[test]
fn markup_from_tls_and_failure_reports_comes_out_inert() {
    let (dir, db) = fixture();
    let (_, html) = write_page(&db, dir.path(), &[]);
    assert_self_contained(&html);
    for hostile in [HOSTILE_MX, HOSTILE_SOURCE_IP, HOSTILE_AUTH_FAILURE] {
        assert!(
            !html.contains(hostile),
            "{hostile} is in the page as markup"
        );
    }
    assert!(html.contains("&lt;script&gt;alert(3)&lt;/script&gt;.mx.example.com"));
    assert!(html.contains("<span class=\"ip\">&lt;script&gt;alert(4)&lt;/script&gt;</span>"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(5)&gt;"));
    assert!(!html.contains("<img"), "a report field became an element");
}

#[test]
fn an_empty_store_gives_a_page_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    dmarc_sink::store::Store::open(&db).unwrap();
    let (_, html) = write_page(&db, dir.path(), &[]);
    assert_self_contained(&html);
    assert!(html.contains("<h2>Nothing yet</h2>"), "{html}");
    assert!(!html.contains("<svg"));
}

/// `page` as Chromium shows it, which must have logged nothing to the
/// console and not be blank.
fn render_cleanly(chromium: &Chromium, page: &Path) -> browser::Rendering {
    let shown = chromium.render(page);
    assert!(
        shown.console.is_empty(),
        "console messages: {:#?}",
        shown.console
    );
    assert!(
        !shown.screenshot.is_blank(),
        "blank: {:?}",
        shown.screenshot
    );
    shown
}

#[test]
fn chromium_renders_the_page_without_console_errors() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let (dir, db) = fixture();
    let (page, _) = write_page(&db, dir.path(), &[]);
    let shown = render_cleanly(&chromium, &page);
    assert_eq!(shown.dom.matches("<svg class=\"chart\"").count(), 3);
    assert!(shown.dom.contains("<h2>shop.example.net</h2>"));
    assert!(
        !shown.dom.contains("<img"),
        "markup from a report became an element"
    );
    // The TLS and failure-report tables as the browser parsed them: every
    // row there, the hostile fields as text.
    assert_eq!(
        shown.dom.matches("<table class=\"tls-failures\">").count(),
        2
    );
    assert_eq!(
        shown
            .dom
            .matches("<table class=\"failure-sources\">")
            .count(),
        1
    );
    let example = domain_section(&shown.dom, "example.com");
    let mx: Vec<String> = table_rows(example, "tls-failures")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(
        mx,
        [
            "mx1.example.com",
            "&lt;script&gt;alert(3)&lt;/script&gt;.mx.example.com"
        ]
    );
    let ips: Vec<String> = table_rows(example, "failure-sources")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(
        ips,
        ["198.51.100.66", "&lt;script&gt;alert(4)&lt;/script&gt;"]
    );
    assert!(
        !shown.dom.contains("<script"),
        "markup from a report became a script"
    );
    assert!(shown.dom.contains(&format!("<h2>{TLS_ONLY}</h2>")));

    let empty = tempfile::tempdir().unwrap();
    let empty_db = empty.path().join("store.sqlite");
    dmarc_sink::store::Store::open(&empty_db).unwrap();
    let (page, _) = write_page(&empty_db, empty.path(), &[]);
    let shown = render_cleanly(&chromium, &page);
    assert!(shown.dom.contains("Nothing yet"));
}

/// The negative controls: the checks above would see a broken page.
#[test]
fn chromium_checks_catch_a_script_error_and_a_blank_page() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><title>broken</title><p>text</p><script>undefinedFunction()</script>",
    )
    .unwrap();
    let shown = chromium.render(&broken);
    assert!(
        shown
            .console
            .iter()
            .any(|line| line.contains("undefinedFunction")),
        "the script error was not seen: {:#?}",
        shown.console
    );

    let blank = dir.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><title>blank</title>").unwrap();
    let shown = chromium.render(&blank);
    assert!(shown.console.is_empty(), "{:#?}", shown.console);
    assert!(
        shown.screenshot.is_blank(),
        "not blank: {:?}",
        shown.screenshot
    );
}
