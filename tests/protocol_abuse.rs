//! The protocol abused, against the real binary: bodies that are no JSON-RPC
//! message, lengths that lie, headers that are garbage, a message too big to
//! hold, floods of notifications, requests after `shutdown`, and a client
//! that writes thousands of requests without reading the answers. The server
//! answers what deserves an answer with a JSON-RPC error and keeps serving.
//! Unknown methods, parameters of the wrong type, requests before
//! `initialize` and the end of input are covered in `lsp.rs`. Find references
//! and rename, which the server answers beside tower-lsp, keep its rules.

mod support;

use serde_json::{json, Value};
use std::io::{BufReader, Write};
use std::time::{Duration, Instant};
use support::{memory_mb, LspClient};

const NOTE: &str = "See [@grokking-tickets-lottery].";
/// Ids for requests written by hand, clear of the ones `LspClient` counts up.
const RAW_IDS: i64 = 100_000;

struct Served {
    client: LspClient,
    uri: String,
    _root: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

/// A server on the bundled corpus with a note that cites a bundled paper.
fn serve_a_note() -> Served {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut client = LspClient::start(cache.path());
    client.initialize(root.path(), Value::Null, false);
    let uri = client.open(&root.path().join("note.md"), "markdown", NOTE);
    Served {
        client,
        uri,
        _root: root,
        _cache: cache,
    }
}

fn hover_at_key(uri: &str, id: i64) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": LspClient::at(uri, 0, 9)})
        .to_string()
        .into_bytes()
}

use paper_ls::lsp::transport::frame as framed;

fn is_card(hover: &Value) -> bool {
    hover["contents"]["value"]
        .as_str()
        .is_some_and(|c| c.contains("Grokking Tickets"))
}

fn hover_answers(s: &mut Served) -> bool {
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&s.uri, 0, 9));
    is_card(&hover)
}

/// The next error reply with `code`.
fn next_error(client: &mut LspClient, code: i64) -> Value {
    client
        .wait_for(|m| m["error"]["code"] == code && m.get("method").is_none())
        .unwrap_or_else(|| panic!("no error {code} within the timeout"))
}

/// Waits for the response to `id` and for `errors` error replies without an
/// id (the transport's), in whatever order they come.
fn response_and_errors(client: &mut LspClient, id: i64, errors: usize) -> (Value, Vec<Value>) {
    let mut response = None;
    let mut seen = Vec::new();
    while response.is_none() || seen.len() < errors {
        let message = client
            .wait_for(|m| {
                m.get("method").is_none()
                    && (m["id"] == id || (m["id"].is_null() && m.get("error").is_some()))
            })
            .unwrap_or_else(|| panic!("response to {id} and {errors} error(s) not seen: {seen:?}"));
        if message["id"] == id {
            response = Some(message);
        } else {
            seen.push(message);
        }
    }
    (response.unwrap_or_default(), seen)
}

