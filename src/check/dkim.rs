//! `dkim.selectors`: every selector the reports saw for the domain has a
//! key, strong enough, and a rotation can be followed.

use super::tags::{TagError, Tags};
use super::{Check, CheckId, Context, Status, arg, notes};
use crate::dns::Answer;
use crate::i18n::{FluentValue, Messages};
use crate::store::StoreError;

/// RSA keys shorter fail (RFC 8301 forbids them).
const MIN_RSA_BITS: usize = 1024;
/// RSA keys shorter warn (RFC 8301 recommends 2048).
const GOOD_RSA_BITS: usize = 2048;
/// Selectors looked up at most: a domain has a few; reports naming many
/// more are a stranger's.
const MAX_SELECTORS: usize = 20;

pub fn selectors(context: &Context<'_>, domain: &str) -> Result<Check, StoreError> {
    let messages = context.messages;
    let id = CheckId::DkimSelectors;
    let Some(store) = context.store else {
        return Ok(Check::new(
            id,
            Status::Ok,
            messages.text("check-dkim-no-store"),
        ));
    };
    let seen = store.dkim_selectors(domain, context.since)?;
    if seen.is_empty() {
        return Ok(Check::new(
            id,
            Status::Warn,
            messages.format("check-dkim-no-signature", &[("domain", arg(domain))]),
        )
        .fix(messages.text("check-dkim-no-signature-fix")));
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
                let args = [
                    ("selector", arg(&selector.selector)),
                    ("domain", arg(&selector.domain)),
                    ("reason", arg(&reason)),
                ];
                lines.push(messages.format("check-dkim-no-answer", &args));
                continue;
            }
            Answer::None => Err(KeyProblem::NoKey),
            Answer::Found(texts) => read_key(&texts),
        };
        let (verdict, state, fix) = judge(key, selector.passed + selector.failed > 0);
        status = status.max(verdict);
        if let Some(fix) = fix {
            fixes.push(messages.format(fix, &[("name", arg(&name))]));
        }
        let args = [
            ("selector", arg(&selector.selector)),
            ("domain", arg(&selector.domain)),
            ("state", FluentValue::from(state.describe(messages))),
            ("passed", FluentValue::from(selector.passed)),
            ("failed", FluentValue::from(selector.failed)),
            (
                "first",
                FluentValue::from(messages.day(selector.first_seen)),
            ),
            ("last", FluentValue::from(messages.day(selector.last_seen))),
        ];
        lines.push(messages.format("check-dkim-selector", &args));
    }
    if valid.len() > MAX_SELECTORS {
        let more = (valid.len() - MAX_SELECTORS) as i64;
        let args = [("count", FluentValue::from(more))];
        lines.push(messages.format("check-dkim-more-selectors", &args));
    }
    if !invalid.is_empty() {
        let args = [("count", FluentValue::from(invalid.len() as i64))];
        lines.push(messages.format("check-dkim-invalid-selectors", &args));
    }
    let mut check = Check::new(id, status, notes(messages, &lines));
    if !fixes.is_empty() {
        check = check.fix(notes(messages, &fixes));
    }
    Ok(check)
}

/// What a selector's key is, as the check says it.
enum State {
    Problem(KeyProblem),
    RevokedInUse,
    Revoked,
    /// RSA of this many bits, too short to be trusted.
    RsaTooShort(usize),
    Rsa(usize),
    Other(String),
}

impl State {
    fn describe(&self, messages: &Messages) -> String {
        // Key sizes are names of sizes (2048-bit), not counts: never grouped.
        let bits = |bits: &usize| FluentValue::from(bits.to_string());
        match self {
            State::Problem(problem) => problem.describe(messages),
            State::RevokedInUse => messages.text("check-dkim-revoked-in-use"),
            State::Revoked => messages.text("check-dkim-revoked"),
            State::RsaTooShort(n) => {
                messages.format("check-dkim-rsa-too-short", &[("bits", bits(n))])
            }
            State::Rsa(n) => messages.format("check-dkim-rsa", &[("bits", bits(n))]),
            State::Other(kind) => messages.format("check-dkim-other-key", &[("kind", arg(kind))]),
        }
    }
}

