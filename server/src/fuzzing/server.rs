//! The whole server as a fuzz target, the way clangd fuzzes its message
//! loop: the input is read as a script of client messages — documents
//! opened, edited (whole or by ranges anywhere, past the end included),
//! saved and closed; hovers, completions, definitions, references,
//! renames, code actions, implementations, inlay hints, symbol searches and
//! commands at arbitrary positions; configuration changes; cancellations;
//! and raw bodies that may be anything at all — played against
//! `lsp::serve_on` over in-memory pipes, with the server's own requests
//! answered as an editor would. The check: the server never panics (the
//! fuzzer aborts on a panic in any thread) and, once the script ends with
//! `shutdown` and `exit`, it stops within a bounded time.
//!
//! Every run uses the bundled corpus in a private cache folder, so no run
//! reads or writes anything of the user's.

use crate::lsp::transport::frame as framed;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// How long the server may take to stop after the script's `exit`.
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// The document URIs scripts work on: one note per language.
const DOCUMENTS: &[(&str, &str)] = &[
    ("file:///paper-ls-fuzz/notes/a.md", "markdown"),
    ("file:///paper-ls-fuzz/notes/b.tex", "latex"),
    ("file:///paper-ls-fuzz/notes/c.qmd", "quarto"),
];

const COMMANDS: &[&str] = &[
    "paper-ls.search",
    "paper-ls.related",
    "paper-ls.reindex",
    "paper-ls.unknown",
];

/// Reads the fuzzer's bytes as small numbers and texts.
struct Script<'d> {
    data: &'d [u8],
}

impl Script<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(first)
    }

    /// A line or character: mostly small, sometimes far past any end.
    fn number(&mut self) -> u32 {
        match self.byte().unwrap_or(0) {
            250 => u32::MAX,
            251 => 1 << 20,
            b => u32::from(b % 40),
        }
    }

    fn text(&mut self) -> String {
        let len = usize::from(self.byte().unwrap_or(0));
        let len = len.min(self.data.len());
        let (text, rest) = self.data.split_at(len);
        self.data = rest;
        String::from_utf8_lossy(text).into_owned()
    }

    fn document(&mut self) -> (&'static str, &'static str) {
        DOCUMENTS[usize::from(self.byte().unwrap_or(0)) % DOCUMENTS.len()]
    }

    fn position(&mut self) -> Value {
        json!({"line": self.number(), "character": self.number()})
    }

    fn at(&mut self) -> Value {
        let (uri, _) = self.document();
        json!({"textDocument": {"uri": uri}, "position": self.position()})
    }

    fn range(&mut self) -> Value {
        json!({"start": self.position(), "end": self.position()})
    }
}

