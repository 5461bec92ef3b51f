//! `workspace/executeCommand`: the corpus searched and related papers
//! listed for the editor clients' own pickers.
//!
//! Commands take their arguments by position: `paper-ls.search [query,
//! limit?]` and `paper-ls.related [key, limit?]` return a list of papers
//! (key, title, authors, year, venue, abstract, and where the entry is as an
//! LSP location); `paper-ls.literatureNote [key]` creates the paper's note
//! from the template and opens it (`window/showDocument`);
//! `paper-ls.reindex` reads every corpus again and rebuilds its index;
//! `paper-ls.addToBibliography [documentUri, keys]` appends the papers'
//! entries to the document's own bibliography through `workspace/applyEdit`
//! (so the edit is the client's, and undoable), and answers what was added
//! and what was refused, with the reasons (also shown to the user);
//! `paper-ls.openPaper [key]` asks the client to open the paper's PDF (or
//! its DOI, arXiv page, URL) outside the editor (`window/showDocument`,
//! `external`).

use super::run::run_feature;
use super::to_proto::{papers_json, workspace_edit};
use super::CLIENT_ANSWER_TIMEOUT;
use crate::features::add_to_bibliography::{plan, write_plan};
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
pub const ADD_TO_BIBLIOGRAPHY: &str = "paper-ls.addToBibliography";
pub const OPEN_PAPER: &str = "paper-ls.openPaper";
pub const REFERENCE_LIST: &str = "paper-ls.referenceList";
pub const COMMANDS: &[&str] = &[
    OPEN_PAPER,
    REFERENCE_LIST,
    SEARCH,
    RELATED,
    LITERATURE_NOTE,
    REINDEX,
    ADD_TO_BIBLIOGRAPHY,
];

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
        (ADD_TO_BIBLIOGRAPHY, Some(uri)) => {
            let keys = match args.get(1) {
                Some(Value::String(key)) => vec![key.clone()],
                Some(Value::Array(keys)) => keys
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            };
            add_to_bibliography(workspace, client, &uri, keys).await
        }
        (OPEN_PAPER, Some(key)) => {
            let snap = workspace.workspace_snapshot().await;
            let target = run_feature("open paper", move || {
                let corpus = snap.corpus.corpus();
                let paper = corpus.get(&key)?;
                crate::features::card::open_target(corpus, &paper)
            })
            .await?;
            let Some((target, _)) = target else {
                return Err(Error::invalid_params(
                    "no PDF, DOI, arXiv id or URL for this key",
                ));
            };
            let shown = match target.parse::<Uri>() {
                Ok(uri) => {
                    let show = ShowDocumentParams {
                        uri,
                        external: Some(true),
                        take_focus: Some(true),
                        selection: None,
                    };
                    tokio::time::timeout(CLIENT_ANSWER_TIMEOUT, client.show_document(show))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or(false)
                }
                Err(_) => false,
            };
            Ok(json!({ "target": target, "shown": shown }))
        }
        (REFERENCE_LIST, Some(uri)) => {
            let Some(snap) = workspace.snapshot(&uri).await else {
                return Err(Error::invalid_params(format!(
                    "{uri} is not open; {REFERENCE_LIST} works on open documents"
                )));
            };
            run_feature("reference list", move || {
                let (style, entries) = crate::features::reference::document_reference_list(&snap)?;
                Ok::<_, String>(json!({ "style": style, "markdown": entries.join("\n\n") }))
            })
            .await?
            .map_err(Error::invalid_params)
        }
        (
            SEARCH | RELATED | LITERATURE_NOTE | ADD_TO_BIBLIOGRAPHY | OPEN_PAPER | REFERENCE_LIST,
            None,
        ) => Err(Error::invalid_params(format!(
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

/// Adds the papers of `keys` to the bibliography of the open document
/// `uri`, through the client.
async fn add_to_bibliography(
    workspace: &Arc<Workspace>,
    client: &Client,
    uri: &str,
    keys: Vec<String>,
) -> Result<Value> {
    if keys.is_empty() {
        return Err(Error::invalid_params(format!(
            "{ADD_TO_BIBLIOGRAPHY} takes a document URI and a list of keys"
        )));
    }
    let Some(snap) = workspace.snapshot(uri).await else {
        return Err(Error::invalid_params(format!(
            "{uri} is not open; {ADD_TO_BIBLIOGRAPHY} works on open documents"
        )));
    };
    let encoding = snap.encoding;
    let wanted = keys.clone();
    let added = run_feature("add to bibliography", move || {
        let planned = plan(&snap, &wanted)?;
        if planned.to_add.is_empty() && planned.refused.is_empty() {
            // Everything asked for is there already (completion of a
            // paper the file has): nothing to do, nothing to say.
            return Ok(None);
        }
        write_plan(&snap, &planned).map(Some)
    })
    .await?;
    let addition = match added {
        Ok(Some(addition)) => addition,
        Ok(None) => return Ok(json!({ "added": [], "refused": [] })),
        Err(reason) => {
            client.show_message(MessageType::WARNING, &reason).await;
            return Ok(json!({ "added": [], "refused": [{ "keys": keys, "reason": reason }] }));
        }
    };
    let file = addition.edit.path.clone();
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let label = match addition.added.as_slice() {
        [one] => format!("Add {one} to {name}"),
        many => format!("Add {} papers to {name}", many.len()),
    };
    let edit = workspace_edit(std::slice::from_ref(&addition.edit), encoding);
    let applied = tokio::time::timeout(
        CLIENT_ANSWER_TIMEOUT,
        client.send_request::<request::ApplyWorkspaceEdit>(ApplyWorkspaceEditParams {
            label: Some(label),
            edit,
        }),
    )
    .await;
    let applied = matches!(applied, Ok(Ok(ref r)) if r.applied);
    let refused: Vec<Value> = addition
        .refused
        .iter()
        .map(|r| json!({ "key": r.key, "reason": r.reason, "citeInstead": r.cite_instead }))
        .collect();
    if let Some(first) = addition.refused.first() {
        let more = match addition.refused.len() {
            1 => String::new(),
            n => format!(" (and {} more not added)", n - 1),
        };
        client
            .show_message(MessageType::WARNING, format!("{}{more}", first.reason))
            .await;
    }
    Ok(json!({
        "file": file,
        "added": addition.added,
        "refused": refused,
        "applied": applied,
    }))
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
