//! Corpus entries as the user writes them: `corpus = [...]` in a
//! `paper-ls.toml` (paths, folders or globs relative to the file), and their
//! resolution into files. Which entries apply to which document — settings,
//! `paper-ls.toml`, `--corpus`, the bibliographies a note names — is decided
//! in one place, `workspace::selection`.

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "paper-ls.toml";

/// The part of `paper-ls.toml` the corpus cares about.
#[derive(Debug, Default, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub corpus: Vec<String>,
}

/// Reads `paper-ls.toml`; a malformed file is an error that names it.
pub fn read_config_file(path: &Path) -> Result<ConfigFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The nearest `paper-ls.toml` at or above `dir`.
pub fn find_config_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(CONFIG_FILE))
        .find(|p| p.is_file())
}

/// Resolves configured entries against `root`: plain paths as they are (a
/// missing file stays in the list, so loading reports it), globs expanded.
pub fn resolve_entries(root: &Path, entries: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in entries {
        if let Some(library) = zotero_entry(entry) {
            out.push(library);
            continue;
        }
        let expanded = expand_home(entry);
        let path = if Path::new(&expanded).is_absolute() {
            PathBuf::from(&expanded)
        } else {
            root.join(&expanded)
        };
        if is_glob(&expanded) {
            out.extend(glob_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Whether `entry` names the default Zotero library (`zotero`, `zotero#…`).
pub fn is_zotero_entry(entry: &str) -> bool {
    let word = entry.trim().split('#').next().unwrap_or("");
    word.eq_ignore_ascii_case("zotero")
}

/// `zotero` (the default Zotero library) or `zotero#selector`, as the path
/// of that library's database with the selector after `#`.
fn zotero_entry(entry: &str) -> Option<PathBuf> {
    let entry = entry.trim();
    if !is_zotero_entry(entry) {
        return None;
    }
    let selector = match entry.split_once('#') {
        Some((word, selector)) if word.eq_ignore_ascii_case("zotero") => Some(selector),
        None if entry.eq_ignore_ascii_case("zotero") => None,
        _ => return None,
    };
    let database = super::zotero::default_data_dir()?.join(super::zotero::DATABASE_FILE);
    Some(match selector {
        Some(selector) => PathBuf::from(format!("{}#{selector}", database.display())),
        None => database,
    })
}

pub(crate) fn expand_home(entry: &str) -> String {
    match (entry.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest).to_string_lossy().into_owned(),
        _ => entry.to_string(),
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Files matching a glob, walked from its longest literal prefix, sorted.
fn glob_files(pattern: &Path) -> Vec<PathBuf> {
    let pattern_text = pattern.to_string_lossy().into_owned();
    let Ok(glob) = globset::GlobBuilder::new(&pattern_text)
        .literal_separator(true)
        .build()
    else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    let base: PathBuf = pattern
        .components()
        .take_while(|c| !is_glob(&c.as_os_str().to_string_lossy()))
        .collect();
    let mut found = Vec::new();
    walk(
        &base,
        &mut |p| {
            if matcher.is_match(p) {
                found.push(p.to_path_buf());
            }
        },
        0,
    );
    found.sort();
    found
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path), depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, visit, depth + 1);
        } else {
            visit(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_paths_resolve_against_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("refs/sub")).unwrap();
        for f in ["refs/a.bib", "refs/sub/b.bib", "refs/c.json", "x.bib"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let got = resolve_entries(
            dir.path(),
            &["refs/**/*.bib".into(), "x.bib".into(), "missing.bib".into()],
        );
        let rel: Vec<String> = got
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(
            rel,
            ["refs/a.bib", "refs/sub/b.bib", "x.bib", "missing.bib"]
        );
    }

    #[test]
    fn config_file_is_found_upwards_and_parsed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "corpus = [\"refs.bib\"]\n").unwrap();
        std::fs::create_dir_all(dir.path().join("notes/deep")).unwrap();
        let found = find_config_file(&dir.path().join("notes/deep")).unwrap();
        assert_eq!(read_config_file(&found).unwrap().corpus, ["refs.bib"]);
        std::fs::write(dir.path().join(CONFIG_FILE), "corpus = 3").unwrap();
        assert!(read_config_file(&found).unwrap_err().contains(CONFIG_FILE));
    }
}
