//! The store on a small file system of its own, under a running daemon:
//! the disk fills up, or the kernel turns the file system read-only. Each
//! delivery is then answered 451 4.3.0 with the cause in an ERROR line and
//! nothing of it kept, so the reporter retries; once the store can be
//! written again, the retry is stored.
//!
//! Mounting takes root (and, for the read-only case, a loop device and
//! `mkfs.ext4`). Without them a test says why it did nothing, or fails when
//! `CI` is set: there it must run.

use crate::util::mail::{Part, report_mail, report_xml};
use crate::util::server::{SmtpClient, TestServer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A file system mounted on a fresh temporary folder, for one test.
/// Dropping it unmounts it (lazily if something still holds it open) and
/// removes the folder.
struct Mount {
    /// Where it is mounted; the [`TempDir`] goes to the server.
    dir: PathBuf,
    /// The image behind a loop-mounted file system, if any.
    image: Option<PathBuf>,
    /// The folder holding the image, removed after the unmount.
    _image_dir: Option<TempDir>,
}

impl Mount {
    /// A tmpfs of `size` (as `mount -o size=` takes it), or `None` (with a
    /// note) when mounting is not possible here.
    fn tmpfs(size: &str) -> Option<(Mount, TempDir)> {
        let dir = tempfile::tempdir().unwrap();
        let options = format!("size={size}");
        let target = dir.path().to_str().unwrap();
        run_or_skip("mount", &["-t", "tmpfs", "-o", &options, "tmpfs", target])?;
        let mount = Mount {
            dir: dir.path().to_owned(),
            image: None,
            _image_dir: None,
        };
        Some((mount, dir))
    }

    /// An ext4 file system in a 16 MiB image, loop-mounted with
    /// `errors=remount-ro` (the usual default: the kernel turns it
    /// read-only when it finds an error), or `None` as for [`Mount::tmpfs`].
    fn ext4() -> Option<(Mount, TempDir)> {
        let image_dir = tempfile::tempdir().unwrap();
        let image = image_dir.path().join("fs.img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(16 << 20)
            .unwrap();
        run_or_skip("mkfs.ext4", &["-q", image.to_str().unwrap()])?;
        let dir = tempfile::tempdir().unwrap();
        mount_image(&image, dir.path())?;
        let mount = Mount {
            dir: dir.path().to_owned(),
            image: Some(image),
            _image_dir: Some(image_dir),
        };
        Some((mount, dir))
    }

    fn image(&self) -> &Path {
        self.image.as_deref().expect("a loop-mounted file system")
    }

    fn unmount(&self) {
        run("umount", &[self.dir.to_str().unwrap()]);
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let target = self.dir.to_str().unwrap();
        let unmounted = Command::new("umount").arg(target).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").args(["-l", target]).status();
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn mount_image(image: &Path, target: &Path) -> Option<()> {
    let (image, target) = (image.to_str().unwrap(), target.to_str().unwrap());
    run_or_skip("mount", &["-o", "loop,errors=remount-ro", image, target])
}

/// Runs a command that must succeed.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs a command the test cannot do without: `None` with a note when it
/// fails or is missing, a failure when `CI` is set.
fn run_or_skip(program: &str, args: &[&str]) -> Option<()> {
    let why = match Command::new(program).args(args).output() {
        Ok(output) if output.status.success() => return Some(()),
        Ok(output) => String::from_utf8_lossy(&output.stderr)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        Err(error) => error.to_string(),
    };
    let note = format!(
        "`{program} {}` failed: {why}; storage failure tests need root, loop devices and mkfs.ext4",
        args.join(" ")
    );
    assert!(std::env::var_os("CI").is_none(), "{note}");
    eprintln!("skipped: {note}");
    None
}

fn report(report_id: &str) -> Vec<u8> {
    let xml = report_xml("google.com", report_id, "example.com", &[("192.0.2.1", 1)]);
    report_mail(
        report_id,
        &format!("{report_id}@google.com"),
        vec![Part::attachment("text/xml", "r.xml", xml.as_bytes())],
    )
}

/// Delivers one report on `client` (greeted, EHLO said); the reply to its
/// final ".".
fn deliver(client: &mut SmtpClient, report_id: &str) -> (u16, String) {
    client.deliver(
        "noreply@google.com",
        "dmarc@reports.example.com",
        &report(report_id),
    )
}

/// Delivers one report on a fresh connection; the reply to its final ".".
fn deliver_new(server: &TestServer, report_id: &str) -> (u16, String) {
    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    client.command("EHLO reporter.example");
    let reply = deliver(&mut client, report_id);
    client.command("QUIT");
    reply
}

fn assert_deferred((code, text): (u16, String)) {
    assert_eq!(code, 451, "{text}");
    assert!(text.contains("4.3.0"), "{text}");
}

/// Messages with this subject (the report id), and reports with this id.
fn stored(server: &TestServer, report_id: &str) -> (i64, i64) {
    (
        server.count(&format!(
            "SELECT count(*) FROM messages WHERE subject = '{report_id}'"
        )),
        server.count(&format!(
            "SELECT count(*) FROM reports WHERE report_id = '{report_id}'"
        )),
    )
}

/// Writes `filler` until the file system is full.
fn fill(filler: &Path) {
    let mut file = std::fs::File::create(filler).unwrap();
    let full = loop {
        if let Err(error) = file.write_all(&[0xa5; 64 * 1024]) {
            break error;
        }
    };
    assert_eq!(full.kind(), std::io::ErrorKind::StorageFull, "{full}");
}

fn integrity(server: &TestServer) -> String {
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_full_disk_defers_deliveries_until_space_returns() {
    let Some((mount, dir)) = Mount::tmpfs("4m") else {
        return;
    };
    let server = TestServer::start_in(dir, "");
    assert_eq!(deliver_new(&server, "before-full").0, 250);

    let filler = mount.dir.join("filler");
    fill(&filler);

    let mut client = server.connect();
    assert_eq!(client.reply().0, 220);
    client.command("EHLO reporter.example");
    assert_deferred(deliver(&mut client, "while-full"));
    let logged = server.wait_for_log("storing a message failed", 1);
    assert!(logged[0].contains("ERROR"), "{}", logged[0]);
    assert!(
        logged[0].contains("database or disk is full"),
        "{}",
        logged[0]
    );
    // The session goes on, and so may the reporter's retry: still full.
    assert_deferred(deliver(&mut client, "while-full"));
    // Concurrent deliveries fail their group commit, then each alone.
    let burst: Vec<_> = (0..4)
        .map(|n| {
            let addr = server.addr;
            std::thread::spawn(move || {
                let mut client = SmtpClient::connect(addr);
                assert_eq!(client.reply().0, 220);
                client.command("EHLO reporter.example");
                deliver(&mut client, &format!("burst-{n}"))
            })
        })
        .collect();
    for reply in burst {
        assert_deferred(reply.join().unwrap());
    }

    std::fs::remove_file(&filler).unwrap();
    for report_id in ["while-full", "burst-0", "burst-1", "burst-2", "burst-3"] {
        assert_eq!(
            stored(&server, report_id),
            (0, 0),
            "{report_id} was kept in part"
        );
    }
    // The same daemon, the same session: the retry is stored.
    let (code, text) = deliver(&mut client, "while-full");
    assert_eq!(code, 250, "{text}");
    server.wait_for_log("the store is keeping messages again", 1);
    for n in 0..4 {
        let (code, text) = deliver_new(&server, &format!("burst-{n}"));
        assert_eq!(code, 250, "{text}");
    }
    for report_id in ["before-full", "while-full", "burst-0", "burst-3"] {
        assert_eq!(stored(&server, report_id), (1, 1), "{report_id}");
    }
    assert_eq!(integrity(&server), "ok");
    client.command("QUIT");
}

/// The disk fills and empties again, four times, under six senders: every
/// report answered 250 is stored once, and nothing of one answered 451.
#[test]
fn a_disk_filling_up_under_load_keeps_all_it_acknowledged_and_nothing_else() {
    let Some((mount, dir)) = Mount::tmpfs("8m") else {
        return;
    };
    let server = TestServer::start_in(dir, "");
    let stop = Arc::new(AtomicBool::new(false));
    let replies = Arc::new(Replies::default());
    let senders: Vec<_> = (0..6)
        .map(|sender| {
            let (addr, stop, replies) = (server.addr, stop.clone(), replies.clone());
            std::thread::spawn(move || {
                let mut client = SmtpClient::connect(addr);
                assert_eq!(client.reply().0, 220);
                client.command("EHLO reporter.example");
                let mut answered = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let id = format!("load-{sender}-{n}");
                    let (code, text) = deliver(&mut client, &id);
                    match code {
                        250 => replies.stored.fetch_add(1, Ordering::SeqCst),
                        451 => replies.deferred.fetch_add(1, Ordering::SeqCst),
                        _ => panic!("{id}: {code} {text}"),
                    };
                    answered.push((id, code));
                }
                answered
            })
        })
        .collect();
    let filler = mount.dir.join("filler");
    for _ in 0..4 {
        let deferred = replies.deferred.load(Ordering::SeqCst);
        fill(&filler);
        replies.wait(&replies.deferred, deferred + 6, "deferred while full");
        std::fs::remove_file(&filler).unwrap();
        let stored = replies.stored.load(Ordering::SeqCst);
        replies.wait(&replies.stored, stored + 6, "stored once space returned");
    }
    stop.store(true, Ordering::SeqCst);
    let answered: Vec<(String, u16)> = senders
        .into_iter()
        .flat_map(|sender| sender.join().unwrap())
        .collect();
    for (id, code) in &answered {
        let expected = if *code == 250 { (1, 1) } else { (0, 0) };
        assert_eq!(stored(&server, id), expected, "{id}, answered {code}");
    }
    assert_eq!(integrity(&server), "ok");
    server.wait_for_log("the store is keeping messages again", 4);
}

/// Replies counted across the senders, for the test to wait on.
#[derive(Default)]
struct Replies {
    stored: AtomicUsize,
    deferred: AtomicUsize,
}

impl Replies {
    /// Waits until `counter` reaches `count`; fails after 30 s.
    fn wait(&self, counter: &AtomicUsize, count: usize, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while counter.load(Ordering::SeqCst) < count {
            assert!(
                Instant::now() < deadline,
                "fewer than {count} replies {what} after 30 s"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// A file system cannot be remounted read-only while the daemon holds its
/// store open for writing: the kernel refuses (busy). What does happen is
/// that the kernel turns it read-only itself when it finds an error
/// (`errors=remount-ro`), and that cannot be undone without unmounting it.
/// So the daemon defers deliveries until it is stopped, the file system
/// checked and mounted again, and the daemon started: then the retry is
/// stored.
#[test]
fn a_file_system_turned_read_only_defers_deliveries_until_repaired() {
    let Some((mount, dir)) = Mount::ext4() else {
        return;
    };
    let mut server = TestServer::start_in(dir, "");
    // The config must survive the error below (the store syncs itself).
    run(
        "sync",
        &[
            "-f",
            server.dir.path().join("config.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(deliver_new(&server, "before-read-only").0, 250);

    let target = mount.dir.to_str().unwrap();
    let remount = Command::new("mount")
        .args(["-o", "remount,ro", target])
        .output()
        .unwrap();
    assert!(
        !remount.status.success(),
        "the kernel let the store's file system be remounted read-only under the daemon"
    );

    let device = run("findmnt", &["-n", "-o", "SOURCE", target]);
    let device = Path::new(device.trim())
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    std::fs::write(
        format!("/sys/fs/ext4/{device}/trigger_fs_error"),
        "dmarc-sink storage failure test\n",
    )
    .unwrap();
    let options = run("findmnt", &["-n", "-o", "OPTIONS", target]);
    assert!(
        options.starts_with("ro,") || options.contains("emergency_ro"),
        "the file system did not turn read-only: {options}"
    );

    assert_deferred(deliver_new(&server, "while-read-only"));
    let logged = server.wait_for_log("storing a message failed", 1);
    assert!(logged[0].contains("ERROR"), "{}", logged[0]);
    assert!(logged[0].contains("disk I/O error"), "{}", logged[0]);
    assert!(logged[0].contains("Read-only file system"), "{}", logged[0]);
    // The daemon stays up and keeps deferring: no 250 it cannot keep.
    assert_deferred(deliver_new(&server, "while-read-only"));

    server.signal("TERM");
    assert!(server.wait().success(), "{}", server.log());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    drop(server);
    mount.unmount();
    // e2fsck: 0 = clean, 1 = errors corrected.
    let checked = Command::new("e2fsck")
        .args(["-f", "-y", mount.image().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        matches!(checked.status.code(), Some(0 | 1)),
        "e2fsck: {}",
        String::from_utf8_lossy(&checked.stdout)
    );
    mount_image(mount.image(), &mount.dir).expect("mount the checked file system");

    let server = TestServer::start_in(dir, "");
    let (code, text) = deliver_new(&server, "while-read-only");
    assert_eq!(code, 250, "{text}");
    assert_eq!(stored(&server, "before-read-only"), (1, 1));
    assert_eq!(stored(&server, "while-read-only"), (1, 1));
    assert_eq!(integrity(&server), "ok");
}
