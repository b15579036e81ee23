//! The shipped systemd units: valid, and hardened as promised; the
//! digest's timer and service beside the daemon's.

use std::path::Path;
use std::process::Command;

fn unit(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("systemd")
        .join(name)
        .display()
        .to_string()
}

/// The units shipped in systemd/.
const UNITS: [&str; 4] = [
    "dmarc-sink.service",
    "dmarc-sink.socket",
    "dmarc-sink-digest.service",
    "dmarc-sink-digest.timer",
];

/// `systemd-analyze ARGS…`, or `None` (with a note) where it is not
/// installed; CI installs it.
fn systemd_analyze(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("systemd-analyze").args(args).output() {
        Ok(output) => Some(output),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI installs systemd-analyze"
            );
            eprintln!("systemd-analyze not installed: units not checked");
            None
        }
    }
}

#[test]
fn service_exposure_is_at_most_2() {
    for service in ["dmarc-sink.service", "dmarc-sink-digest.service"] {
        let Some(output) = systemd_analyze(&["security", "--offline=true", &unit(service)]) else {
            return;
        };
        let text = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        let exposure: f64 = text
            .lines()
            .find_map(|l| {
                l.split(&format!("Overall exposure level for {service}: "))
                    .nth(1)
            })
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
        assert!(exposure <= 2.0, "{service}: exposure {exposure}:\n{text}");
    }
}

/// `systemd-analyze verify` of every unit, as installed: copies whose
/// ExecStart runs the binary under test (verify checks that it exists),
/// without the man page lookup (the page is installed by hand).
#[test]
fn units_pass_systemd_analyze_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for name in UNITS {
        let text = std::fs::read_to_string(unit(name)).unwrap().replace(
            "/usr/local/bin/dmarc-sink",
            env!("CARGO_BIN_EXE_dmarc-sink"),
        );
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        paths.push(path.display().to_string());
    }
    let mut args = vec!["verify", "--man=no"];
    args.extend(paths.iter().map(String::as_str));
    let Some(output) = systemd_analyze(&args) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "{}\n{stderr}",
        output.status
    );
}

#[test]
fn the_digest_runs_weekly_as_the_daemons_user() {
    let service = std::fs::read_to_string(unit("dmarc-sink-digest.service")).unwrap();
    for line in [
        "Type=oneshot",
        "User=dmarc-sink",
        "DynamicUser=yes",
        "StateDirectory=dmarc-sink",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
    ] {
        assert!(
            service.lines().any(|l| l == line),
            "{line} in dmarc-sink-digest.service"
        );
    }
    let exec = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart");
    let main = std::fs::read_to_string(unit("dmarc-sink.service")).unwrap();
    let db = "--db /var/lib/dmarc-sink/dmarc-sink.sqlite";
    assert!(main.contains(db), "the daemon's store moved");
    assert!(
        exec.contains(" digest ") && exec.contains(db),
        "the daemon's store: {exec}"
    );
    let timer = std::fs::read_to_string(unit("dmarc-sink-digest.timer")).unwrap();
    for line in ["OnCalendar=Mon *-*-* 08:00:00", "Persistent=true"] {
        assert!(timer.lines().any(|l| l == line), "{line} in the timer");
    }
}

#[test]
fn units_declare_notify_socket_activation_and_the_bind_capability() {
    let service = std::fs::read_to_string(unit("dmarc-sink.service")).unwrap();
    for line in [
        "Type=notify",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        "StateDirectory=dmarc-sink",
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
    ] {
        assert!(
            service.lines().any(|l| l == line),
            "{line} in dmarc-sink.service"
        );
    }
    let socket = std::fs::read_to_string(unit("dmarc-sink.socket")).unwrap();
    assert!(socket.lines().any(|l| l == "ListenStream=25"));
}

#[test]
fn socket_activation_and_ready_notification() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixDatagram;
    let Ok(activator) = which("systemd-socket-activate") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs systemd-socket-activate"
        );
        eprintln!("systemd-socket-activate not installed: socket activation not checked");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify.sock");
    let notify = UnixDatagram::bind(&notify_path).unwrap();
    notify
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = dir.path().join("store.sqlite");
    let mut child = Command::new(activator)
        // The activator passes on only the variables named with -E.
        .args([
            "-l",
            &format!("127.0.0.1:{port}"),
            "-E",
            "NOTIFY_SOCKET",
            env!("CARGO_BIN_EXE_dmarc-sink"),
            "--db",
            db.to_str().unwrap(),
            "serve",
        ])
        .env("NOTIFY_SOCKET", &notify_path)
        .env_remove("DMARC_SINK_CONFIG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The activator listens at once; the daemon starts on the first connection.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut stream = loop {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            break stream;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "systemd-socket-activate never listened on {port}"
        );
        std::thread::yield_now();
    };
    let mut buf = [0u8; 256];
    let n = notify
        .recv(&mut buf)
        .expect("a notification from the daemon");
    let message = String::from_utf8_lossy(&buf[..n]).into_owned();
    let mut greeting = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut greeting)
        .unwrap();
    stream.write_all(b"QUIT\r\n").unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let mut log = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log);
    assert!(message.contains("READY=1"), "{message}");
    assert!(greeting.starts_with("220 "), "{greeting:?}\n{log}");
    assert!(
        log.contains(&format!("listen=127.0.0.1:{port}")),
        "the passed socket is used:\n{log}"
    );
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(())
}
