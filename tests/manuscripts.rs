//! From the library to a manuscript that compiles, judged by the toolchains
//! users build with: the real `paper-ls` binary adds missing papers to a
//! document's own bibliography through its code actions (applied as an
//! editor applies `workspace/applyEdit`), then `latexmk` (pdflatex + bibtex,
//! and biber for biblatex) or `pandoc --citeproc` builds the document, and
//! every citation must resolve to the right paper.
//!
//! The library is real data: CryptoBib entries (macros from `abbrev3.bib`, a
//! `crossref` to a book, accents) and arXiv listings. The toolchains come
//! from Debian (`.ci/run` installs them); without them these tests say so
//! and pass, except under CI, where a missing tool is a failure.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::LspClient;

fn shared_corpus(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/corpora")
        .join(rel);
    path.exists().then_some(path)
}

/// Whether `tool` can be run; under CI its absence fails the test.
fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: {tool} is not installed (.ci/run installs it)");
    }
    found
}

/// Ten CryptoBib papers: seven that use `@string` macros of `abbrev3.bib`,
/// three chapters that take their book from a `crossref` (one with an
/// accented author).
const CRYPTO_KEYS: [&str; 10] = [
    "C:CohGarZik23",
    "EC:BelHofYil09",
    "C:Shamir84",
    "EC:Schnorr89",
    "C:BelRog93",
    "JC:NieSch23",
    "C:ElGamal84",
    "OswSta12",
    "Clavier12",
    "Rivain12",
];

/// The text of each entry of `keys` (and of the books they cross-reference)
/// cut out of CryptoBib's `crypto.bib`.
fn crypto_entries(crypto_bib: &str, keys: &[&str]) -> String {
    let mut wanted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < wanted.len() {
        let key = wanted[i].clone();
        i += 1;
        let at = [
            "@InProceedings{",
            "@Article{",
            "@InCollection{",
            "@Book{",
            "@Misc{",
        ]
        .iter()
        .find_map(|t| crypto_bib.find(&format!("{t}{key},")))
        .unwrap_or_else(|| panic!("{key} is not in crypto.bib"));
        let end = at + crypto_bib[at..].find("\n}\n").expect("entry end") + 3;
        let entry = &crypto_bib[at..end];
        if let Some(parent) = entry
            .split("crossref =")
            .nth(1)
            .and_then(|rest| rest.split('"').nth(1))
        {
            if !wanted.iter().any(|w| w == parent) {
                wanted.push(parent.to_string());
            }
        }
        out.push_str(entry);
        out.push('\n');
    }
    out
}

