//! The PostgreSQL target: its schema `dmarc_sink` ([`schema`]), rows in
//! COPY's text format ([`copy_text`]), and the shipper ([`ship`]).

pub mod copy_text;
pub mod schema;
pub mod ship;

pub use ship::Shipper;
