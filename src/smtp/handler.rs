//! The decisions mailin asks for: which recipients to take, how much data
//! to hold, and the answer at the end of DATA, which comes from the store.

use super::Shared;
use super::admission::Admission;
use crate::auth::{Authentication, Client};
use crate::ingest::{Committed, Envelope, PayloadOutcome, Verdict};
use crate::report::QuarantineKind;
use mailin::{Handler, Response, response};
use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Recipients per message: a report has one; more is a spammer's list.
const MAX_RECIPIENTS: usize = 100;

/// The state of one session, shared between mailin (through
/// [`SessionHandler`]) and the session loop.
pub struct SessionState {
    shared: Arc<Shared>,
    remote: SocketAddr,
    /// Set while the client is sending DATA; read by shutdown.
    pub in_data: Arc<AtomicBool>,
    /// The reverse path of the MAIL command being processed, as sent.
    pub next_reverse_path: Option<String>,
    helo: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
    /// Bytes of `data` counted against `smtp.max_buffered_bytes`.
    reserved: u64,
    oversize: bool,
    overloaded: bool,
    data_started: Option<Instant>,
    /// The real answer to the end of DATA. mailin stays in its DATA state
    /// after an error answer, taking the next commands for message text; so
    /// it is always told OK, and the session sends this instead.
    pub end_of_data_reply: Option<Response>,
}

impl SessionState {
    pub fn new(shared: Arc<Shared>, remote: SocketAddr, in_data: Arc<AtomicBool>) -> Self {
        SessionState {
            shared,
            remote,
            in_data,
            next_reverse_path: None,
            helo: None,
            mail_from: None,
            rcpt_to: Vec::new(),
            data: Vec::new(),
            reserved: 0,
            oversize: false,
            overloaded: false,
            data_started: None,
            end_of_data_reply: None,
        }
    }

    fn release_data(&mut self) {
        self.shared.release_buffered(self.reserved);
        self.reserved = 0;
        self.data = Vec::new();
    }

    fn append(&mut self, line: &[u8]) {
        if self.oversize || self.overloaded {
            return;
        }
        let limit = self.shared.max_message_bytes;
        if self.data.len() as u64 + line.len() as u64 > limit {
            self.oversize = true;
            self.release_data();
            return;
        }
        if !self.shared.reserve_buffered(line.len() as u64) {
            self.overloaded = true;
            self.release_data();
            return;
        }
        self.reserved += line.len() as u64;
        self.data.extend_from_slice(line);
    }

