//! The corpus: every paper the user pointed us at, loaded from BibTeX,
//! CSL-JSON, JSON Lines and paper digests (plain or gzipped), with generated
//! keys where a source has none, and every problem met on the way.
//!
//! Loading never fails as a whole: an unreadable file or a broken entry is a
//! `Problem`, and everything else still loads. A `Corpus` is immutable once
//! built; the index and the features read it through `Arc`.

pub mod bibtex;
pub mod bundled;
pub mod csl_json;
pub mod digest;
pub mod export;
pub mod jsonl;
pub mod keys;
pub mod latex_text;
pub mod names;
pub mod paper;
pub mod selection;
pub mod source;

pub use paper::{
    Identifiers, KeyColumns, KeyOrigin, LineStarts, Origin, Paper, Person, Problem, Severity,
};
pub use source::SourceKind;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A corpus file as loaded: enough to jump into it and to tell whether it changed.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub kind: SourceKind,
    pub gzipped: bool,
    pub content_hash: u64,
    pub papers: usize,
}

impl SourceFile {
    /// Whether a person would open this file to read or edit an entry: a plain
    /// `.bib` is; a gzipped dump or a JSON export is not (features show a card).
    pub fn is_readable_in_editor(&self) -> bool {
        self.kind.is_bibtex() && !self.gzipped
    }
}

#[derive(Debug, Default)]
pub struct Corpus {
    pub papers: Vec<Paper>,
    pub sources: Vec<SourceFile>,
    pub problems: Vec<Problem>,
    by_key: HashMap<String, usize>,
    by_folded_key: HashMap<String, usize>,
    /// Lower-cased keys in order, for prefix lookups without an index.
    sorted_keys: Vec<(String, usize)>,
}

impl Corpus {
    /// Loads every file in `paths` (folders are searched for corpus files).
    pub fn load(paths: &[PathBuf]) -> Corpus {
        let files = expand_paths(paths);
        let mut problems = Vec::new();
        let mut read = Vec::new();
        for path in &files {
            match source::read_source(path) {
                Ok((src, mut warnings)) => {
                    problems.append(&mut warnings);
                    read.push(src);
                }
                Err(problem) => problems.push(problem),
            }
        }
        Corpus::from_sources(read, problems)
    }

