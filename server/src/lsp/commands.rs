//! `workspace/executeCommand` and `workspace/symbol`: the corpus searched
//! and related papers listed for the editor clients' own pickers.
//!
//! Commands take their arguments by position: `paper-ls.search [query,
//! limit?]` and `paper-ls.related [key, limit?]` return a list of papers
//! (key, title, authors, year, venue, abstract, and where the entry is as an
//! LSP location); `paper-ls.literatureNote [key]` creates the paper's note
//! from the template and opens it (`window/showDocument`);
//! `paper-ls.reindex` reads every corpus again and rebuilds its index.

use super::convert;
use super::corpora::{reload, LoadHooks, LoadedCorpus, Reread};
use super::position::PositionEncoding;
use super::state::{read, ServerState};
use crate::corpus::{bundled, PaperRef};
use crate::features::literature_note::{literature_note as literature_note_text, note_file_name};
use crate::features::{definition, related, PaperContext};
use crate::index::SearchRequest;
use serde_json::{json, Value};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

pub const SEARCH: &str = "paper-ls.search";
pub const RELATED: &str = "paper-ls.related";
pub const LITERATURE_NOTE: &str = "paper-ls.literatureNote";
pub const REINDEX: &str = "paper-ls.reindex";
pub const COMMANDS: &[&str] = &[SEARCH, RELATED, LITERATURE_NOTE, REINDEX];

const DEFAULT_LIMIT: usize = 20;

/// What commands that change things need besides the corpus.
pub struct CommandEnv {
    pub state: Arc<ServerState>,
    pub hooks: Arc<LoadHooks>,
    pub client: Client,
}

pub async fn execute(
    env: CommandEnv,
    loaded: Arc<LoadedCorpus>,
    params: ExecuteCommandParams,
) -> Result<Value> {
    let args = params.arguments;
    let text = args.first().and_then(Value::as_str).map(str::to_string);
    let limit = args
        .get(1)
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |n| (n as usize).clamp(1, 200));
    let command = params.command;
    match (command.as_str(), text) {
        (REINDEX, _) => return reindex(&env).await,
        (LITERATURE_NOTE, Some(key)) => return literature_note(&env, loaded, &key).await,
        (SEARCH | RELATED | LITERATURE_NOTE, None) => Err(Error::invalid_params(format!(
            "{command} takes a string as its first argument"
        ))),
        (SEARCH | RELATED, Some(text)) => {
            let answer = tokio::task::spawn_blocking(move || {
                loaded.with_context(|ctx| match command.as_str() {
                    SEARCH => Ok(search(ctx, &text, limit)),
                    _ => match ctx.corpus.index_of(&text) {
                        Some(i) => Ok(papers_json(ctx, &related::related_papers(ctx, i, limit))),
                        None => Err(Error::invalid_params(format!(
                            "no paper has the key `{text}`"
                        ))),
                    },
                })
            })
            .await
            .map_err(|_| Error::internal_error())?;
            answer
        }
        (other, _) => Err(Error::invalid_params(format!(
            "unknown command `{other}`; known: {}",
            COMMANDS.join(", ")
        ))),
    }
}

/// Reads every loaded corpus again and rebuilds its index from scratch.
async fn reindex(env: &CommandEnv) -> Result<Value> {
    let mut papers = 0;
    let loaded = env.state.corpora.loaded();
    for (selection, old) in &loaded {
        if let Some(
            crate::index::IndexOrigin::Built(dir) | crate::index::IndexOrigin::Reopened(dir),
        ) = old.index().map(|i| i.origin.clone())
        {
            let _ = std::fs::remove_dir_all(dir);
        }
        match reload(selection.clone(), Some(old.clone()), env.hooks.clone()).await {
            Some(Reread::Fresh(fresh)) => {
                papers += fresh.corpus.papers.len();
                env.state.corpora.replace(selection, fresh);
            }
            // A damaged source: the last good papers stay (the user was told).
            Some(Reread::Kept) => papers += old.corpus.papers.len(),
            None => {}
        }
    }
    Ok(json!({ "corpora": loaded.len(), "papers": papers }))
}

