//! The latency and memory benchmark: starts the release `paper-ls` binary and
//! speaks LSP to it like an editor, on the bundled corpus and on the real
//! corpora in `../shared/corpora`, and writes `bench/RESULTS.md` and
//! `bench/results.json`.
//!
//! `cargo bench -p paper-ls --bench lsp` runs everything; `-- --smoke` runs a
//! few requests on the bundled corpus only (CI keeps it working);
//! `-- --requests N` and `-- --only NAME` narrow a run (and then print
//! their figures without replacing the committed results). `-- --with-1m`
//! adds a generated corpus of a million papers (written once under
//! `target/bench-corpora`, ~1.1 GB); `-- --texlab` runs the same LaTeX
//! requests on CryptoBib against `texlab` (from PATH or `$TEXLAB`) and
//! paper-ls side by side. `-- --first-second` times the first answers on
//! a million papers (another seed than `--with-1m`'s), cold and warm.
//! `-- --embeddings [--model DIR]` measures the sentence encoder's
//! throughput and related papers by meaning (written to
//! `target/bench-embeddings.md`).

mod measure;
#[path = "../tests/support/mod.rs"]
mod support;

use measure::{cores, cpu_model, ms, percentile};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{memory_mb, LspClient};

struct Corpus {
    name: &'static str,
    paths: Vec<PathBuf>,
}

/// The changes to a large `.bib` the reload figures are kept for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BibChange {
    /// One character typed inside an entry's title.
    EditInside,
    /// A new entry written after one.
    AddEntry,
    /// An entry deleted.
    RemoveEntry,
    /// The whole file written to a temporary file and renamed over the old
    /// one (as Zotero + Better BibTeX export), one entry's title changed.
    RewriteByRename,
}

impl BibChange {
    const ALL: [BibChange; 4] = [
        BibChange::EditInside,
        BibChange::AddEntry,
        BibChange::RemoveEntry,
        BibChange::RewriteByRename,
    ];

    fn describe(self) -> &'static str {
        match self {
            BibChange::EditInside => "one character typed in an entry",
            BibChange::AddEntry => "an entry added",
            BibChange::RemoveEntry => "an entry removed",
            BibChange::RewriteByRename => "the file rewritten by rename, one entry changed",
        }
    }
}

/// A change to a large `.bib` while the user keeps typing.
struct ReloadFigures {
    change: BibChange,
    /// From the file's change on disk to the first answer that shows it.
    swap_ms: f64,
    /// Completion latencies while the re-read was under way.
    completion_during: Vec<f64>,
}

/// Accepting a completion of a library paper that the document's
/// `refs.bib` lacks: the client runs the item's command, the server answers
/// with the edit of `refs.bib` to apply.
struct AdditionFigures {
    /// The first addition (the library's `@string` macros are read in the
    /// background when the note shows it has a bibliography of its own).
    first_ms: f64,
    /// Command sent → `workspace/applyEdit` received, for the others.
    to_edit: Vec<f64>,
    /// Completions answered while an addition was being computed.
    completion_during: Vec<f64>,
}

/// Papers added in Zotero while the server runs, until search finds each.
struct LibraryChangeFigures {
    /// Zotero closed: the write lands in the database itself.
    closed_ms: Vec<f64>,
    /// Zotero running: WAL mode, its exclusive lock held, each commit in
    /// the `-wal` (the server reads a checked copy).
    running_ms: Vec<f64>,
    /// Completions answered while the library was read again.
    completion_during: Vec<f64>,
}

/// Memory of one server before and after many small edits of a note.
struct EditFigures {
    edits: usize,
    rss_before_mb: f64,
    rss_halfway_mb: f64,
    rss_after_mb: f64,
}

/// The same LaTeX requests answered by two servers.
struct SideBySide {
    server: &'static str,
    open_ms: f64,
    completion: Vec<f64>,
    hover: Vec<f64>,
    rss_mb: f64,
}

struct Figures {
    name: String,
    papers: usize,
    /// Median of `cold_open_samples`.
    cold_open_ms: f64,
    /// Open→first answer on an empty cache, once per fresh cache: one
    /// sample is at the mercy of whatever else the machine is doing.
    cold_open_samples: Vec<f64>,
    /// From opening a note on a cold cache until full-text search is ready
    /// (reading, parsing and indexing the corpus).
    cold_indexed_ms: f64,
    warm_open_ms: f64,
    completion: Vec<f64>,
    hover: Vec<f64>,
    /// Hovers on paper titles written in prose, and how many showed a card.
    title_hover: Vec<f64>,
    title_hover_answered: usize,
    implementation: Vec<f64>,
    edits: Option<EditFigures>,
    definition: Vec<f64>,
    rss_mb: f64,
    peak_rss_mb: f64,
    /// The part of `rss_mb` that is the server's own memory (heap, stacks),
    /// the rest being pages of mapped files (the persisted index, the
    /// binary): clean pages the kernel can take back at any time.
    rss_anon_mb: f64,
    /// Building the full-text index alone, from papers already parsed
    /// (`paper-ls index` with the parsed corpus in the cache), for
    /// corpora large enough to have a persisted index.
    index_alone_ms: Option<f64>,
    /// One of each kind of change, for CryptoBib.
    reloads: Vec<ReloadFigures>,
    additions: AdditionFigures,
    library_changes: Option<LibraryChangeFigures>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let requests = flag(&args, "--requests")
        .map(|n| n.parse().expect("a number"))
        .unwrap_or(if smoke { 20 } else { 1000 });
    if args.iter().any(|a| a == "--reload") {
        let runs = flag(&args, "--runs").map_or(3, |n| n.parse().expect("a number"));
        let corpus = cryptobib();
        let (_, keys, _) = sample(&corpus, 1000);
        println!("Changes to CryptoBib's crypto.bib while typing, {runs} runs of each:");
        for change in BibChange::ALL {
            for _ in 0..runs {
                let r = reload_while_typing(&corpus, &keys, change);
                println!(
                    "- {}: answered {:.0} ms after the write; {} completions meanwhile, p99 {:.1} ms",
                    change.describe(),
                    r.swap_ms,
                    r.completion_during.len(),
                    percentile(&r.completion_during, 99.0)
                );
            }
        }
        return;
    }
    if args.iter().any(|a| a == "--appends") {
        let runs = flag(&args, "--runs").map_or(2, |n| n.parse().expect("a number"));
        print!("{}", appends_report(runs));
        return;
    }
    if args.iter().any(|a| a == "--interleaved") {
        let runs = flag(&args, "--runs").map_or(3, |n| n.parse().expect("a number"));
        print!("{}", interleaved_report(runs));
        return;
    }
    if args.iter().any(|a| a == "--first-second") {
        let runs = flag(&args, "--runs").map_or(2, |n| n.parse().expect("a number"));
        print!("{}", first_second_report(runs));
        return;
    }
    if args.iter().any(|a| a == "--embeddings") {
        let model = flag(&args, "--model")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("PAPER_LS_TEST_MODEL").map(PathBuf::from))
            .expect("--model DIR (or PAPER_LS_TEST_MODEL): all-MiniLM-L6-v2's folder");
        // `--speed-only`: the encoder's papers/s and the scan, not the
        // server's memory and latencies while it embeds (minutes more);
        // `--memory-only`: the papers/s and the memory with 600 papers.
        let report = embeddings_report(&model, args.iter().any(|a| a == "--speed-only"));
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-embeddings.md");
        std::fs::write(&out, &report).expect("write the figures");
        print!("{report}");
        eprintln!("written to {}", out.display());
        return;
    }
    if args.iter().any(|a| a == "--vault") {
        let sizes: Vec<usize> = flag(&args, "--vault-sizes").map_or(vec![1000, 5000, 20000], |s| {
            s.split(',').map(|n| n.parse().expect("numbers")).collect()
        });
        print!("{}", vault_report(&sizes));
        return;
    }
    let only = flag(&args, "--only");
    let with_million = args.iter().any(|a| a == "--with-1m");
    let mut results = Vec::new();
    let mut all = corpora(smoke);
    if with_million && !smoke {
        all.push(million_papers());
    }
    for corpus in all {
        if only.as_deref().is_some_and(|o| o != corpus.name) {
            continue;
        }
        eprintln!("benchmarking {} …", corpus.name);
        results.push(run(&corpus, requests));
    }
    let side_by_side = if args.iter().any(|a| a == "--texlab") && !smoke {
        texlab_side_by_side(requests.min(60))
    } else {
        Vec::new()
    };
    let report = markdown(&results, &side_by_side, requests);
    print!("{report}");
    // Only a full run replaces the committed results.
    if !smoke && only.is_none() && flag(&args, "--requests").is_none() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench");
        // What bounds each missed target is written by hand (bench/MISSES.md)
        // and kept with the figures it explains.
        let misses = std::fs::read_to_string(dir.join("MISSES.md")).unwrap_or_default();
        let report = if misses.is_empty() {
            report
        } else {
            format!("{report}\n{misses}")
        };
        std::fs::write(dir.join("RESULTS.md"), &report).expect("write RESULTS.md");
        std::fs::write(
            dir.join("results.json"),
            serde_json::to_string_pretty(&json_of(&results, &side_by_side)).unwrap(),
        )
        .expect("write results.json");
    }
}

