//! A corpus reloaded by entry must be the corpus a fresh load of the same
//! files gives. Checked over random edits of real `.bib` files (when
//! `../shared/corpora` is present) and of small ones written here.

use super::*;
use crate::corpus::bibtex::tests::corpora as shared_corpora;

use crate::index::title_mentions::bench::Rng as Random;

/// Every difference between two corpora that a reader could see.
fn differences(reloaded: &Corpus, fresh: &Corpus) -> Vec<String> {
    let mut out = Vec::new();
    if reloaded.papers.len() != fresh.papers.len() {
        out.push(format!(
            "{} papers, a fresh load has {}",
            reloaded.papers.len(),
            fresh.papers.len()
        ));
    }
    for (a, b) in reloaded.papers.iter().zip(fresh.papers.iter()) {
        if a.to_paper() != b.to_paper() {
            out.push(format!(
                "paper {}: {:?}\n  fresh: {:?}",
                a.ordinal(),
                a.to_paper(),
                b.to_paper()
            ));
        }
    }
    let sorted = |c: &Corpus| {
        let mut p: Vec<_> = c
            .problems
            .iter()
            .map(|p| (p.file.clone(), p.line, p.message.clone()))
            .collect();
        p.sort();
        p
    };
    if sorted(reloaded) != sorted(fresh) {
        out.push(format!(
            "problems: {:#?}\n  fresh: {:#?}",
            sorted(reloaded),
            sorted(fresh)
        ));
    }
    let sources = |c: &Corpus| {
        c.sources
            .iter()
            .map(|s| (s.path.clone(), s.content_hash, s.papers))
            .collect::<Vec<_>>()
    };
    if sources(reloaded) != sources(fresh) {
        out.push("sources differ".into());
    }
    if reloaded.sorted_keys != fresh.sorted_keys {
        out.push("key order differs".into());
    }
    out.truncate(5);
    out
}

/// The corpus of `files` with its reload facts gathered.
fn load(files: &[PathBuf]) -> Corpus {
    let corpus = Corpus::load(files);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while corpus.reload_facts().is_none() && corpus.sources.iter().any(|s| s.kind.is_bibtex()) {
        assert!(std::time::Instant::now() < deadline, "facts never gathered");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    corpus
}

/// Byte ranges of the entries of `text` that start a line (`@` first).
fn entry_starts(text: &str) -> Vec<usize> {
    let mut starts: Vec<usize> = text
        .match_indices("\n@")
        .map(|(i, _)| i + 1)
        .filter(|&i| {
            !text.as_bytes()[i..]
                .get(..7)
                .is_some_and(|head| head.eq_ignore_ascii_case(b"@string"))
        })
        .collect();
    if text.starts_with('@') {
        starts.insert(0, 0);
    }
    starts
}

/// One random edit of a `.bib` text, of the kinds people and exporters make.
fn edit(text: &str, random: &mut Random, n: usize) -> String {
    let starts = entry_starts(text);
    if starts.is_empty() {
        return format!("{text}\n@misc{{added{n}, title = {{Added {n}}}}}\n");
    }
    let i = random.below(starts.len());
    let start = starts[i];
    let end = starts.get(i + 1).copied().unwrap_or(text.len());
    let entry = &text[start..end];
    match random.below(9) {
        // A character typed inside the entry (its title when it has one).
        0..=2 => {
            let at = entry
                .find("title")
                .and_then(|t| entry[t..].find('{').map(|b| start + t + b + 1))
                .unwrap_or(start + entry.len() / 2);
            let at = (at..=text.len())
                .find(|&a| text.is_char_boundary(a))
                .unwrap();
            format!("{}Q{}", &text[..at], &text[at..])
        }
        // A new entry after this one.
        3 | 4 => {
            let doi = if random.below(2) == 0 {
                format!("  doi = {{10.9999/added.{n}}},\n")
            } else {
                String::new()
            };
            let added = format!(
                "@article{{added{n},\n  title = {{An Added Paper {n}}},\n  author = {{Doe, Jane and Roe, Rick}},\n{doi}  year = {{2024}},\n}}\n\n"
            );
            format!("{}{added}{}", &text[..end], &text[end..])
        }
        // The entry removed.
        5 => format!("{}{}", &text[..start], &text[end..]),
        // The entry written twice (a duplicate key).
        6 => format!("{}{entry}{}", &text[..end], &text[end..]),
        // A line added inside the entry (lines after it move).
        7 => {
            let at = start + entry.find('\n').map_or(entry.len(), |nl| nl + 1);
            format!("{}  note = {{a note}},\n{}", &text[..at], &text[at..])
        }
        // A macro defined at the top (the whole load is read).
        _ => format!("@string{{added{n} = {{Added}}}}\n{text}"),
    }
}

/// Edits `files[edited]` `rounds` times, each time comparing the corpus
/// reloaded by entry with a fresh load; returns how many were reloaded by
/// entry.
fn check_edits(files: &[PathBuf], edited: usize, rounds: usize, seed: u64) -> usize {
    check_edits_of(load(files), files, edited, rounds, seed)
}

/// [`check_edits`] from `corpus`, the load of `files`.
fn check_edits_of(
    mut corpus: Corpus,
    files: &[PathBuf],
    edited: usize,
    rounds: usize,
    seed: u64,
) -> usize {
    let cache = tempfile::tempdir().unwrap();
    let mut random = Random(seed);
    let mut by_entry = 0;
    for n in 0..rounds {
        let text = std::fs::read_to_string(&files[edited]).unwrap();
        let new_text = edit(&text, &mut random, n);
        if random.below(3) == 0 {
            // Written to a temporary file and renamed over, as Zotero does.
            let tmp = files[edited].with_extension("tmp");
            std::fs::write(&tmp, &new_text).unwrap();
            std::fs::rename(&tmp, &files[edited]).unwrap();
        } else {
            std::fs::write(&files[edited], &new_text).unwrap();
        }
        let fresh = load(files);
        match corpus.reloaded_by_entry(files, cache.path()) {
            Some((reloaded, splice)) => {
                by_entry += 1;
                let diff = differences(&reloaded, &fresh);
                assert!(
                    diff.is_empty(),
                    "edit {n} of {} ({splice:?}):\n{}",
                    files[edited].display(),
                    diff.join("\n")
                );
                // Reloaded again from the reloaded corpus next time.
                corpus = reloaded;
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
                while corpus.reload_facts().is_none() {
                    assert!(std::time::Instant::now() < deadline);
                }
            }
            None => corpus = fresh,
        }
    }
    eprintln!(
        "{}: {by_entry} of {rounds} edits reloaded by entry",
        files[edited].display()
    );
    by_entry
}

/// Copies `paths` into a new folder, returning it and the copies.
fn copies(paths: &[PathBuf]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let copied = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let to = dir
                .path()
                .join(format!("{i}-{}", p.file_name().unwrap().to_string_lossy()));
            std::fs::copy(p, &to).unwrap();
            to
        })
        .collect();
    (dir, copied)
}

