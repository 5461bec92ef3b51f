//! The `LanguageServer` implementation: thin handlers that take a snapshot,
//! run a feature off the executor, and convert its answer.

use super::actions;
use super::commands;
use super::config::{Settings, SECTION};
use super::convert;
use super::corpora::{LoadHooks, LoadedCorpus};
use super::documents::{DocumentSnapshot, Edit, EditOutcome, OpenDocument};
use super::loading::load_hooks;
use super::position::PositionEncoding;
use super::reload::follow_sources;
use super::state::{read, ServerState};
use crate::corpus::{bundled, selection};
use crate::features::references::references;
use crate::features::rename::{prepare_rename, rename_key};
use crate::features::title_mentions::mention_at;
use crate::features::workspace_notes::WorkspaceNotes;
use crate::features::{completion, definition, diagnostics, related, PaperContext};
use crate::index::PaperSearch;
use crate::notes::{self, Language};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::request::{GotoImplementationParams, GotoImplementationResponse};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// Corpus sources and notes whose changes on disk matter.
const WATCHED_GLOBS: &[&str] = &[
    "**/*.{bib,bibtex,biblatex,json,jsonl,ndjson,gz}",
    "**/*.{md,markdown,qmd,Rmd,rmd,tex}",
    "**/paper-ls.toml",
];

/// How many of a document's cited papers get their related papers found
/// ahead of a hover.
const RELATED_WARMED: usize = 300;

/// Finds the related papers of what a document cites, beside the requests,
/// so hovering a citation does not wait tens of milliseconds for them.
fn warm_related(doc: &DocumentSnapshot, loaded: &Arc<LoadedCorpus>) {
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
    let loaded = loaded.clone();
    tokio::task::spawn_blocking(move || {
        for paper in cited {
            loaded.related(paper);
        }
    });
}

/// How many cards a hover on a title shared by several papers shows.
const CARDS_IN_HOVER: usize = 3;

/// What a position in a note points at: the paper(s) and the text that names them.
struct PaperTarget {
    papers: Vec<usize>,
    range: std::ops::Range<usize>,
}

/// How long references and rename wait for the first scan of the notes.
const NOTES_SCAN_PATIENCE: Duration = Duration::from_secs(30);

/// How long to wait for the client to answer one of our requests.
const CLIENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Backend {
    client: Client,
    state: Arc<ServerState>,
    hooks: Arc<LoadHooks>,
}

impl Backend {
    pub fn new(client: Client, state: Arc<ServerState>) -> Self {
        let hooks = load_hooks(client.clone(), state.clone());
        Backend {
            client,
            state,
            hooks,
        }
    }

    async fn document_and_corpus(
        &self,
        uri: &Uri,
    ) -> Option<(Arc<DocumentSnapshot>, Arc<LoadedCorpus>)> {
        let doc = self.state.snapshot(uri)?;
        let corpus = self.state.corpus_for(&doc, &self.hooks).await;
        Some((doc, corpus))
    }

