//! What mailin's command parser does not take, made into what it does.
//!
//! mailin accepts `MAIL FROM:<path>` with at most a BODY parameter, and
//! `RCPT TO:<path>` with none. Real senders add `SIZE=`, `SMTPUTF8`, DSN
//! parameters, a space after the colon, and the null reverse path `<>` that
//! reports are often sent from. MAIL and RCPT are read here first: SIZE is
//! checked against the limit, the reverse path is kept as sent, and mailin
//! is handed a plain form of the command. The EHLO reply is extended with
//! what this server supports beyond mailin's own list.

use mailin::Response;

/// A command line prepared for mailin.
#[derive(Debug, PartialEq)]
pub enum Prepared {
    /// Pass this line to mailin as it is.
    AsIs,
    /// MAIL: pass `line` to mailin; `reverse_path` is the sender as given
    /// (empty for the null path `<>`).
    Mail { line: Vec<u8>, reverse_path: String },
    /// RCPT without its parameters.
    Rcpt { line: Vec<u8> },
    /// Answer the client directly with this reply; mailin is not involved.
    Reply(Response),
}

/// Looks at one command line (ending in CRLF).
pub fn prepare(line: &[u8], max_message_bytes: u64) -> Prepared {
    if let Some(rest) = strip_verb(line, b"MAIL FROM:") {
        let Some((path, params)) = split_path(rest) else {
            return Prepared::AsIs;
        };
        let mut body_8bit = false;
        for param in params.split_ascii_whitespace() {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.eq_ignore_ascii_case("SIZE") {
                match value.parse::<u64>() {
                    Ok(size) if size > max_message_bytes => {
                        return Prepared::Reply(Response::custom(
                            552,
                            format!(
                                "5.3.4 Message size {size} exceeds the limit of {max_message_bytes} bytes"
                            ),
                        ));
                    }
                    Ok(_) => {}
                    Err(_) => {
                        return Prepared::Reply(Response::custom(
                            501,
                            "5.5.4 Bad SIZE parameter".into(),
                        ));
                    }
                }
            } else if name.eq_ignore_ascii_case("BODY") {
                body_8bit = value.eq_ignore_ascii_case("8BITMIME");
            }
        }
        // mailin needs a non-empty path; the real one (maybe `<>`) is kept.
        let shown = if path.is_empty() { "null-sender" } else { path };
        let body = if body_8bit { " BODY=8BITMIME" } else { "" };
        return Prepared::Mail {
            line: format!("MAIL FROM:<{shown}>{body}\r\n").into_bytes(),
            reverse_path: path.to_owned(),
        };
    }
    if let Some(rest) = strip_verb(line, b"RCPT TO:") {
        return match split_path(rest) {
            Some((path, _)) if !path.is_empty() => Prepared::Rcpt {
                line: format!("RCPT TO:<{path}>\r\n").into_bytes(),
            },
            _ => Prepared::AsIs,
        };
    }
    Prepared::AsIs
}

/// The rest of `line` after `verb` (any case), or None.
fn strip_verb<'a>(line: &'a [u8], verb: &[u8]) -> Option<&'a str> {
    let head = line.get(..verb.len())?;
    if !head.eq_ignore_ascii_case(verb) {
        return None;
    }
    std::str::from_utf8(&line[verb.len()..]).ok()
}

/// `<path> params` (spaces allowed before `<`) → (path, params).
fn split_path(rest: &str) -> Option<(&str, &str)> {
    let rest = rest.trim_start().strip_prefix('<')?;
    let close = rest.find('>')?;
    let path = &rest[..close];
    if path.contains(|c: char| c.is_whitespace()) {
        return None;
    }
    Some((path, rest[close + 1..].trim_end_matches(['\r', '\n'])))
}

/// Whether a command line is EHLO.
pub fn is_ehlo(line: &[u8]) -> bool {
    line.len() >= 5 && line[..4].eq_ignore_ascii_case(b"EHLO") && line[4] == b' '
}

/// Rebuilds mailin's EHLO reply: our host name first, then mailin's
/// extensions (8BITMIME, STARTTLS when offered) and SIZE, PIPELINING and
/// SMTPUTF8.
pub fn extend_ehlo(reply: &[u8], hostname: &str, max_message_bytes: u64) -> Vec<u8> {
    let text = String::from_utf8_lossy(reply);
    let mut lines: Vec<String> = vec![hostname.to_owned()];
    lines.extend(
        text.lines()
            .skip(1)
            .map(|line| line.get(4..).unwrap_or_default().to_owned()),
    );
    lines.push(format!("SIZE {max_message_bytes}"));
    lines.push("PIPELINING".into());
    lines.push("SMTPUTF8".into());
    let last = lines.len() - 1;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let separator = if i == last { ' ' } else { '-' };
        out.extend_from_slice(format!("250{separator}{line}\r\n").as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_with_parameters_and_a_space() {
        let prepared = prepare(
            b"mail from: <dmarc@google.com> SIZE=1000 BODY=8BITMIME SMTPUTF8\r\n",
            5000,
        );
        assert_eq!(
            prepared,
            Prepared::Mail {
                line: b"MAIL FROM:<dmarc@google.com> BODY=8BITMIME\r\n".to_vec(),
                reverse_path: "dmarc@google.com".into(),
            }
        );
    }

    #[test]
    fn null_reverse_path_is_kept() {
        match prepare(b"MAIL FROM:<>\r\n", 5000) {
            Prepared::Mail { reverse_path, line } => {
                assert_eq!(reverse_path, "");
                assert_eq!(line, b"MAIL FROM:<null-sender>\r\n");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn declared_size_over_the_limit_is_refused_at_mail() {
        assert_eq!(
            prepare(b"MAIL FROM:<a@b> SIZE=6000\r\n", 5000),
            Prepared::Reply(Response::custom(
                552,
                "5.3.4 Message size 6000 exceeds the limit of 5000 bytes".into()
            ))
        );
        assert!(
            matches!(prepare(b"MAIL FROM:<a@b> SIZE=x\r\n", 5000), Prepared::Reply(r) if r.code == 501)
        );
    }

    #[test]
    fn rcpt_parameters_are_dropped() {
        assert_eq!(
            prepare(b"RCPT TO:<dmarc@example.net> NOTIFY=NEVER\r\n", 5000),
            Prepared::Rcpt {
                line: b"RCPT TO:<dmarc@example.net>\r\n".to_vec()
            }
        );
    }

    #[test]
    fn other_commands_pass() {
        assert_eq!(prepare(b"DATA\r\n", 1), Prepared::AsIs);
        assert_eq!(
            prepare(b"MAIL FROM:dmarc@google.com\r\n", 1),
            Prepared::AsIs
        );
    }

    #[test]
    fn ehlo_reply_lists_our_extensions() {
        let reply = b"250-server offers extensions:\r\n250-8BITMIME\r\n250 STARTTLS\r\n";
        let extended = String::from_utf8(extend_ehlo(reply, "sink.example.net", 1024)).unwrap();
        assert_eq!(
            extended,
            "250-sink.example.net\r\n250-8BITMIME\r\n250-STARTTLS\r\n250-SIZE 1024\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n"
        );
        assert!(is_ehlo(b"ehlo client.example\r\n"));
        assert!(!is_ehlo(b"HELO client.example\r\n"));
    }
}