/// Two `.bib` files: macros in one, 40 entries (one broken, some sharing
/// DOIs, a `crossref` pair) in the other.
fn small_files(dir: &Path) -> Vec<PathBuf> {
    let abbrev = dir.join("abbrev.bib");
    std::fs::write(&abbrev, "@string{jcs = {Journal of Cryptology}}\n").unwrap();
    let refs = dir.join("refs.bib");
    let mut text = String::from("% refs\n");
    for i in 0..40 {
        let journal = if i % 3 == 0 { "jcs" } else { "{Some Journal}" };
        let id = if i % 5 == 0 {
            format!("  doi = {{10.1/{}}},\n", i / 10)
        } else {
            String::new()
        };
        let broken = if i == 17 { "  title = {Broken\n" } else { "" };
        text.push_str(&format!(
            "@article{{key{i},\n  title = {{Paper Number {i}}},\n  author = {{Author, A{i}}},\n  journal = {journal},\n{id}{broken}  year = {{20{:02}}},\n}}\n\n",
            i % 25
        ));
    }
    text.push_str("@book{parent, title = {Proceedings}}\n@inproceedings{child, crossref = {parent}, title = {Child}}\n");
    std::fs::write(&refs, text).unwrap();
    vec![abbrev, refs]
}

#[test]
fn facts_gathered_from_the_files_again_serve_as_those_of_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let files = small_files(dir.path());
    let loaded = load(&files);
    // As a corpus read back from the parsed-corpus cache has none.
    let mut corpus = Corpus::load(&files);
    corpus.reload_facts = Default::default();
    corpus.gather_reload_facts(dir.path());
    let (kept, gathered) = (
        loaded.reload_facts().unwrap(),
        corpus.reload_facts().unwrap(),
    );
    assert_eq!(kept.chunks, gathered.chunks);
    assert_eq!(kept.links, gathered.links);
    assert_eq!(kept.ids, gathered.ids);
    assert!(!gathered.links.parent_keys.is_empty());
    assert!(check_edits_of(corpus, &files, 1, 12, 3) > 0);
    // A source changed since the corpus was read: nothing is gathered.
    let mut stale = Corpus::load(&files);
    stale.reload_facts = Default::default();
    std::fs::write(&files[0], "@string{jcs = {J. Cryptology}}\n").unwrap();
    stale.gather_reload_facts(dir.path());
    assert!(stale.reload_facts().is_none());
}

