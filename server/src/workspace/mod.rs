//! What the server knows, in one place: the open documents, the settings
//! and negotiated position encoding, the corpus policy and the corpora it
//! loaded, the workspace's notes on disk — and the immutable [`Snapshot`]s
//! that requests answer from.
//!
//! The model is rust-analyzer's `GlobalState` → `GlobalStateSnapshot` and
//! texlab's `Workspace`. Changes come in through [`Workspace::apply`] (edits,
//! settings) and a few methods for file events; every request takes one
//! [`Snapshot`] — the document as one version, the corpus it sees with the
//! index and title matcher it has at that moment, the notes, the settings —
//! and never sees half of an edit or of a reload: a snapshot never changes.
//!
//! Concurrency is one `Mutex` around the workspace's small mutable state
//! (documents, settings, root, notes), held for a few map operations and
//! never across an `.await` or a disk read. A concurrent map (`dashmap`)
//! would buy nothing here: every change is a single short write, every
//! snapshot a single short read, and one lock is what makes a snapshot
//! consistent across documents, notes and settings. Corpora are loaded
//! outside that lock (`corpora`), each once, behind its own async cell.
//! A poisoned lock only means a panic elsewhere mid-update; the data is
//! still the best there is, so [`unpoisoned`] takes it back, in one place.
//!
//! This layer knows no protocol type: documents are named by an opaque
//! [`DocumentId`] (the client's URI string) and positions are
//! `(line, character)` pairs in the negotiated encoding.

pub mod corpora;
pub mod documents;
pub mod files;
mod last_good;
pub mod note_files;
mod reload;
pub mod selection;
pub mod semantic;
pub mod settings;
pub mod stamps;

use crate::corpus::{Cache, Corpus};
use crate::index::embeddings::Meaning;
use crate::index::title_matcher::TitleMatcher;
use crate::index::title_mentions::TitleMention;
use crate::index::word_columns::WordColumns;
use crate::index::{PaperContext, PaperIndex, PaperSearch};
use crate::notes::Language;
use crate::text::PositionEncoding;
use corpora::{CorpusCache, LoadHooks, LoadedCorpus, Loader, Reread};
use documents::{DocumentCorpora, DocumentSnapshot, Edit, EditOutcome, OpenDocument};
use files::FileSystem;
use note_files::{OpenNote, WorkspaceNotes};
use selection::{CorpusPolicy, CorpusSelection};
use settings::Settings;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use reload::follow_sources;

/// A document as the client names it (its URI, as sent).
pub type DocumentId = Arc<str>;

/// Takes a lock whose holder panicked: see the module doc.
pub(crate) fn unpoisoned<T>(lock: &Mutex<T>) -> MutexGuard<'_, T> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

/// A change to what the workspace knows, applied in the order it came.
pub enum Change<'a> {
    Open {
        id: DocumentId,
        path: Option<PathBuf>,
        language: Language,
        version: i32,
        text: &'a str,
    },
    Edit {
        id: DocumentId,
        version: i32,
        edits: Vec<Edit<'a>>,
    },
    Close {
        id: DocumentId,
    },
    Settings(Settings),
}

/// How the workspace was set up at `initialize`.
pub struct Setup {
    pub root: Option<PathBuf>,
    pub encoding: PositionEncoding,
    /// Settings sent with `initialize`, if any.
    pub settings: Option<Settings>,
}

struct State {
    documents: HashMap<DocumentId, OpenDocument>,
    settings: Arc<Settings>,
    /// `corpus` from `paper-ls.toml` at the workspace root.
    config_file_corpus: Vec<String>,
    root: Option<PathBuf>,
    encoding: PositionEncoding,
    notes: Arc<WorkspaceNotes>,
}

impl State {
    fn policy(&self) -> CorpusPolicy {
        CorpusPolicy::new(
            self.root.clone(),
            &self.settings.corpus,
            &self.config_file_corpus,
        )
    }

    fn open_notes(&self) -> Vec<OpenNote> {
        self.documents
            .values()
            .filter_map(|d| {
                let doc = &d.snapshot;
                Some((doc.path.clone()?, doc.text.clone(), doc.language))
            })
            .collect()
    }
}