    /// Builds a corpus from files already read into memory.
    pub fn from_sources(read: Vec<source::ReadSource>, mut problems: Vec<Problem>) -> Corpus {
        let mut papers = Vec::new();
        let bib: Vec<bibtex::BibSource> = read
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == SourceKind::Bibtex)
            .map(|(file, s)| bibtex::BibSource {
                file,
                path: &s.path,
                text: &s.text,
            })
            .collect();
        if !bib.is_empty() {
            let (mut found, mut trouble) = bibtex::load_bibtex(&bib);
            papers.append(&mut found);
            problems.append(&mut trouble);
        }
        for (file, src) in read.iter().enumerate() {
            let (mut found, mut trouble) = match src.kind {
                SourceKind::Bibtex => continue,
                SourceKind::CslJson => csl_json::load_csl_json(file, &src.path, &src.text),
                SourceKind::JsonLines => jsonl::load_json_lines(file, &src.path, &src.text),
                SourceKind::Digest => digest::load_digest(file, &src.path, &src.text),
            };
            papers.append(&mut found);
            problems.append(&mut trouble);
        }
        papers.sort_by_key(|p| (p.origin.file, p.origin.span.start));
        locate_keys(&mut papers, &read);
        let paths: Vec<PathBuf> = read.iter().map(|s| s.path.clone()).collect();
        keys::assign_keys(&mut papers, &paths, &mut problems);
        let mut sources: Vec<SourceFile> = read
            .into_iter()
            .map(|s| SourceFile {
                path: s.path,
                kind: s.kind,
                gzipped: s.gzipped,
                content_hash: s.content_hash,
                papers: 0,
            })
            .collect();
        for p in &papers {
            sources[p.origin.file].papers += 1;
        }
        Corpus::assemble(papers, sources, problems)
    }

    fn assemble(papers: Vec<Paper>, sources: Vec<SourceFile>, problems: Vec<Problem>) -> Corpus {
        let mut by_key = HashMap::with_capacity(papers.len());
        let mut by_folded_key = HashMap::with_capacity(papers.len());
        for (i, p) in papers.iter().enumerate() {
            by_key.entry(p.key.clone()).or_insert(i);
            by_folded_key.entry(p.key.to_lowercase()).or_insert(i);
        }
        let mut sorted_keys: Vec<(String, usize)> = papers
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key.to_lowercase(), i))
            .collect();
        sorted_keys.sort_unstable();
        Corpus {
            papers,
            sources,
            problems,
            by_key,
            by_folded_key,
            sorted_keys,
        }
    }

    /// Papers whose key starts with `prefix` (case-insensitive), in key order.
    pub fn keys_starting_with(&self, prefix: &str) -> impl Iterator<Item = usize> + '_ {
        let folded = prefix.to_lowercase();
        let start = self
            .sorted_keys
            .partition_point(|(k, _)| k.as_str() < folded.as_str());
        self.sorted_keys[start..]
            .iter()
            .take_while(move |(k, _)| k.starts_with(&folded))
            .map(|(_, i)| *i)
    }

    /// The paper with this key; BibTeX keys are case-insensitive, so an exact
    /// match wins and a case-folded one is the fallback.
    pub fn index_of(&self, key: &str) -> Option<usize> {
        self.by_key
            .get(key)
            .or_else(|| self.by_folded_key.get(&key.to_lowercase()))
            .copied()
    }

    pub fn get(&self, key: &str) -> Option<&Paper> {
        self.index_of(key).map(|i| &self.papers[i])
    }

    pub fn source_of(&self, paper: &Paper) -> &SourceFile {
        &self.sources[paper.origin.file]
    }

    pub fn with_abstract(&self) -> usize {
        self.papers
            .iter()
            .filter(|p| p.abstract_text.is_some())
            .count()
    }

    /// One number for the whole corpus's content, for keying persisted indexes.
    pub fn content_fingerprint(&self) -> u64 {
        let mut bytes = Vec::new();
        for s in &self.sources {
            bytes.extend_from_slice(s.path.to_string_lossy().as_bytes());
            bytes.extend_from_slice(&s.content_hash.to_le_bytes());
        }
        xxhash_rust::xxh3::xxh3_64(&bytes)
    }
}

/// Fills in `key_columns` while the source texts are still at hand.
fn locate_keys(papers: &mut [Paper], read: &[source::ReadSource]) {
    let lines: Vec<Option<LineStarts>> = read
        .iter()
        .map(|s| s.kind.is_bibtex().then(|| LineStarts::new(&s.text)))
        .collect();
    for paper in papers.iter_mut() {
        let (Some(span), Some(Some(starts))) =
            (&paper.origin.key_span, lines.get(paper.origin.file))
        else {
            continue;
        };
        let text = &read[paper.origin.file].text;
        let line = starts.line(span.start);
        paper.origin.key_columns = KeyColumns::of(text, line, starts.start_of(line), span);
    }
}

/// Files named directly are kept as they are; folders contribute every file
/// with a corpus extension (digests only when named), in sorted order so loads
/// are deterministic. Hidden entries are skipped. A path named like a corpus
/// file (`refs.bib`) stays a file even if a folder stands there now: it is
/// reported as unreadable rather than read as whatever the folder holds.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() && SourceKind::from_path(path).is_none() {
            let mut found = Vec::new();
            collect_corpus_files(path, &mut found, 0);
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    out
}

fn collect_corpus_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    // Deep or cyclic trees (symlink loops) are cut off rather than followed forever.
    if depth > 16 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_corpus_files(&path, out, depth + 1);
        } else if matches!(
            SourceKind::from_path(&path),
            Some(SourceKind::Bibtex | SourceKind::CslJson | SourceKind::JsonLines)
        ) {
            out.push(path);
        }
    }
}
