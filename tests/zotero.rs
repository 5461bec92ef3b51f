//! Zotero libraries as a corpus: real `zotero.sqlite` databases built with
//! Zotero's own schema files (tests/support/zotero.rs), filled from real
//! arXiv listings, read by the corpus loader — in place, while another
//! process holds Zotero's exclusive lock, with writes still in the WAL — and
//! through the real binary.

mod support;

use paper_ls::corpus::{Corpus, KeyOrigin};
use rusqlite::Connection;
use std::path::Path;
use support::zotero::{arxiv_listings, available, better_bibtex, Library};

macro_rules! require_shared {
    () => {
        if !available() {
            eprintln!("skipped: ../shared/zotero or ../shared/corpora/arxiv is absent");
            return;
        }
    };
}

/// A user library as a researcher has it, and what went into it.
struct Built {
    dir: tempfile::TempDir,
    titles: Vec<String>,
    trashed: String,
    in_chapter: Vec<String>,
    in_subsection: String,
    group_title: String,
}

fn build(legacy_ids: bool) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let listings = arxiv_listings(40);
    let mut lib = Library::create(&dir.path().join("zotero.sqlite"), legacy_ids);
    let types = [
        "preprint",
        "journalArticle",
        "conferencePaper",
        "bookSection",
    ];
    let mut items = Vec::new();
    for (n, listing) in listings.iter().take(30).enumerate() {
        let item_type = types[n % types.len()];
        let venue = match item_type {
            "journalArticle" => vec![("publicationTitle", "Journal of Machine Learning Research")],
            "conferencePaper" => vec![("proceedingsTitle", "Proceedings of NeurIPS 2025")],
            "bookSection" => vec![("bookTitle", "Handbook of Learning")],
            _ => vec![],
        };
        let key_line;
        let mut extra = venue;
        if n == 3 {
            extra.push(("citationKey", "native2025key"));
        }
        if n == 4 {
            key_line = "tex.foo: bar\nCitation Key: fromextra2025".to_string();
            extra.push(("extra", &key_line));
        }
        let (id, _) = lib.add_listing(1, item_type, listing, &extra);
        items.push(id);
    }
    // Not papers: a note, an attachment; a trashed paper.
    lib.add_note(1, items[0], "<p>My reading note on this.</p>");
    let (_, attachment_key) = lib.add_pdf(1, items[0], "paper.pdf");
    let storage = dir.path().join("storage").join(attachment_key);
    std::fs::create_dir_all(&storage).unwrap();
    std::fs::write(storage.join("paper.pdf"), b"%PDF-1.5\n").unwrap();
    let trashed = listings[30].title.clone();
    let (gone, _) = lib.add_listing(1, "preprint", &listings[30], &[]);
    lib.trash(gone);
    lib.tag(items[1], "grokking");
    // Collections: Thesis / Chapter 2 / Section 2.1.
    let thesis = lib.add_collection(1, "Thesis", None);
    let chapter = lib.add_collection(1, "Chapter 2", Some(thesis));
    let section = lib.add_collection(1, "Section 2.1", Some(chapter));
    let other = lib.add_collection(1, "Chapter 3", Some(thesis));
    lib.collect(chapter, items[5]);
    lib.collect(chapter, items[6]);
    lib.collect(section, items[7]);
    lib.collect(other, items[8]);
    // A group library with one paper.
    let group = lib.add_group("Lab Reading Group");
    lib.add_listing(group, "preprint", &listings[31], &[]);
    Built {
        titles: listings.iter().take(30).map(|l| l.title.clone()).collect(),
        trashed,
        in_chapter: vec![
            listings[5].title.clone(),
            listings[6].title.clone(),
            listings[7].title.clone(),
        ],
        in_subsection: listings[7].title.clone(),
        group_title: listings[31].title.clone(),
        dir,
    }
}

fn titles(corpus: &Corpus) -> Vec<String> {
    corpus.papers.iter().map(|p| p.title.to_string()).collect()
}

fn load(path: &Path) -> Corpus {
    Corpus::load(&[path.to_path_buf()])
}

