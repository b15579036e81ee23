//! The page in Japanese (`--lang ja`, or a Japanese locale): the same
//! figures as the English page, every heading and sentence in Japanese,
//! and, in headless Chromium, drawn with a Japanese font.

use super::browser::{Chromium, japanese_fonts};
use super::{
    assert_self_contained, domain_section, fixture, path, render_cleanly, table_rows, write_page,
};
use crate::util::{dmarc_sink_in_locale, text};
use std::path::{Path, PathBuf};

/// Writes the page in Japanese into `dir/ja/` and returns its path and text.
fn japanese_page(db: &Path, dir: &Path) -> (PathBuf, String) {
    let ja = dir.join("ja");
    std::fs::create_dir_all(&ja).unwrap();
    write_page(db, &ja, &["--lang", "ja"])
}

/// English words of the page that must not be left in the Japanese one.
const ENGLISH: [&str; 12] = [
    "Top sources",
    "Dispositions",
    "Pass rates",
    "messages per day",
    "generated",
    "Failure reports",
    "TLS failures per receiving MX",
    "Receiving MX",
    "more sources",
    "Written by",
    "Ready for",
    "reports from",
];

#[test]
fn the_page_in_japanese_has_japanese_headings_and_the_same_figures() {
    let (dir, db) = fixture();
    let (_, english) = write_page(&db, dir.path(), &[]);
    let (_, html) = japanese_page(&db, dir.path());
    assert_self_contained(&html);
    assert!(english.contains("<html lang=\"en\">"));
    assert!(html.contains("<html lang=\"ja\">"), "{}", &html[..200]);
    assert!(
        html.contains("<title>DMARCレポート · 2026年11月1日～2026年11月14日</title>"),
        "title"
    );
    for heading in [
        "<h1>DMARCとSMTP TLSのレポート</h1>",
        "<h2>ドメイン</h2>",
        "<h3>日ごとの成功率とメール数</h3>",
        "<h3>受信側の処理</h3>",
        "<h3>主な送信元</h3>",
        "<h3>受信MXごとのTLSの失敗</h3>",
        "<h3>失敗レポート</h3>",
    ] {
        assert!(html.contains(heading), "{heading}");
    }
    for english in ENGLISH {
        assert!(!html.contains(english), "{english:?} left in English");
    }
    // Failure reports' other name, once in the page and only in Japanese.
    assert_eq!(html.matches("フォレンジックレポート").count(), 1);
    assert!(!english.contains("フォレンジック"));

    let example = domain_section(&html, "example.com");
    assert!(
        example.contains("報告元1件からのレポート13件 · 2026年11月1日～2026年11月14日"),
        "reports"
    );
    assert!(example.contains("2026年11月3日：490通"), "a day's tooltip");
    assert!(example.contains(">11月1日</text>"), "a day on the axis");
    assert!(example.contains("隔離 <b>162</b>"), "quarantined");
    assert!(
        example.contains("ほかに5件の送信元があります"),
        "more sources"
    );
    assert!(
        example.contains(
            "報告元2件からのSMTP TLSレポート2件 · <span class=\"bad\">\
             907セッション中7セッションが失敗（0.8%）</span> · 成功900セッション"
        ),
        "TLS sessions"
    );
    assert!(
        example.contains(
            "<p class=\"aka\">失敗レポートは、日本語の解説ではフォレンジックレポートとも呼ばれます。</p>\
             <p class=\"muted\">報告元1件から、失敗したメール7通についての失敗レポート3件 · \
             最新の受信日2026年11月5日"
        ),
        "failure reports"
    );
    // The tables hold the same figures; only the days are written the
    // Japanese way.
    assert_eq!(
        table_rows(example, "tls-failures")[0],
        [
            "mx1.example.com",
            "6",
            "certificate-expired 6",
            "2",
            "2",
            "2026年11月4日"
        ]
    );
    let english_sources = table_rows(domain_section(&english, "example.com"), "sources");
    let sources = table_rows(example, "sources");
    assert_eq!(sources.len(), english_sources.len());
    for (ja, en) in sources.iter().zip(&english_sources) {
        assert_eq!(ja[1..5], en[1..5], "messages and shares");
    }
    let row = |html: &str| {
        table_rows(html, "overview")
            .into_iter()
            .find(|row| row[0] == "example.com")
            .unwrap()
    };
    assert_eq!(row(&html)[1..3], row(&english)[1..3]);
    assert_eq!(row(&html)[5..], ["7 / 907", "3"]);
}

#[test]
fn a_japanese_locale_gives_the_japanese_page() {
    let (dir, db) = fixture();
    let page = dir.path().join("page.html");
    let out = dmarc_sink_in_locale(
        &["--db", path(&db), "html", "--out", path(&page)],
        "ja_JP.UTF-8",
    );
    assert!(out.status.success(), "html: {}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<html lang=\"ja\">"));
    assert!(html.contains("<h3>主な送信元</h3>"));
}

#[test]
fn an_empty_japanese_page_says_so_in_japanese() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    dmarc_sink::store::Store::open(&db).unwrap();
    let (_, html) = japanese_page(&db, dir.path());
    assert!(html.contains("<title>DMARCレポート · まだありません</title>"));
    assert!(html.contains("<h2>まだレポートがありません</h2>"), "{html}");
    assert!(html.contains("<code>dmarc-sink serve</code>がドメインの<code>rua</code>アドレス宛て"));
}

#[test]
fn chromium_renders_the_japanese_page_with_a_japanese_font() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    japanese_fonts();
    let (dir, db) = fixture();
    let (page, _) = japanese_page(&db, dir.path());
    let shown = render_cleanly(&chromium, &page);
    let kept = shown.keep_screenshot("html-ja.png");
    std::fs::copy(&page, kept.with_extension("html")).unwrap();
    assert!(shown.dom.contains("<html lang=\"ja\">"));
    assert_eq!(shown.dom.matches("<svg class=\"chart\"").count(), 3);
    for heading in [
        "<h1>DMARCとSMTP TLSのレポート</h1>",
        "<h3>主な送信元</h3>",
        "<h3>失敗レポート</h3>",
    ] {
        assert!(shown.dom.contains(heading), "{heading}");
    }
    assert!(
        !shown.dom.contains("<img") && !shown.dom.contains("<script"),
        "markup from a report became an element"
    );
}
