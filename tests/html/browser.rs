//! Debian's Chromium, headless, as the judge of what a person would see: it
//! opens a page from a file, and we read back its console messages, the DOM
//! it parsed and a screenshot.
//!
//! Chromium writes its log to stderr with `--enable-logging=stderr`; every
//! console message of the page (an uncaught exception, a `console.error`, a
//! Content-Security-Policy violation) is one line tagged `CONSOLE`:
//! `[…:INFO:CONSOLE:1] "Uncaught ReferenceError: …", source: file:///… (1)`
//! (older builds wrote `CONSOLE(1)`). The rest of that log (D-Bus, GPU
//! warnings of a headless machine) is noise and is not read.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where Debian installs it; `DMARC_SINK_CHROMIUM` names another.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// A run that takes longer has hung: coreutils' `timeout` ends it (and the
/// helper processes it started: they share its process group), so a hang
/// fails the test instead of blocking CI.
const TIME_LIMIT: &str = "60s";
const KILL_AFTER: &str = "5s";
const WINDOW: &str = "1280,2000";
/// A screenshot with fewer colours than this is a blank page: text alone,
/// antialiased, brings dozens.
const MIN_COLOURS: usize = 32;
/// … or one where fewer pixels than this differ from the background.
const MIN_INK_SHARE: f64 = 0.01;

pub struct Chromium {
    program: PathBuf,
}

/// What the browser made of a page.
pub struct Rendering {
    /// The page's console messages, as logged.
    pub console: Vec<String>,
    /// The DOM after parsing (`--dump-dom`).
    pub dom: String,
    pub screenshot: Screenshot,
    /// The screenshot itself, as Chromium wrote it.
    pub png: Vec<u8>,
}

impl Rendering {
    /// Keeps the screenshot as `name` in the tests' scratch directory
    /// (`target/tmp/`), for a person to look at, and says where.
    pub fn keep_screenshot(&self, name: &str) -> PathBuf {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&path, &self.png).unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }
}

/// The figures of a screenshot that tell a page from a blank one.
#[derive(Debug)]
pub struct Screenshot {
    /// Distinct RGBA values.
    pub colours: usize,
    /// Share of pixels that differ from the most common colour.
    pub ink_share: f64,
}

impl Screenshot {
    pub fn is_blank(&self) -> bool {
        self.colours < MIN_COLOURS || self.ink_share < MIN_INK_SHARE
    }
}

impl Chromium {
    /// The browser, or `None` with a note on stderr when it is not
    /// installed. Under CI (`CI` set) a missing browser fails instead:
    /// .ci/run installs it, so a skip there would hide a broken page.
    pub fn find() -> Option<Chromium> {
        let program = std::env::var_os("DMARC_SINK_CHROMIUM")
            .map_or_else(|| PathBuf::from(DEFAULT_CHROMIUM), PathBuf::from);
        if program.is_file() {
            return Some(Chromium { program });
        }
        let note = format!(
            "no Chromium at {} (apt-get install chromium, or set DMARC_SINK_CHROMIUM)",
            program.display()
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{note}: CI must run the browser tests"
        );
        eprintln!("skipped: {note}");
        None
    }

    /// Opens `page` (an absolute path) in a fresh profile and waits for the
    /// screenshot, at most [`TIME_LIMIT`].
    pub fn render(&self, page: &Path) -> Rendering {
        let dir = tempfile::tempdir().unwrap();
        let screenshot = dir.path().join("screenshot.png");
        // Files, not pipes: a helper process that outlives the browser
        // would hold a pipe open and keep us waiting.
        let dom = dir.path().join("dom.html");
        let log = dir.path().join("chromium.log");
        let status = Command::new("timeout")
            .arg(format!("--kill-after={KILL_AFTER}"))
            .arg(TIME_LIMIT)
            .arg(&self.program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .arg(format!("--screenshot={}", screenshot.display()))
            .arg(format!("--window-size={WINDOW}"))
            .arg(format!("file://{}", page.display()))
            .stdin(Stdio::null())
            .stdout(File::create(&dom).unwrap())
            .stderr(File::create(&log).unwrap())
            .status()
            .expect("run timeout(1) with chromium");
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            !matches!(status.code(), Some(124 | 137)),
            "Chromium did not finish within {TIME_LIMIT}; its log:\n{log}"
        );
        assert!(
            status.success(),
            "Chromium failed ({status}); its log:\n{log}"
        );
        let png = std::fs::read(&screenshot)
            .unwrap_or_else(|e| panic!("no screenshot ({e}); Chromium's log:\n{log}"));
        Rendering {
            console: console_messages(&log),
            dom: std::fs::read_to_string(&dom).unwrap(),
            screenshot: measure(&png),
            png,
        }
    }
}

/// The fonts fontconfig offers for Japanese (`fc-list :lang=ja`), by family.
/// Without one, Chromium draws Japanese as empty boxes. Under CI (`CI`
/// set) none is a failure, since .ci/run installs fonts-noto-cjk; elsewhere
/// a note on stderr.
pub fn japanese_fonts() -> Vec<String> {
    let listed = Command::new("fc-list")
        .args([":lang=ja", "family"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let fonts: Vec<String> = listed
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let note = "no Japanese font (apt-get install fonts-noto-cjk): the screenshot shows boxes";
    assert!(
        !fonts.is_empty() || std::env::var_os("CI").is_none(),
        "{note}: CI must render Japanese"
    );
    if fonts.is_empty() {
        eprintln!("{note}");
    }
    fonts
}

/// The page's console messages among Chromium's log lines.
pub fn console_messages(log: &str) -> Vec<String> {
    log.lines()
        .filter(|line| line.contains(":CONSOLE:") || line.contains(":CONSOLE("))
        .map(str::to_owned)
        .collect()
}

/// Counts the colours of a PNG and how much of it is not background.
fn measure(png: &[u8]) -> Screenshot {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size that fits")];
    let frame = reader.next_frame(&mut pixels).expect("a frame");
    let samples = frame.color_type.samples();
    let mut counts = std::collections::HashMap::<[u8; 4], usize>::new();
    for pixel in pixels[..frame.buffer_size()].chunks_exact(samples) {
        let mut rgba = [0, 0, 0, 255];
        rgba[..samples.min(4)].copy_from_slice(&pixel[..samples.min(4)]);
        *counts.entry(rgba).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    let background = counts.values().copied().max().unwrap_or(0);
    Screenshot {
        colours: counts.len(),
        ink_share: (total - background) as f64 / total.max(1) as f64,
    }
}

#[test]
fn console_lines_of_old_and_new_chromium_are_found() {
    let log = "[1:2:1203/074822.2:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n\
               [1:1:1203/074823.5:INFO:CONSOLE:1] \"Uncaught ReferenceError: f is not defined\", source: file:///p.html (1)\n\
               [1:1:0101/000000.0:INFO:CONSOLE(7)] \"boom\", source: file:///p.html (7)\n";
    let found = console_messages(log);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("Uncaught ReferenceError"));
}