/// Times `paper-ls index` on the corpus after removing its persisted index
/// (the parsed-corpus cache file stays): reading it back and
/// building the index, nothing else running.
fn index_alone(corpus: &Corpus, cache: &Path) -> Option<f64> {
    let index_dir = cache.join("index");
    let _ = std::fs::remove_dir_all(&index_dir);
    let mut command = std::process::Command::new(support::binary());
    command.arg("index").env("PAPER_LS_CACHE_DIR", cache);
    for path in &corpus.paths {
        command.arg("--corpus").arg(path);
    }
    let started = Instant::now();
    let output = command.output().expect("run paper-ls index");
    let took = ms(started.elapsed());
    let persisted = std::fs::read_dir(&index_dir).is_ok_and(|mut d| d.next().is_some());
    (output.status.success() && persisted).then_some(took)
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Items in the benchmark's Zotero library: a large personal library.
const ZOTERO_PAPERS: usize = 10_000;

fn corpora(smoke: bool) -> Vec<Corpus> {
    let mut out = vec![Corpus {
        name: "bundled",
        paths: Vec::new(),
    }];
    if smoke {
        return out;
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    let candidates = [
        (
            "cryptobib",
            vec!["cryptobib/abbrev3.bib", "cryptobib/crypto.bib"],
        ),
        ("arxiv", vec!["arxiv/arxiv-2025-cs.jsonl.gz"]),
        ("acl", vec!["acl-anthology/anthology+abstracts.bib.gz"]),
    ];
    for (name, files) in candidates {
        let paths: Vec<PathBuf> = files.iter().map(|f| shared.join(f)).collect();
        if paths.iter().all(|p| p.exists()) {
            out.push(Corpus { name, paths });
        } else {
            eprintln!("skipping {name}: not found under {}", shared.display());
        }
    }
    if support::zotero::available() {
        out.push(zotero_library());
    }
    out
}

/// A large personal Zotero library: 10,000 arXiv listings as items of four
/// types, with collections and tags, built once with Zotero's own schema
/// (tests/support/zotero.rs) and reused.
fn zotero_library() -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpora/zotero-10k");
    let path = dir.join("zotero.sqlite");
    if !path.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        eprintln!("building {} …", path.display());
        let building = dir.join("building.sqlite");
        let mut library = support::zotero::Library::create(&building, false);
        library.conn.execute_batch("BEGIN").unwrap();
        let types = [
            "preprint",
            "journalArticle",
            "conferencePaper",
            "bookSection",
        ];
        let topics = library.add_collection(1, "Reading", None);
        for (n, listing) in support::zotero::arxiv_listings(ZOTERO_PAPERS)
            .iter()
            .enumerate()
        {
            let (item, _) = library.add_listing(1, types[n % types.len()], listing, &[]);
            if n % 10 == 0 {
                library.collect(topics, item);
                library.tag(item, "to-read");
            }
        }
        library.conn.execute_batch("COMMIT").unwrap();
        drop(library);
        std::fs::rename(&building, &path).unwrap();
    }
    Corpus {
        name: "zotero-10k",
        paths: vec![path],
    }
}

/// A million papers recombined from the real corpora by `paper-ls generate`
/// (deterministic), written once and reused.
fn million_papers() -> Corpus {
    generated_million(1, "generated-1m")
}

/// A million papers generated with `seed`, written once under `name`.
fn generated_million(seed: u64, name: &'static str) -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-corpora");
    let path = dir.join(format!("{name}.jsonl"));
    if !path.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        eprintln!("generating {} …", path.display());
        let status = std::process::Command::new(support::binary())
            .args([
                "generate",
                "--papers",
                "1000000",
                "--seed",
                &seed.to_string(),
                "--jsonl",
            ])
            .arg(&path)
            .arg("--from")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora"))
            .status()
            .expect("run paper-ls generate");
        assert!(status.success(), "paper-ls generate failed");
    }
    Corpus {
        name,
        paths: vec![path],
    }
}

/// Titles long enough to be told apart, as a writer would type them in prose.
fn prose_titles(corpus: &Corpus, n: usize) -> Vec<String> {
    let loaded = load(corpus);
    let step = (loaded.papers.len() / n.max(1)).max(1);
    loaded
        .papers
        .iter()
        .skip(step / 2)
        .step_by(step)
        .map(|p| p.title.to_string())
        .filter(|t| t.split_whitespace().count() >= 4 && !t.contains(['\\', '$', '[', ']', '@']))
        .take(n)
        .collect()
}

fn load(corpus: &Corpus) -> paper_ls::corpus::Corpus {
    if corpus.paths.is_empty() {
        paper_ls::corpus::bundled::load_bundled(paper_ls::corpus::Cache::from_environment().dir())
    } else {
        paper_ls::corpus::Corpus::load(&corpus.paths)
    }
}

/// Keys and title words of the corpus, read the way the server reads it.
fn sample(corpus: &Corpus, n: usize) -> (usize, Vec<String>, Vec<String>) {
    let loaded = load(corpus);
    let papers = &loaded.papers;
    let step = (papers.len() / n.max(1)).max(1);
    let picked: Vec<paper_ls::corpus::PaperRef<'_>> = papers.iter().step_by(step).take(n).collect();
    let keys = picked.iter().map(|p| p.key.to_string()).collect();
    let words = picked
        .iter()
        .filter_map(|p| {
            p.title
                .split(|c: char| !c.is_alphanumeric())
                .find(|w| w.len() > 5 && w.chars().all(|c| c.is_ascii_alphanumeric()))
                .map(str::to_lowercase)
        })
        .collect();
    (papers.len(), keys, words)
}

/// Cold opens measured per corpus (below a million papers).
const COLD_OPEN_SAMPLES: usize = 7;

fn run(corpus: &Corpus, requests: usize) -> Figures {
    let (papers, keys, words) = sample(corpus, requests);
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let options =
        json!({"corpus": corpus.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()});
    let cited: Vec<&String> = keys.iter().take(200).collect();
    let titles = prose_titles(corpus, 100);
    let note: String = cited
        .iter()
        .map(|k| format!("See [@{k}].\n"))
        .chain(std::iter::once("\n".to_string()))
        .chain(titles.iter().map(|t| format!("We build on {t} here.\n\n")))
        .collect::<String>()
        + "[@";
    let note_path = workspace.path().join("note.md");

    // Cold: nothing cached. The server parses the corpus and indexes it beside.
    let opened = Instant::now();
    let (mut cold, first_cold_open_ms) =
        open_and_first_answer(workspace.path(), cache.path(), &options, &note_path, &note);
    wait_until_indexed(&mut cold, &note_path);
    let cold_indexed_ms = ms(opened.elapsed());
    cold.shutdown_and_exit();
    drop(cold);
    // More cold opens, each on a new empty cache (not for the million
    // papers: ~20 s each).
    let mut cold_open_samples = vec![first_cold_open_ms];
    let extra_cold_opens = if papers < 200_000 {
        COLD_OPEN_SAMPLES - 1
    } else {
        0
    };
    for _ in 0..extra_cold_opens {
        let empty = tempfile::tempdir().unwrap();
        let (mut cold, open_ms) =
            open_and_first_answer(workspace.path(), empty.path(), &options, &note_path, &note);
        cold.shutdown_and_exit();
        cold_open_samples.push(open_ms);
    }
    let cold_open_ms = percentile(&cold_open_samples, 50.0);

    // Warm: the persisted index (large corpora) and the bundled file are in the
    // cache; the steady-state latencies are measured on this server.
    let (mut client, warm_open_ms) =
        open_and_first_answer(workspace.path(), cache.path(), &options, &note_path, &note);
    wait_until_indexed(&mut client, &note_path);
    let completion = completions(&mut client, &note_path, &note, &keys, &words, requests);
    let lines = cited.len() as u32;
    let hover = timed(
        &mut client,
        "textDocument/hover",
        &note_path,
        lines,
        requests,
    );
    let definition = timed(
        &mut client,
        "textDocument/definition",
        &note_path,
        lines,
        requests,
    );
    let implementation = timed(
        &mut client,
        "textDocument/implementation",
        &note_path,
        lines,
        requests,
    );
    let (title_hover, title_hover_answered) =
        title_hovers(&mut client, &note_path, lines + 1, titles.len(), requests);
    let (rss_mb, peak_rss_mb) = memory_mb(client.pid());
    let rss_anon_mb = support::status_mb(client.pid(), "RssAnon:");
    let edits = (corpus.name == "cryptobib").then(|| many_edits(&mut client, &note_path, &note));
    client.shutdown_and_exit();
    drop(client);
    let index_alone_ms = index_alone(corpus, cache.path());
    let reloads = if corpus.paths.len() == 2 && corpus.paths[1].ends_with("crypto.bib") {
        BibChange::ALL
            .iter()
            .map(|&change| reload_while_typing(corpus, &keys, change))
            .collect()
    } else {
        Vec::new()
    };
    let additions = bibliography_additions(corpus, &keys, requests.clamp(5, 100));
    let library_changes = (corpus.name == "zotero-10k").then(|| library_changes(corpus, &keys));
    Figures {
        name: corpus.name.into(),
        papers,
        cold_open_ms,
        cold_open_samples,
        cold_indexed_ms,
        warm_open_ms,
        completion,
        hover,
        title_hover,
        title_hover_answered,
        implementation,
        edits,
        definition,
        rss_mb,
        peak_rss_mb,
        rss_anon_mb,
        index_alone_ms,
        reloads,
        additions,
        library_changes,
    }
}

