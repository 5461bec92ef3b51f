//! The server's own machinery behind the protocol handlers: finding the
//! document and corpus of a request, what a position points at, publishing
//! diagnostics, settings, file watchers and the workspace's notes — and the
//! capabilities announced at `initialize`.

use super::commands;
use super::config::{Settings, SECTION};
use super::convert;
use super::corpora::LoadedCorpus;
use super::documents::DocumentSnapshot;
use super::loading::load_hooks;
use super::position::PositionEncoding;
use super::server::Backend;
use super::state::{read, ServerState};
use crate::features::diagnostics;
use crate::features::title_mentions::mention_at;
use crate::features::workspace_notes::WorkspaceNotes;
use crate::notes::{self, Language};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

/// Corpus sources and notes whose changes on disk matter.
pub(super) const WATCHED_GLOBS: &[&str] = &[
    "**/*.{bib,bibtex,biblatex,json,jsonl,ndjson,gz}",
    "**/*.{md,markdown,qmd,Rmd,rmd,tex}",
    "**/paper-ls.toml",
];

/// How many of a document's cited papers get their related papers found
/// ahead of a hover.
pub(super) const RELATED_WARMED: usize = 300;

/// Has the related papers of what a document cites and of the titles it
/// mentions found in the background, so hovering them shows them at once.
pub(super) fn warm_related(doc: &Arc<DocumentSnapshot>, loaded: &Arc<LoadedCorpus>) {
    if loaded.index().is_none() {
        return;
    }
    let mut cited: Vec<usize> = doc
        .citations
        .iter()
        .filter_map(|c| loaded.corpus.index_of(&c.key))
        .collect();
    cited.sort_unstable();
    cited.dedup();
    cited.truncate(RELATED_WARMED);
    for &paper in &cited {
        loaded.find_related_later(paper);
    }
    let Some(matcher) = loaded.titles() else {
        return;
    };
    let (doc, loaded) = (doc.clone(), loaded.clone());
    // Finding title mentions scans the note: off the async executor.
    tokio::task::spawn_blocking(move || {
        let mentioned = doc.title_mentions(&matcher);
        let left = RELATED_WARMED.saturating_sub(cited.len());
        for paper in mentioned
            .iter()
            .filter_map(|m| m.papers.first())
            .filter(|p| !cited.contains(p))
            .take(left)
        {
            loaded.find_related_later(*paper);
        }
    });
}

/// How many cards a hover on a title shared by several papers shows.
pub(super) const CARDS_IN_HOVER: usize = 3;

/// What a position in a note points at: the paper(s) and the text that names them.
pub(super) struct PaperTarget {
    pub papers: Vec<usize>,
    pub range: std::ops::Range<usize>,
}

/// How long references and rename wait for the first scan of the notes.
pub(super) const NOTES_SCAN_PATIENCE: Duration = Duration::from_secs(30);

/// How long to wait for the client to answer one of our requests.
pub(super) const CLIENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

impl Backend {
    pub fn new(client: Client, state: Arc<ServerState>) -> Self {
        let hooks = load_hooks(client.clone(), state.clone());
        Backend {
            client,
            state,
            hooks,
        }
    }

    pub(super) async fn document_and_corpus(
        &self,
        uri: &Uri,
    ) -> Option<(Arc<DocumentSnapshot>, Arc<LoadedCorpus>)> {
        let doc = self.state.snapshot(uri)?;
        let corpus = self.state.corpus_for(&doc, &self.hooks).await;
        Some((doc, corpus))
    }

    /// Re-reads changed notes into the workspace snapshot (deleted ones leave it).
    pub(super) async fn update_notes(&self, changed: Vec<(std::path::PathBuf, bool)>) {
        let current = self.state.workspace_notes();
        let updated = tokio::task::spawn_blocking(move || {
            changed
                .iter()
                .fold((*current).clone(), |notes, (path, deleted)| {
                    if *deleted {
                        notes.without_file(path)
                    } else {
                        notes.with_file(path)
                    }
                })
        })
        .await;
        if let Ok(notes) = updated {
            *self.state.notes.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(notes);
        }
    }

    /// Reads every note of the workspace, beside the requests.
    pub(super) async fn scan_notes(&self) {
        if let Some(root) = read(&self.state.root) {
            if let Ok(notes) =
                tokio::task::spawn_blocking(move || WorkspaceNotes::scan(&root)).await
            {
                tracing::info!("{} notes in the workspace", notes.len());
                *self.state.notes.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(notes);
            }
        }
        self.state.notes_scanned.send_replace(true);
    }

