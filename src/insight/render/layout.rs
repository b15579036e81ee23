//! Laying text out for an 80-column terminal: tables whose flexible
//! columns are cut to fit, wrapped sentences, DMARC records on lines of
//! their own.
//!
//! Every width here is a display width ([`width`]): a CJK character takes
//! two columns of a terminal, so a Japanese title or name counts twice
//! its characters, and a line breaks between CJK characters as well as at
//! spaces (Japanese has none).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Width of the terminal the tables are made for.
pub const WIDTH: usize = 80;

/// The columns `text` takes on a terminal: two for each CJK character.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: its title (in the language of the run), alignment, and
/// whether it may be cut to fit.
pub struct Column {
    title: String,
    align: Align,
    /// Narrowest it may be cut to; `None`: never cut.
    cut_to: Option<usize>,
}

pub fn left(title: impl Into<String>) -> Column {
    Column {
        title: title.into(),
        align: Align::Left,
        cut_to: None,
    }
}

pub fn right(title: impl Into<String>) -> Column {
    Column {
        title: title.into(),
        align: Align::Right,
        cut_to: None,
    }
}

pub fn flexible(title: impl Into<String>, cut_to: usize) -> Column {
    Column {
        title: title.into(),
        align: Align::Left,
        cut_to: Some(cut_to),
    }
}

