//! Which corpus files a document sees — the one policy that the language
//! server, `paper-ls check` and the other shell commands share.
//!
//! A [`CorpusPolicy`] is the workspace root and the configured entries
//! (editor settings, then `corpus` in the root's `paper-ls.toml`; or the
//! `--corpus` paths of a shell command). A document sees those plus the
//! bibliographies it names itself — `\bibliography{}`/`\addbibresource{}`
//! in LaTeX (also when they are in the main file of a multi-file project,
//! named by a `% !TEX root = …` comment or found including the document),
//! `bibliography:` in Markdown front matter (relative to the note's folder)
//! — or, for a Markdown note that names none, what its project names for
//! it: Quarto's `_metadata.yml` and `_quarto.yml`, MyST's `myst.yml`,
//! Jupyter Book's `_config.yml` (`bibtex_bibfiles`), bookdown's `index.Rmd`.
//! An empty selection means "use the bundled corpus".
//!
//! Finding a LaTeX chapter's main file reads the disk: this runs off the
//! async executor, once per document version (see `documents`).

use super::note_files::MAX_NOTE_BYTES;
use crate::corpus::selection::{find_config_file, read_config_file, CONFIG_FILE};
use crate::corpus::{expand_paths, selection};
use crate::notes::bibliography::{bibliographies_named, latex_structure, yaml_strings_at};
use crate::notes::Language;
use std::path::{Path, PathBuf};

/// How far up from a `.tex` file to look for the main file that includes it.
const MAIN_FILE_SEARCH_DEPTH: usize = 3;

/// Which files make up a corpus; empty means the bundled corpus.
pub type CorpusSelection = Vec<PathBuf>;

/// The workspace root and the corpus entries configured for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorpusPolicy {
    root: Option<PathBuf>,
    /// Paths, folders or globs, relative to the root.
    configured: Vec<String>,
    /// Paths given on a command line, taken as they are.
    explicit: Vec<PathBuf>,
}

impl CorpusPolicy {
    /// The language server's: entries from the editor's settings first, then
    /// those of `paper-ls.toml`, each once.
    pub fn new(root: Option<PathBuf>, settings: &[String], config_file: &[String]) -> Self {
        let mut configured = settings.to_vec();
        for entry in config_file {
            if !configured.contains(entry) {
                configured.push(entry.clone());
            }
        }
        CorpusPolicy {
            root,
            configured,
            explicit: Vec::new(),
        }
    }

    /// A shell command's: the `--corpus` paths when given, else the
    /// `corpus` entries of the nearest `paper-ls.toml` at or above `dir`
    /// (relative to that file's folder), else none (the bundled corpus).
    pub fn for_command_line(explicit: &[PathBuf], dir: &Path) -> Result<Self, String> {
        if !explicit.is_empty() {
            // `--corpus zotero` names the default Zotero library, as in
            // `paper-ls.toml`; other paths are taken as they are.
            let explicit = explicit
                .iter()
                .flat_map(|path| match path.to_str() {
                    Some(entry) if crate::corpus::selection::is_zotero_entry(entry) => {
                        crate::corpus::selection::resolve_entries(dir, &[entry.to_string()])
                    }
                    _ => vec![path.clone()],
                })
                .collect();
            return Ok(CorpusPolicy {
                explicit,
                ..CorpusPolicy::default()
            });
        }
        let Some(file) = find_config_file(dir) else {
            return Ok(CorpusPolicy::default());
        };
        let config = read_config_file(&file)?;
        let root = file.parent().unwrap_or(dir).to_path_buf();
        Ok(CorpusPolicy::new(Some(root), &[], &config.corpus))
    }

    /// `paper-ls check`'s: `configured` entries (relative to `root`) when
    /// given, else those of the root's `paper-ls.toml`; a malformed file is
    /// a warning and no entries.
    pub fn for_root(root: &Path, configured: &[String], warnings: &mut Vec<String>) -> Self {
        let config = root.join(CONFIG_FILE);
        let entries = if !configured.is_empty() || !config.is_file() {
            configured.to_vec()
        } else {
            read_config_file(&config).map_or_else(
                |e| {
                    warnings.push(format!("{e}; using no configured corpus"));
                    Vec::new()
                },
                |c| c.corpus,
            )
        };
        CorpusPolicy::new(Some(root.to_path_buf()), &entries, &[])
    }

