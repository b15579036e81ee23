//! Helpers shared by the integration tests.

pub mod bombs;
pub mod dns;
pub mod dot_stuff;
pub mod https;
pub mod mail;
pub mod postgres;
pub mod relay;
pub mod report;
pub mod server;
pub mod tls_failure;
pub mod webhook;

use dmarc_sink::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tempfile::TempDir;

/// Runs the `dmarc-sink` binary as a user would, with no config from the
/// environment, in the C locale (English whatever the tester's own locale
/// is), and waits for it.
pub fn dmarc_sink<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    dmarc_sink_in_locale(args, "C")
}

/// [`dmarc_sink`] with `LANG` set to `lang` and the other locale variables
/// unset: how a user whose locale is `lang` runs it.
pub fn dmarc_sink_in_locale<S: AsRef<std::ffi::OsStr>>(args: &[S], lang: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmarc-sink"))
        .args(args)
        .env_remove("DMARC_SINK_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", lang)
        .output()
        .expect("run dmarc-sink")
}

/// Runs `dmarc-sink --db DB ARGS…`, an insight command over the store at
/// `db`, which must succeed; returns what it printed.
pub fn insight_command(db: &Path, args: &[&str]) -> String {
    let mut all = vec!["--db", db.to_str().expect("a UTF-8 store path")];
    all.extend_from_slice(args);
    let output = dmarc_sink(&all);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{args:?}\nstdout: {stdout}\nstderr: {}",
        text(&output.stderr)
    );
    stdout
}

/// [`insight_command`] with `--format json`, its output parsed.
pub fn insight_json(db: &Path, args: &[&str]) -> serde_json::Value {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    serde_json::from_str(&insight_command(db, &args)).expect("valid JSON")
}

/// Output bytes as text, for assertions and their messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Unix seconds as RFC 3339, as the reports and the commands' JSON give them.
pub fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).unwrap().to_string()
}

/// A store in a fresh temporary directory, removed when dropped.
pub struct TempStore {
    pub dir: TempDir,
    pub store: Store,
}

impl TempStore {
    pub fn new() -> TempStore {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = Store::open(&dir.path().join("store.sqlite")).expect("open store");
        TempStore { dir, store }
    }
}

/// The corpus folder named by `DMARC_CORPUS`, or `None` when it is not set.
/// A name that is set but missing is a failure, not a skip.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("DMARC_CORPUS")?;
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("expected.tsv").is_file(),
        "DMARC_CORPUS is set to {} but it holds no expected.tsv",
        dir.display()
    );
    Some(dir)
}

/// Files below `dir`, sorted, recursively.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}