    pub(super) fn clone_handle(&self) -> Backend {
        Backend {
            client: self.client.clone(),
            state: self.state.clone(),
            hooks: self.hooks.clone(),
        }
    }

    /// Asks the client to tell us about corpus and note files changing on
    /// disk, when it can register watchers dynamically.
    pub(super) async fn watch_files(&self) {
        if !self.state.client_watches_files.load(Ordering::SeqCst) {
            return;
        }
        let watchers: Vec<FileSystemWatcher> = WATCHED_GLOBS
            .iter()
            .map(|g| FileSystemWatcher {
                glob_pattern: GlobPattern::String(g.to_string()),
                kind: None,
            })
            .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: "paper-ls-watched-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        let asked = self.client.register_capability(vec![registration]);
        if !matches!(
            tokio::time::timeout(CLIENT_ANSWER_TIMEOUT, asked).await,
            Ok(Ok(()))
        ) {
            tracing::info!("the client did not register file watchers; corpus files are still followed by polling");
        }
    }

    /// Publishes unknown-key warnings after the user pauses typing.
    pub(super) fn schedule_diagnostics(&self, uri: Uri) {
        let generation = {
            let mut gens = self
                .state
                .diagnostics_generation
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let g = gens.entry(uri.clone()).or_insert(0);
            *g += 1;
            *g
        };
        let delay = Duration::from_millis(self.state.settings().diagnostics_delay_ms);
        let backend = self.clone_handle();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let current = {
                let gens = backend
                    .state
                    .diagnostics_generation
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                gens.get(&uri).copied()
            };
            if current == Some(generation) {
                backend.publish_diagnostics(uri).await;
            }
        });
    }

    pub(super) async fn publish_diagnostics(&self, uri: Uri) {
        let Some((doc, loaded)) = self.document_and_corpus(&uri).await else {
            return;
        };
        let enc = self.state.encoding();
        let (computed, for_diagnostics) = (doc.clone(), loaded.clone());
        let found = tokio::task::spawn_blocking(move || {
            for_diagnostics.with_context(|ctx| diagnostics::unknown_keys(ctx, &computed.citations))
        })
        .await
        .unwrap_or_default();
        warm_related(&doc, &loaded);
        if self
            .state
            .snapshot(&uri)
            .is_none_or(|now| now.version != doc.version)
        {
            return;
        }
        let diags = found
            .iter()
            .map(|u| convert::diagnostic(&doc, u, enc))
            .collect();
        self.client
            .publish_diagnostics(uri, diags, Some(doc.version))
            .await;
    }

    /// Says once, at start, when the cache directory cannot be written:
    /// everything still works from memory, but slower at every start.
    pub(super) async fn check_cache_dir(&self, cache: &std::path::Path) {
        let dir = cache.to_path_buf();
        let checked = tokio::task::spawn_blocking(move || {
            crate::corpus::bundled::check_cache_dir_writable(&dir)
        })
        .await;
        let Ok(Err(e)) = checked else {
            return;
        };
        let message = format!(
            "paper-ls cannot write its cache directory {} ({e}): indexes are kept in memory and built again at every start, and the bundled papers are read from memory. Set PAPER_LS_CACHE_DIR to a writable folder.",
            cache.display()
        );
        tracing::warn!("{message}");
        self.state.cache_trouble_told.store(true, Ordering::SeqCst);
        self.client
            .show_message(MessageType::WARNING, message)
            .await;
    }

    pub(super) async fn pull_settings(&self) {
        let item = ConfigurationItem {
            scope_uri: None,
            section: Some(SECTION.to_string()),
        };
        // Never wait on the client forever: a client that went away (or never
        // answers) must not keep this handler, and so the server, alive.
        let asked =
            tokio::time::timeout(CLIENT_ANSWER_TIMEOUT, self.client.configuration(vec![item]))
                .await;
        if let Ok(Ok(values)) = asked {
            if let Some(value) = values.into_iter().next().filter(|v| !v.is_null()) {
                self.apply_settings(Settings::from_json(&value));
            }
        }
    }

    pub(super) fn apply_settings(&self, settings: Settings) {
        *self
            .state
            .settings
            .write()
            .unwrap_or_else(|e| e.into_inner()) = settings;
        self.state.forget_unused_corpora();
        for uri in self.state.open_uris() {
            self.schedule_diagnostics(uri);
        }
        // Hints may have been switched on or off.
        let client = self.client.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(CLIENT_ANSWER_TIMEOUT, client.inlay_hint_refresh()).await;
        });
    }

    /// `paper-ls/status`: the corpora loaded so far, their size and whether
    /// full-text search is ready, for status lines and benchmarks.
    pub async fn status(&self) -> Result<serde_json::Value> {
        let corpora: Vec<serde_json::Value> = self
            .state
            .corpora
            .loaded()
            .into_iter()
            .map(|(selection, loaded)| {
                serde_json::json!({
                    "sources": if selection.is_empty() { vec!["<bundled>".to_string()] } else { selection.iter().map(|p| p.display().to_string()).collect() },
                    "papers": loaded.corpus.papers.len(),
                    "problems": loaded.corpus.problems.len(),
                    "indexed": loaded.index().is_some(),
                })
            })
            .collect();
        let ready = !corpora.is_empty() && corpora.iter().all(|c| c["indexed"] == true);
        Ok(serde_json::json!({ "corpora": corpora, "indexReady": ready }))
    }

    /// Offset of a request's position in its document, `None` past the end.
    pub(super) fn offset_in(&self, doc: &DocumentSnapshot, pos: Position) -> Option<usize> {
        doc.offset(pos.line, pos.character, self.state.encoding())
    }

    /// The citation (known key or not) at a position.
    pub(super) async fn citation_at(
        &self,
        at: &TextDocumentPositionParams,
    ) -> Option<(Arc<DocumentSnapshot>, Arc<LoadedCorpus>, notes::Citation)> {
        let (doc, loaded) = self.document_and_corpus(&at.text_document.uri).await?;
        let offset = self.offset_in(&doc, at.position)?;
        let citation = notes::citation_at(&doc.citations, offset)?.clone();
        Some((doc, loaded, citation))
    }

    /// What the position points at: a cited key, else a title written in prose.
    pub(super) async fn paper_at(
        &self,
        params: &TextDocumentPositionParams,
    ) -> Option<(Arc<DocumentSnapshot>, Arc<LoadedCorpus>, PaperTarget)> {
        let (doc, loaded) = self.document_and_corpus(&params.text_document.uri).await?;
        let offset = self.offset_in(&doc, params.position)?;
        if let Some(citation) = notes::citation_at(&doc.citations, offset) {
            let paper = loaded.corpus.index_of(&citation.key)?;
            let target = PaperTarget {
                papers: vec![paper],
                range: citation.range.clone(),
            };
            return Some((doc, loaded, target));
        }
        let matcher = loaded.titles()?;
        let scan = doc.clone();
        let mentions = tokio::task::spawn_blocking(move || scan.title_mentions(&matcher))
            .await
            .ok()?;
        let mention = mention_at(&mentions, offset)?;
        let target = PaperTarget {
            papers: mention.papers.clone(),
            range: mention.range.clone(),
        };
        Some((doc, loaded, target))
    }
}

