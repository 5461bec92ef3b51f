//! Citations that point nowhere: every cited key the corpus does not have,
//! with the closest keys named so the user can see the typo at once; and,
//! when a document names its own bibliography beside a wider library, every
//! cited paper of the library that the bibliography lacks — the citation
//! LaTeX or pandoc will not find when the document is built.
//!
//! "Closest" is edit distance between keys over candidates that share a word
//! with the unknown key (found through the index), plus every key when the
//! corpus is small enough to compare against all of them.

use super::PaperContext;
use crate::corpus::folded_key_hash;
use crate::index::SearchRequest;
use crate::notes::{Citation, Language};
use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The unknown keys of the snapshot's document.
pub fn unknown_keys_in(snap: &crate::workspace::Snapshot) -> Vec<UnknownKey> {
    match snap.document.as_ref() {
        Some(doc) => unknown_keys(snap.corpus.context(), doc.citations()),
        None => Vec::new(),
    }
}

/// A cited paper the document's build will not find: in the library the
/// document sees, but not in the bibliography it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotInBibliography {
    pub key: String,
    pub range: Range<usize>,
    /// The library file the paper is in.
    pub found_in: PathBuf,
    /// The bibliography files the document names.
    pub bibliography: Vec<PathBuf>,
    /// Who will not find it: LaTeX (BibTeX or biber), or pandoc.
    pub language: Language,
}

impl NotInBibliography {
    pub fn message(&self) -> String {
        let name = |p: &Path| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        let bibliography: Vec<String> = self.bibliography.iter().map(|p| name(p)).collect();
        let builder = match self.language {
            Language::Latex => "LaTeX",
            Language::Markdown => "pandoc",
            Language::Typst => "Typst",
        };
        format!(
            "`{}` is in the library ({}) but not in {}: {builder} will not find it",
            self.key,
            name(&self.found_in),
            bibliography.join(" or ")
        )
    }
}

/// The citations of the snapshot's document whose paper is in the library
/// but not in the document's own bibliography (none when it names none).
pub fn not_in_bibliography(snap: &crate::workspace::Snapshot) -> Vec<NotInBibliography> {
    let (Some(doc), Some(bibliography)) = (snap.document.as_ref(), snap.bibliography.as_ref())
    else {
        return Vec::new();
    };
    let library = snap.corpus.corpus();
    let own = bibliography.corpus.corpus();
    doc.citations()
        .iter()
        .filter(|c| own.index_of(&c.key).is_none())
        .filter_map(|c| {
            let paper = library.paper(library.index_of(&c.key)?);
            Some(NotInBibliography {
                key: c.key.to_string(),
                range: c.range.clone(),
                found_in: library.source_of(&paper).path.clone(),
                bibliography: bibliography.files.clone(),
                language: doc.language,
            })
        })
        .collect()
}

/// Below this many papers every key is compared; above it only search candidates.
const SCAN_ALL_KEYS_BELOW: usize = 20_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKey {
    pub key: String,
    pub range: Range<usize>,
    pub closest: Vec<String>,
}

impl UnknownKey {
    pub fn message(&self) -> String {
        if self.closest.is_empty() {
            format!(
                "unknown citation key `{}`: no paper in the corpus has it",
                self.key
            )
        } else {
            let names: Vec<String> = self.closest.iter().map(|k| format!("`{k}`")).collect();
            format!(
                "unknown citation key `{}`; closest: {}",
                self.key,
                names.join(", ")
            )
        }
    }
}

pub fn unknown_keys(ctx: PaperContext<'_>, citations: &[Citation]) -> Vec<UnknownKey> {
    citations
        .iter()
        .filter(|c| ctx.corpus.index_of(&c.key).is_none())
        .map(|c| UnknownKey {
            key: c.key.to_string(),
            range: c.range.clone(),
            closest: closest_keys(ctx, &c.key, 3),
        })
        .collect()
}

