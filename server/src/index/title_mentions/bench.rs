//! Figures for the title matcher at corpus scale, printed, never asserted:
//! build time and memory with 100k and 1M titles, and detection time over a
//! generated 10,000-line note: the whole note, and again after a
//! one-character edit in its middle with the chunk cache an open note keeps
//! (`MentionCache`). The titles are the real arXiv 2025 cs and
//! ACL Anthology titles from `../shared/corpora` (178,916), recombined
//! deterministically up to a million; the note is real abstract prose with
//! about a hundred real titles sprinkled in. Run it in release:
//!
//! `cargo test --release --lib title_mentions::bench -- --ignored --nocapture`
//!
//! With `TITLE_BENCH_DETAILS=1` it also lists the short names matched most
//! often and the inserted titles not found whole.

use super::*;
use crate::corpus::Corpus;
use crate::index::title_matcher::{TitleMatch, TitleMatcher};
use crate::notes::prose_words::prose_words;
use crate::notes::{citations_in, Language};
use crate::text::words::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOTE_LINES: usize = 10_000;
const TITLES_IN_NOTE: usize = 100;

#[test]
#[ignore = "benchmark: prints figures; run in release"]
fn title_matcher_figures() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    if !shared.exists() {
        eprintln!("skipped: {} is absent", shared.display());
        return;
    }
    let started = Instant::now();
    let arxiv = Corpus::load(&[shared.join("arxiv/arxiv-2025-cs.jsonl.gz")]);
    let acl = Corpus::load(&[shared.join("acl-anthology/anthology+abstracts.bib.gz")]);
    let real: Vec<&str> = arxiv
        .papers
        .iter()
        .chain(acl.papers.iter())
        .map(|p| p.title)
        .collect();
    println!(
        "loaded {} arXiv + {} ACL titles in {:.1?}",
        arxiv.papers.len(),
        acl.papers.len(),
        started.elapsed()
    );
    let synthetic = recombined_titles(&real, 1_000_000 - real.len().min(1_000_000));
    let all: Vec<&str> = real
        .iter()
        .copied()
        .chain(synthetic.iter().map(String::as_str))
        .collect();
    let abstracts: Vec<String> = arxiv
        .papers
        .iter()
        .filter_map(|p| p.abstract_text().map(|a| a.into_owned()))
        .take(5_000)
        .collect();
    let prose: Vec<&str> = abstracts.iter().map(String::as_str).collect();
    for n in [100_000, 1_000_000] {
        figures_for(&all[..n.min(all.len())], &real, &prose);
    }
}

/// Builds a matcher over `titles` a few times and scans a note with it.
fn figures_for(titles: &[&str], real: &[&str], prose: &[&str]) {
    let mut builds = Vec::new();
    let mut matcher = TitleMatcher::default();
    let mut peak_kb = None;
    for run in 0..3 {
        drop(std::mem::take(&mut matcher));
        let rss_before = status_kb("VmRSS");
        if run == 0 {
            reset_peak_rss();
        }
        let t = Instant::now();
        matcher = TitleMatcher::build(titles.iter().copied(), &is_english_word);
        builds.push(t.elapsed());
        if run == 0 {
            peak_kb = status_kb("VmHWM")
                .zip(rss_before)
                .map(|(p, b)| p.saturating_sub(b));
        }
    }
    let stats = matcher.stats();
    println!(
        "\n{} titles: {} match in full, {} short names, {} distinct words",
        titles.len(),
        stats.titles,
        stats.short_names,
        stats.words
    );
    println!(
        "  build p50 {:.2?} (runs {:?}); heap {:.1} MB; peak RSS growth while building {}",
        median(&mut builds),
        builds,
        matcher.heap_bytes() as f64 / 1e6,
        peak_kb.map_or("n/a".into(), |kb| format!("{:.1} MB", kb as f64 / 1e3)),
    );
    let (note, inserted) = generated_note(real, prose);
    let matcher = Arc::new(matcher);
    for lang in [Language::Markdown, Language::Latex] {
        detection_figures(&matcher, &note, lang, (&inserted, real));
        edit_figures(&matcher, &note, lang);
    }
}

fn detection_figures(
    matcher: &TitleMatcher,
    note: &str,
    lang: Language,
    (inserted, real): (&[usize], &[&str]),
) {
    let (mut scans, mut finds) = (Vec::new(), Vec::new());
    let mut found = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let words = prose_words(note, lang);
        scans.push(t.elapsed());
        let t = Instant::now();
        found = matcher.find(&words);
        finds.push(t.elapsed());
    }
    let whole: HashSet<usize> = found
        .iter()
        .filter(|m| !m.short_name)
        .flat_map(|m| m.papers.iter().copied())
        .collect();
    let hits = inserted.iter().filter(|p| whole.contains(p)).count();
    if std::env::var_os("TITLE_BENCH_DETAILS").is_some() {
        let missed = inserted.iter().filter(|p| !whole.contains(p));
        print_details(note, lang, &found, missed.map(|&p| real[p]));
    }
    println!(
        "  {lang:?} note of {} lines ({} KB): prose words p50 {:.1?}, matching p50 {:.1?}, \
         total p50 {:.1?}; {} matches ({} short names); {hits}/{} inserted titles found whole",
        note.lines().count(),
        note.len() / 1024,
        median(&mut scans),
        median(&mut finds),
        median(
            &mut scans
                .iter()
                .zip(&finds)
                .map(|(a, b)| *a + *b)
                .collect::<Vec<_>>()
        ),
        found.len(),
        found.iter().filter(|m| m.short_name).count(),
        inserted.len(),
    );
}

