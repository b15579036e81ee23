//! Laying text out for an 80-column terminal: tables whose flexible
//! columns are cut to fit, wrapped sentences, DMARC records on lines of
//! their own.

/// Width of the terminal the tables are made for.
pub const WIDTH: usize = 80;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A column: its title, alignment, and whether it may be cut to fit.
pub struct Column {
    title: &'static str,
    align: Align,
    /// Narrowest it may be cut to; `None`: never cut.
    cut_to: Option<usize>,
}

pub const fn left(title: &'static str) -> Column {
    Column {
        title,
        align: Align::Left,
        cut_to: None,
    }
}

pub const fn right(title: &'static str) -> Column {
    Column {
        title,
        align: Align::Right,
        cut_to: None,
    }
}

pub const fn flexible(title: &'static str, cut_to: usize) -> Column {
    Column {
        title,
        align: Align::Left,
        cut_to: Some(cut_to),
    }
}

/// Lays out rows under `columns` in at most `indent + WIDTH` columns,
/// cutting the flexible columns (with `…`) when the rows are too wide.
pub fn table(columns: &[Column], rows: &[Vec<String>], indent: usize) -> String {
    let gap = 2;
    let mut widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([c.title.len()])
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
    let titles: Vec<String> = columns.iter().map(|c| c.title.to_owned()).collect();
    for row in std::iter::once(&titles).chain(rows) {
        let mut line = " ".repeat(indent);
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str(&" ".repeat(gap));
            }
            let cell = fit(cell, widths[i]);
            let pad = " ".repeat(widths[i] - cell.chars().count());
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

/// `text` cut to `width` characters, the last one `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` wrapped at word boundaries to `WIDTH`, each line indented.
pub fn wrap(text: &str, indent: usize) -> String {
    wrap_hanging(text, indent, indent)
}

/// `text` wrapped at word boundaries to `WIDTH`: the first line indented
/// by `first`, the others by `rest`.
pub fn wrap_hanging(text: &str, first: usize, rest: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut indent = first;
    for word in text.split_whitespace() {
        if !line.is_empty() && indent + line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&" ".repeat(indent));
            out.push_str(&line);
            out.push('\n');
            line.clear();
            indent = rest;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&" ".repeat(indent));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// A DMARC record under a label, on lines of its own so that it can be
/// copied; a record too long for one line breaks between tags.
pub fn record(label: &str, record: &str) -> String {
    let mut out = format!("  {label}\n");
    let mut line = String::new();
    for tag in record.split("; ") {
        if !line.is_empty() && 4 + line.len() + 2 + tag.len() > WIDTH {
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
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(text.contains('…'));
    }

    #[test]
    fn wrap_keeps_words_and_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, 4);
        assert!(
            wrapped
                .lines()
                .all(|l| l.chars().count() <= WIDTH && l.starts_with("    word"))
        );
        assert_eq!(wrapped.split_whitespace().count(), 60);
    }
}
