//! What becomes of a delivered message, by what its sender's authentication
//! found and the operator's `trust.unauthenticated`.

use crate::auth::Trust;
use crate::config::UnauthenticatedPolicy;
use mailin::Response;

/// How a message is taken, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Read and stored, its reports counted or flagged by their trust.
    Read,
    /// Kept whole in quarantine, unread (kind `unauthenticated`).
    Hold,
    /// Refused, with this answer; nothing is stored.
    Refuse { code: u16, text: &'static str },
}

impl Admission {
    /// `trust`: `None` when nothing was checked.
    pub fn of(trust: Option<Trust>, policy: UnauthenticatedPolicy) -> Admission {
        match (trust, policy) {
            (Some(Trust::Unauthenticated), UnauthenticatedPolicy::Reject) => Admission::Refuse {
                code: 550,
                text: "5.7.1 Report mail must pass DMARC for its From domain (RFC 7489 7.2.1.1)",
            },
            // Checked, but DNS failed: the reporter retries later.
            (Some(Trust::Unchecked), UnauthenticatedPolicy::Reject) => Admission::Refuse {
                code: 451,
                text: "4.7.0 Cannot authenticate the message now, try again later",
            },
            (Some(Trust::Unauthenticated), UnauthenticatedPolicy::Quarantine) => Admission::Hold,
            _ => Admission::Read,
        }
    }

    pub fn response(&self) -> Option<Response> {
        match self {
            Admission::Refuse { code, text } => Some(Response::custom(*code, (*text).to_owned())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_trust_and_policy() {
        use UnauthenticatedPolicy::*;
        let refused = |trust, policy| match Admission::of(trust, policy) {
            Admission::Refuse { code, .. } => Some(code),
            _ => None,
        };
        assert_eq!(refused(Some(Trust::Unauthenticated), Reject), Some(550));
        assert_eq!(refused(Some(Trust::Unchecked), Reject), Some(451));
        assert_eq!(refused(Some(Trust::Authenticated), Reject), None);
        assert_eq!(refused(None, Reject), None);
        assert_eq!(
            Admission::of(Some(Trust::Unauthenticated), Quarantine),
            Admission::Hold
        );
        assert_eq!(
            Admission::of(Some(Trust::Unauthenticated), Keep),
            Admission::Read
        );
        assert_eq!(
            Admission::of(Some(Trust::Unchecked), Quarantine),
            Admission::Read
        );
    }
}
