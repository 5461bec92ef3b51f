//! Every note of a workspace, opened in the editor or not: the Markdown
//! (`.md`, `.markdown`, `.qmd`, `.Rmd`) and LaTeX (`.tex`, `.ltx`) files
//! under the workspace root, each read once with its citations, kept as an
//! immutable snapshot that is cheap to clone and replaced file by file as the
//! disk changes. References, rename and `paper-ls check` read notes from here.
//!
//! Walking skips hidden files and folders (a name starting with `.`), what
//! `.gitignore` and `.ignore` files exclude (each one applying below its own
//! folder, deeper ones overriding; `.ignore` over `.gitignore` in the same
//! folder), symbolic links to folders, and notes larger than
//! [`MAX_NOTE_BYTES`]. Global git excludes and `.git/info/exclude` are
//! deliberately not read, so a workspace looks the same on every machine.
//!
//! The documents open in the editor win over their disk copies: queries take
//! the snapshot plus the open documents ([`OpenNote`]) and see each note once
//! through [`notes_seen`]. Paths are compared as given, so the server must
//! hand over open documents' paths in the same form as the root it scanned.

use crate::corpus::folded_key_hash;
use crate::index::title_matcher::TitleMatcher;
use crate::index::title_mentions::{title_mentions, TitleMention};
use crate::notes::{citations_in, Citation, Language, NOTE_EXTENSIONS};
use crate::text::LineIndex;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Notes larger than this (5 MB) are skipped: no one writes prose that long,
/// and such a file is a generated dump that would slow every query.
pub const MAX_NOTE_BYTES: u64 = 5 * 1024 * 1024;

/// How deep folders are walked; deeper trees are cut off.
const MAX_DEPTH: usize = 32;

/// A document open in the editor: its path, current text and language.
pub type OpenNote = (PathBuf, Arc<str>, Language);

/// One note as read from disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteFile {
    pub path: PathBuf,
    pub language: Language,
    /// The text, a leading byte-order mark removed.
    pub text: Arc<str>,
    /// Every citation in `text`, in document order.
    pub citations: Vec<Citation>,
    /// Each citation's key as a [`folded_key_hash`], in citation order:
    /// which papers a note may cite, told without reading its citations
    /// (find references over a vault passes over thousands of notes that
    /// cite others, and over the other citations of the notes that do).
    citation_hashes: Box<[u64]>,
    /// The text was not valid UTF-8: invalid bytes were replaced by U+FFFD,
    /// so byte ranges in `text` do not match the bytes on disk.
    pub lossy: bool,
    /// The titles mentioned in `text`, as the last matcher asked found them.
    mentions: MentionMemo,
    /// Where each line of `text` starts, once positions were asked for.
    lines: OnceLock<Arc<LineIndex>>,
}

/// A note's title mentions, kept with the note under the matcher that found
/// them: a vault's notes are read once per corpus, not once per request
/// (find references over 10,000 notes would otherwise scan all their prose
/// each time), and a changed note, being a new [`NoteFile`], is read again.
#[derive(Default)]
struct MentionMemo(Mutex<Option<(u64, Arc<[TitleMention]>)>>);

impl Clone for MentionMemo {
    fn clone(&self) -> Self {
        MentionMemo(Mutex::new(crate::workspace::unpoisoned(&self.0).clone()))
    }
}

impl PartialEq for MentionMemo {
    /// What was remembered follows from the note; it never tells two apart.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for MentionMemo {}

impl std::fmt::Debug for MentionMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MentionMemo")
    }
}

impl NoteFile {
    /// The note's line index, built on first use and kept with it: find
    /// references over a vault turns ranges of thousands of notes into
    /// positions on every request.
    pub fn line_index(&self) -> Arc<LineIndex> {
        self.lines
            .get_or_init(|| Arc::new(LineIndex::new(&self.text)))
            .clone()
    }

    /// The titles `matcher` finds in the note, found once per matcher.
    pub fn title_mentions(&self, matcher: &TitleMatcher) -> Arc<[TitleMention]> {
        if let Some((id, found)) = crate::workspace::unpoisoned(&self.mentions.0).as_ref() {
            if *id == matcher.id() {
                return found.clone();
            }
        }
        let found: Arc<[TitleMention]> = title_mentions(matcher, &self.text, self.language).into();
        *crate::workspace::unpoisoned(&self.mentions.0) = Some((matcher.id(), found.clone()));
        found
    }

    /// The [`folded_key_hash`] of each citation's key, in citation order.
    pub fn citation_key_hashes(&self) -> &[u64] {
        &self.citation_hashes
    }