pub(super) fn negotiate_encoding(params: &InitializeParams) -> PositionEncoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => PositionEncoding::Utf8,
        _ => PositionEncoding::Utf16,
    }
}

pub(super) fn workspace_root(params: &InitializeParams) -> Option<std::path::PathBuf> {
    let folder = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri);
    #[allow(deprecated)]
    let uri = folder.or(params.root_uri.as_ref())?;
    uri.to_file_path().map(|p| p.into_owned())
}

pub(super) fn capabilities(encoding: PositionEncoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
            PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(["@", "{", ",", ";"].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        implementation_provider: Some(ImplementationProviderCapability::Simple(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: commands::COMMANDS.iter().map(|c| c.to_string()).collect(),
            ..ExecuteCommandOptions::default()
        }),
        ..ServerCapabilities::default()
    }
}

pub(super) fn language_of(uri: &Uri, language_id: Option<&str>) -> Option<Language> {
    let by_id = match language_id {
        Some("markdown" | "quarto" | "rmd" | "rmarkdown" | "pandoc") => Some(Language::Markdown),
        Some("latex" | "tex" | "plaintex" | "context") => Some(Language::Latex),
        _ => None,
    };
    by_id.or_else(|| uri.to_file_path().and_then(|p| Language::from_path(&p)))
}