/// The client messages a script stands for, as JSON bodies (a raw body is
/// passed as its bytes), between `initialize` and `shutdown`/`exit`.
fn messages(data: &[u8]) -> Vec<Vec<u8>> {
    let mut script = Script { data };
    let mut out = vec![
        request(
            1,
            "initialize",
            json!({
                "processId": null, "rootUri": null,
                "capabilities": {"general": {"positionEncodings": if data.first().is_some_and(|b| b % 2 == 0) { json!(["utf-8"]) } else { json!(["utf-16"]) }},
                                 "workspace": {"configuration": true, "didChangeWatchedFiles": {"dynamicRegistration": true}},
                                 "window": {"workDoneProgress": true}},
                "initializationOptions": {"corpus": []}
            }),
        ),
        notification("initialized", json!({})),
    ];
    let mut id = 2;
    let mut versions = [0i64; 3];
    while let Some(op) = script.byte() {
        id += 1;
        let message = match op % 20 {
            0 | 1 => {
                let (uri, language) = script.document();
                let slot = DOCUMENTS.iter().position(|d| d.0 == uri).unwrap_or(0);
                versions[slot] += 1;
                notification(
                    "textDocument/didOpen",
                    json!({"textDocument": {"uri": uri, "languageId": language, "version": versions[slot], "text": script.text()}}),
                )
            }
            2..=4 => {
                let (uri, _) = script.document();
                let slot = DOCUMENTS.iter().position(|d| d.0 == uri).unwrap_or(0);
                // Sometimes an old version: edits may arrive out of order.
                versions[slot] += if op % 7 == 0 { -1 } else { 1 };
                let change = if op % 3 == 0 {
                    json!({"text": script.text()})
                } else {
                    json!({"range": script.range(), "text": script.text()})
                };
                notification(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": uri, "version": versions[slot]}, "contentChanges": [change]}),
                )
            }
            5 => request(id, "textDocument/hover", script.at()),
            6 => request(id, "textDocument/completion", script.at()),
            7 => request(id, "textDocument/definition", script.at()),
            8 => {
                let mut params = script.at();
                params["context"] = json!({"includeDeclaration": op % 2 == 0});
                request(id, "textDocument/references", params)
            }
            9 => request(id, "textDocument/prepareRename", script.at()),
            10 => {
                let mut params = script.at();
                params["newName"] = json!(script.text());
                request(id, "textDocument/rename", params)
            }
            11 => {
                let (uri, _) = script.document();
                request(
                    id,
                    "textDocument/codeAction",
                    json!({"textDocument": {"uri": uri}, "range": script.range(), "context": {"diagnostics": []}}),
                )
            }
            12 => request(id, "textDocument/implementation", script.at()),
            13 => {
                let (uri, _) = script.document();
                request(
                    id,
                    "textDocument/inlayHint",
                    json!({"textDocument": {"uri": uri}, "range": script.range()}),
                )
            }
            14 => request(id, "workspace/symbol", json!({"query": script.text()})),
            15 => {
                let command = COMMANDS[usize::from(script.byte().unwrap_or(0)) % COMMANDS.len()];
                let argument = serde_json::from_str::<Value>(&script.text())
                    .unwrap_or_else(|_| json!(script.text()));
                request(
                    id,
                    "workspace/executeCommand",
                    json!({"command": command, "arguments": [argument, script.number()]}),
                )
            }
            16 => {
                let settings = json!({"paper-ls": {
                    "maxCompletions": script.number(),
                    "inlayHints": script.byte().is_some_and(|b| b % 2 == 0),
                    "diagnosticsDelay": script.number(),
                    "corpus": if script.byte().is_some_and(|b| b % 2 == 0) { json!([]) } else { json!(["/paper-ls-fuzz/missing.bib"]) },
                }});
                notification(
                    "workspace/didChangeConfiguration",
                    json!({"settings": settings}),
                )
            }
            17 => notification(
                "$/cancelRequest",
                json!({"id": id - 1 - i64::from(script.byte().unwrap_or(0) % 4)}),
            ),
            18 => {
                let (uri, _) = script.document();
                if op % 2 == 0 {
                    notification(
                        "textDocument/didClose",
                        json!({"textDocument": {"uri": uri}}),
                    )
                } else {
                    notification(
                        "textDocument/didSave",
                        json!({"textDocument": {"uri": uri}}),
                    )
                }
            }
            _ => script.text().into_bytes(),
        };
        out.push(message);
    }
    out.push(request(id + 1, "shutdown", Value::Null));
    out.push(notification("exit", Value::Null));
    out
}

fn request(id: i64, method: &str, params: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        .to_string()
        .into_bytes()
}

fn notification(method: &str, params: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
        .to_string()
        .into_bytes()
}

/// A private cache folder for every run of this process.
fn private_cache() -> std::sync::Arc<crate::corpus::Cache> {
    static CACHE: OnceLock<std::sync::Arc<crate::corpus::Cache>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("paper-ls-fuzz-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            std::sync::Arc::new(crate::corpus::Cache::at(dir))
        })
        .clone()
}

/// Plays `data` as a client script against the server (see the module doc).
pub fn server(data: &[u8]) {
    play(data);
}

