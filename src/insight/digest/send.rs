//! Hands the digest to the relay of `[digest]`: STARTTLS whenever the
//! relay offers it, AUTH only with `digest.username`, the password read
//! from `digest.password_file` and never logged nor shown.
//!
//! A password must not cross a network in clear, and whoever sits on the
//! path can strip a STARTTLS offer: with a username, TLS is required,
//! unless the relay is on this machine (`localhost`, a loopback address).

use super::DigestError;
use crate::config::{DigestConfig, Relay};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// Time allowed for each step of the SMTP dialogue with the relay.
const RELAY_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends `message` to its envelope's recipients through `config.relay`.
pub fn send(message: &Message, config: &DigestConfig) -> Result<(), DigestError> {
    let relay = config.relay.as_deref().ok_or(DigestError::NoRelay)?;
    if message.envelope().to().is_empty() || message.headers().get_raw("To").is_none() {
        return Err(DigestError::NoRecipients);
    }
    let parsed = Relay::parse(relay).map_err(DigestError::Relay)?;
    let parameters = TlsParameters::new(parsed.host.clone()).map_err(|cause| {
        DigestError::Relay(format!("{relay}: cannot set up TLS for it: {cause}"))
    })?;
    let mut builder = SmtpTransport::builder_dangerous(parsed.host.as_str())
        .port(parsed.port)
        .timeout(Some(RELAY_TIMEOUT));
    builder = match (&config.username, &config.password_file) {
        (Some(username), Some(path)) => {
            let password = read_password(path)?;
            let tls = if parsed.is_loopback() {
                Tls::Opportunistic(parameters)
            } else {
                Tls::Required(parameters)
            };
            builder
                .tls(tls)
                .credentials(Credentials::new(username.clone(), password))
        }
        _ => builder.tls(Tls::Opportunistic(parameters)),
    };
    builder
        .build()
        .send(message)
        .map(|_| ())
        .map_err(|cause| DigestError::Send {
            relay: relay.to_owned(),
            cause,
        })
}

/// The password in `path`, without the line end an editor leaves.
fn read_password(path: &std::path::Path) -> Result<String, DigestError> {
    let text = std::fs::read_to_string(path).map_err(|cause| DigestError::PasswordFile {
        path: path.to_owned(),
        cause,
    })?;
    let password = text.trim();
    if password.is_empty() {
        return Err(DigestError::EmptyPassword {
            path: path.to_owned(),
        });
    }
    Ok(password.to_owned())
}
