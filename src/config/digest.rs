//! `[digest]`: where `dmarc-sink digest` sends the weekly mail, and as whom.

use super::default_hostname;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[digest]`. The password is never here: only the file that holds it, so
/// that the configuration can be shown (`check-config`) and kept in git.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct DigestConfig {
    /// The relay that takes the mail, `host:port`; unset, `digest` can only
    /// print it (`--stdout`).
    pub relay: Option<String>,
    /// The sender address.
    pub from: String,
    /// The recipients; `--to` replaces them.
    pub to: Vec<String>,
    /// The user to authenticate as at the relay; unset, no AUTH.
    pub username: Option<String>,
    /// The file holding the password of `username`, surrounding white
    /// space trimmed.
    pub password_file: Option<PathBuf>,
    /// Put before every subject, so that a filter can sort the digests.
    pub subject_prefix: String,
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            relay: None,
            from: default_digest_from(),
            to: Vec::new(),
            username: None,
            password_file: None,
            subject_prefix: default_subject_prefix(),
        }
    }
}

/// `dmarc-sink@` the host name: a sender a recipient can tell apart and
/// that the relay can bounce to.
pub fn default_digest_from() -> String {
    format!("dmarc-sink@{}", default_hostname())
}

pub fn default_subject_prefix() -> String {
    "[dmarc-sink]".to_owned()
}

/// `digest.relay` read: the host lettre connects to (and checks the
/// certificate of) and its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// A name or an IP address, without the brackets of an IPv6 one.
    pub host: String,
    pub port: u16,
}

impl Relay {
    /// Reads `host:port` (`[::1]:25` for an IPv6 address); the error says
    /// what is wrong with it.
    pub fn parse(value: &str) -> Result<Relay, String> {
        let shape = || format!("{value:?} is not host:port");
        let (host, port) = value.rsplit_once(':').ok_or_else(shape)?;
        let host = match host.strip_prefix('[') {
            Some(inner) => inner.strip_suffix(']').ok_or_else(shape)?,
            None if host.contains(':') => return Err(shape()),
            None => host,
        };
        let port: u16 = port.parse().map_err(|_| shape())?;
        if host.is_empty() || host.contains(char::is_whitespace) || port == 0 {
            return Err(shape());
        }
        Ok(Relay {
            host: host.to_owned(),
            port,
        })
    }

    /// Whether the relay is this machine: a password sent to it crosses no
    /// network, so it may go without TLS.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl DigestConfig {
    /// The checks of `Config::validate` for `[digest]`: the key at fault
    /// and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(relay) = &self.relay {
            Relay::parse(relay).map_err(|reason| ("digest.relay", reason))?;
        }
        if self.from.parse::<lettre::Address>().is_err() {
            return Err(("digest.from", format!("{:?} is not an address", self.from)));
        }
        if let Some(bad) = self
            .to
            .iter()
            .find(|to| to.parse::<lettre::Address>().is_err())
        {
            return Err(("digest.to", format!("{bad:?} is not an address")));
        }
        match (&self.username, &self.password_file) {
            (Some(_), None) => Err((
                "digest.password_file",
                "must be set with digest.username".into(),
            )),
            (None, Some(_)) => Err((
                "digest.username",
                "must be set with digest.password_file".into(),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_are_host_and_port() {
        let relay = Relay::parse("smtp.example.net:587").unwrap();
        assert_eq!((relay.host.as_str(), relay.port), ("smtp.example.net", 587));
        let relay = Relay::parse("[::1]:25").unwrap();
        assert_eq!((relay.host.as_str(), relay.port), ("::1", 25));
        assert!(relay.is_loopback());
        assert!(!Relay::parse("smtp.example.net:25").unwrap().is_loopback());
        for bad in [
            "smtp.example.net",
            ":25",
            "host:0",
            "::1:25",
            "host:port",
            "[::1:25",
        ] {
            let error = Relay::parse(bad).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
    }
}
