//! A PostgreSQL of the tests' own: `initdb` and `pg_ctl` in a temporary
//! directory, listening on a free loopback port, trusting local
//! connections, run as an unprivileged user when the tests run as root (as
//! under CI: PostgreSQL refuses to run as root).
//!
//! Without PostgreSQL installed, [`Postgres::start`] returns None and the
//! test says it skipped; under `CI=true` it fails instead, as CI installs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// The superuser the tests connect as.
pub const USER: &str = "dmarc";

pub struct Postgres {
    dir: TempDir,
    bin: PathBuf,
    /// Who runs the server: None when the tests are not root.
    run_as: Option<String>,
    pub port: u16,
}

impl Postgres {
    /// Starts a fresh server, or None when PostgreSQL is not installed
    /// (outside CI).
    pub fn start() -> Option<Postgres> {
        Self::start_with(None)
    }

    /// [`Postgres::start`], serving TLS with this certificate and key (PEM)
    /// and refusing connections over TCP without it.
    pub fn start_with_tls(certificate: &str, key: &str) -> Option<Postgres> {
        Self::start_with(Some((certificate, key)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is not installed, and CI=true: .ci/run installs it"
            );
            eprintln!("skipped: PostgreSQL is not installed (initdb and pg_ctl not found)");
            return None;
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let run_as = is_root().then(|| {
            let user = ["postgres", "nobody"]
                .into_iter()
                .find(|u| user_exists(u))
                .expect("an unprivileged user (postgres or nobody) to run PostgreSQL");
            chown(dir.path(), user);
            user.to_owned()
        });
        let port = free_port();
        let server = Postgres {
            dir,
            bin,
            run_as,
            port,
        };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n",
            server.dir.path().display()
        );
        let mut existing = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        existing.push_str(&conf);
        if let Some((certificate, key)) = tls {
            existing
                .push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
            std::fs::write(data.join("server.crt"), certificate).unwrap();
            std::fs::write(data.join("server.key"), key).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                data.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\n\
                 hostssl all all 127.0.0.1/32 trust\n\
                 hostnossl all all 127.0.0.1/32 reject\n",
            )
            .unwrap();
        }
        std::fs::write(data.join("postgresql.conf"), existing).unwrap();
        if let Some(user) = &server.run_as {
            chown(&data, user);
        }
        server.pg_ctl_start();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs `program` of PostgreSQL's with `args`, as the server's user; it
    /// must succeed.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl_start(&self) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        // -w: returns once the server accepts connections.
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server at once (connections broken, as in a crash or an
    /// outage).
    pub fn stop(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts it again on the same port after [`Postgres::stop`].
    pub fn restart(&self) {
        self.pg_ctl_start();
    }

    /// The URL of database `database`, which [`Postgres::create_database`]
    /// made.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates database `name`; returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        let port = self.port.to_string();
        self.run(
            "createdb",
            &["-h", "127.0.0.1", "-p", &port, "-U", USER, name],
        );
        self.url(name)
    }

    /// The server's log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let path = self.bin.join("pg_ctl");
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        let _ = command
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

/// PostgreSQL's programs: `pg_config --bindir`, else the newest
/// /usr/lib/postgresql/N/bin (Debian's), else a directory on PATH that
/// holds both initdb and pg_ctl.
fn bin_dir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_both(&dir) {
            return Some(dir);
        }
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_both(dir))
        .collect();
    debian.sort();
    if let Some((_, dir)) = debian.pop() {
        return Some(dir);
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).find(|dir| has_both(dir)))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg(user)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn chown(path: &Path, user: &str) {
    let status = Command::new("chown")
        .arg("-R")
        .arg(user)
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown {user} {}", path.display());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

#[test]
fn the_tests_postgres_starts_and_answers() {
    let Some(server) = Postgres::start() else {
        return;
    };
    let url = server.create_database("smoke");
    let output = Command::new("psql")
        .args([url.as_str(), "-tAc", "SELECT 40 + 2"])
        .output()
        .expect("run psql");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "42",
        "{}",
        server.log()
    );
}
