//! Go to paper: where a paper's entry is. A `.bib` a person reads and edits is
//! opened at the entry's key; a source nobody would read (a gzipped dump, a
//! JSON Lines or CSL-JSON export) gets a generated Markdown paper card,
//! written on demand into the cache directory.

use super::card::{byline, links};
use crate::corpus::{bundled::write_atomically, Corpus, KeyColumns, PaperRef};
use std::path::{Path, PathBuf};

/// A place in a file: the editor opens `path` and selects the key (its
/// columns in both encodings), or goes to the start of `line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaperLocation {
    pub path: PathBuf,
    /// 1-based line of the target.
    pub line: u32,
    pub key: Option<KeyColumns>,
}

/// The location go-to-definition should open for `paper`.
pub fn paper_location(
    corpus: &Corpus,
    paper: &PaperRef<'_>,
    cache_dir: &Path,
) -> std::io::Result<PaperLocation> {
    let source = corpus.source_of(paper);
    if source.is_readable_in_editor() && source.path.is_file() {
        let key = paper.origin.key_columns.clone();
        let line = key.as_ref().map_or(paper.origin.line, |k| k.line);
        return Ok(PaperLocation {
            path: source.path.clone(),
            line,
            key,
        });
    }
    let path = write_paper_card(corpus, paper, cache_dir)?;
    Ok(PaperLocation {
        path,
        line: 1,
        key: None,
    })
}

/// Writes (or refreshes) the paper's card file and returns its path.
pub fn write_paper_card(
    corpus: &Corpus,
    paper: &PaperRef<'_>,
    cache_dir: &Path,
) -> std::io::Result<PathBuf> {
    let dir = cache_dir.join("cards");
    std::fs::create_dir_all(&dir)?;
    let text = card_file_text(corpus, paper);
    let safe_key: String = paper
        .key
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{safe_key}.md"));
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
        write_atomically(&path, text.as_bytes())?;
    }
    Ok(path)
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