/// A key's verdict, its state, and the id of the fix (its `$name` the key
/// record's) when one is needed. `in_use`: the reports saw the selector.
fn judge(key: Result<Key, KeyProblem>, in_use: bool) -> (Status, State, Option<&'static str>) {
    match key {
        Err(problem) => (
            Status::Fail,
            State::Problem(problem),
            Some("check-dkim-publish-fix"),
        ),
        Ok(Key::Revoked) if in_use => (
            Status::Warn,
            State::RevokedInUse,
            Some("check-dkim-revoked-fix"),
        ),
        Ok(Key::Revoked) => (Status::Ok, State::Revoked, None),
        Ok(Key::Rsa(bits)) if bits < MIN_RSA_BITS => (
            Status::Fail,
            State::RsaTooShort(bits),
            Some("check-dkim-too-short-fix"),
        ),
        Ok(Key::Rsa(bits)) if bits < GOOD_RSA_BITS => (
            Status::Warn,
            State::Rsa(bits),
            Some("check-dkim-rotate-fix"),
        ),
        Ok(Key::Rsa(bits)) => (Status::Ok, State::Rsa(bits), None),
        Ok(Key::Other(kind)) => (Status::Ok, State::Other(kind), None),
    }
}

/// A published DKIM key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Revoked,
    Rsa(usize),
    Other(String),
}

/// Why a selector has no usable key.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyProblem {
    /// No TXT record at the selector's name.
    NoKey,
    /// A TXT record, but no `p=` in it.
    NoP,
    NotTags(TagError),
    NotBase64,
    NotRsa,
}

impl KeyProblem {
    fn describe(&self, messages: &Messages) -> String {
        match self {
            KeyProblem::NoKey => messages.text("check-dkim-no-key"),
            KeyProblem::NoP => messages.text("check-dkim-no-p"),
            KeyProblem::NotTags(error) => {
                let error = tag_error(error, messages);
                messages.format("check-dkim-not-key-record", &[("error", arg(&error))])
            }
            KeyProblem::NotBase64 => messages.text("check-dkim-not-base64"),
            KeyProblem::NotRsa => messages.text("check-dkim-not-rsa"),
        }
    }
}

/// Why a record is no tag list, in words.
fn tag_error(error: &TagError, messages: &Messages) -> String {
    match error {
        TagError::NoValue(part) => {
            let part = format!("{part:?}");
            messages.format("check-tag-no-value", &[("part", arg(&part))])
        }
        TagError::Repeated(tag) => messages.format("check-tag-repeated", &[("tag", arg(tag))]),
    }
}

/// Reads a key record (RFC 6376 §3.6.1), its strings already joined.
fn read_key(texts: &[String]) -> Result<Key, KeyProblem> {
    let record = texts
        .iter()
        .find(|t| t.contains("p="))
        .ok_or(KeyProblem::NoP)?;
    let tags = Tags::parse(record).map_err(KeyProblem::NotTags)?;
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
        .ok_or(KeyProblem::NotBase64)?;
    rsa_bits(&der).map(Key::Rsa).ok_or(KeyProblem::NotRsa)
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
        assert_eq!(read_key(&["v=spf1 -all".into()]), Err(KeyProblem::NoP));
        assert_eq!(
            read_key(&["v=DKIM1; p=abc; p=def".into()]),
            Err(KeyProblem::NotTags(TagError::Repeated("p".into())))
        );
    }

    #[test]
    fn key_problems_are_put_in_words() {
        let problem = KeyProblem::NotTags(TagError::NoValue("k".into()));
        let english = Messages::new(crate::i18n::Lang::En);
        assert_eq!(
            problem.describe(&english),
            "not a key record: \"k\" is not a tag=value pair"
        );
        let japanese = Messages::new(crate::i18n::Lang::Ja);
        let text = problem.describe(&japanese);
        assert!(text.contains("\"k\"") && text.contains("鍵"), "{text}");
    }
}
