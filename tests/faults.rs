//! Faults of the files around the server, against the real binary: a corpus
//! `.bib` replaced by a folder, made unreadable, replaced by a symlink loop
//! or cut short by a writer that never finished; a corrupt persisted index; a
//! cache directory that cannot be written. In each case the last good papers
//! keep answering and the user is told once, naming the file. (A `.bib`
//! deleted for a moment or caught half-written is in `lsp.rs`.)

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{file_uri, LspClient};

const REFS: &str = "@article{first2020, title={First Paper}}\n@article{second2021, title={Second Paper}, abstract={About the second.}}\n";
/// The note cites `second2021` at this position.
const NOTE: &str = "See [@second2021].";
const AT_KEY: (u32, u32) = (0, 8);

struct Session {
    client: LspClient,
    dir: tempfile::TempDir,
    _cache: tempfile::TempDir,
    uri: String,
}

impl Session {
    fn bib(&self) -> PathBuf {
        self.dir.path().join("refs.bib")
    }

    fn card(&mut self) -> Option<String> {
        let hover = self.client.request(
            "textDocument/hover",
            LspClient::at(&self.uri, AT_KEY.0, AT_KEY.1),
        );
        hover["contents"]["value"].as_str().map(str::to_string)
    }

    fn still_answers(&mut self) -> bool {
        let card = self.card();
        if !card.as_deref().is_some_and(|c| c.contains("Second Paper")) {
            eprintln!("hover on the key: {card:?}");
            return false;
        }
        true
    }

    fn touched(&mut self) {
        let uri = file_uri(&self.bib());
        self.client.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": uri, "type": 2}]}),
        );
    }

    /// Waits for a `window/showMessage` containing all of `words`.
    fn told(&mut self, words: &[&str]) -> Value {
        let wanted = |m: &Value| {
            m["method"] == "window/showMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| words.iter().all(|w| t.contains(w)))
        };
        if let Some(found) = self.client.notifications.iter().find(|m| wanted(m)) {
            return found.clone();
        }
        let found = self.client.wait_for(wanted).unwrap_or_else(|| {
            panic!(
                "no message saying {words:?}: {:?}",
                self.client.notifications
            )
        });
        // Kept with the others, so that `times_told` counts it.
        self.client.notifications.push(found.clone());
        found
    }

    /// How many `window/showMessage`s so far mention `word`, after
    /// reading whatever the server sends for `settle`.
    fn times_told(&mut self, word: &str, settle: Duration) -> usize {
        let until = Instant::now() + settle;
        while Instant::now() < until {
            self.card();
            std::thread::sleep(Duration::from_millis(100));
        }
        self.client
            .notifications
            .iter()
            .filter(|m| {
                m["method"] == "window/showMessage"
                    && m["params"]["message"]
                        .as_str()
                        .is_some_and(|t| t.contains(word))
            })
            .count()
    }

    /// Types into the note, so that its corpus is worked out again.
    fn edit_note(&mut self, version: i64) {
        let uri = self.uri.clone();
        self.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [
                {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "x"}
            ]}),
        );
    }
}

/// A server whose configured corpus is `refs.bib`, answering for `second2021`.
fn session() -> Session {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refs.bib"), REFS).unwrap();
    let mut client = LspClient::start(cache.path());
    client.initialize(dir.path(), json!({"corpus": ["refs.bib"]}), false);
    let uri = client.open(&dir.path().join("note.md"), "markdown", NOTE);
    let mut s = Session {
        client,
        dir,
        _cache: cache,
        uri,
    };
    assert!(s.still_answers(), "the corpus answers to begin with");
    s
}