/// Papers added to a copy of the Zotero library while the server runs on
/// it, first with Zotero closed and then with Zotero running; each is timed
/// from its commit until `paper-ls.search` finds it, with a completion asked
/// for between searches.
fn library_changes(corpus: &Corpus, keys: &[String]) -> LibraryChangeFigures {
    const CHANGES: usize = 5;
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let database = workspace.path().join("zotero.sqlite");
    std::fs::copy(&corpus.paths[0], &database).unwrap();
    // As Zotero keeps its database (a setting of the file, kept on disk).
    rusqlite::Connection::open(&database)
        .unwrap()
        .execute_batch("PRAGMA journal_mode=WAL")
        .unwrap();
    let note = format!("See [@{}].\n[@", keys[0]);
    let note_path = workspace.path().join("note.md");
    let options = json!({"corpus": [database.display().to_string()]});
    let (mut client, _) =
        open_and_first_answer(workspace.path(), cache.path(), &options, &note_path, &note);
    wait_until_indexed(&mut client, &note_path);
    let uri = support::file_uri(&note_path);
    let listings = support::zotero::arxiv_listings(ZOTERO_PAPERS + 2 * CHANGES);
    let mut new = listings[ZOTERO_PAPERS..].iter().enumerate();
    let mut completion_during = Vec::new();
    let mut until_found = |client: &mut LspClient, key: &str, title: &str| -> f64 {
        let changed = Instant::now();
        let mut i = 0;
        loop {
            i += 1;
            completion_during.push(type_a_key_and_complete(client, &uri, keys, i));
            let found = client.request(
                "workspace/executeCommand",
                json!({"command": "paper-ls.search", "arguments": [title, 3]}),
            );
            if found
                .as_array()
                .is_some_and(|f| f.iter().any(|p| p["key"] == key))
            {
                return ms(changed.elapsed());
            }
            assert!(
                changed.elapsed() < Duration::from_secs(60),
                "the new paper {key} is never found"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let mut closed_ms = Vec::new();
    for _ in 0..CHANGES {
        let (n, listing) = new.next().unwrap();
        let key = format!("zotchange{n}");
        {
            let conn = rusqlite::Connection::open(&database).unwrap();
            let mut library = support::zotero::Library::reopen(conn, &database);
            library.add_listing(1, "preprint", listing, &[("citationKey", &key)]);
        }
        closed_ms.push(until_found(&mut client, &key, &listing.title));
    }
    let zotero = rusqlite::Connection::open(&database).unwrap();
    zotero
        .execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA locking_mode=EXCLUSIVE;")
        .unwrap();
    let mut running = support::zotero::Library::reopen(zotero, &database);
    let mut running_ms = Vec::new();
    for _ in 0..CHANGES {
        let (n, listing) = new.next().unwrap();
        let key = format!("zotchange{n}");
        running.add_listing(1, "preprint", listing, &[("citationKey", &key)]);
        running_ms.push(until_found(&mut client, &key, &listing.title));
    }
    drop(running);
    client.shutdown_and_exit();
    LibraryChangeFigures {
        closed_ms,
        running_ms,
        completion_during,
    }
}

/// A thesis citing library papers its `refs.bib` lacks: each key is added
/// as accepting its completion adds it (`paper-ls.addToBibliography`), and
/// a completion is asked for while the addition is computed.
fn bibliography_additions(corpus: &Corpus, keys: &[String], n: usize) -> AdditionFigures {
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    // The bundled corpus is a library too, through the `.bib` it is made from.
    let bundled = [Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/papers.bib")];
    let library = if corpus.paths.is_empty() {
        &bundled[..]
    } else {
        &corpus.paths[..]
    };
    let options =
        json!({"corpus": library.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()});
    std::fs::write(workspace.path().join("refs.bib"), "").unwrap();
    let note_path = workspace.path().join("main.tex");
    let note = "\\bibliography{refs}\n\\cite{";
    std::fs::write(&note_path, note).unwrap();
    let mut client = LspClient::start(cache.path());
    client.initialize(workspace.path(), options, false);
    let uri = client.open(&note_path, "latex", note);
    wait_until_indexed(&mut client, &note_path);
    let mut times = Vec::new();
    let mut completion_during = Vec::new();
    for (i, key) in keys.iter().take(n).enumerate() {
        let id = 1_000_000 + i as i64;
        let sent = Instant::now();
        client.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": "workspace/executeCommand",
            "params": {"command": "paper-ls.addToBibliography", "arguments": [uri, [key]]}}),
        );
        let completion_id = 2_000_000 + i as i64;
        client.send(
            &json!({"jsonrpc": "2.0", "id": completion_id, "method": "textDocument/completion",
            "params": {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 6}}}),
        );
        let mut edit_at = None;
        let mut answered = (false, false);
        while !(answered.0 && answered.1) {
            let Some(message) = client.wait_for(|m| {
                m["method"] == "workspace/applyEdit"
                    || m["id"] == json!(id)
                    || m["id"] == json!(completion_id)
            }) else {
                break;
            };
            if message["method"] == "workspace/applyEdit" {
                edit_at.get_or_insert_with(|| ms(sent.elapsed()));
                let applied = support::apply_workspace_edit(&message["params"]["edit"]);
                client.send(
                    &json!({"jsonrpc": "2.0", "id": message["id"], "result": {"applied": applied}}),
                );
            } else if message["id"] == json!(id) {
                answered.0 = true;
            } else {
                completion_during.push(ms(sent.elapsed()));
                answered.1 = true;
            }
        }
        if let Some(t) = edit_at {
            times.push(t);
        }
    }
    client.shutdown_and_exit();
    let first_ms = times.first().copied().unwrap_or(f64::NAN);
    AdditionFigures {
        first_ms,
        to_edit: times.into_iter().skip(1).collect(),
        completion_during,
    }
}

/// Copies the corpus into a workspace, makes `change` to `crypto.bib`, and
/// keeps completing until a hover shows the change: the edited title, the
/// added paper, or the removed one gone.
fn reload_while_typing(corpus: &Corpus, keys: &[String], change: BibChange) -> ReloadFigures {
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let copies: Vec<PathBuf> = corpus
        .paths
        .iter()
        .map(|p| workspace.path().join(p.file_name().unwrap()))
        .collect();
    for (from, to) in corpus.paths.iter().zip(&copies) {
        std::fs::copy(from, to).unwrap();
    }
    let target = &keys[keys.len() / 2];
    const ADDED: &str = "benchAdded2026";
    let note = format!("[@{target}] [@{ADDED}]\n[@");
    let added_column = (target.len() + 6) as u32;
    let note_path = workspace.path().join("note.md");
    let options =
        json!({"corpus": copies.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()});
    let (mut client, _) =
        open_and_first_answer(workspace.path(), cache.path(), &options, &note_path, &note);
    wait_until_indexed(&mut client, &note_path);
    let bib = std::fs::read_to_string(&copies[1]).unwrap();
    let entry = bib
        .find(&format!("{{{target},"))
        .expect("entry of the target key");
    let entry_start = bib[..entry].rfind('@').unwrap();
    let entry_end = entry + bib[entry..].find("\n}").unwrap() + 3;
    let title = entry + bib[entry..].find("title").unwrap();
    let equals = title + bib[title..].find('=').unwrap() + 1;
    let brace = equals + bib[equals..].find(['{', '"']).unwrap() + 1;
    let with_q = format!("{}Q{}", &bib[..brace], &bib[brace + 1..]);
    let edited = match change {
        BibChange::EditInside | BibChange::RewriteByRename => with_q,
        BibChange::AddEntry => format!(
            "{}\n\n@article{{{ADDED},\n  author = {{Jane Doe}},\n  title = {{Benchmarks Added While Typing}},\n  year = 2026,\n}}{}",
            &bib[..entry_end],
            &bib[entry_end..]
        ),
        BibChange::RemoveEntry => format!("{}{}", &bib[..entry_start], &bib[entry_end..]),
    };
    let changed = if change == BibChange::RewriteByRename {
        let tmp = copies[1].with_extension("bib.tmp");
        std::fs::write(&tmp, edited).unwrap();
        let changed = Instant::now();
        std::fs::rename(&tmp, &copies[1]).unwrap();
        changed
    } else {
        std::fs::write(&copies[1], edited).unwrap();
        Instant::now()
    };
    let uri = support::file_uri(&note_path);
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": support::file_uri(&copies[1]), "type": 2}]}),
    );
    let mut completion_during = Vec::new();
    let mut i = 0;
    let swap_ms = loop {
        i += 1;
        completion_during.push(type_a_key_and_complete(&mut client, &uri, keys, i));
        let column = if change == BibChange::AddEntry {
            added_column
        } else {
            4
        };
        let hover = client.request("textDocument/hover", LspClient::at(&uri, 0, column));
        let card = hover["contents"]["value"].as_str().unwrap_or("");
        let seen = match change {
            BibChange::EditInside | BibChange::RewriteByRename => {
                card.contains("\n**Q") || card.starts_with("**Q")
            }
            BibChange::AddEntry => card.contains("Benchmarks Added While Typing"),
            BibChange::RemoveEntry => {
                !card.contains(&format!("`{target}`")) && !card.contains("**")
            }
        };
        if seen {
            break ms(changed.elapsed());
        }
        assert!(
            changed.elapsed() < Duration::from_secs(120),
            "{change:?} never seen"
        );
    };
    client.shutdown_and_exit();
    ReloadFigures {
        change,
        swap_ms,
        completion_during,
    }
}

/// The `n`th keystroke of typing keys on the note's second line
/// (`[@` and the start of a key, replacing the line), and the time the
/// completion asked for then takes.
fn type_a_key_and_complete(client: &mut LspClient, uri: &str, keys: &[String], n: usize) -> f64 {
    let typed: String = keys[n % keys.len()].chars().take(2 + n % 4).collect();
    client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 10 + n}, "contentChanges": [{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}, "text": format!("[@{typed}")}]}));
    let started = Instant::now();
    client.request(
        "textDocument/completion",
        LspClient::at(uri, 1, 2 + typed.encode_utf16().count() as u32),
    );
    ms(started.elapsed())
}

