//! Text changes applied in the order the client sent them, by construction.
//!
//! tower-lsp may run notification handlers concurrently (tower-lsp #284),
//! so an edit applied in a `did_change` handler keeps its order only by the
//! accident of scheduling. Here `didOpen`, `didChange` and `didClose` are
//! applied to the workspace on the transport's reading task, as each
//! message is read and before any later one is handed on — a request that
//! follows an edit always sees it. tower-lsp's handlers for the same
//! notifications then only do what may run late (publishing diagnostics).

use super::from_proto;
use super::transport::InOrder;
use crate::workspace::documents::EditOutcome;
use crate::workspace::{Change, Workspace};
use serde::Deserialize;
use std::sync::Arc;
use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
};

const OPEN: &str = "textDocument/didOpen";
const CHANGE: &str = "textDocument/didChange";
const CLOSE: &str = "textDocument/didClose";

#[derive(Deserialize)]
struct Notification<P> {
    params: P,
}

#[derive(Deserialize)]
struct MethodOnly {
    method: Option<String>,
    id: Option<serde_json::Value>,
}

/// The transport hook that applies text changes to `workspace`.
pub fn in_order(workspace: Arc<Workspace>) -> InOrder {
    Box::new(move |body| apply(&workspace, body))
}

fn apply(workspace: &Workspace, body: &[u8]) {
    // Most messages are not text changes: look for the method's name before
    // reading the body as JSON.
    if memchr::memmem::find(body, b"textDocument/did").is_none() {
        return;
    }
    let Ok(MethodOnly {
        method: Some(method),
        id: None,
    }) = serde_json::from_slice::<MethodOnly>(body)
    else {
        return;
    };
    match method.as_str() {
        OPEN => {
            if let Some(n) = parse::<DidOpenTextDocumentParams>(body) {
                let d = n.params.text_document;
                let Some(language) = from_proto::language_of(&d.uri, Some(&d.language_id)) else {
                    return;
                };
                workspace.apply(Change::Open {
                    id: from_proto::document_id(&d.uri),
                    path: from_proto::file_path(&d.uri),
                    language,
                    version: d.version,
                    text: &d.text,
                });
            }
        }
        CHANGE => {
            if let Some(n) = parse::<DidChangeTextDocumentParams>(body) {
                let uri = n.params.text_document.uri;
                let version = n.params.text_document.version;
                let outcome = workspace.apply(Change::Edit {
                    id: from_proto::document_id(&uri),
                    version,
                    edits: from_proto::edits(&n.params.content_changes),
                });
                match outcome {
                    EditOutcome::Stale => tracing::warn!(
                        "ignored a stale change (version {version}) of {}",
                        uri.as_str()
                    ),
                    EditOutcome::Clamped => tracing::warn!(
                        "a change of {} reached past the end of the document; clamped",
                        uri.as_str()
                    ),
                    EditOutcome::NotOpen => {
                        tracing::warn!("ignored a change of {}, which is not open", uri.as_str())
                    }
                    EditOutcome::Applied => {}
                }
            }
        }
        CLOSE => {
            if let Some(n) = parse::<DidCloseTextDocumentParams>(body) {
                workspace.apply(Change::Close {
                    id: from_proto::document_id(&n.params.text_document.uri),
                });
            }
        }
        _ => {}
    }
}

/// A notification's params; a malformed one is left to tower-lsp, which
/// answers it as it answers every malformed message.
fn parse<P: serde::de::DeserializeOwned>(body: &[u8]) -> Option<Notification<P>> {
    serde_json::from_slice(body).ok()
}
