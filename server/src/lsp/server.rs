//! The `LanguageServer` implementation: one handler per request, each
//! `from_proto` → snapshot → feature (off the async executor, `run`) →
//! `to_proto`. Besides the handlers: publishing
//! diagnostics after the user pauses, settings, file watchers, and the
//! status request for clients and benchmarks.

use super::capabilities::{capabilities, file_watchers};
use super::client_reports::{self, ClientFlags, Notice, SourceFileDiagnostics};
use super::commands;
use super::from_proto;
use super::large_answers::{self, NOTES_SCAN_PATIENCE};
use super::pinned::{PinnedDocuments, RequestKey};
use super::quick_answers;
use super::run::run_feature;
use super::to_proto;
use super::CLIENT_ANSWER_TIMEOUT;
use crate::features::{
    code_actions, definition, diagnostics, inlay_hints, links, related, rename, search,
};
use crate::workspace::settings::{Settings, SECTION};
use crate::workspace::{follow_sources, Change, DocumentId, Setup, Snapshot, Workspace};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::request::{GotoImplementationParams, GotoImplementationResponse};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

#[derive(Clone)]
pub struct Server {
    client: Client,
    workspace: Arc<Workspace>,
    flags: Arc<ClientFlags>,
    pinned: Arc<PinnedDocuments>,
    /// Bumped on every change of a document, so a delayed diagnostics run
    /// can tell that a newer one superseded it.
    diagnostics_generation: Arc<Mutex<HashMap<DocumentId, u64>>>,
    /// Problems and hints published on corpus files.
    source_files: Arc<SourceFileDiagnostics>,
}

impl Server {
    pub fn new(
        client: Client,
        workspace: Arc<Workspace>,
        pinned: Arc<PinnedDocuments>,
        notices: UnboundedReceiver<Notice>,
    ) -> Server {
        let flags = Arc::new(ClientFlags::default());
        let source_files = Arc::new(SourceFileDiagnostics::default());
        tokio::spawn(client_reports::forward(
            client.clone(),
            flags.clone(),
            source_files.clone(),
            notices,
        ));
        Server {
            client,
            workspace,
            flags,
            pinned,
            diagnostics_generation: Arc::default(),
            source_files,
        }
    }

    /// The snapshot for a request: its document as the request was sent
    /// against it (see `pinned`), else as it is now.
    async fn snapshot_for(&self, key: RequestKey) -> Option<Snapshot> {
        match self.pinned.take(&key) {
            Some(document) => self.workspace.snapshot_of(document).await,
            None => self.workspace.snapshot(&key.uri).await,
        }
    }

    /// The snapshot of a request's document and the byte offset of its position.
    async fn snapshot_at(
        &self,
        method: &str,
        at: &TextDocumentPositionParams,
    ) -> Option<(Snapshot, usize)> {
        let uri = at.text_document.uri.as_str();
        let key = RequestKey::at_position(method, uri, at.position.line, at.position.character);
        let snap = self.snapshot_for(key).await?;
        let offset = from_proto::offset(&snap, at.position)?;
        Some((snap, offset))
    }

    /// The snapshot of a request's document for a range in it.
    async fn snapshot_over(&self, method: &str, uri: &Uri, range: Range) -> Option<Snapshot> {
        let key = RequestKey::at_range(
            method,
            uri.as_str(),
            (range.start.line, range.start.character),
            (range.end.line, range.end.character),
        );
        self.snapshot_for(key).await
    }