/// Starts the server, opens the note and times until a hover on its first citation answers with a card.
fn open_and_first_answer(
    root: &Path,
    cache: &Path,
    options: &Value,
    note: &Path,
    text: &str,
) -> (LspClient, f64) {
    let mut client = LspClient::start(cache);
    client.initialize(root, options.clone(), false);
    let started = Instant::now();
    let uri = client.open(note, "markdown", text);
    loop {
        let hover = client.request("textDocument/hover", LspClient::at(&uri, 0, 8));
        if hover.get("contents").is_some() {
            return (client, ms(started.elapsed()));
        }
        if started.elapsed() > Duration::from_secs(120) {
            panic!("no hover answer within 120 s");
        }
    }
}

/// Waits until full-text search answers for the note's corpus.
fn wait_until_indexed(client: &mut LspClient, note: &Path) {
    assert!(
        client.wait_until_indexed(Duration::from_secs(300)),
        "index of {} not ready within 300 s",
        note.display()
    );
}

fn completions(
    client: &mut LspClient,
    note: &Path,
    text: &str,
    keys: &[String],
    words: &[String],
    n: usize,
) -> Vec<f64> {
    let uri = support::file_uri(note);
    let last_line = text.lines().count() as u32 - 1;
    let mut version = 1;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        // Half as-you-type key prefixes (2 to 6 characters), half topic words from titles.
        let typed: String = if i % 2 == 0 || words.is_empty() {
            let key = &keys[i % keys.len()];
            key.chars().take(2 + i % 5).collect()
        } else {
            words[i % words.len()].clone()
        };
        version += 1;
        client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [
            {"range": {"start": {"line": last_line, "character": 0}, "end": {"line": last_line + 1, "character": 0}}, "text": format!("[@{typed}")}
        ]}));
        let at = LspClient::at(&uri, last_line, 2 + typed.encode_utf16().count() as u32);
        let started = Instant::now();
        let result = client.request("textDocument/completion", at);
        out.push(ms(started.elapsed()));
        assert!(
            result.get("items").is_some(),
            "completion answered for `[@{typed}`: {result}"
        );
    }
    out
}

/// Hovers on the titles written in prose (two lines per title from
/// `first_line`), in the middle of the title's first word.
fn title_hovers(
    client: &mut LspClient,
    note: &Path,
    first_line: u32,
    titles: usize,
    n: usize,
) -> (Vec<f64>, usize) {
    if titles == 0 {
        return (Vec::new(), 0);
    }
    let uri = support::file_uri(note);
    let mut answered = 0;
    let times = (0..n)
        .map(|i| {
            let line = first_line + 2 * (i % titles) as u32;
            let at = LspClient::at(&uri, line, "We build on ".len() as u32 + 1);
            let started = Instant::now();
            let result = client.request("textDocument/hover", at);
            let elapsed = ms(started.elapsed());
            answered += usize::from(!result.is_null());
            elapsed
        })
        .collect();
    (times, answered)
}

/// Types and deletes in the note 10,000 times (a hover every 100 edits so
/// the server is kept busy with it) and reads the server's memory before,
/// halfway and after.
fn many_edits(client: &mut LspClient, note: &Path, text: &str) -> EditFigures {
    const EDITS: usize = 10_000;
    let uri = support::file_uri(note);
    let line = text.lines().count() as u32 - 1;
    let (rss_before_mb, _) = memory_mb(client.pid());
    let mut rss_halfway_mb = f64::NAN;
    let mut column = 2u32;
    for i in 0..EDITS {
        // Type a word, then delete it, over and over.
        let change = if i % 8 < 4 {
            column += 1;
            json!({"range": {"start": {"line": line, "character": column - 1}, "end": {"line": line, "character": column - 1}}, "text": "x"})
        } else {
            column -= 1;
            json!({"range": {"start": {"line": line, "character": column}, "end": {"line": line, "character": column + 1}}, "text": ""})
        };
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 100_000 + i}, "contentChanges": [change]}),
        );
        if i % 100 == 99 {
            client.request("textDocument/hover", LspClient::at(&uri, 0, 8));
        }
        if i == EDITS / 2 {
            rss_halfway_mb = memory_mb(client.pid()).0;
        }
    }
    client.request("textDocument/hover", LspClient::at(&uri, 0, 8));
    EditFigures {
        edits: EDITS,
        rss_before_mb,
        rss_halfway_mb,
        rss_after_mb: memory_mb(client.pid()).0,
    }
}

/// texlab and paper-ls on the same LaTeX note citing CryptoBib: open to
/// first hover, completion inside `\cite{` with key prefixes, hover on keys.
/// Empty when texlab is not installed or CryptoBib is not there.
fn texlab_side_by_side(requests: usize) -> Vec<SideBySide> {
    let texlab = std::env::var("TEXLAB").unwrap_or_else(|_| "texlab".into());
    if std::process::Command::new(&texlab)
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping the texlab comparison: no `{texlab}` on PATH (cargo install texlab)");
        return Vec::new();
    }
    let Some(crypto) = corpora(false).into_iter().find(|c| c.name == "cryptobib") else {
        return Vec::new();
    };
    let (_, keys, _) = sample(&crypto, requests);
    let mut out = Vec::new();
    for server in ["paper-ls", "texlab"] {
        eprintln!("side by side: {server} …");
        let workspace = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        for path in &crypto.paths {
            std::fs::copy(path, workspace.path().join(path.file_name().unwrap())).unwrap();
        }
        let cited: Vec<&String> = keys.iter().take(200).collect();
        let note: String = cited
            .iter()
            .map(|k| format!("See \\cite{{{k}}}.\n"))
            .collect::<String>()
            + "\\bibliography{abbrev3,crypto}\n\\cite{";
        let note_path = workspace.path().join("paper.tex");
        std::fs::write(&note_path, &note).unwrap();
        let mut client = if server == "texlab" {
            LspClient::start_child(
                std::process::Command::new(&texlab)
                    .current_dir(workspace.path())
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("start texlab"),
            )
        } else {
            LspClient::start(cache.path())
        };
        client.initialize(workspace.path(), json!({}), false);
        let started = Instant::now();
        let uri = client.open(&note_path, "latex", &note);
        let open_ms = loop {
            let hover = client.request("textDocument/hover", LspClient::at(&uri, 0, 12));
            if !hover.is_null() {
                break ms(started.elapsed());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{server}: no hover within 120 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        if server == "paper-ls" {
            wait_until_indexed(&mut client, &note_path);
        }
        let last_line = note.lines().count() as u32 - 1;
        // Ranges stay inside the document: texlab 4 panics on one past its end.
        let mut last_line_len = "\\cite{".len() as u32;
        let completion = (0..requests)
            .map(|i| {
                let typed: String = keys[i % keys.len()].chars().take(2 + i % 5).collect();
                let line = format!("\\cite{{{typed}");
                client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2 + i}, "contentChanges": [
                    {"range": {"start": {"line": last_line, "character": 0}, "end": {"line": last_line, "character": last_line_len}}, "text": line}
                ]}));
                last_line_len = line.encode_utf16().count() as u32;
                let at = LspClient::at(&uri, last_line, 6 + typed.encode_utf16().count() as u32);
                let started = Instant::now();
                client.request("textDocument/completion", at);
                ms(started.elapsed())
            })
            .collect();
        let hover = (0..requests)
            .map(|i| {
                let at = LspClient::at(&uri, (i % cited.len()) as u32, 12);
                let started = Instant::now();
                client.request("textDocument/hover", at);
                ms(started.elapsed())
            })
            .collect();
        let (rss_mb, _) = memory_mb(client.pid());
        client.shutdown_and_exit();
        out.push(SideBySide {
            server,
            open_ms,
            completion,
            hover,
            rss_mb,
        });
    }
    out
}

fn timed(client: &mut LspClient, method: &str, note: &Path, lines: u32, n: usize) -> Vec<f64> {
    let uri = support::file_uri(note);
    (0..n)
        .map(|i| {
            let at = LspClient::at(&uri, i as u32 % lines, 8);
            let started = Instant::now();
            let result = client.request(method, at);
            let elapsed = ms(started.elapsed());
            assert!(!result.is_null(), "{method} answered");
            elapsed
        })
        .collect()
}

