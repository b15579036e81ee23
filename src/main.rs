//! The `dmarc-sink` command: parses arguments, loads the configuration, calls
//! the library and maps the outcome to an exit status.

use anyhow::Context;
use clap::{Parser, Subcommand};
use dmarc_sink::config::{Config, ConfigError};
use dmarc_sink::import::{ImportSummary, collect_inputs, import_input};
use dmarc_sink::store::Store;
use dmarc_sink::{ingest, logging, serve};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status for a configuration that cannot be used (sysexits EX_CONFIG).
const EXIT_CONFIG: u8 = 78;
/// Exit status when some input failed (named on stderr) or the store failed.
const EXIT_FAILURE: u8 = 1;
/// Below this many inputs an import finishes too fast for a progress bar.
const PROGRESS_MIN_INPUTS: usize = 20;

#[derive(Parser)]
#[command(
    name = "dmarc-sink",
    version,
    about = "Receives DMARC aggregate reports and stores them in SQLite"
)]
struct Cli {
    /// Configuration file (TOML). Without one, every key has its default.
    #[arg(long, global = true, env = "DMARC_SINK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// SQLite store, overriding `store.path` (default ./dmarc-sink.sqlite).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SMTP listener.
    Serve {
        /// Address to listen on, overriding `smtp.listen`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Import report files, .eml messages, directories, Maildir folders and mbox files.
    Import {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Read stored messages again with this version, recovering what an
    /// older one could not read.
    Reparse {
        /// Every stored message, not only those with quarantined payloads.
        #[arg(long)]
        all: bool,
    },
    /// Check the configuration and print it with every default filled in.
    CheckConfig,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dmarc-sink: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let result = match cli.command {
        Command::Serve { listen } => {
            let mut config = config;
            if let Some(listen) = listen {
                if let Err(error) = listen.parse::<std::net::SocketAddr>() {
                    eprintln!("dmarc-sink: --listen {listen:?} is not an address:port ({error})");
                    return ExitCode::from(EXIT_CONFIG);
                }
                config.smtp.listen = listen;
            }
            logging::init(&config.log);
            match serve::run(&config) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(error) if error.downcast_ref::<ConfigError>().is_some() => {
                    eprintln!("dmarc-sink: {error}");
                    return ExitCode::from(EXIT_CONFIG);
                }
                Err(error) => Err(error),
            }
        }
        Command::Import { paths } => {
            init_batch_logging(&config);
            import(&config, &paths)
        }
        Command::Reparse { all } => {
            init_batch_logging(&config);
            reparse(&config, all)
        }
        Command::CheckConfig => {
            print!("{}", config.to_toml());
            Ok(ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|error| {
        eprintln!("dmarc-sink: {error:#}");
        ExitCode::from(EXIT_FAILURE)
    })
}

fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(db) = &cli.db {
        config.store.path = db.clone();
    }
    Ok(config)
}

/// Batch commands print their own summary: log warnings (quarantine) and
/// errors only, unless `RUST_LOG` asks for more.
fn init_batch_logging(config: &Config) {
    let mut log = config.log.clone();
    log.level = "warn".into();
    logging::init(&log);
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.store.path)
        .with_context(|| format!("cannot open the store {}", config.store.path.display()))
}

fn import(config: &Config, paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut store = open_store(config)?;
    let (inputs, unreadable) = collect_inputs(paths);
    let progress = if std::io::stderr().is_terminal() && inputs.len() >= PROGRESS_MIN_INPUTS {
        let bar = ProgressBar::new(inputs.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files, {per_sec}, eta {eta}")
                .expect("valid progress template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut summary = ImportSummary {
        failed: unreadable,
        ..ImportSummary::default()
    };
    for input in &inputs {
        import_input(&mut store, input, &config.limits, &mut summary)
            .context("the store failed; the current message was rolled back")?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    for failure in &summary.quarantined {
        eprintln!("quarantined: {failure}");
    }
    for failure in &summary.failed {
        eprintln!("failed: {failure}");
    }
    println!("imported {} inputs: {summary}", inputs.len());
    Ok(
        if summary.quarantined.is_empty() && summary.failed.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_FAILURE)
        },
    )
}

fn reparse(config: &Config, all: bool) -> anyhow::Result<ExitCode> {
    let mut store = open_store(config)?;
    let summary = ingest::reparse(&mut store, all, &config.limits)?;
    println!(
        "reparsed {} messages: {} reports recovered, {} payloads still quarantined",
        summary.messages, summary.recovered, summary.still_quarantined
    );
    Ok(ExitCode::SUCCESS)
}
