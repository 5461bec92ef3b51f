//! Go to paper: where a paper's entry is. A `.bib` a person reads and edits is
//! opened at the entry's key; a source nobody would read (a gzipped dump, a
//! JSON Lines or CSL-JSON export) gets a generated Markdown paper card,
//! written on demand into the cache directory.

use super::card::{byline, links};
use crate::corpus::{Corpus, KeyColumns, PaperRef};
use crate::workspace::files::FileSystem;
use crate::workspace::Snapshot;
use std::path::PathBuf;

/// A place in a file: the editor opens `path` and selects the key (its
/// columns in both encodings), or goes to the start of `line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperLocation {
    pub path: PathBuf,
    /// 1-based line of the target.
    pub line: u32,
    pub key: Option<KeyColumns>,
}

/// Go to paper: where the paper(s) at `offset` are.
pub fn definition(snap: &Snapshot, offset: usize) -> Vec<PaperLocation> {
    match super::hover::paper_at(snap, offset) {
        Some(target) => paper_locations(snap, &target.papers),
        None => Vec::new(),
    }
}

/// Go to implementation: where the papers related to the one at `offset`
/// are (found now if they were not found before); `None` on no paper.
pub fn implementation(snap: &Snapshot, offset: usize) -> Option<Vec<PaperLocation>> {
    let target = super::hover::paper_at(snap, offset)?;
    let related: Vec<usize> = snap
        .corpus
        .related(target.papers[0])
        .iter()
        .copied()
        .filter(|i| !target.papers.contains(i))
        .collect();
    Some(paper_locations(snap, &related))
}

/// Where each of `papers` is, in order (a paper whose card cannot be
/// written is left out).
pub fn paper_locations(snap: &Snapshot, papers: &[usize]) -> Vec<PaperLocation> {
    let corpus = snap.corpus.corpus();
    papers
        .iter()
        .filter_map(|&p| paper_location(corpus, &corpus.paper(p), &*snap.files).ok())
        .collect()
}

/// The location go to paper opens for `paper`.
pub fn paper_location(
    corpus: &Corpus,
    paper: &PaperRef<'_>,
    files: &dyn FileSystem,
) -> std::io::Result<PaperLocation> {
    let source = corpus.source_of(paper);
    if source.is_readable_in_editor() && files.is_file(&source.path) {
        let key = paper.origin.key_columns.clone();
        let line = key.as_ref().map_or(paper.origin.line, |k| k.line);
        return Ok(PaperLocation {
            path: source.path.clone(),
            line,
            key,
        });
    }
    let path = files.write_generated(
        "cards",
        &card_file_name(paper.key),
        &card_file_text(corpus, paper),
    )?;
    Ok(PaperLocation {
        path,
        line: 1,
        key: None,
    })
}

/// The card's file name: the key, with anything but letters, digits, `-`
/// and `_` replaced.
fn card_file_name(key: &str) -> String {
    let safe_key: String = key
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe_key}.md")
}

/// The card file: a Markdown note with the paper's metadata, abstract and source.
pub fn card_file_text(corpus: &Corpus, paper: &PaperRef<'_>) -> String {
    let mut out = format!("# {}\n\n", paper.title);
    let by = byline(paper);
    if !by.is_empty() {
        out.push_str(&format!("{by}\n\n"));
    }
    out.push_str(&format!(
        "- Key: `{}` (cite as `[@{}]` or `\\cite{{{}}}`)\n",
        paper.key, paper.key, paper.key
    ));
    for link in links(paper) {
        out.push_str(&format!("- {link}\n"));
    }
    let source = corpus.source_of(paper);
    out.push_str(&format!(
        "- Source: {}:{}\n",
        source.path.display(),
        paper.origin.line
    ));
    if let Some(text) = paper.abstract_text() {
        out.push_str(&format!("\n## Abstract\n\n{text}\n"));
    }
    out
}