/// Lays out rows under `columns` in at most `indent + WIDTH` columns,
/// cutting the flexible columns (with `…`) when the rows are too wide.
/// Each column starts at the same display column on every line.
pub fn table(columns: &[Column], rows: &[Vec<String>], indent: usize) -> String {
    let gap = 2;
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| width(&r[i]))
                .chain([width(&c.title)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total = |widths: &[usize]| indent + widths.iter().sum::<usize>() + gap * (widths.len() - 1);
    while total(&widths) > WIDTH {
        let widest_cuttable = columns
            .iter()
            .enumerate()
            .filter(|(i, c)| c.cut_to.is_some_and(|min| widths[*i] > min))
            .max_by_key(|(i, _)| widths[*i]);
        match widest_cuttable {
            Some((i, _)) => widths[i] -= 1,
            None => break,
        }
    }
    let mut out = String::new();
    let titles: Vec<String> = columns.iter().map(|c| c.title.clone()).collect();
    for row in std::iter::once(&titles).chain(rows) {
        let mut line = " ".repeat(indent);
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str(&" ".repeat(gap));
            }
            let cell = fit(cell, widths[i]);
            let pad = " ".repeat(widths[i].saturating_sub(width(&cell)));
            match columns[i].align {
                Align::Left => {
                    line.push_str(&cell);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(&cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `text` cut to at most `columns` display columns, the last one `…` when
/// cut. A wide character that would not fit whole is left out, so a cut
/// cell may be one column narrower, never wider.
fn fit(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return text.to_owned();
    }
    let room = columns.saturating_sub(1);
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(1);
        if used + w > room {
            break;
        }
        used += w;
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// `text` wrapped to `WIDTH`, each line indented.
pub fn wrap(text: &str, indent: usize) -> String {
    wrap_hanging(text, indent, indent)
}

/// `text` wrapped to `WIDTH`: the first line indented by `first`, the
/// others by `rest`. Lines break at spaces and, in Japanese, between CJK
/// characters ([`pieces`]); never inside a run of Latin letters, digits and
/// signs, so a DNS name or a record tag stays whole.
pub fn wrap_hanging(text: &str, first: usize, rest: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut indent = first;
    for word in text.split_whitespace() {
        for (n, piece) in pieces(word).into_iter().enumerate() {
            // The first piece of a word follows a space; the others join on.
            let space = usize::from(n == 0 && !line.is_empty());
            if !line.is_empty() && indent + width(&line) + space + width(piece) > WIDTH {
                out.push_str(&" ".repeat(indent));
                out.push_str(&line);
                out.push('\n');
                line.clear();
                indent = rest;
            } else if space == 1 {
                line.push(' ');
            }
            line.push_str(piece);
        }
    }
    if !line.is_empty() {
        out.push_str(&" ".repeat(indent));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `word` (no spaces in it) cut where a line may break: before and after
/// each CJK character, but not before closing punctuation and small kana
/// (`、。）ー` may not start a line) nor after opening brackets (`（「`
/// may not end one). A word without CJK characters is one piece.
fn pieces(word: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous: Option<char> = None;
    for (at, c) in word.char_indices() {
        if let Some(before) = previous
            && (is_wide(before) || is_wide(c))
            && !no_break_before(c)
            && !no_break_after(before)
        {
            pieces.push(&word[start..at]);
            start = at;
        }
        previous = Some(c);
    }
    pieces.push(&word[start..]);
    pieces
}

/// A character of the scripts written without spaces: two columns wide.
fn is_wide(c: char) -> bool {
    c.width() == Some(2)
}

/// Characters a Japanese line may not start with (gyōtō kinsoku).
fn no_break_before(c: char) -> bool {
    "、。，．・：；？！）」』】〕〉》ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…%,.:;)]"
        .contains(c)
}

/// Characters a Japanese line may not end with (gyōmatsu kinsoku).
fn no_break_after(c: char) -> bool {
    "（「『【〔〈《([".contains(c)
}

/// A DMARC record under a label, on lines of its own so that it can be
/// copied; a record too long for one line breaks between tags.
pub fn record(label: &str, record: &str) -> String {
    let mut out = format!("  {label}\n");
    let mut line = String::new();
    for tag in record.split("; ") {
        if !line.is_empty() && 4 + width(&line) + 2 + width(tag) > WIDTH {
            out.push_str(&format!("    {line};\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push_str("; ");
        }
        line.push_str(tag);
    }
    out.push_str(&format!("    {line}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_cut_flexible_columns_to_fit() {
        let columns = [flexible("NAME", 6), right("N")];
        let rows = vec![vec!["x".repeat(200), "1".into()]];
        let text = table(&columns, &rows, 2);
        assert!(text.lines().all(|l| width(l) <= WIDTH), "{text}");
        assert!(text.contains('…'));
    }

    /// The display column at which each cell of `line` starts, given the
    /// cells' texts in order.
    fn starts(line: &str, cells: &[&str]) -> Vec<usize> {
        let mut from = 0;
        cells
            .iter()
            .map(|cell| {
                let at = from + line[from..].find(cell).expect("the cell is on its line");
                from = at + cell.len();
                width(&line[..at])
            })
            .collect()
    }

    #[test]
    fn wide_titles_and_cells_line_up_by_display_width() {
        let columns = [flexible("送信元", 8), left("名前"), right("通数")];
        let rows = vec![
            vec![
                "192.0.2.10".into(),
                "社内メールサーバー".into(),
                "1,234".into(),
            ],
            vec!["192.0.2.200".into(), "-".into(), "5".into()],
        ];
        let text = table(&columns, &rows, 2);
        let lines: Vec<&str> = text.lines().collect();
        let title = starts(lines[0], &["送信元", "名前", "通数"]);
        let first = starts(lines[1], &["192.0.2.10", "社内メールサーバー", "1,234"]);
        let second = starts(lines[2], &["192.0.2.200", "-", "5"]);
        assert_eq!(title[..2], first[..2], "{text}");
        assert_eq!(first[..2], second[..2], "{text}");
        // Right-aligned: each line ends at the same display column.
        let ends: Vec<usize> = lines.iter().map(|l| width(l)).collect();
        assert!(ends.iter().all(|&e| e == ends[0]), "{text}");
    }

    #[test]
    fn a_wide_cell_is_cut_between_characters_never_wider() {
        let columns = [flexible("名前", 4), right("N")];
        let name = "社内メールサーバー".repeat(8);
        let rows = vec![vec![name, "1".into()], vec!["x".into(), "22".into()]];
        let text = table(&columns, &rows, 0);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.iter().all(|l| width(l) <= WIDTH), "{text}");
        assert!(lines[1].contains('…'), "{text}");
        let ends: Vec<usize> = lines.iter().map(|l| width(l)).collect();
        assert!(ends.iter().all(|&e| e == ends[0]), "{text}");
        for columns in 0..12 {
            let cut = fit("社内メールサーバー", columns);
            assert!(width(&cut) <= columns.max(1), "{columns}: {cut}");
        }
    }

    #[test]
    fn wrap_keeps_words_and_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, 4);
        assert!(
            wrapped
                .lines()
                .all(|l| width(l) <= WIDTH && l.starts_with("    word"))
        );
        assert_eq!(wrapped.split_whitespace().count(), 60);
    }

    #[test]
    fn japanese_wraps_between_characters_but_not_inside_names() {
        let sentence = "SPFはus-east-1.amazonses.comで成功していますが、これはAmazon SESの\
            エンベロープ（MAIL FROM）ドメインでexample.comではないため、整合していません。";
        let text = sentence.repeat(3);
        let wrapped = wrap_hanging(&text, 2, 4);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 3, "{wrapped}");
        for line in &lines {
            assert!(width(line) <= WIDTH, "{} columns: {line}", width(line));
            let start = line.trim_start().chars().next().unwrap();
            assert!(!"、。）".contains(start), "{wrapped}");
            assert!(!line.ends_with('（'), "{wrapped}");
        }
        // Nothing lost or added but the breaks: the words stay whole.
        let joined: String = lines.iter().map(|l| l.trim_start()).collect();
        assert_eq!(joined.replace(' ', ""), text.replace(' ', ""), "{wrapped}");
        assert_eq!(
            wrapped.matches("us-east-1.amazonses.com").count(),
            3,
            "{wrapped}"
        );
        assert_eq!(wrapped.matches("example.com").count(), 3, "{wrapped}");
    }

    #[test]
    fn records_break_between_tags() {
        let long = format!(
            "v=DMARC1; p=reject; rua=mailto:{}@example.com",
            "a".repeat(70)
        );
        let text = record("現在公開中のレコード：", &long);
        assert!(
            text.starts_with("  現在公開中のレコード：\n    v=DMARC1; p=reject;\n"),
            "{text}"
        );
    }
}
