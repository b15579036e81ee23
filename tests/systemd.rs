//! The shipped systemd units: valid, and hardened as promised.

use std::path::Path;
use std::process::Command;

fn unit(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("systemd")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn service_exposure_is_at_most_2() {
    let Ok(output) = Command::new("systemd-analyze")
        .args(["security", "--offline=true", &unit("dmarc-sink.service")])
        .output()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs systemd-analyze"
        );
        eprintln!("systemd-analyze not installed: unit exposure not checked");
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let exposure: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for dmarc-sink.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
    assert!(exposure <= 2.0, "exposure {exposure}:\n{text}");
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