/// Title detection as an open note gets it: the whole note with an empty
/// chunk cache, then the note after a one-character edit in its middle with
/// that cache warm; each run starts from an empty cache. The citations of
/// each version are found when the version is opened, whether titles are
/// asked for or not; their time is shown apart.
fn edit_figures(matcher: &Arc<TitleMatcher>, note: &str, lang: Language) {
    let middle = (note.len() / 2..)
        .find(|&i| note.is_char_boundary(i))
        .unwrap_or(note.len());
    let at = note[middle..]
        .find(' ')
        .map_or(note.len(), |p| middle + p + 1);
    let mut edited = note.to_string();
    edited.insert(at, 'x');
    let (cites, edited_cites) = (citations_in(note, lang), citations_in(&edited, lang));
    let (mut colds, mut edits, mut citing) = (Vec::new(), Vec::new(), Vec::new());
    let mut stats = Default::default();
    for _ in 0..7 {
        let mut cache = MentionCache::default();
        let t = Instant::now();
        let (whole, _) = title_mentions_cached(matcher, note, lang, &cites, &mut cache);
        colds.push(t.elapsed());
        assert_eq!(whole, title_mentions(matcher, note, lang));
        let t = Instant::now();
        let _ = citations_in(&edited, lang);
        citing.push(t.elapsed());
        let t = Instant::now();
        let (found, edit_stats) =
            title_mentions_cached(matcher, &edited, lang, &edited_cites, &mut cache);
        edits.push(t.elapsed());
        stats = edit_stats;
        assert_eq!(found, title_mentions(matcher, &edited, lang));
    }
    println!(
        "  {lang:?} note, chunk cache: whole note p50 {:.1?} ({} pieces); after a one-character \
         edit in the middle p50 {:.2?} (runs {:.2?}), {} piece(s) read, {} bytes; \
         citations of the edited note p50 {:.1?}",
        median(&mut colds),
        stats.chunks,
        median(&mut edits.clone()),
        edits,
        stats.scanned,
        stats.scanned_bytes,
        median(&mut citing),
    );
}

/// With `TITLE_BENCH_DETAILS` set: the short names matched most often,
/// and the inserted titles not found whole.
fn print_details<'a>(
    note: &str,
    lang: Language,
    found: &[TitleMatch],
    missed: impl Iterator<Item = &'a str>,
) {
    let words = prose_words(note, lang);
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for m in found.iter().filter(|m| m.short_name) {
        *counts
            .entry(&note[words[m.first_word].range.clone()])
            .or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|c| (std::cmp::Reverse(c.1), c.0));
    println!(
        "  most matched short names: {:?}",
        &counts[..counts.len().min(30)]
    );
    for title in missed {
        println!("  not found whole: {title}");
    }
}

/// Deterministic pseudo-random numbers (xorshift64), so that a figure or
/// a failure repeats.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// `count` titles made of the first half of one real title and the second
/// half of another; one in four gets a coined short name made of two word
/// fragments ("Lumaforge: …").
fn recombined_titles(real: &[&str], count: usize) -> Vec<String> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    (0..count)
        .map(|_| {
            let a: Vec<&str> = real[rng.below(real.len())].split_whitespace().collect();
            let b: Vec<&str> = real[rng.below(real.len())].split_whitespace().collect();
            let head = &a[..(a.len() / 2 + rng.below(2)).clamp(1, a.len().max(1))];
            let tail = &b[(b.len() / 2).min(b.len())..];
            let mut title = head
                .iter()
                .chain(tail)
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            if rng.below(4) == 0 {
                let x = real[rng.below(real.len())];
                let y = real[rng.below(real.len())];
                title = format!(
                    "{}{}: {title}",
                    fragment(x, &mut rng),
                    fragment(y, &mut rng)
                );
            }
            title
        })
        .collect()
}

/// A capitalised piece of some word of `text`: "Forg".
fn fragment(text: &str, rng: &mut Rng) -> String {
    let words: Vec<&str> = title_words(text).collect();
    let word = words.get(rng.below(words.len())).copied().unwrap_or("Xo");
    let piece: String = word.chars().take(3 + rng.below(3)).collect();
    let mut chars = piece.chars();
    chars.next().map_or(String::new(), |c| {
        c.to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect()
    })
}