/// Creates (or opens, if it exists) the literature note for a paper.
async fn literature_note(env: &CommandEnv, loaded: Arc<LoadedCorpus>, key: &str) -> Result<Value> {
    let Some(ordinal) = loaded.corpus.index_of(key) else {
        return Err(Error::invalid_params(format!(
            "no paper has the key `{key}`"
        )));
    };
    let settings = env.state.settings();
    let root = read(&env.state.root).unwrap_or_else(|| std::env::temp_dir().join("paper-ls-notes"));
    let path = root
        .join(&settings.literature_folder)
        .join(note_file_name(loaded.corpus.paper(ordinal).key));
    let created = !path.exists();
    if created {
        let text = tokio::task::spawn_blocking(move || {
            loaded.with_context(|ctx| {
                literature_note_text(ctx, ordinal, settings.literature_template.as_deref())
            })
        })
        .await
        .map_err(|_| Error::internal_error())?;
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&path, text));
        if let Err(e) = written {
            return Err(Error::invalid_params(format!(
                "cannot write {}: {e}",
                path.display()
            )));
        }
    }
    if let Some(uri) = Uri::from_file_path(&path) {
        let show = ShowDocumentParams {
            uri,
            external: Some(false),
            take_focus: Some(true),
            selection: None,
        };
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            env.client.show_document(show),
        )
        .await;
    }
    Ok(json!({ "path": path, "created": created }))
}

fn search(ctx: PaperContext<'_>, query: &str, limit: usize) -> Value {
    let found: Vec<usize> = match ctx.search {
        Some(s) => s
            .search(&SearchRequest {
                text: query,
                limit,
                as_you_type: true,
            })
            .into_iter()
            .map(|h| h.paper)
            .collect(),
        None => ctx.corpus.keys_starting_with(query).take(limit).collect(),
    };
    papers_json(ctx, &found)
}

fn papers_json(ctx: PaperContext<'_>, papers: &[usize]) -> Value {
    let cache = bundled::cache_dir();
    Value::Array(
        papers
            .iter()
            .map(|&i| {
                let p = &ctx.corpus.paper(i);
                let location = definition::paper_location(ctx.corpus, p, &cache)
                    .ok()
                    .and_then(|t| convert::location(&t, PositionEncoding::Utf16));
                paper_json(p, location)
            })
            .collect(),
    )
}

fn paper_json(p: &PaperRef<'_>, location: Option<Location>) -> Value {
    json!({
        "key": p.key,
        "title": p.title,
        "authors": p.authors.iter().map(|a| a.display()).collect::<Vec<_>>(),
        "year": p.year,
        "venue": p.venue,
        "abstract": p.abstract_text(),
        "ids": {"doi": p.ids.doi, "arxiv": p.ids.arxiv, "url": p.ids.url},
        "location": location,
    })
}

/// `workspace/symbol`: papers matching the query, each jumping to its entry.
#[allow(deprecated)] // `SymbolInformation::deprecated` must still be filled in.
pub fn paper_symbols(
    loaded: &LoadedCorpus,
    query: &str,
    enc: PositionEncoding,
) -> Vec<SymbolInformation> {
    if query.trim().is_empty() {
        return Vec::new();
    }
    let cache = bundled::cache_dir();
    loaded.with_context(|ctx| {
        let Some(search) = ctx.search else {
            return Vec::new();
        };
        search
            .search(&SearchRequest {
                text: query,
                limit: 50,
                as_you_type: true,
            })
            .into_iter()
            .filter_map(|hit| {
                let p = &ctx.corpus.paper(hit.paper);
                let target = definition::paper_location(ctx.corpus, p, &cache).ok()?;
                Some(SymbolInformation {
                    name: p.title.to_string(),
                    kind: SymbolKind::OBJECT,
                    tags: None,
                    deprecated: None,
                    location: convert::location(&target, enc)?,
                    container_name: Some(p.key.to_string()),
                })
            })
            .collect()
    })
}
