//! The STARTTLS configuration, from PEM files named in the config.

use crate::config::ConfigError;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// Loads the certificate chain and key; errors name the key and the file.
pub fn load(certificate: &Path, key: &Path) -> Result<Arc<ServerConfig>, ConfigError> {
    let invalid = |key, path: &Path, reason: String| ConfigError::Invalid {
        path: path.to_owned(),
        key,
        reason,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .and_then(|certs| certs.collect())
        .map_err(|e| invalid("smtp.tls_certificate", certificate, e.to_string()))?;
    if chain.is_empty() {
        return Err(invalid(
            "smtp.tls_certificate",
            certificate,
            "no certificate in the file".into(),
        ));
    }
    let private_key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| invalid("smtp.tls_key", key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(chain, private_key)
        })
        .map_err(|e| {
            invalid(
                "smtp.tls_key",
                key,
                format!("does not fit the certificate: {e}"),
            )
        })?;
    Ok(Arc::new(config))
}