/// Whether this process can read files whatever their permissions (root).
fn permissions_do_not_bind() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "x").unwrap();
    set_mode(&probe, 0o000);
    std::fs::read(&probe).is_ok()
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_bib_replaced_by_a_folder_keeps_its_papers_and_the_user_is_told_once() {
    let mut s = session();
    std::fs::remove_file(s.bib()).unwrap();
    std::fs::create_dir(s.bib()).unwrap();
    s.touched();
    let told = s.told(&["refs.bib"]);
    assert!(
        told["params"]["message"]
            .as_str()
            .unwrap()
            .contains("folder"),
        "{told}"
    );
    assert!(s.still_answers(), "last good papers kept");
    s.edit_note(2);
    assert!(s.still_answers(), "also after the note changed");
    assert_eq!(s.times_told("refs.bib", Duration::from_secs(2)), 1);
}

#[test]
fn an_unreadable_bib_keeps_its_papers_and_the_user_is_told_once() {
    if permissions_do_not_bind() {
        eprintln!("skipping: running as a user (root?) whom file permissions do not stop");
        return;
    }
    let mut s = session();
    std::fs::write(
        s.bib(),
        REFS.replace("Second Paper", "Second Paper, Edited"),
    )
    .unwrap();
    set_mode(&s.bib(), 0o000);
    s.touched();
    s.told(&["refs.bib"]);
    assert!(s.still_answers());
    assert_eq!(s.times_told("refs.bib", Duration::from_secs(2)), 1);
    set_mode(&s.bib(), 0o644);
}

#[test]
fn a_symlink_loop_in_place_of_the_bib_keeps_its_papers_and_the_user_is_told_once() {
    let mut s = session();
    std::fs::remove_file(s.bib()).unwrap();
    std::os::unix::fs::symlink(s.bib(), s.bib()).unwrap();
    s.touched();
    let told = s.told(&["refs.bib"]);
    assert!(
        told["params"]["message"]
            .as_str()
            .unwrap()
            .contains("symbolic links"),
        "{told}"
    );
    assert!(s.still_answers());
    s.edit_note(2);
    assert!(s.still_answers(), "also after the note changed");
    assert_eq!(s.times_told("refs.bib", Duration::from_secs(2)), 1);
}

