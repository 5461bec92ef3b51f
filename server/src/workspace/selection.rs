//! Which corpus files a document sees — the one policy that the language
//! server, `paper-ls check` and the other shell commands share.
//!
//! A [`CorpusPolicy`] is the workspace root and the configured entries
//! (editor settings, then `corpus` in the root's `paper-ls.toml`; or the
//! `--corpus` paths of a shell command). A document sees those plus the
//! bibliographies it names itself — `\bibliography{}`/`\addbibresource{}`
//! in LaTeX (also when they are in the main file of a multi-file project),
//! `bibliography:` in Markdown front matter (relative to the note's folder).
//! An empty selection means "use the bundled corpus".
//!
//! Finding a LaTeX chapter's main file reads the disk: this runs off the
//! async executor, once per document version (see `documents`).

use crate::corpus::selection::{find_config_file, read_config_file, CONFIG_FILE};
use crate::corpus::{expand_paths, selection};
use crate::notes::bibliography::{bibliographies_named, latex_structure};
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
            return Ok(CorpusPolicy {
                explicit: explicit.to_vec(),
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

    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
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
    if !named.paths.is_empty() || language != Language::Latex {
        return resolve_bibliographies(dir, &named.paths, language);
    }
    match find_main_file(doc, root) {
        Some((main, main_text)) => {
            let main_dir = main.parent().unwrap_or(Path::new("."));
            resolve_bibliographies(
                main_dir,
                &bibliographies_named(&main_text, Language::Latex).paths,
                language,
            )
        }
        None => Vec::new(),
    }
}

/// LaTeX names resolve like `kpsewhich` would for a project: relative to the
/// main file's folder. Markdown paths are relative to the note's folder.
fn resolve_bibliographies(dir: &Path, names: &[String], _language: Language) -> Vec<PathBuf> {
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
                dir.join(expanded)
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
        let text = std::fs::read_to_string(&candidate).ok()?;
        let structure = latex_structure(&text);
        let base = candidate.parent()?;
        let includes_doc = structure.included.iter().any(|inc| {
            let target = base.join(inc);
            target == doc || target.with_extension("tex") == doc
        });
        (structure.has_documentclass && includes_doc).then_some((candidate, text))
    })
}