/// A workspace whose library is `abbrev3.bib` + the ten CryptoBib entries.
fn crypto_workspace() -> Option<tempfile::TempDir> {
    let folder = shared_corpus("cryptobib")?;
    let dir = tempfile::tempdir().unwrap();
    let crypto = std::fs::read_to_string(folder.join("crypto.bib")).unwrap();
    std::fs::copy(folder.join("abbrev3.bib"), dir.path().join("abbrev3.bib")).unwrap();
    std::fs::write(
        dir.path().join("library.bib"),
        crypto_entries(&crypto, &CRYPTO_KEYS),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("paper-ls.toml"),
        "corpus = [\"abbrev3.bib\", \"library.bib\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("thesis")).unwrap();
    std::fs::write(
        dir.path().join("thesis/refs.bib"),
        "% Our own references.\n@misc{own2020,\n  title = {Our Own Earlier Paper},\n  author = {Ann Author},\n  year = 2020,\n}\n",
    )
    .unwrap();
    Some(dir)
}

struct Editor {
    client: LspClient,
    _cache: tempfile::TempDir,
    version: i32,
}

impl Editor {
    fn start(root: &Path) -> Editor {
        let cache = tempfile::tempdir().unwrap();
        let mut client = LspClient::start(cache.path());
        client.initialize(root, Value::Null, false);
        Editor {
            client,
            _cache: cache,
            version: 1,
        }
    }

    /// Opens the note and waits for its warnings about papers the
    /// bibliography lacks.
    fn open_and_wait_for_missing(&mut self, path: &Path, language: &str, want: usize) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        let uri = self.client.open(path, language, &text);
        // The corpus may still be loading when the first warnings go out.
        assert!(
            self.eventually_missing(&uri, want),
            "never saw {want} not-in-bibliography warnings"
        );
        uri
    }

    /// The missing-paper warnings of a fresh diagnostics run: the document
    /// is sent again unchanged, and the next warnings for it are read.
    fn missing_now(&mut self, uri: &str) -> Vec<Value> {
        self.client.notifications.retain(|m| {
            !(m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri)
        });
        let text = self
            .client
            .request("paper-ls/documentText", json!({"uri": uri}));
        let text = text["text"].as_str().unwrap_or_default().to_string();
        self.version += 1;
        self.client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": self.version}, "contentChanges": [{"text": text}]}),
        );
        self.client
            .diagnostics_for(uri)
            .into_iter()
            .filter(|d| d["code"] == "not-in-bibliography")
            .collect()
    }

    fn eventually_missing(&mut self, uri: &str, want: usize) -> bool {
        for _ in 0..40 {
            if self.missing_now(uri).len() == want {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        false
    }

    fn code_actions(&mut self, uri: &str, range: &Value, only: Option<&str>) -> Vec<Value> {
        let mut context = json!({"diagnostics": []});
        if let Some(kind) = only {
            context["only"] = json!([kind]);
        }
        self.client
            .request(
                "textDocument/codeAction",
                json!({"textDocument": {"uri": uri}, "range": range, "context": context}),
            )
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Runs the action's command; the server asks us to apply the edit,
    /// which the test client does on disk.
    fn run(&mut self, action: &Value) -> Value {
        let command = &action["command"];
        assert_eq!(command["command"], "paper-ls.addToBibliography", "{action}");
        self.client.request(
            "workspace/executeCommand",
            json!({"command": command["command"], "arguments": command["arguments"]}),
        )
    }
}

/// Whether latexmk succeeded, its output, and the last pass's log.
fn latexmk(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("latexmk")
        .args(args)
        .args(["-interaction=nonstopmode", "-halt-on-error", "main.tex"])
        .current_dir(dir)
        .output()
        .expect("latexmk runs");
    let log = std::fs::read_to_string(dir.join("main.log")).unwrap_or_default();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text, log)
}

fn assert_no_undefined_citations(log: &str) {
    for line in log.lines() {
        let undefined = (line.contains("Citation") && line.contains("undefined"))
            || line.contains("There were undefined citations")
            || line.contains("I didn't find a database entry");
        assert!(!undefined, "{line}\n---\n{log}");
    }
}

/// Titles as BibTeX styles print them: the words, whatever the case.
fn words(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_natbib_thesis_compiles_after_each_quick_fix() {
    if !have("latexmk") || !have("bibtex") {
        return;
    }
    let Some(dir) = crypto_workspace() else {
        eprintln!("skipped: ../shared/corpora/cryptobib is absent");
        return;
    };
    let thesis = dir.path().join("thesis");
    let cites = CRYPTO_KEYS.join(", ");
    let main = thesis.join("main.tex");
    std::fs::write(
        &main,
        format!(
            "\\documentclass{{article}}\n\\usepackage[utf8]{{inputenc}}\n\\usepackage{{natbib}}\n\
             % plainnat prints DOIs; CryptoBib's have underscores.\n\\newcommand{{\\doi}}[1]{{doi:\\detokenize{{#1}}}}\n\
             \\begin{{document}}\nOur work~\\citep{{own2020}} builds on \\citet{{{cites}}}.\n\
             \\bibliographystyle{{plainnat}}\n\\bibliography{{refs}}\n\\end{{document}}\n"
        ),
    )
    .unwrap();
    let mut editor = Editor::start(dir.path());
    let uri = editor.open_and_wait_for_missing(&main, "latex", 10);
    let missing = editor.missing_now(&uri);
    for diagnostic in &missing {
        let key = diagnostic["data"]["key"].as_str().unwrap().to_string();
        let actions = editor.code_actions(&uri, &diagnostic["range"], None);
        let fix = actions
            .iter()
            .find(|a| a["title"] == format!("Add {key} to refs.bib"))
            .unwrap_or_else(|| panic!("no fix for {key} in {actions:?}"));
        assert_eq!(fix["kind"], "quickfix");
        let answer = editor.run(fix);
        assert_eq!(answer["added"], json!([key]), "{answer}");
        assert_eq!(answer["applied"], true, "{answer}");
    }
    let refs = std::fs::read_to_string(thesis.join("refs.bib")).unwrap();
    assert!(
        refs.starts_with("% Our own references.\n@misc{own2020,"),
        "{refs}"
    );
    assert!(!refs.contains("crossref"), "{refs}");
    assert!(refs.contains("Fran{\\c c}ois-Xavier Standaert"), "{refs}");
    let (ok, output, log) = latexmk(&thesis, &["-pdf"]);
    assert!(ok, "latexmk failed:\n{output}");
    assert_no_undefined_citations(&log);
    let bbl = std::fs::read_to_string(thesis.join("main.bbl")).unwrap();
    let bbl_words = words(&bbl);
    for key in CRYPTO_KEYS {
        assert!(
            bbl.contains(&format!("{{{key}}}")),
            "{key} not in main.bbl:\n{bbl}"
        );
    }
    for title in [
        "Completeness Theorems for Adaptively Secure Broadcast",
        "Side-Channel Analysis and Its Relevance to Fault Attacks",
        "Differential Fault Analysis of DES",
    ] {
        assert!(
            bbl_words.contains(&words(title)),
            "{title} not in main.bbl:\n{bbl}"
        );
    }
    // The crossref'd chapters carry their book along.
    assert!(
        bbl_words.contains("fault analysis in cryptography"),
        "{bbl}"
    );
    // After the fixes, the warnings are gone.
    editor.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": support::file_uri(&thesis.join("refs.bib")), "type": 2}]}),
    );
    assert!(editor.eventually_missing(&uri, 0), "warnings stayed");
}

#[test]
fn a_biblatex_thesis_compiles_with_biber_after_adding_all() {
    if !have("latexmk") || !have("biber") {
        return;
    }
    let Some(dir) = crypto_workspace() else {
        eprintln!("skipped: ../shared/corpora/cryptobib is absent");
        return;
    };
    let thesis = dir.path().join("thesis");
    let main = thesis.join("main.tex");
    let cites = CRYPTO_KEYS.join(",");
    std::fs::write(
        &main,
        format!(
            "\\documentclass{{article}}\n\\usepackage[backend=biber]{{biblatex}}\n\
             \\addbibresource{{refs.bib}}\n\\begin{{document}}\nSee \\cite{{own2020}} and \\cite{{{cites}}}.\n\
             \\printbibliography\n\\end{{document}}\n"
        ),
    )
    .unwrap();
    let mut editor = Editor::start(dir.path());
    let uri = editor.open_and_wait_for_missing(&main, "latex", 10);
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}});
    let actions = editor.code_actions(&uri, &whole, Some("source"));
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["title"], "Add all 10 missing papers to refs.bib");
    assert_eq!(actions[0]["kind"], "source.addMissingPapers");
    let answer = editor.run(&actions[0]);
    assert_eq!(
        answer["added"].as_array().map(Vec::len),
        Some(10),
        "{answer}"
    );
    let (ok, output, log) = latexmk(&thesis, &["-pdf"]);
    assert!(ok, "latexmk failed:\n{output}");
    assert_no_undefined_citations(&log);
    let blg = std::fs::read_to_string(thesis.join("main.blg")).unwrap_or_default();
    assert!(!blg.contains("ERROR"), "{blg}");
    let bbl = std::fs::read_to_string(thesis.join("main.bbl")).unwrap();
    for key in CRYPTO_KEYS {
        assert!(
            bbl.contains(&format!("\\entry{{{key}}}")),
            "{key} not in main.bbl:\n{bbl}"
        );
    }
    assert!(
        bbl.contains("{Fran\\c{c}ois-Xavier}")
            || bbl.contains("François-Xavier")
            || bbl.contains("Fran{\\c c}ois-Xavier"),
        "{bbl}"
    );
    assert!(
        words(&bbl).contains("completeness theorems for adaptively secure broadcast"),
        "{bbl}"
    );
}

