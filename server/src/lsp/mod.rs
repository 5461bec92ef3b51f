//! The language server: tower-lsp-server on stdio, behind our own message
//! framing (`transport`). This is the only layer that knows the protocol — it
//! keeps documents and settings, picks the corpus a document sees, runs the
//! `features` off the async executor and converts their plain answers to LSP
//! types (positions in the negotiated encoding).

mod actions;
mod backend;
mod commands;
pub mod config;
mod convert;
mod corpora;
pub mod documents;
mod last_good;
mod loading;
pub mod position;
mod reload;
mod server;
mod state;
pub mod transport;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How long pending work may finish after the client closed our input.
const INPUT_CLOSED_GRACE: Duration = Duration::from_secs(1);
/// How long what the server wrote last may take to reach a client that is
/// slow to read it.
const OUTPUT_DRAIN_GRACE: Duration = Duration::from_secs(1);

/// Runs the server on stdin/stdout until `exit` or end of input. The exit
/// code follows LSP: 0 after `shutdown` then `exit`, 1 otherwise.
pub fn serve() -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("paper-ls: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let shutdown_requested = runtime.block_on(serve_on(tokio::io::stdin(), tokio::io::stdout()));
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
) -> bool {
    let state = Arc::new(state::ServerState::default());
    let shared = state.clone();
    let (service, socket) =
        tower_lsp_server::LspService::build(move |client| server::Backend::new(client, shared))
            .custom_method("paper-ls/status", server::Backend::status)
            .finish();
    let input_closed = Arc::new(Notify::new());
    // tower-lsp only ever sees well-formed messages: see `transport`.
    let pipes = transport::start(client_input, client_output, input_closed.clone());
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
    state.shutdown_requested.load(Ordering::SeqCst)
}