#[test]
fn bodies_that_are_no_messages_are_answered_and_the_server_goes_on() {
    let mut s = serve_a_note();
    assert!(hover_answers(&mut s));
    s.client
        .send_raw(b"{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": ");
    let error = next_error(&mut s.client, -32700);
    assert_eq!(error["id"], Value::Null, "{error}");
    assert!(
        hover_answers(&mut s),
        "answering after a body that is not JSON"
    );
    for not_json in [&b"\xff\xfe not UTF-8"[..], b"", b"{} trailing"] {
        s.client.send_raw(not_json);
        next_error(&mut s.client, -32700);
    }
    let invalid = [
        (&br#"[1, 2]"#[..], Value::Null),
        (br#""just a string""#, Value::Null),
        (br#"{"jsonrpc":"2.0","id":77,"params":{}}"#, json!(77)),
        (
            br#"{"jsonrpc":"1.0","id":"v1","method":"textDocument/hover"}"#,
            json!("v1"),
        ),
        (br#"{"jsonrpc":"2.0","id":79,"method":42}"#, json!(79)),
    ];
    for (body, id) in invalid {
        s.client.send_raw(body);
        let error = next_error(&mut s.client, -32600);
        assert_eq!(error["id"], id, "{}", String::from_utf8_lossy(body));
    }
    // Notifications are never answered, known or not.
    s.client.notify("paper/noSuchNotification", json!({"x": 1}));
    s.client.notify("$/setTrace", json!({"value": "verbose"}));
    assert!(hover_answers(&mut s), "answering after all of it");
    assert_eq!(s.client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn lengths_that_lie_and_bad_headers_are_skipped_to_the_next_message() {
    let mut s = serve_a_note();
    // Too short: the body is cut, the rest of it is garbage before the next header.
    let body = hover_at_key(&s.uri, RAW_IDS);
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len() - 8).into_bytes();
    bytes.extend_from_slice(&body);
    s.client.send_bytes(&bytes);
    next_error(&mut s.client, -32700);
    assert!(hover_answers(&mut s), "after a length that is too short");

    // Too long: the frame swallows the start of the next request, which is
    // still read and answered.
    let body = hover_at_key(&s.uri, RAW_IDS + 1);
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len() + 25).into_bytes();
    bytes.extend_from_slice(&body);
    bytes.extend(framed(&hover_at_key(&s.uri, RAW_IDS + 2)));
    s.client.send_bytes(&bytes);
    let (response, errors) = response_and_errors(&mut s.client, RAW_IDS + 2, 1);
    assert!(is_card(&response["result"]), "{response}");
    assert_eq!(errors[0]["error"]["code"], -32700);

    // Headers that are not headers, then headers spelled unusually.
    for garbage in [
        &b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"[..],
        b"Content-Length: twelve\r\n\r\n{}",
        b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}",
        b"\x00\x01\x02 binary noise \xff",
    ] {
        s.client.send_bytes(garbage);
        next_error(&mut s.client, -32700);
        assert!(
            hover_answers(&mut s),
            "after {:?}",
            String::from_utf8_lossy(garbage)
        );
    }
    let body = hover_at_key(&s.uri, RAW_IDS + 3);
    let unusual = format!(
        "content-type: application/json\ncontent-length: {}\n\n",
        body.len()
    );
    s.client.send_bytes(&[unusual.as_bytes(), &body].concat());
    let (response, _) = response_and_errors(&mut s.client, RAW_IDS + 3, 0);
    assert!(
        is_card(&response["result"]),
        "lower-case names, bare newlines, Content-Type without charset: {response}"
    );
    assert_eq!(s.client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_100_mb_message_is_refused_without_being_held_and_the_server_goes_on() {
    let mut s = serve_a_note();
    assert!(hover_answers(&mut s));
    let total = 100_000_000usize;
    let head = format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{{\"textDocument\":{{\"uri\":\"{}\",\"languageId\":\"markdown\",\"version\":9,\"text\":\"",
        s.uri
    );
    let tail = "\"}}}";
    s.client
        .send_bytes(format!("Content-Length: {total}\r\n\r\n{head}").as_bytes());
    let chunk = vec![b'x'; 1 << 20];
    let mut left = total - head.len() - tail.len();
    while left > 0 {
        let n = left.min(chunk.len());
        s.client.send_bytes(&chunk[..n]);
        left -= n;
    }
    s.client.send_bytes(tail.as_bytes());
    let error = next_error(&mut s.client, -32600);
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("100000000 bytes")),
        "{error}"
    );
    assert!(hover_answers(&mut s), "answering after the refused message");
    let (_, peak_mb) = memory_mb(s.client.pid());
    eprintln!("peak resident memory after the 100 MB message: {peak_mb:.0} MB");
    assert!(
        peak_mb < 100.0,
        "peak resident memory {peak_mb:.0} MB: the message was held"
    );
    assert_eq!(s.client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn requests_after_shutdown_are_invalid_and_exit_still_ends_with_code_0() {
    let mut s = serve_a_note();
    assert!(s.client.request("shutdown", Value::Null).is_null());
    let late = s
        .client
        .request_raw("textDocument/hover", LspClient::at(&s.uri, 0, 9));
    assert_eq!(late["error"]["code"], -32600, "{late}");
    let again = s.client.request_raw("shutdown", Value::Null);
    assert_eq!(again["error"]["code"], -32600, "{again}");
    s.client.notify("exit", Value::Null);
    assert_eq!(s.client.wait_exit().code(), Some(0));
}

#[test]
fn ten_thousand_cancellations_of_unknown_requests_then_a_request_is_answered() {
    let mut s = serve_a_note();
    let mut flood = Vec::new();
    for i in 0..10_000 {
        let cancel =
            json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 500_000 + i}});
        flood.extend(framed(cancel.to_string().as_bytes()));
    }
    let started = Instant::now();
    s.client.send_bytes(&flood);
    assert!(hover_answers(&mut s), "answered after the flood");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the flood took {:?}",
        started.elapsed()
    );
    assert_eq!(s.client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn five_thousand_requests_written_without_reading_are_held_back_then_all_answered() {
    const REQUESTS: i64 = 5_000;
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut child = support::spawn_server(cache.path());
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let uri = support::file_uri(&root.path().join("note.md"));
    let opening = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "rootUri": support::file_uri(root.path()), "capabilities": {}}}),
        json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": NOTE}}}),
    ];
    for message in opening {
        stdin
            .write_all(&framed(message.to_string().as_bytes()))
            .unwrap();
        stdin.flush().unwrap();
        if message["id"] == 1 {
            while support::read_message(&mut stdout).expect("initialized")["id"] != 1 {}
        }
    }
    let writer_uri = uri.clone();
    let writer = std::thread::spawn(move || {
        for id in 2..2 + REQUESTS {
            stdin
                .write_all(&framed(&hover_at_key(&writer_uri, id)))
                .unwrap();
        }
        stdin.flush().unwrap();
        stdin
    });
    std::thread::sleep(Duration::from_secs(3));
    // Each answer is a card of a few KB: 5,000 of them are far more than
    // the pipes between client and server hold, so if the server kept
    // reading requests it cannot answer, the writer would be done by now.
    assert!(
        !writer.is_finished(),
        "the server took every request while nobody read its answers"
    );
    let (rss_while_stalled, _) = memory_mb(pid);
    let mut answered = 0;
    while answered < REQUESTS {
        let message = support::read_message(&mut stdout).expect("the server is still there");
        let id = message["id"].as_i64().unwrap_or(0);
        if message.get("method").is_none() && (2..2 + REQUESTS).contains(&id) {
            assert!(is_card(&message["result"]), "{message}");
            answered += 1;
        }
    }
    let mut stdin = writer.join().unwrap();
    let (rss_after, peak) = memory_mb(pid);
    eprintln!("memory while stalled {rss_while_stalled:.0} MB, after {rss_after:.0} MB, peak {peak:.0} MB");
    assert!(
        rss_while_stalled < 100.0 && peak < 150.0,
        "memory while stalled {rss_while_stalled:.0} MB, after {rss_after:.0} MB, peak {peak:.0} MB"
    );
    for message in [
        json!({"jsonrpc": "2.0", "id": 9_999, "method": "shutdown"}),
        json!({"jsonrpc": "2.0", "method": "exit"}),
    ] {
        stdin
            .write_all(&framed(message.to_string().as_bytes()))
            .unwrap();
        stdin.flush().unwrap();
        if message["id"] == 9_999 {
            while support::read_message(&mut stdout).expect("shut down")["id"] != 9_999 {}
        }
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        // Keep reading so the server is never stuck writing to us.
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("did not exit");
        }
        let _ = support::read_message(&mut stdout);
    };
    assert_eq!(status.code(), Some(0));
}

