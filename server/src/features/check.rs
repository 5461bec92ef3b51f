//! `paper-ls check PATH…`: every citation in the notes under the given files
//! and folders that names no paper, as `file:line:col: message` lines for a
//! thesis repository's CI. Folders are walked by the workspace rules
//! (`workspace::note_files`: hidden and ignored files skipped, notes over 5 MB
//! left out); a file named on the command line is checked whatever it is
//! called or wherever it sits, as long as it is a note.
//!
//! Each note is checked against the corpus it would see in the editor
//! (`workspace::selection::CorpusPolicy`: the configured corpus plus the
//! bibliographies the note names), each distinct corpus loaded once; the
//! bundled corpus when a note sees none. A Markdown note whose front matter
//! holds its own `references:` list is counted as checked but never
//! reported: the keys defined there are not in any corpus. A note that names
//! its own bibliography beside a configured library also gets a line for
//! each cited library paper its bibliography lacks, since its build will not
//! find it (what `paper-ls bib --update` or the editor's quick fix repairs).

use super::diagnostics::{unknown_keys, NotInBibliography};
use super::PaperContext;
use crate::corpus::{Cache, Corpus, LineStarts, Severity};
use crate::index::{PaperIndex, PaperSearch};
use crate::notes::{bibliographies_named, Citation, Language};
use crate::workspace::corpora::read_selection;
use crate::workspace::note_files::{notes_named, NoteFile};
use crate::workspace::selection::{workspace_root, CorpusPolicy};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// One citation that names no paper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckProblem {
    /// The note, in the form its path was given or walked in.
    pub path: PathBuf,
    /// 1-based line of the key.
    pub line: u32,
    /// 1-based column of the key's first character, counted in characters.
    pub column: u32,
    pub key: String,
    /// "unknown citation key `x`; closest: …".
    pub message: String,
}

impl CheckProblem {
    /// The problem of `key` at byte `offset` of `note`.
    pub fn at(
        note: &NoteFile,
        lines: &LineStarts,
        offset: usize,
        key: &str,
        message: String,
    ) -> CheckProblem {
        let line = lines.line(offset);
        let before = note.text.get(lines.start_of(line)..offset);
        CheckProblem {
            path: note.path.clone(),
            line,
            column: before.map_or(0, |b| b.chars().count()) as u32 + 1,
            key: key.to_string(),
            message,
        }
    }
}

impl fmt::Display for CheckProblem {
    /// `path:line:column: message`, as compilers and editors read it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        write!(f, "{path}:{}:{}: {}", self.line, self.column, self.message)
    }
}

/// What a check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Sorted by path, line and column.
    pub problems: Vec<CheckProblem>,
    pub notes_checked: usize,
    /// Citations (one per key) in the notes checked.
    pub citations_checked: usize,
    /// What stood in the way, for standard error: a path that does not
    /// exist or is no note, an unreadable note, a malformed
    /// `paper-ls.toml`, a corpus file that could not be read.
    pub warnings: Vec<String>,
}

/// Checks every note under `paths` against the corpus it sees. `configured`
/// corpus entries resolve against the workspace root (pass absolute paths
/// for entries given relative to the working directory); when empty, the
/// root's `paper-ls.toml` supplies them. `root` defaults to
/// [`workspace_root`] of the first path.
pub fn check_paths(
    paths: &[PathBuf],
    configured: &[String],
    root: Option<&Path>,
    cache: &Cache,
) -> CheckReport {
    let root = root.map_or_else(
        || workspace_root(paths.first().map(PathBuf::as_path)),
        Path::to_path_buf,
    );
    let mut report = CheckReport::default();
    let policy = CorpusPolicy::for_root(&root, configured, &mut report.warnings);
    let mut corpora: HashMap<Vec<PathBuf>, CheckCorpus> = HashMap::new();
    for path in notes_named(paths, &root, &mut report.warnings) {
        let Some(note) = NoteFile::read(&path) else {
            report.warnings.push(format!(
                "{}: cannot read it, or it is larger than 5 MB; skipped",
                path.display()
            ));
            continue;
        };
        report.notes_checked += 1;
        report.citations_checked += note.citations.len();
        if note.citations.is_empty() || has_inline_references(&note) {
            continue;
        }
        let document = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        let selection = policy.document_selection(Some(&document), &note.text, note.language);
        let own = policy.document_bibliography(&document, &note.text, note.language);
        let warnings = &mut report.warnings;
        let corpus = corpora
            .entry(selection.clone())
            .or_insert_with_key(|files| CheckCorpus::load(files, cache, warnings));
        report.problems.extend(corpus.problems_in(&note, cache));
        if own.is_empty() || own == selection {
            continue;
        }
        let missing: Vec<&Citation> = note
            .citations
            .iter()
            .filter(|c| corpora[&selection].corpus.index_of(&c.key).is_some())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let warnings = &mut report.warnings;
        corpora
            .entry(own.clone())
            .or_insert_with_key(|files| CheckCorpus::load(files, cache, warnings));
        let (own_corpus, library) = (&corpora[&own].corpus, &corpora[&selection].corpus);
        let lines = LineStarts::new(&note.text);
        for citation in missing
            .into_iter()
            .filter(|c| own_corpus.index_of(&c.key).is_none())
        {
            let Some(paper) = library.get(&citation.key) else {
                continue;
            };
            let message = NotInBibliography {
                key: citation.key.to_string(),
                range: citation.range.clone(),
                found_in: library.source_of(&paper).path.clone(),
                bibliography: own.clone(),
                language: note.language,
            }
            .message();
            report.problems.push(CheckProblem::at(
                &note,
                &lines,
                citation.range.start,
                &citation.key,
                message,
            ));
        }
    }
    report
        .problems
        .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    let mut seen = HashSet::new();
    report.warnings.retain(|w| seen.insert(w.clone()));
    report
}

