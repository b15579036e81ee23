//! A mail relay on a loopback port: a real TCP listener that speaks as
//! much ESMTP as a client sending one message needs (EHLO, AUTH PLAIN,
//! MAIL, RCPT, DATA, QUIT), takes every message and hands it over.

use base64::Engine;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

/// How long [`Relay::next`] waits for a message.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// One message as the relay took it.
#[derive(Debug)]
pub struct Delivery {
    /// `AUTH PLAIN`'s user and password, when the client authenticated.
    pub auth: Option<(String, String)>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message, dot-stuffing undone, CRLF line ends.
    pub data: Vec<u8>,
}

pub struct Relay {
    pub addr: SocketAddr,
    deliveries: Receiver<Delivery>,
}

impl Relay {
    /// A relay that offers AUTH PLAIN (and no STARTTLS).
    pub fn start() -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (sender, deliveries) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if session(stream, &sender).is_err() {
                    break;
                }
            }
        });
        Relay { addr, deliveries }
    }

    /// The next message; panics if none comes in time.
    pub fn next(&self) -> Delivery {
        self.deliveries
            .recv_timeout(MESSAGE_TIMEOUT)
            .expect("a message at the relay")
    }

    /// Messages taken so far and not yet handed over.
    pub fn received(&self) -> Vec<Delivery> {
        self.deliveries.try_iter().collect()
    }
}

/// One SMTP session; Err when the test has hung up.
fn session(stream: TcpStream, deliveries: &Sender<Delivery>) -> Result<(), ()> {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    let mut reply = |line: &str| {
        let _ = out.write_all(format!("{line}\r\n").as_bytes());
    };
    reply("220 relay.test ESMTP");
    let mut auth = None;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => reply("250-relay.test\r\n250-AUTH PLAIN\r\n250 8BITMIME"),
            "AUTH" => {
                let encoded = command.rsplit(' ').next().unwrap_or("");
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .unwrap_or_default();
                let fields: Vec<String> = decoded
                    .split(|&b| b == 0)
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                auth = fields.get(1).cloned().zip(fields.get(2).cloned());
                reply("235 2.7.0 accepted");
            }
            "MAIL" => {
                mail_from = command[10..].to_owned();
                reply("250 2.1.0 ok");
            }
            "RCPT" => {
                rcpt_to.push(command[8..].to_owned());
                reply("250 2.1.5 ok");
            }
            "DATA" => {
                reply("354 go on");
                let mut data = Vec::new();
                loop {
                    let mut line = Vec::new();
                    reader.read_until(b'\n', &mut line).unwrap();
                    if line == b".\r\n" || line.is_empty() {
                        break;
                    }
                    let line = line.strip_prefix(b".").unwrap_or(&line);
                    data.extend_from_slice(line);
                }
                reply("250 2.0.0 taken");
                deliveries
                    .send(Delivery {
                        auth: auth.clone(),
                        mail_from: std::mem::take(&mut mail_from),
                        rcpt_to: std::mem::take(&mut rcpt_to),
                        data,
                    })
                    .map_err(|_| ())?;
            }
            "QUIT" => {
                reply("221 2.0.0 bye");
                return Ok(());
            }
            _ => reply("250 ok"),
        }
    }
}
