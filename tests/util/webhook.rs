//! Webhook receivers on loopback ports: a real HTTP/1.1 listener that
//! answers 200 and hands over each request, and one that never answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

/// How long [`Webhook::next`] waits for a request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP request as received.
#[derive(Debug)]
pub struct Request {
    /// `POST /path HTTP/1.1`.
    pub request_line: String,
    /// Header names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// A listener that answers every request 200 and passes it on.
pub struct Webhook {
    /// `http://127.0.0.1:PORT/hooks/dmarc`.
    pub url: String,
    requests: Receiver<Request>,
}

impl Webhook {
    pub fn start() -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/dmarc", listener.local_addr().unwrap());
        let (sender, requests) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if answer(stream, &sender).is_err() {
                    break;
                }
            }
        });
        Webhook { url, requests }
    }

    /// The next request; panics if none comes in time.
    pub fn next(&self) -> Request {
        self.requests
            .recv_timeout(REQUEST_TIMEOUT)
            .expect("a request to the webhook")
    }

    /// Requests received so far and not yet taken.
    pub fn received(&self) -> Vec<Request> {
        self.requests.try_iter().collect()
    }
}

/// Reads one request and answers 200; Err when the test has hung up.
fn answer(stream: TcpStream, requests: &Sender<Request>) -> Result<(), ()> {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line");
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .expect("a Content-Length");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (&stream)
        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .unwrap();
    requests
        .send(Request {
            request_line: request_line.trim_end().to_owned(),
            headers,
            body,
        })
        .map_err(|_| ())
}

/// A listener that accepts connections and never reads or answers them:
/// a webhook that hangs.
pub fn silent_listener() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/dmarc", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    url
}

/// A URL on a loopback port where nothing listens: connections are refused.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/hooks/dmarc")
}
