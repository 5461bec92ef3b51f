//! Find references: every place in the workspace's notes that names a paper —
//! each citation whose key resolves to it, and each mention of its title (or
//! short name) in prose — whether the note is open in the editor or not.
//!
//! Keys resolve the way [`Corpus::index_of`] does (exact, then
//! case-insensitive), so `[@Power2022]` is a reference to `power2022`. All
//! notes are read against the one corpus passed in, the one the request's
//! document sees. Byte ranges out, each with the text it indexes, so the
//! protocol layer can convert them to positions without reading files.

use crate::corpus::{folded_key_hash, keys_equal_folded, Corpus};
use crate::index::title_matcher::TitleMatcher;
use crate::notes::Citation;
use crate::text::LineIndex;
use crate::workspace::note_files::{notes_seen, NoteView, OpenNote, WorkspaceNotes};
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// The stretches of one note that name the papers: kept together, as a
/// vault's answer runs to thousands of notes and tens of thousands of
/// stretches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteLocations {
    pub path: PathBuf,
    /// Bytes of `text`, in order: each a citation's key, or a title mention.
    pub ranges: Vec<Range<usize>>,
    /// The note's text as read (the open document's when it is open).
    pub text: Arc<str>,
    /// Its line index, when the note keeps one (notes read from disk).
    pub lines: Option<Arc<LineIndex>>,
}

/// Every citation of one of `papers` (positions in `corpus.papers`) and,
/// when `titles` is given, every mention of one of their titles, in every
/// note (open documents win over their disk copies); by note, sorted by
/// path, each note's stretches by offset. Notes without any are left out.
pub fn references(
    corpus: &Corpus,
    papers: &[usize],
    notes: &WorkspaceNotes,
    open: &[OpenNote],
    titles: Option<&TitleMatcher>,
) -> Vec<NoteLocations> {
    if papers.is_empty() {
        return Vec::new();
    }
    let mut citing = CitationsOf::new(corpus, papers);
    // Backwards: while the workspace still reads the vault's titles forwards
    // in the background (after start or a corpus change), a request meets
    // it halfway instead of following it over notes it is about to read.
    let seen: Vec<_> = notes_seen(notes, open).collect();
    let mut by_note: Vec<NoteLocations> = Vec::new();
    for note in seen.into_iter().rev() {
        let mut ranges: Vec<Range<usize>> = citing
            .in_note(&note)
            .into_iter()
            .map(|c| c.range.clone())
            .collect();
        if let Some(matcher) = titles {
            ranges.extend(
                note.title_mentions(matcher)
                    .iter()
                    .filter(|m| m.papers.iter().any(|p| papers.contains(p)))
                    .map(|m| m.range.clone()),
            );
        }
        if ranges.is_empty() {
            continue;
        }
        ranges.sort_by_key(|r| (r.start, r.end));
        ranges.dedup();
        by_note.push(NoteLocations {
            path: note.path.to_path_buf(),
            ranges,
            text: note.text.clone(),
            lines: note.file.map(|f| f.line_index()),
        });
    }
    // Sorted by note, not by location: the notes on disk come in path order
    // (backwards here) and the few open ones after them, so the stable sort
    // has almost nothing to do, where sorting every location compared paths
    // component by component some 200,000 times at 10,000 notes.
    by_note.reverse();
    by_note.sort_by(|a, b| a.path.cmp(&b.path));
    by_note
}

/// Which citations of a note name one of a set of papers, the way
/// [`Corpus::index_of`] resolves keys: for find references and rename,
/// which both pass over every citation of a vault.
pub(crate) struct CitationsOf<'a> {
    corpus: &'a Corpus,
    papers: &'a [usize],
    keys: Vec<&'a str>,
    /// The keys' [`folded_key_hash`]es: most notes of a vault cite none of
    /// the keys, which the hashes they keep say without reading their
    /// citations.
    key_hashes: Vec<u64>,
    /// Each spelling of a key met so far, and whether it resolves to one of
    /// the papers: a vault cites a paper under one or two spellings,
    /// thousands of times, and resolving is a search of the corpus's keys.
    resolved: HashMap<String, bool>,
}

impl<'a> CitationsOf<'a> {
    pub(crate) fn new(corpus: &'a Corpus, papers: &'a [usize]) -> Self {
        let keys: Vec<&str> = papers.iter().map(|&p| corpus.paper(p).key).collect();
        let key_hashes = keys.iter().map(|k| folded_key_hash(k)).collect();
        CitationsOf {
            corpus,
            papers,
            keys,
            key_hashes,
            resolved: HashMap::new(),
        }
    }

    /// The citations of `note` that resolve to one of the papers, in order.
    pub(crate) fn in_note<'n>(&mut self, note: &'n NoteView) -> Vec<&'n Citation> {
        let hashes = match note.file {
            Some(file) if !file.may_cite_any(&self.key_hashes) => return Vec::new(),
            Some(file) => Some(file.citation_key_hashes()),
            None => None,
        };
        let mut found = Vec::new();
        for (i, citation) in note.citations.iter().enumerate() {
            // A citation whose key hash is none of theirs cannot be one.
            let may_be = hashes
                .and_then(|h| h.get(i))
                .is_none_or(|h| self.key_hashes.contains(h));
            if may_be && self.resolves(&citation.key) {
                found.push(citation);
            }
        }
        found
    }

    fn resolves(&mut self, key: &str) -> bool {
        // Only a key equal to one of theirs but for case can resolve to
        // one of the papers: checked before any search.
        if !self.keys.iter().any(|k| keys_equal_folded(k, key)) {
            return false;
        }
        if let Some(&known) = self.resolved.get(key) {
            return known;
        }
        let resolves = self
            .corpus
            .index_of(key)
            .is_some_and(|i| self.papers.contains(&i));
        self.resolved.insert(key.to_string(), resolves);
        resolves
    }
}