fn markdown(results: &[Figures], side_by_side: &[SideBySide], requests: usize) -> String {
    let mut out = String::from("# paper-ls benchmark results\n\n");
    out.push_str(&format!(
        "Machine: {} cores, {}; release build; {requests} requests of each kind per corpus, sequential, over LSP stdio.\n\
         Times in milliseconds, measured by the client (request sent → response read). Memory from /proc (VmRSS after the run, VmHWM peak).\n\
         Regenerate: `cargo bench -p paper-ls --bench lsp` (add `-- --with-1m --texlab` for the million-paper corpus and the texlab comparison).\n\n",
        cores(),
        cpu_model()
    ));
    let p = |s: &[f64]| {
        if s.is_empty() {
            return "–".to_string();
        }
        format!(
            "{:.2} / {:.2} / {:.2}",
            percentile(s, 50.0),
            percentile(s, 95.0),
            percentile(s, 99.0)
        )
    };
    out.push_str("| corpus | papers | open→first hover cold | warm | cold open→full-text ready (papers/s) | index alone (papers/s) | RSS / peak MB | of the RSS, own memory / mapped files MB |\n|---|---|---|---|---|---|---|---|\n");
    for f in results {
        let index_alone = f.index_alone_ms.map_or("–".to_string(), |ms| {
            format!("{ms:.0} ({:.0})", f.papers as f64 / (ms / 1000.0))
        });
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} ({:.0}) | {index_alone} | {:.0} / {:.0} | {:.0} / {:.0} |\n",
            f.name,
            f.papers,
            f.cold_open_ms,
            f.warm_open_ms,
            f.cold_indexed_ms,
            f.papers as f64 / (f.cold_indexed_ms / 1000.0),
            f.rss_mb,
            f.peak_rss_mb,
            f.rss_anon_mb,
            f.rss_mb - f.rss_anon_mb
        ));
    }
    out.push_str("\nLatency p50 / p95 / p99 (ms):\n\n| corpus | completion | hover on keys | hover on titles in prose (answered) | definition | implementation (related papers) |\n|---|---|---|---|---|---|\n");
    for f in results {
        out.push_str(&format!(
            "| {} | {} | {} | {} ({}/{}) | {} | {} |\n",
            f.name,
            p(&f.completion),
            p(&f.hover),
            p(&f.title_hover),
            f.title_hover_answered,
            f.title_hover.len(),
            p(&f.definition),
            p(&f.implementation),
        ));
    }
    out.push_str("\nAccepting a completion of a library paper that `refs.bib` lacks → the edit of `refs.bib` to apply (`paper-ls.addToBibliography` sent → `workspace/applyEdit` received; the entry copied out of its source, macros expanded), and completions asked for while it runs:\n\n| corpus | first (the library's macros are read in the background once the note has a bibliography) | after, p50 / p95 / p99 | completion during, p50 / p95 / p99 |\n|---|---|---|---|\n");
    for f in results {
        out.push_str(&format!(
            "| {} | {:.1} | {} | {} |\n",
            f.name,
            f.additions.first_ms,
            p(&f.additions.to_edit),
            p(&f.additions.completion_during)
        ));
    }
    out.push_str(&targets(results));
    let list = |s: &[f64]| {
        s.iter()
            .map(|v| format!("{v:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for f in results {
        for r in &f.reloads {
            out.push_str(&format!(
                "\n{} `.bib` on disk while typing ({}): answered {:.0} ms after the write; \
                 {} completions during the re-read: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms.\n",
                f.name,
                r.change.describe(),
                r.swap_ms,
                r.completion_during.len(),
                percentile(&r.completion_during, 50.0),
                percentile(&r.completion_during, 99.0),
                percentile(&r.completion_during, 100.0)
            ));
        }
        if let Some(c) = &f.library_changes {
            out.push_str(&format!(
                "\nA paper added in Zotero while the server runs ({}), commit → found by search: \
                 Zotero closed {}; Zotero running (exclusive lock, the commit in the -wal) {} (ms, each of {}); \
                 {} completions meanwhile: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms.\n",
                f.name,
                list(&c.closed_ms),
                list(&c.running_ms),
                c.closed_ms.len(),
                c.completion_during.len(),
                percentile(&c.completion_during, 50.0),
                percentile(&c.completion_during, 99.0),
                percentile(&c.completion_during, 100.0)
            ));
        }
        if let Some(e) = &f.edits {
            out.push_str(&format!(
                "\n{} edits of a note ({}): RSS {:.1} MB before, {:.1} MB halfway, {:.1} MB after ({:+.1} MB).\n",
                e.edits,
                f.name,
                e.rss_before_mb,
                e.rss_halfway_mb,
                e.rss_after_mb,
                e.rss_after_mb - e.rss_before_mb
            ));
        }
    }
    if let [ours, texlab] = side_by_side {
        out.push_str(&format!(
            "\nSide by side on CryptoBib, the same LaTeX note (`\\cite{{…}}` lines, `\\bibliography{{abbrev3,crypto}}`), {} requests each:\n\n\
             | server | open→first hover | completion p50 / p95 / p99 | hover p50 / p95 / p99 | RSS MB |\n|---|---|---|---|---|\n",
            ours.completion.len()
        ));
        for s in side_by_side {
            out.push_str(&format!(
                "| {} | {:.0} | {} | {} | {:.0} |\n",
                s.server,
                s.open_ms,
                p(&s.completion),
                p(&s.hover),
                s.rss_mb
            ));
        }
        out.push_str(&format!(
            "\ntexlab ÷ paper-ls: open {:.1}×, completion p50 {:.1}× and p99 {:.1}×, hover p50 {:.1}×, RSS {:.1}×.\n",
            texlab.open_ms / ours.open_ms,
            percentile(&texlab.completion, 50.0) / percentile(&ours.completion, 50.0),
            percentile(&texlab.completion, 99.0) / percentile(&ours.completion, 99.0),
            percentile(&texlab.hover, 50.0) / percentile(&ours.hover, 50.0),
            texlab.rss_mb / ours.rss_mb
        ));
    }
    out
}

/// SPEC's targets next to what this run measured (only for the corpora it ran).
fn targets(results: &[Figures]) -> String {
    let by_name = |name: &str| results.iter().find(|f| f.name == name);
    let mut rows: Vec<(String, String, f64, bool)> = Vec::new();
    let mut row = |target: &str, limit: &str, value: f64, met: bool| {
        rows.push((target.to_string(), limit.to_string(), value, met));
    };
    if let Some(c) = by_name("cryptobib") {
        let p99 = percentile(&c.completion, 99.0);
        row("completion p99 at 72k (ms)", "≤ 10", p99, p99 <= 10.0);
        row(
            &format!(
                "open→first answer cold at 72k (ms; median of {}, min {:.0}, max {:.0})",
                c.cold_open_samples.len(),
                percentile(&c.cold_open_samples, 0.0),
                percentile(&c.cold_open_samples, 100.0)
            ),
            "≤ 500",
            c.cold_open_ms,
            c.cold_open_ms <= 500.0,
        );
        row("RSS at 72k (MB)", "≤ 150", c.rss_mb, c.rss_mb <= 150.0);
        for r in &c.reloads {
            row(
                &format!("{} at 72k answered (ms)", r.change.describe()),
                "≤ 150",
                r.swap_ms,
                r.swap_ms <= 150.0,
            );
        }
        if let Some(r) = c.reloads.first() {
            let max = percentile(&r.completion_during, 100.0);
            row(
                "slowest completion during a 72k .bib edit (ms)",
                "≤ 50",
                max,
                max <= 50.0,
            );
        }
        let to_edit = percentile(&c.additions.to_edit, 95.0);
        row(
            "completion accepted → .bib edit at 72k, p95 (ms)",
            "≤ 50",
            to_edit,
            to_edit <= 50.0,
        );
        if let Some(e) = &c.edits {
            let growth = e.rss_after_mb - e.rss_halfway_mb;
            row(
                "RSS growth over the second 5,000 of 10,000 edits (MB)",
                "≈ 0",
                growth,
                growth < 5.0,
            );
        }
    }
    if let Some(m) = by_name("generated-1m") {
        let p99 = percentile(&m.completion, 99.0);
        row("completion p99 at 1M (ms)", "≤ 25", p99, p99 <= 25.0);
        row(
            "open→first answer warm at 1M (ms)",
            "≤ 1000",
            m.warm_open_ms,
            m.warm_open_ms <= 1000.0,
        );
        row("RSS at 1M (MB)", "≤ 600", m.rss_mb, m.rss_mb <= 600.0);
    }
    if let Some(z) = by_name("zotero-10k") {
        row(
            "Zotero 10k items: open→first answer cold (ms)",
            "< 1000",
            z.cold_open_ms,
            z.cold_open_ms < 1000.0,
        );
        row(
            "Zotero 10k items: open→first answer warm (ms)",
            "< 200",
            z.warm_open_ms,
            z.warm_open_ms < 200.0,
        );
        if let Some(c) = &z.library_changes {
            let worst = c
                .closed_ms
                .iter()
                .chain(&c.running_ms)
                .fold(0.0, |a: f64, &b| a.max(b));
            row(
                "Zotero 10k items: a change searchable, slowest of both modes (ms)",
                "< 1000",
                worst,
                worst < 1000.0,
            );
        }
    }
    let hover_p99 = results
        .iter()
        .map(|f| percentile(&f.hover, 99.0).max(percentile(&f.title_hover, 99.0)))
        .fold(0.0, f64::max);
    if !results.is_empty() {
        row(
            "hover p99, keys and titles, worst corpus (ms)",
            "≤ 5",
            hover_p99,
            hover_p99 <= 5.0,
        );
    }
    // SPEC measures its targets on CryptoBib and on the million papers.
    for f in results
        .iter()
        .filter(|f| f.name == "cryptobib" || f.name == "generated-1m")
    {
        if let Some(alone) = f.index_alone_ms {
            let rate = f.papers as f64 / (alone / 1000.0);
            row(
                &format!(
                    "indexing, {} (papers/s; parsed-corpus cache read + index build)",
                    f.name
                ),
                "≥ 15,000",
                rate,
                rate >= 15_000.0,
            );
        }
        let end_to_end = f.papers as f64 / (f.cold_indexed_ms / 1000.0);
        row(
            &format!(
                "cold open to full-text ready, {} (papers/s; reading and parsing included)",
                f.name
            ),
            "≥ 15,000",
            end_to_end,
            end_to_end >= 15_000.0,
        );
    }
    let mut out = String::from("\nTargets (SPEC \"Responsiveness and scale\"):\n\n| target | SPEC | measured | |\n|---|---|---|---|\n");
    for (target, limit, value, met) in rows {
        out.push_str(&format!(
            "| {target} | {limit} | {value:.1} | {} |\n",
            if met { "met" } else { "missed" }
        ));
    }
    out
}

fn json_of(results: &[Figures], side_by_side: &[SideBySide]) -> Value {
    let pct = |s: &[f64]| json!({"p50": percentile(s, 50.0), "p95": percentile(s, 95.0), "p99": percentile(s, 99.0), "n": s.len()});
    let corpora: Vec<Value> = results
        .iter()
        .map(|f| {
            json!({"corpus": f.name, "papers": f.papers, "cold_open_ms": f.cold_open_ms, "cold_open_samples_ms": f.cold_open_samples, "warm_open_ms": f.warm_open_ms,
                   "cold_indexed_ms": f.cold_indexed_ms, "papers_per_s_to_full_text": f.papers as f64 / (f.cold_indexed_ms / 1000.0),
                   "completion_ms": pct(&f.completion), "hover_ms": pct(&f.hover), "definition_ms": pct(&f.definition),
                   "title_hover_ms": pct(&f.title_hover), "title_hover_answered": f.title_hover_answered,
                   "implementation_ms": pct(&f.implementation),
                   "rss_mb": f.rss_mb, "peak_rss_mb": f.peak_rss_mb, "rss_anon_mb": f.rss_anon_mb, "index_alone_ms": f.index_alone_ms, "machine": cpu_model(),
                   "edits": f.edits.as_ref().map(|e| json!({"edits": e.edits, "rss_before_mb": e.rss_before_mb, "rss_halfway_mb": e.rss_halfway_mb, "rss_after_mb": e.rss_after_mb})),
                   "additions": json!({"first_ms": f.additions.first_ms, "to_edit_ms": pct(&f.additions.to_edit), "completion_during_ms": pct(&f.additions.completion_during)}),
                   "library_changes": f.library_changes.as_ref().map(|c| json!({"closed_ms": c.closed_ms, "running_ms": c.running_ms, "completion_during_ms": pct(&c.completion_during)})),
                   "reloads": f.reloads.iter().map(|r| json!({"change": format!("{:?}", r.change), "swap_ms": r.swap_ms, "completion_during_ms": pct(&r.completion_during),
                                                              "completion_during_max_ms": percentile(&r.completion_during, 100.0)})).collect::<Vec<_>>()})
        })
        .collect();
    let side: Vec<Value> = side_by_side
        .iter()
        .map(|s| json!({"server": s.server, "open_ms": s.open_ms, "completion_ms": pct(&s.completion), "hover_ms": pct(&s.hover), "rss_mb": s.rss_mb}))
        .collect();
    json!({"corpora": corpora, "side_by_side": side})
}

/// Find references in a vault of notes (a Zettelkasten, an Obsidian vault):
/// `n` Markdown notes of ~8 KB made of arXiv abstracts, each citing three
/// papers and one paper in all of them (every other note twice), with
/// titles written in prose. Timed from outside: the first request after
/// the index is ready (the vault's prose may still be being read then), then
/// 30 more; and the server's memory.
fn vault_references(n: usize) -> VaultFigures {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    let corpus_path = shared.join("arxiv/arxiv-2025-cs.jsonl.gz");
    let loaded = paper_ls::corpus::Corpus::load(std::slice::from_ref(&corpus_path));
    let papers: Vec<_> = loaded
        .papers
        .iter()
        .filter(|p| p.abstract_text().is_some_and(|a| a.len() > 600))
        .take(50_000)
        .collect();
    // The paper every note cites is the vault's own `.bib` entry, so that
    // it can be renamed as well as looked up.
    let target = "vault2024common".to_string();
    let vault = tempfile::tempdir().unwrap();
    let bib = vault.path().join("refs.bib");
    std::fs::write(
        &bib,
        format!(
            "@article{{{target},\n  title = {{A Paper Every Note of the Vault Cites}},\n  \
             author = {{Reader, Vault}},\n  year = {{2024}},\n}}\n"
        ),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut bytes = 0;
    for i in 0..n {
        let mut text = format!("# Reading notes {i}\n\n");
        for j in 0..8 {
            let p = &papers[1 + (i * 8 + j) % (papers.len() - 1)];
            let abstract_text = p
                .abstract_text()
                .unwrap_or_default()
                .replace(['[', ']', '@'], " ");
            match j {
                0 => text += &format!("{abstract_text} [@{}; @{target}]\n\n", p.key),
                3 => text += &format!("Today I read {} and liked it. {abstract_text}\n\n", p.title),
                5 if i % 2 == 0 => text += &format!("{abstract_text} Compare [@{target}].\n\n"),
                _ => text += &format!("{abstract_text} [@{}]\n\n", p.key),
            }
        }
        bytes += text.len();
        let folder = vault.path().join(format!("{:02}", i % 50));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(format!("note{i}.md")), text).unwrap();
    }
    let note = vault.path().join("00/note0.md");
    let text = std::fs::read_to_string(&note).unwrap();
    let options = json!({"corpus": [
        corpus_path.display().to_string(),
        bib.display().to_string(),
    ]});
    let mut client = LspClient::start(cache.path());
    client.initialize(vault.path(), options, false);
    let uri = client.open(&note, "markdown", &text);
    wait_until_indexed(&mut client, &note);
    let line = text
        .lines()
        .position(|l| l.contains(&format!("@{target}]")))
        .unwrap();
    let character = text
        .lines()
        .nth(line)
        .unwrap()
        .find(&format!("@{target}"))
        .unwrap()
        + 2;
    let params = json!({
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"includeDeclaration": false},
    });
    let started = Instant::now();
    let first = client.request("textDocument/references", params.clone());
    let first_ms = ms(started.elapsed());
    let found = first.as_array().map_or(0, Vec::len);
    // The vault's prose is read in the background: wait for it, then time
    // the requests a user makes later.
    let said = |m: &Value| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with("title mentions of"))
    };
    let already = client.notifications.iter().find(|m| said(m)).cloned();
    let read = already.or_else(|| client.wait_for(said));
    eprintln!(
        "  {}",
        read.map_or("(never said)".into(), |m| m["params"]["message"]
            .to_string())
    );
    let warm: Vec<f64> = (0..30)
        .map(|_| {
            let started = Instant::now();
            let answer = client.request("textDocument/references", params.clone());
            let took = ms(started.elapsed());
            // Timed to the answer in hand: an editor shows it before it
            // frees the previous one, so freeing is not part of the wait.
            drop(answer);
            took
        })
        .collect();
    // Rename asked, not applied: an edit of every citation in the vault.
    let rename = json!({
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "newName": "vault2024renamed",
    });
    let mut edits = 0;
    let renames: Vec<f64> = (0..10)
        .map(|_| {
            let started = Instant::now();
            let answer = client.request("textDocument/rename", rename.clone());
            let took = ms(started.elapsed());
            edits = answer["changes"].as_object().map_or(0, |c| {
                c.values().filter_map(Value::as_array).map(Vec::len).sum()
            });
            took
        })
        .collect();
    let (rss_mb, _) = memory_mb(client.pid());
    client.shutdown_and_exit();
    VaultFigures {
        first_ms,
        warm,
        found,
        renames,
        edits,
        rss_mb,
        mb: bytes as f64 / 1e6,
    }
}

