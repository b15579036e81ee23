//! The resolver behind the checks, from `[dns]` (see [`crate::dns`]).

use super::AuthError;
use crate::config::DnsConfig;
use crate::dns::resolver_parts;
use mail_auth::MessageAuthenticator;

pub fn build(dns: &DnsConfig) -> Result<MessageAuthenticator, AuthError> {
    let (config, options) = resolver_parts(dns).map_err(|e| AuthError::Resolver(e.0))?;
    MessageAuthenticator::new(config, options).map_err(|e| AuthError::Resolver(e.to_string()))
}
