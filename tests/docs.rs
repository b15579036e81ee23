//! The docs against what they describe: every key of the shipped example
//! configuration is documented in docs/configuration.md, and every key
//! documented there exists; the README stays a newcomer's page.

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// `section.key` for every key of config.example.toml, set or shown
/// commented out (`# hostname = ...`).
fn example_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut section = String::new();
    for line in read("config.example.toml").lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let candidate = line.strip_prefix("# ").unwrap_or(line);
        if let Some((key, _)) = candidate.split_once(" = ")
            && !section.is_empty()
            && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            keys.insert(format!("{section}.{key}"));
        }
    }
    keys
}

/// Every `section.key` named in the first column of the key table.
fn documented_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for line in read("docs/configuration.md").lines() {
        let Some(first) = line.strip_prefix("| `").and_then(|l| l.split(" |").next()) else {
            continue;
        };
        for name in format!("`{first}").split(", ") {
            let name = name.trim_matches('`');
            if name.contains('.') {
                keys.insert(name.to_owned());
            }
        }
    }
    keys
}

#[test]
fn every_configuration_key_is_documented_and_every_documented_key_exists() {
    let example = example_keys();
    let documented = documented_keys();
    assert!(example.len() > 40, "{example:?}");
    let undocumented: Vec<&String> = example.difference(&documented).collect();
    let unknown: Vec<&String> = documented.difference(&example).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "not in docs/configuration.md: {undocumented:?}; documented but not in config.example.toml: {unknown:?}"
    );
}

#[test]
fn the_readme_is_a_newcomers_page() {
    let readme = read("README.md");
    assert!(
        readme.len() <= 25 * 1024,
        "README.md is {} bytes",
        readme.len()
    );
    for link in [
        "docs/configuration.md",
        "docs/operations.md",
        "docs/insight.md",
        "docs/check-dns.md",
        "docs/trust.md",
        "docs/store.md",
    ] {
        assert!(readme.contains(link), "README links {link}");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(link).exists(),
            "{link} exists"
        );
    }
    // The two commands a newcomer needs.
    assert!(readme.contains("cargo run --release -- serve"));
    assert!(readme.contains("cargo test"));
}
