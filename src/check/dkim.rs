//! `dkim.selectors`: every selector the reports saw for the domain has a
//! key, strong enough, and a rotation can be followed.

use super::tags::Tags;
use super::{Check, CheckId, Context, Status};
use crate::dns::Answer;
use crate::insight::count;
use crate::insight::period::day;
use crate::store::StoreError;

/// RSA keys shorter fail (RFC 8301 forbids them).
const MIN_RSA_BITS: usize = 1024;
/// RSA keys shorter warn (RFC 8301 recommends 2048).
const GOOD_RSA_BITS: usize = 2048;
/// Selectors looked up at most: a domain has a few; reports naming many
/// more are a stranger's.
const MAX_SELECTORS: usize = 20;

pub fn selectors(context: &Context<'_>, domain: &str) -> Result<Check, StoreError> {
    let id = CheckId::DkimSelectors;
    let Some(store) = context.store else {
        return Ok(Check::new(
            id,
            Status::Ok,
            "no store: selectors not checked",
        ));
    };
    let seen = store.dkim_selectors(domain, context.since)?;
    if seen.is_empty() {
        return Ok(Check::new(
            id,
            Status::Warn,
            format!("no DKIM signature of {domain} in the reports of the period"),
        )
        .fix("sign your mail with DKIM for your domain (Amazon SES: Easy DKIM)"));
    }
    let mut status = Status::Ok;
    let mut lines = Vec::new();
    let mut fixes = Vec::new();
    // Selectors come from reports, which strangers can send: only names
    // DNS can be asked about, and a bounded number of them.
    let (valid, invalid): (Vec<_>, Vec<_>) = seen
        .iter()
        .partition(|s| super::is_host_name(&format!("{}._domainkey.{}", s.selector, s.domain)));
    for selector in valid.iter().take(MAX_SELECTORS) {
        let name = format!("{}._domainkey.{}", selector.selector, selector.domain);
        let key = match context.resolver.txt(&name) {
            Answer::Failed(reason) => {
                status = status.max(Status::Error);
                lines.push(format!(
                    "{} ({}): no answer: {reason}",
                    selector.selector, selector.domain
                ));
                continue;
            }
            Answer::None => Err("no key published".to_owned()),
            Answer::Found(texts) => read_key(&texts),
        };
        let (verdict, state) = match key {
            Err(problem) => {
                fixes.push(format!(
                    "publish the key of {name}, or stop signing with it"
                ));
                (Status::Fail, problem)
            }
            Ok(Key::Revoked) if selector.passed + selector.failed > 0 => {
                fixes.push(format!(
                    "{name} is revoked: move the senders still using it to a current key"
                ));
                (
                    Status::Warn,
                    "revoked (empty p=), still in reports".to_owned(),
                )
            }
            Ok(Key::Revoked) => (Status::Ok, "revoked (empty p=)".to_owned()),
            Ok(Key::Rsa(bits)) if bits < MIN_RSA_BITS => {
                fixes.push(format!("replace {name} with a 2048-bit key"));
                (
                    Status::Fail,
                    format!("{bits}-bit RSA, too short to be trusted"),
                )
            }
            Ok(Key::Rsa(bits)) if bits < GOOD_RSA_BITS => {
                fixes.push(format!("rotate {name} to a 2048-bit key"));
                (Status::Warn, format!("{bits}-bit RSA"))
            }
            Ok(Key::Rsa(bits)) => (Status::Ok, format!("{bits}-bit RSA")),
            Ok(Key::Other(kind)) => (Status::Ok, format!("{kind} key")),
        };
        status = status.max(verdict);
        lines.push(format!(
            "{} ({}): {state}, passed {} failed {}, {} to {}",
            selector.selector,
            selector.domain,
            count(selector.passed),
            count(selector.failed),
            day(selector.first_seen),
            day(selector.last_seen),
        ));
    }
    if valid.len() > MAX_SELECTORS {
        lines.push(format!(
            "{} more selectors not looked up",
            valid.len() - MAX_SELECTORS
        ));
    }
    if !invalid.is_empty() {
        lines.push(format!(
            "{} selector names in reports that are no DNS names, not looked up",
            invalid.len()
        ));
    }
    let mut check = Check::new(id, status, lines.join("; "));
    if !fixes.is_empty() {
        check = check.fix(fixes.join("; "));
    }
    Ok(check)
}