/// References of the paper(s) at `offset` of the snapshot's document, in
/// every note; `None` when the cursor is on no paper.
pub fn references_at(
    snap: &crate::workspace::Snapshot,
    offset: usize,
) -> Option<Vec<NoteLocations>> {
    let target = super::hover::paper_at(snap, offset)?;
    Some(references(
        snap.corpus.corpus(),
        &target.papers,
        &snap.notes,
        &snap.open_notes,
        snap.corpus.titles().map(|t| &**t),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::notes::Language;
    use crate::workspace::note_files::test_workspace;
    use std::path::Path;

    const BIB: &str = "@article{power2022grokking,\n  title = {Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets},\n  author = {Power, Alethea},\n  year = {2022}\n}\n\n@article{other2021,\n  title = {Something Else Entirely About Sparse Transformers},\n  year = {2021}\n}\n";

    fn workspace(files: &[(&str, &str)]) -> (tempfile::TempDir, Corpus) {
        let dir = test_workspace(&[files, &[("refs.bib", BIB)]].concat());
        let corpus = Corpus::load(&[dir.path().join("refs.bib")]);
        assert_eq!(corpus.papers.len(), 2, "{:?}", corpus.problems);
        (dir, corpus)
    }

    /// (file name, text of the range) for each location.
    fn found(locations: &[NoteLocations]) -> Vec<(String, String)> {
        locations
            .iter()
            .flat_map(|l| {
                let name = l.path.file_name().unwrap().to_string_lossy().into_owned();
                l.ranges
                    .iter()
                    .map(move |r| (name.clone(), l.text[r.clone()].to_string()))
            })
            .collect()
    }

    fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
        want.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn citations_in_unopened_notes_of_every_kind() {
        let (dir, corpus) = workspace(&[
            ("a.md", "See [@power2022grokking, p. 3] and [@other2021]."),
            ("b.qmd", "As @Power2022Grokking shows."),
            ("c.Rmd", "Nothing here [@unknown]."),
            ("d.tex", "\\citep[see][]{other2021, power2022grokking}"),
            (".hidden/e.md", "[@power2022grokking]"),
        ]);
        let notes = WorkspaceNotes::scan(dir.path());
        let paper = corpus.index_of("power2022grokking").unwrap();
        let got = references(&corpus, &[paper], &notes, &[], None);
        assert_eq!(
            found(&got),
            pairs(&[
                ("a.md", "power2022grokking"),
                ("b.qmd", "Power2022Grokking"),
                ("d.tex", "power2022grokking"),
            ])
        );
        assert!(references(&corpus, &[], &notes, &[], None).is_empty());
    }

    #[test]
    fn open_documents_replace_their_disk_copies() {
        let (dir, corpus) = workspace(&[
            ("a.md", "[@power2022grokking]"),
            ("b.md", "[@power2022grokking]"),
        ]);
        let notes = WorkspaceNotes::scan(dir.path());
        let open_text = "Edited, not saved:\n\n[@other2021; @power2022grokking] twice \
                         @power2022grokking.";
        let open: Vec<OpenNote> = vec![(
            dir.path().join("a.md"),
            Arc::from(open_text),
            Language::Markdown,
        )];
        let paper = corpus.index_of("power2022grokking").unwrap();
        let got = references(&corpus, &[paper], &notes, &open, None);
        let offsets: Vec<(&Path, usize)> = got
            .iter()
            .flat_map(|l| l.ranges.iter().map(|r| (l.path.as_path(), r.start)))
            .collect();
        let first = open_text.find("@power").unwrap() + 1;
        let second = open_text.rfind("@power").unwrap() + 1;
        assert_eq!(
            offsets,
            [
                (dir.path().join("a.md").as_path(), first),
                (dir.path().join("a.md").as_path(), second),
                (dir.path().join("b.md").as_path(), 2),
            ]
        );
        assert_eq!(&*got[0].text, open_text);
    }

    #[test]
    fn title_mentions_count_when_a_matcher_is_given() {
        let (dir, corpus) = workspace(&[(
            "a.md",
            "I read Grokking: Generalization Beyond Overfitting on Small Algorithmic \
             Datasets [@power2022grokking] yesterday.",
        )]);
        let notes = WorkspaceNotes::scan(dir.path());
        let matcher = TitleMatcher::for_corpus(&corpus);
        let paper = corpus.index_of("power2022grokking").unwrap();
        let got = references(&corpus, &[paper], &notes, &[], Some(&matcher));
        assert_eq!(
            found(&got),
            pairs(&[
                (
                    "a.md",
                    "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets"
                ),
                ("a.md", "power2022grokking"),
            ])
        );
        let other = corpus.index_of("other2021").unwrap();
        assert!(references(&corpus, &[other], &notes, &[], Some(&matcher)).is_empty());
    }
}
