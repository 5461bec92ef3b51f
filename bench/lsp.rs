//! The latency and memory benchmark: starts the release `paper-ls` binary and
//! speaks LSP to it like an editor, on the bundled corpus and on the real
//! corpora in `../shared/corpora`, and writes `bench/RESULTS.md` and
//! `bench/results.json`.
//!
//! `cargo bench -p paper-ls --bench lsp` runs everything; `-- --smoke` runs a
//! few requests on the bundled corpus only (CI keeps it working);
//! `-- --requests N` and `-- --only NAME` narrow a run (and then print
//! their figures without replacing the committed results).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::LspClient;

struct Corpus {
    name: &'static str,
    paths: Vec<PathBuf>,
}

/// A one-character edit of a large `.bib` while the user keeps typing.
struct ReloadFigures {
    /// From the file's change on disk to the first answer that shows it.
    swap_ms: f64,
    /// Completion latencies while the re-read was under way.
    completion_during: Vec<f64>,
}

struct Figures {
    name: String,
    papers: usize,
    cold_open_ms: f64,
    warm_open_ms: f64,
    completion: Vec<f64>,
    hover: Vec<f64>,
    definition: Vec<f64>,
    rss_mb: f64,
    peak_rss_mb: f64,
    reload: Option<ReloadFigures>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let requests = flag(&args, "--requests")
        .map(|n| n.parse().expect("a number"))
        .unwrap_or(if smoke { 20 } else { 1000 });
    let only = flag(&args, "--only");
    let mut results = Vec::new();
    for corpus in corpora(smoke) {
        if only.as_deref().is_some_and(|o| o != corpus.name) {
            continue;
        }
        eprintln!("benchmarking {} …", corpus.name);
        results.push(run(&corpus, requests));
    }
    let report = markdown(&results, requests);
    print!("{report}");
    // Only a full run replaces the committed results.
    if !smoke && only.is_none() && flag(&args, "--requests").is_none() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench");
        std::fs::write(dir.join("RESULTS.md"), &report).expect("write RESULTS.md");
        std::fs::write(
            dir.join("results.json"),
            serde_json::to_string_pretty(&json_of(&results)).unwrap(),
        )
        .expect("write results.json");
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

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
    out
}

/// Keys and title words of the corpus, read the way the server reads it.
fn sample(corpus: &Corpus, n: usize) -> (usize, Vec<String>, Vec<String>) {
    let loaded = if corpus.paths.is_empty() {
        paper_ls::corpus::bundled::load_bundled()
    } else {
        paper_ls::corpus::Corpus::load(&corpus.paths)
    };
    let papers = &loaded.papers;
    let step = (papers.len() / n.max(1)).max(1);
    let picked: Vec<&paper_ls::corpus::Paper> = papers.iter().step_by(step).take(n).collect();
    let keys = picked.iter().map(|p| p.key.clone()).collect();
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

fn run(corpus: &Corpus, requests: usize) -> Figures {
    let (papers, keys, words) = sample(corpus, requests);
    let workspace = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let options =
        json!({"corpus": corpus.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()});
    let cited: Vec<&String> = keys.iter().take(200).collect();
    let note: String = cited
        .iter()
        .map(|k| format!("See [@{k}].\n"))
        .collect::<String>()
        + "\n[@";
    let note_path = workspace.path().join("note.md");

    // Cold: nothing cached. The server parses the corpus and indexes it beside.
    let (mut cold, cold_open_ms) =
        open_and_first_answer(workspace.path(), cache.path(), &options, &note_path, &note);
    wait_until_indexed(&mut cold, &note_path);
    cold.shutdown_and_exit();
    drop(cold);

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
    let (rss_mb, peak_rss_mb) = memory(client.pid());
    client.shutdown_and_exit();
    drop(client);
    let reload = (corpus.paths.len() == 2 && corpus.paths[1].ends_with("crypto.bib"))
        .then(|| reload_while_typing(corpus, &keys));
    Figures {
        name: corpus.name.into(),
        papers,
        cold_open_ms,
        warm_open_ms,
        completion,
        hover,
        definition,
        rss_mb,
        peak_rss_mb,
        reload,
    }
}

/// Copies the corpus into a workspace, edits one character of one entry's
/// title, and keeps completing until hovering that entry shows the edit.
fn reload_while_typing(corpus: &Corpus, keys: &[String]) -> ReloadFigures {
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
    let note = format!("[@{target}]\n[@");
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
    let title = entry + bib[entry..].find("title").unwrap();
    let equals = title + bib[title..].find('=').unwrap() + 1;
    let brace = equals + bib[equals..].find(['{', '"']).unwrap() + 1;
    let edited = format!("{}Q{}", &bib[..brace], &bib[brace + 1..]);
    std::fs::write(&copies[1], edited).unwrap();
    let changed = Instant::now();
    let uri = support::file_uri(&note_path);
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": support::file_uri(&copies[1]), "type": 2}]}),
    );
    let mut completion_during = Vec::new();
    let mut i = 0;
    let swap_ms = loop {
        let typed: String = keys[i % keys.len()].chars().take(2 + i % 4).collect();
        i += 1;
        client.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 10 + i}, "contentChanges": [{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 2, "character": 0}}, "text": format!("[@{typed}")}]}));
        let started = Instant::now();
        client.request(
            "textDocument/completion",
            LspClient::at(&uri, 1, 2 + typed.encode_utf16().count() as u32),
        );
        completion_during.push(ms(started.elapsed()));
        let hover = client.request("textDocument/hover", LspClient::at(&uri, 0, 4));
        if hover["contents"]["value"]
            .as_str()
            .is_some_and(|c| c.starts_with("**Q"))
        {
            break ms(changed.elapsed());
        }
        assert!(
            changed.elapsed() < Duration::from_secs(120),
            "edit never seen"
        );
    };
    client.shutdown_and_exit();
    ReloadFigures {
        swap_ms,
        completion_during,
    }
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

