//! `dmarc_sink_store_size_bytes`: the store's size on disk, read from the
//! file system at each scrape, so it is never stale and costs nothing
//! between scrapes.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct StoreSize {
    /// The SQLite file.
    main: PathBuf,
    /// Its write-ahead log (`-wal`), which holds recent commits until a
    /// checkpoint moves them into the file.
    wal: PathBuf,
}

impl StoreSize {
    pub fn new(store: &Path) -> StoreSize {
        let mut wal = OsString::from(store.as_os_str());
        wal.push("-wal");
        StoreSize {
            main: store.to_owned(),
            wal: PathBuf::from(wal),
        }
    }

    /// The file and its log together; a file that is not there counts 0.
    pub fn bytes(&self) -> u64 {
        [&self.main, &self.wal]
            .iter()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|meta| meta.len())
            .sum()
    }
}

impl Collector for StoreSize {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let gauge = ConstGauge::new(i64::try_from(self.bytes()).unwrap_or(i64::MAX));
        let metric = encoder.encode_descriptor(
            "store_size_bytes",
            "Bytes of the SQLite store on disk: its file and its write-ahead log.",
            None,
            gauge.metric_type(),
        )?;
        gauge.encode(metric)
    }
}
