//! Which corpus files a document sees: the configured ones (settings and
//! `paper-ls.toml`), plus the bibliographies the document names itself —
//! `\bibliography{}`/`\addbibresource{}` in LaTeX (also when they are in the
//! main file of a multi-file project), `bibliography:` in Markdown front
//! matter (relative to the note's folder). An empty result means "use the
//! bundled corpus".

use crate::corpus::{expand_paths, selection};
use crate::notes::bibliography::{bibliographies_named, latex_structure};
use crate::notes::Language;
use std::path::{Path, PathBuf};

/// How far up from a `.tex` file to look for the main file that includes it.
const MAIN_FILE_SEARCH_DEPTH: usize = 3;

/// Which files make up a corpus; empty means the bundled corpus.
pub type CorpusSelection = Vec<PathBuf>;

pub fn corpus_selection(
    root: Option<&Path>,
    configured: &[String],
    document: Option<&Path>,
    text: &str,
    language: Language,
) -> CorpusSelection {
    let mut paths = match root {
        Some(root) => selection::resolve_entries(root, configured),
        None => configured.iter().map(PathBuf::from).collect(),
    };
    if let Some(doc) = document {
        paths.extend(named_by_document(doc, text, language, root));
    }
    let mut files = expand_paths(&paths);
    files.dedup();
    files
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