    /// Whether the note may cite a key with one of these
    /// [`folded_key_hash`]es (false means it cites none of them).
    pub fn may_cite_any(&self, hashes: &[u64]) -> bool {
        self.citation_hashes.iter().any(|h| hashes.contains(h))
    }

    /// A note from its text (its citations are found here).
    pub fn new(path: PathBuf, language: Language, text: Arc<str>, lossy: bool) -> NoteFile {
        let citations = citations_in(&text, language);
        let citation_hashes = citations.iter().map(|c| folded_key_hash(&c.key)).collect();
        NoteFile {
            path,
            language,
            text,
            citations,
            citation_hashes,
            lossy,
            mentions: MentionMemo::default(),
            lines: OnceLock::new(),
        }
    }

    /// Reads a note from disk: `None` for a file that is not a note (by its
    /// extension), is missing, unreadable, or larger than [`MAX_NOTE_BYTES`].
    /// Text that is not UTF-8 is read lossily (see [`NoteFile::lossy`]).
    pub fn read(path: &Path) -> Option<NoteFile> {
        let language = Language::from_path(path)?;
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > MAX_NOTE_BYTES {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        if bytes.len() as u64 > MAX_NOTE_BYTES {
            return None;
        }
        let (text, lossy) = match String::from_utf8(bytes) {
            Ok(text) => (text, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        Some(NoteFile::new(
            path.to_path_buf(),
            language,
            text.into(),
            lossy,
        ))
    }
}

/// An immutable snapshot of a workspace's notes, by path. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct WorkspaceNotes {
    root: Option<PathBuf>,
    files: Arc<BTreeMap<PathBuf, Arc<NoteFile>>>,
}

impl WorkspaceNotes {
    /// Every note under `root`, by the walking rules in the module doc.
    /// Unreadable files and folders are left out; this never fails.
    pub fn scan(root: &Path) -> WorkspaceNotes {
        let files = note_paths_under(root, Some(root))
            .into_iter()
            .filter_map(|p| NoteFile::read(&p))
            .map(|n| (n.path.clone(), Arc::new(n)))
            .collect();
        WorkspaceNotes {
            root: Some(root.to_path_buf()),
            files: Arc::new(files),
        }
    }

    /// A new snapshot with `path` re-read from disk (created or changed). A
    /// path that is no note of this workspace — outside the root, hidden,
    /// ignored, not a note, unreadable or too large — is left out, as if
    /// deleted. A changed `.gitignore` needs a new [`WorkspaceNotes::scan`].
    pub fn with_file(&self, path: &Path) -> WorkspaceNotes {
        self.with_read(path, self.read_note(path))
    }

    /// `path` read from disk as a note of this workspace (the reading half
    /// of [`WorkspaceNotes::with_file`]: blocking); `None` when it is none.
    pub fn read_note(&self, path: &Path) -> Option<NoteFile> {
        let excluded = self.root.as_deref().is_some_and(|r| excluded(r, path))
            || path.file_name().is_some_and(is_hidden);
        NoteFile::read(path).filter(|_| !excluded)
    }

    /// A new snapshot with `path` as `read` (the keeping half of
    /// [`WorkspaceNotes::with_file`]: no disk access).
    pub fn with_read(&self, path: &Path, read: Option<NoteFile>) -> WorkspaceNotes {
        match read {
            Some(note) => {
                let mut files = (*self.files).clone();
                files.insert(path.to_path_buf(), Arc::new(note));
                WorkspaceNotes {
                    root: self.root.clone(),
                    files: Arc::new(files),
                }
            }
            None => self.without_file(path),
        }
    }

    /// A new snapshot without `path` (deleted).
    pub fn without_file(&self, path: &Path) -> WorkspaceNotes {
        if !self.files.contains_key(path) {
            return self.clone();
        }
        let mut files = (*self.files).clone();
        files.remove(path);
        WorkspaceNotes {
            root: self.root.clone(),
            files: Arc::new(files),
        }
    }

    /// Every note, by path.
    pub fn notes(&self) -> impl Iterator<Item = &NoteFile> {
        self.files.values().map(|n| &**n)
    }

    pub fn get(&self, path: &Path) -> Option<&NoteFile> {
        self.files.get(path).map(|n| &**n)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The folder scanned; `None` for an empty default snapshot.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }
}

/// One note as a query sees it: the open document's text when it is open,
/// the disk copy otherwise.
#[derive(Clone, Debug)]
pub struct NoteView<'a> {
    pub path: &'a Path,
    pub language: Language,
    pub text: &'a Arc<str>,
    pub citations: Cow<'a, [Citation]>,
    /// The text is a lossy reading of a file that is not UTF-8 (never for
    /// an open document).
    pub lossy: bool,
    /// The note as read from disk, when it is not open.
    pub file: Option<&'a NoteFile>,
}

impl NoteView<'_> {
    /// The titles `matcher` finds in the note: remembered with a note read
    /// from disk, found now in an open one (the open document keeps its own
    /// per-paragraph cache for the requests that need it).
    pub fn title_mentions(&self, matcher: &TitleMatcher) -> Arc<[TitleMention]> {
        match self.file {
            Some(file) => file.title_mentions(matcher),
            None => title_mentions(matcher, self.text, self.language).into(),
        }
    }
}

