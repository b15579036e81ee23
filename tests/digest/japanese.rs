//! The digest in Japanese (`--lang ja`): the subject as RFC 2047 encoded
//! words that a mail reader decodes back, both parts UTF-8 and Japanese,
//! the same figures as in English; and English, the default, untouched.

use super::{NOW_ARG, config, digest, fixture, parts, section, without_tags};
use crate::html::browser::{Chromium, japanese_fonts};
use crate::util::text;
use base64::Engine;

/// Whether `text` holds kana or kanji.
fn has_japanese(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{3040}'..='\u{30FF}').contains(&c) || ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// The raw `Subject:` field of `raw`, its folded lines unfolded.
fn raw_subject(raw: &[u8]) -> String {
    let raw = String::from_utf8_lossy(raw);
    let head = raw.split("\r\n\r\n").next().unwrap().replace("\r\n", "\n");
    let mut lines = head.lines().skip_while(|l| !l.starts_with("Subject:"));
    let mut field = lines.next().expect("a Subject field").to_owned();
    for line in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        field.push_str(line);
    }
    field
}

/// The text of each RFC 2047 encoded word (`=?utf-8?b?…?=`) of `field`,
/// each decoded on its own: a word must hold whole characters.
fn encoded_words(field: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = field;
    while let Some(start) = rest.find("=?") {
        // =?charset?encoding?data?= where data (base64) holds no `?`.
        let mut parts = rest[start + 2..].splitn(4, '?');
        let (charset, encoding, data) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        rest = parts
            .next()
            .unwrap()
            .strip_prefix('=')
            .expect("?= after a word");
        assert!(charset.eq_ignore_ascii_case("utf-8"), "{field}");
        assert!(encoding.eq_ignore_ascii_case("b"), "{field}");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        words.push(String::from_utf8(bytes).expect("whole UTF-8 characters in each word"));
    }
    words
}