#[test]
fn the_regular_items_of_every_library_are_papers() {
    require_shared!();
    for legacy in [false, true] {
        let built = build(legacy);
        let corpus = load(&built.dir.path().join("zotero.sqlite"));
        let found = titles(&corpus);
        assert_eq!(
            corpus.papers.len(),
            31,
            "legacy ids {legacy}: {found:?}\n{:?}",
            corpus.problems
        );
        for title in &built.titles {
            assert!(found.contains(title), "{title}");
        }
        assert!(
            found.contains(&built.group_title),
            "group papers are included"
        );
        assert!(!found.contains(&built.trashed), "the trash is left out");
        assert!(
            corpus.problems.iter().all(|p| p.line == 0),
            "{:?}",
            corpus.problems
        );
        let journal = corpus
            .papers
            .iter()
            .find(|p| p.venue == Some("Journal of Machine Learning Research"))
            .expect("a journal article");
        assert_eq!(journal.entry_type, "article");
        let proceedings = corpus
            .papers
            .iter()
            .find(|p| p.entry_type == "inproceedings")
            .expect("a conference paper");
        assert_eq!(
            proceedings.venue,
            Some("Proceedings of NeurIPS 2025"),
            "through the base field"
        );
        let section = corpus
            .papers
            .iter()
            .find(|p| p.entry_type == "incollection")
            .unwrap();
        assert_eq!(section.venue, Some("Handbook of Learning"));
        let preprint = corpus
            .papers
            .iter()
            .find(|p| p.title == built.titles[0])
            .unwrap();
        assert!(preprint.ids.arxiv.is_some(), "arXiv id from the URL");
        assert!(preprint.ids.doi.is_some_and(|d| d.starts_with("10.48550/")));
        assert!(preprint.abstract_text().is_some());
        assert!(!preprint.authors.is_empty());
        assert!(preprint.year.is_some());
        let tagged = corpus
            .papers
            .iter()
            .find(|p| p.title == built.titles[1])
            .unwrap();
        assert_eq!(tagged.categories.iter().collect::<Vec<_>>(), ["grokking"]);
    }
}

/// Creators keep their roles: an edited volume's editors are its
/// editors (on its card and in the BibTeX written for it), a chapter's book
/// editor and a translator are not its authors.
#[test]
fn creators_keep_their_roles() {
    require_shared!();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("zotero.sqlite");
    let mut lib = Library::create(&database, false);
    lib.add_item(
        1,
        "book",
        &[("title", "Handbook of Edited Things"), ("date", "2021")],
        &[("editor", "Ada", "Lovelace"), ("editor", "Alan", "Turing")],
    );
    lib.add_item(
        1,
        "bookSection",
        &[
            ("title", "A Chapter"),
            ("bookTitle", "Handbook of Edited Things"),
        ],
        &[
            ("editor", "Ada", "Lovelace"),
            ("author", "Grace", "Hopper"),
            ("translator", "Emmy", "Noether"),
        ],
    );
    drop(lib);
    let corpus = load(&database);
    let paper = |title: &str| corpus.papers.iter().find(|p| p.title == title).unwrap();
    let edited = paper("Handbook of Edited Things");
    assert!(edited.authors_are_editors);
    assert_eq!(
        edited.authors_display(),
        "Ada Lovelace and Alan Turing (eds.)"
    );
    let entry = paper_ls::corpus::export::to_bibtex_entry(&edited.to_paper());
    assert!(
        entry.contains("editor    = {Lovelace, Ada and Turing, Alan}"),
        "{entry}"
    );
    assert!(!entry.contains("author"), "{entry}");
    let chapter = paper("A Chapter");
    assert!(!chapter.authors_are_editors);
    assert_eq!(chapter.authors_display(), "Grace Hopper");
}