    fn accepts(&self, recipient: &str) -> bool {
        let accepted = &self.shared.config.accept_recipients;
        accepted.is_empty()
            || accepted.iter().any(|entry| match entry.strip_prefix('@') {
                Some(domain) => recipient
                    .rsplit_once('@')
                    .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain)),
                None => entry.eq_ignore_ascii_case(recipient),
            })
    }

    fn end_of_data(&mut self) -> Response {
        self.in_data.store(false, Ordering::SeqCst);
        let started = self.data_started.take().unwrap_or_else(Instant::now);
        if self.oversize {
            self.oversize = false;
            tracing::info!(remote = %self.remote, mail_from = self.mail_from.as_deref().unwrap_or(""),
                limit = self.shared.max_message_bytes, "message refused: over the size limit");
            return Response::custom(
                552,
                format!(
                    "5.3.4 Message exceeds the limit of {} bytes (limits.max_message_bytes)",
                    self.shared.max_message_bytes
                ),
            );
        }
        if self.overloaded {
            self.overloaded = false;
            tracing::warn!(remote = %self.remote, "message deferred: smtp.max_buffered_bytes reached");
            return Response::custom(
                452,
                "4.3.1 Insufficient system storage, try again later".into(),
            );
        }
        let raw = std::mem::take(&mut self.data);
        let size = raw.len();
        let ip = self.remote.ip();
        if self.shared.rates.admit(ip, size as u64).is_err() {
            self.shared.release_buffered(self.reserved);
            self.reserved = 0;
            self.shared.rates.count(ip, 0);
            return Response::custom(
                451,
                "4.7.0 Too much mail from your address, try again later".into(),
            );
        }
        let auth = self.shared.authenticator.as_ref().map(|authenticator| {
            let client = Client {
                ip,
                helo: self.helo.as_deref().unwrap_or(""),
                mail_from: self.mail_from.as_deref().unwrap_or(""),
            };
            authenticator.authenticate(&raw, Some(client))
        });
        let auth_label = auth
            .as_ref()
            .map_or_else(|| "unchecked".to_owned(), auth_label);
        let admission = Admission::of(auth.as_ref().map(|a| a.trust), self.shared.unauthenticated);
        let envelope = Envelope {
            remote_addr: Some(ip.to_string()),
            helo: self.helo.clone(),
            mail_from: self.mail_from.clone(),
            rcpt_to: self.rcpt_to.clone(),
            auth,
        };
        if let Some(refusal) = admission.response() {
            drop(raw);
            self.shared.release_buffered(self.reserved);
            self.reserved = 0;
            self.shared.rates.count(ip, 0);
            tracing::info!(
                remote = %self.remote,
                mail_from = self.mail_from.as_deref().unwrap_or(""),
                size,
                outcome = "refused_unauthenticated",
                auth = %auth_label,
                duration_ms = started.elapsed().as_millis() as u64,
                "message"
            );
            return refusal;
        }
        let committed = match admission {
            Admission::Hold => self.shared.submitter.submit_held(
                raw,
                envelope,
                QuarantineKind::Unauthenticated,
                "the sender did not authenticate (trust.unauthenticated = \"quarantine\")".into(),
            ),
            _ => self.shared.submitter.submit(raw, envelope),
        };
        self.shared.release_buffered(self.reserved);
        self.reserved = 0;
        let stored = matches!(committed, Committed::Stored(_));
        self.shared
            .rates
            .count(ip, if stored { size as u64 } else { 0 });
        // The store lowers a message that carries a report its sender is
        // not the reporter of: the log says what was stored.
        let auth_label = match &committed {
            Committed::Stored(outcome) if !auth_label.starts_with(outcome.trust.as_str()) => {
                format!("{} (was {auth_label})", outcome.trust.as_str())
            }
            _ => auth_label,
        };
        let (response, outcome, reports) = match &committed {
            Committed::Stored(outcome) => {
                let reports: Vec<String> = outcome
                    .payloads
                    .iter()
                    .filter_map(|p| match &p.outcome {
                        PayloadOutcome::Stored { report, .. }
                        | PayloadOutcome::Duplicate { report, .. } => Some(format!(
                            "{} {} {} {} records={} messages={}",
                            report.kind.as_str(),
                            report.org_name,
                            report.report_id,
                            report.policy_domain,
                            report.records,
                            report.messages
                        )),
                        PayloadOutcome::Quarantined { .. } => None,
                    })
                    .collect();
                let verdict = outcome.verdict();
                let text = match verdict {
                    Verdict::NotAReport => "2.6.0 Message kept; it holds no report".to_owned(),
                    Verdict::Duplicate => "2.6.0 Report received before; thank you".to_owned(),
                    Verdict::Quarantined => "2.6.0 Message kept for review".to_owned(),
                    Verdict::Stored | Verdict::Partial => {
                        format!("2.6.0 {} report(s) stored", outcome.stored().count())
                    }
                };
                (Response::custom(250, text), verdict.as_str(), reports)
            }
            Committed::NotAReport => (
                Response::custom(550, "5.6.0 No DMARC report found in this message".into()),
                "rejected_not_a_report",
                Vec::new(),
            ),
            Committed::Failed(error) => {
                tracing::error!(remote = %self.remote, %error, "storing a message failed; answered 451");
                (
                    Response::custom(
                        451,
                        "4.3.0 Temporary failure storing the message, try again later".into(),
                    ),
                    "store_failed",
                    Vec::new(),
                )
            }
        };
        tracing::info!(
            remote = %self.remote,
            mail_from = self.mail_from.as_deref().unwrap_or(""),
            rcpt_to = %self.rcpt_to.join(","),
            size,
            outcome,
            auth = %auth_label,
            reports = %reports.join("; "),
            duration_ms = started.elapsed().as_millis() as u64,
            "message"
        );
        response
    }
}

/// The log's `auth=`: the verdict and the DKIM domains that verified.
fn auth_label(auth: &Authentication) -> String {
    if auth.dkim_domains.is_empty() {
        auth.trust.as_str().to_owned()
    } else {
        format!(
            "{} dkim={}",
            auth.trust.as_str(),
            auth.dkim_domains.join(",")
        )
    }
}

impl Drop for SessionState {
    fn drop(&mut self) {
        self.shared.release_buffered(self.reserved);
    }
}

/// mailin's view of the session state.
pub struct SessionHandler(pub Rc<RefCell<SessionState>>);

impl Handler for SessionHandler {
    fn helo(&mut self, _ip: IpAddr, domain: &str) -> Response {
        self.0.borrow_mut().helo = Some(domain.to_owned());
        response::OK
    }

    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        let mut state = self.0.borrow_mut();
        if state.shared.rates.admit(state.remote.ip(), 0).is_err() {
            return Response::custom(
                451,
                "4.7.0 Too much mail from your address, try again later".into(),
            );
        }
        let reverse_path = state
            .next_reverse_path
            .take()
            .unwrap_or_else(|| from.to_owned());
        state.mail_from = Some(reverse_path);
        state.rcpt_to.clear();
        state.release_data();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let mut state = self.0.borrow_mut();
        if !state.accepts(to) {
            tracing::info!(remote = %state.remote, recipient = to, "recipient refused");
            return Response::custom(550, "5.1.1 Recipient not accepted here".into());
        }
        if state.rcpt_to.len() >= MAX_RECIPIENTS {
            return Response::custom(452, "4.5.3 Too many recipients".into());
        }
        state.rcpt_to.push(to.to_owned());
        response::OK
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        let mut state = self.0.borrow_mut();
        if state.shared.shutdown.is_stopping() {
            return Response::custom(421, "4.3.2 Shutting down, try again later".into());
        }
        state.in_data.store(true, Ordering::SeqCst);
        state.data_started = Some(Instant::now());
        state.release_data();
        state.oversize = false;
        state.overloaded = false;
        response::OK
    }

    fn data(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.0.borrow_mut().append(line);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mut state = self.0.borrow_mut();
        let ended = Instant::now();
        let reply = state.end_of_data();
        state.shared.metrics.data_replied(ended.elapsed());
        state.end_of_data_reply = Some(reply);
        response::OK
    }
}