/// Find references and rename are answered beside tower-lsp (their answers
/// run to megabytes in a vault): under the request's own id, whatever its
/// type; with tower-lsp's errors; once each; and a cancelled one is
/// answered once, with RequestCancelled or its result if it was done.
#[test]
fn references_and_rename_are_answered_once_under_their_own_ids_and_can_be_cancelled() {
    let mut s = serve_a_note();
    let mut params = LspClient::at(&s.uri, 0, 9);
    params["context"] = json!({"includeDeclaration": true});
    let references = |id: Value| json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/references", "params": params});
    s.client.send(&references(json!("refs-1")));
    let answer = s
        .client
        .wait_for(|m| m["id"] == "refs-1" && m.get("method").is_none())
        .expect("an answer to a request with a string id");
    let found = answer["result"].as_array().expect("locations");
    assert_eq!(found.len(), 1, "{answer}");
    assert_eq!(found[0]["uri"], s.uri.as_str());
    assert_eq!(
        found[0]["range"]["start"],
        json!({"line": 0, "character": 6})
    );

    // The bundled corpus is read-only: its keys are not renamed (a rename
    // that is made is in `lsp.rs`).
    let mut rename = LspClient::at(&s.uri, 0, 9);
    rename["newName"] = json!("tickets2024");
    let refused = s.client.request_raw("textDocument/rename", rename);
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("read-only")),
        "{refused}"
    );

    // A request and its cancellation in one write.
    let id = RAW_IDS + 1;
    let mut both = framed(references(json!(id)).to_string().as_bytes());
    let cancel = json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": id}});
    both.extend(framed(cancel.to_string().as_bytes()));
    s.client.send_bytes(&both);
    let answer = s
        .client
        .wait_for(|m| m["id"] == id && m.get("method").is_none())
        .expect("the cancelled request answered");
    assert!(
        answer["error"]["code"] == -32800 || answer["result"].is_array(),
        "{answer}"
    );
    eprintln!("the cancelled request was answered with {answer}");
    // Nothing more under that id before an answer to a later request.
    let mut again = 0;
    s.client
        .send(&json!({"jsonrpc": "2.0", "id": id + 1, "method": "textDocument/hover", "params": LspClient::at(&s.uri, 0, 9)}));
    s.client
        .wait_for(|m| {
            again += usize::from(m["id"] == id);
            m["id"] == id + 1
        })
        .expect("the hover after it answered");
    assert_eq!(again, 0, "the cancelled request was answered twice");
    assert_eq!(s.client.shutdown_and_exit().code(), Some(0));
}

