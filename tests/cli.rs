//! End-to-end tests of the shell commands: the real `paper-ls` binary on the
//! bundled corpus and on small fixtures written to disk.

mod support;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn paper_ls(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_paper-ls"))
        .args(args)
        .env("PAPER_LS_CACHE_DIR", cache)
        .current_dir(cache)
        .output()
        .expect("run paper-ls")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "paper-ls failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&stdout(out)).expect("valid JSON")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

#[test]
fn search_finds_the_three_grokking_papers_first_in_the_bundled_corpus() {
    let cache = tempfile::tempdir().unwrap();
    let hits = json(&paper_ls(cache.path(), &["search", "--json", "grokking"]));
    let titles: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap())
        .collect();
    assert!(titles.len() >= 3, "{titles:?}");
    for title in &titles[..3] {
        assert!(
            title.to_lowercase().contains("grok"),
            "top 3 should be the grokking papers: {titles:?}"
        );
    }
    let text = stdout(&paper_ls(cache.path(), &["search", "grokking"]));
    assert!(text.lines().next().unwrap().starts_with(" 1. "), "{text}");
}

#[test]
fn show_prints_the_card_with_its_source_line() {
    let cache = tempfile::tempdir().unwrap();
    let hits = json(&paper_ls(
        cache.path(),
        &["search", "--json", "Grokfast amplifying slow gradients"],
    ));
    let key = hits[0]["key"].as_str().unwrap().to_string();
    let card = json(&paper_ls(cache.path(), &["show", "--json", &key]));
    assert_eq!(
        card["title"],
        "Grokfast: Accelerated Grokking by Amplifying Slow Gradients"
    );
    assert!(card["abstract"]
        .as_str()
        .unwrap()
        .starts_with("One puzzling artifact"));
    let source = Path::new(card["source"]["path"].as_str().unwrap());
    let line = card["source"]["line"].as_u64().unwrap() as usize;
    let bib = std::fs::read_to_string(source).expect("bundled corpus written to a real file");
    assert!(
        bib.lines().nth(line - 1).unwrap().contains(&key),
        "entry line holds the key"
    );
    let text = stdout(&paper_ls(cache.path(), &["show", &key]));
    assert!(text.starts_with("Grokfast: Accelerated Grokking"), "{text}");
    assert!(
        text.contains(&format!("{}:{line}", source.display())),
        "{text}"
    );
    let missing = paper_ls(cache.path(), &["show", "no-such-key"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no paper has the key `no-such-key`"));
}

#[test]
fn search_across_a_bib_and_a_gzipped_arxiv_dump() {
    let cache = tempfile::tempdir().unwrap();
    let dump = cache.path().join("arxiv.jsonl.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(gz, r#"{{"id": "2401.00001", "title": "Routing in Sparse Models", "authors": "Ann Lee and Bo Chan", "abstract": "A study of token routing.", "categories": "cs.LG", "update_date": "2024-01-02"}}"#).unwrap();
    writeln!(gz, r#"{{"id": "2401.00002", "title": "Gating Functions for Mixture of Experts", "authors": "Cy Dee", "abstract": "We compare gating functions for mixture-of-experts models.", "categories": "cs.LG", "update_date": "2024-01-03"}}"#).unwrap();
    std::fs::write(&dump, gz.finish().unwrap()).unwrap();
    let refs = fixture("refs.bib");
    let args = [
        "search",
        "--json",
        "--corpus",
        refs.to_str().unwrap(),
        "--corpus",
        dump.to_str().unwrap(),
        "mixture of experts gating",
    ];
    let hits = json(&paper_ls(cache.path(), &args));
    let keys: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys.len(),
        2,
        "only papers with all or some words: {keys:?}"
    );
    assert!(
        keys.contains(&"shazeer2017outrageously") && keys.contains(&"dee2024gating"),
        "{keys:?}"
    );
}

#[test]
fn stats_reports_papers_abstracts_and_problems_with_lines() {
    let cache = tempfile::tempdir().unwrap();
    let broken = cache.path().join("broken.bib");
    std::fs::write(&broken, "@article{good1, title={One}, abstract={A.}}\n@article{bad, title={Two\n@article{good2, title={Three}}\n").unwrap();
    let stats = json(&paper_ls(
        cache.path(),
        &["stats", "--json", "--corpus", broken.to_str().unwrap()],
    ));
    // The broken entry keeps what was read before the error, so `bad` still resolves.
    assert_eq!(stats["papers"], 3, "{stats}");
    assert_eq!(stats["with_abstract"], 1);
    let problems = stats["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    assert_eq!(problems[0]["line"], 2, "{problems:?}");
    assert!(problems[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("broken.bib"));
    let text = stdout(&paper_ls(
        cache.path(),
        &["stats", "--corpus", broken.to_str().unwrap()],
    ));
    assert!(text.contains("broken.bib:2:"), "{text}");
    let bundled = json(&paper_ls(cache.path(), &["stats", "--json"]));
    assert_eq!(bundled["papers"], 114);
    assert_eq!(bundled["with_abstract"], 114);
}

#[test]
fn import_turns_a_digest_into_bibtex_that_loads_back() {
    let cache = tempfile::tempdir().unwrap();
    let digest = cache.path().join("digest.txt");
    std::fs::write(&digest, "Get trending papers in your email inbox!\nSubscribeA Study of Things: 100% & More\nWe study things_with $signs and {braces}.\nSecond Paper\nIts abstract.\n").unwrap();
    let bib = stdout(&paper_ls(
        cache.path(),
        &["import", digest.to_str().unwrap()],
    ));
    let out = cache.path().join("out.bib");
    std::fs::write(&out, &bib).unwrap();
    let back = json(&paper_ls(
        cache.path(),
        &[
            "search",
            "--json",
            "--corpus",
            out.to_str().unwrap(),
            "things",
        ],
    ));
    assert_eq!(back[0]["title"], "A Study of Things: 100% & More");
    assert_eq!(
        back[0]["abstract"],
        "We study things_with $signs and {braces}."
    );
}

#[test]
fn the_bundled_corpus_is_what_the_importer_makes_of_the_seed() {
    let seed = repo_file("../shared/seed/000_531ec74fc333586a.txt");
    if !seed.exists() {
        eprintln!("skipping: {} is absent", seed.display());
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let fresh = stdout(&paper_ls(cache.path(), &["import", seed.to_str().unwrap()]));
    let committed = std::fs::read_to_string(repo_file("corpus/papers.bib")).unwrap();
    assert!(
        fresh == committed,
        "corpus/papers.bib is stale: regenerate it as corpus/README.md says"
    );
}

#[test]
fn pandoc_reads_the_bundled_corpus_with_the_same_titles() {
    let Ok(out) = Command::new("pandoc")
        .args(["-f", "bibtex", "-t", "csljson"])
        .arg(repo_file("corpus/papers.bib"))
        .output()
    else {
        eprintln!("skipping: pandoc is not installed (apt-get install pandoc)");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items.len(), 114);
    let corpus = paper_ls::corpus::Corpus::load(&[repo_file("corpus/papers.bib")]);
    for item in &items {
        let key = item["id"].as_str().unwrap();
        let paper = corpus
            .get(key)
            .unwrap_or_else(|| panic!("pandoc saw a key we do not: {key}"));
        // pandoc applies smart typography (' → ’); the words must be the same.
        let typographic = |s: &str| s.replace(['’', '‘'], "'").replace(['“', '”'], "\"");
        assert_eq!(
            typographic(item["title"].as_str().unwrap()),
            typographic(paper.title),
            "title of {key}"
        );
    }
}

#[test]
fn index_is_persisted_reopened_and_rebuilt_when_corrupt() {
    let cache = tempfile::tempdir().unwrap();
    let big = cache.path().join("big.jsonl");
    let mut lines = String::new();
    for i in 0..6000 {
        lines.push_str(&format!(
            "{{\"id\": \"2401.{i:05}\", \"title\": \"Paper number {i} on topic{}\", \"authors\": \"Author{} Person\", \"abstract\": \"Words about topic{} and more.\", \"categories\": \"cs.LG\"}}\n",
            i % 97, i % 50, i % 13
        ));
    }
    std::fs::write(&big, lines).unwrap();
    let corpus_arg = big.to_str().unwrap();
    let first = paper_ls(cache.path(), &["index", "--corpus", corpus_arg]);
    let log = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success() && log.contains("Built"), "{log}");
    let second = paper_ls(cache.path(), &["index", "--corpus", corpus_arg]);
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("Reopened"),
        "second run reuses the index"
    );
    let index_root = cache.path().join("index");
    let dir = std::fs::read_dir(&index_root)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    for file in std::fs::read_dir(&dir).unwrap().flatten() {
        if file
            .path()
            .extension()
            .is_some_and(|e| e == "idx" || e == "term")
        {
            std::fs::write(file.path(), b"garbage").unwrap();
        }
    }
    std::fs::write(dir.join("meta.json"), b"{not json").unwrap();
    // Half-built indexes: one left by a process that is gone (removed when
    // an index is next built), one by a process still running (this test).
    let dead_pid = (4_000_000..4_100_000)
        .find(|pid| !Path::new(&format!("/proc/{pid}")).exists())
        .unwrap();
    let abandoned = index_root.join(format!("v1-0123.building-{dead_pid}"));
    let in_progress = index_root.join(format!("v1-0123.building-{}", std::process::id()));
    for half_built in [&abandoned, &in_progress] {
        std::fs::create_dir_all(half_built).unwrap();
        std::fs::write(half_built.join("meta.json"), b"{}").unwrap();
    }
    let third = paper_ls(cache.path(), &["index", "--corpus", corpus_arg]);
    assert!(
        String::from_utf8_lossy(&third.stderr).contains("Built"),
        "corrupt index is rebuilt: {}",
        String::from_utf8_lossy(&third.stderr)
    );
    assert!(!abandoned.exists(), "an abandoned build is removed");
    assert!(
        in_progress.exists(),
        "a build still in progress is left alone"
    );
    let hits = json(&paper_ls(
        cache.path(),
        &[
            "search",
            "--json",
            "--corpus",
            corpus_arg,
            "paper number 4242",
        ],
    ));
    assert_eq!(hits[0]["ids"]["arxiv"], "2401.04242");
}

/// The version says which commit was built, as the language server's
/// `serverInfo` does: what a user pastes into a bug report.
#[test]
fn the_version_names_the_commit_built() {
    let cache = tempfile::tempdir().unwrap();
    let said = stdout(&paper_ls(cache.path(), &["--version"]));
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let version = env!("CARGO_PKG_VERSION");
    match commit {
        Some(commit) => assert_eq!(said.trim(), format!("paper-ls {version} ({commit})")),
        None => assert!(said.starts_with(&format!("paper-ls {version} (")), "{said}"),
    }
    let mut client = support::LspClient::start(cache.path());
    let init = client.initialize(cache.path(), Value::Null, false);
    assert_eq!(
        format!(
            "paper-ls {}",
            init["serverInfo"]["version"].as_str().unwrap_or("?")
        ),
        said.trim()
    );
    client.shutdown_and_exit();
}

#[test]
fn every_command_has_help() {
    let cache = tempfile::tempdir().unwrap();
    for cmd in ["search", "show", "stats", "import", "index", "serve"] {
        let text = stdout(&paper_ls(cache.path(), &[cmd, "--help"]));
        assert!(text.contains("Usage: paper-ls"), "{cmd}: {text}");
    }
}

#[test]
fn related_lists_the_closest_papers_from_the_shell() {
    let cache = tempfile::tempdir().unwrap();
    let text = stdout(&paper_ls(
        cache.path(),
        &["related", "grokfast-accelerated-grokking"],
    ));
    let first_two: Vec<&str> = text.lines().take(2).collect();
    assert!(first_two.iter().all(|l| l.contains("Grokking")), "{text}");
    assert!(
        !text.contains("grokfast-accelerated-grokking"),
        "never the paper itself: {text}"
    );
    let json = json(&paper_ls(
        cache.path(),
        &["related", "--json", "-n", "3", "grokking-edge-numerical"],
    ));
    assert_eq!(json.as_array().unwrap().len(), 3);
}

#[test]
fn check_reports_unknown_citations_with_file_line_col_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("refs.bib"), dir.path().join("refs.bib")).unwrap();
    std::fs::write(
        dir.path().join("paper-ls.toml"),
        "corpus = [\"refs.bib\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("thesis")).unwrap();
    std::fs::write(
        dir.path().join("thesis/ch1.md"),
        "Fine [@vaswani2017attention].\nφ😀 [@vaswani2071attention]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("thesis/ch2.tex"),
        "\\cite{shazeer2017outrageously,nope}\n",
    )
    .unwrap();
    let out = paper_ls(dir.path(), &["check", "thesis"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("thesis/ch1.md:2:6: "), "{text}");
    assert!(
        lines[0].contains("vaswani2017attention"),
        "closest key named: {text}"
    );
    assert!(lines[1].starts_with("thesis/ch2.tex:1:31: "), "{text}");
    std::fs::write(
        dir.path().join("thesis/ch1.md"),
        "Fine [@vaswani2017attention].\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("thesis/ch2.tex"),
        "\\cite{shazeer2017outrageously}\n",
    )
    .unwrap();
    let clean = paper_ls(dir.path(), &["check", "thesis"]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
}

#[test]
fn generate_recombines_real_papers_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.jsonl");
    std::fs::write(&source, concat!(
        r#"{"id": "2401.00001", "title": "Sparse Routing for Large Language Models", "authors": "Ann Lee, Bo Chan", "abstract": "We route tokens sparsely. This saves compute at scale. Results hold on many tasks.", "categories": "cs.CL"}"#, "\n",
        r#"{"id": "2401.00002", "title": "Diffusion Models for Protein Design", "authors": "Cy Dee", "abstract": "Proteins are designed with diffusion. The samples fold well in silico. We release code and weights.", "categories": "q-bio.BM"}"#, "\n"
    )).unwrap();
    let run = |seed: &str, name: &str| {
        let jsonl = dir.path().join(format!("{name}.jsonl"));
        let bib = dir.path().join(format!("{name}.bib"));
        let args = [
            "generate",
            "--from",
            source.to_str().unwrap(),
            "--papers",
            "200",
            "--seed",
            seed,
            "--jsonl",
            jsonl.to_str().unwrap(),
            "--bibtex",
            bib.to_str().unwrap(),
        ];
        stdout(&paper_ls(dir.path(), &args));
        (
            std::fs::read_to_string(jsonl).unwrap(),
            std::fs::read_to_string(bib).unwrap(),
        )
    };
    let (a, a_bib) = run("7", "a");
    let (b, _) = run("7", "b");
    let (c, _) = run("8", "c");
    assert_eq!(a, b, "same seed, same corpus");
    assert_ne!(a, c);
    let stats = json(&paper_ls(
        dir.path(),
        &[
            "stats",
            "--json",
            "--corpus",
            dir.path().join("a.jsonl").to_str().unwrap(),
            "--corpus",
            dir.path().join("a.bib").to_str().unwrap(),
        ],
    ));
    assert_eq!(stats["papers"], 400, "{}", &a_bib[..300]);
    assert_eq!(stats["with_abstract"], 400);
    assert!(stats["problems"].as_array().unwrap().is_empty(), "{stats}");
}

#[test]
fn a_parsed_corpus_is_read_back_from_its_cache_file_until_a_source_changes() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let bib = work.path().join("big.bib");
    let entry = |i: usize| {
        format!(
            "@article{{key{i}, title = {{Paper {i} on topic{}}}, author = {{Person, A{}}}, year = {}}}\n",
            i % 97,
            i % 50,
            2000 + i % 20
        )
    };
    std::fs::write(&bib, (0..6000).map(entry).collect::<String>()).unwrap();
    let bib_arg = bib.to_str().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_paper-ls"))
            .args(args)
            .env("PAPER_LS_CACHE_DIR", cache.path())
            .env("PAPER_LS_LOG", "info")
            .output()
            .expect("run paper-ls")
    };
    let show = |key: &str| json(&run(&["show", "--json", "--corpus", bib_arg, key]));
    let parsed = run(&["show", "--json", "--corpus", bib_arg, "key4242"]);
    assert!(!String::from_utf8_lossy(&parsed.stderr).contains("parsed-corpus cache"));
    let cache_files: Vec<PathBuf> = std::fs::read_dir(cache.path().join("corpus"))
        .expect("a parsed-corpus cache folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(cache_files.len(), 1, "{cache_files:?}");

    let again = run(&["show", "--json", "--corpus", bib_arg, "key4242"]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("from the parsed-corpus cache"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(json(&again), json(&parsed), "the same paper either way");
    assert_eq!(json(&again)["origin"], json(&parsed)["origin"]);

    // A damaged cache file is not trusted: the corpus is parsed again.
    std::fs::write(&cache_files[0], b"PLSNAP\0\0 garbage").unwrap();
    let repaired = run(&["show", "--json", "--corpus", bib_arg, "key4242"]);
    assert!(!String::from_utf8_lossy(&repaired.stderr).contains("from the parsed-corpus cache"));
    assert_eq!(json(&repaired), json(&parsed));

    // A changed source misses the cache file and is read as it is now.
    let mut text = std::fs::read_to_string(&bib).unwrap();
    text = text.replace("Paper 4242 on", "Changed paper 4242 on");
    std::fs::write(&bib, text).unwrap();
    let changed = show("key4242");
    assert!(
        changed.to_string().contains("Changed paper 4242"),
        "{changed}"
    );
}

/// `paper-ls embed` computes a corpus's embeddings once; `related` and
/// `search --semantic` rank by meaning with them; a second run reuses them.
#[test]
fn embed_then_related_and_search_by_meaning_from_the_shell() {
    let Some(model) = support::test_model() else {
        return;
    };
    let model = model.to_str().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let bib = cache.path().join("pets.bib");
    std::fs::write(
        &bib,
        "@article{dogs, title = {Dogs make their owners happier},\n  abstract = {Owning a pet dog raises happiness and lowers stress in its owner.}}\n\
         @article{canine, title = {Canine companionship and human well-being},\n  abstract = {Living with a canine companion improves mood and reduces anxiety in adults.}}\n\
         @article{solar, title = {Solar panel efficiency under dust},\n  abstract = {Dust on photovoltaic modules cuts their output.}}\n\
         @article{cars, title = {Happier owners of electric cars},\n  abstract = {Owners of electric cars report less stress when charging at home.}}\n",
    )
    .unwrap();
    let bib = bib.to_str().unwrap();
    // Before: by shared words, and the command says how to change that.
    let before = paper_ls(
        cache.path(),
        &["related", "-c", bib, "--model", model, "dogs"],
    );
    assert!(!stdout(&before).contains("canine"), "{}", stdout(&before));
    assert!(String::from_utf8_lossy(&before.stderr).contains("paper-ls embed"));
    let semantic_before = paper_ls(
        cache.path(),
        &["search", "-c", bib, "--semantic", "--model", model, "pets"],
    );
    assert!(!semantic_before.status.success());

    let first = paper_ls(cache.path(), &["embed", "-c", bib, "--model", model]);
    let said = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{said}");
    assert!(said.contains("0 embedded before, 4 embedded now"), "{said}");
    let again = paper_ls(cache.path(), &["embed", "-c", bib, "--model", model]);
    let said = String::from_utf8_lossy(&again.stderr).to_string();
    assert!(said.contains("4 embedded before, 0 embedded now"), "{said}");

    let related = stdout(&paper_ls(
        cache.path(),
        &["related", "-c", bib, "--model", model, "dogs"],
    ));
    assert!(related.contains("canine"), "{related}");
    let found = stdout(&paper_ls(
        cache.path(),
        &[
            "search",
            "-c",
            bib,
            "--semantic",
            "--model",
            model,
            "pets",
            "that",
            "make",
            "people",
            "feel",
            "better",
        ],
    ));
    assert!(found.contains("canine"), "{found}");
    let words_only = paper_ls(
        cache.path(),
        &[
            "search", "-c", bib, "pets", "that", "make", "people", "feel", "better",
        ],
    );
    assert!(!String::from_utf8_lossy(&words_only.stdout).contains("canine"));
}

/// `eval-related --sample 0 --meaning-only`: every paper with a category is
/// a query, ranked by the embeddings alone (no tf-idf, no fusion), and
/// `--meaning-only` without a model is refused.
#[test]
fn eval_related_asks_every_paper_by_meaning_alone() {
    let Some(model) = support::test_model() else {
        return;
    };
    let model = model.to_str().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dump = cache.path().join("dump.jsonl");
    // Two topics of six papers each: a paper's top 5 are all of its own
    // topic if the embeddings rank by meaning (a random ranking: ~0.45).
    let papers = [
        (
            "Dogs make their owners happier",
            "Owning a pet dog raises happiness and lowers stress.",
            "q-bio.NC",
        ),
        (
            "Canine companionship and well-being",
            "Living with a canine companion improves mood.",
            "q-bio.NC",
        ),
        (
            "Cats and the mood of their owners",
            "Cat owners report calmer evenings and better sleep.",
            "q-bio.NC",
        ),
        (
            "Pet ownership in old age",
            "Elderly people who keep pets feel less lonely.",
            "q-bio.NC",
        ),
        (
            "Therapy dogs in hospitals",
            "Visits from therapy dogs ease the anxiety of patients.",
            "q-bio.NC",
        ),
        (
            "Walking the dog and heart health",
            "Dog walkers exercise more and have healthier hearts.",
            "q-bio.NC",
        ),
        (
            "Solar panel efficiency under dust",
            "Dust on photovoltaic modules cuts their output.",
            "physics.app-ph",
        ),
        (
            "Cleaning photovoltaic arrays",
            "Washing solar modules restores most of their lost power.",
            "physics.app-ph",
        ),
        (
            "Wind and dust on solar farms",
            "Wind-blown sand soils solar panels in deserts.",
            "physics.app-ph",
        ),
        (
            "Temperature losses of silicon solar cells",
            "Hot photovoltaic cells convert less sunlight to power.",
            "physics.app-ph",
        ),
        (
            "Tracking the sun with solar modules",
            "Single-axis trackers raise a solar plant's yield.",
            "physics.app-ph",
        ),
        (
            "Perovskite solar cells outdoors",
            "Perovskite photovoltaic cells degrade under sun and humidity.",
            "physics.app-ph",
        ),
    ];
    let lines: String = papers
        .iter()
        .enumerate()
        .map(|(i, (title, abstract_text, category))| {
            format!(
                "{}\n",
                serde_json::json!({"id": format!("2501.0000{i}"), "title": title,
                    "abstract": abstract_text, "categories": category, "authors": "A. Author"})
            )
        })
        .collect();
    std::fs::write(&dump, lines).unwrap();
    let dump = dump.to_str().unwrap();
    let refused = paper_ls(
        cache.path(),
        &["eval-related", "-c", dump, "--meaning-only"],
    );
    assert!(!refused.status.success());
    stdout(&paper_ls(
        cache.path(),
        &["embed", "-c", dump, "--model", model],
    ));
    let figures = cache.path().join("figures.json");
    let printed = stdout(&paper_ls(
        cache.path(),
        &[
            "eval-related",
            "-c",
            dump,
            "--model",
            model,
            "--sample",
            "0",
            "--meaning-only",
            "--out",
            figures.to_str().unwrap(),
        ],
    ));
    assert!(printed.contains("12 papers, 12 sampled"), "{printed}");
    let figures: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&figures).unwrap()).unwrap();
    let mut rankings: Vec<&String> = figures["rankings"].as_object().unwrap().keys().collect();
    rankings.sort();
    assert_eq!(rankings, ["centred", "embeddings"], "{figures}");
    assert_eq!(figures["sampled"], 12);
    let share = &figures["rankings"]["embeddings"]["same_primary_category_share"];
    assert!(share.as_f64().unwrap() >= 0.9, "{figures}");
}