#[test]
fn a_markdown_note_renders_every_arxiv_reference_after_adding_all() {
    if !have("pandoc") {
        return;
    }
    let Some(arxiv) = shared_corpus("arxiv/arxiv-2025-cs.jsonl.gz") else {
        eprintln!("skipped: ../shared/corpora/arxiv is absent");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The first 300 listings, as a JSON Lines library of its own.
    let listing = Command::new("sh")
        .arg("-c")
        .arg(format!("zcat '{}' | head -n 300", arxiv.display()))
        .output()
        .unwrap();
    std::fs::write(dir.path().join("arxiv.jsonl"), &listing.stdout).unwrap();
    std::fs::write(
        dir.path().join("paper-ls.toml"),
        "corpus = [\"arxiv.jsonl\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("refs.bib"), "").unwrap();
    // Papers to cite: the keys paper-ls gives the first listings.
    let cache = tempfile::tempdir().unwrap();
    let listed = Command::new(support::binary())
        .args([
            "search",
            "--corpus",
            "arxiv.jsonl",
            "--limit",
            "8",
            "--json",
            "learning",
        ])
        .env("PAPER_LS_CACHE_DIR", cache.path())
        .env(
            "PAPER_LS_MODEL_URL",
            "file:///nonexistent/paper-ls-test-model",
        )
        .current_dir(dir.path())
        .output()
        .unwrap();
    let found: Value = serde_json::from_slice(&listed.stdout)
        .unwrap_or_else(|_| panic!("search output: {}", String::from_utf8_lossy(&listed.stdout)));
    let papers: Vec<(String, String)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_string(),
                p["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(papers.len() >= 5, "{found}");
    let cites: Vec<String> = papers.iter().map(|(k, _)| format!("@{k}")).collect();
    let note = dir.path().join("note.md");
    std::fs::write(
        &note,
        format!(
            "---\ntitle: Reading notes\nbibliography: refs.bib\n---\n\nRecent work [{}] matters.\n\n# References\n",
            cites.join("; ")
        ),
    )
    .unwrap();
    let mut editor = Editor::start(dir.path());
    let uri = editor.open_and_wait_for_missing(&note, "markdown", papers.len());
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}});
    let actions = editor.code_actions(&uri, &whole, Some("source"));
    let answer = editor.run(&actions[0]);
    assert_eq!(
        answer["added"].as_array().map(Vec::len),
        Some(papers.len()),
        "{answer}"
    );
    let out = Command::new("pandoc")
        .args(["--citeproc", "-t", "plain", "note.md"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rendered = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("not found"), "{stderr}");
    let rendered_words = words(&rendered);
    for (key, title) in &papers {
        assert!(
            rendered_words.contains(&words(title)),
            "{key}: “{title}” not rendered:\n{rendered}"
        );
    }
}

/// Keys of bib-wild's `biblatex-examples.bib` with accents and quote macros
/// in their titles and venues.
const WILD_KEYS: [&str; 3] = ["angenendt", "spiegelberg", "averroes/hannes"];

#[test]
fn paper_ls_bib_writes_what_pandoc_and_biber_read_back_unchanged() {
    if !have("pandoc") || !have("biber") {
        return;
    }
    let (Some(dir), Some(wild)) = (
        crypto_workspace(),
        shared_corpus("bib-wild/texlive/biblatex/biblatex/biblatex-examples.bib"),
    ) else {
        eprintln!("skipped: ../shared/corpora is absent");
        return;
    };
    let root = dir.path();
    std::fs::copy(&wild, root.join("examples.bib")).unwrap();
    std::fs::write(
        root.join("paper-ls.toml"),
        "corpus = [\"abbrev3.bib\", \"library.bib\", \"examples.bib\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("notes/part2")).unwrap();
    std::fs::write(
        root.join("notes/one.md"),
        "Broadcast [@C:CohGarZik23] and faults [@OswSta12; @Rivain12].\n",
    )
    .unwrap();
    std::fs::write(
        root.join("notes/part2/two.tex"),
        format!(
            "History \\cite{{{}}}.\n\\cite{{nobody1999}}\n",
            WILD_KEYS.join(",")
        ),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let run = Command::new(support::binary())
        .args(["bib", "notes", "-o", "refs.bib"])
        .env("PAPER_LS_CACHE_DIR", cache.path())
        .env(
            "PAPER_LS_MODEL_URL",
            "file:///nonexistent/paper-ls-test-model",
        )
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("notes/part2/two.tex:2:7: unknown citation key `nobody1999`"),
        "{stderr}"
    );
    let mut keys: Vec<&str> = ["C:CohGarZik23", "OswSta12", "Rivain12"]
        .into_iter()
        .chain(WILD_KEYS)
        .collect();
    keys.sort_by_key(|k| k.to_lowercase());
    // pandoc reads every entry back, with the titles paper-ls reads.
    let pandoc = Command::new("pandoc")
        .args(["refs.bib", "-f", "biblatex", "-t", "csljson"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        pandoc.status.success(),
        "{}",
        String::from_utf8_lossy(&pandoc.stderr)
    );
    let items: Value = serde_json::from_slice(&pandoc.stdout).unwrap();
    let read: Vec<(String, String)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["title"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let read_keys: Vec<&str> = read.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(read_keys, keys);
    for (key, title) in &read {
        let shown = Command::new(support::binary())
            .args(["show", "--json", key])
            .env("PAPER_LS_CACHE_DIR", cache.path())
            .env(
                "PAPER_LS_MODEL_URL",
                "file:///nonexistent/paper-ls-test-model",
            )
            .current_dir(root)
            .output()
            .unwrap();
        let ours: Value = serde_json::from_slice(&shown.stdout).unwrap();
        let ours = ours["title"].as_str().unwrap();
        assert_eq!(words(title), words(ours), "{key}");
    }
    assert!(
        read.iter().any(|(_, t)| t.contains("Möglichkeit")),
        "{read:?}"
    );
    // biber reads the file without an error and keeps every entry.
    let biber = Command::new("biber")
        .args(["--tool", "--quiet", "refs.bib"])
        .current_dir(root)
        .output()
        .unwrap();
    let biber_out = format!(
        "{}{}",
        String::from_utf8_lossy(&biber.stdout),
        String::from_utf8_lossy(&biber.stderr)
    );
    assert!(
        biber.status.success() && !biber_out.contains("ERROR"),
        "{biber_out}"
    );
    let tool = std::fs::read_to_string(root.join("refs_bibertool.bib")).unwrap();
    for key in &keys {
        assert!(
            tool.to_lowercase()
                .contains(&format!("{{{},", key.to_lowercase())),
            "{key}:\n{tool}"
        );
    }
    // --update adds only what is missing and leaves the rest alone.
    let before = std::fs::read_to_string(root.join("refs.bib")).unwrap();
    std::fs::write(root.join("notes/three.md"), "[@C:Shamir84]\n").unwrap();
    let update = Command::new(support::binary())
        .args([
            "bib",
            "notes/one.md",
            "notes/three.md",
            "-o",
            "refs.bib",
            "--update",
        ])
        .env("PAPER_LS_CACHE_DIR", cache.path())
        .env(
            "PAPER_LS_MODEL_URL",
            "file:///nonexistent/paper-ls-test-model",
        )
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(
        update.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&update.stderr)
    );
    let after = std::fs::read_to_string(root.join("refs.bib")).unwrap();
    assert!(after.starts_with(&before), "existing entries changed");
    assert!(
        after[before.len()..].starts_with("\n@inproceedings{C:Shamir84,"),
        "{}",
        &after[before.len()..]
    );
}

/// Runs the Typst compiler (the `typst` module from PyPI) on `main`:
/// whether it compiled, and what it said.
fn typst_compile(main: &Path) -> (bool, String) {
    let script = "import sys, typst\n\
                  try:\n    typst.compile(sys.argv[1], output=sys.argv[2])\nexcept Exception as e:\n    print(e)\n    sys.exit(1)\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(main)
        .arg(main.with_extension("pdf"))
        .output()
        .expect("python3 runs");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Whether the Typst compiler is there; under CI its absence fails.
fn have_typst() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import typst"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "the typst module is not installed (.ci/run: pip install typst)"
        );
        eprintln!("skipped: the typst module is not installed (pip install typst)");
    }
    found
}

/// `thesis/main.typ` with `text` (and a bibliography file beside it) in the
/// CryptoBib workspace, checked not to compile yet; `None` when the Typst
/// compiler or the corpus is absent.
fn typst_paper_that_does_not_compile(
    text: &str,
    bibliography: Option<(&str, &str)>,
) -> Option<(tempfile::TempDir, PathBuf)> {
    if !have_typst() {
        return None;
    }
    let Some(dir) = crypto_workspace() else {
        eprintln!("skipped: ../shared/corpora/cryptobib is absent");
        return None;
    };
    let thesis = dir.path().join("thesis");
    if let Some((name, content)) = bibliography {
        std::fs::write(thesis.join(name), content).unwrap();
    }
    let main = thesis.join("main.typ");
    std::fs::write(&main, text).unwrap();
    let (ok, said) = typst_compile(&main);
    assert!(!ok, "compiles before the papers are added: {said}");
    Some((dir, main))
}

/// A Typst paper citing CryptoBib papers its `refs.bib` lacks: it does not
/// compile; one key is completed after `@` (the completion carries the
/// paper into `refs.bib`), the rest are added with "Add all"; then the
/// Typst compiler builds it, every citation resolved.
#[test]
fn a_typst_paper_compiles_after_completing_and_adding_all() {
    let text = "#set page(width: 14cm, height: auto)\n\
                Our work @own2020 builds on #cite(<EC:Schnorr89>), @OswSta12[p. 3] and @Shamir\n\
                #bibliography(\"refs.bib\")\n";
    let Some((dir, main)) = typst_paper_that_does_not_compile(text, None) else {
        return;
    };
    let thesis = dir.path().join("thesis");
    let mut editor = Editor::start(dir.path());
    let uri = editor.open_and_wait_for_missing(&main, "typst", 2);
    // Complete `@Shamir` and accept C:Shamir84, as an editor does.
    let line = 1;
    let character = text.lines().nth(1).unwrap().len() as u32;
    let completion = editor.client.request(
        "textDocument/completion",
        LspClient::at(&uri, line, character),
    );
    let items = completion["items"].as_array().cloned().unwrap_or_default();
    let item = items
        .iter()
        .find(|i| i["label"] == "C:Shamir84")
        .unwrap_or_else(|| panic!("C:Shamir84 not offered: {completion}"));
    let edit = &item["textEdit"];
    assert_eq!(edit["newText"], "C:Shamir84", "{item}");
    let completed = text.replacen("@Shamir\n", "@C:Shamir84\n", 1);
    std::fs::write(&main, &completed).unwrap();
    editor.version += 1;
    editor.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": editor.version}, "contentChanges": [{"text": completed}]}),
    );
    let answer = editor.run(item);
    assert_eq!(answer["added"], json!(["C:Shamir84"]), "{answer}");
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}});
    let actions = editor.code_actions(&uri, &whole, Some("source"));
    assert_eq!(actions.len(), 1, "{actions:?}");
    let answer = editor.run(&actions[0]);
    let mut added: Vec<String> = serde_json::from_value(answer["added"].clone()).unwrap();
    added.sort();
    assert_eq!(added, ["EC:Schnorr89", "OswSta12"], "{answer}");
    let (ok, said) = typst_compile(&main);
    assert!(
        ok,
        "typst failed: {said}\n{}",
        std::fs::read_to_string(thesis.join("refs.bib")).unwrap()
    );
}

