//! SMTP transparency (RFC 5321 section 4.5.2), for the clients the tests
//! and the SMTP benchmark drive by hand. Also compiled into benches/smtp.rs.

/// Message text as sent in DATA: lines starting with a dot get another, and
/// the text ends with CRLF so that the final `.` stands on its own line.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &byte in message {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}
