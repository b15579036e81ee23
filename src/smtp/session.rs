//! One client connection: reads lines under the limits, feeds them to
//! mailin's session state machine, and writes its answers.
//!
//! [`run`] serves a TCP client; [`serve_connection`] is the session itself,
//! over any [`Connection`], so that tests and the fuzz target can drive it
//! from bytes in memory, with no socket.

use super::Shared;
use super::command::{Prepared, extend_ehlo, is_ehlo, prepare};
use super::handler::{SessionHandler, SessionState};
use super::line::{LineError, LineReader};
use super::stream::{Connection, Stream};
use mailin::{Action, Response, SessionBuilder};
use std::cell::RefCell;
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Serves one TCP connection until it ends.
pub fn run(tcp: TcpStream, remote: SocketAddr, shared: Arc<Shared>, in_data: Arc<AtomicBool>) {
    let line_timeout = Duration::from_secs(shared.config.line_timeout_secs);
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_write_timeout(Some(line_timeout));
    serve_connection(Stream::Plain(tcp), remote, shared, in_data);
}

/// Serves one client over `stream` until it ends: the greeting, then
/// commands and message data under `shared`'s limits, each answered;
/// messages go to `shared.submitter`. `in_data` is set while the client
/// sends DATA (shutdown lets those sessions finish).
pub fn serve_connection(
    mut stream: impl Connection,
    remote: SocketAddr,
    shared: Arc<Shared>,
    in_data: Arc<AtomicBool>,
) {
    let config = &shared.config;
    let line_timeout = Duration::from_secs(config.line_timeout_secs);
    let state = Rc::new(RefCell::new(SessionState::new(
        shared.clone(),
        remote,
        in_data.clone(),
    )));
    let mut builder = SessionBuilder::new(config.hostname.clone());
    if shared.tls.is_some() {
        builder.enable_start_tls();
    }
    let mut session = builder.build(remote.ip(), SessionHandler(state.clone()));
    let mut reader = LineReader::new();
    let mut out = Vec::with_capacity(512);
    let session_deadline = Instant::now() + Duration::from_secs(config.session_timeout_secs);

    if shared.shutdown.is_stopping() {
        put(&mut out, &shutting_down(), &shared);
        let _ = stream.write_all(&out);
        return;
    }
    put(&mut out, &session.greeting(), &shared);
    let mut normalized = Vec::new();
    loop {
        if stream
            .write_all(&out)
            .and_then(|()| stream.flush())
            .is_err()
        {
            break;
        }
        out.clear();
        let in_data_now = in_data.load(Ordering::SeqCst);
        if shared.shutdown.is_stopping() && !in_data_now {
            put(&mut out, &shutting_down(), &shared);
            let _ = stream.write_all(&out);
            break;
        }
        let (max, limit_key) = if in_data_now {
            (config.max_data_line_bytes, "smtp.max_data_line_bytes")
        } else {
            (config.max_command_line_bytes, "smtp.max_command_line_bytes")
        };
        let deadline = (Instant::now() + line_timeout).min(session_deadline);
        // Answers to pipelined commands go out together, once the input
        // buffered so far has been processed.
        loop {
            let line = match reader.read_line(&mut stream, max, deadline) {
                Ok(line) => line,
                Err(error) => {
                    let reply = match error {
                        LineError::TooLong(limit) => {
                            tracing::info!(%remote, limit, "line too long; closing");
                            Some(Response::custom(
                                500,
                                format!("5.5.2 Line too long (limit {limit} bytes, {limit_key})"),
                            ))
                        }
                        LineError::TimedOut if Instant::now() >= session_deadline => {
                            Some(Response::custom(
                                421,
                                "4.4.2 Session time limit reached, closing".into(),
                            ))
                        }
                        LineError::TimedOut => {
                            Some(Response::custom(421, "4.4.2 Timeout, closing".into()))
                        }
                        LineError::Closed | LineError::Io(_) if shared.shutdown.is_stopping() => {
                            Some(shutting_down())
                        }
                        LineError::Io(error) => {
                            tracing::debug!(%remote, %error, "connection failed");
                            None
                        }
                        LineError::Closed => None,
                    };
                    if let Some(reply) = reply {
                        put(&mut out, &reply, &shared);
                    }
                    let _ = stream.write_all(&out);
                    let _ = stream.flush();
                    stream.close();
                    return;
                }
            };
            normalized.clear();
            normalized.extend_from_slice(line);
            if !normalized.ends_with(b"\r\n") {
                // A bare LF from a careless client: mailin wants CRLF.
                normalized.pop();
                normalized.extend_from_slice(b"\r\n");
            }
            let in_data_now = in_data.load(Ordering::SeqCst);
            let prepared = if in_data_now {
                Prepared::AsIs
            } else {
                prepare(&normalized, shared.max_message_bytes)
            };
            let response = match prepared {
                Prepared::Reply(reply) => {
                    put(&mut out, &reply, &shared);
                    if !reader.has_line() {
                        break;
                    }
                    continue;
                }
                Prepared::AsIs => session.process(&normalized),
                Prepared::Mail { line, reverse_path } => {
                    state.borrow_mut().next_reverse_path = Some(reverse_path);
                    session.process(&line)
                }
                Prepared::Rcpt { line } => session.process(&line),
            };
            let response = state
                .borrow_mut()
                .end_of_data_reply
                .take()
                .unwrap_or(response);
            if !in_data_now && is_ehlo(&normalized) && response.code == 250 {
                let mut reply = Vec::new();
                put(&mut reply, &response, &shared);
                out.extend(extend_ehlo(
                    &reply,
                    &config.hostname,
                    shared.max_message_bytes,
                ));
            } else {
                put(&mut out, &response, &shared);
            }
            match response.action {
                Action::Close => {
                    let _ = stream.write_all(&out);
                    let _ = stream.flush();
                    return;
                }
                Action::UpgradeTls => {
                    let _ = stream.write_all(&out);
                    let _ = stream.flush();
                    out.clear();
                    reader.discard_buffered();
                    let Some(tls) = shared.tls.clone() else {
                        return;
                    };
                    stream = match stream.start_tls(tls, deadline) {
                        Ok(stream) => stream,
                        Err(error) => {
                            tracing::info!(%remote, %error, "TLS handshake failed");
                            return;
                        }
                    };
                    session.tls_active();
                    break;
                }
                Action::Reply | Action::NoReply => {}
            }
            if !reader.has_line() || in_data.load(Ordering::SeqCst) != in_data_now {
                break;
            }
        }
    }
}

/// The answer to a client while shutdown is under way.
fn shutting_down() -> Response {
    Response::custom(421, "4.3.2 Shutting down, try again later".into())
}

/// Appends `reply` to what goes out next, and counts it by its class. Every
/// reply of a session goes through here; mailin's "say nothing" (the lines
/// of a message) writes and counts nothing.
fn put(out: &mut Vec<u8>, reply: &Response, shared: &Shared) {
    shared.metrics.reply(reply.code);
    let _ = reply.write_to(out);
}