#[test]
fn keys_are_zoteros_better_bibtexs_or_made_up() {
    require_shared!();
    let built = build(false);
    let database = built.dir.path().join("zotero.sqlite");
    let conn = Connection::open(&database).unwrap();
    let item_key = |title: &str| -> String {
        conn.query_row(
            "SELECT i.key FROM items i JOIN itemData d USING(itemID) JOIN itemDataValues v USING(valueID) \
             WHERE v.value = ?1",
            [title],
            |r| r.get(0),
        )
        .unwrap()
    };
    better_bibtex(
        built.dir.path(),
        &[(1, &item_key(&built.titles[9]), "bbt2025pinned")],
    );
    let corpus = load(&database);
    let key_of = |title: &str| corpus.papers.iter().find(|p| p.title == title).unwrap();
    assert_eq!(key_of(&built.titles[3]).key, "native2025key");
    assert_eq!(key_of(&built.titles[3]).key_origin, KeyOrigin::Source);
    assert_eq!(key_of(&built.titles[4]).key, "fromextra2025");
    assert_eq!(key_of(&built.titles[9]).key, "bbt2025pinned");
    let made_up = key_of(&built.titles[10]);
    assert_eq!(made_up.key_origin, KeyOrigin::Generated);
    assert!(!made_up.key.is_empty());
    drop(corpus);

    // Zotero running: both databases locked; Better BibTeX's keys are
    // still its keys (read from a checked copy, as the library is).
    let listings = arxiv_listings(40);
    let zotero = hold_like_zotero(&database, &listings[35]);
    let bbt = Connection::open(built.dir.path().join("better-bibtex.sqlite")).unwrap();
    bbt.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA locking_mode=EXCLUSIVE; \
         UPDATE citationkey SET pinned = 1;",
    )
    .unwrap();
    let copies = tempfile::tempdir().unwrap();
    let corpus = Corpus::load_copying_into(std::slice::from_ref(&database), copies.path());
    let key_of = |title: &str| corpus.papers.iter().find(|p| p.title == title).unwrap();
    assert_eq!(
        key_of(&built.titles[9]).key,
        "bbt2025pinned",
        "{:?}",
        corpus.problems
    );
    assert_eq!(key_of(&built.titles[3]).key, "native2025key");
    assert!(titles(&corpus).contains(&listings[35].title));
    drop((zotero, bbt));
}

#[test]
fn a_collection_takes_its_subcollections_and_a_group_its_own_papers() {
    require_shared!();
    let built = build(false);
    let base = built.dir.path().join("zotero.sqlite");
    let chapter = load(Path::new(&format!("{}#Thesis/Chapter 2", base.display())));
    let mut found = titles(&chapter);
    found.sort();
    let mut want = built.in_chapter.clone();
    want.sort();
    assert_eq!(found, want);
    let section = load(Path::new(&format!(
        "{}#Thesis/Chapter 2/Section 2.1",
        base.display()
    )));
    assert_eq!(titles(&section), std::slice::from_ref(&built.in_subsection));
    let by_folder = load(Path::new(&format!(
        "{}#@Lab Reading Group",
        built.dir.path().display()
    )));
    assert_eq!(titles(&by_folder), std::slice::from_ref(&built.group_title));
    let missing = load(Path::new(&format!("{}#Thesis/Nope", base.display())));
    assert_eq!(missing.papers.len(), 0);
    assert!(
        missing
            .problems
            .iter()
            .any(|p| p.message.contains("no collection “Thesis/Nope”")),
        "{:?}",
        missing.problems
    );
}

#[test]
fn a_library_zotero_holds_locked_is_read_from_a_checked_copy() {
    require_shared!();
    let built = build(false);
    let database = built.dir.path().join("zotero.sqlite");
    // Zotero running: WAL mode, its exclusive lock, a committed write still
    // in the WAL, and a write transaction open.
    let listings = arxiv_listings(40);
    let mut writer = hold_like_zotero(&database, &listings[35]);
    writer.conn.execute_batch("BEGIN IMMEDIATE;").unwrap();
    writer.add_listing(1, "preprint", &listings[36], &[]);
    assert!(
        Connection::open_with_flags(&database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("SELECT count(*) FROM items", [], |r| r.get::<_, i64>(0)))
            .is_err(),
        "the database is locked, as while Zotero runs"
    );
    let copies = tempfile::tempdir().unwrap();
    let corpus = Corpus::load_copying_into(std::slice::from_ref(&database), copies.path());
    let found = titles(&corpus);
    assert!(
        found.contains(&listings[35].title),
        "a committed write in the WAL is read"
    );
    assert!(
        !found.contains(&listings[36].title),
        "an open transaction is not"
    );
    assert_eq!(corpus.papers.len(), 32, "{:?}", corpus.problems);
    writer.conn.execute_batch("COMMIT;").unwrap();
}

