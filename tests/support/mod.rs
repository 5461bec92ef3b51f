//! A small LSP client for end-to-end tests: starts the real `paper-ls`
//! binary, speaks JSON-RPC over its stdio, answers the server's own requests
//! (`workspace/configuration` and friends) and collects notifications.
#![allow(dead_code)]

pub mod zotero;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(60);

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_paper-ls")
}

pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

pub struct LspClient {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications the server sent, in order.
    pub notifications: Vec<Value>,
    /// Requests the server sent us, in order (each already answered).
    pub server_requests: Vec<Value>,
    /// What `workspace/configuration` answers with.
    pub settings: Value,
}

impl LspClient {
    /// Starts `paper-ls` with a private cache directory.
    pub fn start(cache_dir: &Path) -> LspClient {
        Self::start_child(spawn_server(cache_dir))
    }

    /// Speaks LSP to any server already started with piped stdin and stdout
    /// (the benchmark runs texlab this way).
    pub fn start_child(mut child: Child) -> LspClient {
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient {
            stdin: child.stdin.take(),
            child,
            incoming: rx,
            next_id: 1,
            notifications: Vec::new(),
            server_requests: Vec::new(),
            settings: Value::Null,
        }
    }

    pub fn send(&mut self, message: &Value) {
        self.send_raw(message.to_string().as_bytes());
    }

    pub fn send_raw(&mut self, body: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        let _ = write!(stdin, "Content-Length: {}\r\n\r\n", body.len());
        let _ = stdin.write_all(body);
        let _ = stdin.flush();
    }

