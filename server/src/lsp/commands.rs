//! `workspace/executeCommand`: the corpus searched and related papers
//! listed for the editor clients' own pickers.
//!
//! Commands take their arguments by position: `paper-ls.search [query,
//! limit?]` and `paper-ls.related [key, limit?]` return a list of papers
//! (key, title, authors, year, venue, abstract, and where the entry is as an
//! LSP location); `paper-ls.literatureNote [key]` creates the paper's note
//! from the template and opens it (`window/showDocument`);
//! `paper-ls.reindex` reads every corpus again and rebuilds its index.

use super::run::run_feature;
use super::to_proto::papers_json;
use super::CLIENT_ANSWER_TIMEOUT;
use crate::features::literature_note::open_literature_note;
use crate::features::search::{related_to_key, search};
use crate::workspace::Workspace;
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

pub async fn execute(
    workspace: &Arc<Workspace>,
    client: &Client,
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
        (REINDEX, _) => {
            // The workspace's corpus is among those read again, loaded or not.
            workspace.workspace_snapshot().await;
            let (corpora, papers) = workspace.reindex().await;
            Ok(json!({ "corpora": corpora, "papers": papers }))
        }
        (SEARCH | RELATED | LITERATURE_NOTE, None) => Err(Error::invalid_params(format!(
            "{command} takes a string as its first argument"
        ))),
        (LITERATURE_NOTE, Some(key)) => {
            let snap = workspace.workspace_snapshot().await;
            let (path, created) =
                run_feature("literature note", move || open_literature_note(&snap, &key))
                    .await?
                    .map_err(Error::invalid_params)?;
            show_document(client, &path).await;
            Ok(json!({ "path": path, "created": created }))
        }
        (SEARCH, Some(query)) => {
            let snap = workspace.workspace_snapshot().await;
            run_feature("search", move || {
                let found = search(&snap, &query, limit);
                papers_json(&snap, &found)
            })
            .await
        }
        (RELATED, Some(key)) => {
            let snap = workspace.workspace_snapshot().await;
            run_feature("related papers", move || {
                related_to_key(&snap, &key, limit).map(|found| papers_json(&snap, &found))
            })
            .await?
            .map_err(Error::invalid_params)
        }
        (other, _) => Err(Error::invalid_params(format!(
            "unknown command `{other}`; known: {}",
            COMMANDS.join(", ")
        ))),
    }
}

async fn show_document(client: &Client, path: &std::path::Path) {
    if let Some(uri) = Uri::from_file_path(path) {
        let show = ShowDocumentParams {
            uri,
            external: Some(false),
            take_focus: Some(true),
            selection: None,
        };
        let _ = tokio::time::timeout(CLIENT_ANSWER_TIMEOUT, client.show_document(show)).await;
    }
}
