//! TLS to PostgreSQL: rustls on ring, as the rest of the daemon. The
//! server is checked against the public roots, or against the CA
//! certificates of `export.postgres.ca_file` (a private PKI). Whether TLS
//! is used is the URL's `sslmode`: `prefer` (the default) uses it when the
//! server offers it, `require` refuses a server that does not.

use super::super::ExportError;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The connector for PostgreSQL's TLS, trusting `ca_file`'s certificates
/// when given, else the public roots.
pub fn connector(ca_file: Option<&Path>) -> Result<MakeRustlsConnect, ExportError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let invalid = |reason: String| ExportError::CaFile {
                path: path.to_owned(),
                reason,
            };
            let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|certificates| certificates.collect())
                .map_err(|e| invalid(e.to_string()))?;
            if certificates.is_empty() {
                return Err(invalid("no certificate in the file".into()));
            }
            for certificate in certificates {
                roots.add(certificate).map_err(|e| invalid(e.to_string()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ExportError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
