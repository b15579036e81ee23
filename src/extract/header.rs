//! The fields of a message's own header section that the store keeps beside
//! it, read from the bytes as received.

use super::arf::from_address;
use super::mime::Entity;
use mail_parser::Message;

/// `Message-ID` (without `<>`), `Subject` (encoded words decoded) and the
/// `From` address of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageHeader {
    pub message_id: Option<String>,
    pub subject: Option<String>,
    pub from: Option<String>,
}

impl MessageHeader {
    /// Reads the header section of the message in `raw` (after any blank
    /// lines it begins with); the body is not looked at.
    pub fn read(raw: &[u8]) -> MessageHeader {
        let entity = Entity::message(raw);
        let Some(headers) = entity.headers() else {
            return MessageHeader::default();
        };
        MessageHeader {
            message_id: headers.message_id().map(str::to_owned),
            subject: Message::subject(headers).map(str::to_owned),
            from: from_address(headers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_the_header_section_as_received() {
        let raw = b" \r\nFrom: DMARC <dmarc-ruf@global-digest.example>\r\n\
Subject: =?UTF-8?B?UmFwcG9ydCDDqQ==?= rfc822\r\nMessage-ID: <rfc822.digest@global.example>\r\n\
\r\nMessage-ID: <not-this@body.example>\r\n";
        let header = MessageHeader::read(raw);
        assert_eq!(
            header,
            MessageHeader {
                message_id: Some("rfc822.digest@global.example".into()),
                subject: Some("Rapport é rfc822".into()),
                from: Some("dmarc-ruf@global-digest.example".into()),
            }
        );
    }
}