struct VaultFigures {
    first_ms: f64,
    /// Find references, warm.
    warm: Vec<f64>,
    found: usize,
    renames: Vec<f64>,
    /// Edits in the rename's answer.
    edits: usize,
    rss_mb: f64,
    mb: f64,
}

fn vault_report(sizes: &[usize]) -> String {
    let mut out = String::from(
        "## Find references and rename in a vault of notes (arXiv 2025 cs corpus)\n\n\
         | notes | MB of notes | references found | first request ms | median ms | max ms | \
         rename edits | rename median ms | rename max ms | RSS MB |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for &n in sizes {
        eprintln!("vault of {n} notes …");
        let v = vault_references(n);
        out += &format!(
            "| {n} | {:.0} | {} | {:.0} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {:.0} |\n",
            v.mb,
            v.found,
            v.first_ms,
            percentile(&v.warm, 50.0),
            percentile(&v.warm, 100.0),
            v.edits,
            percentile(&v.renames, 50.0),
            percentile(&v.renames, 100.0),
            v.rss_mb,
        );
    }
    out
}

/// Sentence embeddings: the encoder's throughput on arXiv titles and
/// abstracts at 128 and 256 tokens, on one core and on all of them, and
/// the latency of related papers by meaning (an exact scan of the int8
/// vectors) at 10k, 100k and 1M papers.
fn embeddings_report(model: &Path, speed_only: bool) -> String {
    use paper_ls::index::embeddings::store::{paper_text, PaperVectors};
    use paper_ls::index::embeddings::Encoder;
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    let corpus = paper_ls::corpus::Corpus::load(&[shared.join("arxiv/arxiv-2025-cs.jsonl.gz")]);
    let texts: Vec<String> = (0..400)
        .map(|i| {
            let p = corpus.paper(i * 150);
            paper_text(p.title, p.abstract_text().as_deref())
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let all = cores();
    let mut out = format!(
        "## Sentence embeddings (all-MiniLM-L6-v2, {} on {all} cores)\n\n\
         Encoding 400 arXiv 2025 cs titles and abstracts (`paper-ls embed`'s path: one \
         unpadded sequence per thread):\n\n\
         | tokens | threads | papers/s | mean tokens |\n|---:|---:|---:|---:|\n",
        cpu_model()
    );
    for max_tokens in [128, 256] {
        let encoder = Encoder::load(model)
            .expect("load the model")
            .with_max_tokens(max_tokens);
        let mean_tokens = refs
            .iter()
            .map(|t| encoder.tokenize(t).len())
            .sum::<usize>() as f64
            / refs.len() as f64;
        for threads in [1, all] {
            // A warm-up pass pages the weights in.
            encoder.embed_many(&refs[..8], threads, &|_| true);
            let started = Instant::now();
            encoder
                .embed_many(&refs, threads, &|_| true)
                .expect("embedded");
            let rate = refs.len() as f64 / started.elapsed().as_secs_f64();
            out += &format!("| {max_tokens} | {threads} | {rate:.1} | {mean_tokens:.0} |\n");
        }
    }
    if std::env::args().any(|a| a == "--memory-only") {
        // The server's memory with 600 papers embedded, alone (seconds).
        return out + &embedding_memory(model, &corpus);
    }
    if !speed_only {
        out += &embedding_memory(model, &corpus);
        out += &interleaved_while_embedding(model);
    }
    out += "\nRelated papers by meaning (exact scan of int8 vectors, 384 dimensions, \
            396 bytes per paper, 8 more for the centring), 200 queries:\n\n\
            | papers | p50 ms | p99 ms | MB of vectors | centring once, ms |\n|---:|---:|---:|---:|---:|\n";
    for papers in [10_000, 100_000, 1_000_000] {
        let mut vectors = PaperVectors::new(384, papers);
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut row = vec![0f32; 384];
        for i in 0..papers {
            for v in row.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *v = (state % 2001) as f32 / 1000.0 - 1.0;
            }
            vectors.set(i, &row, i as u64);
        }
        // Centred on the corpus's mean, as the server ranks.
        let centring = Instant::now();
        vectors.centre();
        let centre_ms = ms(centring.elapsed());
        let mut took = Vec::new();
        for q in 0..200 {
            let started = Instant::now();
            let found = vectors.nearest_to_paper_centred(q * (papers / 200), 10);
            took.push(ms(started.elapsed()));
            assert_eq!(found.len(), 10);
        }
        out += &format!(
            "| {papers} | {:.2} | {:.2} | {:.0} | {centre_ms:.0} |\n",
            percentile(&took, 50.0),
            percentile(&took, 99.0),
            papers as f64 * 396.0 / 1e6
        );
    }
    out
}

/// The server's memory on 600 arXiv papers with related papers by words
/// only, and once the same papers are embedded (in the background, then the
/// vectors and the model kept for queries).
fn embedding_memory(model: &Path, corpus: &paper_ls::corpus::Corpus) -> String {
    const PAPERS: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let bib: String = (0..PAPERS)
        .map(|i| {
            let p = corpus.paper(i * 100);
            format!(
                "@article{{p{i},\n  title = {{{}}},\n  abstract = {{{}}},\n}}\n",
                p.title.replace(['{', '}'], ""),
                p.abstract_text()
                    .unwrap_or_default()
                    .replace(['{', '}'], "")
            )
        })
        .collect();
    std::fs::write(dir.path().join("refs.bib"), bib).unwrap();
    let mut rows = String::from(
        "\nThe server's memory with 600 arXiv papers (`refs.bib`), a note open, after indexing \
         (and, with embeddings, once all are computed):\n\n\
         | related papers by | RSS MB | of it file-backed MB | embedding s |\n|---|---:|---:|---:|\n",
    );
    for semantic in [false, true] {
        let cache = tempfile::tempdir().unwrap();
        let mut client = LspClient::start(cache.path());
        let options =
            json!({"corpus": ["refs.bib"], "semantic": {"model": model, "enabled": semantic}});
        client.initialize(dir.path(), options, false);
        client.open(&dir.path().join("note.md"), "markdown", "[@p1]");
        assert!(client.wait_until_indexed(Duration::from_secs(60)));
        let started = Instant::now();
        if semantic {
            assert!(embedding_ends(&mut client, 20), "the papers were embedded");
        }
        let took = started.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_secs(2));
        let pid = client.pid();
        rows += &format!(
            "| {} | {:.0} | {:.0} | {} |\n",
            if semantic { "meaning" } else { "words" },
            memory_mb(pid).0,
            support::status_mb(pid, "RssFile:"),
            if semantic {
                format!("{took:.0}")
            } else {
                "—".into()
            }
        );
        client.shutdown_and_exit();
    }
    rows
}

