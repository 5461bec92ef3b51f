//! The real-world bibliography sweep: every BibTeX file of
//! `../shared/corpora/bib-wild` (TeX Live, biber's tests, Zotero Better
//! BibTeX fixtures, one researcher's hand-curated files, the biblatex and
//! hayagriva crates' test files) is loaded alone, and its paper count is
//! compared with the entry count of an independent reader, pandoc, recorded
//! in `tests/fixtures/bib-wild-expected.tsv` by
//! `tests/tools/bib-wild-expectations.sh`.
//!
//! Every file whose counts differ is listed with the reason in
//! `tests/fixtures/bib-wild-differences.tsv`
//! (`path<TAB>ours<TAB>pandoc<TAB>explanation`; `#` lines are headings). The
//! test fails on a difference not listed there, on a listed one whose counts
//! are no longer those, and on a panic while loading a file, naming the file.
//! It skips with a message when the corpus is absent.
//!
//! To look into one file's difference, name it:
//! `BIB_WILD_FILE='texlive/jurabib/comment.bib' cargo test --test bib_wild -- --nocapture`
//! prints that file's papers (line, type, key) and problems instead.

use paper_ls::corpus::Corpus;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const EXPECTED: &str = "../tests/fixtures/bib-wild-expected.tsv";
const DIFFERENCES: &str = "../tests/fixtures/bib-wild-differences.tsv";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Pandoc's count for a file: a number of entries, or `error` when pandoc
/// rejected the whole file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PandocCount {
    Entries(usize),
    Error,
}

impl PandocCount {
    fn parse(text: &str) -> Option<PandocCount> {
        match text {
            "error" => Some(PandocCount::Error),
            n => n.parse().ok().map(PandocCount::Entries),
        }
    }
}

impl std::fmt::Display for PandocCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PandocCount::Entries(n) => write!(f, "{n}"),
            PandocCount::Error => f.write_str("error"),
        }
    }
}

/// A listed difference: our count and pandoc's when the list was written.
struct Listed {
    ours: usize,
    pandoc: PandocCount,
}

/// Lines of a fixture split at tabs, without blank and `#` lines; each with
/// its line number.
fn tsv_rows(rel: &str) -> Vec<(usize, Vec<String>)> {
    let path = manifest_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|(i, line)| (i + 1, line.split('\t').map(str::to_string).collect()))
        .collect()
}

fn expected_counts() -> BTreeMap<String, PandocCount> {
    let mut expected = BTreeMap::new();
    for (line, cols) in tsv_rows(EXPECTED) {
        let [path, count] = cols.as_slice() else {
            panic!("{EXPECTED}:{line}: expected `path<TAB>count`, found {cols:?}");
        };
        let count = PandocCount::parse(count)
            .unwrap_or_else(|| panic!("{EXPECTED}:{line}: bad count `{count}`"));
        expected.insert(path.clone(), count);
    }
    expected
}

fn listed_differences() -> BTreeMap<String, Listed> {
    let mut listed = BTreeMap::new();
    for (line, cols) in tsv_rows(DIFFERENCES) {
        let [path, ours, pandoc, explanation] = cols.as_slice() else {
            panic!("{DIFFERENCES}:{line}: expected `path<TAB>ours<TAB>pandoc<TAB>explanation`, found {cols:?}");
        };
        assert!(
            !explanation.trim().is_empty(),
            "{DIFFERENCES}:{line}: `{path}` has no explanation"
        );
        let ours = ours
            .parse()
            .unwrap_or_else(|_| panic!("{DIFFERENCES}:{line}: bad count `{ours}`"));
        let pandoc = PandocCount::parse(pandoc)
            .unwrap_or_else(|| panic!("{DIFFERENCES}:{line}: bad count `{pandoc}`"));
        let previous = listed.insert(path.clone(), Listed { ours, pandoc });
        assert!(
            previous.is_none(),
            "{DIFFERENCES}:{line}: `{path}` is listed twice"
        );
    }
    listed
}

/// Every BibTeX file under `dir` (the extensions the expectations script
/// takes), relative to `dir`, with `/` separators.
fn bibtex_files(dir: &Path, rel: &str, out: &mut BTreeSet<String>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.map(Result::unwrap) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        if entry.file_type().unwrap().is_dir() {
            bibtex_files(&entry.path(), &rel, out);
            continue;
        }
        let lower = name.to_lowercase();
        let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
        if [".bib", ".bibtex", ".biblatex"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            out.insert(rel);
        }
    }
}

