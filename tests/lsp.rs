//! End-to-end tests of the language server: the real `paper-ls` binary spoken
//! to over stdio, on real files, in Markdown and LaTeX, in both position
//! encodings, plus the bad input a server meets in the wild.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use support::{file_uri, LspClient};

const GROKKING_KEYS: [&str; 3] = [
    "grokfast-accelerated-grokking",
    "grokking-tickets-lottery",
    "grokking-edge-numerical",
];

struct Session {
    client: LspClient,
    dir: tempfile::TempDir,
    _cache: tempfile::TempDir,
}

fn session_with(options: Value, utf8: bool, setup: impl FnOnce(&Path)) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    setup(dir.path());
    let mut client = LspClient::start(cache.path());
    client.initialize(dir.path(), options, utf8);
    Session {
        client,
        dir,
        _cache: cache,
    }
}

fn session() -> Session {
    session_with(Value::Null, false, |_| {})
}

fn labels(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

fn position_of(text: &str, needle: &str) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    utf16_position(text, at)
}

#[test]
fn markdown_completion_offers_the_grokking_papers_with_cards() {
    let mut s = session();
    let text = "# Notes\n\nSee [@grok";
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", text);
    let list = s
        .client
        .request("textDocument/completion", LspClient::at(&uri, 2, 10));
    let got = labels(&list);
    for key in GROKKING_KEYS {
        assert!(
            got[..3].contains(&key.to_string()),
            "{key} in top 3 of {got:?}"
        );
    }
    let first = &list["items"][0];
    assert!(first["filterText"].as_str().unwrap().starts_with("grok"));
    assert!(
        first["documentation"]["value"].as_str().unwrap().len() > 200,
        "card with abstract"
    );
    assert!(first["detail"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("grok"));
    assert_eq!(
        first["textEdit"]["range"],
        json!({"start": {"line": 2, "character": 6}, "end": {"line": 2, "character": 10}})
    );
}

#[test]
fn completion_finds_a_paper_by_a_word_only_in_its_abstract() {
    let mut s = session();
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "Softmax collapse: [@stablemax",
    );
    let list = s
        .client
        .request("textDocument/completion", LspClient::at(&uri, 0, 29));
    assert_eq!(labels(&list)[0], "grokking-edge-numerical", "{list}");
}

#[test]
fn latex_completion_in_every_cite_form() {
    let mut s = session();
    let text = "\\citep[see][p.~3]{grok\n\\cites{grokfast-accelerated-grokking}{grok\n\\cite{grokking-tickets-lottery, grok}\n";
    let uri = s
        .client
        .open(&s.dir.path().join("paper.tex"), "latex", text);
    for (line, character) in [(0, 22), (1, 41), (2, 35)] {
        let list = s.client.request(
            "textDocument/completion",
            LspClient::at(&uri, line, character),
        );
        let got = labels(&list);
        assert!(
            GROKKING_KEYS.iter().all(|k| got.contains(&k.to_string())),
            "line {line}: {got:?}"
        );
    }
    let outside = s
        .client
        .request("textDocument/completion", LspClient::at(&uri, 0, 2));
    assert!(outside.is_null() || labels(&outside).is_empty());
}

#[test]
fn hover_shows_the_card_on_exactly_the_key() {
    let mut s = session();
    let text = "Slow gradients help [@grokfast-accelerated-grokking, p. 3].\n";
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", text);
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 0, 30));
    let card = hover["contents"]["value"].as_str().unwrap();
    assert!(
        card.contains("Grokfast: Accelerated Grokking by Amplifying Slow Gradients"),
        "{card}"
    );
    assert!(
        card.contains("One puzzling artifact in machine learning"),
        "{card}"
    );
    assert_eq!(
        hover["range"],
        json!({"start": {"line": 0, "character": 22}, "end": {"line": 0, "character": 51}})
    );
    let tex = s.client.open(
        &s.dir.path().join("p.tex"),
        "latex",
        "\\parencite[see][]{grokking-tickets-lottery}",
    );
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&tex, 0, 20));
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("Grokking Tickets"));
    let nothing = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 0, 3));
    assert!(nothing.is_null());
}

#[test]
fn definition_opens_the_bundled_entry_on_its_key() {
    let mut s = session();
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "@grokking-edge-numerical shows",
    );
    let loc = s
        .client
        .request("textDocument/definition", LspClient::at(&uri, 0, 5));
    let target = loc["uri"]
        .as_str()
        .unwrap()
        .strip_prefix("file://")
        .unwrap()
        .to_string();
    assert!(target.ends_with(".bib"), "{loc}");
    let bib = std::fs::read_to_string(&target).unwrap();
    let line = loc["range"]["start"]["line"].as_u64().unwrap() as usize;
    let entry_line = bib.lines().nth(line).unwrap();
    assert_eq!(entry_line, "@misc{grokking-edge-numerical,");
    assert_eq!(loc["range"]["start"]["character"], 6);
    assert_eq!(
        loc["range"]["end"]["character"],
        6 + "grokking-edge-numerical".len()
    );
}

#[test]
fn unknown_keys_are_warned_on_their_exact_range_with_the_closest_keys() {
    let mut s = session();
    let text = "Known [@grokfast-accelerated-grokking] and typo [@grokfast-acelerated-grokking].\n";
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", text);
    let diags = s.client.diagnostics_for(&uri);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        diags[0]["range"],
        json!({"start": {"line": 0, "character": 50}, "end": {"line": 0, "character": 78}})
    );
    assert_eq!(diags[0]["severity"], 2);
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("`grokfast-accelerated-grokking`"),
        "{}",
        diags[0]["message"]
    );
    let tex = s.client.open(
        &s.dir.path().join("p.tex"),
        "latex",
        "% \\cite{ignored}\n\\citet{nope2020}\n",
    );
    let diags = s.client.diagnostics_for(&tex);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        diags[0]["range"]["start"],
        json!({"line": 1, "character": 7})
    );
}

#[test]
fn positions_are_right_after_non_ascii_text_in_both_encodings() {
    let line = "φ ï 😀 中文 [@grokking-tickets-lottery] and [@nokey]";
    for utf8 in [false, true] {
        let mut s = session_with(Value::Null, utf8, |_| {});
        let uri = s
            .client
            .open(&s.dir.path().join("note.md"), "markdown", line);
        let key_at = line.find("grokking-tickets").unwrap();
        let col = |byte: usize| {
            if utf8 {
                byte as u32
            } else {
                line[..byte].encode_utf16().count() as u32
            }
        };
        let hover = s.client.request(
            "textDocument/hover",
            LspClient::at(&uri, 0, col(key_at) + 2),
        );
        assert!(
            hover["contents"]["value"]
                .as_str()
                .unwrap()
                .contains("Grokking Tickets"),
            "utf8={utf8}"
        );
        let end = key_at + "grokking-tickets-lottery".len();
        assert_eq!(
            hover["range"]["start"]["character"],
            col(key_at),
            "utf8={utf8}"
        );
        assert_eq!(hover["range"]["end"]["character"], col(end), "utf8={utf8}");
        let diags = s.client.diagnostics_for(&uri);
        let nokey = line.find("nokey").unwrap();
        assert_eq!(
            diags[0]["range"]["start"]["character"],
            col(nokey),
            "utf8={utf8}"
        );
        let before = s.client.request(
            "textDocument/hover",
            LspClient::at(&uri, 0, col(key_at) - 2),
        );
        assert!(before.is_null(), "utf8={utf8}");
    }
}

#[test]
fn configured_corpus_from_init_options_toml_and_settings_changes() {
    let refs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/refs.bib");
    let refs_text = std::fs::read_to_string(&refs).unwrap();
    let mut s = session_with(json!({"corpus": ["refs/*.bib"]}), false, |dir| {
        std::fs::create_dir_all(dir.join("refs")).unwrap();
        std::fs::write(dir.join("refs/main.bib"), &refs_text).unwrap();
        std::fs::write(
            dir.join("extra.bib"),
            "@article{extra2021, title={An Extra Paper}}\n",
        )
        .unwrap();
        std::fs::write(dir.join("paper-ls.toml"), "corpus = [\"extra.bib\"]\n").unwrap();
    });
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "[@vaswani2017attention] [@extra2021] [@grokfast-accelerated-grokking]",
    );
    let diags = s.client.diagnostics_for(&uri);
    assert_eq!(diags.len(), 1, "only the bundled key is unknown: {diags:?}");
    assert!(diags[0]["message"].as_str().unwrap().contains("grokfast"));
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 0, 5));
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("Attention Is All You Need"));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Advances in Neural Information Processing Systems"),
        "macro resolved"
    );
    // Settings pushed without a restart replace the init options.
    s.client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"paper-ls": {"corpus": []}}}),
    );
    s.client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "[@vaswani2017attention] [@extra2021]"}]}));
    let diags = s.client.diagnostics_for(&uri);
    assert_eq!(diags.len(), 1, "refs/*.bib no longer configured: {diags:?}");
    assert!(diags[0]["message"]
        .as_str()
        .unwrap()
        .contains("vaswani2017attention"));
}