/// Waits until full-text search answers: a word that is only in titles finds
/// nothing through the key-prefix fallback used while the index builds.
fn wait_until_indexed(client: &mut LspClient, note: &Path) {
    let uri = support::file_uri(note);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(300) {
        let status = client.request("paper-ls/status", Value::Null);
        if status["indexReady"] == json!(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("index of {uri} not ready within 300 s");
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Resident and peak resident memory of a process, in MB (Linux).
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank]
}

fn markdown(results: &[Figures], requests: usize) -> String {
    let mut out = String::from("# paper-ls benchmark results\n\n");
    out.push_str(&format!(
        "Machine: {} cores, {}; release build; {requests} requests of each kind per corpus, sequential, over LSP stdio.\n\
         Times in milliseconds, measured by the client (request sent → response read). Memory from /proc (VmRSS after the run, VmHWM peak).\n\
         Regenerate: `cargo bench -p paper-ls --bench lsp`.\n\n",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        cpu_model()
    ));
    out.push_str("| corpus | papers | open→first hover cold | warm | completion p50 / p95 / p99 | hover p50 / p95 / p99 | definition p50 / p95 / p99 | RSS / peak MB |\n|---|---|---|---|---|---|---|---|\n");
    for f in results {
        let p = |s: &[f64]| {
            format!(
                "{:.2} / {:.2} / {:.2}",
                percentile(s, 50.0),
                percentile(s, 95.0),
                percentile(s, 99.0)
            )
        };
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {} | {} | {} | {:.0} / {:.0} |\n",
            f.name,
            f.papers,
            f.cold_open_ms,
            f.warm_open_ms,
            p(&f.completion),
            p(&f.hover),
            p(&f.definition),
            f.rss_mb,
            f.peak_rss_mb
        ));
    }
    for f in results {
        if let Some(r) = &f.reload {
            out.push_str(&format!(
                "\nOne-character edit of the {} `.bib` on disk while typing: the edit is answered {:.0} ms after the write; \
                 {} completions during the re-read: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms.\n",
                f.name,
                r.swap_ms,
                r.completion_during.len(),
                percentile(&r.completion_during, 50.0),
                percentile(&r.completion_during, 99.0),
                percentile(&r.completion_during, 100.0)
            ));
        }
    }
    out
}

fn json_of(results: &[Figures]) -> Value {
    Value::Array(
        results
            .iter()
            .map(|f| {
                let pct = |s: &[f64]| json!({"p50": percentile(s, 50.0), "p95": percentile(s, 95.0), "p99": percentile(s, 99.0), "n": s.len()});
                json!({"corpus": f.name, "papers": f.papers, "cold_open_ms": f.cold_open_ms, "warm_open_ms": f.warm_open_ms,
                       "completion_ms": pct(&f.completion), "hover_ms": pct(&f.hover), "definition_ms": pct(&f.definition),
                       "rss_mb": f.rss_mb, "peak_rss_mb": f.peak_rss_mb, "machine": cpu_model(),
                       "reload": f.reload.as_ref().map(|r| json!({"swap_ms": r.swap_ms, "completion_during_ms": pct(&r.completion_during),
                                                                  "completion_during_max_ms": percentile(&r.completion_during, 100.0)}))})
            })
            .collect(),
    )
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
