//! A real `dmarc-sink serve` process on an ephemeral loopback port.

use super::dns::DnsServer;
pub use super::dot_stuff::dot_stuff;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a server may take to say it is listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`TestServer::wait_for_log`] waits for a line.
const LOG_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's stderr, line by line, and a signal for each new line.
#[derive(Default)]
struct Log {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

pub struct TestServer {
    child: Child,
    pub addr: SocketAddr,
    pub dir: TempDir,
    pub db: PathBuf,
    log: Arc<Log>,
    /// Reads the server's stderr into `log` until the server closes it.
    reader: Option<JoinHandle<()>>,
    /// The resolver the server authenticates mail through, when the test
    /// gave it none: every name fails (SERVFAIL), so each message is
    /// `unchecked` at once and counted, as before authentication.
    _dns: Option<DnsServer>,
}

impl TestServer {
    /// Starts a server with `extra` appended to its config file (sections
    /// `[smtp]`, `[limits]`, ... may be given; `[store]` and `listen` are set).
    pub fn start(extra: &str) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, extra)
    }

    /// Starts a server over an existing folder (and its store), e.g. after a kill.
    pub fn start_in(dir: TempDir, extra: &str) -> TestServer {
        let db = dir.path().join("store.sqlite");
        let config = dir.path().join("config.toml");
        let (store_extra, rest) = take_section(extra, "store");
        let (mut smtp_extra, mut rest) = take_section(&rest, "smtp");
        // The tests and benches deliver thousands from 127.0.0.1: no hourly
        // limit unless a test sets one.
        if !smtp_extra.contains("max_messages_per_ip_per_hour") {
            smtp_extra.push_str("max_messages_per_ip_per_hour = 1000000\n");
        }
        let dns = (!rest.contains("[dns]")).then(|| {
            let dns = DnsServer::failing();
            rest.push_str(&format!("\n{}", dns.config(500)));
            dns
        });
        std::fs::write(
            &config,
            format!(
                "[store]\npath = {:?}\n{store_extra}\n[smtp]\nlisten = \"127.0.0.1:0\"\nhostname = \"sink.test\"\n{smtp_extra}\n{rest}\n",
                db.display().to_string()
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_dmarc-sink"))
            .args(["--config", config.to_str().unwrap(), "serve"])
            .env_remove("DMARC_SINK_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dmarc-sink serve");
        let log = Arc::new(Log::default());
        let (ready, listening) = channel();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = listening_address(&line) {
                    let _ = ready.send(address);
                }
                lines.lines.lock().unwrap().push(line);
                lines.grew.notify_all();
            }
        });
        let addr = wait_for(&listening, &log);
        TestServer {
            child,
            addr,
            dir,
            db,
            log,
            reader: Some(reader),
            _dns: dns,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lines.lock().unwrap().join("\n")
    }

    /// Waits until the server has logged `count` lines containing `needle`
    /// and returns those lines; panics with the log after a while.
    pub fn wait_for_log(&self, needle: &str, count: usize) -> Vec<String> {
        let deadline = Instant::now() + LOG_TIMEOUT;
        let mut lines = self.log.lines.lock().unwrap();
        loop {
            let found: Vec<String> = lines
                .iter()
                .filter(|l| l.contains(needle))
                .cloned()
                .collect();
            if found.len() >= count {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {count} lines with {needle:?} in the log:\n{}",
                lines.join("\n")
            );
            lines = self.log.grew.wait_timeout(lines, left).unwrap().0;
        }
    }

    /// Sends a signal by name (TERM, KILL, ...), without waiting.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// Waits for the process to exit and for its last log lines.
    pub fn wait(&mut self) -> ExitStatus {
        let status = self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        status
    }

    /// Stops the process with SIGKILL and hands back its folder.
    pub fn kill(mut self) -> TempDir {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    pub fn count(&self, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// A raw client connection, greeting read.
    pub fn connect(&self) -> SmtpClient {
        SmtpClient::connect(self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Splits the body of `[name]` out of a config fragment: (body, the rest).
fn take_section(extra: &str, name: &str) -> (String, String) {
    match extra.split_once(&format!("[{name}]\n")) {
        Some((before, after)) => {
            let end = after.find("\n[").map(|i| i + 1).unwrap_or(after.len());
            (
                after[..end].to_owned(),
                format!("{before}{}", &after[end..]),
            )
        }
        None => (String::new(), extra.to_owned()),
    }
}

fn listening_address(line: &str) -> Option<SocketAddr> {
    if !line.contains("listening") {
        return None;
    }
    // Text: `listen=127.0.0.1:1234`; JSON: `"listen":"127.0.0.1:1234"`.
    let rest = line
        .split("listen=")
        .nth(1)
        .or_else(|| line.split("\"listen\":\"").nth(1))?;
    rest.split([' ', ',', '"']).next()?.parse().ok()
}

fn wait_for(listening: &Receiver<SocketAddr>, log: &Log) -> SocketAddr {
    listening.recv_timeout(START_TIMEOUT).unwrap_or_else(|_| {
        panic!(
            "the server did not start listening:\n{}",
            log.lines.lock().unwrap().join("\n")
        )
    })
}

/// A hand-driven SMTP client, for what a library client will not do.
pub struct SmtpClient {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl SmtpClient {
    pub fn connect(addr: SocketAddr) -> SmtpClient {
        Self::connect_from(addr, None)
    }

    /// Connects from a chosen loopback source address (127.x.y.z), to act
    /// as a distinct peer.
    pub fn connect_from(addr: SocketAddr, source: Option<std::net::Ipv4Addr>) -> SmtpClient {
        let stream = match source {
            None => TcpStream::connect(addr).unwrap(),
            Some(ip) => {
                let socket =
                    socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                        .unwrap();
                socket.bind(&SocketAddr::from((ip, 0)).into()).unwrap();
                socket.connect(&addr.into()).unwrap();
                socket.into()
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        SmtpClient { stream, reader }
    }

    /// Reads one reply (all its lines); returns the code and the last line.
    pub fn reply(&mut self) -> (u16, String) {
        let (code, lines) = self.reply_lines();
        (code, lines.last().cloned().unwrap_or_default())
    }

    /// Reads one reply; returns the code and every line of it. Code 0 and
    /// no lines when the server closed the connection.
    pub fn reply_lines(&mut self) -> (u16, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap_or(0);
            if n == 0 {
                return (0, lines);
            }
            let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.trim_end().to_owned());
            if last {
                return (code, lines);
            }
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends a command line and reads its reply.
    pub fn command(&mut self, line: &str) -> (u16, String) {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// A whole transaction; returns the reply to the end of DATA.
    pub fn deliver(&mut self, from: &str, to: &str, message: &[u8]) -> (u16, String) {
        assert_eq!(self.command(&format!("MAIL FROM:<{from}>")).0, 250);
        assert_eq!(self.command(&format!("RCPT TO:<{to}>")).0, 250);
        assert_eq!(self.command("DATA").0, 354);
        // Data and the final dot in one write: two small writes would wait
        // for the first one's ACK (Nagle), ~40 ms a delivery on loopback.
        let mut data = dot_stuff(message);
        data.extend_from_slice(b".\r\n");
        self.send(&data);
        self.reply()
    }
}