/// A 10,000-line note of abstract sentences, hard-wrapped at 80 columns in
/// paragraphs of about ten lines, with a hundred real titles (as written,
/// lower-cased, emphasised or quoted; many wrapped over two lines, never
/// over a paragraph break). Also the papers whose titles were inserted.
fn generated_note(real: &[&str], prose: &[&str]) -> (String, Vec<usize>) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let words: Vec<&str> = prose.iter().flat_map(|a| a.split_whitespace()).collect();
    let every = (NOTE_LINES * 11 / TITLES_IN_NOTE).max(1);
    let mut note = Wrapped::default();
    let mut inserted = Vec::new();
    for (k, word) in words.iter().cycle().enumerate() {
        if note.lines >= NOTE_LINES {
            break;
        }
        if k % every == every / 2 {
            let paper = rng.below(real.len().min(100_000));
            inserted.push(paper);
            let title = match inserted.len() % 4 {
                0 => real[paper].to_string(),
                1 => real[paper].to_lowercase(),
                2 => format!("*{}*", real[paper]),
                _ => format!("“{}”", real[paper]),
            };
            for piece in title.split_whitespace() {
                note.push(piece, false);
            }
        }
        note.push(word, true);
    }
    (note.text, inserted)
}

/// Text being hard-wrapped at 80 columns.
#[derive(Default)]
struct Wrapped {
    text: String,
    line: String,
    lines: usize,
}

impl Wrapped {
    /// Adds a word; a full line ends with a paragraph break now and then
    /// when `may_break` allows.
    fn push(&mut self, word: &str, may_break: bool) {
        if self.line.len() + word.len() + 1 > 80 && !self.line.is_empty() {
            self.text.push_str(&self.line);
            self.text.push('\n');
            self.lines += 1;
            if may_break && self.lines % 11 == 10 {
                self.text.push('\n');
                self.lines += 1;
            }
            self.line.clear();
        }
        if !self.line.is_empty() {
            self.line.push(' ');
        }
        self.line.push_str(word);
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A `kB` figure from `/proc/self/status` (Linux only).
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak resident set size the kernel reports (`VmHWM`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What matching titles the writer marked adds on real prose that cites
/// none of these papers — every new match there is a false positive:
/// this repository's Markdown, the Markdown under /usr/share/doc and the
/// English LaTeX sources of TeX Live's documentation, against the arXiv
/// 2025 cs and ACL Anthology titles (178,916). Prints the counts with and
/// without the marked-title rules and each new match in its line.
///
/// `cargo test --release --lib title_mentions::bench::marked -- --ignored --nocapture`
#[test]
#[ignore = "measurement: prints figures; run in release"]
fn marked_titles_on_real_notes() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora");
    if !shared.exists() {
        eprintln!("skipped: {} is absent", shared.display());
        return;
    }
    let arxiv = Corpus::load(&[shared.join("arxiv/arxiv-2025-cs.jsonl.gz")]);
    let acl = Corpus::load(&[shared.join("acl-anthology/anthology+abstracts.bib.gz")]);
    let titles: Vec<&str> = arxiv
        .papers
        .iter()
        .chain(acl.papers.iter())
        .map(|p| p.title)
        .collect();
    let matcher = TitleMatcher::build(titles.iter().copied(), &is_english_word);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    let mut walk = vec![
        repo.clone(),
        "/usr/share/doc".into(),
        "/usr/share/texlive".into(),
    ];
    while let Some(dir) = walk.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if !matches!(&*name, "target" | "node_modules" | ".git" | "out") {
                    walk.push(path);
                }
            } else if name.ends_with(".md") || name.ends_with("-en.tex") || name.ends_with("en.tex")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut bytes, mut before, mut after) = (0usize, 0usize, 0usize);
    let mut new_matches = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let lang = Language::from_path(path).unwrap_or(Language::Markdown);
        bytes += text.len();
        let words = prose_words(&text, lang);
        let plain: Vec<TitleMatch> = matcher.find(&words);
        let marked = |first, last| {
            crate::notes::prose_words::writer_marked(&text, lang, &words, first, last)
        };
        let with_marks = matcher.find_marked(&words, &marked);
        before += plain.len();
        after += with_marks.len();
        for m in with_marks.iter().filter(|m| !plain.contains(m)) {
            let range = words[m.first_word].range.start..words[m.last_word].range.end;
            let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[range.end..]
                .find('\n')
                .map_or(text.len(), |i| range.end + i);
            new_matches.push(format!(
                "{}: «{}» in: {}",
                path.display(),
                &text[range],
                text[line_start..line_end].trim()
            ));
        }
    }
    println!(
        "{} files, {:.1} MB: {before} mentions without the marked-title rules, {after} with them",
        files.len(),
        bytes as f64 / 1e6
    );
    for m in &new_matches {
        println!("  new: {m}");
    }
}