/// [`server`], returning how many responses the client read.
fn play(data: &[u8]) -> usize {
    let cache = private_cache();
    let script = messages(data);
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return 0;
    };
    let responses = runtime.block_on(async move {
        let (client_end, server_end) = tokio::io::duplex(1 << 16);
        let (server_reads, server_writes) = tokio::io::split(server_end);
        let server = tokio::spawn(crate::lsp::serve_on(server_reads, server_writes, cache));
        let (mut client_reads, mut client_writes) = tokio::io::split(client_end);
        let (answers, mut to_answer) = mpsc::unbounded_channel::<Vec<u8>>();
        // The script, with the answers to the server's requests slipped in
        // between its messages as an editor would.
        let writer = tokio::spawn(async move {
            for message in script {
                while let Ok(answer) = to_answer.try_recv() {
                    if client_writes.write_all(&framed(&answer)).await.is_err() {
                        return;
                    }
                }
                if client_writes.write_all(&framed(&message)).await.is_err() {
                    return;
                }
            }
            while let Some(answer) = to_answer.recv().await {
                if client_writes.write_all(&framed(&answer)).await.is_err() {
                    return;
                }
            }
        });
        let responses = Arc::new(AtomicUsize::new(0));
        let counted = responses.clone();
        let reader = tokio::spawn(async move {
            let mut pending = Vec::new();
            let mut chunk = vec![0; 1 << 16];
            while let Ok(n) = client_reads.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&chunk[..n]);
                while let Some((body, used)) = next_frame(&pending) {
                    match answer_to(&body) {
                        Some(answer) => {
                            let _ = answers.send(answer);
                        }
                        None => {
                            counted.fetch_add(usize::from(is_response(&body)), Ordering::Relaxed);
                        }
                    }
                    pending.drain(..used);
                }
            }
        });
        let stopped = tokio::time::timeout(STOP_WITHIN, server).await;
        writer.abort();
        match stopped {
            Err(_) => panic!("the server did not stop within {STOP_WITHIN:?} of `exit`"),
            Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Ok(_) => {}
        }
        // The server wrote its last output before it stopped; let the
        // reader take it in.
        tokio::time::sleep(Duration::from_millis(50)).await;
        reader.abort();
        responses.load(Ordering::Relaxed)
    });
    runtime.shutdown_timeout(Duration::from_millis(100));
    responses
}

fn is_response(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .is_ok_and(|m| m.get("id").is_some() && m.get("method").is_none())
}

/// One whole frame at the start of `bytes`: its body and how many bytes it used.
fn next_frame(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let header_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let header = std::str::from_utf8(&bytes[..header_end]).ok()?;
    let length: usize = header
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length:"))?
        .trim()
        .parse()
        .ok()?;
    let start = header_end + 4;
    let body = bytes.get(start..start + length)?;
    Some((body.to_vec(), start + length))
}

/// What an editor answers to a request from the server, if `body` is one.
fn answer_to(body: &[u8]) -> Option<Vec<u8>> {
    let message: Value = serde_json::from_slice(body).ok()?;
    let method = message.get("method")?.as_str()?;
    let id = message.get("id")?.clone();
    let result = match method {
        "workspace/configuration" => json!([{"corpus": []}]),
        _ => Value::Null,
    };
    Some(
        json!({"jsonrpc": "2.0", "id": id, "result": result})
            .to_string()
            .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_of_every_kind_of_message_runs_and_stops() {
        // Opens a Markdown note citing a bundled paper, then asks for a
        // hover, completion, definition, references, implementation, inlay
        // hints and a symbol search on it.
        let mut data = vec![0u8, 0];
        let note = b"See [@grokfast-accelerated-grokking] and Grokfast.\n";
        data.push(note.len() as u8);
        data.extend_from_slice(note);
        for op in [5u8, 6, 7, 8, 12] {
            data.extend_from_slice(&[op, 0, 0, 8]);
        }
        data.extend_from_slice(&[13, 0, 0, 0, 1, 0]);
        data.extend_from_slice(&[14, 4]);
        data.extend_from_slice(b"grok");
        // initialize, seven requests and shutdown: all answered.
        let responses = play(&data);
        assert_eq!(responses, 9);
    }

    #[test]
    fn arbitrary_bytes_are_played_without_panic() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3 {
            let data: Vec<u8> = (0..300)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            server(&data);
        }
    }
}