#[test]
fn documents_name_their_own_bibliographies() {
    let refs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/refs.bib");
    let mut s = session_with(Value::Null, false, |dir| {
        std::fs::create_dir_all(dir.join("thesis/chapters")).unwrap();
        std::fs::copy(&refs, dir.join("thesis/refs.bib")).unwrap();
        std::fs::write(dir.join("thesis/main.tex"), "\\documentclass{book}\n\\begin{document}\n\\include{chapters/intro}\n\\bibliography{refs}\n\\end{document}\n").unwrap();
        std::fs::create_dir_all(dir.join("notes/bib")).unwrap();
        std::fs::copy(&refs, dir.join("notes/bib/mine.bib")).unwrap();
    });
    let chapter = s.dir.path().join("thesis/chapters/intro.tex");
    let tex = s.client.open(
        &chapter,
        "latex",
        "As shown by \\citet{vaswani2017attention}.",
    );
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&tex, 0, 20));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Attention Is All You Need"),
        "bibliography of the main file"
    );
    let note = "---\ntitle: Reading\nbibliography: [bib/mine.bib]\n---\n\nMoE [@shazeer2017outrageously].\n";
    let md = s
        .client
        .open(&s.dir.path().join("notes/reading.md"), "markdown", note);
    let (line, col) = position_of(note, "shazeer");
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&md, line, col + 1));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Mixture-of-Experts"),
        "{hover}"
    );
    let loc = s
        .client
        .request("textDocument/definition", LspClient::at(&md, line, col + 1));
    assert_eq!(
        loc["uri"],
        file_uri(&s.dir.path().join("notes/bib/mine.bib"))
    );
    assert_eq!(loc["range"]["start"]["line"], 3);
}

#[test]
fn incremental_edits_keep_positions_right() {
    let mut s = session();
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "first line\n[@nokey]\n",
    );
    assert_eq!(s.client.diagnostics_for(&uri).len(), 1);
    // Replace `nokey` with a real key, then insert a line above it.
    s.client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 7}}, "text": "grokking-tickets-lottery"},
        {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "φ😀 new\n"}
    ]}));
    assert!(s.client.diagnostics_for(&uri).is_empty());
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 2, 5));
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("Grokking Tickets"));
    // A stale version is ignored.
    s.client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 1}, "contentChanges": [{"text": "[@stale]"}]}));
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 2, 5));
    assert!(!hover.is_null());
}

#[test]
fn bad_requests_get_errors_and_the_server_keeps_answering() {
    let mut s = session();
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "[@grokking-tickets-lottery]",
    );
    let unknown = s.client.request_raw("paper/noSuchMethod", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let malformed = s
        .client
        .request_raw("textDocument/hover", json!({"textDocument": 3}));
    assert_eq!(malformed["error"]["code"], -32602);
    let past = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 99, 0));
    assert!(past.is_null());
    let past_col = s
        .client
        .request("textDocument/completion", LspClient::at(&uri, 0, 999));
    assert!(past_col.is_null() || past_col["items"].is_array());
    s.client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
        {"range": {"start": {"line": 50, "character": 0}, "end": {"line": 60, "character": 3}}, "text": " tail"}
    ]}));
    let unopened = s.client.request(
        "textDocument/hover",
        LspClient::at("file:///nowhere.md", 0, 0),
    );
    assert!(unopened.is_null());
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 0, 5));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Grokking Tickets"),
        "still answering"
    );
    assert_eq!(s.client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn requests_before_initialize_and_exit_without_shutdown() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = LspClient::start(cache.path());
    let early = client.request_raw("textDocument/hover", LspClient::at("file:///a.md", 0, 0));
    assert_eq!(early["error"]["code"], -32002);
    client.initialize(cache.path(), Value::Null, false);
    client.notify("exit", Value::Null);
    assert_eq!(
        client.wait_exit().code(),
        Some(1),
        "exit without shutdown is code 1"
    );
}

#[test]
fn closing_stdin_mid_message_ends_the_server_at_once_with_code_1() {
    let cache = tempfile::tempdir().unwrap();
    let mut client = LspClient::start(cache.path());
    client.initialize(cache.path(), Value::Null, false);
    // The server's `workspace/configuration` request stays unanswered: a
    // handler is pending when the input ends.
    client.send_bytes(b"Content-Length: 200\r\n\r\n{\"jsonrpc\": \"2.0\", \"id\": 99, \"meth");
    let closed = std::time::Instant::now();
    client.close_stdin();
    let status = client.wait_exit();
    assert_eq!(status.code(), Some(1), "exited by itself: {status:?}");
    assert!(
        closed.elapsed() < std::time::Duration::from_secs(3),
        "exited {:?} after its input closed",
        closed.elapsed()
    );
}

#[test]
fn implementation_lists_related_papers_best_first_never_itself() {
    let mut s = session();
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "[@grokfast-accelerated-grokking]",
    );
    let locations = s
        .client
        .request("textDocument/implementation", LspClient::at(&uri, 0, 5));
    let locations = locations.as_array().unwrap();
    assert!(locations.len() >= 3, "{locations:?}");
    let bib_path = locations[0]["uri"]
        .as_str()
        .unwrap()
        .strip_prefix("file://")
        .unwrap()
        .to_string();
    let bib = std::fs::read_to_string(bib_path).unwrap();
    let keys: Vec<String> = locations
        .iter()
        .map(|l| {
            let line = bib
                .lines()
                .nth(l["range"]["start"]["line"].as_u64().unwrap() as usize)
                .unwrap();
            line.trim_start_matches("@misc{")
                .trim_end_matches(',')
                .to_string()
        })
        .collect();
    assert!(
        !keys.contains(&"grokfast-accelerated-grokking".to_string()),
        "{keys:?}"
    );
    assert!(
        keys[..2].contains(&"grokking-tickets-lottery".to_string()),
        "{keys:?}"
    );
    assert!(
        keys[..2].contains(&"grokking-edge-numerical".to_string()),
        "{keys:?}"
    );
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 0, 5));
    let card = hover["contents"]["value"].as_str().unwrap();
    let related = card
        .split("Related:")
        .nth(1)
        .expect("card ends with related papers");
    assert_eq!(
        related.lines().filter(|l| l.starts_with("- ")).count(),
        3,
        "{card}"
    );
    assert!(related.contains("Grokking Tickets"), "{card}");
}

#[test]
fn workspace_symbols_and_commands_search_the_corpus() {
    let mut s = session();
    s.client
        .open(&s.dir.path().join("note.md"), "markdown", "nothing here");
    let symbols = s.client.request(
        "workspace/symbol",
        json!({"query": "slow gradients grokking"}),
    );
    let first = &symbols.as_array().unwrap()[0];
    assert_eq!(
        first["name"],
        "Grokfast: Accelerated Grokking by Amplifying Slow Gradients"
    );
    assert_eq!(first["containerName"], "grokfast-accelerated-grokking");
    assert!(first["location"]["uri"].as_str().unwrap().ends_with(".bib"));
    let found = s.client.request(
        "workspace/executeCommand",
        json!({"command": "paper-ls.search", "arguments": ["lottery tickets", 5]}),
    );
    assert_eq!(found[0]["key"], "grokking-tickets-lottery", "{found}");
    assert!(found[0]["abstract"].as_str().unwrap().len() > 100);
    let related = s.client.request(
        "workspace/executeCommand",
        json!({"command": "paper-ls.related", "arguments": ["grokking-tickets-lottery", 3]}),
    );
    let keys: Vec<&str> = related
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(!keys.contains(&"grokking-tickets-lottery"));
    // Lottery tickets are what the paper is mostly about.
    assert!(keys.contains(&"layers-play-lottery"), "{keys:?}");
    let bad = s.client.request_raw(
        "workspace/executeCommand",
        json!({"command": "paper-ls.related", "arguments": ["no-such-key"]}),
    );
    assert_eq!(bad["error"]["code"], -32602);
}

#[test]
fn titles_written_in_prose_get_cards_definitions_and_related_papers() {
    let mut s = session();
    let md = "# Reading\n\nToday I read *Grokfast: accelerated grokking by\namplifying slow gradients* and liked it.\n\nLater, Grokfast again.\n";
    let uri = s.client.open(&s.dir.path().join("note.md"), "markdown", md);
    let (line, col) = position_of(md, "amplifying");
    let hover = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, line, col + 3));
    let card = hover["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no hover: {hover}"));
    assert!(
        card.contains("One puzzling artifact in machine learning"),
        "{card}"
    );
    let (start_line, start_col) = position_of(md, "Grokfast: accelerated");
    assert_eq!(
        hover["range"]["start"],
        json!({"line": start_line, "character": start_col})
    );
    assert_eq!(
        hover["range"]["end"],
        json!({"line": line, "character": col + "amplifying slow gradients".len() as u32})
    );
    let (short_line, short_col) = position_of(md, "Grokfast again");
    let short = s.client.request(
        "textDocument/hover",
        LspClient::at(&uri, short_line, short_col + 2),
    );
    assert!(
        short["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Amplifying Slow Gradients"),
        "short name: {short}"
    );
    let def = s
        .client
        .request("textDocument/definition", LspClient::at(&uri, line, col));
    assert!(def["uri"].as_str().unwrap().ends_with(".bib"), "{def}");
    let related = s.client.request(
        "textDocument/implementation",
        LspClient::at(&uri, line, col),
    );
    assert!(related.as_array().unwrap().len() >= 3);
    let plain = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 2, 3));
    assert!(plain.is_null(), "ordinary words are no title: {plain}");
}