pub struct Workspace {
    state: Mutex<State>,
    corpora: CorpusCache,
    files: Arc<dyn FileSystem>,
    /// Becomes true once the first scan of the workspace's notes is done.
    notes_scanned: tokio::sync::watch::Sender<bool>,
    /// Wakes the corpus watcher early (a watched file changed).
    sources_touched: tokio::sync::Notify,
    shutting_down: AtomicBool,
}

impl Workspace {
    pub fn new(cache: Arc<Cache>, hooks: LoadHooks) -> Workspace {
        let files = Arc::new(files::Disk::new(cache.clone()));
        Workspace {
            state: Mutex::new(State {
                documents: HashMap::new(),
                settings: Arc::default(),
                config_file_corpus: Vec::new(),
                root: None,
                encoding: PositionEncoding::Utf16,
                notes: Arc::default(),
            }),
            corpora: CorpusCache::new(Loader {
                cache,
                hooks,
                embedder: Default::default(),
                title_rebuilds: Default::default(),
            }),
            files,
            notes_scanned: tokio::sync::watch::Sender::new(false),
            sources_touched: tokio::sync::Notify::new(),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Takes the root, encoding and first settings; reads the root's
    /// `paper-ls.toml`. A malformed one is returned as a warning and ignored.
    pub fn initialize(&self, setup: Setup) -> Option<String> {
        let mut warning = None;
        let mut config_file_corpus = Vec::new();
        if let Some(file) = setup
            .root
            .as_ref()
            .map(|r| r.join(crate::corpus::selection::CONFIG_FILE))
            .filter(|f| f.is_file())
        {
            match crate::corpus::selection::read_config_file(&file) {
                Ok(config) => config_file_corpus = config.corpus,
                Err(e) => warning = Some(format!("ignoring {e}")),
            }
        }
        let mut state = unpoisoned(&self.state);
        state.root = setup.root;
        state.encoding = setup.encoding;
        state.config_file_corpus = config_file_corpus;
        if let Some(settings) = setup.settings {
            state.settings = Arc::new(settings);
        }
        self.configure_semantic(&state);
        warning
    }

    /// Applies one change. Edits are applied synchronously, in the order
    /// the caller hands them over; a stale or clamped edit says so.
    pub fn apply(&self, change: Change<'_>) -> EditOutcome {
        let mut state = unpoisoned(&self.state);
        match change {
            Change::Open {
                id,
                path,
                language,
                version,
                text,
            } => {
                let doc = OpenDocument::open(path, language, version, text);
                state.documents.insert(id, doc);
                EditOutcome::Applied
            }
            Change::Edit { id, version, edits } => {
                let encoding = state.encoding;
                match state.documents.get_mut(&id) {
                    Some(doc) => doc.apply(version, &edits, encoding),
                    None => EditOutcome::NotOpen,
                }
            }
            Change::Close { id } => {
                state.documents.remove(&id);
                EditOutcome::Applied
            }
            Change::Settings(settings) => {
                state.settings = Arc::new(settings);
                if self.configure_semantic(&state) {
                    self.corpora.semantic_changed();
                }
                EditOutcome::Applied
            }
        }
    }

    /// Tells the embedder what the settings ask for; true when that changed.
    fn configure_semantic(&self, state: &State) -> bool {
        let loader = self.corpora.loader();
        let config = semantic::SemanticConfig::resolve(
            &state.settings.semantic,
            state.root.as_deref(),
            loader.cache.dir(),
        );
        loader.embedder.configure(config)
    }

    pub fn encoding(&self) -> PositionEncoding {
        unpoisoned(&self.state).encoding
    }

    pub fn settings(&self) -> Arc<Settings> {
        unpoisoned(&self.state).settings.clone()
    }

    pub fn root(&self) -> Option<PathBuf> {
        unpoisoned(&self.state).root.clone()
    }

    pub fn cache(&self) -> &Arc<Cache> {
        &self.corpora.loader().cache
    }

    pub fn corpora(&self) -> &CorpusCache {
        &self.corpora
    }

    pub fn open_documents(&self) -> Vec<DocumentId> {
        unpoisoned(&self.state).documents.keys().cloned().collect()
    }

    /// The current version of an open document.
    pub fn document(&self, id: &str) -> Option<Arc<DocumentSnapshot>> {
        let state = unpoisoned(&self.state);
        state.documents.get(id).map(|d| d.snapshot.clone())
    }

    /// A snapshot for a request on an open document: that version of it and
    /// the corpus it sees (loaded on first use); `None` when it is not open.
    pub async fn snapshot(&self, id: &str) -> Option<Snapshot> {
        let document = self.document(id)?;
        self.snapshot_of(document).await
    }

    /// A snapshot for a request on a given version of a document (the one
    /// the request was sent against), with the workspace as it is now.
    pub async fn snapshot_of(&self, document: Arc<DocumentSnapshot>) -> Option<Snapshot> {
        let (policy, rest) = {
            let state = unpoisoned(&self.state);
            (state.policy(), self.parts(&state))
        };
        // Off the executor: the first time, this may read files from disk.
        let corpora = match document.corpora_if_known(&policy) {
            Some(known) => known,
            None => {
                let for_doc = document.clone();
                tokio::task::spawn_blocking(move || for_doc.corpora(&policy))
                    .await
                    .ok()?
            }
        };
        let corpus = self.corpora.get(&corpora.selection).await;
        let bibliography = match corpora.with_own_bibliography() {
            Some(files) => Some(self.corpora.get(files).await),
            None => None,
        };
        Some(rest.with_corpora(document, corpora, corpus, bibliography))
    }

    /// A snapshot of `document` as [`snapshot_of`](Self::snapshot_of)
    /// makes it, taken at once on the calling thread — `None` while a
    /// corpus it sees is still being read: for the requests a user waits on
    /// while typing, answered where they are read (a runtime thread).
    pub fn snapshot_if_ready(&self, document: Arc<DocumentSnapshot>) -> Option<Snapshot> {
        let (policy, rest) = {
            let state = unpoisoned(&self.state);
            (state.policy(), self.parts(&state))
        };
        // Once per version the corpora it sees are found here, which may
        // read the disk (a LaTeX chapter's main file, a project's
        // configuration: small files, once per edit). Handing this thread's
        // other tasks away meanwhile (`block_in_place`) was measured: the
        // interleaved hover p99 went from ~1.1 to 2.4 ms, 2 runs in 20 over 5.
        let corpora = document.corpora(&policy);
        let corpus = self.corpora.get_if_loaded(&corpora.selection)?;
        let bibliography = match corpora.with_own_bibliography() {
            Some(files) => Some(self.corpora.get_if_loaded(files)?),
            None => None,
        };
        Some(rest.with_corpora(document, corpora, corpus, bibliography))
    }

    /// A snapshot for a request that comes without a document: the corpus
    /// of the workspace as a whole (configured, else bundled).
    pub async fn workspace_snapshot(&self) -> Snapshot {
        let (selection, rest) = {
            let state = unpoisoned(&self.state);
            (state.policy().workspace_selection(), self.parts(&state))
        };
        let corpus = CorpusView::of(self.corpora.get(&selection).await);
        rest.with(None, corpus)
    }

    fn parts(&self, state: &State) -> SnapshotParts {
        SnapshotParts {
            notes: state.notes.clone(),
            open_notes: state.open_notes().into(),
            settings: state.settings.clone(),
            encoding: state.encoding,
            root: state.root.clone(),
            files: self.files.clone(),
        }
    }

    /// Reads every note of the workspace, beside the requests.
    pub async fn scan_notes(&self) {
        if let Some(root) = self.root() {
            if let Ok(notes) =
                tokio::task::spawn_blocking(move || WorkspaceNotes::scan(&root)).await
            {
                tracing::info!("{} notes in the workspace", notes.len());
                unpoisoned(&self.state).notes = Arc::new(notes);
            }
        }
        self.notes_scanned.send_replace(true);
    }

    /// Finds the titles mentioned in every note of the workspace, with the
    /// workspace corpus's title matcher once it is built, and keeps them
    /// with the notes, so that find references and rename never scan a
    /// vault's prose on a request. Run after the notes are scanned and after
    /// each corpus swap; one blocking pass beside the requests, notes
    /// already read for this matcher cost nothing. What it says when done,
    /// for the client's log; `None` when no matcher came.
    pub async fn remember_note_mentions(&self) -> Option<String> {
        let started = std::time::Instant::now();
        // The matcher is built after the corpus loads; wait for it a while.
        for _ in 0..600 {
            let snap = self.workspace_snapshot().await;
            let Some(matcher) = snap.corpus.titles().cloned() else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            let notes = snap.notes.clone();
            let count = notes.len();
            crate::background::run("note-title-mentions", move || {
                for note in notes.notes() {
                    note.title_mentions(&matcher);
                }
            })
            .await;
            let said = format!(
                "title mentions of {count} notes known after {} ms",
                started.elapsed().as_millis()
            );
            tracing::info!("{said}");
            return Some(said);
        }
        None
    }

    /// Whether the first scan of the notes is done.
    pub fn notes_are_scanned(&self) -> bool {
        *self.notes_scanned.borrow()
    }

    /// Waits for the first scan of the notes (at most `patience`).
    pub async fn notes_scanned(&self, patience: Duration) {
        let mut scanned = self.notes_scanned.subscribe();
        let _ = tokio::time::timeout(patience, scanned.wait_for(|done| *done)).await;
    }

    /// Notes changed on disk (`true`: deleted): read again into the notes
    /// (deleted ones leave them). Corpus files are followed by `reload`,
    /// which this wakes.
    pub async fn files_changed(&self, changed: Vec<(PathBuf, bool)>) {
        self.sources_touched.notify_one();
        let changed: Vec<(PathBuf, bool)> = changed
            .into_iter()
            .filter(|(p, _)| Language::from_path(p).is_some())
            .collect();
        if changed.is_empty() {
            return;
        }
        // Read off the lock and the executor, then applied to the notes as
        // they are at that moment: two updates running side by side (a
        // "save all") both land, neither overwrites the other.
        let current = unpoisoned(&self.state).notes.clone();
        let read = tokio::task::spawn_blocking(move || {
            changed
                .into_iter()
                .map(|(path, deleted)| {
                    let note = if deleted {
                        None
                    } else {
                        current.read_note(&path)
                    };
                    (path, note)
                })
                .collect::<Vec<_>>()
        })
        .await;
        if let Ok(read) = read {
            let mut state = unpoisoned(&self.state);
            let notes = read
                .into_iter()
                .fold((*state.notes).clone(), |notes, (path, note)| {
                    notes.with_read(&path, note)
                });
            state.notes = Arc::new(notes);
        }
    }

    /// Drops cached corpora that no open document uses any more (blocking:
    /// working out a document's corpus may read the disk).
    pub fn forget_unused_corpora(&self) {
        let (documents, policy) = {
            let state = unpoisoned(&self.state);
            let documents: Vec<Arc<DocumentSnapshot>> = state
                .documents
                .values()
                .map(|d| d.snapshot.clone())
                .collect();
            (documents, state.policy())
        };
        let mut in_use: Vec<CorpusSelection> = Vec::new();
        for document in &documents {
            let corpora = document.corpora(&policy);
            in_use.push(corpora.selection);
            if !corpora.bibliography.is_empty() {
                in_use.push(corpora.bibliography);
            }
        }
        in_use.push(policy.workspace_selection());
        self.corpora.retain(&in_use);
    }

    /// Reads every loaded corpus again and rebuilds its index from scratch;
    /// how many corpora and papers there are afterwards.
    pub async fn reindex(&self) -> (usize, usize) {
        let mut papers = 0;
        let loaded = self.corpora.loaded();
        for (selection, old) in &loaded {
            if let Some(
                crate::index::IndexOrigin::Built(dir) | crate::index::IndexOrigin::Reopened(dir),
            ) = old.index().map(|i| i.origin.clone())
            {
                let _ = std::fs::remove_dir_all(dir);
            }
            let loader = self.corpora.loader().clone();
            match corpora::reload(selection.clone(), Some(old.clone()), loader).await {
                Some(Reread::Fresh(fresh)) => {
                    papers += fresh.corpus.papers.len();
                    self.corpora.replace(selection, fresh);
                }
                // A damaged source: the last good papers stay (the user was told).
                Some(Reread::Kept) => papers += old.corpus.papers.len(),
                None => {}
            }
        }
        (loaded.len(), papers)
    }

    /// The corpus watcher's wake-up call.
    pub fn sources_touched(&self) -> &tokio::sync::Notify {
        &self.sources_touched
    }

    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// Everything of a snapshot but the document and its corpus.
struct SnapshotParts {
    notes: Arc<WorkspaceNotes>,
    open_notes: Arc<[OpenNote]>,
    settings: Arc<Settings>,
    encoding: PositionEncoding,
    root: Option<PathBuf>,
    files: Arc<dyn FileSystem>,
}

impl SnapshotParts {
    /// A document's snapshot over the corpus it sees and, when the document
    /// has a bibliography of its own beside a library, that bibliography:
    /// citations of the library's papers are checked against it too.
    fn with_corpora(
        self,
        document: Arc<DocumentSnapshot>,
        corpora: DocumentCorpora,
        corpus: Arc<LoadedCorpus>,
        bibliography: Option<Arc<LoadedCorpus>>,
    ) -> Snapshot {
        let mut snap = self.with(Some(document), CorpusView::of(corpus));
        snap.bibliography = bibliography.map(|corpus| Bibliography {
            files: corpora.bibliography,
            corpus: CorpusView::of(corpus),
        });
        snap
    }

    fn with(self, document: Option<Arc<DocumentSnapshot>>, corpus: CorpusView) -> Snapshot {
        Snapshot {
            document,
            corpus,
            bibliography: None,
            notes: self.notes,
            open_notes: self.open_notes,
            settings: self.settings,
            encoding: self.encoding,
            root: self.root,
            files: self.files,
        }
    }
}

/// What one request answers from. Cheap to clone; never changes.
#[derive(Clone)]
pub struct Snapshot {
    /// The document the request is about, as one version.
    pub document: Option<Arc<DocumentSnapshot>>,
    /// The corpus that document (or the workspace) sees.
    pub corpus: CorpusView,
    /// The document's own bibliography, when it names one and also sees a
    /// wider library: what its build will actually read.
    pub bibliography: Option<Bibliography>,
    /// Every note of the workspace as on disk…
    pub notes: Arc<WorkspaceNotes>,
    /// …and the open documents that override them.
    pub open_notes: Arc<[OpenNote]>,
    pub settings: Arc<Settings>,
    pub encoding: PositionEncoding,
    pub root: Option<PathBuf>,
    /// Files outside the notes (corpus sources, generated cards), read and
    /// written through the workspace.
    pub files: Arc<dyn FileSystem>,
}

impl Snapshot {
    /// A snapshot made of parts, for tests and tools that have no server.
    pub fn from_parts(
        document: Option<Arc<DocumentSnapshot>>,
        corpus: Arc<LoadedCorpus>,
        notes: WorkspaceNotes,
        settings: Settings,
        files: Arc<dyn FileSystem>,
    ) -> Snapshot {
        let open_notes: Vec<OpenNote> = document
            .iter()
            .filter_map(|d| Some((d.path.clone()?, d.text.clone(), d.language)))
            .collect();
        Snapshot {
            root: notes.root().map(Path::to_path_buf),
            document,
            corpus: CorpusView::of(corpus),
            bibliography: None,
            notes: Arc::new(notes),
            open_notes: open_notes.into(),
            settings: Arc::new(settings),
            encoding: PositionEncoding::Utf16,
            files,
        }
    }

    /// The paper titles written in the document (none without a document
    /// or before the title matcher is built).
    pub fn title_mentions(&self) -> Arc<Vec<TitleMention>> {
        match (&self.document, self.corpus.titles()) {
            (Some(doc), Some(matcher)) => doc.title_mentions(matcher),
            _ => Arc::default(),
        }
    }
}

/// A document's own bibliography: its files, and the papers in them.
#[derive(Clone)]
pub struct Bibliography {
    pub files: CorpusSelection,
    pub corpus: CorpusView,
}

/// A corpus as one snapshot sees it: the papers, and the index and title
/// matcher it had when the snapshot was taken (`None`: not ready yet).
#[derive(Clone)]
pub struct CorpusView {
    loaded: Arc<LoadedCorpus>,
    index: Option<Arc<PaperIndex>>,
    titles: Option<Arc<TitleMatcher>>,
    /// What searches by words go to while there is no index yet.
    words: Option<Arc<WordColumns>>,
    /// The papers' embeddings, once all are computed.
    meaning: Option<Arc<Meaning>>,
}

impl CorpusView {
    pub fn of(loaded: Arc<LoadedCorpus>) -> CorpusView {
        let index = loaded.index();
        CorpusView {
            words: if index.is_none() {
                loaded.words()
            } else {
                None
            },
            index,
            titles: loaded.titles(),
            meaning: loaded.meaning(),
            loaded,
        }
    }

    pub fn corpus(&self) -> &Corpus {
        &self.loaded.corpus
    }

    /// The papers and the index, as features read them (before the index
    /// of a large corpus is ready, its title, name and key words).
    pub fn context(&self) -> PaperContext<'_> {
        let search = match (&self.index, &self.words) {
            (Some(index), _) => Some(&**index as &dyn PaperSearch),
            (None, Some(words)) => Some(&**words as &dyn PaperSearch),
            (None, None) => None,
        };
        PaperContext {
            corpus: &self.loaded.corpus,
            search,
            meaning: self.meaning.as_deref().map(|m| &m.vectors),
        }
    }

    pub fn titles(&self) -> Option<&Arc<TitleMatcher>> {
        self.titles.as_ref()
    }

    /// The papers' embeddings and their model, once all are computed.
    pub fn meaning(&self) -> Option<&Meaning> {
        self.meaning.as_deref()
    }

    pub fn is_indexed(&self) -> bool {
        self.index.is_some()
    }

    /// Bytes `range` of one of the corpus's source files, if the file is as
    /// it was when the corpus read it (same modification time and length).
    pub fn read_unchanged_range(
        &self,
        files: &dyn FileSystem,
        path: &Path,
        range: std::ops::Range<usize>,
    ) -> Option<Vec<u8>> {
        let (_, as_read) = self.loaded.stamps.0.iter().find(|(p, _)| p == path)?;
        if as_read.is_none() || *as_read != stamps::stamp(path) {
            return None;
        }
        files.read_range(path, range).ok()
    }

    /// The `@string` macros of the corpus's `.bib` files (read once).
    pub fn bib_macros(&self, files: &dyn FileSystem) -> Arc<crate::corpus::bibtex::MacroTable> {
        self.loaded.bib_macros(files)
    }

    /// Related papers of `paper`, found now if not found before.
    pub fn related(&self, paper: usize) -> Arc<Vec<usize>> {
        if self.index.is_none() {
            return Arc::default();
        }
        self.loaded.related(paper)
    }

    /// Related papers of `paper` if found already.
    pub fn cached_related(&self, paper: usize) -> Option<Arc<Vec<usize>>> {
        self.loaded.cached_related(paper)
    }

    /// Has the related papers of `paper` found in the background.
    pub fn find_related_later(&self, paper: usize) {
        self.loaded.find_related_later(paper)
    }

    /// The reference of `paper` in `style`, formatted once (see
    /// `LoadedCorpus::reference`).
    pub fn reference(
        &self,
        style: &str,
        paper: usize,
        format: impl FnOnce() -> Option<(String, String)>,
    ) -> corpora::FormattedReference {
        self.loaded.reference(style, paper, format)
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("document", &self.document.as_ref().map(|d| d.version))
            .field("papers", &self.corpus.corpus().papers.len())
            .field("indexed", &self.corpus.is_indexed())
            .finish()
    }
}