    /// The corpus of the workspace as a whole (requests that come without a
    /// document, shell commands).
    pub fn workspace_selection(&self) -> CorpusSelection {
        self.selection(None, "", Language::Markdown)
    }

    /// The corpus a document sees: the configured files and the
    /// bibliographies it names.
    pub fn document_selection(
        &self,
        document: Option<&Path>,
        text: &str,
        language: Language,
    ) -> CorpusSelection {
        self.selection(document, text, language)
    }

    /// The document's own bibliography: the files it (or its main file, or
    /// its project) names — what LaTeX or pandoc will read when it is
    /// built. Empty when it names none.
    pub fn document_bibliography(
        &self,
        document: &Path,
        text: &str,
        language: Language,
    ) -> CorpusSelection {
        let named = named_by_document(document, text, language, self.root.as_deref());
        let mut files = expand_paths(&named);
        files.dedup();
        files
    }

    fn selection(
        &self,
        document: Option<&Path>,
        text: &str,
        language: Language,
    ) -> CorpusSelection {
        let root = self.root.as_deref();
        let mut paths = self.explicit.clone();
        paths.extend(match root {
            Some(root) => selection::resolve_entries(root, &self.configured),
            None => self.configured.iter().map(PathBuf::from).collect(),
        });
        if let Some(doc) = document {
            paths.extend(named_by_document(doc, text, language, root));
        }
        let mut files = expand_paths(&paths);
        files.dedup();
        files
    }
}

/// The nearest folder at or above `first` (a file's folder, if a file)
/// holding `paper-ls.toml` or `.git`; that folder itself when none does; the
/// working directory when there is no path.
pub fn workspace_root(first: Option<&Path>) -> PathBuf {
    let start = first.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let start = std::path::absolute(&start).unwrap_or(start);
    let dir = match start.parent() {
        Some(parent) if !start.is_dir() => parent.to_path_buf(),
        _ => start,
    };
    dir.ancestors()
        .find(|d| d.join(CONFIG_FILE).is_file() || d.join(".git").exists())
        .map_or_else(|| dir.clone(), Path::to_path_buf)
}

fn named_by_document(
    doc: &Path,
    text: &str,
    language: Language,
    root: Option<&Path>,
) -> Vec<PathBuf> {
    let dir = doc.parent().unwrap_or(Path::new("."));
    let named = bibliographies_named(text, language);
    if !named.paths.is_empty() {
        return resolve_bibliographies(dir, &named.paths);
    }
    match language {
        Language::Latex => main_file_bibliographies(doc, text, root),
        Language::Markdown => project_bibliographies(dir, root),
        Language::Typst => typst_main_bibliographies(doc, root),
    }
}

/// The bibliographies of a LaTeX document's main file: the one its
/// `% !TEX root = …` comment names, else one found including it.
fn main_file_bibliographies(doc: &Path, text: &str, root: Option<&Path>) -> Vec<PathBuf> {
    let dir = doc.parent().unwrap_or(Path::new("."));
    let named_root = latex_structure(text).root_hint.and_then(|hint| {
        let path = lexically_normal(&dir.join(&hint));
        let path = if path.extension().is_none() {
            path.with_extension("tex")
        } else {
            path
        };
        let text = read_text(&path, MAX_NOTE_BYTES)?;
        Some((path, text))
    });
    match named_root.or_else(|| find_main_file(doc, root)) {
        Some((main, main_text)) => {
            let main_dir = main.parent().unwrap_or(Path::new("."));
            resolve_bibliographies(
                main_dir,
                &bibliographies_named(&main_text, Language::Latex).paths,
            )
        }
        None => Vec::new(),
    }
}