#[test]
fn cite_this_paper_inserts_a_citation_after_the_title() {
    let mut s = session();
    let md = "I liked \"Grokking at the Edge of Numerical Stability\" a lot.\nAlso Grokking Tickets: Lottery Tickets Accelerate Grokking [@grokking-tickets-lottery].\n";
    let uri = s.client.open(&s.dir.path().join("note.md"), "markdown", md);
    let range = json!({"start": {"line": 0, "character": 15}, "end": {"line": 0, "character": 15}});
    let actions = s.client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}),
    );
    let action = &actions[0];
    assert_eq!(action["title"], "Cite grokking-edge-numerical", "{actions}");
    let edit = &action["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], " [@grokking-edge-numerical]");
    let after_quote = md.find("\" a lot").unwrap() as u32 + 1;
    assert_eq!(
        edit["range"]["start"],
        json!({"line": 0, "character": after_quote})
    );
    let cited = json!({"start": {"line": 1, "character": 10}, "end": {"line": 1, "character": 10}});
    let none = s.client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": cited, "context": {"diagnostics": []}}),
    );
    assert_eq!(none, json!([]), "already cited");
    let tex = "We build on \\emph{Grokking at the Edge of Numerical Stability}.\n";
    let tex_uri = s.client.open(&s.dir.path().join("paper.tex"), "latex", tex);
    let range = json!({"start": {"line": 0, "character": 25}, "end": {"line": 0, "character": 25}});
    let actions = s.client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": tex_uri}, "range": range, "context": {"diagnostics": []}}),
    );
    assert_eq!(
        actions[0]["edit"]["changes"][&tex_uri][0]["newText"], "~\\cite{grokking-edge-numerical}",
        "{actions}"
    );
}

/// Hovers until `pred` holds for the card (or `None` hover), up to 20 s.
fn hover_until(
    client: &mut LspClient,
    uri: &str,
    line: u32,
    col: u32,
    mut pred: impl FnMut(Option<&str>) -> bool,
) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        let hover = client.request("textDocument/hover", LspClient::at(uri, line, col));
        if pred(hover["contents"]["value"].as_str()) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn a_bib_changed_on_disk_is_followed_and_a_briefly_missing_one_keeps_its_papers() {
    let mut s = session_with(json!({"corpus": ["refs.bib"]}), false, |dir| {
        std::fs::write(
            dir.join("refs.bib"),
            "@article{old2020, title={The Old Paper}}\n",
        )
        .unwrap();
    });
    let bib = s.dir.path().join("refs.bib");
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "[@old2020] and [@new2024]",
    );
    assert!(hover_until(&mut s.client, &uri, 0, 4, |c| c
        .is_some_and(|c| c.contains("The Old Paper"))));
    std::fs::write(
        &bib,
        "@article{old2020, title={The Old Paper}}\n@article{new2024, title={A New Paper}}\n",
    )
    .unwrap();
    s.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&bib), "type": 2}]}),
    );
    assert!(
        hover_until(&mut s.client, &uri, 0, 18, |c| c
            .is_some_and(|c| c.contains("A New Paper"))),
        "new entry seen"
    );
    // Deleted and written again (as editors and Zotero do): no gap in answers.
    std::fs::remove_file(&bib).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let during = s
        .client
        .request("textDocument/hover", LspClient::at(&uri, 0, 4));
    assert!(
        during["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("The Old Paper"),
        "last good corpus kept"
    );
    std::fs::write(&bib, "@article{old2020, title={The Old Paper, Revised}}\n@article{new2024, title={A New Paper}}\n").unwrap();
    assert!(hover_until(&mut s.client, &uri, 0, 4, |c| c
        .is_some_and(|c| c.contains("Revised"))));
    // A broken entry: its problem is published on the .bib itself.
    std::fs::write(&bib, "@article{old2020, title={The Old Paper}}\n@article{broken, title={Unclosed\n@article{new2024, title={A New Paper}}\n").unwrap();
    let bib_uri = file_uri(&bib);
    let found = s.client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == bib_uri
            && !m["params"]["diagnostics"].as_array().unwrap().is_empty()
    });
    let diags = found.expect("problems published on the .bib")["params"]["diagnostics"].clone();
    assert_eq!(diags[0]["range"]["start"]["line"], 1, "{diags}");
    assert!(
        hover_until(&mut s.client, &uri, 0, 18, |c| c
            .is_some_and(|c| c.contains("A New Paper"))),
        "neighbours of a broken entry still load"
    );
}

/// The key `paper-ls.search` ranks first for `words`.
fn first_found(client: &mut LspClient, words: &str) -> String {
    let found = client.request(
        "workspace/executeCommand",
        json!({"command": "paper-ls.search", "arguments": [words, 3]}),
    );
    found[0]["key"].as_str().unwrap_or("").to_string()
}

/// Waits (up to 20 s) until `paper-ls.search` ranks `key` first for `words`.
fn found_until(client: &mut LspClient, words: &str, key: &str) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(20) {
        if first_found(client, words) == key {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn a_large_bib_edited_entry_by_entry_keeps_search_titles_and_the_index_right() {
    // Large enough for a persisted index: edits update it by entry, and
    // every paper after an added or removed entry moves by one.
    let entry = |i: usize| {
        format!(
            "@article{{entry{i},\n  author = {{Author{i}, Ann}},\n  title = {{Findings on quokka{i} behaviour in the wild}},\n  year = {{2020}},\n}}\n\n"
        )
    };
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bib = dir.path().join("big.bib");
    let text: String = (0..6000).map(entry).collect();
    std::fs::write(&bib, &text).unwrap();
    let start = |cache: &Path| {
        let mut client = LspClient::start(cache);
        client.initialize(dir.path(), json!({"corpus": ["big.bib"]}), false);
        client
    };
    let mut client = start(cache.path());
    let note = "See [@entry5000] and Findings on Quokka4500 Behaviour in the Wild.\n";
    let uri = client.open(&dir.path().join("note.md"), "markdown", note);
    assert!(client.wait_until_indexed(std::time::Duration::from_secs(120)));
    assert_eq!(first_found(&mut client, "quokka5000"), "entry5000");
    let changed = |client: &mut LspClient| {
        client.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": file_uri(&bib), "type": 2}]}),
        );
    };
    // An entry added early: the later papers move.
    let added =
        "@article{wombat2026,\n  title = {Wombats Dig Square Burrows},\n  year = {2026},\n}\n\n";
    let at = text.find("@article{entry10,").unwrap();
    let text = format!("{}{added}{}", &text[..at], &text[at..]);
    std::fs::write(&bib, &text).unwrap();
    changed(&mut client);
    assert!(found_until(&mut client, "wombats burrows", "wombat2026"));
    assert_eq!(first_found(&mut client, "quokka5000"), "entry5000");
    assert_eq!(first_found(&mut client, "quokka3"), "entry3");
    assert!(hover_until(&mut client, &uri, 0, 8, |c| c
        .is_some_and(|c| c.contains("quokka5000"))));
    // A title written in the note still names its paper (moved by one).
    let title_at = note.find("Quokka4500").unwrap() as u32;
    assert!(hover_until(&mut client, &uri, 0, title_at, |c| c
        .is_some_and(
            |c| c.contains("entry4500") || c.contains("Author4500")
        )));
    // An entry removed, and one edited, by rename over the file.
    let text = text
        .replacen(&entry(20), "", 1)
        .replace("quokka5000 behaviour", "quokka5000 migration");
    let tmp = dir.path().join("big.bib.tmp");
    std::fs::write(&tmp, &text).unwrap();
    std::fs::rename(&tmp, &bib).unwrap();
    changed(&mut client);
    assert!(found_until(
        &mut client,
        "quokka5000 migration",
        "entry5000"
    ));
    assert!(hover_until(&mut client, &uri, 0, 8, |c| c
        .is_some_and(|c| c.contains("migration"))));
    assert_ne!(first_found(&mut client, "quokka20"), "entry20");
    assert_eq!(first_found(&mut client, "quokka21"), "entry21");
    assert_eq!(first_found(&mut client, "wombats"), "wombat2026");
    client.shutdown_and_exit();
    // Updated, not rebuilt: the index keeps which paper each document is.
    let renumbered = std::fs::read_dir(cache.path().join("index"))
        .unwrap()
        .flatten()
        .any(|d| d.path().join("paper-ls-doc-numbers.bin").exists());
    assert!(
        renumbered,
        "the index was rebuilt rather than updated by entry"
    );
    // A new server reopens the index updated by entry and finds the same.
    let mut client = start(cache.path());
    client.open(&dir.path().join("note.md"), "markdown", note);
    assert!(client.wait_until_indexed(std::time::Duration::from_secs(120)));
    assert_eq!(
        first_found(&mut client, "quokka5000 migration"),
        "entry5000"
    );
    assert_eq!(first_found(&mut client, "wombats"), "wombat2026");
    assert_eq!(first_found(&mut client, "quokka21"), "entry21");
    client.shutdown_and_exit();
}

#[test]
fn lines_appended_to_a_json_lines_dump_are_found_without_reading_it_again() {
    let line = |i: usize, topic: &str| {
        format!(
            "{{\"id\": \"2401.{i:05}\", \"title\": \"Study {i} of {topic}\", \"authors\": \"Ann Author{i}\", \"abstract\": \"Words about {topic}.\"}}\n"
        )
    };
    let mut text: String = (0..6000).map(|i| line(i, &format!("quokka{i}"))).collect();
    let mut s = session_with(json!({"corpus": ["dump.jsonl"]}), false, |dir| {
        std::fs::write(dir.join("dump.jsonl"), &text).unwrap();
    });
    let dump = s.dir.path().join("dump.jsonl");
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "[@author60012024study]",
    );
    assert!(s
        .client
        .wait_until_indexed(std::time::Duration::from_secs(120)));
    assert_eq!(
        first_found(&mut s.client, "quokka5999"),
        "author59992024study"
    );
    text.push_str(&line(6001, "wombats digging burrows"));
    std::fs::write(&dump, &text).unwrap();
    s.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&dump), "type": 2}]}),
    );
    assert!(hover_until(&mut s.client, &uri, 0, 4, |c| c
        .is_some_and(|c| c.contains("wombats digging burrows"))));
    assert!(found_until(
        &mut s.client,
        "wombats burrows",
        "author60012024study"
    ));
    assert_eq!(
        first_found(&mut s.client, "quokka5999"),
        "author59992024study"
    );
}

