//! The `dmarc-sink` command: parses arguments, loads the configuration, calls
//! the library and maps the outcome to an exit status.

use anyhow::Context;
use clap::{Parser, Subcommand};
use dmarc_sink::auth::Authenticator;
use dmarc_sink::config::{Config, ConfigError};
use dmarc_sink::export::postgres::Shipper;
use dmarc_sink::export::postgres::ship::Flow;
use dmarc_sink::export::{self, Target};
use dmarc_sink::i18n::{Lang, Messages, help};
use dmarc_sink::import::{ImportSummary, collect_inputs, import_input};
use dmarc_sink::insight::period::{End, parse_instant};
use dmarc_sink::insight::rdns::ReverseDns;
use dmarc_sink::insight::render::{self, Format};
use dmarc_sink::insight::{ScopeJson, digest, html, policy, sources, summary, tls_failure};
use dmarc_sink::store::{Scope, Store};
use dmarc_sink::{ingest, logging, serve};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status for a configuration that cannot be used (sysexits EX_CONFIG).
const EXIT_CONFIG: u8 = 78;
/// Exit status for arguments that cannot be used, as clap gives it.
const EXIT_USAGE: u8 = 2;
/// Exit status when some input failed (named on stderr) or the store failed.
const EXIT_FAILURE: u8 = 1;
/// Below this many inputs an import finishes too fast for a progress bar.
const PROGRESS_MIN_INPUTS: usize = 20;

/// The command line. Its help texts, in every language, are in
/// `locales/<lang>/help.ftl`, attached by [`dmarc_sink::i18n::help`].
#[derive(Parser)]
#[command(name = "dmarc-sink", version)]
struct Cli {
    #[arg(long, global = true, env = "DMARC_SINK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<Lang>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Serve {
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    Import {
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        #[arg(long)]
        authenticate: bool,
    },
    Reparse {
        #[arg(long)]
        all: bool,
    },
    Prune {
        #[arg(long, value_name = "WHEN", value_parser = since)]
        older_than: Option<i64>,
        #[arg(long)]
        dry_run: bool,
    },
    Export {
        #[command(subcommand)]
        target: ExportTarget,
    },
    CheckConfig,
    Man,
    Summary {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    #[command(args_conflicts_with_subcommands = true)]
    Sources {
        #[command(subcommand)]
        list: Option<SourcesList>,
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    Policy {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    CheckDns {
        #[arg(value_name = "DOMAIN")]
        domains: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        #[arg(long, value_name = "WHEN", value_parser = since, default_value = "30d")]
        since: i64,
        #[arg(long)]
        fetch_mta_sts: bool,
    },
    Html {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long)]
        check_dns: bool,
    },
    Digest {
        #[arg(long, value_name = "WHEN", value_parser = period_start, default_value = "7d")]
        since: String,
        #[arg(long, value_name = "WHEN", value_parser = until)]
        until: Option<i64>,
        #[arg(long = "domain", value_name = "DOMAIN")]
        domains: Vec<String>,
        #[arg(long = "to", value_name = "ADDR")]
        to: Vec<String>,
        #[arg(long)]
        stdout: bool,
        #[arg(long)]
        include_unauthenticated: bool,
    },
}

/// Where `export` ships.
#[derive(Subcommand)]
enum ExportTarget {
    Postgres {
        #[arg(value_name = "URL")]
        url: String,
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
    },
}

/// `sources approve|deny|forget|export|import`: the operator's list.
#[derive(Subcommand)]
enum SourcesList {
    Approve {
        #[command(flatten)]
        entry: ListEntryArgs,
    },
    Deny {
        #[command(flatten)]
        entry: ListEntryArgs,
    },
    Forget {
        domain: String,
        source: String,
    },
    Export,
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long)]
        replace: bool,
    },
}

#[derive(clap::Args)]
struct ListEntryArgs {
    domain: String,
    source: String,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    note: Option<String>,
}

/// How `check-dns` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

/// Which reports the insight commands read.
#[derive(clap::Args)]
struct ScopeArgs {
    #[arg(long = "domain", value_name = "DOMAIN")]
    domains: Vec<String>,
    #[arg(long, value_name = "WHEN", value_parser = since)]
    since: Option<i64>,
    #[arg(long, value_name = "WHEN", value_parser = until)]
    until: Option<i64>,
    #[arg(long)]
    include_unauthenticated: bool,
    #[arg(long, value_name = "URL", env = "DMARC_SINK_POSTGRES")]
    postgres: Option<String>,
}

