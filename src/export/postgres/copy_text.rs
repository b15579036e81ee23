//! One row of `COPY ... FROM STDIN` in PostgreSQL's text format: fields
//! separated by tabs, `\N` for NULL, backslash escapes for what would
//! break a line or a field. Written straight into the COPY stream's
//! buffer: no value is copied on its way.

use std::io::Write;
use std::net::IpAddr;

/// A row being written.
pub struct Row<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Row<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Row<'a> {
        Row { out, first: true }
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push(b'\t');
        }
        self.first = false;
    }

    pub fn null(&mut self) {
        self.separate();
        self.out.extend_from_slice(b"\\N");
    }

    pub fn integer(&mut self, value: i64) {
        self.separate();
        let _ = write!(self.out, "{value}");
    }

    /// Text, escaped. Bytes that are not UTF-8 become U+FFFD, and so does
    /// NUL, which PostgreSQL's text cannot hold: a row PostgreSQL refused
    /// would stop the shipping of everything after it.
    pub fn text(&mut self, value: &[u8]) {
        self.separate();
        match std::str::from_utf8(value) {
            Ok(text) => self.escaped(text),
            Err(_) => self.escaped(&String::from_utf8_lossy(value)),
        }
    }

    fn escaped(&mut self, text: &str) {
        for byte in text.bytes() {
            match byte {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0 => self.out.extend_from_slice("\u{FFFD}".as_bytes()),
                _ => self.out.push(byte),
            }
        }
    }

    /// Unix seconds as a UTC timestamp (timestamptz). Seconds beyond the
    /// years 9999 either way are clamped to them, so that a reporter's
    /// absurd date cannot stop the shipping.
    pub fn time(&mut self, seconds: i64) {
        self.separate();
        let clamped = seconds.clamp(
            jiff::Timestamp::MIN.as_second(),
            jiff::Timestamp::MAX.as_second(),
        );
        let timestamp =
            jiff::Timestamp::from_second(clamped).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let _ = write!(self.out, "{timestamp}");
    }

    /// `value` as inet if it is an IP address, else NULL.
    pub fn addr(&mut self, value: Option<&[u8]>) {
        let address = value
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|text| text.trim().parse::<IpAddr>().ok());
        match address {
            Some(address) => {
                self.separate();
                let _ = write!(self.out, "{address}");
            }
            None => self.null(),
        }
    }

    /// Bytes as bytea in hex (`\x...`, its backslash escaped).
    /// A boolean, as COPY's text format spells it.
    pub fn boolean(&mut self, value: bool) {
        self.text(if value { b"t" } else { b"f" });
    }

    pub fn bytes(&mut self, value: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.separate();
        self.out.reserve(value.len() * 2 + 3);
        self.out.extend_from_slice(b"\\\\x");
        for byte in value {
            self.out.push(HEX[usize::from(byte >> 4)]);
            self.out.push(HEX[usize::from(byte & 0xf)]);
        }
    }

    pub fn end(self) {
        self.out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::Row;

    fn row(fill: impl FnOnce(&mut Row)) -> String {
        let mut out = Vec::new();
        let mut row = Row::new(&mut out);
        fill(&mut row);
        row.end();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fields_are_escaped_and_typed() {
        assert_eq!(
            row(|r| {
                r.text(b"a\tb\\c\nd\0");
                r.null();
                r.integer(-42);
                r.time(1_700_000_000);
                r.addr(Some(b"2001:DB8::1"));
                r.addr(Some(b"not an address"));
                r.bytes(&[0x00, 0xff]);
            }),
            "a\\tb\\\\c\\nd\u{FFFD}\t\\N\t-42\t2023-11-14T22:13:20Z\t2001:db8::1\t\\N\t\\\\x00ff\n"
        );
    }

    #[test]
    fn absurd_times_are_clamped() {
        assert!(row(|r| r.time(i64::MAX)).starts_with("9999-12-"));
    }
}