/// Hover, completion and go to paper are answered by tower-lsp's handlers
/// until `initialized`, then where they are read (`quick_answers`): the
/// same answers either way, under the request's own id, and a request
/// right after an edit sees it.
#[test]
fn typing_requests_answer_the_same_through_tower_lsp_and_where_they_are_read() {
    let root = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut client = LspClient::start(cache.path());
    client.request(
        "initialize",
        json!({"processId": null, "rootUri": support::file_uri(root.path()), "capabilities": {}}),
    );
    let note = "See [@grokking-tickets-lottery] and [@grok\n";
    let uri = client.open(&root.path().join("note.md"), "markdown", note);
    // Every answer settled: the corpus read and indexed.
    let started = Instant::now();
    while client.request("paper-ls/status", Value::Null)["indexReady"] != true {
        assert!(started.elapsed() < Duration::from_secs(60), "never indexed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let asked = [
        ("textDocument/hover", LspClient::at(&uri, 0, 9)),
        ("textDocument/definition", LspClient::at(&uri, 0, 9)),
        ("textDocument/completion", LspClient::at(&uri, 0, 42)),
    ];
    let ask_all = |client: &mut LspClient| -> Vec<Value> {
        asked
            .iter()
            .map(|(method, params)| client.request(method, params.clone()))
            .collect()
    };
    let through_tower_lsp = ask_all(&mut client);
    client.notify("initialized", json!({}));
    let where_read = ask_all(&mut client);
    assert!(is_card(&where_read[0]), "{}", where_read[0]);
    assert!(
        where_read[1].to_string().contains("file://"),
        "go to paper: {}",
        where_read[1]
    );
    let items = where_read[2]["items"]
        .as_array()
        .expect("a completion list");
    assert!(
        items
            .iter()
            .any(|i| i["label"] == "grokking-tickets-lottery"),
        "{}",
        where_read[2]
    );
    for ((method, _), (before, after)) in
        asked.iter().zip(through_tower_lsp.iter().zip(&where_read))
    {
        assert_eq!(before, after, "{method} answered differently");
    }

    // A string id, and an edit sent in the same write as the hover after it.
    let edited = "See [@grokking-tickets-lottery] and [@grok\nNothing cited here.\n";
    let change = json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}});
    let hover = |line, character| {
        json!({"jsonrpc": "2.0", "id": "typing-1", "method": "textDocument/hover",
        "params": LspClient::at(&uri, line, character)})
    };
    let mut both = framed(change.to_string().as_bytes());
    both.extend(framed(hover(1, 2).to_string().as_bytes()));
    client.send_bytes(&both);
    let answer = client
        .wait_for(|m| m["id"] == "typing-1" && m.get("method").is_none())
        .expect("the hover answered under its string id");
    assert_eq!(
        answer["result"],
        Value::Null,
        "nothing cited on the new line: {answer}"
    );
    assert!(answer.get("error").is_none(), "{answer}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