impl ScopeArgs {
    fn scope(&self) -> Scope {
        Scope {
            domains: self.domains.clone(),
            since: self.since,
            until: self.until,
            include_unauthenticated: self.include_unauthenticated,
        }
    }
}

fn since(value: &str) -> Result<i64, String> {
    parse_instant(value, End::Since, jiff::Timestamp::now()).map_err(|e| e.to_string())
}

fn until(value: &str) -> Result<i64, String> {
    parse_instant(value, End::Until, jiff::Timestamp::now()).map_err(|e| e.to_string())
}

/// `digest --since`: checked here, read against `--until` once it is known.
fn period_start(value: &str) -> Result<String, String> {
    since(value).map(|_| value.to_owned())
}

/// The command tree with its help in `lang`.
fn command_line(lang: Lang) -> clap::Command {
    help::localise(
        <Cli as clap::CommandFactory>::command(),
        &Messages::new(lang),
    )
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let matches = command_line(help::language_of_arguments(&args)).get_matches_from(&args);
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dmarc-sink: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let messages = Messages::new(Lang::choose(cli.lang, config.insight.lang));
    let messages = &messages;
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
        Command::Import {
            paths,
            authenticate,
        } => {
            init_batch_logging(&config);
            import(&config, &paths, authenticate)
        }
        Command::Reparse { all } => {
            init_batch_logging(&config);
            reparse(&config, all)
        }
        Command::Prune {
            older_than,
            dry_run,
        } => {
            init_batch_logging(&config);
            prune(&config, older_than, dry_run)
        }
        Command::Man => {
            let page = clap_mangen::Man::new(command_line(messages.lang()));
            let mut out = Vec::new();
            match page.render(&mut out) {
                Ok(()) => emit(&String::from_utf8_lossy(&out)).map(|()| ExitCode::SUCCESS),
                Err(error) => Err(error.into()),
            }
        }
        Command::Export {
            target: ExportTarget::Postgres { url, instance },
        } => {
            init_batch_logging(&config);
            export_postgres(&config, &url, instance.as_deref())
        }
        Command::CheckConfig => {
            print!("{}", config.redacted().to_toml());
            Ok(ExitCode::SUCCESS)
        }
        Command::Summary { scope, format } => {
            init_batch_logging(&config);
            with_fleet(&config, &scope, |config| {
                show_summary(config, &scope.scope(), format, messages)
            })
        }
        Command::Sources {
            list: Some(list), ..
        } => {
            init_batch_logging(&config);
            change_list(&config, list)
        }
        Command::Sources {
            list: None,
            scope,
            format,
            limit,
        } => {
            init_batch_logging(&config);
            with_fleet(&config, &scope, |config| {
                show_sources(config, &scope.scope(), format, limit, messages)
            })
        }
        Command::Policy { scope, format } => {
            init_batch_logging(&config);
            with_fleet(&config, &scope, |config| {
                show_policy(config, &scope.scope(), format, messages)
            })
        }
        Command::Html {
            scope,
            out,
            check_dns,
        } => {
            init_batch_logging(&config);
            with_fleet(&config, &scope, |config| {
                write_html(config, &scope.scope(), &out, check_dns, messages)
            })
        }
        Command::CheckDns {
            domains,
            format,
            since,
            fetch_mta_sts,
        } => {
            init_batch_logging(&config);
            check_dns(&config, &domains, format, since, fetch_mta_sts, messages)
        }
        Command::Digest {
            since,
            until,
            domains,
            to,
            stdout,
            include_unauthenticated,
        } => {
            init_batch_logging(&config);
            let until = until.unwrap_or_else(now);
            let since = match parse_instant(&since, End::Since, timestamp(until)) {
                Ok(since) if since < until => since,
                Ok(_) => {
                    eprintln!("dmarc-sink: --since {since} is not before --until");
                    return ExitCode::from(EXIT_USAGE);
                }
                Err(error) => {
                    eprintln!("dmarc-sink: --since: {error}");
                    return ExitCode::from(EXIT_USAGE);
                }
            };
            let request = digest::Request {
                period: digest::Period { since, until },
                domains,
                include_unauthenticated,
                lang: messages.lang(),
            };
            match send_digest(&config, &request, &to, stdout) {
                Err(error)
                    if error
                        .downcast_ref::<digest::DigestError>()
                        .is_some_and(digest::DigestError::is_config) =>
                {
                    eprintln!("dmarc-sink: {error}");
                    return ExitCode::from(EXIT_CONFIG);
                }
                result => result,
            }
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

/// Opens the store for the commands that write to it (`import`, `reparse`).
fn open_store(config: &Config) -> anyhow::Result<Store> {
    let mut store = Store::open(&config.store.path)
        .with_context(|| format!("cannot open the store {}", config.store.path.display()))?;
    store.keep_failure_bodies(config.store.keep_failure_bodies);
    Ok(store)
}

/// Opens an existing store for the insight commands: a missing file is an
/// error, not a new empty store.
fn open_existing_store(config: &Config) -> anyhow::Result<Store> {
    let path = &config.store.path;
    if !path.exists() {
        anyhow::bail!(
            "no store at {}: run `serve` or `import` first, or pass --db",
            path.display()
        );
    }
    open_store(config)
}

/// Writes a command's output; a reader that went away (`| head`) is not
/// an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("cannot write the output"),
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Runs `command` on the store of `config`, or with `--postgres` on the
/// fleet's reports read into a temporary store of their own: the same
/// queries, so the same answers as one store that received all the mail.
fn with_fleet(
    config: &Config,
    scope: &ScopeArgs,
    command: impl FnOnce(&Config) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let Some(url) = &scope.postgres else {
        return command(config);
    };
    let shown = dmarc_sink::config::redact_password(url);
    let connection: postgres::Config = url
        .parse()
        .with_context(|| format!("{shown:?} is not a PostgreSQL URL"))?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let path = dir.path().join("fleet.sqlite");
    let tls =
        dmarc_sink::export::postgres::tls::connector(config.export.postgres.ca_file.as_deref())?;
    let (store, counts) = dmarc_sink::export::postgres::fleet_store(&connection, tls, &path)
        .with_context(|| format!("cannot read the fleet at {shown}"))?;
    drop(store);
    if std::io::stderr().is_terminal() {
        eprintln!(
            "read from {shown}: {} sinks, {} reports ({} records), {} TLS reports, {} failure reports",
            counts.instances,
            counts.reports,
            counts.records,
            counts.tls_reports,
            counts.failure_reports
        );
    }
    let mut fleet = config.clone();
    fleet.store.path = path;
    command(&fleet)
}

/// `prune`: deletes (or with `dry_run` counts) what is older than the cut,
/// converting a store from before schema 6 to incremental auto-vacuum first.
fn prune(config: &Config, older_than: Option<i64>, dry_run: bool) -> anyhow::Result<ExitCode> {
    let cut = match (older_than, config.store.retention_days) {
        (Some(cut), _) => cut,
        (None, 0) => anyhow::bail!(
            "prune needs --older-than (such as 400d), or store.retention_days in the configuration"
        ),
        (None, days) => now() - i64::from(days) * 86_400,
    };
    // A report arrives up to a day or two after its range ends: a cut
    // closer to now would delete what just came in.
    if cut > now() - 86_400 {
        anyhow::bail!(
            "--older-than must reach at least a day back (such as 400d or a date): \
             a later cut deletes reports that have just arrived"
        );
    }
    let mut store = open_existing_store(config)?;
    let cut_text = dmarc_sink::insight::period::rfc3339(cut);
    if dry_run {
        let counts = store.prune_preview(cut)?;
        emit(&format!(
            "would delete, as everything in them is older than {cut_text}:\n{}",
            prune_counts_text(&counts)
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let progress = store.prune(cut, &dmarc_sink::store::PruneControl::default())?;
    // After the prune, so that the rewrite copies only what stays.
    if !store.is_incremental_vacuum()? {
        eprintln!(
            "dmarc-sink: converting the store to incremental auto-vacuum (once; rewrites the file)"
        );
        store.convert_to_incremental_vacuum()?;
    }
    emit(&format!(
        "deleted, as everything in them was older than {cut_text}:\n{}\
         {} transactions, the longest {} ms; {} pages given back\n",
        prune_counts_text(&progress.deleted),
        progress.transactions,
        progress.longest_transaction.as_millis(),
        progress.pages_freed,
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn prune_counts_text(counts: &dmarc_sink::store::PruneCounts) -> String {
    format!(
        "  messages         {} ({} bytes)\n  reports          {} ({} records)\n  \
         tls reports      {}\n  failure reports  {}\n  quarantined      {}\n",
        counts.messages,
        counts.message_bytes,
        counts.reports,
        counts.records,
        counts.tls_reports,
        counts.failure_reports,
        counts.quarantined,
    )
}

/// `sources approve|deny|forget|export|import`.
fn change_list(config: &Config, list: SourcesList) -> anyhow::Result<ExitCode> {
    use dmarc_sink::insight::approved::{ListFile, SourcePattern};
    use dmarc_sink::store::{ApprovedSource, ChangedBy, ListChange, Standing};
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    let by = ChangedBy {
        user: &user,
        at: now(),
    };
    let entry = |args: ListEntryArgs, standing| -> anyhow::Result<ApprovedSource> {
        Ok(ApprovedSource {
            policy_domain: policy_domain(&args.domain)?,
            source: SourcePattern::parse(&args.source)?.to_string(),
            standing,
            name: args.name,
            note: args.note,
        })
    };
    let said = |change: ListChange, entry: &ApprovedSource| {
        let what = match change {
            ListChange::Added => "added",
            ListChange::Changed => "changed",
            ListChange::Unchanged => "unchanged",
        };
        format!(
            "{} {} for {}: {what}\n",
            entry.standing.as_str(),
            entry.source,
            entry.policy_domain
        )
    };
    match list {
        SourcesList::Approve { entry: args } => {
            let entry = entry(args, Standing::Approved)?;
            let change = open_store(config)?.set_source_standing(&entry, by)?;
            emit(&said(change, &entry))?;
        }
        SourcesList::Deny { entry: args } => {
            let entry = entry(args, Standing::Denied)?;
            let change = open_store(config)?.set_source_standing(&entry, by)?;
            emit(&said(change, &entry))?;
        }
        SourcesList::Forget { domain, source } => {
            let domain = policy_domain(&domain)?;
            let source = SourcePattern::parse(&source)?.to_string();
            if !open_store(config)?.forget_source(&domain, &source, by)? {
                anyhow::bail!("{source} is not on the list of {domain}");
            }
            emit(&format!("forgot {source} for {domain}\n"))?;
        }
        SourcesList::Export => {
            let store = open_existing_store(config)?;
            let file = ListFile {
                source: store.approved_sources()?,
            };
            emit(&file.to_toml())?;
        }
        SourcesList::Import { file, replace } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let list = ListFile::parse(&text).with_context(|| format!("{}", file.display()))?;
            let mut store = open_store(config)?;
            let mut out = String::new();
            for entry in &list.source {
                let change = store.set_source_standing(entry, by)?;
                if change != ListChange::Unchanged {
                    out.push_str(&said(change, entry));
                }
            }
            if replace {
                for old in store.approved_sources()? {
                    let kept = list
                        .source
                        .iter()
                        .any(|e| e.policy_domain == old.policy_domain && e.source == old.source);
                    if !kept && store.forget_source(&old.policy_domain, &old.source, by)? {
                        out.push_str(&format!(
                            "forgot {} for {}\n",
                            old.source, old.policy_domain
                        ));
                    }
                }
            }
            out.push_str(&format!(
                "{} entries read from {}\n",
                list.source.len(),
                file.display()
            ));
            emit(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A policy domain as given on the command line, checked and lower-cased.
fn policy_domain(text: &str) -> anyhow::Result<String> {
    use dmarc_sink::insight::approved::SourcePattern;
    match SourcePattern::parse(text) {
        Ok(SourcePattern::Domain(domain)) => Ok(domain),
        _ => anyhow::bail!("{text:?} is not a domain name"),
    }
}

fn timestamp(seconds: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(seconds).unwrap_or_else(|_| jiff::Timestamp::now())
}

/// The sources of the scope, named by reverse DNS when configured.
fn find_sources(
    config: &Config,
    store: &Store,
    scope: &Scope,
    messages: &Messages,
) -> anyhow::Result<Vec<sources::Source>> {
    let mut rdns = config.insight.reverse_dns.then(|| {
        ReverseDns::new(std::time::Duration::from_millis(
            config.insight.reverse_dns_timeout_ms,
        ))
    });
    Ok(sources::sources(store, scope, rdns.as_mut(), messages)?)
}

fn show_summary(
    config: &Config,
    scope: &Scope,
    format: Format,
    messages: &Messages,
) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config)?;
    let domains = summary::summary(&store, scope)?;
    let left_out = store.left_out(scope)?;
    emit(&match format {
        Format::Table => render::printable(
            &(render::summary_table(&domains, messages)
                + &render::left_out_note(&left_out, messages)),
        ),
        Format::Csv => csv_with_note(render::summary_csv(&domains), &left_out, messages),
        Format::Json => render::json(
            "domains",
            &domains,
            ScopeJson::from(scope),
            &left_out,
            now(),
        ),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Sources per domain in a table unless `--limit` says otherwise.
const TABLE_SOURCES_PER_DOMAIN: usize = 25;

fn show_sources(
    config: &Config,
    scope: &Scope,
    format: Format,
    limit: Option<usize>,
    messages: &Messages,
) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config)?;
    let mut found = find_sources(config, &store, scope, messages)?;
    let mut failures = tls_failure::reported_failures(&store, scope)?;
    let left_out = store.left_out(scope)?;
    if format != Format::Table
        && let Some(limit) = limit.filter(|&l| l > 0)
    {
        let mut per_domain = std::collections::HashMap::<String, usize>::new();
        found.retain(|s| {
            let shown = per_domain.entry(s.policy_domain.clone()).or_default();
            *shown += 1;
            *shown <= limit
        });
        failures.keep_per_domain(limit);
    }
    emit(&match format {
        Format::Table => render::printable(
            &(render::sources_table(
                &found,
                &failures,
                limit.unwrap_or(TABLE_SOURCES_PER_DOMAIN),
                messages,
            ) + &render::left_out_note(&left_out, messages)),
        ),
        Format::Csv => csv_with_note(render::sources_csv(&found), &left_out, messages),
        Format::Json => {
            render::sources_json(&found, &failures, ScopeJson::from(scope), &left_out, now())
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn show_policy(
    config: &Config,
    scope: &Scope,
    format: Format,
    messages: &Messages,
) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config)?;
    let found = find_sources(config, &store, scope, messages)?;
    // The published record's addresses, when a resolver is configured.
    let mut published = std::collections::HashMap::new();
    if !config.dns.nameservers.is_empty() {
        let resolver = dmarc_sink::dns::Resolver::new(&config.dns)?;
        for totals in store.domain_totals(scope)? {
            let domain = totals.policy_domain;
            if let Some((rua, ruf)) = dmarc_sink::check::published_addresses(&resolver, &domain) {
                published.insert(domain, policy::ReportAddresses { rua, ruf });
            }
        }
    }
    let domains =
        policy::readiness_with(&store, scope, &found, &config.insight, &published, messages)?;
    let left_out = store.left_out(scope)?;
    emit(&match format {
        Format::Table => render::printable(
            &(render::policy_table(&domains, messages)
                + &render::left_out_note(&left_out, messages)),
        ),
        Format::Csv => csv_with_note(render::policy_csv(&domains), &left_out, messages),
        Format::Json => render::json(
            "domains",
            &domains,
            ScopeJson::from(scope),
            &left_out,
            now(),
        ),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `check-dns`: exit 0, 1 or 2 (see the command's help); a failure to
/// start (no resolver, a store that will not open) is 2 as well.
fn check_dns(
    config: &Config,
    domains: &[String],
    format: CheckFormat,
    since: i64,
    fetch_mta_sts: bool,
    messages: &Messages,
) -> anyhow::Result<ExitCode> {
    // Whatever stops the run is "could not run" (2), never "a check
    // failed" (1).
    run_check_dns(config, domains, format, since, fetch_mta_sts, messages).or_else(|error| {
        eprintln!("dmarc-sink: {error:#}");
        Ok(ExitCode::from(2))
    })
}

fn run_check_dns(
    config: &Config,
    domains: &[String],
    format: CheckFormat,
    since: i64,
    fetch_mta_sts: bool,
    messages: &Messages,
) -> anyhow::Result<ExitCode> {
    use dmarc_sink::check::{
        Context, Fetcher, check_domain, exit_status, is_host_name, render_text,
    };
    let could_not_run = |error: &dyn std::fmt::Display| {
        eprintln!("dmarc-sink: {error}");
        Ok(ExitCode::from(2))
    };
    let resolver = match dmarc_sink::dns::Resolver::new(&config.dns) {
        Ok(resolver) => std::sync::Arc::new(resolver),
        Err(error) => return could_not_run(&error),
    };
    let fetcher = if fetch_mta_sts {
        let roots = match &config.check_dns.https_roots {
            Some(path) => Some(
                std::fs::read(path)
                    .with_context(|| format!("check_dns.https_roots {}", path.display()))?,
            ),
            None => None,
        };
        let timeout = std::time::Duration::from_millis(config.dns.timeout_ms.saturating_mul(5));
        match Fetcher::new(resolver.clone(), roots.as_deref(), timeout) {
            Ok(fetcher) => Some(fetcher),
            Err(error) => return could_not_run(&error),
        }
    } else {
        None
    };
    let store = if config.store.path.exists() {
        match open_store(config) {
            Ok(store) => Some(store),
            Err(error) => return could_not_run(&error),
        }
    } else {
        None
    };
    let mut names: Vec<String> = domains.iter().map(|d| d.to_ascii_lowercase()).collect();
    if let Some(bad) = names.iter().find(|name| !is_host_name(name)) {
        return could_not_run(&format!("{bad:?} is not a domain name"));
    }
    if names.is_empty() {
        let Some(store) = &store else {
            return could_not_run(&"no domain given and no store to take them from");
        };
        let scope = Scope::default();
        // Policy domains come from reports: only names DNS can be asked.
        names = store
            .domain_totals(&scope)?
            .into_iter()
            .map(|d| d.policy_domain)
            .filter(|name| is_host_name(name))
            .collect();
        names.sort();
    }
    let context = Context {
        resolver: &resolver,
        store: store.as_ref(),
        since: Some(since),
        fetcher: fetcher.as_ref(),
        messages,
    };
    let mut results = Vec::new();
    for name in &names {
        results.push(check_domain(&context, name)?);
    }
    emit(&match format {
        CheckFormat::Text => render_text(&results, messages),
        CheckFormat::Json => {
            let mut text = serde_json::to_string_pretty(&results)?;
            text.push('\n');
            text
        }
    })?;
    Ok(ExitCode::from(exit_status(&results)))
}

/// CSV stays rows of data on stdout; what it left out goes to stderr.
fn csv_with_note(
    csv: String,
    left_out: &[dmarc_sink::store::LeftOut],
    messages: &Messages,
) -> String {
    let note = render::left_out_note(left_out, messages);
    if !note.is_empty() {
        eprint!("{}", note.trim_start());
    }
    csv
}

fn write_html(
    config: &Config,
    scope: &Scope,
    out: &std::path::Path,
    check_dns: bool,
    messages: &Messages,
) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config)?;
    let found = find_sources(config, &store, scope, messages)?;
    let mut checks = Vec::new();
    if check_dns {
        let resolver = dmarc_sink::dns::Resolver::new(&config.dns)?;
        let context = dmarc_sink::check::Context {
            resolver: &resolver,
            store: Some(&store),
            since: scope.since,
            fetcher: None,
            messages,
        };
        for totals in store.domain_totals(scope)? {
            checks.push(dmarc_sink::check::check_domain(
                &context,
                &totals.policy_domain,
            )?);
        }
    }
    let page = html::page_with_checks(
        &store,
        scope,
        &found,
        &config.insight,
        now(),
        &checks,
        messages,
    )?;
    std::fs::write(out, page).with_context(|| format!("cannot write {}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// `digest`: gathers the period's figures and sends them, or prints the
/// message with `--stdout`. What cannot be sent (no relay, no recipient)
/// fails before the store is read.
fn send_digest(
    config: &Config,
    request: &digest::Request,
    to: &[String],
    stdout: bool,
) -> anyhow::Result<ExitCode> {
    let recipients = digest::recipients(to, &config.digest.to)?;
    if !stdout {
        if config.digest.relay.is_none() {
            return Err(digest::DigestError::NoRelay.into());
        }
        if recipients.is_empty() {
            return Err(digest::DigestError::NoRecipients.into());
        }
    }
    let store = open_existing_store(config)?;
    let mut rdns = config.insight.reverse_dns.then(|| {
        ReverseDns::new(std::time::Duration::from_millis(
            config.insight.reverse_dns_timeout_ms,
        ))
    });
    let gathered = digest::gather(&store, request, config, rdns.as_mut())?;
    let message = digest::message(
        &gathered,
        &config.digest.from,
        &recipients,
        &config.digest.subject_prefix,
    )?;
    if stdout {
        emit(&String::from_utf8_lossy(&message.formatted()))?;
        return Ok(ExitCode::SUCCESS);
    }
    digest::send(&message, &config.digest)?;
    let names: Vec<String> = recipients.iter().map(|r| r.email.to_string()).collect();
    println!(
        "sent the digest to {} through {}",
        names.join(", "),
        config.digest.relay.as_deref().unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

fn import(config: &Config, paths: &[PathBuf], authenticate: bool) -> anyhow::Result<ExitCode> {
    let mut store = open_store(config)?;
    let authenticator = authenticate
        .then(|| Authenticator::new(&config.dns, &config.smtp.hostname))
        .transpose()
        .context("cannot authenticate the imported messages")?;
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
        import_input(
            &mut store,
            input,
            &config.limits,
            authenticator.as_ref(),
            &mut summary,
        )
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

fn export_postgres(config: &Config, url: &str, instance: Option<&str>) -> anyhow::Result<ExitCode> {
    let settings = &config.export.postgres;
    let target = Target::new(
        url,
        settings.password_file.as_deref(),
        settings.ca_file.as_deref(),
        instance.unwrap_or(&settings.instance),
        settings.raw,
    )?;
    let store = open_existing_store(config)?;
    let pending = export::postgres::ship::pending(&store, &target)?;
    let mut shipper = Shipper::connect(&target)?;
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(pending);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {per_sec}, eta {eta}")
                .expect("valid progress template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let shipped = shipper.ship(&store, &mut |_, rows| {
        progress.inc(rows);
        Flow::Continue
    })?;
    progress.finish_and_clear();
    for (table, rows) in &shipped.tables {
        println!("{table}: {rows}");
    }
    println!(
        "shipped {} rows to {} as instance {}",
        shipped.total(),
        target.shown(),
        target.instance
    );
    Ok(ExitCode::SUCCESS)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each command and option of the tree, by its message id in help.ftl.
    fn help_ids(command: &clap::Command, path: &str, into: &mut Vec<String>) {
        into.push(help::command_id(path));
        for arg in command.get_arguments() {
            into.push(help::option_id(path, arg.get_id().as_str()));
        }
        for sub in command.get_subcommands() {
            help_ids(sub, &help::sub_path(path, sub.get_name()), into);
        }
    }

    #[test]
    fn every_command_and_option_has_its_help_in_every_language() {
        let mut command = <Cli as clap::CommandFactory>::command();
        command.build();
        let mut ids = Vec::new();
        help_ids(&command, "", &mut ids);
        assert!(ids.len() > 60, "{ids:?}");
        for lang in [Lang::En, Lang::Ja] {
            let command = command_line(lang);
            let mut seen = Vec::new();
            help_ids(&command, "", &mut seen);
            assert_eq!(seen, ids);
            let messages = Messages::new(lang);
            let missing: Vec<&String> =
                ids.iter().filter(|id| messages.get(id).is_none()).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
        // Japanese from its own file, not English behind it.
        let japanese = command_line(Lang::Ja);
        let summary = japanese.find_subcommand("summary").unwrap();
        assert!(
            summary
                .get_about()
                .unwrap()
                .to_string()
                .contains("ポリシードメイン")
        );
    }

    #[test]
    fn the_language_of_help_is_chosen_before_parsing() {
        let args =
            |list: &[&str]| -> Vec<std::ffi::OsString> { list.iter().map(Into::into).collect() };
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("c.toml");
        std::fs::write(&config, "[insight]\nlang = \"ja\"\n").unwrap();
        let config = config.to_str().unwrap();
        let of = |list: &[&str]| help::language_of_arguments(&args(list));
        assert_eq!(of(&["dmarc-sink", "--lang", "ja", "summary"]), Lang::Ja);
        assert_eq!(of(&["dmarc-sink", "summary", "--lang=ja"]), Lang::Ja);
        assert_eq!(of(&["dmarc-sink", "--config", config, "policy"]), Lang::Ja);
        assert_eq!(
            of(&["dmarc-sink", "--config", config, "--lang", "en", "policy"]),
            Lang::En
        );
    }
}
