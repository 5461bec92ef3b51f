//! Fixtures for feature tests, in the rust-analyzer manner: one string
//! holding every file of a small workspace, each after a `//- /path` line,
//! with `$0` marking the cursor in the document the request is about (and
//! `$0…$0` a range). The files are written to a temporary folder; the
//! corpus is the fixture's `.bib`/`.json` files (the bundled corpus when it
//! has none), indexed now; the notes are scanned as the server scans them;
//! a bibliography the document names is its own beside that library.

use crate::corpus::Corpus;
use crate::notes::Language;
use crate::workspace::corpora::{read_selection, LoadedCorpus};
use crate::workspace::documents::DocumentSnapshot;
use crate::workspace::files::InMemory;
use crate::workspace::note_files::{test_workspace, WorkspaceNotes};
use crate::workspace::selection::CorpusPolicy;
use crate::workspace::settings::Settings;
use crate::workspace::stamps::SourceStamps;
use crate::workspace::{Bibliography, CorpusView, Snapshot};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

pub const CURSOR: &str = "$0";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub snap: Snapshot,
    /// The cursor, or the range between two cursors.
    pub at: Range<usize>,
}

impl Fixture {
    pub fn new(fixture: &str) -> Fixture {
        Fixture::with_settings(fixture, Settings::default())
    }

    pub fn with_settings(fixture: &str, settings: Settings) -> Fixture {
        let fixture_files: Vec<(String, String, Option<Range<usize>>)> = files(fixture)
            .into_iter()
            .map(|(name, text)| {
                let (text, at) = cursor(&text);
                (name.trim_start_matches('/').to_string(), text, at)
            })
            .collect();
        let written: Vec<(&str, &str)> = fixture_files
            .iter()
            .map(|(name, text, _)| (name.as_str(), text.as_str()))
            .collect();
        let dir = test_workspace(&written);
        let mut document = None;
        let mut corpus_files = Vec::new();
        for (name, text, at) in fixture_files {
            let path = dir.path().join(name);
            if let Some(at) = at {
                document = Some((path, text, at));
            } else if Language::from_path(&path).is_none() {
                corpus_files.push(path);
            }
        }
        let cache = dir.path().join(".cache");
        let (corpus, stamps): (Arc<Corpus>, SourceStamps) =
            read_selection(&corpus_files, &crate::corpus::Cache::at(&cache));
        let loaded = LoadedCorpus::indexed_now(corpus, stamps);
        let notes = WorkspaceNotes::scan(dir.path());
        let (path, text, at) = document.expect("a `$0` in one of the fixture's notes");
        let language = Language::from_path(&path).expect("the document is a note");
        let doc = DocumentSnapshot::new(Some(path), language, 1, Arc::from(text));
        let policy = CorpusPolicy::new(Some(dir.path().to_path_buf()), &[], &[]);
        let own = policy.document_bibliography(doc.path.as_deref().unwrap(), &doc.text, language);
        let cache_at = crate::corpus::Cache::at(&cache);
        let files = Arc::new(InMemory::new(cache));
        let mut snap = Snapshot::from_parts(Some(Arc::new(doc)), loaded, notes, settings, files);
        // The document's own bibliography beside the library (the
        // fixture's other corpus files), as the workspace sets it.
        if !own.is_empty() && own != corpus_files {
            let (corpus, stamps) = read_selection(&own, &cache_at);
            snap.bibliography = Some(Bibliography {
                files: own,
                corpus: CorpusView::of(LoadedCorpus::indexed_now(corpus, stamps)),
            });
        }
        Fixture { dir, snap, at }
    }

    pub fn offset(&self) -> usize {
        self.at.start
    }

    /// A path as the fixture named it (`/refs.bib`), the cache's as `/.cache/…`.
    pub fn show_path(&self, path: &Path) -> String {
        match path.strip_prefix(self.dir.path()) {
            Ok(rel) => format!("/{}", rel.display()),
            Err(_) => path.display().to_string(),
        }
    }

    /// `text[range]`, quoted, with the range.
    pub fn show_range(text: &str, range: &Range<usize>) -> String {
        format!("{}..{} {:?}", range.start, range.end, &text[range.clone()])
    }

    /// The document's text.
    pub fn text(&self) -> &str {
        &self.snap.document.as_ref().unwrap().text
    }

    pub fn key(&self, paper: usize) -> String {
        self.snap.corpus.corpus().paper(paper).key.to_string()
    }
}

/// The fixture's files: `//- /path` starts one; text before the first is
/// not allowed. Each file's text is its lines after the marker.
fn files(fixture: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in fixture.trim_start_matches('\n').split_inclusive('\n') {
        match line.strip_prefix("//- ") {
            Some(name) => out.push((name.trim().to_string(), String::new())),
            None => out
                .last_mut()
                .expect("a fixture starts with `//- /path`")
                .1
                .push_str(line),
        }
    }
    out
}

/// The text without its cursor marks, and the cursor (or range).
fn cursor(text: &str) -> (String, Option<Range<usize>>) {
    let Some(start) = text.find(CURSOR) else {
        return (text.to_string(), None);
    };
    let rest = &text[start + CURSOR.len()..];
    match rest.find(CURSOR) {
        Some(len) => {
            let clean = format!(
                "{}{}{}",
                &text[..start],
                &rest[..len],
                &rest[len + CURSOR.len()..]
            );
            (clean, Some(start..start + len))
        }
        None => (format!("{}{rest}", &text[..start]), Some(start..start)),
    }
}