#[test]
fn the_digest_in_japanese_has_an_encoded_subject_and_japanese_parts() {
    let (dir, db) = fixture();
    let config = config(dir.path(), "127.0.0.1:25", "to = [\"ops@example.com\"]\n");
    let out = digest(
        &config,
        &db,
        &["--until", NOW_ARG, "--stdout", "--lang", "ja"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let field = raw_subject(&out.stdout);
    assert!(field.is_ascii(), "{field}");
    assert!(field.starts_with("Subject: [dmarc-sink] =?"), "{field}");
    let words = encoded_words(&field);
    assert!(words.len() > 1, "{field}");
    assert!(words.concat().contains("のDMARCダイジェスト"), "{words:?}");

    let (subject, text, html) = parts(&out.stdout);
    assert_eq!(
        subject,
        "[dmarc-sink] 2026年11月9日～2026年11月15日のDMARCダイジェスト：\
         メール793通、DMARC認証成功率93.3%、途絶3件"
    );

    assert!(
        text.starts_with("DMARCダイジェスト（2026年11月9日～2026年11月15日、UTC）\n"),
        "{text}"
    );
    // A title's underline is as wide as the title in a terminal.
    let title = "ドメインごとのDMARC認証成功率（前の期間との比較）";
    assert!(
        text.contains(&format!("\n{title}\n{}\n", "-".repeat(49))),
        "{text}"
    );
    let shares = section(&text, title);
    assert_eq!(
        shares[1].split_whitespace().collect::<Vec<_>>(),
        ["example.com", "790", "93.7%", "100.0%", "-6.3ポイント"]
    );
    let new = section(&text, "新しい送信元（この期間に初めて確認）");
    assert!(
        new.iter().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["203.0.113.7", "-", "50", "50", "0.0%", "unauthorised"]),
        "{text}"
    );
    assert!(
        !section(&text, "DMARC認証に失敗している未承認の送信元").is_empty(),
        "{text}"
    );
    assert_eq!(
        section(&text, "認証されなかったため除外したレポート").last(),
        Some(&"  example.com：メール1通に含まれるレポート1件"),
        "{text}"
    );
    // Long Japanese lines wrap anywhere between characters: read them joined.
    let silent: String = section(&text, "途絶えた報告元とドメイン")
        .iter()
        .map(|line| line.trim_start())
        .collect();
    assert!(
        silent.contains(
            "example.com：Yahooは過去30日のうち9日報告していましたが、\
             2026年11月10日までのレポートを最後に何も送ってきていません"
        ),
        "{silent}"
    );
    assert!(
        silent.contains("shop.example.net：2026年11月3日までのレポートを最後に"),
        "{silent}"
    );
    let tls = section(&text, "受信MXごとのTLSの失敗");
    assert_eq!(
        tls[0], "example.com：907件のTLSセッションのうち7件が失敗（0.8%）",
        "{text}"
    );
    assert!(
        text.contains("ポリシー移行の準備（2026年11月15日までの30日間のレポート）"),
        "{text}"
    );
    assert!(text.contains("\n-- \nこのメールはdmarc-sink "), "{text}");

    assert!(html.contains("<html lang=\"ja\">"), "{html}");
    for heading in [
        "<h1>DMARCダイジェスト（2026年11月9日～2026年11月15日、UTC）</h1>",
        "<h2>ドメインごとのDMARC認証成功率（前の期間との比較）</h2>",
        "<h2>新しい送信元（この期間に初めて確認）</h2>",
        "<h2>途絶えた報告元とドメイン</h2>",
        "<h2>受信MXごとのTLSの失敗</h2>",
        "<h2>ポリシー移行の準備</h2>",
    ] {
        assert!(html.contains(heading), "{heading} in {html}");
    }
    assert!(!html.contains("<script>"), "markup from a report");
    let shown = without_tags(&html).replace('\n', "");
    for expected in [
        "example.com79093.7%100.0%-6.3ポイント",
        "example.com：メール1通に含まれるレポート1件",
        "example.com：p=quarantineに移行できます",
        "公開するレコード：v=DMARC1; p=quarantine",
    ] {
        assert!(shown.contains(expected), "{expected:?} in {shown}");
    }
    for english in [
        "Silent reporters",
        "Policy readiness",
        "Sent by",
        "Left out",
    ] {
        assert!(!text.contains(english), "{english:?} in the text part");
        assert!(!html.contains(english), "{english:?} in the HTML part");
    }
    // Not a quiet week: failure reports are not mentioned, nor their other
    // name.
    assert!(!text.contains("フォレンジック") && !html.contains("フォレンジック"));
}

#[test]
fn a_quiet_week_in_japanese_names_failure_reports_once() {
    let (dir, db) = fixture();
    let config = config(dir.path(), "127.0.0.1:25", "to = [\"ops@example.com\"]\n");
    let out = digest(
        &config,
        &db,
        &[
            "--until",
            "2026-12-06T00:00:00Z",
            "--stdout",
            "--lang",
            "ja",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (subject, text, html) = parts(&out.stdout);
    assert_eq!(
        subject,
        "[dmarc-sink] 2026年11月29日～2026年12月5日のDMARCダイジェスト：\
         レポートは届いていません、途絶6件"
    );
    let quiet = section(&text, "レポートは届いていません").join("");
    assert!(
        quiet.starts_with("2026年11月29日から2026年12月5日（UTC）までに"),
        "{text}"
    );
    assert_eq!(text.matches("フォレンジックレポート").count(), 1, "{text}");
    assert_eq!(html.matches("フォレンジックレポート").count(), 1, "{html}");
    assert!(
        html.contains("<p id=\"quiet\">2026年11月29日から"),
        "{html}"
    );
}

#[test]
fn english_stays_the_default_and_has_no_japanese() {
    let (dir, db) = fixture();
    let config = config(dir.path(), "127.0.0.1:25", "to = [\"ops@example.com\"]\n");
    let default = digest(&config, &db, &["--until", NOW_ARG, "--stdout"]);
    let english = digest(
        &config,
        &db,
        &["--until", NOW_ARG, "--stdout", "--lang", "en"],
    );
    for out in [&default, &english] {
        assert!(out.status.success(), "{}", text(&out.stderr));
        let field = raw_subject(&out.stdout);
        assert_eq!(
            field,
            "Subject: [dmarc-sink] DMARC digest 2026-11-09 to 2026-11-15: 793 messages, \
             93.3% DMARC pass, 3 silent"
        );
        let (_, text, html) = parts(&out.stdout);
        assert!(!has_japanese(&text), "{text}");
        assert!(!has_japanese(&html), "{html}");
        assert!(html.contains("<html lang=\"en\">"));
    }
    let (_, default_text, default_html) = parts(&default.stdout);
    let (_, english_text, english_html) = parts(&english.stdout);
    assert_eq!(default_text, english_text);
    assert_eq!(default_html, english_html);
}

#[test]
fn chromium_shows_the_japanese_digest() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    japanese_fonts();
    let (dir, db) = fixture();
    let config = config(dir.path(), "127.0.0.1:25", "");
    let out = digest(
        &config,
        &db,
        &["--until", NOW_ARG, "--stdout", "--lang", "ja"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, _, html) = parts(&out.stdout);
    let page = dir.path().join("digest-ja.html");
    std::fs::write(&page, &html).unwrap();
    let shown = chromium.render(&page);
    let kept = shown.keep_screenshot("digest-ja.png");
    std::fs::copy(&page, kept.with_extension("html")).unwrap();
    assert!(shown.console.is_empty(), "console: {:#?}", shown.console);
    assert!(
        !shown.screenshot.is_blank(),
        "blank: {:?}",
        shown.screenshot
    );
    assert!(shown.dom.contains("<html lang=\"ja\">"));
    assert!(shown.dom.contains("<h2>受信MXごとのTLSの失敗</h2>"));
    assert!(shown.dom.contains("<td>203.0.113.7</td>"));
    assert!(!shown.dom.contains("<script"), "markup from a report");
}
