//! The protocol layer: tower-lsp-server on stdio, behind our own message
//! framing (`transport`). The only layer that knows LSP types. Each request
//! is one handler in `server`: it turns the protocol's params into a
//! workspace snapshot and byte offsets (`from_proto`), runs a feature off
//! the async executor, and turns the plain answer back into protocol types
//! (`to_proto`), positions in the negotiated encoding. Text changes are
//! applied to the workspace by `text_sync` as the transport reads them, in
//! the order the client sent them. `client_reports` tells the client about
//! corpus loads; `commands` runs `workspace/executeCommand`.

mod capabilities;
mod client_reports;
mod commands;
mod from_proto;
mod large_answers;
mod pinned;
mod quick_answers;
mod run;
mod server;
mod stdio;
mod text_sync;
mod to_proto;
pub mod transport;

use crate::corpus::Cache;
use crate::workspace::Workspace;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long to wait for the client to answer one of our requests.
const CLIENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long pending work may finish after the client closed our input.
const INPUT_CLOSED_GRACE: Duration = Duration::from_secs(1);
/// How long what the server wrote last may take to reach a client that is
/// slow to read it.
const OUTPUT_DRAIN_GRACE: Duration = Duration::from_secs(1);

/// Runs the server on stdin/stdout until `exit` or end of input. The exit
/// code follows LSP: 0 after `shutdown` then `exit`, 1 otherwise.
pub fn serve(cache: Arc<Cache>) -> i32 {
    // The runtime's threads (workers and the blocking pool) answer
    // requests; background work has threads of its own.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(crate::background::prefer_quick_wakeups)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paper-ls: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let shutdown_requested =
        runtime.block_on(async { serve_on(stdio::input(), stdio::output(), cache).await });
    // Blocking tasks (a corpus still being indexed) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    if shutdown_requested {
        0
    } else {
        1
    }
}

/// Serves one client on `client_input` and `client_output` until `exit` or
/// the end of the input; true when `shutdown` came before. `serve` runs it
/// on stdio; the whole-server fuzz check on in-memory pipes.
pub async fn serve_on(
    client_input: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    client_output: impl tokio::io::AsyncWrite + Unpin + Send + 'static,
    cache: Arc<Cache>,
) -> bool {
    let (hooks, notices) = client_reports::load_hooks();
    let workspace = Arc::new(Workspace::new(cache, hooks));
    let pinned = Arc::new(pinned::PinnedDocuments::default());
    let (for_server, pinned_for_server) = (workspace.clone(), pinned.clone());
    let (service, socket) = tower_lsp_server::LspService::build(move |client| {
        server::Server::new(client, for_server, pinned_for_server, notices)
    })
    .custom_method("paper-ls/status", server::Server::status)
    .custom_method("paper-ls/documentText", server::Server::document_text)
    .finish();
    let input_closed = Arc::new(Notify::new());
    // tower-lsp only ever sees well-formed messages: see `transport`. Text
    // changes are applied as they are read, before any later message;
    // references and rename are answered beside tower-lsp.
    let for_hook = workspace.clone();
    let in_order = move |replies| {
        let large = large_answers::LargeAnswers::new(for_hook.clone(), replies);
        text_sync::in_order(for_hook, pinned, large)
    };
    let pipes = transport::start(client_input, client_output, input_closed.clone(), in_order);
    let mut serve =
        Box::pin(tower_lsp_server::Server::new(pipes.input, pipes.output, socket).serve(service));
    // Once the client is gone, a handler still waiting for its answer
    // (a `workspace/configuration` request, say) must not keep us alive.
    tokio::select! {
        _ = &mut serve => {}
        _ = input_closed.notified() => {
            let _ = tokio::time::timeout(INPUT_CLOSED_GRACE, &mut serve).await;
        }
    }
    // Ending tower-lsp closes its output; let the last of it reach the client.
    drop(serve);
    let _ = tokio::time::timeout(OUTPUT_DRAIN_GRACE, pipes.written).await;
    workspace.is_shutting_down()
}