    /// Re-reads changed notes into the workspace snapshot (deleted ones leave it).
    async fn update_notes(&self, changed: Vec<(std::path::PathBuf, bool)>) {
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
    async fn scan_notes(&self) {
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

    fn clone_handle(&self) -> Backend {
        Backend {
            client: self.client.clone(),
            state: self.state.clone(),
            hooks: self.hooks.clone(),
        }
    }

    /// Asks the client to tell us about corpus and note files changing on
    /// disk, when it can register watchers dynamically.
    async fn watch_files(&self) {
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
    fn schedule_diagnostics(&self, uri: Uri) {
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

    async fn publish_diagnostics(&self, uri: Uri) {
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
    fn offset_in(&self, doc: &DocumentSnapshot, pos: Position) -> Option<usize> {
        doc.offset(pos.line, pos.character, self.state.encoding())
    }

    /// The citation (known key or not) at a position.
    async fn citation_at(
        &self,
        at: &TextDocumentPositionParams,
    ) -> Option<(Arc<DocumentSnapshot>, Arc<LoadedCorpus>, notes::Citation)> {
        let (doc, loaded) = self.document_and_corpus(&at.text_document.uri).await?;
        let offset = self.offset_in(&doc, at.position)?;
        let citation = notes::citation_at(&doc.citations, offset)?.clone();
        Some((doc, loaded, citation))
    }

    /// What the position points at: a cited key, else a title written in prose.
    async fn paper_at(
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

fn negotiate_encoding(params: &InitializeParams) -> PositionEncoding {
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

fn workspace_root(params: &InitializeParams) -> Option<std::path::PathBuf> {
    let folder = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri);
    #[allow(deprecated)]
    let uri = folder.or(params.root_uri.as_ref())?;
    uri.to_file_path().map(|p| p.into_owned())
}

fn capabilities(encoding: PositionEncoding) -> ServerCapabilities {
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

fn language_of(uri: &Uri, language_id: Option<&str>) -> Option<Language> {
    let by_id = match language_id {
        Some("markdown" | "quarto" | "rmd" | "rmarkdown" | "pandoc") => Some(Language::Markdown),
        Some("latex" | "tex" | "plaintex" | "context") => Some(Language::Latex),
        _ => None,
    };
    by_id.or_else(|| uri.to_file_path().and_then(|p| Language::from_path(&p)))
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = negotiate_encoding(&params);
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
        self.state
            .client_shows_progress
            .store(shows_progress, Ordering::SeqCst);
        self.state
            .client_watches_files
            .store(watches, Ordering::SeqCst);
        *self
            .state
            .encoding
            .write()
            .unwrap_or_else(|e| e.into_inner()) = encoding;
        let root = workspace_root(&params);
        if let Some(file) = root
            .as_ref()
            .map(|r| r.join(selection::CONFIG_FILE))
            .filter(|f| f.is_file())
        {
            match selection::read_config_file(&file) {
                Ok(config) => {
                    *self
                        .state
                        .toml_corpus
                        .write()
                        .unwrap_or_else(|e| e.into_inner()) = config.corpus
                }
                Err(e) => tracing::warn!("ignoring {e}"),
            }
        }
        *self.state.root.write().unwrap_or_else(|e| e.into_inner()) = root;
        if let Some(options) = &params.initialization_options {
            *self
                .state
                .settings
                .write()
                .unwrap_or_else(|e| e.into_inner()) = Settings::from_json(options);
        }
        Ok(InitializeResult {
            capabilities: capabilities(encoding),
            server_info: Some(ServerInfo {
                name: "paper-ls".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let cache = bundled::cache_dir();
        self.client
            .log_message(
                MessageType::INFO,
                format!(
                    "paper-ls {} ready (cache: {})",
                    env!("CARGO_PKG_VERSION"),
                    cache.display()
                ),
            )
            .await;
        self.pull_settings().await;
        self.watch_files().await;
        let scanner = self.clone_handle();
        tokio::spawn(async move { scanner.scan_notes().await });
        let backend = self.clone_handle();
        let after_swap: Arc<dyn Fn() + Send + Sync> = Arc::new(move || {
            for uri in backend.state.open_uris() {
                backend.schedule_diagnostics(uri);
            }
        });
        tokio::spawn(follow_sources(
            self.state.clone(),
            self.hooks.clone(),
            after_swap,
        ));
    }

    async fn shutdown(&self) -> Result<()> {
        self.state.shutdown_requested.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let Some(language) = language_of(&d.uri, Some(&d.language_id)) else {
            return;
        };
        let path = d.uri.to_file_path().map(|p| p.into_owned());
        let doc = OpenDocument::open(path, language, d.version, &d.text);
        self.state
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(d.uri.clone(), doc);
        self.schedule_diagnostics(d.uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let edits: Vec<Edit<'_>> = params
            .content_changes
            .iter()
            .map(|c| Edit {
                range: c.range.map(|r| {
                    (
                        (r.start.line, r.start.character),
                        (r.end.line, r.end.character),
                    )
                }),
                text: &c.text,
            })
            .collect();
        let outcome = {
            let mut docs = self
                .state
                .documents
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let Some(doc) = docs.get_mut(&uri) else {
                return;
            };
            doc.apply(params.text_document.version, &edits, self.state.encoding())
        };
        match outcome {
            EditOutcome::Stale => tracing::warn!(
                "ignored a stale change (version {}) of {}",
                params.text_document.version,
                uri.as_str()
            ),
            EditOutcome::Clamped => tracing::warn!(
                "a change of {} reached past the end of the document; clamped",
                uri.as_str()
            ),
            EditOutcome::Applied => {}
        }
        self.schedule_diagnostics(uri);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if let Some(path) = params
            .text_document
            .uri
            .to_file_path()
            .map(|p| p.into_owned())
        {
            if Language::from_path(&path).is_some() {
                self.update_notes(vec![(path, false)]).await;
            }
        }
        self.schedule_diagnostics(params.text_document.uri);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.state
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&uri);
        self.state
            .diagnostics_generation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&uri);
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
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

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = params.text_document_position;
        let Some((doc, loaded)) = self.document_and_corpus(&at.text_document.uri).await else {
            return Ok(None);
        };
        let Some(offset) = self.offset_in(&doc, at.position) else {
            return Ok(None);
        };
        let Some(context) = notes::key_context_at(&doc.text, doc.language, offset) else {
            return Ok(None);
        };
        let limit = self.state.settings().max_completions;
        let enc = self.state.encoding();
        let cited: Vec<String> = doc.citations.iter().map(|c| c.key.clone()).collect();
        let typed = context.typed.clone();
        let found = tokio::task::spawn_blocking(move || {
            let index = loaded.index();
            let ctx = PaperContext {
                corpus: &loaded.corpus,
                search: index.as_deref().map(|i| i as &dyn PaperSearch),
            };
            completion::complete_keys(ctx, &typed, limit, &cited)
        })
        .await
        .unwrap_or_default();
        Ok(Some(CompletionResponse::List(convert::completion_list(
            &doc,
            &context.range,
            found,
            enc,
        ))))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let Some((doc, loaded, target)) =
            self.paper_at(&params.text_document_position_params).await
        else {
            return Ok(None);
        };
        let papers = target.papers.clone();
        let card = tokio::task::spawn_blocking(move || {
            let related = loaded.related(papers[0]);
            loaded.with_context(|ctx| {
                let cards: Vec<String> = papers
                    .iter()
                    .take(CARDS_IN_HOVER)
                    .map(|&p| crate::features::card::paper_card(ctx.corpus, &ctx.corpus.papers[p]))
                    .collect();
                cards.join("\n\n---\n\n") + &related::related_section(ctx, &related)
            })
        })
        .await
        .unwrap_or_default();
        Ok(Some(Hover {
            contents: HoverContents::Markup(convert::markdown(card)),
            range: Some(convert::range(&doc, &target.range, self.state.encoding())),
        }))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let Some((_, loaded, target)) = self.paper_at(&params.text_document_position_params).await
        else {
            return Ok(None);
        };
        let enc = self.state.encoding();
        let mut locations = tokio::task::spawn_blocking(move || {
            let cache = bundled::cache_dir();
            target
                .papers
                .iter()
                .filter_map(|&p| {
                    definition::paper_location(&loaded.corpus, &loaded.corpus.papers[p], &cache)
                        .ok()
                })
                .filter_map(|t| convert::location(&t, enc))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        Ok(match locations.len() {
            0 => None,
            1 => locations.pop().map(GotoDefinitionResponse::Scalar),
            _ => Some(GotoDefinitionResponse::Array(locations)),
        })
    }

    async fn goto_implementation(
        &self,
        params: GotoImplementationParams,
    ) -> Result<Option<GotoImplementationResponse>> {
        let Some((_, loaded, target)) = self.paper_at(&params.text_document_position_params).await
        else {
            return Ok(None);
        };
        let enc = self.state.encoding();
        let locations = tokio::task::spawn_blocking(move || {
            let cache = bundled::cache_dir();
            let related = loaded.related(target.papers[0]);
            loaded.with_context(|ctx| {
                related
                    .iter()
                    .copied()
                    .filter(|i| !target.papers.contains(i))
                    .filter_map(|i| {
                        definition::paper_location(ctx.corpus, &ctx.corpus.papers[i], &cache).ok()
                    })
                    .filter_map(|t| convert::location(&t, enc))
                    .collect::<Vec<_>>()
            })
        })
        .await
        .unwrap_or_default();
        Ok(Some(GotoImplementationResponse::Array(locations)))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let Some((doc, loaded)) = self.document_and_corpus(&uri).await else {
            return Ok(None);
        };
        let enc = self.state.encoding();
        let (Some(start), Some(end)) = (
            self.offset_in(&doc, params.range.start),
            self.offset_in(&doc, params.range.end),
        ) else {
            return Ok(None);
        };
        let actions = tokio::task::spawn_blocking(move || {
            actions::code_actions(&doc, &loaded, start..end, &uri, enc)
        })
        .await
        .unwrap_or_default();
        Ok(Some(actions))
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let loaded = self.state.workspace_corpus(&self.hooks).await;
        let enc = self.state.encoding();
        let symbols = tokio::task::spawn_blocking(move || {
            commands::paper_symbols(&loaded, &params.query, enc)
        })
        .await
        .unwrap_or_default();
        Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> Result<Option<serde_json::Value>> {
        let loaded = self.state.workspace_corpus(&self.hooks).await;
        let env = commands::CommandEnv {
            state: self.state.clone(),
            hooks: self.hooks.clone(),
            client: self.client.clone(),
        };
        commands::execute(env, loaded, params).await.map(Some)
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        self.state.sources_touched.notify_one();
        let changed: Vec<(std::path::PathBuf, bool)> = params
            .changes
            .iter()
            .filter_map(|c| {
                Some((
                    c.uri.to_file_path()?.into_owned(),
                    c.typ == FileChangeType::DELETED,
                ))
            })
            .filter(|(p, _)| Language::from_path(p).is_some())
            .collect();
        if !changed.is_empty() {
            self.update_notes(changed).await;
        }
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        if !self.state.settings().inlay_hints {
            return Ok(Some(Vec::new()));
        }
        let Some((doc, loaded)) = self.document_and_corpus(&params.text_document.uri).await else {
            return Ok(None);
        };
        let enc = self.state.encoding();
        let start = self.offset_in(&doc, params.range.start).unwrap_or(0);
        let end = self
            .offset_in(&doc, params.range.end)
            .unwrap_or(doc.text.len());
        let hints = doc
            .citations
            .iter()
            .filter(|c| c.range.end >= start && c.range.start <= end)
            .filter_map(|c| {
                let paper = loaded.corpus.get(&c.key)?;
                let (line, character) = doc.position(c.range.end, enc);
                Some(InlayHint {
                    position: Position::new(line, character),
                    label: InlayHintLabel::String(crate::features::card::short_title(&paper.title)),
                    kind: None,
                    text_edits: None,
                    tooltip: None,
                    padding_left: Some(true),
                    padding_right: None,
                    data: None,
                })
            })
            .collect();
        Ok(Some(hints))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let Some((_, loaded, target)) = self.paper_at(&params.text_document_position).await else {
            return Ok(None);
        };
        let notes = self.state.scanned_notes(NOTES_SCAN_PATIENCE).await;
        let open = self.state.open_notes();
        let enc = self.state.encoding();
        let locations = tokio::task::spawn_blocking(move || {
            let titles = loaded.titles();
            references(
                &loaded.corpus,
                &target.papers,
                &notes,
                &open,
                titles.as_deref(),
            )
            .into_iter()
            .filter_map(|r| {
                Some(Location {
                    uri: Uri::from_file_path(&r.path)?,
                    range: convert::range_in(&r.text, &r.range, enc),
                })
            })
            .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default();
        Ok(Some(locations))
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let Some((doc, loaded, citation)) = self.citation_at(&params).await else {
            return Ok(None);
        };
        let key = citation.key.clone();
        let range = convert::range(&doc, &citation.range, self.state.encoding());
        let corpus = loaded.corpus.clone();
        let checked = tokio::task::spawn_blocking(move || prepare_rename(&corpus, &key))
            .await
            .map_err(|_| Error::internal_error())?;
        match checked {
            Ok(()) => Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
                range,
                placeholder: citation.key.clone(),
            })),
            Err(refusal) => Err(Error::invalid_params(refusal.message)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let Some((_, loaded, citation)) = self.citation_at(&params.text_document_position).await
        else {
            return Ok(None);
        };
        let (old, new) = (citation.key.clone(), params.new_name);
        let notes = self.state.scanned_notes(NOTES_SCAN_PATIENCE).await;
        let (open, enc) = (self.state.open_notes(), self.state.encoding());
        let edits = tokio::task::spawn_blocking(move || {
            rename_key(&loaded.corpus, &old, &new, &notes, &open)
        })
        .await
        .map_err(|_| Error::internal_error())?
        .map_err(|refusal| Error::invalid_params(refusal.message))?;
        let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> =
            std::collections::HashMap::new();
        for edit in edits {
            let Some(uri) = Uri::from_file_path(&edit.path) else {
                continue;
            };
            changes.entry(uri).or_default().push(TextEdit::new(
                convert::range_in(&edit.text, &edit.range, enc),
                edit.new_text,
            ));
        }
        Ok(Some(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }))
    }
}