/// The same with a Hayagriva YAML bibliography, Typst's own format: the
/// papers are written into `refs.yml` as YAML entries, and the Typst
/// compiler reads them, every citation resolved.
#[test]
fn a_typst_paper_with_a_yaml_bibliography_compiles_after_adding_all() {
    let own = "# Our own references.\nown2020:\n  type: article\n  title: Our Own Earlier Paper\n  author: Author, Ann\n  date: 2020\n";
    let text = "#set page(width: 14cm, height: auto)\n\
                Our work @own2020 builds on #cite(<EC:Schnorr89>), @OswSta12[p. 3] and @C:Shamir84.\n\
                #bibliography(\"refs.yml\", style: \"ieee\")\n";
    let Some((dir, main)) = typst_paper_that_does_not_compile(text, Some(("refs.yml", own))) else {
        return;
    };
    let refs = dir.path().join("thesis/refs.yml");
    let mut editor = Editor::start(dir.path());
    let uri = editor.open_and_wait_for_missing(&main, "typst", 3);
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}});
    let actions = editor.code_actions(&uri, &whole, Some("source"));
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["title"], "Add all 3 missing papers to refs.yml");
    let answer = editor.run(&actions[0]);
    let mut added: Vec<String> = serde_json::from_value(answer["added"].clone()).unwrap();
    added.sort();
    assert_eq!(
        added,
        ["C:Shamir84", "EC:Schnorr89", "OswSta12"],
        "{answer}"
    );
    let written = std::fs::read_to_string(&refs).unwrap();
    assert!(
        written.starts_with("# Our own references.\nown2020:"),
        "{written}"
    );
    let (ok, said) = typst_compile(&main);
    assert!(ok, "typst failed: {said}\n{written}");
    editor.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": support::file_uri(&refs), "type": 2}]}),
    );
    assert!(
        editor.eventually_missing(&uri, 0),
        "still missing after the write"
    );
}