/// `corpus = ["zotero"]` in the editor: the default library (`~/Zotero`),
/// completion and hover on its papers, go to paper (a generated card, as
/// for other sources one would not read), rename refused with the reason,
/// and a paper added in Zotero — while the server runs — found within a
/// second or two.
#[test]
fn the_default_library_is_live_in_the_editor() {
    require_shared!();
    use serde_json::json;
    use support::LspClient;
    let text = "See [@zot2025live] and [@zot2025";
    let template =
        "{{title}}\nPDF: {{pdf}}\nZotero: {{zoteroLink}}\n\n{{notes}}\n\n{{annotations}}\n";
    let EditorOnLibrary {
        database,
        listings,
        mut client,
        uri,
        // Bound, not `..`: the folders must outlive the test.
        _home,
        _workspace,
        _cache,
    } = editor_on_default_library(
        "zot2025live",
        text,
        json!({"literatureNotes": {"template": template}}),
    );
    let hover = client.request("textDocument/hover", LspClient::at(&uri, 0, 8));
    let card = hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(card.contains(&listings[10].title), "{card}");
    let completion = client.request(
        "textDocument/completion",
        LspClient::at(&uri, 0, text.len() as u32),
    );
    let labels: Vec<&str> = completion["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"zot2025live"), "{labels:?}");
    let definition = client.request("textDocument/definition", LspClient::at(&uri, 0, 8));
    let target = definition["uri"]
        .as_str()
        .or_else(|| definition[0]["uri"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        target.ends_with(".md") && !target.contains("zotero.sqlite"),
        "a generated card: {definition}"
    );
    let rename = client.request_raw("textDocument/prepareRename", LspClient::at(&uri, 0, 8));
    let refusal = rename["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(refusal.contains("Zotero library"), "{rename}");
    // Zotero adds a paper while the server runs.
    let mut lib = Library::reopen(Connection::open(&database).unwrap(), &database);
    lib.add_listing(
        1,
        "preprint",
        &listings[11],
        &[("citationKey", "zot2025added")],
    );
    assert!(
        search_finds(&mut client, &listings[11].title, "zot2025added"),
        "the new paper is found"
    );
    client.shutdown_and_exit();
}

/// The real server on a user's default library (`~/Zotero`, with `HOME`
/// pointing at a temporary folder) of ten papers and one more with the
/// citation key `key`, and `text` open as a note of its workspace.
struct EditorOnLibrary {
    _home: tempfile::TempDir,
    _workspace: tempfile::TempDir,
    _cache: tempfile::TempDir,
    database: std::path::PathBuf,
    listings: Vec<support::zotero::Listing>,
    client: support::LspClient,
    uri: String,
}

fn editor_on_default_library(key: &str, text: &str, options: serde_json::Value) -> EditorOnLibrary {
    use std::process::{Command, Stdio};
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("Zotero")).unwrap();
    let database = home.path().join("Zotero/zotero.sqlite");
    let listings = arxiv_listings(40);
    let mut lib = Library::create(&database, false);
    for listing in listings.iter().take(10) {
        lib.add_listing(1, "preprint", listing, &[]);
    }
    lib.add_listing(1, "journalArticle", &listings[10], &[("citationKey", key)]);
    drop(lib);
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(
        workspace.path().join("paper-ls.toml"),
        "corpus = [\"zotero\"]\n",
    )
    .unwrap();
    let note = workspace.path().join("note.md");
    std::fs::write(&note, text).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let child = Command::new(support::binary())
        .env("PAPER_LS_CACHE_DIR", cache.path())
        .env(
            "PAPER_LS_MODEL_URL",
            "file:///nonexistent/paper-ls-test-model",
        )
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut client = support::LspClient::start_child(child);
    client.initialize(workspace.path(), options, false);
    let uri = client.open(&note, "markdown", text);
    assert!(client.wait_until_indexed(support::TIMEOUT));
    EditorOnLibrary {
        _home: home,
        _workspace: workspace,
        _cache: cache,
        database,
        listings,
        client,
        uri,
    }
}

/// Whether `paper-ls.search` for `title` finds `key` within ten seconds.
fn search_finds(client: &mut support::LspClient, title: &str, key: &str) -> bool {
    for _ in 0..100 {
        let found = client.request(
            "workspace/executeCommand",
            serde_json::json!({"command": "paper-ls.search", "arguments": [title, 3]}),
        );
        if found
            .as_array()
            .is_some_and(|f| f.iter().any(|p| p["key"] == key))
        {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// Zotero closed but its last writes still in the WAL (not checkpointed):
/// read in place, read-only, with those writes.
#[test]
fn writes_still_in_the_wal_are_read_in_place() {
    require_shared!();
    let built = build(false);
    let database = built.dir.path().join("zotero.sqlite");
    let listings = arxiv_listings(40);
    let conn = Connection::open(&database).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;")
        .unwrap();
    let mut writer = Library::reopen(conn, &database);
    writer.add_listing(1, "preprint", &listings[37], &[]);
    let wal = database.with_file_name("zotero.sqlite-wal");
    assert!(
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "the write is in the WAL"
    );
    let before = std::fs::read(&database).unwrap();
    let corpus = load(&database);
    assert!(titles(&corpus).contains(&listings[37].title));
    assert_eq!(
        std::fs::read(&database).unwrap(),
        before,
        "the database is not written"
    );
    drop(writer);
}

/// A library large enough to be kept parsed: the second start reads it back
/// (links included), and every change Zotero makes — in place, or in the
/// WAL while Zotero holds its lock — is seen at once, each state replacing
/// the kept copy rather than adding a file.
#[test]
fn a_large_library_is_kept_parsed_and_every_change_is_seen() {
    require_shared!();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("zotero.sqlite");
    let listings = arxiv_listings(1_210);
    let mut lib = Library::create(&database, false);
    lib.conn.execute_batch("BEGIN").unwrap();
    let mut first = 0;
    for (n, listing) in listings.iter().take(1_200).enumerate() {
        let (id, _) = lib.add_listing(1, "preprint", listing, &[]);
        if n == 0 {
            first = id;
        }
    }
    lib.conn.execute_batch("COMMIT").unwrap();
    lib.add_note(1, first, "<p>Kept with the paper.</p>");
    drop(lib);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = paper_ls::corpus::Cache::at(cache_dir.path());
    let kept_files = || {
        std::fs::read_dir(cache_dir.path().join("corpus"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".bin"))
                    .count()
            })
            .unwrap_or(0)
    };
    let paths = [database.clone()];
    let parsed = Corpus::load_cached(&paths, &cache);
    cache.finish_writes();
    assert_eq!(parsed.papers.len(), 1_200, "{:?}", parsed.problems);
    assert_eq!(kept_files(), 1, "a parsed copy is kept");
    assert!(!parsed.papers.abstracts_are_on_disk());
    let kept = Corpus::load_cached(&paths, &cache);
    assert!(kept.papers.abstracts_are_on_disk(), "read back");
    assert_eq!(titles(&kept), titles(&parsed));
    assert_eq!(kept.library_links, parsed.library_links);
    assert!(kept
        .library_links
        .values()
        .any(|l| l.notes == ["Kept with the paper."]));
    assert_eq!(kept.content_fingerprint(), parsed.content_fingerprint());

    // Zotero closed: a paper added in place.
    let mut lib = Library::reopen(Connection::open(&database).unwrap(), &database);
    lib.add_listing(1, "preprint", &listings[1_200], &[]);
    drop(lib);
    let changed = Corpus::load_cached(&paths, &cache);
    cache.finish_writes();
    assert!(titles(&changed).contains(&listings[1_200].title));
    assert!(!changed.papers.abstracts_are_on_disk(), "read again");
    assert_ne!(changed.content_fingerprint(), parsed.content_fingerprint());

    // Zotero running: WAL mode, its lock, each commit only in the WAL.
    let zotero = Connection::open(&database).unwrap();
    zotero
        .execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; PRAGMA locking_mode=EXCLUSIVE;",
        )
        .unwrap();
    let mut writer = Library::reopen(zotero, &database);
    for listing in &listings[1_201..1_204] {
        writer.add_listing(1, "preprint", listing, &[]);
        let seen = Corpus::load_cached(&paths, &cache);
        cache.finish_writes();
        assert!(
            titles(&seen).contains(&listing.title),
            "a commit in the WAL is seen: {:?}",
            seen.problems
        );
        assert!(!seen.papers.abstracts_are_on_disk(), "read again");
        let again = Corpus::load_cached(&paths, &cache);
        assert!(again.papers.abstracts_are_on_disk(), "and kept");
        assert_eq!(titles(&again), titles(&seen));
    }
    assert_eq!(kept_files(), 1, "each state replaced the last");
    drop(writer);
}

/// Overwrites the middle of a database file with junk, as a copy taken
/// while Zotero wrote (or a failing disk) can be: SQLite's quick_check
/// fails on it.
fn damage(database: &Path, junk: u8) {
    use std::io::{Seek, SeekFrom, Write};
    let len = std::fs::metadata(database).unwrap().len();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(database)
        .unwrap();
    file.seek(SeekFrom::Start(4096 * 2)).unwrap();
    file.write_all(&vec![junk; (len as usize / 2).max(4096)])
        .unwrap();
}

/// Whether a message says the library is damaged: in the copy taken
/// because Zotero holds the database, or in the database itself (SQLite
/// may meet the damage before the lock).
fn says_damaged(message: &str) -> bool {
    message.contains("the copy is damaged") || message.contains("malformed")
}

/// Holds the library as Zotero does while it runs: WAL mode, its
/// exclusive lock taken by a write.
fn hold_like_zotero(database: &Path, listing: &support::zotero::Listing) -> Library {
    let zotero = Connection::open(database).unwrap();
    zotero
        .execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; PRAGMA locking_mode=EXCLUSIVE;",
        )
        .unwrap();
    let mut writer = Library::reopen(zotero, database);
    writer.add_listing(1, "preprint", listing, &[]);
    writer
}

/// Zotero holds the library and the copy taken of it is damaged: Zotero's
/// own backup (`zotero.sqlite.bak`) is read, with a warning saying so; with
/// no backup either, the load fails with a reason rather than giving junk.
#[test]
fn a_damaged_copy_falls_back_to_zoteros_backup() {
    require_shared!();
    let built = build(false);
    let database = built.dir.path().join("zotero.sqlite");
    let backup = built.dir.path().join("zotero.sqlite.bak");
    std::fs::copy(&database, &backup).unwrap();
    let listings = arxiv_listings(40);
    let writer = hold_like_zotero(&database, &listings[35]);
    damage(&database, 0xa5);
    let copies = tempfile::tempdir().unwrap();
    let corpus = Corpus::load_copying_into(std::slice::from_ref(&database), copies.path());
    assert_eq!(titles(&corpus).len(), 31, "{:?}", corpus.problems);
    assert!(titles(&corpus).contains(&built.titles[0]));
    assert!(
        corpus
            .problems
            .iter()
            .any(|p| p.message.contains("read Zotero's backup") && says_damaged(&p.message)),
        "{:?}",
        corpus.problems
    );
    std::fs::remove_file(&backup).unwrap();
    let corpus = Corpus::load_copying_into(std::slice::from_ref(&database), copies.path());
    assert_eq!(corpus.papers.len(), 0);
    assert!(
        corpus
            .problems
            .iter()
            .any(|p| p.message.contains("nor could Zotero's backup") && says_damaged(&p.message)),
        "{:?}",
        corpus.problems
    );
    drop(writer);
}

/// In the editor, Zotero running and every copy of the library damaged:
/// the last good papers keep answering, the user is told once (a
/// `window/showMessage`), later refusals go to the log only, and the library
/// is read again once it reads well.
#[test]
fn a_damaged_library_keeps_the_last_good_papers_and_is_told_once() {
    require_shared!();
    use serde_json::json;
    use support::LspClient;
    let text = "See [@zot2025kept].";
    let EditorOnLibrary {
        database,
        listings,
        mut client,
        uri,
        // Bound, not `..`: the folders must outlive the test.
        _home,
        _workspace,
        _cache,
    } = editor_on_default_library("zot2025kept", text, json!({}));
    let good = std::fs::read(&database).unwrap();
    let card = |client: &mut LspClient| {
        let hover = client.request("textDocument/hover", LspClient::at(&uri, 0, 8));
        hover["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(card(&mut client).contains(&listings[10].title));
    let kept_message = |m: &serde_json::Value, method: &str| {
        m["method"] == method
            && m["params"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("still answering from the 11 papers"))
    };
    let writer = hold_like_zotero(&database, &listings[11]);
    damage(&database, 0xa5);
    let told = client.wait_for(|m| kept_message(m, "window/showMessage"));
    let told = told.expect("the user is told the library cannot be read");
    assert!(
        says_damaged(told["params"]["message"].as_str().unwrap()),
        "{told}"
    );
    assert!(card(&mut client).contains(&listings[10].title), "last good");
    // Zotero writes again; the copy is still damaged.
    damage(&database, 0x5a);
    let logged = client.wait_for(|m| kept_message(m, "window/logMessage"));
    assert!(logged.is_some(), "the second refusal is logged");
    assert!(
        !client
            .notifications
            .iter()
            .any(|m| kept_message(m, "window/showMessage")),
        "and not shown again"
    );
    assert!(card(&mut client).contains(&listings[10].title), "last good");
    // Zotero quits; the library is sound again, with one more paper.
    drop(writer);
    std::fs::write(&database, &good).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(database.with_file_name(format!("zotero.sqlite{suffix}")));
    }
    let mut lib = Library::reopen(Connection::open(&database).unwrap(), &database);
    lib.add_listing(
        1,
        "preprint",
        &listings[12],
        &[("citationKey", "zot2025back")],
    );
    drop(lib);
    assert!(
        search_finds(&mut client, &listings[12].title, "zot2025back"),
        "read again once sound"
    );
    client.shutdown_and_exit();
}