/// Requests as an editor sends them while the user writes, on CryptoBib
/// from a cold start (the server's background work — indexing, title
/// matching, related papers, diagnostics after each edit — running): each
/// of 400 rounds adds a `\cite{…}` line to a LaTeX note, asks for
/// completion in it, then hovers a different cited key. The hover and
/// completion latencies of all rounds.
///
/// With `model`, CryptoBib is embedded in the background meanwhile (the
/// server's default for a corpus of its size once a model is there); the
/// run then waits for the embedding to end and measures the memory.
fn interleaved(keys: &[String], model: Option<&Path>) -> Interleaved {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/cryptobib");
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut options = json!({"corpus": [
        shared.join("abbrev3.bib").display().to_string(),
        shared.join("crypto.bib").display().to_string(),
    ]});
    if let Some(model) = model {
        options["semantic"] = json!({"model": model});
    }
    let note = workspace.path().join("chapter.tex");
    let mut text: String = keys
        .iter()
        .take(50)
        .map(|k| format!("As shown by \\cite{{{k}}}.\n"))
        .collect();
    let mut client = LspClient::start(cache.path());
    client.initialize(workspace.path(), options, false);
    let uri = client.open(&note, "latex", &text);
    // Answering at all: the corpus is read; indexing goes on beside.
    let started = Instant::now();
    while client
        .request("textDocument/hover", LspClient::at(&uri, 0, 19))
        .get("contents")
        .is_none()
    {
        assert!(started.elapsed() < Duration::from_secs(120), "no answer");
    }
    let (mut hovers, mut completions) = (Vec::new(), Vec::new());
    for round in 0..400 {
        let key = &keys[(50 + round * 7) % keys.len()];
        let typed: String = key.chars().take(3).collect();
        text.push_str(&format!("Compare \\cite{{{typed}"));
        let line = text.lines().count() as u32 - 1;
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 10 + round}, "contentChanges": [{"text": text}]}),
        );
        let at = LspClient::at(&uri, line, 14 + typed.encode_utf16().count() as u32);
        let t = Instant::now();
        client.request("textDocument/completion", at);
        completions.push(ms(t.elapsed()));
        // The key accepted, the line finished.
        text.truncate(text.len() - typed.len());
        text.push_str(&format!("{key}}}.\n"));
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 10_000 + round}, "contentChanges": [{"text": text}]}),
        );
        let other = (round * 13) % 50;
        let t = Instant::now();
        client.request("textDocument/hover", LspClient::at(&uri, other as u32, 19));
        hovers.push(ms(t.elapsed()));
    }
    let rss_after_rounds_mb = support::memory_mb(client.pid()).0;
    let mut embedding = None;
    if model.is_some() {
        let ended_during_rounds = client
            .notifications
            .iter()
            .any(|m| support::is_embedding_progress(m, "end"));
        let rounds_over = Instant::now();
        assert!(
            ended_during_rounds || embedding_ends(&mut client, 60),
            "CryptoBib was embedded"
        );
        let after_rounds = rounds_over.elapsed().as_secs_f64();
        std::thread::sleep(Duration::from_secs(2));
        embedding = Some(EmbeddedAfter {
            ended_during_rounds,
            seconds_after_rounds: after_rounds,
            rss_mb: support::memory_mb(client.pid()).0,
            file_backed_mb: support::status_mb(client.pid(), "RssFile:"),
        });
    }
    client.shutdown_and_exit();
    Interleaved {
        hovers,
        completions,
        rss_after_rounds_mb,
        embedding,
    }
}

/// Waits for the background embedding's `$/progress` end, at most `waits`
/// times the client's timeout; false when it did not come.
fn embedding_ends(client: &mut LspClient, waits: usize) -> bool {
    (0..waits).any(|_| {
        client
            .wait_for(|m| support::is_embedding_progress(m, "end"))
            .is_some()
    })
}

/// The latencies of the interleaved workload, and with embeddings what the
/// server looked like once CryptoBib was embedded.
struct Interleaved {
    hovers: Vec<f64>,
    completions: Vec<f64>,
    rss_after_rounds_mb: f64,
    embedding: Option<EmbeddedAfter>,
}

struct EmbeddedAfter {
    /// True when the embedding ended before the 400 rounds did (then they
    /// did not all run beside it).
    ended_during_rounds: bool,
    seconds_after_rounds: f64,
    rss_mb: f64,
    file_backed_mb: f64,
}

fn interleaved_row(label: &str, run: &Interleaved) -> String {
    let (h, c) = (&run.hovers, &run.completions);
    format!(
        "| {label} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
        percentile(h, 50.0),
        percentile(h, 95.0),
        percentile(h, 99.0),
        percentile(h, 100.0),
        percentile(c, 50.0),
        percentile(c, 95.0),
        percentile(c, 99.0),
        percentile(c, 100.0)
    )
}

/// CryptoBib as the benchmark reads it: its abbreviations, then the 72k entries.
fn cryptobib() -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora/cryptobib");
    Corpus {
        name: "cryptobib",
        paths: vec![dir.join("abbrev3.bib"), dir.join("crypto.bib")],
    }
}