#[test]
fn small_files_reload_by_entry_as_a_fresh_load_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let files = small_files(dir.path());
    let by_entry = check_edits(&files, 1, 60, 7);
    assert!(
        by_entry >= 20,
        "only {by_entry} of 60 edits were reloaded by entry"
    );
}

#[test]
fn real_bib_files_reload_by_entry_as_a_fresh_load_reads_them() {
    let Some(corpora) = shared_corpora() else {
        return;
    };
    let wild = corpora.join("bib-wild");
    let mut picked: Vec<PathBuf> = [
        "texlive/biblatex/biblatex/biblatex-examples.bib",
        "biber-tests/etc/papers.bib",
        "texlive/ieeetran/IEEEexample.bib",
        "texlive/beebe/texgraph.bib",
        "biber-tests/t/tdata/examples.bib",
    ]
    .iter()
    .map(|p| wild.join(p))
    .filter(|p| p.exists())
    .collect();
    picked.sort();
    let mut by_entry = 0;
    let mut rounds = 0;
    for (i, path) in picked.iter().enumerate() {
        let (_dir, files) = copies(std::slice::from_ref(path));
        by_entry += check_edits(&files, 0, 25, 11 + i as u64);
        rounds += 25;
    }
    // CryptoBib's abbreviations with the first part of crypto.bib.
    let crypto = corpora.join("cryptobib");
    if crypto.join("crypto.bib").exists() {
        let (_dir, files) = copies(&[crypto.join("abbrev3.bib"), crypto.join("crypto.bib")]);
        let text = std::fs::read_to_string(&files[1]).unwrap();
        let starts = entry_starts(&text);
        let cut = starts.get(3000).copied().unwrap_or(text.len());
        std::fs::write(&files[1], &text[..cut]).unwrap();
        by_entry += check_edits(&files, 1, 25, 5);
        rounds += 25;
    }
    assert!(
        by_entry * 3 >= rounds,
        "only {by_entry} of {rounds} edits were reloaded by entry"
    );
}

/// A line of an arXiv-shaped JSON Lines dump.
fn arxiv_line(i: usize, family: &str) -> String {
    format!(
        "{{\"id\": \"2401.{i:05}\", \"title\": \"Results on Topic {i}\", \"authors\": \"Ann {family}\", \"abstract\": \"Abstract number {i}, long enough to matter.\", \"update_date\": \"2024-01-02\"}}\n"
    )
}

#[test]
fn lines_appended_to_a_dump_are_read_alone_as_a_fresh_load_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.jsonl");
    let refs = dir.path().join("refs.bib");
    std::fs::write(&refs, "@article{zed, title = {Zed}}\n").unwrap();
    let text: String = (0..50)
        .map(|i| arxiv_line(i, &format!("Author{i}")))
        .collect();
    std::fs::write(&dump, &text).unwrap();
    let files = vec![dump.clone(), refs];
    let cache = tempfile::tempdir().unwrap();
    let mut corpus = load(&files);
    // Read back from the parsed-corpus cache: abstracts stay on disk.
    let key = crate::corpus::parsed_cache::CacheKey::of_content(corpus.content_fingerprint());
    crate::corpus::parsed_cache::write(cache.path(), &corpus, key);
    let back = crate::corpus::parsed_cache::read(cache.path(), key).unwrap();
    assert!(back.papers.abstracts_are_on_disk());
    // As at a start: the facts gathered from the files (no hash memo).
    back.gather_reload_facts(cache.path());
    assert_eq!(
        back.reload_facts().unwrap().appendable[0],
        Some(text.len() as u64)
    );
    corpus = back;
    let mut appended_alone = 0;
    let mut text = text;
    for round in 0..6 {
        let more: String = match round {
            // A paper whose generated key starts another's: read whole.
            3 => arxiv_line(7, "Author7"),
            // A line that is not JSON: a problem on its line.
            4 => "{not json\n".to_string(),
            _ => (0..3)
                .map(|k| arxiv_line(100 + round * 3 + k, &format!("New{round}x{k}")))
                .collect(),
        };
        text.push_str(&more);
        std::fs::write(&dump, &text).unwrap();
        let fresh = load(&files);
        match corpus.reloaded_by_entry(&files, cache.path()) {
            Some((reloaded, splice)) => {
                assert_eq!(splice.removed, 0);
                let diff = differences(&reloaded, &fresh);
                assert!(diff.is_empty(), "round {round}:\n{}", diff.join("\n"));
                appended_alone += 1;
                corpus = reloaded;
            }
            None => {
                assert_eq!(round, 3, "only the colliding key is read whole");
                corpus = fresh;
            }
        }
    }
    assert_eq!(appended_alone, 5);
    // Anything but an append is read whole.
    std::fs::write(&dump, text.replacen("Topic 1", "Topic One", 1)).unwrap();
    assert!(corpus.reloaded_by_entry(&files, cache.path()).is_none());
}