    /// Publishes unknown-key warnings after the user pauses typing.
    fn schedule_diagnostics(&self, id: DocumentId) {
        // Only notes get warnings (a `.bib` open in the editor is no note).
        if self.workspace.document(&id).is_none() {
            return;
        }
        let generation = {
            let mut gens = crate::workspace::unpoisoned(&self.diagnostics_generation);
            let g = gens.entry(id.clone()).or_insert(0);
            *g += 1;
            *g
        };
        let delay = Duration::from_millis(self.workspace.settings().diagnostics_delay_ms);
        let server = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let current = crate::workspace::unpoisoned(&server.diagnostics_generation)
                .get(&id)
                .copied();
            if current == Some(generation) {
                server.publish_diagnostics(id).await;
            }
        });
    }

    async fn publish_diagnostics(&self, id: DocumentId) {
        let Some(snap) = self.workspace.snapshot(&id).await else {
            return;
        };
        let for_diagnostics = snap.clone();
        let Ok((unknown, missing)) = run_feature("diagnostics", move || {
            (
                diagnostics::unknown_keys_in(&for_diagnostics),
                diagnostics::not_in_bibliography(&for_diagnostics),
            )
        })
        .await
        else {
            return;
        };
        warm_related(&snap);
        if snap.bibliography.is_some() {
            warm_entry_copies(&snap);
        }
        let Some(doc) = snap.document.as_ref() else {
            return;
        };
        if self
            .workspace
            .document(&id)
            .is_none_or(|now| now.version != doc.version)
        {
            return;
        }
        let Ok(uri) = id.parse::<Uri>() else {
            return;
        };
        let enc = snap.encoding;
        let mut diags: Vec<Diagnostic> = unknown
            .iter()
            .map(|u| to_proto::diagnostic(doc, u, enc))
            .chain(
                missing
                    .iter()
                    .map(|m| to_proto::not_in_bibliography(doc, m, enc)),
            )
            .collect();
        diags.sort_by_key(|d| (d.range.start.line, d.range.start.character));
        self.client
            .publish_diagnostics(uri, diags, Some(doc.version))
            .await;
        self.publish_uncited_entries(&snap).await;
    }

    /// Hints on the entries of the document's bibliography that no note
    /// cites, once every note of the workspace has been read (before that,
    /// every entry would look uncited).
    async fn publish_uncited_entries(&self, snap: &Snapshot) {
        if snap.bibliography.is_none() || !self.workspace.notes_are_scanned() {
            return;
        }
        let for_hints = snap.clone();
        let Ok(by_file) = run_feature("uncited entries", move || {
            diagnostics::uncited_entries(&for_hints)
        })
        .await
        else {
            return;
        };
        for (file, entries) in by_file {
            let Some(uri) = Uri::from_file_path(&file) else {
                continue;
            };
            let hints = entries
                .iter()
                .map(|e| to_proto::uncited_entry(e, snap.encoding))
                .collect();
            if let Some(all) = self.source_files.set_hints(&uri, hints) {
                self.client.publish_diagnostics(uri, all, None).await;
            }
        }
    }

    /// Has the title mentions of every note found (see
    /// `Workspace::remember_note_mentions`) and says so in the client's log.
    async fn remember_note_mentions(&self) {
        if let Some(said) = self.workspace.remember_note_mentions().await {
            self.client.log_message(MessageType::INFO, said).await;
        }
    }

    fn diagnose_open_documents(&self) {
        for id in self.workspace.open_documents() {
            self.schedule_diagnostics(id);
        }
    }

    /// Asks the client to tell us about corpus and note files changing on
    /// disk, when it can register watchers dynamically.
    async fn watch_files(&self) {
        if !self.flags.watches_files.load(Ordering::SeqCst) {
            return;
        }
        let asked = self.client.register_capability(vec![file_watchers()]);
        if !matches!(
            tokio::time::timeout(CLIENT_ANSWER_TIMEOUT, asked).await,
            Ok(Ok(()))
        ) {
            tracing::info!("the client did not register file watchers; corpus files are still followed by polling");
        }
    }

    /// Says once, at start, when the cache directory cannot be written:
    /// everything still works from memory, but slower at every start.
    async fn check_cache_dir(&self) {
        let dir = self.workspace.cache().dir().to_path_buf();
        let for_check = dir.clone();
        let checked = tokio::task::spawn_blocking(move || {
            crate::corpus::bundled::check_cache_dir_writable(&for_check)
        })
        .await;
        let Ok(Err(e)) = checked else {
            return;
        };
        let message = format!(
            "paper-ls cannot write its cache directory {} ({e}): indexes are kept in memory and built again at every start, and the bundled papers are read from memory. Set PAPER_LS_CACHE_DIR to a writable folder.",
            dir.display()
        );
        tracing::warn!("{message}");
        self.flags.cache_trouble_told.store(true, Ordering::SeqCst);
        self.client
            .show_message(MessageType::WARNING, message)
            .await;
    }

    async fn pull_settings(&self) {
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

    fn apply_settings(&self, settings: Settings) {
        self.workspace.apply(Change::Settings(settings));
        let workspace = self.workspace.clone();
        tokio::task::spawn_blocking(move || workspace.forget_unused_corpora());
        self.diagnose_open_documents();
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
            .workspace
            .corpora()
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

    /// `paper-ls/documentText`: the server's copy of an open document (its
    /// version and text), so a client or a test can check that the two agree.
    pub async fn document_text(&self, params: TextDocumentIdentifier) -> Result<serde_json::Value> {
        match self.workspace.document(params.uri.as_str()) {
            Some(doc) => Ok(serde_json::json!({ "version": doc.version, "text": &*doc.text })),
            None => Err(Error::invalid_params(format!(
                "{} is not open",
                params.uri.as_str()
            ))),
        }
    }
}

/// Has the related papers of what the document cites and of the titles it
/// mentions found in the background, so hovering them shows them at once.
fn warm_related(snap: &Snapshot) {
    if !snap.corpus.is_indexed() {
        return;
    }
    let snap = snap.clone();
    // Finding title mentions scans the note: off the async executor, on
    // one background thread that only does the newest of these scans.
    static WARM_RELATED: std::sync::OnceLock<crate::background::Latest> =
        std::sync::OnceLock::new();
    WARM_RELATED
        .get_or_init(crate::background::Latest::new)
        .submit("warm-related", move || {
            for paper in related::papers_to_warm(&snap) {
                snap.corpus.find_related_later(paper);
            }
        });
}

/// Reads the library's `@string` macros once a document has a bibliography
/// of its own, so that the first paper added to it does not wait for them
/// (a quarter of a second on CryptoBib).
fn warm_entry_copies(snap: &Snapshot) {
    let snap = snap.clone();
    // On the request pool, not a background thread: a quick fix that
    // arrives meanwhile waits for the same memo.
    tokio::task::spawn_blocking(move || {
        snap.corpus.bib_macros(&*snap.files);
    });
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = from_proto::encoding(&params);
        let caps = &params.capabilities;
        let shows_progress = caps
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        let watches = caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.flags
            .shows_progress
            .store(shows_progress, Ordering::SeqCst);
        self.flags.watches_files.store(watches, Ordering::SeqCst);
        let shows_disabled = caps
            .text_document
            .as_ref()
            .and_then(|t| t.code_action.as_ref())
            .and_then(|c| c.disabled_support)
            .unwrap_or(false);
        self.flags
            .shows_disabled_actions
            .store(shows_disabled, Ordering::SeqCst);
        let warning = self.workspace.initialize(Setup {
            root: from_proto::workspace_root(&params),
            encoding,
            settings: params
                .initialization_options
                .as_ref()
                .map(Settings::from_json),
        });
        if let Some(warning) = warning {
            tracing::warn!("{warning}");
        }
        Ok(InitializeResult {
            capabilities: capabilities(encoding),
            server_info: Some(ServerInfo {
                name: "paper-ls".into(),
                version: Some(crate::VERSION.into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        // The default citation style and CSL's locales, parsed before the
        // first hover wants them.
        tokio::task::spawn_blocking(crate::features::reference::warm_up);
        self.check_cache_dir().await;
        let message = format!(
            "paper-ls {} ready (cache: {})",
            crate::VERSION,
            self.workspace.cache().dir().display()
        );
        self.client.log_message(MessageType::INFO, message).await;
        self.pull_settings().await;
        self.watch_files().await;
        let server = self.clone();
        tokio::spawn(async move {
            server.workspace.scan_notes().await;
            // What every note cites is known now: bibliography hints.
            server.diagnose_open_documents();
            server.remember_note_mentions().await;
        });
        let server = self.clone();
        let after_swap: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            server.diagnose_open_documents();
            let server = server.clone();
            tokio::spawn(async move { server.remember_note_mentions().await });
        });
        tokio::spawn(follow_sources(self.workspace.clone(), after_swap));
    }

    async fn shutdown(&self) -> Result<()> {
        self.workspace.shut_down();
        Ok(())
    }

    // The text itself was applied as the message was read (`text_sync`).
    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        self.schedule_diagnostics(from_proto::document_id(&params.text_document.uri));
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        self.schedule_diagnostics(from_proto::document_id(&params.text_document.uri));
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let uri = params.text_document.uri;
        if let Some(path) = from_proto::file_path(&uri) {
            self.workspace.files_changed(vec![(path, false)]).await;
        }
        self.schedule_diagnostics(from_proto::document_id(&uri));
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        // Only what this document's own warnings published goes with it: a
        // corpus file closed in the editor keeps its load's problems.
        let had_warnings = crate::workspace::unpoisoned(&self.diagnostics_generation)
            .remove(uri.as_str())
            .is_some();
        if had_warnings {
            self.client.publish_diagnostics(uri, Vec::new(), None).await;
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let pushed = params.settings;
        if pushed.is_null()
            || (pushed.is_object()
                && pushed.get(SECTION).is_none()
                && pushed.get("corpus").is_none())
        {
            self.pull_settings().await;
        } else {
            self.apply_settings(Settings::from_json(&pushed));
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let changed = params
            .changes
            .iter()
            .filter_map(|c| {
                Some((
                    from_proto::file_path(&c.uri)?,
                    c.typ == FileChangeType::DELETED,
                ))
            })
            .collect();
        self.workspace.files_changed(changed).await;
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = &params.text_document_position;
        let Some((snap, offset)) = self.snapshot_at("textDocument/completion", at).await else {
            return Ok(None);
        };
        let uri = at.text_document.uri.clone();
        run_feature("completion", move || {
            quick_answers::completion_answer(&snap, offset, &uri)
        })
        .await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = &params.text_document_position_params;
        let Some((snap, offset)) = self.snapshot_at("textDocument/hover", at).await else {
            return Ok(None);
        };
        run_feature("hover", move || quick_answers::hover_answer(&snap, offset)).await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = &params.text_document_position_params;
        let Some((snap, offset)) = self.snapshot_at("textDocument/definition", at).await else {
            return Ok(None);
        };
        run_feature("go to paper", move || {
            quick_answers::definition_answer(&snap, offset)
        })
        .await
    }

    async fn goto_implementation(
        &self,
        params: GotoImplementationParams,
    ) -> Result<Option<GotoImplementationResponse>> {
        let at = &params.text_document_position_params;
        let Some((snap, offset)) = self.snapshot_at("textDocument/implementation", at).await else {
            return Ok(None);
        };
        run_feature("related papers", move || {
            let found = definition::implementation(&snap, offset)?;
            Some(GotoImplementationResponse::Array(to_proto::locations(
                &found,
                snap.encoding,
            )))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let method = "textDocument/codeAction";
        let Some(snap) = self.snapshot_over(method, &uri, params.range).await else {
            return Ok(None);
        };
        let Some(range) = from_proto::range(&snap, params.range) else {
            return Ok(None);
        };
        let shows_disabled = self.flags.shows_disabled_actions.load(Ordering::SeqCst);
        let only = params.context.only;
        run_feature("code actions", move || {
            let doc = snap.document.as_ref()?;
            let actions = code_actions::code_actions(&snap, range)
                .into_iter()
                .filter_map(|a| to_proto::code_action(doc, &uri, a, snap.encoding, shows_disabled))
                .filter(|a| to_proto::is_of_kinds(a, only.as_deref()))
                .collect();
            Some(actions)
        })
        .await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        if !self.workspace.settings().inlay_hints {
            return Ok(Some(Vec::new()));
        }
        let uri = &params.text_document.uri;
        let method = "textDocument/inlayHint";
        let Some(snap) = self.snapshot_over(method, uri, params.range).await else {
            return Ok(None);
        };
        let start = from_proto::offset(&snap, params.range.start).unwrap_or(0);
        let end = from_proto::offset(&snap, params.range.end).unwrap_or(usize::MAX);
        run_feature("inlay hints", move || {
            let doc = snap.document.as_ref()?;
            let hints = inlay_hints::inlay_hints(&snap, start..end.min(doc.text.len()))
                .into_iter()
                .map(|h| to_proto::inlay_hint(doc, h, snap.encoding))
                .collect();
            Some(hints)
        })
        .await
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        let Some(snap) = self
            .workspace
            .snapshot(params.text_document.uri.as_str())
            .await
        else {
            return Ok(None);
        };
        run_feature("document links", move || {
            let doc = snap.document.as_ref()?;
            let links = links::paper_links(&snap)
                .into_iter()
                .filter_map(|l| to_proto::document_link(doc, l, snap.encoding))
                .collect();
            Some(links)
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let snap = self.workspace.workspace_snapshot().await;
        run_feature("paper search", move || {
            let symbols = search::paper_symbols(&snap, &params.query)
                .into_iter()
                .filter_map(|s| to_proto::symbol(s, snap.encoding))
                .collect();
            Some(WorkspaceSymbolResponse::Flat(symbols))
        })
        .await
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> Result<Option<serde_json::Value>> {
        commands::execute(&self.workspace, &self.client, params)
            .await
            .map(Some)
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.workspace.notes_scanned(NOTES_SCAN_PATIENCE).await;
        let at = &params.text_document_position;
        let Some((snap, offset)) = self.snapshot_at("textDocument/references", at).await else {
            return Ok(None);
        };
        large_answers::find_references(snap, offset).await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let method = "textDocument/prepareRename";
        let Some((snap, offset)) = self.snapshot_at(method, &params).await else {
            return Ok(None);
        };
        let checked = run_feature("rename", move || {
            let found = rename::prepare_rename_at(&snap, offset);
            let doc = snap.document.clone();
            (found, doc, snap.encoding)
        })
        .await?;
        match checked {
            (Ok(Some((range, placeholder))), Some(doc), enc) => {
                Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
                    range: to_proto::range(&doc, &range, enc),
                    placeholder,
                }))
            }
            (Ok(_), _, _) => Ok(None),
            (Err(refusal), _, _) => Err(Error::invalid_params(refusal.message)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.workspace.notes_scanned(NOTES_SCAN_PATIENCE).await;
        let at = &params.text_document_position;
        let Some((snap, offset)) = self.snapshot_at("textDocument/rename", at).await else {
            return Ok(None);
        };
        large_answers::rename_edits(snap, offset, params.new_name).await
    }
}
