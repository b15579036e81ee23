//! A DNS server of the tests' own, on a loopback UDP port: it answers TXT
//! queries from the records a test gives it, and can be told to
//! answer a name slowly or not at all. Nothing leaves the machine.
//!
//! Names it holds nothing for get NXDOMAIN, or SERVFAIL from a server made
//! with [`DnsServer::failing`]: what the daemons of the tests that are not
//! about authentication use, so that every message they send is checked at
//! once and found `unchecked` (a DNS failure), and counted as before.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const TXT: u16 = 16;
const A: u16 = 1;
const MX: u16 = 15;
const CNAME: u16 = 5;
const SOA: u16 = 6;
const NXDOMAIN: u16 = 3;
const SERVFAIL: u16 = 2;

/// How a name is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Never: the resolver times out.
    Silent,
    /// After this long.
    Slow(Duration),
}

/// The records' data by name (lower case, no final dot) and type.
type Records = HashMap<(String, u16), Vec<Vec<u8>>>;

#[derive(Default)]
struct Zone {
    records: Mutex<Records>,
    behaviours: Mutex<HashMap<String, Behaviour>>,
    queries: AtomicUsize,
}

pub struct DnsServer {
    pub addr: SocketAddr,
    zone: Arc<Zone>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// A server that answers NXDOMAIN for every name it holds nothing for.
    pub fn start() -> DnsServer {
        Self::serve(NXDOMAIN)
    }

    /// A server that answers SERVFAIL for every name it holds nothing for.
    pub fn failing() -> DnsServer {
        Self::serve(SERVFAIL)
    }

    fn serve(unknown: u16) -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the test DNS server");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let zone = Arc::new(Zone::default());
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (zone, stop) = (zone.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::SeqCst) {
                    let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    zone.queries.fetch_add(1, Ordering::SeqCst);
                    let Some(query) = Query::parse(&buf[..len]) else {
                        continue;
                    };
                    let behaviour = zone.behaviours.lock().unwrap().get(&query.name).copied();
                    let answer = zone.answer(&query, unknown);
                    match behaviour {
                        Some(Behaviour::Silent) => {}
                        Some(Behaviour::Slow(delay)) => {
                            let socket = socket.try_clone().unwrap();
                            std::thread::spawn(move || {
                                std::thread::sleep(delay);
                                let _ = socket.send_to(&answer, peer);
                            });
                        }
                        None => {
                            let _ = socket.send_to(&answer, peer);
                        }
                    }
                }
            })
        };
        DnsServer {
            addr,
            zone,
            stop,
            thread: Some(thread),
        }
    }

    /// Adds a TXT record (split into strings of 255 bytes at most).
    pub fn txt(&self, name: &str, text: &str) -> &Self {
        let mut rdata = Vec::new();
        for chunk in text.as_bytes().chunks(255) {
            rdata.push(chunk.len() as u8);
            rdata.extend_from_slice(chunk);
        }
        self.add(name, TXT, rdata)
    }

    /// Adds a TXT record made of these strings, as a publisher may split one.
    pub fn txt_strings(&self, name: &str, strings: &[&str]) -> &Self {
        let mut rdata = Vec::new();
        for string in strings {
            rdata.push(string.len() as u8);
            rdata.extend_from_slice(string.as_bytes());
        }
        self.add(name, TXT, rdata)
    }

    /// Adds an A record.
    pub fn a(&self, name: &str, ip: std::net::Ipv4Addr) -> &Self {
        self.add(name, A, ip.octets().to_vec())
    }

    /// Adds an MX record; `exchange` "." is a null MX.
    pub fn mx(&self, name: &str, preference: u16, exchange: &str) -> &Self {
        let mut rdata = preference.to_be_bytes().to_vec();
        rdata.extend(encode_name(exchange));
        self.add(name, MX, rdata)
    }

    /// Makes `name` an alias of `target`: queries for it are answered with
    /// the CNAME and `target`'s records.
    pub fn cname(&self, name: &str, target: &str) -> &Self {
        self.add(name, CNAME, encode_name(target))
    }

    /// Answers `name` so, from now on.
    pub fn behave(&self, name: &str, behaviour: Behaviour) -> &Self {
        self.zone
            .behaviours
            .lock()
            .unwrap()
            .insert(normal(name), behaviour);
        self
    }

    /// Queries received so far.
    pub fn queries(&self) -> usize {
        self.zone.queries.load(Ordering::SeqCst)
    }

    /// The `[dns]` section that points a daemon here.
    pub fn config(&self, timeout_ms: u64) -> String {
        format!(
            "[dns]\nnameservers = [\"{}\"]\ntimeout_ms = {timeout_ms}\n",
            self.addr
        )
    }

    fn add(&self, name: &str, kind: u16, rdata: Vec<u8>) -> &Self {
        self.zone
            .records
            .lock()
            .unwrap()
            .entry((normal(name), kind))
            .or_default()
            .push(rdata);
        self
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The one question of a query, and where it ends.
struct Query<'a> {
    packet: &'a [u8],
    name: String,
    kind: u16,
    question_end: usize,
}

