use super::*;
use fluent_syntax::ast;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn locale_dir(lang: Lang) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("locales")
        .join(lang.as_str())
}

/// The `.ftl` files on disk in `locales/<lang>/`, by name, with their text.
fn files_on_disk(lang: Lang) -> BTreeMap<String, String> {
    std::fs::read_dir(locale_dir(lang))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "ftl"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// Each message, term and attribute id of `lang` (`id`, `-term`,
/// `id.attribute`) with the names of the variables it uses.
fn ids_and_variables(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    for (name, text) in files_on_disk(lang) {
        let resource = fluent_syntax::parser::parse(text.as_str())
            .unwrap_or_else(|(_, errors)| panic!("locales/{}/{name}: {errors:?}", lang.as_str()));
        for entry in &resource.body {
            let (id, value, attributes) = match entry {
                ast::Entry::Message(m) => (m.id.name.to_owned(), m.value.as_ref(), &m.attributes),
                ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(&t.value), &t.attributes),
                ast::Entry::Junk { content } => {
                    panic!("locales/{}/{name}: junk {content:?}", lang.as_str())
                }
                _ => continue,
            };
            let mut variables = BTreeSet::new();
            if let Some(value) = value {
                pattern_variables(value, &mut variables);
            }
            for attribute in attributes {
                let mut of_attribute = BTreeSet::new();
                pattern_variables(&attribute.value, &mut of_attribute);
                let key = format!("{id}.{}", attribute.id.name);
                assert!(found.insert(key, of_attribute).is_none());
            }
            let duplicate = found.insert(id.clone(), variables).is_some();
            assert!(!duplicate, "{id} twice in locales/{}", lang.as_str());
        }
    }
    found
}

fn pattern_variables(pattern: &ast::Pattern<&str>, into: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, into);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, into: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, into);
            for variant in variants {
                pattern_variables(&variant.value, into);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, into),
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, into: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            into.insert(id.name.to_owned());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_variables(argument, into);
            }
            for argument in &arguments.named {
                inline_variables(&argument.value, into);
            }
        }
        ast::InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => {
            for argument in &arguments.named {
                inline_variables(&argument.value, into);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, into),
        _ => {}
    }
}

#[test]
fn every_file_on_disk_is_embedded_and_the_same() {
    for lang in [Lang::En, Lang::Ja] {
        let embedded: BTreeMap<String, String> = lang
            .files()
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        assert_eq!(embedded, files_on_disk(lang), "{}", lang.as_str());
    }
}

#[test]
fn english_and_japanese_have_the_same_ids_with_the_same_variables() {
    let en = ids_and_variables(Lang::En);
    let ja = ids_and_variables(Lang::Ja);
    assert!(!en.is_empty());
    let only_en: Vec<_> = en.keys().filter(|id| !ja.contains_key(*id)).collect();
    let only_ja: Vec<_> = ja.keys().filter(|id| !en.contains_key(*id)).collect();
    assert!(only_en.is_empty(), "not in ja: {only_en:?}");
    assert!(only_ja.is_empty(), "not in en: {only_ja:?}");
    for (id, variables) in &en {
        assert_eq!(variables, &ja[id], "variables of {id}");
    }
}

#[test]
fn japanese_message_formats_with_its_arguments() {
    let ja = Messages::new(Lang::Ja);
    assert_eq!(
        ja.format(
            "diagnosis-mostly-aligned",
            &[("passed", 97.into()), ("messages", 100.into())]
        ),
        "100通中97通がDMARC認証に成功しています。少数の失敗は転送によるものと\
         考えられます。急ぎの対応は不要です。"
    );
    // No isolation marks (U+2068, U+2069) around the variables.
    let unauthorised = ja.format("diagnosis-unauthorised", &[("domain", "example.jp".into())]);
    assert!(
        unauthorised.contains("第三者がexample.jpになりすまして"),
        "{unauthorised}"
    );
    assert!(!unauthorised.contains(['\u{2068}', '\u{2069}']));
}

#[test]
fn a_message_missing_in_japanese_is_english() {
    let partial = [("diagnosis.ftl", "diagnosis-aligned = 対応は不要です。\n")];
    let messages = Messages::from_files(Lang::Ja, &partial);
    assert_eq!(messages.text("diagnosis-aligned"), "対応は不要です。");
    assert_eq!(
        messages.format(
            "diagnosis-dkim-missing",
            &[("domain", "example.com".into())]
        ),
        "DMARC passes on SPF alone, without an aligned DKIM signature. Sign this \
         mail with DKIM for example.com: SPF breaks when mail is forwarded."
    );
}

#[test]
fn language_from_the_locale_variables() {
    let from_lang = |lang| Lang::from_locale_vars(None, None, Some(lang));
    assert_eq!(from_lang("ja_JP.UTF-8"), Lang::Ja);
    assert_eq!(from_lang("ja"), Lang::Ja);
    assert_eq!(from_lang("C"), Lang::En);
    assert_eq!(from_lang("en_US.UTF-8"), Lang::En);
    assert_eq!(from_lang("jam_JM"), Lang::En);
    assert_eq!(Lang::from_locale_vars(None, None, None), Lang::En);
    // LC_ALL, then LC_MESSAGES, then LANG; an empty value is unset.
    let ja = Some("ja_JP.UTF-8");
    assert_eq!(Lang::from_locale_vars(Some("C"), None, ja), Lang::En);
    assert_eq!(Lang::from_locale_vars(Some(""), None, ja), Lang::Ja);
    assert_eq!(Lang::from_locale_vars(None, ja, Some("en_GB")), Lang::Ja);
    assert_eq!(
        Lang::from_locale_vars(Some("en_US.UTF-8"), ja, ja),
        Lang::En
    );
}

#[test]
fn numbers_and_days_are_written_for_the_language() {
    let en = Messages::new(Lang::En);
    let ja = Messages::new(Lang::Ja);
    assert_eq!(en.count(1_234_567), "1,234,567");
    assert_eq!(ja.count(-1_000), "-1,000");
    assert_eq!(ja.percent(0.973), "97.3%");
    // 2026-11-01T23:59:59Z
    let seconds = 1_793_577_599;
    assert_eq!(en.day(seconds), "2026-11-01");
    assert_eq!(ja.day(seconds), "2026年11月1日");
    assert_eq!(en.day(i64::MAX), i64::MAX.to_string());
}

#[test]
fn the_flag_then_the_configuration_then_the_environment() {
    assert_eq!(Lang::choose(Some(Lang::Ja), Some(Lang::En)), Lang::Ja);
    assert_eq!(Lang::choose(None, Some(Lang::Ja)), Lang::Ja);
    assert_eq!("JA".parse::<Lang>(), Ok(Lang::Ja));
    assert!("ja_JP.UTF-8".parse::<Lang>().is_err());
}