/// The bibliographies of the Typst file that `#include`s the document (a
/// chapter's book), from its folder or a few above; relative to it.
fn typst_main_bibliographies(doc: &Path, root: Option<&Path>) -> Vec<PathBuf> {
    let Some(mut dir) = doc.parent().map(Path::to_path_buf) else {
        return Vec::new();
    };
    for _ in 0..MAIN_FILE_SEARCH_DEPTH {
        let mut candidates: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "typ") && p != doc)
            .collect();
        candidates.sort();
        for candidate in candidates {
            let Some(text) = read_text(&candidate, MAX_NOTE_BYTES) else {
                continue;
            };
            let includes_doc = crate::notes::typst::includes(&text)
                .iter()
                .any(|name| lexically_normal(&dir.join(name)) == lexically_normal(doc));
            if includes_doc {
                let names = bibliographies_named(&text, Language::Typst).paths;
                return resolve_bibliographies(&dir, &names);
            }
        }
        if root.is_some_and(|r| dir == r) || !dir.pop() {
            break;
        }
    }
    Vec::new()
}

/// Project files that name the bibliography of the Markdown documents under
/// them, and where in the file: Quarto's folder metadata and project file,
/// MyST's project, Jupyter Book's configuration. (bookdown keeps it in the
/// front matter of the book's `index.Rmd`: see `project_bibliographies`.)
const PROJECT_FILES: &[(&str, &[&str])] = &[
    ("_metadata.yml", &["bibliography"]),
    ("_quarto.yml", &["bibliography"]),
    ("myst.yml", &["project", "bibliography"]),
    ("_config.yml", &["bibtex_bibfiles"]),
];
/// How far up from a note to look for its project's files.
const PROJECT_SEARCH_DEPTH: usize = 6;
/// Larger project files are not read: no one writes configuration that long.
const MAX_PROJECT_FILE_BYTES: u64 = 1 << 20;

/// The bibliography a Markdown note's project names for it, from the
/// nearest folder (the note's own, then up to the workspace root) that has
/// one of the project files; paths are relative to the file naming them.
fn project_bibliographies(dir: &Path, root: Option<&Path>) -> Vec<PathBuf> {
    let mut dir = dir.to_path_buf();
    for _ in 0..PROJECT_SEARCH_DEPTH {
        for (file, key) in PROJECT_FILES {
            if let Some(text) = read_text(&dir.join(file), MAX_PROJECT_FILE_BYTES) {
                let names = yaml_strings_at(&text, key);
                if !names.is_empty() {
                    return resolve_bibliographies(&dir, &names);
                }
            }
        }
        if dir.join("_bookdown.yml").is_file() {
            if let Some(index) = read_text(&dir.join("index.Rmd"), MAX_NOTE_BYTES) {
                let names = bibliographies_named(&index, Language::Markdown).paths;
                if !names.is_empty() {
                    return resolve_bibliographies(&dir, &names);
                }
            }
        }
        if root.is_some_and(|r| dir == r) || !dir.pop() {
            break;
        }
    }
    Vec::new()
}

