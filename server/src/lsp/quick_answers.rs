//! Hover, completion and go to paper — the requests a user waits on while
//! typing — answered on the transport's reading task, as it reads them.
//!
//! Through tower-lsp a hover crossed five threads: ours reading stdin,
//! tower-lsp's dispatch, a blocking thread for the corpora the note sees,
//! another for the feature, and ours writing stdout. On two cores busy with
//! background work each hand-over is a chance to wait for a core, and a
//! timeline of the slowest hovers of the interleaved benchmark showed the
//! waits, not the feature (~0.1–0.8 ms), making the tail. Here the request
//! is answered where it is read, from a snapshot taken then — so it sees
//! exactly the edits sent before it, as the pinned documents ensure for the
//! others — and its frame goes to the writer, which runs next on the same
//! thread.
//!
//! Only what is quick is answered here: a request whose corpus is still
//! being read, whose document is not open, or whose params or position do
//! not fit is left to tower-lsp, which waits for the corpus or answers as
//! the protocol says. Before `initialized` and after `shutdown` all of them
//! are (see `large_answers`). The features and their protocol types are
//! the ones tower-lsp's handlers use (the functions below), so the two
//! paths give the same answers.

use super::from_proto;
use super::large_answers::reply;
use super::run::run_feature_here;
use super::to_proto;
use crate::features::{completion, definition, hover};
use crate::workspace::{Snapshot, Workspace};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    CompletionParams, CompletionResponse, GotoDefinitionParams, GotoDefinitionResponse, Hover,
    HoverParams, TextDocumentPositionParams,
};

const HOVER: &str = "textDocument/hover";
const COMPLETION: &str = "textDocument/completion";
const DEFINITION: &str = "textDocument/definition";

#[derive(Deserialize)]
struct Request<P> {
    params: P,
}

/// The answer to request `id` when it is one answered here and everything
/// it needs is at hand: the whole frame to write.
pub fn answer_now(workspace: &Workspace, method: &str, id: &Value, body: &[u8]) -> Option<Vec<u8>> {
    match method {
        HOVER => {
            let params: HoverParams = parse(body)?;
            answer(
                workspace,
                id,
                &params.text_document_position_params,
                |snap, offset| run_feature_here("hover", || hover_answer(&snap, offset)),
            )
        }
        COMPLETION => {
            let params: CompletionParams = parse(body)?;
            let at = params.text_document_position;
            answer(workspace, id, &at, |snap, offset| {
                let uri = &at.text_document.uri;
                run_feature_here("completion", || completion_answer(&snap, offset, uri))
            })
        }
        DEFINITION => {
            let params: GotoDefinitionParams = parse(body)?;
            answer(
                workspace,
                id,
                &params.text_document_position_params,
                |snap, offset| run_feature_here("go to paper", || definition_answer(&snap, offset)),
            )
        }
        _ => None,
    }
}

/// The frame answering `id` with `feature` at `at`, on a snapshot of the
/// document as it is now; `None` when the snapshot is not ready.
fn answer<T: Serialize>(
    workspace: &Workspace,
    id: &Value,
    at: &TextDocumentPositionParams,
    feature: impl FnOnce(Snapshot, usize) -> Result<T>,
) -> Option<Vec<u8>> {
    let document = workspace.document(&from_proto::document_id(&at.text_document.uri))?;
    let snap = workspace.snapshot_if_ready(document)?;
    let offset = from_proto::offset(&snap, at.position)?;
    let answer = feature(snap, offset).and_then(|result| {
        serde_json::to_vec(&result).map_err(|e| {
            tracing::error!("cannot write an answer: {e}");
            tower_lsp_server::jsonrpc::Error::internal_error()
        })
    });
    Some(reply(id, answer))
}

/// The hover card at `offset`.
pub fn hover_answer(snap: &Snapshot, offset: usize) -> Option<Hover> {
    let card = hover::hover(snap, offset)?;
    Some(to_proto::hover(
        snap.document.as_ref()?,
        card,
        snap.encoding,
    ))
}

/// The completion list at `offset` of the document at `uri`.
pub fn completion_answer(
    snap: &Snapshot,
    offset: usize,
    uri: &tower_lsp_server::ls_types::Uri,
) -> Option<CompletionResponse> {
    let found = completion::completion(snap, offset)?;
    let doc = snap.document.as_ref()?;
    Some(CompletionResponse::List(to_proto::completion_list(
        doc,
        uri,
        found,
        snap.encoding,
    )))
}

/// The paper, or the bibliography entry, cited at `offset`.
pub fn definition_answer(snap: &Snapshot, offset: usize) -> Option<GotoDefinitionResponse> {
    to_proto::definition(&definition::definition(snap, offset), snap.encoding)
}

fn parse<P: DeserializeOwned>(body: &[u8]) -> Option<P> {
    serde_json::from_slice::<Request<P>>(body)
        .ok()
        .map(|r| r.params)
}
