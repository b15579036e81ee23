//! `--help` in the chosen language.
//!
//! The help of every command and option lives in `locales/<lang>/help.ftl`
//! rather than in doc comments, so that each language is written once and
//! English is not special. [`localise`] attaches it to the command tree
//! clap derives from `src/main.rs`: a command's text is
//! `help-<command>` (sub-commands joined with `-`), an option's is
//! `help-<command>--<option>`, else `help-arg--<option>` for an option
//! several commands share. clap's own headings ("Usage", "Options") stay
//! English: clap offers no clean way to change them.

use super::{Lang, Messages};
use clap::Command;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// `command` (and every sub-command) with its texts from `messages`. The
/// tree is built first, so that clap's own `--help` and `--version` flags
/// and `help` sub-command are there to be given theirs.
pub fn localise(mut command: Command, messages: &Messages) -> Command {
    command.build();
    localise_built(command, "", messages)
}

fn localise_built(mut command: Command, path: &str, messages: &Messages) -> Command {
    if let Some(about) = messages.get(&command_id(path)) {
        command = command.about(about);
    }
    command = command.mut_args(
        |arg| match messages.get(&option_id(path, arg.get_id().as_str())) {
            Some(help) => arg.help(help),
            None => arg,
        },
    );
    command.mut_subcommands(|sub| {
        let path = sub_path(path, sub.get_name());
        localise_built(sub, &path, messages)
    })
}

/// The path of sub-command `name` of the command at `path`. clap's `help`
/// sub-command repeats the tree beside it (`help sources approve`), whose
/// commands read as the ones they name: `help` is left out of their path.
pub fn sub_path(path: &str, name: &str) -> String {
    let path = match path.strip_suffix("help") {
        Some(parent) if parent.is_empty() || parent.ends_with('-') => parent.trim_end_matches('-'),
        _ => path,
    };
    match path {
        "" => name.to_owned(),
        _ => format!("{path}-{name}"),
    }
}

/// The message id of the command at `path` (`""` is the program itself).
pub fn command_id(path: &str) -> String {
    match path {
        "" => "help-about".to_owned(),
        // clap's `help` sub-command, wherever it is.
        _ if path == "help" || path.ends_with("-help") => "help-help".to_owned(),
        _ => format!("help-{path}"),
    }
}

/// The message id of option `id` of the command at `path`: the
/// command's own when `help.ftl` has one, else the shared one.
pub fn option_id(path: &str, id: &str) -> String {
    let option = id.replace('_', "-");
    let own = format!("help-{path}--{option}");
    if !path.is_empty() && has_message(&own) {
        own
    } else {
        format!("help-arg--{option}")
    }
}

/// Whether English, which has every id, has `id`.
fn has_message(id: &str) -> bool {
    thread_local! {
        static ENGLISH: Messages = Messages::new(Lang::En);
    }
    ENGLISH.with(|english| english.get(id).is_some())
}

/// The language of `--help` and of clap's errors, decided before the
/// arguments are parsed: `--lang` when it is among `args` and valid, else
/// `insight.lang` of the configuration they (or `DMARC_SINK_CONFIG`) name,
/// else the locale. The same order [`Lang::choose`] follows once they are;
/// a bad value here is reported by the parse that follows.
///
/// The configuration is read here only when it is a regular file: one
/// that can be read only once (`--config <(...)`, a FIFO) is left whole
/// for the real load.
pub fn language_of_arguments(args: &[OsString]) -> Lang {
    let flag = option_value(args, "lang").and_then(|v| v.to_str()?.parse().ok());
    let configured = || {
        let path = option_value(args, "config")
            .or_else(|| std::env::var_os("DMARC_SINK_CONFIG"))
            .map(PathBuf::from)?;
        if !path.metadata().ok()?.is_file() {
            return None;
        }
        crate::config::Config::load(&path).ok()?.insight.lang
    };
    flag.or_else(configured).unwrap_or_else(Lang::from_env)
}

/// The value of `--name VALUE` or `--name=VALUE` among `args`, taken as
/// given (a path need not be UTF-8).
fn option_value(args: &[OsString], name: &str) -> Option<OsString> {
    let flag = format!("--{name}");
    let prefix = format!("--{name}=");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg.as_os_str() == flag.as_str() {
            return args.next().cloned();
        }
        if let Some(value) = arg.as_bytes().strip_prefix(prefix.as_bytes()) {
            return Some(OsStr::from_bytes(value).to_owned());
        }
    }
    None
}