fn has_inline_references(note: &NoteFile) -> bool {
    note.language == Language::Markdown
        && bibliographies_named(&note.text, note.language).inline_references
}

/// One corpus as `check` uses it: its search index is built only when a
/// note cites a key it lacks (closest keys need it on large corpora).
struct CheckCorpus {
    corpus: std::sync::Arc<Corpus>,
    index: Option<PaperIndex>,
}

impl CheckCorpus {
    /// Loads the files (the bundled corpus for none); files that could not
    /// be read become warnings.
    fn load(files: &[PathBuf], cache: &Cache, warnings: &mut Vec<String>) -> CheckCorpus {
        let (corpus, _) = read_selection(files, cache);
        for problem in corpus
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
        {
            let place = match problem.line {
                0 => problem.file.display().to_string(),
                line => format!("{}:{line}", problem.file.display()),
            };
            warnings.push(format!("{place}: {}", problem.message));
        }
        CheckCorpus {
            corpus,
            index: None,
        }
    }

    fn problems_in(&mut self, note: &NoteFile, cache: &Cache) -> Vec<CheckProblem> {
        if note
            .citations
            .iter()
            .all(|c| self.corpus.index_of(&c.key).is_some())
        {
            return Vec::new();
        }
        let corpus = &self.corpus;
        let index = self
            .index
            .get_or_insert_with(|| PaperIndex::for_corpus(corpus, cache.dir(), &mut |_, _| {}).0);
        let ctx = PaperContext {
            corpus,
            search: Some(&*index as &dyn PaperSearch),
            meaning: None,
        };
        let lines = LineStarts::new(&note.text);
        unknown_keys(ctx, &note.citations)
            .into_iter()
            .map(|unknown| {
                let message = unknown.message();
                CheckProblem::at(note, &lines, unknown.range.start, &unknown.key, message)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_cache() -> Cache {
        Cache::at(std::env::temp_dir().join("paper-ls-unit-tests"))
    }

    const BIB: &str = "@article{known2020, title = {A Known Paper}, year = 2020}\n\
                       @article{another2021, title = {Another Paper}, year = 2021}\n";

    use crate::workspace::note_files::test_workspace as workspace;

    /// (path relative to `root`, line, column, key) of each problem.
    fn found(report: &CheckReport, root: &Path) -> Vec<(String, u32, u32, String)> {
        report
            .problems
            .iter()
            .map(|p| {
                let path = p.path.strip_prefix(root).unwrap_or(&p.path);
                (
                    path.to_string_lossy().into_owned(),
                    p.line,
                    p.column,
                    p.key.to_string(),
                )
            })
            .collect()
    }

    fn problem(path: &str, line: u32, column: u32, key: &str) -> (String, u32, u32, String) {
        (path.to_string(), line, column, key.to_string())
    }

    #[test]
    fn reports_unknown_keys_with_one_based_character_columns() {
        let dir = workspace(&[
            ("paper-ls.toml", "corpus = [\"refs.bib\"]\n"),
            ("refs.bib", BIB),
            (".gitignore", "build/\n"),
            (
                "notes/a.md",
                "φ 🔬 intro\nThe φ-🔬 result [@knwn2020] and [@known2020].\n",
            ),
            ("notes/b.tex", "\\cite{known2020,\n  missing-key}\n"),
            ("notes/c.qmd", "No citations at all."),
            (
                "notes/inline.md",
                "---\nreferences:\n- id: local\n---\n[@local] [@nope]\n",
            ),
            (
                "notes/own.Rmd",
                "---\nbibliography: own.bib\n---\n[@mine] [@known2020]\n",
            ),
            ("notes/own.bib", "@misc{mine, title = {Mine}}\n"),
            ("build/out.md", "[@ignored-unknown]"),
            (".hidden/h.md", "[@hidden-unknown]"),
        ]);
        let report = check_paths(&[dir.path().to_path_buf()], &[], None, &test_cache());
        assert_eq!(
            found(&report, dir.path()),
            [
                problem("notes/a.md", 2, 18, "knwn2020"),
                problem("notes/b.tex", 2, 3, "missing-key"),
                // In the library, not in the note's own bibliography.
                problem("notes/own.Rmd", 4, 11, "known2020"),
            ]
        );
        assert!(report.problems[2]
            .message
            .ends_with("is in the library (refs.bib) but not in own.bib: pandoc will not find it"));
        let first = &report.problems[0];
        assert!(
            first.message.contains("closest: `known2020`"),
            "{}",
            first.message
        );
        let line = first.to_string();
        assert!(
            line.ends_with(
                "notes/a.md:2:18: unknown citation key `knwn2020`; closest: `known2020`"
            ),
            "{line}"
        );
        assert_eq!(report.notes_checked, 5);
        assert_eq!(report.citations_checked, 2 + 2 + 2 + 2);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    #[test]
    fn the_root_is_found_above_the_paths_and_its_config_applies() {
        let dir = workspace(&[
            ("paper-ls.toml", "corpus = [\"refs/*.bib\"]\n"),
            ("refs/main.bib", BIB),
            (
                "thesis/chapters/one.tex",
                "\\citep{known2020} \\citet{nowhere}",
            ),
        ]);
        let chapter = dir.path().join("thesis/chapters/one.tex");
        assert_eq!(workspace_root(Some(&chapter)), dir.path());
        let report = check_paths(std::slice::from_ref(&chapter), &[], None, &test_cache());
        assert_eq!(
            found(&report, dir.path()),
            [problem("thesis/chapters/one.tex", 1, 26, "nowhere")]
        );
        let elsewhere = workspace(&[("other.bib", "@misc{nowhere, title = {N}}\n")]);
        let configured = [elsewhere
            .path()
            .join("other.bib")
            .to_string_lossy()
            .into_owned()];
        let report = check_paths(&[chapter], &configured, None, &test_cache());
        assert_eq!(
            found(&report, dir.path()),
            [problem("thesis/chapters/one.tex", 1, 8, "known2020")]
        );
    }

    #[test]
    fn git_marks_the_root_and_no_corpus_means_the_bundled_one() {
        let dir = workspace(&[
            (".git/HEAD", "ref: refs/heads/main\n"),
            (
                "notes/a.md",
                "[@grokfast-accelerated-grokking] [@grokfast-accelerated-grokin]",
            ),
        ]);
        let notes = dir.path().join("notes");
        assert_eq!(workspace_root(Some(&notes)), dir.path());
        let report = check_paths(&[notes], &[], None, &test_cache());
        assert_eq!(
            found(&report, dir.path()),
            [problem("notes/a.md", 1, 36, "grokfast-accelerated-grokin")]
        );
        assert!(report.problems[0]
            .message
            .contains("`grokfast-accelerated-grokking`"));
    }

    #[test]
    fn odd_paths_and_broken_config_are_warnings() {
        let dir = workspace(&[
            ("paper-ls.toml", "corpus = 3\n"),
            ("refs.bib", BIB),
            ("a.md", "[@known2020]"),
        ]);
        let paths = [
            dir.path().join("refs.bib"),
            dir.path().join("missing.md"),
            dir.path().join("a.md"),
            dir.path().join("a.md"),
        ];
        let report = check_paths(&paths, &[], None, &test_cache());
        assert_eq!(report.notes_checked, 1);
        let warnings = report.warnings.join("\n");
        assert!(
            warnings.contains("refs.bib: not a Markdown or LaTeX note"),
            "{warnings}"
        );
        assert!(
            warnings.contains("missing.md: no such file or folder"),
            "{warnings}"
        );
        assert!(warnings.contains("paper-ls.toml"), "{warnings}");
        let missing = ["gone.bib".to_string()];
        let report = check_paths(
            &[dir.path().join("a.md")],
            &missing,
            Some(dir.path()),
            &test_cache(),
        );
        assert!(
            report.warnings.join("\n").contains("gone.bib"),
            "{:?}",
            report.warnings
        );
        assert_eq!(
            found(&report, dir.path()),
            [problem("a.md", 1, 3, "known2020")]
        );
        let nothing = check_paths(&[], &[], Some(dir.path()), &test_cache());
        assert_eq!((nothing.problems.len(), nothing.notes_checked), (0, 0));
    }
}
