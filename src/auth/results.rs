//! The results of the checks in RFC 8601 `Authentication-Results` syntax,
//! the notation mail administrators already read (without the field name
//! and authserv-id): `spf=pass smtp.mailfrom=...; dkim=pass header.d=...
//! header.s=...; dmarc=pass header.from=...`.

use super::Client;
use mail_auth::{DkimOutput, DkimResult, DmarcOutput, DmarcResult, SpfOutput, SpfResult};

/// What was checked, as mail-auth gave it.
pub struct Outputs<'a> {
    pub client: Option<Client<'a>>,
    pub helo_spf: Option<&'a SpfOutput>,
    pub mail_from_spf: Option<&'a SpfOutput>,
    pub dkim: &'a [DkimOutput<'a>],
    pub dmarc: &'a DmarcOutput,
    pub from_domain: &'a str,
}

pub fn render(outputs: Outputs<'_>) -> String {
    let mut parts = Vec::new();
    if let (Some(spf), Some(client)) = (outputs.mail_from_spf, outputs.client) {
        parts.push(format!(
            "spf={} smtp.mailfrom={}",
            spf_result(spf.result()),
            pvalue(client.mail_from)
        ));
    }
    if let (Some(spf), Some(client)) = (outputs.helo_spf, outputs.client) {
        parts.push(format!(
            "spf={} smtp.helo={}",
            spf_result(spf.result()),
            pvalue(client.helo)
        ));
    }
    if outputs.dkim.is_empty() {
        parts.push("dkim=none".to_owned());
    }
    for output in outputs.dkim {
        let mut part = format!("dkim={}", dkim_result(output.result()));
        if let Some(signature) = output.signature() {
            part.push_str(&format!(
                " header.d={} header.s={}",
                pvalue(&signature.d),
                pvalue(&signature.s)
            ));
        }
        parts.push(part);
    }
    let record = outputs.dmarc.dmarc_record().is_some();
    let dmarc = match (outputs.dmarc.dkim_result(), outputs.dmarc.spf_result()) {
        (DmarcResult::Pass, _) | (_, DmarcResult::Pass) => "pass",
        (DmarcResult::TempError(_), _) | (_, DmarcResult::TempError(_)) => "temperror",
        (DmarcResult::PermError(_), _) | (_, DmarcResult::PermError(_)) => "permerror",
        (DmarcResult::Fail(_), _) | (_, DmarcResult::Fail(_)) => "fail",
        // A record, and no identifier passed aligned.
        _ if record => "fail",
        (DmarcResult::None, DmarcResult::None) => "none",
    };
    if outputs.from_domain.is_empty() {
        parts.push(format!("dmarc={dmarc}"));
    } else {
        parts.push(format!(
            "dmarc={dmarc} header.from={}",
            pvalue(outputs.from_domain)
        ));
    }
    parts.join("; ")
}

fn spf_result(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

fn dkim_result(result: &DkimResult) -> &'static str {
    match result {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

/// A property value: as it is when it is a token of address and domain
/// characters, else quoted (RFC 8601 §2.2), so that no sender's value can
/// break the syntax.
fn pvalue(value: &str) -> String {
    if value.is_empty() {
        return "<>".to_owned();
    }
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "@.-_+=!#$%&'*/?^`{|}~".contains(c));
    if plain {
        return value.to_owned();
    }
    let escaped: String = value
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::pvalue;

    #[test]
    fn values_are_quoted_when_they_must_be() {
        assert_eq!(pvalue("dmarc@google.com"), "dmarc@google.com");
        assert_eq!(pvalue(""), "<>");
        assert_eq!(pvalue("a b; dmarc=pass"), "\"a b; dmarc=pass\"");
        assert_eq!(pvalue("x\"y\r\n"), "\"x\\\"y\"");
    }
}
