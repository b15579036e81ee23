//! `summary`, `sources` and `policy` in Japanese, as a user runs them: a
//! store imported by the binary from reports written here, read back over a
//! fixed period, compared to golden files that a Japanese reader checked
//! (tests/golden/ja/), with every table's columns lined up by display
//! width. Then how the language is chosen: `--lang`, `insight.lang`, the
//! locale, in that order; and that JSON and CSV do not change with it.
//!
//! `UPDATE_GOLDEN=1 cargo test --test tests insight_ja` rewrites the golden
//! files from the output; read them before committing them.

use crate::util::report::{Report, Row};
use crate::util::tls_failure::{FailureReport, TlsFailure, TlsPolicy, TlsReport};
use crate::util::{dmarc_sink, dmarc_sink_in_locale, text};
use std::path::{Path, PathBuf};
use std::process::Output;
use tempfile::TempDir;
use unicode_width::UnicodeWidthStr;

/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200;
const DAY: i64 = 86_400;
/// The period every command here is asked about: all the reports' days,
/// so that the output does not depend on the day the tests run.
const PERIOD: [&str; 4] = ["--since", "2026-11-01", "--until", "2026-11-14"];
/// The name the operator gives its own mail server.
const OWN_SERVER: &str = "社内メールサーバー";

/// - example.com (p=none): a clean source, Amazon SES without a custom
///   MAIL FROM domain, forwarded mail, a spoofer, and the operator's own
///   server, approved under a Japanese name, which fails often; a TLS
///   report with failures towards two MX hosts; two failure reports.
/// - ready.example (p=quarantine, pct=50): fourteen days of clean mail and
///   a spoofer: ready for p=reject, its pct historic.
/// - done.example (p=reject): nothing further to publish.
fn fixture() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let ses = Row {
        dkim: "fail",
        spf: "fail",
        envelope_from: Some("us-east-1.amazonses.com"),
        dkim_auth: vec![],
        spf_auth: vec![("us-east-1.amazonses.com", "pass")],
        ..Row::aligned("192.0.2.20", 40, "example.com")
    };
    let forwarded = Row {
        spf: "fail",
        envelope_from: Some("example.com"),
        spf_auth: vec![("example.com", "fail")],
        ..Row::aligned("192.0.2.40", 25, "example.com")
    };
    let mut aggregate = vec![
        Report {
            org: "google.com",
            id: "g-1".into(),
            domain: "example.com",
            begin: NOV_1,
            p: "none",
            pct: 100,
            rows: vec![
                Row::aligned("192.0.2.10", 1_200, "example.com"),
                ses,
                forwarded,
                Row::failing("198.51.100.66", 20, "example.com"),
            ],
        },
        Report {
            org: "Yahoo",
            id: "y-1".into(),
            domain: "example.com",
            begin: NOV_1 + DAY,
            p: "none",
            pct: 100,
            rows: vec![
                Row::aligned("192.0.2.60", 60, "example.com"),
                Row::failing("192.0.2.60", 40, "example.com"),
            ],
        },
        Report {
            org: "google.com",
            id: "d-1".into(),
            domain: "done.example",
            begin: NOV_1 + 2 * DAY,
            p: "reject",
            pct: 100,
            rows: vec![Row::aligned("192.0.2.90", 30, "done.example")],
        },
    ];
    for day in 0..14 {
        let mut rows = vec![Row::aligned("192.0.2.10", 10, "ready.example")];
        if day == 3 {
            rows.push(Row::failing("203.0.113.50", 5, "ready.example"));
        }
        aggregate.push(Report {
            org: "google.com",
            id: format!("r-{day}"),
            domain: "ready.example",
            begin: NOV_1 + day * DAY,
            p: "quarantine",
            pct: 50,
            rows,
        });
    }
    for report in &aggregate {
        std::fs::write(inputs.join(format!("{}.xml", report.id)), report.xml()).unwrap();
    }
    let tls = TlsReport::new(
        "google.com",
        "tls-1",
        NOV_1,
        vec![TlsPolicy::sts(
            "example.com",
            500,
            vec![
                TlsFailure::new("certificate-expired", "mx1.example.com", 8),
                TlsFailure::new("starttls-not-supported", "mx1.example.com", 2),
                TlsFailure::new("validation-failure", "mx2.example.com", 1),
            ],
        )],
    );
    std::fs::write(inputs.join("tls-1.json"), tls.json()).unwrap();
    let failures = [
        (1, "198.51.100.66", "dmarc", Some(3), NOV_1 + 3_600),
        (2, "198.51.100.66", "spf", None, NOV_1 + DAY + 7_200),
    ];
    for (n, source_ip, auth_failure, incidents, arrival) in failures {
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
    let db = dir.path().join("store.sqlite");
    succeed(dmarc_sink(&["--db", path(&db), "import", path(&inputs)]));
    succeed(dmarc_sink(&[
        "--db",
        path(&db),
        "sources",
        "approve",
        "example.com",
        "192.0.2.60",
        "--name",
        OWN_SERVER,
    ]));
    (dir, db)
}

fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The output of a run that must succeed.
fn succeed(output: Output) -> String {
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        text(&output.stderr)
    );
    stdout
}

/// `dmarc-sink --db DB [--lang LANG] COMMAND --since … --until …` in the
/// locale `locale`, which must succeed; its output.
fn run(db: &Path, lang: Option<&str>, command: &[&str], locale: &str) -> String {
    let mut args = vec!["--db", path(db)];
    if let Some(lang) = lang {
        args.extend(["--lang", lang]);
    }
    args.extend_from_slice(command);
    args.extend(PERIOD);
    succeed(dmarc_sink_in_locale(&args, locale))
}

/// Compares `actual` to tests/golden/ja/`name`, or writes it there when
/// `UPDATE_GOLDEN` is set.
fn golden(name: &str, actual: &str) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/ja")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", file.display()));
    assert!(
        expected == actual,
        "{name} differs from {}:\n--- expected\n{expected}\n--- actual\n{actual}",
        file.display()
    );
}

/// The cells of a table's `line` as the display columns each starts and
/// ends at: runs of text parted by two spaces or more (a cell such as
/// `Amazon SES` holds single ones).
fn cells(line: &str) -> Vec<(usize, usize)> {
    let mut cells: Vec<(usize, usize)> = Vec::new();
    let mut column = 0;
    let mut spaces = 0;
    for c in line.chars() {
        let width = UnicodeWidthStr::width(c.encode_utf8(&mut [0; 4]) as &str);
        if c == ' ' {
            spaces += 1;
        } else {
            match cells.last_mut() {
                Some((_, end)) if spaces < 2 => *end = column + width,
                _ => cells.push((column, column + width)),
            }
            spaces = 0;
        }
        column += width;
    }
    cells
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Asserts that the table whose title line begins with `title` lines up in
/// `output`: on its title line and each of its rows (the lines of more than
/// one cell at its indent; deeper lines, the notes under a row, are
/// skipped), every `left` column starts and every `right` column ends at
/// the same display column, whatever the width of the characters before
/// it; and that no line of `output` is wider than 80 columns.
fn assert_lines_up(output: &str, title: &str, left: &[usize], right: &[usize]) {
    let lines: Vec<&str> = output.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(title))
        .unwrap_or_else(|| panic!("no table {title:?} in:\n{output}"));
    let depth = indent(lines[at]);
    let rows: Vec<&str> = lines[at..]
        .iter()
        .copied()
        .take_while(|l| !l.trim().is_empty() && indent(l) >= depth)
        .filter(|l| indent(l) == depth)
        .take_while(|l| cells(l).len() > 1)
        .collect();
    assert!(rows.len() >= 2, "table {title:?} has no rows:\n{output}");
    let reference = cells(rows[0]);
    for row in &rows {
        let found = cells(row);
        assert_eq!(found.len(), reference.len(), "{row}\nunder\n{}", rows[0]);
        for &i in left {
            assert_eq!(
                found[i].0, reference[i].0,
                "column {i} of {title:?} starts elsewhere on\n{row}\nthan on\n{}",
                rows[0]
            );
        }
        for &i in right {
            assert_eq!(
                found[i].1, reference[i].1,
                "column {i} of {title:?} ends elsewhere on\n{row}\nthan on\n{}",
                rows[0]
            );
        }
    }
    for line in output.lines() {
        assert!(
            UnicodeWidthStr::width(line) <= 80,
            "{} columns: {line}",
            UnicodeWidthStr::width(line)
        );
    }
}

#[test]
fn summary_in_japanese_matches_its_golden_file_and_lines_up() {
    let (_dir, db) = fixture();
    let summary = run(&db, Some("ja"), &["summary"], "C");
    golden("summary.txt", &summary);
    // ドメイン 通数 DMARC DKIM SPF 隔離 拒否 報告元 ポリシー
    assert_lines_up(&summary, "ドメイン", &[0, 8], &[1, 2, 3, 4, 5, 6, 7]);
    // ドメイン TLS成功 TLS失敗 失敗率 失敗レポート 失敗通数
    assert_lines_up(
        &summary[summary.find("SMTP TLS").unwrap()..],
        "ドメイン",
        &[0],
        &[1, 2, 3, 4, 5],
    );
}