/// `n` generated arXiv-style records ("Study i of topicN" by "Ann AuthorM
/// and Bo Person", cs.LG) as JSON Lines, with `abstract_of(i)` abstracts.
fn write_studies(path: &Path, n: usize, abstract_of: impl Fn(usize) -> String) {
    let mut lines = String::new();
    for i in 0..n {
        let record = json!({
            "id": format!("2401.{i:05}"),
            "title": format!("Study {i} of topic{}", i % 97),
            "authors": format!("Ann Author{} and Bo Person", i % 50),
            "abstract": abstract_of(i),
            "categories": "cs.LG",
        });
        lines.push_str(&record.to_string());
        lines.push('\n');
    }
    std::fs::write(path, lines).unwrap();
}

#[test]
fn indexing_a_large_corpus_reports_progress_and_keeps_answering() {
    let mut s = session_with(json!({"corpus": ["big.jsonl"]}), false, |dir| {
        let mut lines = String::new();
        for i in 0..8000 {
            lines.push_str(&format!(
                "{{\"id\": \"2401.{i:05}\", \"title\": \"Study {i} of topic{}\", \"authors\": \"Ann Author{} and Bo Person\", \"abstract\": \"Words about topic{} and more words.\", \"categories\": \"cs.LG\"}}\n",
                i % 97, i % 50, i % 13
            ));
        }
        std::fs::write(dir.join("big.jsonl"), lines).unwrap();
    });
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "[@author12024study]",
    );
    let card = s.client.hover_text(&uri, 0, 4);
    assert!(
        card.contains("Study"),
        "answered from parsed papers: {card}"
    );
    let end = s
        .client
        .wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    assert!(end.is_some(), "progress ended");
    let kinds: Vec<String> = s
        .client
        .notifications
        .iter()
        .filter(|m| m["method"] == "$/progress")
        .map(|m| m["params"]["value"]["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("begin"),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k == "report"), "{kinds:?}");
}

#[test]
fn inlay_hints_show_short_titles_and_can_be_turned_off() {
    let mut s = session();
    let text = "See [@grokfast-accelerated-grokking] and [@nokey].\n";
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", text);
    let range = json!({"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}});
    let hints = s.client.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": range}),
    );
    let hints = hints.as_array().unwrap();
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert_eq!(hints[0]["label"], "Grokfast");
    assert_eq!(hints[0]["position"], json!({"line": 0, "character": 35}));
    s.client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"paper-ls": {"inlayHints": false}}}),
    );
    let off = s.client.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": range}),
    );
    assert_eq!(off, json!([]));
}

#[test]
fn an_unknown_key_offers_the_closest_papers_as_replacements() {
    let mut s = session();
    let text = "[@grokfast-acelerated-grokking]\n";
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", text);
    let range = json!({"start": {"line": 0, "character": 5}, "end": {"line": 0, "character": 5}});
    let actions = s.client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}),
    );
    let first = &actions[0];
    assert!(
        first["title"]
            .as_str()
            .unwrap()
            .starts_with("Replace with grokfast-accelerated-grokking — Grokfast"),
        "{actions}"
    );
    assert_eq!(first["isPreferred"], true);
    let edit = &first["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "grokfast-accelerated-grokking");
    assert_eq!(
        edit["range"],
        json!({"start": {"line": 0, "character": 2}, "end": {"line": 0, "character": 30}})
    );
}

#[test]
fn literature_notes_are_created_from_the_template_and_opened() {
    let mut s = session_with(json!({"literatureNotes": {"folder": "lit"}}), false, |_| {});
    s.client
        .open(&s.dir.path().join("note.md"), "markdown", "x");
    let made = s.client.request("workspace/executeCommand", json!({"command": "paper-ls.literatureNote", "arguments": ["grokfast-accelerated-grokking"]}));
    let path = s.dir.path().join("lit/grokfast-accelerated-grokking.md");
    assert_eq!(made["path"], path.display().to_string());
    assert_eq!(made["created"], true);
    let note = std::fs::read_to_string(&path).unwrap();
    assert!(
        note.contains("# Grokfast: Accelerated Grokking by Amplifying Slow Gradients"),
        "{note}"
    );
    assert!(note.contains("[@grokfast-accelerated-grokking]"));
    assert!(note.contains("One puzzling artifact"));
    assert!(
        note.contains("- [@grokking-tickets-lottery]")
            || note.contains("- [@grokking-edge-numerical]"),
        "related papers as citations: {note}"
    );
    let shown = s
        .client
        .server_requests
        .iter()
        .find(|m| m["method"] == "window/showDocument")
        .expect("note opened");
    assert_eq!(shown["params"]["uri"], file_uri(&path));
    std::fs::write(&path, "my own notes").unwrap();
    let again = s.client.request("workspace/executeCommand", json!({"command": "paper-ls.literatureNote", "arguments": ["grokfast-accelerated-grokking"]}));
    assert_eq!(again["created"], false);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "my own notes",
        "an existing note is never overwritten"
    );
    let custom = session_with(
        json!({"literatureNotes": {"template": "KEY={{key}} YEAR={{year}}"}}),
        false,
        |_| {},
    );
    let mut c = custom;
    c.client.open(&c.dir.path().join("n.md"), "markdown", "x");
    let made = c.client.request(
        "workspace/executeCommand",
        json!({"command": "paper-ls.literatureNote", "arguments": ["grokking-edge-numerical"]}),
    );
    let text = std::fs::read_to_string(made["path"].as_str().unwrap()).unwrap();
    assert_eq!(text, "KEY=grokking-edge-numerical YEAR=");
}

#[test]
fn reindex_reads_the_corpus_again() {
    let mut s = session_with(json!({"corpus": ["refs.bib"]}), false, |dir| {
        std::fs::write(
            dir.join("refs.bib"),
            "@article{a2020, title={First Title}}\n",
        )
        .unwrap();
    });
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", "[@a2020]");
    assert!(hover_until(&mut s.client, &uri, 0, 3, |c| c
        .is_some_and(|c| c.contains("First Title"))));
    let done = s.client.request(
        "workspace/executeCommand",
        json!({"command": "paper-ls.reindex", "arguments": []}),
    );
    assert_eq!(done["papers"], 1, "{done}");
}

#[test]
fn references_cover_every_note_of_the_workspace_opened_or_not() {
    let refs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/refs.bib");
    let mut s = session_with(json!({"corpus": ["refs.bib"]}), false, |dir| {
        std::fs::copy(&refs, dir.join("refs.bib")).unwrap();
        std::fs::create_dir_all(dir.join("chapters")).unwrap();
        std::fs::create_dir_all(dir.join(".hidden")).unwrap();
        std::fs::create_dir_all(dir.join("build")).unwrap();
        std::fs::write(dir.join(".gitignore"), "build/\n").unwrap();
        std::fs::write(
            dir.join("chapters/one.tex"),
            "As \\citet{vaswani2017attention} showed.\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("chapters/two.qmd"),
            "Attention Is All You Need changed NLP.\n",
        )
        .unwrap();
        std::fs::write(dir.join(".hidden/x.md"), "[@vaswani2017attention]").unwrap();
        std::fs::write(dir.join("build/y.md"), "[@vaswani2017attention]").unwrap();
    });
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "Transformers [@vaswani2017attention].",
    );
    let mut found = Vec::new();
    let started = std::time::Instant::now();
    while found.len() < 3 && started.elapsed() < std::time::Duration::from_secs(20) {
        let refs = s.client.request("textDocument/references", json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 16}, "context": {"includeDeclaration": true}}));
        found = refs.as_array().unwrap().clone();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let places: Vec<(String, u64)> = found
        .iter()
        .map(|l| {
            (
                l["uri"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                l["range"]["start"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    // By path: chapters/… sorts before note.md; hidden and ignored folders are skipped.
    assert_eq!(
        places,
        [
            ("one.tex".to_string(), 10),
            ("two.qmd".to_string(), 0),
            ("note.md".to_string(), 15)
        ],
        "{found:?}"
    );
    // The titles of the notes were read once, and are kept until a note
    // changes: the client is told when they are known.
    let said = |m: &Value| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|t| t.starts_with("title mentions of 2 notes known"))
    };
    let known = s.client.notifications.iter().any(said) || s.client.wait_for(said).is_some();
    assert!(known, "{:?}", s.client.notifications);
    std::fs::write(
        s.dir.path().join("chapters/two.qmd"),
        "NLP went on.\n\nThen came Attention Is All You Need.\n",
    )
    .unwrap();
    let two = support::file_uri(&s.dir.path().join("chapters/two.qmd"));
    s.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": two, "type": 2}]}),
    );
    let mut moved = false;
    let started = std::time::Instant::now();
    while !moved && started.elapsed() < std::time::Duration::from_secs(20) {
        let refs = s.client.request("textDocument/references", json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 16}, "context": {"includeDeclaration": true}}));
        moved = refs.as_array().unwrap().iter().any(|l| {
            l["uri"] == two.as_str() && l["range"]["start"] == json!({"line": 2, "character": 10})
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        moved,
        "the edited note's title mention is not found where it is now"
    );
}