impl<'a> Query<'a> {
    fn parse(packet: &'a [u8]) -> Option<Query<'a>> {
        if packet.len() < 12 || u16::from_be_bytes([packet[4], packet[5]]) != 1 {
            return None;
        }
        let mut at = 12;
        let mut labels = Vec::new();
        loop {
            let len = *packet.get(at)? as usize;
            at += 1;
            if len == 0 {
                break;
            }
            if len > 63 {
                return None;
            }
            labels.push(String::from_utf8_lossy(packet.get(at..at + len)?).to_ascii_lowercase());
            at += len;
        }
        let kind = u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]);
        Some(Query {
            packet,
            name: labels.join("."),
            kind,
            question_end: at + 4,
        })
    }
}

impl Zone {
    fn answer(&self, query: &Query<'_>, unknown: u16) -> Vec<u8> {
        let records = self.records.lock().unwrap();
        // (owner: None for the question's name, type, data)
        let mut answers: Vec<(Option<String>, u16, Vec<u8>)> = records
            .get(&(query.name.clone(), query.kind))
            .into_iter()
            .flatten()
            .map(|rdata| (None, query.kind, rdata.clone()))
            .collect();
        if answers.is_empty()
            && let Some(alias) = records.get(&(query.name.clone(), CNAME))
        {
            let target = decode_name(&alias[0]);
            answers.push((None, CNAME, alias[0].clone()));
            for rdata in records
                .get(&(target.clone(), query.kind))
                .into_iter()
                .flatten()
            {
                answers.push((Some(target.clone()), query.kind, rdata.clone()));
            }
        }
        let name_exists = records.keys().any(|(name, _)| *name == query.name);
        let rcode = if name_exists { 0 } else { unknown };
        let packet = query.packet;
        // ID; QR, AA and RA, RD as asked; the code.
        let mut out = vec![packet[0], packet[1]];
        let flags: u16 = 0x8000 | 0x0400 | 0x0080 | (u16::from(packet[2] & 0x01) << 8) | rcode;
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes());
        out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        // An SOA with a negative answer, as an authoritative server gives,
        // so that resolvers may cache the absence (RFC 2308).
        let negative = answers.is_empty() && rcode != SERVFAIL;
        out.extend_from_slice(&u16::from(negative).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&packet[12..query.question_end]);
        for (owner, kind, rdata) in answers {
            match owner {
                // The name: a pointer to the question's.
                None => out.extend_from_slice(&[0xc0, 12]),
                Some(owner) => out.extend(encode_name(&owner)),
            }
            out.extend_from_slice(&kind.to_be_bytes());
            out.extend_from_slice(&1u16.to_be_bytes());
            out.extend_from_slice(&300u32.to_be_bytes());
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        if negative {
            soa(&mut out);
        }
        out
    }
}

/// A name in DNS wire form, uncompressed.
fn encode_name(name: &str) -> Vec<u8> {
    let mut encoded = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        encoded.push(label.len() as u8);
        encoded.extend_from_slice(label.as_bytes());
    }
    encoded.push(0);
    encoded
}

/// The name [`encode_name`] wrote.
fn decode_name(encoded: &[u8]) -> String {
    let mut labels = Vec::new();
    let mut at = 0;
    while let Some(&len) = encoded.get(at) {
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(&encoded[at + 1..at + 1 + len as usize]).into_owned());
        at += 1 + len as usize;
    }
    labels.join(".")
}

/// The SOA of the zone `test.`, its minimum 300 s.
fn soa(out: &mut Vec<u8>) {
    let name = |labels: &[&str]| {
        let mut encoded = Vec::new();
        for label in labels {
            encoded.push(label.len() as u8);
            encoded.extend_from_slice(label.as_bytes());
        }
        encoded.push(0);
        encoded
    };
    let mut rdata = name(&["ns", "test"]);
    rdata.extend(name(&["hostmaster", "test"]));
    for value in [1u32, 3600, 600, 86_400, 300] {
        rdata.extend_from_slice(&value.to_be_bytes());
    }
    out.extend(name(&["test"]));
    out.extend_from_slice(&SOA.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&300u32.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(&rdata);
}
