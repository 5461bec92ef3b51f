//! Text changes applied in the order the client sent them, by construction.
//!
//! tower-lsp may run notification handlers concurrently (tower-lsp #284),
//! so an edit applied in a `did_change` handler keeps its order only by the
//! accident of scheduling. Here `didOpen`, `didChange` and `didClose` are
//! applied to the workspace on the transport's reading task, as each
//! message is read and before any later one is handed on — a request that
//! follows an edit always sees it; and a request about a document pins the
//! version it was sent against (`pinned`), so it never sees an edit sent
//! after it either. tower-lsp's handlers for the same notifications then
//! only do what may run late (publishing diagnostics). Find references and
//! rename are taken here too, and answered beside tower-lsp
//! (`large_answers`); hover, completion and go to paper are answered here
//! at once when their corpus is ready (`quick_answers`).

use super::from_proto;
use super::large_answers::LargeAnswers;
use super::pinned::{PinnedDocuments, RequestKey};
use super::quick_answers;
use super::transport::{Handled, InOrder};
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

/// Where a request is, as far as pinning goes.
#[derive(Deserialize)]
struct RequestPlace {
    params: PlaceParams,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceParams {
    text_document: DocumentRef,
    position: Option<tower_lsp_server::ls_types::Position>,
    range: Option<tower_lsp_server::ls_types::Range>,
}

#[derive(Deserialize)]
struct DocumentRef {
    uri: tower_lsp_server::ls_types::Uri,
}

/// The transport hook: applies text changes to `workspace`, pins each
/// request's document, and lets `large` take the requests it answers.
pub fn in_order(
    workspace: Arc<Workspace>,
    pinned: Arc<PinnedDocuments>,
    mut large: LargeAnswers,
) -> InOrder {
    Box::new(move |body| {
        // A bug here must not end the reading of the client's messages.
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            apply(&workspace, &pinned, &mut large, body)
        }));
        applied.unwrap_or_else(|_| {
            tracing::error!(
                "applying a message to the workspace failed (a bug); the message is still handled"
            );
            Handled::Forward
        })
    })
}

/// Applies a message; what it did with a request.
fn apply(
    workspace: &Workspace,
    pinned: &PinnedDocuments,
    large: &mut LargeAnswers,
    body: &[u8],
) -> Handled {
    let Ok(MethodOnly {
        method: Some(method),
        id,
    }) = serde_json::from_slice::<MethodOnly>(body)
    else {
        return Handled::Forward;
    };
    if large.take(&method, id.as_ref(), body) {
        return Handled::Taken;
    }
    if let Some(id) = id {
        if large.running() {
            if let Some(frame) = quick_answers::answer_now(workspace, &method, &id, body) {
                return Handled::Answered(frame);
            }
        }
        pin_request(workspace, pinned, &method, body);
        return Handled::Forward;
    }
    match method.as_str() {
        OPEN => {
            if let Some(n) = parse::<DidOpenTextDocumentParams>(body) {
                let d = n.params.text_document;
                let Some(language) = from_proto::language_of(&d.uri, Some(&d.language_id)) else {
                    return Handled::Forward;
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
                    // Not a note (never opened here), or closed: nothing to follow.
                    EditOutcome::NotOpen => {
                        tracing::debug!("ignored a change of {}, which is not open", uri.as_str())
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
    Handled::Forward
}

/// Pins the document a request names (its current version) under the
/// request's method, URI and place.
fn pin_request(workspace: &Workspace, pinned: &PinnedDocuments, method: &str, body: &[u8]) {
    if !method.starts_with("textDocument/") {
        return;
    }
    let Ok(RequestPlace { params }) = serde_json::from_slice::<RequestPlace>(body) else {
        return;
    };
    let uri = params.text_document.uri.as_str();
    let Some(document) = workspace.document(uri) else {
        return;
    };
    let key = match (params.position, params.range) {
        (Some(p), _) => RequestKey::at_position(method, uri, p.line, p.character),
        (None, Some(r)) => RequestKey::at_range(
            method,
            uri,
            (r.start.line, r.start.character),
            (r.end.line, r.end.character),
        ),
        (None, None) => return,
    };
    pinned.pin(key, document);
}

/// A notification's params; a malformed one is left to tower-lsp, which
/// answers it as it answers every malformed message.
fn parse<P: serde::de::DeserializeOwned>(body: &[u8]) -> Option<Notification<P>> {
    serde_json::from_slice(body).ok()
}