/// Each note once: the workspace's notes that are not open, then every open
/// document (in `open` order; a path listed twice counts once, the first
/// wins), including open documents outside the workspace.
pub fn notes_seen<'a>(
    notes: &'a WorkspaceNotes,
    open: &'a [OpenNote],
) -> impl Iterator<Item = NoteView<'a>> + 'a {
    // The disk copies the open documents stand for, found by looking their
    // paths up (a few) rather than hashing every note's path (thousands).
    let mut replaced: Vec<*const NoteFile> = open
        .iter()
        .filter_map(|(p, _, _)| notes.files.get(p.as_path()))
        .map(Arc::as_ptr)
        .collect();
    replaced.sort_unstable();
    let on_disk = notes
        .notes()
        .filter(move |n| replaced.binary_search(&(*n as *const NoteFile)).is_err())
        .map(|n| NoteView {
            path: &n.path,
            language: n.language,
            text: &n.text,
            citations: Cow::Borrowed(&n.citations),
            lossy: n.lossy,
            file: Some(n),
        });
    let mut seen = HashSet::new();
    let opened = open
        .iter()
        .filter(move |(p, _, _)| seen.insert(p.as_path()))
        .map(|(path, text, language)| NoteView {
            path,
            language: *language,
            text,
            citations: Cow::Owned(citations_in(text, *language)),
            lossy: false,
            file: None,
        });
    on_disk.chain(opened)
}

/// The note files under `dir`, sorted. The ignore files of the folders from
/// `root` down to `dir` apply as well (when `dir` is under `root`); `dir`
/// itself is walked even when hidden or ignored, as it was asked for.
/// Paths come back in the form `dir` was given in (relative stays relative).
pub fn note_paths_under(dir: &Path, root: Option<&Path>) -> Vec<PathBuf> {
    // Ignore files match by path prefix, so walk one consistent (absolute) form.
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut ignores = root.map_or_else(Vec::new, |r| ancestor_ignores(r, &absolute));
    let mut found = Vec::new();
    walk(&absolute, &mut ignores, &mut found, 0);
    let mut out: Vec<PathBuf> = found
        .into_iter()
        .map(|p| match p.strip_prefix(&absolute) {
            Ok(rest) => dir.join(rest),
            Err(_) => p,
        })
        .collect();
    out.sort();
    out
}

fn walk(dir: &Path, ignores: &mut Vec<Gitignore>, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    ignores.push(folder_ignores(dir));
    for entry in entries.flatten() {
        if is_hidden(&entry.file_name()) {
            continue;
        }
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        let is_dir = file_type.is_dir();
        if is_ignored(ignores, &path, is_dir) {
            continue;
        }
        if is_dir {
            walk(&path, ignores, out, depth + 1);
        } else if Language::from_path(&path).is_some() {
            out.push(path);
        }
    }
    ignores.pop();
}

/// Whether `path` (under `root`) is hidden or ignored at any level between.
fn excluded(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return true;
    };
    let parts: Vec<_> = relative.components().collect();
    let mut ignores = Vec::new();
    let mut dir = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let name = part.as_os_str();
        ignores.push(folder_ignores(&dir));
        let child = dir.join(name);
        if is_hidden(name) || is_ignored(&ignores, &child, i + 1 < parts.len()) {
            return true;
        }
        dir = child;
    }
    false
}

/// The ignore files of `root` and of every folder below it down to `dir`'s
/// parent; empty when `dir` is not under `root`.
fn ancestor_ignores(root: &Path, dir: &Path) -> Vec<Gitignore> {
    let (Ok(root), Ok(dir)) = (std::path::absolute(root), std::path::absolute(dir)) else {
        return Vec::new();
    };
    let Ok(relative) = dir.strip_prefix(&root) else {
        return Vec::new();
    };
    let mut ignores = Vec::new();
    let mut folder = root.clone();
    for part in relative.components() {
        ignores.push(folder_ignores(&folder));
        folder.push(part);
    }
    ignores
}

