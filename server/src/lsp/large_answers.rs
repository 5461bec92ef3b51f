//! Find references and rename, answered beside tower-lsp and written
//! straight from their protocol types to JSON text.
//!
//! tower-lsp turns every handler's answer into a `serde_json::Value` tree
//! before it writes it: four maps and their key strings per location. A
//! vault of 10,000 notes citing one paper 15,000 times answers with 15,000
//! locations (2 MB), and building, writing and freeing that tree cost the
//! server more than finding them (a profile of the vault benchmark: ~33 ms
//! of its ~56 ms per request). These two requests are therefore taken off
//! the transport as it reads them (the [`InOrder`](super::transport::InOrder)
//! hook), answered by the same features on the same snapshots, serialized
//! with serde directly, and handed to the transport's writer as one frame.
//!
//! What tower-lsp does for a request is kept: before the `initialized`
//! notification and after `shutdown` they are left to tower-lsp, which
//! answers them as the protocol says; params that do not parse are left to
//! it too; `$/cancelRequest` stops one and answers it with
//! RequestCancelled (-32800), and `exit` all of them; a feature that panics
//! is an internal error. Answers still owed when tower-lsp's output ends are
//! waited for briefly by the transport's writer.

use super::from_proto;
use super::run::run_feature;
use super::to_proto;
use super::transport::{frame_pieces, Replies};
use crate::features::{references, rename};
use crate::workspace::{Snapshot, Workspace};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::AbortHandle;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::{
    Location, ReferenceParams, RenameParams, TextDocumentPositionParams, WorkspaceEdit,
};

/// How long references and rename wait for the first scan of the notes.
pub const NOTES_SCAN_PATIENCE: Duration = Duration::from_secs(30);

const REFERENCES: &str = "textDocument/references";
const RENAME: &str = "textDocument/rename";

/// The requests this module answers, as the transport reads them.
pub struct LargeAnswers {
    workspace: Arc<Workspace>,
    replies: Replies,
    /// Between `initialized` and `shutdown`.
    running: bool,
    /// Requests being answered, by their id as JSON text: what a
    /// `$/cancelRequest` or `exit` stops.
    pending: Arc<Mutex<HashMap<String, (Value, AbortHandle)>>>,
}

#[derive(Deserialize)]
struct Request<P> {
    params: P,
}

#[derive(Deserialize)]
struct CancelParams {
    id: Value,
}

impl LargeAnswers {
    pub fn new(workspace: Arc<Workspace>, replies: Replies) -> LargeAnswers {
        LargeAnswers {
            workspace,
            replies,
            running: false,
            pending: Arc::default(),
        }
    }

    /// Between `initialized` and `shutdown`: when requests may be answered
    /// beside tower-lsp.
    pub fn running(&self) -> bool {
        self.running
    }

    /// Sees each message in order (`id` is a request's); true when it took
    /// the request to answer it here. Runs on the transport's reading task.
    pub fn take(&mut self, method: &str, id: Option<&Value>, body: &[u8]) -> bool {
        match (method, id) {
            ("initialized", None) => self.running = true,
            ("shutdown", Some(_)) => self.running = false,
            ("$/cancelRequest", None) => {
                if let Some(Request::<CancelParams> { params }) = parse(body) {
                    self.cancel(&params.id.to_string());
                }
            }
            // As tower-lsp does with its own at `exit`.
            ("exit", None) => {
                let all: Vec<String> = crate::workspace::unpoisoned(&self.pending)
                    .keys()
                    .cloned()
                    .collect();
                all.iter().for_each(|key| self.cancel(key));
            }
            (REFERENCES, Some(id)) if self.running => {
                if let Some(Request::<ReferenceParams> { params }) = parse(body) {
                    let at = params.text_document_position;
                    self.answer(id, &at, move |snap, offset| async move {
                        run_feature("references", move || {
                            let found = references::references_at(&snap, offset);
                            match found {
                                Some(found) => to_proto::note_locations_json(&found, snap.encoding),
                                None => Ok(b"null".to_vec()),
                            }
                            .map_err(unwritable)
                        })
                        .await?
                    });
                    return true;
                }
            }
            (RENAME, Some(id)) if self.running => {
                if let Some(Request::<RenameParams> { params }) = parse(body) {
                    let at = params.text_document_position;
                    let new_name = params.new_name;
                    self.answer(id, &at, move |snap, offset| async move {
                        let edit = rename_edits(snap, offset, new_name).await?;
                        serde_json::to_vec(&edit).map_err(unwritable)
                    });
                    return true;
                }
            }
            _ => {}
        }
        false
    }