/// A published DKIM key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Revoked,
    Rsa(usize),
    Other(String),
}

/// Reads a key record (RFC 6376 §3.6.1), its strings already joined.
fn read_key(texts: &[String]) -> Result<Key, String> {
    let record = texts
        .iter()
        .find(|t| t.contains("p="))
        .ok_or_else(|| "a TXT record but no key (p=) in it".to_owned())?;
    let tags = Tags::parse(record).map_err(|e| format!("not a key record: {e}"))?;
    let public = tags.get("p").unwrap_or_default();
    let public: String = public.chars().filter(|c| !c.is_whitespace()).collect();
    if public.is_empty() {
        return Ok(Key::Revoked);
    }
    let kind = tags.get("k").unwrap_or("rsa").to_ascii_lowercase();
    if kind != "rsa" {
        return Ok(Key::Other(kind));
    }
    let der = mail_parser::decoders::base64::base64_decode(public.as_bytes())
        .ok_or_else(|| "p= is not base64".to_owned())?;
    rsa_bits(&der)
        .map(Key::Rsa)
        .ok_or_else(|| "p= is not an RSA public key".to_owned())
}

/// The modulus length of an RSA public key, as a SubjectPublicKeyInfo or a
/// bare RSAPublicKey (DER).
fn rsa_bits(der: &[u8]) -> Option<usize> {
    let (tag, body, _) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, first, rest) = tlv(body)?;
    match tag {
        // RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }
        0x02 => integer_bits(first),
        // SubjectPublicKeyInfo: SEQUENCE { algorithm, BIT STRING { RSAPublicKey } }
        0x30 => {
            let (tag, bits, _) = tlv(rest)?;
            if tag != 0x03 || bits.is_empty() {
                return None;
            }
            let (tag, key, _) = tlv(&bits[1..])?;
            if tag != 0x30 {
                return None;
            }
            let (tag, modulus, _) = tlv(key)?;
            (tag == 0x02).then(|| integer_bits(modulus)).flatten()
        }
        _ => None,
    }
}

/// A DER tag, its contents and what follows.
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *der.first()?;
    let first = *der.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let len = der
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |l, &b| l << 8 | b as usize);
        (len, 2 + n)
    };
    let body = der.get(start..start.checked_add(len)?)?;
    Some((tag, body, &der[start + len..]))
}

fn integer_bits(integer: &[u8]) -> Option<usize> {
    let significant = integer.iter().position(|&b| b != 0)?;
    let bytes = &integer[significant..];
    Some((bytes.len() - 1) * 8 + (8 - bytes[0].leading_zeros() as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RSAPublicKey with a modulus of `bits` bits (all ones), e = 65537.
    fn rsa_public_key(bits: usize) -> Vec<u8> {
        let mut modulus = vec![0u8];
        modulus.extend(std::iter::repeat_n(0xff, bits / 8));
        let mut der = vec![0x02, 0x82];
        der.extend_from_slice(&(modulus.len() as u16).to_be_bytes());
        der.extend_from_slice(&modulus);
        der.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
        let mut sequence = vec![0x30, 0x82];
        sequence.extend_from_slice(&(der.len() as u16).to_be_bytes());
        sequence.extend(der);
        sequence
    }

    #[test]
    fn key_sizes_are_read_from_the_der() {
        for bits in [512, 1024, 2048] {
            assert_eq!(rsa_bits(&rsa_public_key(bits)), Some(bits));
        }
        assert_eq!(rsa_bits(b"\x30\x00"), None);
        assert_eq!(rsa_bits(b""), None);
    }

    #[test]
    fn revoked_and_other_keys() {
        assert_eq!(read_key(&["v=DKIM1; p=".into()]), Ok(Key::Revoked));
        assert_eq!(
            read_key(&[
                "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".into()
            ]),
            Ok(Key::Other("ed25519".into()))
        );
        assert!(read_key(&["v=spf1 -all".into()]).is_err());
    }
}