/// Up to `n` existing keys nearest to `key`, best first.
pub fn closest_keys(ctx: PaperContext<'_>, key: &str, n: usize) -> Vec<String> {
    let papers = &ctx.corpus.papers;
    // Search hits share a word with the key; the scan only compares spelling.
    let mut candidates: Vec<(usize, bool)> = Vec::new();
    if let Some(search) = ctx.search {
        let words = crate::index::schema::split_key_words(key);
        let request = SearchRequest {
            text: &words,
            limit: 50,
            as_you_type: true,
        };
        candidates.extend(search.search(&request).into_iter().map(|h| (h.paper, true)));
    }
    if papers.len() < SCAN_ALL_KEYS_BELOW {
        candidates.extend((0..papers.len()).map(|i| (i, false)));
    }
    let folded = key.to_lowercase();
    let limit = (key.chars().count() / 2).max(2);
    let mut seen = HashSet::new();
    let mut scored: Vec<(usize, usize, usize)> = candidates
        .into_iter()
        .enumerate()
        .filter(|(_, (i, _))| seen.insert(*i))
        .map(|(order, (i, from_search))| {
            (
                edit_distance(&folded, &papers.paper(i).key.to_lowercase()),
                order,
                i,
                from_search,
            )
        })
        .filter(|(d, order, _, from_search)| *d <= limit || (*from_search && *order < 3))
        .map(|(d, order, i, _)| (d, order, i))
        .collect();
    scored.sort_unstable();
    scored
        .into_iter()
        .take(n)
        .map(|(_, _, i)| papers.paper(i).key.to_string())
        .collect()
}

/// Levenshtein distance over characters, with one row of memory.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("power2022grokking", "power2022grokking"), 0);
        assert_eq!(edit_distance("é", "e"), 1);
    }
}

/// An entry of the document's bibliography that no note of the workspace
/// cites (texlab's "unused entry"): a hint, so the user can prune it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UncitedEntry {
    pub key: String,
    pub file: PathBuf,
    /// Where its key is: 1-based line, and columns in both encodings.
    pub at: crate::corpus::paper::KeyColumns,
}

impl UncitedEntry {
    pub fn message(&self) -> String {
        format!("`{}` is not cited by any note of the workspace", self.key)
    }
}

/// The entries of the snapshot document's bibliography files that no note
/// cites, by file (every bibliography file listed, with none for a file
/// whose entries are all cited). Only meaningful once the workspace's notes
/// have been scanned.
pub fn uncited_entries(snap: &crate::workspace::Snapshot) -> Vec<(PathBuf, Vec<UncitedEntry>)> {
    let Some(bibliography) = snap.bibliography.as_ref() else {
        return Vec::new();
    };
    // Keys compared as the corpus resolves them (but for case), by their
    // 64-bit hashes, which notes read from disk keep: a vault's tens of
    // thousands of citations are not folded again on every pass. Two keys
    // that differ yet hash alike would hide a hint, never show a wrong one.
    let mut cited: HashSet<u64> = HashSet::new();
    for note in crate::workspace::note_files::notes_seen(&snap.notes, &snap.open_notes) {
        match note.file {
            Some(file) => cited.extend(file.citation_key_hashes()),
            None => cited.extend(note.citations.iter().map(|c| folded_key_hash(&c.key))),
        }
    }
    let corpus = bibliography.corpus.corpus();
    let mut by_file: Vec<(PathBuf, Vec<UncitedEntry>)> = bibliography
        .files
        .iter()
        .map(|f| (f.clone(), Vec::new()))
        .collect();
    for paper in corpus.papers.iter() {
        if cited.contains(&folded_key_hash(paper.key)) {
            continue;
        }
        let (Some(at), path) = (
            paper.origin.key_columns.clone(),
            &corpus.source_of(&paper).path,
        ) else {
            continue;
        };
        if let Some((_, entries)) = by_file.iter_mut().find(|(f, _)| f == path) {
            entries.push(UncitedEntry {
                key: paper.key.to_string(),
                file: path.clone(),
                at,
            });
        }
    }
    by_file
}
