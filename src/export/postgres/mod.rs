//! The PostgreSQL target: its schema `dmarc_sink` ([`schema`]), rows in
//! COPY's text format ([`copy_text`]), the shipper ([`ship`]), and the
//! fleet read back as one store ([`fleet_store`]) for the read commands'
//! `--postgres`.

pub mod copy_text;
pub mod fleet_store;
pub mod schema;
pub mod ship;
pub mod tls;

pub use fleet_store::{FleetCounts, fleet_store};
pub use ship::Shipper;
