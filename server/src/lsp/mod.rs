//! The language server: tower-lsp-server on stdio. This is the only layer that
//! knows the protocol — it keeps documents and settings, picks the corpus a
//! document sees, runs the `features` off the async executor and converts
//! their plain answers to LSP types (positions in the negotiated encoding).

pub mod config;
mod convert;
mod corpora;
mod discovery;
pub mod documents;
pub mod position;
mod server;
mod state;

use std::sync::atomic::Ordering;
use std::sync::Arc;

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
    let state = Arc::new(state::ServerState::default());
    let shared = state.clone();
    runtime.block_on(async move {
        let (service, socket) =
            tower_lsp_server::LspService::new(move |client| server::Backend::new(client, shared));
        tower_lsp_server::Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // Blocking tasks (a corpus still being indexed) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    if state.shutdown_requested.load(Ordering::SeqCst) {
        0
    } else {
        1
    }
}