/// The deepest ignore file with an opinion decides: `!pattern` re-includes.
fn is_ignored(ignores: &[Gitignore], path: &Path, is_dir: bool) -> bool {
    for level in ignores.iter().rev() {
        match level.matched(path, is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    false
}

/// `.gitignore` then `.ignore` of one folder (later patterns win); broken
/// lines are skipped, a missing file is no rule.
fn folder_ignores(dir: &Path) -> Gitignore {
    let mut builder = GitignoreBuilder::new(dir);
    for name in [".gitignore", ".ignore"] {
        let file = dir.join(name);
        if file.is_file() {
            let _ = builder.add(file);
        }
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Writes `files` (path, contents) under a fresh temporary folder, for the
/// tests of the features that read notes.
/// The notes that `paths` name, each once, in the order given: the notes
/// under each folder (by the walking rules above), and each file that is a
/// note wherever it sits; what is missing or no note becomes a warning.
pub fn notes_named(paths: &[PathBuf], root: &Path, warnings: &mut Vec<String>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            out.extend(note_paths_under(path, Some(root)));
        } else if !path.exists() {
            warnings.push(format!("{}: no such file or folder", path.display()));
        } else if Language::from_path(path).is_some() {
            out.push(path.clone());
        } else {
            let extensions: Vec<String> = NOTE_EXTENSIONS
                .iter()
                .map(|(e, _)| format!(".{e}"))
                .collect();
            warnings.push(format!(
                "{}: not a Markdown or LaTeX note ({}); skipped",
                path.display(),
                extensions.join(", ")
            ));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}

#[cfg(test)]
pub(crate) fn test_workspace<T: AsRef<[u8]>>(files: &[(&str, T)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
        test_workspace(files)
    }

    #[test]
    fn title_mentions_are_found_once_per_matcher_and_note() {
        let titles = [
            "Attention Is All You Need",
            "Grokfast: Amplifying Slow Gradients",
        ];
        let matcher = TitleMatcher::build(titles, &|_| true);
        let dir = workspace(&[
            ("a.md", "We read Attention Is All You Need twice.\n"),
            ("b.md", "Nothing here.\n"),
        ]);
        let notes = WorkspaceNotes::scan(dir.path());
        let a = notes.get(&dir.path().join("a.md")).unwrap();
        let first = a.title_mentions(&matcher);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].papers, [0]);
        assert!(Arc::ptr_eq(&first, &a.title_mentions(&matcher)));
        // Another matcher (a reloaded corpus) finds them again.
        let other = TitleMatcher::build(titles.iter().rev().copied(), &|_| true);
        assert_ne!(other.id(), matcher.id());
        let again = a.title_mentions(&other);
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(again[0].papers, [1]);
        // A changed note is a new file with nothing remembered.
        std::fs::write(
            dir.path().join("a.md"),
            "Grokfast: Amplifying Slow Gradients.\n",
        )
        .unwrap();
        let changed = notes.with_file(&dir.path().join("a.md"));
        let found = changed
            .get(&dir.path().join("a.md"))
            .unwrap()
            .title_mentions(&other);
        assert_eq!(found[0].papers, [0]);
    }

    fn relative_paths(notes: &WorkspaceNotes, root: &Path) -> Vec<String> {
        notes
            .notes()
            .map(|n| {
                n.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn scan_finds_notes_and_skips_hidden_and_ignored_ones() {
        let dir = workspace(&[
            (".gitignore", "build/\n*.draft.md\n"),
            ("sub/.gitignore", "!keep.draft.md\n"),
            (".ignore", "private/\n"),
            ("a.md", "[@alpha]"),
            ("b.qmd", "@beta"),
            ("c.Rmd", "[@gamma; @delta]"),
            ("d.tex", "\\cite{epsilon}"),
            ("sub/e.markdown", "text"),
            ("sub/keep.draft.md", "kept"),
            ("sub/gone.draft.md", "ignored"),
            ("build/out.md", "[@ignored]"),
            ("private/p.md", "[@ignored]"),
            (".hidden/h.md", "[@hidden]"),
            (".h.md", "[@hidden]"),
            ("refs.bib", "@misc{alpha, title={A}}"),
            ("style.sty", "\\cite{x}"),
        ]);
        let notes = WorkspaceNotes::scan(dir.path());
        assert_eq!(
            relative_paths(&notes, dir.path()),
            [
                "a.md",
                "b.qmd",
                "c.Rmd",
                "d.tex",
                "sub/e.markdown",
                "sub/keep.draft.md"
            ]
        );
        let c = notes.get(&dir.path().join("c.Rmd")).unwrap();
        let keys: Vec<&str> = c.citations.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["gamma", "delta"]);
        let d = notes.get(&dir.path().join("d.tex")).unwrap();
        assert_eq!(
            (d.language, d.citations[0].key.as_str()),
            (Language::Latex, "epsilon")
        );
    }

    #[test]
    fn large_and_broken_files_never_fail_the_scan() {
        let dir = workspace(&[("ok.md", "\u{feff}[@a]")]);
        std::fs::write(dir.path().join("latin1.md"), b"M\xfcller [@b]").unwrap();
        let big = "x".repeat(MAX_NOTE_BYTES as usize + 1);
        std::fs::write(dir.path().join("big.md"), big).unwrap();
        let notes = WorkspaceNotes::scan(dir.path());
        assert_eq!(relative_paths(&notes, dir.path()), ["latin1.md", "ok.md"]);
        let latin1 = notes.get(&dir.path().join("latin1.md")).unwrap();
        assert!(latin1.lossy);
        assert_eq!(&*latin1.text, "M\u{fffd}ller [@b]");
        let ok = notes.get(&dir.path().join("ok.md")).unwrap();
        assert_eq!((&*ok.text, ok.lossy), ("[@a]", false));
        assert!(WorkspaceNotes::scan(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn with_file_and_without_file_make_new_snapshots() {
        let dir = workspace(&[(".gitignore", "out/\n"), ("a.md", "[@a]")]);
        let root = dir.path();
        let first = WorkspaceNotes::scan(root);
        std::fs::write(root.join("a.md"), "[@changed]").unwrap();
        std::fs::write(root.join("new.tex"), "\\citep{n}").unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        std::fs::write(root.join("out/x.md"), "[@x]").unwrap();
        std::fs::write(root.join(".secret.md"), "[@x]").unwrap();
        let second = first
            .with_file(&root.join("a.md"))
            .with_file(&root.join("new.tex"))
            .with_file(&root.join("out/x.md"))
            .with_file(&root.join(".secret.md"))
            .with_file(Path::new("/elsewhere/z.md"));
        assert_eq!(relative_paths(&second, root), ["a.md", "new.tex"]);
        assert_eq!(
            second.get(&root.join("a.md")).unwrap().citations[0].key,
            "changed"
        );
        assert_eq!(first.get(&root.join("a.md")).unwrap().citations[0].key, "a");
        std::fs::remove_file(root.join("new.tex")).unwrap();
        let third = second
            .without_file(&root.join("a.md"))
            .with_file(&root.join("new.tex"));
        assert!(third.is_empty());
        assert_eq!(second.len(), 2);
        assert_eq!(third.root(), Some(root));
    }

    #[test]
    fn open_documents_win_over_their_disk_copies() {
        let dir = workspace(&[("a.md", "[@disk]"), ("b.md", "[@b]")]);
        let notes = WorkspaceNotes::scan(dir.path());
        let open: Vec<OpenNote> = vec![
            (
                dir.path().join("a.md"),
                Arc::from("[@open]"),
                Language::Markdown,
            ),
            (
                PathBuf::from("/unsaved/u.tex"),
                Arc::from("\\cite{u}"),
                Language::Latex,
            ),
            (
                dir.path().join("a.md"),
                Arc::from("[@second]"),
                Language::Markdown,
            ),
        ];
        let seen: Vec<(String, Vec<String>)> = notes_seen(&notes, &open)
            .map(|n| {
                let name = n.path.file_name().unwrap().to_string_lossy().into_owned();
                (name, n.citations.iter().map(|c| c.key.clone()).collect())
            })
            .collect();
        let want = [("b.md", "b"), ("a.md", "open"), ("u.tex", "u")];
        let want: Vec<(String, Vec<String>)> = want
            .iter()
            .map(|(p, k)| (p.to_string(), vec![k.to_string()]))
            .collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn paths_under_a_folder_honour_the_ignore_files_above_it() {
        let dir = workspace(&[
            (".gitignore", "drafts/\n"),
            ("notes/a.md", ""),
            ("notes/drafts/b.md", ""),
        ]);
        let found = note_paths_under(&dir.path().join("notes"), Some(dir.path()));
        assert_eq!(found, [dir.path().join("notes/a.md")]);
        let found = note_paths_under(&dir.path().join("notes"), None);
        assert_eq!(found.len(), 2);
    }
}