/// `path` with `.` and `a/..` taken out, so that one file named two ways
/// (`parts/../refs.bib`, `refs.bib`) is one corpus source.
pub fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.push("..");
                } else {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// A text file no larger than `limit`, read whole; `None` otherwise.
fn read_text(path: &Path, limit: u64) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > limit {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// Names resolve relative to the file that wrote them: a LaTeX project's
/// main file (as `kpsewhich` would), a note, a project file. `~/` is home.
fn resolve_bibliographies(dir: &Path, names: &[String]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| {
            let expanded = if let Some(rest) = n.strip_prefix("~/") {
                dirs::home_dir()
                    .map(|h| h.join(rest))
                    .unwrap_or_else(|| PathBuf::from(n))
            } else {
                PathBuf::from(n)
            };
            if expanded.is_absolute() {
                expanded
            } else {
                lexically_normal(&dir.join(expanded))
            }
        })
        .collect()
}

/// A `.tex` file with `\documentclass` in this folder or a few above that
/// `\input`s, `\include`s or `\subfile`s the document.
fn find_main_file(doc: &Path, root: Option<&Path>) -> Option<(PathBuf, String)> {
    let mut dir = doc.parent()?.to_path_buf();
    for _ in 0..MAIN_FILE_SEARCH_DEPTH {
        if let Some(found) = main_file_in(&dir, doc) {
            return Some(found);
        }
        if root.is_some_and(|r| dir == r) || !dir.pop() {
            break;
        }
    }
    None
}

fn main_file_in(dir: &Path, doc: &Path) -> Option<(PathBuf, String)> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tex") && p != doc)
        .collect();
    candidates.sort();
    candidates.into_iter().find_map(|candidate| {
        let text = read_text(&candidate, MAX_NOTE_BYTES)?;
        let structure = latex_structure(&text);
        let base = candidate.parent()?;
        let includes_doc = structure.included.iter().any(|inc| {
            let target = base.join(inc);
            target == doc || target.with_extension("tex") == doc
        });
        (structure.has_documentclass && includes_doc).then_some((candidate, text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::note_files::test_workspace as project;

    /// What `note` sees in the workspace `dir`, relative to it.
    fn seen(dir: &tempfile::TempDir, note: &str) -> Vec<String> {
        let policy = CorpusPolicy::new(Some(dir.path().to_path_buf()), &[], &[]);
        let path = dir.path().join(note);
        let text = std::fs::read_to_string(&path).unwrap();
        let language = Language::from_path(&path).unwrap();
        policy
            .document_selection(Some(&path), &text, language)
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn quarto_projects_and_folder_metadata_name_the_bibliography() {
        let dir = project(&[
            (
                "book/_quarto.yml",
                "project:\n  type: book\nbibliography: refs.bib\n",
            ),
            ("book/chapters/intro.qmd", "# Intro\n\nAs @a2020 says.\n"),
            ("book/appendix/_metadata.yml", "bibliography: [extra.bib]\n"),
            ("book/appendix/a.qmd", "See @b2021.\n"),
            (
                "book/own.qmd",
                "---\nbibliography: mine.bib\n---\nIts own.\n",
            ),
        ]);
        assert_eq!(seen(&dir, "book/chapters/intro.qmd"), ["book/refs.bib"]);
        assert_eq!(
            seen(&dir, "book/appendix/a.qmd"),
            ["book/appendix/extra.bib"]
        );
        assert_eq!(seen(&dir, "book/own.qmd"), ["book/mine.bib"]);
    }

    #[test]
    fn myst_jupyter_book_and_bookdown_projects() {
        let dir = project(&[
            (
                "myst/myst.yml",
                "version: 1\nproject:\n  bibliography:\n    - refs.bib\n",
            ),
            ("myst/docs/page.md", "{cite}`x`\n"),
            (
                "jb/_config.yml",
                "title: Book\nbibtex_bibfiles:\n  - references.bib\n",
            ),
            ("jb/intro.md", "Text.\n"),
            ("bd/_bookdown.yml", "book_filename: thesis\n"),
            (
                "bd/index.Rmd",
                "---\ntitle: Thesis\nbibliography: [book.bib, packages.bib]\n---\n",
            ),
            ("bd/01-intro.Rmd", "As [@x] shows.\n"),
        ]);
        assert_eq!(seen(&dir, "myst/docs/page.md"), ["myst/refs.bib"]);
        assert_eq!(seen(&dir, "jb/intro.md"), ["jb/references.bib"]);
        assert_eq!(
            seen(&dir, "bd/01-intro.Rmd"),
            ["bd/book.bib", "bd/packages.bib"]
        );
    }

    #[test]
    fn no_project_file_means_no_bibliography_and_the_root_bounds_the_search() {
        let dir = project(&[
            ("_quarto.yml", "bibliography: outside.bib\n"),
            ("ws/notes/a.md", "Text.\n"),
        ]);
        let policy = CorpusPolicy::new(Some(dir.path().join("ws")), &[], &[]);
        let path = dir.path().join("ws/notes/a.md");
        let selection = policy.document_selection(Some(&path), "Text.\n", Language::Markdown);
        assert!(selection.is_empty(), "{selection:?}");
    }

    #[test]
    fn a_tex_root_comment_names_the_main_file() {
        let dir = project(&[
            (
                "thesis/main.tex",
                "\\documentclass{book}\n\\bibliography{refs}\n",
            ),
            (
                "thesis/parts/ch1.tex",
                "% !TEX root = ../main.tex\n\\cite{x}\n",
            ),
            (
                "other/main.tex",
                "\\documentclass{book}\n\\input{ch}\n\\bibliography{found}\n",
            ),
            ("other/ch.tex", "\\cite{y}\n"),
        ]);
        assert_eq!(seen(&dir, "thesis/parts/ch1.tex"), ["thesis/refs.bib"]);
        assert_eq!(seen(&dir, "other/ch.tex"), ["other/found.bib"]);
    }
}