    /// Answers request `id` at `at` with `feature` on a snapshot of the
    /// document as it is now, in the order of the client's messages.
    /// `feature` answers with its result as JSON text.
    fn answer<F, Fut>(&self, id: &Value, at: &TextDocumentPositionParams, feature: F)
    where
        F: FnOnce(Snapshot, usize) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<Vec<u8>>> + Send,
    {
        let document = self
            .workspace
            .document(&from_proto::document_id(&at.text_document.uri));
        let position = at.position;
        let workspace = self.workspace.clone();
        let owed = self.replies.owe();
        let pending = self.pending.clone();
        let (id, key) = (id.clone(), id.to_string());
        let (listed_as, id_listed) = (key.clone(), id.clone());
        // Held while the task is spawned and listed, so that a task that
        // ends at once finds itself listed.
        let mut listed = crate::workspace::unpoisoned(&self.pending);
        let task = tokio::spawn(async move {
            workspace.notes_scanned(NOTES_SCAN_PATIENCE).await;
            let at_offset = match document {
                Some(document) => workspace.snapshot_of(document).await.and_then(|snap| {
                    let offset = from_proto::offset(&snap, position)?;
                    Some((snap, offset))
                }),
                None => None,
            };
            let answer = match at_offset {
                Some((snap, offset)) => feature(snap, offset).await,
                None => Ok(b"null".to_vec()),
            };
            // A request cancelled meanwhile was answered already.
            if crate::workspace::unpoisoned(&pending)
                .remove(&key)
                .is_some()
            {
                owed.pay(reply(&id, answer)).await;
            }
        });
        listed.insert(listed_as, (id_listed, task.abort_handle()));
        drop(listed);
    }

    /// Stops the request listed under `key` and answers it with
    /// RequestCancelled; nothing when it was answered already.
    fn cancel(&self, key: &str) {
        let Some((id, task)) = crate::workspace::unpoisoned(&self.pending).remove(key) else {
            return;
        };
        task.abort();
        let cancelled = Error {
            code: ErrorCode::RequestCancelled,
            message: "request cancelled".into(),
            data: None,
        };
        let owed = self.replies.owe();
        tokio::spawn(owed.pay(reply(&id, Err(cancelled))));
    }
}

/// Every place in the notes that names the paper at `offset`.
pub async fn find_references(snap: Snapshot, offset: usize) -> Result<Option<Vec<Location>>> {
    run_feature("references", move || {
        let found = references::references_at(&snap, offset)?;
        Some(to_proto::note_locations(&found, snap.encoding))
    })
    .await
}

/// The edits that rename the key at `offset` to `new_name` everywhere.
pub async fn rename_edits(
    snap: Snapshot,
    offset: usize,
    new_name: String,
) -> Result<Option<WorkspaceEdit>> {
    run_feature("rename", move || {
        rename::rename_at(&snap, offset, &new_name)
            .map(|edits| edits.map(|e| to_proto::workspace_edit(&e, snap.encoding)))
    })
    .await?
    .map_err(|refusal| Error::invalid_params(refusal.message))
}

/// A response frame around a result already written as JSON text.
pub fn reply(id: &Value, answer: Result<Vec<u8>>) -> Vec<u8> {
    // An id is a number or a string, which always serialize.
    let id = serde_json::to_vec(id).unwrap_or_else(|_| b"null".to_vec());
    let (member, value): (&[u8], Vec<u8>) = match answer {
        Ok(result) => (br#","result":"#, result),
        Err(error) => (
            br#","error":"#,
            serde_json::to_vec(&error).unwrap_or_else(|_| b"null".to_vec()),
        ),
    };
    frame_pieces(&[br#"{"jsonrpc":"2.0","id":"#, &id, member, &value, b"}"])
}

/// An answer that cannot be written as JSON (none of ours: a bug).
fn unwritable(e: serde_json::Error) -> Error {
    tracing::error!("cannot write an answer: {e}");
    Error::internal_error()
}

fn parse<P: DeserializeOwned>(body: &[u8]) -> Option<P> {
    serde_json::from_slice(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(frame: &[u8]) -> Value {
        let start = frame.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        serde_json::from_slice(&frame[start..]).unwrap()
    }

    #[test]
    fn a_reply_carries_its_id_and_its_result_or_error() {
        let answer: Result<Vec<u8>> = Ok(b"[1,2]".to_vec());
        assert_eq!(
            body(&reply(&serde_json::json!("a-1"), answer)),
            serde_json::json!({"jsonrpc": "2.0", "id": "a-1", "result": [1, 2]})
        );
        let none: Result<Vec<u8>> = Ok(b"null".to_vec());
        assert_eq!(
            body(&reply(&serde_json::json!(7), none))["result"],
            Value::Null
        );
        let refused: Result<Vec<u8>> = Err(Error::invalid_params("no"));
        let error = body(&reply(&serde_json::json!(8), refused));
        assert_eq!(error["id"], 8);
        assert_eq!(error["error"]["code"], -32602);
        assert_eq!(error["error"]["message"], "no");
        assert!(error.get("result").is_none());
    }
}