#[test]
fn rename_changes_every_citation_and_the_bib_entry_or_says_why_not() {
    let refs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/refs.bib");
    let mut s = session_with(json!({"corpus": ["refs.bib"]}), false, |dir| {
        std::fs::copy(&refs, dir.join("refs.bib")).unwrap();
        std::fs::write(
            dir.join("other.md"),
            "Also [@vaswani2017attention; @shazeer2017outrageously].\n",
        )
        .unwrap();
    });
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "See [@vaswani2017attention].",
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    let at = LspClient::at(&uri, 0, 8);
    let prepared = s.client.request("textDocument/prepareRename", at.clone());
    assert_eq!(prepared["placeholder"], "vaswani2017attention");
    let mut params = at.clone();
    params["newName"] = json!("vaswani2017transformer");
    let edit = s.client.request("textDocument/rename", params);
    let changes = edit["changes"].as_object().unwrap();
    let bib_uri = file_uri(&s.dir.path().join("refs.bib"));
    assert_eq!(changes[&bib_uri][0]["newText"], "vaswani2017transformer");
    assert_eq!(changes[&uri][0]["range"]["start"]["character"], 6);
    assert_eq!(
        changes[&file_uri(&s.dir.path().join("other.md"))]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let mut bad = at.clone();
    bad["newName"] = json!("has space");
    assert_eq!(
        s.client.request_raw("textDocument/rename", bad)["error"]["code"],
        -32602
    );
    // The bundled corpus cannot be edited: refused with the reason.
    let mut plain = session();
    let bundled = plain.client.open(
        &plain.dir.path().join("b.md"),
        "markdown",
        "[@grokfast-accelerated-grokking]",
    );
    let refused = plain
        .client
        .request_raw("textDocument/prepareRename", LspClient::at(&bundled, 0, 5));
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bundled"),
        "{refused}"
    );
}

#[test]
fn a_half_written_bib_never_replaces_the_last_good_one() {
    let full = "@article{first2020, title={First Paper}}\n@article{second2021, title={Second Paper}, abstract={About the second.}}\n";
    let mut s = session_with(json!({"corpus": ["refs.bib"]}), false, |dir| {
        std::fs::write(dir.join("refs.bib"), full).unwrap()
    });
    let bib = s.dir.path().join("refs.bib");
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", "[@second2021]");
    assert!(hover_until(&mut s.client, &uri, 0, 4, |c| c
        .is_some_and(|c| c.contains("Second Paper"))));
    // A writer that truncates, then writes in two bursts close together.
    let cut = full.find("title={Second").unwrap();
    std::fs::write(&bib, &full[..cut]).unwrap();
    s.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&bib), "type": 2}]}),
    );
    std::thread::sleep(std::time::Duration::from_millis(60));
    std::fs::write(&bib, full.replace("Second Paper", "Second Paper, Final")).unwrap();
    let started = std::time::Instant::now();
    let mut saw_final = false;
    while started.elapsed() < std::time::Duration::from_secs(5) {
        let hover = s
            .client
            .request("textDocument/hover", LspClient::at(&uri, 0, 4));
        let card = hover["contents"]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("key lost while the file was being written: {hover}"));
        assert!(card.contains("Second Paper"), "{card}");
        saw_final |= card.contains("Final");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(saw_final, "the finished file is read");
}

/// The UTF-16 position of byte `at` of `text`.
fn utf16_position(text: &str, at: usize) -> (u32, u32) {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (
        text[..at].matches('\n').count() as u32,
        text[line_start..at].encode_utf16().count() as u32,
    )
}

/// Edits applied in the order they were sent, whatever tower-lsp's
/// scheduling: 2,000 incremental changes sent back to back without waiting,
/// with hovers and completions between them, and the server's text checked
/// against the client's after every 100.
#[test]
fn two_thousand_edits_sent_back_to_back_are_applied_in_order() {
    let mut s = session();
    let mut text = String::from("# Notes\n\nGrokking: see [@grokfast-accelerated-grokking].\n");
    let uri = s
        .client
        .open(&s.dir.path().join("order.md"), "markdown", &text);
    let pieces = ["a", "é", "🔬", "\n", " [@grok", "Grokfast ", "xy"];
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut request_id = 1_000_000;
    for version in 2..=2001 {
        let boundaries: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let start = boundaries[next(boundaries.len())];
        let end = if next(3) == 0 {
            let after: Vec<usize> = boundaries.iter().copied().filter(|&b| b >= start).collect();
            after[next(after.len().min(4))]
        } else {
            start
        };
        let inserted = if start < end && next(2) == 0 {
            ""
        } else {
            pieces[next(pieces.len())]
        };
        let (sl, sc) = utf16_position(&text, start);
        let (el, ec) = utf16_position(&text, end);
        text.replace_range(start..end, inserted);
        s.client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}},
                    "text": inserted,
                }],
            }),
        );
        if version % 7 == 0 {
            // Not waited for: their answers arrive among later edits.
            let now: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let at = utf16_position(&text, now.get(next(now.len().max(1))).copied().unwrap_or(0));
            for method in ["textDocument/hover", "textDocument/completion"] {
                request_id += 1;
                s.client.send(&json!({
                    "jsonrpc": "2.0", "id": request_id, "method": method,
                    "params": LspClient::at(&uri, at.0, at.1),
                }));
            }
        }
        if (version - 1) % 100 == 0 {
            let server = s
                .client
                .request("paper-ls/documentText", json!({"uri": uri}));
            assert_eq!(server["version"], json!(version), "after edit {version}");
            assert_eq!(
                server["text"].as_str(),
                Some(text.as_str()),
                "the server's text after edit {version}"
            );
        }
    }
    let hover = s
        .client
        .request_raw("textDocument/hover", LspClient::at(&uri, 0, 0));
    assert!(hover.get("error").is_none(), "{hover}");
}

/// A request answers from the text it was sent against: a hover sent just
/// before an edit that deletes the key still shows the key's card, and one
/// sent just after it shows nothing.
#[test]
fn a_request_answers_from_the_text_it_was_sent_against() {
    let mut s = session();
    let text = "See [@grokfast-accelerated-grokking].\n";
    let uri = s
        .client
        .open(&s.dir.path().join("pinned.md"), "markdown", text);
    // The first hover loads the corpus; the ones below then run at once.
    s.client
        .request("textDocument/hover", LspClient::at(&uri, 0, 10));
    for round in 0..20 {
        let version = 2 + round * 2;
        let before = 500 + round as i64 * 2;
        s.client.send(&json!({
            "jsonrpc": "2.0", "id": before, "method": "textDocument/hover",
            "params": LspClient::at(&uri, 0, 10),
        }));
        s.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"text": "Nothing cited here at all.\n"}]}),
        );
        s.client.send(&json!({
            "jsonrpc": "2.0", "id": before + 1, "method": "textDocument/hover",
            "params": LspClient::at(&uri, 0, 10),
        }));
        // Answers may come in either order.
        let mut answers = std::collections::HashMap::new();
        s.client.wait_for(|m| {
            if let Some(id) = m["id"]
                .as_i64()
                .filter(|id| (before..=before + 1).contains(id))
            {
                answers.insert(id, m.clone());
            }
            answers.len() == 2
        });
        let (answered_before, answered_after) = (&answers[&before], &answers[&(before + 1)]);
        let card = answered_before["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_default();
        assert!(
            card.contains("Grokfast"),
            "round {round}: {answered_before}"
        );
        assert!(
            answered_after["result"].is_null(),
            "round {round}: {answered_after}"
        );
        s.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version + 1},
                   "contentChanges": [{"text": text}]}),
        );
    }
}