#[test]
fn a_bib_cut_short_and_left_so_keeps_its_papers_until_it_is_written_whole() {
    let mut s = session();
    // A writer that died half-way through the second entry.
    let cut = REFS.find("title={Second").unwrap();
    std::fs::write(s.bib(), &REFS[..cut]).unwrap();
    s.touched();
    s.told(&["refs.bib", "cut short"]);
    assert!(s.still_answers(), "last good papers kept");
    assert_eq!(s.times_told("cut short", Duration::from_secs(2)), 1);
    // Written whole again: read.
    std::fs::write(s.bib(), REFS.replace("Second Paper", "Second Paper, Final")).unwrap();
    s.touched();
    let started = Instant::now();
    while !s.card().is_some_and(|c| c.contains("Final")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "whole file read"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Emptied by a writer that truncated and then died: kept too.
    std::fs::write(s.bib(), "").unwrap();
    s.touched();
    s.told(&["refs.bib", "empty"]);
    assert!(s.still_answers());
    // Entries deliberately removed from the end are not a cut: they go.
    std::fs::write(s.bib(), &REFS[..cut.min(REFS.find('\n').unwrap() + 1)]).unwrap();
    s.touched();
    let started = Instant::now();
    while s.card().is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "a removed entry is removed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A JSON Lines corpus big enough to get a persisted index.
fn write_big_corpus(dir: &Path) -> PathBuf {
    let mut lines = String::new();
    for i in 0..6000 {
        lines.push_str(&format!(
            "{{\"id\": \"2401.{i:05}\", \"title\": \"Paper number {i} on topic{}\", \"authors\": \"Author{} Person\", \"abstract\": \"Words about zymurgy{} and more.\", \"categories\": \"cs.LG\"}}\n",
            i % 97, i % 50, i % 13
        ));
    }
    let path = dir.join("big.jsonl");
    std::fs::write(&path, lines).unwrap();
    path
}

fn wait_until_indexed(client: &mut LspClient) {
    assert!(
        client.wait_until_indexed(Duration::from_secs(120)),
        "index never ready"
    );
}

/// Completion of a word only in abstracts: answered by the full-text index.
fn full_text_finds(client: &mut LspClient, uri: &str) -> bool {
    let list = client.request("textDocument/completion", LspClient::at(uri, 0, 10));
    list["items"]
        .as_array()
        .is_some_and(|items| !items.is_empty())
}

#[test]
fn a_corrupt_persisted_index_is_rebuilt_and_the_user_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write_big_corpus(dir.path());
    let options = json!({"corpus": ["big.jsonl"]});
    let note = dir.path().join("note.md");
    let mut first = LspClient::start(cache.path());
    first.initialize(dir.path(), options.clone(), false);
    first.open(&note, "markdown", "[@zymurgy7");
    wait_until_indexed(&mut first);
    assert_eq!(first.shutdown_and_exit().code(), Some(0));
    drop(first);
    let index_dir = std::fs::read_dir(cache.path().join("index"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("a persisted index");
    for file in std::fs::read_dir(&index_dir).unwrap().flatten() {
        std::fs::write(file.path(), b"garbage").unwrap();
    }
    let mut second = LspClient::start(cache.path());
    second.initialize(dir.path(), options, false);
    let uri = second.open(&note, "markdown", "[@zymurgy7");
    wait_until_indexed(&mut second);
    assert!(
        full_text_finds(&mut second, &uri),
        "answers from the rebuilt index"
    );
    let rebuilt = |m: &Value| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("rebuilt"))
    };
    let told = match second.notifications.iter().find(|m| rebuilt(m)) {
        Some(told) => told.clone(),
        None => second
            .wait_for(rebuilt)
            .expect("the user is told the index was rebuilt"),
    };
    assert!(
        told["params"]["message"]
            .as_str()
            .unwrap()
            .contains(&index_dir.display().to_string()),
        "{told}"
    );
}

#[test]
fn an_unwritable_cache_directory_falls_back_to_memory_and_the_user_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    write_big_corpus(dir.path());
    // A file where the cache directory should be: nothing can be written under it.
    let not_a_dir = dir.path().join("cache-is-a-file");
    std::fs::write(&not_a_dir, "x").unwrap();
    for options in [json!({"corpus": ["big.jsonl"]}), Value::Null] {
        let mut client = LspClient::start(&not_a_dir);
        client.initialize(dir.path(), options.clone(), false);
        let text = if options.is_null() {
            "[@grokking-tickets-lottery]"
        } else {
            "[@zymurgy7"
        };
        let uri = client.open(&dir.path().join("note.md"), "markdown", text);
        wait_until_indexed(&mut client);
        if options.is_null() {
            let hover = client.request("textDocument/hover", LspClient::at(&uri, 0, 5));
            assert!(
                hover["contents"]["value"]
                    .as_str()
                    .is_some_and(|c| c.contains("Grokking Tickets")),
                "bundled papers answer from memory: {hover}"
            );
        } else {
            assert!(full_text_finds(&mut client, &uri), "indexed in memory");
        }
        std::thread::sleep(Duration::from_millis(500));
        client.request("paper-ls/status", Value::Null);
        let cache = not_a_dir.display().to_string();
        let told: Vec<&Value> = client
            .notifications
            .iter()
            .filter(|m| {
                m["method"] == "window/showMessage"
                    && m["params"]["message"]
                        .as_str()
                        .is_some_and(|t| t.contains(&cache))
            })
            .collect();
        assert_eq!(told.len(), 1, "told once ({options}): {told:?}");
        assert!(
            told[0]["params"]["message"]
                .as_str()
                .unwrap()
                .contains("memory"),
            "{told:?}"
        );
        assert_eq!(client.shutdown_and_exit().code(), Some(0));
    }
}