/// The interleaved workload on CryptoBib without embeddings and while its
/// 72k titles are embedded in the background, and the server's memory once
/// they are.
fn interleaved_while_embedding(model: &Path) -> String {
    let (_, keys, _) = sample(&cryptobib(), 1000);
    let mut out = String::from(
        "\nEditing, completing and hovering interleaved on CryptoBib (cold start, 400 rounds), \
         without a model and while its papers are embedded in the background:\n\n\
         | related papers by | hover p50 | p95 | p99 | max | completion p50 | p95 | p99 | max |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    eprintln!("interleaved on CryptoBib without a model …");
    let words = interleaved(&keys, None);
    out += &interleaved_row("words", &words);
    eprintln!("interleaved on CryptoBib while it is embedded …");
    let meaning = interleaved(&keys, Some(model));
    out += &interleaved_row("meaning (embedding)", &meaning);
    out += &format!(
        "\nThe server's RSS at the end of the rounds: {:.0} MB by words, {:.0} MB while embedding.\n",
        words.rss_after_rounds_mb, meaning.rss_after_rounds_mb
    );
    if let Some(after) = meaning.embedding {
        out += &format!(
            "CryptoBib embedded {:.0} s after the rounds ended{}; the server's RSS then: {:.0} MB \
             ({:.0} MB of it file-backed).\n",
            after.seconds_after_rounds,
            if after.ended_during_rounds {
                " (it ended during them: not all rounds ran beside it)"
            } else {
                ""
            },
            after.rss_mb,
            after.file_backed_mb
        );
    }
    out
}

fn interleaved_report(runs: usize) -> String {
    let (_, keys, _) = sample(&cryptobib(), 1000);
    let mut out = String::from(
        "## Editing, completing and hovering interleaved (CryptoBib, cold start, 400 rounds)\n\n\
         | run | hover p50 | p95 | p99 | max | completion p50 | p95 | p99 | max |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for run in 1..=runs {
        eprintln!("interleaved run {run} …");
        out += &interleaved_row(&run.to_string(), &interleaved(&keys, None));
    }
    out
}

/// Words a writer would complete by at a million papers: a topic word
/// from titles and an author's given name (a family name begins so many
/// generated keys that the keys alone fill the list).
const FIRST_SECOND_WORDS: [&str; 2] = ["diffusion", "carlos"];

/// From the server's start: when a completion of any kind first answers
/// (`[@` and the first letters of the word, answered from the keys), and
/// when completing each of [`FIRST_SECOND_WORDS`] first lists papers found
/// by that word rather than by a key starting with it. On a new cache
/// (cold: the corpus is parsed and indexed) or on the one a cold run left
/// (warm: the parsed corpus and the index are read back).
fn first_answers(corpus: &Corpus, cache: &Path) -> (f64, Vec<Option<f64>>, (f64, f64)) {
    let workspace = tempfile::tempdir().unwrap();
    let note = workspace.path().join("note.md");
    let options =
        json!({"corpus": corpus.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()});
    let started = Instant::now();
    let mut client = LspClient::start(cache);
    client.initialize(workspace.path(), options, false);
    let text = "Notes.\n[@";
    let uri = client.open(&note, "markdown", text);
    let mut version = 1;
    let mut complete = |client: &mut LspClient, typed: &str| -> Vec<String> {
        version += 1;
        client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [
            {"range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}, "text": format!("[@{typed}")}
        ]}));
        let result = client.request(
            "textDocument/completion",
            LspClient::at(&uri, 1, 2 + typed.encode_utf16().count() as u32),
        );
        result["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["label"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let patience = Duration::from_secs(300);
    let mut any = None;
    let mut by_word: Vec<Option<f64>> = vec![None; FIRST_SECOND_WORDS.len()];
    while any.is_none() || by_word.iter().any(Option::is_none) {
        if started.elapsed() > patience {
            assert!(any.is_some(), "no completion within {patience:?}");
            break;
        }
        if any.is_none() && !complete(&mut client, "a").is_empty() {
            any = Some(ms(started.elapsed()));
        }
        for (word, at) in FIRST_SECOND_WORDS.iter().zip(by_word.iter_mut()) {
            if at.is_some() {
                continue;
            }
            let found_by_word = complete(&mut client, word)
                .iter()
                .any(|label| !label.to_lowercase().starts_with(word));
            if found_by_word {
                *at = Some(ms(started.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_until_indexed(&mut client, &note);
    let memory = memory_mb(client.pid());
    client.shutdown_and_exit();
    (any.unwrap(), by_word, memory)
}

fn first_second_report(runs: usize) -> String {
    let corpus = generated_million(2, "generated-1m-seed2");
    let mut out = format!(
        "## First answers at a million papers ({}, seed 2)\n\n\
         From the server's start (`initialize` sent) to the first completion answered at all, and to the \
         first completion listing papers found by a title word (`{}`) and by an author's name (`{}`), in ms; \
         resident and peak memory once the index is ready.\n\n\
         | run | start | any completion | `{}` | `{}` | RSS / peak MB |\n|---|---:|---:|---:|---:|---:|\n",
        corpus.name,
        FIRST_SECOND_WORDS[0],
        FIRST_SECOND_WORDS[1],
        FIRST_SECOND_WORDS[0],
        FIRST_SECOND_WORDS[1]
    );
    for run in 1..=runs {
        let cache = tempfile::tempdir().unwrap();
        for start in ["cold", "warm"] {
            eprintln!("first answers, run {run}, {start} …");
            let (any, by_word, (rss, peak)) = first_answers(&corpus, cache.path());
            let shown: Vec<String> = by_word
                .iter()
                .map(|at| at.map_or("none in 300 s".into(), |ms| format!("{ms:.0}")))
                .collect();
            out += &format!(
                "| {run} | {start} | {any:.0} | {} | {} | {rss:.0} / {peak:.0} |\n",
                shown[0], shown[1]
            );
        }
    }
    out
}

/// Papers appended one at a time to the 74,728-paper arXiv dump as plain
/// JSON Lines (a harvester's output growing), after a cold start (the
/// corpus parsed) and a warm one (read back from the parsed-corpus cache):
/// how long after each write completing a word of the new paper's title
/// lists it.
fn appends_report(runs: usize) -> String {
    const APPENDS: usize = 8;
    let gz = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora/arxiv/arxiv-2025-cs.jsonl.gz");
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&gz).expect("the arXiv corpus")),
        &mut text,
    )
    .expect("gunzip the arXiv corpus");
    let mut out = format!(
        "## Lines appended to a JSON Lines dump (arXiv 2025 cs, {} papers, {:.0} MB)\n\n\
         From the write of one more line (and `didChangeWatchedFiles`) to the first completion of a word of its \
         title that lists it, in ms, {APPENDS} appends per start; the server's RSS and its own (anonymous) \
         memory once indexed and 3 s after the appends.\n\n\
         | run | start | p50 | max | all | RSS MB | own MB |\n|---|---|---:|---:|---|---:|---:|\n",
        text.iter().filter(|&&b| b == b'\n').count(),
        text.len() as f64 / 1e6
    );
    for run in 1..=runs {
        let workspace = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let dump = workspace.path().join("arxiv.jsonl");
        std::fs::write(&dump, &text).unwrap();
        for start in ["cold", "warm"] {
            eprintln!("appends, run {run}, {start} …");
            let (times, (before, own_before, after, own_after)) =
                appended_lines_seen(workspace.path(), cache.path(), &dump, APPENDS, run);
            let all: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
            out += &format!(
                "| {run} | {start} | {:.0} | {:.0} | {} | {before:.0} → {after:.0} | {own_before:.0} → {own_after:.0} |\n",
                percentile(&times, 50.0),
                percentile(&times, 100.0),
                all.join(", ")
            );
        }
    }
    out
}

/// Starts a server on `dump`, waits for its index, then appends `n` papers
/// by new authors, each after the last was seen; the times each took to
/// be listed by a completion of its title's word, and the server's RSS and
/// own (anonymous) memory before and after the appends.
fn appended_lines_seen(
    root: &Path,
    cache: &Path,
    dump: &Path,
    n: usize,
    run: usize,
) -> (Vec<f64>, (f64, f64, f64, f64)) {
    let note = root.join("note.md");
    let options = json!({"corpus": [dump.display().to_string()], "semantic": {"enabled": false}});
    let mut client = LspClient::start(cache);
    client.initialize(root, options, false);
    let uri = client.open(&note, "markdown", "Notes.\n[@");
    wait_until_indexed(&mut client, &note);
    let rss_before = memory_mb(client.pid()).0;
    let anon_before = support::status_mb(client.pid(), "RssAnon:");
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut version = 1;
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let word = format!("quokka{run}x{started}x{i}");
        let line = json!({
            "id": format!("2599.{:05}", i + 100 * run),
            "title": format!("Appended Results on {word} Populations"),
            "authors": format!("Wyn Appendix{run}x{started}x{i}"),
            "abstract": "A paper appended to the dump while the server runs.",
            "categories": "cs.LG",
            "update_date": "2026-12-05",
        });
        let mut file = std::fs::OpenOptions::new().append(true).open(dump).unwrap();
        std::io::Write::write_all(&mut file, format!("{line}\n").as_bytes()).unwrap();
        drop(file);
        let written = Instant::now();
        client.notify(
            "workspace/didChangeWatchedFiles",
            json!({"changes": [{"uri": support::file_uri(dump), "type": 2}]}),
        );
        loop {
            version += 1;
            client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [
                {"range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}, "text": format!("[@{word}")}
            ]}));
            let result = client.request(
                "textDocument/completion",
                LspClient::at(&uri, 1, 2 + word.len() as u32),
            );
            let listed = result["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|item| item.to_string().contains(&word)));
            if listed {
                times.push(ms(written.elapsed()));
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(60),
                "append {i} never listed"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // The title matcher is built again beside each reload: read once the
    // last has settled.
    std::thread::sleep(Duration::from_secs(3));
    let rss_after = memory_mb(client.pid()).0;
    let anon_after = support::status_mb(client.pid(), "RssAnon:");
    client.shutdown_and_exit();
    (times, (rss_before, anon_before, rss_after, anon_after))
}