    /// Writes bytes as they are, framing and all (or none).
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        let _ = stdin.write_all(bytes);
        let _ = stdin.flush();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns the whole response (with `result` or `error`).
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
            .unwrap_or_else(|| panic!("no response to {method} within {TIMEOUT:?}"))
    }

    /// Sends a request and returns its result, failing the test on an error.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let mut response = self.request_raw(method, params);
        if let Some(error) = response.get("error") {
            panic!("{method} failed: {error}");
        }
        // Taken, not copied: a list of thousands of locations would
        // otherwise be timed twice.
        response
            .get_mut("result")
            .map(Value::take)
            .unwrap_or(Value::Null)
    }

    /// Reads messages until one satisfies `pred`, answering server requests
    /// and keeping notifications on the way.
    pub fn wait_for(&mut self, mut pred: impl FnMut(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let message = match self.incoming.recv_timeout(left) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            };
            if pred(&message) {
                return Some(message);
            }
            self.handle_unmatched(message);
        }
    }

    fn handle_unmatched(&mut self, message: Value) {
        match (
            message.get("id"),
            message.get("method").and_then(Value::as_str),
        ) {
            (Some(id), Some(method)) => {
                let result = match method {
                    "workspace/configuration" => json!([self.settings.clone()]),
                    "workspace/applyEdit" => {
                        json!({ "applied": apply_workspace_edit(&message["params"]["edit"]) })
                    }
                    _ => Value::Null,
                };
                let id = id.clone();
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
                self.server_requests.push(message);
            }
            (None, Some(_)) => self.notifications.push(message),
            _ => {}
        }
    }

    /// The next `publishDiagnostics` for `uri` (already received ones first).
    pub fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        let matches = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(pos) = self.notifications.iter().rposition(matches) {
            let found = self.notifications.remove(pos);
            return found["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        let found = self.wait_for(matches).expect("diagnostics published");
        found["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn initialize(&mut self, root: &Path, options: Value, utf8: bool) -> Value {
        let encodings = if utf8 {
            json!(["utf-8", "utf-16"])
        } else {
            json!(["utf-16"])
        };
        let result = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": file_uri(root),
                "workspaceFolders": [{"uri": file_uri(root), "name": "notes"}],
                "initializationOptions": options,
                "capabilities": {
                    "general": {"positionEncodings": encodings},
                    "workspace": {"configuration": true, "didChangeWatchedFiles": {"dynamicRegistration": true}},
                    "window": {"workDoneProgress": true},
                    "textDocument": {"completion": {"completionItem": {"snippetSupport": false}}}
                }
            }),
        );
        self.notify("initialized", json!({}));
        result
    }

    pub fn open(&mut self, path: &Path, language: &str, text: &str) -> String {
        let uri = file_uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
        uri
    }

    /// The hover card's Markdown at a position; empty when there is none.
    pub fn hover_text(&mut self, uri: &str, line: u32, character: u32) -> String {
        let hover = self.request("textDocument/hover", Self::at(uri, line, character));
        hover["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn at(uri: &str, line: u32, character: u32) -> Value {
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to end, killing it after the timeout.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("paper-ls did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (up to `patience`) until every corpus loaded so far has its
    /// full-text index, as `paper-ls/status` says; false if it never did.
    pub fn wait_until_indexed(&mut self, patience: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < patience {
            if self.request("paper-ls/status", Value::Null)["indexReady"] == json!(true) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn shutdown_and_exit(&mut self) -> ExitStatus {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait_exit()
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The folder of all-MiniLM-L6-v2 for the embedding tests: `.ci/run`
/// unpacks it from PyPI and sets `PAPER_LS_TEST_MODEL`. Without it the
/// tests say so and pass on a developer's machine, never in CI.
#[allow(dead_code)]
pub fn test_model() -> Option<std::path::PathBuf> {
    match std::env::var_os("PAPER_LS_TEST_MODEL") {
        Some(dir) => Some(dir.into()),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "CI runs the embedding tests: set PAPER_LS_TEST_MODEL to all-MiniLM-L6-v2's folder"
            )
        }
        None => {
            eprintln!("skipping: PAPER_LS_TEST_MODEL is not set");
            None
        }
    }
}

/// A `$/progress` notification about embedding papers, of `kind` (`begin`,
/// `report`, `end`).
#[allow(dead_code)]
pub fn is_embedding_progress(message: &Value, kind: &str) -> bool {
    message["method"] == "$/progress"
        && message["params"]["value"]["kind"] == kind
        && message["params"]["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("paper-ls/embedding/"))
}

/// The `paper-ls` server process with piped stdio and a private cache directory.
pub fn spawn_server(cache_dir: &Path) -> Child {
    Command::new(binary())
        .env("PAPER_LS_CACHE_DIR", cache_dir)
        .env(
            "PAPER_LS_MODEL_URL",
            "file:///nonexistent/paper-ls-test-model",
        )
        .env("PAPER_LS_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start paper-ls")
}

/// Reads one LSP message; `None` at the end of the stream.
pub fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// Resident and peak resident memory of a process in MB, from
/// `/proc/<pid>/status` (`VmRSS`, `VmHWM`); NaN where that is not available.
pub fn memory_mb(pid: u32) -> (f64, f64) {
    (status_mb(pid, "VmRSS:"), status_mb(pid, "VmHWM:"))
}

/// One memory field of /proc/PID/status (`VmRSS:`, `RssAnon:`, …) in MB.
pub fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Applies a workspace edit's `changes` to the files on disk, as an editor
/// would once they are saved (positions in UTF-16, the default encoding).
pub fn apply_workspace_edit(edit: &Value) -> bool {
    let Some(changes) = edit["changes"].as_object() else {
        return false;
    };
    for (uri, edits) in changes {
        let path = uri.strip_prefix("file://").expect("a file URI");
        let path = percent_decode(path);
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut edits: Vec<(usize, usize, String)> = edits
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let start = utf16_offset(&text, &e["range"]["start"]);
                let end = utf16_offset(&text, &e["range"]["end"]);
                (
                    start,
                    end,
                    e["newText"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
        for (start, end, new_text) in edits {
            text.replace_range(start..end, &new_text);
        }
        std::fs::write(&path, text).expect("edited file written");
    }
    true
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8 path")
}

/// The byte offset of an LSP position (UTF-16 columns) in `text`.
pub fn utf16_offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap_or(0) as usize;
    let character = position["character"].as_u64().unwrap_or(0) as usize;
    let mut offset = 0;
    for _ in 0..line {
        match text[offset..].find('\n') {
            Some(at) => offset += at + 1,
            None => return text.len(),
        }
    }
    let line_end = text[offset..]
        .find('\n')
        .map_or(text.len(), |at| offset + at);
    let mut units = 0;
    for (i, c) in text[offset..line_end].char_indices() {
        if units >= character {
            return offset + i;
        }
        units += c.len_utf16();
    }
    line_end
}