/// A Quarto book names its bibliography once, in `_quarto.yml`: every
/// chapter sees it (no false "unknown citation key", cards on hover), and
/// `paper-ls check` agrees.
#[test]
fn a_quarto_book_names_its_bibliography_in_the_project_file() {
    let mut s = session_with(Value::Null, false, |dir| {
        std::fs::write(
            dir.join("_quarto.yml"),
            "project:\n  type: book\nbook:\n  chapters: [index.qmd, chapters/intro.qmd]\nbibliography: refs.bib\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("refs.bib"),
            "@article{smith2020quarto, title = {Writing Books with Quarto Projects}, author = {Smith, Ann}, year = 2020}\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("chapters")).unwrap();
    });
    let chapter = s.dir.path().join("chapters/intro.qmd");
    let text = "# Introduction\n\nAs @smith2020quarto shows, and [@nobody1999].\n";
    std::fs::write(&chapter, text).unwrap();
    let uri = s.client.open(&chapter, "quarto", text);
    let diags = s.client.diagnostics_for(&uri);
    let keys: Vec<&str> = diags
        .iter()
        .map(|d| d["data"]["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(keys, ["nobody1999"], "{diags:?}");
    let (line, character) = position_of(text, "smith2020");
    let hover = s.client.request(
        "textDocument/hover",
        LspClient::at(&uri, line, character + 2),
    );
    let card = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        card.contains("Writing Books with Quarto Projects"),
        "{hover}"
    );

    let checked = std::process::Command::new(support::binary())
        .arg("check")
        .arg(s.dir.path())
        .env("PAPER_LS_CACHE_DIR", s.dir.path().join(".cache"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&checked.stdout);
    assert!(
        out.contains("nobody1999") && !out.contains("smith2020quarto"),
        "{out}"
    );
}

/// A thesis with its own `refs.bib` and a big library configured as the
/// corpus: a cited library paper that `refs.bib` lacks still gets its card,
/// and a warning, since LaTeX will not find it.
#[test]
fn a_library_paper_missing_from_the_documents_bibliography_is_warned_about() {
    let mut s = session_with(Value::Null, false, |dir| {
        std::fs::write(dir.join("paper-ls.toml"), "corpus = [\"library.bib\"]\n").unwrap();
        std::fs::write(
            dir.join("library.bib"),
            "@article{lib2021deep, title = {A Deep Library Paper}, year = 2021}\n\
             @article{both2019, title = {In Both Files}, year = 2019}\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("thesis")).unwrap();
        std::fs::write(
            dir.join("thesis/refs.bib"),
            "@article{own2020, title = {Our Own Paper}, year = 2020}\n\
             @article{both2019, title = {In Both Files}, year = 2019}\n",
        )
        .unwrap();
    });
    let main = s.dir.path().join("thesis/main.tex");
    let text = "\\documentclass{article}\n\\begin{document}\n\\cite{own2020, lib2021deep, both2019, nobody1999}\n\\bibliography{refs}\n\\end{document}\n";
    std::fs::write(&main, text).unwrap();
    let uri = s.client.open(&main, "latex", text);
    let diags = s.client.diagnostics_for(&uri);
    let found: Vec<(String, String)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["data"]["key"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("not-in-bibliography".to_string(), "lib2021deep".to_string()),
            ("unknown-key".to_string(), "nobody1999".to_string()),
        ],
        "{diags:?}"
    );
    let message = diags[0]["message"].as_str().unwrap();
    assert!(
        message.contains("library.bib")
            && message.contains("refs.bib")
            && message.contains("LaTeX will not find it"),
        "{message}"
    );
    let (line, character) = position_of(text, "lib2021deep");
    let hover = s.client.request(
        "textDocument/hover",
        LspClient::at(&uri, line, character + 1),
    );
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .contains("A Deep Library Paper"));
}

/// Completing a library paper that the thesis's `refs.bib` lacks carries
/// its entry along: the item's command asks the server to add it, and the
/// server asks the editor to apply the edit to `refs.bib`.
#[test]
fn accepting_a_library_paper_in_completion_adds_its_entry() {
    let setup = |dir: &Path| {
        std::fs::write(dir.join("paper-ls.toml"), "corpus = [\"library.bib\"]\n").unwrap();
        std::fs::write(
            dir.join("library.bib"),
            "@string{jdl = {Journal of Deep Libraries}}\n\
             @article{lib2021deep, title = {A Deep Library Paper}, journal = jdl, year = 2021}\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("thesis")).unwrap();
        std::fs::write(
            dir.join("thesis/refs.bib"),
            "@article{own2020,\r\n  title = {Our Own Paper},\r\n  year = 2020,\r\n}\r\n",
        )
        .unwrap();
    };
    let mut s = session_with(Value::Null, false, setup);
    let main = s.dir.path().join("thesis/main.tex");
    let text = "\\cite{own2020, lib2021}\n\\bibliography{refs}\n";
    std::fs::write(&main, text).unwrap();
    let uri = s.client.open(&main, "latex", text);
    assert!(s.client.wait_until_indexed(support::TIMEOUT));
    let (line, character) = position_of(text, "lib2021}");
    let list = s.client.request(
        "textDocument/completion",
        LspClient::at(&uri, line, character + 7),
    );
    let items = list["items"].as_array().unwrap();
    let item = items.iter().find(|i| i["label"] == "lib2021deep").unwrap();
    let own = s
        .client
        .request("textDocument/completion", LspClient::at(&uri, 0, 9));
    let own_item = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "own2020");
    assert!(
        own_item.is_some_and(|i| i.get("command").is_none()),
        "{own}"
    );
    let command = &item["command"];
    assert_eq!(command["command"], "paper-ls.addToBibliography", "{item}");
    assert_eq!(command["arguments"], json!([uri, ["lib2021deep"]]));
    let answer = s.client.request(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    assert_eq!(answer["added"], json!(["lib2021deep"]), "{answer}");
    let refs = std::fs::read_to_string(s.dir.path().join("thesis/refs.bib")).unwrap();
    assert_eq!(
        refs,
        "@article{own2020,\r\n  title = {Our Own Paper},\r\n  year = 2020,\r\n}\r\n\r\n\
         @article{lib2021deep,\r\n  title     = {A Deep Library Paper},\r\n  \
         journal   = {Journal of Deep Libraries},\r\n  year      = {2021},\r\n}\r\n"
    );
    // Accepting it again adds nothing: the entry is there.
    let again = s.client.request(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    assert_eq!(again["added"], json!([]), "{again}");
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join("thesis/refs.bib")).unwrap(),
        refs
    );
}

/// In the thesis's `refs.bib`: a hint on each entry no note of the
/// workspace cites, beside the warnings of its load (the same paper under
/// two keys), published together.
#[test]
fn bibliography_entries_no_note_cites_get_a_hint() {
    let mut s = session_with(Value::Null, false, |dir| {
        std::fs::write(dir.join("paper-ls.toml"), "corpus = [\"library.bib\"]\n").unwrap();
        std::fs::write(
            dir.join("library.bib"),
            "@misc{lib2021deep, title = {Deep}}\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("thesis")).unwrap();
        std::fs::write(
            dir.join("thesis/refs.bib"),
            "@misc{own2020, title = {Own}}\n@misc{unused2019, title = {Unused}}\n\
             @misc{other2018, title = {Other}, doi = {10.1/o}}\n\
             @misc{Other2018b, title = {Other}, doi = {10.1/O}}\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("thesis/chapter.md"),
            "---\nbibliography: refs.bib\n---\n[@other2018; @Other2018b]\n",
        )
        .unwrap();
    });
    let main = s.dir.path().join("thesis/main.tex");
    let text = "\\cite{own2020, lib2021deep}\n\\bibliography{refs}\n";
    std::fs::write(&main, text).unwrap();
    s.client.open(&main, "latex", text);
    let refs = file_uri(&s.dir.path().join("thesis/refs.bib"));
    let published = s
        .client
        .wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == refs
                && m["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|d| d["code"] == "uncited-entry"))
        })
        .expect("hints on refs.bib");
    let diags = published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .clone();
    let hints: Vec<(&str, u64, u64)> = diags
        .iter()
        .filter(|d| d["code"] == "uncited-entry")
        .map(|d| {
            (
                d["data"]["key"].as_str().unwrap(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["range"]["start"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(hints, [("unused2019", 1, 6)], "{diags:?}");
    let hint = diags.iter().find(|d| d["code"] == "uncited-entry").unwrap();
    assert_eq!(hint["severity"], 4);
    assert_eq!(hint["tags"], json!([1]));
    assert!(
        diags.iter().any(|d| d["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`Other2018b` is the same paper as `other2018`")),
        "{diags:?}"
    );
}

/// A refusal is said, not swallowed: the user sees why nothing was added.
#[test]
fn a_read_only_bibliography_is_refused_with_the_reason() {
    let mut s = session_with(
        json!({"bibliography": {"addOnComplete": false}}),
        false,
        |dir| {
            std::fs::write(dir.join("paper-ls.toml"), "corpus = [\"library.bib\"]\n").unwrap();
            std::fs::write(
                dir.join("library.bib"),
                "@misc{lib2021deep, title = {Deep}}\n",
            )
            .unwrap();
            std::fs::write(dir.join("refs.bib"), "").unwrap();
            let mut read_only = std::fs::metadata(dir.join("refs.bib"))
                .unwrap()
                .permissions();
            read_only.set_readonly(true);
            std::fs::set_permissions(dir.join("refs.bib"), read_only).unwrap();
        },
    );
    let main = s.dir.path().join("main.tex");
    let text = "\\cite{lib2021}\n\\bibliography{refs}\n";
    std::fs::write(&main, text).unwrap();
    let uri = s.client.open(&main, "latex", text);
    assert!(s.client.wait_until_indexed(support::TIMEOUT));
    let list = s
        .client
        .request("textDocument/completion", LspClient::at(&uri, 0, 13));
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "lib2021deep")
        .cloned();
    assert!(
        item.is_some_and(|i| i.get("command").is_none()),
        "addOnComplete is off"
    );
    let answer = s.client.request(
        "workspace/executeCommand",
        json!({"command": "paper-ls.addToBibliography", "arguments": [uri, ["lib2021deep"]]}),
    );
    assert_eq!(answer["added"], json!([]), "{answer}");
    // The message may come before or after the command's answer.
    let is_message = |m: &Value| m["method"] == "window/showMessage";
    let earlier = s
        .client
        .notifications
        .iter()
        .find(|m| is_message(m))
        .cloned();
    let shown = earlier
        .or_else(|| s.client.wait_for(is_message))
        .expect("the refusal is shown");
    assert_eq!(
        shown["params"]["message"],
        "cannot add papers to refs.bib: the file is read-only"
    );
    assert_eq!(
        std::fs::read_to_string(s.dir.path().join("refs.bib")).unwrap(),
        ""
    );
}

/// Closing a corpus file in the editor keeps the problems its load
/// published on it; closing a note clears the note's own warnings.
#[test]
fn closing_a_bib_keeps_its_problems_and_closing_a_note_clears_its_warnings() {
    let mut s = session_with(json!({"corpus": ["refs.bib"]}), false, |dir| {
        std::fs::write(
            dir.join("refs.bib"),
            "@article{good2020, title={Good}}\n@article{broken, title={Unclosed\n",
        )
        .unwrap();
    });
    let bib = s.dir.path().join("refs.bib");
    let bib_uri = file_uri(&bib);
    let note = s
        .client
        .open(&s.dir.path().join("a.md"), "markdown", "[@nobody1999]\n");
    assert_eq!(s.client.diagnostics_for(&note).len(), 1);
    let bib_problems = |m: &Value| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == bib_uri
            && !m["params"]["diagnostics"].as_array().unwrap().is_empty()
    };
    let published = s.client.notifications.iter().any(bib_problems)
        || s.client.wait_for(bib_problems).is_some();
    assert!(published, "the .bib's problems are published");
    let text = std::fs::read_to_string(&bib).unwrap();
    s.client.open(&bib, "bibtex", &text);
    for uri in [&bib_uri, &note] {
        s.client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }
    let cleared = s.client.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == note
    });
    assert!(cleared.is_some_and(|m| m["params"]["diagnostics"] == json!([])));
    std::thread::sleep(std::time::Duration::from_millis(300));
    s.client.request("paper-ls/status", Value::Null);
    let bib_cleared = s.client.notifications.iter().any(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == bib_uri
            && m["params"]["diagnostics"] == json!([])
    });
    assert!(!bib_cleared, "{:?}", s.client.notifications);
}

/// The hover card starts with the reference in the note's own style
/// (`csl:`), completion rows say who and when, and `paper-ls.referenceList`
/// gives the note's reference list in that style, in citation order for a
/// numeric style.
#[test]
fn references_are_formatted_in_the_notes_style() {
    let mut s = session();
    let text = "---\ncsl: ieee\n---\nSee [@grokking-tickets-lottery] and [@grokfast-accelerated-grokking].\n";
    let uri = s
        .client
        .open(&s.dir.path().join("note.md"), "markdown", text);
    let (line, character) = position_of(text, "grokking-tickets");
    let hover = s.client.request(
        "textDocument/hover",
        LspClient::at(&uri, line, character + 2),
    );
    let card = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        card.starts_with("\\[1\\] “Grokking Tickets: Lottery Tickets Accelerate Grokking.”"),
        "{card}"
    );
    let list = s.client.request(
        "workspace/executeCommand",
        json!({"command": "paper-ls.referenceList", "arguments": [uri]}),
    );
    assert_eq!(list["style"], "ieee");
    let markdown = list["markdown"].as_str().unwrap_or_default();
    let tickets = markdown.find("Grokking Tickets").unwrap_or(usize::MAX);
    let grokfast = markdown.find("Grokfast").unwrap_or(usize::MAX);
    assert!(
        markdown.starts_with("\\[1\\]") && tickets < grokfast && grokfast != usize::MAX,
        "{markdown}"
    );
    let completion = s.client.request(
        "textDocument/completion",
        LspClient::at(&uri, line, character + 2),
    );
    let first = &completion["items"][0];
    assert!(
        first["labelDetails"]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{first}"
    );
}

/// Papers where shared words and meaning disagree: `dogs` shares words
/// ("owners", "happier", "stress") only with `cars`, and meaning only with
/// `canine`.
const PETS_BIB: &str = r#"
@article{dogs, title = {Dogs make their owners happier}, author = {Ann Author}, year = 2024,
  abstract = {Owning a pet dog raises happiness and lowers stress in its owner.}}
@article{canine, title = {Canine companionship and human well-being}, author = {Bo Person}, year = 2023,
  abstract = {Living with a canine companion improves mood and reduces anxiety in adults.}}
@article{solar, title = {Solar panel efficiency under dust}, author = {Cy Writer}, year = 2022,
  abstract = {Dust on photovoltaic modules cuts their output; we measure the losses in deserts.}}
@article{sourdough, title = {Sourdough fermentation kinetics}, author = {Di Baker}, year = 2021,
  abstract = {Lactic acid bacteria and yeast set the rise of bread dough.}}
@article{parsing, title = {Incremental parsing for editors}, author = {Ed Coder}, year = 2020,
  abstract = {Parsing only the changed regions keeps syntax trees fresh while typing.}}
@article{cars, title = {Happier owners of electric cars}, author = {Fa Driver}, year = 2024,
  abstract = {Owners of electric cars report lower running costs and less stress when charging at home.}}
"#;

fn related_in_card(card: &str) -> Vec<String> {
    card.split("Related:")
        .nth(1)
        .map(|r| {
            r.lines()
                .filter(|l| l.starts_with("- "))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn embedding_progress(client: &LspClient) -> Vec<String> {
    client
        .notifications
        .iter()
        .filter(|m| support::is_embedding_progress(m, "begin"))
        .map(|m| {
            m["params"]["value"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn related_papers_rank_by_meaning_once_the_papers_are_embedded() {
    let Some(model) = support::test_model() else {
        return;
    };
    let options = json!({"corpus": ["refs.bib"], "semantic": {"model": model}});
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refs.bib"), PETS_BIB).unwrap();
    let note = dir.path().join("note.md");

    let mut client = LspClient::start(cache.path());
    client.initialize(dir.path(), options.clone(), false);
    let uri = client.open(&note, "markdown", "[@dogs]");
    // By shared words only the electric cars come up; by meaning, the
    // canine companions too, which share no word with the paper.
    let by_meaning = hover_until(&mut client, &uri, 0, 3, |card| {
        card.map(related_in_card)
            .is_some_and(|r| r.iter().any(|p| p.contains("Canine companionship")))
    });
    let card = client.request("textDocument/hover", LspClient::at(&uri, 0, 3));
    assert!(
        by_meaning,
        "the related papers never came to be ranked by meaning: {card}"
    );
    let progress = embedding_progress(&client);
    assert!(
        progress.len() == 1
            && progress[0].starts_with("6 of 6 papers of ")
            && progress[0].ends_with("refs.bib"),
        "{progress:?}"
    );
    // Go to implementation ranks the same way.
    let locations = client.request("textDocument/implementation", LspClient::at(&uri, 0, 3));
    let bib = std::fs::read_to_string(dir.path().join("refs.bib")).unwrap();
    let keys: Vec<&str> = locations
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            bib.lines()
                .nth(l["range"]["start"]["line"].as_u64().unwrap() as usize)
                .unwrap()
        })
        .collect();
    assert!(keys.iter().any(|k| k.contains("{canine")), "{keys:?}");
    // A sentence searched in the workspace's symbols: by meaning too.
    let sentence = json!({"query": "pets that make people feel better"});
    let symbols = client
        .request("workspace/symbol", sentence.clone())
        .to_string();
    assert!(symbols.contains("Canine companionship"), "{symbols}");
    client.shutdown_and_exit();

    // Another server on the same cache restores the vectors: nothing to embed.
    let mut again = LspClient::start(cache.path());
    again.initialize(dir.path(), options.clone(), false);
    let uri = again.open(&note, "markdown", "[@dogs]");
    assert!(hover_until(&mut again, &uri, 0, 3, |card| {
        card.map(related_in_card)
            .is_some_and(|r| r.iter().any(|p| p.contains("Canine companionship")))
    }));
    // One entry edited on disk: only that paper is embedded again.
    let edited = PETS_BIB.replace(
        "we measure the losses in deserts",
        "we measure the losses in deserts and on roofs",
    );
    std::fs::write(dir.path().join("refs.bib"), edited).unwrap();
    again.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&dir.path().join("refs.bib")), "type": 2}]}),
    );
    let progress = again.wait_for(|m| support::is_embedding_progress(m, "begin"));
    let message =
        progress.expect("the edited paper is embedded")["params"]["value"]["message"].clone();
    assert!(
        message
            .as_str()
            .is_some_and(|m| m.starts_with("1 of 6 papers of ")),
        "{message}"
    );
    assert_eq!(
        embedding_progress(&again),
        Vec::<String>::new(),
        "nothing embedded before the edit"
    );
    assert!(hover_until(&mut again, &uri, 0, 3, |card| {
        card.map(related_in_card)
            .is_some_and(|r| r.iter().any(|p| p.contains("Canine companionship")))
    }));
    again.shutdown_and_exit();

    // Turned off: ranked by shared words again.
    let mut off = LspClient::start(cache.path());
    off.initialize(
        dir.path(),
        json!({"corpus": ["refs.bib"], "semantic": {"model": model, "enabled": false}}),
        false,
    );
    let uri = off.open(&note, "markdown", "[@dogs]");
    assert!(hover_until(&mut off, &uri, 0, 3, |card| {
        card.is_some_and(|c| c.contains("Related:"))
    }));
    let card = off.request("textDocument/hover", LspClient::at(&uri, 0, 3));
    let related = related_in_card(card["contents"]["value"].as_str().unwrap());
    assert!(related[0].contains("electric cars"), "{related:?}");
    assert!(!related.iter().any(|p| p.contains("Canine")), "{related:?}");
    assert!(embedding_progress(&off).is_empty());
    let symbols = off.request("workspace/symbol", sentence).to_string();
    assert!(!symbols.contains("Canine"), "by words alone: {symbols}");
    off.shutdown_and_exit();
}

