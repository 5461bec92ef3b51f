//! `paper-ls bib NOTES…`: the bibliography a set of notes needs, written
//! from the library — exactly the entries they cite, sorted by key, each a
//! standalone entry as the editor's "Add to refs.bib" writes it. With an
//! existing file to update, only what it lacks is appended and its entries
//! are left as they are.
//!
//! The library is the workspace's corpus (`--corpus`, else `paper-ls.toml`,
//! else the bundled corpus), not the notes' own bibliographies: those are
//! what is being written. Keys the library lacks (and the file being updated
//! lacks) are reported as `check` reports them, by place in the notes.

use super::check::CheckProblem;
use crate::corpus::bibtex::{load_bibtex, BibSource};
use crate::corpus::entry_copy::{appended, corpus_macros, EntryCopier};
use crate::corpus::{Cache, LineStarts, Severity};
use crate::notes::{bibliographies_named, Language};
use crate::workspace::corpora::read_selection;
use crate::workspace::note_files::{notes_named, NoteFile};
use crate::workspace::selection::{workspace_root, CorpusPolicy};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// What `paper-ls bib` found and wrote.
#[derive(Debug, Default)]
pub struct BibExport {
    /// The text to write: the whole file, or (when updating) what to append.
    pub text: String,
    /// Keys whose entries are in `text`, sorted.
    pub written: Vec<String>,
    /// Cited keys the file being updated has already.
    pub kept: Vec<String>,
    /// Citations of keys no source has, by place.
    pub unknown: Vec<CheckProblem>,
    /// Keys that are in the library but cannot be written, with the reason.
    pub refused: Vec<String>,
    pub notes_read: usize,
    /// Unreadable notes and corpus files, bad paths.
    pub warnings: Vec<String>,
}

/// The entries the notes under `paths` cite. `existing`: the text of the
/// file being updated, whose keys are not written again.
pub fn export_bibliography(
    paths: &[PathBuf],
    configured: &[String],
    existing: Option<&str>,
    cache: &Cache,
) -> BibExport {
    let root = workspace_root(paths.first().map(PathBuf::as_path));
    let mut out = BibExport::default();
    let policy = CorpusPolicy::for_root(&root, configured, &mut out.warnings);
    let (library, _) = read_selection(&policy.workspace_selection(), cache);
    for problem in library
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
    {
        out.warnings
            .push(format!("{}: {}", problem.file.display(), problem.message));
    }
    let present: HashSet<String> = existing
        .map(|text| {
            let source = BibSource {
                file: 0,
                path: Path::new("existing.bib"),
                text,
            };
            let (papers, _) = load_bibtex(&[source]);
            papers.into_iter().map(|p| p.key.to_lowercase()).collect()
        })
        .unwrap_or_default();
    // Cited keys, by folded key (BibTeX ignores case), with the paper.
    let mut cited: BTreeMap<String, usize> = BTreeMap::new();
    let mut kept = HashSet::new();
    for path in notes_named(paths, &root, &mut out.warnings) {
        let Some(note) = NoteFile::read(&path) else {
            out.warnings.push(format!(
                "{}: cannot read it, or it is larger than 5 MB; skipped",
                path.display()
            ));
            continue;
        };
        out.notes_read += 1;
        let inline = note.language == Language::Markdown
            && bibliographies_named(&note.text, note.language).inline_references;
        if inline {
            continue;
        }
        let lines = LineStarts::new(&note.text);
        for citation in &note.citations {
            let folded = citation.key.to_lowercase();
            if present.contains(&folded) {
                kept.insert(citation.key.to_string());
                continue;
            }
            match library.index_of(&citation.key) {
                Some(paper) => {
                    cited.entry(folded).or_insert(paper);
                }
                None => out.unknown.push(CheckProblem::at(
                    &note,
                    &lines,
                    citation.range.start,
                    &citation.key,
                    format!(
                        "unknown citation key `{}`: no paper in the library has it",
                        citation.key
                    ),
                )),
            }
        }
    }
    let read = |path: &Path| std::fs::read(path);
    let macros = corpus_macros(&library, &read);
    let mut copier = EntryCopier::new(&library, &read, &macros);
    let mut entries = Vec::new();
    for &paper in cited.values() {
        match copier.entry(paper) {
            Ok(entry) => {
                entries.push(entry);
                out.written.push(library.paper(paper).key.to_string());
            }
            Err(reason) => out.refused.push(reason),
        }
    }
    out.text = match existing {
        Some(text) if !entries.is_empty() => appended(text, &entries),
        Some(_) => String::new(),
        None => entries.join("\n"),
    };
    out.kept = kept.into_iter().collect();
    out.kept.sort();
    out.unknown
        .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::bibtex::read_cleanly;
    use crate::workspace::note_files::test_workspace;

    const LIBRARY: &str = "@string{jx = {Journal X}}\n\
        @article{Zed2020, title = {Zed Paper}, journal = jx, year = 2020}\n\
        @article{alpha2019, title = {Alpha Paper}, year = 2019}\n\
        @article{unused2018, title = {Never Cited}, year = 2018}\n";

    fn cache(dir: &Path) -> Cache {
        Cache::at(dir.join(".cache"))
    }

    #[test]
    fn exactly_the_cited_entries_sorted_by_key() {
        let dir = test_workspace(&[
            ("paper-ls.toml", "corpus = [\"library.bib\"]\n"),
            ("library.bib", LIBRARY),
            ("notes/a.md", "See [@Zed2020; @alpha2019] and [@zed2020].\n"),
            ("notes/deep/b.tex", "\\cite{alpha2019, nobody1999}\n"),
        ]);
        let out = export_bibliography(&[dir.path().join("notes")], &[], None, &cache(dir.path()));
        assert_eq!(out.written, ["alpha2019", "Zed2020"]);
        assert_eq!(out.notes_read, 2);
        let papers = read_cleanly(&out.text);
        let titles: Vec<&str> = papers.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["Alpha Paper", "Zed Paper"]);
        assert_eq!(papers[1].venue.as_deref(), Some("Journal X"));
        let unknown: Vec<String> = out.unknown.iter().map(|p| p.to_string()).collect();
        let b = dir.path().join("notes/deep/b.tex");
        assert_eq!(
            unknown,
            [format!(
                "{}:1:18: unknown citation key `nobody1999`: no paper in the library has it",
                b.display()
            )]
        );
    }

    #[test]
    fn updating_appends_only_what_the_file_lacks() {
        let dir = test_workspace(&[
            ("paper-ls.toml", "corpus = [\"library.bib\"]\n"),
            ("library.bib", LIBRARY),
            ("a.md", "[@Zed2020; @alpha2019; @handmade2021]\n"),
        ]);
        let existing =
            "@misc{ALPHA2019, title = {My Own Copy}}\n@misc{handmade2021, title = {H}}\n";
        let out = export_bibliography(
            &[dir.path().join("a.md")],
            &[],
            Some(existing),
            &cache(dir.path()),
        );
        assert_eq!(out.written, ["Zed2020"]);
        assert_eq!(out.kept, ["alpha2019", "handmade2021"]);
        assert!(out.unknown.is_empty());
        assert!(out.text.starts_with("\n@article{Zed2020,"), "{}", out.text);
    }
}
