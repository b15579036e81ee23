//! Payload bytes → the SMTP TLS report parser (JSON), default limits.
//!
//! Besides panics, hangs and unbounded memory (deep nesting, huge numbers),
//! the target checks what the store relies on: a report that parses has
//! its identity, every policy its type and domain, lower-cased, and no
//! count below zero.

#![no_main]

use dmarc_sink::limits::Limits;
use dmarc_sink::parse::parse_tls_report;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|json: &[u8]| {
    match parse_tls_report(&mut &json[..], &Limits::default()) {
        Ok(report) => {
            assert!(!report.org_name.is_empty() && !report.report_id.is_empty());
            for policy in &report.policies {
                assert!(!policy.policy_type.is_empty() && !policy.policy_domain.is_empty());
                assert_eq!(
                    policy.policy_domain,
                    policy.policy_domain.to_ascii_lowercase()
                );
                assert!(policy.successful_sessions >= 0 && policy.failed_sessions >= 0);
                for failure in &policy.failures {
                    assert!(!failure.result_type.is_empty());
                    assert!(failure.failed_sessions >= 0);
                }
            }
            assert!(report.sessions() >= 0);
        }
        // The error is stored with the quarantined payload: it must render.
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