/// Sixty research topics, two papers on each, for the hub test below.
const HUB_TOPICS: [&str; 60] = [
    "protein structure prediction",
    "galaxy cluster lensing",
    "register allocation in compilers",
    "medieval grain trade",
    "coral reef bleaching",
    "speech recognition for regional dialects",
    "earthquake early warning",
    "sourdough fermentation",
    "glacier retreat in the Alps",
    "quantum error correction",
    "malaria vaccine trials",
    "traffic signal timing",
    "wildfire smoke and asthma",
    "bee colony collapse",
    "lithium battery ageing",
    "sign language translation",
    "urban heat islands",
    "antibiotic resistance in hospitals",
    "exoplanet atmospheres",
    "wind turbine blade icing",
    "music genre classification",
    "soil erosion on farmland",
    "credit card fraud detection",
    "sleep and memory consolidation",
    "ancient Greek pottery",
    "drone delivery routing",
    "ocean acidification and shellfish",
    "legal contract analysis",
    "child language acquisition",
    "solar flare forecasting",
    "rice crop yield estimation",
    "dark matter halos",
    "garbage collection pauses",
    "opera singing technique",
    "railway track inspection",
    "volcanic ash dispersion",
    "elderly fall detection",
    "chess endgame tablebases",
    "coffee bean roasting",
    "migratory bird navigation",
    "concrete crack repair",
    "tuberculosis screening with X-rays",
    "stock market volatility",
    "knitting pattern generation",
    "arctic sea ice thickness",
    "wine grape ripening",
    "hearing aid noise reduction",
    "ransomware detection",
    "Roman road networks",
    "tidal energy turbines",
    "autism early diagnosis",
    "honey authenticity testing",
    "satellite collision avoidance",
    "poetry meter analysis",
    "water pipe leak detection",
    "tomato leaf disease",
    "black hole mergers",
    "typeface design",
    "avalanche risk mapping",
    "dental caries imaging",
];

