//! `[trust]`: what becomes of report mail that does not authenticate.

use serde::{Deserialize, Serialize};

/// `[trust]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, default)]
pub struct TrustConfig {
    /// What to do with a message over SMTP whose sender does not
    /// authenticate (its From domain's DMARC does not pass).
    pub unauthenticated: UnauthenticatedPolicy,
}

/// What becomes of an unauthenticated report mail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnauthenticatedPolicy {
    /// Stored and flagged (`messages.auth = 'unauthenticated'`); left out
    /// of the insight commands and alerts unless asked for. Small
    /// reporters that sign nothing still reach the store.
    #[default]
    Keep,
    /// Kept whole in quarantine (kind `unauthenticated`), unread; answered
    /// 250 so that the sender does not retry.
    Quarantine,
    /// Answered 550 5.7.1 at the end of DATA; nothing is stored. A DNS
    /// failure that left the message unchecked is answered 451 4.7.0, so
    /// that the reporter retries.
    Reject,
}

impl UnauthenticatedPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            UnauthenticatedPolicy::Keep => "keep",
            UnauthenticatedPolicy::Quarantine => "quarantine",
            UnauthenticatedPolicy::Reject => "reject",
        }
    }
}
