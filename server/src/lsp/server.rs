//! The `LanguageServer` implementation: thin handlers that take a snapshot,
//! run a feature off the executor, and convert its answer.

use super::actions;
use super::backend::{
    capabilities, language_of, negotiate_encoding, workspace_root, CARDS_IN_HOVER,
    NOTES_SCAN_PATIENCE,
};
use super::commands;
use super::config::{Settings, SECTION};
use super::convert;
use super::corpora::LoadHooks;
use super::documents::{Edit, EditOutcome, OpenDocument};
use super::reload::follow_sources;
use super::state::ServerState;
use crate::corpus::{bundled, selection};
use crate::features::references::references;
use crate::features::rename::{prepare_rename, rename_key};
use crate::features::{completion, definition, related};
use crate::notes::{self, Language};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::request::{GotoImplementationParams, GotoImplementationResponse};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

pub struct Backend {
    pub(super) client: Client,
    pub(super) state: Arc<ServerState>,
    pub(super) hooks: Arc<LoadHooks>,
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
        self.check_cache_dir(&cache).await;
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
        let cited: Vec<String> = doc.citations.iter().map(|c| c.key.to_string()).collect();
        let typed = context.typed.clone();
        let found = tokio::task::spawn_blocking(move || {
            loaded.with_context(|ctx| completion::complete_keys(ctx, &typed, limit, &cited))
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
        // The card never waits for related papers: found ahead for what
        // the notes cite and mention, they are usually there; otherwise (a
        // paper never looked at, where finding them takes tens of
        // milliseconds with abstracts) the card comes at once without
        // them, and they are found for the next hover.
        let related = loaded.cached_related(papers[0]).unwrap_or_else(|| {
            loaded.find_related_later(papers[0]);
            Arc::default()
        });
        let card = tokio::task::spawn_blocking(move || {
            loaded.with_context(|ctx| {
                let cards: Vec<String> = papers
                    .iter()
                    .take(CARDS_IN_HOVER)
                    .map(|&p| crate::features::card::paper_card(ctx.corpus, &ctx.corpus.paper(p)))
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
                    definition::paper_location(&loaded.corpus, &loaded.corpus.paper(p), &cache).ok()
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
                        definition::paper_location(ctx.corpus, &ctx.corpus.paper(i), &cache).ok()
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
                    label: InlayHintLabel::String(crate::features::card::short_title(paper.title)),
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
            let mut ranges = convert::NoteRanges::default();
            references(
                &loaded.corpus,
                &target.papers,
                &notes,
                &open,
                titles.as_deref(),
            )
            .iter()
            .filter_map(|r| {
                Some(Location {
                    uri: Uri::from_file_path(&r.path)?,
                    range: ranges.range(&r.text, &r.range, enc),
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
        let key = citation.key.to_string();
        let range = convert::range(&doc, &citation.range, self.state.encoding());
        let corpus = loaded.corpus.clone();
        let checked = tokio::task::spawn_blocking(move || prepare_rename(&corpus, &key))
            .await
            .map_err(|_| Error::internal_error())?;
        match checked {
            Ok(()) => Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
                range,
                placeholder: citation.key.to_string(),
            })),
            Err(refusal) => Err(Error::invalid_params(refusal.message)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let Some((_, loaded, citation)) = self.citation_at(&params.text_document_position).await
        else {
            return Ok(None);
        };
        let (old, new) = (citation.key.to_string(), params.new_name);
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
        let mut ranges = convert::NoteRanges::default();
        for edit in &edits {
            let Some(uri) = Uri::from_file_path(&edit.path) else {
                continue;
            };
            let range = ranges.range(&edit.text, &edit.range, enc);
            changes
                .entry(uri)
                .or_default()
                .push(TextEdit::new(range, edit.new_text.clone()));
        }
        Ok(Some(WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }))
    }
}