/// While a corpus is being embedded (one core, a lower priority), hovers
/// and completions are answered: none waits for the embedding to end.
/// A corpus of a hundred papers or more ranks related papers by the cosine
/// of centred vectors: the papers of a field written in one template all
/// lean the template's way, and a paper that is nothing but the template
/// (a hub) is near many papers by plain cosine. Centred, it is related to
/// a third as many; each paper's first related one is the other paper on
/// its topic either way.
#[test]
fn a_hub_stays_out_of_the_related_papers_of_a_centred_corpus() {
    let Some(model) = support::test_model() else {
        return;
    };
    let mut bib = String::from(
        "@article{hub, title = {A novel method that improves over baselines}, author = {Hu Bee}, year = 2024,\n  abstract = {We propose a novel method. Experiments show that our approach improves over strong baselines and prior work.}}\n",
    );
    for (i, topic) in HUB_TOPICS.iter().enumerate() {
        bib += &format!(
            "@article{{t{i}a, title = {{A new approach to {topic}}}, author = {{Ann Author{i}}}, year = 2023,\n  abstract = {{We propose a novel method for {topic}. Experiments show that our approach improves over strong baselines.}}}}\n\
             @article{{t{i}b, title = {{Improving {topic}}}, author = {{Bo Writer{i}}}, year = 2022,\n  abstract = {{This paper presents a new technique for {topic}. Our evaluation shows clear gains over prior work.}}}}\n"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refs.bib"), &bib).unwrap();
    let note: String = (0..HUB_TOPICS.len())
        .map(|i| format!("[@t{i}a] [@t{i}b]\n"))
        .collect();
    let mut client = LspClient::start(cache.path());
    client.initialize(
        dir.path(),
        json!({"corpus": ["refs.bib"], "semantic": {"model": model}}),
        false,
    );
    let uri = client.open(&dir.path().join("note.md"), "markdown", &note);
    let ended = client.wait_for(|m| support::is_embedding_progress(m, "end"));
    assert!(ended.is_some(), "the 121 papers were never embedded");
    let begun = embedding_progress(&client);
    assert!(
        begun.len() == 1 && begun[0].starts_with("121 of 121 papers"),
        "{begun:?}"
    );
    let lines: Vec<&str> = bib.lines().collect();
    let key_at = |location: &Value| {
        let line = lines[location["range"]["start"]["line"].as_u64().unwrap() as usize];
        line["@article{".len()..line.find(',').unwrap()].to_string()
    };
    let (mut with_hub, mut sibling_first) = (0, 0);
    for i in 0..HUB_TOPICS.len() {
        for (side, column) in [("a", 3), ("b", 10)] {
            let related = client.request(
                "textDocument/implementation",
                LspClient::at(&uri, i as u32, column),
            );
            let keys: Vec<String> = related.as_array().unwrap().iter().map(key_at).collect();
            assert!(!keys.is_empty(), "t{i}{side}: no related papers");
            with_hub += usize::from(keys.iter().any(|k| k == "hub"));
            let sibling = if side == "a" { "b" } else { "a" };
            sibling_first += usize::from(keys[0] == format!("t{i}{sibling}"));
        }
    }
    // By plain cosine (measured with the ranking switched) the hub is in
    // 60 of the 120 lists; centred, in 20.
    assert!(
        with_hub <= 30,
        "the hub is among the related papers of {with_hub} of 120 papers"
    );
    assert!(
        sibling_first >= 110,
        "the other paper on the topic came first for {sibling_first} of 120"
    );
    client.shutdown_and_exit();
}

/// While a corpus is being embedded (one core, a lower priority), hovers
/// and completions are answered: none waits for the embedding to end.
#[test]
fn requests_are_answered_while_papers_are_embedded() {
    let Some(model) = support::test_model() else {
        return;
    };
    let mut s = session_with(
        json!({"corpus": ["papers.jsonl"], "semantic": {"model": model}}),
        false,
        |dir| {
            write_studies(&dir.join("papers.jsonl"), 3000, |i| {
                format!(
                    "We study topic{} with care. Our method improves on earlier work by a wide margin on three benchmarks, and we release code and data so that others can build on it.",
                    i % 13
                )
            })
        },
    );
    let uri = s.client.open(
        &s.dir.path().join("note.md"),
        "markdown",
        "[@author12024study]\n\n[@auth",
    );
    let began = s
        .client
        .wait_for(|m| support::is_embedding_progress(m, "begin"));
    let token = began.expect("embedding began")["params"]["token"].clone();
    for _ in 0..5 {
        let card = s.client.hover_text(&uri, 0, 4);
        assert!(card.contains("Study"), "{card}");
        let items = s
            .client
            .request("textDocument/completion", LspClient::at(&uri, 2, 6));
        assert!(!labels(&items).is_empty(), "{items}");
    }
    let ended = s.client.notifications.iter().any(|m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == token
            && m["params"]["value"]["kind"] == "end"
    });
    assert!(
        !ended,
        "the embedding of 3,000 papers ended before the requests: the test proves nothing"
    );
}

/// `paper-ls embed` run beside the files (`-c refs.bib`, a relative path)
/// fills the cache the server reads: a server started afterwards ranks by
/// meaning at once, embedding nothing.
#[test]
fn a_server_uses_the_embeddings_paper_ls_embed_saved() {
    let Some(model) = support::test_model() else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refs.bib"), PETS_BIB).unwrap();
    let embedded = std::process::Command::new(support::binary())
        .args(["embed", "-c", "refs.bib", "--model"])
        .arg(&model)
        .current_dir(dir.path())
        .env("PAPER_LS_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&embedded.stderr);
    assert!(
        embedded.status.success() && said.contains("6 embedded now"),
        "{said}"
    );

    let mut client = LspClient::start(cache.path());
    client.initialize(
        dir.path(),
        json!({"corpus": ["refs.bib"], "semantic": {"model": model}}),
        false,
    );
    let uri = client.open(&dir.path().join("note.md"), "markdown", "[@dogs]");
    assert!(hover_until(&mut client, &uri, 0, 3, |card| {
        card.map(related_in_card)
            .is_some_and(|r| r.iter().any(|p| p.contains("Canine companionship")))
    }));
    assert_eq!(
        embedding_progress(&client),
        Vec::<String>::new(),
        "nothing left to embed"
    );
    client.shutdown_and_exit();
}
