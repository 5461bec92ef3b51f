//! The corpus engine on real data: the bundled corpus's known-item search,
//! and the real corpora in `../shared/corpora` (the counts their README
//! states). The sweep over the real-world `.bib` files is `bib_wild.rs`.
//! Tests that need `../shared` skip with a message when it is absent.

use paper_ls::corpus::{bundled, Corpus, Severity};
use paper_ls::index::{PaperIndex, PaperSearch, SearchRequest};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn shared(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent", path.display());
        None
    }
}

/// Each paper's most distinctive title words: the 3 (or 2 for short titles)
/// that occur in the fewest titles of the corpus.
fn distinctive_words(corpus: &Corpus) -> Vec<Vec<String>> {
    let words_of = |title: &str| -> Vec<String> {
        let mut w: Vec<String> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() > 2)
            .map(str::to_lowercase)
            .collect();
        w.sort();
        w.dedup();
        w
    };
    let mut df: HashMap<String, usize> = HashMap::new();
    for p in &corpus.papers {
        for w in words_of(p.title) {
            *df.entry(w).or_default() += 1;
        }
    }
    corpus
        .papers
        .iter()
        .map(|p| {
            let mut w = words_of(p.title);
            w.sort_by_key(|w| (df[w], std::cmp::Reverse(w.len())));
            let n = if w.len() >= 5 { 3 } else { 2 };
            w.truncate(n);
            w
        })
        .collect()
}

#[test]
fn every_bundled_paper_is_found_by_its_most_distinctive_title_words() {
    let cache = tempfile::tempdir().unwrap();
    let corpus = bundled::load_bundled(cache.path());
    assert_eq!(corpus.papers.len(), 114);
    let index = PaperIndex::in_memory(&corpus, &mut |_, _| {}).unwrap();
    let mut misses = Vec::new();
    for (i, words) in distinctive_words(&corpus).iter().enumerate() {
        let query = words.join(" ");
        let hits = index.search(&SearchRequest {
            text: &query,
            limit: 3,
            as_you_type: false,
        });
        if !hits.iter().any(|h| h.paper == i) {
            misses.push(format!("`{query}` missed {}", corpus.paper(i).title));
        }
    }
    assert!(
        misses.is_empty(),
        "{} of 114 missed:\n{}",
        misses.len(),
        misses.join("\n")
    );
}

#[test]
fn cryptobib_loads_every_entry_with_every_macro_resolved() {
    let Some(dir) = shared("corpora/cryptobib") else {
        return;
    };
    let corpus = Corpus::load(&[dir.join("abbrev3.bib"), dir.join("crypto.bib")]);
    assert_eq!(corpus.papers.len(), 72_084);
    let undefined: Vec<_> = corpus
        .problems
        .iter()
        .filter(|p| p.message.contains("undefined"))
        .take(5)
        .collect();
    assert!(undefined.is_empty(), "{undefined:?}");
    let raw_macros = corpus
        .papers
        .iter()
        .filter(|p| {
            p.venue.is_some_and(|v| {
                !v.contains(' ')
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && v.chars().any(|c| c.is_ascii_lowercase())
                    && v.len() > 2
                    && v.starts_with(|c: char| c.is_ascii_lowercase())
            })
        })
        .take(5)
        .map(|p| (p.key.to_string(), p.venue))
        .collect::<Vec<_>>();
    assert!(
        raw_macros.is_empty(),
        "venues still look like macro names: {raw_macros:?}"
    );
}

#[test]
fn acl_anthology_loads_with_its_abstracts() {
    let Some(file) = shared("corpora/acl-anthology/anthology+abstracts.bib.gz") else {
        return;
    };
    let corpus = Corpus::load(&[file]);
    assert_eq!(corpus.papers.len(), 104_188);
    // The README counts 60,617 entries with an `abstract` field; 165 of those
    // are `abstract = ""`, which is no abstract to show or search.
    assert_eq!(corpus.with_abstract(), 60_617 - 165);
    let errors = corpus
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    assert_eq!(errors, 0, "{:?}", corpus.problems.first());
}

#[test]
fn arxiv_dump_loads_every_paper() {
    let Some(file) = shared("corpora/arxiv/arxiv-2025-cs.jsonl.gz") else {
        return;
    };
    let corpus = Corpus::load(&[file]);
    assert_eq!(corpus.papers.len(), 74_728);
    assert_eq!(corpus.with_abstract(), 74_728);
    let mut keys: Vec<&str> = corpus.papers.iter().map(|p| p.key).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 74_728, "generated keys are unique");
}