/// `paper-ls format` prints references as pandoc's citeproc does, with the
/// same entries in the same style (pandoc's built-in Chicago author-date):
/// particles, non-ASCII names, a corporate author, many authors, no year,
/// a conference paper.
#[test]
fn formatted_references_match_what_pandoc_prints() {
    if !have("pandoc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bib = dir.path().join("refs.bib");
    std::fs::write(
        &bib,
        "@article{smith2020, author={Smith, John and Doe, Jane}, title={A Study of Things}, journal={Journal of Tests}, year=2020}\n\
         @article{vanbeethoven2019, author={van Beethoven, Ludwig and Müller, Jürgen and Østergaard, Åse and Nguyễn, Văn}, title={Many Authors Write}, journal={Annals of Music}, year=2019}\n\
         @book{who2021, author={{World Health Organization}}, title={Global Report}, publisher={WHO Press}, year=2021}\n\
         @article{nodate, author={Knuth, Donald E.}, title={Undated Thoughts}, journal={Letters}}\n\
         @article{jr2018, author={King, Jr., Martin Luther and de la Cruz, Juana}, title={Suffixes and Particles}, journal={Names Quarterly}, year=2018}\n\
         @inproceedings{ho2020, author={Ho, Jonathan and Jain, Ajay and Abbeel, Pieter}, title={Denoising Diffusion Probabilistic Models}, booktitle={Advances in Neural Information Processing Systems}, year=2020}\n",
    )
    .unwrap();
    let note = dir.path().join("note.md");
    std::fs::write(&note, "---\nbibliography: refs.bib\nnocite: \"@*\"\n---\n").unwrap();
    let mut pandoc = Command::new("pandoc");
    pandoc
        .arg(&note)
        .args(["--citeproc", "-t", "plain", "--wrap=none"])
        .current_dir(dir.path());
    let theirs = output_lines(&mut pandoc);
    let mut ours = Command::new(support::binary());
    ours.args(["format", "--style", "chicago-author-date", "--corpus"])
        .arg(&bib)
        .args([
            "smith2020",
            "vanbeethoven2019",
            "who2021",
            "nodate",
            "jr2018",
            "ho2020",
        ])
        .env("PAPER_LS_CACHE_DIR", dir.path().join("cache"))
        .env(
            "PAPER_LS_MODEL_URL",
            "file:///nonexistent/paper-ls-test-model",
        );
    // Markdown emphasis and escapes off: pandoc's plain text has neither.
    let ours: Vec<String> = output_lines(&mut ours)
        .iter()
        .map(|l| l.replace(['*', '\\'], ""))
        .collect();
    assert_eq!(ours, theirs);
}

/// The non-blank lines a command prints, trimmed; it must succeed.
fn output_lines(command: &mut Command) -> Vec<String> {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
