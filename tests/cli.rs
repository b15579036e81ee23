//! The `dmarc-sink` binary as a user runs it: import, reparse, check-config.

use crate::util::mail::{Part, gzip, report_mail, report_xml, zip};
use crate::util::{dmarc_sink, text};
use std::path::Path;
use std::process::Command;

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

/// A folder with every kind of input `import` takes.
fn input_tree(root: &Path) {
    let xml = |id: &str, n: u32| report_xml("google.com", id, "example.com", &[("192.0.2.1", n)]);
    write(&root.join("plain.xml"), xml("plain", 1).as_bytes());
    write(
        &root.join("nested/deeper/compressed.xml.gz"),
        &gzip(xml("gz", 2).as_bytes()),
    );
    let entry = xml("zip", 3);
    write(
        &root.join("archive.zip"),
        &zip(&[("google.com!example.com!1!2.xml", entry.as_bytes())]),
    );
    let mail = report_mail(
        "eml",
        "eml@google.com",
        vec![Part::attachment(
            "application/gzip",
            "r.xml.gz",
            &gzip(xml("eml", 4).as_bytes()),
        )],
    );
    write(&root.join("message.eml"), &mail);
    let maildir_mail = report_mail(
        "md",
        "md@google.com",
        vec![Part::attachment(
            "text/xml",
            "r.xml",
            xml("maildir", 5).as_bytes(),
        )],
    );
    write(
        &root.join("Maildir/cur/1700000000.1.host:2,S"),
        &maildir_mail,
    );
    write(
        &root.join("Maildir/new/1700000001.2.host"),
        &report_mail(
            "md2",
            "md2@google.com",
            vec![Part::attachment(
                "text/xml",
                "r.xml",
                xml("maildir-new", 6).as_bytes(),
            )],
        ),
    );
    write(
        &root.join("Maildir/tmp/1700000002.3.host"),
        b"half-written mail, skipped",
    );
    let mut mbox = Vec::new();
    for (i, id) in ["mbox-1", "mbox-2"].iter().enumerate() {
        mbox.extend_from_slice(b"From noreply-dmarc-support@google.com Wed Nov 15 10:00:00 2023\n");
        let mail = report_mail(
            "mbox",
            &format!("{id}@google.com"),
            vec![Part::attachment(
                "text/xml",
                "r.xml",
                xml(id, 7 + i as u32).as_bytes(),
            )],
        );
        mbox.extend(
            String::from_utf8(mail)
                .unwrap()
                .replace("\r\n", "\n")
                .into_bytes(),
        );
        mbox.push(b'\n');
    }
    write(&root.join("archive.mbox"), &mbox);
    write(&root.join(".hidden.xml"), b"skipped");
}

#[test]
fn import_takes_files_directories_maildir_and_mbox() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    input_tree(&inputs);
    let db = dir.path().join("store.sqlite");
    let output = dmarc_sink(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        inputs.to_str().unwrap(),
    ]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        text(&output.stderr)
    );
    let origins: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT group_concat(origin, '\n') FROM messages",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        stdout.contains("8 messages, 8 reports (8 records), 0 TLS reports, 0 failure reports, 0 duplicates, 0 quarantined, 0 not a report, 0 failed"),
        "{stdout}\n{origins}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), 8);
    assert_eq!(count(&db, "SELECT sum(count) FROM records"), 36);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM messages WHERE source = 'import' AND origin LIKE '%archive.mbox message 2'"
        ),
        1
    );

    // The same files again: every report is a duplicate, nothing fails.
    let again = dmarc_sink(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        inputs.to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout)
            .contains("0 reports (0 records), 0 TLS reports, 0 failure reports, 8 duplicates"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM reports"), 8);
}