/// Our paper count for each file, loaded alone, on every core; `Err` with
/// the panic's message when loading panicked.
fn our_counts(corpus: &Path, files: &[&String]) -> Vec<Result<usize, String>> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![Ok(0); files.len()]);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(rel) = files.get(i) else { break };
                let path: PathBuf = corpus.join(rel);
                let loaded = std::panic::catch_unwind(|| Corpus::load(&[path]).papers.len());
                let result = loaded.map_err(|panic| {
                    panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "(no message)".into())
                });
                results.lock().unwrap()[i] = result;
            });
        }
    });
    results.into_inner().unwrap()
}

/// Prints what we load from one file, for comparing with pandoc's
/// `-t csljson` output by hand.
fn show_file(path: &Path) {
    let loaded = Corpus::load(&[path.to_path_buf()]);
    for paper in &loaded.papers {
        let title: String = paper.title.chars().take(60).collect();
        eprintln!(
            "{}\t@{}\t{}\t{title}",
            paper.origin.line, paper.entry_type, paper.key
        );
    }
    for problem in &loaded.problems {
        eprintln!("problem: line {}: {}", problem.line, problem.message);
    }
    eprintln!("{}: {} papers", path.display(), loaded.papers.len());
}

#[test]
fn every_real_world_bib_file_loads_with_pandocs_entry_count_or_a_listed_reason() {
    let corpus = manifest_dir().join("../../shared/corpora/bib-wild");
    if !corpus.is_dir() {
        eprintln!(
            "skipping the bib-wild sweep: {} is absent",
            corpus.display()
        );
        return;
    }
    if let Ok(rel) = std::env::var("BIB_WILD_FILE") {
        show_file(&corpus.join(rel));
        return;
    }
    let expected = expected_counts();
    let listed = listed_differences();
    let mut failures = Vec::new();

    let mut on_disk = BTreeSet::new();
    bibtex_files(&corpus, "", &mut on_disk);
    for rel in on_disk.iter().filter(|rel| !expected.contains_key(*rel)) {
        failures.push(format!(
            "{rel}: not in {EXPECTED}; rerun tests/tools/bib-wild-expectations.sh"
        ));
    }
    for rel in listed.keys().filter(|rel| !expected.contains_key(*rel)) {
        failures.push(format!(
            "{rel}: listed in {DIFFERENCES} but not in {EXPECTED}"
        ));
    }

    let files: Vec<&String> = expected.keys().collect();
    let ours = our_counts(&corpus, &files);
    let (mut our_total, mut pandoc_total, mut identical, mut differing) = (0, 0, 0, 0);
    let mut unlisted = Vec::new();
    for (rel, ours) in files.iter().zip(ours) {
        let pandoc = expected[*rel];
        let ours = match ours {
            Ok(n) => n,
            Err(message) => {
                failures.push(format!("{rel}: loading panicked: {message}"));
                continue;
            }
        };
        our_total += ours;
        if let PandocCount::Entries(n) = pandoc {
            pandoc_total += n;
        }
        let same = pandoc == PandocCount::Entries(ours);
        if same {
            identical += 1;
        } else {
            differing += 1;
        }
        match (listed.get(*rel), same) {
            (None, true) => {}
            (None, false) => unlisted.push(format!("{rel}\t{ours}\t{pandoc}\t")),
            (Some(l), _) if l.ours == ours && l.pandoc == pandoc => {}
            (Some(l), _) => failures.push(format!(
                "{rel}: listed as ours {} / pandoc {}, now ours {ours} / pandoc {pandoc}",
                l.ours, l.pandoc
            )),
        }
    }
    let errors = expected
        .values()
        .filter(|c| **c == PandocCount::Error)
        .count();
    eprintln!(
        "bib-wild: {} files, {our_total} papers (pandoc: {pandoc_total} entries, {errors} files rejected); \
         {identical} identical counts, {differing} differences ({} listed)",
        files.len(),
        listed.len()
    );
    if !unlisted.is_empty() {
        failures.push(format!(
            "{} differences not listed in {DIFFERENCES} (path, ours, pandoc):\n{}",
            unlisted.len(),
            unlisted.join("\n")
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
