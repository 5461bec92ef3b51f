//! The server's mutable state: open documents, settings, the negotiated
//! position encoding and the corpus cache. Requests take immutable snapshots
//! out of it and never hold a lock across an `.await`.

use super::config::Settings;
use super::corpora::{CorpusCache, CorpusSelection, LoadHooks, LoadedCorpus};
use super::documents::{DocumentSnapshot, OpenDocument};
use super::position::PositionEncoding;
use crate::features::discovery::corpus_selection;
use crate::features::workspace_notes::{OpenNote, WorkspaceNotes};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use tower_lsp_server::ls_types::Uri;

pub struct ServerState {
    pub documents: Mutex<HashMap<Uri, OpenDocument>>,
    pub settings: RwLock<Settings>,
    /// `corpus` from `paper-ls.toml` at the workspace root.
    pub toml_corpus: RwLock<Vec<String>>,
    pub root: RwLock<Option<PathBuf>>,
    pub encoding: RwLock<PositionEncoding>,
    pub corpora: CorpusCache,
    /// Bumped on every change of a document, so a delayed diagnostics run
    /// can tell that a newer one superseded it.
    pub diagnostics_generation: Mutex<HashMap<Uri, u64>>,
    pub shutdown_requested: AtomicBool,
    /// The client shows `$/progress` for tokens it created on our request.
    pub client_shows_progress: AtomicBool,
    /// The client can register file watchers for us.
    pub client_watches_files: AtomicBool,
    /// Every note of the workspace as on disk (open documents override it).
    pub notes: RwLock<Arc<WorkspaceNotes>>,
    /// Becomes true once the first scan of the workspace's notes is done.
    pub notes_scanned: tokio::sync::watch::Sender<bool>,
    /// Wakes the corpus watcher early (a watched file changed).
    pub sources_touched: tokio::sync::Notify,
    /// The user was told the cache directory cannot be written.
    pub cache_trouble_told: AtomicBool,
}

impl Default for ServerState {
    fn default() -> Self {
        ServerState {
            documents: Mutex::default(),
            settings: RwLock::default(),
            toml_corpus: RwLock::default(),
            root: RwLock::default(),
            encoding: RwLock::new(PositionEncoding::Utf16),
            corpora: CorpusCache::default(),
            diagnostics_generation: Mutex::default(),
            shutdown_requested: AtomicBool::new(false),
            client_shows_progress: AtomicBool::new(false),
            client_watches_files: AtomicBool::new(false),
            sources_touched: tokio::sync::Notify::new(),
            cache_trouble_told: AtomicBool::new(false),
            notes: RwLock::new(Arc::new(WorkspaceNotes::default())),
            notes_scanned: tokio::sync::watch::Sender::new(false),
        }
    }
}

/// Poisoned locks only mean another handler panicked mid-update; the data is
/// still the best we have, so keep serving rather than cascade the panic.
pub fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|e| e.into_inner()).clone()
}

impl ServerState {
    pub fn encoding(&self) -> PositionEncoding {
        *self.encoding.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn settings(&self) -> Settings {
        read(&self.settings)
    }

    pub fn snapshot(&self, uri: &Uri) -> Option<Arc<DocumentSnapshot>> {
        let docs = self.documents.lock().unwrap_or_else(|e| e.into_inner());
        docs.get(uri).map(|d| d.snapshot.clone())
    }

    pub fn open_uris(&self) -> Vec<Uri> {
        let docs = self.documents.lock().unwrap_or_else(|e| e.into_inner());
        docs.keys().cloned().collect()
    }

    /// Configured corpus entries: settings first, then `paper-ls.toml`.
    fn configured(&self) -> Vec<String> {
        let mut entries = self.settings().corpus;
        for e in read(&self.toml_corpus) {
            if !entries.contains(&e) {
                entries.push(e);
            }
        }
        entries
    }

    /// The corpus files a document sees; worked out once per version of the
    /// document and of the configured entries.
    pub fn selection_for(&self, doc: &DocumentSnapshot) -> CorpusSelection {
        let configured = self.configured();
        let mut cached = doc.selection.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((for_config, selection)) = cached.as_ref() {
            if *for_config == configured {
                return selection.clone();
            }
        }
        let root = read(&self.root);
        let selection = corpus_selection(
            root.as_deref(),
            &configured,
            doc.path.as_deref(),
            &doc.text,
            doc.language,
        );
        *cached = Some((configured, selection.clone()));
        selection
    }

    pub async fn corpus_for(
        self: &Arc<Self>,
        doc: &Arc<DocumentSnapshot>,
        hooks: &Arc<LoadHooks>,
    ) -> Arc<LoadedCorpus> {
        // Off the executor: the first time, this may read files from disk.
        let (state, for_doc) = (self.clone(), doc.clone());
        let selection = tokio::task::spawn_blocking(move || state.selection_for(&for_doc))
            .await
            .unwrap_or_default();
        self.corpora.get(&selection, hooks).await
    }

    /// The corpus of the workspace as a whole (configured, else bundled), for
    /// requests that come without a document.
    pub async fn workspace_corpus(&self, hooks: &Arc<LoadHooks>) -> Arc<LoadedCorpus> {
        let root = read(&self.root);
        let selection = corpus_selection(
            root.as_deref(),
            &self.configured(),
            None,
            "",
            crate::notes::Language::Markdown,
        );
        self.corpora.get(&selection, hooks).await
    }

    /// The open documents, as the overlay over the notes on disk.
    pub fn open_notes(&self) -> Vec<OpenNote> {
        let docs = self.documents.lock().unwrap_or_else(|e| e.into_inner());
        docs.values()
            .filter_map(|d| {
                Some((
                    d.snapshot.path.clone()?,
                    d.snapshot.text.clone(),
                    d.snapshot.language,
                ))
            })
            .collect()
    }

    pub fn workspace_notes(&self) -> Arc<WorkspaceNotes> {
        read(&self.notes)
    }

    /// The workspace's notes once the first scan is done (or after `patience`,
    /// whatever has been read by then).
    pub async fn scanned_notes(&self, patience: std::time::Duration) -> Arc<WorkspaceNotes> {
        let mut scanned = self.notes_scanned.subscribe();
        let _ = tokio::time::timeout(patience, scanned.wait_for(|done| *done)).await;
        self.workspace_notes()
    }

    /// Drops cached corpora that no open document uses any more.
    pub fn forget_unused_corpora(&self) {
        let snapshots: Vec<Arc<DocumentSnapshot>> = {
            let docs = self.documents.lock().unwrap_or_else(|e| e.into_inner());
            docs.values().map(|d| d.snapshot.clone()).collect()
        };
        let in_use: Vec<CorpusSelection> =
            snapshots.iter().map(|s| self.selection_for(s)).collect();
        self.corpora.retain(&in_use);
    }
}
