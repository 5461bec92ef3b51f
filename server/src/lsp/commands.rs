//! `workspace/executeCommand` and `workspace/symbol`: the corpus searched
//! and related papers listed for the editor clients' own pickers.
//!
//! Commands take their arguments by position: `paper-ls.search [query,
//! limit?]` and `paper-ls.related [key, limit?]`; each returns a list of
//! papers (key, title, authors, year, venue, abstract, and where the entry
//! is as an LSP location).

use super::convert;
use super::corpora::LoadedCorpus;
use super::position::PositionEncoding;
use crate::corpus::{bundled, Paper};
use crate::features::{definition, related, PaperContext};
use crate::index::SearchRequest;
use serde_json::{json, Value};
use std::sync::Arc;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;

pub const SEARCH: &str = "paper-ls.search";
pub const RELATED: &str = "paper-ls.related";
pub const COMMANDS: &[&str] = &[SEARCH, RELATED];

const DEFAULT_LIMIT: usize = 20;

pub async fn execute(loaded: Arc<LoadedCorpus>, params: ExecuteCommandParams) -> Result<Value> {
    let args = params.arguments;
    let text = args.first().and_then(Value::as_str).map(str::to_string);
    let limit = args
        .get(1)
        .and_then(Value::as_u64)
        .map_or(DEFAULT_LIMIT, |n| (n as usize).clamp(1, 200));
    let command = params.command;
    let Some(text) = text else {
        return Err(Error::invalid_params(format!(
            "{command} takes a string as its first argument"
        )));
    };
    let answer = tokio::task::spawn_blocking(move || {
        loaded.with_context(|ctx| match command.as_str() {
            SEARCH => Ok(search(ctx, &text, limit)),
            RELATED => match ctx.corpus.index_of(&text) {
                Some(i) => Ok(papers_json(ctx, &related::related_papers(ctx, i, limit))),
                None => Err(Error::invalid_params(format!(
                    "no paper has the key `{text}`"
                ))),
            },
            other => Err(Error::invalid_params(format!(
                "unknown command `{other}`; known: {}",
                COMMANDS.join(", ")
            ))),
        })
    })
    .await
    .map_err(|_| Error::internal_error())?;
    answer
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
                let p = &ctx.corpus.papers[i];
                let location = definition::paper_location(ctx.corpus, p, &cache)
                    .ok()
                    .and_then(|t| convert::location(&t, PositionEncoding::Utf16));
                paper_json(p, location)
            })
            .collect(),
    )
}

fn paper_json(p: &Paper, location: Option<Location>) -> Value {
    json!({
        "key": p.key,
        "title": p.title,
        "authors": p.authors.iter().map(|a| a.display()).collect::<Vec<_>>(),
        "year": p.year,
        "venue": p.venue,
        "abstract": p.abstract_text,
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
                let p = &ctx.corpus.papers[hit.paper];
                let target = definition::paper_location(ctx.corpus, p, &cache).ok()?;
                Some(SymbolInformation {
                    name: p.title.clone(),
                    kind: SymbolKind::OBJECT,
                    tags: None,
                    deprecated: None,
                    location: convert::location(&target, enc)?,
                    container_name: Some(p.key.clone()),
                })
            })
            .collect()
    })
}
