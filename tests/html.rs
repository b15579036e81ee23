//! `dmarc-sink html` as a user runs it, over reports imported with the real
//! binary from gzip, zip and plain files built here; then the page as a
//! real headless browser shows it ([`browser`]).

mod browser;

use crate::util::mail::{gzip, zip};
use crate::util::report::{Report, Row};
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
/// - a domain and a source IP that are markup, as a plain .xml.
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
    let db = dir.path().join("store.sqlite");
    let out = dmarc_sink(&["--db", path(&db), "import", path(&inputs)]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    (dir, db)
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