#[test]
fn sources_in_japanese_matches_its_golden_file_and_lines_up() {
    let (_dir, db) = fixture();
    let sources = run(
        &db,
        Some("ja"),
        &["sources", "--domain", "example.com"],
        "C",
    );
    golden("sources.txt", &sources);
    assert!(
        sources.contains(&format!("「{OWN_SERVER}」として承認済み")),
        "{sources}"
    );
    // The rows of a table are the lines at its indent: the diagnoses
    // under each row are indented further. 送信元 名前 通数 DMARC DKIM SPF.
    assert_lines_up(&sources, "送信元", &[0, 1], &[2, 3, 4, 5]);
    // 受信MX 失敗 送信IP数 報告元 最終確認日
    assert_lines_up(&sources, "受信MX  ", &[0, 4], &[1, 2, 3]);
    // 送信元 レポート 失敗通数 最終受信日 認証失敗
    let heading = sources.find("送信元IPごと").unwrap();
    let failures = &sources[heading + sources[heading..].find('\n').unwrap() + 1..];
    assert_lines_up(failures, "送信元", &[0, 3, 4], &[1, 2]);
}

#[test]
fn policy_in_japanese_matches_its_golden_file_and_lines_up() {
    let (_dir, db) = fixture();
    let policy = run(&db, Some("ja"), &["policy"], "C");
    golden("policy.txt", &policy);
    assert!(
        policy.contains("ready.example：p=rejectに進む準備ができています"),
        "{policy}"
    );
    assert!(
        policy.contains("    v=DMARC1; p=reject; np=reject;"),
        "{policy}"
    );
    // 送信元 名前 失敗通数 診断
    assert_lines_up(&policy, "送信元", &[0, 1, 3], &[2]);
}

/// The first line of `summary`'s table, which names its columns.
fn title_line(output: &str) -> &str {
    output.lines().next().unwrap_or_default()
}

#[test]
fn the_language_comes_from_the_flag_then_the_config_then_the_locale() {
    let (dir, db) = fixture();
    let english = "DOMAIN ";
    let japanese = "ドメイン ";
    let summary = ["summary"];
    let config = dir.path().join("ja.toml");
    std::fs::write(&config, "[insight]\nlang = \"ja\"\n").unwrap();
    let with_config = ["--config", path(&config), "summary"];

    let by_default = run(&db, None, &summary, "C");
    assert!(title_line(&by_default).starts_with(english), "{by_default}");
    let flag = run(&db, Some("ja"), &summary, "C");
    assert!(title_line(&flag).starts_with(japanese), "{flag}");
    let configured = run(&db, None, &with_config, "C");
    assert!(
        title_line(&configured).starts_with(japanese),
        "{configured}"
    );
    let locale = run(&db, None, &summary, "ja_JP.UTF-8");
    assert!(title_line(&locale).starts_with(japanese), "{locale}");
    assert_eq!((&configured, &locale), (&flag, &flag));

    // --lang en beats both the configuration and the locale.
    let overridden = run(&db, Some("en"), &with_config, "ja_JP.UTF-8");
    assert_eq!(overridden, by_default);
    // The configuration beats the locale.
    let en_config = dir.path().join("en.toml");
    std::fs::write(&en_config, "[insight]\nlang = \"en\"\n").unwrap();
    let configured_en = run(
        &db,
        None,
        &["--config", path(&en_config), "summary"],
        "ja_JP.UTF-8",
    );
    assert_eq!(configured_en, by_default);
}

/// JSON without the time it was made, which differs between two runs.
fn without_generated_at(json: &str) -> serde_json::Value {
    let mut document: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    document
        .as_object_mut()
        .expect("a JSON object")
        .remove("generated_at");
    document
}

#[test]
fn json_keys_and_csv_headers_do_not_change_with_the_language() {
    let (_dir, db) = fixture();
    for command in ["summary", "sources", "policy"] {
        let csv = |lang| run(&db, Some(lang), &[command, "--format", "csv"], "C");
        let (english, japanese) = (csv("en"), csv("ja"));
        assert_eq!(
            english.lines().next(),
            japanese.lines().next(),
            "{command} CSV headers"
        );
        assert!(
            english.lines().next().unwrap().contains("policy_domain"),
            "{english}"
        );
        let json =
            |lang| without_generated_at(&run(&db, Some(lang), &[command, "--format", "json"], "C"));
        let (english, japanese) = (json("en"), json("ja"));
        assert_eq!(keys(&english), keys(&japanese), "{command} JSON keys");
        assert!(
            keys(&english).iter().any(|k| k.ends_with("/policy_domain")),
            "{english}"
        );
    }
    // The prose in the JSON is the reader's: policy's reasons are Japanese.
    let policy = without_generated_at(&run(&db, Some("ja"), &["policy", "--format", "json"], "C"));
    let reasons = policy["domains"].to_string();
    assert!(reasons.contains("DMARCbis（RFC 9989）"), "{reasons}");
}

/// Every key path of `value` (`/domains/policy_domain`), array indexes
/// left out, sorted and without repeats.
fn keys(value: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, at: &str, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    let path = format!("{at}/{key}");
                    out.push(path.clone());
                    walk(value, &path, out);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, at, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut out);
    out.sort();
    out.dedup();
    out
}
