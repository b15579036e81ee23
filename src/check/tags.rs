//! Tag lists: `v=DMARC1; p=reject; rua=mailto:...` (DMARC, RFC 9989 §4.7),
//! `v=TLSRPTv1; rua=...` (RFC 8460), `v=STSv1; id=...` (RFC 8461).

/// The tags of a record in order, names lower-cased, values trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tags(pub Vec<(String, String)>);

/// Why a record is no tag list; put in words where a check says it, in its
/// language (`check-tag-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagError {
    /// A part with no `=`.
    NoValue(String),
    /// A tag named twice.
    Repeated(String),
}

impl Tags {
    pub fn parse(record: &str) -> Result<Tags, TagError> {
        let mut tags: Vec<(String, String)> = Vec::new();
        for part in record.split(';') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((name, value)) = part.split_once('=') else {
                return Err(TagError::NoValue(part.to_owned()));
            };
            let name = name.trim().to_ascii_lowercase();
            if tags.iter().any(|(known, _)| *known == name) {
                return Err(TagError::Repeated(name));
            }
            tags.push((name, value.trim().to_owned()));
        }
        Ok(Tags(tags))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(tag, _)| tag == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first tag's name and value (`v=` must come first).
    pub fn first(&self) -> Option<(&str, &str)> {
        self.0.first().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rfc_examples() {
        // RFC 9989 gives records such as these (written here in our words).
        let tags = Tags::parse("v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com").unwrap();
        assert_eq!(tags.first(), Some(("v", "DMARC1")));
        assert_eq!(tags.get("p"), Some("none"));
        assert_eq!(tags.get("rua"), Some("mailto:dmarc-feedback@example.com"));
        let tags = Tags::parse("v=DMARC1;p=reject;np=reject;t=y;").unwrap();
        assert_eq!((tags.get("np"), tags.get("t")), (Some("reject"), Some("y")));
        assert_eq!(
            Tags::parse("v=DMARC1; P = Quarantine ").unwrap().get("p"),
            Some("Quarantine")
        );
        assert_eq!(
            Tags::parse("v=DMARC1; p=none; p=reject"),
            Err(TagError::Repeated("p".into()))
        );
        assert_eq!(
            Tags::parse("v=DMARC1; reject"),
            Err(TagError::NoValue("reject".into()))
        );
    }
}
