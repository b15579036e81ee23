//! The language of what people read: diagnoses and their fixes, and in time
//! every other sentence the insight commands print (issue 18).
//!
//! Messages are Project Fluent files, `locales/<lang>/*.ftl`, embedded in
//! the binary. English is complete; a message another language lacks is
//! shown in English. Log lines, JSON keys, CSV headers, diagnosis codes and
//! the stored data are never translated and do not come through here.

use fluent_bundle::{FluentArgs, FluentBundle, FluentResource};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

pub use fluent_bundle::FluentValue;

/// A language the messages are written in. In the configuration
/// (`insight.lang`) and on the command line (`--lang`) it is `en` or `ja`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    /// The language to write in: `--lang` when given, else `insight.lang`
    /// when configured, else the locale environment ([`Lang::from_env`]).
    pub fn choose(flag: Option<Lang>, configured: Option<Lang>) -> Lang {
        flag.or(configured).unwrap_or_else(Lang::from_env)
    }

    /// The language of the locale environment: the first of `LC_ALL`,
    /// `LC_MESSAGES` and `LANG` that is set and not empty decides, as in
    /// POSIX.
    pub fn from_env() -> Lang {
        let var = |name| std::env::var(name).ok();
        let (lc_all, lc_messages, lang) = (var("LC_ALL"), var("LC_MESSAGES"), var("LANG"));
        Lang::from_locale_vars(lc_all.as_deref(), lc_messages.as_deref(), lang.as_deref())
    }

    /// [`Lang::from_env`] on the values given rather than the process's.
    pub fn from_locale_vars(
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Lang {
        [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .find(|value| !value.is_empty())
            .map_or(Lang::En, Lang::from_locale)
    }

    /// The language of a POSIX locale name (`ja_JP.UTF-8`, `ja`,
    /// `en_US@euro`) or a language tag (`ja-JP`); English for any language
    /// without messages of its own, and for `C` and `POSIX`.
    pub fn from_locale(locale: &str) -> Lang {
        let language = locale
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default();
        if language.eq_ignore_ascii_case("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }

    /// The language's tag: `en`, `ja`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The message files of the language, by file name.
    fn files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Lang::En => EN,
            Lang::Ja => JA,
        }
    }
}

/// A language name that is neither `en` nor `ja`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a language of dmarc-sink's: use en or ja")]
pub struct UnknownLang(pub String);

impl std::str::FromStr for Lang {
    type Err = UnknownLang;

    /// `en` or `ja`, in any case: the values `--lang` and `insight.lang`
    /// take. A locale name is not accepted here; the environment's is read
    /// by [`Lang::from_locale`].
    fn from_str(text: &str) -> Result<Lang, UnknownLang> {
        match text.to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ja" => Ok(Lang::Ja),
            _ => Err(UnknownLang(text.to_owned())),
        }
    }
}

/// The message files of `locales/<lang>/`, by file name, embedded; a test
/// checks that these are all the files there.
macro_rules! locale_files {
    ($lang:literal: $($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../locales/", $lang, "/", $name)))),+]
    };
}

/// One file per part of the program that prints prose.
const EN: &[(&str, &str)] = locale_files!("en":
    "check.ftl", "diagnosis.ftl", "digest.ftl", "help.ftl", "html.ftl",
    "policy.ftl", "providers.ftl", "tables.ftl",
);
const JA: &[(&str, &str)] = locale_files!("ja":
    "check.ftl", "diagnosis.ftl", "digest.ftl", "help.ftl", "html.ftl",
    "policy.ftl", "providers.ftl", "tables.ftl",
);

/// The messages of one language, with English behind them.
pub struct Messages {
    lang: Lang,
    /// The language's bundle first, then English's unless it is English.
    bundles: Vec<FluentBundle<FluentResource>>,
}

impl Messages {
    pub fn new(lang: Lang) -> Messages {
        Messages::from_files(lang, lang.files())
    }

    /// The messages of `files` in `lang`, with the embedded English behind
    /// them.
    fn from_files(lang: Lang, files: &[(&str, &str)]) -> Messages {
        let mut bundles = vec![bundle(lang, files)];
        if lang != Lang::En {
            bundles.push(bundle(Lang::En, EN));
        }
        Messages { lang, bundles }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message `id` with its variables `args` (`{ $name }`), from the
    /// first language that has it. An id no language has comes back as
    /// itself, so a missing message shows rather than vanishes; in a debug
    /// build (the tests) it, or a variable left without an argument, is a
    /// panic.
    pub fn format(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let found = self.find(id, args);
        debug_assert!(found.is_some(), "no message {id}");
        found.unwrap_or_else(|| id.to_owned())
    }

    /// The message `id` without variables, or `None` when no language has
    /// it: for texts that may or may not be written, such as the help of
    /// an option (see [`help`]).
    pub fn get(&self, id: &str) -> Option<String> {
        self.find(id, &[])
    }

    fn find(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> Option<String> {
        let args: FluentArgs<'_> = args.iter().map(|(k, v)| (*k, v.clone())).collect();
        let (bundle, pattern) = self
            .bundles
            .iter()
            .find_map(|b| Some((b, b.get_message(id)?.value()?)))?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
        debug_assert!(errors.is_empty(), "message {id}: {errors:?}");
        Some(text.into_owned())
    }

    /// [`Messages::format`] of a message without variables.
    pub fn text(&self, id: &str) -> String {
        self.format(id, &[])
    }
}

/// The bundle of `lang`'s `files`. The embedded files are checked by the
/// tests, so one that does not parse is a bug in this build, not an input
/// error.
fn bundle(lang: Lang, files: &[(&str, &str)]) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = lang.as_str().parse().expect("a valid language tag");
    let mut bundle = FluentBundle::new(vec![id]);
    // Output goes to terminals, mail and tests, not to bidirectional text:
    // no Unicode isolation marks around the variables.
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(format::format_value));
    for (name, source) in files {
        let resource = FluentResource::try_new((*source).to_owned())
            .unwrap_or_else(|(_, errors)| panic!("locales/{}/{name}: {errors:?}", lang.as_str()));
        bundle
            .add_resource(resource)
            .unwrap_or_else(|errors| panic!("locales/{}/{name}: {errors:?}", lang.as_str()));
    }
    bundle
}

mod format;
pub mod help;

pub use format::group_thousands;

#[cfg(test)]
mod tests;
