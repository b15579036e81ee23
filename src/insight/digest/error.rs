//! What can stop a digest, told apart so that `main` can give a
//! configuration problem its own exit status.

use crate::store::StoreError;
use std::path::PathBuf;

/// Why the digest was not built or not delivered.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("no relay to send the digest through: set digest.relay, or print it with --stdout")]
    NoRelay,
    #[error("no recipient for the digest: set digest.to, or pass --to")]
    NoRecipients,
    #[error("{key} {value:?} is not an address")]
    Address { key: &'static str, value: String },
    // The cause is in the message, so not also a `source` (printed once).
    #[error("cannot read digest.password_file {path}: {cause}")]
    PasswordFile {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("digest.password_file {path} holds no password")]
    EmptyPassword { path: PathBuf },
    #[error("digest.relay {0}")]
    Relay(String),
    #[error("cannot build the digest mail: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("the relay {relay} did not take the digest: {cause}")]
    Send {
        relay: String,
        cause: lettre::transport::smtp::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DigestError {
    /// Whether the configuration (or the command line) is at fault: no
    /// attempt to send was made, and trying again will not help.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            DigestError::NoRelay
                | DigestError::NoRecipients
                | DigestError::Address { .. }
                | DigestError::PasswordFile { .. }
                | DigestError::EmptyPassword { .. }
                | DigestError::Relay(_)
        )
    }
}
