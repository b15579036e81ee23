//! An HTTPS server of the tests' own on 127.0.0.1:443, serving one file
//! under a certificate made in the test: the MTA-STS policy host that
//! `check-dns --fetch-mta-sts` fetches from (it resolves the host through
//! the tests' DNS server). Port 443 needs root; without it, [`serve`] says
//! so and gives `None`.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub struct PolicyServer {
    /// The self-signed certificate, PEM: the root a client must trust.
    pub certificate_pem: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Serves `body` to every request, as `host`, or `None` when port 443
/// cannot be bound here.
pub fn serve(host: &str, body: &str) -> Option<PolicyServer> {
    let listener = match TcpListener::bind("127.0.0.1:443") {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:443 ({error}): MTA-STS fetch not checked");
            return None;
        }
    };
    listener.set_nonblocking(true).unwrap();
    let certified = rcgen::generate_simple_self_signed(vec![host.to_owned()]).unwrap();
    let chain = vec![CertificateDer::from_pem_slice(certified.cert.pem().as_bytes()).unwrap()];
    let key =
        PrivateKeyDer::from_pem_slice(certified.signing_key.serialize_pem().as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let connection = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, stream);
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls.write_all(response.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        })
    };
    Some(PolicyServer {
        certificate_pem: certified.cert.pem(),
        stop,
        thread: Some(thread),
    })
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
