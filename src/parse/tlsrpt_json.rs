//! The shape of an RFC 8460 report as serde reads it, with the reporters'
//! leniencies, before it is checked (see `tlsrpt`).
//!
//! Why typed rather than a `serde_json::Value`: a value tree costs about a
//! hundred times its text for small objects (16 MiB of `{"a":1},` made
//! 1.4 GiB), while these types hold only the fields a report has, and
//! everything else (unknown members, at any depth) is skipped without being
//! kept. Every field is optional here, so that a missing one is named by
//! the checks rather than reported as a serde error.
//!
//! The lists (`policies`, `failure-details`) are [`Checked`]: each item is
//! checked as soon as it is read and only what passes is kept, so that a
//! list of empty objects (3 bytes of text each, a couple of hundred bytes
//! each once read) stops at its first item instead of filling memory.

use super::{MAX_COUNT, ParseError};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

#[derive(Deserialize)]
pub struct Report {
    #[serde(rename = "organization-name")]
    pub organization_name: Option<Text>,
    #[serde(rename = "report-id")]
    pub report_id: Option<Text>,
    #[serde(rename = "date-range")]
    pub date_range: Option<DateRange>,
    #[serde(rename = "contact-info")]
    pub contact_info: Option<Text>,
    pub policies: Option<Checked<PolicyEntry>>,
}

#[derive(Deserialize)]
pub struct DateRange {
    #[serde(rename = "start-datetime")]
    pub start: Option<Text>,
    #[serde(rename = "end-datetime")]
    pub end: Option<Text>,
}

/// One entry of `policies`.
#[derive(Deserialize)]
pub struct PolicyEntry {
    pub policy: Option<Policy>,
    pub summary: Option<Summary>,
    #[serde(rename = "failure-details")]
    pub failure_details: Option<Checked<FailureDetail>>,
}

#[derive(Deserialize)]
pub struct Policy {
    #[serde(rename = "policy-type")]
    pub policy_type: Option<Text>,
    #[serde(rename = "policy-string")]
    pub policy_string: Option<Texts>,
    #[serde(rename = "policy-domain")]
    pub policy_domain: Option<Text>,
    #[serde(rename = "mx-host")]
    pub mx_host: Option<Texts>,
}

#[derive(Deserialize)]
pub struct Summary {
    #[serde(rename = "total-successful-session-count")]
    pub successful: Option<Count>,
    #[serde(rename = "total-failure-session-count")]
    pub failed: Option<Count>,
}

#[derive(Deserialize)]
pub struct FailureDetail {
    #[serde(rename = "result-type")]
    pub result_type: Option<Text>,
    #[serde(rename = "sending-mta-ip")]
    pub sending_mta_ip: Option<Text>,
    #[serde(rename = "receiving-mx-hostname")]
    pub receiving_mx_hostname: Option<Text>,
    #[serde(rename = "receiving-mx-helo")]
    pub receiving_mx_helo: Option<Text>,
    #[serde(rename = "receiving-ip")]
    pub receiving_ip: Option<Text>,
    #[serde(rename = "failed-session-count")]
    pub failed_sessions: Option<Count>,
    #[serde(rename = "additional-information")]
    pub additional_information: Option<Text>,
    #[serde(rename = "failure-reason-code")]
    pub failure_reason_code: Option<Text>,
}

/// How a list item as read becomes what is kept, or why it cannot.
pub trait Check: DeserializeOwned {
    /// What is kept of a good item.
    type Checked;
    /// `index`: the item's place in its list, for the error.
    fn check(self, index: usize) -> Result<Self::Checked, ParseError>;
}

/// A list whose items are checked as they are read: the good ones, or the
/// first error (the rest of the list is then skipped without being kept).
pub struct Checked<T: Check>(pub Result<Vec<T::Checked>, ParseError>);

impl<'de, T: Check> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckedVisitor<T>(PhantomData<T>);
        impl<'de, T: Check> Visitor<'de> for CheckedVisitor<T> {
            type Value = Checked<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Checked<T>, A::Error> {
                let mut kept = Vec::new();
                while let Some(item) = items.next_element::<T>()? {
                    match item.check(kept.len()) {
                        Ok(checked) => kept.push(checked),
                        Err(error) => {
                            while items.next_element::<IgnoredAny>()?.is_some() {}
                            return Ok(Checked(Err(error)));
                        }
                    }
                }
                Ok(Checked(Ok(kept)))
            }
        }
        deserializer.deserialize_seq(CheckedVisitor(PhantomData))
    }
}

/// A string, trimmed; a number is taken as its digits (some reporters write
/// a numeric `report-id`). Empty: `None` once checked (see [`Text::value`]).
pub struct Text(String);

impl Text {
    /// The text, if not empty.
    pub fn value(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
                Ok(Text(value.trim().to_owned()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Text, E> {
                Ok(Text(value.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A list of strings, or one string taken as a list of one (`policy-string`
/// and `mx-host` come both ways). Items that are not strings are skipped.
pub struct Texts(pub Vec<String>);

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextsVisitor;
        impl<'de> Visitor<'de> for TextsVisitor {
            type Value = Texts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Texts, E> {
                Ok(Texts(non_empty(value).into_iter().collect()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Texts, A::Error> {
                let mut texts = Vec::new();
                while let Some(item) = items.next_element::<MaybeText>()? {
                    texts.extend(item.0);
                }
                Ok(Texts(texts))
            }
        }
        deserializer.deserialize_any(TextsVisitor)
    }
}

/// A list item that is kept if it is a non-empty string.
struct MaybeText(Option<String>);

impl<'de> Deserialize<'de> for MaybeText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MaybeTextVisitor;
        impl<'de> Visitor<'de> for MaybeTextVisitor {
            type Value = MaybeText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<MaybeText, E> {
                Ok(MaybeText(non_empty(value)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<MaybeText, E> {
                Ok(MaybeText(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, items: A) -> Result<MaybeText, A::Error> {
                IgnoredAny.visit_seq(items)?;
                Ok(MaybeText(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<MaybeText, A::Error> {
                IgnoredAny.visit_map(map)?;
                Ok(MaybeText(None))
            }
        }
        deserializer.deserialize_any(MaybeTextVisitor)
    }
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// A session count as written: a number, or a number in a string (some
/// reporters quote them). Checked to be a non-negative integer later, so
/// that the error names the field.
pub enum Count {
    Number(serde_json::Number),
    Quoted(String),
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl Visitor<'_> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Count, E> {
                Ok(Count::Number(value.into()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Count, E> {
                Ok(Count::Number(value.into()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Count, E> {
                Ok(Count::Quoted(value.to_string()))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Count, E> {
                Ok(Count::Quoted(value.trim().to_owned()))
            }
        }
        deserializer.deserialize_any(CountVisitor)
    }
}

impl Count {
    /// The count, if it is a non-negative integer; else the text shown.
    pub fn value(&self) -> Result<i64, String> {
        let parsed = match self {
            Count::Number(number) => number.as_i64(),
            Count::Quoted(text) => text.parse::<i64>().ok(),
        };
        parsed
            .filter(|n| (0..=MAX_COUNT).contains(n))
            .ok_or_else(|| match self {
                Count::Number(number) => number.to_string(),
                Count::Quoted(text) => text.clone(),
            })
    }
}