#[test]
fn import_names_each_failure_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    write(
        &good,
        report_xml("google.com", "ok-1", "example.com", &[("192.0.2.1", 1)]).as_bytes(),
    );
    let broken = dir.path().join("broken.xml.gz");
    write(
        &broken,
        &gzip(b"<feedback><report_metadata><org_name>x</org_name>"),
    );
    let missing = dir.path().join("missing.xml");
    let db = dir.path().join("store.sqlite");
    let output = dmarc_sink(&[
        "--db",
        db.to_str().unwrap(),
        "import",
        good.to_str().unwrap(),
        broken.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("quarantined: ") && stderr.contains("broken.xml.gz: malformed XML"),
        "{stderr}"
    );
    assert!(
        stderr.contains("failed: ") && stderr.contains("missing.xml"),
        "{stderr}"
    );
    assert!(
        text(&output.stdout).contains(
            "1 reports (1 records), 0 TLS reports, 0 failure reports, 0 duplicates, 1 quarantined"
        ),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM quarantine"), 1);

    let reparse = dmarc_sink(&["--db", db.to_str().unwrap(), "reparse"]);
    assert!(reparse.status.success());
    assert!(
        text(&reparse.stdout)
            .contains("reparsed 1 messages: 0 reports recovered, 1 payloads still quarantined"),
        "{}",
        text(&reparse.stdout)
    );
}

#[test]
fn check_config_accepts_the_shipped_example() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let output = dmarc_sink(&["check-config", "--config", example.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    assert!(
        printed.contains("max_decompressed_bytes = 1073741824"),
        "{printed}"
    );
    assert!(printed.contains("listen = \"127.0.0.1:2525\""), "{printed}");
    for line in [
        "max_messages_per_ip_per_hour = 600",
        "max_stored_bytes_per_ip_per_day = 1073741824",
        "unauthenticated = \"keep\"",
        "timeout_ms = 2000",
    ] {
        assert!(printed.contains(line), "{line}: {printed}");
    }
}

#[test]
fn check_config_defaults_and_db_override() {
    let output = dmarc_sink(&["--db", "/var/lib/dmarc-sink/reports.sqlite", "check-config"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("path = \"/var/lib/dmarc-sink/reports.sqlite\""));
}

#[test]
fn bad_config_names_file_and_key_and_exits_78() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    write(&config, b"[limits]\nmax_zip_entries = -1\n");
    let output = dmarc_sink(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("max_zip_entries"),
        "{stderr}"
    );

    write(&config, b"[smtp]\nlisten = \"port 25\"\n");
    let output = dmarc_sink(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        text(&output.stderr).contains("smtp.listen"),
        "{}",
        text(&output.stderr)
    );

    let output = dmarc_sink(&[
        "check-config",
        "--config",
        dir.path().join("absent.toml").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(78));
    assert!(text(&output.stderr).contains("absent.toml"));
}

#[test]
fn serve_runs_without_a_config_file() {
    use std::io::{BufRead, BufReader, Write};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmarc-sink"))
        .args([
            "--db",
            db.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("DMARC_SINK_CONFIG")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start serve");
    // Readiness: the log line that names the bound address.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.split("listen=").nth(1)?;
            Some(rest.split_whitespace().next()?.to_owned())
        })
        .expect("a listening line");
    let stream = std::net::TcpStream::connect(&address).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut greeting = String::new();
    reader.read_line(&mut greeting).unwrap();
    (&stream).write_all(b"QUIT\r\n").unwrap();
    let mut goodbye = String::new();
    reader.read_line(&mut goodbye).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(greeting.starts_with("220 "), "{greeting:?}");
    assert!(goodbye.starts_with("221 "), "{goodbye:?}");
    assert!(db.exists(), "the store was created");
}

#[test]
fn the_manual_page_lists_every_command() {
    let output = dmarc_sink(&["man"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let page = text(&output.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH dmarc-sink 1"),
        "{page}"
    );
    for command in [
        "serve",
        "import",
        "reparse",
        "check\\-config",
        "summary",
        "sources",
        "policy",
        "html",
        "check\\-dns",
        "digest",
        "export",
        "man",
    ] {
        assert!(page.contains(command), "{command} in:\n{page}");
    }
}

#[test]
fn help_is_in_the_language_of_the_locale_the_flag_or_the_configuration() {
    let help = |args: &[&str], lang: &str| {
        let output = crate::util::dmarc_sink_in_locale(args, lang);
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    let english = "Per domain: is it ready for the next policy step";
    let japanese = "ドメインごとに、次のポリシー段階に進めるかどうか";
    let default = help(&["policy", "--help"], "C");
    assert!(
        default.contains(english) && !default.contains(japanese),
        "{default}"
    );
    let from_locale = help(&["policy", "--help"], "ja_JP.UTF-8");
    assert!(from_locale.contains(japanese), "{from_locale}");
    assert!(
        from_locale.contains("--include-unauthenticated"),
        "{from_locale}"
    );
    assert!(
        from_locale.contains("認証されなかった送信者"),
        "{from_locale}"
    );
    let flag_wins = help(&["--lang", "en", "policy", "--help"], "ja_JP.UTF-8");
    assert!(flag_wins.contains(english), "{flag_wins}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dmarc-sink.toml");
    write(&config, b"[insight]\nlang = \"ja\"\n");
    let configured = help(
        &["--config", config.to_str().unwrap(), "policy", "--help"],
        "C",
    );
    assert!(configured.contains(japanese), "{configured}");
    // The man page is made from the same help.
    let man = help(&["--lang", "ja", "man"], "C");
    assert!(
        man.contains(".TH") && man.contains(japanese),
        "{}",
        &man[..200]
    );
}

/// A configuration that can be read only once (a pipe) is read once: the
/// language pre-scan of `--help` leaves it to the real load.
#[test]
fn a_piped_configuration_is_read_whole() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dmarc-sink"))
        .args(["--config", "/dev/stdin", "check-config"])
        .env_remove("DMARC_SINK_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"[store]\npath = \"/tmp/piped.sqlite\"\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert!(shown.contains("path = \"/tmp/piped.sqlite\""), "{shown}");
}
