//! How the shell commands print papers: one-line search results, a card for
//! `show`, and the JSON shape of `--json`.

use crate::corpus::{Corpus, PaperRef, Problem};
pub use crate::features::card::paper_json;
use serde_json::{json, Value};

pub fn problem_json(p: &Problem) -> Value {
    json!({"file": p.file, "line": p.line, "severity": p.severity, "message": p.message})
}

pub fn search_line(rank: usize, p: &PaperRef<'_>) -> String {
    let mut line = format!("{rank:>2}. {}  {}", p.key, p.title);
    if let Some(year) = p.year {
        line.push_str(&format!(" ({year})"));
    }
    if let Some(first) = p.authors.first() {
        let etal = if p.authors.len() > 1 { " et al." } else { "" };
        line.push_str(&format!(" — {}{etal}", first.family));
    }
    line
}

pub fn card_text(corpus: &Corpus, p: &PaperRef<'_>) -> String {
    let mut out = format!("{}\n\n", p.title);
    let mut row = |label: &str, value: &str| {
        if !value.is_empty() {
            out.push_str(&format!("{label:<9} {value}\n"));
        }
    };
    row("key", p.key);
    row("authors", &p.authors_display());
    row("year", &p.year.map(|y| y.to_string()).unwrap_or_default());
    row("venue", p.venue.unwrap_or(""));
    row(
        "doi",
        &p.ids
            .doi
            .as_ref()
            .map(|d| format!("https://doi.org/{d}"))
            .unwrap_or_default(),
    );
    row(
        "arxiv",
        &p.ids
            .arxiv
            .as_ref()
            .map(|a| format!("https://arxiv.org/abs/{a}"))
            .unwrap_or_default(),
    );
    row("url", p.ids.url.unwrap_or(""));
    row(
        "source",
        &format!("{}:{}", corpus.source_of(p).path.display(), p.origin.line),
    );
    if let Some(text) = p.abstract_text() {
        out.push('\n');
        out.push_str(&wrap(&text, 80));
    }
    out
}

/// Greedy word wrap for terminal output.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if column > 0 && column + 1 + len > width {
            out.push('\n');
            column = 0;
        } else if column > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
    }
    out.push('\n');
    out
}
